"""What the hall display reads: the center, its last calls, and checks on a call to announce.

The snapshot (GET /api/v1/centers/<code>/snapshot) has the tickets being called or
served right now; a hall also shows the calls just before them (a citizen who looked
away a minute ago finds their number there). A recall counts as a new call: the list
is ordered by the event `seq` of each ticket's latest `ticket.called`.
"""

from __future__ import annotations

from datetime import datetime

from taboor.display.audio import parse_label
from taboor.server import queries
from taboor.server.domain.errors import InvalidInput, NotFound
from taboor.server.domain.numbering import business_day
from taboor.server.domain.numbering import label as ticket_label
from taboor.server.domain.times import iso
from taboor.server.store import Tx

CALLS_SHOWN = 5

_CALLS_TODAY = """
SELECT t.id, t.label, t.state, k.number, e.seq, e.at
FROM tickets t
JOIN counters k ON k.id = t.counter_id
JOIN events e ON e.center_id = t.center_id AND e.seq = (
    SELECT max(x.seq) FROM events x WHERE x.ticket_id = t.id AND x.type = 'ticket.called')
WHERE t.center_id = :id AND t.day = :day AND t.called_at IS NOT NULL
  AND t.state IN ('called', 'serving', 'done', 'no_show')
ORDER BY e.seq DESC
LIMIT :limit"""

# The usual case reads only the center's latest events (each ticket makes about four).
_RECENT_WINDOW = 400
_CALLS_IN_WINDOW = """
SELECT t.id, t.label, t.state, k.number, e.seq, e.at, e.type
FROM (SELECT seq, at, type, ticket_id FROM events WHERE center_id = :id
      ORDER BY seq DESC LIMIT :window) e
JOIN tickets t ON t.id = e.ticket_id
JOIN counters k ON k.id = t.counter_id
WHERE t.day = :day
ORDER BY e.seq DESC"""
_SHOWN_STATES = ("called", "serving", "done", "no_show")


def _latest_calls(tx: Tx, center_id: int, day: object, limit: int) -> list[tuple]:
    """Each ticket's latest call, newest first: from the latest events, else the whole day."""
    seen: set[int] = set()
    found = []
    for ticket_id, label, state, number, seq, at, kind in tx.all(
        _CALLS_IN_WINDOW, {"id": center_id, "window": _RECENT_WINDOW, "day": day}
    ):
        if kind != "ticket.called" or ticket_id in seen:
            continue
        seen.add(ticket_id)  # newest first: the first call met is the ticket's latest
        if state in _SHOWN_STATES:
            found.append((ticket_id, label, state, number, seq, at))
            if len(found) == limit:
                # Any later call of another ticket would be in the window too.
                return found
    return tx.all(_CALLS_TODAY, {"id": center_id, "day": day, "limit": limit})


def recent_calls(tx: Tx, code: str, now: datetime, limit: int = CALLS_SHOWN) -> dict[str, object]:
    """Today's latest calls (recalls included), newest first, with the center's seq."""
    center = queries.find_center(tx, code)
    day = business_day(now, str(center["timezone"]))
    rows = _latest_calls(tx, center["id"], tx.day(day), limit)  # type: ignore[arg-type]
    calls = [
        {
            "ticket_id": ticket_id,
            "label": label,
            "state": state,
            "counter": number,
            "call_seq": seq,
            "called_at": iso(tx.read_time(at)),
        }
        for ticket_id, label, state, number, seq, at in rows
    ]
    return {"center": code, "seq": center["event_seq"], "now": iso(now), "calls": calls}


def board(tx: Tx, code: str) -> dict[str, object]:
    """The center and the names of its services, for drawing the page."""
    center = queries.find_center(tx, code)
    services = tx.all(
        "SELECT code, prefix, name_ar, name_en FROM services WHERE center_id = :id ORDER BY id",
        {"id": center["id"]},
    )
    counters = tx.all(
        "SELECT number FROM counters WHERE center_id = :id ORDER BY number", {"id": center["id"]}
    )
    options = center.get("options") or {}
    return {
        "center": center,
        "services": [
            {"code": c, "prefix": p, "name_ar": ar, "name_en": en} for c, p, ar, en in services
        ],
        "counters": [number for (number,) in counters],
        "public": isinstance(options, dict) and options.get("public_display") is True,
        "eastern_digits": isinstance(options, dict) and bool(options.get("eastern_digits")),
    }


# One row at most: (center_id, day, label) is unique, and its index finds it.
_CALLED_AT_COUNTER = """
SELECT count(*) FROM tickets t JOIN counters k ON k.id = t.counter_id
WHERE t.center_id = :id AND t.day = :day AND t.label = :label
  AND t.called_at IS NOT NULL AND k.number = :counter"""


def check_call(
    tx: Tx, code: str, label: object, counter: object, now: datetime
) -> tuple[str, int, int]:
    """A call this center made today: (prefix, number, counter), else a 400 or a 404.

    The announcement is generated on demand for anyone who asks, so only a ticket of
    today that was called to that counter is said: a loop over made-up labels must not
    keep the voice busy or push the real calls out of the cache.
    """
    center = queries.find_center(tx, code)
    if not isinstance(label, str) or len(label) > 8:
        raise InvalidInput("label must look like A-042", field="label", code="bad_label")
    try:
        prefix, number = parse_label(label)
    except ValueError:
        raise InvalidInput("label must look like A-042", field="label", code="bad_label") from None
    known = tx.scalar(
        "SELECT count(*) FROM services WHERE center_id = :id AND prefix = :prefix",
        {"id": center["id"], "prefix": prefix},
    )
    if not known:
        raise InvalidInput(
            f"no service of {code} numbers its tickets {prefix}-", field="label", code="bad_label"
        )
    if not isinstance(counter, str) or not counter.isascii() or not counter.isdigit():
        raise InvalidInput("counter must be a counter number", field="counter", code="bad_counter")
    if len(counter) > 4 or not tx.scalar(
        "SELECT count(*) FROM counters WHERE center_id = :id AND number = :number",
        {"id": center["id"], "number": int(counter)},
    ):
        raise InvalidInput(f"{code} has no counter {counter}", field="counter", code="bad_counter")
    day = business_day(now, str(center["timezone"]))
    params = {
        "id": center["id"],
        "day": tx.day(day),
        "label": ticket_label(prefix, number),
        "counter": int(counter),
    }
    if not tx.scalar(_CALLED_AT_COUNTER, params):
        raise NotFound(
            f"{code} has not called {ticket_label(prefix, number)} to counter {int(counter)} today",
            code="call_not_found",
        )
    return prefix, number, int(counter)
