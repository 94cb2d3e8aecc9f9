"""Read-only views of a center: services with their queues, counters, the snapshot."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from taboor.server.auth import (
    STAFF_AT_COUNTER,
    Principal,
    require_center,
    require_counter,
    require_role,
)
from taboor.server.domain.errors import NotFound
from taboor.server.domain.estimator import counter_share, estimate_wait
from taboor.server.domain.numbering import business_day
from taboor.server.domain.times import iso
from taboor.server.store import Tx, centers, counters, tickets
from taboor.server.store.centers import CenterRow
from taboor.server.store.counters import find_counter
from taboor.server.views import counter_view, ticket_view


def _center(tx: Tx, code: str) -> CenterRow:
    row = centers.center_by_code(tx, code)
    if row is None:
        raise NotFound(f"no center {code!r}", code="center_not_found")
    return row


def find_center(tx: Tx, code: str) -> dict[str, object]:
    return _center(tx, code).as_dict()


def center_view(center: dict[str, object]) -> dict[str, object]:
    return {k: v for k, v in center.items() if k not in ("id", "event_seq")}


def list_centers(tx: Tx) -> list[dict[str, object]]:
    return [center_view(row.as_dict()) for row in centers.all_centers(tx)]


def longest_waits(tx: Tx, code: str, now: datetime) -> dict[str, int]:
    """Per service code, seconds the oldest of today's waiting tickets has waited."""
    center = _center(tx, code)
    oldest = tickets.oldest_waiting(tx, center.id, business_day(now, center.timezone))
    return {service: max(0, int((now - at).total_seconds())) for service, at in oldest.items()}


def _waiting_by_service(tx: Tx, center: CenterRow, now: datetime) -> dict[int, int]:
    """Today's waiting tickets per service (earlier days' leftovers are not in line)."""
    return tickets.waiting_by_service(tx, center.id, business_day(now, center.timezone))


def _open_shares_by_service(
    tx: Tx, center_id: int, waiting: dict[int, int]
) -> dict[int, list[float]]:
    """For each service: the share of each open counter serving it a newcomer would get."""
    shares: dict[int, list[float]] = defaultdict(list)
    for services in counters.open_counter_services(tx, center_id).values():
        at_counter = sum(waiting.get(sid, 0) for sid in services) + 1
        for sid in services:
            shares[sid].append(counter_share(waiting.get(sid, 0) + 1, at_counter))
    return shares


def list_services(tx: Tx, code: str, now: datetime) -> list[dict[str, object]]:
    """The center's services with the queue in front of each and its estimated wait."""
    center = _center(tx, code)
    waiting = _waiting_by_service(tx, center, now)
    shares = _open_shares_by_service(tx, center.id, waiting)
    recent = tickets.recent_service_times(tx, center.id, business_day(now, center.timezone))
    result = []
    for service in centers.active_services(tx, center.id):
        estimate = estimate_wait(
            waiting.get(service.id, 0),
            shares.get(service.id, []),
            recent.get(service.id, []),
            service.avg_service_s,
            min_plausible_s=service.min_service_s,
        )
        result.append({
            "code": service.code, "prefix": service.prefix, "name_ar": service.name_ar,
            "name_en": service.name_en, "category": service.category,
            "category_ar": service.category_ar, "category_en": service.category_en,
            "sla_minutes": service.sla_minutes, "online": service.online,
            "documents_ar": service.documents_ar, "documents_en": service.documents_en,
            "waiting": estimate.ahead, "open_counters": estimate.counters,
            "estimated_wait_s": estimate.wait_s, "estimate": estimate.to_dict(),
        })  # fmt: skip
    return result


def list_counters(tx: Tx, code: str) -> list[dict[str, object]]:
    center = _center(tx, code)
    return [counter_view(tx, row) for row in counters.center_counters(tx, center.id)]


def snapshot(tx: Tx, code: str, now: datetime) -> dict[str, object]:
    """Everything a live page needs to redraw, as of the event `seq` (one read)."""
    center = _center(tx, code)
    codes = centers.service_codes(tx, center.id)
    waiting = _waiting_by_service(tx, center, now)
    now_serving = [
        {
            "ticket_id": row.ticket_id,
            "label": row.label,
            "state": row.state,
            "called_at": iso(row.called_at),
            "recall_count": row.recall_count,
            "counter_id": row.counter_id,
            "counter": row.counter,
            "service": row.service,
        }
        for row in tickets.now_serving(tx, center.id)
    ]
    return {
        "center": center.code,
        "seq": center.event_seq,
        "now_serving": now_serving,
        "waiting": {codes[sid]: count for sid, count in sorted(waiting.items())},
        "counters": list_counters(tx, code),
    }


def ticket_by_public_id(tx: Tx, public_id: str) -> dict[str, object]:
    ticket = tickets.ticket_by_public_id(tx, public_id)
    if ticket is None:
        raise NotFound("no such ticket", code="ticket_not_found")
    return ticket_view(tx, ticket)


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
    queue = []
    for order, row in enumerate(tickets.counter_queue(tx, counter.center_id, counter.id, day), 1):
        in_service[row.service] += 1
        queue.append({
            "id": row.id, "label": row.label, "service": row.service, "priority": row.priority,
            "issued_at": iso(row.issued_at), "position": in_service[row.service], "order": order,
        })  # fmt: skip
    return {
        "counter_id": counter.id,
        "counter": counter.number,
        "business_day": day.isoformat(),
        "tickets": queue,
    }
