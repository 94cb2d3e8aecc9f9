"""The OpenAPI 3.1 document for /api/v1 (a test checks it covers every route)."""

from __future__ import annotations

import functools
from typing import Any

VERSION = "1.0.0"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": schema}},
    }


def _errors(*statuses: int) -> dict[str, Any]:
    texts = {
        400: "Malformed JSON or a missing or wrong-typed field (`field` names it)",
        401: "Missing, invalid or expired token",
        403: "Wrong role, or another center",
        404: "Unknown center, service, counter or ticket",
        409: "Not allowed in the current state (`state` gives it)",
        413: "The request body is larger than 64 KiB",
        429: "Too many failed sign-ins from this address (`retry_after_s`, Retry-After)",
        503: "Database busy past its timeout; nothing was committed, retry",
    }
    return {str(s): _json(_ref("Error"), texts[s]) for s in statuses}


def _string(**extra: Any) -> dict[str, Any]:
    return {"type": "string", **extra}


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "null"}]}


_INT = {"type": "integer"}
_TIME = _nullable(_string(format="date-time"))
_CENTER = {
    "name": "center",
    "in": "path",
    "required": True,
    "schema": _string(),
    "description": "Center code, e.g. DAM-MIDAN",
}
_COUNTER = {"name": "counter_id", "in": "path", "required": True, "schema": _INT}
_TICKET = {"name": "ticket_id", "in": "path", "required": True, "schema": _INT}
_BEARER = [{"bearer": []}]

SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message"],
                "properties": {
                    "code": _string(),
                    "message": _string(),
                    "field": _string(),
                    "state": _string(),
                },
            }
        },
    },
    "Center": {
        "type": "object",
        "required": ["code", "name_ar", "name_en", "timezone"],
        "properties": {
            "code": _string(),
            "name_ar": _string(),
            "name_en": _string(),
            "governorate_ar": _string(),
            "governorate_en": _string(),
            "timezone": _string(),
            "hours": {"type": "object"},
            "options": {"type": "object"},
        },
    },
    "Service": {
        "type": "object",
        "required": [
            "code",
            "prefix",
            "name_ar",
            "name_en",
            "category",
            "waiting",
            "estimated_wait_s",
        ],
        "properties": {
            "code": _string(),
            "prefix": _string(pattern="^[A-Z]{1,3}$"),
            "name_ar": _string(),
            "name_en": _string(),
            "category": _string(),
            "category_ar": _string(),
            "category_en": _string(),
            "sla_minutes": _INT,
            "online": {"type": "boolean"},
            "documents_ar": {"type": "array", "items": _string()},
            "documents_en": {"type": "array", "items": _string()},
            "waiting": _INT,
            "open_counters": _INT,
            "estimated_wait_s": _INT,
            "estimate": _ref("Estimate"),
        },
    },
    "TicketProgress": {
        "type": "object",
        "required": ["ticket", "center", "service", "expired", "final", "joined_at",
                     "joined_by", "served_since", "out_of_order", "seq"],
        "properties": {
            "ticket": _ref("Ticket"),
            "center": {
                "type": "object",
                "required": ["code", "name_ar", "name_en", "timezone"],
                "properties": {
                    "code": _string(), "name_ar": _string(), "name_en": _string(),
                    "timezone": _string(), "public_display": {"type": "boolean"},
                    "eastern_digits": {"type": "boolean"},
                },
            },
            "service": {
                "type": "object",
                "required": ["code", "name_ar", "name_en"],
                "properties": {"code": _string(), "name_ar": _string(), "name_en": _string()},
            },
            "expired": {"type": "boolean",
                        "description": "Still waiting, but issued on an earlier business day"},
            "final": {"type": "boolean", "description": "done, no_show or cancelled"},
            "joined_at": _TIME,
            "joined_by": _string(enum=["issue", "transfer"]),
            "served_since": {**_INT, "description": "Other tickets of its service called to a "
                             "counter (recalls not counted) between joining the line and its "
                             "own call"},
            "out_of_order": {
                "type": "array",
                "description": "Tickets called in that span although they joined the line "
                               "after this one",
                "items": {
                    "type": "object",
                    "required": ["label", "reason", "at"],
                    "properties": {
                        "label": _string(),
                        "reason": _string(enum=["priority", "transfer", "clerk"]),
                        "note": _string(maxLength=200,
                                        description="The clerk's stated reason (clerk only)"),
                        "at": _string(format="date-time"),
                    },
                },
            },
            "seq": {**_INT, "description": "The center's event sequence number when read"},
        },
    },  # fmt: skip
    "Ticket": {
        "type": "object",
        "required": [
            "id",
            "public_id",
            "label",
            "number",
            "service",
            "center",
            "state",
            "priority",
            "position",
            "estimated_wait_s",
            "counter",
            "issued_at",
            "called_at",
            "started_at",
            "finished_at",
        ],
        "properties": {
            "id": _INT,
            "public_id": _string(),
            "label": _string(),
            "number": _INT,
            "service": _string(),
            "center": _string(),
            "state": _string(enum=["waiting", "called", "serving", "done", "no_show", "cancelled"]),
            "priority": _string(enum=["normal", "elderly", "disabled", "appointment"]),
            "position": _nullable(_INT),
            "ahead": _nullable(_INT),
            "estimated_wait_s": _nullable(_INT),
            "counter": _nullable(_INT),
            "counter_id": _nullable(_INT),
            "issued_at": _string(format="date-time"),
            "called_at": _TIME,
            "started_at": _TIME,
            "finished_at": _TIME,
            "recall_count": _INT,
            "out_of_order": {"type": "boolean"},
            "business_day": _string(format="date"),
            "estimate": _nullable(_ref("Estimate")),
            "print": {
                "type": "object",
                "description": "The print job queued with a kiosk's ticket",
                "properties": {"job": _INT, "state": _string()},
            },
        },
    },
    "Estimate": {
        "type": "object",
        "description": "How an estimated wait was made: people ahead divided by the recent "
        "service rate of the open counters that serve the service",
        "required": ["wait_s", "basis", "ahead", "counters"],
        "properties": {
            "wait_s": _INT,
            "basis": _string(description="recent completions, or the configured average"),
            "ahead": _INT,
            "counters": _INT,
            "capacity": {"type": "number"},
            "handle_s": {"type": "number"},
            "rate_per_min": {"type": "number"},
            "samples": _INT,
        },
    },
    "Summary": {
        "type": "object",
        "required": ["mean", "p50", "p90", "max", "count"],
        "properties": {k: _nullable({"type": "number"}) for k in ("mean", "p50", "p90", "max")}
        | {"count": _INT},
    },
    "Figures": {
        "type": "object",
        "required": ["issued", "served", "no_show", "cancelled", "wait_s", "service_s", "sla"],
        "properties": {
            "issued": _INT,
            "served": _INT,
            "no_show": _INT,
            "cancelled": _INT,
            "pending": _INT,
            "transferred": _INT,
            "recalls": _INT,
            "out_of_order": _INT,
            "implausible": _INT,
            "wait_s": _ref("Summary"),
            "service_s": _ref("Summary"),
            "sla": {
                "type": "object",
                "required": ["ratio"],
                "properties": {
                    "ratio": _nullable({"type": "number"}),
                    "within": _INT,
                    "total": _INT,
                },
            },
        },
    },
    "Utilisation": {
        "type": "object",
        "description": "Counters' time in the range, in seconds",
        "properties": {
            **{name: {"type": "number"} for name in ("open_s", "paused_s", "serving_s")},
            "ratio": _nullable({"type": "number", "description": "serving time / open time"}),
        },
    },
    "Stats": {
        "allOf": [
            _ref("Figures"),
            {
                "type": "object",
                "required": ["by_service", "by_counter", "by_clerk", "by_hour", "by_day"],
                "properties": {
                    "center": _string(),
                    "timezone": _string(),
                    "from": _string(format="date"),
                    "to": _string(format="date"),
                    "filters": {
                        "type": "object",
                        "properties": {
                            name: _nullable(_string()) for name in ("service", "counter", "clerk")
                        },
                    },
                    "utilisation": _ref("Utilisation"),
                    "implausible_ids": {
                        "type": "array",
                        "items": _INT,
                        "description": "Tickets whose service time was shorter than the "
                        "service's minimum plausible time (counted apart, not averaged in)",
                    },
                    "sla_targets_min": {
                        "type": "object",
                        "additionalProperties": _INT,
                        "description": "Each service's SLA target in minutes",
                    },
                    "percentiles": {
                        "type": "object",
                        "description": "How p50 and p90 were found: exact (one day) or from "
                        "stored histograms (longer ranges; never below the exact value, above "
                        "it by at most the resolution given)",
                        "required": ["method"],
                        "properties": {
                            "method": _string(enum=["exact", "histogram"]),
                            "linear_below_s": {"type": "integer"},
                            "absolute_s": {"type": "number"},
                            "relative": {"type": "number"},
                        },
                    },
                    **{
                        f"by_{group}": {"type": "object", "additionalProperties": _ref("Figures")}
                        for group in ("service", "clerk", "hour", "day")
                    },
                    "by_counter": {
                        "type": "object",
                        "additionalProperties": {
                            "allOf": [
                                _ref("Figures"),
                                {
                                    "type": "object",
                                    "properties": {"utilisation": _ref("Utilisation")},
                                },
                            ]
                        },
                    },
                },
            },
        ],
    },
    "AllCentersStats": {
        "allOf": [
            _ref("Stats"),
            {
                "type": "object",
                "required": ["centers", "by_center"],
                "properties": {
                    "centers": {"type": "array", "items": _string()},
                    "by_center": {"type": "object", "additionalProperties": _ref("Figures")},
                },
            },
        ],
    },
    "Counter": {
        "type": "object",
        "required": ["id", "number", "state", "services"],
        "properties": {
            "id": _INT,
            "number": _INT,
            "state": _string(enum=["open", "paused", "closed"]),
            "services": {"type": "array", "items": _string()},
            "ticket": _nullable(_string()),
            "ticket_id": _nullable(_INT),
        },
    },
    "CounterQueue": {
        "type": "object",
        "required": ["counter_id", "counter", "business_day", "tickets"],
        "properties": {
            "counter_id": _INT,
            "counter": _INT,
            "business_day": _string(format="date"),
            "tickets": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": [
                        "id",
                        "label",
                        "service",
                        "priority",
                        "issued_at",
                        "position",
                        "order",
                    ],
                    "properties": {
                        "id": _INT,
                        "label": _string(),
                        "service": _string(),
                        "priority": _string(enum=["normal", "elderly", "disabled", "appointment"]),
                        "issued_at": _string(format="date-time"),
                        "position": {"type": "integer", "minimum": 1},
                        "order": {"type": "integer", "minimum": 1},
                    },
                },
            },
        },
    },
    "Snapshot": {
        "type": "object",
        "required": ["seq", "now_serving", "waiting", "counters"],
        "properties": {
            "center": _string(),
            "seq": _INT,
            "now_serving": {"type": "array", "items": {"type": "object"}},
            "waiting": {"type": "object", "additionalProperties": _INT},
            "counters": {"type": "array", "items": _ref("Counter")},
        },
    },
}


