"""Socket.IO: committed events reach their center's room, with center and seq; joining rules."""

from __future__ import annotations

import os
import signal
import threading

import pytest
import requests
import socketio as socketio_client
from sqlalchemy import select

from taboor.server import contract
from taboor.server.auth import SYSTEM
from taboor.server.models import Center, Device
from taboor.server.operations.accounts import create_device
from taboor.server.realtime import socketio
from taboor.server.serve import LiveGuard
from tests.conftest import bearer, login
from tests.integration.test_crash import _free_port, _start

CENTER = "DAM-MIDAN"
OTHER = "DAM-QANAWAT"
EXTRACT = "civil-extract-individual"


def issue(client, headers, center=CENTER, service=EXTRACT, **extra):
    response = client.post(f"/api/v1/centers/{center}/tickets",
                           json={"service": service, **extra}, headers=headers)
    assert response.status_code == 201, response.json
    return response.json


def connect(app, token: str | None = None):
    auth = {"token": token} if token is not None else None
    return socketio.test_client(app, auth=auth)


def join(sio, center=CENTER) -> dict:
    return sio.emit("join", {"center": center}, callback=True)


def events(sio) -> list[tuple[str, dict]]:
    return [(e["name"], e["args"][0]) for e in sio.get_received()]


def make_public(rt, code: str, public: bool = True) -> None:
    with rt.db.write() as session:
        center = session.scalar(select(Center).where(Center.code == code))
        center.options = {**center.options, "public_display": public}


@pytest.fixture
def display(app, demo):
    sio = connect(app, demo.device("display")["token"])
    assert sio.is_connected()
    yield sio
    if sio.is_connected():
        sio.disconnect()


@pytest.fixture
def admin_token(client, demo) -> str:
    return login(client, demo.user("admin"))["Authorization"].removeprefix("Bearer ")


@pytest.fixture
def counter(client, clerk, demo) -> int:
    counter_id = demo.clerks[0]["counter_id"]
    assert client.post(f"/api/v1/counters/{counter_id}/open", headers=clerk).status_code == 200
    return counter_id


# --- events ----------------------------------------------------------------------------


def test_events_reach_every_client_in_the_room_with_center_and_consecutive_seq(
    app, client, demo, kiosk, clerk, counter, display
):
    second = connect(app, demo.device("display")["token"])
    start = join(display)
    assert start["ok"] and start["center"] == CENTER and isinstance(start["seq"], int)
    assert join(second)["seq"] == start["seq"]

    ticket = issue(client, kiosk)
    called = client.post(f"/api/v1/counters/{counter}/next", headers=clerk).json
    client.post(f"/api/v1/tickets/{called['id']}/recall", headers=clerk)

    for sio in (display, second):
        received = events(sio)
        assert [name for name, _ in received] == ["ticket.issued", "ticket.called",
                                                  "ticket.called"]
        assert [p["seq"] for _, p in received] == [start["seq"] + 1, start["seq"] + 2,
                                                   start["seq"] + 3]
        assert all(p["center"] == CENTER for _, p in received)
        assert received[0][1]["ticket"]["label"] == ticket["label"]
        assert received[2][1]["recall"] is True
    assert client.get(f"/api/v1/centers/{CENTER}/snapshot").json["seq"] == start["seq"] + 3


def test_counter_changes_are_pushed(client, clerk, counter, display):
    seq = join(display)["seq"]
    client.post(f"/api/v1/counters/{counter}/pause", headers=clerk)
    [(name, payload)] = events(display)
    assert name == "counter.changed"
    assert payload["seq"] == seq + 1 and payload["counter"]["id"] == counter


def test_a_client_in_another_centers_room_receives_nothing(app, client, kiosk, admin_token,
                                                           display):
    elsewhere = connect(app, admin_token)
    assert join(elsewhere, OTHER)["ok"]
    join(display)
    issue(client, kiosk)
    assert events(elsewhere) == []
    assert [name for name, _ in events(display)] == ["ticket.issued"]


def test_a_client_that_has_not_joined_receives_nothing(app, client, kiosk, display):
    issue(client, kiosk)
    assert events(display) == []


# --- joining ---------------------------------------------------------------------------


def test_anonymous_client_cannot_join_a_center_without_public_display(app):
    sio = connect(app)
    assert sio.is_connected()
    answer = join(sio)
    assert answer["ok"] is False
    assert answer["error"]["code"] == "center_forbidden"
    assert "token" in answer["error"]["message"]


def test_anonymous_client_can_join_a_public_display_center(app, rt, client, kiosk):
    make_public(rt, CENTER)
    sio = connect(app)
    seq = join(sio)["seq"]
    issue(client, kiosk)
    [(name, payload)] = events(sio)
    assert (name, payload["seq"], payload["center"]) == ("ticket.issued", seq + 1, CENTER)


