"""Print jobs: queued in the transaction that issues the ticket, printed after the commit.

A printer that is off, out of paper or slow never costs a ticket: the ticket and its
job are committed first, the answer goes back at once, and the spooler prints in the
background. A failed job stays on record with its error, the kiosk device's printer
state changes (a `device.changed` event for managers), and staff can reprint.

A kiosk whose printer is `agent` prints through its print agent (a program on the kiosk
PC, `printers/agent.py`): its jobs stay `queued` until the agent acknowledges them. An
agent may be away for hours, so an agent job is printed only while its ticket can still
be used: on the ticket's own business day and while it waits. Otherwise the next citizen
at the kiosk would take a ticket that is not theirs. Such a job fails as `stale` when the
agent's backlog is read and before a job is pushed; staff can still reprint the ticket.
While no agent is connected the kiosk's printer state is `offline`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from taboor.server.auth import STAFF_AT_COUNTER, SYSTEM, Principal, require_center, require_role
from taboor.server.db import Database
from taboor.server.domain.errors import Conflict, NotFound
from taboor.server.domain.numbering import business_day
from taboor.server.domain.tickets import TicketState
from taboor.server.operations import Outcome, Published
from taboor.server.operations.printing import QUEUED, queue_print
from taboor.server.store import Tx
from taboor.server.store.events import append_event
from taboor.server.store.tickets import find_ticket
from taboor.server.views import ticket_view

PRINTED, FAILED = "printed", "failed"
# The printer spec of a kiosk whose tickets its print agent prints.
AGENT = "agent"
# The error code of a job whose ticket can no longer be used (an earlier day, or called).
STALE = "stale"
# The printer states a kiosk's agent connection sets (from printers.backends.STATUSES).
AGENT_AWAY, AGENT_BACK = "offline", "ok"


def is_agent(spec: str) -> bool:
    """Whether a printer spec means "the kiosk's print agent prints it"."""
    return spec.strip().lower() == AGENT


_JOB = """
SELECT j.id, j.ticket_id, j.device_id, j.printer, j.base_url, j.state, t.lang, j.updated_at
FROM print_jobs j JOIN tickets t ON t.id = j.ticket_id WHERE j.id = :id"""
# Taking a queued job to print it: only as it was read, and only when nobody holds it
# (never taken: updated_at = created_at; or taken longer than a lease ago).
_CLAIM_JOB = """
UPDATE print_jobs SET updated_at = :claimed
WHERE id = :id AND state = 'queued' AND updated_at = :seen
  AND (updated_at = created_at OR updated_at < :lapsed)
RETURNING id"""
# Longer than any one attempt (connect, send and status timeouts, rendering): a job
# taken longer ago than this, still without a result, was left by a process that died.
CLAIM_LEASE_S = 60.0
_PRINT_FACTS = """
SELECT c.name_ar, c.name_en, c.timezone, c.options, s.name_ar, s.name_en
FROM tickets t JOIN centers c ON c.id = t.center_id JOIN services s ON s.id = t.service_id
WHERE t.id = :id"""


@dataclass(frozen=True)
class JobToPrint:
    """What the spooler needs for one job: where to print, and what."""

    id: int
    printer: str
    label: str
    lang: str
    ticket: dict[str, object]  # the public ticket view (position, estimate)
    center_ar: str
    center_en: str
    service_ar: str
    service_en: str
    issued_local: datetime
    status_base: str
    eastern_digits: bool
    device_id: int | None = None  # the kiosk it was issued at
    logo: str | None = None  # the center's own ticket logo (option `ticket_logo`), if any
    day: date | None = None  # the ticket's business day
    state: str = TicketState.WAITING  # the ticket's state when the job was read
    timezone: str = "Asia/Damascus"  # the center's
    seen_at: datetime | None = None  # the job's updated_at when read: see `claim`


def still_printable(ticket_day: date, ticket_state: str, today: date) -> bool:
    """A ticket is printed on its own business day while it waits, never later.

    A ticket of an earlier day or one already called, served or cancelled, left on a
    kiosk's printer, would be taken by the next citizen.
    """
    return ticket_state == TicketState.WAITING and ticket_day >= today


def is_stale(job: JobToPrint, now: datetime) -> bool:
    """Whether the job's ticket can no longer be printed (see `still_printable`)."""
    if job.day is None:
        return False
    return not still_printable(job.day, job.state, business_day(now, job.timezone))


