"""Print jobs in the database: queued with their ticket (committed in the same
transaction), read for printing, taken, answered, expired, and what a ticket prints."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from taboor.server.store import Tx

QUEUED = "queued"
_INSERT_PRINT_JOB = """
INSERT INTO print_jobs (ticket_id, device_id, printer, base_url, state, attempts,
    created_at, updated_at)
VALUES (:ticket_id, :device_id, :printer, :base_url, :queued, 0, :now, :now)
RETURNING id"""
_DEVICE_PRINTER = "SELECT printer FROM devices WHERE id = :id"


def device_printer(tx: Tx, device_id: int) -> str | None:
    """The printer a device has of its own, if any."""
    return tx.scalar(_DEVICE_PRINTER, {"id": device_id})


def insert_job(
    tx: Tx, ticket_id: int, device_id: int | None, printer: str, base_url: str, now: datetime
) -> int:
    """Record a queued job; returns its id."""
    return tx.scalar(
        _INSERT_PRINT_JOB,
        {
            "ticket_id": ticket_id,
            "device_id": device_id,
            "printer": printer,
            "base_url": base_url,
            "queued": QUEUED,
            "now": tx.time(now),
        },
    )


_JOB = """
SELECT j.id, j.ticket_id, j.device_id, j.printer, j.base_url, j.state, t.lang, j.updated_at
FROM print_jobs j JOIN tickets t ON t.id = j.ticket_id WHERE j.id = :id"""
# What a ticket prints besides its own view: its center's and its service's names.
_PRINT_FACTS = """
SELECT c.name_ar AS center_ar, c.name_en AS center_en, c.timezone, c.options,
    s.name_ar AS service_ar, s.name_en AS service_en
FROM tickets t JOIN centers c ON c.id = t.center_id JOIN services s ON s.id = t.service_id
WHERE t.id = :id"""
# Taking a queued job to print it: only as it was read, and only when nobody holds it
# (never taken: updated_at = created_at; or taken longer than a lease ago).
_CLAIM_JOB = """
UPDATE print_jobs SET updated_at = :claimed
WHERE id = :id AND state = 'queued' AND updated_at = :seen
  AND (updated_at = created_at OR updated_at < :lapsed)
RETURNING id"""
_RECORD_JOB = """
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
_QUEUED_AGENT_JOBS = """
SELECT j.id, t.day, t.state, c.timezone
FROM print_jobs j JOIN tickets t ON t.id = j.ticket_id JOIN centers c ON c.id = t.center_id
WHERE j.state = 'queued' AND j.device_id = :device AND lower(trim(j.printer)) = 'agent'
ORDER BY j.id"""
# Only a job still queued: one answered meanwhile keeps its answer. No printer was
# tried, so the attempts stay as they were.
_FAIL_UNTRIED = """
UPDATE print_jobs SET state = :state, error_code = :code, error = :error, updated_at = :now
WHERE id = :id AND state = 'queued'"""
_LAST_JOB = """
SELECT device_id, printer, base_url FROM print_jobs WHERE ticket_id = :id
ORDER BY id DESC LIMIT 1"""
_JOB_PRINTER = "SELECT printer FROM print_jobs WHERE id = :id"
_QUEUED_JOBS = "SELECT id FROM print_jobs WHERE state = 'queued' ORDER BY id"


@dataclass(frozen=True)
class JobRow:
    """A print job with its ticket's language; `updated_at` says when it was last taken."""

    id: int
    ticket_id: int
    device_id: int | None
    printer: str
    base_url: str
    state: str
    lang: str | None
    updated_at: datetime | None


@dataclass(frozen=True)
class PrintFacts:
    """The names a ticket prints, and its center's time zone and options (decoded)."""

    center_ar: str
    center_en: str
    timezone: str
    options: Any
    service_ar: str
    service_en: str


@dataclass(frozen=True)
class JobOwner:
    """The kiosk a job was issued at (None: staff issued it), and its ticket."""

    device_id: int | None
    ticket_id: int


