"""The kiosk print agent: the journal rule, and the agent and server as real processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests
from PIL import ImageChops

from taboor.printers.agent import (
    AgentJob,
    JobPrinter,
    Journal,
    job_from_message,
    ticket_from_wire,
    ticket_to_wire,
)
from taboor.printers.backends import FilePrinter
from taboor.printers.escpos_raster import decode_raster
from taboor.printers.layout import WIDTH_58MM, WIDTH_80MM, render_ticket
from taboor.printers.sample import SAMPLE_TICKET
from tests.conftest import SECRET

TABOOR = str(Path(sys.executable).with_name("taboor"))
CENTER = "DAM-MIDAN"
WAIT_S = 60  # a bound for liveness, not a speed claim


# --- the wire and the journal (no network) ----------------------------------------------


def sample_job(job_id: int = 7, public_id: str = "Vq3kZP9xLrT2wYbN") -> AgentJob:
    return AgentJob(job_id, public_id, SAMPLE_TICKET.label, SAMPLE_TICKET)


class Answers:
    """Collects what the agent would send as `print.ack`."""

    def __init__(self) -> None:
        self.sent: list[tuple[int, bool, dict | None]] = []
        self.paper: list[str] = []

    def __call__(self, job: int, ok: bool, error: dict | None, paper: str) -> None:
        self.sent.append((job, ok, error))
        self.paper.append(paper)


def printed_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.glob("*.escpos")) if folder.exists() else []


def test_the_ticket_crosses_the_wire_unchanged_and_prints_the_same_image():
    aware = replace(SAMPLE_TICKET, issued_local=datetime(2026, 3, 1, 6, 0, tzinfo=UTC))
    for ticket in (SAMPLE_TICKET, aware, replace(SAMPLE_TICKET, lang="en", eastern_digits=True)):
        received = ticket_from_wire(ticket_to_wire(ticket))
        assert received == ticket
    image = render_ticket(ticket_from_wire(ticket_to_wire(SAMPLE_TICKET)), WIDTH_58MM)
    expected = render_ticket(SAMPLE_TICKET, WIDTH_58MM)
    assert ImageChops.difference(image, expected).getbbox() is None


@pytest.mark.parametrize(
    "change",
    [{"ahead": "7"}, {"ahead": True}, {"lang": "fr"}, {"label": None}, {"issued_local": "x"},
     {"center_ar": "x" * 1001}, {"wait_minutes": -1}],
)  # fmt: skip
def test_a_malformed_ticket_is_refused(change):
    with pytest.raises(ValueError):
        ticket_from_wire({**ticket_to_wire(SAMPLE_TICKET), **change})


def test_a_print_job_needs_an_id_a_public_id_and_a_label():
    good = {"job": 3, "public_id": "abc", "label": "A-001", "ticket": ticket_to_wire(SAMPLE_TICKET)}
    assert job_from_message(good).key == "3:abc"
    for bad in ({"job": 0}, {"job": True}, {"public_id": "a:b"}, {"label": " "}, {"ticket": []}):
        with pytest.raises(ValueError):
            job_from_message({**good, **bad})


def test_a_job_printed_whose_answer_was_lost_is_answered_again_not_printed_again(tmp_path):
    out, state = tmp_path / "out", tmp_path / "state"
    answers = Answers()
    job = sample_job()
    assert JobPrinter(FilePrinter(out), WIDTH_80MM, Journal(state), answers).handle(job)
    assert printed_files(out) == ["A-042.escpos"]
    # The answer never reached the server; the agent restarts and is sent the job again.
    again = JobPrinter(FilePrinter(out), WIDTH_80MM, Journal(state), answers)
    assert again.handle(job) is False
    assert printed_files(out) == ["A-042.escpos"]
    assert answers.sent == [(7, True, None), (7, True, None)]
    # The same job id from a server with a fresh database is another job.
    assert again.handle(sample_job(7, "another-ticket"))
    assert printed_files(out) == ["A-042.escpos", "A-042_2.escpos"]


def test_the_printed_ticket_is_the_one_rendered_at_the_agents_paper_width(tmp_path):
    out = tmp_path / "out"
    JobPrinter(FilePrinter(out), WIDTH_58MM, Journal(tmp_path / "s"), Answers()).handle(
        sample_job()
    )
    (printed,) = decode_raster((out / "A-042.escpos").read_bytes())
    expected = render_ticket(SAMPLE_TICKET, WIDTH_58MM)
    assert printed.size == expected.size
    assert ImageChops.difference(printed.convert("1"), expected.convert("1")).getbbox() is None


def test_a_failed_print_is_answered_with_its_error_and_tried_again_when_resent(tmp_path):
    blocker = tmp_path / "out"
    blocker.write_text("a file where the folder should be")
    answers = Answers()
    journal = Journal(tmp_path / "state")
    jobs = JobPrinter(FilePrinter(blocker), WIDTH_80MM, journal, answers)
    assert jobs.handle(sample_job()) is False
    [(job, ok, error)] = answers.sent
    assert (job, ok, error["code"]) == (7, False, "io_error") and error["message"]
    assert sample_job().key not in journal
    blocker.unlink()
    assert jobs.handle(sample_job())
    assert printed_files(blocker) == ["A-042.escpos"]


class _Roll:
    """A printer whose paper sensor says `state`, during the print or only when asked."""

    def __init__(self, state: str, *, while_printing: bool) -> None:
        self.state, self.while_printing = state, while_printing

    def print_ticket(self, image, name, ticket=None):
        return self.state if self.while_printing else None

    def status(self):
        return self.state


@pytest.mark.parametrize("while_printing", [True, False], ids=["network", "usb"])
def test_the_agent_says_when_the_printers_paper_runs_low(tmp_path, while_printing):
    answers = Answers()
    printer = _Roll("paper_low", while_printing=while_printing)
    jobs = JobPrinter(printer, WIDTH_80MM, Journal(tmp_path), answers)
    assert jobs.handle(sample_job())
    printer.state = "unknown"  # a sensor that does not answer: the ticket printed, ok
    assert jobs.handle(sample_job(8, "Wq3kZP9xLrT2wYbN"))
    assert answers.sent == [(7, True, None), (8, True, None)]
    assert answers.paper == ["paper_low", "ok"]


def test_the_agent_prints_its_kiosks_logo_on_every_ticket(tmp_path):
    from PIL import Image, ImageDraw

    logo = tmp_path / "logo.png"
    image = Image.new("RGB", (300, 120), "white")
    ImageDraw.Draw(image).ellipse((10, 10, 290, 110), fill="black")
    image.save(logo)
    out = tmp_path / "out"
    jobs = JobPrinter(FilePrinter(out), WIDTH_80MM, Journal(tmp_path / "s"), Answers(), logo=logo)
    assert jobs.handle(sample_job())
    (printed,) = decode_raster((out / "A-042.escpos").read_bytes())
    expected = render_ticket(replace(SAMPLE_TICKET, logo_path=logo), WIDTH_80MM)
    assert expected.height > render_ticket(SAMPLE_TICKET, WIDTH_80MM).height
    assert ImageChops.difference(printed.convert("1"), expected.convert("1")).getbbox() is None


def test_the_journal_keeps_the_latest_jobs_across_restarts(tmp_path):
    journal = Journal(tmp_path, keep=3)
    for n in range(1, 11):
        journal.add(f"{n}:t{n}")
    reopened = Journal(tmp_path, keep=3)
    assert [f"{n}:t{n}" in reopened for n in (7, 8, 9, 10)] == [False, True, True, True]
    assert len(reopened) == 3
    lines = (tmp_path / "printed-jobs.txt").read_text().split()
    assert len(lines) <= 6 and lines[-1] == "10:t10"


# --- server and agent as real processes --------------------------------------------------


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(folder: Path) -> dict[str, str]:
    return {
        **os.environ,
        "TABOOR_INSTANCE_PATH": str(folder),
        "TABOOR_SECRET_KEY": SECRET,
        "TABOOR_DATABASE_URL": f"sqlite:///{folder / 'taboor.sqlite3'}",
        "TABOOR_SQLITE_SYNCHRONOUS": "NORMAL",
        # The demo kiosk has no printer of its own: its tickets go to its agent.
        "TABOOR_PRINTER": "agent",
    }


def start_server(folder: Path, port: int) -> subprocess.Popen:
    log = open(folder / "server.log", "ab")
    proc = subprocess.Popen(
        [TABOOR, "run", "--port", str(port), "--threads", "8", "--live", "16"],
        env=_env(folder), stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    log.close()
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        try:
            requests.get(f"http://127.0.0.1:{port}/api/v1/centers", timeout=1)
            return proc
        except requests.ConnectionError:
            if proc.poll() is not None:
                raise RuntimeError((folder / "server.log").read_text()) from None
            time.sleep(0.05)
    raise RuntimeError("server did not start")


def stop(proc: subprocess.Popen) -> int:
    os.killpg(proc.pid, signal.SIGTERM)
    # Not a timing check, a liveness bound: the agent stops once its last answer is out
    # (about a second). A process whose main thread waited in the Socket.IO client did
    # not see its stop signal until the connection died (minutes).
    return proc.wait(WAIT_S)


def start_agent(folder: Path, port: int, token: str) -> subprocess.Popen:
    """An agent printing to `folder/printed`, its journal and log in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    log = open(folder / "agent.log", "ab")
    proc = subprocess.Popen(
        [TABOOR, "agent", "--server", f"http://127.0.0.1:{port}", "--token", token,
         "--printer", f"file:{folder / 'printed'}", "--state-dir", str(folder / "agent-state")],
        env={k: v for k, v in os.environ.items() if not k.startswith("TABOOR_")},
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    log.close()
    return proc


def issue(port: int, token: str, count: int) -> list[dict]:
    url = f"http://127.0.0.1:{port}/api/v1/centers/{CENTER}/tickets"
    tickets = []
    with requests.Session() as http:
        for _ in range(count):
            response = http.post(
                url,
                json={"service": "general-inquiry"},
                headers={"Authorization": f"Bearer {token}"},
                timeout=10,
            )
            assert response.status_code == 201, response.text
            tickets.append(response.json())
    return tickets


def job_states(rt) -> dict[int, tuple[str, int]]:
    with rt.db.reading() as tx:
        return {
            job: (state, attempts)
            for job, state, attempts in tx.all("SELECT id, state, attempts FROM print_jobs")
        }


def wait_until_printed(rt, jobs: list[int], folder: Path) -> None:
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        states = job_states(rt)
        if all(states.get(job, ("", 0))[0] == "printed" for job in jobs):
            return
        time.sleep(0.1)
    log = (folder / "agent.log").read_text(errors="replace")
    raise AssertionError(f"not all printed: {job_states(rt)}\n{log}")


def jobs_of(tickets: list[dict]) -> list[int]:
    return [t["print"]["job"] for t in tickets]


@pytest.mark.slow
def test_stopping_and_restarting_the_agent_loses_no_job_and_prints_none_twice(rt, demo, tmp_path):
    port = _free_port()
    token = demo.device("kiosk")["token"]
    out = tmp_path / "printed"
    server = start_server(tmp_path, port)
    agent = start_agent(tmp_path, port, token)
    try:
        first = issue(port, token, 4)
        wait_until_printed(rt, jobs_of(first), tmp_path)

        # Stopped while tickets arrive, then tickets issued while it is away.
        arriving = issue(port, token, 4)
        assert stop(agent) == 0
        away = issue(port, token, 4)
        assert all(job_states(rt)[job][0] == "queued" for job in jobs_of(away))

        agent = start_agent(tmp_path, port, token)
        everything = first + arriving + away
        wait_until_printed(rt, jobs_of(everything), tmp_path)
        assert stop(agent) == 0

        # A job printed whose answer was lost: the server still has it queued.
        lost = first[0]["print"]["job"]
        rt.db.atomic(
            lambda tx: tx.run("UPDATE print_jobs SET state = 'queued' WHERE id = :id", {"id": lost})
        )
        agent = start_agent(tmp_path, port, token)
        wait_until_printed(rt, [lost], tmp_path)
        assert job_states(rt)[lost] == ("printed", 2)
    finally:
        if agent.poll() is None:
            stop(agent)
        stop(server)
    assert printed_files(out) == sorted(f"{t['label']}.escpos" for t in everything)
    assert {state for state, _ in job_states(rt).values()} == {"printed"}
    assert "Traceback" not in (tmp_path / "agent.log").read_text(errors="replace")


@pytest.mark.slow
def test_the_agent_comes_back_by_itself_after_the_server_dies_and_restarts(rt, demo, tmp_path):
    port = _free_port()
    token = demo.device("kiosk")["token"]
    server = start_server(tmp_path, port)
    agent = start_agent(tmp_path, port, token)
    try:
        before = issue(port, token, 2)
        wait_until_printed(rt, jobs_of(before), tmp_path)
        os.killpg(server.pid, signal.SIGKILL)  # the server goes away without a goodbye
        server.wait(30)
        server = start_server(tmp_path, port)
        after = issue(port, token, 3)
        wait_until_printed(rt, jobs_of(after), tmp_path)
        assert agent.poll() is None
    finally:
        if agent.poll() is None:
            stop(agent)
        stop(server)
    everything = before + after
    assert printed_files(tmp_path / "printed") == sorted(f"{t['label']}.escpos" for t in everything)


@pytest.mark.slow
def test_an_agent_whose_token_is_refused_stops_and_says_why(rt, demo, tmp_path):
    port = _free_port()
    server = start_server(tmp_path, port)
    try:
        refused = start_agent(tmp_path, port, "dev_not-a-token")
        assert refused.wait(WAIT_S) == 1
        display = start_agent(tmp_path, port, demo.device("display")["token"])
        assert display.wait(WAIT_S) == 1
    finally:
        stop(server)
    log = (tmp_path / "agent.log").read_text(errors="replace")
    assert "token_invalid" in log and "agent_forbidden" in log


@pytest.mark.slow
def test_a_second_agent_with_the_same_token_takes_over_and_the_first_stops(rt, demo, tmp_path):
    port = _free_port()
    token = demo.device("kiosk")["token"]
    first_pc, second_pc = tmp_path / "first", tmp_path / "second"
    server = start_server(tmp_path, port)
    first = start_agent(first_pc, port, token)
    second = None
    try:
        before = issue(port, token, 2)
        wait_until_printed(rt, jobs_of(before), first_pc)
        second = start_agent(second_pc, port, token)
        # Told it was replaced, the first stops for good instead of taking the kiosk back.
        assert first.wait(WAIT_S) == 1
        after = issue(port, token, 3)
        wait_until_printed(rt, jobs_of(after), second_pc)
        assert second.poll() is None
    finally:
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                stop(proc)
        stop(server)
    assert printed_files(first_pc / "printed") == sorted(f"{t['label']}.escpos" for t in before)
    assert printed_files(second_pc / "printed") == sorted(f"{t['label']}.escpos" for t in after)
    assert "another print agent" in (first_pc / "agent.log").read_text(errors="replace")
