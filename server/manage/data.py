"""What the dashboard reads: the live board, names and filter choices, device state.

Figures come from `server.reports.center_report` and the public read models in
`server.queries`; the few facts only a manager needs (the oldest waiting ticket per
service, who serves at each counter, the devices' printers) are read here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from taboor.server import queries, reports
from taboor.server.domain.numbering import business_day
from taboor.server.manage.floor import Board, CounterAtWork, Device, Queue
from taboor.server.manage.pdf import ReportNames
from taboor.server.store import Tx

_OLDEST_WAITING = """
SELECT s.code, min(t.issued_at) FROM tickets t JOIN services s ON s.id = t.service_id
WHERE t.center_id = :center_id AND t.state = 'waiting' AND t.day = :day
GROUP BY s.code"""
_AT_DESKS = """
SELECT k.number, t.label, t.state, s.code, u.username, t.called_at
FROM tickets t
JOIN counters k ON k.id = t.counter_id
JOIN services s ON s.id = t.service_id
LEFT JOIN users u ON u.id = t.clerk_id
WHERE t.center_id = :center_id AND t.state IN ('called', 'serving')"""
_DEVICES = """
SELECT kind, name, printer, printer_state, last_seen, active FROM devices
WHERE center_id = :center_id ORDER BY kind, name, id"""
_SERVICE_NAMES = """
SELECT code, name_ar, name_en, active FROM services WHERE center_id = :center_id ORDER BY id"""
_COUNTER_NUMBERS = "SELECT number FROM counters WHERE center_id = :center_id ORDER BY number"
_CLERKS = """
SELECT username FROM users WHERE center_id = :center_id AND role = 'clerk' ORDER BY username"""


def center(tx: Tx, code: str) -> dict[str, object]:
    """The center by code (NotFound when there is none)."""
    return queries.find_center(tx, code)


def center_code(tx: Tx, center_id: int) -> str:
    """The code of the center with this id."""
    return str(tx.scalar("SELECT code FROM centers WHERE id = :id", {"id": center_id}))


def devices(tx: Tx, center_id: int) -> list[Device]:
    """The center's kiosks, displays and print agents with their printer's last state."""
    return [
        Device(kind=row[0], name=row[1], printer=row[2], printer_state=row[3],
               last_seen=tx.read_time(row[4]), active=bool(row[5]))
        for row in tx.all(_DEVICES, {"center_id": center_id})
    ]  # fmt: skip


def oldest_waiting(tx: Tx, center_id: int, timezone: str, now: datetime) -> dict[str, datetime]:
    """Per service code, the issue time of today's oldest waiting ticket."""
    day = business_day(now, timezone)
    rows = tx.all(_OLDEST_WAITING, {"center_id": center_id, "day": tx.day(day)})
    return {code: tx.read_time(at) for code, at in rows}  # type: ignore[misc]


def desks(tx: Tx, code: str, center_id: int) -> list[CounterAtWork]:
    """Every counter with its state and the ticket it is calling or serving."""
    current = {row[0]: row for row in tx.all(_AT_DESKS, {"center_id": center_id})}
    result = []
    for counter in queries.list_counters(tx, code):
        number = int(counter["number"])  # type: ignore[call-overload]
        row = current.get(number)
        if row is None:
            result.append(CounterAtWork(number=number, state=str(counter["state"])))
        else:
            result.append(CounterAtWork(number=number, state=str(counter["state"]), label=row[1],
                               ticket_state=row[2], service=row[3], clerk=row[4],
                               since=tx.read_time(row[5])))  # fmt: skip
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
        services={
            code: (ar, en) for code, ar, en, _ in tx.all(_SERVICE_NAMES, {"center_id": center_id})
        },  # fmt: skip
        counters=[n for (n,) in tx.all(_COUNTER_NUMBERS, {"center_id": center_id})],
        clerks=[u for (u,) in tx.all(_CLERKS, {"center_id": center_id})],
    )


_ALL_CENTERS = "SELECT code, name_ar, name_en FROM centers ORDER BY code"
_ALL_SERVICES = "SELECT code, name_ar, name_en FROM services ORDER BY center_id, id"


def all_center_names(tx: Tx) -> ReportNames:
    """Names for a report of every center: the centers' and the services' (a service
    code names the same service in every center)."""
    services: dict[str, tuple[str, str]] = {}
    for code, ar, en in tx.all(_ALL_SERVICES):
        services.setdefault(code, (ar, en))
    centers = {code: (ar, en) for code, ar, en in tx.all(_ALL_CENTERS)}
    return ReportNames.all_centers(centers, services)
