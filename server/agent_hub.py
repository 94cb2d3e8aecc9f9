"""Kiosk print agents over Socket.IO: a kiosk whose printer is `agent` prints through a
program on the kiosk PC (`printers/agent.py`, `taboor agent`), not through the server.

The contract:

1. The agent connects with the kiosk's device token (`auth={"token": ...}`, as every
   device does) and emits `agent.hello` (any payload) with an acknowledgement callback.
   The server joins it to the room `agent:<device id>`, then sends it every queued
   job of its kiosk, oldest first, as `print.job`, and answers
   `{"ok": true, "device", "queued"}` (or `{"ok": false, "error": {"code", "message"}}`:
   `token_required`, `agent_forbidden` for a token that is not a kiosk's, ...).
   Rooms do not survive a reconnect: the agent says hello again after each one.
   One agent prints for a kiosk: a hello with the token of a kiosk another connection
   already serves sends that older connection `agent.replaced` `{"device"}` and
   disconnects it (an agent that gets it stops instead of coming back, or the two
   would take turns). The newer one wins: it is the agent that restarted, the older
   connection is most often a dead one the server has not noticed yet.
2. Every job of the kiosk committed later (a ticket issued at the kiosk, a reprint)
   is pushed to the room as `print.job` after the commit, by the spooler's lane.
   `print.job` is `{"job": <id>, "public_id", "label", "ticket": {...}}` where `ticket`
   is the printed content (`printers.agent.ticket_to_wire`).
3. The agent answers each job with `print.ack` `{"job", "ok": true}` (with
   `"paper": "paper_low"` when the printer said its roll is nearly out) or
   `{"job", "ok": false, "error": {"code", "message"}}`. The server records the
   result (the job becomes `printed` or `failed`, and a change of the kiosk's printer
   state, `paper_low` included, is a `device.changed` event) and answers
   `{"ok": true, "job", "state"}`.
   A job is answered once: a repeated answer gets `"duplicate": true` and changes
   nothing. A failed job is kept for staff to reprint, like the spooler's.
4. A job is sent only while its ticket can be used: on the ticket's business day and
   while it waits (`server/operations/printing.py`). The others are not sent; they fail as
   `stale`, at the hello and before each push.
5. While no agent is connected, a kiosk that prints through its agent has the printer
   state `offline` (set when the agent's connection ends, `ok` again at its hello),
   with a `device.changed` event for managers.

The server sends what is printed, not the printed bytes: the agent renders the
ticket for its own paper width (the server does not know which roll a kiosk has), a
message is a few hundred bytes instead of tens of kilobytes of raster, and a `pdf:`
printer on the kiosk PC gets real text. Jobs are delivered at least once (the hello
joins the room before it reads the backlog, so a job committed in between arrives
twice); the agent's journal makes printing happen at most once.

Handlers only check who is asking and translate; the rules live in
`server/operations/printing.py`.

Which connection serves which kiosk is known to the process that holds the connection.
With several server processes (a message queue), the `agent.replaced` notice still
reaches an older agent on another process through the room, but the `offline` state
is kept per process: a process that notices a connection end after the agent said
hello to another process sets `offline` until the next hello.
"""

from __future__ import annotations

import logging
import re
import threading

from flask import Flask, current_app, request
from flask_socketio import join_room
from socketio import Server

from taboor.printers.agent import ticket_to_wire
from taboor.server.auth import DeviceKind, Principal
from taboor.server.domain.errors import Forbidden, Unauthorized
from taboor.server.operations import Published
from taboor.server.operations.printing import (
    JobToPrint,
    acknowledge,
    agent_backlog,
    agent_presence,
    expire,
    is_stale,
    job_to_print,
)
from taboor.server.realtime import NAMESPACE, _answering, _error, _principal, socketio
from taboor.server.runtime import Runtime, runtime
from taboor.server.spooler import ticket_print

log = logging.getLogger(__name__)

