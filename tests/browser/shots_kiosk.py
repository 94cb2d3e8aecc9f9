"""Screenshots of the kiosk in Arabic and English: the services and the issued ticket.

Run: `.venv/bin/python -m tests.browser.shots_kiosk` (writes docs/screenshots/kiosk-*.png).

A portrait 1080x1920 screen: floor-standing ticket kiosks in service halls are portrait
touch screens, and the page lays itself out for that (one column under the number).
The landscape 1280x800 layout is what the browser tests run in.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from tests.browser.conftest import CHROMIUM_ARGS, Server, chromium_path
from tests.browser.test_kiosk import api_call, open_kiosk, staff_token

OUT = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
VIEWPORT = {"width": 1080, "height": 1920}
ESERVICE = "https://eservices.example.org/"
# A busy morning: tickets already waiting per service, four counters open.
QUEUE = {
    "civil-extract-individual": 7,
    "civil-family-statement": 4,
    "civil-birth-statement": 2,
    "civil-register-birth": 3,
    "civil-id-replacement": 1,
    "real-estate-register-statement": 2,
}


def prepare(server: Server) -> None:
    """Open counters 1-4 and put people in line."""
    kiosk = server.device("kiosk")["token"]
    for index in range(4):
        clerk = server.user("clerk", index)
        api_call(server, "POST", f"/api/v1/counters/{clerk['counter_id']}/open",
                 staff_token(server, clerk))  # fmt: skip
    services = {
        s["code"] for s in api_call(server, "GET", f"/api/v1/centers/{server.center}/services")
    }
    for service, count in QUEUE.items():
        if service not in services:
            continue
        for _ in range(count):
            api_call(server, "POST", f"/api/v1/centers/{server.center}/tickets", kiosk,
                     {"service": service})  # fmt: skip


def shoot(page, server: Server, lang: str) -> None:
    open_kiosk(page, server, lang=lang)
    page.click("[data-category=civil]")
    page.wait_for_selector("#screen-services:not([hidden])")
    page.wait_for_timeout(400)  # the tiles' press animation and fonts settle
    page.screenshot(path=OUT / f"kiosk-{lang}.png")
    page.click("[data-service=civil-extract-individual]")
    page.click("#anyway")
    page.click("#issue")
    page.wait_for_selector("#screen-ticket:not([hidden])")
    page.wait_for_function("document.getElementById('ticket-qr').complete")
    page.wait_for_timeout(400)
    page.screenshot(path=OUT / f"kiosk-ticket-{lang}.png")


def main() -> int:
    from playwright.sync_api import sync_playwright

    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        server = Server(Path(folder), {"TABOOR_ESERVICE_URL": ESERVICE})
        server.start()
        try:
            prepare(server)
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS
                )
                for lang in ("ar", "en"):
                    context = browser.new_context(viewport=VIEWPORT)
                    shoot(context.new_page(), server, lang)
                    context.close()
                browser.close()
        finally:
            server.stop()
    for name in ("kiosk-ar", "kiosk-en", "kiosk-ticket-ar", "kiosk-ticket-en"):
        print(OUT / f"{name}.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
