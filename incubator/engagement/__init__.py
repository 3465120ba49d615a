"""The engagement report: facts for the CIA campaign and each agent's own record."""
