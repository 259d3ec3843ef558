"""Defences at the edges (they read the request): trusted devices for the lockout, security headers."""
