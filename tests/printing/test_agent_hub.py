"""The server's side of the kiosk print agent: jobs go out over Socket.IO, answers come back."""

from __future__ import annotations

import json
import time

import pytest

from taboor.printers.agent import job_from_message
from taboor.server.auth import SYSTEM
from taboor.server.operations.accounts import create_device
from taboor.server.publish import Recorder
from taboor.server.realtime import socketio
from tests.conftest import bearer

CENTER = "DAM-MIDAN"
URL = f"/api/v1/centers/{CENTER}/tickets"
EXTRACT = "civil-extract-individual"


@pytest.fixture
def agent_printing(rt):
    """Kiosks without a printer of their own print through their agent."""
    rt.settings = rt.settings.replace(printer="agent")
    return rt


def issue(client, headers) -> dict:
    response = client.post(URL, json={"service": EXTRACT}, headers=headers)
    assert response.status_code == 201, response.json
    return response.json


def job_row(rt, job_id: int) -> tuple:
    with rt.db.reading() as tx:
        return tx.one(
            "SELECT state, attempts, error_code, device_id FROM print_jobs WHERE id = :id",
            {"id": job_id},
        )


def printer_state(rt, device_id: int) -> str:
    with rt.db.reading() as tx:
        return tx.scalar("SELECT printer_state FROM devices WHERE id = :id", {"id": device_id})


def agent(app, token: str | None):
    return socketio.test_client(app, auth=None if token is None else {"token": token})


def hello(sio) -> dict:
    return sio.emit("agent.hello", {"paper": 80}, callback=True)


def jobs(sio) -> list[dict]:
    return [e["args"][0] for e in sio.get_received() if e["name"] == "print.job"]


def ack(sio, job: int, ok: bool = True, error: object = None) -> dict:
    payload: dict[str, object] = {"job": job, "ok": ok}
    if error is not None:
        payload["error"] = error
    return sio.emit("print.ack", payload, callback=True)


def test_the_server_spooler_does_not_print_agent_jobs(agent_printing, client, kiosk):
    rt = agent_printing
    job = issue(client, kiosk)["print"]["job"]
    assert rt.spooler.drain(30)
    state, attempts, error, device = job_row(rt, job)
    # Not tried: the spooler cannot print "agent", it would have recorded a failure.
    assert (state, attempts, error) == ("queued", 0, None)
    assert printer_state(rt, device) == "unknown"


def test_an_agent_is_sent_its_queued_jobs_oldest_first_then_new_ones_after_the_commit(
    app, agent_printing, client, kiosk, demo
):
    rt = agent_printing
    first, second = issue(client, kiosk), issue(client, kiosk)
    assert rt.spooler.drain(30)
    sio = agent(app, demo.device("kiosk")["token"])
    answer = hello(sio)
    assert answer["ok"] and answer["queued"] == 2
    backlog = jobs(sio)
    assert [m["job"] for m in backlog] == [first["print"]["job"], second["print"]["job"]]
    assert [m["label"] for m in backlog] == [first["label"], second["label"]]
    received = job_from_message(backlog[0])
    assert received.public_id == first["public_id"]
    assert received.ticket.status_url.endswith(f"/t/{first['public_id']}")
    assert received.ticket.ahead == 0 and received.ticket.center_en

    third = issue(client, kiosk)
    assert rt.spooler.drain(30)
    assert [m["job"] for m in jobs(sio)] == [third["print"]["job"]]
    assert job_row(rt, third["print"]["job"])[0] == "queued"


def test_an_acknowledged_job_is_printed_once_and_a_repeated_answer_changes_nothing(
    app, agent_printing, client, kiosk, demo
):
    rt = agent_printing
    events = Recorder()
    rt.publisher.subscribe(events)
    job = issue(client, kiosk)["print"]["job"]
    assert rt.spooler.drain(30)  # its push is out: the job comes with the hello, once
    sio = agent(app, demo.device("kiosk")["token"])
    hello(sio)
    answer = ack(sio, job)
    assert answer == {"ok": True, "job": job, "state": "printed", "error": None}
    again = ack(sio, job)
    assert again["ok"] and again["duplicate"] is True and again["state"] == "printed"
    state, attempts, _, device = job_row(rt, job)
    assert (state, attempts) == ("printed", 1)
    changed = [e.payload for e in events.events if e.name == "device.changed"]
    assert [c["device"]["printer_state"] for c in changed] == ["ok"]
    assert printer_state(rt, device) == "ok"
    # Answered jobs are not sent again after a reconnect.
    sio.disconnect()
    later = agent(app, demo.device("kiosk")["token"])
    assert hello(later)["queued"] == 0 and jobs(later) == []


