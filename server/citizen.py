"""The citizen's view of a ticket: `/t/<public_id>` (the QR code on the ticket).

The page shows the ticket's state, the people ahead, the estimated wait and, once
called, the counter. It also explains how the line moved since the ticket joined it:
how many tickets of its service were called since then, and which of them were called
before it although they joined the line after it, with the reason (a priority head
start, a transfer that kept its place, or a clerk who called that ticket on purpose and
gave a reason). Both come from the event log, the same truth the statistics read.

Live updates: the page polls `GET /api/v1/tickets/<public_id>/progress` (one request
that carries the ticket, its service and the figures) every few seconds and whenever
the phone shows the page again. Anonymous sockets may only join centers with a public
display, so for those centers the socket is used as well, as a hint to poll at once.

No personal data: no clerk names, no user ids, not even the priority class of another
ticket (a class such as "disabled" says something about its holder); only labels,
times, reasons and the note a clerk typed as the reason for an out-of-turn call.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale
from flask import Blueprint, Flask, jsonify, render_template, request
from flask_babel import get_translations
from flask_babel import lazy_gettext as _l

from taboor.server import contract
from taboor.server.domain.errors import NotFound, TaboorError
from taboor.server.domain.numbering import business_day
from taboor.server.domain.tickets import FINAL_STATES, Priority, TicketState
from taboor.server.domain.times import iso
from taboor.server.errors import error_response
from taboor.server.runtime import runtime
from taboor.server.store import Tx, centers, tickets
from taboor.server.store import events as event_store
from taboor.server.store.tickets import TicketRow
from taboor.server.views import ticket_view

bp = Blueprint("citizen", __name__)

PUBLIC_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
MAX_NOTE = 200
MAX_SEQ = 2**63 - 1  # a reason is a short phrase; the page is no place for a novel


class Reason:
    """Why a ticket was called before one that joined the line earlier."""

    PRIORITY = "priority"
    TRANSFER = "transfer"
    CLERK = "clerk"


# --- the line, from the event log (pure) ----------------------------------------------


@dataclass(frozen=True)
class LineEvent:
    """One event of a ticket's life that moves it into, or out of, a service's line."""

    seq: int
    at: datetime
    type: str  # ticket.issued | ticket.called | ticket.transferred
    ticket_id: int
    label: str
    priority: str
    service: str | None  # issued: its service; transferred: the target; called: None
    out_of_order: bool = False
    reason: str | None = None


@dataclass
class _Stint:
    """A ticket's current stay in one service's line."""

    service: str | None
    joined_seq: int
    joined_at: datetime
    by_transfer: bool
    waiting: bool = True


@dataclass
class Progress:
    """How the line moved for one ticket since it joined its service's line."""

    joined_at: datetime | None = None
    joined_by: str = "issue"
    served_since: int = 0
    out_of_order: list[dict[str, object]] = field(default_factory=list)


def line_progress(events: Iterable[LineEvent], ticket_id: int, service: str) -> Progress:
    """Replay `events` (in seq order) and measure the line of `service` for `ticket_id`.

    The ticket's stint starts when it joined the line of `service` (its issue, or the
    transfer that brought it there) and ends with its first call after that. Within the
    stint, `served_since` counts the other tickets called from that line (a recall is
    not a new call). A called ticket is out of order *for this ticket* when it joined
    the line after it: a clerk's out-of-turn call (the reason the clerk gave), else a
    ticket transferred in (a transfer keeps the original issue time, its place), else
    a priority class's head start.
    """
    stints: dict[int, _Stint] = {}
    calls: list[tuple[LineEvent, _Stint]] = []
    for event in events:
        if event.type == "ticket.issued":
            stints[event.ticket_id] = _Stint(event.service, event.seq, event.at, False)
            continue
        stint = stints.get(event.ticket_id)
        if stint is None:
            continue  # its issue lies outside what was read: it never was in this line
        if event.type == "ticket.transferred":
            stints[event.ticket_id] = _Stint(event.service, event.seq, event.at, True)
        elif event.type == "ticket.called" and stint.waiting:
            stint.waiting = False  # a called ticket called again is a recall
            calls.append((event, stint))
    mine = stints.get(ticket_id)
    progress = Progress()
    if mine is None or mine.service != service:
        return progress
    progress.joined_at = mine.joined_at
    progress.joined_by = "transfer" if mine.by_transfer else "issue"
    for call, stint in calls:
        if call.seq <= mine.joined_seq or stint.service != service:
            continue
        if call.ticket_id == ticket_id:
            break  # this ticket's own call ends its wait: later calls are not "since"
        progress.served_since += 1
        if stint.joined_seq <= mine.joined_seq:
            continue  # it was in line before this ticket: its turn came first
        item: dict[str, object] = {"label": call.label, "at": iso(call.at)}
        if call.out_of_order:
            item["reason"] = Reason.CLERK
            if call.reason:
                item["note"] = call.reason.strip()[:MAX_NOTE]
        elif stint.by_transfer:
            item["reason"] = Reason.TRANSFER
        elif call.priority != Priority.NORMAL:
            item["reason"] = Reason.PRIORITY
        else:
            continue  # called by the rule ahead of this ticket: cannot happen, says nothing
        progress.out_of_order.append(item)
    return progress


