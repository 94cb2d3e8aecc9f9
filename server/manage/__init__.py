"""The manager dashboard (/manage/<center>): the floor now, statistics, CSV and PDF reports.

Also the `taboor report` command, which writes the same PDF or CSV from the command line.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the dashboard pages and the `taboor report` command."""
    from taboor.server.manage.commands import report_command, summarise_command
    from taboor.server.manage.views import bp

    app.register_blueprint(bp)
    app.cli.add_command(report_command)
    app.cli.add_command(summarise_command)
