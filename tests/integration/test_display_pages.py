"""The hall display's routes through the Flask test client: page, last calls, announcements."""

from __future__ import annotations

import io
import json
import logging
import re
import shutil
import wave
from pathlib import Path

import pytest
from sqlalchemy import select

from taboor.display import audio, hall
from taboor.display.views import announcements
from taboor.server import queries
from taboor.server.domain.numbering import business_day
from taboor.server.models import Center
from taboor.server.store import events
from tests.conftest import login

CENTER = "DAM-MIDAN"
EXTRACT = "civil-extract-individual"  # prefix A, served at counters 1, 2, 3 and 12
ANNOUNCE = f"/display/{CENTER}/announce.wav"


def settings(html: str) -> dict:
    raw = re.search(r'<script type="application/json" id="display-settings">(.*?)</script>', html)
    return json.loads(raw.group(1))


def set_options(rt, **options) -> None:
    with rt.db.write() as session:
        center = session.scalar(select(Center).where(Center.code == CENTER))
        center.options = {**center.options, **options}


def issue(client, kiosk, service: str = EXTRACT) -> dict:
    response = client.post(f"/api/v1/centers/{CENTER}/tickets", json={"service": service},
                           headers=kiosk)  # fmt: skip
    assert response.status_code == 201, response.json
    return response.json


def open_and_call(client, headers, counter_id: int) -> dict:
    client.post(f"/api/v1/counters/{counter_id}/open", headers=headers)
    response = client.post(f"/api/v1/counters/{counter_id}/next", headers=headers)
    assert response.status_code == 200, response.json
    return response.json


def call_at(client, kiosk, demo, number: int, service: str = EXTRACT) -> dict:
    """Issue a ticket and call it at counter `number` (its previous ticket a no-show)."""
    clerk = demo.clerks[number - 1]
    headers = login(client, clerk)
    counters = client.get(f"/api/v1/centers/{CENTER}/counters").json
    current = next(c for c in counters if c["id"] == clerk["counter_id"])["ticket_id"]
    if current is not None:
        client.post(f"/api/v1/tickets/{current}/no-show", headers=headers)
    issued = issue(client, kiosk, service)
    called = open_and_call(client, headers, clerk["counter_id"])
    assert (called["label"], called["counter"]) == (issued["label"], number)
    return called


def fetch(client, url: str, **kwargs):
    """GET and read the whole body, closing the file a send_file response holds."""
    response = client.get(url, **kwargs)
    response.get_data()
    response.close()
    return response


@pytest.fixture
def voice() -> str:
    path = shutil.which("espeak-ng")
    if path is None:
        pytest.fail("espeak-ng is missing: run `bash tests/services/browser.sh` (tests/run does)")
    return path


# --- the page --------------------------------------------------------------------------


def test_display_page_is_arabic_and_right_to_left_by_default(client):
    html = client.get(f"/display/{CENTER}").get_data(as_text=True)
    assert '<html lang="ar" dir="rtl"' in html
    assert "مركز خدمة المواطن - الميدان" in html
    assert "يُنادى الآن" in html
    assert '<script type="module" src="/display/static/display.js">' in html
    assert "/static/vendor/socket.io.min.js" in html


def test_display_page_in_english_names_the_center_and_services_in_english(client):
    html = client.get(f"/display/{CENTER}?lang=en").get_data(as_text=True)
    assert '<html lang="en" dir="ltr"' in html
    assert "Citizen Service Center - Midan" in html and "Now calling" in html
    assert settings(html)["services"][EXTRACT] == "Individual civil-registry extract"


def test_display_script_gets_its_strings_from_the_catalog(client):
    html = client.get(f"/display/{CENTER}").get_data(as_text=True)
    strings = json.loads(re.search(r'id="strings">(.*?)</script>', html).group(1))
    assert strings["counter_n"] == "الشباك رقم %(number)s"
    assert strings["not_live"]


def test_eastern_arabic_digits_are_a_center_option(client, rt):
    assert "data-eastern" not in client.get(f"/display/{CENTER}").get_data(as_text=True)
    set_options(rt, eastern_digits=True)
    html = client.get(f"/display/{CENTER}").get_data(as_text=True)
    assert '<html lang="ar" dir="rtl" data-eastern="1"' in html
    assert '<strong id="waiting-total" class="waiting-count">٠</strong>' in html


def test_page_tells_its_script_whether_the_display_may_go_without_a_token(client, rt):
    assert settings(client.get(f"/display/{CENTER}").get_data(as_text=True))["public"] is False
    set_options(rt, public_display=True)
    assert settings(client.get(f"/display/{CENTER}").get_data(as_text=True))["public"] is True


def test_unknown_center_is_a_404_page(client):
    response = client.get("/display/NO-SUCH", headers={"Accept": "text/html"})
    assert response.status_code == 404
    assert "<html" in response.get_data(as_text=True)


