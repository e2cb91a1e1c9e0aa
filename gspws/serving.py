"""``gspws serve``: the app under gunicorn (sync workers, one app and engine per worker)."""

import logging
from pathlib import Path

from gunicorn.app.base import BaseApplication

from gspws.config import Settings
from gspws.logs import configure_logging

log = logging.getLogger(__name__)


class _Gunicorn(BaseApplication):
    def __init__(self, settings: Settings, options: dict, record: Path | None = None,
                 record_secrets: bool = False) -> None:
        self._settings = settings
        self._options = options
        self._record = record
        self._record_secrets = record_secrets
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            self.cfg.set(key, value)

    def load(self):
        # Runs in each worker after the fork: its own engine and connection pool.
        from gspws.wsgi import create_app
        configure_logging(self._settings.log_level, self._settings.log_format)
        app = create_app(self._settings)
        if self._record is None:
            return app
        from gspws.replay.recorder import Recorder
        return Recorder(app, self._record, self._settings.max_request_bytes,
                        keep_secrets=self._record_secrets)


def run(settings: Settings, host: str, port: int, workers: int,
        record: Path | None = None, record_secrets: bool = False) -> None:
    """Serve until stopped; with ``record``, every SOAP exchange is written there for replay."""
    configure_logging(settings.log_level, settings.log_format)
    if record is not None:
        from gspws.replay.recorder import warning
        log.warning(warning(record, record_secrets))
    bind = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    _Gunicorn(settings, {
        "bind": bind,
        "workers": workers,
        "worker_class": "sync",
        "timeout": 30,
        "graceful_timeout": 10,
        "keepalive": 5,
        "accesslog": None,  # the audit table records every call; no query strings or bodies in logs
        "loglevel": settings.log_level.lower(),
        "proc_name": "gspws",
        "control_socket_disable": True,  # several instances may share a host (nodes, tests)
        # X-Forwarded-* are judged by gspws (GSPWS_TRUSTED_PROXIES) alone; gunicorn's default
        # would believe X-Forwarded-Proto from any loopback peer.
        "forwarded_allow_ips": "",
    }, record, record_secrets).run()
