"""Which months the background summariser walks, newest first."""

from datetime import date

from taboor.server.summariser import months_back


def test_months_run_from_yesterday_back_to_the_first_of_the_oldest_month():
    months = months_back(date(2026, 3, 4), 40)
    assert months == [
        (date(2026, 3, 1), date(2026, 3, 4)),
        (date(2026, 2, 1), date(2026, 2, 28)),
        (date(2026, 1, 1), date(2026, 1, 31)),
    ]


def test_nothing_before_the_first_ticket():
    assert months_back(date(2026, 3, 4), 400, since=date(2026, 2, 20)) == [
        (date(2026, 3, 1), date(2026, 3, 4)),
        (date(2026, 2, 20), date(2026, 2, 28)),
    ]
    assert months_back(date(2026, 3, 4), 400, since=date(2026, 3, 5)) == []  # only today


def test_a_year_back_covers_thirteen_or_fourteen_months_and_leap_days():
    months = months_back(date(2028, 3, 1), 400)
    assert months[0] == (date(2028, 3, 1), date(2028, 3, 1))
    assert (date(2028, 2, 1), date(2028, 2, 29)) in months
    assert months[-1][0] == date(2027, 1, 1) and len(months) == 15
