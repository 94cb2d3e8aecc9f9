"""Screenshots of the manager dashboard after a busy morning, and of a PDF report page.

Run: .venv/bin/python -m tests.browser.shots_manage
Writes docs/screenshots/manage-ar.png, manage-en.png and report-ar.png (page 1 of the
Arabic PDF report, through `pdftoppm -png -r 80`).

The server cannot be given a clock, so the morning is played first through the API
on the same database with a clock that runs from four hours ago to a minute ago; then
`taboor run` starts on it and the dashboard shows today's real figures and waits.
"""

from __future__ import annotations

import random
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

from taboor.server.app import create_app
from tests.browser.conftest import CHROMIUM_ARGS, TABOOR, Server, chromium_path, login
from tests.conftest import Clock, bearer

OUT = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
CENTER = "DAM-MIDAN"
# (service, share of arrivals, mean service seconds)
DEMAND = [
    ("civil-extract-individual", 30, 170),
    ("civil-family-statement", 18, 230),
    ("civil-birth-statement", 6, 190),
    ("civil-register-birth", 8, 420),
    ("civil-id-replacement", 6, 480),
    ("justice-no-conviction", 14, 200),
    ("employees-not-employee", 8, 160),
    ("real-estate-register-statement", 10, 360),
]
COUNTERS = (1, 2, 3, 4, 5, 6, 7)
STEP_S = 20


@dataclass
class Desk:
    number: int
    counter_id: int
    headers: dict[str, str]
    ticket: int | None = None
    service: str = ""
    state: str = "idle"  # idle, called, serving, paused
    until: datetime | None = None


def play_morning(
    folder: Path, demo: dict, end: datetime, hours: float = 4.0, seed: int = 11
) -> int:
    """Issue, call and serve a morning of tickets ending at `end`; the number issued."""
    rng = random.Random(seed)
    clock = Clock(end - timedelta(hours=hours))
    app = create_app(
        {"instance_path": str(folder), "printer": "none", "sqlite_synchronous": "NORMAL"},
        clock=clock,
    )
    client = app.test_client()

    def post(path: str, headers: dict[str, str], body: dict | None = None) -> dict | None:
        response = client.post(path, json=body, headers=headers)
        assert response.status_code < 300, (path, response.status_code, response.get_data())
        return response.json if response.status_code != 204 else None

    kiosk = bearer(next(d for d in demo["devices"] if d["kind"] == "kiosk")["token"])
    desks = []
    for user in demo["users"]:
        if user["role"] != "clerk":
            continue
        number = int(user["username"].removeprefix("clerk"))
        if number not in COUNTERS:
            continue
        token = client.post("/api/v1/auth/token", json={
            "username": user["username"], "password": user["password"]}).json["token"]  # fmt: skip
        desks.append(Desk(number, user["counter_id"], bearer(token)))
    for desk in desks:
        post(f"/api/v1/counters/{desk.counter_id}/open", desk.headers)
    services = [s for s, _, _ in DEMAND]
    weights = [w for _, w, _ in DEMAND]
    mean_s = {s: m for s, _, m in DEMAND}
    issued = 0
    start = clock.now
    while clock.now < end:
        elapsed_h = (clock.now - start).total_seconds() / 3600
        # A busy middle of the morning: about 0.9 arrivals a minute, 1.4 at the peak.
        rate = (0.9 + 0.5 * max(0.0, 1 - abs(elapsed_h - 2.2))) * STEP_S / 60
        for _ in range(sum(rng.random() < rate / 2 for _ in range(2))):
            service = rng.choices(services, weights)[0]
            priority = "elderly" if rng.random() < 0.08 else "normal"
            post(f"/api/v1/centers/{CENTER}/tickets", kiosk, {"service": service,
                                                              "priority": priority})  # fmt: skip
            issued += 1
        for desk in desks:
            late = elapsed_h > hours - 0.6
            if desk.number in (5, 6) and late and desk.state in ("idle", "paused"):
                if desk.state == "idle":  # both justice counters went to a meeting
                    post(f"/api/v1/counters/{desk.counter_id}/pause", desk.headers)
                    desk.state = "paused"
                continue
            if desk.number == 4 and 1.5 < elapsed_h < 1.85:
                continue  # a long break at counter 4
            if desk.state == "idle":
                ticket = post(f"/api/v1/counters/{desk.counter_id}/next", desk.headers)
                if ticket is not None:
                    desk.ticket, desk.state = ticket["id"], "called"
                    desk.until = clock.now + timedelta(seconds=rng.randint(20, 70))
                    desk.service = ticket["service"]
            elif desk.until is not None and clock.now >= desk.until:
                if desk.state == "called":
                    if rng.random() < 0.05:
                        post(f"/api/v1/tickets/{desk.ticket}/no-show", desk.headers)
                        desk.state = "idle"
                    else:
                        post(f"/api/v1/tickets/{desk.ticket}/start", desk.headers)
                        mean = mean_s[desk.service]
                        seconds = max(45, rng.gauss(mean, mean / 3))
                        desk.state, desk.until = "serving", clock.now + timedelta(seconds=seconds)
                else:
                    post(f"/api/v1/tickets/{desk.ticket}/done", desk.headers)
                    desk.state = "idle"
        clock.advance(seconds=STEP_S)
    app.extensions["taboor"].spooler.close()
    app.extensions["taboor"].db.dispose()
    return issued


def report_png(server: Server, folder: Path) -> None:
    """Page 1 of today's Arabic PDF report, from `taboor report`, as a PNG."""
    pdf = folder / "report-ar.pdf"
    subprocess.run([TABOOR, "report", "--center", CENTER, "--lang", "ar", "--out", str(pdf)],
                   env=server.env, check=True, capture_output=True)  # fmt: skip
    subprocess.run(["pdftoppm", "-png", "-r", "80", "-f", "1", "-l", "1", "-singlefile",
                    str(pdf), str(folder / "report-ar")], check=True)  # fmt: skip
    shutil.copy(folder / "report-ar.png", OUT / "report-ar.png")


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        server = Server(folder)
        end = datetime.now(UTC) - timedelta(minutes=1)
        issued = play_morning(folder, server.demo, end)
        server.start()
        try:
            report_png(server, folder)
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS
                )
                page = browser.new_context(viewport={"width": 1366, "height": 900}).new_page()
                manager = server.user("manager")
                path = f"/manage/{CENTER}"
                login(page, server.base, manager["username"], manager["password"], path)
                page.wait_for_url(f"**{path}")
                expect(page.locator("html")).to_have_attribute("data-live", "1")
                page.evaluate("document.fonts.ready")
                page.screenshot(path=str(OUT / "manage-ar.png"), full_page=True)
                page.click("a.lang-toggle")
                page.wait_for_url(f"**{path}?lang=en")
                expect(page.locator("html")).to_have_attribute("data-live", "1")
                page.evaluate("document.fonts.ready")
                page.screenshot(path=str(OUT / "manage-en.png"), full_page=True)
                browser.close()
        finally:
            server.stop()
    print(f"{issued} tickets; wrote manage-ar.png, manage-en.png, report-ar.png in {OUT}")


if __name__ == "__main__":
    main()