def test_daily_reload_waits_a_day_and_ten_quiet_minutes_unless_told_otherwise(client):
    default = settings(client.get(f"/display/{CENTER}").get_data(as_text=True))
    assert (default["reload_after_s"], default["quiet_s"]) == (86400, 600)
    tuned = settings(
        client.get(f"/display/{CENTER}?reload_after_s=5&quiet_s=2").get_data(as_text=True)
    )
    assert (tuned["reload_after_s"], tuned["quiet_s"]) == (5, 2)


@pytest.mark.parametrize("query", ["reload_after_s=0", "quiet_s=x", "quiet_s=-5", "quiet_s=٥"])
def test_bad_timing_in_the_address_is_a_400(client, query):
    response = client.get(f"/display/{CENTER}?{query}")
    assert response.status_code == 400
    assert response.json["error"]["code"] == "invalid_field"


# --- last calls ------------------------------------------------------------------------


def test_last_calls_are_newest_first_and_a_recall_is_a_new_call(client, kiosk, demo):
    first, second = issue(client, kiosk), issue(client, kiosk)
    clerk1, clerk2 = login(client, demo.clerks[0]), login(client, demo.clerks[1])
    a = open_and_call(client, clerk1, demo.clerks[0]["counter_id"])
    b = open_and_call(client, clerk2, demo.clerks[1]["counter_id"])
    assert (a["label"], b["label"]) == (first["label"], second["label"])
    calls = client.get(f"/display/{CENTER}/calls").json
    assert [(c["label"], c["counter"]) for c in calls["calls"]] == [
        (b["label"], 2), (a["label"], 1)
    ]  # fmt: skip
    assert calls["calls"][0]["call_seq"] == calls["seq"]

    assert client.post(f"/api/v1/tickets/{a['id']}/recall", headers=clerk1).status_code == 200
    calls = client.get(f"/display/{CENTER}/calls").json
    assert [c["label"] for c in calls["calls"]] == [a["label"], b["label"]]
    assert calls["calls"][0]["call_seq"] == calls["seq"]


def test_finished_calls_stay_on_the_list_and_transferred_ones_leave_it(client, kiosk, demo):
    issue(client, kiosk)
    issue(client, kiosk)
    clerk = login(client, demo.clerks[0])
    counter = demo.clerks[0]["counter_id"]
    done = open_and_call(client, clerk, counter)
    for action in ("start", "done"):
        client.post(f"/api/v1/tickets/{done['id']}/{action}", headers=clerk)
    moved = open_and_call(client, clerk, counter)
    response = client.post(f"/api/v1/tickets/{moved['id']}/transfer",
                           json={"service": "civil-family-statement"}, headers=clerk)  # fmt: skip
    assert response.status_code == 200, response.json
    calls = client.get(f"/display/{CENTER}/calls").json["calls"]
    assert [(c["label"], c["state"]) for c in calls] == [(done["label"], "done")]


def test_last_calls_are_todays_only(client, kiosk, demo, clock):
    issue(client, kiosk)
    open_and_call(client, login(client, demo.clerks[0]), demo.clerks[0]["counter_id"])
    assert len(client.get(f"/display/{CENTER}/calls").json["calls"]) == 1
    clock.advance(days=1)
    assert client.get(f"/display/{CENTER}/calls").json["calls"] == []


@pytest.mark.parametrize("window", [3, 8, 20, 400])
def test_last_calls_read_from_the_latest_events_match_the_whole_day(
    client, kiosk, demo, rt, monkeypatch, window
):
    clerk1, clerk2 = login(client, demo.clerks[0]), login(client, demo.clerks[1])
    counters = [(clerk1, demo.clerks[0]["counter_id"]), (clerk2, demo.clerks[1]["counter_id"])]
    for _ in range(7):
        issue(client, kiosk)
    served = []
    for turn in range(6):
        headers, counter_id = counters[turn % 2]
        ticket = open_and_call(client, headers, counter_id)
        served.append(ticket)
        if turn < 4:  # the first ones are served and done; the last two stay called
            for action in ("start", "done"):
                client.post(f"/api/v1/tickets/{ticket['id']}/{action}", headers=headers)
    client.post(f"/api/v1/tickets/{served[-2]['id']}/recall", headers=counters[0][0])
    for _ in range(5):  # later issues push the calls back in the event log
        issue(client, kiosk)
    monkeypatch.setattr(hall, "_RECENT_WINDOW", window)
    with rt.db.reading() as tx:
        center = queries.find_center(tx, CENTER)
        day = tx.day(business_day(rt.now(), "Asia/Damascus"))
        whole_day = tx.all(events._CALLS_TODAY, {"id": center["id"], "day": day, "limit": 5})
        shown = hall.recent_calls(tx, CENTER, rt.now())["calls"]
    assert [(c["ticket_id"], c["call_seq"]) for c in shown] == [(r[0], r[4]) for r in whole_day]
    assert shown[0]["ticket_id"] == served[-2]["id"]  # the recall is the newest call
    assert len(shown) == 5


