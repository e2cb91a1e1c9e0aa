"""The words of a code's message: ``GSPWS_OTP_TEXT`` (SMS and e-mail) and its e-mail subject.

The default (您的驗證碼為 {code}，{minutes} 分鐘內有效。) names the validity as Hua Nan's page does;
22 characters, one SMS segment (70 UCS-2 characters) with room for a sender's prefix.
"""

import math

from gspws.config import Settings


def code_text(settings: Settings, code: str, ttl_seconds: int) -> str:
    """The text carrying ``code``, valid ``ttl_seconds`` (shown in whole minutes, at least 1)."""
    minutes = max(1, math.ceil(ttl_seconds / 60))
    return settings.otp_text.replace("{code}", code).replace("{minutes}", str(minutes))


def mail_subject(settings: Settings) -> str:
    return settings.otp_mail_subject
