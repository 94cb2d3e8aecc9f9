"""The manager dashboard in real Chromium against a real `taboor run`.

The server's clock cannot be moved, so the SLA alert rule is proven as a pure function
(tests/unit/test_manage_floor.py) and with a fixed clock (tests/integration/test_manage.py);
here the live part is proven: counts that change when tickets are issued and called.
"""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import expect

from tests.browser.conftest import login

PAGE = "/manage/DAM-MIDAN"


def api(server, path: str, token: str, body: dict | None = None) -> dict | None:
    status, answer = server.api("POST", path, token, body or {})
    assert status < 400, answer
    return answer


def issue(server, service: str) -> dict:
    """Issue a ticket the way a kiosk does (its device token, the JSON API)."""
    return server.issue(service)


def dashboard(server, new_page, lang: str = "ar"):
    page = new_page()
    manager = server.user("manager")
    login(page, server.base, manager["username"], manager["password"], f"{PAGE}?lang={lang}")
    page.wait_for_url(f"**{PAGE}?lang={lang}")
    expect(page.locator("html")).to_have_attribute("data-live", "1")
    return page


def test_a_signed_out_manager_is_sent_to_login_and_back_to_the_dashboard(server, new_page):
    page = new_page()
    page.goto(server.base + PAGE)
    expect(page.locator("input[name=username]")).to_be_visible()
    manager = server.user("manager")
    page.fill("input[name=username]", manager["username"])
    page.fill("input[name=password]", manager["password"])
    page.click("button[type=submit]")
    page.wait_for_url(f"**{PAGE}")
    assert page.get_attribute("html", "dir") == "rtl"
    expect(page.locator("#now-title")).to_have_text("القاعة الآن")


def test_the_waiting_count_changes_live_when_a_ticket_is_issued(server, new_page):
    page = dashboard(server, new_page, "en")
    total = page.locator("[data-figure=waiting]")
    before = int(total.inner_text())
    row = page.locator("tr[data-service='general-inquiry'] [data-waiting]")
    expect(row).to_have_count(0)
    issue(server, "general-inquiry")
    expect(total).to_have_text(str(before + 1))
    expect(row).to_have_text("1")
    issue(server, "general-inquiry")
    expect(row).to_have_text("2")
    expect(total).to_have_text(str(before + 2))


def test_a_call_shows_at_the_counter_and_leaves_the_line(server, new_page):
    page = dashboard(server, new_page, "en")
    ticket = issue(server, "real-estate-cadastral-map")  # served at counter 7 only
    line = page.locator("tr[data-service='real-estate-cadastral-map'] [data-waiting]")
    expect(line).to_have_text("1")
    clerk = next(u for u in server.demo["users"] if u["username"] == "clerk07")
    credentials = {"username": clerk["username"], "password": clerk["password"]}
    token = api(server, "/api/v1/auth/token", "", credentials)["token"]
    api(server, f"/api/v1/counters/{clerk['counter_id']}/open", token)
    api(server, f"/api/v1/counters/{clerk['counter_id']}/next", token)
    desk = page.locator("tr[data-counter='7']")
    expect(desk.locator(".label")).to_have_text(ticket["label"])
    expect(desk.locator(".state")).to_have_text("Open")
    expect(line).to_have_count(0)


def test_the_history_form_shows_the_range_and_offers_the_downloads(server, new_page):
    page = dashboard(server, new_page, "en")
    expect(page.locator(".range-shown")).to_contain_text("From")
    csv_link = page.locator("a", has_text="Download CSV")
    with page.expect_download() as download:
        csv_link.click()
    assert Path(download.value.path()).read_bytes()[:3] == b"\xef\xbb\xbf"
    page.fill("input[name=from]", "2026-03-02")
    page.fill("input[name=to]", "2026-03-01")
    page.click("form.range button[type=submit]")
    expect(page.locator(".history .error")).to_have_text("The range ends before it starts.")
