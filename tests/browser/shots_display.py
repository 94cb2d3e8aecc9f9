"""Screenshots of the hall display mid-morning (several calls, people waiting), 1920x1080.

Run: .venv/bin/python -m tests.browser.shots_display
Writes docs/screenshots/display-ar.png, display-en.png and display-not-live.png (the
server stopped under a live display).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

from tests.browser.conftest import CHROMIUM_ARGS, Server, chromium_path
from tests.browser.test_display import call_api, call_next, clerk

OUT = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
# The morning's tickets, by service, in the order citizens took them.
QUEUE = [
    ("civil-extract-individual", 7),
    ("justice-no-conviction", 4),
    ("real-estate-register-statement", 2),
    ("civil-family-statement", 3),
    ("education-basic-certificate", 2),
    ("finance-tax-clearance", 3),
    ("civil-id-replacement", 2),
    ("employees-not-employee", 2),
    ("transport-vehicle-ownership", 1),
    ("local-admin-licence", 1),
    ("higher-education-equivalence", 1),
]
# Counters that call, in order (the last is the one highlighted).
CALLS = [5, 7, 3, 8, 1, 9]


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        server = Server(Path(folder))
        server.start()
        try:
            for service, count in QUEUE:
                for _ in range(count):
                    status, answer = call_api(
                        server, "POST", f"/api/v1/centers/{server.center}/tickets",
                        server.device("kiosk")["token"], {"service": service},
                    )  # fmt: skip
                    assert status == 201, answer
            for number in CALLS:
                token, counter_id = clerk(server, number - 1)
                call_next(server, token, counter_id)
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS
                )
                context = browser.new_context(viewport={"width": 1920, "height": 1080})
                page = context.new_page()
                token = server.device("display")["token"]
                for lang in ("ar", "en"):
                    page.goto(f"{server.base}/display/{server.center}?lang={lang}#token={token}")
                    expect(page.locator("html")).to_have_attribute("data-live", "1")
                    expect(page.locator("#history .call")).to_have_count(4)
                    page.evaluate("document.fonts.ready")
                    page.wait_for_timeout(500)
                    page.screenshot(path=str(OUT / f"display-{lang}.png"))
                # The server goes away: the hall must see at once that the board is stale.
                page.goto(f"{server.base}/display/{server.center}?lang=ar")
                expect(page.locator("#history .call")).to_have_count(4)
                server.stop()
                expect(page.locator("#live-banner")).to_be_visible(timeout=20_000)
                page.wait_for_timeout(800)
                page.screenshot(path=str(OUT / "display-not-live.png"))
                browser.close()
        finally:
            server.stop()
    print(f"wrote display-ar.png, display-en.png and display-not-live.png in {OUT}")


if __name__ == "__main__":
    main()
