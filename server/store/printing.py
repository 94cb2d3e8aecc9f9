"""Print jobs queued with their ticket (committed in the same transaction)."""

from __future__ import annotations

from datetime import datetime

from taboor.server.store import Tx

QUEUED = "queued"
_INSERT_PRINT_JOB = """
INSERT INTO print_jobs (ticket_id, device_id, printer, base_url, state, attempts,
    created_at, updated_at)
VALUES (:ticket_id, :device_id, :printer, :base_url, :queued, 0, :now, :now)
RETURNING id"""
_DEVICE_PRINTER = "SELECT printer FROM devices WHERE id = :id"


def device_printer(tx: Tx, device_id: int) -> str | None:
    """The printer a device has of its own, if any."""
    return tx.scalar(_DEVICE_PRINTER, {"id": device_id})


def insert_job(
    tx: Tx, ticket_id: int, device_id: int | None, printer: str, base_url: str, now: datetime
) -> int:
    """Record a queued job; returns its id."""
    return tx.scalar(
        _INSERT_PRINT_JOB,
        {
            "ticket_id": ticket_id,
            "device_id": device_id,
            "printer": printer,
            "base_url": base_url,
            "queued": QUEUED,
            "now": tx.time(now),
        },
    )
