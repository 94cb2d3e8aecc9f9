"""The public API: the contract's shapes, statuses and every error case."""

import json

import pytest

from tests.conftest import bearer, login

CENTER = "DAM-MIDAN"
EXTRACT = "civil-extract-individual"
TICKET_FIELDS = {"id", "public_id", "label", "number", "service", "center", "state",
                 "priority", "position", "estimated_wait_s", "counter", "issued_at",
                 "called_at", "started_at", "finished_at"}


def issue(client, headers, service=EXTRACT, **extra):
    return client.post(f"/api/v1/centers/{CENTER}/tickets", json={"service": service, **extra},
                       headers=headers)


def assert_error(response, status, code, **details):
    assert response.status_code == status, response.get_data(as_text=True)
    error = response.json["error"]
    assert error["code"] == code
    assert error["message"]
    for key, value in details.items():
        assert error[key] == value
    return error


@pytest.fixture
def counter(demo):
    return demo.clerks[0]["counter_id"]


@pytest.fixture
def open_counter(client, clerk, counter):
    assert client.post(f"/api/v1/counters/{counter}/open", headers=clerk).status_code == 200
    return counter


# --- reading ---------------------------------------------------------------------------


def test_centers_are_listed_in_both_languages(client):
    centers = client.get("/api/v1/centers").json
    midan = next(c for c in centers if c["code"] == CENTER)
    assert midan["name_ar"] == "مركز خدمة المواطن - الميدان"
    assert midan["name_en"].startswith("Citizen Service Center")
    assert midan["timezone"] == "Asia/Damascus"


def test_services_show_waiting_and_estimate(client, kiosk):
    issue(client, kiosk)
    issue(client, kiosk)
    services = client.get(f"/api/v1/centers/{CENTER}/services").json
    extract = next(s for s in services if s["code"] == EXTRACT)
    assert extract["waiting"] == 2 and extract["estimated_wait_s"] > 0
    assert {"code", "prefix", "name_ar", "name_en", "category"} <= extract.keys()


def test_json_keeps_arabic_readable(client):
    raw = client.get(f"/api/v1/centers/{CENTER}").get_data(as_text=True)
    assert "الميدان" in raw


def test_snapshot_has_seq_now_serving_waiting_and_counters(client, kiosk, clerk, open_counter):
    issue(client, kiosk)
    issue(client, kiosk)
    called = client.post(f"/api/v1/counters/{open_counter}/next", headers=clerk).json
    snap = client.get(f"/api/v1/centers/{CENTER}/snapshot").json
    assert snap["seq"] > 0
    assert snap["now_serving"][0]["label"] == called["label"]
    assert snap["waiting"] == {EXTRACT: 1}
    assert any(c["id"] == open_counter and c["ticket"] == called["label"]
               for c in snap["counters"])


# --- the ticket cycle ------------------------------------------------------------------


def test_kiosk_issue_returns_201_with_the_contract_fields(client, kiosk):
    response = issue(client, kiosk, priority="elderly", lang="en")
    assert response.status_code == 201
    ticket = response.json
    assert TICKET_FIELDS <= ticket.keys()
    assert ticket["label"] == "A-001" and ticket["state"] == "waiting"
    assert ticket["priority"] == "elderly" and ticket["issued_at"].endswith("Z")


def test_status_by_public_id_needs_no_token(client, kiosk):
    ticket = issue(client, kiosk).json
    status = client.get(f"/api/v1/tickets/{ticket['public_id']}").json
    assert status["label"] == ticket["label"] and status["position"] == 1


def test_full_cycle_over_http(client, kiosk, clerk, open_counter, clock):
    ticket = issue(client, kiosk).json
    clock.advance(minutes=4)
    called = client.post(f"/api/v1/counters/{open_counter}/next", headers=clerk)
    assert called.status_code == 200 and called.json["id"] == ticket["id"]
    assert called.json["counter"] == 1
    for action, state in (("recall", "called"), ("start", "serving"), ("done", "done")):
        clock.advance(seconds=20)
        response = client.post(f"/api/v1/tickets/{ticket['id']}/{action}", headers=clerk)
        assert response.status_code == 200 and response.json["state"] == state
    assert client.post(f"/api/v1/counters/{open_counter}/next", headers=clerk).status_code == 204


