"""The institution's settings that its administration edits at /admin/parametres: the
release-time cap and day length, the immersion limits, whether managers read their reports'
engagement records."""
