"""Shared page plumbing: language choice, session login with CSRF, catalogs, errors."""

from __future__ import annotations

import re
from importlib.util import find_spec

import pytest

from taboor.server import i18n, web


def _csrf(client, path: str = "/login") -> str:
    html = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def test_arabic_is_the_default_language(client):
    html = client.get("/").get_data(as_text=True)
    assert '<html lang="ar" dir="rtl"' in html


def test_lang_parameter_switches_to_english_and_sets_a_cookie(client):
    response = client.get("/?lang=en")
    assert '<html lang="en" dir="ltr"' in response.get_data(as_text=True)
    assert "taboor_lang=en" in response.headers["Set-Cookie"]
    assert '<html lang="en"' in client.get("/login").get_data(as_text=True)


def test_an_unknown_language_falls_back_to_arabic(client):
    assert '<html lang="ar"' in client.get("/?lang=xx").get_data(as_text=True)


def test_login_form_without_the_csrf_token_is_refused(client, demo):
    clerk = demo.clerks[0]
    response = client.post(
        "/login", data={"username": clerk["username"], "password": clerk["password"]}
    )
    assert response.status_code == 400
    with client.session_transaction() as session:
        assert "token" not in session


def test_login_with_csrf_token_starts_a_session(client, demo):
    clerk = demo.clerks[0]
    token = _csrf(client)
    response = client.post(
        "/login",
        data={"username": clerk["username"], "password": clerk["password"], "csrf_token": token},
    )
    assert response.status_code == 302
    with client.session_transaction() as session:
        assert session["token"]


def test_wrong_password_answers_401_with_the_form_again(client, demo):
    token = _csrf(client)
    response = client.post(
        "/login",
        data={"username": demo.clerks[0]["username"], "password": "nope", "csrf_token": token},
    )
    assert response.status_code == 401
    assert "اسم المستخدم أو كلمة المرور غير صحيحة." in response.get_data(as_text=True)


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "javascript:x"])
def test_login_never_redirects_to_another_site(client, demo, target):
    clerk = demo.clerks[0]
    token = _csrf(client)
    response = client.post(
        f"/login?next={target}",
        data={"username": clerk["username"], "password": clerk["password"], "csrf_token": token},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_logout_needs_the_csrf_token(client, demo):
    clerk = demo.clerks[0]
    token = _csrf(client)
    client.post(
        "/login",
        data={"username": clerk["username"], "password": clerk["password"], "csrf_token": token},
    )
    assert client.post("/logout").status_code == 400
    token = _csrf(client, "/")  # signing in starts a new session with a new token
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    with client.session_transaction() as session:
        assert "token" not in session


def test_signing_out_revokes_the_token_the_desk_page_used(client, demo):
    clerk = demo.clerks[0]
    counter = clerk["counter_id"]
    client.post(
        "/login",
        data={"username": clerk["username"], "password": clerk["password"],
              "csrf_token": _csrf(client)},
    )  # fmt: skip
    with client.session_transaction() as session:
        page_token = session["token"]
    headers = {"Authorization": f"Bearer {page_token}"}
    assert client.get(f"/api/v1/counters/{counter}/queue", headers=headers).status_code == 200
    client.post("/logout", data={"csrf_token": _csrf(client, "/")})
    # The desk page's token (still in a tab, in the history, in a copied request) is dead.
    response = client.get(f"/api/v1/counters/{counter}/queue", headers=headers)
    assert response.status_code == 401
    assert response.json["error"]["code"] == "token_invalid"


def test_page_errors_are_pages_and_api_errors_stay_json(client):
    page = client.get("/no-such-page", headers={"Accept": "text/html"})
    assert page.status_code == 404
    assert "هذه الصفحة غير موجودة." in page.get_data(as_text=True)
    api = client.get("/api/v1/no-such", headers={"Accept": "text/html"})
    assert api.status_code == 404 and api.json["error"]["code"] == "not_found"


def test_the_page_font_is_served_by_taboor(client):
    with client.get("/static/fonts/NotoSansArabic.ttf") as response:
        assert response.status_code == 200
        assert response.data[:4] in (b"\x00\x01\x00\x00", b"true", b"OTTO")


def test_qr_codes_are_drawn_by_taboor_and_bad_input_is_a_400(client):
    response = client.get("/qr.svg?data=http://taboor.local/t/abc")
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    assert b'xmlns="http://www.w3.org/2000/svg"' in response.data  # else <img> draws nothing
    assert client.get("/qr.svg?data=").status_code == 400
    assert client.get("/qr.svg?data=" + "x" * 600).status_code == 400


@pytest.mark.parametrize(
    "package", [name for name in i18n.CATALOG_PACKAGES if find_spec(name) is not None]
)
def test_every_page_string_has_its_arabic_translation(package):
    assert i18n.missing(package) == {"ar": []}


def test_catalogs_are_compiled_once_and_not_again_while_unchanged(tmp_path):
    first = web.compile_catalogs(tmp_path)
    mos = sorted(tmp_path.rglob("*.mo"))
    assert mos, first
    stamps = [mo.stat().st_mtime_ns for mo in mos]
    web.compile_catalogs(tmp_path)
    assert [mo.stat().st_mtime_ns for mo in mos] == stamps


def test_repeated_wrong_passwords_are_held_with_429_on_the_page_and_the_api(client, demo):
    clerk = demo.clerks[0]
    token = _csrf(client)
    for _ in range(5):
        wrong = {"username": clerk["username"], "password": "nope", "csrf_token": token}
        assert client.post("/login", data=wrong).status_code == 401
    right = {"username": clerk["username"], "password": clerk["password"], "csrf_token": token}
    page = client.post("/login", data=right)
    assert page.status_code == 429
    assert "محاولات فاشلة كثيرة" in page.get_data(as_text=True)
    api = client.post(
        "/api/v1/auth/token", json={"username": clerk["username"], "password": clerk["password"]}
    )
    assert api.status_code == 429
    assert api.json["error"]["code"] == "too_many_attempts"
    assert int(api.headers["Retry-After"]) > 0


def test_a_string_reads_the_same_in_every_package_catalog():
    # Flask-Babel merges the packages' catalogs into one: the same English string with
    # two Arabic texts would show one package's wording on another package's page.
    texts: dict[str, dict[str, str]] = {}
    for package in i18n.CATALOG_PACKAGES:
        if find_spec(package) is None:
            continue
        for message in i18n.load(i18n.po_path(package, "ar"), "ar"):
            if message.id:
                key = message.id if isinstance(message.id, str) else message.id[0]
                texts.setdefault(key, {})[package] = str(message.string)
    conflicts = {key: where for key, where in texts.items() if len(set(where.values())) > 1}
    assert conflicts == {}


def test_the_language_toggle_keeps_the_other_query_arguments(client):
    html = client.get("/login?next=/counter/&lang=ar").get_data(as_text=True)
    assert 'href="/login?next=%2Fcounter%2F&amp;lang=en"' in html
