"""The live floor as a manager sees it, and the SLA alert rule (pure: no Flask, no SQL).

A service's *longest current wait* is how long its oldest waiting ticket of today has
waited since it was issued (a transferred ticket keeps its issue time, as it keeps its
place). The alert rule: a service is over its target when that wait is longer than the
service's SLA target (`sla_minutes` in the catalog), the same "within T" boundary the
statistics use (a wait of exactly T is still within).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from taboor.server.store.devices import DeviceRow


@dataclass(frozen=True)
class Queue:
    """One service's line right now."""

    code: str
    name_ar: str
    name_en: str
    sla_minutes: int
    waiting: int
    oldest_issued_at: datetime | None = None
    estimated_wait_s: float | None = None

    def name(self, lang: str) -> str:
        return self.name_ar if lang == "ar" else self.name_en

    def longest_wait_s(self, now: datetime) -> float | None:
        """Seconds the oldest waiting ticket has waited; None when nobody waits."""
        if self.oldest_issued_at is None or not self.waiting:
            return None
        return max(0.0, (now - self.oldest_issued_at).total_seconds())

    @property
    def breach_at(self) -> datetime | None:
        """When the oldest waiting ticket passes the target (None when nobody waits)."""
        if self.oldest_issued_at is None or not self.waiting:
            return None
        return self.oldest_issued_at + timedelta(minutes=self.sla_minutes)


def over_target(queue: Queue, now: datetime) -> bool:
    """Whether the service's longest current wait is past its SLA target."""
    wait = queue.longest_wait_s(now)
    return wait is not None and wait > queue.sla_minutes * 60


def sla_alerts(queues: Iterable[Queue], now: datetime) -> list[Queue]:
    """The services over their target, the longest overrun first."""
    late = [q for q in queues if over_target(q, now)]
    return sorted(late, key=lambda q: (q.breach_at, q.code))  # type: ignore[arg-type, return-value]


@dataclass(frozen=True)
class CounterAtWork:
    """A counter and the ticket it is calling or serving."""

    number: int
    state: str
    label: str | None = None
    ticket_state: str | None = None
    service: str | None = None
    clerk: str | None = None
    since: datetime | None = None  # when the current ticket was called


@dataclass(frozen=True)
class Board:
    """Everything the live part of the dashboard shows, as of `now` and event `seq`."""

    now: datetime
    seq: int
    queues: list[Queue]
    desks: list[CounterAtWork]
    devices: list[DeviceRow]
    today: dict[str, object] = field(default_factory=dict)  # today's center_report

    @property
    def alerts(self) -> list[Queue]:
        return sla_alerts(self.queues, self.now)

    @property
    def waiting(self) -> int:
        return sum(q.waiting for q in self.queues)

    @property
    def lines(self) -> list[Queue]:
        """Services with someone waiting, the longest wait first."""
        busy = [q for q in self.queues if q.waiting]
        return sorted(busy, key=lambda q: (q.oldest_issued_at or self.now, q.code))

    @property
    def open_desks(self) -> int:
        return sum(1 for d in self.desks if d.state == "open")

    @property
    def next_breach(self) -> datetime | None:
        """The next moment a service not yet over target will pass it (for a refresh)."""
        upcoming = [q.breach_at for q in self.queues
                    if q.breach_at is not None and q.breach_at >= self.now]  # fmt: skip
        return min(upcoming, default=None)
