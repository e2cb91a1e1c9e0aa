"""The console's tokens pages (being built)."""

ROUTES: list = []