def job_to_print(db: Database, job_id: int) -> JobToPrint | None:
    """The job with the ticket as it stands now, or None when it is not queued."""
    with db.reading() as tx:
        job = tx.one(_JOB, {"id": job_id})
        if job is None or job[5] != QUEUED:
            return None
        ticket = find_ticket(tx, job[1])
        view = ticket_view(tx, ticket)
        center_ar, center_en, timezone, options, service_ar, service_en = tx.one(
            _PRINT_FACTS, {"id": ticket.id}
        )  # type: ignore[misc]
    options = json.loads(options) if isinstance(options, str) else options or {}
    return JobToPrint(
        id=job[0],
        printer=job[3],
        label=ticket.label,
        lang=job[6] or "ar",
        ticket=view,
        center_ar=center_ar,
        center_en=center_en,
        service_ar=service_ar,
        service_en=service_en,
        issued_local=ticket.issued_at.astimezone(ZoneInfo(timezone)),
        status_base=job[4],
        eastern_digits=bool(options.get("eastern_digits")),
        device_id=job[2],
        logo=str(options["ticket_logo"]) if options.get("ticket_logo") else None,
        day=ticket.day,
        state=ticket.state,
        timezone=timezone,
        seen_at=Tx.read_time(job[7]),
    )


def claim(db: Database, job: JobToPrint, now: datetime) -> bool:
    """Take a queued job to print it; False when another process holds it.

    Two server processes share the job table (the scale-out path), and both resume
    the jobs left queued when they start. Taking a job stamps its `updated_at`; the
    update succeeds only on the job as it was read, and only if nobody holds it: never
    taken, or taken more than `CLAIM_LEASE_S` ago without a result (its process died
    mid-print; it is printed again, as a job whose result was never recorded). A
    caller that is refused may try again once the lease has lapsed.
    """
    if job.seen_at is None:
        return True
    claimed = max(now, job.seen_at + timedelta(microseconds=1))  # never the value it had
    lapsed = now - timedelta(seconds=CLAIM_LEASE_S)

    def work(tx: Tx) -> bool:
        params = {"id": job.id, "seen": tx.time(job.seen_at), "claimed": tx.time(claimed),
                  "lapsed": tx.time(lapsed)}  # fmt: skip
        return tx.one(_CLAIM_JOB, params) is not None

    return db.atomic(work)


_UPDATE_JOB = """
UPDATE print_jobs SET state = :state, attempts = attempts + 1, error_code = :code,
    error = :error, updated_at = :now
WHERE id = :id RETURNING device_id, ticket_id"""
# An agent's answer counts once: only a queued job of its own kiosk printed by an agent.
_ACK_JOB = """
UPDATE print_jobs SET state = :state, attempts = attempts + 1, error_code = :code,
    error = :error, updated_at = :now
WHERE id = :id AND device_id = :device AND state = 'queued' AND lower(trim(printer)) = 'agent'
RETURNING device_id, ticket_id"""
_AGENT_JOB = """
SELECT state, error_code FROM print_jobs
WHERE id = :id AND device_id = :device AND lower(trim(printer)) = 'agent'"""
_DEVICE_STATE = """
SELECT d.printer_state, d.center_id, c.code FROM devices d JOIN centers c ON c.id = d.center_id
WHERE d.id = :id"""


def _job_params(
    job_id: int, error_code: str | None, error: str | None, now: datetime, tx: Tx
) -> dict[str, object]:
    return {
        "id": job_id,
        "state": FAILED if error_code else PRINTED,
        "code": error_code,
        "error": error,
        "now": tx.time(now),
    }


