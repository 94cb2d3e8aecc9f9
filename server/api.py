"""The public JSON API, /api/v1 (DESIGN.md section 4). Views translate and nothing more."""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, jsonify, request

from taboor.server import accounts, print_jobs, queries, reports
from taboor.server.auth import Principal
from taboor.server.domain.counters import CounterState
from taboor.server.domain.errors import InvalidInput, Unauthorized
from taboor.server.domain.tickets import Action
from taboor.server.domain.times import iso
from taboor.server.openapi import openapi_document
from taboor.server.operations import Outcome
from taboor.server.operations import counters as counter_ops
from taboor.server.operations import tickets as ticket_ops
from taboor.server.runtime import runtime

bp = Blueprint("api", __name__, url_prefix="/api/v1")

_MISSING = object()
MAX_ID = 2**63 - 1  # the largest id a database integer column holds
MAX_TEXT = 1000


def _body() -> dict[str, Any]:
    """The request's JSON object ({} when there is no body)."""
    raw = request.get_data(cache=True)
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise InvalidInput("the body is not valid JSON", code="bad_json") from None
    if not isinstance(body, dict):
        raise InvalidInput("the body must be a JSON object", code="bad_json")
    return body


def _field(
    body: dict[str, Any],
    name: str,
    kind: type,
    *,
    required: bool = True,
    default: Any = None,
) -> Any:
    value = body.get(name, _MISSING)
    if value is _MISSING or value is None:
        if required:
            raise InvalidInput(f"{name} is required", field=name, code="missing_field")
        return default
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise InvalidInput(f"{name} must be a {kind.__name__}", field=name)
    if kind is int and not 0 < value <= MAX_ID:
        raise InvalidInput(f"{name} must be between 1 and {MAX_ID}", field=name)
    if kind is str:
        _check_text(name, value)
    return value


def _check_text(name: str, value: str) -> None:
    # PostgreSQL text cannot hold NUL, and no name, code or reason needs it or a novel.
    if "\x00" in value or len(value) > MAX_TEXT:
        raise InvalidInput(f"{name} must be text of at most {MAX_TEXT} characters", field=name)


def _arg(name: str) -> str | None:
    """A query-string argument, checked like a body field."""
    value = request.args.get(name)
    if value is not None:
        _check_text(name, value)
    return value


def _bearer() -> str | None:
    """The request's bearer token, None without one."""
    header = request.headers.get("Authorization")
    if header is None:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("use 'Authorization: Bearer <token>'", code="token_invalid")
    return token.strip()


def _required_bearer() -> str:
    token = _bearer()
    if token is None:
        raise Unauthorized("a bearer token is required", code="token_required")
    return token


def _principal() -> Principal | None:
    token = _bearer()
    if token is None:
        return None
    rt = runtime()
    return accounts.principal_for(rt.db, rt.tokens, token, rt.principals)


def _actor() -> Principal:
    principal = _principal()
    if principal is None:
        raise Unauthorized("a bearer token is required", code="token_required")
    return principal


def _answer(outcome: Outcome, status: int = 200) -> Response | tuple[str, int]:
    """Publish the committed events and hand committed print jobs over, then answer."""
    rt = runtime()
    rt.publisher.publish(outcome.events)
    rt.spooler.submit(outcome.print_jobs)
    if outcome.body is None:
        return "", 204
    response = jsonify(outcome.body)
    response.status_code = status
    return response


@bp.get("/openapi.json")
def openapi():
    """The OpenAPI document describing every route."""
    return jsonify(openapi_document())


@bp.post("/auth/token")
def auth_token():
    """Exchange a staff username and password for a bearer token."""
    body = _body()
    username = _field(body, "username", str)
    password = _field(body, "password", str)
    rt = runtime()
    token, user = accounts.login(
        rt.db, rt.tokens, username, password,
        throttle=rt.logins, address=request.remote_addr or "",
    )  # fmt: skip
    return jsonify(
        {
            "token": token,
            "role": user.role,
            "expires_in": rt.tokens.max_age_s,
            "counter_id": user.counter_id,
        }
    )


