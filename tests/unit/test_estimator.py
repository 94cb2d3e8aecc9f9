"""The estimated-wait rule, and its error measured on a seeded simulated day."""

import dataclasses
import math
from collections import Counter, defaultdict

import pytest

from taboor.server.domain.estimator import (
    MIN_SAMPLES,
    TYPICAL_DAY,
    WINDOW,
    Basis,
    SimKind,
    counter_share,
    estimate_wait,
    measure_estimator,
    simulate_day,
)
from taboor.server.domain.stats import Scope, TicketFacts, build_report
from taboor.server.domain.tickets import TicketState

DEDICATED = [1]  # one open counter that serves only this service


def test_without_completions_the_configured_average_is_used():
    est = estimate_wait(4, [1, 1], [], configured_s=300)
    assert (est.wait_s, est.basis, est.handle_s, est.samples) == (600, Basis.CONFIGURED, 300, 0)


def test_too_few_completions_fall_back_to_the_configured_average():
    est = estimate_wait(4, [1, 1], [100.0] * (MIN_SAMPLES - 1), configured_s=300)
    assert est.basis is Basis.CONFIGURED
    assert est.wait_s == 600


def test_enough_recent_completions_set_the_rate():
    est = estimate_wait(4, [1, 1], [200.0, 400.0, 300.0], configured_s=900)
    assert (est.wait_s, est.basis, est.handle_s, est.samples) == (600, Basis.RECENT, 300, 3)
    assert est.rate_per_min == 0.4  # two counters, 5 minutes each


def test_only_the_last_window_of_completions_counts():
    old, recent = [1000.0] * 20, [120.0] * WINDOW
    est = estimate_wait(10, DEDICATED, old + recent, configured_s=300)
    assert (est.handle_s, est.samples, est.wait_s) == (120, WINDOW, 1200)


def test_implausibly_short_completions_are_left_out_of_the_rate():
    est = estimate_wait(2, DEDICATED, [5.0, 300.0, 5.0, 300.0, 300.0], 600, min_plausible_s=60)
    assert (est.handle_s, est.samples, est.wait_s) == (300, 3, 600)


@pytest.mark.parametrize("handles", [[], [240.0] * 5])
def test_more_open_counters_give_a_shorter_wait(handles):
    waits = [estimate_wait(12, [1] * n, handles, 300).wait_s for n in range(1, 6)]
    assert waits == sorted(waits, reverse=True)
    assert len(set(waits)) == len(waits)


def test_a_shared_counter_counts_as_its_share_of_time():
    # Two dedicated counters and one whose time this service gets a third of: 2 + 1/3.
    est = estimate_wait(7, [1, 1, 1 / 3], [], configured_s=300)
    assert (est.counters, est.capacity, est.wait_s) == (3, pytest.approx(7 / 3), 900)


@pytest.mark.parametrize(
    ("here", "at_counter", "share"),
    [
        (3, 6, 0.5),  # half of the counter's waiting citizens are for this service
        (1, 1, 1.0),  # nobody else waits at that counter: all of its time
        (1, 4, 0.25),
        (0, 0, 1.0),  # the citizen being estimated is always counted
        (5, 2, 1.0),  # inconsistent counts never give more than the whole counter
    ],
)
def test_a_counter_splits_its_time_as_its_queues_do(here, at_counter, share):
    assert counter_share(here, at_counter) == pytest.approx(share)


@pytest.mark.parametrize("counters", [[], [1], [1, 1, 0.5]])
def test_nobody_ahead_means_no_wait(counters):
    assert estimate_wait(0, counters, [300.0] * 5, 300).wait_s == 0


def test_no_open_counter_is_estimated_as_one():
    est = estimate_wait(3, [], [], configured_s=300)
    assert (est.wait_s, est.counters, est.rate_per_min) == (900, 0, 0.2)


def test_the_explanation_is_machine_readable():
    assert estimate_wait(4, [1, 0.5], [200.0, 400.0, 300.0], 900).to_dict() == {
        "wait_s": 800,
        "basis": "recent",
        "ahead": 4,
        "counters": 2,
        "capacity": 1.5,
        "handle_s": 300.0,
        "rate_per_min": 0.3,
        "samples": 3,
    }


def test_bad_configuration_is_refused():
    with pytest.raises(ValueError):
        estimate_wait(1, [1], [], configured_s=0)
    with pytest.raises(ValueError):
        estimate_wait(1, [0], [], configured_s=300)
    with pytest.raises(ValueError):
        estimate_wait(1, [2], [], configured_s=300)


