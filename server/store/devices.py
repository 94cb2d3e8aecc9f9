"""Devices in the database: a center's kiosks, displays and agents, and their printers' state."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from taboor.server.store import Tx

_DEVICES = """
SELECT kind, name, printer, printer_state, last_seen, active FROM devices
WHERE center_id = :center_id ORDER BY kind, name, id"""
_PRINTER_STATE = """
SELECT d.printer_state, d.center_id, c.code AS center_code
FROM devices d JOIN centers c ON c.id = d.center_id
WHERE d.id = :id"""
_SET_PRINTER_STATE = "UPDATE devices SET printer_state = :state, last_seen = :now WHERE id = :id"
_KIOSK_PRINTER = "SELECT printer FROM devices WHERE id = :id AND kind = 'kiosk'"


@dataclass(frozen=True)
class DeviceRow:
    """A device as the dashboard lists it."""

    kind: str
    name: str
    printer: str
    printer_state: str
    last_seen: datetime | None
    active: bool


@dataclass(frozen=True)
class PrinterState:
    """A device's printer state, with its center's id and code."""

    printer_state: str
    center_id: int
    center_code: str


def center_devices(tx: Tx, center_id: int) -> list[DeviceRow]:
    """The center's devices by kind and name."""
    devices = []
    for row in tx.mappings(_DEVICES, {"center_id": center_id}):
        row["last_seen"] = tx.read_time(row["last_seen"])
        row["active"] = bool(row["active"])
        devices.append(DeviceRow(**row))
    return devices


def printer_state(tx: Tx, device_id: int) -> PrinterState:
    """The device's printer state and its center."""
    row = tx.mapping(_PRINTER_STATE, {"id": device_id})
    assert row is not None  # callers hold the id of a device that exists
    return PrinterState(**row)


def set_printer_state(tx: Tx, device_id: int, state: str, now: datetime) -> None:
    """Record the device's printer state, and that the device was heard from now."""
    tx.run(_SET_PRINTER_STATE, {"state": state, "now": tx.time(now), "id": device_id})


def kiosk_printer(tx: Tx, device_id: int) -> str | None:
    """The printer spec of a kiosk ("" when it has none of its own); None if no such kiosk."""
    row = tx.mapping(_KIOSK_PRINTER, {"id": device_id})
    return None if row is None else row["printer"] or ""


_BY_TOKEN = "SELECT id, kind, center_id FROM devices WHERE token_hash = :h AND active = :yes"


@dataclass(frozen=True)
class TokenDevice:
    """An active device a device token names."""

    id: int
    kind: str
    center_id: int


def token_device(tx: Tx, token_hash: str) -> TokenDevice | None:
    """The active device whose token hashes to `token_hash`."""
    row = tx.mapping(_BY_TOKEN, {"h": token_hash, "yes": True})
    return None if row is None else TokenDevice(**row)
