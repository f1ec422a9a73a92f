"""Ketamine clinic appointment and follow-up service (Lambda code)."""
