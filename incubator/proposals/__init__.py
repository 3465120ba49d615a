"""Spontaneous initiatives and micro-mobility offers: lifecycle, supports, comments, board."""
