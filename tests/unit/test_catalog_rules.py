"""The catalog's rules: codes, prefixes, names, service times, and what may be retired."""

from __future__ import annotations

import pytest

from taboor.server.domain.catalog import (
    require_closed_to_retire,
    require_empty_hands,
    require_free_prefixes,
    service_spec,
)
from taboor.server.domain.errors import Conflict, InvalidInput

GOOD = {
    "code": "civil-extract-individual",
    "prefix": "A",
    "category": "civil-registry",
    "name_ar": "إخراج قيد فردي",
    "name_en": "Individual civil registry extract",
    "sla_minutes": 20,
    "avg_service_s": 300,
    "min_service_s": 60,
}


def test_a_complete_service_is_accepted_with_its_prefix_in_capitals():
    spec = service_spec(**{**GOOD, "prefix": "ab", "name_ar": "  إخراج قيد  "})
    assert spec.prefix == "AB"
    assert spec.name_ar == "إخراج قيد"


@pytest.mark.parametrize(("change", "field"), [
    ({"code": "Civil-Extract"}, "code"),
    ({"code": "civil extract"}, "code"),
    ({"code": "civil--extract"}, "code"),
    ({"code": "-civil"}, "code"),
    ({"code": "x" * 65}, "code"),
    ({"prefix": ""}, "prefix"),
    ({"prefix": "ABCD"}, "prefix"),
    ({"prefix": "A1"}, "prefix"),
    ({"prefix": "أ"}, "prefix"),
    ({"name_ar": "   "}, "name_ar"),
    ({"name_en": ""}, "name_en"),
    ({"sla_minutes": 0}, "sla_minutes"),
    ({"avg_service_s": 0}, "avg_service_s"),
    ({"min_service_s": -1}, "min_service_s"),
    ({"min_service_s": 301}, "min_service_s"),
    ({"sla_minutes": True}, "sla_minutes"),
    ({"documents_ar": ["هوية", " "]}, "documents_ar"),
])  # fmt: skip
def test_a_bad_value_is_refused_naming_its_field(change, field):
    with pytest.raises(InvalidInput) as caught:
        service_spec(**{**GOOD, **change})
    assert caught.value.details["field"] == field


def test_the_minimum_plausible_time_may_equal_the_average():
    assert service_spec(**{**GOOD, "min_service_s": 300}).min_service_s == 300


def test_two_services_offered_at_one_center_never_print_the_same_prefix():
    require_free_prefixes({"civil-extract-individual": "A", "justice-no-conviction": "J"})
    with pytest.raises(Conflict) as caught:
        require_free_prefixes({"civil-extract-individual": "A", "estate-statement": "A"})
    assert caught.value.code == "prefix_taken"
    assert caught.value.details["services"] == ["civil-extract-individual", "estate-statement"]


@pytest.mark.parametrize("state", ["open", "paused"])
def test_a_counter_is_retired_only_once_closed(state):
    require_closed_to_retire(3, "closed")
    with pytest.raises(Conflict) as caught:
        require_closed_to_retire(3, state)
    assert caught.value.code == "counter_not_closed"


def test_a_clerk_with_a_ticket_in_hand_is_not_moved():
    require_empty_hands("clerk01", [])
    with pytest.raises(Conflict) as caught:
        require_empty_hands("clerk01", ["A-042"])
    assert caught.value.code == "tickets_in_hand"
    assert caught.value.status == 409


def test_every_service_of_the_demo_catalog_meets_the_rules():
    from taboor.server.operations.catalog import read_catalog

    catalog = read_catalog()
    fields = set(GOOD) | {"online", "documents_ar", "documents_en"}
    for service in catalog["services"]:
        service_spec(**{k: v for k, v in service.items() if k in fields})
