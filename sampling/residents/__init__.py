"""Residents and their codes: registration, identity documents, codes, code sheets."""
