"""The counter desk in real Chromium against a real `taboor run`.

The server lives for the whole module, so each test works at its own counters and
services (the demo center's counters 7-10 each serve services no other counter does;
5 and 6 share theirs with nobody else that a test opens).
"""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import login

NOT_LOADED = "–"


def issue(server, service: str) -> dict:
    """Issue a ticket the way a kiosk does (its device token, the JSON API)."""
    return server.issue(service)


def clerk(server, number: int) -> dict:
    return next(u for u in server.demo["users"] if u["username"] == f"clerk{number:02d}")


def open_desk(server, new_page, number: int, lang: str | None = None):
    """A clerk of counter `number` signed in, the desk live and its counter open."""
    page = new_page()
    if lang:
        page.goto(f"{server.base}/login?lang={lang}")
    user = clerk(server, number)
    login(page, server.base, user["username"], user["password"], "/counter/")
    page.wait_for_url("**/counter/")
    expect(page.locator("html")).to_have_attribute("data-live", "1")
    expect(page.locator("#waiting-total")).not_to_have_text(NOT_LOADED)
    button = page.locator("[data-action=open]")
    if button.is_enabled():
        button.click()
    expect(page.locator("#counter-state")).to_have_attribute("data-state", "open")
    return page


def waiting(page, service: str):
    return page.locator(f"#waiting tr[data-service='{service}'] .count")


def test_a_clerk_signs_in_in_arabic_and_sees_their_closed_counter(server, new_page):
    page = new_page()
    user = clerk(server, 7)
    page.goto(f"{server.base}/counter/")
    page.wait_for_url("**/login?next=/counter/")
    login(page, server.base, user["username"], user["password"], "/counter/")
    page.wait_for_url("**/counter/")
    assert page.get_attribute("html", "lang") == "ar"
    assert page.get_attribute("html", "dir") == "rtl"
    expect(page.locator("#counter-title")).to_have_text("الشباك رقم 7")
    expect(page.locator("#counter-state")).to_have_text("مغلق")
    # Closed: only opening is possible.
    expect(page.locator("[data-action=open]")).to_be_enabled()
    for action in ("next", "call", "recall", "start", "done", "no-show", "transfer", "close"):
        expect(page.locator(f"[data-action={action}]")).to_be_disabled()


def test_a_new_ticket_shows_in_the_waiting_count_live_and_call_next_serves_it(server, new_page):
    service = "real-estate-cadastral-map"
    page = open_desk(server, new_page, 7)
    expect(waiting(page, service)).to_have_text("0")
    page.evaluate("window.sameDocument = true")
    ticket = issue(server, service)
    expect(waiting(page, service)).to_have_text("1")
    page.click("[data-action=next]")
    expect(page.locator("#current-label")).to_have_text(ticket["label"])
    expect(page.locator("#current-service")).to_have_text("مخطط مساحي")
    expect(page.locator("#current-state")).to_have_text("تمّ النداء")
    expect(waiting(page, service)).to_have_text("0")
    expect(page.locator("[data-action=next]")).to_be_disabled()
    expect(page.locator("[data-action=done]")).to_be_disabled()  # not before it starts
    page.click("[data-action=start]")
    expect(page.locator("#current-state")).to_have_text("قيد الخدمة")
    page.click("[data-action=done]")
    expect(page.locator("#current-label")).to_have_text("—")
    expect(page.locator("[data-action=next]")).to_be_enabled()
    assert page.evaluate("window.sameDocument") is True  # never reloaded
    # Nobody left: the clerk is told so in Arabic.
    page.click("[data-action=next]")
    expect(page.locator("#message")).to_have_text("لا يوجد أحد في الانتظار.")


