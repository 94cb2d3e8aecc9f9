"""The citizen's status page /t/<public_id> and its JSON figures."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from taboor.server.citizen import LineEvent, line_progress, plural_category
from tests.conftest import login

CENTER = "DAM-MIDAN"
EXTRACT = "civil-extract-individual"  # prefix A, served at counters 1, 2, 3 and 12
FAMILY = "civil-family-statement"  # prefix F, served at counters 1, 2, 3 and 12


def issue(client, headers, service=EXTRACT, **extra) -> dict:
    response = client.post(
        f"/api/v1/centers/{CENTER}/tickets", json={"service": service, **extra}, headers=headers
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.json


def post(client, path: str, headers, body=None) -> dict:
    response = client.post(path, json=body, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.json


def progress(client, ticket: dict) -> dict:
    response = client.get(f"/api/v1/tickets/{ticket['public_id']}/progress")
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.json


@pytest.fixture
def desks(client, demo, clerk):
    """Counters 1 and 2 open, with their clerks' headers."""
    one, two = demo.clerks[0]["counter_id"], demo.clerks[1]["counter_id"]
    other = login(client, demo.clerks[1])
    post(client, f"/api/v1/counters/{one}/open", clerk)
    post(client, f"/api/v1/counters/{two}/open", other)
    return {"one": (one, clerk), "two": (two, other)}


def serve(client, counter: tuple[int, dict]) -> dict:
    """Call the next ticket at a counter, start it and finish it; the called ticket."""
    number, headers = counter
    called = post(client, f"/api/v1/counters/{number}/next", headers)
    post(client, f"/api/v1/tickets/{called['id']}/start", headers)
    post(client, f"/api/v1/tickets/{called['id']}/done", headers)
    return called


# --- the page ----------------------------------------------------------------------------


