"""Whole numbers typed as text: ASCII digits only.

``str.isdigit`` also accepts ``²`` (which ``int`` then refuses with ValueError, a 500 where a
caller checked first) and ``١٢٣`` (which ``int`` reads as 123 though no client sends it), so
every "is this a number" check in gspws goes through here instead.
"""


def ascii_digits(text: str) -> bool:
    """True when ``text`` is one or more of ``0``-``9`` and nothing else."""
    return text.isascii() and text.isdigit()


def whole_number(text: str) -> int | None:
    """``text`` as an int when it is ASCII digits; None for anything else (empty included)."""
    return int(text) if ascii_digits(text) else None
