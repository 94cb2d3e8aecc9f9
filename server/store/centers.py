"""Centers and their services in the database: the center by code or id, its services
with their categories, their names and codes, and one center as an ORM object."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from taboor.server.domain.errors import NotFound
from taboor.server.models import Center
from taboor.server.store import Tx

_CODE_BY_ID = "SELECT code FROM centers WHERE id = :id"
_CENTER = """
SELECT id, code, name_ar, name_en, governorate_ar, governorate_en, timezone, hours, options,
    event_seq
FROM centers"""
_CENTER_BY_CODE = _CENTER + "\nWHERE code = :code"
_CENTER_BY_ID = _CENTER + "\nWHERE id = :id"
_CENTERS = _CENTER + "\nORDER BY code"
_SERVICE = """
SELECT s.id, s.code, s.prefix, s.name_ar, s.name_en, g.code AS category,
    g.name_ar AS category_ar, g.name_en AS category_en, s.sla_minutes, s.online,
    s.documents_ar, s.documents_en, s.avg_service_s, s.min_service_s, s.active
FROM services s JOIN categories g ON g.id = s.category_id"""
_ACTIVE_SERVICES = (
    _SERVICE + "\nWHERE s.center_id = :center_id AND s.active = :yes ORDER BY g.id, s.id"
)
_SERVICES = _SERVICE + "\nWHERE s.center_id = :center_id ORDER BY g.id, s.id"
_SERVICE_NAME = "SELECT code, prefix, name_ar, name_en, active FROM services"
_SERVICE_NAME_BY_ID = _SERVICE_NAME + " WHERE id = :id"
_SERVICE_NAMES = _SERVICE_NAME + " WHERE center_id = :center_id ORDER BY id"
_ALL_SERVICE_NAMES = _SERVICE_NAME + " ORDER BY center_id, id"
_SERVICE_CODES = "SELECT id, code FROM services WHERE center_id = :center_id"
_PREFIX_USED = "SELECT count(*) FROM services WHERE center_id = :center_id AND prefix = :prefix"


@dataclass(frozen=True)
class CenterRow:
    """A center as the read views show it (JSON columns decoded)."""

    id: int
    code: str
    name_ar: str
    name_en: str
    governorate_ar: str
    governorate_en: str
    timezone: str
    hours: Any
    options: Any
    event_seq: int

    def as_dict(self) -> dict[str, object]:
        """Every column by name, in the statement's order."""
        return dict(vars(self))


@dataclass(frozen=True)
class ServiceRow:
    """A service with its category's code and names (JSON columns decoded)."""

    id: int
    code: str
    prefix: str
    name_ar: str
    name_en: str
    category: str
    category_ar: str
    category_en: str
    sla_minutes: int
    online: bool
    documents_ar: Any
    documents_en: Any
    avg_service_s: int
    min_service_s: int
    active: bool


@dataclass(frozen=True)
class ServiceName:
    """A service's code, ticket prefix and names."""

    code: str
    prefix: str
    name_ar: str
    name_en: str
    active: bool


def center_code(tx: Tx, center_id: int) -> str:
    return tx.scalar(_CODE_BY_ID, {"id": center_id})


def _center(tx: Tx, row: dict[str, Any]) -> CenterRow:
    row["hours"] = tx.read_json(row["hours"])
    row["options"] = tx.read_json(row["options"])
    return CenterRow(**row)


def center_by_code(tx: Tx, code: str) -> CenterRow | None:
    """The center with this code, or None."""
    row = tx.mapping(_CENTER_BY_CODE, {"code": code})
    return None if row is None else _center(tx, row)


def center_by_id(tx: Tx, center_id: int) -> CenterRow | None:
    """The center with this id, or None."""
    row = tx.mapping(_CENTER_BY_ID, {"id": center_id})
    return None if row is None else _center(tx, row)


def all_centers(tx: Tx) -> list[CenterRow]:
    """Every center, by code."""
    return [_center(tx, row) for row in tx.mappings(_CENTERS)]


def get_center(session: Session, code: str) -> Center:
    """The center as an ORM object (catalog, accounts, read views)."""
    center = session.scalar(select(Center).where(Center.code == code))
    if center is None:
        raise NotFound(f"no center {code!r}", code="center_not_found")
    return center


def _service(tx: Tx, row: dict[str, Any]) -> ServiceRow:
    row["online"] = bool(row["online"])
    row["active"] = bool(row["active"])
    row["documents_ar"] = tx.read_json(row["documents_ar"])
    row["documents_en"] = tx.read_json(row["documents_en"])
    return ServiceRow(**row)


def active_services(tx: Tx, center_id: int) -> list[ServiceRow]:
    """The center's services a citizen can take a ticket for, by category."""
    rows = tx.mappings(_ACTIVE_SERVICES, {"center_id": center_id, "yes": True})
    return [_service(tx, row) for row in rows]


def services(tx: Tx, center_id: int) -> list[ServiceRow]:
    """Every service of the center, inactive ones too, by category."""
    return [_service(tx, row) for row in tx.mappings(_SERVICES, {"center_id": center_id})]


def _name(row: dict[str, Any]) -> ServiceName:
    row["active"] = bool(row["active"])
    return ServiceName(**row)


def service_name(tx: Tx, service_id: int) -> ServiceName | None:
    """One service's code and names, or None."""
    row = tx.mapping(_SERVICE_NAME_BY_ID, {"id": service_id})
    return None if row is None else _name(row)


def service_names(tx: Tx, center_id: int) -> list[ServiceName]:
    """Every service of the center, inactive ones too, in the order they were made."""
    return [_name(row) for row in tx.mappings(_SERVICE_NAMES, {"center_id": center_id})]


def all_service_names(tx: Tx) -> list[ServiceName]:
    """Every service of every center, by center, in the order they were made."""
    return [_name(row) for row in tx.mappings(_ALL_SERVICE_NAMES)]


def service_codes(tx: Tx, center_id: int) -> dict[int, str]:
    """The code of each of the center's services, by id."""
    rows = tx.mappings(_SERVICE_CODES, {"center_id": center_id})
    return {row["id"]: row["code"] for row in rows}


def prefix_used(tx: Tx, center_id: int, prefix: str) -> bool:
    """Whether a service of the center numbers its tickets with this prefix."""
    return bool(tx.scalar(_PREFIX_USED, {"center_id": center_id, "prefix": prefix}))
