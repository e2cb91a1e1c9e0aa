"""The console's dashboard (``/admin/``).

A placeholder: helper ``admin-dash`` owns this module and replaces it with the charts. The
contract: ``dashboard_page(page, console)`` returns a Response; ``page.render(template, **ctx)``
renders a template of ``gspws/admin/templates`` in the console's frame (nav, headers).
"""

from werkzeug.wrappers import Response

from gspws.admin.app import Console, Page


def dashboard_page(page: Page, console: Console) -> Response:
    return page.render("dashboard")


ROUTES = [
    ("", "dashboard", ["GET"], dashboard_page),
]
