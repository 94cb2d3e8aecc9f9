"""Where a kiosk's ticket prints, and its job queued in the ticket's transaction."""

from __future__ import annotations

from datetime import datetime

from taboor.server.auth import DeviceKind, Principal
from taboor.server.store import Tx
from taboor.server.store import printing as store
from taboor.server.store.printing import QUEUED

__all__ = ["QUEUED", "printer_for", "queue_print"]


def printer_for(tx: Tx, actor: Principal, default: str | None) -> str | None:
    """Where a kiosk's tickets print (its own printer, else the default); None for staff."""
    if default is None or actor.kind != "device" or actor.role != DeviceKind.KIOSK:
        return None
    assert actor.id is not None
    spec = store.device_printer(tx, actor.id) or default
    return None if spec.strip().lower() == "none" else spec


def queue_print(
    tx: Tx, ticket_id: int, device_id: int | None, printer: str, base_url: str, now: datetime
) -> int:
    """Record a job to print, in the caller's transaction: committed with the ticket."""
    return store.insert_job(tx, ticket_id, device_id, printer, base_url, now)
