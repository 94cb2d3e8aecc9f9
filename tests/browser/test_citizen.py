"""The citizen's status page in real Chromium: it follows the ticket without a reload."""

from __future__ import annotations

PHONE = {"width": 390, "height": 844}
BIRTH = "civil-birth-statement"  # prefix BS, served at counters 1 and 2
UPDATE_MS = 30_000  # the page polls every 10 s; allow a slow, shared machine


def call_api(server, method: str, path: str, token: str | None = None, body=None):
    status, answer = server.api(method, path, token, body)
    assert status < 400, answer
    return answer


def issue(server, service: str = BIRTH) -> dict:
    return server.issue(service)


def clerk_token(server, index: int = 0) -> tuple[str, int]:
    """A clerk's bearer token and counter id (clerk 0 sits at counter 1, clerk 1 at 2)."""
    clerk = server.user("clerk", index)
    return server.staff_token(clerk), clerk["counter_id"]


def test_waiting_ticket_shows_people_ahead_then_the_counter_when_called(server, new_page):
    issue(server)
    issue(server)
    mine = issue(server)
    page = new_page(PHONE)
    page.goto(f"{server.base}/t/{mine['public_id']}")
    assert page.get_attribute("html", "dir") == "rtl"
    assert page.inner_text("#label") == mine["label"]
    assert page.inner_text("#ahead") == "2"
    assert page.inner_text("#state") == "في الانتظار"
    assert page.is_hidden("#called")
    page.evaluate("window.sameDocument = true")  # gone if the page were reloaded

    token, counter = clerk_token(server)
    call_api(server, "POST", f"/api/v1/counters/{counter}/open", token)
    body = {"ticket": mine["id"], "reason": "documents ready"}
    call_api(server, "POST", f"/api/v1/counters/{counter}/call", token, body)

    page.wait_for_selector("#called:not([hidden])", timeout=UPDATE_MS)
    assert page.inner_text("#counter") == "1"
    assert page.inner_text("#state") == "حان دورك"
    assert page.is_hidden("#waiting")
    assert page.evaluate("window.sameDocument") is True
    size = page.eval_on_selector("#counter", "n => parseFloat(getComputedStyle(n).fontSize)")
    label = page.eval_on_selector("#label", "n => parseFloat(getComputedStyle(n).fontSize)")
    assert size > 2 * label  # the counter is the biggest thing on the screen
    assert page.title() == f"{mine['label']}: الشباك 1"


def test_page_says_it_is_not_live_while_the_server_is_down_and_recovers(server, new_page):
    mine = issue(server, "civil-marriage-statement")
    page = new_page(PHONE)
    page.goto(f"{server.base}/t/{mine['public_id']}?lang=en")
    assert page.inner_text("#ahead") == "You are next"
    assert page.is_hidden("#called") and page.is_hidden("#live-banner")
    page.evaluate("window.sameDocument = true")
    server.stop()
    try:
        page.wait_for_selector("#live-banner:not([hidden])", timeout=UPDATE_MS)
        assert "Not live" in page.inner_text("#live-banner")
    finally:
        server.start()
    token, counter = clerk_token(server, 1)
    call_api(server, "POST", f"/api/v1/counters/{counter}/open", token)
    body = {"ticket": mine["id"], "reason": "documents ready"}
    call_api(server, "POST", f"/api/v1/counters/{counter}/call", token, body)
    page.wait_for_selector("#called:not([hidden])", timeout=UPDATE_MS)
    page.wait_for_selector("#live-banner", state="hidden", timeout=UPDATE_MS)
    assert page.inner_text("#state") == "Your turn"
    assert page.inner_text("#counter") == "2"
    assert page.evaluate("window.sameDocument") is True


def test_unknown_ticket_shows_the_translated_not_found_page(server, new_page):
    page = new_page(PHONE)
    response = page.goto(f"{server.base}/t/not-a-real-ticket")
    assert response.status == 404
    assert page.inner_text("h2") == "لم يُعثر على بطاقة الدور"
