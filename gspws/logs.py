"""Logging: one line per event, text or JSON, each carrying the request id of the call.

Nothing gspws logs carries a TOTP code, a secret or an otpauth URI. Libraries that could echo
request content are held at WARNING, and spyne's logging is switched off in ``gspws.soap``.
"""

import contextvars
import json
import logging
import re
import uuid

QUIET_LIBRARIES = ("zeep", "sqlalchemy.engine", "urllib3")
REQUEST_ID_HEADER = "X-Request-ID"

_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
_ACCEPTABLE_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


def begin_request(environ: dict) -> str:
    """Set the current request id: the caller's ``X-Request-ID`` when it is a plain token (so
    a proxy's id carries through), else a new one. Returns it for the response header."""
    offered = environ.get("HTTP_X_REQUEST_ID", "")
    request_id = offered if _ACCEPTABLE_ID.fullmatch(offered) else uuid.uuid4().hex[:16]
    _request_id.set(request_id)
    return request_id


class _RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _request_id.get()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "pid": record.process,
            "request_id": getattr(record, "request_id", "-"),
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


TEXT_FORMAT = "%(asctime)s %(levelname)s [%(process)d] %(name)s req=%(request_id)s: %(message)s"


def configure_logging(level: str = "INFO", fmt: str = "text") -> None:
    handler = logging.StreamHandler()
    handler.addFilter(_RequestIdFilter())
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in QUIET_LIBRARIES:
        logging.getLogger(name).setLevel(logging.WARNING)