@bp.delete("/auth/token")
def sign_out():
    """Sign the bearer staff token out: it is refused from now on."""
    rt = runtime()
    accounts.revoke(rt.db, rt.tokens, _required_bearer(), cache=rt.principals)
    return "", 204


@bp.get("/centers")
def centers():
    """All centers."""
    with runtime().db.reading() as tx:
        return jsonify(queries.list_centers(tx))


@bp.get("/centers/<code:center>")
def center(center: str):
    """One center."""
    with runtime().db.reading() as tx:
        return jsonify(queries.center_view(queries.find_center(tx, center)))


@bp.get("/centers/<code:center>/services")
def services(center: str):
    """A center's services with how many wait and the estimated wait."""
    with runtime().db.reading() as tx:
        return jsonify(queries.list_services(tx, center, runtime().now()))


@bp.get("/centers/<code:center>/waits")
def waits(center: str):
    """Open feed of the current waits per service (no token; no personal data)."""
    rt = runtime()
    now = rt.now()
    with rt.db.reading() as tx:
        services = queries.list_services(tx, center, now)
        longest = queries.longest_waits(tx, center, now)
    response = jsonify({
        "center": center,
        "generated_at": iso(now),
        "services": [
            {key: service[key] for key in (
                "code", "name_ar", "name_en", "waiting", "open_counters", "estimated_wait_s",
                "sla_minutes")}
            | {"longest_wait_s": longest.get(str(service["code"]), 0),
               "basis": service["estimate"]["basis"]}  # type: ignore[index]
            for service in services
        ],
    })  # fmt: skip
    # Open data: any site may read it from a browser; pollers get a short cache.
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Cache-Control"] = "public, max-age=15"
    return response


@bp.get("/centers/<code:center>/counters")
def counters(center: str):
    """A center's counters, their state and current ticket."""
    with runtime().db.reading() as tx:
        return jsonify(queries.list_counters(tx, center))


@bp.get("/centers/<code:center>/stats")
def stats(center: str):
    """Wait and service statistics for local days from..to (manager or admin)."""
    actor = _actor()
    rt = runtime()
    return jsonify(reports.read_report(
        rt.db, center, actor=actor, now=rt.now(), from_day=_arg("from"), to_day=_arg("to"),
        service=_arg("service"), counter=_arg("counter"), clerk=_arg("clerk"),
    ))  # fmt: skip


@bp.get("/stats")
def all_centers_stats():
    """Every center's statistics together, and each center's own (admin)."""
    actor = _actor()
    rt = runtime()
    return jsonify(reports.read_report(
        rt.db, None, actor=actor, now=rt.now(), from_day=_arg("from"), to_day=_arg("to"),
        service=_arg("service"), clerk=_arg("clerk"),
    ))  # fmt: skip


@bp.get("/centers/<code:center>/snapshot")
def snapshot(center: str):
    """Everything a live page needs to redraw, with the event sequence number."""
    with runtime().db.reading() as tx:
        return jsonify(queries.snapshot(tx, center, runtime().now()))


@bp.post("/centers/<code:center>/tickets")
def issue(center: str):
    """Issue a ticket (kiosk device, clerk, manager or admin)."""
    actor = _actor()
    body = _body()
    service = _field(body, "service", str)
    priority = _field(body, "priority", str, required=False, default="normal")
    lang = _field(body, "lang", str, required=False, default="ar")
    rt = runtime()
    outcome = ticket_ops.issue(
        rt.db,
        center,
        service,
        actor=actor,
        now=rt.now(),
        head_starts_s=rt.settings.head_starts_s(),
        priority=priority,
        lang=lang,
        printer=rt.settings.printer,
        base_url=_public_url(),
    )
    return _answer(outcome, 201)


def _public_url() -> str:
    """Where citizens' phones reach the server (for the QR code on tickets)."""
    return runtime().settings.public_url or request.host_url


@bp.post("/tickets/<id:ticket_id>/reprint")
def reprint(ticket_id: int):
    """Print a ticket again (staff): on the printer of its last print job."""
    actor = _actor()
    _body()
    rt = runtime()
    outcome = print_jobs.reprint(
        rt.db,
        ticket_id,
        actor=actor,
        now=rt.now(),
        default_printer=rt.settings.printer,
        base_url=_public_url(),
    )
    rt.spooler.submit([outcome.body["job"]])  # type: ignore[index]
    return jsonify(outcome.body), 202


