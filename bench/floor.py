"""The floor of the benchmark: the least a server can do for a VerifyTOTPCode call.

A WSGI app with no database and no verification, served by the same server set-up as
``gspws serve`` (one function, gspws.serving.serve). Per request it reads the body, parses it with
lxml (entity resolution and network access off, as spyne does), finds ``account`` and ``TOTPCode``,
and writes the response bytes gspws writes (built with ``gspws.soap.protocol`` at import), with the
same Content-Type. It answers Code 0, except for the failure path's wrong code ``000000``, which
gets gspws's 9999 bytes, so each path is compared on identical response bytes.

Run by ``bench/run.py``; by hand::

    .venv/bin/python bench/floor.py --port 8001 --workers 2
"""

import argparse
import sys
from pathlib import Path

from lxml import etree

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # gspws from this checkout

from gspws.core import codes  # noqa: E402
from gspws.soap import shape  # noqa: E402
from gspws.soap.protocol import verify_result  # noqa: E402

WRONG_CODE = "000000"  # the failure path's code (bench/run.py)
CONTENT_TYPE = shape.SOAP11.content_type
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True)
_BODY = shape.SOAP11.qname("Body")
_OP = f"{{{shape.TNS}}}VerifyTOTPCode"
_ACCOUNT = f"{_BODY}/{_OP}/{{{shape.TNS}}}account"
_CODE = f"{_BODY}/{_OP}/{{{shape.TNS}}}TOTPCode"


# What gspws answers to a SOAP 1.1 VerifyTOTPCode call with each code.
OK_BYTES = verify_result(shape.SOAP11, codes.OK)
REJECTED_BYTES = verify_result(shape.SOAP11, codes.REJECTED)


def app(environ, start_response):
    if environ["REQUEST_METHOD"] != "POST":
        start_response(
            "405 Method Not Allowed", [("Content-Type", "text/plain"), ("Content-Length", "0")]
        )
        return [b""]
    length = int(environ.get("CONTENT_LENGTH") or 0)
    root = etree.fromstring(environ["wsgi.input"].read(length), _PARSER)
    account, code = root.findtext(_ACCOUNT), root.findtext(_CODE)
    body = REJECTED_BYTES if code == WRONG_CODE and account else OK_BYTES
    start_response("200 OK", [("Content-Type", CONTENT_TYPE), ("Content-Length", str(len(body)))])
    return [body]


def _load():
    return app


def serve(host: str, port: int, workers: int) -> None:
    """Exactly the server set-up of ``gspws serve`` (gspws.serving.serve, with the same GSPWS_*
    settings from the environment), so that only the app differs."""
    from gspws import serving
    from gspws.config import Settings

    serving.serve(_load, Settings.from_env(), host, port, workers)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    serve(args.host, args.port, args.workers)
