"""Times as the contract writes them: ISO 8601 in UTC with a `Z`."""

from __future__ import annotations

from datetime import datetime


def iso(value: datetime | None) -> str | None:
    """`2026-03-01T07:30:00Z` for an aware time (microseconds kept when present)."""
    return None if value is None else value.isoformat().replace("+00:00", "Z")
