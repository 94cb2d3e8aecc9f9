"""Ticket numbering: per center, service and business day, from 1; labels like A-042."""

from __future__ import annotations

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

PREFIX_RE = re.compile(r"^[A-Z]{1,3}$")


def business_day(now: datetime, timezone: str) -> date:
    """The center's local date at the aware instant `now`."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return now.astimezone(ZoneInfo(timezone)).date()


def valid_prefix(prefix: str) -> bool:
    return bool(PREFIX_RE.match(prefix))


def label(prefix: str, number: int) -> str:
    """The printed label: prefix, dash, number padded to three digits."""
    if number < 1:
        raise ValueError("ticket numbers start at 1")
    return f"{prefix}-{number:03d}"
