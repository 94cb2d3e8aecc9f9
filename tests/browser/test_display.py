"""The hall display in real Chromium against a real `taboor run`: live calls, sound, outages."""

from __future__ import annotations

import json
import re
import sqlite3
from urllib.parse import parse_qs, urlsplit

from playwright.sync_api import expect

from tests.browser.conftest import CHROMIUM_ARGS, chromium_path

EXTRACT = "civil-extract-individual"


def call_api(server, method: str, path: str, token: str | None = None, body=None):
    """The JSON API, as the kiosk and the counter desk use it: (status, answer)."""
    return server.api(method, path, token, body)


def clerk(server, index: int = 0) -> tuple[str, int]:
    """A clerk's bearer token (POST /api/v1/auth/token) and the counter they work at."""
    user = server.user("clerk", index)
    token = server.staff_token(user)
    call_api(server, "POST", f"/api/v1/counters/{user['counter_id']}/open", token)
    return token, user["counter_id"]


def issue(server) -> dict:
    return server.issue(EXTRACT)


def finish_current(server, token: str, counter_id: int) -> None:
    """Leave the counter free for its next call."""
    _, counters = call_api(server, "GET", f"/api/v1/centers/{server.center}/counters")
    current = next(c for c in counters if c["id"] == counter_id)["ticket_id"]
    if current is not None:
        call_api(server, "POST", f"/api/v1/tickets/{current}/no-show", token)


def call_next(server, token: str, counter_id: int) -> dict:
    finish_current(server, token, counter_id)
    status, ticket = call_api(server, "POST", f"/api/v1/counters/{counter_id}/next", token)
    assert status == 200, ticket
    return ticket


def open_display(page, server, query: str = ""):
    """The display page with its device token, once it is live and drawn."""
    token = server.device("display")["token"]
    page.goto(f"{server.base}/display/{server.center}{query}#token={token}")
    expect(page.locator("html")).to_have_attribute("data-live", "1")
    expect(page.locator("#waiting-total")).not_to_have_text("")
    page.wait_for_load_state("networkidle")
    page.evaluate("window.sameDocument = true")  # gone if the page reloads
    return page


def announced(request) -> tuple[str, str]:
    query = parse_qs(urlsplit(request.url).query)
    return query["label"][0], query["counter"][0]


def test_a_called_ticket_appears_highlighted_without_reload_and_is_announced(server, new_page):
    page = open_display(new_page(), server)
    issue(server)
    token, counter_id = clerk(server)
    with page.expect_request(lambda r: "/announce.wav" in r.url) as audio_request:
        called = call_next(server, token, counter_id)
    expect(page.locator("#now-label")).to_have_text(called["label"])
    expect(page.locator("#now-counter")).to_have_text(f"الشباك رقم {called['counter']}")
    expect(page.locator("#now")).to_have_class("now flash")
    assert announced(audio_request.value) == (called["label"], str(called["counter"]))
    response = audio_request.value.response()
    assert response is not None and response.status in (200, 206)
    assert response.header_value("content-type") == "audio/wav"
    assert page.evaluate("window.sameDocument") is True


def test_waiting_count_follows_issues_and_calls_live(server, new_page):
    page = open_display(new_page(), server)
    token, counter_id = clerk(server)
    finish_current(server, token, counter_id)
    before = int(page.locator("#waiting-total").inner_text())
    issue(server)
    issue(server)
    expect(page.locator("#waiting-total")).to_have_text(str(before + 2))
    call_next(server, token, counter_id)
    expect(page.locator("#waiting-total")).to_have_text(str(before + 1))
    assert page.evaluate("window.sameDocument") is True


# Every announcement clip the page makes, with when it ends (the page's own Audio, watched).
WATCH_AUDIO = """
const NativeAudio = window.Audio;
window.audioLog = [];
window.Audio = function (url) {
  const audio = new NativeAudio(url);
  if (url && url.includes("/announce.wav")) {
    const label = new URL(url, location.href).searchParams.get("label");
    window.audioLog.push(["start", label]);
    for (const kind of ["ended", "error"]) {
      audio.addEventListener(kind, () => window.audioLog.push([kind, label]));
    }
  }
  return audio;
};
"""


def test_a_recall_is_highlighted_and_announced_again_after_the_calls_before_it(server, new_page):
    page = new_page()
    page.add_init_script(WATCH_AUDIO)
    open_display(page, server)
    first_token, first_counter = clerk(server, 0)
    second_token, second_counter = clerk(server, 1)
    issue(server)
    issue(server)
    first = call_next(server, first_token, first_counter)
    second = call_next(server, second_token, second_counter)
    expect(page.locator("#now-label")).to_have_text(second["label"])
    expect(page.locator("#history .call-label").first).to_have_text(first["label"])
    status, _ = call_api(server, "POST", f"/api/v1/tickets/{first['id']}/recall", first_token)
    assert status == 200
    expect(page.locator("#now-label")).to_have_text(first["label"])
    expect(page.locator("#now")).to_have_class("now flash")
    expect(page.locator("#history .call-label").first).to_have_text(second["label"])
    # One clip at a time, in call order: each starts after the one before has ended.
    page.wait_for_function("() => window.audioLog.length >= 6", timeout=60_000)
    log = [tuple(entry) for entry in page.evaluate("window.audioLog")][:6]
    assert log == [
        ("start", first["label"]), ("ended", first["label"]),
        ("start", second["label"]), ("ended", second["label"]),
        ("start", first["label"]), ("ended", first["label"]),
    ]  # fmt: skip


