"""Logging set-up: one line per event, with the process id (several workers share a log).

Nothing gspws logs carries a TOTP code, a secret or an otpauth URI; chatty libraries that could
echo request content are held at WARNING, and spyne is silenced in ``gspws.soap``.
"""

import logging

QUIET_LIBRARIES = ("zeep", "sqlalchemy.engine", "urllib3")


def configure_logging(level: str = "INFO") -> None:
    logging.basicConfig(level=level,
                        format="%(asctime)s %(levelname)s [%(process)d] %(name)s: %(message)s")
    for name in QUIET_LIBRARIES:
        logging.getLogger(name).setLevel(logging.WARNING)
