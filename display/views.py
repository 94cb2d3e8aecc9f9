"""The hall display's routes: the page, its list of last calls, and the announcements."""

from __future__ import annotations

import threading
from pathlib import Path

from flask import current_app, jsonify, render_template, request, send_file
from flask_babel import lazy_gettext as _l

from taboor.display import bp, hall
from taboor.display.audio import AnnouncementCache
from taboor.server.domain.errors import InvalidInput
from taboor.server.runtime import runtime
from taboor.server.web import lang

# Unattended for weeks: reload once a day at a quiet moment, so memory never grows.
RELOAD_AFTER_S = 24 * 3600
QUIET_S = 10 * 60
# Redraw from the snapshot now and then even when every event arrived (a new business
# day empties the hall without any event).
RESYNC_EVERY_S = 5 * 60
# Services listed by name (the busiest first); the rest are summed on one line.
WAITING_ROWS = 8

PAGE_JS = {
    "counter_n": _l("Counter %(number)s"),
    "more_services": _l("In other services: %(count)s"),
}


_made = threading.Lock()


def announcements() -> AnnouncementCache:
    """This app's announcement cache (made on first use, from the app's settings)."""
    with _made:  # one cache, hence one generation lock, per app
        cache = current_app.extensions.get("taboor.display.audio")
        if cache is None:
            cache = AnnouncementCache(
                Path(current_app.instance_path) / "audio",
                espeak=current_app.config.get("TABOOR_ESPEAK_NG", "espeak-ng"),
            )
            current_app.extensions["taboor.display.audio"] = cache
    return cache


def _seconds(name: str, default: int) -> int:
    """A timing override from the address (for trying the page out); whole seconds."""
    raw = request.args.get(name)
    if raw is None:
        return default
    if not raw.isascii() or not raw.isdigit() or not 0 < int(raw) <= 10**7:
        raise InvalidInput(f"{name} must be a number of seconds", field=name)
    return int(raw)


@bp.get("/<code:center>")
def page(center: str):
    """The hall display of a center: last calls, waiting counts, clock; live."""
    with runtime().db.reading() as tx:
        info = hall.board(tx, center)
    here = info["center"]
    ar = lang() == "ar"
    settings = {
        "center": here["code"],
        "public": info["public"],
        "timezone": here["timezone"],
        "services": {s["code"]: s["name_ar" if ar else "name_en"] for s in info["services"]},
        "calls_shown": hall.CALLS_SHOWN,
        "waiting_rows": WAITING_ROWS,
        "reload_after_s": _seconds("reload_after_s", RELOAD_AFTER_S),
        "quiet_s": _seconds("quiet_s", QUIET_S),
        "resync_s": RESYNC_EVERY_S,
    }
    return render_template(
        "display/display.html",
        center=here,
        center_name=here["name_ar" if ar else "name_en"],
        settings=settings,
        eastern_digits=info["eastern_digits"],
        page_js=PAGE_JS,
    )


@bp.get("/<code:center>/calls")
def calls(center: str):
    """Today's last calls of a center, newest first (recalls count as new calls)."""
    with runtime().db.reading() as tx:
        return jsonify(hall.recent_calls(tx, center, runtime().now()))


@bp.get("/<code:center>/announce.wav")
def announce(center: str):
    """The chime and a call made today spoken in Arabic, then English, as one WAV (cached)."""
    with runtime().db.reading() as tx:
        prefix, number, counter = hall.check_call(
            tx, center, request.args.get("label"), request.args.get("counter"), runtime().now()
        )
    clip = announcements().clip(prefix, number, counter)
    if clip.path is not None:
        # The file name is the content's key, so it is the ETag (its time changes on use).
        response = send_file(
            clip.path, mimetype="audio/wav", max_age=86400, conditional=True, etag=clip.path.stem
        )
    else:  # no voice: the chime alone, not to be cached (a voice may be installed later)
        response = current_app.response_class(clip.data, mimetype="audio/wav")
        response.headers["Cache-Control"] = "no-store"
    response.headers["X-Taboor-Announcement"] = (
        "chime-only" if not clip.voiced else "generated" if clip.generated else "cached"
    )
    return response
