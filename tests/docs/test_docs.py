"""The README's configuration table is the one place options are documented: keep it complete."""

import re

import click

from gspws.cli import main
from gspws.config import OPTIONS

from helpers import REPO

README = REPO / "README.md"


def _cli_envvars(command: click.Command) -> set[str]:
    found = {p.envvar for p in command.params if isinstance(p.envvar, str)}
    for sub in getattr(command, "commands", {}).values():
        found |= _cli_envvars(sub)
    return found


def test_readme_configuration_table_lists_every_option_once():
    rows = re.findall(r"^\| `(GSPWS_[A-Z_]+)` \|", README.read_text(encoding="utf-8"), re.M)
    assert len(rows) == len(set(rows)), "an option is documented twice"
    assert set(rows) == {o.env for o in OPTIONS} | _cli_envvars(main)


def test_readme_defaults_match_the_code():
    text = README.read_text(encoding="utf-8")
    for option in OPTIONS:
        if option.default:
            assert re.search(
                rf"^\| `{option.env}` \| `{re.escape(option.default)}` \|", text, re.M
            ), option.env
