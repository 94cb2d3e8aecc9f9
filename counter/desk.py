"""What the counter desk page reads: which counter, its center and services (one read)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from taboor.server.auth import Principal, Role, require_center
from taboor.server.domain.errors import NotFound
from taboor.server.domain.tickets import TRANSITIONS
from taboor.server.store import Tx

_COUNTER = """
SELECT k.id, k.number, k.state, c.id, c.code, c.name_ar, c.name_en, c.timezone, c.options
FROM counters k JOIN centers c ON c.id = k.center_id WHERE k.id = :id"""
_SERVED = """
SELECT s.code FROM counter_services cs JOIN services s ON s.id = cs.service_id
WHERE cs.counter_id = :id ORDER BY cs.position"""
_SERVICES = """
SELECT s.code, s.name_ar, s.name_en, g.name_ar, g.name_en, s.active
FROM services s JOIN categories g ON g.id = s.category_id
WHERE s.center_id = :center_id ORDER BY g.id, s.id"""
_COUNTERS = """
SELECT k.id, k.number, k.state, c.code, c.name_ar, c.name_en
FROM counters k JOIN centers c ON c.id = k.center_id"""


@dataclass(frozen=True)
class Service:
    code: str
    name: str
    category: str
    active: bool


@dataclass(frozen=True)
class Desk:
    """One counter as its desk page shows it, names in the page's language."""

    counter_id: int
    number: int
    state: str
    center: str
    center_name: str
    timezone: str
    eastern_digits: bool
    served: list[Service]
    services: list[Service] = field(default_factory=list)  # the center's, for transfers

    def script_data(self, lang: str) -> dict[str, object]:
        """What the page script needs besides its strings (JSON-ready)."""
        allowed: dict[str, list[str]] = {}
        for (state, action), _after in TRANSITIONS.items():
            allowed.setdefault(state.value, []).append(action.value)
        return {
            "center": self.center,
            "counter_id": self.counter_id,
            "number": self.number,
            "timezone": self.timezone,
            "lang": lang,
            "services": {s.code: s.name for s in self.services},
            "served": [s.code for s in self.served],
            "transitions": allowed,
        }


@dataclass(frozen=True)
class CounterChoice:
    id: int
    number: int
    state: str
    center: str
    center_name: str


def _options(value: object) -> dict:
    return json.loads(value) if isinstance(value, str) else dict(value or {})


def chosen_counter(principal: Principal, asked: str | None, remembered: object) -> int | None:
    """The counter this desk shows: a clerk's own; for others the one asked or last picked."""
    if principal.role == Role.CLERK:
        return principal.counter_id
    if asked is not None:
        if not (asked.isascii() and asked.isdigit()) or not 0 < int(asked) < 2**63:
            raise NotFound(f"no counter {asked[:20]!r}", code="counter_not_found")
        return int(asked)
    if isinstance(remembered, int):
        return remembered
    return principal.counter_id


def load(tx: Tx, principal: Principal, counter_id: int, lang: str) -> Desk:
    """The desk of `counter_id`, if the principal may work there."""
    row = tx.one(_COUNTER, {"id": counter_id})
    if row is None:
        raise NotFound(f"no counter {counter_id}", code="counter_not_found")
    _, number, state, center_id, code, name_ar, name_en, timezone, options = row
    require_center(principal, center_id)
    services = [
        Service(s_code, s_ar if lang == "ar" else s_en, g_ar if lang == "ar" else g_en, bool(on))
        for s_code, s_ar, s_en, g_ar, g_en, on in tx.all(_SERVICES, {"center_id": center_id})
    ]
    by_code = {s.code: s for s in services}
    served = [by_code[c] for (c,) in tx.all(_SERVED, {"id": counter_id}) if c in by_code]
    return Desk(
        counter_id=counter_id,
        number=number,
        state=state,
        center=code,
        center_name=name_ar if lang == "ar" else name_en,
        timezone=timezone,
        eastern_digits=bool(_options(options).get("eastern_digits")),
        served=served,
        services=services,
    )


def choices(tx: Tx, principal: Principal, lang: str) -> list[CounterChoice]:
    """The counters a manager or admin may open a desk at (their center; admins all)."""
    if principal.center_id is None:
        rows = tx.all(_COUNTERS + " ORDER BY c.code, k.number")
    else:
        rows = tx.all(
            _COUNTERS + " WHERE k.center_id = :center_id ORDER BY k.number",
            {"center_id": principal.center_id},
        )
    return [
        CounterChoice(cid, number, state, code, name_ar if lang == "ar" else name_en)
        for cid, number, state, code, name_ar, name_en in rows
    ]
