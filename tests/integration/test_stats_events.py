"""GET /stats after recalls, a transfer, an out-of-order call and a day across UTC midnight.

Each scenario is played through the HTTP API on the fixed clock; every expected figure is
derived by hand in the comments, from the definitions in server/domain/stats.py.
"""

from datetime import UTC, datetime

import pytest

from tests.conftest import login

CENTER = "DAM-MIDAN"
TICKETS = f"/api/v1/centers/{CENTER}/tickets"
STATS = f"/api/v1/centers/{CENTER}/stats"
# From config/demo/catalog.toml: SLA target and minimum plausible service time.
A = "civil-extract-individual"  # 20 min = 1200 s, 60 s; counters 1, 2, 3 (and 12)
F = "civil-family-statement"  # 20 min = 1200 s, 60 s; counters 1, 2, 3 (and 12)
RB = "civil-register-birth"  # 40 min = 2400 s, 180 s; counters 3 and 4
G = "general-inquiry"  # 15 min = 900 s, 30 s; counters 11 and 12 (never opened here)


def summary(mean, p50, p90, high, count) -> dict:
    return {"mean": mean, "p50": p50, "p90": p90, "max": high, "count": count}


NONE = summary(None, None, None, None, 0)


def figures(
    issued, served, no_show, cancelled, wait, service, sla, *,
    transferred=0, recalls=0, out_of_order=0, implausible=0,
) -> dict:  # fmt: skip
    """A group's figures as the API returns them (nothing pending: every day is over)."""
    within, total, ratio = sla
    return {
        "issued": issued, "served": served, "no_show": no_show, "cancelled": cancelled,
        "pending": 0, "transferred": transferred, "recalls": recalls,
        "out_of_order": out_of_order, "implausible": implausible,
        "wait_s": wait, "service_s": service,
        "sla": {"ratio": ratio, "within": within, "total": total},
    }  # fmt: skip


def utilisation(open_s, serving_s, ratio) -> dict:
    return {"open_s": open_s, "paused_s": 0.0, "serving_s": serving_s, "ratio": ratio}


class Day:
    """Plays requests at offsets (seconds) from a start instant, moving the fixed clock."""

    def __init__(self, client, clock, kiosk) -> None:
        self.client, self.clock, self.kiosk = client, clock, kiosk
        self.elapsed = 0

    def at(self, seconds: int) -> None:
        assert seconds >= self.elapsed, "the scenario runs forwards"
        self.clock.advance(seconds=seconds - self.elapsed)
        self.elapsed = seconds

    def post(self, url: str, headers, **body) -> dict:
        response = self.client.post(url, json=body or None, headers=headers)
        assert response.status_code < 300, response.json
        return response.json

    def issue(self, service: str) -> int:
        return self.post(TICKETS, self.kiosk, service=service)["id"]


def clerk_of(client, demo, number: int) -> tuple[dict, int]:
    """Headers of the demo clerk of counter `number`, and that counter's id."""
    user = next(u for u in demo.clerks if u["username"] == f"clerk{number:02d}")
    return login(client, user), user["counter_id"]


# --- a day with every kind of event -----------------------------------------------------


