"""gspws's own errors, under one base: a door tells them (a message for a person) from a bug.

The CLI turns any :class:`GspwsError` into one line on stderr and exit status 1; anything else is
a bug and keeps its traceback.
"""


class GspwsError(Exception):
    """An error gspws expects and can word for a person; the message names no secret."""


class ConfigError(GspwsError, ValueError):
    """A setting (or a key file) has a value gspws cannot use."""


class DataError(GspwsError):
    """Something stored cannot be read (say one token's secret under a key no longer configured);
    the configuration and the rest of the store may be fine."""
