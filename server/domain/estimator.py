"""Estimated wait, the one rule the kiosk, the ticket, the status page and the API share.

As a citizen can be told it: "10 people are ahead of you; the 2 open counters for this
service have lately taken about 6 minutes per citizen, so about 30 minutes."

    wait = ahead / rate,   rate = capacity / handling time

- `ahead`: waiting tickets of the same service that the calling rule puts first.
- capacity: the open counters that serve the service, each counted for the part of its
  time the service gets (`counter_share`): the calling rule takes a counter's citizens
  in arrival order across its services, so its time splits as its queues do. (Counting
  shared counters whole made estimates short; a fixed 1/k per counter, long when the
  other services are quiet. Over 40 simulated days the queue split gave the lowest
  median error: 2.0 min against 2.2 for 1/k.)
- handling time: the mean call -> done time of the service's last `WINDOW` (10) done
  tickets of the business day. From the call, not the start, because a counter is busy
  from the moment it calls. The window counts completions, not minutes: it never empties
  in a quiet hour and follows a change within a few tickets in a busy one. Handling
  times shorter than the service's minimum plausible service time are dropped first
  (the statistics flag those too); no-shows do not enter it.
- Fewer than `MIN_SAMPLES` (3) such completions: the service's configured average
  service time is used instead (`basis` "configured").
- No open counter: computed as if one dedicated counter were open; a pessimistic number
  beats none. Zero ahead: 0, even when every counter is busy (the citizen is next).

The module also holds a seeded day simulator and `measure_estimator`, which replays a
simulated day and reports the estimator's error against the waits that happened.
"""

from __future__ import annotations

import heapq
import random
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from taboor.server.domain.calling import Candidate, pick_next

WINDOW = 10
MIN_SAMPLES = 3


class Basis(StrEnum):
    RECENT = "recent"
    CONFIGURED = "configured"


@dataclass(frozen=True)
class Estimate:
    """An estimated wait and what it was computed from."""

    wait_s: int
    basis: Basis
    ahead: int
    counters: int
    capacity: float
    handle_s: float
    samples: int

    @property
    def rate_per_min(self) -> float:
        """Citizens per minute the counters get through (one counter if none is open)."""
        return (self.capacity or 1.0) * 60 / self.handle_s

    def to_dict(self) -> dict[str, object]:
        """The machine-readable explanation shown next to the number."""
        return {
            "wait_s": self.wait_s,
            "basis": self.basis.value,
            "ahead": self.ahead,
            "counters": self.counters,
            "capacity": round(self.capacity, 3),
            "handle_s": round(self.handle_s, 1),
            "rate_per_min": round(self.rate_per_min, 3),
            "samples": self.samples,
        }


def counter_share(waiting_here: int, waiting_at_counter: int) -> float:
    """The part of an open counter's time that one of its services gets.

    The calling rule takes a counter's citizens in order of (effective) arrival across
    all the services it serves, so its time splits as its queues do: a service with 3
    of the counter's 6 waiting citizens gets half of it. Both counts include the
    citizen being estimated; a counter with nobody else waiting is wholly theirs.
    """
    here = max(waiting_here, 1)
    return here / max(waiting_at_counter, here)


def estimate_wait(
    ahead: int,
    open_counters: Sequence[float],
    recent_handle_s: Sequence[float],
    configured_s: float,
    *,
    min_plausible_s: float = 0.0,
    window: int = WINDOW,
    min_samples: int = MIN_SAMPLES,
) -> Estimate:
    """Seconds until a ticket with `ahead` people before it is called, and why.

    `open_counters` has one entry per open counter that serves the ticket's service: the
    part of its time the service gets (`counter_share`; 1 for a dedicated counter).
    `recent_handle_s` are the call -> done seconds of the service's done tickets of the
    business day, oldest first (passing only the newest `window` is enough).
    """
    if configured_s <= 0:
        raise ValueError("the configured service time must be positive")
    if any(not 0 < share <= 1 for share in open_counters):
        raise ValueError("a counter's share of time is in (0, 1]")
    ahead = max(ahead, 0)
    capacity = sum(open_counters)
    plausible = [s for s in recent_handle_s if s >= min_plausible_s and s > 0][-window:]
    if len(plausible) >= min_samples:
        basis, handle_s = Basis.RECENT, sum(plausible) / len(plausible)
    else:
        basis, handle_s = Basis.CONFIGURED, float(configured_s)
    wait = round(ahead * handle_s / (capacity or 1.0))
    return Estimate(wait, basis, ahead, len(open_counters), capacity, handle_s, len(plausible))


# --- the simulated day -----------------------------------------------------------------


@dataclass(frozen=True)
class SimService:
    """A service in the simulation: true demand and speed, and what the catalog says."""

    code: str
    arrivals_per_hour: float
    mean_service_s: float
    configured_s: float
    min_service_s: float = 60.0


