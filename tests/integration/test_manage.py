"""The manager dashboard, its CSV and PDF downloads and `taboor report`, on a known day."""

from __future__ import annotations

import csv
import io
import re

import pytest
from pypdf import PdfReader

from tests.integration.test_stats_api import play_known_day

CENTER = "DAM-MIDAN"
TICKETS = f"/api/v1/centers/{CENTER}/tickets"
PAGE = f"/manage/{CENTER}"
DAY = "from=2026-03-01&to=2026-03-01"
HTML = {"Accept": "text/html"}


def sign_in(client, user: dict) -> None:
    """A browser session for `user` through the login form."""
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    form = {"username": user["username"], "password": user["password"], "csrf_token": token}
    response = client.post("/login", data=form)
    assert response.status_code == 302


@pytest.fixture
def day(client, clock, demo, kiosk):
    """The known day of test_stats_api (figures known exactly), played at a fixed clock."""
    play_known_day(client, clock, demo, kiosk)
    return clock


@pytest.fixture
def manager_session(client, demo):
    sign_in(client, demo.user("manager"))
    return client


# --- who may open the dashboard ------------------------------------------------------


def test_the_dashboard_opens_for_the_centers_manager(manager_session):
    response = manager_session.get(PAGE)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert '<html lang="ar" dir="rtl"' in html
    assert "مركز خدمة المواطن - الميدان" in html
    assert 'id="live" data-center="DAM-MIDAN"' in html
    assert response.headers["Cache-Control"] == "no-store"  # it carries a bearer token


def test_signed_out_visitors_are_sent_to_the_login_page(client):
    response = client.get(PAGE)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=/manage/DAM-MIDAN")


def test_a_clerk_may_not_open_the_dashboard(client, demo):
    sign_in(client, demo.clerks[0])
    assert client.get(PAGE).status_code == 403
    assert client.get(f"{PAGE}/report.csv").status_code == 403
    assert client.get(f"{PAGE}/live").status_code == 403


def test_a_manager_of_another_center_may_not_open_it(client, runner):
    result = runner.invoke(args=["user", "add", "qmanager", "--role", "manager", "--center",
                                 "DAM-QANAWAT", "--password", "another-pass-1"])  # fmt: skip
    assert result.exit_code == 0, result.output
    sign_in(client, {"username": "qmanager", "password": "another-pass-1"})
    for path in (PAGE, f"{PAGE}/report.csv", f"{PAGE}/report.pdf", f"{PAGE}/live"):
        assert client.get(path, headers=HTML).status_code == 403, path
    assert client.get("/manage/DAM-QANAWAT").status_code == 200


def test_an_admin_may_open_any_center(client, demo):
    sign_in(client, demo.user("admin"))
    assert client.get("/manage/DAM-QANAWAT").status_code == 200


def test_manage_alone_opens_the_managers_own_center(manager_session):
    response = manager_session.get("/manage/")
    assert response.status_code == 302 and response.headers["Location"] == PAGE


def test_an_unknown_center_is_a_404_page(manager_session):
    response = manager_session.get("/manage/NOPE", headers=HTML)
    assert response.status_code == 404
    assert "هذه الصفحة غير موجودة." in response.get_data(as_text=True)


def test_the_live_fragment_answers_401_not_a_login_page_when_signed_out(client):
    response = client.get(f"{PAGE}/live")
    assert response.status_code == 401 and response.json["error"]["code"] == "session_expired"


# --- what the dashboard shows ----------------------------------------------------------


def test_the_history_shows_the_known_days_figures(day, manager_session):
    html = manager_session.get(f"{PAGE}?{DAY}&lang=en").get_data(as_text=True)
    assert '<html lang="en" dir="ltr"' in html
    for key, value in (("issued", "4"), ("served", "2"), ("no_show", "1"), ("cancelled", "1")):
        assert re.search(rf'data-total="{key}">{value}<', html), key
    assert 'data-total="sla">100.0%<' in html
    wait_row = re.search(r'<tr data-times="wait_s">(.*?)</tr>', html, re.S).group(1)
    assert re.findall(r">([0-9:–]+)</td>", wait_row) == ["3:27", "2:00", "6:40", "6:40", "3"]
    assert 'data-service="civil-family-statement"' in html
    assert "Individual civil-registry extract" in html
    assert html.count("<svg") == 2  # bars per service and waits per hour


