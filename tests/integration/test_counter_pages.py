"""The counter desk page (/counter/): who sees which counter, in which language."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import select

from taboor.server.auth import SYSTEM
from taboor.server.models import Center, Counter
from taboor.server.operations.accounts import create_user
from tests.conftest import T0


def sign_in(client, user: dict) -> None:
    """Sign in through the session login form, as a browser does."""
    html = client.get("/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    response = client.post("/login", data={
        "username": user["username"], "password": user["password"], "csrf_token": csrf,
    })  # fmt: skip
    assert response.status_code == 302, response.get_data(as_text=True)


def desk_data(html: str) -> dict:
    found = re.search(r'<script type="application/json" id="desk-data">(.*?)</script>', html, re.S)
    return json.loads(found.group(1))


def page_strings(html: str) -> dict:
    found = re.search(r'<script type="application/json" id="strings">(.*?)</script>', html, re.S)
    return json.loads(found.group(1))


def test_the_desk_sends_a_signed_out_visitor_to_the_login_page(client):
    response = client.get("/counter/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=/counter/")


def test_a_clerk_sees_their_own_counter_in_arabic(client, demo):
    clerk = demo.clerks[2]  # counter 3
    sign_in(client, clerk)
    response = client.get("/counter/")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<html lang="ar" dir="rtl"' in html
    assert "الشباك رقم 3" in html and "نداء التالي" in html
    data = desk_data(html)
    assert data["counter_id"] == clerk["counter_id"] and data["number"] == 3
    assert data["center"] == demo.center
    assert data["served"][0] == "civil-extract-individual"
    assert 'data-token="' in html and 'data-token=""' not in html
    assert response.headers["Cache-Control"] == "no-store"


def test_the_desk_hands_the_script_the_ticket_state_machine(client, demo):
    sign_in(client, demo.clerks[0])
    transitions = desk_data(client.get("/counter/").get_data(as_text=True))["transitions"]
    assert sorted(transitions["called"]) == ["cancel", "no_show", "recall", "start", "transfer"]
    assert sorted(transitions["serving"]) == ["finish", "transfer"]
    assert "done" not in transitions


def test_the_waiting_counts_list_only_the_services_the_counter_serves(client, demo):
    sign_in(client, demo.clerks[4])  # counter 5: justice and public employees
    html = client.get("/counter/").get_data(as_text=True)
    rows = re.findall(r'<tr data-service="([^"]+)"', html)
    assert rows == [
        "justice-no-conviction",
        "employees-not-employee",
        "employees-service-statement",
    ]


def test_every_shortcut_key_is_shown_on_its_button(client, demo):
    sign_in(client, demo.clerks[0])
    html = client.get("/counter/").get_data(as_text=True)
    for action, key in (
        ("next", "N"),
        ("recall", "R"),
        ("start", "S"),
        ("done", "D"),
        ("no-show", "X"),
        ("transfer", "T"),
    ):
        button = re.search(rf'<button[^>]*data-action="{action}"[^>]*>(.*?)</button>', html, re.S)
        assert f"<kbd>{key}</kbd>" in button.group(1), action


def test_the_desk_is_english_with_lang_en_and_its_script_strings_too(client, demo):
    sign_in(client, demo.clerks[0])
    html = client.get("/counter/?lang=en").get_data(as_text=True)
    assert '<html lang="en" dir="ltr"' in html
    assert "Counter 1" in html and "Call next" in html
    strings = page_strings(html)
    assert strings["nobody_waiting"] == "Nobody is waiting."
    arabic = page_strings(client.get("/counter/?lang=ar").get_data(as_text=True))
    assert arabic["nobody_waiting"] == "لا يوجد أحد في الانتظار."
    assert set(arabic) == set(strings)


def test_the_desk_has_a_sign_out_form_with_the_csrf_token(client, demo):
    sign_in(client, demo.clerks[0])
    html = client.get("/counter/").get_data(as_text=True)
    form = re.search(r'<form method="post" action="/logout".*?</form>', html, re.S).group(0)
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/counter/").status_code == 302


def test_a_clerk_without_a_counter_is_told_so(client, rt, demo):
    create_user(
        rt.db, "floating", "a-long-password", "clerk", center=demo.center, actor=SYSTEM, now=T0
    )
    sign_in(client, {"username": "floating", "password": "a-long-password"})
    response = client.get("/counter/")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'id="no-counter"' in html and "لم يُخصَّص لحسابك أي شباك." in html
    assert 'id="desk"' not in html


def test_a_clerk_always_gets_their_own_counter_whatever_the_address_says(client, demo):
    sign_in(client, demo.clerks[0])
    other = demo.clerks[1]["counter_id"]
    data = desk_data(client.get(f"/counter/?counter={other}").get_data(as_text=True))
    assert data["counter_id"] == demo.clerks[0]["counter_id"]


def test_a_manager_without_a_counter_picks_one_of_their_center(client, demo):
    sign_in(client, demo.user("manager"))
    html = client.get("/counter/").get_data(as_text=True)
    links = re.findall(r'href="/counter/\?counter=(\d+)"', html)
    assert len(links) == 12
    assert 'id="desk"' not in html
    chosen = demo.clerks[6]["counter_id"]  # counter 7
    data = desk_data(client.get(f"/counter/?counter={chosen}").get_data(as_text=True))
    assert data["number"] == 7
    # The pick is remembered (the language toggle drops the query string).
    assert desk_data(client.get("/counter/?lang=en").get_data(as_text=True))["number"] == 7
    assert "?counter=" in client.get("/counter/choose").get_data(as_text=True)
    assert 'id="desk"' not in client.get("/counter/").get_data(as_text=True)


def test_an_admin_may_pick_a_counter_of_any_center(client, rt, demo):
    with rt.db.read() as session:
        aleppo = session.scalar(
            select(Counter.id).join(Center, Center.id == Counter.center_id)
            .where(Center.code == "ALE", Counter.number == 2))  # fmt: skip
    sign_in(client, demo.user("admin"))
    assert f"?counter={aleppo}" in client.get("/counter/").get_data(as_text=True)
    assert (
        desk_data(client.get(f"/counter/?counter={aleppo}").get_data(as_text=True))["center"]
        == "ALE"
    )


def test_a_manager_may_not_open_a_counter_of_another_center(client, rt, demo):
    with rt.db.read() as session:
        aleppo = session.scalar(
            select(Counter.id).join(Center, Center.id == Counter.center_id)
            .where(Center.code == "ALE"))  # fmt: skip
    sign_in(client, demo.user("manager"))
    response = client.get(f"/counter/?counter={aleppo}", headers={"Accept": "text/html"})
    assert response.status_code == 403
    assert 'id="desk"' not in response.get_data(as_text=True)


@pytest.mark.parametrize("asked", ["99999", "abc", "-1", "0", "99999999999999999999999"])
def test_an_unknown_counter_in_the_address_is_404(client, demo, asked):
    sign_in(client, demo.user("manager"))
    response = client.get(f"/counter/?counter={asked}", headers={"Accept": "text/html"})
    assert response.status_code == 404
