"""The OpenAPI document describes every route, and answers match it."""

import re

import pytest
from openapi_spec_validator import validate

from tests.conftest import login
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


def _check(spec, name: str, answer) -> None:
    """`answer` matches schema `name`, and every field it has is documented there."""
    from jsonschema import Draft202012Validator

    root = {"components": spec["components"], "$ref": f"#/components/schemas/{name}"}
    errors = sorted(Draft202012Validator(root).iter_errors(answer), key=str)
    assert not errors, f"{name}: {errors[0].message} at {list(errors[0].path)}"
    def fields(schema: dict) -> set[str]:
        if "$ref" in schema:
            return fields(spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]])
        found = set(schema.get("properties", {}))
        for part in schema.get("allOf", []):
            found |= fields(part)
        return found

    documented = fields(spec["components"]["schemas"][name])
    assert set(answer) <= documented, f"{name}: undocumented {set(answer) - documented}"


def test_real_answers_match_their_schemas_field_for_field(client, kiosk, manager, demo, spec):
    ticket = issue(client, kiosk).json
    _check(spec, "Ticket", ticket)
    for service in client.get(f"/api/v1/centers/{CENTER}/services").json:
        _check(spec, "Service", service)
    _check(spec, "Snapshot", client.get(f"/api/v1/centers/{CENTER}/snapshot").json)
    _check(spec, "Stats", client.get(f"/api/v1/centers/{CENTER}/stats", headers=manager).json)
    admin = login(client, demo.user("admin"))
    _check(spec, "AllCentersStats", client.get("/api/v1/stats", headers=admin).json)


def test_every_answer_of_the_floor_matches_its_generated_schema(client, kiosk, clerk, demo, spec):
    _check(spec, "Center", client.get(f"/api/v1/centers/{CENTER}").json)
    for counter in client.get(f"/api/v1/centers/{CENTER}/counters").json:
        _check(spec, "Counter", counter)
    _check(spec, "Waits", client.get(f"/api/v1/centers/{CENTER}/waits").json)
    counter_id = demo.clerks[0]["counter_id"]
    _check(spec, "Counter", client.post(f"/api/v1/counters/{counter_id}/open", headers=clerk).json)
    ticket = issue(client, kiosk).json
    issue(client, kiosk)
    _check(spec, "CounterQueue", client.get(f"/api/v1/counters/{counter_id}/queue",
                                            headers=clerk).json)  # fmt: skip
    called = client.post(f"/api/v1/counters/{counter_id}/next", headers=clerk).json
    _check(spec, "Ticket", called)
    _check(spec, "TicketProgress",
           client.get(f"/api/v1/tickets/{ticket['public_id']}/progress").json)
    _check(spec, "Ticket", client.get(f"/api/v1/tickets/{ticket['public_id']}").json)
    user = demo.clerks[1]
    token = client.post("/api/v1/auth/token",
                        json={"username": user["username"], "password": user["password"]}).json
    _check(spec, "TokenAnswer", token)
    _check(spec, "Error", client.post(f"/api/v1/counters/{counter_id}/next").json)


def test_the_document_is_generated_from_the_routes_and_models(app, spec):
    from taboor.server import contract

    schemas = spec["components"]["schemas"]
    for model in contract.COMPONENTS:
        documented = set(schemas[model.__name__]["properties"])
        assert documented == {f.alias or name for name, f in model.model_fields.items()}
    issue_op = spec["paths"]["/api/v1/centers/{center}/tickets"]["post"]
    body = issue_op["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/IssueRequest"}
    assert schemas["IssueRequest"]["required"] == ["service"]
    assert issue_op["summary"] == app.view_functions["api.issue"].__doc__.splitlines()[0]
