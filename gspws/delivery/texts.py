"""The words of a code's message: ``GSPWS_OTP_TEXT`` (SMS and e-mail body), with ``{code}`` and
``{minutes}`` filled in.

The default (您的驗證碼為 {code}，{minutes} 分鐘內有效。請勿將驗證碼告知他人。) names the
validity as Hua Nan's page does; 33 characters, one SMS segment (70 UCS-2 characters) with room
for a sender's prefix.
"""


def code_text(template: str, code: str, ttl_seconds: int) -> str:
    """``template`` carrying ``code``, valid ``ttl_seconds`` (in whole minutes, at least 1)."""
    minutes = max(1, ttl_seconds // 60)
    return template.replace("{code}", code).replace("{minutes}", str(minutes))
