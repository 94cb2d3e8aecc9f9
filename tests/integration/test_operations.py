"""Use cases on a real SQLite file: numbering, the calling rule, transfers, the log."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from taboor.server.audit import verify_all
from taboor.server.auth import SYSTEM
from taboor.server.domain.errors import Conflict, InvalidInput, InvalidTransition, NotFound
from taboor.server.domain.tickets import Action
from taboor.server.models import Counter, Event, Ticket
from taboor.server.operations import counters as counter_ops
from taboor.server.operations import tickets as ops

CENTER = "DAM-MIDAN"
EXTRACT = "civil-extract-individual"
FAMILY = "civil-family-statement"
JUSTICE = "justice-no-conviction"


def issue(rt, service=EXTRACT, **kw):
    return ops.issue(rt.db, CENTER, service, actor=SYSTEM, now=rt.now(),
                     head_starts_s=rt.settings.head_starts_s(), **kw).body


def counter_id(rt, number: int) -> int:
    with rt.db.read() as session:
        return session.scalar(select(Counter.id).join(Counter.center).where(
            Counter.number == number, Counter.center.has(code=CENTER)))


def opened(rt, number: int) -> int:
    cid = counter_id(rt, number)
    counter_ops.set_counter_state(rt.db, cid, "open", actor=SYSTEM, now=rt.now())
    return cid


def call_next(rt, cid):
    return ops.call_next(rt.db, cid, actor=SYSTEM, now=rt.now()).body


def act(rt, ticket, action):
    return ops.act(rt.db, ticket["id"], action, actor=SYSTEM, now=rt.now()).body


def test_numbers_count_from_one_per_service(rt):
    labels = [issue(rt)["label"] for _ in range(3)] + [issue(rt, FAMILY)["label"]]
    assert labels[:3] == ["A-001", "A-002", "A-003"]
    assert labels[3].endswith("-001")


def test_numbering_restarts_on_the_next_local_business_day(rt, clock):
    issue(rt)
    issue(rt)
    # 21:30 UTC is already tomorrow in Damascus.
    clock.now = clock.now.replace(hour=21, minute=30)
    ticket = issue(rt)
    assert ticket["number"] == 1
    assert ticket["business_day"] == "2026-03-02"


def test_position_and_estimate_come_from_people_ahead(rt):
    first, second, third = issue(rt), issue(rt), issue(rt)
    assert [first["position"], second["position"], third["position"]] == [1, 2, 3]
    assert first["estimated_wait_s"] == 0
    assert third["estimated_wait_s"] > second["estimated_wait_s"] > 0


def test_call_next_takes_the_earliest_effective_time(rt, clock):
    cid = opened(rt, 1)
    early = issue(rt)
    clock.advance(minutes=1)
    issue(rt, FAMILY)
    assert call_next(rt, cid)["id"] == early["id"]


def test_priority_ticket_is_called_before_normal_tickets_within_its_head_start(rt, clock):
    cid = opened(rt, 1)
    issue(rt)
    clock.advance(minutes=5)
    elderly = issue(rt, priority="elderly")
    assert elderly["position"] == 1
    assert call_next(rt, cid)["id"] == elderly["id"]


def test_counter_only_calls_services_it_serves(rt):
    cid = opened(rt, 1)  # civil registry only
    issue(rt, JUSTICE)
    assert ops.call_next(rt.db, cid, actor=SYSTEM, now=rt.now()).body is None


def test_closed_counter_cannot_call(rt):
    issue(rt)
    with pytest.raises(Conflict) as info:
        call_next(rt, counter_id(rt, 1))
    assert info.value.code == "counter_not_open"


def test_counter_with_a_called_ticket_must_finish_it_first(rt):
    cid = opened(rt, 1)
    issue(rt)
    issue(rt)
    call_next(rt, cid)
    with pytest.raises(Conflict) as info:
        call_next(rt, cid)
    assert info.value.code == "counter_busy"


def test_full_service_cycle_sets_every_timestamp(rt, clock):
    cid = opened(rt, 1)
    issue(rt)
    clock.advance(minutes=3)
    ticket = call_next(rt, cid)
    clock.advance(seconds=30)
    act(rt, ticket, Action.START)
    clock.advance(minutes=4)
    done = act(rt, ticket, Action.FINISH)
    assert done["state"] == "done"
    assert done["issued_at"] < done["called_at"] < done["started_at"] < done["finished_at"]
    assert done["counter"] == 1


def test_recall_keeps_called_and_counts(rt):
    cid = opened(rt, 1)
    issue(rt)
    ticket = call_next(rt, cid)
    again = ops.act(rt.db, ticket["id"], Action.RECALL, actor=SYSTEM, now=rt.now())
    assert again.body["state"] == "called" and again.body["recall_count"] == 1
    assert again.events[0].name == "ticket.called" and again.events[0].payload["recall"]


def test_wrong_state_is_a_conflict_with_the_current_state(rt):
    ticket = issue(rt)
    with pytest.raises(InvalidTransition) as info:
        act(rt, ticket, Action.FINISH)
    assert info.value.state == "waiting"


def test_transfer_keeps_place_in_line(rt, clock):
    c1, c5 = opened(rt, 1), opened(rt, 5)
    moving = issue(rt)
    clock.advance(minutes=2)
    later = issue(rt, JUSTICE)
    ticket = call_next(rt, c1)
    moved = ops.transfer(rt.db, ticket["id"], JUSTICE, actor=SYSTEM, now=rt.now()).body
    assert moved["state"] == "waiting" and moved["service"] == JUSTICE
    assert moved["label"] == moving["label"] and moved["issued_at"] == moving["issued_at"]
    assert moved["position"] == 1
    assert call_next(rt, c5)["id"] == moving["id"]
    assert later["position"] == 1  # it was first in its service until the transfer


def test_transfer_to_the_same_service_is_refused(rt):
    cid = opened(rt, 1)
    issue(rt)
    ticket = call_next(rt, cid)
    with pytest.raises(Conflict) as info:
        ops.transfer(rt.db, ticket["id"], EXTRACT, actor=SYSTEM, now=rt.now())
    assert info.value.code == "same_service"


def test_calling_a_specific_ticket_needs_a_reason_and_is_flagged(rt, clock):
    cid = opened(rt, 1)
    first = issue(rt)
    second = issue(rt)
    with pytest.raises(InvalidInput) as info:
        ops.call_ticket(rt.db, cid, second["id"], reason=" ", actor=SYSTEM, now=rt.now())
    assert info.value.details["field"] == "reason"
    called = ops.call_ticket(rt.db, cid, second["id"], reason="مراجع مسن", actor=SYSTEM,
                             now=rt.now()).body
    assert called["out_of_order"] is True
    act(rt, called, Action.NO_SHOW)
    in_turn = ops.call_ticket(rt.db, cid, first["id"], reason="next anyway", actor=SYSTEM,
                              now=rt.now()).body
    assert in_turn["out_of_order"] is False


def test_unknown_things_are_not_found(rt):
    with pytest.raises(NotFound, match="center"):
        ops.issue(rt.db, "NOPE", EXTRACT, actor=SYSTEM, now=rt.now(), head_starts_s={})
    with pytest.raises(NotFound) as info:
        issue(rt, "no-such-service")
    assert info.value.code == "service_not_found"
    with pytest.raises(NotFound) as info:
        call_next(rt, 99999)
    assert info.value.code == "counter_not_found"


def test_a_failed_operation_writes_nothing(rt):
    with rt.db.read() as session:
        before = session.scalar(select(Event.id).order_by(Event.id.desc()).limit(1))
    with pytest.raises(NotFound):
        issue(rt, "no-such-service")
    with rt.db.read() as session:
        assert session.scalar(select(Event.id).order_by(Event.id.desc()).limit(1)) == before
        assert session.scalar(select(Ticket.id).limit(1)) is None


def test_every_operation_appends_one_chained_event(rt, clock):
    cid = opened(rt, 1)
    issue(rt)
    ticket = call_next(rt, cid)
    act(rt, ticket, Action.START)
    clock.advance(minutes=2)
    act(rt, ticket, Action.FINISH)
    with rt.db.read() as session:
        types = list(session.scalars(select(Event.type).where(Event.ticket_id == ticket["id"])
                                     .order_by(Event.seq)))
        assert types == ["ticket.issued", "ticket.called", "ticket.started", "ticket.done"]
        assert all(problem is None for problem in verify_all(session).values())


def test_published_events_carry_center_and_increasing_seq(rt):
    cid = opened(rt, 1)
    issued = ops.issue(rt.db, CENTER, EXTRACT, actor=SYSTEM, now=rt.now(), head_starts_s={})
    called = ops.call_next(rt.db, cid, actor=SYSTEM, now=rt.now())
    (e1,), (e2,) = issued.events, called.events
    assert e1.name == "ticket.issued" and e2.name == "ticket.called"
    assert e1.payload["center"] == e2.payload["center"] == CENTER
    assert e2.payload["seq"] == e1.payload["seq"] + 1


def test_pausing_a_busy_counter_is_refused(rt):
    cid = opened(rt, 1)
    issue(rt)
    call_next(rt, cid)
    with pytest.raises(Conflict):
        counter_ops.set_counter_state(rt.db, cid, "paused", actor=SYSTEM, now=rt.now())


def test_times_are_stored_and_returned_in_utc(rt, clock):
    ticket = issue(rt)
    assert ticket["issued_at"] == clock.now.isoformat().replace("+00:00", "Z")
    with rt.db.read() as session:
        row = session.get(Ticket, ticket["id"])
        assert row.issued_at.utcoffset() == timedelta(0)


def test_estimate_uses_the_days_recent_completions_once_there_are_enough(rt, clock):
    cid = opened(rt, 1)
    first = issue(rt)
    assert first["estimate"]["basis"] == "configured"
    for _ in range(3):
        issue(rt)
        ticket = call_next(rt, cid)
        clock.advance(minutes=1)
        act(rt, ticket, Action.START)
        clock.advance(minutes=5)  # call -> done: 6 minutes
        act(rt, ticket, Action.FINISH)
    waiting = [issue(rt) for _ in range(2)]
    estimate = waiting[-1]["estimate"]
    assert estimate["basis"] == "recent" and estimate["handle_s"] == 360.0
    # Counter 1 is the only open one, and these two are all who wait for it.
    assert estimate["capacity"] == 1.0
    assert waiting[-1]["estimated_wait_s"] == estimate["ahead"] * 360


def test_a_shared_counter_counts_for_its_share_of_the_queue(rt):
    opened(rt, 1)  # serves the extracts and five other civil-registry services
    issue(rt)
    other = issue(rt, FAMILY)
    # One extract and one family statement wait at counter 1: each gets half of it.
    assert other["estimate"]["capacity"] == 0.5


def test_yesterdays_leftover_tickets_are_not_called_or_counted_today(rt, clock):
    left = issue(rt)  # never served
    clock.advance(days=1)
    today = issue(rt)
    assert today["label"] == left["label"]  # numbering restarted
    assert today["position"] == 1
    cid = opened(rt, 1)
    assert call_next(rt, cid)["id"] == today["id"]
