"""Append-only audit events and the public timeline."""
