"""The edition graph's nodes: each adapts the state to one agent and back (graphs/edition.py
wires them)."""