def test_keyboard_shortcuts_call_start_and_finish_but_not_while_typing(server, new_page):
    service = "education-basic-certificate"
    page = open_desk(server, new_page, 8)
    ticket = issue(server, service)
    expect(waiting(page, service)).to_have_text("1")
    # Typing an "n" into the reason of the call dialog calls nobody.
    page.click("[data-action=call]")
    page.fill("#call-reason", "")
    page.locator("#call-reason").press("n")
    page.keyboard.press("Escape")
    expect(page.locator("#call-dialog")).not_to_be_visible()
    expect(page.locator("#current-label")).to_have_text("—")
    expect(page.locator("[data-action=next]")).to_be_enabled()
    page.keyboard.press("n")
    expect(page.locator("#current-label")).to_have_text(ticket["label"])
    expect(page.locator("#desk")).to_have_attribute("data-ticket-state", "called")
    # A key does what its button does, once the button is enabled again.
    expect(page.locator("[data-action=start]")).to_be_enabled()
    page.keyboard.press("s")
    expect(page.locator("#desk")).to_have_attribute("data-ticket-state", "serving")
    expect(page.locator("[data-action=done]")).to_be_enabled()
    page.keyboard.press("d")
    expect(page.locator("#desk")).to_have_attribute("data-ticket-state", "none")
    expect(page.locator("#current-label")).to_have_text("—")


def test_two_clerks_calling_at_the_same_moment_get_different_tickets(server, new_page):
    service = "employees-not-employee"
    first, second = open_desk(server, new_page, 5), open_desk(server, new_page, 6)
    issued = {issue(server, service)["label"] for _ in range(2)}
    for page in (first, second):
        expect(waiting(page, service)).to_have_text("2")
        expect(page.locator("[data-action=next]")).to_be_enabled()
    first.keyboard.press("n")
    second.keyboard.press("n")
    for page in (first, second):
        expect(page.locator("#current-label")).not_to_have_text("—")
    labels = {first.inner_text("#current-label"), second.inner_text("#current-label")}
    assert labels == issued
    for page in (first, second):
        expect(waiting(page, service)).to_have_text("0")


def test_calling_a_specific_ticket_needs_a_reason_and_transfer_keeps_it_waiting(server, new_page):
    service, other = "finance-tax-clearance", "local-admin-licence"
    page = open_desk(server, new_page, 9)
    earlier, later = issue(server, service), issue(server, service)
    expect(waiting(page, service)).to_have_text("2")
    page.click("[data-action=call]")
    options = page.locator("#call-list .pick-label")
    expect(options).to_have_text([earlier["label"], later["label"]])
    page.locator("#call-list .pick").nth(1).click()
    page.click("#call-form button[type=submit]")
    expect(page.locator("#call-dialog [data-error]")).to_have_text(
        "اكتب سبب نداء هذه البطاقة خارج دورها."
    )
    page.fill("#call-reason", "مراجع مسن")
    page.click("#call-form button[type=submit]")
    expect(page.locator("#current-label")).to_have_text(later["label"])
    expect(waiting(page, service)).to_have_text("1")
    expect(page.locator("[data-action=transfer]")).to_be_enabled()
    page.keyboard.press("t")
    page.select_option("#transfer-service", other)
    page.click("#transfer-form button[type=submit]")
    expect(page.locator("#current-label")).to_have_text("—")
    expect(waiting(page, other)).to_have_text("1")
    expect(waiting(page, service)).to_have_text("1")
    expect(page.locator("#waiting-total")).to_have_text("2")


def test_the_english_toggle_switches_the_desk_and_its_messages(server, new_page):
    page = open_desk(server, new_page, 10)
    page.click("a.lang-toggle")
    page.wait_for_url("**/counter/?lang=en")
    assert page.get_attribute("html", "lang") == "en"
    assert page.get_attribute("html", "dir") == "ltr"
    expect(page.locator("#counter-title")).to_have_text("Counter 10")
    expect(page.locator("[data-action=next]")).to_contain_text("Call next")
    expect(page.locator("#counter-state")).to_have_text("Open")
    expect(page.locator("[data-action=next]")).to_be_enabled()
    page.keyboard.press("n")
    expect(page.locator("#message")).to_have_text("Nobody is waiting.")
    page.click("form.sign-out button")
    page.wait_for_url("**/login")
    page.goto(f"{server.base}/counter/")
    page.wait_for_url("**/login?next=/counter/")