def test_last_calls_of_an_unknown_center_is_a_404(client):
    response = client.get("/display/NO-SUCH/calls")
    assert response.status_code == 404
    assert response.json["error"]["code"] == "center_not_found"


# --- announcements ---------------------------------------------------------------------


def test_announcement_is_a_wav_with_speech_after_the_chime(client, kiosk, demo, voice):
    assert call_at(client, kiosk, demo, 3)["label"] == "A-001"
    response = fetch(client, f"{ANNOUNCE}?label=A-001&counter=3")
    assert response.status_code == 200
    assert response.mimetype == "audio/wav"
    with wave.open(io.BytesIO(response.data)) as clip:
        assert (clip.getnchannels(), clip.getsampwidth()) == (1, 2)
        seconds = clip.getnframes() / clip.getframerate()
    chime = len(audio.chime()) / audio.RATE
    assert seconds > chime + 3  # two spoken sentences follow the chime
    samples, _ = audio.read_wav(response.data)
    after_chime = samples[len(audio.chime()) :]
    assert max(abs(v) for v in after_chime) > 10000  # speech, not silence


def test_an_announcement_is_generated_once_per_label_and_counter(client, app, kiosk, demo, voice):
    call_at(client, kiosk, demo, 3)
    first = fetch(client, f"{ANNOUNCE}?label=A-001&counter=3")
    assert first.headers["X-Taboor-Announcement"] == "generated"
    files = list((Path(app.instance_path) / "audio").glob("*.wav"))
    assert len(files) == 1
    inode = files[0].stat().st_ino
    again = fetch(client, f"{ANNOUNCE}?label=A-001&counter=3")
    unpadded = fetch(client, f"{ANNOUNCE}?label=A-1&counter=03")
    assert again.headers["X-Taboor-Announcement"] == "cached"
    assert unpadded.headers["X-Taboor-Announcement"] == "cached"
    assert again.data == first.data == unpadded.data
    assert files[0].stat().st_ino == inode  # the same file, not written again
    with app.app_context():
        assert announcements().generated == 1
    assert call_at(client, kiosk, demo, 2)["label"] == "A-002"
    other = fetch(client, f"{ANNOUNCE}?label=A-002&counter=2")
    assert other.headers["X-Taboor-Announcement"] == "generated"
    assert other.data != first.data


def test_announcements_are_cached_for_the_browser_too(client, kiosk, demo, voice):
    assert call_at(client, kiosk, demo, 1, "civil-family-statement")["label"] == "F-001"
    first = fetch(client, f"{ANNOUNCE}?label=F-001&counter=1")
    assert "max-age=86400" in first.headers["Cache-Control"]
    again = fetch(client, f"{ANNOUNCE}?label=F-001&counter=1",
                      headers={"If-None-Match": first.headers["ETag"]})  # fmt: skip
    assert again.status_code == 304


def test_the_oldest_announcements_go_when_the_cache_is_full(client, app, kiosk, demo, voice):
    folder = Path(app.instance_path) / "audio"
    with app.app_context():
        app.extensions["taboor.display.audio"] = audio.AnnouncementCache(folder, max_bytes=700_000)
    for number in (1, 2, 3):
        assert call_at(client, kiosk, demo, 1)["label"] == f"A-{number:03d}"
        assert fetch(client, f"{ANNOUNCE}?label=A-{number:03d}&counter=1").status_code == 200
    kept = list(folder.glob("*.wav"))
    assert 0 < len(kept) < 3
    assert sum(f.stat().st_size for f in kept) <= 700_000
    newest = fetch(client, f"{ANNOUNCE}?label=A-003&counter=1")
    assert newest.headers["X-Taboor-Announcement"] == "cached"


def test_without_espeak_the_chime_alone_is_served_and_a_warning_logged(
    client, app, kiosk, demo, caplog
):
    call_at(client, kiosk, demo, 3)
    app.config["TABOOR_ESPEAK_NG"] = "/nonexistent/espeak-ng"
    with caplog.at_level(logging.WARNING, logger="taboor.display.audio"):
        response = fetch(client, f"{ANNOUNCE}?label=A-001&counter=3")
    assert response.status_code == 200
    assert response.headers["X-Taboor-Announcement"] == "chime-only"
    assert response.headers["Cache-Control"] == "no-store"
    samples, rate = audio.read_wav(response.data)
    assert samples[: len(audio.chime())] == audio.chime()
    assert len(samples) / rate < 2.5
    assert any("espeak-ng" in r.getMessage() for r in caplog.records if r.levelname == "WARNING")
    assert not list((Path(app.instance_path) / "audio").glob("*.wav"))