def play_eventful_day(client, clock, demo, kiosk) -> dict[str, int]:
    """2026-03-01 from 09:00:00 Damascus (t = 0), clerk01 at counter 1, clerk03 at counter 3.

    Offsets in seconds; local time 09:00 + t. Ticket, (issue) -> outcome:
      R1 RB (0): first called at 3 at 1500, transferred to A, called at 1 (its place kept),
         served 1630-1830 by clerk01.
      A1 (30): called 120, recalled at 150 and 180, served 200-500.
      A2 (60): called 600, no-show.       A3 (90): called out of order 510, served 540-570.
      F1 (900): called 960, served 990-1230.   A4 (1000): called 1620 at 3, served 1680-1800.
      G1 (1700): cancelled uncalled at 2700.   F2 (3500, 09:58:20): called 3640, served
      3660-3780.   A5 (3600, 10:00): called 3650 at 3, served 3680-3880.
      A6 (3610): called 3800, cancelled at the counter 3830.
      A7 (3630): called 3900 at 3, served 3920-4100.  Both counters close at 4200.
    """
    one, k1 = clerk_of(client, demo, 1)
    three, k3 = clerk_of(client, demo, 3)
    day = Day(client, clock, kiosk)
    at, post = day.at, day.post

    def ticket(path: str, ticket_id: int, clerk, **body) -> dict:
        return post(f"/api/v1/tickets/{ticket_id}/{path}", clerk, **body)

    at(0)
    post(f"/api/v1/counters/{k1}/open", one)
    r1 = day.issue(RB)  # counter 1 does not serve RB
    at(30)
    a1 = day.issue(A)
    at(60)
    a2 = day.issue(A)
    at(90)
    a3 = day.issue(A)
    at(120)
    assert post(f"/api/v1/counters/{k1}/next", one)["id"] == a1
    at(150)
    ticket("recall", a1, one)
    at(180)
    assert ticket("recall", a1, one)["recall_count"] == 2
    at(200)
    ticket("start", a1, one)
    at(500)
    ticket("done", a1, one)
    at(510)
    called = post(f"/api/v1/counters/{k1}/call", one, ticket=a3, reason="disabled citizen")
    assert (called["id"], called["out_of_order"]) == (a3, True)  # A2 was next by the rule
    at(540)
    ticket("start", a3, one)
    at(570)
    ticket("done", a3, one)  # 30 s, under A's 60 s minimum
    at(600)
    assert post(f"/api/v1/counters/{k1}/next", one)["id"] == a2
    at(780)
    ticket("no-show", a2, one)
    at(900)
    f1 = day.issue(F)
    at(960)
    assert post(f"/api/v1/counters/{k1}/next", one)["id"] == f1
    at(990)
    ticket("start", f1, one)
    at(1000)
    a4 = day.issue(A)
    at(1230)
    ticket("done", f1, one)
    at(1500)
    post(f"/api/v1/counters/{k3}/open", three)
    assert post(f"/api/v1/counters/{k3}/next", three)["id"] == r1  # issued before A4
    at(1560)
    ticket("transfer", r1, three, service=A, reason="needs an extract first")
    at(1600)
    # Transferred into A with its issue time (0): ahead of A4 (1000), though sent at 1560.
    assert post(f"/api/v1/counters/{k1}/next", one)["id"] == r1
    at(1620)
    assert post(f"/api/v1/counters/{k3}/next", three)["id"] == a4
    at(1630)
    ticket("start", r1, one)
    at(1680)
    ticket("start", a4, three)
    at(1700)
    g1 = day.issue(G)
    at(1800)
    ticket("done", a4, three)
    at(1830)
    ticket("done", r1, one)
    at(2700)
    ticket("cancel", g1, one)  # left after 1000 s, past G's 900 s target
    at(3500)
    f2 = day.issue(F)
    at(3600)
    a5 = day.issue(A)
    at(3610)
    a6 = day.issue(A)
    at(3630)
    a7 = day.issue(A)
    at(3640)
    assert post(f"/api/v1/counters/{k1}/next", one)["id"] == f2
    at(3650)
    assert post(f"/api/v1/counters/{k3}/next", three)["id"] == a5
    at(3660)
    ticket("start", f2, one)
    at(3680)
    ticket("start", a5, three)
    at(3780)
    ticket("done", f2, one)
    at(3800)
    assert post(f"/api/v1/counters/{k1}/next", one)["id"] == a6
    at(3830)
    ticket("cancel", a6, one)
    at(3880)
    ticket("done", a5, three)
    at(3900)
    assert post(f"/api/v1/counters/{k3}/next", three)["id"] == a7
    at(3920)
    ticket("start", a7, three)
    at(4100)
    ticket("done", a7, three)
    at(4200)
    post(f"/api/v1/counters/{k1}/close", one)
    post(f"/api/v1/counters/{k3}/close", three)
    return {"A3": a3}


@pytest.fixture
def eventful_ids(client, clock, demo, kiosk) -> dict[str, int]:
    """The eventful day played: ids of some of its tickets."""
    return play_eventful_day(client, clock, demo, kiosk)


@pytest.fixture
def eventful(client, eventful_ids, manager) -> dict:
    """The eventful day's report."""
    response = client.get(f"{STATS}?from=2026-03-01&to=2026-03-01", headers=manager)
    assert response.status_code == 200
    return response.json


