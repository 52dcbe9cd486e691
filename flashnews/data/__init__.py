"""Bundled data: the real papers of the 2026-02-25 demo day."""
