"""The whole floor at once, in Arabic: kiosk, counter desk and hall display, all live.

A citizen takes a ticket at the kiosk page, a clerk signs in and calls it from the
desk page, the hall display shows it, and the kiosk's waiting count follows; no page
is reloaded. Also the client side of the `seq` rule: a gap makes a page refetch.
"""

from __future__ import annotations

import re
import subprocess

from playwright.sync_api import expect

from tests.browser.conftest import TABOOR, login
from tests.browser.test_counter import open_desk
from tests.browser.test_display import open_display
from tests.browser.test_kiosk import api_call, open_kiosk, to_confirm

SERVICE = "civil-family-statement"  # served by counter 1 (clerk01), not online-only


def never_reloaded(page) -> None:
    page.evaluate("() => { window.__sameDocument = true; }")


def still_same_document(page) -> bool:
    return page.evaluate("() => window.__sameDocument === true")


def test_kiosk_ticket_is_called_at_the_desk_and_shown_on_the_display_live(server, new_page):
    display = new_page({"width": 1920, "height": 1080})
    open_display(display, server)
    desk = open_desk(server, new_page, 1)
    kiosk = new_page()
    open_kiosk(kiosk, server)
    for page in (display, desk, kiosk):
        assert page.get_attribute("html", "lang") == "ar"
        assert page.get_attribute("html", "dir") == "rtl"
        never_reloaded(page)

    tile = f"[data-service={SERVICE}]"
    before = int(kiosk.get_attribute(tile, "data-waiting"))
    to_confirm(kiosk, "civil", SERVICE)
    kiosk.click("#issue")
    expect(kiosk.locator("#ticket-label")).to_have_text(re.compile(r"^F-\d{3}$"))
    label = kiosk.locator("#ticket-label").inner_text()
    # The kiosk's own count went up with the ticket (pushed, not reloaded) ...
    kiosk.wait_for_selector(f"{tile}[data-waiting='{before + 1}']", state="attached")

    # The desk hears of it, calls it; the display shows it; the kiosk's count goes back.
    expect(desk.locator(f"#waiting tr[data-service='{SERVICE}'] .count")).to_have_text(
        str(before + 1)
    )
    desk.click("[data-action=next]")
    expect(desk.locator("#current-label")).to_have_text(label)
    expect(display.locator("#now-label")).to_have_text(label)
    expect(display.locator("#now-counter")).to_have_text("الشباك رقم 1")
    kiosk.click("#done")
    # ... and back down once the clerk called it.
    kiosk.wait_for_selector(f"{tile}[data-waiting='{before}']", state="attached")
    for page in (display, desk, kiosk):
        assert still_same_document(page)


def test_a_gap_in_seq_makes_the_page_refetch_the_snapshot(server, new_page):
    page = new_page({"width": 1920, "height": 1080})
    open_display(page, server)
    snapshots = []
    page.on("request", lambda r: snapshots.append(r.url) if "/snapshot" in r.url else None)
    before = int(page.locator("#waiting-total").inner_text())
    # An event that is logged but not pushed (a device registered from the command
    # line, another process) takes a seq number: the next pushed event shows a gap.
    subprocess.run(
        [TABOOR, "device", "add", "--kind", "display", "--center", server.center,
         "--name", "hall-gap"],
        env=server.env, check=True, capture_output=True,
    )  # fmt: skip
    api_call(server, "POST", f"/api/v1/centers/{server.center}/tickets",
             server.device("kiosk")["token"], {"service": SERVICE})  # fmt: skip
    expect(page.locator("#waiting-total")).to_have_text(str(before + 1))
    assert snapshots, "the gap should have made the page refetch the snapshot"


def test_signing_out_of_the_desk_ends_the_session(server, new_page):
    page = new_page()
    user = next(u for u in server.demo["users"] if u["username"] == "clerk02")
    login(page, server.base, user["username"], user["password"], "/counter/")
    page.wait_for_url("**/counter/")
    page.click("form[action='/logout'] button")
    page.wait_for_url("**/login")
    page.goto(server.base + "/counter/")
    page.wait_for_url("**/login?next=/counter/")