def test_an_agent_reporting_paper_low_tells_the_managers(app, agent_printing, client, kiosk, demo):
    rt = agent_printing
    events = Recorder()
    rt.publisher.subscribe(events)
    first, second = (issue(client, kiosk)["print"]["job"] for _ in range(2))
    assert rt.spooler.drain(30)
    sio = agent(app, demo.device("kiosk")["token"])
    hello(sio)
    assert sio.emit("print.ack", {"job": first, "ok": True, "paper": "paper_low"},
                    callback=True)["state"] == "printed"  # fmt: skip
    assert printer_state(rt, job_row(rt, first)[3]) == "paper_low"
    assert ack(sio, second)["state"] == "printed"  # a new roll went in
    changed = [e.payload["device"]["printer_state"] for e in events.events
               if e.name == "device.changed"]  # fmt: skip
    assert changed == ["paper_low", "ok"]


def test_a_failed_print_keeps_the_job_with_the_agents_error_for_a_reprint(
    app, agent_printing, client, kiosk, clerk, demo
):
    rt = agent_printing
    events = Recorder()
    rt.publisher.subscribe(events)
    ticket = issue(client, kiosk)
    job = ticket["print"]["job"]
    assert rt.spooler.drain(30)  # its push is out before the agent says hello
    sio = agent(app, demo.device("kiosk")["token"])
    hello(sio)
    assert [m["job"] for m in jobs(sio)] == [job]
    answer = ack(sio, job, ok=False, error={"code": "paper_out", "message": "no paper"})
    assert answer["ok"] and answer["state"] == "failed" and answer["error"] == "paper_out"
    assert job_row(rt, job)[:3] == ("failed", 1, "paper_out")
    [changed] = [e.payload for e in events.events if e.name == "device.changed"]
    assert changed["device"]["printer_state"] == "paper_out"
    assert changed["device"]["error"] == "no paper"

    reprint = client.post(f"/api/v1/tickets/{ticket['id']}/reprint", headers=clerk)
    assert reprint.status_code == 202
    assert rt.spooler.drain(30)
    [resent] = jobs(sio)
    assert resent["job"] == reprint.json["job"] and resent["label"] == ticket["label"]
    assert job_row(rt, resent["job"])[0] == "queued"


@pytest.mark.parametrize(
    ("error", "code"),
    [
        ("the printer fell over", "agent_error"),
        ({"code": "NOT A CODE", "message": "x"}, "agent_error"),
        ({"code": "x" * 33}, "agent_error"),
        ({"code": "offline", "message": "\x00" * 2000}, "offline"),
    ],
)
def test_an_agents_error_is_recorded_within_the_columns_limits(
    app, agent_printing, client, kiosk, demo, error, code
):
    job = issue(client, kiosk)["print"]["job"]
    sio = agent(app, demo.device("kiosk")["token"])
    hello(sio)
    assert ack(sio, job, ok=False, error=error)["error"] == code
    with agent_printing.db.reading() as tx:
        message = tx.scalar("SELECT error FROM print_jobs WHERE id = :id", {"id": job})
    assert "\x00" not in message and 0 < len(message) <= 500


def test_only_a_kiosks_token_makes_an_agent(app, agent_printing, demo):
    display = agent(app, demo.device("display")["token"])
    answer = hello(display)
    assert answer["ok"] is False and answer["error"]["code"] == "agent_forbidden"
    anonymous = agent(app, None)
    assert hello(anonymous)["error"]["code"] == "token_required"
    assert ack(anonymous, 1)["error"]["code"] == "token_required"


def test_an_agent_cannot_answer_for_another_kiosks_job(app, agent_printing, client, kiosk):
    rt = agent_printing
    job = issue(client, kiosk)["print"]["job"]
    _, token = create_device(rt.db, "kiosk", CENTER, name="k2", actor=SYSTEM, now=rt.now())
    other = agent(app, token)
    assert hello(other)["queued"] == 0
    answer = ack(other, job)
    assert answer["ok"] is False and answer["error"]["code"] == "print_job_not_found"
    assert job_row(rt, job)[0] == "queued"


def test_an_agent_cannot_answer_a_job_the_server_prints(app, rt, client, demo, tmp_path):
    _, token = create_device(
        rt.db, "kiosk", CENTER, name="k3", printer=f"file:{tmp_path}", actor=SYSTEM, now=rt.now()
    )
    rt.spooler.submit = lambda job_ids: None  # keep it queued
    job = issue(client, bearer(token))["print"]["job"]
    answer = ack(agent(app, token), job)
    assert answer["error"]["code"] == "print_job_not_found"