def test_no_show_and_cancel(client, kiosk, clerk, open_counter):
    first, second = issue(client, kiosk).json, issue(client, kiosk).json
    client.post(f"/api/v1/counters/{open_counter}/next", headers=clerk)
    gone = client.post(f"/api/v1/tickets/{first['id']}/no-show", headers=clerk)
    assert gone.json["state"] == "no_show"
    cancelled = client.post(f"/api/v1/tickets/{second['id']}/cancel", headers=clerk)
    assert cancelled.json["state"] == "cancelled"


def test_transfer_over_http_keeps_the_label(client, kiosk, clerk, open_counter):
    ticket = issue(client, kiosk).json
    client.post(f"/api/v1/counters/{open_counter}/next", headers=clerk)
    moved = client.post(f"/api/v1/tickets/{ticket['id']}/transfer",
                        json={"service": "justice-no-conviction"}, headers=clerk)
    assert moved.status_code == 200
    assert moved.json["label"] == ticket["label"] and moved.json["state"] == "waiting"


def test_call_specific_ticket_over_http(client, kiosk, clerk, open_counter):
    issue(client, kiosk)
    second = issue(client, kiosk).json
    response = client.post(f"/api/v1/counters/{open_counter}/call",
                           json={"ticket": second["id"], "reason": "elderly citizen"},
                           headers=clerk)
    assert response.status_code == 200 and response.json["out_of_order"] is True


def test_staff_token_carries_role_and_counter(client, demo):
    user = demo.clerks[2]
    response = client.post("/api/v1/auth/token",
                           json={"username": user["username"], "password": user["password"]})
    assert response.json["role"] == "clerk"
    assert response.json["counter_id"] == user["counter_id"]


# --- bad input: 400 --------------------------------------------------------------------


@pytest.mark.parametrize(("body", "code", "field"), [
    ({}, "missing_field", "service"),
    ({"service": None}, "missing_field", "service"),
    ({"service": 42}, "invalid_field", "service"),
    ({"service": EXTRACT, "priority": "vip"}, "invalid_field", "priority"),
    ({"service": EXTRACT, "priority": 1}, "invalid_field", "priority"),
    ({"service": EXTRACT, "lang": "fr"}, "invalid_field", "lang"),
])
def test_bad_issue_fields_are_named(client, kiosk, body, code, field):
    response = client.post(f"/api/v1/centers/{CENTER}/tickets", json=body, headers=kiosk)
    assert_error(response, 400, code, field=field)


@pytest.mark.parametrize("raw", ["{not json", "[1, 2]", '"service"', "\xff\xfe"])
def test_malformed_json_is_400(client, kiosk, raw):
    response = client.post(f"/api/v1/centers/{CENTER}/tickets", data=raw.encode("latin-1"),
                           headers={**kiosk, "Content-Type": "application/json"})
    assert_error(response, 400, "bad_json")


def test_a_key_sent_twice_is_refused_naming_it(client, kiosk):
    # Which of the two would count is up to the parser; the API does not guess.
    raw = b'{"service": "civil-extract-individual", "service": "justice-no-conviction"}'
    response = client.post(f"/api/v1/centers/{CENTER}/tickets", data=raw,
                           headers={**kiosk, "Content-Type": "application/json"})
    assert_error(response, 400, "bad_json", field="service")


@pytest.mark.parametrize("content_type", [
    "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", None,
])  # fmt: skip
def test_a_body_that_is_not_sent_as_json_is_415(client, kiosk, content_type):
    headers = {**kiosk, **({"Content-Type": content_type} if content_type else {})}
    response = client.post(f"/api/v1/centers/{CENTER}/tickets",
                           data=json.dumps({"service": EXTRACT}), headers=headers)
    assert_error(response, 415, "unsupported_media_type")
    assert client.get(f"/api/v1/centers/{CENTER}/services").json[0]["waiting"] == 0


