"""The `taboor` console script: the command group, with the app made on demand."""

from __future__ import annotations

import click
from flask.cli import FlaskGroup

from taboor.server.app import create_app
from taboor.server.cli import agent_command


@click.group(
    cls=FlaskGroup,
    create_app=create_app,
    add_default_commands=False,
    add_version_option=False,
)
def main() -> None:
    """Taboor: queue and kiosk system for citizen service centers."""


# Not an app command: a kiosk PC has no database and no settings, only this.
main.add_command(agent_command)
