"""GET /api/v1/counters/{id}/queue: the tickets a counter may call, in calling order."""

import pytest
from sqlalchemy import select

from taboor.server.models import Center, Counter
from tests.conftest import login
from tests.integration.test_api import EXTRACT, assert_error, issue

FAMILY = "civil-family-statement"
JUSTICE = "justice-no-conviction"


@pytest.fixture
def counter(demo):
    """Counter 1 of the demo center (civil-registry extracts and statements)."""
    return demo.clerks[0]["counter_id"]


def queue(client, counter, headers):
    response = client.get(f"/api/v1/counters/{counter}/queue", headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.json


def labels(answer):
    return [t["label"] for t in answer["tickets"]]


def test_queue_is_in_calling_order_with_the_priority_head_start(
    client, kiosk, clerk, counter, clock
):
    normal = issue(client, kiosk).json
    clock.advance(minutes=1)
    family = issue(client, kiosk, FAMILY).json
    clock.advance(minutes=2)
    elderly = issue(client, kiosk, priority="elderly").json  # 15 minutes head start
    answer = queue(client, counter, clerk)
    assert labels(answer) == [elderly["label"], normal["label"], family["label"]]
    assert [t["order"] for t in answer["tickets"]] == [1, 2, 3]
    first = answer["tickets"][0]
    assert first == {
        "id": elderly["id"],
        "label": elderly["label"],
        "service": EXTRACT,
        "priority": "elderly",
        "issued_at": elderly["issued_at"],
        "position": 1,
        "order": 1,
    }
    assert answer["counter_id"] == counter and answer["counter"] == 1
    assert answer["business_day"] == "2026-03-01"


def test_position_is_the_place_in_the_tickets_own_service_as_the_citizen_sees_it(
    client, kiosk, clerk, counter, clock
):
    issued = []
    for service in (EXTRACT, FAMILY, EXTRACT, FAMILY, EXTRACT):
        issued.append(issue(client, kiosk, service).json)
        clock.advance(seconds=30)
    by_id = {t["id"]: t for t in queue(client, counter, clerk)["tickets"]}
    for ticket in issued:
        status = client.get(f"/api/v1/tickets/{ticket['public_id']}").json
        assert by_id[ticket["id"]]["position"] == status["position"]
    assert [by_id[t["id"]]["position"] for t in issued] == [1, 1, 2, 2, 3]


def test_the_head_of_the_queue_is_always_the_ticket_call_next_takes(
    client, kiosk, clerk, counter, clock
):
    for service, priority in (
        (EXTRACT, "normal"),
        (FAMILY, "normal"),
        (EXTRACT, "disabled"),
        (FAMILY, "elderly"),
        (EXTRACT, "normal"),
    ):
        issue(client, kiosk, service, priority=priority)
        clock.advance(minutes=4)
    assert client.post(f"/api/v1/counters/{counter}/open", headers=clerk).status_code == 200
    called = 0
    while tickets := queue(client, counter, clerk)["tickets"]:
        answer = client.post(f"/api/v1/counters/{counter}/next", headers=clerk)
        assert answer.json["id"] == tickets[0]["id"]
        client.post(f"/api/v1/tickets/{answer.json['id']}/no-show", headers=clerk)
        called += 1
    assert called == 5
    assert client.post(f"/api/v1/counters/{counter}/next", headers=clerk).status_code == 204


def test_queue_holds_only_waiting_tickets_of_the_services_the_counter_serves(
    client, kiosk, clerk, counter, demo
):
    extract = issue(client, kiosk).json
    justice = issue(client, kiosk, JUSTICE).json
    second = issue(client, kiosk).json
    client.post(f"/api/v1/counters/{counter}/open", headers=clerk)
    client.post(f"/api/v1/counters/{counter}/next", headers=clerk)  # takes `extract`
    assert labels(queue(client, counter, clerk)) == [second["label"]]
    counter5 = next(u for u in demo.clerks if u["username"] == "clerk05")
    assert labels(queue(client, counter5["counter_id"], login(client, counter5))) == [
        justice["label"]
    ]
    assert extract["label"] not in labels(queue(client, counter, clerk))


def test_tickets_of_an_earlier_business_day_are_not_in_the_queue(
    client, kiosk, clerk, counter, clock
):
    issue(client, kiosk)
    clock.advance(days=1)
    answer = queue(client, counter, clerk)
    assert answer["tickets"] == [] and answer["business_day"] == "2026-03-02"


def test_an_empty_queue_is_an_empty_list(client, clerk, counter):
    assert queue(client, counter, clerk)["tickets"] == []


# --- who may read it -------------------------------------------------------------------


def test_queue_needs_a_token(client, counter):
    assert_error(client.get(f"/api/v1/counters/{counter}/queue"), 401, "token_required")


def test_a_kiosk_may_not_read_a_counters_queue(client, kiosk, counter):
    assert_error(
        client.get(f"/api/v1/counters/{counter}/queue", headers=kiosk), 403, "role_forbidden"
    )


def test_a_clerk_reads_only_their_own_counters_queue(client, demo, counter):
    other = login(client, demo.clerks[1])  # sits at counter 2
    assert_error(
        client.get(f"/api/v1/counters/{counter}/queue", headers=other), 403, "counter_forbidden"
    )


@pytest.mark.parametrize("role", ["manager", "admin"])
def test_managers_and_admins_read_any_counter_of_their_center(client, kiosk, demo, counter, role):
    ticket = issue(client, kiosk).json
    assert labels(queue(client, counter, login(client, demo.user(role)))) == [ticket["label"]]


def test_no_one_reads_a_counter_of_another_center(client, rt, demo):
    with rt.db.read() as session:
        aleppo = session.scalar(
            select(Counter.id).join(Center, Center.id == Counter.center_id)
            .where(Center.code == "ALE"))  # fmt: skip
    manager = login(client, demo.user("manager"))
    assert_error(
        client.get(f"/api/v1/counters/{aleppo}/queue", headers=manager), 403, "center_forbidden"
    )
    admin = login(client, demo.user("admin"))
    assert queue(client, aleppo, admin)["tickets"] == []


@pytest.mark.parametrize("counter_id", ["99999", "0", "99999999999999999999999", "x"])
def test_an_unknown_counter_is_404(client, clerk, counter_id):
    response = client.get(f"/api/v1/counters/{counter_id}/queue", headers=clerk)
    assert response.status_code == 404 and response.json["error"]["code"]
