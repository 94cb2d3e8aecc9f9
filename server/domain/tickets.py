"""Ticket states, priority classes and the allowed transitions."""

from __future__ import annotations

from enum import StrEnum

from taboor.server.domain.errors import InvalidTransition


class TicketState(StrEnum):
    WAITING = "waiting"
    CALLED = "called"
    SERVING = "serving"
    DONE = "done"
    NO_SHOW = "no_show"
    CANCELLED = "cancelled"


class Priority(StrEnum):
    NORMAL = "normal"
    ELDERLY = "elderly"
    DISABLED = "disabled"
    APPOINTMENT = "appointment"


class Channel(StrEnum):
    KIOSK = "kiosk"
    WEB = "web"
    RECEPTION = "reception"


class Action(StrEnum):
    CALL = "call"
    RECALL = "recall"
    START = "start"
    FINISH = "finish"
    NO_SHOW = "no_show"
    CANCEL = "cancel"
    TRANSFER = "transfer"


S, A = TicketState, Action

# The whole state machine. A recall keeps the ticket called; a transfer sends it back
# to waiting (in another service, keeping its issue time, which is its place in line).
TRANSITIONS: dict[tuple[TicketState, Action], TicketState] = {
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

FINAL_STATES = frozenset({S.DONE, S.NO_SHOW, S.CANCELLED})


def transition(state: TicketState | str, action: Action | str) -> TicketState:
    """Return the state after `action`, or raise InvalidTransition."""
    state, action = TicketState(state), Action(action)
    try:
        return TRANSITIONS[(state, action)]
    except KeyError:
        raise InvalidTransition(state.value, action.value) from None


def states_allowing(action: Action | str) -> frozenset[TicketState]:
    """The states from which `action` is allowed (used for conditional updates)."""
    action = Action(action)
    return frozenset(state for (state, act) in TRANSITIONS if act is action)
