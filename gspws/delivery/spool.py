"""``GSPWS_SMS_GATEWAY=spool:DIR``: messages written to files, for development (``make run``).

One JSON file per message, named ``<id>-<key>.json`` (so a message handed over again after a
crash replaces its own file: each message is there once), written to a private temporary file
and renamed into place, so a reader never sees half of one. The directory is made 0700 and the
files 0600: they hold live codes.
"""

import json
import os
from pathlib import Path

from gspws.delivery.port import Message, Temporary


class SpoolGateway:
    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def deliver(self, message: Message, timeout: float) -> str:
        name = f"{message.id:010d}-{message.key}.json"
        record = {
            "id": message.id,
            "channel": message.channel,
            "to": message.destination,
            "subject": message.subject,
            "text": message.text,
            "not_after": message.not_after.isoformat(),
        }
        try:
            self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            tmp = self.directory / f".{name}.{os.getpid()}.tmp"
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump(record, out, ensure_ascii=False, indent=2)
                out.write("\n")
            os.replace(tmp, self.directory / name)
        except OSError as exc:
            raise Temporary(f"spool {self.directory}: {exc.strerror or exc}") from None
        return name
