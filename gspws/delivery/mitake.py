"""``GSPWS_SMS_GATEWAY=mitake``: SMS through Mitake (三竹資訊)'s HTTP API, ``SmSend``.

The request, as Mitake's clients send it (Mitake's own Java library, minchao/go-mitake, and
integrations quoting the vendor's manual; the manual itself was not at hand, see docs/delivery.md):
``POST https://smsapi.mitake.com.tw/api/mtk/SmSend?CharsetURL=UTF-8`` with a form body
``username``, ``password``, ``dstaddr`` (``09xxxxxxxx`` or ``8869xxxxxxxx``), ``smbody`` (line
breaks written as the control character 0x06), ``clientid`` (Mitake answers a repeated id within
12 hours with its first answer plus ``Duplicate=Y`` instead of sending again: the message's
stable key, so a resend after a crash is not delivered twice) and ``vldtime`` (until when the
carrier may keep trying, ``YYYYMMDDHHMMSS`` in Taiwan time, UTC+8: the code's expiry).

The answer is ``key=value`` lines, perhaps under a ``[1]`` section: ``msgid=…``,
``statuscode=…``, ``AccountPoint=…`` (credit left), sometimes ``Error=…``. ``statuscode`` 0
(scheduled), 1, 2, 3 (at the carrier) and 4 (at the handset) mean accepted; the letters are
refusals: ``*``, ``a``, ``b`` and ``r`` say the service is (temporarily) unavailable and are
retried; the others (credentials, account, permissions, billing, number, content) are not.
"""

from datetime import timedelta, timezone

import requests

from gspws.delivery.port import Message, Permanent, Temporary

DEFAULT_URL = "https://smsapi.mitake.com.tw/api/mtk/SmSend"
ACCEPTED = frozenset("01234")
#: Refusals that say "try again later" (系統發生錯誤 / 暫時停止服務 / 系統暫停服務).
RETRIED = frozenset("*abr")
TAIWAN = timezone(timedelta(hours=8))  # no daylight saving time since 1979
MAX_ANSWER = 8192  # bytes read of an answer: a few short lines


def fields(answer: str) -> dict[str, str]:
    """The ``key=value`` lines of an answer (section headers and blank lines ignored)."""
    pairs = (line.strip().partition("=") for line in answer.splitlines())
    return {key: value for key, sep, value in pairs if sep and key}


class MitakeGateway:
    def __init__(
        self, url: str, username: str, password: str, session: requests.Session | None = None
    ) -> None:
        self.url = url or DEFAULT_URL
        self.username = username
        self.password = password
        self.session = session or requests.Session()

    def deliver(self, message: Message, timeout: float) -> str | None:
        form = {
            "username": self.username,
            "password": self.password,
            "dstaddr": message.destination,
            "smbody": message.text.replace("\r\n", "\n").replace("\n", "\x06"),
            "clientid": message.key,
            "vldtime": message.not_after.astimezone(TAIWAN).strftime("%Y%m%d%H%M%S"),
        }
        try:
            with self.session.post(
                self.url,
                params={"CharsetURL": "UTF-8"},
                data=form,
                timeout=(timeout, timeout),
                stream=True,
            ) as response:
                status = response.status_code
                raw = response.raw.read(MAX_ANSWER, decode_content=True)
        except requests.RequestException as exc:
            raise Temporary(f"mitake: {type(exc).__name__}") from None
        if status != 200:
            raise Temporary(f"mitake: HTTP {status}")
        answer = fields(_decode(raw))
        code = answer.get("statuscode", "")
        if code in ACCEPTED:
            return answer.get("msgid") or None
        reason = f"mitake statuscode={code or '(none)'}"
        if answer.get("Error"):
            reason += f": {answer['Error']}"
        raise (Temporary if code in RETRIED or not code else Permanent)(reason)


def _decode(raw: bytes) -> str:
    """Mitake answers in UTF-8 when asked (CharsetURL) and in Big5 in its older interfaces."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("big5", errors="replace")
