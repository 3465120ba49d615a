"""Home, public information pages and liveness."""
