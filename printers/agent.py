"""The kiosk print agent: takes its kiosk's print jobs over Socket.IO, prints, answers.

It runs on a kiosk PC with the printer attached (`taboor agent --server URL --token
TOKEN --printer usb:04b8:0202`), connects with the kiosk's device token, says
`agent.hello`, and is sent the kiosk's queued jobs, then each new one as it is
committed (contract in `server/agent_hub.py`). Jobs are printed one at a time, lowest
job id first, and each is answered with `print.ack`. The connection comes back by
itself after a network cut or a server restart; the server sends again whatever was
not answered.

One agent prints for a kiosk. When another agent says hello with the same token, the
server sends this one `agent.replaced` and disconnects it; it then stops (`run()` raises
AgentError) rather than come back and push the other one out in turn.

No job is printed twice: the server may send a job again (its answer was lost with
the connection, or it was committed while the agent said hello), so every printed job
is written to a journal in the state folder, synced to disk, before it is answered. A
job found in the journal is answered again and not printed. A job is keyed by its id
and its ticket's public id, so a server with a fresh database (ids from 1 again)
does not collide with an old journal.
"""

from __future__ import annotations

import itertools
import logging
import os
import queue
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

import socketio
from socketio import exceptions as sio_errors

from taboor.printers.backends import Printer, PrinterError, paper_after_print
from taboor.printers.layout import LANGUAGES, WIDTH_58MM, WIDTH_80MM, TicketPrint, render_ticket

log = logging.getLogger(__name__)

JOURNAL_FILE = "printed-jobs.txt"
JOURNAL_KEEP = 1000  # the server resends only unanswered jobs: a short memory is enough
RETRY_MIN_S = 0.5
RETRY_MAX_S = 10.0
SIGNAL_POLL_S = 0.2  # how soon the main thread notices a stop signal
# Refusals that retrying cannot fix: the token is wrong, or not a kiosk's.
FATAL_CODES = frozenset({"token_invalid", "token_required", "bad_auth", "agent_forbidden"})

# --- the wire format of a ticket ------------------------------------------------------

_TEXT_FIELDS = ("center_ar", "center_en", "label", "service_ar", "service_en", "status_url")
_MAX_TEXT = 1000


def ticket_to_wire(ticket: TicketPrint) -> dict[str, object]:
    """A ticket's printed content as JSON-ready data (the logo stays on the server)."""
    return {
        **{name: getattr(ticket, name) for name in _TEXT_FIELDS},
        "ahead": ticket.ahead,
        "wait_minutes": ticket.wait_minutes,
        "issued_local": ticket.issued_local.isoformat(),
        "lang": ticket.lang,
        "eastern_digits": ticket.eastern_digits,
    }


def _field(data: dict[str, object], name: str, kind: type) -> object:
    value = data.get(name)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ValueError(f"ticket field {name!r} must be {kind.__name__}, not {value!r}")
    if isinstance(value, str) and len(value) > _MAX_TEXT:
        raise ValueError(f"ticket field {name!r} is too long")
    return value


def ticket_from_wire(data: object) -> TicketPrint:
    """The ticket described by `ticket_to_wire` data; ValueError when it is malformed."""
    if not isinstance(data, dict):
        raise ValueError("a ticket must be an object")
    # The center's local time, as printed (with its UTC offset when the server sends it).
    issued = datetime.fromisoformat(str(_field(data, "issued_local", str)))
    lang = _field(data, "lang", str)
    if lang not in LANGUAGES:
        raise ValueError(f"lang must be one of {LANGUAGES}")
    return TicketPrint(
        **{name: _field(data, name, str) for name in _TEXT_FIELDS},  # type: ignore[arg-type]
        ahead=_field(data, "ahead", int),  # type: ignore[arg-type]
        wait_minutes=_field(data, "wait_minutes", int),  # type: ignore[arg-type]
        issued_local=issued,
        lang=str(lang),
        eastern_digits=bool(_field(data, "eastern_digits", bool)),
    )


@dataclass(frozen=True)
class AgentJob:
    """One `print.job` as received."""

    id: int
    public_id: str
    label: str
    ticket: TicketPrint

    @property
    def key(self) -> str:
        """What the journal remembers: unique across jobs, reprints and databases."""
        return f"{self.id}:{self.public_id}"


