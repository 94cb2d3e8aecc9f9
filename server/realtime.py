"""Live updates over Socket.IO: "HTTP in, Socket.IO out" (DESIGN.md sections 1 and 4).

Every state change is an HTTP request that commits; the operation returns its
`Published` events and the API shell hands them to the app's publisher after the
commit. This module subscribes to that publisher and emits each event to the room
`center:<code>`. Socket handlers only authenticate, join rooms and answer pings.

The client contract:

1. Connect with `auth={"token": "<bearer token>"}` (staff and devices). A display
   of a center whose options have `"public_display": true` may connect without one.
   A bad or expired token is refused at connect (`connect_error` with
   `{"message", "data": {"code"}}`).
2. Emit `join` `{"center": "<code>"}` with an acknowledgement callback. The answer is
   `{"ok": true, "center", "seq"}` or `{"ok": false, "error": {"code", "message"}}`
   (`bad_join`, `center_not_found`, `center_forbidden`, `token_invalid`, ...).
3. Keep the last `seq` applied. For each event: `seq <= last` is already in the
   state (ignore it); `seq == last + 1` applies on top; `seq > last + 1` is a gap:
   refetch `GET /api/v1/centers/<code>/snapshot` and continue from its `seq`.
   After the join answer, and after every reconnect (rooms do not survive a
   reconnect: join again), compare the answer's `seq` with the last one and refetch
   the snapshot when they differ (or when there is no state yet).
4. `ping` `{"center": "<code>"}` (a joined center) answers `{"ok": true, "center",
   "seq"}`: a cheap way for an idle screen to notice missed events.

Sequence numbers are the event log's, per center. Events that are logged but not
pushed (administrative changes) also take a number, so a gap only ever costs a
refetch; and two requests committing at the same moment may publish out of order,
which rule 3 absorbs. The server joins the room before it reads the `seq` it
answers, so nothing committed after that `seq` can be missed.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

import socketio as socketio_lib
from flask import Flask, request
from flask_socketio import ConnectionRefusedError, SocketIO, join_room, rooms

from taboor.server import queries
from taboor.server.auth import Principal
from taboor.server.domain.errors import TaboorError, Unauthorized
from taboor.server.operations import Published, accounts
from taboor.server.runtime import Runtime, runtime

log = logging.getLogger(__name__)

socketio = SocketIO()

NAMESPACE = "/"
_MAX_CODE = 64


def room(center: str) -> str:
    """The room a center's live events go to."""
    return f"center:{center}"


def init_app(app: Flask, rt: Runtime) -> None:
    """Serve Socket.IO on `app` and push the publisher's events to the center rooms."""
    # SocketIO keeps options across init_app calls; a queue manager made for an earlier
    # app (another test, another settings file) must not leak into this one.
    socketio.server_options.pop("client_manager", None)
    socketio.init_app(
        app,
        async_mode=rt.settings.live_mode,
        message_queue=rt.settings.message_queue or None,
        # None: same origin only (the Origin header must match the Host). An empty
        # list would switch the origin check off altogether.
        cors_allowed_origins=None,
        logger=False,
        engineio_logger=False,
    )
    rt.publisher.subscribe(Forwarder(socketio.server))


class Forwarder:
    """A publisher subscriber: each committed event goes to its center's room."""

    def __init__(self, server: socketio_lib.Server) -> None:
        # Bound to this app's server: the module-level SocketIO is re-bound by every
        # create_app (tests make many apps), a running app keeps its own.
        self.server = server

    def __call__(self, event: Published) -> None:
        center = event.payload["center"]
        self.server.emit(
            event.name, room_payload(event.payload), to=room(str(center)), namespace=NAMESPACE
        )


# What a room may not hear about a ticket: a center's room can be public (anonymous
# displays), and the public id is the key to the ticket's status page, the priority
# class says something about its holder (elderly, disabled).
PRIVATE_TICKET_FIELDS = frozenset({"public_id", "priority"})


def room_payload(payload: dict[str, Any]) -> dict[str, Any]:
    """The event as the room gets it: the ticket without its private fields."""
    ticket = payload.get("ticket")
    if not isinstance(ticket, dict):
        return payload
    public = {k: v for k, v in ticket.items() if k not in PRIVATE_TICKET_FIELDS}
    return {**payload, "ticket": public}


