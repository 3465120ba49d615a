"""Institutions, org units, users, roles, collective memberships and authentication."""