# --- queries ----------------------------------------------------------------------------


def find_public(tx: Tx, public_id: str) -> TicketRow:
    """The ticket with this public id (the QR code), or NotFound."""
    ticket = None
    if PUBLIC_ID.fullmatch(public_id):
        ticket = tickets.ticket_by_public_id(tx, public_id)
    if ticket is None:
        raise NotFound("no such ticket", code="ticket_not_found")
    return ticket


def line_events(tx: Tx, ticket: TicketRow) -> list[LineEvent]:
    """The events that moved tickets into and out of this ticket's line since it joined."""
    since = event_store.joined_seq(tx, ticket.id) or 0
    until = event_store.called_seq(tx, ticket.id, since)
    rows = event_store.line_events(
        tx,
        ticket.center_id,
        ticket.day,
        ticket.service_id,
        since,
        MAX_SEQ if until is None else until,
    )
    events = []
    for row in rows:
        # Only transfers and calls with a reason carry data this needs: parse just those.
        service, out_of_order = None, False
        if row.type == "ticket.issued":
            service = row.issued_in
        elif row.type == "ticket.transferred":
            service = _data(row.data).get("to")
        elif row.reason is not None:
            out_of_order = _data(row.data).get("out_of_order") is True
        events.append(
            LineEvent(
                seq=row.seq,
                at=row.at,
                type=row.type,
                ticket_id=row.ticket_id,
                label=row.label,
                priority=row.priority,
                service=service,
                out_of_order=out_of_order,
                reason=row.reason,
            )
        )
    return events


def _data(raw: object) -> dict[str, Any]:
    return json.loads(raw) if isinstance(raw, str) else dict(raw or {})  # type: ignore[call-overload]


def progress(tx: Tx, public_id: str, now: datetime) -> dict[str, object]:
    """Everything the status page shows for a ticket, as one JSON object (one read)."""
    ticket = find_public(tx, public_id)
    service = centers.service_name(tx, ticket.service_id)
    center = centers.center_by_id(tx, ticket.center_id)
    assert service is not None and center is not None  # a ticket has both
    options = center.options or {}
    moved = line_progress(line_events(tx, ticket), ticket.id, service.code)
    today = business_day(now, center.timezone)
    return {
        "ticket": ticket_view(tx, ticket),
        "center": {
            "code": center.code,
            "name_ar": center.name_ar,
            "name_en": center.name_en,
            "timezone": center.timezone,
            "public_display": options.get("public_display") is True,
            "eastern_digits": options.get("eastern_digits") is True,
        },
        "service": {"code": service.code, "name_ar": service.name_ar, "name_en": service.name_en},
        # A ticket left waiting from an earlier business day is no longer in any line.
        "expired": ticket.state == TicketState.WAITING and ticket.day < today,
        "final": TicketState(ticket.state) in FINAL_STATES,
        "joined_at": iso(moved.joined_at),
        "joined_by": moved.joined_by,
        "served_since": moved.served_since,
        "out_of_order": moved.out_of_order,
        "seq": center.event_seq,
    }


# --- what the page says -------------------------------------------------------------------

# One sample count per CLDR plural category: the script picks the category with
# Intl.PluralRules and fills the count into the form the catalog gives for it.
PLURAL_SAMPLES = {"zero": 0, "one": 1, "two": 2, "few": 3, "many": 11, "other": 100}


