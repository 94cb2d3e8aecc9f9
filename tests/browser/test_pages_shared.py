"""The pages every floor screen shares: language, direction, login, offline assets."""

from __future__ import annotations

from tests.browser.conftest import login


def test_pages_are_arabic_and_rtl_by_default(server, new_page):
    page = new_page()
    page.goto(server.base + "/")
    assert page.get_attribute("html", "lang") == "ar"
    assert page.get_attribute("html", "dir") == "rtl"
    assert page.title() == "طابور"


def test_english_toggle_switches_language_and_direction_and_is_remembered(server, new_page):
    page = new_page()
    page.goto(server.base + "/")
    page.click("a.lang-toggle")
    page.wait_for_url("**/?lang=en")
    assert page.get_attribute("html", "lang") == "en"
    assert page.get_attribute("html", "dir") == "ltr"
    page.goto(server.base + "/login")
    assert page.get_attribute("html", "lang") == "en"


def test_wrong_password_is_refused_and_right_one_signs_in(server, new_page):
    page = new_page()
    clerk = server.user("clerk")
    login(page, server.base, clerk["username"], "not-the-password")
    assert page.locator(".error").inner_text() == "اسم المستخدم أو كلمة المرور غير صحيحة."
    login(page, server.base, clerk["username"], clerk["password"])
    page.wait_for_url(server.base + "/")
    assert page.locator("form[action='/logout'] button").is_visible()


def test_every_request_stays_on_the_taboor_server(server, new_page):
    page = new_page()
    outside = []
    page.on("request", lambda r: None if r.url.startswith(server.base) else outside.append(r.url))
    for path in ("/", "/login"):
        page.goto(server.base + path, wait_until="networkidle")
    assert outside == []
