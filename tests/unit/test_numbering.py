"""Labels and the business day."""

from datetime import UTC, date, datetime

import pytest

from taboor.server.domain.numbering import business_day, label, valid_prefix


@pytest.mark.parametrize(
    ("prefix", "number", "expected"),
    [("A", 42, "A-042"), ("CR", 7, "CR-007"), ("ABC", 1, "ABC-001"), ("A", 1234, "A-1234")],
)
def test_label_is_prefix_dash_number_padded_to_three(prefix, number, expected):
    assert label(prefix, number) == expected


def test_numbers_start_at_one():
    with pytest.raises(ValueError):
        label("A", 0)


@pytest.mark.parametrize(
    ("prefix", "ok"),
    [
        ("A", True),
        ("CR", True),
        ("ABC", True),
        ("ABCD", False),
        ("a", False),
        ("", False),
        ("A1", False),
        ("أ", False),
    ],
)
def test_prefix_is_one_to_three_latin_capitals(prefix, ok):
    assert valid_prefix(prefix) is ok


def test_business_day_is_the_local_date_across_utc_midnight():
    # 22:30 UTC on 1 March is 01:30 on 2 March in Damascus (UTC+3).
    assert business_day(datetime(2026, 3, 1, 22, 30, tzinfo=UTC), "Asia/Damascus") == date(
        2026, 3, 2
    )
    assert business_day(datetime(2026, 3, 1, 20, 59, tzinfo=UTC), "Asia/Damascus") == date(
        2026, 3, 1
    )


def test_business_day_refuses_naive_times():
    with pytest.raises(ValueError):
        business_day(datetime(2026, 3, 1, 12, 0), "Asia/Damascus")
