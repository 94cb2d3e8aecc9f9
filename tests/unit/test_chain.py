"""The hash chain detects edited, deleted and truncated events."""

import pytest

from taboor.server.domain.chain import GENESIS, link, verify


def build(n: int) -> list[dict]:
    events, prev = [], GENESIS
    for seq in range(1, n + 1):
        event = {
            "center": "X",
            "seq": seq,
            "at": f"2026-03-01T06:00:0{seq % 10}Z",
            "type": "ticket.issued",
            "ticket": seq,
            "actor": "device:1",
            "counter": None,
            "reason": None,
            "data": f'{{"label":"A-{seq:03d}"}}',
        }
        event["prev_hash"] = prev
        event["hash"] = prev = link(prev, event)
        events.append(event)
    return events


def test_an_untouched_chain_is_intact():
    assert verify(build(5), head_seq=5) is None


def test_an_empty_chain_is_intact():
    assert verify([], head_seq=0) is None


@pytest.mark.parametrize("field", ["at", "type", "ticket", "actor", "counter", "reason", "data"])
def test_an_edited_field_is_detected_at_that_event(field):
    events = build(5)
    events[2][field] = "tampered"
    problem = verify(events, head_seq=5)
    assert problem is not None and problem.seq == 3


def test_a_recomputed_hash_is_caught_by_the_next_link():
    events = build(5)
    events[2]["data"] = '{"label":"Z-999"}'
    events[2]["hash"] = link(events[2]["prev_hash"], events[2])
    problem = verify(events, head_seq=5)
    assert problem is not None and problem.seq == 4


def test_a_deleted_event_is_detected():
    events = build(5)
    del events[1]
    problem = verify(events, head_seq=5)
    assert problem is not None and problem.seq == 2 and "missing" in problem.reason


def test_deleting_the_newest_events_is_caught_by_the_head_sequence():
    events = build(5)[:3]
    problem = verify(events, head_seq=5)
    assert problem is not None and problem.seq == 4


def test_arabic_text_hashes_stably():
    events = build(1)
    events[0]["reason"] = "مراجع كبير في السن"
    events[0]["hash"] = link(GENESIS, events[0])
    assert verify(events) is None
