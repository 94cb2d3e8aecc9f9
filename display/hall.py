"""What the hall display reads: the center, its last calls, and checks on a call to announce.

The snapshot (GET /api/v1/centers/<code>/snapshot) has the tickets being called or
served right now; a hall also shows the calls just before them (a citizen who looked
away a minute ago finds their number there). A recall counts as a new call: the list
is ordered by the event `seq` of each ticket's latest `ticket.called`.
"""

from __future__ import annotations

from datetime import date, datetime

from taboor.display.audio import parse_label
from taboor.server import queries
from taboor.server.domain.errors import InvalidInput, NotFound
from taboor.server.domain.numbering import business_day
from taboor.server.domain.numbering import label as ticket_label
from taboor.server.domain.times import iso
from taboor.server.store import Tx, centers, counters, events, tickets
from taboor.server.store.events import CallRow

CALLS_SHOWN = 5

# The usual case reads only the center's latest events (each ticket makes about four).
_RECENT_WINDOW = 400
_SHOWN_STATES = ("called", "serving", "done", "no_show")


def _latest_calls(tx: Tx, center_id: int, day: date, limit: int) -> list[CallRow]:
    """Each ticket's latest call, newest first: from the latest events, else the whole day."""
    seen: set[int] = set()
    found = []
    for row in events.latest_events_at_counters(tx, center_id, day, _RECENT_WINDOW):
        if row.type != "ticket.called" or row.ticket_id in seen:
            continue
        seen.add(row.ticket_id)  # newest first: the first call met is the ticket's latest
        if row.state in _SHOWN_STATES:
            found.append(row)
            if len(found) == limit:
                # Any later call of another ticket would be in the window too.
                return found
    return events.calls_today(tx, center_id, day, limit)


def recent_calls(tx: Tx, code: str, now: datetime, limit: int = CALLS_SHOWN) -> dict[str, object]:
    """Today's latest calls (recalls included), newest first, with the center's seq."""
    center = queries.find_center(tx, code)
    day = business_day(now, str(center["timezone"]))
    rows = _latest_calls(tx, center["id"], day, limit)  # type: ignore[arg-type]
    calls = [
        {
            "ticket_id": row.ticket_id,
            "label": row.label,
            "state": row.state,
            "counter": row.counter,
            "call_seq": row.seq,
            "called_at": iso(row.at),
        }
        for row in rows
    ]
    return {"center": code, "seq": center["event_seq"], "now": iso(now), "calls": calls}


def board(tx: Tx, code: str) -> dict[str, object]:
    """The center and the names of its services, for drawing the page."""
    center = queries.find_center(tx, code)
    center_id: int = center["id"]  # type: ignore[assignment]
    options = center.get("options") or {}
    return {
        "center": center,
        "services": [
            {"code": s.code, "prefix": s.prefix, "name_ar": s.name_ar, "name_en": s.name_en}
            for s in centers.service_names(tx, center_id)
        ],
        "counters": counters.numbers(tx, center_id),
        "public": isinstance(options, dict) and options.get("public_display") is True,
        "eastern_digits": isinstance(options, dict) and bool(options.get("eastern_digits")),
    }


def check_call(
    tx: Tx, code: str, label: object, counter: object, now: datetime
) -> tuple[str, int, int]:
    """A call this center made today: (prefix, number, counter), else a 400 or a 404.

    The announcement is generated on demand for anyone who asks, so only a ticket of
    today that was called to that counter is said: a loop over made-up labels must not
    keep the voice busy or push the real calls out of the cache.
    """
    center = queries.find_center(tx, code)
    center_id: int = center["id"]  # type: ignore[assignment]
    if not isinstance(label, str) or len(label) > 8:
        raise InvalidInput("label must look like A-042", field="label", code="bad_label")
    try:
        prefix, number = parse_label(label)
    except ValueError:
        raise InvalidInput("label must look like A-042", field="label", code="bad_label") from None
    if not centers.prefix_used(tx, center_id, prefix):
        raise InvalidInput(
            f"no service of {code} numbers its tickets {prefix}-", field="label", code="bad_label"
        )
    if not isinstance(counter, str) or not counter.isascii() or not counter.isdigit():
        raise InvalidInput("counter must be a counter number", field="counter", code="bad_counter")
    if len(counter) > 4 or not counters.number_used(tx, center_id, int(counter)):
        raise InvalidInput(f"{code} has no counter {counter}", field="counter", code="bad_counter")
    day = business_day(now, str(center["timezone"]))
    if not tickets.called_to_counter(
        tx, center_id, day, ticket_label(prefix, number), int(counter)
    ):
        raise NotFound(
            f"{code} has not called {ticket_label(prefix, number)} to counter {int(counter)} today",
            code="call_not_found",
        )
    return prefix, number, int(counter)
