"""Read-only views of a center: services with their queues, counters, the snapshot."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import date, datetime

from taboor.server.auth import (
    STAFF_AT_COUNTER,
    Principal,
    require_center,
    require_counter,
    require_role,
)
from taboor.server.domain.errors import NotFound
from taboor.server.domain.estimator import WINDOW, counter_share, estimate_wait
from taboor.server.domain.numbering import business_day
from taboor.server.domain.times import iso
from taboor.server.store import Tx
from taboor.server.store.counters import CounterRow, find_counter
from taboor.server.store.tickets import counter_queue as queued_at_counter
from taboor.server.store.tickets import find_ticket, recent_service_s
from taboor.server.views import counter_view, ticket_view

_CENTER_COLUMNS = (
    "id", "code", "name_ar", "name_en", "governorate_ar", "governorate_en", "timezone",
    "hours", "options", "event_seq",
)  # fmt: skip
_CENTERS = f"SELECT {', '.join(_CENTER_COLUMNS)} FROM centers"


def _center_dict(row: tuple) -> dict[str, object]:
    center = dict(zip(_CENTER_COLUMNS, row, strict=True))
    for key in ("hours", "options"):
        if isinstance(center[key], str):
            center[key] = json.loads(center[key])
    return center


def find_center(tx: Tx, code: str) -> dict[str, object]:
    row = tx.one(_CENTERS + " WHERE code = :code", {"code": code})
    if row is None:
        raise NotFound(f"no center {code!r}", code="center_not_found")
    return _center_dict(row)


def center_view(center: dict[str, object]) -> dict[str, object]:
    return {k: v for k, v in center.items() if k not in ("id", "event_seq")}


def list_centers(tx: Tx) -> list[dict[str, object]]:
    return [center_view(_center_dict(row)) for row in tx.all(_CENTERS + " ORDER BY code")]


def longest_waits(tx: Tx, code: str, now: datetime) -> dict[str, int]:
    """Per service code, seconds the oldest of today's waiting tickets has waited."""
    center = find_center(tx, code)
    day = business_day(now, str(center["timezone"]))
    rows = tx.all(
        "SELECT s.code, min(t.issued_at) FROM tickets t JOIN services s ON s.id = t.service_id "
        "WHERE t.center_id = :id AND t.state = 'waiting' AND t.day = :day GROUP BY s.code",
        {"id": center["id"], "day": tx.day(day)},
    )
    return {
        service: max(0, int((now - tx.read_time(oldest)).total_seconds()))
        for service, oldest in rows
    }


def _waiting_by_service(tx: Tx, center: dict[str, object], now: datetime) -> dict[int, int]:
    """Today's waiting tickets per service (earlier days' leftovers are not in line)."""
    day = business_day(now, str(center["timezone"]))
    return dict(tx.all(
        "SELECT service_id, count(*) FROM tickets WHERE center_id = :id AND state = 'waiting' "
        "AND day = :day GROUP BY service_id", {"id": center["id"], "day": tx.day(day)},
    ))  # fmt: skip


def _open_shares_by_service(
    tx: Tx, center_id: int, waiting: dict[int, int]
) -> dict[int, list[float]]:
    """For each service: the share of each open counter serving it a newcomer would get."""
    served: dict[int, list[int]] = defaultdict(list)
    for counter_id, service_id in tx.all(
        "SELECT cs.counter_id, cs.service_id FROM counter_services cs "
        "JOIN counters k ON k.id = cs.counter_id WHERE k.center_id = :id AND k.state = 'open'",
        {"id": center_id},
    ):
        served[counter_id].append(service_id)
    shares: dict[int, list[float]] = defaultdict(list)
    for services in served.values():
        at_counter = sum(waiting.get(sid, 0) for sid in services) + 1
        for sid in services:
            shares[sid].append(counter_share(waiting.get(sid, 0) + 1, at_counter))
    return shares


_RECENT_DONE_BY_SERVICE = f"""
SELECT service_id, called_at, finished_at FROM (
  SELECT service_id, called_at, finished_at,
    row_number() OVER (PARTITION BY service_id ORDER BY finished_at DESC) AS newest
  FROM tickets
  WHERE center_id = :id AND day = :day AND state = 'done' AND called_at IS NOT NULL
) recent WHERE newest <= {WINDOW}"""


def _recent_by_service(tx: Tx, center_id: int, day: date) -> dict[int, list[tuple]]:
    """Each service's latest completions of the day, newest first."""
    recent: dict[int, list[tuple]] = defaultdict(list)
    for service_id, called, finished in tx.all(
        _RECENT_DONE_BY_SERVICE, {"id": center_id, "day": tx.day(day)}
    ):
        recent[service_id].append((called, finished))
    for rows in recent.values():
        rows.sort(key=lambda row: tx.read_time(row[1]), reverse=True)
    return recent


