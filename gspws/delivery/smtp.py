"""E-mail delivery through the SMTP server of ``GSPWS_SMTP_*`` (:mod:`gspws.mail` sends)."""

import smtplib
from email.message import EmailMessage
from email.utils import formatdate

from gspws import mail
from gspws.config import Settings
from gspws.delivery.port import Message, Permanent, Temporary


class EmailGateway:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def deliver(self, message: Message, timeout: float) -> str:
        sender = self.settings.smtp_sender
        email = EmailMessage()
        email["Subject"] = message.subject or ""
        email["From"] = sender
        email["To"] = message.destination
        email["Date"] = formatdate(localtime=False, usegmt=True)
        # The same Message-ID on every attempt: a mail system that saw it can drop a repeat.
        email["Message-ID"] = f"<{message.key}@{sender.rpartition('@')[2] or 'gspws'}>"
        email.set_content(message.text)
        try:
            mail.send(self.settings, email, timeout=timeout)
        except smtplib.SMTPRecipientsRefused:
            raise Permanent("smtp: recipient refused") from None
        except smtplib.SMTPResponseException as exc:
            error = Permanent if 500 <= exc.smtp_code < 600 else Temporary
            raise error(f"smtp: {exc.smtp_code}") from None
        except (OSError, smtplib.SMTPException) as exc:
            raise Temporary(f"smtp: {type(exc).__name__}") from None
        return str(email["Message-ID"])