# --- handlers --------------------------------------------------------------------------


def _error(code: str, message: str) -> dict[str, object]:
    return {"ok": False, "error": {"code": code, "message": message}}


def _answering(handler: Callable[..., dict[str, object]]) -> Callable[..., dict[str, object]]:
    """Turn domain errors into an error answer; nothing escapes a handler."""

    @functools.wraps(handler)
    def wrapper(*args: Any) -> dict[str, object]:
        try:
            return handler(*args)
        except TaboorError as exc:
            return _error(exc.code, exc.message)
        except Exception:  # a bug or a database outage: answer, log, keep the socket
            log.exception("socket handler %s failed", handler.__name__)
            return _error("internal_error", "the server could not answer; try again")

    return wrapper


def _session() -> dict[str, Any]:
    """This connection's own dict, in the WSGI environ the server keeps per connection."""
    return request.environ.setdefault("taboor.socket", {})


def _principal() -> Principal | None:
    """Whom this connection stands for, checked again (revoked tokens stop joining)."""
    token = _session().get("token")
    if token is None:
        return None
    rt = runtime()
    return accounts.principal_for(rt.db, rt.tokens, token, rt.principals)


def _center_code(data: object) -> str | None:
    if not isinstance(data, dict):
        return None
    code = data.get("center")
    if not isinstance(code, str) or not 0 < len(code) <= _MAX_CODE:
        return None
    return code


def may_watch(principal: Principal | None, center: dict[str, object]) -> bool:
    """Staff and devices watch their own center (admins any); anyone a public display."""
    if principal is None:
        options = center.get("options") or {}
        return isinstance(options, dict) and options.get("public_display") is True
    return principal.kind == "system" or principal.in_center(center["id"])  # type: ignore[arg-type]


@socketio.on("connect")
def on_connect(auth: object = None) -> None:
    """Authenticate the connection from its `auth` token (none: anonymous)."""
    token = None
    if isinstance(auth, dict):
        token = auth.get("token")
    elif auth is not None:
        raise ConnectionRefusedError('auth must be {"token": "..."}', {"code": "bad_auth"})
    if token is not None and (not isinstance(token, str) or not token.strip()):
        raise ConnectionRefusedError("the token must be a non-empty string", {"code": "bad_auth"})
    if token is None:
        return
    token = token.strip()
    rt = runtime()
    try:
        accounts.principal_for(rt.db, rt.tokens, token, rt.principals)
    except Unauthorized as exc:
        raise ConnectionRefusedError(exc.message, {"code": exc.code}) from None
    except Exception:
        log.exception("socket authentication failed")
        raise ConnectionRefusedError(
            "the server could not check the token; try again", {"code": "internal_error"}
        ) from None
    _session()["token"] = token


def _current(code: str) -> dict[str, object]:
    """The answer to a join or ping: the center's current event sequence number."""
    with runtime().db.reading() as tx:
        seq = queries.find_center(tx, code)["event_seq"]
    return {"ok": True, "center": code, "seq": seq}


@socketio.on("join")
@_answering
def on_join(data: object = None) -> dict[str, object]:
    """Join a center's room; answer with the center's current seq."""
    code = _center_code(data)
    if code is None:
        return _error("bad_join", 'send {"center": "<center code>"}')
    principal = _principal()
    with runtime().db.reading() as tx:
        center = queries.find_center(tx, code)
    if not may_watch(principal, center):
        if principal is None:
            return _error("center_forbidden", f"{code} has no public display; connect with a token")
        return _error("center_forbidden", f"you may not watch {code}")
    join_room(room(code))
    # Read the seq after joining: whatever commits later reaches this client.
    return _current(code)


@socketio.on("ping")
@_answering
def on_ping(data: object = None) -> dict[str, object]:
    """The current seq of a joined center."""
    code = _center_code(data)
    if code is None:
        return _error("bad_ping", 'send {"center": "<center code>"}')
    if room(code) not in rooms():
        return _error("not_joined", f"join {code} first")
    return _current(code)


@socketio.on_error_default
def on_error(exc: Exception) -> dict[str, object]:
    """Last resort for an event without a handler of its own."""
    log.error("socket event failed", exc_info=exc)
    return _error("internal_error", "the server could not answer; try again")
