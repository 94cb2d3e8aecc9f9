"""The hall display: the last calls and waiting counts on a TV, with spoken announcements.

`/display/<center>` runs unattended for weeks on a TV in the waiting hall. It reads
the device token once from its address (`#token=...`), or needs none when the
center's options say `public_display: true`, and stays live over Socket.IO through
server restarts and network drops. Each call plays a chime and the call spoken in
Arabic then English, generated here (display.audio) and cached in the instance folder.
"""

from __future__ import annotations

from flask import Blueprint, Flask

bp = Blueprint(
    "display",
    __name__,
    url_prefix="/display",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)


def init_app(app: Flask) -> None:
    """Register the display pages and the announcement route."""
    from taboor.display import views  # noqa: F401  (registers the routes on bp)

    app.register_blueprint(bp)
