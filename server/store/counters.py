"""Counters in the database: read one (row-locked for a change), its services, its ticket,
a center's counters, and each counter with its center for the desk page."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

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
_CENTER_COUNTERS = """
SELECT id, center_id, number, state FROM counters WHERE center_id = :center_id ORDER BY number"""
_NUMBERS = "SELECT number FROM counters WHERE center_id = :center_id ORDER BY number"
_NUMBER_USED = "SELECT count(*) FROM counters WHERE center_id = :center_id AND number = :number"
_OPEN_COUNTER_SERVICES = """
SELECT cs.counter_id, cs.service_id FROM counter_services cs
JOIN counters k ON k.id = cs.counter_id WHERE k.center_id = :center_id AND k.state = 'open'"""
_IN_CENTER = """
SELECT k.id, k.number, k.state, c.id AS center_id, c.code AS center_code,
    c.name_ar AS center_ar, c.name_en AS center_en, c.timezone, c.options
FROM counters k JOIN centers c ON c.id = k.center_id"""
_IN_CENTER_BY_ID = _IN_CENTER + "\nWHERE k.id = :id"
_ALL_IN_CENTERS = _IN_CENTER + "\nORDER BY c.code, k.number"
_IN_ONE_CENTER = _IN_CENTER + "\nWHERE k.center_id = :center_id ORDER BY k.number"


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
    return tx.column(_SERVICE_IDS, {"id": counter_id})


def service_codes(tx: Tx, counter_id: int) -> list[str]:
    """The codes of the services the counter serves, in its order."""
    return tx.column(_SERVICE_CODES, {"id": counter_id})


def in_hand(tx: Tx, counter_id: int) -> InHand | None:
    """The ticket the counter is calling or serving, if any."""
    row = tx.mapping(_IN_HAND, {"id": counter_id})
    return None if row is None else InHand(**row)


def set_state(tx: Tx, counter_id: int, state: str) -> None:
    tx.run(_SET_STATE, {"state": state, "id": counter_id})


def center_counters(tx: Tx, center_id: int) -> list[CounterRow]:
    """The center's counters by number (the time zone left at its default: unread)."""
    return [CounterRow(**row) for row in tx.mappings(_CENTER_COUNTERS, {"center_id": center_id})]


def numbers(tx: Tx, center_id: int) -> list[int]:
    """The numbers of the center's counters, in order."""
    return tx.column(_NUMBERS, {"center_id": center_id})


def number_used(tx: Tx, center_id: int, number: int) -> bool:
    """Whether the center has a counter with this number."""
    return bool(tx.scalar(_NUMBER_USED, {"center_id": center_id, "number": number}))


def open_counter_services(tx: Tx, center_id: int) -> dict[int, list[int]]:
    """For each open counter of the center, the ids of the services it serves."""
    served: dict[int, list[int]] = defaultdict(list)
    for row in tx.mappings(_OPEN_COUNTER_SERVICES, {"center_id": center_id}):
        served[row["counter_id"]].append(row["service_id"])
    return served


@dataclass(frozen=True)
class CounterInCenter:
    """A counter with its center's code, names, time zone and options (decoded)."""

    id: int
    number: int
    state: str
    center_id: int
    center_code: str
    center_ar: str
    center_en: str
    timezone: str
    options: Any


def _in_center(tx: Tx, row: dict[str, Any]) -> CounterInCenter:
    row["options"] = tx.read_json(row["options"])
    return CounterInCenter(**row)


def counter_in_center(tx: Tx, counter_id: int) -> CounterInCenter | None:
    """The counter with its center, or None."""
    row = tx.mapping(_IN_CENTER_BY_ID, {"id": counter_id})
    return None if row is None else _in_center(tx, row)


def counters_in_centers(tx: Tx, center_id: int | None = None) -> list[CounterInCenter]:
    """The counters of one center by number; of every center (None) by center code first."""
    if center_id is None:
        rows = tx.mappings(_ALL_IN_CENTERS)
    else:
        rows = tx.mappings(_IN_ONE_CENTER, {"center_id": center_id})
    return [_in_center(tx, row) for row in rows]
