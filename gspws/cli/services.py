"""Agency systems (ServiceIDs), their networks and granted functions."""

import json

import click

from gspws.cli.base import (
    FUNCTION,
    JSON,
    SERVICE_ID,
    Context,
    cidrs,
    emit,
    main,
    pass_ctx,
)
from gspws.core.access import FUNCTIONS
from gspws.store.models import Service
from gspws.store.repo import Repository


@main.group()
def service() -> None:
    """Agency systems (ServiceIDs), their allowed networks and granted functions."""


def service_row(s: Service) -> dict:
    """A service as the CLI prints it and the console shows it."""
    return {
        "service_id": s.service_id,
        "name": s.name,
        "enabled": s.enabled,
        "allow": [n.cidr for n in s.networks],
        "grants": {g.function: ("suspended" if g.suspended else "active") for g in s.grants},
    }


@service.command("add")
@SERVICE_ID
@click.option("--name", required=True, help="The agency system's name.")
@click.option(
    "--allow",
    "networks",
    multiple=True,
    required=True,
    callback=cidrs,
    metavar="CIDR",
    help="Allowed client network (IPv4 or IPv6); repeatable.",
)
@click.option(
    "--grant",
    "functions",
    multiple=True,
    type=FUNCTION,
    help="Function granted; repeatable. Default: VerifyTOTPCode.",
)
@pass_ctx
def service_add(
    c: Context, service_id: str, name: str, networks: list[str], functions: tuple[str, ...]
) -> None:
    """Register an agency system."""
    with c.repo() as repo:
        repo.add_service(service_id, name, networks, list(functions or FUNCTIONS[:1]))
    click.echo(f"service {service_id} added")


@service.command("set")
@SERVICE_ID
@click.option("--name", help="A new name.")
@click.option(
    "--allow",
    "networks",
    multiple=True,
    callback=cidrs,
    metavar="CIDR",
    help="The allowed client networks, replacing the present ones; repeatable.",
)
@pass_ctx
def service_set(c: Context, service_id: str, name: str | None, networks: list[str]) -> None:
    """Rename a service and/or replace its allowed networks."""
    if name is None and not networks:
        raise click.UsageError("give --name, --allow or both")
    with c.repo() as repo:
        if name is not None:
            repo.rename_service(service_id, name)
        if networks:
            repo.set_networks(service_id, networks)
    click.echo(f"service {service_id} changed")


def _grant_command(name: str, doc: str, action) -> None:
    @service.command(name, help=doc)
    @SERVICE_ID
    @click.argument("function", type=FUNCTION)
    @pass_ctx
    def command(c: Context, service_id: str, function: str) -> None:
        with c.repo() as repo:
            action(repo, service_id, function)
        click.echo(f"{service_id} {function}: {name}")


_grant_command("grant", "Grant a function.", Repository.grant)
_grant_command("revoke", "Revoke a function (calls answer 8108).", Repository.revoke)
_grant_command(
    "suspend",
    "Suspend a granted function (calls answer 8109).",
    lambda r, s, f: r.set_suspended(s, f, True),
)
_grant_command(
    "resume", "Resume a suspended function.", lambda r, s, f: r.set_suspended(s, f, False)
)


def _enable_command(name: str, doc: str, enabled: bool) -> None:
    @service.command(name, help=doc)
    @SERVICE_ID
    @pass_ctx
    def command(c: Context, service_id: str) -> None:
        with c.repo() as repo:
            repo.set_enabled(service_id, enabled)
        click.echo(f"service {service_id} {name}d")


_enable_command("disable", "Disable a service (all its calls answer 8109).", False)
_enable_command("enable", "Enable a disabled service.", True)


@service.command("list")
@JSON
@pass_ctx
def service_list(c: Context, as_json: bool) -> None:
    """List services."""
    with c.repo() as repo:
        rows = [service_row(s) for s in repo.list_services()]
    if not as_json:
        for row in rows:
            row["allow"] = ",".join(row["allow"])
            row["grants"] = ",".join(f"{f}({s})" for f, s in row["grants"].items())
    emit(rows, as_json, ["service_id", "name", "enabled", "allow", "grants"])


@service.command("show")
@SERVICE_ID
@JSON
@pass_ctx
def service_show(c: Context, service_id: str, as_json: bool) -> None:
    """Show one service."""
    with c.repo() as repo:
        row = service_row(repo.get_service(service_id))
    if as_json:
        click.echo(json.dumps(row, ensure_ascii=False, indent=2))
        return
    for key, value in row.items():
        if isinstance(value, list):
            value = ", ".join(value)
        elif isinstance(value, dict):
            value = ", ".join(f"{k} ({v})" for k, v in value.items()) or "(none)"
        click.echo(f"{key:11} {value}")