def _set_printer_state(
    tx: Tx,
    device_id: int,
    state: str,
    *,
    error: str | None,
    now: datetime,
    cause: dict[str, object],
    only_from: tuple[str, ...] | None = None,
) -> list[Published]:
    """Move a device's printer state, with `device.changed` when it moved.

    `cause` goes into the event log (the job, or the agent's connection); with
    `only_from`, the state moves only from one of those states.
    """
    previous, center_id, center_code = tx.one(_DEVICE_STATE, {"id": device_id})  # type: ignore[misc]
    if state == previous or (only_from is not None and previous not in only_from):
        return []
    tx.run(
        "UPDATE devices SET printer_state = :state, last_seen = :now WHERE id = :id",
        {"state": state, "now": tx.time(now), "id": device_id},
    )
    seq = append_event(
        tx,
        center_id,
        center_code,
        "device.changed",
        actor=SYSTEM,
        now=now,
        data={"device": device_id, "printer_state": state, "from": previous, **cause},
    )
    payload = {
        "center": center_code,
        "seq": seq,
        "device": {"id": device_id, "printer_state": state, "error": error},
    }
    return [Published("device.changed", payload)]


def _printer_state_outcome(
    tx: Tx,
    job_id: int,
    device_id: int | None,
    *,
    error_code: str | None,
    error: str | None,
    now: datetime,
    paper: str = "ok",
) -> Outcome:
    """The answer for a recorded job, and `device.changed` when the printer's state moved.

    A printed job leaves the printer `ok`, or `paper_low` when it said so (`paper`)."""
    body = {"job": job_id, "state": FAILED if error_code else PRINTED, "error": error_code}
    if device_id is None:
        return Outcome(body)
    state = error_code or ("paper_low" if paper == "paper_low" else "ok")
    events = _set_printer_state(
        tx, device_id, state, error=error, now=now, cause={"job": job_id}
    )
    return Outcome(body, events)


def record_result(
    db: Database,
    job_id: int,
    *,
    error_code: str | None,
    error: str | None,
    now: datetime,
    paper: str = "ok",
) -> Outcome:
    """Mark a job printed (no error) or failed; report a change of the printer's state."""

    def work(tx: Tx) -> Outcome:
        row = tx.one(_UPDATE_JOB, _job_params(job_id, error_code, error, now, tx))
        if row is None:
            raise NotFound(f"no print job {job_id}", code="print_job_not_found")
        return _printer_state_outcome(
            tx, job_id, row[0], error_code=error_code, error=error, now=now, paper=paper
        )

    return db.atomic(work)


def acknowledge(
    db: Database,
    job_id: int,
    *,
    device_id: int,
    error_code: str | None,
    error: str | None,
    now: datetime,
    paper: str = "ok",
) -> Outcome:
    """Record a print agent's answer for a job of its kiosk; a repeated answer changes nothing.

    The body says `"duplicate": true` when the job had been answered before (the
    agent's first acknowledgement arrived, then it acknowledged again after a
    reconnect): the recorded result stands.
    """

    def work(tx: Tx) -> Outcome:
        params = {**_job_params(job_id, error_code, error, now, tx), "device": device_id}
        row = tx.one(_ACK_JOB, params)
        if row is None:
            known = tx.one(_AGENT_JOB, {"id": job_id, "device": device_id})
            if known is None:
                raise NotFound(
                    f"no print job {job_id} for this kiosk's agent", code="print_job_not_found"
                )
            return Outcome({"job": job_id, "state": known[0], "error": known[1], "duplicate": True})
        return _printer_state_outcome(
            tx, job_id, row[0], error_code=error_code, error=error, now=now, paper=paper
        )

    return db.atomic(work)


_QUEUED_AGENT_JOBS = """
SELECT j.id, t.day, t.state, c.timezone
FROM print_jobs j JOIN tickets t ON t.id = j.ticket_id JOIN centers c ON c.id = t.center_id
WHERE j.state = 'queued' AND j.device_id = :device AND lower(trim(j.printer)) = 'agent'
ORDER BY j.id"""
# Only a job still queued: one answered meanwhile keeps its answer.
_STALE_JOB = """
UPDATE print_jobs SET state = :state, error_code = :code, error = :error, updated_at = :now
WHERE id = :id AND state = 'queued'"""
_STALE_MESSAGE = "not printed: its ticket is of an earlier day or no longer waiting"


