"""The console's audit pages (being built)."""

ROUTES: list = []