def assert_call_not_found(response) -> None:
    assert response.status_code == 404, response.get_data(as_text=True)
    assert response.json["error"] == {
        "code": "call_not_found", "message": response.json["error"]["message"]
    }  # fmt: skip


def test_a_label_never_called_is_not_announced_nor_generated(client, app, kiosk, demo):
    call_at(client, kiosk, demo, 1, "civil-family-statement")  # F-001 is called...
    issue(client, kiosk)  # ...and A-001 waits: issued, not called
    for label in ("A-001", "A-042", "F-002"):
        assert_call_not_found(fetch(client, f"{ANNOUNCE}?label={label}&counter=1"))
    with app.app_context():
        assert announcements().generated == 0
    assert not list((Path(app.instance_path) / "audio").glob("*.wav"))


def test_a_call_is_announced_only_at_the_counter_it_was_made_to(client, kiosk, demo, voice):
    call_at(client, kiosk, demo, 1)
    assert_call_not_found(fetch(client, f"{ANNOUNCE}?label=A-001&counter=2"))
    assert fetch(client, f"{ANNOUNCE}?label=A-001&counter=1").status_code == 200


def test_a_recalled_or_finished_call_is_still_announced(client, kiosk, demo, voice):
    called = call_at(client, kiosk, demo, 1)
    headers = login(client, demo.clerks[0])
    assert client.post(f"/api/v1/tickets/{called['id']}/recall", headers=headers).status_code == 200
    assert fetch(client, f"{ANNOUNCE}?label=A-001&counter=1").status_code == 200
    for action in ("start", "done"):
        client.post(f"/api/v1/tickets/{called['id']}/{action}", headers=headers)
    assert fetch(client, f"{ANNOUNCE}?label=A-001&counter=1").status_code == 200


def test_a_call_of_an_earlier_day_is_not_announced_even_from_the_cache(
    client, kiosk, demo, clock, voice
):
    call_at(client, kiosk, demo, 1)
    assert fetch(client, f"{ANNOUNCE}?label=A-001&counter=1").status_code == 200
    clock.advance(days=1)
    assert_call_not_found(fetch(client, f"{ANNOUNCE}?label=A-001&counter=1"))


def test_a_browser_asking_for_a_call_never_made_gets_an_error_page(client):
    response = fetch(client, f"{ANNOUNCE}?label=A-001&counter=1", headers={"Accept": "text/html"})
    assert response.status_code == 404
    assert "<html" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "query",
    ["counter=3", "label=&counter=3", "label=a-042&counter=3", "label=A042&counter=3",
     "label=ABCD-001&counter=3", "label=A-0&counter=3", "label=A-12345&counter=3",
     "label=A-%D9%A0%D9%A4%D9%A2&counter=3", "label=Z-001&counter=3",
     "label=A-042%00&counter=3", "label=" + "A" * 300 + "&counter=3"],
)  # fmt: skip
def test_a_bad_label_is_a_400(client, query):
    response = fetch(client, f"{ANNOUNCE}?{query}")
    assert response.status_code == 400, response.get_data(as_text=True)
    assert response.json["error"] == {
        "code": "bad_label", "message": response.json["error"]["message"], "field": "label"
    }  # fmt: skip


@pytest.mark.parametrize(
    "counter", [None, "", "x", "0", "13", "-1", "1.5", "%D9%A3", "99999", "3%20"]
)
def test_a_counter_that_is_not_one_of_the_center_is_a_400(client, counter):
    query = "label=A-042" + ("" if counter is None else f"&counter={counter}")
    response = fetch(client, f"{ANNOUNCE}?{query}")
    assert response.status_code == 400, response.get_data(as_text=True)
    assert response.json["error"]["code"] == "bad_counter"
    assert response.json["error"]["field"] == "counter"


def test_malformed_input_is_a_400_even_when_the_call_was_made(client, kiosk, demo):
    call_at(client, kiosk, demo, 3)
    for query, code in [("label=A-001x&counter=3", "bad_label"),
                        ("label=A-001&counter=3x", "bad_counter")]:  # fmt: skip
        response = fetch(client, f"{ANNOUNCE}?{query}")
        assert (response.status_code, response.json["error"]["code"]) == (400, code)


def test_a_browser_with_bad_input_gets_an_error_page(client):
    response = fetch(client, f"{ANNOUNCE}?label=nope&counter=3", headers={"Accept": "text/html"})
    assert response.status_code == 400
    assert "<html" in response.get_data(as_text=True)


def test_announcement_for_an_unknown_center_is_a_404(client):
    response = fetch(client, "/display/NO-SUCH/announce.wav?label=A-042&counter=3")
    assert response.status_code == 404
    assert response.json["error"]["code"] == "center_not_found"
