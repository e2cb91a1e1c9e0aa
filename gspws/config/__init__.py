"""Every setting of gspws, typed: :class:`Settings`, built from the one table ``OPTIONS``.

``OPTIONS`` (``options.py``) is the single source: :class:`Settings` is built from it, ``gspws
config`` prints it, and a test checks that the README's configuration table lists exactly these
variables. How each variable's text is read is in ``values.py``.
"""

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from gspws.config.options import OPTIONS, Option
from gspws.errors import ConfigError

__all__ = ["OPTIONS", "ConfigError", "Option", "Settings"]


@dataclass(frozen=True)
class Settings:
    """Typed settings; build them with :meth:`from_env` so the defaults stay in ``OPTIONS``."""

    home: Path
    database_url: str
    secret_key: str
    key_file: str
    totp_window: int
    hotp_window: int
    sync_window: int
    hotp_sync_window: int
    lockout_threshold: int
    lockout_cooldown: int
    password_hashing: str
    trusted_proxies: tuple
    metrics_allow: tuple
    admin_allow: tuple
    admin_session_ttl: int
    admin_enrol_ttl: int
    admin_upload_bytes: int
    admin_timezone: ZoneInfo
    registry_refresh: float
    max_request_bytes: int
    header_timeout: float
    body_timeout: float
    max_connections: int
    rate_limit_storage: str
    rate_limit_service: str
    rate_limit_account: str
    rate_limit_refused: str
    rate_limit_admin_signin: str
    issuer: str
    public_url: str
    link_ttl: int
    invite_ttl: int
    pending_ttl: int
    session_ttl: int
    session_secret: str
    assertion_ttl: int
    activation_password: str
    activation_days: int
    activation_retries: int
    otp_ttl: int
    otp_attempts: int
    otp_resend: int
    otp_daily: int
    otp_message: str
    otp_text: str
    otp_mail_subject: str
    challenge_ttl: int
    smtp_host: str
    smtp_port: int | None
    smtp_security: str
    smtp_user: str
    smtp_password: str
    smtp_sender: str
    sms_gateway: str
    sms_username: str
    sms_password: str
    sms_webhook_secret: str
    sms_timeout: float
    mail_gateway: str
    delivery_sender: str
    delivery_poll: float
    db_pool_size: int
    threads: int
    db_timeout: int
    log_level: str
    log_format: str

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> "Settings":
        """Settings from the environment; ``overrides`` (e.g. CLI options) win when not None."""
        environ = os.environ if environ is None else environ
        values = {}
        for opt in OPTIONS:
            raw = environ.get(opt.env, opt.default)
            try:
                values[opt.attr] = opt.parse(raw)
            except ValueError as exc:
                raise ConfigError(f"{opt.env}={raw!r}: {exc}") from None
        values.update({k: v for k, v in overrides.items() if v is not None})
        if values["threads"] > 2 * values["db_pool_size"]:
            # each thread may hold a connection of the pool (its size plus as many overflow)
            raise ConfigError(
                f"GSPWS_THREADS={values['threads']} is more than 2 x GSPWS_DB_POOL_SIZE "
                f"({values['db_pool_size']}): threads would wait for a database connection; "
                "raise GSPWS_DB_POOL_SIZE or lower GSPWS_THREADS"
            )
        return cls(**values)

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.home / 'gspws.db'}"

    @property
    def effective_key_file(self) -> Path:
        return Path(self.key_file) if self.key_file else self.home / "secret.key"
