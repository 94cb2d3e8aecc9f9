"""The rules of the catalog an administrator keeps: services, and what a center offers.

A service has a stable code (a lowercase slug: it is in URLs, logs and reports), a
ticket prefix of one to three Latin letters, names in Arabic and English, an SLA
target and its expected and minimum plausible service times. Two services offered at
the same center never print the same prefix (a citizen holding `A-042` must know which
line it is). Nothing is deleted: a service or counter is retired, keeping its history,
and tickets already waiting for it stay callable. A counter is retired only once
closed. These checks are pure; the use cases apply them inside their transaction.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from taboor.server.domain.counters import CounterState
from taboor.server.domain.errors import Conflict, InvalidInput

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
PREFIX = re.compile(r"^[A-Z]{1,3}$")
MAX_CODE = 64
MAX_NAME = 200
MAX_SLA_MINUTES = 24 * 60
MAX_SERVICE_S = 8 * 3600


@dataclass(frozen=True)
class ServiceSpec:
    """A service as the national catalog defines it (what every center offers alike)."""

    code: str
    prefix: str
    category: str
    name_ar: str
    name_en: str
    sla_minutes: int
    avg_service_s: int
    min_service_s: int
    online: bool = False
    documents_ar: tuple[str, ...] = field(default=())
    documents_en: tuple[str, ...] = field(default=())


def slug(value: str, field_name: str = "code") -> str:
    """A code as Taboor stores it: lowercase letters and digits joined by single dashes."""
    if len(value) > MAX_CODE or not SLUG.match(value):
        raise InvalidInput(
            f"{field_name} must be a lowercase slug (letters, digits, single dashes)",
            field=field_name,
        )
    return value


def ticket_prefix(value: str) -> str:
    """One to three Latin letters, stored in capitals."""
    prefix = value.strip().upper()
    if not PREFIX.match(prefix):
        raise InvalidInput("prefix must be one to three Latin letters", field="prefix")
    return prefix


def name(value: str, field_name: str) -> str:
    """A non-empty display name (either language), trimmed."""
    text = value.strip()
    if not text or len(text) > MAX_NAME:
        raise InvalidInput(
            f"{field_name} must be a name of 1 to {MAX_NAME} characters", field=field_name
        )
    return text


def _whole(value: int, field_name: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not low <= value <= high:
        raise InvalidInput(f"{field_name} must be between {low} and {high}", field=field_name)
    return value


def _documents(values: Iterable[str], field_name: str) -> tuple[str, ...]:
    documents = tuple(v.strip() for v in values)
    if any(not d or len(d) > MAX_NAME for d in documents):
        raise InvalidInput(
            f"{field_name} must list documents of 1 to {MAX_NAME} characters each",
            field=field_name,
        )
    return documents


def service_spec(
    *,
    code: str,
    prefix: str,
    category: str,
    name_ar: str,
    name_en: str,
    sla_minutes: int,
    avg_service_s: int,
    min_service_s: int,
    online: bool = False,
    documents_ar: Iterable[str] = (),
    documents_en: Iterable[str] = (),
) -> ServiceSpec:
    """A checked service definition; InvalidInput names the first field at fault."""
    spec = ServiceSpec(
        code=slug(code),
        prefix=ticket_prefix(prefix),
        category=slug(category, "category"),
        name_ar=name(name_ar, "name_ar"),
        name_en=name(name_en, "name_en"),
        sla_minutes=_whole(sla_minutes, "sla_minutes", 1, MAX_SLA_MINUTES),
        avg_service_s=_whole(avg_service_s, "avg_service_s", 1, MAX_SERVICE_S),
        min_service_s=_whole(min_service_s, "min_service_s", 0, MAX_SERVICE_S),
        online=online,
        documents_ar=_documents(documents_ar, "documents_ar"),
        documents_en=_documents(documents_en, "documents_en"),
    )
    if spec.min_service_s > spec.avg_service_s:
        raise InvalidInput(
            "min_service_s must not be above avg_service_s", field="min_service_s"
        )
    return spec


def require_free_prefixes(offered: Mapping[str, str]) -> None:
    """Refuse a center's offer (service code -> prefix) in which two services share a
    prefix (409 `prefix_taken`, naming both)."""
    seen: dict[str, str] = {}
    for code, prefix in sorted(offered.items()):
        other = seen.setdefault(prefix, code)
        if other != code:
            raise Conflict(
                f"{other} and {code} would both print {prefix}-… at one center",
                code="prefix_taken",
                prefix=prefix,
                services=[other, code],
            )


def require_closed_to_retire(number: int, state: str) -> None:
    """A counter is retired only once closed (nobody is called to a counter that left)."""
    if state != CounterState.CLOSED:
        raise Conflict(
            f"counter {number} is {state}; close it before retiring it",
            code="counter_not_closed",
            state=state,
        )


def require_empty_hands(username: str, tickets_in_hand: Iterable[str]) -> None:
    """A clerk calling or serving a ticket is not moved to another counter (409)."""
    labels = sorted(tickets_in_hand)
    if labels:
        raise Conflict(
            f"{username} still has {', '.join(labels)}; finish or transfer first",
            code="tickets_in_hand",
            tickets=labels,
        )
