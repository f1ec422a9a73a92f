"""The REST API Lambda: thin routes over the use cases."""
