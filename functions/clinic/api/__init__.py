"""The REST API Lambda: thin handlers over ClinicService."""
