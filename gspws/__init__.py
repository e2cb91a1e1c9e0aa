"""gspws: the GSP TOTP web service, re-implemented for existing SOAP callers.

Layout: ``core`` decides (return codes, OTP checks, access rules), ``store`` persists
(SQLAlchemy, encrypted secrets), ``soap`` and ``cli`` translate between the outside world and the
core. ``wsgi.create_app`` composes them.
"""

__version__ = "0.1.0"