# Waits (first call - issue) of the ten tickets ever called; R1's is its first call, at 3:
#   R1 1500, A1 90, A2 540 (no-show), A3 420, F1 60, A4 620, F2 140, A5 50,
#   A6 190 (cancelled after its call), A7 270.
# Service times (done - start) of the served: R1 200, A1 300, A3 30 (implausible: left out),
#   F1 240, A4 120, F2 120, A5 200, A7 180.
# SLA: every wait within 1200 s but R1's (1500 s: its target is its final service's, A's
# 20 min, not RB's 40); G1 is a certain miss (cancelled uncalled after 1000 s > 900 s).
DAY_WAIT = summary(388.0, 190.0, 620.0, 1500.0, 10)
# sorted 50 60 90 140 190 270 420 540 620 1500: sum 3880; rank 5 = 190, rank 9 = 620.
DAY_SERVICE = summary(194.3, 200.0, 300.0, 300.0, 7)
# sorted 120 120 180 200 200 240 300: sum 1360 / 7 = 194.29; rank 4 = 200, rank 7 = 300.
DAY = figures(
    11, 8, 1, 2, DAY_WAIT, DAY_SERVICE, (9, 11, 0.8182),
    transferred=1, recalls=2, out_of_order=1, implausible=1,
)  # fmt: skip
# Counter 1 / clerk01 last handled R1, A1, A2, A3, F1, F2, A6 (R1 counts here, where it
# ended, although clerk03 transferred it at counter 3).
# waits sorted 60 90 140 190 420 540 1500: sum 2940; rank 4 = 190, rank 7 = 1500.
# services sorted 120 200 240 300: sum 860; rank 2 = 200, rank 4 = 300.
COUNTER_1 = figures(
    7, 5, 1, 1, summary(420.0, 190.0, 1500.0, 1500.0, 7),
    summary(215.0, 200.0, 300.0, 300.0, 4), (6, 7, 0.8571),
    transferred=1, recalls=2, out_of_order=1, implausible=1,
)  # fmt: skip
# Counter 3 / clerk03: A4, A5, A7. waits sorted 50 270 620 (sum 940); services 120 180 200.
COUNTER_3 = figures(
    3, 3, 0, 0, summary(313.3, 270.0, 620.0, 620.0, 3),
    summary(166.7, 180.0, 200.0, 200.0, 3), (3, 3, 1.0),
)  # fmt: skip


def test_a_day_of_recalls_transfers_and_out_of_order_calls_gives_exact_totals(
    eventful, eventful_ids
):
    assert {k: eventful[k] for k in DAY} == DAY
    assert eventful["implausible_ids"] == [eventful_ids["A3"]]
    assert list(eventful["by_day"]) == ["2026-03-01"]
    assert eventful["by_day"]["2026-03-01"] == DAY


def test_transferred_ticket_counts_in_its_final_service_with_its_first_wait(eventful):
    assert list(eventful["by_service"]) == [A, F, G]  # nothing ended in RB
    # A: R1 A1 A2 A3 A4 A5 A6 A7. waits sorted 50 90 190 270 420 540 620 1500 (sum 3680):
    # rank 4 = 270, rank 8 = 1500; services (A3 left out) sorted 120 180 200 200 300.
    assert eventful["by_service"][A] == figures(
        8, 6, 1, 1, summary(460.0, 270.0, 1500.0, 1500.0, 8),
        summary(200.0, 200.0, 300.0, 300.0, 5), (7, 8, 0.875),
        transferred=1, recalls=2, out_of_order=1, implausible=1,
    )  # fmt: skip
    # F: F1 (wait 60, service 240), F2 (wait 140, service 120).
    assert eventful["by_service"][F] == figures(
        2, 2, 0, 0, summary(100.0, 60.0, 140.0, 140.0, 2),
        summary(180.0, 120.0, 240.0, 240.0, 2), (2, 2, 1.0),
    )  # fmt: skip
    # G: G1 only, never called: no wait, but an SLA miss.
    assert eventful["by_service"][G] == figures(1, 0, 0, 1, NONE, NONE, (0, 1, 0.0))


