"""The calling rule: who is next at a counter.

Among the waiting tickets of the services a counter serves, the next one is the
ticket with the earliest *effective time*: its issue time minus the head start of
its priority class. Ties go to the lower ticket id (the earlier insert). The rule is
simple to explain to a citizen, honours priority classes, and cannot starve anyone:
a head start is bounded, so every ticket's effective time is eventually the earliest.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from taboor.server.domain.tickets import Priority


def effective_time(
    issued_at: datetime, priority: Priority | str, head_starts_s: Mapping[str, int]
) -> datetime:
    """Issue time minus the priority class's head start."""
    return issued_at - timedelta(seconds=head_starts_s.get(Priority(priority).value, 0))


@dataclass(frozen=True)
class Candidate:
    id: int
    service: str
    effective_at: datetime


def calling_key(candidate: Candidate) -> tuple[datetime, int]:
    """The calling order: earliest effective time first, then the lower id."""
    return (candidate.effective_at, candidate.id)


# The same order over the columns of `tickets`, for the data layer's statements
# (server/store/tickets.py); tests/integration/test_calling_order.py proves on random
# queues that the database calls in exactly the order of `pick_next`.
SQL_ORDER = "effective_at, id"


def pick_next(candidates: Iterable[Candidate], services: Iterable[str]) -> Candidate | None:
    """The candidate a counter serving `services` calls next, or None."""
    served = set(services)
    eligible = [c for c in candidates if c.service in served]
    return min(eligible, key=calling_key, default=None)