def expire(db: Database, job_ids: list[int], *, now: datetime) -> None:
    """Mark these queued jobs failed as `stale`: their tickets can no longer be printed.

    The attempts stay as they were: no printer was tried. Staff can still reprint.
    """
    if not job_ids:
        return

    def work(tx: Tx) -> None:
        for job_id in job_ids:
            tx.run(
                _STALE_JOB,
                {
                    "id": job_id,
                    "state": FAILED,
                    "code": STALE,
                    "error": _STALE_MESSAGE,
                    "now": tx.time(now),
                },
            )

    db.atomic(work)


def agent_backlog(db: Database, device_id: int, *, now: datetime) -> list[int]:
    """The queued agent jobs of a kiosk still to print, oldest first: what its agent is owed.

    The others (tickets of an earlier day, or no longer waiting) fail as `stale` here.
    """
    with db.reading() as tx:
        rows = [
            (job_id, tx.read_day(day), state, timezone)
            for job_id, day, state, timezone in tx.all(_QUEUED_AGENT_JOBS, {"device": device_id})
        ]
    owed: list[int] = []
    stale: list[int] = []
    for job_id, day, state, timezone in rows:
        fresh = still_printable(day, state, business_day(now, timezone))
        (owed if fresh else stale).append(job_id)
    # Read first, write only when something went stale: most hellos find nothing to expire.
    expire(db, stale, now=now)
    return owed


_KIOSK_PRINTER = """
SELECT d.printer FROM devices d WHERE d.id = :id AND d.kind = 'kiosk'"""


def agent_presence(
    db: Database, device_id: int, *, connected: bool, default_printer: str, now: datetime
) -> list[Published]:
    """A kiosk's print agent connected (said hello) or went away: its printer state says so.

    Away, a kiosk that prints through its agent is `offline`; back, `offline` becomes
    `ok` (a paper fault reported before stays until the next print says otherwise).
    A kiosk with a printer of its own keeps the state its printer reported.
    """

    def work(tx: Tx) -> list[Published]:
        row = tx.one(_KIOSK_PRINTER, {"id": device_id})
        if row is None or not is_agent(row[0] or default_printer):
            return []
        cause = {"agent": "connected" if connected else "disconnected"}
        if connected:
            return _set_printer_state(
                tx, device_id, AGENT_BACK, error=None, now=now, cause=cause,
                only_from=(AGENT_AWAY,),
            )  # fmt: skip
        return _set_printer_state(tx, device_id, AGENT_AWAY, error=None, now=now, cause=cause)

    return db.atomic(work)


_LAST_JOB = """
SELECT device_id, printer, base_url FROM print_jobs WHERE ticket_id = :id
ORDER BY id DESC LIMIT 1"""


def reprint(
    db: Database,
    ticket_id: int,
    *,
    actor: Principal,
    now: datetime,
    default_printer: str,
    base_url: str,
) -> Outcome:
    """Queue the ticket again, on the printer of its last job (else the default)."""
    require_role(actor, *STAFF_AT_COUNTER)

    def work(tx: Tx) -> Outcome:
        ticket = find_ticket(tx, ticket_id)
        require_center(actor, ticket.center_id)
        last = tx.one(_LAST_JOB, {"id": ticket.id})
        device_id, printer, url = last if last else (None, default_printer, base_url)
        if printer.strip().lower() == "none":
            raise Conflict("no printer is set up for this ticket", code="no_printer")
        job_id = queue_print(tx, ticket.id, device_id, printer, url, now)
        return Outcome({"job": job_id, "state": QUEUED, "printer": printer})

    return db.atomic(work)


def printers_of(db: Database, job_ids: list[int]) -> list[tuple[int, str]]:
    """Each job with the printer it goes to."""
    with db.reading() as tx:
        return [
            (job_id, tx.scalar("SELECT printer FROM print_jobs WHERE id = :id", {"id": job_id}))
            for job_id in job_ids
        ]


def queued_jobs(db: Database) -> list[int]:
    """Jobs still waiting to print (after a restart, they are printed then)."""
    with db.reading() as tx:
        return [job_id for (job_id,) in tx.all(
            "SELECT id FROM print_jobs WHERE state = 'queued' ORDER BY id"
        )]  # fmt: skip
