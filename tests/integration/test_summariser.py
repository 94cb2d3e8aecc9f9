"""The background summariser stores the closed days' summaries reports will merge."""

from __future__ import annotations

import time
from datetime import date, timedelta

from taboor.server import reports
from taboor.server.summariser import Summariser
from tests.integration.test_stats_api import play_known_day

CENTER = "DAM-MIDAN"


def stored(rt) -> list[date]:
    with rt.db.reading() as tx:
        return reports.stored_days(tx, CENTER)


def test_one_pass_stores_every_closed_day_since_the_first_ticket_then_finds_nothing(
    rt, client, clock, demo, kiosk
):
    play_known_day(client, clock, demo, kiosk)  # 2026-03-01
    clock.now += timedelta(days=33)  # 2026-04-03: March is closed, April 1-2 too
    summariser = Summariser(rt.db, rt.now, pause_s=0)
    assert summariser.run_once() == 33
    days = stored(rt)
    assert days[0] == date(2026, 3, 1) and days[-1] == date(2026, 4, 2) and len(days) == 33
    assert summariser.run_once() == 0
    # What a manager then asks for merges what is stored, and equals the day's truth.
    with rt.db.reading() as tx:
        month = reports.center_report(tx, CENTER, now=rt.now(), from_day="2026-03-01",
                                      to_day="2026-03-31")  # fmt: skip
        day = reports.center_report(tx, CENTER, now=rt.now(), from_day="2026-03-01",
                                    to_day="2026-03-01")  # fmt: skip
    for key in ("issued", "served", "no_show", "cancelled", "implausible"):
        assert month[key] == day[key]
    assert month["wait_s"]["mean"] == day["wait_s"]["mean"]


def test_a_center_without_tickets_gets_no_empty_summaries(rt, clock):
    assert Summariser(rt.db, rt.now, pause_s=0).run_once() == 0
    assert stored(rt) == []


def test_the_summariser_runs_in_the_background_until_stopped(rt, client, clock, demo, kiosk):
    play_known_day(client, clock, demo, kiosk)
    clock.now += timedelta(days=2)
    summariser = Summariser(rt.db, rt.now, pause_s=0, every_s=3600)
    summariser.start(delay_s=0)
    try:
        deadline = time.monotonic() + 30  # a liveness bound, not a speed claim
        while len(stored(rt)) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        summariser.stop()
    assert stored(rt) == [date(2026, 3, 1), date(2026, 3, 2)]
