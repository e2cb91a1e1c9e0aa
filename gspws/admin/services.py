"""The console's services pages (being built)."""

ROUTES: list = []
