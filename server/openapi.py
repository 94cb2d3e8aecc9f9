"""The OpenAPI 3.1 document for /api/v1, generated from the app's routes and the
contract's models (server/contract.py): a route cannot be served undocumented, and a
field cannot be documented other than the model says.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Flask
from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from taboor.server import contract

VERSION = "1.0.0"
PREFIX = "/api/v1"
_EXTENSION = "taboor.openapi"

_ERRORS = {
    400: "Malformed JSON or a missing or wrong-typed field (`field` names it)",
    401: "Missing, invalid or expired token",
    403: "Wrong role, or another center",
    404: "Unknown center, service, counter or ticket",
    409: "Not allowed in the current state (`state` gives it)",
    413: "The request body is larger than 64 KiB",
    415: "A request body that is not sent as application/json",
    429: "Too many failed sign-ins from this address (`retry_after_s`, Retry-After)",
    503: "Database busy past its timeout; nothing was committed, retry",
}
_DESCRIPTIONS = {200: "OK", 201: "Created", 202: "Accepted", 204: "No content"}
# URL converters (server/app.py) as schemas, and what the path names mean.
_CONVERTERS: dict[str, dict[str, Any]] = {
    "id": {"type": "integer", "minimum": 1, "maximum": contract.MAX_ID},
    "code": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$"},
}
_PATH_DESCRIPTIONS = {"center": "Center code, e.g. DAM-MIDAN"}
_VARIABLE = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")
_WITH_BODY = ("post", "put", "patch", "delete")


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _schema(answer: type[BaseModel] | dict[str, Any]) -> dict[str, Any]:
    return answer if isinstance(answer, dict) else _ref(answer)


def _summary(view: Any) -> str:
    return (view.__doc__ or "").strip().splitlines()[0].strip()


def _route(view: Any) -> contract.Route | None:
    return getattr(view, "taboor_route", None)


def _operation(rule_path: str, view: Any, method: str) -> dict[str, Any]:
    route = _route(view)
    if route is None:
        raise LookupError(f"{view.__module__}.{view.__name__} is not @documented")
    responses: dict[str, Any] = {}
    for status, answer in route.answers.items():
        description = _DESCRIPTIONS.get(status, str(status))
        responses[str(status)] = (
            {"description": description} if answer is None
            else _json(_schema(answer), description)
        )  # fmt: skip
    errors = set(route.errors) | ({413, 415} if method in _WITH_BODY else set())
    for status in sorted(errors):
        responses.setdefault(str(status), _json(_ref(contract.Error), _ERRORS[status]))
    op: dict[str, Any] = {"summary": _summary(view), "responses": responses}
    params = [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": dict(_CONVERTERS.get(converter or "", {"type": "string"})),
            **({"description": _PATH_DESCRIPTIONS[name]} if name in _PATH_DESCRIPTIONS else {}),
        }
        for converter, name in _VARIABLE.findall(rule_path)
    ]
    params += [
        {"name": name, "in": "query", "required": False, "schema": schema}
        for name, schema in route.query
    ]
    if params:
        op["parameters"] = params
    if route.body is not None:
        required = any(f.is_required() for f in route.body.model_fields.values())
        op["requestBody"] = {
            "required": required,
            "content": {"application/json": {"schema": _ref(route.body)}},
        }
    if route.auth:
        op["security"] = [{"bearer": []}]
    return op


def _components(app: Flask) -> dict[str, Any]:
    routes = [_route(view) for view in app.view_functions.values()]
    bodies = {route.body for route in routes if route is not None and route.body is not None}
    models: list[tuple[type[BaseModel], JsonSchemaMode]] = [
        (m, "serialization") for m in contract.COMPONENTS
    ]
    models += [(m, "validation") for m in sorted(bodies, key=lambda m: m.__name__)]
    _, schemas = models_json_schema(models, ref_template="#/components/schemas/{model}")
    return schemas.get("$defs", {})


def build(app: Flask) -> dict[str, Any]:
    """The document for `app`'s routes under /api/v1."""
    paths: dict[str, Any] = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if not rule.rule.startswith(PREFIX):
            continue
        path = _VARIABLE.sub(r"{\2}", rule.rule)
        view = app.view_functions[rule.endpoint]
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            paths.setdefault(path, {})[method.lower()] = _operation(rule.rule, view, method.lower())
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Taboor",
            "version": VERSION,
            "description": "Queue and kiosk system for citizen service centers.",
        },
        "paths": paths,
        "components": {
            "schemas": _components(app),
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }


def openapi_document(app: Flask) -> dict[str, Any]:
    """The document for `app`, built once per app."""
    document = app.extensions.get(_EXTENSION)
    if document is None:
        document = app.extensions[_EXTENSION] = build(app)
    return document
