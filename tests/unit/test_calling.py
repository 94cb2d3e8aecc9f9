"""The calling rule: earliest effective time among the services a counter serves."""

from datetime import UTC, datetime, timedelta

from taboor.server.domain.calling import Candidate, effective_time, pick_next

T = datetime(2026, 3, 1, 6, 0, tzinfo=UTC)
HEAD_STARTS = {"normal": 0, "elderly": 900, "disabled": 900, "appointment": 1800}


def test_effective_time_is_issue_time_minus_head_start():
    assert effective_time(T, "normal", HEAD_STARTS) == T
    assert effective_time(T, "elderly", HEAD_STARTS) == T - timedelta(minutes=15)
    assert effective_time(T, "appointment", HEAD_STARTS) == T - timedelta(minutes=30)


def test_earliest_effective_time_is_called_first():
    a = Candidate(1, "A", T)
    b = Candidate(2, "A", T + timedelta(minutes=1))
    assert pick_next([b, a], ["A"]) == a


def test_elderly_ticket_overtakes_normal_tickets_issued_within_its_head_start():
    normal = Candidate(1, "A", effective_time(T, "normal", HEAD_STARTS))
    elderly = Candidate(2, "A", effective_time(T + timedelta(minutes=10), "elderly", HEAD_STARTS))
    assert pick_next([normal, elderly], ["A"]) == elderly


def test_head_start_is_bounded_so_nobody_starves():
    normal = Candidate(1, "A", effective_time(T, "normal", HEAD_STARTS))
    late_elderly = Candidate(
        2, "A", effective_time(T + timedelta(minutes=16), "elderly", HEAD_STARTS)
    )
    assert pick_next([late_elderly, normal], ["A"]) == normal


def test_ties_go_to_the_earlier_ticket():
    assert pick_next([Candidate(7, "A", T), Candidate(3, "B", T)], ["A", "B"]).id == 3


def test_only_services_the_counter_serves_are_considered():
    other = Candidate(1, "B", T - timedelta(hours=1))
    mine = Candidate(2, "A", T)
    assert pick_next([other, mine], ["A"]) == mine


def test_nobody_waiting_gives_none():
    assert pick_next([], ["A"]) is None
    assert pick_next([Candidate(1, "B", T)], ["A"]) is None
