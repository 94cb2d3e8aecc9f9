"""GET /stats: a day with known times, checked figure by figure (definitions in stats.py)."""

from datetime import UTC, datetime, timedelta

import pytest

from tests.conftest import login

CENTER = "DAM-MIDAN"
TICKETS = f"/api/v1/centers/{CENTER}/tickets"
STATS = f"/api/v1/centers/{CENTER}/stats"


def play_known_day(client, clock, demo, kiosk) -> None:
    """09:00-09:22 Damascus on 2026-03-01 at counter 1, clerk01 at the desk.

    A-001 waits 120 s and is served in 300 s; A-002 waits 400 s and does not show;
    A-003 is cancelled uncalled after 100 s; F-001 waits 100 s, served in 10 s (below
    the 60 s minimum: implausible). Counter 1 is open 1200 s, paused 100 s.
    """
    clerk = login(client, demo.clerks[0])
    counter = demo.clerks[0]["counter_id"]
    t0 = clock.now

    def at(seconds: int) -> None:
        clock.now = t0 + timedelta(seconds=seconds)

    def post(url: str, headers, **body):
        response = client.post(url, json=body or None, headers=headers)
        assert response.status_code < 300, response.json
        return response.json

    at(0)
    post(f"/api/v1/counters/{counter}/open", clerk)
    a1 = post(TICKETS, kiosk, service="civil-extract-individual")
    at(60)
    post(TICKETS, kiosk, service="civil-extract-individual")
    at(120)
    t = post(f"/api/v1/counters/{counter}/next", clerk)  # A-001 waited 120 s
    assert t["id"] == a1["id"]
    at(150)
    post(f"/api/v1/tickets/{t['id']}/start", clerk)
    at(450)
    post(f"/api/v1/tickets/{t['id']}/done", clerk)  # served in 300 s
    at(460)
    t = post(f"/api/v1/counters/{counter}/next", clerk)  # A-002 waited 400 s
    at(600)
    post(f"/api/v1/tickets/{t['id']}/no-show", clerk)
    at(700)
    a3 = post(TICKETS, kiosk, service="civil-extract-individual")
    at(800)
    post(f"/api/v1/tickets/{a3['id']}/cancel", clerk)  # never called
    at(900)
    post(TICKETS, kiosk, service="civil-family-statement")
    at(1000)
    t = post(f"/api/v1/counters/{counter}/next", clerk)  # F-001 waited 100 s
    at(1010)
    post(f"/api/v1/tickets/{t['id']}/start", clerk)
    at(1020)
    post(f"/api/v1/tickets/{t['id']}/done", clerk)  # 10 s: below the 60 s minimum
    at(1100)
    post(f"/api/v1/counters/{counter}/pause", clerk)
    at(1200)
    post(f"/api/v1/counters/{counter}/open", clerk)
    at(1300)
    post(f"/api/v1/counters/{counter}/close", clerk)


@pytest.fixture
def day(client, clock, demo, kiosk):
    """The known day played; the manager's headers to ask for its figures."""
    play_known_day(client, clock, demo, kiosk)
    return login(client, demo.user("manager"))


def test_a_known_day_gives_exact_figures(client, day):
    report = client.get(f"{STATS}?from=2026-03-01&to=2026-03-01", headers=day).json
    assert (report["issued"], report["served"], report["no_show"], report["cancelled"]) == (
        4,
        2,
        1,
        1,
    )
    assert report["wait_s"] == {"mean": 206.7, "p50": 120.0, "p90": 400.0, "max": 400.0, "count": 3}
    assert report["service_s"] == {
        "mean": 300.0,
        "p50": 300.0,
        "p90": 300.0,
        "max": 300.0,
        "count": 1,
    }
    assert report["implausible"] == 1
    assert report["sla"] == {"ratio": 1.0, "within": 3, "total": 3}
    assert set(report["by_service"]) == {"civil-extract-individual", "civil-family-statement"}
    assert report["by_service"]["civil-extract-individual"]["issued"] == 3
    assert set(report["by_clerk"]) == {"clerk01"}
    assert list(report["by_hour"]) == ["09"]
    assert list(report["by_day"]) == ["2026-03-01"]
    counter = report["by_counter"]["1"]["utilisation"]
    assert counter == {"open_s": 1200.0, "paused_s": 100.0, "serving_s": 310.0, "ratio": 0.2583}


def test_filters_narrow_the_figures(client, day):
    report = client.get(f"{STATS}?from=2026-03-01&service=civil-family-statement", headers=day).json
    assert report["issued"] == 1 and report["wait_s"]["max"] == 100.0


def test_a_day_that_crosses_utc_midnight_is_the_local_day(client, clock, kiosk, manager):
    clock.now = datetime(2026, 3, 1, 20, 59, tzinfo=UTC)  # 23:59 in Damascus
    client.post(TICKETS, json={"service": "general-inquiry"}, headers=kiosk)
    clock.now = datetime(2026, 3, 1, 21, 1, tzinfo=UTC)  # 00:01 on 2 March in Damascus
    client.post(TICKETS, json={"service": "general-inquiry"}, headers=kiosk)
    first = client.get(f"{STATS}?from=2026-03-01&to=2026-03-01", headers=manager).json
    second = client.get(f"{STATS}?from=2026-03-02&to=2026-03-02", headers=manager).json
    assert (first["issued"], list(first["by_hour"])) == (1, ["23"])
    assert (second["issued"], list(second["by_hour"])) == (1, ["00"])
    both = client.get(f"{STATS}?from=2026-03-01&to=2026-03-02", headers=manager).json
    assert list(both["by_day"]) == ["2026-03-01", "2026-03-02"]


@pytest.mark.parametrize(
    ("query", "field", "code"),
    [
        ("from=2026-13-01", "from", "invalid_field"),
        ("from=yesterday", "from", "invalid_field"),
        ("from=2026-03-02&to=2026-03-01", "to", "bad_range"),
        ("from=2020-01-01&to=2026-01-01", "to", "range_too_long"),
    ],
)
def test_bad_ranges_are_400(client, manager, query, field, code):
    response = client.get(f"{STATS}?{query}", headers=manager)
    assert response.status_code == 400
    assert response.json["error"]["code"] == code and response.json["error"]["field"] == field


def test_statistics_are_for_managers_of_the_center(client, clerk, manager, demo):
    assert client.get(STATS).status_code == 401
    assert client.get(STATS, headers=clerk).status_code == 403
    assert client.get("/api/v1/centers/ALE/stats", headers=manager).status_code == 403
    admin = login(client, demo.user("admin"))
    assert client.get("/api/v1/centers/ALE/stats", headers=admin).status_code == 200
    assert client.get("/api/v1/centers/NOPE/stats", headers=admin).status_code == 404


@pytest.mark.parametrize("query", ["from=0001-01-01&to=0001-01-02", "from=9999-12-31",
                                   "to=0001-01-01"])
def test_dates_at_the_ends_of_the_calendar_are_400_not_500(client, manager, query):
    response = client.get(f"{STATS}?{query}", headers=manager)
    assert response.status_code == 400


@pytest.mark.parametrize("span", ["", "&from=2026-02-20&to=2026-03-01"])
def test_a_counter_filter_of_non_ascii_digits_matches_nothing_and_is_no_500(
    client, manager, span
):
    response = client.get(
        f"/api/v1/centers/{CENTER}/stats?counter=%C2%B2{span}", headers=manager
    )
    assert response.status_code == 200
    assert response.json["issued"] == 0