def test_live_part_shows_waiting_longest_wait_and_counter(client, clock, kiosk, demo,
                                                          manager_session):  # fmt: skip
    client.post(TICKETS, json={"service": "general-inquiry"}, headers=kiosk)
    clock.advance(minutes=3, seconds=5)
    client.post(TICKETS, json={"service": "general-inquiry"}, headers=kiosk)
    html = manager_session.get(f"{PAGE}/live?lang=en").get_data(as_text=True)
    row = re.search(r'<tr data-service="general-inquiry".*?</tr>', html, re.S).group(0)
    assert "data-waiting>2<" in row and ">3:05<" in row
    assert 'data-figure="waiting">2<' in html


def test_an_sla_alert_shows_when_the_oldest_wait_passes_the_target(client, clock, kiosk,
                                                                   manager_session):  # fmt: skip
    client.post(TICKETS, json={"service": "civil-extract-individual"}, headers=kiosk)  # SLA 20 min
    clock.advance(minutes=20)
    html = manager_session.get(f"{PAGE}/live?lang=en").get_data(as_text=True)
    assert 'class="alert sla"' not in html  # exactly the target is still within it
    clock.advance(seconds=1)
    html = manager_session.get(f"{PAGE}/live?lang=en").get_data(as_text=True)
    assert 'class="alert sla" data-service="civil-extract-individual"' in html
    assert "past the 20-minute target" in html


def test_a_kiosk_printer_in_trouble_is_an_alert_and_in_the_devices_table(
    app, client, monkeypatch, manager_session
):
    import taboor.server.spooler
    from taboor.server.auth import SYSTEM
    from taboor.server.operations.accounts import create_device
    from tests.conftest import bearer

    class LowOnPaper:  # what a network printer's paper sensor says near the roll's end
        def print_ticket(self, image, name, ticket=None):
            return "paper_low"

        def status(self):
            return "paper_low"

    monkeypatch.setattr(taboor.server.spooler, "printer_from_spec", lambda spec: LowOnPaper())
    rt = app.extensions["taboor"]  # no app context held across requests: each has its language
    _, token = create_device(rt.db, "kiosk", CENTER, name="kiosk-hall-b", actor=SYSTEM,
                             printer="network:10.0.0.7:9100", now=rt.now())  # fmt: skip
    html = manager_session.get(f"{PAGE}/live").get_data(as_text=True)
    assert 'data-device="kiosk-hall-b"' not in html  # not used yet: no alert
    client.post(TICKETS, json={"service": "general-inquiry"}, headers=bearer(token))
    assert rt.spooler.drain(30)
    html = manager_session.get(f"{PAGE}/live").get_data(as_text=True)
    alert = re.search(r'<p class="alert device" data-device="kiosk-hall-b">(.*?)</p>', html, re.S)
    assert alert and "الورق على وشك النفاد" in alert.group(1)
    assert '<span class="printer paper_low">الورق على وشك النفاد</span>' in html
    english = " ".join(manager_session.get(f"{PAGE}/live?lang=en").get_data(as_text=True).split())
    assert "Printer of kiosk-hall-b: Paper running low." in english