@dataclass(frozen=True)
class SimCounter:
    """A counter: the services it calls (in order) and when it opens and stops calling."""

    name: str
    services: tuple[str, ...]
    opens_s: float = 0.0
    # None: it stays until the queue is empty after the center stops issuing.
    closes_s: float | None = None


@dataclass(frozen=True)
class SimParams:
    """A center-day: opening time, hours of issuing, services, counters and behaviour."""

    opens_at: datetime
    hours: float
    services: tuple[SimService, ...]
    counters: tuple[SimCounter, ...]
    # Arrival-rate multiplier for each hour after opening (the last one repeats).
    profile: tuple[float, ...] = (1.0,)
    no_show_ratio: float = 0.05
    no_show_after_s: float = 120.0
    walk_up_s: tuple[float, float] = (15.0, 60.0)
    # Gamma shape of service times: 2 gives the long right tail clerks know.
    service_shape: float = 2.0


# A mid-sized civil-affairs center: morning rush, one counter opening late and leaving
# early, shared counters, catalog averages a little off; opens 08:00 Damascus time. Loaded
# so that the median citizen waits about 10 minutes and the hall empties by mid-afternoon.
TYPICAL_DAY = SimParams(
    opens_at=datetime(2026, 3, 1, 5, 0, tzinfo=UTC),
    hours=6.0,
    services=(
        SimService("A", arrivals_per_hour=28, mean_service_s=240, configured_s=300),
        SimService("B", arrivals_per_hour=12, mean_service_s=480, configured_s=420),
        SimService("C", arrivals_per_hour=7, mean_service_s=600, configured_s=600),
    ),
    counters=(
        SimCounter("1", ("A",)),
        SimCounter("2", ("A", "B")),
        SimCounter("3", ("B",)),
        SimCounter("4", ("B", "C")),
        SimCounter("5", ("C", "A")),
        SimCounter("6", ("A",), opens_s=3600, closes_s=4 * 3600),
    ),
    profile=(1.4, 1.3, 1.0, 0.9, 0.8, 0.6),
)


class SimKind(StrEnum):
    ISSUED = "issued"
    CALLED = "called"
    STARTED = "started"
    DONE = "done"
    NO_SHOW = "no_show"
    COUNTER_OPENED = "counter_opened"
    COUNTER_CLOSED = "counter_closed"


@dataclass(frozen=True)
class SimEvent:
    at: datetime
    kind: SimKind
    ticket: int | None = None
    service: str | None = None
    counter: str | None = None


@dataclass(frozen=True)
class SimDay:
    """A simulated day: its parameters, seed and events in time order."""

    params: SimParams
    seed: int
    events: tuple[SimEvent, ...]


