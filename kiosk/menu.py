"""What a kiosk offers: a center's services grouped by category, and its priority classes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from taboor.server import queries
from taboor.server.store import Tx

# Classes a citizen may declare at a kiosk; an appointment is only ever given by staff.
SELF_DECLARED = ("elderly", "disabled")


@dataclass
class Category:
    """One category tile and the services behind it, in catalog order."""

    code: str
    name_ar: str
    name_en: str
    services: list[dict[str, object]] = field(default_factory=list)


@dataclass
class Menu:
    """Everything the kiosk page needs to draw its first screen."""

    center: dict[str, object]
    categories: list[Category]
    services: list[dict[str, object]]
    priorities: list[str]

    @property
    def eastern_digits(self) -> bool:
        return bool(_options(self.center).get("eastern_digits"))


def _options(center: dict[str, object]) -> dict[str, object]:
    options = center.get("options")
    return options if isinstance(options, dict) else {}


def kiosk_priorities(options: dict[str, object]) -> list[str]:
    """The priority classes the kiosk offers: the center's kiosk list, as the API allows it."""
    offered = options.get("kiosk_priorities") or []
    allowed = options.get("priorities")
    return [
        p
        for p in SELF_DECLARED
        if isinstance(offered, list)
        and p in offered
        and (not isinstance(allowed, list) or p in allowed)
    ]


def group(services: list[dict[str, object]]) -> list[Category]:
    """Services by category, categories in the order their first service comes."""
    by_code: dict[str, Category] = {}
    for service in services:
        code = str(service["category"] or "")
        category = by_code.get(code)
        if category is None:
            category = by_code[code] = Category(
                code, str(service["category_ar"] or ""), str(service["category_en"] or "")
            )
        category.services.append(service)
    return list(by_code.values())


def load(tx: Tx, center_code: str, now: datetime) -> Menu:
    """The kiosk menu of a center (NotFound when there is no such center)."""
    center = queries.center_view(queries.find_center(tx, center_code))
    services = queries.list_services(tx, center_code, now)
    return Menu(center, group(services), services, kiosk_priorities(_options(center)))
