"""The kiosk in real Chromium: a citizen takes a ticket, in Arabic or English, live counts."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from urllib.parse import unquote

import pytest

from tests.browser.conftest import Server

ESERVICE = "https://eservices.example.org/"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A Taboor server whose settings point online services to an e-service portal."""
    srv = Server(tmp_path_factory.mktemp("kiosk-server"), {"TABOOR_ESERVICE_URL": ESERVICE})
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()


# --- helpers shared with shots_kiosk.py ------------------------------------------------


def api_call(server: Server, method: str, path: str, token: str = "", body: dict | None = None):
    """Call the JSON API like another client would; the decoded answer (None for 204)."""
    status, answer = server.api(method, path, token, body)
    assert status < 400, f"{method} {path}: {status} {answer!r}"
    return answer


def staff_token(server: Server, user: dict) -> str:
    return server.staff_token(user)


def open_kiosk(page, server: Server, lang: str = "ar", token: str | None = None) -> None:
    """Open the kiosk page with its device token, and wait until it is live."""
    token = server.device("kiosk")["token"] if token is None else token
    query = "" if lang == "ar" else f"?lang={lang}"
    page.goto(f"{server.base}/kiosk/{server.center}{query}#token={token}")
    page.wait_for_selector("#screen-categories:not([hidden])")
    page.wait_for_selector("html[data-live='1']")


def waiting(server: Server, service: str) -> int:
    snapshot = api_call(server, "GET", f"/api/v1/centers/{server.center}/snapshot")
    return snapshot["waiting"].get(service, 0)


def to_confirm(page, category: str, service: str, online: bool = False) -> None:
    page.click(f"[data-category={category}]")
    page.click(f"[data-service={service}]")
    if online:
        page.click("#anyway")
    page.wait_for_selector("#screen-confirm:not([hidden]):not(.settling)")


def shown_ticket(page, server: Server) -> dict:
    """The ticket the kiosk shows, read back through the public API by its QR code."""
    page.wait_for_selector("#screen-ticket:not([hidden])")
    url = page.get_attribute("#ticket-qr", "data-url")
    assert url.startswith(f"{server.base}/t/")
    src = page.get_attribute("#ticket-qr", "src")
    assert src.startswith("/qr.svg?data=") and unquote(src.split("=", 1)[1]) == url
    public_id = url.rsplit("/", 1)[1]
    return api_call(server, "GET", f"/api/v1/tickets/{public_id}")


# --- tests ---------------------------------------------------------------------------


def test_citizen_takes_a_ticket_in_arabic_with_its_label_and_qr(server, new_page):
    page = new_page()
    open_kiosk(page, server)
    assert page.get_attribute("html", "lang") == "ar"
    assert page.get_attribute("html", "dir") == "rtl"
    page.click("[data-category=civil]")
    assert page.locator("#screen-services h1").inner_text() == "الأحوال المدنية"
    page.click("[data-service=civil-extract-individual]")
    # An online service: the kiosk says so, with the e-service's QR, before issuing.
    page.wait_for_selector("#screen-online:not([hidden])")
    assert "إلكترونياً" in page.locator("#screen-online h2").inner_text()
    qr = page.get_attribute("#screen-online img.qr", "src")
    assert unquote(qr.split("=", 1)[1]) == ESERVICE
    page.click("#anyway")
    assert page.locator("#documents li").all_inner_texts() == ["البطاقة الشخصية"]
    page.click("#issue")
    ticket = shown_ticket(page, server)
    label = page.locator("#ticket-label").inner_text()
    assert re.fullmatch(r"A-\d{3}", label) and label == ticket["label"]
    assert page.locator("#ticket-service").inner_text() == "إخراج قيد فردي"
    assert ticket["state"] == "waiting" and ticket["priority"] == "normal"


def test_the_ticket_qr_code_is_drawn_on_screen(server, new_page):
    page = new_page()
    open_kiosk(page, server)
    to_confirm(page, "general", "general-inquiry")
    page.click("#issue")
    shown_ticket(page, server)
    page.wait_for_function("() => { const img = document.getElementById('ticket-qr'); "
                           "return img.complete && img.naturalWidth > 0; }")  # fmt: skip


