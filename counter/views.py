"""The desk pages. Views are thin: counter/desk.py reads, the JSON API acts."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, session, url_for
from flask_babel import lazy_gettext as _l

from taboor.counter import desk
from taboor.server.auth import Role
from taboor.server.domain.errors import TaboorError
from taboor.server.runtime import runtime
from taboor.server.web import lang, page_token, staff, staff_page

bp = Blueprint(
    "counter",
    __name__,
    url_prefix="/counter",
    template_folder="templates",
    static_folder="static",
)

ROLES = (Role.CLERK, Role.MANAGER, Role.ADMIN)
# The counter a manager or admin last opened a desk at (clerks always get their own).
PICKED = "counter_desk"

# Everything the desk script may say; it shows no text of its own.
JS = {
    "counter_open": _l("Open"),
    "counter_paused": _l("Paused"),
    "counter_closed": _l("Closed"),
    "state_waiting": _l("Waiting"),
    "state_called": _l("Called"),
    "state_serving": _l("Being served"),
    "state_done": _l("Finished"),
    "state_no_show": _l("No-show"),
    "state_cancelled": _l("Cancelled"),
    "priority_normal": _l("Normal"),
    "priority_elderly": _l("Elderly"),
    "priority_disabled": _l("Person with a disability"),
    "priority_appointment": _l("Appointment"),
    "called_at": _l("Called at {time}"),
    "issued_at": _l("Issued at {time}"),
    "recalls": _l("Called again: {count}"),
    "nobody_waiting": _l("Nobody is waiting."),
    "loading": _l("Loading…"),
    "called": _l("Ticket {label} called."),
    "transferred": _l("Ticket {label} sent to {service}."),
    "pick_ticket": _l("Choose a ticket from the list."),
    "pick_service": _l("Choose the service to send the ticket to."),
    "reason_required": _l("Write the reason for calling this ticket out of turn."),
    "err_invalid_transition": _l("This is not possible in the ticket's current state."),
    "err_counter_busy": _l("Finish the current ticket first."),
    "err_counter_not_open": _l("Open the counter first."),
    "err_counter_forbidden": _l("You work at another counter."),
    "err_center_forbidden": _l("You may not act in this center."),
    "err_role_forbidden": _l("Your account may not do this."),
    "err_ticket_not_found": _l("This ticket no longer exists."),
    "err_counter_not_found": _l("This counter no longer exists."),
    "err_service_not_found": _l("This service does not exist."),
    "err_service_not_served": _l("This counter does not serve that ticket's service."),
    "err_same_service": _l("The ticket is already in that service."),
    "err_missing_field": _l("Fill in the required field."),
    "err_token": _l("Your session has ended. Sign out and sign in again."),
    "err_conflict": _l("The queue changed meanwhile; the desk has been updated. Try again."),
    "err_database_unavailable": _l("The server is busy. Try again in a moment."),
}


@bp.get("/")
@staff_page(*ROLES)
def desk_page():
    """The desk of the signed-in clerk's counter (a manager or admin picks one)."""
    principal = staff()
    counter_id = desk.chosen_counter(principal, request.args.get("counter"), session.get(PICKED))
    if counter_id is None:
        return choose_page()
    with runtime().db.reading() as tx:
        try:
            view = desk.load(tx, principal, counter_id, lang())
        except TaboorError:
            if principal.role == Role.CLERK or "counter" in request.args:
                raise
            view = None  # the counter picked earlier is gone: pick again
    if view is None:
        return choose_page()
    if principal.role != Role.CLERK:
        session[PICKED] = counter_id
    html = render_template(
        "counter/desk.html",
        desk=view,
        desk_data=view.script_data(lang()),
        token=page_token(),
        may_choose=principal.role != Role.CLERK,
        eastern_digits=view.eastern_digits,
        page_js=JS,
    )
    # The page carries the session's bearer token: never keep it in a cache.
    return html, 200, {"Cache-Control": "no-store"}


@bp.get("/choose")
@staff_page(*ROLES)
def choose_page():
    """Pick a counter (managers and admins); a clerk without a counter is told so."""
    principal = staff()
    if principal.role == Role.CLERK:
        if principal.counter_id is not None:
            return redirect(url_for("counter.desk_page"))
        return render_template("counter/choose.html", counters=None)
    session.pop(PICKED, None)
    with runtime().db.reading() as tx:
        counters = desk.choices(tx, principal, lang())
    return render_template("counter/choose.html", counters=counters)
