"""One way to read a report (server/reports.py `read_report`): who may, and what it
stores before it reads. The API, the dashboard and `taboor report` all go through it."""

from __future__ import annotations

from datetime import timedelta

import pytest

from taboor.server import reports
from taboor.server.auth import SYSTEM, Principal
from taboor.server.domain.errors import Forbidden, InvalidInput, NotFound, Unauthorized
from taboor.server.queries import find_center
from tests.integration.test_stats_api import play_known_day

CENTER = "DAM-MIDAN"
OTHER = "DAM-QANAWAT"


def _center_id(rt, code: str) -> int:
    with rt.db.reading() as tx:
        return int(find_center(tx, code)["id"])


def _staff(rt, role: str, center: str | None = CENTER) -> Principal:
    kind = "device" if role == "kiosk" else "user"
    return Principal(kind, 1, role, None if center is None else _center_id(rt, center))


def _read(rt, center: str | None, actor: Principal | None, **range_: str) -> dict:
    return reports.read_report(rt.db, center, actor=actor, now=rt.now(), **range_)


def test_a_manager_reads_their_own_centers_statistics_and_no_other(rt):
    manager = _staff(rt, "manager")
    assert _read(rt, CENTER, manager)["center"] == CENTER
    with pytest.raises(Forbidden) as refused:
        _read(rt, OTHER, manager)
    assert refused.value.code == "center_forbidden"


def test_an_admin_and_the_command_line_read_any_center(rt):
    for reader in (_staff(rt, "admin", None), SYSTEM):
        assert _read(rt, OTHER, reader)["center"] == OTHER


@pytest.mark.parametrize("role", ["clerk", "kiosk"])
def test_clerks_and_devices_read_no_statistics(rt, role):
    with pytest.raises(Forbidden) as refused:
        _read(rt, CENTER, _staff(rt, role))
    assert refused.value.code == "role_forbidden"


def test_nobody_reads_statistics_without_signing_in(rt):
    with pytest.raises(Unauthorized):
        _read(rt, CENTER, None)
    with pytest.raises(Unauthorized):
        _read(rt, None, None)


def test_only_an_admin_reads_every_center_together(rt):
    with pytest.raises(Forbidden) as refused:
        _read(rt, None, _staff(rt, "manager"))
    assert refused.value.code == "role_forbidden"
    assert CENTER in _read(rt, None, _staff(rt, "admin", None))["centers"]


def test_access_is_checked_before_the_range(rt):
    with pytest.raises(Forbidden):
        _read(rt, OTHER, _staff(rt, "manager"), from_day="not a day")
    with pytest.raises(InvalidInput):
        _read(rt, CENTER, _staff(rt, "manager"), from_day="not a day")


def test_an_unknown_center_is_not_found(rt):
    with pytest.raises(NotFound):
        _read(rt, "NOWHERE", SYSTEM)


def test_a_report_of_every_center_takes_no_counter(rt):
    with pytest.raises(InvalidInput) as refused:
        reports.read_report(rt.db, None, actor=SYSTEM, now=rt.now(), counter="1")
    assert refused.value.details == {"field": "counter"}


def test_reading_a_long_range_first_stores_the_closed_days_it_lacks(rt, client, clock, demo,
                                                                    kiosk):  # fmt: skip
    play_known_day(client, clock, demo, kiosk)
    clock.now += timedelta(days=3)
    report = _read(rt, CENTER, SYSTEM, from_day="2026-03-01", to_day="2026-03-04")
    assert report["issued"] == 4 and report["percentiles"]["method"] == "histogram"
    with rt.db.reading() as tx:
        stored = [str(day) for day in reports.stored_days(tx, CENTER)]
    assert stored == ["2026-03-01", "2026-03-02", "2026-03-03"]  # not today, the 4th