_EXTENSION = "taboor.agents"
_ERROR_CODE = re.compile(r"[a-z][a-z0-9_]{0,31}")
_MAX_ERROR = 500
_MAX_ID = 2**63 - 1


def agent_room(device_id: int) -> str:
    """The room a kiosk's print agent listens in."""
    return f"agent:{device_id}"


def job_message(job: JobToPrint) -> dict[str, object]:
    """The `print.job` payload: the job and what to print, for the agent to render."""
    return {
        "job": job.id,
        "public_id": job.ticket["public_id"],
        "label": job.label,
        "ticket": ticket_to_wire(ticket_print(job)),
    }


class AgentHub:
    """Sends committed jobs to the kiosks' agents (the spooler's sink for agent jobs), and
    keeps one agent per kiosk."""

    def __init__(self, server: Server, rt: Runtime) -> None:
        # Bound to this app's server, like the realtime Forwarder.
        self.server = server
        self.rt = rt
        # The connection that prints for each kiosk, and the kiosk of each such
        # connection. The lock also orders the printer-state writes of one kiosk's
        # hellos and disconnects: the last one to happen is the state that stays.
        self._lock = threading.Lock()
        self._serving: dict[int, str] = {}
        self._kiosks: dict[str, int] = {}

    def deliver(self, job: JobToPrint) -> None:
        """Push one committed job to its kiosk's agent, if the agent is listening."""
        assert job.device_id is not None
        self.server.emit(
            "print.job", job_message(job), to=agent_room(job.device_id), namespace=NAMESPACE
        )

    def send_backlog(self, device_id: int, sid: str) -> int:
        """Send one agent every queued job of its kiosk still to print, oldest first;
        returns how many."""
        sent = 0
        for job_id in agent_backlog(self.rt.db, device_id, now=self.rt.now()):
            job = job_to_print(self.rt.db, job_id)
            if job is None:  # answered meanwhile
                continue
            now = self.rt.now()
            if is_stale(job, now):  # called (or the day ended) meanwhile
                expire(self.rt.db, [job.id], now=now)
                continue
            self.server.emit("print.job", job_message(job), to=sid, namespace=NAMESPACE)
            sent += 1
        return sent

    def serve(self, device_id: int, sid: str) -> None:
        """Make this connection the kiosk's one agent; an older one is told and dropped."""
        with self._lock:
            older = self._serving.get(device_id)
            self._serving[device_id] = sid
            self._kiosks[sid] = device_id
            if older == sid:  # a second hello on the same connection
                older = None
            elif older is not None:
                # Its disconnect below must not mark the kiosk offline.
                self._kiosks.pop(older, None)
            events = self._presence(device_id, connected=True)
        self.rt.publisher.publish(events)
        # Through the room, so an older agent on another server process hears it too.
        self.server.emit(
            "agent.replaced",
            {"device": device_id},
            to=agent_room(device_id),
            skip_sid=sid,
            namespace=NAMESPACE,
        )
        if older is not None:
            log.warning("kiosk %s: a new print agent replaces connection %s", device_id, older)
            self.server.disconnect(older, namespace=NAMESPACE)

    def gone(self, sid: str) -> None:
        """A connection ended: if it was a kiosk's agent, the kiosk's printer is offline."""
        with self._lock:
            device_id = self._kiosks.pop(sid, None)
            if device_id is None or self._serving.get(device_id) != sid:
                return
            del self._serving[device_id]
            events = self._presence(device_id, connected=False)
        self.rt.publisher.publish(events)

    def _presence(self, device_id: int, *, connected: bool) -> list[Published]:
        return agent_presence(
            self.rt.db,
            device_id,
            connected=connected,
            default_printer=self.rt.settings.printer,
            now=self.rt.now(),
        )


