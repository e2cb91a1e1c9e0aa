"""The console's keys pages (being built)."""

ROUTES: list = []
