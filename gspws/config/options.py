"""Every setting of gspws: its environment variable, default and meaning, in one table.

``OPTIONS`` is the single source: :class:`gspws.config.Settings` is built from it, ``gspws
config`` prints it, and a test checks that the README's configuration table lists exactly these
variables.
"""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gspws.config import values
from gspws.core import oob_text, pin


@dataclass(frozen=True)
class Option:
    attr: str
    env: str
    default: str
    parse: Callable[[str], Any]
    doc: str


OPTIONS = (
    Option(
        "home",
        "GSPWS_HOME",
        "var",
        Path,
        "Directory for the embedded SQLite store and the generated key file; gspws creates "
        "it 0700 and the store's files 0600, whatever the umask.",
    ),
    Option(
        "database_url",
        "GSPWS_DATABASE_URL",
        "",
        str,
        "SQLAlchemy URL of the store; empty means `sqlite:///$GSPWS_HOME/gspws.db`. "
        "PostgreSQL: `postgresql+psycopg://user@host/db`.",
    ),
    Option(
        "secret_key",
        "GSPWS_SECRET_KEY",
        "",
        str,
        "Comma-separated Fernet keys for token secrets; the first encrypts, all decrypt. "
        "Empty means the key file.",
    ),
    Option(
        "key_file",
        "GSPWS_KEY_FILE",
        "",
        str,
        "Key file used when GSPWS_SECRET_KEY is empty; empty means `$GSPWS_HOME/secret.key`, "
        "created with mode 0600 on first use.",
    ),
    Option(
        "totp_window",
        "GSPWS_TOTP_WINDOW",
        "1",
        int,
        "Time-steps accepted either side of now (1 = ±30 s for a 30-second token).",
    ),
    Option(
        "hotp_window",
        "GSPWS_HOTP_WINDOW",
        "10",
        values.positive_count,
        "HOTP (event) tokens: counters looked ahead of the last accepted one (button presses "
        "that never reached gspws).",
    ),
    Option(
        "sync_window",
        "GSPWS_SYNC_WINDOW",
        "240",
        values.non_negative,
        "TOTP tokens: time-steps either side of the drift-centred now (240 = ±2 h "
        "for a 30-second token) in which a code is recognised but needs sync: OTP.asmx answers "
        "13 (VerifyTOTPCode 9999), and `Sync` with two consecutive codes moves the drift. "
        "0 = no sync window.",
    ),
    Option(
        "hotp_sync_window",
        "GSPWS_HOTP_SYNC_WINDOW",
        "1000",
        values.non_negative,
        "HOTP tokens: counters looked ahead for the same (a code beyond GSPWS_HOTP_WINDOW but "
        "within these answers 13; `Sync` moves the counter).",
    ),
    Option(
        "lockout_threshold",
        "GSPWS_LOCKOUT_THRESHOLD",
        "5",
        int,
        "Consecutive failed codes that lock an account's tokens.",
    ),
    Option(
        "lockout_cooldown",
        "GSPWS_LOCKOUT_COOLDOWN",
        "900",
        int,
        "Seconds after which a locked token unlocks by itself; 0 = only `gspws token unlock`.",
    ),
    Option(
        "password_hashing",
        "GSPWS_PASSWORD_HASHING",
        pin.DEFAULT_PROFILE,
        values.choice(*pin.PROFILES),
        "argon2id's cost for token PINs, activation passwords and administrators' passwords "
        "(argon2-cffi's profiles): `rfc9106-low-memory` (64 MiB, 3 passes), "
        "`rfc9106-high-memory` (2 GiB, 1 pass), `cheapest` (for tests only: it barely slows "
        "guessing). Stored hashes keep their own cost, so a change applies to new ones only.",
    ),
    Option(
        "trusted_proxies",
        "GSPWS_TRUSTED_PROXIES",
        "",
        values.networks,
        "Comma-separated addresses/CIDRs of reverse proxies whose X-Forwarded-For/-Proto/-Host "
        "are believed; from anyone else those headers are ignored.",
    ),
    Option(
        "metrics_allow",
        "GSPWS_METRICS_ALLOW",
        "127.0.0.0/8,::1/128",
        values.networks,
        "Networks (comma-separated CIDRs) allowed to read `/metrics`; the caller as "
        "GSPWS_TRUSTED_PROXIES establishes it.",
    ),
    Option(
        "admin_allow",
        "GSPWS_ADMIN_ALLOW",
        "127.0.0.0/8,::1/128",
        values.networks,
        "Networks (comma-separated CIDRs) from which the operator console `/admin/` answers; "
        "the caller as GSPWS_TRUSTED_PROXIES establishes it. Anyone else gets 403.",
    ),
    Option(
        "admin_session_ttl",
        "GSPWS_ADMIN_SESSION_TTL",
        "1800",
        values.positive_seconds,
        "Seconds an operator console session lasts after signing in.",
    ),
    Option(
        "admin_enrol_ttl",
        "GSPWS_ADMIN_ENROL_TTL",
        "86400",
        values.positive_seconds,
        "Seconds an administrator's enrolment link (`gspws admin add`/`reset`) stays valid.",
    ),
    Option(
        "admin_upload_bytes",
        "GSPWS_ADMIN_UPLOAD_BYTES",
        "16777216",
        values.positive_count,
        "Largest token file the operator console's import accepts (bytes); every other request "
        "body stays within GSPWS_MAX_REQUEST_BYTES.",
    ),
    Option(
        "admin_timezone",
        "GSPWS_ADMIN_TIMEZONE",
        "Asia/Taipei",
        values.zone,
        "Time zone (IANA name) in which the operator console shows times and reads the audit "
        "filter's times; the page names it. Audit exports stay in UTC.",
    ),
    Option(
        "registry_refresh",
        "GSPWS_REGISTRY_REFRESH",
        "1",
        float,
        "Seconds between a worker's checks for service changes; `gspws service ...` changes "
        "take effect in every worker within this time.",
    ),
    Option(
        "max_request_bytes",
        "GSPWS_MAX_REQUEST_BYTES",
        "65536",
        int,
        "Largest SOAP request body accepted; larger ones get a SOAP Fault (HTTP 413).",
    ),
    Option(
        "header_timeout",
        "GSPWS_HEADER_TIMEOUT",
        "10",
        values.seconds,
        "Seconds a client has to send a request's headers (from the start of the request, or "
        "of waiting for the next one on a kept-alive connection); then the "
        "connection is closed.",
    ),
    Option(
        "body_timeout",
        "GSPWS_BODY_TIMEOUT",
        "10",
        values.seconds,
        "Seconds a client has to send a request's whole body after its headers; then 408 and "
        "the connection is closed. The app runs only once the body is complete.",
    ),
    Option(
        "max_connections",
        "GSPWS_MAX_CONNECTIONS",
        "2048",
        int,
        "Connections served at once, shared evenly by the worker processes; more wait in the "
        "listen queue.",
    ),
    Option(
        "rate_limit_storage",
        "GSPWS_RATE_LIMIT_STORAGE",
        "memory://",
        str,
        "Where rate-limit counters live: `memory://` (per worker process) or "
        "`redis://host:6379/0` (shared by all workers and nodes).",
    ),
    Option(
        "rate_limit_service",
        "GSPWS_RATE_LIMIT_SERVICE",
        "100/second",
        str,
        "Calls allowed per (ServiceID, client address); beyond it calls answer 8100. "
        "Empty = no limit.",
    ),
    Option(
        "rate_limit_account",
        "GSPWS_RATE_LIMIT_ACCOUNT",
        "10/minute",
        str,
        "Verifications allowed per account; beyond it calls answer 9999 without checking "
        "the code. Empty = no limit.",
    ),
    Option(
        "rate_limit_admin_signin",
        "GSPWS_RATE_LIMIT_ADMIN_SIGNIN",
        "10/minute",
        str,
        "Operator console sign-in tries allowed per client address (besides each "
        "administrator's lockout); beyond it the sign-in page answers 429 without checking "
        "anything. Empty = no limit.",
    ),
    Option(
        "rate_limit_refused",
        "GSPWS_RATE_LIMIT_REFUSED",
        "60/minute",
        str,
        "Refused calls (missing, malformed or unknown ServiceID, address or function not "
        "allowed, over GSPWS_RATE_LIMIT_SERVICE) audited per client address; beyond it they "
        "get the same answer but are only counted (logged once a minute, and for metrics), "
        "not written as audit rows. Empty = audit every refusal.",
    ),
    Option(
        "issuer", "GSPWS_ISSUER", "gspws", str, "Issuer shown by authenticator apps (otpauth URI)."
    ),
    Option(
        "public_url",
        "GSPWS_PUBLIC_URL",
        "http://127.0.0.1:8000",
        values.base_url,
        "Where people reach gspws: the start of binding links (CLI, e-mail, "
        "CreateBindingLink) and of the WSDL's addresses and the help pages' samples. While "
        "it is a loopback address, those follow the URL a caller used on this machine or "
        "through a trusted proxy.",
    ),
    Option(
        "link_ttl",
        "GSPWS_LINK_TTL",
        "600",
        values.positive_seconds,
        "Seconds a binding link from `gspws account link` or CreateBindingLink stays valid.",
    ),
    Option(
        "invite_ttl",
        "GSPWS_INVITE_TTL",
        "3600",
        values.positive_seconds,
        "Seconds a binding link sent by `gspws account invite` stays valid.",
    ),
    Option(
        "pending_ttl",
        "GSPWS_PENDING_TTL",
        "600",
        values.positive_seconds,
        "Seconds a new authenticator has to send its first code before the binding lapses.",
    ),
    Option(
        "session_ttl",
        "GSPWS_SESSION_TTL",
        "900",
        values.positive_seconds,
        "Seconds a binding-page session lasts after its link was used.",
    ),
    Option(
        "session_secret",
        "GSPWS_SESSION_SECRET",
        "",
        str,
        "Secret from which the binding page's session and CSRF key is derived (HKDF); empty "
        "means derived from the first encryption key.",
    ),
    Option(
        "assertion_ttl",
        "GSPWS_ASSERTION_TTL",
        "120",
        values.positive_seconds,
        "Seconds a QR-scan sign-in (OTP.asmx GetAssertionId) may be approved on the phone; an "
        "approved one can be collected by GetAssertion for as long again.",
    ),
    Option(
        "activation_password",
        "GSPWS_ACTIVATION_PASSWORD",
        "",
        str,
        "Activation password of every offline distribution (`gspws token distribute "
        "--offline`); empty: a random one per token.",
    ),
    Option(
        "activation_days",
        "GSPWS_ACTIVATION_DAYS",
        "7",
        values.positive_count,
        "Days an offline distribution's activation code stays valid.",
    ),
    Option(
        "activation_retries",
        "GSPWS_ACTIVATION_RETRIES",
        "5",
        values.positive_count,
        "Wrong tries on /owin/activate that void an activation code (distribute again).",
    ),
    Option(
        "otp_ttl",
        "GSPWS_OTP_TTL",
        "300",
        values.positive_seconds,
        "Seconds a code from MobileOTP.asmx SendOTPCode (or the binding page's check of a new "
        "mobile number or e-mail address) stays valid; its message is not sent after it.",
    ),
    Option(
        "otp_attempts",
        "GSPWS_OTP_ATTEMPTS",
        "5",
        values.positive_count,
        "Wrong tries a sent code survives; then it answers 9999 even to the right code.",
    ),
    Option(
        "otp_resend",
        "GSPWS_OTP_RESEND",
        "60",
        int,
        "Seconds before another code may be sent to the same account (sooner: 9999).",
    ),
    Option(
        "otp_daily",
        "GSPWS_OTP_DAILY",
        "10",
        values.positive_count,
        "Codes an account may be sent in 24 hours (more: 9999).",
    ),
    Option(
        "otp_message",
        "GSPWS_OTP_MESSAGE",
        "code",
        values.choice("code", "masked"),
        "What SendOTPCode answers in Message: `code` (the code, as GSP's callers read it) or "
        "`masked` (the masked destination, for agencies that verify through VerifyOTPCode).",
    ),
    Option(
        "otp_text",
        "GSPWS_OTP_TEXT",
        oob_text.TEXT,
        oob_text.message_template,
        "Text of the SMS or e-mail carrying a code: `{code}` (required) and `{minutes}` (its "
        "validity) are filled in; any other `{...}` is refused at start-up.",
    ),
    Option(
        "otp_mail_subject",
        "GSPWS_OTP_MAIL_SUBJECT",
        oob_text.SUBJECT,
        oob_text.subject_template,
        "Subject of the e-mail carrying a code; `{minutes}` is filled in (no `{code}`: the "
        "subject is stored and listed in clear).",
    ),
    Option(
        "challenge_ttl",
        "GSPWS_CHALLENGE_TTL",
        "120",
        values.positive_seconds,
        "Seconds an OCRA challenge (OTP.asmx GetChallenge, GetSignChallenge) can be answered; "
        "it is good once.",
    ),
    Option(
        "smtp_host", "GSPWS_SMTP_HOST", "localhost", str, "SMTP server for `gspws account invite`."
    ),
    Option(
        "smtp_port",
        "GSPWS_SMTP_PORT",
        "",
        values.optional_port,
        "SMTP port; empty means 25, 587 or 465 by GSPWS_SMTP_SECURITY.",
    ),
    Option(
        "smtp_security",
        "GSPWS_SMTP_SECURITY",
        "none",
        values.choice("none", "starttls", "tls"),
        "`none`, `starttls` (upgrade a plain connection) or `tls` (TLS from the start).",
    ),
    Option("smtp_user", "GSPWS_SMTP_USER", "", str, "SMTP login; empty means no login."),
    Option("smtp_password", "GSPWS_SMTP_PASSWORD", "", str, "SMTP password."),
    Option(
        "smtp_sender",
        "GSPWS_SMTP_SENDER",
        "gspws@localhost",
        str,
        "From address of invitation e-mails.",
    ),
    Option(
        "sms_gateway",
        "GSPWS_SMS_GATEWAY",
        "",
        values.gateway("mitake", "webhook", "spool"),
        "Where SMS codes go: `mitake` (Mitake's SmSend; `mitake:URL` for another address of "
        "it), `webhook:URL` (signed JSON, docs/delivery.md) or `spool:DIR` (files, for "
        "development); empty: SMS messages fail (`gspws outbox list`).",
    ),
    Option("sms_username", "GSPWS_SMS_USERNAME", "", str, "Mitake account (`username`)."),
    Option("sms_password", "GSPWS_SMS_PASSWORD", "", str, "Mitake password."),
    Option(
        "sms_webhook_secret",
        "GSPWS_SMS_WEBHOOK_SECRET",
        "",
        str,
        "HMAC-SHA256 key of `webhook:URL` signatures.",
    ),
    Option(
        "sms_timeout",
        "GSPWS_SMS_TIMEOUT",
        "10",
        values.seconds,
        "Seconds a gateway (SMS or SMTP) gets to connect and for each answer; a message "
        "whose gateway misses it is retried.",
    ),
    Option(
        "mail_gateway",
        "GSPWS_MAIL_GATEWAY",
        "smtp",
        values.gateway("smtp", "spool"),
        "Where e-mailed codes go: `smtp` (GSPWS_SMTP_*) or `spool:DIR` (development).",
    ),
    Option(
        "delivery_sender",
        "GSPWS_DELIVERY_SENDER",
        "serve",
        values.choice("serve", "separate"),
        "`serve`: `gspws serve` runs the outbox sender (one per node); `separate`: run "
        "`gspws deliver` yourself.",
    ),
    Option(
        "delivery_poll",
        "GSPWS_DELIVERY_POLL",
        "1",
        values.seconds,
        "Seconds the outbox sender waits between looks at an empty outbox.",
    ),
    Option(
        "db_pool_size",
        "GSPWS_DB_POOL_SIZE",
        "5",
        int,
        "Database connections kept per worker process (PostgreSQL).",
    ),
    Option(
        "threads",
        "GSPWS_THREADS",
        "0",
        values.non_negative,
        "Threads per worker process answering SOAP calls, so that calls waiting on the database "
        "overlap; 0 picks: 1 on SQLite (its write lock takes calls one at a time anyway), "
        "2 on PostgreSQL (more commits in flight for its group commit). At most "
        "2 x `GSPWS_DB_POOL_SIZE`.",
    ),
    Option(
        "db_timeout",
        "GSPWS_DB_TIMEOUT",
        "2",
        int,
        "Seconds to wait for a database connection, a SQLite write lock or a PostgreSQL statement "
        "(not a migration's: gspws.store.migrate).",
    ),
    Option("log_level", "GSPWS_LOG_LEVEL", "INFO", str.upper, "Logging level."),
    Option(
        "log_format",
        "GSPWS_LOG_FORMAT",
        "text",
        values.choice("text", "json"),
        "`text` lines, or `json` (one object per line) for log collectors.",
    ),
)
