"""``gspws serve``: the app under gunicorn (sync workers, one app and engine per worker)."""

from gunicorn.app.base import BaseApplication

from gspws.config import Settings
from gspws.logs import configure_logging


class _Gunicorn(BaseApplication):
    def __init__(self, settings: Settings, options: dict) -> None:
        self._settings = settings
        self._options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            self.cfg.set(key, value)

    def load(self):
        # Runs in each worker after the fork: its own engine and connection pool.
        from gspws.wsgi import create_app
        configure_logging(self._settings.log_level, self._settings.log_format)
        return create_app(self._settings)


def run(settings: Settings, host: str, port: int, workers: int) -> None:
    configure_logging(settings.log_level, settings.log_format)
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
    }).run()
