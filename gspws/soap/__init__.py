"""The SOAP door: spyne and lxml turn envelopes into core calls and outcomes into ASP.NET bytes.

Shared by every asmx service (TOTP.asmx now; MobileOTP.asmx and OTP.asmx to come): ``charset``
(which encodings a body may be in), ``envelope`` (one parse and one structure check per request),
``protocol`` (spyne's protocols taking that envelope, and the one writer of answers), ``shape``
(ASP.NET's bytes), ``wsdl`` (the committed contract served with its address), ``contract`` and
``help`` (help pages read from that WSDL and the service's docstrings). Per service: its spyne
definitions (``service``: operations, models, ``DEFINITIONS``), its committed WSDL, and the
endpoint that routes its paths (``app``); ``fastpath`` answers the plain calls every login makes. The
caller's address and URL come resolved from the edge (gspws.proxies).
"""

import logging

from gspws import _compat  # noqa: F401  - must run before spyne is imported

# spyne logs whole request bodies (live TOTP codes) when it meets bad XML or a failing call.
# gspws logs those events itself, without the content, so spyne's own logging is switched off.
logging.getLogger("spyne").setLevel(logging.CRITICAL + 1)

# spyne runs a full gc.collect() after a request whenever a second has passed since the last one
# (spyne.const.MIN_GC_INTERVAL): ~40 ms that stalls that call and every call queued behind it.
# CPython's generational collector is enough for a server; switch spyne's forced collection off.
from spyne import const as _spyne_const  # noqa: E402

_spyne_const.MIN_GC_INTERVAL = float("inf")
