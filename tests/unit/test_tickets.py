"""Every ticket transition, allowed and forbidden."""

import itertools

import pytest

from taboor.server.domain.errors import InvalidTransition
from taboor.server.domain.tickets import FINAL_STATES, TRANSITIONS, Action, TicketState, transition

S, A = TicketState, Action

ALLOWED = {
    (S.WAITING, A.CALL): S.CALLED,
    (S.CALLED, A.RECALL): S.CALLED,
    (S.CALLED, A.START): S.SERVING,
    (S.SERVING, A.FINISH): S.DONE,
    (S.CALLED, A.NO_SHOW): S.NO_SHOW,
    (S.WAITING, A.CANCEL): S.CANCELLED,
    (S.CALLED, A.CANCEL): S.CANCELLED,
    (S.CALLED, A.TRANSFER): S.WAITING,
    (S.SERVING, A.TRANSFER): S.WAITING,
}
EVERY_PAIR = list(itertools.product(TicketState, Action))
FORBIDDEN = [pair for pair in EVERY_PAIR if pair not in ALLOWED]


@pytest.mark.parametrize(("state", "action"), list(ALLOWED))
def test_allowed_transition_reaches_its_state(state, action):
    assert transition(state, action) is ALLOWED[(state, action)]


@pytest.mark.parametrize(("state", "action"), FORBIDDEN)
def test_forbidden_transition_raises_with_code_and_current_state(state, action):
    with pytest.raises(InvalidTransition) as info:
        transition(state, action)
    assert info.value.code == "invalid_transition"
    assert info.value.status == 409
    assert info.value.to_dict()["state"] == state.value


def test_the_table_is_exactly_the_designed_machine():
    assert TRANSITIONS == ALLOWED
    assert len(ALLOWED) + len(FORBIDDEN) == len(TicketState) * len(Action)


@pytest.mark.parametrize("state", sorted(FINAL_STATES))
def test_final_states_allow_nothing(state):
    for action in Action:
        with pytest.raises(InvalidTransition):
            transition(state, action)


def test_recall_keeps_the_ticket_called():
    assert transition("called", "recall") is S.CALLED


def test_transitions_accept_wire_strings():
    assert transition("serving", "finish") is S.DONE
