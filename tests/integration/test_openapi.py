"""The OpenAPI document describes every route, and answers match it."""

import re

import pytest
from openapi_spec_validator import validate

from tests.integration.test_api import CENTER, issue


@pytest.fixture
def spec(client):
    return client.get("/api/v1/openapi.json").json


def _routes(app):
    """Every (path, method) the API blueprint serves, in OpenAPI path syntax."""
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1"):
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            yield path, method.lower()


def test_document_is_valid_openapi(spec):
    validate(spec)


def test_every_route_is_documented_and_nothing_else(app, spec):
    served = set(_routes(app))
    documented = {(path, method) for path, ops in spec["paths"].items() for method in ops}
    assert served == documented


def test_every_operation_has_a_summary_and_4xx_errors_where_input_matters(spec):
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            assert op["summary"], (path, method)
            if method == "post" and path != "/api/v1/auth/token":
                assert "401" in op["responses"], (path, method)


def test_a_ticket_answer_has_every_required_field(client, kiosk, spec):
    required = spec["components"]["schemas"]["Ticket"]["required"]
    ticket = issue(client, kiosk).json
    assert set(required) <= ticket.keys()
    service = client.get(f"/api/v1/centers/{CENTER}/services").json[0]
    assert set(spec["components"]["schemas"]["Service"]["required"]) <= service.keys()