# --- the simulated day ------------------------------------------------------------------

SEED = 2026


def test_the_simulation_is_deterministic_for_a_seed():
    assert simulate_day(TYPICAL_DAY, SEED) == simulate_day(TYPICAL_DAY, SEED)
    assert simulate_day(TYPICAL_DAY, SEED) != simulate_day(TYPICAL_DAY, SEED + 1)


def test_the_simulated_day_is_a_possible_day():
    day = simulate_day(TYPICAL_DAY, SEED)
    times = [e.at for e in day.events]
    assert times == sorted(times)
    steps = defaultdict(list)
    for e in day.events:
        if e.ticket is not None:
            steps[e.ticket].append(e.kind)
    # Every ticket issued is called once, then either started and done or a no-show.
    assert {tuple(s) for s in steps.values()} <= {
        (SimKind.ISSUED, SimKind.CALLED, SimKind.STARTED, SimKind.DONE),
        (SimKind.ISSUED, SimKind.CALLED, SimKind.NO_SHOW),
    }
    # A counter handles one citizen at a time and calls only for its services.
    serves = {c.name: c.services for c in TYPICAL_DAY.counters}
    handling: dict[str, int | None] = dict.fromkeys(serves)
    for e in day.events:
        if e.kind is SimKind.CALLED:
            assert handling[e.counter] is None and e.service in serves[e.counter]
            handling[e.counter] = e.ticket
        elif e.kind in (SimKind.DONE, SimKind.NO_SHOW):
            assert handling[e.counter] == e.ticket
            handling[e.counter] = None


def test_the_simulated_day_feeds_the_statistics():
    day = simulate_day(TYPICAL_DAY, SEED)
    facts: dict[int, dict] = {}
    for e in day.events:
        if e.kind is SimKind.ISSUED:
            facts[e.ticket] = {"service": e.service, "issued_at": e.at,
                               "state": TicketState.WAITING}  # fmt: skip
        elif e.kind is SimKind.CALLED:
            facts[e.ticket] |= {"first_called_at": e.at, "counter": e.counter}
        elif e.kind is SimKind.STARTED:
            facts[e.ticket]["started_at"] = e.at
        elif e.kind in (SimKind.DONE, SimKind.NO_SHOW):
            state = TicketState.DONE if e.kind is SimKind.DONE else TicketState.NO_SHOW
            facts[e.ticket] |= {"finished_at": e.at, "state": state}
    tickets = [TicketFacts(tid, **f) for tid, f in facts.items()]
    sla = {s.code: 20 for s in TYPICAL_DAY.services}
    report = build_report(tickets, [], sla, Scope("Asia/Damascus"))
    kinds = Counter(e.kind for e in day.events)
    assert report.totals.issued == kinds[SimKind.ISSUED]
    assert report.totals.served == kinds[SimKind.DONE]
    assert report.totals.no_show == kinds[SimKind.NO_SHOW]
    assert report.totals.wait_s.count == report.totals.issued
    assert list(report.by_day) == [TYPICAL_DAY.opens_at.date()]  # 08:00 local onwards


def test_estimator_error_on_a_simulated_day_is_finite_and_deterministic():
    first = measure_estimator(simulate_day(TYPICAL_DAY, SEED))
    again = measure_estimator(simulate_day(TYPICAL_DAY, SEED))
    assert first == again
    assert first.tickets > 0
    assert math.isfinite(first.median_abs_error_min)
    configured_only = measure_estimator(simulate_day(TYPICAL_DAY, SEED), min_samples=10**9)
    print(
        f"\nestimator on TYPICAL_DAY seed={SEED}: {first.tickets} tickets, median absolute "
        f"error {first.median_abs_error_min} min, mean error {first.mean_error_min} min, "
        f"recent basis {first.recent_share:.0%}; configured averages only: "
        f"{configured_only.median_abs_error_min} min"
    )


def test_a_day_without_citizens_has_no_error_figure():
    quiet = dataclasses.replace(
        TYPICAL_DAY,
        services=tuple(dataclasses.replace(s, arrivals_per_hour=0) for s in TYPICAL_DAY.services),
    )
    day = simulate_day(quiet, SEED)
    assert {e.kind for e in day.events} == {SimKind.COUNTER_OPENED, SimKind.COUNTER_CLOSED}
    assert measure_estimator(day).to_dict() == {
        "tickets": 0,
        "median_abs_error_min": None,
        "mean_error_min": None,
        "recent_share": None,
    }