_SERVICES = """
SELECT s.id, s.code, s.prefix, s.name_ar, s.name_en, g.code, g.name_ar, g.name_en,
    s.sla_minutes, s.online, s.documents_ar, s.documents_en, s.avg_service_s, s.min_service_s
FROM services s JOIN categories g ON g.id = s.category_id
WHERE s.center_id = :id AND s.active = :yes
ORDER BY g.id, s.id"""


def list_services(tx: Tx, code: str, now: datetime) -> list[dict[str, object]]:
    """The center's services with the queue in front of each and its estimated wait."""
    center = find_center(tx, code)
    waiting = _waiting_by_service(tx, center, now)
    shares = _open_shares_by_service(tx, center["id"], waiting)  # type: ignore[arg-type]
    day = business_day(now, center["timezone"])  # type: ignore[arg-type]
    recent = _recent_by_service(tx, center["id"], day)  # type: ignore[arg-type]
    result = []
    for row in tx.all(_SERVICES, {"id": center["id"], "yes": True}):
        sid, docs_ar, docs_en = row[0], row[10], row[11]
        estimate = estimate_wait(
            waiting.get(sid, 0),
            shares.get(sid, []),
            recent_service_s(tx, recent.get(sid, [])),
            row[12],
            min_plausible_s=row[13],
        )
        result.append({
            "code": row[1], "prefix": row[2], "name_ar": row[3], "name_en": row[4],
            "category": row[5], "category_ar": row[6], "category_en": row[7],
            "sla_minutes": row[8], "online": bool(row[9]),
            "documents_ar": json.loads(docs_ar) if isinstance(docs_ar, str) else docs_ar,
            "documents_en": json.loads(docs_en) if isinstance(docs_en, str) else docs_en,
            "waiting": estimate.ahead, "open_counters": estimate.counters,
            "estimated_wait_s": estimate.wait_s, "estimate": estimate.to_dict(),
        })  # fmt: skip
    return result


def list_counters(tx: Tx, code: str) -> list[dict[str, object]]:
    center = find_center(tx, code)
    rows = tx.all(
        "SELECT id, center_id, number, state FROM counters WHERE center_id = :id ORDER BY number",
        {"id": center["id"]},
    )
    return [counter_view(tx, CounterRow(*row)) for row in rows]


_NOW_SERVING = """
SELECT t.id, t.label, t.state, t.called_at, t.recall_count, k.id, k.number, s.code
FROM tickets t JOIN counters k ON k.id = t.counter_id JOIN services s ON s.id = t.service_id
WHERE t.center_id = :id AND t.state IN ('called', 'serving')
ORDER BY t.called_at DESC"""


def snapshot(tx: Tx, code: str, now: datetime) -> dict[str, object]:
    """Everything a live page needs to redraw, as of the event `seq` (one read)."""
    center = find_center(tx, code)
    codes = dict(tx.all("SELECT id, code FROM services WHERE center_id = :id",
                        {"id": center["id"]}))  # fmt: skip
    waiting = _waiting_by_service(tx, center, now)
    keys = ("ticket_id", "label", "state", "called_at", "recall_count", "counter_id",
            "counter", "service")  # fmt: skip
    now_serving = []
    for row in tx.all(_NOW_SERVING, {"id": center["id"]}):
        item = dict(zip(keys, row, strict=True))
        item["called_at"] = iso(tx.read_time(item["called_at"]))
        now_serving.append(item)
    return {
        "center": center["code"],
        "seq": center["event_seq"],
        "now_serving": now_serving,
        "waiting": {codes[sid]: count for sid, count in sorted(waiting.items())},
        "counters": list_counters(tx, code),
    }


def ticket_by_public_id(tx: Tx, public_id: str) -> dict[str, object]:
    ticket_id = tx.scalar("SELECT id FROM tickets WHERE public_id = :p", {"p": public_id})
    if ticket_id is None:
        raise NotFound("no such ticket", code="ticket_not_found")
    return ticket_view(tx, find_ticket(tx, ticket_id))


def counter_queue(tx: Tx, counter_id: int, *, actor: Principal, now: datetime) -> dict[str, object]:
    """Today's waiting tickets for the services a counter serves, in calling order.

    `order` is the place in this counter's calling order; `position` is the place in
    the ticket's own service, as the citizen's status page shows it.
    """
    require_role(actor, *STAFF_AT_COUNTER)
    counter = find_counter(tx, counter_id)
    require_center(actor, counter.center_id)
    require_counter(actor, counter.id)
    day = business_day(now, counter.timezone)
    in_service: dict[str, int] = defaultdict(int)
    tickets = []
    for order, row in enumerate(queued_at_counter(tx, counter.center_id, counter.id, day), 1):
        in_service[row["service"]] += 1
        tickets.append({
            "id": row["id"], "label": row["label"], "service": row["service"],
            "priority": row["priority"], "issued_at": iso(tx.read_time(row["issued_at"])),
            "position": in_service[row["service"]], "order": order,
        })  # fmt: skip
    return {
        "counter_id": counter.id,
        "counter": counter.number,
        "business_day": day.isoformat(),
        "tickets": tickets,
    }