def _arrivals(params: SimParams, rng: random.Random) -> list[tuple[float, str]]:
    close_s = params.hours * 3600
    peak = max(params.profile)
    arrivals: list[tuple[float, str]] = []
    for service in params.services:
        if service.arrivals_per_hour <= 0:
            continue
        # Poisson arrivals with an hourly profile, by thinning a process at the peak rate.
        t = 0.0
        while True:
            t += rng.expovariate(service.arrivals_per_hour * peak / 3600)
            if t >= close_s:
                break
            factor = params.profile[min(int(t // 3600), len(params.profile) - 1)]
            if rng.random() < factor / peak:
                arrivals.append((t, service.code))
    arrivals.sort()
    return arrivals


def simulate_day(params: SimParams, seed: int) -> SimDay:
    """Arrivals, calls and completions of one center-day, the same for the same seed."""
    rng = random.Random(seed)
    means = {s.code: s.mean_service_s for s in params.services}
    counters = {c.name: c for c in params.counters}
    heap: list[tuple[float, int, SimKind, int | None, str | None]] = []
    seq = 0

    def push(t: float, kind: SimKind, ticket: int | None, counter: str | None) -> None:
        nonlocal seq
        seq += 1  # ties keep the order things were scheduled in
        heapq.heappush(heap, (t, seq, kind, ticket, counter))

    for c in params.counters:
        push(c.opens_s, SimKind.COUNTER_OPENED, None, c.name)
        if c.closes_s is not None:
            push(c.closes_s, SimKind.COUNTER_CLOSED, None, c.name)
    service_of: dict[int, str] = {}
    for number, (t, arrived_for) in enumerate(_arrivals(params, rng), start=1):
        service_of[number] = arrived_for
        push(t, SimKind.ISSUED, number, None)

    events: list[SimEvent] = []
    waiting: dict[int, Candidate] = {}
    is_open: dict[str, bool] = dict.fromkeys(counters, False)
    busy: dict[str, bool] = dict.fromkeys(counters, False)

    def at(t: float) -> datetime:
        return params.opens_at + timedelta(seconds=t)

    def call(name: str, t: float) -> None:
        if not is_open[name] or busy[name]:
            return
        chosen = pick_next(waiting.values(), counters[name].services)
        if chosen is None:
            return
        del waiting[chosen.id]
        busy[name] = True
        events.append(SimEvent(at(t), SimKind.CALLED, chosen.id, chosen.service, name))
        if rng.random() < params.no_show_ratio:
            push(t + params.no_show_after_s, SimKind.NO_SHOW, chosen.id, name)
            return
        start = t + rng.uniform(*params.walk_up_s)
        shape = params.service_shape
        push(start, SimKind.STARTED, chosen.id, name)
        push(start + rng.gammavariate(shape, means[chosen.service] / shape), SimKind.DONE,
             chosen.id, name)  # fmt: skip

    while heap:
        t, _, kind, ticket, name = heapq.heappop(heap)
        code = service_of.get(ticket) if ticket is not None else None
        events.append(SimEvent(at(t), kind, ticket, code, name))
        if kind is SimKind.ISSUED and ticket is not None and code is not None:
            waiting[ticket] = Candidate(ticket, code, at(t))
            for c in params.counters:
                if code in c.services:
                    call(c.name, t)
        elif kind is SimKind.COUNTER_OPENED and name is not None:
            is_open[name] = True
            call(name, t)
        elif kind is SimKind.COUNTER_CLOSED and name is not None:
            is_open[name] = False
        elif kind in (SimKind.DONE, SimKind.NO_SHOW) and name is not None:
            busy[name] = False
            call(name, t)
    return SimDay(params, seed, tuple(events))


@dataclass(frozen=True)
class EstimatorError:
    """How far the estimates given at issue were from the waits that followed."""

    tickets: int
    median_abs_error_min: float | None
    mean_error_min: float | None  # signed: positive means estimates were too long
    recent_share: float | None  # share of estimates that had recent data

    def to_dict(self) -> dict[str, object]:
        return {
            "tickets": self.tickets,
            "median_abs_error_min": self.median_abs_error_min,
            "mean_error_min": self.mean_error_min,
            "recent_share": self.recent_share,
        }


def measure_estimator(
    day: SimDay, *, window: int = WINDOW, min_samples: int = MIN_SAMPLES
) -> EstimatorError:
    """Replay a simulated day, estimate each ticket's wait at issue, compare with its call.

    The median is the ordinary one (mean of the two middle values for an even count).
    """
    params = day.params
    catalog = {s.code: s for s in params.services}
    serves = {c.name: set(c.services) for c in params.counters}
    waiting: dict[str, int] = dict.fromkeys(catalog, 0)
    handled: dict[str, list[float]] = {code: [] for code in catalog}
    open_now: set[str] = set()
    issued: dict[int, datetime] = {}
    called: dict[int, datetime] = {}
    predicted: dict[int, Estimate] = {}

    for ev in day.events:
        if ev.kind is SimKind.ISSUED and ev.ticket is not None and ev.service is not None:
            service = catalog[ev.service]
            counters = [
                counter_share(waiting[ev.service] + 1, sum(waiting[s] for s in serves[n]) + 1)
                for n in sorted(open_now)
                if ev.service in serves[n]
            ]
            predicted[ev.ticket] = estimate_wait(
                waiting[ev.service], counters, handled[ev.service], service.configured_s,
                min_plausible_s=service.min_service_s, window=window, min_samples=min_samples,
            )  # fmt: skip
            issued[ev.ticket] = ev.at
            waiting[ev.service] += 1
        elif ev.kind is SimKind.CALLED and ev.ticket is not None and ev.service is not None:
            waiting[ev.service] -= 1
            called[ev.ticket] = ev.at
        elif ev.kind is SimKind.DONE and ev.ticket is not None and ev.service is not None:
            handled[ev.service].append((ev.at - called[ev.ticket]).total_seconds())
        elif ev.kind is SimKind.COUNTER_OPENED and ev.counter is not None:
            open_now.add(ev.counter)
        elif ev.kind is SimKind.COUNTER_CLOSED and ev.counter is not None:
            open_now.discard(ev.counter)

    errors = [
        (predicted[t].wait_s - (called[t] - issued[t]).total_seconds()) / 60 for t in sorted(called)
    ]
    if not errors:
        return EstimatorError(0, None, None, None)
    recent = sum(1 for t in called if predicted[t].basis is Basis.RECENT)
    return EstimatorError(
        tickets=len(errors),
        median_abs_error_min=round(statistics.median(abs(e) for e in errors), 2),
        mean_error_min=round(statistics.fmean(errors), 2),
        recent_share=round(recent / len(errors), 4),
    )
