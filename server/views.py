"""Tickets and counters as the public contract (DESIGN.md section 4) describes them.

Use cases answer with these and put them in their live events; read views and pages
show the same shapes. A waiting ticket carries its place and the wait estimate.
"""

from __future__ import annotations

from taboor.server.domain.estimator import Estimate, counter_share, estimate_wait
from taboor.server.domain.tickets import TicketState
from taboor.server.domain.times import iso
from taboor.server.store import Tx, counters, tickets
from taboor.server.store.counters import CounterRow
from taboor.server.store.tickets import TicketRow


def ticket_view(tx: Tx, ticket: TicketRow) -> dict[str, object]:
    """A ticket as the public contract describes it."""
    ahead: int | None = None
    estimate: Estimate | None = None
    if ticket.state == TicketState.WAITING:
        queueing = tickets.queueing(tx, ticket)
        ahead = queueing.ahead
        estimate = estimate_wait(
            ahead,
            [counter_share(queueing.waiting, queued) for queued in queueing.counter_queues],
            queueing.recent_s,
            ticket.avg_service_s,
            min_plausible_s=ticket.min_service_s,
        )
    return {
        "id": ticket.id,
        "public_id": ticket.public_id,
        "label": ticket.label,
        "number": ticket.number,
        "service": ticket.service_code,
        "center": ticket.center_code,
        "state": ticket.state,
        "priority": ticket.priority,
        "position": None if ahead is None else ahead + 1,
        "ahead": ahead,
        "estimated_wait_s": None if estimate is None else estimate.wait_s,
        "estimate": None if estimate is None else estimate.to_dict(),
        "counter": ticket.counter_number,
        "counter_id": ticket.counter_id,
        "issued_at": iso(ticket.issued_at),
        "called_at": iso(ticket.called_at),
        "started_at": iso(ticket.started_at),
        "finished_at": iso(ticket.finished_at),
        "recall_count": ticket.recall_count,
        "out_of_order": ticket.out_of_order,
        "business_day": ticket.day.isoformat(),
    }


def counter_view(tx: Tx, counter: CounterRow) -> dict[str, object]:
    """A counter with its services and current ticket."""
    current = counters.in_hand(tx, counter.id)
    return {
        "id": counter.id,
        "number": counter.number,
        "state": counter.state,
        "services": counters.service_codes(tx, counter.id),
        "ticket": None if current is None else current.label,
        "ticket_id": None if current is None else current.id,
    }
