"""The kiosk page: categories, services, an optional priority, then the ticket on screen."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from taboor.kiosk import menu
from taboor.server.runtime import runtime
from taboor.server.web import DEFAULT_LANG, lang

bp = Blueprint(
    "kiosk",
    __name__,
    url_prefix="/kiosk",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)

# Seconds the issued ticket stays on screen, and before an abandoned choice starts over.
TICKET_SCREEN_S = 25
IDLE_RESET_S = 60

# Numbers that pick each plural form of the Arabic catalog (zero, one, two, few, many,
# other); the script chooses the form by the same rule, so no plural logic is duplicated
# in text and English falls out as singular/plural.
_PLURAL_SAMPLES = {"one": 1, "two": 2, "few": 3, "many": 11, "other": 100}

STRINGS = {
    "waiting": _l("Waiting: {n}"),
    "nobody_waiting": _l("Nobody waiting"),
    "no_wait": _l("No wait"),
    "you_are_next": _l("You are next"),
    "err_offline": _l(
        "The ticket could not be issued: the server cannot be reached. "
        "Please try again, or ask the staff for help."
    ),
    "err_service": _l("This service is not available right now. Please ask the staff."),
    "err_priority": _l("This priority is not offered here. Please choose another option."),
    "err_center": _l("This kiosk may not issue tickets for this center. Please ask the staff."),
    "err_other": _l("The ticket could not be issued. Please try again, or ask the staff for help."),
}


def _minutes_strings() -> dict[str, str]:
    return {
        f"minutes_{form}": ngettext("about {n} minute", "about {n} minutes", sample)
        for form, sample in _PLURAL_SAMPLES.items()
    }


def _public_url() -> str:
    return runtime().settings.public_url.rstrip("/")


@bp.get("/<code:center>")
def screen(center: str):
    """The full-screen touch page where citizens take a ticket."""
    rt = runtime()
    with rt.db.reading() as tx:
        offer = menu.load(tx, center, rt.now())
    return render_template(
        "kiosk/kiosk.html",
        menu=offer,
        center=offer.center,
        eastern_digits=offer.eastern_digits,
        eservice_url=rt.settings.eservice_url,
        kiosk_data={
            "center": offer.center["code"],
            "lang": lang(),
            "default_lang": DEFAULT_LANG,
            "services": offer.services,
            "eservice_url": rt.settings.eservice_url,
            "public_url": _public_url(),
            "ticket_screen_s": TICKET_SCREEN_S,
            "idle_reset_s": IDLE_RESET_S,
        },
        page_js={**STRINGS, **_minutes_strings()},
    )