def test_english_toggle_switches_the_kiosk_and_tickets_are_issued_in_english(server, new_page):
    page = new_page()
    open_kiosk(page, server)
    page.click("a.lang-toggle")
    page.wait_for_selector("html[lang=en][dir=ltr]")
    page.wait_for_selector("#screen-categories:not([hidden])")
    assert page.locator(".kiosk-title").inner_text() == "Take a ticket"
    to_confirm(page, "civil", "civil-register-birth")
    assert (
        "Birth certificate from the hospital or midwife" in page.locator("#documents").inner_text()
    )
    with page.expect_request("**/tickets") as sent:
        page.click("#issue")
    assert sent.value.post_data_json == {"service": "civil-register-birth", "lang": "en"}
    shown_ticket(page, server)
    assert page.locator("#ticket-service").inner_text() == "Register a birth"


def test_switching_language_keeps_the_citizens_place(server, new_page):
    page = new_page()
    open_kiosk(page, server)
    page.click("[data-category=real-estate]")
    page.click("a.lang-toggle")
    page.wait_for_selector("html[lang=en]")
    page.wait_for_selector("#screen-services:not([hidden])")
    assert page.locator("#screen-services h1").inner_text() == "Real estate"


@pytest.mark.parametrize("taps", ["dblclick", "burst"])
def test_a_double_tap_issues_exactly_one_ticket(server, new_page, taps):
    page = new_page()
    open_kiosk(page, server)
    service = "civil-death-statement"
    before = waiting(server, service)
    posts = []
    page.on("request", lambda r: posts.append(r) if r.method == "POST" else None)
    to_confirm(page, "civil", service, online=True)
    if taps == "dblclick":
        page.dblclick("#issue")
    else:
        page.evaluate("() => { const b = document.getElementById('issue'); "
                      "for (let i = 0; i < 5; i++) b.click(); }")  # fmt: skip
    shown_ticket(page, server)
    assert len(posts) == 1
    assert waiting(server, service) == before + 1


def test_waiting_count_changes_live_when_another_kiosk_issues(server, new_page):
    page = new_page()
    open_kiosk(page, server)
    service = "finance-tax-clearance"
    tile = f"[data-service={service}]"
    before = int(page.get_attribute(tile, "data-waiting"))
    category_before = int(page.get_attribute("[data-category=finance]", "data-waiting"))
    api_call(server, "POST", f"/api/v1/centers/{server.center}/tickets",
             server.device("kiosk")["token"], {"service": service})  # fmt: skip
    page.wait_for_selector(f"{tile}[data-waiting='{before + 1}']", state="attached")
    page.wait_for_selector(f"[data-category=finance][data-waiting='{category_before + 1}']")
    assert f"المنتظرون: {category_before + 1}" in page.locator(
        "[data-category=finance]").inner_text()  # fmt: skip
    page.click("[data-category=finance]")
    assert f"المنتظرون: {before + 1}" in page.locator(tile).inner_text()


def test_a_kiosk_without_its_token_says_it_is_not_registered(server, new_page):
    page = new_page()
    page.goto(f"{server.base}/kiosk/{server.center}")
    page.wait_for_selector("#screen-unregistered:not([hidden])")
    assert page.locator("#screen-unregistered h1").inner_text() == "هذا الجهاز غير مسجَّل"
    assert page.locator("#screen-categories").is_hidden()


def test_a_kiosk_with_a_wrong_token_says_it_is_not_registered_when_issuing(server, new_page):
    page = new_page()
    page.goto(f"{server.base}/kiosk/{server.center}#token=dev_not-a-real-token")
    page.wait_for_selector("#screen-categories:not([hidden])")
    to_confirm(page, "justice", "justice-no-conviction", online=True)
    page.click("#issue")
    page.wait_for_selector("#screen-unregistered:not([hidden])")


@pytest.mark.parametrize(
    ("failure", "message"),
    [
        ("network", "تعذّر إصدار بطاقة الدور: لا يمكن الاتصال بالخادم."),
        ("service_not_found", "هذه الخدمة غير متاحة حالياً."),
        ("priority_not_offered", "هذه الأولوية غير متاحة هنا."),
        ("database_unavailable", "تعذّر إصدار بطاقة الدور. يُرجى المحاولة مرة أخرى"),
    ],
)
def test_a_failed_issue_shows_a_translated_message_and_allows_a_retry(
    server, new_page, failure, message
):
    page = new_page()
    open_kiosk(page, server)
    status = {"service_not_found": 404, "priority_not_offered": 400}.get(failure, 503)

    def fail(route):
        if failure == "network":
            route.abort("internetdisconnected")
        else:
            body = json.dumps({"error": {"code": failure, "message": failure}})
            route.fulfill(status=status, content_type="application/json", body=body)

    page.route("**/api/v1/centers/*/tickets", fail)
    to_confirm(page, "general", "general-inquiry")
    page.click("#issue")
    page.wait_for_selector("#issue-error:not([hidden])")
    assert message in page.locator("#issue-error").inner_text()
    assert page.locator("#screen-confirm").is_visible()
    page.unroute("**/api/v1/centers/*/tickets")
    page.click("#issue")
    shown_ticket(page, server)
    assert page.locator("#issue-error").is_hidden()