def test_the_english_display_reads_left_to_right(server, new_page):
    page = open_display(new_page(), server, "?lang=en")
    assert page.get_attribute("html", "lang") == "en"
    assert page.get_attribute("html", "dir") == "ltr"
    expect(page.locator("#now-title")).to_have_text("Now calling")


def test_a_display_without_a_token_says_how_to_set_it_up(server, new_page):
    page = new_page()
    page.goto(f"{server.base}/display/{server.center}")
    expect(page.locator("#setup")).to_be_visible()
    expect(page.locator("#setup")).to_contain_text("#token=")


def set_center_options(server, **options) -> None:
    """Change the center's options in the server's database (what an admin would do)."""
    with sqlite3.connect(server.folder / "taboor.sqlite3", timeout=10) as db:
        (raw,) = db.execute(
            "SELECT options FROM centers WHERE code = ?", (server.center,)
        ).fetchone()
        merged = {**json.loads(raw or "{}"), **options}
        db.execute(
            "UPDATE centers SET options = ? WHERE code = ?", (json.dumps(merged), server.center)
        )
    db.close()


def test_a_public_display_needs_no_token_and_may_show_eastern_digits(server, new_page):
    set_center_options(server, public_display=True, eastern_digits=True)
    try:
        page = new_page()
        page.goto(f"{server.base}/display/{server.center}")  # no token at all
        expect(page.locator("html")).to_have_attribute("data-live", "1")
        expect(page.locator("#setup")).to_be_hidden()
        page.wait_for_load_state("networkidle")
        token, counter_id = clerk(server)
        issue(server)
        called = call_next(server, token, counter_id)
        eastern = called["label"].translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
        expect(page.locator("#now-label")).to_have_text(eastern)
        expect(page.locator("#clock-time")).to_have_text(re.compile("^[٠-٩]{2}:[٠-٩]{2}$"))
    finally:
        set_center_options(server, public_display=False, eastern_digits=False)


def test_sound_blocked_by_the_browser_asks_for_one_tap_then_plays(server, browser):
    # A second Chromium with Chromium's own autoplay rule: no sound before a user gesture.
    args = [a for a in CHROMIUM_ARGS if not a.startswith("--autoplay-policy")]
    args.append("--autoplay-policy=document-user-activation-required")
    strict = browser.browser_type.launch(executable_path=chromium_path(), headless=True, args=args)
    try:
        page = strict.new_page(viewport={"width": 1280, "height": 720})
        page.set_default_timeout(10_000)
        page.goto(f"{server.base}/display/{server.center}#token="
                  + server.device("display")["token"])  # fmt: skip
        expect(page.locator("#sound-overlay")).to_be_visible()
        expect(page.locator("html")).to_have_attribute("data-sound", "blocked")
        page.mouse.click(640, 360)
        expect(page.locator("#sound-overlay")).to_be_hidden()
        expect(page.locator("html")).to_have_attribute("data-sound", "on")
        expect(page.locator("html")).to_have_attribute("data-live", "1")
        token, counter_id = clerk(server)
        issue(server)
        with page.expect_request(lambda r: "/announce.wav" in r.url):
            call_next(server, token, counter_id)
    finally:
        strict.close()


def test_the_display_reloads_itself_once_its_day_is_over_and_quiet(server, new_page):
    page = open_display(new_page(), server, "?reload_after_s=2&quiet_s=1")
    page.wait_for_function("() => window.sameDocument === undefined", timeout=20_000)
    # Back on the same page, with the token it kept, and live again.
    expect(page.locator("html")).to_have_attribute("data-live", "1")
    assert page.url.endswith("?reload_after_s=2&quiet_s=1")


def test_a_display_that_loses_the_server_says_not_live_and_recovers(server, new_page):
    page = open_display(new_page(), server)
    banner = page.locator("#live-banner")
    expect(banner).to_be_hidden()
    server.stop()
    try:
        expect(banner).to_be_visible(timeout=20_000)
        expect(banner).to_have_text("غير متصل: تجري إعادة الاتصال بالخادم…")
    finally:
        server.start()
    expect(banner).to_be_hidden(timeout=30_000)
    expect(page.locator("html")).to_have_attribute("data-live", "1")
    token, counter_id = clerk(server)
    issue(server)
    with page.expect_request(lambda r: "/announce.wav" in r.url) as audio_request:
        called = call_next(server, token, counter_id)
    # Tickets left waiting by earlier tests may come first: the one called is what counts.
    expect(page.locator("#now-label")).to_have_text(called["label"])
    assert announced(audio_request.value)[0] == called["label"]
    assert page.evaluate("window.sameDocument") is True
