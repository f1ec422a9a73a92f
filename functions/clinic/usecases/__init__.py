"""The use cases, one module per audience (configuration, booking, front_desk, session,
patient_links, care_workflow; courses, waitlist and follow_ups beside them). Each receives
the ports it needs (ports.py); composition.py wires them to the adapters."""
