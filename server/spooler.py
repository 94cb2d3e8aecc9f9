"""The print spooler: prints committed jobs in the background, one printer at a time.

Requests never wait for paper: they queue the job id here after their commit and
answer. One worker thread renders each ticket (~15 ms) and sends it with the backend's
short timeouts; the result goes back to the database and, when a printer's state
changes, to the live events.

Jobs for a kiosk whose printer is `agent` are not printed here: the lane hands them to
the agent hub (`server/agent_hub.py`), which sends them to the kiosk's print agent over
Socket.IO; they stay queued until the agent acknowledges them. A job whose ticket can no
longer be printed (an earlier day, or no longer waiting) fails as `stale` instead.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from taboor.printers.backends import PrinterError, paper_after_print, printer_from_spec
from taboor.printers.layout import WIDTH_58MM, WIDTH_80MM, TicketPrint, render_ticket, status_url
from taboor.server.db import Database
from taboor.server.domain.numbering import business_day
from taboor.server.operations.printing import (
    CLAIM_LEASE_S,
    JobToPrint,
    claim,
    expire,
    is_agent,
    is_stale,
    job_to_print,
    printers_of,
    queued_jobs,
    record_result,
)
from taboor.server.publish import Publisher

log = logging.getLogger(__name__)

# Takes a committed job meant for a kiosk's print agent (the agent hub's `deliver`).
AgentSink = Callable[[JobToPrint], None]


def logo_for(job: JobToPrint, default: str = "", instance_path: str = "") -> str | None:
    """The logo file printed on the job's ticket: the center's own, else the default;
    a relative path is taken from the instance folder."""
    chosen = job.logo or default
    if not chosen:
        return None
    path = Path(chosen).expanduser()
    return str(path if path.is_absolute() else Path(instance_path) / path)


def ticket_print(job: JobToPrint, logo: str | None = None) -> TicketPrint:
    """The printed content of a job, as the citizen will read it."""
    wait_s = job.ticket.get("estimated_wait_s") or 0
    ahead = job.ticket.get("ahead") or 0
    return TicketPrint(
        center_ar=job.center_ar,
        center_en=job.center_en,
        label=job.label,
        service_ar=job.service_ar,
        service_en=job.service_en,
        ahead=int(ahead),  # type: ignore[arg-type]
        wait_minutes=round(int(wait_s) / 60),  # type: ignore[arg-type]
        issued_local=job.issued_local,
        status_url=status_url(job.status_base, str(job.ticket["public_id"])),
        lang=job.lang,
        eastern_digits=job.eastern_digits,
        logo_path=logo,
    )


class PrintSpooler:
    def __init__(
        self,
        db: Database,
        publisher: Publisher,
        clock: Callable[[], datetime],
        *,
        paper_mm: int = 80,
        logo: str = "",
        instance_path: str = "",
    ) -> None:
        self.db = db
        self.publisher = publisher
        self.clock = clock
        self.width = WIDTH_58MM if paper_mm == 58 else WIDTH_80MM
        self.logo = logo  # the default ticket logo (settings `ticket_logo`)
        self.instance_path = instance_path
        # One lane (a queue and a thread) per printer: a dead printer's timeouts delay
        # only its own kiosk's tickets, never another kiosk's.
        self._lanes: dict[str, tuple[queue.Queue[int | None], threading.Thread]] = {}
        self._lock = threading.Lock()
        self._pending = 0
        self._idle = threading.Condition(self._lock)
        # Set by the agent hub; without one, agent jobs wait queued for the agent's hello.
        self.agents: AgentSink | None = None
        self._timers: set[threading.Timer] = set()  # jobs to look at again (see claim)
        self._closed = False

    def submit(self, job_ids: list[int]) -> None:
        """Print these committed jobs in the background, each on its printer's lane."""
        if not job_ids:
            return
        for job_id, printer in printers_of(self.db, job_ids):
            with self._lock:
                self._pending += 1
                lane = self._lanes.get(printer)
                if lane is None:
                    lane = self._lanes[printer] = self._open_lane(printer)
            lane[0].put(job_id)

    def resume(self) -> int:
        """Queue the jobs left unprinted by a previous run; returns how many.

        Agent jobs are left alone: each agent is sent its backlog when it says hello.
        """
        pending = [
            job_id
            for job_id, printer in printers_of(self.db, queued_jobs(self.db))
            if not is_agent(printer)
        ]
        self.submit(pending)
        return len(pending)

    def drain(self, timeout: float = 30.0) -> bool:
        """Wait until every submitted job is done (tests, shutdown); False on timeout."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout)

    def _check_later(self, job_id: int, delay_s: float) -> None:
        timer = threading.Timer(delay_s, self._recheck, args=(job_id,))
        timer.daemon = True
        with self._lock:
            if self._closed:
                return
            self._timers.add(timer)
        timer.start()

    def _recheck(self, job_id: int) -> None:
        with self._lock:
            self._timers = {t for t in self._timers if t.is_alive()}
            if self._closed:
                return
        self.submit([job_id])

    def close(self) -> None:
        with self._lock:
            self._closed = True
            timers, self._timers = self._timers, set()
        for timer in timers:
            timer.cancel()
        with self._lock:
            lanes, self._lanes = list(self._lanes.values()), {}
        for jobs, _ in lanes:
            jobs.put(None)
        for _, thread in lanes:
            thread.join(10)

    def _open_lane(self, printer: str) -> tuple[queue.Queue[int | None], threading.Thread]:
        jobs: queue.Queue[int | None] = queue.Queue()
        thread = threading.Thread(
            target=self._work, args=(jobs,), name=f"taboor-print {printer}", daemon=True
        )
        thread.start()
        return jobs, thread

    def _work(self, jobs: queue.Queue[int | None]) -> None:
        while True:
            job_id = jobs.get()
            if job_id is None:
                return
            try:
                self.print_job(job_id)
            except Exception:  # one broken job must not stop the lane
                log.exception("print job %s failed unexpectedly", job_id)
            finally:
                with self._idle:
                    self._pending -= 1
                    self._idle.notify_all()

    def print_job(self, job_id: int) -> None:
        """Render and send one job, then record how it went."""
        job = job_to_print(self.db, job_id)
        if job is None:
            return
        if is_agent(job.printer):
            self._hand_to_agent(job)
            return
        now = self.clock()
        if job.day is not None and job.day < business_day(now, job.timezone):
            # Left queued by a stop overnight: a ticket of an earlier day is not printed.
            expire(self.db, [job.id], now=now)
            log.info("ticket %s is of an earlier day; job %s not printed", job.label, job.id)
            return
        if not claim(self.db, job, now):
            # Another server process is printing it; should that process have died,
            # take it once its lease has lapsed.
            log.info("job %s (%s) is printed by another server process", job.id, job.label)
            self._check_later(job.id, CLAIM_LEASE_S + 1)
            return
        code: str | None = None
        message: str | None = None
        paper = "ok"
        try:
            content = ticket_print(job, logo_for(job, self.logo, self.instance_path))
            printer = printer_from_spec(job.printer)
            seen = printer.print_ticket(render_ticket(content, self.width), job.label, content)
            paper = paper_after_print(printer, seen)
        except PrinterError as exc:
            code, message = exc.code, exc.message
            log.warning("ticket %s did not print on %s: %s", job.label, job.printer, exc)
        except ValueError as exc:  # a bad printer spec in the settings or on the device
            code, message = "bad_printer", str(exc)
            log.warning("ticket %s: %s", job.label, exc)
        outcome = record_result(
            self.db, job_id, error_code=code, error=message, now=self.clock(), paper=paper
        )
        self.publisher.publish(outcome.events)

    def _hand_to_agent(self, job: JobToPrint) -> None:
        """Send a job to its kiosk's print agent; it stays queued until the agent answers."""
        if job.device_id is None:
            # Only a kiosk has an agent: a job without one would wait forever.
            outcome = record_result(
                self.db,
                job.id,
                error_code="no_agent",
                error="the printer 'agent' prints a kiosk's tickets; this ticket has no kiosk",
                now=self.clock(),
            )
            self.publisher.publish(outcome.events)
            return
        now = self.clock()
        if is_stale(job, now):
            # Handed over late (a restart, a long queue): the next citizen would take it.
            expire(self.db, [job.id], now=now)
            log.info("ticket %s is no longer waiting today; job %s not sent", job.label, job.id)
            return
        if self.agents is not None:
            self.agents(job)
