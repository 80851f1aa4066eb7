"""Persistence (see storage.repository)."""