def job_from_message(data: object) -> AgentJob:
    """A `print.job` payload as a job; ValueError when it is malformed."""
    if not isinstance(data, dict):
        raise ValueError("a print job must be an object")
    job_id = data.get("job")
    if not isinstance(job_id, int) or isinstance(job_id, bool) or job_id <= 0:
        raise ValueError(f"bad job id {job_id!r}")
    public_id, label = data.get("public_id"), data.get("label")
    if not isinstance(public_id, str) or not public_id or ":" in public_id or "\n" in public_id:
        raise ValueError(f"job {job_id}: bad public_id")
    if not isinstance(label, str) or not label.strip():
        raise ValueError(f"job {job_id}: bad label")
    return AgentJob(job_id, public_id, label, ticket_from_wire(data.get("ticket")))


# --- the journal ----------------------------------------------------------------------


class Journal:
    """The jobs printed here, one key a line in `<folder>/printed-jobs.txt`.

    A key is appended and synced to disk right after the printer took the ticket and
    before the job is answered; the file keeps the last `keep` keys.
    """

    def __init__(self, folder: str | os.PathLike[str], keep: int = JOURNAL_KEEP) -> None:
        self.path = Path(folder) / JOURNAL_FILE
        self.keep = keep
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        try:
            lines = self.path.read_text(encoding="utf-8").split()
        except FileNotFoundError:
            lines = []
        self._order: deque[str] = deque(lines[-keep:])
        self._keys = set(self._order)
        self._lines = len(lines)
        if self._lines > 2 * keep:
            self._compact()

    def __contains__(self, key: object) -> bool:
        with self._lock:
            return key in self._keys

    def __len__(self) -> int:
        with self._lock:
            return len(self._keys)

    def add(self, key: str) -> None:
        """Remember a printed job, durably."""
        with self._lock:
            if key in self._keys:
                return
            with open(self.path, "a", encoding="utf-8") as fh:
                fh.write(key + "\n")
                fh.flush()
                os.fsync(fh.fileno())
            self._keys.add(key)
            self._order.append(key)
            self._lines += 1
            while len(self._order) > self.keep:
                self._keys.discard(self._order.popleft())
            if self._lines > 2 * self.keep:
                self._compact()

    def _compact(self) -> None:
        """Rewrite the file with the keys kept (atomically: a crash leaves one or the other)."""
        temporary = self.path.with_suffix(".tmp")
        with open(temporary, "w", encoding="utf-8") as fh:
            fh.write("".join(key + "\n" for key in self._order))
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(temporary, self.path)
        self._lines = len(self._order)


# --- printing one job -----------------------------------------------------------------

# (job id, ok, error {"code", "message"} or None, paper state): sends `print.ack`.
Answer = Callable[[int, bool, dict[str, str] | None, str], None]


class JobPrinter:
    """Prints each job at most once (the journal decides) and answers for it."""

    def __init__(
        self,
        printer: Printer,
        width: int,
        journal: Journal,
        answer: Answer,
        logo: str | os.PathLike[str] | None = None,
    ) -> None:
        self.printer = printer
        self.width = width
        self.journal = journal
        self.answer = answer
        self.logo = logo  # this kiosk's logo file: the server sends text, not images

    def handle(self, job: AgentJob) -> bool:
        """Print the job unless the journal has it; answer either way. True if printed."""
        if job.key in self.journal:
            log.info("job %s (%s) was printed before; answering again", job.id, job.label)
            self.answer(job.id, True, None, "ok")
            return False
        try:
            ticket = replace(job.ticket, logo_path=self.logo) if self.logo else job.ticket
            image = render_ticket(ticket, self.width)
            seen = self.printer.print_ticket(image, job.label, ticket)
        except PrinterError as exc:
            log.warning("job %s (%s) did not print: %s", job.id, job.label, exc)
            self.answer(job.id, False, {"code": exc.code, "message": exc.message}, "ok")
            return False
        except (ValueError, OSError) as exc:  # a ticket the layout cannot draw
            log.warning("job %s (%s) could not be rendered: %s", job.id, job.label, exc)
            self.answer(job.id, False, {"code": "render_error", "message": str(exc)}, "ok")
            return False
        self.journal.add(job.key)
        paper = paper_after_print(self.printer, seen)
        if paper == "paper_low":
            log.warning("the printer's paper is running low")
        log.info("printed %s (job %s)", job.label, job.id)
        self.answer(job.id, True, None, paper)
        return True


