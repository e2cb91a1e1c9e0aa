#!/usr/bin/env python3
"""An agency's "sign in with your phone" page over gspws's OTP.asmx, as a small werkzeug app.

    python clients/qr_login/app.py --url http://127.0.0.1:8000/gsp2ws/OTP.asmx \
        --service-id APP0000001 [--port 8001] [--soap12]

Then open http://127.0.0.1:8001/ in a browser. The page calls GetAssertionId, shows the QR and
the 2-digit number, and reloads itself every two seconds; each reload asks GetAssertion: 12 keeps
waiting, 0 signs the browser in as the account in Message, 9999 says why not (denied, expired)
and offers a new QR. Scan the QR with a phone (or open its URL), type the account and a current
code of its authenticator, choose the number this page shows and press 確認登入.

What an agency should copy: the AssertionId stays on the server (it is the key to the sign-in's
outcome), only the QR and the number go to the browser; GetAssertion answers 0 once, so the
account is read exactly once, by the server; the page needs no JavaScript.
"""

import argparse
import html
import secrets
import sys

try:
    import zeep
    from werkzeug.serving import run_simple
    from werkzeug.utils import redirect
    from werkzeug.wrappers import Request, Response
except ModuleNotFoundError as missing:
    sys.exit(f"{missing}: install gspws[clients] (pip install 'gspws[clients]')")

COOKIE = "qr_login"
POLL_SECONDS = 2
PENDING = 12

PAGE = """<!DOCTYPE html>
<html lang="zh-TW"><head><meta charset="utf-8">{refresh}
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>以手機掃碼登入 (sign in with your phone)</title>
<style>body {{ font-family: sans-serif; max-width: 40em; margin: 2em auto; }}
#number {{ font-size: 3em; letter-spacing: .1em; }}</style></head>
<body><h1>以手機掃碼登入 <small>(sign in with your phone)</small></h1>{body}</body></html>"""


class QrLoginApp:
    """The WSGI app. Sign-ins in progress and signed-in browsers are kept in memory, by a random
    cookie: enough for an example (a real site keeps them in its session store)."""

    def __init__(self, url: str, service_id: str, soap12: bool = False) -> None:
        client = zeep.Client(f"{url}?WSDL")
        self._otp = client.bind("OTP", "OTPSoap12" if soap12 else "OTPSoap")
        self._header = {"ServiceHeader": {"ServiceID": service_id}}
        self._visits: dict[str, dict] = {}

    def __call__(self, environ, start_response):
        request = Request(environ)
        key = request.cookies.get(COOKIE)
        if key not in self._visits:
            key = secrets.token_urlsafe(16)
            self._visits[key] = {}
        visit = self._visits[key]
        if request.path == "/sign-out":
            visit.clear()
            response = redirect("/", 303)
        elif request.path == "/":
            response = self._page(visit, fresh="new" in request.args)
        else:
            response = Response("not found", 404)
        response.set_cookie(COOKIE, key, httponly=True, samesite="Strict")
        response.headers["Cache-Control"] = "no-store"
        return response(environ, start_response)

    def _page(self, visit: dict, fresh: bool) -> Response:
        if visit.get("account"):
            return _html(
                f'<p id="signed-in">已登入：<strong id="account">{html.escape(visit["account"])}'
                '</strong></p><p><a href="/sign-out" id="sign-out">登出 (sign out)</a></p>'
            )
        if fresh or "ticket" not in visit:
            started = self._otp.GetAssertionId(_soapheaders=self._header)
            if started.Code != 0:
                return _failed(started.Code, started.Message)
            visit["ticket"] = started.Result
        ticket = visit["ticket"]
        answer = self._otp.GetAssertion(AssertionId=ticket.AssertionId, _soapheaders=self._header)
        if answer.Code == 0:
            visit.pop("ticket")
            visit["account"] = answer.Message
            return self._page(visit, fresh=False)
        if answer.Code != PENDING:
            visit.pop("ticket")
            return _failed(answer.Code, answer.Message)
        return _html(
            f'<p><img id="qr" alt="QR code" src="data:image/png;base64,{ticket.QRCode}"></p>'
            f'<p>請以手機掃描 QR Code，並在手機上選擇這個數字：<span id="number">'
            f"{html.escape(ticket.Number)}</span></p>"
            f"<p><small>有效至 {ticket.ExpiresAt:%H:%M:%S} UTC。無法掃描時，請在手機開啟 "
            f'<a id="approval-url" href="{html.escape(ticket.ApprovalUrl)}">'
            f"{html.escape(ticket.ApprovalUrl)}</a></small></p>",
            refresh=True,
        )


def _failed(code: int, message: str) -> Response:
    return _html(
        f'<p id="failed">登入未完成 ({code})：<span id="reason">{html.escape(message or "")}'
        '</span></p><p><a href="/?new=1" id="again">重新取得 QR Code (new QR code)</a></p>'
    )


def _html(body: str, refresh: bool = False) -> Response:
    meta = f'<meta http-equiv="refresh" content="{POLL_SECONDS}; url=/">' if refresh else ""
    return Response(PAGE.format(refresh=meta, body=body), content_type="text/html; charset=utf-8")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="e.g. http://127.0.0.1:8000/gsp2ws/OTP.asmx")
    parser.add_argument("--service-id", required=True, help="your agency's ServiceID")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--soap12", action="store_true", help="use SOAP 1.2 instead of 1.1")
    args = parser.parse_args(argv)
    app = QrLoginApp(args.url, args.service_id, args.soap12)
    print(f"QR-scan sign-in example: http://{args.host}:{args.port}/")
    run_simple(args.host, args.port, app)
    return 0


if __name__ == "__main__":
    sys.exit(main())