def test_events_count_for_the_last_counter_and_clerk_that_handled_the_ticket(eventful):
    # G1 was never called: it has no counter nor clerk.
    assert list(eventful["by_counter"]) == ["1", "3"]
    # Counter 1 open 0-4200; serving A1 300 + A3 30 (implausible, but it held the counter)
    # + F1 240 + R1 200 + F2 120 = 890. Counter 3 open 1500-4200 = 2700; serving
    # A4 120 + A5 200 + A7 180 = 500.
    assert eventful["by_counter"]["1"] == {
        **COUNTER_1,
        "utilisation": utilisation(4200.0, 890.0, 0.2119),
    }
    assert eventful["by_counter"]["3"] == {
        **COUNTER_3,
        "utilisation": utilisation(2700.0, 500.0, 0.1852),
    }
    assert eventful["utilisation"] == utilisation(6900.0, 1390.0, 0.2014)
    assert eventful["by_clerk"] == {"clerk01": COUNTER_1, "clerk03": COUNTER_3}


def test_figures_go_to_the_local_hour_of_issue(eventful):
    assert list(eventful["by_hour"]) == ["09", "10"]
    # 09: R1 A1 A2 A3 F1 A4 G1 F2 (F2 issued 09:58:20, served after 10:00).
    # waits sorted 60 90 140 420 540 620 1500: sum 3370 / 7 = 481.43; rank 4 = 420;
    # services sorted 120 120 200 240 300: sum 980; rank 3 = 200. SLA: 6 of 7 waits + G1.
    assert eventful["by_hour"]["09"] == figures(
        8, 6, 1, 1, summary(481.4, 420.0, 1500.0, 1500.0, 7),
        summary(196.0, 200.0, 300.0, 300.0, 5), (6, 8, 0.75),
        transferred=1, recalls=2, out_of_order=1, implausible=1,
    )  # fmt: skip
    # 10: A5 (wait 50, service 200), A6 (wait 190, cancelled), A7 (wait 270, service 180).
    assert eventful["by_hour"]["10"] == figures(
        3, 2, 0, 1, summary(170.0, 190.0, 270.0, 270.0, 3),
        summary(190.0, 180.0, 200.0, 200.0, 2), (3, 3, 1.0),
    )  # fmt: skip


# --- a day that crosses UTC midnight ------------------------------------------------------

# 23:40:00 in Damascus on Sunday 1 March (UTC+3); local midnight is t = 1200 (21:00 UTC).
EVENING = datetime(2026, 3, 1, 20, 40, tzinfo=UTC)


def play_midnight(client, clock, demo, kiosk) -> None:
    """Offsets t from 23:40:00 local; clerk01 at counter 1, clerk02 at counter 2.

    A1 (0): called at 1 at 90, served 120-200.  A2 (60): called at 1 at 480, served
    510-1290 (00:01:30).  A3 (1080, 23:58): called at 2 at 1140, served 1150-1240
    (00:00:40).  After midnight: A4 (1260, 00:01): called at 2 at 1300, served 1320-1420;
    A5 (1270): called at 1 at 1330, served 1340-1640.  Counter 1 open 0-1800, counter 2
    open 1100-1800.
    """
    clock.now = EVENING
    one, k1 = clerk_of(client, demo, 1)
    two, k2 = clerk_of(client, demo, 2)
    day = Day(client, clock, kiosk)
    at, post = day.at, day.post

    def ticket(path: str, ticket_id: int, clerk) -> None:
        post(f"/api/v1/tickets/{ticket_id}/{path}", clerk)

    post(f"/api/v1/counters/{k1}/open", one)
    a1 = day.issue(A)
    at(60)
    a2 = day.issue(A)
    at(90)
    assert post(f"/api/v1/counters/{k1}/next", one)["id"] == a1
    at(120)
    ticket("start", a1, one)
    at(200)
    ticket("done", a1, one)
    at(480)
    assert post(f"/api/v1/counters/{k1}/next", one)["id"] == a2
    at(510)
    ticket("start", a2, one)
    at(1080)
    a3 = day.issue(A)
    at(1100)
    post(f"/api/v1/counters/{k2}/open", two)
    at(1140)
    assert post(f"/api/v1/counters/{k2}/next", two)["id"] == a3
    at(1150)
    ticket("start", a3, two)
    at(1240)
    ticket("done", a3, two)  # 00:00:40 on 2 March
    at(1260)
    a4 = day.issue(A)
    at(1270)
    a5 = day.issue(A)
    at(1290)
    ticket("done", a2, one)  # 00:01:30 on 2 March
    at(1300)
    assert post(f"/api/v1/counters/{k2}/next", two)["id"] == a4
    at(1320)
    ticket("start", a4, two)
    at(1330)
    assert post(f"/api/v1/counters/{k1}/next", one)["id"] == a5
    at(1340)
    ticket("start", a5, one)
    at(1420)
    ticket("done", a4, two)
    at(1640)
    ticket("done", a5, one)
    at(1800)
    post(f"/api/v1/counters/{k1}/close", one)
    post(f"/api/v1/counters/{k2}/close", two)


