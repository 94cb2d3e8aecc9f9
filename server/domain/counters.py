"""Counter states and the rules a counter must meet before a call or a state change.

A counter is open (its clerk calls tickets), paused (a break: keeps its place in the
statistics as paused time) or closed. A clerk calls only at an open counter that has
no ticket in hand; a counter is paused or closed only once its ticket is finished,
transferred or marked a no-show, so no citizen is left called at a counter nobody staffs.
"""

from __future__ import annotations

from enum import StrEnum

from taboor.server.domain.errors import Conflict, InvalidInput


class CounterState(StrEnum):
    OPEN = "open"
    PAUSED = "paused"
    CLOSED = "closed"


def counter_state(value: str) -> CounterState:
    """The state named `value`, or InvalidInput naming the field."""
    try:
        return CounterState(value)
    except ValueError:
        names = ", ".join(CounterState)
        raise InvalidInput(f"state must be one of {names}", field="state") from None


def require_open(number: int, state: str) -> None:
    """A call needs an open counter."""
    if state != CounterState.OPEN:
        raise Conflict(
            f"counter {number} is {state}; open it first", code="counter_not_open", state=state
        )


def require_free(number: int, ticket_in_hand: str | None) -> None:
    """A call, a pause or a close needs the counter's last ticket finished."""
    if ticket_in_hand is not None:
        raise Conflict(
            f"counter {number} still has {ticket_in_hand}; finish it first",
            code="counter_busy",
            ticket=ticket_in_hand,
        )


def require_free_to_leave(number: int, new_state: str, ticket_in_hand: str | None) -> None:
    """Pausing or closing needs a free counter; opening an open one is harmless."""
    if new_state != CounterState.OPEN:
        require_free(number, ticket_in_hand)
