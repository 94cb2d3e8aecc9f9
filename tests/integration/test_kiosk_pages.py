"""The kiosk page as the server renders it: language, menu, priorities, strings for the script."""

from __future__ import annotations

import html
import json
import re
import shutil

import pytest

from taboor.kiosk import menu
from taboor.server.app import create_app
from taboor.server.runtime import runtime
from tests.conftest import settings_for

CENTER = "DAM-MIDAN"
ESERVICE = "https://eservices.example.org/"


def _script_json(page: str, element_id: str) -> dict:
    found = re.search(
        rf'<script type="application/json" id="{element_id}">(.*?)</script>', page, re.S
    )
    assert found, element_id
    return json.loads(html.unescape(found.group(1)))


@pytest.fixture
def app_with(tmp_path, template, clock):
    """Make an app on a copy of the demo database with some settings changed."""
    made = []

    def make(**settings: object):
        folder = tmp_path / f"app{len(made)}"
        folder.mkdir()
        shutil.copy(template[0], folder / "taboor.sqlite3")
        app = create_app({**settings_for(folder), **settings}, clock=clock)
        app.config["TESTING"] = True
        made.append(app)
        return app

    yield make
    for app in made:
        app.extensions["taboor"].spooler.close()
        app.extensions["taboor"].db.dispose()


def _set_center_options(app, options: dict) -> None:
    with app.app_context():
        runtime().db.atomic(lambda tx: tx.run(
            "UPDATE centers SET options = :o WHERE code = :c",
            {"o": json.dumps(options), "c": CENTER},
        ))  # fmt: skip


