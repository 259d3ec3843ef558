"""Rosters and collisions: uploads, entries, collisions, their lists, retention."""
