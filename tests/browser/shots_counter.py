"""Screenshots of the counter desk with a ticket being served, in Arabic and English.

Run: .venv/bin/python -m tests.browser.shots_counter
Writes docs/screenshots/counter-ar.png and docs/screenshots/counter-en.png.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

from tests.browser.conftest import CHROMIUM_ARGS, Server, chromium_path, login

OUT = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
# A morning's queue at counter 1 (civil-registry extracts and statements).
QUEUE = [
    ("civil-extract-individual", "normal"),
    ("civil-family-statement", "normal"),
    ("civil-extract-individual", "elderly"),
    ("civil-birth-statement", "normal"),
    ("civil-extract-individual", "normal"),
    ("civil-marriage-statement", "normal"),
    ("civil-family-statement", "disabled"),
    ("civil-extract-individual", "normal"),
]


def issue(server: Server, service: str, priority: str) -> dict:
    return server.issue(service, priority=priority)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        server = Server(Path(folder))
        server.start()
        try:
            for service, priority in QUEUE:
                issue(server, service, priority)
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS
                )
                page = browser.new_context(viewport={"width": 1366, "height": 900}).new_page()
                clerk = server.user("clerk")
                login(page, server.base, clerk["username"], clerk["password"], "/counter/")
                page.wait_for_url("**/counter/")
                expect(page.locator("html")).to_have_attribute("data-live", "1")
                page.click("[data-action=open]")
                expect(page.locator("[data-action=next]")).to_be_enabled()
                page.keyboard.press("n")
                expect(page.locator("#desk")).to_have_attribute("data-ticket-state", "called")
                expect(page.locator("[data-action=start]")).to_be_enabled()
                page.keyboard.press("s")
                expect(page.locator("#desk")).to_have_attribute("data-ticket-state", "serving")
                page.evaluate("document.fonts.ready")
                page.screenshot(path=str(OUT / "counter-ar.png"))
                page.click("a.lang-toggle")
                page.wait_for_url("**/counter/?lang=en")
                expect(page.locator("#desk")).to_have_attribute("data-ticket-state", "serving")
                page.evaluate("document.fonts.ready")
                page.screenshot(path=str(OUT / "counter-en.png"))
                browser.close()
        finally:
            server.stop()
    print(f"wrote {OUT / 'counter-ar.png'} and {OUT / 'counter-en.png'}")


if __name__ == "__main__":
    main()