def init_app(app: Flask, rt: Runtime, server: Server) -> None:
    """Hand the spooler's agent jobs to this app's Socket.IO server."""
    hub = AgentHub(server, rt)
    app.extensions[_EXTENSION] = hub
    rt.spooler.agents = hub.deliver
    # Registered on each app's server: SocketIO keeps decorated handlers for later
    # servers only when they are declared before the first init_app.
    socketio.on_event("agent.hello", on_agent_hello)
    socketio.on_event("print.ack", on_print_ack)
    # The only disconnect handler: realtime has none (rooms are left by the server).
    socketio.on_event("disconnect", on_disconnect)


def _hub() -> AgentHub:
    return current_app.extensions[_EXTENSION]


def _kiosk() -> Principal:
    """The kiosk this connection speaks for (its token checked again)."""
    principal = _principal()
    if principal is None:
        raise Unauthorized("connect with the kiosk's device token", code="token_required")
    if principal.kind != "device" or principal.role != DeviceKind.KIOSK:
        raise Forbidden("only a kiosk's print agent takes print jobs", code="agent_forbidden")
    return principal


@_answering
def on_agent_hello(data: object = None) -> dict[str, object]:
    """Listen for the kiosk's jobs; be sent the ones still queued."""
    kiosk = _kiosk()
    assert kiosk.id is not None
    sid: str = request.sid  # type: ignore[attr-defined]
    hub = _hub()
    # Join first, read the backlog second: a job committed in between is sent twice
    # (the agent prints it once), never missed.
    join_room(agent_room(kiosk.id))
    hub.serve(kiosk.id, sid)
    queued = hub.send_backlog(kiosk.id, sid)
    return {"ok": True, "device": kiosk.id, "queued": queued}


def on_disconnect(reason: object = None) -> None:
    """A connection ended; a kiosk whose agent it was has no printer until the next hello."""
    # Recorded in the background: a database write and an emit inside the disconnect
    # handler held up the end of the WebSocket, and the leaving agent waited for its
    # read timeout (30 s) before it could exit.
    socketio.start_background_task(_record_gone, _hub(), request.sid)  # type: ignore[attr-defined]


def _record_gone(hub: AgentHub, sid: str) -> None:
    try:
        hub.gone(sid)
    except Exception:  # a database outage: the next hello puts the state right
        log.exception("could not record that a print agent went away")


def _failure(error: object) -> tuple[str, str]:
    """The error code and message of a failed print, as the agent reported them."""
    code, given = "agent_error", error
    if isinstance(error, dict):
        given_code, given = error.get("code"), error.get("message")
        if isinstance(given_code, str) and _ERROR_CODE.fullmatch(given_code):
            code = given_code
    # PostgreSQL text holds no NUL; a message is for people, not a novel.
    message = given.replace("\x00", "").strip()[:_MAX_ERROR] if isinstance(given, str) else ""
    return code, message or "the print agent could not print the ticket"


@_answering
def on_print_ack(data: object = None) -> dict[str, object]:
    """Record how a job went on the kiosk's printer."""
    kiosk = _kiosk()
    assert kiosk.id is not None
    job = data.get("job") if isinstance(data, dict) else None
    ok = data.get("ok") if isinstance(data, dict) else None
    if (
        not isinstance(job, int)
        or isinstance(job, bool)
        or not 0 < job <= _MAX_ID
        or not isinstance(ok, bool)
    ):
        return _error("bad_ack", 'send {"job": <id>, "ok": true|false, "error"?: {...}}')
    code: str | None = None
    message: str | None = None
    if not ok:
        code, message = _failure(data.get("error"))  # type: ignore[union-attr]
    paper = "paper_low" if data.get("paper") == "paper_low" else "ok"  # type: ignore[union-attr]
    rt = runtime()
    outcome = acknowledge(
        rt.db, job, device_id=kiosk.id, error_code=code, error=message, now=rt.now(), paper=paper
    )
    rt.publisher.publish(outcome.events)
    if code is not None:
        log.warning("print job %s failed at kiosk %s: %s: %s", job, kiosk.id, code, message)
    return {"ok": True, **(outcome.body or {})}