def test_eastern_digits_when_the_center_asks_for_them(client, rt, kiosk, manager_session):
    import json

    with rt.db.write() as session:
        from taboor.server.models import Center

        center = session.query(Center).filter_by(code=CENTER).one()
        center.options = {**json.loads(json.dumps(center.options or {})), "eastern_digits": True}
    for _ in range(12):
        client.post(TICKETS, json={"service": "general-inquiry"}, headers=kiosk)
    html = manager_session.get(f"{PAGE}/live").get_data(as_text=True)
    assert 'data-figure="waiting">١٢<' in html
    assert "data-eastern" in manager_session.get(PAGE).get_data(as_text=True)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("from=2026-13-01", "أدخل التاريخ بصيغة سنة-شهر-يوم"),
        ("from=yesterday", "أدخل التاريخ بصيغة سنة-شهر-يوم"),
        ("from=2026-03-02&to=2026-03-01", "تنتهي الفترة قبل أن تبدأ."),
        ("from=2020-01-01&to=2026-01-01", "لا يتجاوز التقرير 366 يومًا."),
        ("from=0001-01-01", "أدخل التاريخ بصيغة سنة-شهر-يوم"),
        ("service=" + "x" * 500, "أدخل التاريخ بصيغة سنة-شهر-يوم"),
    ],
)
def test_bad_ranges_answer_400_with_the_reason_on_the_page(manager_session, query, message):
    response = manager_session.get(f"{PAGE}?{query}")
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)


@pytest.mark.parametrize("path", ["report.csv", "report.pdf"])
@pytest.mark.parametrize(
    "query",
    ["from=2026-02-30", "from=2026-03-02&to=2026-03-01", "to=9999-12-31", "clerk=" + "x" * 200],
)
def test_bad_ranges_in_downloads_are_400_page_or_json_never_500(manager_session, path, query):
    page = manager_session.get(f"{PAGE}/{path}?{query}", headers=HTML)
    assert page.status_code == 400 and page.mimetype == "text/html"
    api = manager_session.get(f"{PAGE}/{path}?{query}", headers={"Accept": "application/json"})
    assert api.status_code == 400 and api.json["error"]["code"]


# --- CSV --------------------------------------------------------------------------------


def _csv(body: bytes) -> list[dict[str, str]]:
    assert body.startswith(b"\xef\xbb\xbf"), body[:10]
    return list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))


def test_csv_is_utf8_with_bom_and_gives_the_known_figures(day, manager_session):
    response = manager_session.get(f"{PAGE}/report.csv?{DAY}&lang=en")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="taboor-DAM-MIDAN-2026-03-01-2026-03-01.csv"'
    )
    rows = _csv(response.data)
    total = rows[0]
    assert (total["Section"], total["Code"], total["From"], total["To"]) == (
        "Total", CENTER, "2026-03-01", "2026-03-01")  # fmt: skip
    figures = (
        "Issued",
        "Served",
        "No-show",
        "Cancelled",
        "Still open",
        "Implausibly short service",
    )
    assert [total[k] for k in figures] == ["4", "2", "1", "1", "0", "1"]
    waits = ("Mean wait (s)", "Median wait (s)", "90th percentile wait (s)", "Longest wait (s)")
    assert [total[k] for k in waits] == ["206.7", "120.0", "400.0", "400.0"]
    assert total["Mean service time (s)"] == "300.0"
    assert (total["Called within target"], total["Counted for the target"],
            total["Within target (%)"]) == ("3", "3", "100.00")  # fmt: skip
    assert total["Counter open (s)"] == "1200.0" and total["Utilisation (%)"] == "25.83"

    by = {(r["Section"], r["Code"]): r for r in rows}
    extract = by[("Service", "civil-extract-individual")]
    assert extract["Name"] == "Individual civil-registry extract"
    assert [extract[k] for k in ("Issued", "Served", "No-show", "Cancelled")] == [
        "3",
        "1",
        "1",
        "1",
    ]
    family = by[("Service", "civil-family-statement")]
    assert (family["Issued"], family["Mean service time (s)"], family["Mean wait (s)"]) == (
        "1", "", "100.0")  # fmt: skip
    counter = by[("Counter", "1")]
    assert (counter["Counter paused (s)"], counter["Counter serving (s)"]) == ("100.0", "310.0")
    assert by[("Clerk", "clerk01")]["Served"] == "2"
    assert by[("Hour", "09")]["Issued"] == "4"
    assert by[("Day", "2026-03-01")]["Issued"] == "4"
    assert len(rows) == 1 + 2 + 1 + 1 + 1 + 1


