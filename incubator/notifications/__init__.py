"""Notifications: in-app list, email through an outbox table, preferences and digests."""