@bp.get("/tickets/<code:public_id>")
def ticket(public_id: str):
    """A ticket's state, position and estimated wait, by its public id (the QR code)."""
    with runtime().db.reading() as tx:
        return jsonify(queries.ticket_by_public_id(tx, public_id))


@bp.post("/counters/<id:counter_id>/next")
def call_next(counter_id: int):
    """Call the next ticket for this counter (204 when nobody waits)."""
    actor = _actor()
    _body()
    rt = runtime()
    return _answer(ticket_ops.call_next(rt.db, counter_id, actor=actor, now=rt.now()))


@bp.get("/counters/<id:counter_id>/queue")
def counter_queue(counter_id: int):
    """Today's waiting tickets for this counter's services, in calling order (staff)."""
    actor = _actor()
    rt = runtime()
    with rt.db.reading() as tx:
        return jsonify(queries.counter_queue(tx, counter_id, actor=actor, now=rt.now()))


@bp.post("/counters/<id:counter_id>/call")
def call_ticket(counter_id: int):
    """Call a specific waiting ticket, with a reason; flagged when out of order."""
    actor = _actor()
    body = _body()
    ticket_id = _field(body, "ticket", int)
    reason = _field(body, "reason", str)
    rt = runtime()
    return _answer(
        ticket_ops.call_ticket(
            rt.db, counter_id, ticket_id, reason=reason, actor=actor, now=rt.now()
        )
    )


def _counter_state(counter_id: int, state: str):
    actor = _actor()
    _body()
    rt = runtime()
    return _answer(
        counter_ops.set_counter_state(rt.db, counter_id, state, actor=actor, now=rt.now())
    )


@bp.post("/counters/<id:counter_id>/open")
def open_counter(counter_id: int):
    """Open a counter: it starts taking tickets."""
    return _counter_state(counter_id, CounterState.OPEN)


@bp.post("/counters/<id:counter_id>/pause")
def pause_counter(counter_id: int):
    """Pause a counter (a break): it takes no tickets until opened again."""
    return _counter_state(counter_id, CounterState.PAUSED)


@bp.post("/counters/<id:counter_id>/close")
def close_counter(counter_id: int):
    """Close a counter for the day."""
    return _counter_state(counter_id, CounterState.CLOSED)


def _ticket_action(ticket_id: int, action: Action):
    actor = _actor()
    body = _body()
    reason = _field(body, "reason", str, required=False)
    rt = runtime()
    return _answer(
        ticket_ops.act(rt.db, ticket_id, action, actor=actor, now=rt.now(), reason=reason)
    )


@bp.post("/tickets/<id:ticket_id>/recall")
def recall(ticket_id: int):
    """Call a called ticket again (announced again)."""
    return _ticket_action(ticket_id, Action.RECALL)


@bp.post("/tickets/<id:ticket_id>/start")
def start(ticket_id: int):
    """The citizen arrived at the counter: service starts."""
    return _ticket_action(ticket_id, Action.START)


@bp.post("/tickets/<id:ticket_id>/done")
def done(ticket_id: int):
    """Service finished."""
    return _ticket_action(ticket_id, Action.FINISH)


@bp.post("/tickets/<id:ticket_id>/no-show")
def no_show(ticket_id: int):
    """The called citizen did not come."""
    return _ticket_action(ticket_id, Action.NO_SHOW)


@bp.post("/tickets/<id:ticket_id>/cancel")
def cancel(ticket_id: int):
    """Cancel a waiting or called ticket."""
    return _ticket_action(ticket_id, Action.CANCEL)


@bp.post("/tickets/<id:ticket_id>/transfer")
def transfer(ticket_id: int):
    """Send the ticket to another service, keeping its place in line."""
    actor = _actor()
    body = _body()
    service = _field(body, "service", str)
    reason = _field(body, "reason", str, required=False)
    rt = runtime()
    return _answer(
        ticket_ops.transfer(rt.db, ticket_id, service, actor=actor, now=rt.now(), reason=reason)
    )