def test_csv_headers_follow_the_page_language(app, day, manager_session):
    from taboor.server.manage.exports import COLUMNS, SECTIONS

    body = manager_session.get(f"{PAGE}/report.csv?{DAY}").data
    header = next(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    with app.test_request_context("/?lang=ar"):
        arabic = [str(label) for _, label in COLUMNS]
        section, service, name = str(COLUMNS[2][1]), str(SECTIONS["service"]), str(COLUMNS[4][1])
    assert header == arabic and header[0] == "من"
    rows = _csv(body)
    assert rows[0][name] == "مركز خدمة المواطن - الميدان"
    assert {r[name] for r in rows if r[section] == service} == {"إخراج قيد فردي", "بيان عائلي"}


def test_csv_filters_narrow_the_rows(day, manager_session):
    rows = _csv(manager_session.get(
        f"{PAGE}/report.csv?{DAY}&service=civil-family-statement&lang=en").data)  # fmt: skip
    assert rows[0]["Issued"] == "1"
    assert [r["Code"] for r in rows if r["Section"] == "Service"] == ["civil-family-statement"]


# --- PDF ----------------------------------------------------------------------------------


def _text(pdf: bytes) -> str:
    import unicodedata

    reader = PdfReader(io.BytesIO(pdf))
    # Drawn Arabic is in presentation forms; NFKC gives the letters back.
    return unicodedata.normalize("NFKC", "\n".join(p.extract_text() for p in reader.pages))


def test_pdf_report_is_a_pdf_with_the_center_name(day, manager_session):
    response = manager_session.get(f"{PAGE}/report.pdf?{DAY}")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF")
    assert "attachment" in response.headers["Content-Disposition"]
    text = _text(response.data)
    assert "مركز خدمة المواطن - الميدان" in text
    assert "إخراج قيد فردي" in text


def test_pdf_report_in_english(day, manager_session):
    text = _text(manager_session.get(f"{PAGE}/report.pdf?{DAY}&lang=en").data)
    assert "Citizen Service Center - Midan" in text and "From 2026-03-01 to 2026-03-01" in text
    assert "3:27" in text  # the mean wait


# --- taboor report ---------------------------------------------------------------------


def test_cli_report_writes_the_pdf(day, runner, tmp_path):
    out = tmp_path / "midan.pdf"
    result = runner.invoke(args=["report", "--center", CENTER, "--from", "2026-03-01",
                                 "--to", "2026-03-01", "--out", str(out)])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"%PDF")
    assert "مركز خدمة المواطن - الميدان" in _text(out.read_bytes())


def test_cli_report_writes_csv_by_the_extension_in_the_asked_language(day, runner, tmp_path):
    out = tmp_path / "midan.csv"
    args = ["report", "--center", CENTER, "--from", "2026-03-01", "--to", "2026-03-01"]
    result = runner.invoke(args=[*args, "--lang", "en", "--out", str(out)])
    assert result.exit_code == 0, result.output
    rows = _csv(out.read_bytes())
    assert rows[0]["Section"] == "Total" and rows[0]["Issued"] == "4"


