"""Which gateway carries each channel, from the settings (``GSPWS_SMS_GATEWAY``,
``GSPWS_MAIL_GATEWAY``): the one place that reads them."""

import time
from pathlib import Path

from gspws.config import Settings
from gspws.delivery.mitake import MitakeGateway
from gspws.delivery.port import Gateway, Message, Permanent
from gspws.delivery.smtp import EmailGateway
from gspws.delivery.spool import SpoolGateway
from gspws.delivery.webhook import WebhookGateway


class Unconfigured:
    """No gateway for this channel: every message fails, visibly, until one is configured."""

    def __init__(self, setting: str) -> None:
        self.setting = setting

    def deliver(self, message: Message, timeout: float) -> str | None:
        raise Permanent(f"no gateway configured ({self.setting} is empty)")


def sms_gateway(settings: Settings) -> Gateway:
    kind, _, target = settings.sms_gateway.partition(":")
    if kind == "spool":
        return SpoolGateway(Path(target))
    if kind == "mitake":
        return MitakeGateway(target, settings.sms_username, settings.sms_password)
    if kind == "webhook":
        return WebhookGateway(target, settings.sms_webhook_secret, time.time)
    return Unconfigured("GSPWS_SMS_GATEWAY")


def mail_gateway(settings: Settings) -> Gateway:
    kind, _, target = settings.mail_gateway.partition(":")
    if kind == "spool":
        return SpoolGateway(Path(target))
    return EmailGateway(settings)


def by_channel(settings: Settings) -> dict[str, Gateway]:
    return {"sms": sms_gateway(settings), "email": mail_gateway(settings)}
