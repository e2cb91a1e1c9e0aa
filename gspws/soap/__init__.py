"""The SOAP door: spyne and lxml turn envelopes into core calls and outcomes into ASP.NET bytes."""

import logging

from gspws import _compat  # noqa: F401  - must run before spyne is imported

# spyne logs whole request bodies (live TOTP codes) when it meets bad XML or a failing call.
# gspws logs those events itself, without the content, so spyne's own logging is switched off.
logging.getLogger("spyne").setLevel(logging.CRITICAL + 1)