def test_kiosk_page_is_arabic_and_rtl_with_every_category_and_service(client):
    response = client.get(f"/kiosk/{CENTER}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<html lang="ar" dir="rtl"' in page
    assert "<title>احصل على بطاقة دور · مركز خدمة المواطن - الميدان</title>" in page
    services = client.get(f"/api/v1/centers/{CENTER}/services").json
    for service in services:
        assert f'data-service="{service["code"]}"' in page
        assert html.escape(service["name_ar"]) in page
    categories = {s["category"] for s in services}
    assert (
        set(re.findall(r'class="tile tile-category" data-category="([^"]+)"', page)) == categories
    )
    assert "الأحوال المدنية" in page


def test_kiosk_page_in_english_uses_the_english_names(client):
    page = client.get(f"/kiosk/{CENTER}?lang=en").get_data(as_text=True)
    assert '<html lang="en" dir="ltr"' in page
    tile = re.search(r'data-service="civil-extract-individual">(.*?)</button>', page, re.S)
    assert "Individual civil-registry extract" in tile.group(1)
    assert "إخراج" not in tile.group(1)
    assert '<span class="kiosk-title">Take a ticket</span>' in page


def test_an_unknown_center_answers_a_404_page(client):
    response = client.get("/kiosk/NO-SUCH-CENTER", headers={"Accept": "text/html"})
    assert response.status_code == 404
    assert "هذه الصفحة غير موجودة." in response.get_data(as_text=True)


def test_the_script_gets_its_strings_in_the_page_language(client):
    ar = _script_json(client.get(f"/kiosk/{CENTER}").get_data(as_text=True), "strings")
    assert ar["waiting"] == "المنتظرون: {n}"
    assert ar["not_live"]  # the shared strings come along
    # One string per plural form of the Arabic catalog, chosen by the script.
    assert ar["minutes_one"] == "دقيقة واحدة تقريباً"
    assert ar["minutes_two"] == "دقيقتان تقريباً"
    assert ar["minutes_few"] == "{n} دقائق تقريباً"
    assert ar["minutes_many"] == "{n} دقيقة تقريباً"
    en = _script_json(client.get(f"/kiosk/{CENTER}?lang=en").get_data(as_text=True), "strings")
    assert en["minutes_one"] == "about {n} minute"
    assert {en[f"minutes_{f}"] for f in ("two", "few", "many", "other")} == {"about {n} minutes"}
    assert en["err_offline"].startswith("The ticket could not be issued")


def test_the_script_gets_the_services_with_their_waits(client, kiosk):
    client.post(f"/api/v1/centers/{CENTER}/tickets", headers=kiosk,
                json={"service": "civil-extract-individual"})  # fmt: skip
    data = _script_json(client.get(f"/kiosk/{CENTER}").get_data(as_text=True), "kiosk-data")
    assert data["center"] == CENTER and data["lang"] == "ar" and data["default_lang"] == "ar"
    by_code = {s["code"]: s for s in data["services"]}
    assert by_code["civil-extract-individual"]["waiting"] == 1
    assert by_code["civil-extract-individual"]["documents_en"] == ["Personal ID card"]
    assert data["eservice_url"] == "" and data["public_url"] == ""
    assert 20 <= data["ticket_screen_s"] <= 30


def test_online_services_point_to_the_eservice_only_when_one_is_configured(client, app_with):
    plain = client.get(f"/kiosk/{CENTER}").get_data(as_text=True)
    assert "متاحة إلكترونياً أيضاً" not in plain and "/qr.svg" not in plain
    page = (
        app_with(eservice_url=ESERVICE).test_client().get(f"/kiosk/{CENTER}").get_data(as_text=True)
    )
    assert "/qr.svg?data=https%3A//eservices.example.org/" in page
    tile = re.search(r'data-service="civil-extract-individual">(.*?)</button>', page, re.S)
    assert "متاحة إلكترونياً أيضاً" in tile.group(1)
    offline_only = re.search(r'data-service="civil-register-birth">(.*?)</button>', page, re.S)
    assert "متاحة إلكترونياً أيضاً" not in offline_only.group(1)


def test_the_ticket_qr_uses_the_public_url_setting(app_with):
    page = app_with(public_url="http://192.168.1.10:5000/").test_client().get(
        f"/kiosk/{CENTER}"
    ).get_data(as_text=True)  # fmt: skip
    assert _script_json(page, "kiosk-data")["public_url"] == "http://192.168.1.10:5000"


def test_the_kiosk_offers_the_centers_kiosk_priorities(client):
    page = client.get(f"/kiosk/{CENTER}").get_data(as_text=True)
    assert re.findall(r'data-priority="([a-z]+)"', page) == ["normal", "elderly", "disabled"]


def test_a_center_without_kiosk_priorities_has_no_priority_step(app_with):
    app = app_with()
    _set_center_options(app, {})
    page = app.test_client().get(f"/kiosk/{CENTER}").get_data(as_text=True)
    assert "data-priority" not in page
    assert 'id="priority"' not in page


def test_eastern_digits_are_asked_for_when_the_center_wants_them(app_with):
    app = app_with()
    _set_center_options(app, {"eastern_digits": True, "kiosk_priorities": ["elderly"]})
    page = app.test_client().get(f"/kiosk/{CENTER}").get_data(as_text=True)
    assert '<html lang="ar" dir="rtl" data-eastern="1">' in page
    assert re.findall(r'data-priority="([a-z]+)"', page) == ["normal", "elderly"]


@pytest.mark.parametrize(
    ("options", "offered"),
    [
        ({}, []),
        ({"kiosk_priorities": ["elderly", "disabled"]}, ["elderly", "disabled"]),
        ({"kiosk_priorities": ["disabled", "appointment"]}, ["disabled"]),
        ({"kiosk_priorities": ["elderly", "disabled"], "priorities": ["elderly"]}, ["elderly"]),
        ({"kiosk_priorities": "elderly"}, []),
    ],
)
def test_a_kiosk_never_offers_a_priority_the_api_would_refuse(options, offered):
    assert menu.kiosk_priorities(options) == offered


def test_services_are_grouped_by_category_in_catalog_order():
    services = [
        {"code": "a", "category": "civil", "category_ar": "م", "category_en": "Civil"},
        {"code": "b", "category": "justice", "category_ar": "ع", "category_en": "Justice"},
        {"code": "c", "category": "civil", "category_ar": "م", "category_en": "Civil"},
    ]
    groups = menu.group(services)
    assert [g.code for g in groups] == ["civil", "justice"]
    assert [s["code"] for s in groups[0].services] == ["a", "c"]