@pytest.mark.parametrize(
    "payload",
    [None, [], {"job": "1", "ok": True}, {"job": 1}, {"job": True, "ok": True},
     {"job": 2**64, "ok": True}, {"job": 1, "ok": "yes"}],
)  # fmt: skip
def test_a_malformed_answer_is_refused(app, agent_printing, demo, payload):
    sio = agent(app, demo.device("kiosk")["token"])
    answer = sio.emit("print.ack", payload, callback=True)
    assert answer["ok"] is False and answer["error"]["code"] == "bad_ack"


def test_an_agent_job_without_a_kiosk_fails_instead_of_waiting_for_ever(
    agent_printing, client, clerk
):
    rt = agent_printing
    ticket = issue(client, clerk)  # staff tickets are not printed at issue
    assert "print" not in ticket
    reprint = client.post(f"/api/v1/tickets/{ticket['id']}/reprint", headers=clerk)
    assert reprint.status_code == 202
    assert rt.spooler.drain(30)
    assert job_row(rt, reprint.json["job"])[:3] == ("failed", 1, "no_agent")


def test_agent_jobs_left_at_a_restart_wait_for_the_agent(agent_printing, client, kiosk):
    rt = agent_printing
    job = issue(client, kiosk)["print"]["job"]
    assert rt.spooler.drain(30)
    assert rt.spooler.resume() == 0
    assert rt.spooler.drain(30)
    assert job_row(rt, job)[:2] == ("queued", 0)


def test_a_kiosk_whose_own_printer_is_agent_prints_through_it(app, rt, client):
    _, token = create_device(
        rt.db, "kiosk", CENTER, name="ka", printer="agent", actor=SYSTEM, now=rt.now()
    )
    job = issue(client, bearer(token))["print"]["job"]
    assert rt.spooler.drain(30)
    assert job_row(rt, job)[:2] == ("queued", 0)
    assert hello(agent(app, token))["queued"] == 1


# --- stale jobs: a ticket prints on its own day, while it waits ---------------------------


def test_a_job_of_an_earlier_day_is_not_sent_and_fails_as_stale(
    app, agent_printing, client, kiosk, clerk, demo, clock
):
    rt = agent_printing
    yesterday = issue(client, kiosk)
    job = yesterday["print"]["job"]
    assert rt.spooler.drain(30)  # no agent all day: the job waits
    clock.advance(days=1)
    sio = agent(app, demo.device("kiosk")["token"])
    answer = hello(sio)
    assert answer["ok"] and answer["queued"] == 0
    assert jobs(sio) == []
    state, attempts, error, device = job_row(rt, job)
    # No printer was tried, and the printer's state is not a ticket's business.
    assert (state, attempts, error) == ("failed", 0, "stale")
    assert printer_state(rt, device) == "unknown"

    # Staff may still reprint it: a new job, which goes stale too rather than out.
    reprint = client.post(f"/api/v1/tickets/{yesterday['id']}/reprint", headers=clerk)
    assert reprint.status_code == 202
    assert rt.spooler.drain(30)
    assert jobs(sio) == []
    assert job_row(rt, reprint.json["job"])[:3] == ("failed", 0, "stale")

    # Today's tickets still print.
    today = issue(client, kiosk)
    assert rt.spooler.drain(30)
    assert [m["job"] for m in jobs(sio)] == [today["print"]["job"]]
    assert job_row(rt, today["print"]["job"])[0] == "queued"


def test_a_job_whose_ticket_was_called_is_not_sent_and_a_reprint_once_it_waits_again_is(
    app, agent_printing, client, kiosk, clerk, demo
):
    rt = agent_printing
    counter = demo.clerks[0]["counter_id"]
    assert client.post(f"/api/v1/counters/{counter}/open", headers=clerk).status_code == 200
    ticket = issue(client, kiosk)
    job = ticket["print"]["job"]
    assert rt.spooler.drain(30)
    called = client.post(f"/api/v1/counters/{counter}/next", headers=clerk)
    assert called.status_code == 200 and called.json["id"] == ticket["id"]

    # At the hello: the backlog leaves it out.
    sio = agent(app, demo.device("kiosk")["token"])
    assert hello(sio)["queued"] == 0 and jobs(sio) == []
    assert job_row(rt, job)[:3] == ("failed", 0, "stale")

    # Before a push: a reprint of the called ticket is not sent either.
    reprint = client.post(f"/api/v1/tickets/{ticket['id']}/reprint", headers=clerk)
    assert reprint.status_code == 202
    assert rt.spooler.drain(30)
    assert jobs(sio) == []
    assert job_row(rt, reprint.json["job"])[:3] == ("failed", 0, "stale")

    # Transferred, it waits again (today): a reprint goes to the agent.
    moved = client.post(
        f"/api/v1/tickets/{ticket['id']}/transfer",
        json={"service": "general-inquiry"},
        headers=clerk,
    )
    assert moved.status_code == 200 and moved.json["state"] == "waiting"
    again = client.post(f"/api/v1/tickets/{ticket['id']}/reprint", headers=clerk)
    assert again.status_code == 202
    assert rt.spooler.drain(30)
    [sent] = jobs(sio)
    assert sent["job"] == again.json["job"] and sent["label"] == ticket["label"]
    assert job_row(rt, sent["job"])[:2] == ("queued", 0)


