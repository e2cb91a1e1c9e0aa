"""Services: list and search; add; rename and set networks; grant, revoke, suspend, resume;
disable and enable. Each change is the CLI's store function (gspws.cli.services), so it takes
effect in every worker within GSPWS_REGISTRY_REFRESH, as the CLI's do (the registry version)."""

from werkzeug.wrappers import Response

from gspws.admin.acts import change
from gspws.admin.app import Console, Page
from gspws.cli.services import service_row
from gspws.core.access import FUNCTIONS, network_list, valid_service_id


def _listed(console: Console, q: str) -> list[dict]:
    """Services whose ServiceID starts with, or whose name contains, ``q`` (a few hundred at
    most: read whole, as the registry does)."""
    with console.store.reading() as repo:
        rows = [service_row(s) for s in repo.list_services()]
    q = q.strip().lower()
    return [r for r in rows if r["service_id"].lower().startswith(q) or q in r["name"].lower()]


def services(page: Page, console: Console, error: str | None = None) -> Response:
    q = page.request.args.get("q", "")
    return page.render(
        "services",
        400 if error else 200,
        services=_listed(console, q),
        q=q,
        functions=FUNCTIONS,
        error=error,
    )


NAME_MAX = 200  # services.name


def _name(text: str) -> str:
    name = text.strip()
    if not name or len(name) > NAME_MAX:
        raise ValueError(f"a service needs a name of 1 to {NAME_MAX} characters")
    return name


def _networks(text: str) -> list[str]:
    return network_list(part for part in text.replace(",", "\n").splitlines() if part.strip())


def add(page: Page, console: Console) -> Response:
    form = page.request.form
    service_id = form.get("service_id", "").strip()
    name = form.get("name", "").strip()
    functions = [f for f in form.getlist("functions") if f in FUNCTIONS] or list(FUNCTIONS[:1])

    def carry_out(repo) -> None:
        if not valid_service_id(service_id):
            raise ValueError(f"{service_id!r} is not a ServiceID (APP followed by 7 digits)")
        _name(name)
        networks = _networks(form.get("networks", ""))
        if not networks:
            raise ValueError("a service needs at least one allowed network")
        repo.add_service(service_id, name, networks, functions)

    error = change(page, console, "AddService", carry_out, service_id=service_id or None)
    if error:
        return services(page, console, error)
    return page.redirect(f"services/{service_id}", notice="done")


def service(page: Page, console: Console, service_id: str, error: str | None = None) -> Response:
    with console.store.reading() as repo:
        found = [service_row(s) for s in repo.list_services() if s.service_id == service_id]
    if not found:
        return page.message(404, "not_found")
    row = found[0]
    granted = set(row["grants"])
    return page.render(
        "service",
        400 if error else 200,
        s=row,
        ungranted=[f for f in FUNCTIONS if f not in granted],
        error=error,
    )


def _edit(page: Page, console: Console, service_id: str) -> Response:
    form = page.request.form

    def carry_out(repo) -> None:
        name = _name(form.get("name", ""))
        networks = _networks(form.get("networks", ""))
        if not networks:
            raise ValueError("a service needs at least one allowed network")
        repo.rename_service(service_id, name)
        repo.set_networks(service_id, networks)

    return _done(
        page, console, service_id, change(page, console, "EditService", carry_out, service_id)
    )


def _function_action(action: str, verb: str):
    """A POST on one granted function (``function`` in the form)."""

    def handler(page: Page, console: Console, service_id: str) -> Response:
        function = page.request.form.get("function", "")

        def carry_out(repo) -> None:
            if function not in FUNCTIONS:
                raise ValueError(f"no function {function!r}")
            if verb == "grant":
                repo.grant(service_id, function)
            elif verb == "revoke":
                repo.revoke(service_id, function)
            else:
                repo.set_suspended(service_id, function, verb == "suspend")

        error = change(page, console, f"{action}:{function}"[:40], carry_out, service_id)
        return _done(page, console, service_id, error)

    return handler


def _enable_action(action: str, enabled: bool):
    def handler(page: Page, console: Console, service_id: str) -> Response:
        error = change(
            page, console, action, lambda repo: repo.set_enabled(service_id, enabled), service_id
        )
        return _done(page, console, service_id, error)

    return handler


def _done(page: Page, console: Console, service_id: str, error: str | None) -> Response:
    if error:
        return service(page, console, service_id, error)
    return page.redirect(f"services/{service_id}", notice="done")


ROUTES = [
    ("services", "services", ["GET"], services),
    ("services/add", "service_add", ["POST"], add),
    ("services/<service_id>", "service", ["GET"], service),
    ("services/<service_id>/edit", "service_edit", ["POST"], _edit),
    ("services/<service_id>/grant", "service_grant", ["POST"], _function_action("Grant", "grant")),
    (
        "services/<service_id>/revoke",
        "service_revoke",
        ["POST"],
        _function_action("Revoke", "revoke"),
    ),
    (
        "services/<service_id>/suspend",
        "service_suspend",
        ["POST"],
        _function_action("Suspend", "suspend"),
    ),
    (
        "services/<service_id>/resume",
        "service_resume",
        ["POST"],
        _function_action("Resume", "resume"),
    ),
    (
        "services/<service_id>/disable",
        "service_disable",
        ["POST"],
        _enable_action("DisableService", False),
    ),
    (
        "services/<service_id>/enable",
        "service_enable",
        ["POST"],
        _enable_action("EnableService", True),
    ),
]