@dataclass(frozen=True)
class JobResult:
    """A job's recorded state and error code."""

    state: str
    error_code: str | None


@dataclass(frozen=True)
class AgentJob:
    """A queued job of a print agent, with its ticket's day and state and its time zone."""

    id: int
    day: date
    state: str
    timezone: str


@dataclass(frozen=True)
class LastJob:
    """Where a ticket's latest job went."""

    device_id: int | None
    printer: str
    base_url: str


def find_job(tx: Tx, job_id: int) -> JobRow | None:
    """The job, or None."""
    row = tx.mapping(_JOB, {"id": job_id})
    if row is None:
        return None
    row["updated_at"] = tx.read_time(row["updated_at"])
    return JobRow(**row)


def print_facts(tx: Tx, ticket_id: int) -> PrintFacts:
    """The names and settings the ticket's print needs."""
    row = tx.mapping(_PRINT_FACTS, {"id": ticket_id})
    assert row is not None  # a ticket has its center and service
    row["options"] = tx.read_json(row["options"])
    return PrintFacts(**row)


def claim_job(tx: Tx, job_id: int, *, seen: datetime, claimed: datetime, lapsed: datetime) -> bool:
    """Stamp a queued job `claimed` if it is as it was read and nobody holds it."""
    params = {"id": job_id, "seen": tx.time(seen), "claimed": tx.time(claimed),
              "lapsed": tx.time(lapsed)}  # fmt: skip
    return tx.one(_CLAIM_JOB, params) is not None


def _owner(row: dict[str, Any] | None) -> JobOwner | None:
    return None if row is None else JobOwner(**row)


def record_job(
    tx: Tx, job_id: int, *, state: str, code: str | None, error: str | None, now: datetime
) -> JobOwner | None:
    """Record an attempt's result on the job; None when there is no such job."""
    params = {"id": job_id, "state": state, "code": code, "error": error, "now": tx.time(now)}
    return _owner(tx.mapping(_RECORD_JOB, params))


def acknowledge_job(
    tx: Tx,
    job_id: int,
    device_id: int,
    *,
    state: str,
    code: str | None,
    error: str | None,
    now: datetime,
) -> JobOwner | None:
    """Record an agent's answer on a queued agent job of its kiosk; None when there is none."""
    params = {"id": job_id, "device": device_id, "state": state, "code": code, "error": error,
              "now": tx.time(now)}  # fmt: skip
    return _owner(tx.mapping(_ACK_JOB, params))


def agent_job(tx: Tx, job_id: int, device_id: int) -> JobResult | None:
    """The recorded result of an agent job of this kiosk, or None when there is none."""
    row = tx.mapping(_AGENT_JOB, {"id": job_id, "device": device_id})
    return None if row is None else JobResult(**row)


def queued_agent_jobs(tx: Tx, device_id: int) -> list[AgentJob]:
    """The kiosk's queued agent jobs, oldest first."""
    jobs = []
    for row in tx.mappings(_QUEUED_AGENT_JOBS, {"device": device_id}):
        row["day"] = tx.read_day(row["day"])
        jobs.append(AgentJob(**row))
    return jobs


def fail_untried(tx: Tx, job_id: int, *, state: str, code: str, error: str, now: datetime) -> None:
    """Mark a job that is still queued failed without trying a printer."""
    params = {"id": job_id, "state": state, "code": code, "error": error, "now": tx.time(now)}
    tx.run(_FAIL_UNTRIED, params)


def last_job(tx: Tx, ticket_id: int) -> LastJob | None:
    """The ticket's latest job, or None when it never had one."""
    row = tx.mapping(_LAST_JOB, {"id": ticket_id})
    return None if row is None else LastJob(**row)


def job_printer(tx: Tx, job_id: int) -> str | None:
    """The printer the job goes to (None: no such job)."""
    return tx.scalar(_JOB_PRINTER, {"id": job_id})


def queued_jobs(tx: Tx) -> list[int]:
    """The ids of the jobs still waiting to print, oldest first."""
    return tx.column(_QUEUED_JOBS)