def test_cli_report_of_every_center_has_a_row_per_center_in_csv_and_pdf(
    day, runner, client, demo, tmp_path
):
    from tests.conftest import login

    admin = login(client, demo.user("admin"))
    qanawat = "/api/v1/centers/DAM-QANAWAT/tickets"
    response = client.post(qanawat, json={"service": "general-inquiry"}, headers=admin)
    assert response.status_code == 201
    args = ["report", "--all-centers", "--from", "2026-03-01", "--to", "2026-03-01"]
    out = tmp_path / "all.csv"
    result = runner.invoke(args=[*args, "--lang", "en", "--out", str(out)])
    assert result.exit_code == 0, result.output
    rows = _csv(out.read_bytes())
    assert (rows[0]["Section"], rows[0]["Name"], rows[0]["Issued"]) == ("Total", "All centers", "5")
    centers = {r["Code"]: r for r in rows if r["Section"] == "Center"}
    assert centers["DAM-MIDAN"]["Issued"] == "4" and centers["DAM-QANAWAT"]["Issued"] == "1"
    assert centers["DAM-QANAWAT"]["Name"] == "Citizen Service Center - Qanawat"
    assert [r["Code"] for r in rows if r["Section"] == "Counter"] == ["DAM-MIDAN/1"]
    pdf = tmp_path / "all.pdf"
    result = runner.invoke(args=[*args, "--out", str(pdf)])
    assert result.exit_code == 0, result.output
    text = _text(pdf.read_bytes())
    assert "كل المراكز" in text and "حسب المركز" in text and "مركز خدمة المواطن - القنوات" in text
    english = tmp_path / "all-en.pdf"
    runner.invoke(args=[*args, "--lang", "en", "--out", str(english)])
    # A counter is named with its center (the cell wraps after the center's code).
    assert "DAM-MIDAN ·\nCounter 1" in _text(english.read_bytes())


def test_cli_report_wants_one_center_or_all_and_no_counter_across_centers(runner, tmp_path):
    out = str(tmp_path / "r.pdf")
    assert "--center C or --all-centers" in runner.invoke(args=["report", "--out", out]).output
    both = runner.invoke(args=["report", "--center", CENTER, "--all-centers", "--out", out])
    assert both.exit_code != 0 and "--center C or --all-centers" in both.output
    counter = runner.invoke(args=["report", "--all-centers", "--counter", "1", "--out", out])
    assert counter.exit_code != 0 and "a counter belongs to one center" in counter.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--from", "2026-02-30"], "from must be a date"),
        (["--from", "2026-03-02", "--to", "2026-03-01"], "bad_range"),
        (["--center", "NOPE"], "center_not_found"),
        (["--out", "report.txt"], ".pdf or .csv"),
    ],
)
def test_cli_report_refuses_bad_input_clearly(runner, tmp_path, args, message):
    base = {"--center": CENTER, "--out": str(tmp_path / "r.pdf")}
    given = dict(zip(args[::2], args[1::2], strict=True))
    argv = ["report"]
    for key, value in {**base, **given}.items():
        argv += [key, value]
    result = runner.invoke(args=argv)
    assert result.exit_code != 0
    assert message in result.output
    assert not (tmp_path / "r.pdf").exists()


def test_summarise_stores_the_closed_days_once_so_reports_need_not(runner, client, kiosk, clock):
    client.post(f"/api/v1/centers/{CENTER}/tickets", json={"service": "general-inquiry"},
                headers=kiosk)  # fmt: skip
    clock.advance(days=3)
    first = runner.invoke(args=["summarise", "--center", CENTER, "--from", "2026-03-01",
                                "--to", "2026-03-03"])  # fmt: skip
    assert first.exit_code == 0, first.output
    assert "3 day(s) summarised from 2026-03-01 to 2026-03-03" in first.output
    again = runner.invoke(args=["summarise", "--center", CENTER, "--from", "2026-03-01",
                                "--to", "2026-03-03"])  # fmt: skip
    assert "0 day(s) summarised" in again.output
    default = runner.invoke(args=["summarise", "--center", CENTER])
    assert default.exit_code == 0 and "to 2026-03-03" in default.output


@pytest.mark.parametrize(
    ("args", "message"),
    [(["--center", "NOPE"], "center_not_found"),
     (["--center", CENTER, "--from", "2026-03-05", "--to", "2026-03-01"], "bad_range"),
     (["--center", CENTER, "--to", "someday"], "someday")],
)  # fmt: skip
def test_summarise_explains_bad_input(runner, args, message):
    result = runner.invoke(args=["summarise", *args])
    assert result.exit_code != 0
    assert message in result.output
