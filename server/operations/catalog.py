"""The catalog of centers, services and counters, loaded from a TOML data file."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.orm import Session

from taboor import config
from taboor.server.auth import Principal
from taboor.server.db import Database
from taboor.server.domain.numbering import valid_prefix
from taboor.server.models import Category, Center, Counter, CounterService, Service
from taboor.server.store.events import append_event_orm

DEMO_CATALOG = Path(config.__file__).resolve().parent / "demo" / "catalog.toml"
SERVICE_FIELDS = (
    "prefix",
    "name_ar",
    "name_en",
    "sla_minutes",
    "min_service_s",
    "avg_service_s",
    "online",
    "documents_ar",
    "documents_en",
)


class CatalogError(ValueError):
    """A catalog file that does not describe a consistent floor."""


def read_catalog(path: str | Path = DEMO_CATALOG) -> dict[str, Any]:
    """Parse and validate a catalog file."""
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise CatalogError(f"{path}: {exc}") from None
    validate_catalog(data)
    return data


def _unique(items: list[str], what: str) -> None:
    seen: set[str] = set()
    for item in items:
        if item in seen:
            raise CatalogError(f"duplicate {what} {item!r}")
        seen.add(item)


def validate_catalog(data: Mapping[str, Any]) -> None:
    categories = [c["code"] for c in data.get("categories", [])]
    services = {s["code"]: s for s in data.get("services", [])}
    _unique(categories, "category")
    _unique([s["code"] for s in data.get("services", [])], "service")
    _unique([s["prefix"] for s in services.values()], "prefix")
    for code, service in services.items():
        if not valid_prefix(service["prefix"]):
            raise CatalogError(f"service {code}: prefix must be 1 to 3 letters A-Z")
        if service["category"] not in categories:
            raise CatalogError(f"service {code}: unknown category {service['category']!r}")
        if len(service.get("documents_ar", [])) != len(service.get("documents_en", [])):
            raise CatalogError(f"service {code}: documents_ar and documents_en differ in length")
    _unique([c["code"] for c in data.get("centers", [])], "center")
    for center in data.get("centers", []):
        try:
            ZoneInfo(center.get("timezone", "Asia/Damascus"))
        except (ZoneInfoNotFoundError, ValueError):
            raise CatalogError(f"center {center['code']}: unknown time zone") from None
        offered = _offered(center, services)
        numbers = [c["number"] for c in center.get("counters", [])]
        _unique([str(n) for n in numbers], f"counter number in {center['code']}")
        served: set[str] = set()
        for counter in center.get("counters", []):
            for code in counter["services"]:
                if code not in offered:
                    raise CatalogError(
                        f"center {center['code']} counter {counter['number']}: "
                        f"service {code!r} is not offered there"
                    )
                served.add(code)
        missing = sorted(set(offered) - served)
        if missing:
            raise CatalogError(f"center {center['code']}: no counter serves {', '.join(missing)}")


def _offered(center: Mapping[str, Any], services: Mapping[str, Any]) -> list[str]:
    chosen = center.get("services", "all")
    if chosen == "all":
        return list(services)
    unknown = [code for code in chosen if code not in services]
    if unknown:
        raise CatalogError(f"center {center['code']}: unknown services {', '.join(unknown)}")
    return list(chosen)


def _upsert(
    session: Session, model: type, where: Mapping[str, Any], values: Mapping[str, Any]
) -> Any:
    row = session.scalar(select(model).filter_by(**where))
    if row is None:
        row = model(**where, **values)
        session.add(row)
    else:
        for key, value in values.items():
            setattr(row, key, value)
    return row


def apply_catalog(
    db: Database, data: Mapping[str, Any], *, actor: Principal, now: datetime
) -> None:
    """Create or update every category, center, service and counter in `data`."""
    services = {s["code"]: s for s in data.get("services", [])}
    with db.write() as session:
        categories = {
            c["code"]: _upsert(
                session,
                Category,
                {"code": c["code"]},
                {"name_ar": c["name_ar"], "name_en": c["name_en"]},
            )
            for c in data.get("categories", [])
        }
        for spec in data.get("centers", []):
            hours = {k: spec[k] for k in ("days", "opens", "closes") if k in spec}
            center = _upsert(
                session,
                Center,
                {"code": spec["code"]},
                {
                    "name_ar": spec["name_ar"],
                    "name_en": spec["name_en"],
                    "governorate_ar": spec.get("governorate_ar", ""),
                    "governorate_en": spec.get("governorate_en", ""),
                    "timezone": spec.get("timezone", "Asia/Damascus"),
                    "hours": hours,
                    "options": dict(spec.get("options", {})),
                },
            )
            if center.event_seq is None:
                center.event_seq = 0
            session.flush()
            rows: dict[str, Service] = {}
            for code in _offered(spec, services):
                s = services[code]
                values = {k: s[k] for k in SERVICE_FIELDS if k in s}
                values["category_id"] = categories[s["category"]].id
                values["active"] = True
                rows[code] = _upsert(
                    session, Service, {"center_id": center.id, "code": code}, values
                )
            session.flush()
            for counter_spec in spec.get("counters", []):
                counter = _upsert(
                    session,
                    Counter,
                    {"center_id": center.id, "number": counter_spec["number"]},
                    {},
                )
                if counter.state is None:
                    counter.state = "closed"
                wanted = [rows[code].id for code in counter_spec["services"]]
                if [link.service_id for link in counter.links] != wanted:
                    counter.links.clear()
                    session.flush()
                    counter.links.extend(
                        CounterService(service_id=sid, position=i) for i, sid in enumerate(wanted)
                    )
            session.flush()
            append_event_orm(
                session,
                center,
                "admin.catalog",
                actor=actor,
                now=now,
                data={
                    "services": len(rows),
                    "counters": len(spec.get("counters", [])),
                },
            )
