"""What the dashboard reads: the live board, names and filter choices, device state.

Figures come from `server.reports.center_report` and the public read models in
`server.queries`; the few facts only a manager needs (the oldest waiting ticket per
service, who serves at each counter, the devices' printers) are gathered here from
`server.store`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from taboor.server import queries, reports
from taboor.server.domain.numbering import business_day
from taboor.server.manage.floor import Board, CounterAtWork, Queue
from taboor.server.manage.pdf import ReportNames
from taboor.server.store import Tx, centers, counters, tickets, users
from taboor.server.store import devices as device_store
from taboor.server.store.devices import DeviceRow


def center(tx: Tx, code: str) -> dict[str, object]:
    """The center by code (NotFound when there is none)."""
    return queries.find_center(tx, code)


def center_code(tx: Tx, center_id: int) -> str:
    """The code of the center with this id."""
    return str(centers.center_code(tx, center_id))


def devices(tx: Tx, center_id: int) -> list[DeviceRow]:
    """The center's kiosks, displays and print agents with their printer's last state."""
    return device_store.center_devices(tx, center_id)


def oldest_waiting(tx: Tx, center_id: int, timezone: str, now: datetime) -> dict[str, datetime]:
    """Per service code, the issue time of today's oldest waiting ticket."""
    return tickets.oldest_waiting(tx, center_id, business_day(now, timezone))


def desks(tx: Tx, code: str, center_id: int) -> list[CounterAtWork]:
    """Every counter with its state and the ticket it is calling or serving."""
    current = {row.counter: row for row in tickets.at_desks(tx, center_id)}
    result = []
    for counter in queries.list_counters(tx, code):
        number = int(counter["number"])  # type: ignore[call-overload]
        row = current.get(number)
        if row is None:
            result.append(CounterAtWork(number=number, state=str(counter["state"])))
        else:
            result.append(CounterAtWork(number=number, state=str(counter["state"]), label=row.label,
                               ticket_state=row.state, service=row.service, clerk=row.clerk,
                               since=row.called_at))  # fmt: skip
    return result


def board(tx: Tx, code: str, now: datetime) -> Board:
    """The live floor of a center as of `now` (one read transaction)."""
    found = center(tx, code)
    center_id, timezone = int(found["id"]), str(found["timezone"])  # type: ignore[call-overload]
    oldest = oldest_waiting(tx, center_id, timezone, now)
    queues = [
        Queue(code=s["code"], name_ar=s["name_ar"], name_en=s["name_en"],  # type: ignore[arg-type]
              sla_minutes=int(s["sla_minutes"]), waiting=int(s["waiting"]),  # type: ignore[call-overload]
              oldest_issued_at=oldest.get(s["code"]),  # type: ignore[arg-type]
              estimated_wait_s=s["estimated_wait_s"])  # type: ignore[arg-type]
        for s in queries.list_services(tx, code, now)
    ]  # fmt: skip
    return Board(
        now=now,
        seq=int(found["event_seq"]),  # type: ignore[call-overload]
        queues=queues,
        desks=desks(tx, code, center_id),
        devices=devices(tx, center_id),
        today=reports.center_report(tx, code, now=now),
    )


@dataclass(frozen=True)
class Choices:
    """What the history filters offer, and the names a report's codes stand for."""

    services: dict[str, tuple[str, str]]  # code -> (ar, en), inactive ones too
    counters: list[int]
    clerks: list[str]


def choices(tx: Tx, center_id: int) -> Choices:
    return Choices(
        services={s.code: (s.name_ar, s.name_en) for s in centers.service_names(tx, center_id)},
        counters=counters.numbers(tx, center_id),
        clerks=users.clerk_names(tx, center_id),
    )


def all_center_names(tx: Tx) -> ReportNames:
    """Names for a report of every center: the centers' and the services' (a service
    code names the same service in every center)."""
    services: dict[str, tuple[str, str]] = {}
    for service in centers.all_service_names(tx):
        services.setdefault(service.code, (service.name_ar, service.name_en))
    names = {row.code: (row.name_ar, row.name_en) for row in centers.all_centers(tx)}
    return ReportNames.all_centers(names, services)
