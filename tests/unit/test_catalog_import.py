"""The demo catalog describes a consistent floor."""

import copy

import pytest

from taboor.server.domain.numbering import valid_prefix
from taboor.server.operations.catalog import CatalogError, read_catalog, validate_catalog

CATALOG = read_catalog()


def test_demo_has_the_eight_reference_centers():
    codes = {c["code"] for c in CATALOG["centers"]}
    assert codes == {"DAM-MIDAN", "DAM-QANAWAT", "LAT", "TAR", "HAM", "ALE", "HOM", "QUN"}


def test_demo_has_about_forty_services_named_in_both_languages():
    services = CATALOG["services"]
    assert len(services) >= 38
    for service in services:
        assert service["name_ar"] and service["name_en"]
        assert any("\u0600" <= ch <= "\u06ff" for ch in service["name_ar"])


def test_prefixes_are_unique_latin_letters():
    prefixes = [s["prefix"] for s in CATALOG["services"]]
    assert len(set(prefixes)) == len(prefixes)
    assert all(valid_prefix(p) for p in prefixes)


def test_midan_has_at_least_twelve_counters():
    midan = next(c for c in CATALOG["centers"] if c["code"] == "DAM-MIDAN")
    assert len(midan["counters"]) >= 12


def test_every_service_is_served_by_a_counter_in_every_center():
    every = {s["code"] for s in CATALOG["services"]}
    for center in CATALOG["centers"]:
        served = {code for counter in center["counters"] for code in counter["services"]}
        assert served == every, center["code"]


def _broken(change) -> dict:
    data = copy.deepcopy(CATALOG)
    change(data)
    return data


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["services"][1].update(prefix=d["services"][0]["prefix"]), "duplicate prefix"),
        (lambda d: d["services"][0].update(prefix="AB1"), "prefix must be"),
        (lambda d: d["services"][0].update(category="nope"), "unknown category"),
        (
            lambda d: d["centers"][0].update(counters=d["centers"][0]["counters"][:1]),
            "no counter serves",
        ),
        (lambda d: d["centers"][0].update(timezone="Mars/Olympus"), "unknown time zone"),
        (lambda d: d["centers"][0]["counters"][0]["services"].append("ghost"), "not offered"),
    ],
)
def test_inconsistent_catalogs_are_refused(change, message):
    with pytest.raises(CatalogError, match=message):
        validate_catalog(_broken(change))
