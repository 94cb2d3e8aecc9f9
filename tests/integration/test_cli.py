"""The `taboor` command line: init, demo, users, devices and the audit."""

import json

from sqlalchemy import delete, select, update

from taboor.server.auth import SYSTEM
from taboor.server.models import Event
from taboor.server.operations import counters as counter_ops
from taboor.server.operations import tickets as ops
from tests.conftest import bearer


def test_init_is_idempotent(runner):
    for _ in range(2):
        result = runner.invoke(args=["init"])
        assert result.exit_code == 0, result.output
        assert "database ready" in result.output


def test_demo_json_has_clerks_for_every_counter_a_manager_admin_kiosk_display(runner, rt):
    result = runner.invoke(args=["demo", "--json"])
    assert result.exit_code == 0, result.output
    demo = json.loads(result.output)
    assert demo["center"] == "DAM-MIDAN"
    roles = [u["role"] for u in demo["users"]]
    assert roles.count("admin") == 1 and roles.count("manager") == 1
    clerks = [u for u in demo["users"] if u["role"] == "clerk"]
    assert len({c["counter_id"] for c in clerks}) == len(clerks) >= 12
    for user in demo["users"]:
        assert set(user) >= {"username", "password", "role", "center", "counter_id"}
    assert {d["kind"] for d in demo["devices"]} >= {"kiosk", "display"}


def test_demo_again_gives_working_fresh_credentials(runner, app):
    first = json.loads(runner.invoke(args=["demo", "--json"]).output)
    second = json.loads(runner.invoke(args=["demo", "--json"]).output)
    old_kiosk, new_kiosk = first["devices"][0]["token"], second["devices"][0]["token"]
    assert old_kiosk != new_kiosk
    client = app.test_client()
    url = "/api/v1/centers/DAM-MIDAN/tickets"
    body = {"service": "general-inquiry"}
    assert client.post(url, json=body, headers=bearer(new_kiosk)).status_code == 201
    app.extensions["taboor"].principals.clear()
    assert client.post(url, json=body, headers=bearer(old_kiosk)).status_code == 401
    clerk = second["users"][2]
    login = client.post("/api/v1/auth/token",
                        json={"username": clerk["username"], "password": clerk["password"]})
    assert login.status_code == 200


def test_user_add_then_login(runner, client):
    result = runner.invoke(args=["user", "add", "hala", "--role", "clerk", "--center",
                                 "DAM-QANAWAT", "--counter", "2", "--password", "s3cret-pass"])
    assert result.exit_code == 0, result.output
    response = client.post("/api/v1/auth/token",
                           json={"username": "hala", "password": "s3cret-pass"})
    assert response.status_code == 200 and response.json["role"] == "clerk"


def test_user_add_refuses_bad_input_clearly(runner):
    result = runner.invoke(args=["user", "add", "x", "--role", "clerk", "--center", "NOPE",
                                 "--password", "long-enough"])
    assert result.exit_code != 0 and "center_not_found" in result.output
    result = runner.invoke(args=["user", "add", "y", "--role", "clerk", "--center",
                                 "DAM-MIDAN", "--password", "short"])
    assert result.exit_code != 0 and "at least 8" in result.output
    runner.invoke(args=["user", "add", "z", "--role", "admin", "--password", "long-enough"])
    result = runner.invoke(args=["user", "add", "z", "--role", "admin", "--password",
                                 "long-enough"])
    assert result.exit_code != 0 and "username_taken" in result.output


def test_device_add_prints_a_working_token(runner, client):
    result = runner.invoke(args=["device", "add", "--kind", "kiosk", "--center", "HOM",
                                 "--name", "entrance"])
    assert result.exit_code == 0, result.output
    token = result.output.strip().rsplit(" ", 1)[-1]
    response = client.post("/api/v1/centers/HOM/tickets", json={"service": "general-inquiry"},
                           headers=bearer(token))
    assert response.status_code == 201