def test_call_needs_ticket_and_reason(client, clerk, open_counter):
    url = f"/api/v1/counters/{open_counter}/call"
    assert_error(client.post(url, json={"reason": "x"}, headers=clerk), 400, "missing_field",
                 field="ticket")
    assert_error(client.post(url, json={"ticket": 1}, headers=clerk), 400, "missing_field",
                 field="reason")
    assert_error(client.post(url, json={"ticket": "1", "reason": "x"}, headers=clerk), 400,
                 "invalid_field", field="ticket")
    assert_error(client.post(url, json={"ticket": True, "reason": "x"}, headers=clerk), 400,
                 "invalid_field", field="ticket")


@pytest.mark.parametrize(("url", "body", "field"), [
    ("/api/v1/auth/token", {"username": "\ud800", "password": "x"}, "username"),
    ("/api/v1/auth/token", {"username": "x", "password": "a\udfffb"}, "password"),
    (f"/api/v1/centers/{CENTER}/tickets", {"service": "\ud800"}, "service"),
    ("/api/v1/tickets/1/cancel", {"reason": "\udc00"}, "reason"),
    ("/api/v1/tickets/1/transfer", {"service": "\ud800x"}, "service"),
])
def test_a_lone_surrogate_in_a_text_field_is_refused_by_name(client, clerk, url, body, field):
    # JSON allows "\ud800", Python decodes it to a str no database or printer can hold.
    raw = json.dumps(body).encode()
    response = client.post(url, data=raw, headers={**clerk, "Content-Type": "application/json"})
    assert_error(response, 400, "invalid_field", field=field)


def test_login_fields_are_checked(client):
    assert_error(client.post("/api/v1/auth/token", json={"username": "x"}), 400,
                 "missing_field", field="password")


# --- unknown things: 404 ---------------------------------------------------------------


def test_unknown_center_service_counter_ticket_are_404(client, kiosk, clerk):
    assert_error(client.get("/api/v1/centers/NOPE/services"), 404, "center_not_found")
    assert_error(client.get("/api/v1/centers/NOPE/snapshot"), 404, "center_not_found")
    assert_error(issue(client, kiosk, "no-such-service"), 404, "service_not_found")
    assert_error(client.post("/api/v1/counters/99999/next", headers=clerk), 404,
                 "counter_not_found")
    assert_error(client.post("/api/v1/tickets/99999/start", headers=clerk), 404,
                 "ticket_not_found")
    assert_error(client.get("/api/v1/tickets/not-a-public-id"), 404, "ticket_not_found")


def test_unknown_route_and_method_are_json(client):
    assert_error(client.get("/api/v1/nothing/here"), 404, "not_found")
    assert_error(client.delete("/api/v1/centers"), 405, "method_not_allowed")
    assert_error(client.post("/api/v1/counters/abc/next"), 404, "not_found")


# --- auth: 401 and 403 -----------------------------------------------------------------


@pytest.mark.parametrize("headers", [
    {},
    {"Authorization": "Bearer "},
    {"Authorization": "Basic dXNlcjpwYXNz"},
    {"Authorization": "Bearer dev_not-a-real-token"},
    {"Authorization": "Bearer forged.token.value"},
])
def test_missing_or_bad_token_is_401(client, headers):
    response = issue(client, headers)
    assert response.status_code == 401
    assert response.json["error"]["code"] in {"token_required", "token_invalid"}
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_wrong_password_is_401(client, demo):
    user = demo.clerks[0]
    response = client.post("/api/v1/auth/token",
                           json={"username": user["username"], "password": "wrong-password"})
    assert_error(response, 401, "invalid_credentials")
    response = client.post("/api/v1/auth/token", json={"username": "ghost", "password": "x"})
    assert_error(response, 401, "invalid_credentials")


def test_a_signed_out_token_is_refused_and_the_users_other_tokens_are_not(client, demo, counter):
    user = demo.clerks[0]
    desk, phone = login(client, user), login(client, user)
    queue = f"/api/v1/counters/{counter}/queue"
    assert client.get(queue, headers=desk).status_code == 200
    assert client.delete("/api/v1/auth/token", headers=desk).status_code == 204
    assert_error(client.get(queue, headers=desk), 401, "token_invalid")
    assert_error(client.delete("/api/v1/auth/token", headers=desk), 401, "token_invalid")
    assert client.get(queue, headers=phone).status_code == 200


