"""What the counter desk page reads: which counter, its center and services (one read)."""

from __future__ import annotations

from dataclasses import dataclass, field

from taboor.server.auth import Principal, Role, require_center
from taboor.server.domain.errors import NotFound
from taboor.server.domain.tickets import TRANSITIONS
from taboor.server.store import Tx, centers, counters


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
    row = counters.counter_in_center(tx, counter_id)
    if row is None:
        raise NotFound(f"no counter {counter_id}", code="counter_not_found")
    require_center(principal, row.center_id)
    arabic = lang == "ar"
    services = [
        Service(
            s.code,
            s.name_ar if arabic else s.name_en,
            s.category_ar if arabic else s.category_en,
            s.active,
        )
        for s in centers.services(tx, row.center_id)
    ]
    by_code = {s.code: s for s in services}
    served = [by_code[c] for c in counters.service_codes(tx, counter_id) if c in by_code]
    return Desk(
        counter_id=counter_id,
        number=row.number,
        state=row.state,
        center=row.center_code,
        center_name=row.center_ar if arabic else row.center_en,
        timezone=row.timezone,
        eastern_digits=bool((row.options or {}).get("eastern_digits")),
        served=served,
        services=services,
    )


def choices(tx: Tx, principal: Principal, lang: str) -> list[CounterChoice]:
    """The counters a manager or admin may open a desk at (their center; admins all)."""
    return [
        CounterChoice(
            row.id, row.number, row.state, row.center_code,
            row.center_ar if lang == "ar" else row.center_en,
        )
        for row in counters.counters_in_centers(tx, principal.center_id)
    ]  # fmt: skip
