"""Temps de décharge: hours released from regular duties on projects, approved by the N+1."""