def test_public_display_must_be_exactly_true(app, rt):
    with rt.db.write() as session:
        center = session.scalar(select(Center).where(Center.code == CENTER))
        center.options = {**center.options, "public_display": "yes"}
    assert join(connect(app))["error"]["code"] == "center_forbidden"


@pytest.mark.parametrize("kind", ["device", "manager", "clerk"])
def test_staff_and_devices_join_only_their_own_center(app, client, demo, kind):
    if kind == "device":
        token = demo.device("display")["token"]
    else:
        token = login(client, demo.user(kind))["Authorization"].removeprefix("Bearer ")
    sio = connect(app, token)
    assert join(sio)["ok"] is True
    answer = join(sio, OTHER)
    assert answer == {"ok": False, "error": {"code": "center_forbidden",
                                             "message": f"you may not watch {OTHER}"}}


def test_admin_joins_any_center(app, admin_token):
    sio = connect(app, admin_token)
    assert join(sio)["ok"] and join(sio, OTHER)["ok"]


def test_an_unknown_center_is_answered_not_found(display):
    answer = join(display, "NOWHERE")
    assert answer["ok"] is False and answer["error"]["code"] == "center_not_found"


@pytest.mark.parametrize("data", [None, "DAM-MIDAN", [], {}, {"center": 5}, {"center": ""},
                                  {"center": "X" * 65}])
def test_a_malformed_join_is_answered_bad_join(display, data):
    answer = display.emit("join", data, callback=True)
    assert answer["ok"] is False and answer["error"]["code"] == "bad_join"


@pytest.mark.parametrize("auth", [{"token": "not-a-token"}, {"token": "dev_unknown"},
                                  {"token": 42}, {"token": ""}])
def test_a_bad_token_is_refused_at_connect(app, auth):
    assert not socketio.test_client(app, auth=auth).is_connected()


