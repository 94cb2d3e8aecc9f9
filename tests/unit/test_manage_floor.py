"""The dashboard's pure parts: the SLA alert rule, the live board, figures and charts."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from taboor.server.manage.figures import Numbers, hour_chart, service_chart
from taboor.server.manage.floor import Board, CounterAtWork, Queue, over_target, sla_alerts

NOW = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


def queue(code: str = "civil-extract-individual", *, waited_s: float | None = 0, waiting: int = 1,
          sla: int = 20) -> Queue:  # fmt: skip
    oldest = None if waited_s is None else NOW - timedelta(seconds=waited_s)
    return Queue(code, "إخراج قيد فردي", "Individual extract", sla, waiting, oldest)


@pytest.mark.parametrize(
    ("waited_s", "late"),
    [(0, False), (19 * 60 + 59, False), (20 * 60, False), (20 * 60 + 1, True), (3 * 3600, True)],
)
def test_a_service_is_over_target_only_once_its_oldest_wait_passes_the_sla(waited_s, late):
    assert over_target(queue(waited_s=waited_s), NOW) is late


def test_a_service_with_nobody_waiting_raises_no_alert():
    assert not over_target(queue(waited_s=None, waiting=0), NOW)
    assert not over_target(queue(waited_s=7200, waiting=0), NOW)  # stale oldest, line empty


def test_each_service_is_held_to_its_own_target():
    short, long_ = queue("a", waited_s=30 * 60, sla=20), queue("b", waited_s=30 * 60, sla=40)
    assert [q.code for q in sla_alerts([short, long_], NOW)] == ["a"]


def test_alerts_list_the_longest_overrun_first():
    queues = [queue("a", waited_s=25 * 60), queue("b", waited_s=50 * 60), queue("c", waited_s=60)]
    assert [q.code for q in sla_alerts(queues, NOW)] == ["b", "a"]


def test_the_board_knows_when_the_next_service_will_pass_its_target():
    board = Board(NOW, 7, [queue("a", waited_s=25 * 60), queue("b", waited_s=15 * 60),
                           queue("c", waited_s=5 * 60)], [], [])  # fmt: skip
    assert board.next_breach == NOW + timedelta(minutes=5)
    assert [q.code for q in board.alerts] == ["a"]


def test_the_board_lists_only_lines_with_people_longest_first():
    board = Board(
        NOW, 1,
        [queue("a", waited_s=60, waiting=2), queue("b", waited_s=None, waiting=0),
         queue("c", waited_s=600, waiting=1)],
        [CounterAtWork(1, "open"), CounterAtWork(2, "closed"),
         CounterAtWork(3, "open", label="A-001")], [],
    )  # fmt: skip
    assert [q.code for q in board.lines] == ["c", "a"]
    assert board.waiting == 3 and board.open_desks == 2


def test_longest_wait_is_counted_from_the_issue_time():
    assert queue(waited_s=125).longest_wait_s(NOW) == 125


@pytest.mark.parametrize(
    ("numbers", "seconds", "ratio", "expected"),
    [
        (Numbers("en", eastern=True), 206.7, 0.8333, ("3:27", "83.3%")),
        (Numbers("ar", eastern=False), 206.7, 0.8333, ("3:27", "83.3%")),
        (Numbers("ar", eastern=True), 3725, 1.0, ("١:٠٢:٠٥", "١٠٠٫٠٪")),
        (Numbers("ar", eastern=True), None, None, ("–", "–")),
    ],
)
def test_figures_are_minutes_and_seconds_in_the_pages_digits(numbers, seconds, ratio, expected):
    assert (numbers.dur(seconds), numbers.pct(ratio)) == expected


def _xs(svg: str, cls: str) -> list[float]:
    return [float(x) for x in re.findall(rf'<text x="([\d.]+)"[^>]*class="{cls}"', svg)]


ROWS = [("إخراج قيد فردي", {"issued": 9, "served": 6, "no_show": 1, "cancelled": 1, "pending": 1}),
        ("بيان عائلي", {"issued": 3, "served": 3})]  # fmt: skip


def test_service_bars_stand_at_the_start_side_of_the_page():
    ltr = str(service_chart(ROWS, Numbers("en"), "Tickets per service"))
    rtl = str(service_chart(ROWS, Numbers("ar"), "البطاقات حسب الخدمة"))
    assert all(x < 380 for x in _xs(ltr, "label")) and all(x > 380 for x in _xs(rtl, "label"))
    assert 'direction="rtl"' in rtl and 'direction="rtl"' not in ltr
    # Busiest first, the total at the end of each bar.
    assert re.findall(r'class="value"[^>]*>(\d+)<', ltr) == ["9", "3"]


def test_hours_run_right_to_left_in_arabic():
    by_hour = {
        "09": {"wait_s": {"mean": 120, "p90": 300}},
        "11": {"wait_s": {"mean": 60, "p90": 90}},
    }
    ltr = [x for x in _xs(str(hour_chart(by_hour, Numbers("en"), "w")), "axis")]
    rtl = [x for x in _xs(str(hour_chart(by_hour, Numbers("ar"), "w")), "axis")]
    hours_ltr, hours_rtl = ltr[-3:], rtl[-3:]  # 09, 10, 11 after the value-axis ticks
    assert hours_ltr == sorted(hours_ltr) and hours_rtl == sorted(hours_rtl, reverse=True)


def test_names_in_charts_are_escaped():
    svg = str(
        service_chart([("<script>x</script>", {"issued": 1, "served": 1})], Numbers("en"), "t")
    )
    assert "<script>" not in svg and "&lt;script&gt;" in svg


def test_no_chart_without_data():
    assert (
        service_chart([], Numbers("en"), "t") is None and hour_chart({}, Numbers("en"), "t") is None
    )
