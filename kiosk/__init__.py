"""The kiosk: the touch screen where citizens take a ticket (`/kiosk/<center>`)."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the kiosk pages."""
    from taboor.kiosk.views import bp

    app.register_blueprint(bp)
