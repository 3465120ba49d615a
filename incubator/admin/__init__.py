"""Administration pages of an institution (org units, agents, collective, import) and of
the instance (institutions)."""