def test_signing_out_needs_a_staff_token(client, kiosk):
    assert_error(client.delete("/api/v1/auth/token"), 401, "token_required")
    assert_error(client.delete("/api/v1/auth/token", headers=kiosk), 400,
                 "staff_token_required")  # fmt: skip
    assert client.post("/api/v1/centers/DAM-MIDAN/tickets", json={"service": EXTRACT},
                       headers=kiosk).status_code == 201  # fmt: skip


def test_revoked_token_records_are_pruned_once_their_tokens_expired(app, rt, client, demo):
    from datetime import UTC, datetime, timedelta

    from taboor.server.operations import accounts

    user = demo.clerks[0]
    old = login(client, user)["Authorization"].split()[1]
    now = datetime.now(UTC)  # tokens are signed with the real time, whatever the app's clock
    accounts.revoke(rt.db, rt.tokens, old, now=now)
    later = now + timedelta(seconds=rt.tokens.max_age_s + 1)
    new = login(client, user)["Authorization"].split()[1]
    accounts.revoke(rt.db, rt.tokens, new, now=later)
    with rt.db.reading() as tx:
        assert tx.all("SELECT token_id FROM revoked_tokens") == [(rt.tokens.load(new).token_id,)]


def test_display_device_cannot_issue(client, demo):
    response = issue(client, bearer(demo.device("display")["token"]))
    assert_error(response, 403, "role_forbidden")


def test_kiosk_cannot_call(client, kiosk, counter):
    assert_error(client.post(f"/api/v1/counters/{counter}/next", headers=kiosk), 403,
                 "role_forbidden")


def test_kiosk_issues_only_in_its_center(client, kiosk):
    response = client.post("/api/v1/centers/ALE/tickets", json={"service": EXTRACT},
                           headers=kiosk)
    assert_error(response, 403, "center_forbidden")


def test_clerk_acts_only_in_their_center(client, rt, clerk):
    from sqlalchemy import select

    from taboor.server.models import Center, Counter

    with rt.db.read() as session:
        aleppo_counter = session.scalar(
            select(Counter.id).join(Center, Center.id == Counter.center_id)
            .where(Center.code == "ALE"))
    assert_error(client.post(f"/api/v1/counters/{aleppo_counter}/open", headers=clerk), 403,
                 "center_forbidden")


def test_admin_may_act_in_every_center(client, rt, demo):
    admin = login(client, demo.user("admin"))
    response = client.post("/api/v1/centers/ALE/tickets", json={"service": EXTRACT},
                           headers=admin)
    assert response.status_code == 201 and response.json["center"] == "ALE"


# --- wrong state: 409 ------------------------------------------------------------------


def test_wrong_state_is_409_with_current_state(client, kiosk, clerk):
    ticket = issue(client, kiosk).json
    response = client.post(f"/api/v1/tickets/{ticket['id']}/done", headers=clerk)
    assert_error(response, 409, "invalid_transition", state="waiting")


def test_calling_at_a_closed_counter_is_409(client, kiosk, clerk, counter):
    issue(client, kiosk)
    assert_error(client.post(f"/api/v1/counters/{counter}/next", headers=clerk), 409,
                 "counter_not_open", state="closed")


def test_a_rejected_request_changes_nothing(client, kiosk, clerk):
    before = client.get(f"/api/v1/centers/{CENTER}/snapshot").json
    issue(client, kiosk, "no-such-service")
    client.post("/api/v1/tickets/99999/done", headers=clerk)
    after = client.get(f"/api/v1/centers/{CENTER}/snapshot").json
    assert after == before


@pytest.mark.parametrize("url", [
    "/api/v1/tickets/99999999999999999999999/start",
    "/api/v1/counters/99999999999999999999999/next",
    "/api/v1/counters/0/next",
    "/api/v1/tickets/-1/done",
])
def test_ids_out_of_range_in_the_path_are_404_not_500(client, clerk, url):
    assert client.post(url, headers=clerk).status_code == 404


