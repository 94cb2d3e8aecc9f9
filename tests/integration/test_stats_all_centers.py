"""An admin's statistics of every center together (GET /api/v1/stats)."""

from __future__ import annotations

from datetime import timedelta

from tests.conftest import login
from tests.integration.test_stats_api import play_known_day

ALL = "/api/v1/stats"
EXTRACT = "civil-extract-individual"


def _qanawat_morning(client, admin) -> None:
    """Two citizens take a ticket at another Damascus center; nobody calls them yet."""
    for service in (EXTRACT, "civil-family-statement"):
        response = client.post("/api/v1/centers/DAM-QANAWAT/tickets", json={"service": service},
                               headers=admin)  # fmt: skip
        assert response.status_code == 201


def test_only_an_admin_sees_every_center(client, demo):
    manager = login(client, demo.user("manager"))
    response = client.get(ALL, headers=manager)
    assert response.status_code == 403 and response.json["error"]["code"] == "role_forbidden"
    assert client.get(ALL).status_code == 401


def test_every_centers_figures_add_up_and_each_center_keeps_its_own(client, clock, demo, kiosk):
    play_known_day(client, clock, demo, kiosk)  # DAM-MIDAN: 4 issued, 2 served, 1 no-show...
    admin = login(client, demo.user("admin"))
    _qanawat_morning(client, admin)
    midan = client.get("/api/v1/centers/DAM-MIDAN/stats", headers=admin).json
    report = client.get(f"{ALL}?from=2026-03-01&to=2026-03-01", headers=admin).json

    assert report["centers"][:2] == ["ALE", "DAM-MIDAN"] and "DAM-QANAWAT" in report["centers"]
    assert (report["issued"], report["served"], report["no_show"], report["cancelled"],
            report["pending"]) == (6, 2, 1, 1, 2)  # fmt: skip
    assert report["by_center"]["DAM-MIDAN"]["issued"] == 4
    assert report["by_center"]["DAM-QANAWAT"]["issued"] == 2
    assert report["by_center"]["DAM-QANAWAT"]["pending"] == 2
    assert report["by_center"]["ALE"]["issued"] == 0
    # Services add up across centers; counters keep their center's name.
    assert report["by_service"][EXTRACT]["issued"] == 3 + 1
    assert list(report["by_counter"]) == ["DAM-MIDAN/1"]
    assert report["by_counter"]["DAM-MIDAN/1"]["utilisation"] == midan["by_counter"]["1"][
        "utilisation"
    ]
    assert report["by_hour"]["09"]["issued"] == 6
    assert report["by_day"]["2026-03-01"]["issued"] == 6
    # Only Midan's tickets were called: the waits are its own (percentiles from the
    # merged histograms: never below the exact value, at most 1 % above it).
    waits, exact = report["wait_s"], midan["wait_s"]
    assert (waits["mean"], waits["max"], waits["count"]) == (exact["mean"], exact["max"], 3)
    for p in ("p50", "p90"):
        assert exact[p] <= waits[p] <= exact[p] * 1.01
    assert report["percentiles"]["method"] == "histogram"
    assert report["sla"] == midan["sla"]


def test_a_longer_range_merges_stored_days_with_the_same_totals(client, clock, demo, kiosk):
    play_known_day(client, clock, demo, kiosk)
    admin = login(client, demo.user("admin"))
    _qanawat_morning(client, admin)
    one_day = client.get(f"{ALL}?from=2026-03-01&to=2026-03-01", headers=admin).json
    clock.now += timedelta(days=2)  # 2026-03-01 is closed now: its summaries are stored
    report = client.get(f"{ALL}?from=2026-03-01&to=2026-03-03", headers=admin).json
    for key in ("issued", "served", "no_show", "cancelled", "wait_s", "sla", "by_center"):
        assert report[key] == one_day[key], key


def test_filters_choose_a_service_or_a_clerk_across_centers(client, clock, demo, kiosk):
    play_known_day(client, clock, demo, kiosk)
    admin = login(client, demo.user("admin"))
    _qanawat_morning(client, admin)
    family = client.get(f"{ALL}?service=civil-family-statement", headers=admin).json
    assert family["issued"] == 2 and family["filters"]["service"] == "civil-family-statement"
    clerk = client.get(f"{ALL}?clerk=clerk01", headers=admin).json
    assert clerk["served"] == 2 and clerk["by_center"]["DAM-QANAWAT"]["issued"] == 0
    bad = client.get(f"{ALL}?from=2026-03-02&to=2026-03-01", headers=admin)
    assert bad.status_code == 400 and bad.json["error"]["code"] == "bad_range"
