"""The counter desk: a clerk's page to call, serve and hand on tickets (`/counter/`)."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the desk pages."""
    from taboor.counter.views import bp

    app.register_blueprint(bp)
