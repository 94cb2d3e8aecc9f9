"""The database calls in the domain's order: on random queues, `call_next` (SQL) and the
counter's queue list take tickets exactly in the order of `domain.calling.pick_next`.

The same check runs on PostgreSQL from tests/postgres/test_postgres.py.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from taboor.server import queries
from taboor.server.auth import SYSTEM
from taboor.server.domain.calling import Candidate, effective_time, pick_next
from taboor.server.domain.tickets import Action
from taboor.server.models import Counter, CounterService, Service
from taboor.server.operations import counters as counter_ops
from taboor.server.operations import tickets as ops

CENTER = "DAM-MIDAN"
PRIORITIES = ("normal", "normal", "normal", "elderly", "disabled")


@dataclass(frozen=True)
class Issued:
    id: int
    service: str
    issued_at: datetime
    priority: str


def _counter_and_services(rt) -> tuple[int, list[str], list[str]]:
    """Counter 1, the services it serves, and some it does not serve."""
    with rt.db.read() as session:
        counter = session.scalar(
            select(Counter).where(Counter.number == 1, Counter.center.has(code=CENTER))
        )
        served = list(session.scalars(
            select(Service.code).join(CounterService, CounterService.service_id == Service.id)
            .where(CounterService.counter_id == counter.id)
        ))  # fmt: skip
        others = list(session.scalars(
            select(Service.code).where(Service.center.has(code=CENTER), Service.code.not_in(served))
        ))  # fmt: skip
        return counter.id, served, others[:2]


def play_random_queue(rt, clock, seed: int) -> tuple[list[int], list[int], list[int]]:
    """Issue a random queue, then call it empty; answer (SQL's calls, the queue list's
    order before the first call, pick_next's order)."""
    rng = random.Random(seed)
    counter_id, served, others = _counter_and_services(rt)
    head_starts = rt.settings.head_starts_s()

    def issue(service: str, priority: str) -> Issued:
        body = ops.issue(rt.db, CENTER, service, actor=SYSTEM, now=clock.now,
                         head_starts_s=head_starts, priority=priority).body
        return Issued(body["id"], service, clock.now, priority)  # fmt: skip

    # Yesterday's leftovers are never called today.
    start = clock.now
    clock.now = start - timedelta(days=1)
    for _ in range(rng.randint(0, 3)):
        issue(rng.choice(served), "normal")
    clock.now = start

    issued: list[Issued] = []
    for _ in range(rng.randint(5, 40)):
        # Many tickets share a second (ties go to the lower id); head starts reorder.
        clock.advance(seconds=rng.choice((0, 0, 1, 7, 60, 400)))
        issued.append(issue(rng.choice(served + others), rng.choice(PRIORITIES)))
    cancelled = {t.id for t in issued if rng.random() < 0.15}
    for ticket_id in cancelled:
        ops.act(rt.db, ticket_id, Action.CANCEL, actor=SYSTEM, now=clock.now)

    waiting = [
        Candidate(t.id, t.service, effective_time(t.issued_at, t.priority, head_starts))
        for t in issued
        if t.id not in cancelled
    ]
    expected = []
    while (chosen := pick_next(waiting, served)) is not None:
        expected.append(chosen.id)
        waiting.remove(chosen)

    counter_ops.set_counter_state(rt.db, counter_id, "open", actor=SYSTEM, now=clock.now)
    listed = [
        t["id"]
        for t in _read(rt, lambda tx: queries.counter_queue(
            tx, counter_id, actor=SYSTEM, now=clock.now))["tickets"]
    ]  # fmt: skip
    called = []
    while True:
        body = ops.call_next(rt.db, counter_id, actor=SYSTEM, now=clock.now).body
        if body is None:
            break
        called.append(body["id"])
        ops.act(rt.db, body["id"], Action.START, actor=SYSTEM, now=clock.now)
        ops.act(rt.db, body["id"], Action.FINISH, actor=SYSTEM, now=clock.now)
    return called, listed, expected


def _read(rt, work):
    with rt.db.reading() as tx:
        return work(tx)


@pytest.mark.parametrize("seed", range(12))
def test_the_database_calls_in_the_order_of_pick_next(rt, clock, seed):
    called, listed, expected = play_random_queue(rt, clock, seed)
    assert called == expected
    assert listed == expected