# 1 March (hour 23): waits A1 90, A2 420, A3 60; services A1 80, A2 780, A3 90, all
# counted on the day of issue though A2 and A3 finished after midnight.
# waits sorted 60 90 420 (sum 570); services sorted 80 90 780 (sum 950 / 3 = 316.67).
FIRST = figures(
    3, 3, 0, 0, summary(190.0, 90.0, 420.0, 420.0, 3),
    summary(316.7, 90.0, 780.0, 780.0, 3), (3, 3, 1.0),
)  # fmt: skip
# 2 March (hour 00): waits A4 40, A5 60; services A4 100, A5 300.
SECOND = figures(
    2, 2, 0, 0, summary(50.0, 40.0, 60.0, 60.0, 2),
    summary(200.0, 100.0, 300.0, 300.0, 2), (2, 2, 1.0),
)  # fmt: skip
# Both days: waits sorted 40 60 60 90 420 (sum 670); services 80 90 100 300 780 (sum 1350).
# Chosen so that each group's p50 and p90 is a whole number of seconds up to 100 s or the
# group's max: exact even from the histograms a report over several days merges.
BOTH = figures(
    5, 5, 0, 0, summary(134.0, 60.0, 420.0, 420.0, 5),
    summary(270.0, 100.0, 780.0, 780.0, 5), (5, 5, 1.0),
)  # fmt: skip


def test_a_day_across_utc_midnight_keeps_waits_and_service_times_on_the_local_day_of_issue(
    client, clock, demo, kiosk, manager
):
    play_midnight(client, clock, demo, kiosk)

    def report(query: str) -> dict:
        response = client.get(f"{STATS}?{query}", headers=manager)
        assert response.status_code == 200
        return response.json

    first = report("from=2026-03-01&to=2026-03-01")
    assert {k: first[k] for k in FIRST} == FIRST
    assert first["by_hour"] == {"23": FIRST}
    assert first["by_day"] == {"2026-03-01": FIRST}
    # Counter time is clipped to the day: counter 1 open 0-1200, serving A1 80 + A2 690
    # (510 to midnight); counter 2 open 1100-1200, serving A3 50 (1150 to midnight).
    assert first["by_counter"]["1"]["utilisation"] == utilisation(1200.0, 770.0, 0.6417)
    assert first["by_counter"]["2"]["utilisation"] == utilisation(100.0, 50.0, 0.5)

    second = report("from=2026-03-02&to=2026-03-02")
    assert {k: second[k] for k in SECOND} == SECOND
    assert second["by_hour"] == {"00": SECOND}
    assert second["by_day"] == {"2026-03-02": SECOND}
    # A2's and A3's minutes after midnight belong to 1 March's tickets, not to this day's.
    assert second["by_counter"]["1"]["utilisation"] == utilisation(600.0, 300.0, 0.5)
    assert second["by_counter"]["2"]["utilisation"] == utilisation(600.0, 100.0, 0.1667)

    both = report("from=2026-03-01&to=2026-03-02")
    assert both["percentiles"]["method"] == "histogram"
    assert {k: both[k] for k in BOTH} == BOTH
    assert both["by_hour"] == {"00": SECOND, "23": FIRST}
    assert both["by_day"] == {"2026-03-01": FIRST, "2026-03-02": SECOND}
    # Over both days each counter's serving time is whole: 80 + 780 + 300, and 90 + 100.
    assert both["by_counter"]["1"]["utilisation"] == utilisation(1800.0, 1160.0, 0.6444)
    assert both["by_counter"]["2"]["utilisation"] == utilisation(700.0, 190.0, 0.2714)
