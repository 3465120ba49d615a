"""Directory sync (LDAP / Active Directory): `flask directory sync` reads agents, their
unit, category, N+1 and employee number from the institution's directory and brings the
agents and units up to date (settings.py: what to read; reader.py: reading it; sync.py:
applying it; report.py: what changed, in French)."""
