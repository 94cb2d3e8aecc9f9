"""Counters in the database: read one (row-locked for a change), its services, its ticket."""

from __future__ import annotations

from dataclasses import dataclass

from taboor.server.domain.errors import NotFound
from taboor.server.store import Tx

_COUNTER = """
SELECT k.id, k.center_id, k.number, k.state, c.timezone
FROM counters k JOIN centers c ON c.id = k.center_id WHERE k.id = :id"""
_LOCK_COUNTER = "SELECT id FROM counters WHERE id = :id FOR UPDATE"
_SERVICE_IDS = "SELECT service_id FROM counter_services WHERE counter_id = :id ORDER BY position"
_SERVICE_CODES = """
SELECT s.code FROM counter_services cs JOIN services s ON s.id = cs.service_id
WHERE cs.counter_id = :id ORDER BY cs.position"""
_IN_HAND = """
SELECT id, label FROM tickets
WHERE counter_id = :id AND state IN ('called', 'serving') LIMIT 1"""
_SET_STATE = "UPDATE counters SET state = :state WHERE id = :id"


@dataclass(frozen=True)
class CounterRow:
    id: int
    center_id: int
    number: int
    state: str
    timezone: str = "Asia/Damascus"


@dataclass(frozen=True)
class InHand:
    """The ticket a counter is calling or serving."""

    id: int
    label: str


def find_counter(tx: Tx, counter_id: int, *, lock: bool = False) -> CounterRow:
    """The counter with its center's time zone; row-locked on PostgreSQL."""
    if lock and tx.postgres:
        tx.run(_LOCK_COUNTER, {"id": counter_id})
    row = tx.mapping(_COUNTER, {"id": counter_id})
    if row is None:
        raise NotFound(f"no counter {counter_id}", code="counter_not_found")
    return CounterRow(**row)


def service_ids(tx: Tx, counter_id: int) -> list[int]:
    """The ids of the services the counter serves, in its order."""
    return [sid for (sid,) in tx.all(_SERVICE_IDS, {"id": counter_id})]


def service_codes(tx: Tx, counter_id: int) -> list[str]:
    """The codes of the services the counter serves, in its order."""
    return [code for (code,) in tx.all(_SERVICE_CODES, {"id": counter_id})]


def in_hand(tx: Tx, counter_id: int) -> InHand | None:
    """The ticket the counter is calling or serving, if any."""
    row = tx.mapping(_IN_HAND, {"id": counter_id})
    return None if row is None else InHand(**row)


def set_state(tx: Tx, counter_id: int, state: str) -> None:
    tx.run(_SET_STATE, {"state": state, "id": counter_id})