def _body(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {
        "required": bool(required),
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "properties": properties,
                    "required": required,
                }
            }
        },
    }


def _op(
    summary: str,
    responses: dict[str, Any],
    *,
    params: list | None = None,
    body: dict | None = None,
    auth: bool = False,
) -> dict[str, Any]:
    op: dict[str, Any] = {"summary": summary, "responses": responses}
    if params:
        op["parameters"] = params
    if body:
        op["requestBody"] = body
    if auth:
        op["security"] = _BEARER
    return op


def _ticket_action(summary: str, states: str) -> dict[str, Any]:
    return {
        "post": _op(
            f"{summary} (allowed from: {states})",
            {
                "200": _json(_ref("Ticket"), "The ticket after the action"),
                **_errors(400, 401, 403, 404, 409, 503),
            },
            params=[_TICKET],
            auth=True,
            body={
                "required": False,
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "properties": {"reason": _string()},
                        }
                    }
                },
            },
        )
    }


def _counter_state(summary: str) -> dict[str, Any]:
    return {
        "post": _op(
            summary,
            {
                "200": _json(_ref("Counter"), "The counter"),
                **_errors(400, 401, 403, 404, 409, 503),
            },
            params=[_COUNTER],
            auth=True,
        )
    }


@functools.cache
def openapi_document() -> dict[str, Any]:
    """The whole document (built once)."""
    paths: dict[str, Any] = {
        "/api/v1/openapi.json": {"get": _op("This document", {"200": {"description": "OK"}})},
        "/api/v1/auth/token": {
            "post": _op(
                "Exchange a staff username and password for a bearer token",
                {
                    "200": _json(
                        {
                            "type": "object",
                            "required": ["token", "role"],
                            "properties": {
                                "token": _string(),
                                "role": _string(),
                                "expires_in": _INT,
                                "counter_id": _nullable(_INT),
                            },
                        },
                        "A token",
                    ),
                    **_errors(400, 401, 429),
                },
                body=_body(
                    {"username": _string(), "password": _string()},
                    ["username", "password"],
                ),
            ),
            "delete": _op(
                "Sign the bearer staff token out (refused from then on)",
                {"204": {"description": "Signed out"}, **_errors(400, 401)},
                auth=True,
            ),
        },
        "/api/v1/centers": {
            "get": _op(
                "All centers",
                {"200": _json({"type": "array", "items": _ref("Center")}, "Centers")},
            )
        },
        "/api/v1/centers/{center}": {
            "get": _op(
                "One center",
                {"200": _json(_ref("Center"), "The center"), **_errors(404)},
                params=[_CENTER],
            )
        },
        "/api/v1/centers/{center}/services": {
            "get": _op(
                "Services with how many wait and the estimated wait",
                {
                    "200": _json({"type": "array", "items": _ref("Service")}, "Services"),
                    **_errors(404),
                },
                params=[_CENTER],
            )
        },
        "/api/v1/centers/{center}/waits": {
            "get": _op(
                "Open, machine-readable feed of the current waits per service",
                {
                    "200": _json(
                        {
                            "type": "object",
                            "required": ["center", "generated_at", "services"],
                            "properties": {
                                "center": _string(),
                                "generated_at": _string(format="date-time"),
                                "services": {
                                    "type": "array",
                                    "items": {
                                        "type": "object",
                                        "required": [
                                            "code",
                                            "waiting",
                                            "estimated_wait_s",
                                            "basis",
                                        ],
                                        "properties": {
                                            "code": _string(),
                                            "name_ar": _string(),
                                            "name_en": _string(),
                                            "waiting": _INT,
                                            "open_counters": _INT,
                                            "estimated_wait_s": _INT,
                                            "longest_wait_s": {
                                                **_INT,
                                                "description": "How long the oldest of "
                                                "today's waiting tickets has waited",
                                            },
                                            "sla_minutes": _INT,
                                            "basis": _string(enum=["recent", "configured"]),
                                        },
                                    },
                                },
                            },
                        },
                        "Waits",
                    ),
                    **_errors(404),
                },
                params=[_CENTER],
            )
        },
        "/api/v1/centers/{center}/counters": {
            "get": _op(
                "Counters with their state and current ticket",
                {
                    "200": _json({"type": "array", "items": _ref("Counter")}, "Counters"),
                    **_errors(404),
                },
                params=[_CENTER],
            )
        },
        "/api/v1/centers/{center}/stats": {
            "get": _op(
                "Wait, service and SLA statistics over local business days (manager, admin); "
                "definitions in server/domain/stats.py",
                {"200": _json(_ref("Stats"), "The figures"), **_errors(400, 401, 403, 404)},
                params=[_CENTER, *_report_params("service", "counter", "clerk")],
                auth=True,
            )
        },
        "/api/v1/stats": {
            "get": _op(
                "Every center's statistics together, with each center's own in `by_center` "
                "(admin); counters are named <center>/<number>",
                {
                    "200": _json(_ref("AllCentersStats"), "The figures"),
                    **_errors(400, 401, 403, 404),
                },
                params=_report_params("service", "clerk"),
                auth=True,
            )
        },
        "/api/v1/centers/{center}/snapshot": {
            "get": _op(
                "Everything a live page needs to redraw, as of event `seq`",
                {"200": _json(_ref("Snapshot"), "The snapshot"), **_errors(404)},
                params=[_CENTER],
            )
        },
        "/api/v1/centers/{center}/tickets": {
            "post": _op(
                "Issue a ticket (kiosk device of the center, clerk, manager, admin)",
                {
                    "201": _json(_ref("Ticket"), "The new ticket"),
                    **_errors(400, 401, 403, 404, 503),
                },
                params=[_CENTER],
                auth=True,
                body=_body(
                    {
                        "service": _string(),
                        "priority": _string(enum=["normal", "elderly", "disabled", "appointment"]),
                        "lang": _string(enum=["ar", "en"]),
                    },
                    ["service"],
                ),
            )
        },
        "/api/v1/tickets/{public_id}/progress": {
            "get": _op(
                "The citizen's status page in one answer: the ticket (state, position, "
                "estimated wait), its center and service, and how its line moved since it "
                "joined: tickets of its service called since, and those called before it out "
                "of turn, with why",
                {"200": _json(_ref("TicketProgress"), "The ticket and its line"),
                 **_errors(404, 503)},
                params=[{"name": "public_id", "in": "path", "required": True,
                         "schema": _string(pattern="^[A-Za-z0-9_-]{1,64}$")}],
            )  # fmt: skip
        },
        "/api/v1/tickets/{public_id}": {
            "get": _op(
                "A ticket by its public id (the QR code): state, position, estimated wait",
                {"200": _json(_ref("Ticket"), "The ticket"), **_errors(404)},
                params=[
                    {
                        "name": "public_id",
                        "in": "path",
                        "required": True,
                        "schema": _string(),
                    }
                ],
            )
        },
        "/api/v1/counters/{counter_id}/next": {
            "post": _op(
                "Call the next ticket by the calling rule",
                {
                    "200": _json(_ref("Ticket"), "The called ticket"),
                    "204": {"description": "Nobody waits for this counter's services"},
                    **_errors(400, 401, 403, 404, 409, 503),
                },
                params=[_COUNTER],
                auth=True,
            )
        },
        "/api/v1/counters/{counter_id}/queue": {
            "get": _op(
                "Today's waiting tickets for the counter's services in calling order "
                "(clerk at that counter, manager or admin of the center); `order` is the "
                "place in this counter's order, `position` the place in the ticket's service",
                {
                    "200": _json(_ref("CounterQueue"), "The waiting tickets"),
                    **_errors(401, 403, 404, 503),
                },
                params=[_COUNTER],
                auth=True,
            )
        },
        "/api/v1/counters/{counter_id}/call": {
            "post": _op(
                "Call a specific waiting ticket (reason required; flagged when out of order)",
                {
                    "200": _json(_ref("Ticket"), "The called ticket"),
                    **_errors(400, 401, 403, 404, 409, 503),
                },
                params=[_COUNTER],
                auth=True,
                body=_body(
                    {"ticket": _INT, "reason": _string(minLength=1)},
                    ["ticket", "reason"],
                ),
            )
        },
        "/api/v1/counters/{counter_id}/open": _counter_state("Open a counter"),
        "/api/v1/counters/{counter_id}/pause": _counter_state("Pause a counter"),
        "/api/v1/counters/{counter_id}/close": _counter_state("Close a counter"),
        "/api/v1/tickets/{ticket_id}/recall": _ticket_action("Call again", "called"),
        "/api/v1/tickets/{ticket_id}/start": _ticket_action("Start serving", "called"),
        "/api/v1/tickets/{ticket_id}/done": _ticket_action("Finish serving", "serving"),
        "/api/v1/tickets/{ticket_id}/no-show": _ticket_action("Mark no-show", "called"),
        "/api/v1/tickets/{ticket_id}/cancel": _ticket_action("Cancel", "waiting, called"),
        "/api/v1/tickets/{ticket_id}/reprint": {
            "post": _op(
                "Print the ticket again (staff), on the printer of its last print job",
                {
                    "202": _json(
                        {
                            "type": "object",
                            "required": ["job", "state"],
                            "properties": {"job": _INT, "state": _string(), "printer": _string()},
                        },
                        "The queued job",
                    ),
                    **_errors(400, 401, 403, 404, 503),
                    "409": _json(_ref("Error"), "No printer is set up for this ticket"),
                },
                params=[_TICKET],
                auth=True,
            )
        },
        "/api/v1/tickets/{ticket_id}/transfer": {
            "post": _op(
                "Send to another service keeping the place in line (from: called, serving)",
                {
                    "200": _json(_ref("Ticket"), "The ticket, waiting in the new service"),
                    **_errors(400, 401, 403, 404, 409, 503),
                },
                params=[_TICKET],
                auth=True,
                body=_body({"service": _string(), "reason": _string()}, ["service"]),
            )
        },
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Taboor",
            "version": VERSION,
            "description": "Queue and kiosk system for citizen service centers.",
        },
        "paths": _with_body_limit(paths),
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }


def _report_params(*filters: str) -> list[dict[str, Any]]:
    """A report's query: its local days (from, to) and the filters it takes."""
    days = [("from", _string(format="date")), ("to", _string(format="date"))]
    return [
        {"name": name, "in": "query", "required": False, "schema": schema}
        for name, schema in [*days, *((f, _string()) for f in filters)]
    ]


def _with_body_limit(paths: dict[str, Any]) -> dict[str, Any]:
    """Every request that may carry a body can be refused as too large (413)."""
    too_large = _errors(413)
    for operations in paths.values():
        for method, operation in operations.items():
            if method in ("post", "put", "patch", "delete"):
                operation["responses"] = {**operation["responses"], **too_large}
    return paths
