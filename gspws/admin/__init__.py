"""The operator console at ``/admin/`` (issue 15): see :mod:`gspws.admin.app` and docs/admin.md."""
