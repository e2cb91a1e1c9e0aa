"""The text of a code's SMS or e-mail, from the operator's templates (``GSPWS_OTP_TEXT``,
``GSPWS_OTP_MAIL_SUBJECT``).

A template is checked once, when the settings are read: only the named placeholders are allowed
(``{code.__class__}`` and the like could reach into objects, and a misspelt one would fail at the
first send, when a citizen waits for the code), and the text must carry ``{code}``. The subject
may not carry it: it is stored and listed in clear (``gspws outbox list``), the body encrypted.
"""

import string

TEXT = "您的驗證碼為 {code}，{minutes} 分鐘內有效。請勿將驗證碼告知他人。"
SUBJECT = "驗證碼 ({minutes} 分鐘內有效)"


def _checked(template: str, allowed: tuple[str, ...], required: str | None) -> str:
    named = ", ".join("{" + name + "}" for name in allowed)
    try:
        parts = [(f, spec, conv) for _, f, spec, conv in string.Formatter().parse(template)]
    except ValueError as exc:
        raise ValueError(
            f"is not a valid template ({exc}); write a brace as {{{{ or }}}}"
        ) from None
    fields = [field for field, _, _ in parts if field is not None]
    for field, spec, conversion in parts:
        if field is not None and (field not in allowed or spec or conversion):
            shown = field + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "")
            raise ValueError(f"unknown placeholder {{{shown}}}: use {named}, nothing else")
    if required and required not in fields:
        raise ValueError(f"must contain {{{required}}}")
    return template


def message_template(template: str) -> str:
    """A valid ``GSPWS_OTP_TEXT``; ValueError (one line) otherwise."""
    return _checked(template, ("code", "minutes"), "code")


def subject_template(template: str) -> str:
    """A valid ``GSPWS_OTP_MAIL_SUBJECT`` (no code in it); ValueError otherwise."""
    return _checked(template, ("minutes",), None)


def fill(template: str, code: str, ttl: int) -> str:
    """The template with the code and the validity in whole minutes (at least 1)."""
    return template.format(code=code, minutes=max(1, ttl // 60))