# --- the Socket.IO client -------------------------------------------------------------


class AgentError(Exception):
    """The agent cannot go on (its token was refused)."""


def paper_width(paper_mm: int) -> int:
    """Printable dots across the paper: 576 on 80 mm, 384 on 58 mm."""
    if paper_mm not in (58, 80):
        raise ValueError("paper must be 80 or 58 (mm)")
    return WIDTH_58MM if paper_mm == 58 else WIDTH_80MM


def default_state_dir() -> Path:
    """Where the journal lives unless told: the user's local state folder."""
    if os.name == "nt" and os.environ.get("LOCALAPPDATA"):
        return Path(os.environ["LOCALAPPDATA"]) / "taboor-agent"
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "taboor-agent"


_STOP = None  # the worker's stop signal, ahead of every job in the queue


class PrintAgent:
    """Connects, says hello after every (re)connect, prints the jobs it is sent, answers."""

    def __init__(
        self,
        server: str,
        token: str,
        printer: Printer,
        *,
        paper_mm: int = 80,
        state_dir: str | os.PathLike[str],
        logo: str | os.PathLike[str] | None = None,
    ) -> None:
        self.server = server
        self.token = token
        self.journal = Journal(state_dir)
        self.jobs = JobPrinter(
            printer, paper_width(paper_mm), self.journal, self._answer, logo=logo
        )
        self.paper_mm = paper_mm
        self.sio = socketio.Client(
            reconnection=True,
            reconnection_attempts=0,  # for ever
            reconnection_delay=0.5,
            reconnection_delay_max=5,
            logger=False,
            engineio_logger=False,
        )
        self.sio.on("connect", self._on_connect)
        self.sio.on("disconnect", self._on_disconnect)
        self.sio.on("connect_error", self._on_connect_error)
        self.sio.on("print.job", self._on_job)
        self.sio.on("agent.replaced", self._on_replaced)
        # Lowest job id first, whatever order the messages' threads hand them over in.
        self._queue: queue.PriorityQueue[tuple[int, int, AgentJob | None]] = queue.PriorityQueue()
        self._order = itertools.count()
        self._waiting: set[str] = set()  # keys queued or printing: a resent copy is dropped
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._fatal: str | None = None
        self._delay = RETRY_MIN_S  # before the next attempt; back to the minimum on a hello
        self._worker = threading.Thread(target=self._work, name="taboor-agent-print", daemon=True)
        self.printed = 0

    # -- running --

    def run(self) -> None:
        """Serve until `stop()`; AgentError when the server refuses the token.

        The connection lives on its own thread; this one only waits, in short steps. A
        process's signal may be delivered to any of its threads, and Python runs the
        handler (which calls `stop()`) on the main thread only when that thread wakes:
        blocked in the client's `wait()` it would not wake until the connection died.
        """
        self._worker.start()
        link = threading.Thread(target=self._keep_connected, name="taboor-agent-link", daemon=True)
        link.start()
        try:
            while link.is_alive():
                link.join(SIGNAL_POLL_S)
        finally:
            self._stop.set()
            self._queue.put((-1, next(self._order), _STOP))
            self._worker.join()
            self.sio.shutdown()
        if self._fatal is not None:
            raise AgentError(self._fatal)

    def _keep_connected(self) -> None:
        while not self._stop.is_set():
            try:
                self.sio.connect(self.server, auth={"token": self.token}, wait_timeout=10)
            except sio_errors.ConnectionError as exc:
                if self._fatal is not None or self._stop.is_set():
                    return
                log.warning("cannot connect to %s (%s); retrying", self.server, exc)
            else:
                if self._stop.is_set():  # stop() came while connecting: it found nothing to end
                    self.sio.shutdown()
                    return
                # Until the connection ends for good: a dropped one is brought back by
                # the client itself; this returns after stop() or a failed hello.
                self.sio.wait()
            self._stop.wait(self._delay)
            self._delay = min(self._delay * 2, RETRY_MAX_S)

    def stop(self) -> None:
        """Finish the ticket being printed (and answer it), then disconnect."""
        if self._stop.is_set():
            return
        self._stop.set()
        self._queue.put((-1, next(self._order), _STOP))

        def finish() -> None:
            if self._worker.ident is not None:  # started
                self._worker.join()
            self.sio.shutdown()

        # Not here: stop() may run in a signal handler on the thread that waits.
        threading.Thread(target=finish, name="taboor-agent-stop", daemon=True).start()

    # -- Socket.IO events --

    def _on_connect(self) -> None:
        log.info("connected to %s", self.server)
        self.sio.emit("agent.hello", {"paper": self.paper_mm}, callback=self._on_hello)

    def _on_hello(self, answer: object = None) -> None:
        if isinstance(answer, dict) and answer.get("ok"):
            self._delay = RETRY_MIN_S
            log.info(
                "kiosk %s: %s job(s) waiting to print", answer.get("device"), answer.get("queued")
            )
            return
        error = answer.get("error") if isinstance(answer, dict) else None
        code = error.get("code") if isinstance(error, dict) else None
        message = error.get("message") if isinstance(error, dict) else repr(answer)
        log.error("the server did not take this agent: %s (%s)", message, code)
        if code in FATAL_CODES:
            self._fatal = f"{message} ({code})"
            self._stop.set()
        # Without a hello no job comes: reconnect (and say hello again) from run().
        threading.Thread(target=self.sio.disconnect, daemon=True).start()

    def _on_replaced(self, data: object = None) -> None:
        device = data.get("device") if isinstance(data, dict) else None
        self._fatal = (
            f"another print agent now prints for kiosk {device} with the same token; "
            "stopping (run one agent per kiosk)"
        )
        log.error("%s", self._fatal)
        self._stop.set()
        # Not on this thread: it is the client's, and shutting down waits for it.
        threading.Thread(target=self.sio.shutdown, daemon=True).start()

    def _on_disconnect(self, reason: object = None) -> None:
        log.warning("disconnected from %s (%s)", self.server, reason)

    def _on_connect_error(self, data: object = None) -> None:
        code = None
        message = data
        if isinstance(data, dict):
            message = data.get("message")
            details = data.get("data")
            code = details.get("code") if isinstance(details, dict) else None
        if code in FATAL_CODES:
            self._fatal = f"the server refused the token: {message} ({code})"
            log.error("%s", self._fatal)
            self._stop.set()
            threading.Thread(target=self.sio.shutdown, daemon=True).start()
        else:
            log.info("cannot connect to %s (%s); trying again", self.server, message)

    def _on_job(self, data: object = None) -> None:
        try:
            job = job_from_message(data)
        except ValueError as exc:
            log.error("a print job that cannot be read: %s", exc)
            job_id = data.get("job") if isinstance(data, dict) else None
            if isinstance(job_id, int) and not isinstance(job_id, bool):
                self._answer(job_id, False, {"code": "bad_job", "message": str(exc)})
            return
        with self._lock:
            if job.key in self._waiting:
                return
            self._waiting.add(job.key)
        self._queue.put((job.id, next(self._order), job))

    # -- printing --

    def _work(self) -> None:
        while True:
            _, _, job = self._queue.get()
            if job is None:
                return
            try:
                if self.jobs.handle(job):
                    self.printed += 1
            except Exception:  # one broken job must not stop the agent
                log.exception("job %s failed unexpectedly", job.id)
            finally:
                with self._lock:
                    self._waiting.discard(job.key)

    def _answer(
        self, job_id: int, ok: bool, error: dict[str, str] | None, paper: str = "ok"
    ) -> None:
        payload: dict[str, object] = {"job": job_id, "ok": ok}
        if error is not None:
            payload["error"] = error
        if paper == "paper_low":
            payload["paper"] = paper
        try:
            self.sio.emit("print.ack", payload, callback=self._on_ack)
        except sio_errors.SocketIOError as exc:
            # Still queued on the server: it is sent again after the reconnect, and the
            # journal turns it into a second answer, not a second ticket.
            log.warning("job %s: not connected (%s); it will be answered on return", job_id, exc)

    def _on_ack(self, answer: object = None) -> None:
        if not (isinstance(answer, dict) and answer.get("ok")):
            log.warning("the server did not take an answer: %r", answer)
