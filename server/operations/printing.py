"""Printing use cases: where a ticket prints, its job queued in the transaction that
issues it, printed after the commit; results, reprints and print agents' answers.

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

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from taboor.server.auth import (
    STAFF_AT_COUNTER,
    SYSTEM,
    DeviceKind,
    Principal,
    require_center,
    require_role,
)
from taboor.server.db import Database
from taboor.server.domain.errors import Conflict, NotFound
from taboor.server.domain.numbering import business_day
from taboor.server.domain.tickets import TicketState
from taboor.server.operations import Outcome, Published
from taboor.server.store import Tx, devices, printing
from taboor.server.store.events import append_event
from taboor.server.store.printing import QUEUED
from taboor.server.store.tickets import find_ticket
from taboor.server.views import ticket_view

PRINTED, FAILED = "printed", "failed"
# The printer spec of a kiosk whose tickets its print agent prints.
AGENT = "agent"
# The error code of a job whose ticket can no longer be used (an earlier day, or called).
STALE = "stale"
# The printer states a kiosk's agent connection sets (from printers.backends.STATUSES).
AGENT_AWAY, AGENT_BACK = "offline", "ok"


def printer_for(tx: Tx, actor: Principal, default: str | None) -> str | None:
    """Where a kiosk's tickets print (its own printer, else the default); None for staff."""
    if default is None or actor.kind != "device" or actor.role != DeviceKind.KIOSK:
        return None
    assert actor.id is not None
    spec = printing.device_printer(tx, actor.id) or default
    return None if spec.strip().lower() == "none" else spec


def queue_print(
    tx: Tx, ticket_id: int, device_id: int | None, printer: str, base_url: str, now: datetime
) -> int:
    """Record a job to print, in the caller's transaction: committed with the ticket."""
    return printing.insert_job(tx, ticket_id, device_id, printer, base_url, now)


def is_agent(spec: str) -> bool:
    """Whether a printer spec means "the kiosk's print agent prints it"."""
    return spec.strip().lower() == AGENT