def test_a_database_failure_is_answered_not_raised(display, rt, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("database is gone")

    monkeypatch.setattr("taboor.server.queries.find_center", broken)
    answer = join(display)
    assert answer["ok"] is False and answer["error"]["code"] == "internal_error"


def test_a_revoked_device_cannot_join_any_more(app, rt, demo, display):
    with rt.db.write() as session:
        for device in session.scalars(select(Device)):
            device.active = False
    rt.principals.clear()
    assert join(display)["error"]["code"] == "token_invalid"


# --- gaps and pings --------------------------------------------------------------------


def test_a_late_joiner_sees_the_gap_and_the_snapshot_has_the_current_state(
    app, client, demo, kiosk, display
):
    last = join(display)["seq"]
    display.disconnect()
    issue(client, kiosk)
    issue(client, kiosk)  # both missed while away

    again = connect(app, demo.device("display")["token"])
    answer = join(again)
    assert answer["seq"] == last + 2  # > last: refetch the snapshot
    snapshot = client.get(f"/api/v1/centers/{CENTER}/snapshot").json
    assert snapshot["seq"] == answer["seq"]
    assert snapshot["waiting"] == {EXTRACT: 2}
    issue(client, kiosk)
    [(_, payload)] = events(again)
    assert payload["seq"] == snapshot["seq"] + 1  # live again from the snapshot on


def test_an_event_that_is_logged_but_not_pushed_shows_as_a_gap(client, kiosk, display, rt):
    last = join(display)["seq"]
    create_device(rt.db, "display", CENTER, name="hall-2", actor=SYSTEM, now=rt.now())
    issue(client, kiosk)
    [(_, payload)] = events(display)
    assert payload["seq"] == last + 2  # a gap: the client refetches the snapshot
    assert client.get(f"/api/v1/centers/{CENTER}/snapshot").json["seq"] == payload["seq"]


def test_ping_answers_the_current_seq_of_a_joined_center(client, kiosk, display):
    assert display.emit("ping", {"center": CENTER}, callback=True)["error"]["code"] == (
        "not_joined")
    seq = join(display)["seq"]
    issue(client, kiosk)
    assert display.emit("ping", {"center": CENTER}, callback=True) == {
        "ok": True, "center": CENTER, "seq": seq + 1}
    assert display.emit("ping", "x", callback=True)["error"]["code"] == "bad_ping"


def test_unknown_events_are_ignored(display):
    assert display.emit("issue", {"service": EXTRACT}, callback=True) is None
    assert display.is_connected()


def test_headers_are_not_a_way_in(app, demo):
    headers = bearer(demo.device("display")["token"])
    sio = socketio.test_client(app, headers=headers)
    assert join(sio)["error"]["code"] == "center_forbidden"


# --- serving ---------------------------------------------------------------------------


def _wsgi_call(app, path: str) -> tuple[str, object]:
    status = []
    body = app({"PATH_INFO": path}, lambda s, headers: status.append(s))
    return status[0], body


def test_the_live_guard_keeps_threads_for_http_when_sockets_fill_their_share():
    def app(environ, start_response):
        start_response("200 OK", [])
        return [b"ok"]

    guard = LiveGuard(app, 1)
    status, held = _wsgi_call(guard, "/socket.io/")
    assert status == "200 OK"
    assert _wsgi_call(guard, "/socket.io/")[0].startswith("503")
    assert _wsgi_call(guard, "/api/v1/centers")[0] == "200 OK"
    held.close()
    held.close()  # closing twice frees one slot, not two
    assert _wsgi_call(guard, "/socket.io/")[0] == "200 OK"
    assert _wsgi_call(guard, "/socket.io/")[0].startswith("503")


@pytest.mark.slow
def test_a_real_websocket_client_sees_a_ticket_issued_over_http(app, demo, tmp_path):
    port = _free_port()
    server = _start(tmp_path, port)
    base = f"http://127.0.0.1:{port}"
    issued = threading.Event()
    received: list[dict] = []
    sio = socketio_client.Client(reconnection=False)

    @sio.on("ticket.issued")
    def on_issued(payload):
        received.append(payload)
        issued.set()

    try:
        sio.connect(base, auth={"token": demo.device("display")["token"]},
                    transports=["websocket"], wait_timeout=10)
        assert sio.transport() == "websocket"
        answer = sio.call("join", {"center": CENTER}, timeout=10)
        assert answer["ok"] is True
        with requests.Session() as http:
            ticket = http.post(f"{base}/api/v1/centers/{CENTER}/tickets",
                               json={"service": EXTRACT}, timeout=10,
                               headers=bearer(demo.device("kiosk")["token"])).json()
        assert issued.wait(10), "no ticket.issued within 10 s"
        [payload] = received
        assert payload["center"] == CENTER and payload["seq"] == answer["seq"] + 1
        assert payload["ticket"]["label"] == ticket["label"]
        assert sio.call("ping", {"center": CENTER}, timeout=10)["seq"] >= payload["seq"]
    finally:
        sio.disconnect()
        try:
            _refused_and_cross_origin_checks(base)
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(15)


def _refused_and_cross_origin_checks(base: str) -> None:
    refused: list[object] = []
    bad = socketio_client.Client(reconnection=False)
    bad.on("connect_error", refused.append)
    with pytest.raises(socketio_client.exceptions.ConnectionError):
        bad.connect(base, auth={"token": "dev_unknown"}, transports=["websocket"],
                    wait_timeout=10)
    assert refused == [{"message": "unknown device token", "data": {"code": "token_invalid"}}]
    handshake = f"{base}/socket.io/?EIO=4&transport=polling"
    with requests.Session() as http:
        assert http.get(handshake, headers={"Origin": base}, timeout=10).status_code == 200
        assert http.get(handshake, headers={"Origin": "http://evil.example"},
                        timeout=10).status_code == 400


def test_rooms_never_hear_a_tickets_public_id_or_priority(client, kiosk, display):
    join(display)
    issue(client, kiosk, priority="elderly")
    [(_, payload)] = events(display)
    assert "public_id" not in payload["ticket"] and "priority" not in payload["ticket"]
    assert payload["ticket"]["label"]


def test_every_live_event_matches_its_contract_model(client, kiosk, clerk, counter, display):
    join(display)
    display.get_received()
    first = issue(client, kiosk)
    issue(client, kiosk)
    called = client.post(f"/api/v1/counters/{counter}/next", headers=clerk).json
    assert called["id"] == first["id"]
    for action in ("recall", "start", "done"):
        client.post(f"/api/v1/tickets/{called['id']}/{action}", headers=clerk)
    client.post(f"/api/v1/counters/{counter}/next", headers=clerk)
    client.post(f"/api/v1/tickets/{called['id'] + 1}/transfer",
                json={"service": "civil-family-statement"}, headers=clerk)  # fmt: skip
    client.post(f"/api/v1/counters/{counter}/pause", headers=clerk)
    seen = events(display)
    names = {name for name, _ in seen}
    assert names == {"ticket.issued", "ticket.called", "ticket.started", "ticket.done",
                     "ticket.transferred", "counter.changed"}  # fmt: skip
    for name, payload in seen:
        model = contract.CounterEvent if name == "counter.changed" else contract.TicketEvent
        model.model_validate(payload)
        assert "public_id" not in payload.get("ticket", {})