# --- the kiosk's printer state follows its agent's connection ------------------------------


def kiosk_id(rt, demo) -> int:
    with rt.db.reading() as tx:
        return tx.scalar(
            "SELECT id FROM devices WHERE kind = 'kiosk' AND name = :name",
            {"name": demo.device("kiosk")["name"]},
        )


def device_changes(events: Recorder) -> list[str]:
    return [
        e.payload["device"]["printer_state"] for e in events.events if e.name == "device.changed"
    ]


def eventually(condition, seconds: float = 10.0) -> None:
    """Wait for what a background task records (no timing is asserted)."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "not recorded in time"
        time.sleep(0.02)


def test_while_no_agent_is_connected_the_kiosks_printer_is_offline(app, agent_printing, demo):
    rt = agent_printing
    events = Recorder()
    rt.publisher.subscribe(events)
    kiosk = kiosk_id(rt, demo)
    token = demo.device("kiosk")["token"]
    # The kiosk's own screen connects with the same token; it is no agent.
    screen = agent(app, token)
    sio = agent(app, token)
    assert hello(sio)["ok"]
    screen.disconnect()
    assert printer_state(rt, kiosk) == "unknown" and device_changes(events) == []

    sio.disconnect()  # recorded in the background, after the socket has closed
    eventually(lambda: printer_state(rt, kiosk) == "offline")
    [changed] = [e.payload for e in events.events if e.name == "device.changed"]
    assert changed["center"] == CENTER and changed["device"]["id"] == kiosk
    assert changed["device"]["printer_state"] == "offline"

    back = agent(app, token)
    assert hello(back)["ok"]
    assert printer_state(rt, kiosk) == "ok"
    assert device_changes(events) == ["offline", "ok"]
    with rt.db.reading() as tx:  # in the center's event log too, with the cause
        logged = [
            json.loads(data)
            for (data,) in tx.all(
                "SELECT data FROM events WHERE type = 'device.changed' ORDER BY seq", {}
            )
        ]
    assert [(d["printer_state"], d["agent"]) for d in logged] == [
        ("offline", "disconnected"),
        ("ok", "connected"),
    ]


def test_a_kiosk_with_a_printer_of_its_own_keeps_the_state_its_printer_reported(app, rt, tmp_path):
    device, token = create_device(
        rt.db, "kiosk", CENTER, name="kf", printer=f"file:{tmp_path}", actor=SYSTEM, now=rt.now()
    )
    sio = agent(app, token)
    assert hello(sio)["ok"]
    sio.disconnect()
    assert printer_state(rt, device.id) == "unknown"


def test_a_second_agent_of_the_same_kiosk_disconnects_the_first(
    app, agent_printing, client, kiosk, demo
):
    rt = agent_printing
    events = Recorder()
    rt.publisher.subscribe(events)
    token = demo.device("kiosk")["token"]
    first, second = agent(app, token), agent(app, token)
    assert hello(first)["ok"]
    first_received = first.get_received()
    assert hello(second)["ok"]
    replaced = [e for e in first.queue if e["name"] == "agent.replaced"]
    assert [e["args"][0] for e in replaced] == [{"device": kiosk_id(rt, demo)}]
    assert not first.is_connected() and second.is_connected()
    assert not [e for e in first_received if e["name"] == "agent.replaced"]
    # The kiosk is served all along: replacing its agent does not make it offline.
    assert device_changes(events) == []

    job = issue(client, kiosk)["print"]["job"]
    assert rt.spooler.drain(30)
    assert [m["job"] for m in jobs(second)] == [job]
    assert not [e for e in first.queue if e["name"] == "print.job"]

    second.disconnect()
    eventually(lambda: device_changes(events) == ["offline"])
