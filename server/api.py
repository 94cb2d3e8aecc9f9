"""The public JSON API, /api/v1 (DESIGN.md section 4). Views translate and nothing more."""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request

from taboor.server import contract, queries, reports
from taboor.server.auth import Principal
from taboor.server.contract import documented, parse
from taboor.server.domain.counters import CounterState
from taboor.server.domain.errors import InvalidInput, Unauthorized, UnsupportedMediaType
from taboor.server.domain.tickets import Action
from taboor.server.domain.times import iso
from taboor.server.openapi import openapi_document
from taboor.server.operations import Outcome, accounts, printing
from taboor.server.operations import counters as counter_ops
from taboor.server.operations import tickets as ticket_ops
from taboor.server.runtime import runtime

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object whose keys are all different (which of two values would count?)."""
    found = dict(pairs)
    if len(found) < len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise InvalidInput(f"the key {key!r} appears twice", field=key, code="bad_json")
            seen.add(key)
    return found


def _body() -> dict[str, Any]:
    """The request's JSON object ({} when there is no body)."""
    raw = request.get_data(cache=True)
    if not raw.strip():
        return {}
    if request.mimetype != "application/json":
        raise UnsupportedMediaType(
            "send the body as JSON, with 'Content-Type: application/json'"
        )
    try:
        body = json.loads(raw, object_pairs_hook=_object)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise InvalidInput("the body is not valid JSON", code="bad_json") from None
    if not isinstance(body, dict):
        raise InvalidInput("the body must be a JSON object", code="bad_json")
    return body


def _arg(name: str) -> str | None:
    """A query-string argument, checked like a body's text field."""
    value = request.args.get(name)
    if value is not None:
        contract.check_text(name, value)
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
@documented({200: {"type": "object"}})
def openapi():
    """This document: every route of /api/v1, generated from the code."""
    return jsonify(openapi_document(current_app))