def test_status_page_of_a_waiting_ticket_is_arabic_rtl_with_position_and_wait(client, kiosk):
    issue(client, kiosk)
    issue(client, kiosk)
    mine = issue(client, kiosk)
    response = client.get(f"/t/{mine['public_id']}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert '<html lang="ar" dir="rtl"' in html
    assert mine["label"] in html
    assert "إخراج قيد فردي" in html  # the service, in Arabic
    assert "في الانتظار" in html  # the state, translated
    assert re.search(r'id="ahead">\s*2\s*<', html)  # two people ahead
    assert "الانتظار المتوقع" in html
    # The service's configured 3 minutes per citizen, one counter assumed: 6 minutes.
    assert re.search(r'id="wait">\s*6 دقائق\s*<', html)
    assert "/static/citizen/status.js" in html
    assert response.headers["Cache-Control"] == "no-store"


def test_status_page_switches_to_english(client, kiosk):
    mine = issue(client, kiosk)
    html = client.get(f"/t/{mine['public_id']}?lang=en").get_data(as_text=True)
    assert '<html lang="en" dir="ltr"' in html
    assert "Individual civil-registry extract" in html
    assert "You are next" in html
    assert "Waiting" in html


def test_called_ticket_page_shows_the_counter(client, kiosk, desks):
    mine = issue(client, kiosk)
    number, headers = desks["two"]
    post(client, f"/api/v1/counters/{number}/next", headers)
    html = client.get(f"/t/{mine['public_id']}").get_data(as_text=True)
    assert "حان دورك" in html
    assert "يرجى التوجه إلى الشباك" in html
    assert re.search(r'id="counter">\s*2\s*<', html)
    assert re.search(r'id="called"[^>]*hidden', html) is None
    assert re.search(r'id="waiting"[^>]*hidden', html)


def test_unknown_ticket_is_a_translated_404_page(client):
    response = client.get("/t/no-such-ticket-here")
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert '<html lang="ar" dir="rtl"' in html
    assert "لم يُعثر على بطاقة الدور" in html
    english = client.get("/t/no-such-ticket-here?lang=en").get_data(as_text=True)
    assert "Ticket not found" in english


def test_malformed_public_id_is_the_same_404_page(client):
    response = client.get("/t/a.b%20c")
    assert response.status_code == 404
    assert "لم يُعثر على بطاقة الدور" in response.get_data(as_text=True)


def test_unknown_ticket_progress_is_a_json_404(client):
    response = client.get("/api/v1/tickets/no-such-ticket-here/progress")
    assert response.status_code == 404
    assert response.json["error"]["code"] == "ticket_not_found"
    assert response.json["error"]["message"]


# --- the figures ---------------------------------------------------------------------------


def test_progress_counts_calls_since_issue_and_explains_each_jump(client, clock, kiosk, desks):
    family = issue(client, kiosk, FAMILY)  # F-001, issued before mine
    clock.advance(minutes=1)
    first = issue(client, kiosk)  # A-001, before mine
    clock.advance(minutes=1)
    mine = issue(client, kiosk)
    clock.advance(minutes=1)
    issue(client, kiosk)  # A-003, behind mine
    clock.advance(minutes=1)
    elderly = issue(client, kiosk, priority="elderly")  # a 15-minute head start
    clock.advance(minutes=1)
    fifth = issue(client, kiosk)
    assert progress(client, mine)["served_since"] == 0

    clock.advance(minutes=1)
    assert serve(client, desks["two"])["label"] == elderly["label"]  # priority, after me
    clock.advance(minutes=1)
    two, two_headers = desks["two"]
    called = post(client, f"/api/v1/counters/{two}/next", two_headers)
    assert called["label"] == family["label"]  # called in its own service: not my line
    post(client, f"/api/v1/tickets/{family['id']}/transfer", two_headers, {"service": EXTRACT})
    moved = progress(client, family)
    assert (moved["joined_by"], moved["served_since"]) == ("transfer", 0)
    clock.advance(minutes=1)
    assert serve(client, desks["one"])["label"] == family["label"]  # kept its place
    clock.advance(minutes=1)
    one, one_headers = desks["one"]
    body = {"ticket": fifth["id"], "reason": "documents prepared in advance"}
    post(client, f"/api/v1/counters/{one}/call", one_headers, body)  # out of turn
    post(client, f"/api/v1/tickets/{fifth['id']}/start", one_headers)
    post(client, f"/api/v1/tickets/{fifth['id']}/done", one_headers)
    clock.advance(minutes=1)
    again = post(client, f"/api/v1/counters/{two}/next", two_headers)
    assert again["label"] == first["label"]  # its turn: before me, not out of order
    post(client, f"/api/v1/tickets/{first['id']}/recall", two_headers)  # not a new call

    waiting = progress(client, mine)
    assert waiting["ticket"]["state"] == "waiting"
    assert waiting["ticket"]["position"] == 1
    assert waiting["joined_by"] == "issue"
    assert waiting["joined_at"] == mine["issued_at"]
    assert waiting["served_since"] == 4
    assert waiting["out_of_order"] == [
        {"label": elderly["label"], "reason": "priority", "at": "2026-03-01T06:06:00Z"},
        {"label": family["label"], "reason": "transfer", "at": "2026-03-01T06:08:00Z"},
        {
            "label": fifth["label"],
            "reason": "clerk",
            "note": "documents prepared in advance",
            "at": "2026-03-01T06:09:00Z",
        },
    ]

    # My own call closes my wait: what happens afterwards is not "before me".
    post(client, f"/api/v1/tickets/{first['id']}/no-show", two_headers)
    clock.advance(minutes=1)
    assert serve(client, desks["one"])["label"] == mine["label"]
    clock.advance(minutes=1)
    post(client, f"/api/v1/counters/{two}/next", two_headers)  # A-003, after me
    done = progress(client, mine)
    assert done["ticket"]["state"] == "done" and done["final"] is True
    assert done["served_since"] == 4
    assert [item["label"] for item in done["out_of_order"]] == [
        elderly["label"],
        family["label"],
        fifth["label"],
    ]


def test_progress_carries_no_personal_data(client, kiosk, desks, demo):
    mine = issue(client, kiosk)
    number, headers = desks["one"]
    post(client, f"/api/v1/counters/{number}/next", headers)
    raw = client.get(f"/api/v1/tickets/{mine['public_id']}/progress").get_data(as_text=True)
    page = client.get(f"/t/{mine['public_id']}").get_data(as_text=True)
    for user in demo.data["users"]:
        assert user["username"] not in raw and user["username"] not in page
    assert "clerk_id" not in raw and "actor" not in raw


def test_progress_says_which_center_and_service_in_both_languages(client, kiosk):
    mine = issue(client, kiosk)
    body = progress(client, mine)
    assert body["service"] == {
        "code": EXTRACT,
        "name_ar": "إخراج قيد فردي",
        "name_en": "Individual civil-registry extract",
    }
    assert body["center"]["code"] == CENTER and body["center"]["timezone"] == "Asia/Damascus"
    assert body["ticket"]["label"] == mine["label"]
    assert body["expired"] is False and body["final"] is False


def test_a_ticket_left_from_an_earlier_day_is_expired(client, clock, kiosk):
    mine = issue(client, kiosk)
    clock.advance(days=1)
    body = progress(client, mine)
    assert body["expired"] is True
    html = client.get(f"/t/{mine['public_id']}").get_data(as_text=True)
    assert "بطاقة الدور هذه ليوم سابق" in html


# --- the rule, without a database ------------------------------------------------------------

T0 = datetime(2026, 3, 1, 6, 0, tzinfo=UTC)


def _event(seq, type_, ticket, service=None, priority="normal", **extra) -> LineEvent:
    return LineEvent(
        seq=seq, at=T0 + timedelta(minutes=seq), type=type_, ticket_id=ticket,
        label=f"X-{ticket:03d}", priority=priority, service=service, **extra,
    )  # fmt: skip


def test_a_ticket_transferred_in_counts_its_line_from_the_transfer():
    events = [
        _event(1, "ticket.issued", 1, "a"),
        _event(2, "ticket.issued", 2, "b"),
        _event(3, "ticket.called", 1),  # before 2 joined line a
        _event(4, "ticket.called", 2),
        _event(5, "ticket.transferred", 2, "a"),
        _event(6, "ticket.issued", 3, "a", priority="appointment"),
        _event(7, "ticket.called", 3, priority="appointment"),
    ]
    moved = line_progress(events, 2, "a")
    assert moved.joined_by == "transfer" and moved.joined_at == T0 + timedelta(minutes=5)
    assert moved.served_since == 1
    assert [(i["label"], i["reason"]) for i in moved.out_of_order] == [("X-003", "priority")]


def test_a_clerk_note_is_cut_to_a_short_phrase():
    events = [
        _event(1, "ticket.issued", 1, "a"),
        _event(2, "ticket.issued", 2, "a"),
        _event(3, "ticket.called", 2, out_of_order=True, reason="  " + "x" * 500),
    ]
    (item,) = line_progress(events, 1, "a").out_of_order
    assert item["reason"] == "clerk" and item["note"] == "x" * 200


@pytest.mark.parametrize(
    ("n", "lang", "category"),
    [(0, "ar", "zero"), (1, "ar", "one"), (2, "ar", "two"), (7, "ar", "few"), (11, "ar", "many"),
     (100, "ar", "other"), (103, "ar", "few"), (1, "en", "one"), (0, "en", "other")],
)  # fmt: skip
def test_plural_categories_match_cldr(n, lang, category):
    assert plural_category(n, lang) == category
