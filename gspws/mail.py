"""Invitation e-mails (``gspws account invite``): a binding link sent over SMTP.

As in seed 002, the mail says how long the link is valid and that a new one can be requested (which
makes the earlier ones invalid), and tells a reader who did not ask for it that nothing changes.
The link is a credential: it is written into the message and nowhere else (no log line carries it).
"""

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import TYPE_CHECKING

from gspws.config import Settings
from gspws.errors import GspwsError

if TYPE_CHECKING:
    from gspws.core.enroll import Enrollment, Person

DEFAULT_PORTS = {"none": 25, "starttls": 587, "tls": 465}
TIMEOUT = 10  # seconds, for connecting and for each SMTP reply

_BODY = """\
您好：

請於 {minutes} 分鐘內開啟以下連結，設定帳號 {account} 的軟體式動態密碼（驗證器 Authenticator）：

{url}

此連結僅能使用一次。連結過期時，請再次申請新的連結；申請後，先前寄出的連結隨即失效。
如果您並未申請，請忽略本信，您的帳號不會有任何變更。

Hello,

Open this link within {minutes} minutes to set up the one-time password (authenticator app) of
account {account}:

{url}

The link works once. When it has expired, ask for a new one; earlier links then stop working.
If you did not ask for this, ignore this e-mail: nothing changes on your account.
"""


def invitation(sender: str, to: str, account: str, url: str, ttl: int) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = "軟體式動態密碼綁定連結 / Your link to set up a one-time password"
    message["From"] = sender
    message["To"] = to
    message["Date"] = formatdate(localtime=False, usegmt=True)
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    message.set_content(_BODY.format(minutes=max(1, ttl // 60), account=account, url=url))
    return message


def send(settings: Settings, message: EmailMessage, timeout: float = TIMEOUT) -> None:
    """Deliver ``message`` through the configured SMTP server, waiting at most ``timeout`` seconds
    for the connection and each reply; raises OSError or smtplib.SMTPException when it cannot.
    TLS certificates are verified."""
    port = settings.smtp_port or DEFAULT_PORTS[settings.smtp_security]
    context = ssl.create_default_context()
    smtp: smtplib.SMTP
    if settings.smtp_security == "tls":
        smtp = smtplib.SMTP_SSL(settings.smtp_host, port, timeout=timeout, context=context)
    else:
        smtp = smtplib.SMTP(settings.smtp_host, port, timeout=timeout)
    with smtp:
        if settings.smtp_security == "starttls":
            smtp.starttls(context=context)
        if settings.smtp_user:
            smtp.login(settings.smtp_user, settings.smtp_password)
        smtp.send_message(message)


class InvitationError(GspwsError):
    """The invitation was not sent; the message says why, for a person (never the link)."""


def send_invitation(
    settings: Settings,
    enrollment: "Enrollment",
    caller: "Person",
    account: str,
    email: str | None,
) -> None:
    """E-mail ``account``'s owner (at ``email``, the account's address) a new binding link (valid
    GSPWS_INVITE_TTL; earlier unused links stop working): ``gspws account invite`` and the
    operator console. InvitationError when there is no address or account, or the SMTP server
    cannot take it."""
    if not email:
        raise InvitationError(f"account {account!r} has no e-mail address")
    outcome = enrollment.create_link(caller, account, invite=True)
    if not outcome.ok or outcome.value is None:
        raise InvitationError(
            f"no account {account!r}"
            if outcome.problem
            else "the link could not be created (see the log)"
        )
    message = invitation(settings.smtp_sender, email, account, outcome.value, settings.invite_ttl)
    try:
        send(settings, message)
    except (OSError, smtplib.SMTPException) as exc:
        raise InvitationError(
            f"cannot send the invitation through {settings.smtp_host}: {exc}"
        ) from None