@bp.post("/auth/token")
@documented({200: contract.TokenAnswer}, errors=(400, 401, 429), body=contract.TokenRequest)
def auth_token():
    """Exchange a staff username and password for a bearer token."""
    body = parse(contract.TokenRequest, _body())
    rt = runtime()
    token, user = accounts.login(
        rt.db, rt.tokens, body.username, body.password,
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
@documented({204: None}, errors=(400, 401), auth=True)
def sign_out():
    """Sign the bearer staff token out: it is refused from now on."""
    rt = runtime()
    accounts.revoke(rt.db, rt.tokens, _required_bearer(), cache=rt.principals)
    return "", 204


@bp.get("/centers")
@documented({200: {"type": "array", "items": {"$ref": "#/components/schemas/Center"}}})
def centers():
    """All centers."""
    with runtime().db.reading() as tx:
        return jsonify(queries.list_centers(tx))


@bp.get("/centers/<code:center>")
@documented({200: contract.Center}, errors=(404,))
def center(center: str):
    """One center."""
    with runtime().db.reading() as tx:
        return jsonify(queries.center_view(queries.find_center(tx, center)))


@bp.get("/centers/<code:center>/services")
@documented({200: {"type": "array", "items": {"$ref": "#/components/schemas/Service"}}},
            errors=(404,))  # fmt: skip
def services(center: str):
    """A center's services with how many wait and the estimated wait."""
    with runtime().db.reading() as tx:
        return jsonify(queries.list_services(tx, center, runtime().now()))


@bp.get("/centers/<code:center>/waits")
@documented({200: contract.Waits}, errors=(404,))
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
@documented({200: {"type": "array", "items": {"$ref": "#/components/schemas/Counter"}}},
            errors=(404,))  # fmt: skip
def counters(center: str):
    """A center's counters, their state and current ticket."""
    with runtime().db.reading() as tx:
        return jsonify(queries.list_counters(tx, center))


@bp.get("/centers/<code:center>/stats")
@documented({200: contract.Stats}, errors=(400, 401, 403, 404), auth=True,
            query=contract.report_query("service", "counter", "clerk"))  # fmt: skip
def stats(center: str):
    """Wait and service statistics for local days from..to (manager or admin)."""
    actor = _actor()
    rt = runtime()
    return jsonify(reports.read_report(
        rt.db, center, actor=actor, now=rt.now(), from_day=_arg("from"), to_day=_arg("to"),
        service=_arg("service"), counter=_arg("counter"), clerk=_arg("clerk"),
    ))  # fmt: skip


@bp.get("/stats")
@documented({200: contract.AllCentersStats}, errors=(400, 401, 403, 404), auth=True,
            query=contract.report_query("service", "clerk"))  # fmt: skip
def all_centers_stats():
    """Every center's statistics together, and each center's own (admin)."""
    actor = _actor()
    rt = runtime()
    return jsonify(reports.read_report(
        rt.db, None, actor=actor, now=rt.now(), from_day=_arg("from"), to_day=_arg("to"),
        service=_arg("service"), clerk=_arg("clerk"),
    ))  # fmt: skip


@bp.get("/centers/<code:center>/snapshot")
@documented({200: contract.Snapshot}, errors=(404,))
def snapshot(center: str):
    """Everything a live page needs to redraw, with the event sequence number."""
    with runtime().db.reading() as tx:
        return jsonify(queries.snapshot(tx, center, runtime().now()))


@bp.post("/centers/<code:center>/tickets")
@documented({201: contract.Ticket}, errors=(400, 401, 403, 404, 503), auth=True,
            body=contract.IssueRequest)  # fmt: skip
def issue(center: str):
    """Issue a ticket (kiosk device of the center, clerk, manager or admin)."""
    actor = _actor()
    body = parse(contract.IssueRequest, _body())
    rt = runtime()
    outcome = ticket_ops.issue(
        rt.db,
        center,
        body.service,
        actor=actor,
        now=rt.now(),
        head_starts_s=rt.settings.head_starts_s(),
        priority=body.priority,
        lang=body.lang,
        printer=rt.settings.printer,
        base_url=_public_url(),
    )
    return _answer(outcome, 201)


def _public_url() -> str:
    """Where citizens' phones reach the server (for the QR code on tickets)."""
    return runtime().settings.public_url or request.host_url


@bp.post("/tickets/<id:ticket_id>/reprint")
@documented({202: contract.PrintJob}, errors=(400, 401, 403, 404, 409, 503), auth=True)
def reprint(ticket_id: int):
    """Print a ticket again (staff): on the printer of its last print job."""
    actor = _actor()
    parse(contract.Empty, _body())
    rt = runtime()
    outcome = printing.reprint(
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
@documented({200: contract.Ticket}, errors=(404,))
def ticket(public_id: str):
    """A ticket's state, position and estimated wait, by its public id (the QR code)."""
    with runtime().db.reading() as tx:
        return jsonify(queries.ticket_by_public_id(tx, public_id))


@bp.post("/counters/<id:counter_id>/next")
@documented({200: contract.Ticket, 204: None}, errors=(400, 401, 403, 404, 409, 503),
            auth=True)  # fmt: skip
def call_next(counter_id: int):
    """Call the next ticket for this counter by the calling rule (204 when nobody waits)."""
    actor = _actor()
    parse(contract.Empty, _body())
    rt = runtime()
    return _answer(ticket_ops.call_next(rt.db, counter_id, actor=actor, now=rt.now()))


@bp.get("/counters/<id:counter_id>/queue")
@documented({200: contract.CounterQueue}, errors=(401, 403, 404, 503), auth=True)
def counter_queue(counter_id: int):
    """Today's waiting tickets for this counter's services, in calling order (staff)."""
    actor = _actor()
    rt = runtime()
    with rt.db.reading() as tx:
        return jsonify(queries.counter_queue(tx, counter_id, actor=actor, now=rt.now()))


@bp.post("/counters/<id:counter_id>/call")
@documented({200: contract.Ticket}, errors=(400, 401, 403, 404, 409, 503), auth=True,
            body=contract.CallRequest)  # fmt: skip
def call_ticket(counter_id: int):
    """Call a specific waiting ticket, with a reason; flagged when out of order."""
    actor = _actor()
    body = parse(contract.CallRequest, _body())
    rt = runtime()
    return _answer(
        ticket_ops.call_ticket(
            rt.db, counter_id, body.ticket, reason=body.reason, actor=actor, now=rt.now()
        )
    )


_COUNTER_STATE = documented(
    {200: contract.Counter}, errors=(400, 401, 403, 404, 409, 503), auth=True
)


def _counter_state(counter_id: int, state: str):
    actor = _actor()
    parse(contract.Empty, _body())
    rt = runtime()
    return _answer(
        counter_ops.set_counter_state(rt.db, counter_id, state, actor=actor, now=rt.now())
    )


@bp.post("/counters/<id:counter_id>/open")
@_COUNTER_STATE
def open_counter(counter_id: int):
    """Open a counter: it starts taking tickets."""
    return _counter_state(counter_id, CounterState.OPEN)


@bp.post("/counters/<id:counter_id>/pause")
@_COUNTER_STATE
def pause_counter(counter_id: int):
    """Pause a counter (a break): it takes no tickets until opened again."""
    return _counter_state(counter_id, CounterState.PAUSED)


@bp.post("/counters/<id:counter_id>/close")
@_COUNTER_STATE
def close_counter(counter_id: int):
    """Close a counter for the day."""
    return _counter_state(counter_id, CounterState.CLOSED)


_TICKET_ACTION = documented(
    {200: contract.Ticket}, errors=(400, 401, 403, 404, 409, 503), auth=True,
    body=contract.ReasonRequest,
)  # fmt: skip


def _ticket_action(ticket_id: int, action: Action):
    actor = _actor()
    body = parse(contract.ReasonRequest, _body())
    rt = runtime()
    return _answer(
        ticket_ops.act(rt.db, ticket_id, action, actor=actor, now=rt.now(), reason=body.reason)
    )


@bp.post("/tickets/<id:ticket_id>/recall")
@_TICKET_ACTION
def recall(ticket_id: int):
    """Call a called ticket again (announced again)."""
    return _ticket_action(ticket_id, Action.RECALL)


@bp.post("/tickets/<id:ticket_id>/start")
@_TICKET_ACTION
def start(ticket_id: int):
    """The citizen arrived at the counter: service starts."""
    return _ticket_action(ticket_id, Action.START)


@bp.post("/tickets/<id:ticket_id>/done")
@_TICKET_ACTION
def done(ticket_id: int):
    """Service finished."""
    return _ticket_action(ticket_id, Action.FINISH)


@bp.post("/tickets/<id:ticket_id>/no-show")
@_TICKET_ACTION
def no_show(ticket_id: int):
    """The called citizen did not come."""
    return _ticket_action(ticket_id, Action.NO_SHOW)


@bp.post("/tickets/<id:ticket_id>/cancel")
@_TICKET_ACTION
def cancel(ticket_id: int):
    """Cancel a waiting or called ticket."""
    return _ticket_action(ticket_id, Action.CANCEL)


@bp.post("/tickets/<id:ticket_id>/transfer")
@documented({200: contract.Ticket}, errors=(400, 401, 403, 404, 409, 503), auth=True,
            body=contract.TransferRequest)  # fmt: skip
def transfer(ticket_id: int):
    """Send the ticket to another service, keeping its place in line (called, serving)."""
    actor = _actor()
    body = parse(contract.TransferRequest, _body())
    rt = runtime()
    return _answer(
        ticket_ops.transfer(
            rt.db, ticket_id, body.service, actor=actor, now=rt.now(), reason=body.reason
        )
    )
