"""Counter use cases: open, pause or close a counter (one transaction, one event)."""

from __future__ import annotations

from datetime import datetime

from taboor.server.auth import (
    STAFF_AT_COUNTER,
    Principal,
    require_center,
    require_counter,
    require_role,
)
from taboor.server.db import Database
from taboor.server.domain.counters import counter_state, require_free_to_leave
from taboor.server.domain.numbering import business_day
from taboor.server.operations import Outcome, Published
from taboor.server.store import Tx, centers, counters, events, stats
from taboor.server.views import counter_view


def set_counter_state(
    db: Database, counter_id: int, state: str, *, actor: Principal, now: datetime
) -> Outcome:
    """Open, pause or close a counter."""
    new_state = counter_state(state)
    require_role(actor, *STAFF_AT_COUNTER)

    def work(tx: Tx) -> Outcome:
        counter = counters.find_counter(tx, counter_id, lock=True)
        require_center(actor, counter.center_id)
        require_counter(actor, counter.id)
        busy = counters.in_hand(tx, counter.id)
        require_free_to_leave(counter.number, new_state, None if busy is None else busy.label)
        counters.set_state(tx, counter.id, new_state.value)
        center_code = centers.center_code(tx, counter.center_id)
        seq = events.append_event(
            tx,
            counter.center_id,
            center_code,
            "counter.changed",
            actor=actor,
            now=now,
            counter_id=counter.id,
            data={"number": counter.number, "from": counter.state, "to": new_state.value},
        )
        # Counters' open and paused time is in the statistics from this day on.
        stats.forget_summaries(
            tx, counter.center_id, business_day(now, counter.timezone), onwards=True
        )
        view = counter_view(tx, counters.find_counter(tx, counter.id))
        payload = {"center": center_code, "seq": seq, "counter": view}
        return Outcome(view, [Published("counter.changed", payload)])

    return db.atomic(work)