def page_strings() -> dict[str, Any]:
    """The page's texts, used by the template and handed to the script (same source)."""
    texts: dict[str, Any] = {
        "state.waiting": _l("Waiting"),
        "state.called": _l("Your turn"),
        "state.serving": _l("Being served"),
        "state.done": _l("Served"),
        "state.no_show": _l("Missed"),
        "state.cancelled": _l("Cancelled"),
        "state.expired": _l("Expired"),
        "go_to": _l("Please go to counter"),
        "served_at": _l("You are being served at counter"),
        "recalled": _l("You are being called again"),
        "ahead": _l("People ahead of you"),
        "next": _l("You are next"),
        "wait": _l("Estimated wait"),
        "under_minute": _l("under a minute"),
        "final.done": _l("Your service is complete. Thank you for your visit."),
        "final.no_show": _l(
            "You were called but did not come to the counter. Please ask at reception."
        ),
        "final.cancelled": _l("This ticket was cancelled."),
        "final.expired": _l("This ticket was for an earlier day. Please take a new ticket."),
        "since.issue": _l("Called since you took your ticket"),
        "since.transfer": _l("Called since you were sent to this service"),
        "jumped": _l("Called before you out of turn"),
        "jumped.none": _l("Nobody was called before you out of turn."),
        "reason.priority": _l(
            "Priority: the elderly, people with disabilities and appointments get a head start"
        ),
        "reason.transfer": _l("Transferred from another service: it kept its place in line"),
        "reason.clerk": _l("Called out of turn by the clerk, who gave the reason:"),
        "updated": _l("Updated at %(time)s"),
        "self_updating": _l("This page updates itself; there is no need to reload it."),
        "alert.off": _l("Alert me with sound and vibration when I am called"),
        "alert.on": _l("Sound and vibration alert is on"),
        "title.called": _l("%(label)s: counter %(counter)s"),
    }
    catalog = get_translations()
    for category, sample in PLURAL_SAMPLES.items():
        # The raw form, placeholder kept: the template and the script fill it in.
        texts[f"minutes.{category}"] = catalog.ngettext("%(num)s minute", "%(num)s minutes", sample)
    return texts


def plural_category(n: int, lang: str) -> str:
    """The CLDR plural category of a whole number in `lang` (Babel's plural rules)."""
    return _locale(lang).plural_form(n)


@functools.cache
def _locale(lang: str) -> Locale:
    return Locale.parse(lang)


def wait_minutes(wait_s: int | None) -> int | None:
    """Whole minutes as the printed ticket rounds them."""
    return None if wait_s is None else round(wait_s / 60)


def local_time(value: str | None, timezone: str, *, seconds: bool = False) -> str:
    """An ISO UTC time as the center's local HH:MM (or HH:MM:SS)."""
    if not value:
        return ""
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment.astimezone(ZoneInfo(timezone)).strftime("%H:%M:%S" if seconds else "%H:%M")


# --- views --------------------------------------------------------------------------------


@bp.get("/t/<string:public_id>")
def status_page(public_id: str):
    """A ticket's live status page for the citizen's phone."""
    rt = runtime()
    now = rt.now()
    with rt.db.reading() as tx:
        view = progress(tx, public_id, now)
    texts = page_strings()
    center = view["center"]
    response = render_template(
        "citizen/status.html",
        view=view,
        state="expired" if view["expired"] else view["ticket"]["state"],  # type: ignore[index]
        texts=texts,
        page_js=texts,
        eastern_digits=center["eastern_digits"],  # type: ignore[index]
        minutes=wait_minutes(view["ticket"]["estimated_wait_s"]),  # type: ignore[index]
        plural_category=plural_category,
        local_time=local_time,
        updated=local_time(iso(now), center["timezone"], seconds=True),  # type: ignore[index]
    )
    return response, 200, _PRIVATE


@bp.get("/api/v1/tickets/<code:public_id>/progress")
@contract.documented({200: contract.TicketProgress}, errors=(404, 503))
def ticket_progress(public_id: str):
    """A ticket with its service and how its line moved (the status page's one request)."""
    rt = runtime()
    with rt.db.reading() as tx:
        body = progress(tx, public_id, rt.now())
    return jsonify(body), 200, _PRIVATE


# The public id is a capability: keep it out of caches and away from other sites.
_PRIVATE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


@bp.errorhandler(TaboorError)
def citizen_error(exc: TaboorError):
    """JSON under /api; elsewhere a page in the citizen's language."""
    if request.path.startswith("/api/"):
        return error_response(exc.status, **exc.to_dict())
    return render_template("citizen/missing.html", status=exc.status, code=exc.code), exc.status


def init_app(app: Flask) -> None:
    """Register the status page and its JSON route."""
    app.register_blueprint(bp)
