"""Screenshots of the citizen's status page at phone size.

Run: .venv/bin/python -m tests.browser.shots_citizen
Writes docs/screenshots/status-ar.png (waiting), status-en.png (waiting, English) and
status-called-ar.png (called to a counter), after a morning in which three tickets were
called before this one for each of the three reasons the page explains.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

from tests.browser.conftest import CHROMIUM_ARGS, Server, chromium_path
from tests.browser.test_citizen import PHONE, call_api, clerk_token, issue

OUT = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
EXTRACT = "civil-extract-individual"
FAMILY = "civil-family-statement"


def serve(server, desk: tuple[str, int], ticket: dict | None = None) -> dict:
    """Call (the next, or `ticket` with a reason) at a desk, start and finish it."""
    token, counter = desk
    if ticket is None:
        called = call_api(server, "POST", f"/api/v1/counters/{counter}/next", token)
    else:
        body = {"ticket": ticket["id"], "reason": "استلام وثيقة جاهزة مسبقًا"}
        called = call_api(server, "POST", f"/api/v1/counters/{counter}/call", token, body)
    call_api(server, "POST", f"/api/v1/tickets/{called['id']}/start", token)
    call_api(server, "POST", f"/api/v1/tickets/{called['id']}/done", token)
    return called


def morning(server) -> dict:
    """A queue in which three tickets go before ours for three reasons; ours."""
    one, two = clerk_token(server, 0), clerk_token(server, 1)
    for token, counter in (one, two):
        call_api(server, "POST", f"/api/v1/counters/{counter}/open", token)
    family = issue(server, FAMILY)
    for _ in range(3):
        issue(server, EXTRACT)
    mine = issue(server, EXTRACT)
    token = server.device("kiosk")["token"]
    call_api(
        server, "POST", f"/api/v1/centers/{server.center}/tickets", token,
        {"service": EXTRACT, "priority": "elderly"},
    )  # fmt: skip
    favoured = issue(server, EXTRACT)
    issue(server, EXTRACT)
    serve(server, two)  # the elderly citizen's head start
    called = call_api(server, "POST", f"/api/v1/counters/{two[1]}/next", two[0])
    assert called["id"] == family["id"], called
    call_api(server, "POST", f"/api/v1/tickets/{family['id']}/transfer", two[0],
             {"service": EXTRACT})  # fmt: skip
    serve(server, one)  # the transferred ticket, in its old place
    serve(server, one, favoured)  # a clerk's out-of-turn call, with a reason
    serve(server, two)  # A-001, whose turn it was
    return mine


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        server = Server(Path(folder))
        server.start()
        try:
            mine = morning(server)
            url = f"{server.base}/t/{mine['public_id']}"
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS
                )
                context = browser.new_context(viewport=PHONE, device_scale_factor=2)
                page = context.new_page()
                page.goto(url, wait_until="networkidle")
                page.screenshot(path=OUT / "status-ar.png", full_page=True)
                page.goto(url + "?lang=en", wait_until="networkidle")
                page.screenshot(path=OUT / "status-en.png", full_page=True)
                page.goto(url + "?lang=ar", wait_until="networkidle")
                one, two = clerk_token(server, 0), clerk_token(server, 1)
                call_api(server, "POST", f"/api/v1/counters/{one[1]}/next", one[0])
                serve(server, two)
                called = call_api(server, "POST", f"/api/v1/counters/{two[1]}/next", two[0])
                assert called["id"] == mine["id"], called
                page.wait_for_selector("#called:not([hidden])", timeout=30_000)
                page.wait_for_timeout(5_000)  # let the arrival pulse settle for the picture
                page.screenshot(path=OUT / "status-called-ar.png", full_page=True)
                browser.close()
        finally:
            server.stop()
    for name in ("status-ar.png", "status-en.png", "status-called-ar.png"):
        print(OUT / name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