@pytest.mark.parametrize("ticket", [10**30, 0, -5])
def test_ids_out_of_range_in_the_body_are_400(client, clerk, open_counter, ticket):
    response = client.post(f"/api/v1/counters/{open_counter}/call",
                           json={"ticket": ticket, "reason": "x"}, headers=clerk)
    assert_error(response, 400, "invalid_field", field="ticket")


def test_the_waits_feed_is_open_and_carries_no_personal_data(client, kiosk):
    issue(client, kiosk)
    feed = client.get(f"/api/v1/centers/{CENTER}/waits").json
    extract = next(s for s in feed["services"] if s["code"] == EXTRACT)
    assert extract["waiting"] == 1 and extract["basis"] == "configured"
    assert feed["generated_at"].endswith("Z")
    assert set(extract) == {"code", "name_ar", "name_en", "waiting", "open_counters",
                            "estimated_wait_s", "longest_wait_s", "sla_minutes", "basis"}
    assert_error(client.get("/api/v1/centers/NOPE/waits"), 404, "center_not_found")


def test_the_waits_feed_says_how_long_the_oldest_citizen_has_waited(client, kiosk, clock):
    issue(client, kiosk)
    clock.advance(minutes=7)
    issue(client, kiosk)
    clock.advance(seconds=30)
    response = client.get(f"/api/v1/centers/{CENTER}/waits")
    extract = next(s for s in response.json["services"] if s["code"] == EXTRACT)
    assert extract["longest_wait_s"] == 7 * 60 + 30
    quiet = next(s for s in response.json["services"] if s["waiting"] == 0)
    assert quiet["longest_wait_s"] == 0
    # Open data: readable from any site's page, and pollers are asked to cache briefly.
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.headers["Cache-Control"] == "public, max-age=15"


@pytest.mark.parametrize(("method", "url", "body"), [
    ("get", "/api/v1/tickets/%00", None),
    ("get", "/api/v1/centers/A%00/snapshot", None),
    ("post", "/api/v1/auth/token", {"username": "a\u0000", "password": "x"}),
    ("post", f"/api/v1/centers/{CENTER}/tickets", {"service": "a\u0000"}),
    ("post", f"/api/v1/centers/{CENTER}/tickets", {"service": "x" * 5000}),
])
def test_nul_characters_and_novels_are_refused_before_the_database(client, kiosk, method,
                                                                   url, body):
    response = getattr(client, method)(url, json=body, headers=kiosk)
    assert response.status_code in (400, 404)
    assert response.json["error"]["code"] in ("invalid_field", "not_found")


def test_a_clerk_works_only_at_their_own_counter(client, kiosk, demo, clerk, open_counter):
    other = login(client, demo.clerks[1])  # sits at counter 2
    assert_error(client.post(f"/api/v1/counters/{open_counter}/next", headers=other), 403,
                 "counter_forbidden")
    ticket = issue(client, kiosk).json
    client.post(f"/api/v1/counters/{open_counter}/next", headers=clerk)
    assert_error(client.post(f"/api/v1/tickets/{ticket['id']}/done", headers=other), 403,
                 "counter_forbidden")
    manager = login(client, demo.user("manager"))
    assert client.post(f"/api/v1/tickets/{ticket['id']}/no-show", headers=manager).json[
        "state"] == "no_show"


def test_a_kiosk_offers_only_the_centers_kiosk_priorities_and_never_appointments(
    client, kiosk, manager
):
    assert issue(client, kiosk, priority="disabled").status_code == 201
    assert_error(issue(client, kiosk, priority="appointment"), 400, "priority_not_offered",
                 field="priority")
    assert issue(client, manager, priority="appointment").status_code == 201


def test_deeply_nested_or_huge_bodies_are_4xx(client, kiosk):
    nested = client.post(f"/api/v1/centers/{CENTER}/tickets", data="[" * 20000,
                         headers={**kiosk, "Content-Type": "application/json"})
    assert_error(nested, 400, "bad_json")
    huge = client.post(f"/api/v1/centers/{CENTER}/tickets", data="x" * (200 * 1024),
                       headers={**kiosk, "Content-Type": "application/json"})
    assert_error(huge, 413, "too_large")
