"""The SOAP door: spyne and lxml turn envelopes into core calls and outcomes into ASP.NET bytes."""

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