def test_a_revoked_device_token_stops_working_and_the_log_says_so(runner, client, rt):
    result = runner.invoke(args=["device", "add", "--kind", "kiosk", "--center", "HOM",
                                 "--name", "entrance"])  # fmt: skip
    device_id = int(result.output.split()[1])
    token = result.output.strip().rsplit(" ", 1)[-1]
    url, body = "/api/v1/centers/HOM/tickets", {"service": "general-inquiry"}
    assert client.post(url, json=body, headers=bearer(token)).status_code == 201
    listed = runner.invoke(args=["device", "list", "--center", "HOM"]).output
    assert f"{device_id}\tkiosk\tentrance\t" in listed and listed.rstrip().endswith("active")
    result = runner.invoke(args=["device", "revoke", str(device_id)])
    assert result.exit_code == 0, result.output
    rt.principals.clear()  # this test's process cached the token (others: within 10 s)
    response = client.post(url, json=body, headers=bearer(token))
    assert response.status_code == 401 and response.json["error"]["code"] == "token_invalid"
    assert "revoked" in runner.invoke(args=["device", "list", "--center", "HOM"]).output
    with rt.db.reading() as tx:
        data = tx.scalar("SELECT data FROM events WHERE type = 'admin.device' ORDER BY id DESC")
    assert json.loads(data) == {"device": device_id, "kind": "kiosk", "active": False}
    assert "no device 99999" in runner.invoke(args=["device", "revoke", "99999"]).output


def test_a_disabled_user_is_signed_out_everywhere_and_a_new_password_ends_old_tokens(
    runner, client, rt, demo
):
    clerk = demo.clerks[0]
    login = {"username": clerk["username"], "password": clerk["password"]}
    token = bearer(client.post("/api/v1/auth/token", json=login).json["token"])
    queue = f"/api/v1/counters/{clerk['counter_id']}/queue"
    assert client.get(queue, headers=token).status_code == 200
    assert runner.invoke(args=["user", "disable", clerk["username"]]).exit_code == 0
    rt.principals.clear()
    assert client.get(queue, headers=token).status_code == 401
    assert client.post("/api/v1/auth/token", json=login).status_code == 401
    assert runner.invoke(args=["user", "enable", clerk["username"]]).exit_code == 0
    token = bearer(client.post("/api/v1/auth/token", json=login).json["token"])
    result = runner.invoke(args=["user", "password", clerk["username"],
                                 "--password", "a-new-long-one"])  # fmt: skip
    assert result.exit_code == 0, result.output
    rt.principals.clear()
    assert client.get(queue, headers=token).status_code == 401
    assert client.post("/api/v1/auth/token", json=login).status_code == 401
    login["password"] = "a-new-long-one"
    assert client.post("/api/v1/auth/token", json=login).status_code == 200
    short = runner.invoke(args=["user", "password", clerk["username"], "--password", "short"])
    assert short.exit_code != 0 and "at least 8 characters" in short.output
    assert "no user 'ghost'" in runner.invoke(args=["user", "disable", "ghost"]).output


def _some_events(rt):
    cid = None
    with rt.db.read() as session:
        from taboor.server.models import Center, Counter

        cid = session.scalar(select(Counter.id).join(Center, Center.id == Counter.center_id)
                             .where(Center.code == "DAM-MIDAN", Counter.number == 1))
    counter_ops.set_counter_state(rt.db, cid, "open", actor=SYSTEM, now=rt.now())
    for _ in range(3):
        ops.issue(rt.db, "DAM-MIDAN", "civil-extract-individual", actor=SYSTEM, now=rt.now(),
                  head_starts_s={})
    ops.call_next(rt.db, cid, actor=SYSTEM, now=rt.now())


def test_audit_verify_passes_on_an_intact_log(runner, rt):
    _some_events(rt)
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert "DAM-MIDAN: intact" in result.output


def _middle_ticket_event(rt):
    with rt.db.read() as session:
        return session.scalars(select(Event).where(Event.type == "ticket.issued")
                               .order_by(Event.seq)).all()[1]


def test_audit_verify_names_an_edited_event(runner, rt):
    _some_events(rt)
    target = _middle_ticket_event(rt)
    with rt.db.write() as session:
        session.execute(update(Event).where(Event.id == target.id)
                        .values(data='{"label": "A-099"}'))
    result = runner.invoke(args=["audit", "verify", "--center", "DAM-MIDAN"])
    assert result.exit_code == 1
    assert f"BROKEN at event {target.seq}" in result.output


def test_audit_verify_names_a_deleted_event(runner, rt):
    _some_events(rt)
    target = _middle_ticket_event(rt)
    with rt.db.write() as session:
        session.execute(delete(Event).where(Event.id == target.id))
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert f"BROKEN at event {target.seq}" in result.output


def test_audit_verify_notices_the_newest_event_removed(runner, rt):
    _some_events(rt)
    with rt.db.write() as session:
        newest = session.scalar(select(Event).order_by(Event.id.desc()).limit(1))
        session.execute(delete(Event).where(Event.id == newest.id))
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1 and f"BROKEN at event {newest.seq}" in result.output