# Longer than any one attempt (connect, send and status timeouts, rendering): a job
# taken longer ago than this, still without a result, was left by a process that died.
CLAIM_LEASE_S = 60.0


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
        job = printing.find_job(tx, job_id)
        if job is None or job.state != QUEUED:
            return None
        ticket = find_ticket(tx, job.ticket_id)
        view = ticket_view(tx, ticket)
        facts = printing.print_facts(tx, ticket.id)
    options = facts.options or {}
    return JobToPrint(
        id=job.id,
        printer=job.printer,
        label=ticket.label,
        lang=job.lang or "ar",
        ticket=view,
        center_ar=facts.center_ar,
        center_en=facts.center_en,
        service_ar=facts.service_ar,
        service_en=facts.service_en,
        issued_local=ticket.issued_at.astimezone(ZoneInfo(facts.timezone)),
        status_base=job.base_url,
        eastern_digits=bool(options.get("eastern_digits")),
        device_id=job.device_id,
        logo=str(options["ticket_logo"]) if options.get("ticket_logo") else None,
        day=ticket.day,
        state=ticket.state,
        timezone=facts.timezone,
        seen_at=job.updated_at,
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
    seen = job.seen_at
    claimed = max(now, seen + timedelta(microseconds=1))  # never the value it had
    lapsed = now - timedelta(seconds=CLAIM_LEASE_S)
    return db.atomic(
        lambda tx: printing.claim_job(tx, job.id, seen=seen, claimed=claimed, lapsed=lapsed)
    )


def _set_printer_state(
    tx: Tx,
    device_id: int,
    state: str,
    *,
    error: str | None,
    now: datetime,
    cause: Mapping[str, object],
    only_from: tuple[str, ...] | None = None,
) -> list[Published]:
    """Move a device's printer state, with `device.changed` when it moved.

    `cause` goes into the event log (the job, or the agent's connection); with
    `only_from`, the state moves only from one of those states.
    """
    device = devices.printer_state(tx, device_id)
    previous = device.printer_state
    if state == previous or (only_from is not None and previous not in only_from):
        return []
    devices.set_printer_state(tx, device_id, state, now)
    seq = append_event(
        tx,
        device.center_id,
        device.center_code,
        "device.changed",
        actor=SYSTEM,
        now=now,
        data={"device": device_id, "printer_state": state, "from": previous, **cause},
    )
    payload = {
        "center": device.center_code,
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
        state = FAILED if error_code else PRINTED
        job = printing.record_job(tx, job_id, state=state, code=error_code, error=error, now=now)
        if job is None:
            raise NotFound(f"no print job {job_id}", code="print_job_not_found")
        return _printer_state_outcome(
            tx, job_id, job.device_id, error_code=error_code, error=error, now=now, paper=paper
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
        state = FAILED if error_code else PRINTED
        job = printing.acknowledge_job(
            tx, job_id, device_id, state=state, code=error_code, error=error, now=now
        )
        if job is None:
            known = printing.agent_job(tx, job_id, device_id)
            if known is None:
                raise NotFound(
                    f"no print job {job_id} for this kiosk's agent", code="print_job_not_found"
                )
            return Outcome(
                {"job": job_id, "state": known.state, "error": known.error_code, "duplicate": True}
            )
        return _printer_state_outcome(
            tx, job_id, job.device_id, error_code=error_code, error=error, now=now, paper=paper
        )

    return db.atomic(work)


_STALE_MESSAGE = "not printed: its ticket is of an earlier day or no longer waiting"


def expire(db: Database, job_ids: list[int], *, now: datetime) -> None:
    """Mark these queued jobs failed as `stale`: their tickets can no longer be printed.

    The attempts stay as they were: no printer was tried. Staff can still reprint.
    """
    if not job_ids:
        return

    def work(tx: Tx) -> None:
        for job_id in job_ids:
            printing.fail_untried(
                tx, job_id, state=FAILED, code=STALE, error=_STALE_MESSAGE, now=now
            )

    db.atomic(work)


def agent_backlog(db: Database, device_id: int, *, now: datetime) -> list[int]:
    """The queued agent jobs of a kiosk still to print, oldest first: what its agent is owed.

    The others (tickets of an earlier day, or no longer waiting) fail as `stale` here.
    """
    with db.reading() as tx:
        jobs = printing.queued_agent_jobs(tx, device_id)
    owed: list[int] = []
    stale: list[int] = []
    for job in jobs:
        fresh = still_printable(job.day, job.state, business_day(now, job.timezone))
        (owed if fresh else stale).append(job.id)
    # Read first, write only when something went stale: most hellos find nothing to expire.
    expire(db, stale, now=now)
    return owed


def agent_presence(
    db: Database, device_id: int, *, connected: bool, default_printer: str, now: datetime
) -> list[Published]:
    """A kiosk's print agent connected (said hello) or went away: its printer state says so.

    Away, a kiosk that prints through its agent is `offline`; back, `offline` becomes
    `ok` (a paper fault reported before stays until the next print says otherwise).
    A kiosk with a printer of its own keeps the state its printer reported.
    """

    def work(tx: Tx) -> list[Published]:
        printer = devices.kiosk_printer(tx, device_id)
        if printer is None or not is_agent(printer or default_printer):
            return []
        cause = {"agent": "connected" if connected else "disconnected"}
        if connected:
            return _set_printer_state(
                tx, device_id, AGENT_BACK, error=None, now=now, cause=cause,
                only_from=(AGENT_AWAY,),
            )  # fmt: skip
        return _set_printer_state(tx, device_id, AGENT_AWAY, error=None, now=now, cause=cause)

    return db.atomic(work)


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
        last = printing.last_job(tx, ticket.id)
        device_id, printer, url = None, default_printer, base_url
        if last is not None:
            device_id, printer, url = last.device_id, last.printer, last.base_url
        if printer.strip().lower() == "none":
            raise Conflict("no printer is set up for this ticket", code="no_printer")
        job_id = queue_print(tx, ticket.id, device_id, printer, url, now)
        return Outcome({"job": job_id, "state": QUEUED, "printer": printer})

    return db.atomic(work)


def printers_of(db: Database, job_ids: list[int]) -> list[tuple[int, str]]:
    """Each job with the printer it goes to."""
    with db.reading() as tx:
        jobs = [(job_id, printing.job_printer(tx, job_id)) for job_id in job_ids]
    return [(job_id, printer) for job_id, printer in jobs if printer is not None]


def queued_jobs(db: Database) -> list[int]:
    """Jobs still waiting to print (after a restart, they are printed then)."""
    with db.reading() as tx:
        return printing.queued_jobs(tx)
