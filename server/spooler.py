"""The print spooler: prints committed jobs in the background, one printer at a time.

Requests never wait for paper: they queue the job id here after their commit and
answer. One worker thread renders each ticket (~15 ms) and sends it with the backend's
short timeouts; the result goes back to the database and, when a printer's state
changes, to the live events.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from datetime import datetime

from printers.backends import PrinterError, printer_from_spec
from printers.layout import WIDTH_58MM, WIDTH_80MM, TicketPrint, render_ticket, status_url
from server.db import Database
from server.print_jobs import JobToPrint, job_to_print, queued_jobs, record_result
from server.publish import Publisher

log = logging.getLogger(__name__)


def ticket_print(job: JobToPrint) -> TicketPrint:
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
    )


class PrintSpooler:
    def __init__(
        self,
        db: Database,
        publisher: Publisher,
        clock: Callable[[], datetime],
        *,
        paper_mm: int = 80,
    ) -> None:
        self.db = db
        self.publisher = publisher
        self.clock = clock
        self.width = WIDTH_58MM if paper_mm == 58 else WIDTH_80MM
        self._jobs: queue.Queue[int | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    def submit(self, job_ids: list[int]) -> None:
        """Print these committed jobs in the background."""
        if not job_ids:
            return
        self._ensure_worker()
        for job_id in job_ids:
            self._jobs.put(job_id)

    def resume(self) -> int:
        """Queue the jobs left unprinted by a previous run; returns how many."""
        pending = queued_jobs(self.db)
        self.submit(pending)
        return len(pending)

    def drain(self, timeout: float = 30.0) -> bool:
        """Wait until every submitted job is done (tests, shutdown); False on timeout."""
        done = threading.Event()

        def wait() -> None:
            self._jobs.join()
            done.set()

        threading.Thread(target=wait, daemon=True).start()
        return done.wait(timeout)

    def close(self) -> None:
        if self._thread is not None:
            self._jobs.put(None)
            self._thread.join(10)
            self._thread = None

    def _ensure_worker(self) -> None:
        with self._start_lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._work, name="taboor-spooler", daemon=True
                )
                self._thread.start()

    def _work(self) -> None:
        while True:
            job_id = self._jobs.get()
            try:
                if job_id is None:
                    return
                self.print_job(job_id)
            except Exception:  # one broken job must not stop the spooler
                log.exception("print job %s failed unexpectedly", job_id)
            finally:
                self._jobs.task_done()

    def print_job(self, job_id: int) -> None:
        """Render and send one job, then record how it went."""
        job = job_to_print(self.db, job_id)
        if job is None:
            return
        code: str | None = None
        message: str | None = None
        try:
            content = ticket_print(job)
            printer_from_spec(job.printer).print_ticket(
                render_ticket(content, self.width), job.label, content
            )
        except PrinterError as exc:
            code, message = exc.code, exc.message
            log.warning("ticket %s did not print on %s: %s", job.label, job.printer, exc)
        except ValueError as exc:  # a bad printer spec in the settings or on the device
            code, message = "bad_printer", str(exc)
            log.warning("ticket %s: %s", job.label, exc)
        outcome = record_result(self.db, job_id, error_code=code, error=message, now=self.clock())
        self.publisher.publish(outcome.events)