def test_priority_is_an_optional_choice_sent_with_the_ticket(server, new_page):
    page = new_page()
    open_kiosk(page, server)
    to_confirm(page, "general", "general-inquiry")
    choices = page.locator("[data-priority]")
    assert [c.get_attribute("data-priority") for c in choices.all()] == [
        "normal", "elderly", "disabled"]  # fmt: skip
    assert page.get_attribute("[data-priority=normal]", "aria-pressed") == "true"
    page.click("[data-priority=disabled]")
    page.click("#issue")
    ticket = shown_ticket(page, server)
    assert ticket["priority"] == "disabled"
    assert "من ذوي الإعاقة" in page.locator("#ticket-priority").inner_text()


def _small_targets(page) -> list:
    return page.evaluate(
        "() => [...document.querySelectorAll('button, a.lang-toggle')]"
        ".filter(e => e.offsetParent !== null)"
        ".map(e => [e.textContent.trim(), e.getBoundingClientRect().height])"
        ".filter(([, height]) => height < 64)"
    )


def test_every_touch_target_is_at_least_64_px_high(server, new_page):
    page = new_page()
    open_kiosk(page, server)
    small = _small_targets(page)
    page.click("[data-category=civil]")
    small += _small_targets(page)
    page.click("[data-service=civil-family-statement]")
    page.wait_for_selector("#screen-online:not([hidden])")
    small += _small_targets(page)
    page.click("#anyway")
    page.wait_for_selector("#screen-confirm:not([hidden]):not(.settling)")
    small += _small_targets(page)
    page.click("#issue")
    shown_ticket(page, server)
    small += _small_targets(page)
    assert small == []


def test_the_ticket_screen_starts_over_by_itself_in_arabic(server, new_page):
    page = new_page()
    page.clock.install()
    open_kiosk(page, server, lang="en")
    to_confirm(page, "general", "general-inquiry")
    page.click("#issue")
    shown_ticket(page, server)
    page.clock.fast_forward(30_000)
    page.wait_for_selector("html[lang=ar][dir=rtl]")
    page.wait_for_selector("#screen-categories:not([hidden])")


def test_the_tap_that_issued_never_dismisses_the_ticket_but_the_next_touch_does(server, new_page):
    page = new_page()
    page.clock.install()
    open_kiosk(page, server)
    to_confirm(page, "general", "general-inquiry")
    # Time stands still from the tap on: a second tap lands "at once" after the first.
    now_ms = page.evaluate("Date.now()")
    page.clock.pause_at(datetime.fromtimestamp((now_ms + 100) / 1000, tz=UTC))
    page.click("#issue")
    shown_ticket(page, server)
    page.mouse.click(20, 400)
    assert page.locator("#screen-ticket").is_visible()
    page.clock.run_for(2_000)
    page.mouse.click(20, 400)
    page.wait_for_selector("#screen-categories:not([hidden])")


def test_waiting_count_drops_live_when_a_clerk_calls(server, new_page):
    kiosk = server.device("kiosk")["token"]
    api_call(server, "POST", f"/api/v1/centers/{server.center}/tickets", kiosk,
             {"service": "civil-birth-statement"})  # fmt: skip
    page = new_page()
    open_kiosk(page, server)
    before = int(page.get_attribute("[data-category=civil]", "data-waiting"))
    assert before > 0
    clerk = server.user("clerk")  # counter 1 serves civil-registry services only
    token = staff_token(server, clerk)
    api_call(server, "POST", f"/api/v1/counters/{clerk['counter_id']}/open", token)
    assert api_call(server, "POST", f"/api/v1/counters/{clerk['counter_id']}/next", token)
    page.wait_for_selector(f"[data-category=civil][data-waiting='{before - 1}']")
