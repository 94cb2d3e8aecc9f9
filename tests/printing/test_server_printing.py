"""Printing from the server: commit first, print second, never lose a ticket."""

from pathlib import Path

from PIL import ImageChops

from taboor.printers.escpos_raster import decode_raster
from taboor.printers.layout import WIDTH_80MM, render_ticket
from taboor.server.auth import SYSTEM
from taboor.server.operations.accounts import create_device
from taboor.server.operations.printing import job_to_print
from taboor.server.publish import Recorder
from taboor.server.spooler import ticket_print
from tests.conftest import bearer, login
from tests.printing.test_backends import PAPER_NEAR_END, PAPER_OK

CENTER = "DAM-MIDAN"
URL = f"/api/v1/centers/{CENTER}/tickets"


def kiosk_with_printer(rt, spec: str) -> dict[str, str]:
    _, token = create_device(rt.db, "kiosk", CENTER, name="k", printer=spec, actor=SYSTEM,
                             now=rt.now())
    return bearer(token)


def job_state(rt, job_id: int) -> tuple[str, str | None]:
    with rt.db.reading() as tx:
        return tx.one("SELECT state, error_code FROM print_jobs WHERE id = :id", {"id": job_id})


def test_a_kiosk_ticket_is_printed_after_the_commit_as_the_rendered_image(rt, client, tmp_path):
    folder = tmp_path / "printed"
    kiosk = kiosk_with_printer(rt, f"file:{folder}")
    response = client.post(URL, json={"service": "civil-extract-individual"}, headers=kiosk)
    assert response.status_code == 201
    job = response.json["print"]["job"]
    expected = render_ticket(ticket_print(job_to_print(rt.db, job)), WIDTH_80MM)
    assert rt.spooler.drain(30)
    assert job_state(rt, job) == ("printed", None)
    stream = (folder / "A-001.escpos").read_bytes()
    assert stream.startswith(b"\x1b@")
    (printed,) = decode_raster(stream)
    assert printed.size == expected.size
    assert ImageChops.difference(printed.convert("1"), expected.convert("1")).getbbox() is None
    assert (folder / "A-001.png").exists()


def test_a_kiosk_whose_own_printer_is_none_prints_nothing(rt, client):
    kiosk = kiosk_with_printer(rt, "none")
    rt.settings = rt.settings.replace(printer="file:/never-used")
    response = client.post(URL, json={"service": "general-inquiry"}, headers=kiosk)
    assert response.status_code == 201 and "print" not in response.json


def test_the_qr_points_at_the_status_page_by_the_address_the_kiosk_used(rt, client):
    kiosk = kiosk_with_printer(rt, "file:/never-used")
    rt.spooler.submit = lambda job_ids: None
    ticket = client.post(URL, json={"service": "general-inquiry"}, headers=kiosk,
                         base_url="http://10.0.0.5:5000").json
    content = ticket_print(job_to_print(rt.db, ticket["print"]["job"]))
    assert content.status_url == f"http://10.0.0.5:5000/t/{ticket['public_id']}"
    rt.settings = rt.settings.replace(public_url="http://taboor.center.lan")
    ticket = client.post(URL, json={"service": "general-inquiry"}, headers=kiosk).json
    content = ticket_print(job_to_print(rt.db, ticket["print"]["job"]))
    assert content.status_url == f"http://taboor.center.lan/t/{ticket['public_id']}"


def test_a_dead_printer_still_gets_the_ticket_issued_and_tells_the_managers(
    rt, client, closed_port
):
    events = Recorder()
    rt.publisher.subscribe(events)
    kiosk = kiosk_with_printer(rt, f"network:127.0.0.1:{closed_port}")
    response = client.post(URL, json={"service": "civil-extract-individual"}, headers=kiosk)
    assert response.status_code == 201 and response.json["label"] == "A-001"
    job = response.json["print"]["job"]
    assert rt.spooler.drain(30)
    assert job_state(rt, job) == ("failed", "offline")
    changed = [e for e in events.events if e.name == "device.changed"]
    assert len(changed) == 1
    assert changed[0].payload["center"] == CENTER and changed[0].payload["seq"] > 0
    assert changed[0].payload["device"]["printer_state"] == "offline"
    status = client.get(f"/api/v1/tickets/{response.json['public_id']}").json
    assert status["state"] == "waiting"


def test_the_printer_coming_back_is_reported_once(rt, client, closed_port, tmp_path):
    events = Recorder()
    rt.publisher.subscribe(events)
    kiosk = kiosk_with_printer(rt, f"network:127.0.0.1:{closed_port}")
    client.post(URL, json={"service": "general-inquiry"}, headers=kiosk)
    client.post(URL, json={"service": "general-inquiry"}, headers=kiosk)
    assert rt.spooler.drain(30)
    assert [e.payload["device"]["printer_state"] for e in events.events
            if e.name == "device.changed"] == ["offline"]


def test_staff_reprint_queues_the_ticket_again_on_the_same_printer(rt, client, demo, tmp_path):
    folder = tmp_path / "out"
    kiosk = kiosk_with_printer(rt, f"file:{folder}")
    ticket = client.post(URL, json={"service": "general-inquiry"}, headers=kiosk).json
    assert rt.spooler.drain(30)
    clerk = login(client, demo.clerks[0])
    again = client.post(f"/api/v1/tickets/{ticket['id']}/reprint", headers=clerk)
    assert again.status_code == 202 and again.json["state"] == "queued"
    assert rt.spooler.drain(30)
    assert job_state(rt, again.json["job"]) == ("printed", None)
    assert sorted(p.name for p in Path(folder).glob("*.escpos")) == [
        f"{ticket['label']}.escpos", f"{ticket['label']}_2.escpos"]


def test_kiosks_cannot_reprint_and_tickets_without_a_printer_say_so(rt, client, demo, kiosk):
    ticket = client.post(URL, json={"service": "general-inquiry"}, headers=kiosk).json
    response = client.post(f"/api/v1/tickets/{ticket['id']}/reprint", headers=kiosk)
    assert response.status_code == 403
    clerk = login(client, demo.clerks[0])
    response = client.post(f"/api/v1/tickets/{ticket['id']}/reprint", headers=clerk)
    assert response.status_code == 409 and response.json["error"]["code"] == "no_printer"


def test_jobs_left_queued_by_a_crash_are_printed_on_restart(rt, client, tmp_path):
    folder = tmp_path / "later"
    kiosk = kiosk_with_printer(rt, f"file:{folder}")
    rt.spooler.submit = lambda job_ids: None  # the server dies before handing the job over
    job = client.post(URL, json={"service": "general-inquiry"}, headers=kiosk).json["print"]["job"]
    assert job_state(rt, job) == ("queued", None)
    del rt.spooler.submit
    assert rt.spooler.resume() == 1
    assert rt.spooler.drain(30)
    assert job_state(rt, job) == ("printed", None)


def test_a_job_left_queued_overnight_is_not_printed_the_next_day(rt, client, clock, tmp_path):
    folder = tmp_path / "overnight"
    kiosk = kiosk_with_printer(rt, f"file:{folder}")
    rt.spooler.submit = lambda job_ids: None  # the server stops before printing it
    job = client.post(URL, json={"service": "general-inquiry"}, headers=kiosk).json["print"]["job"]
    del rt.spooler.submit
    clock.advance(days=1)
    assert rt.spooler.resume() == 1
    assert rt.spooler.drain(30)
    assert job_state(rt, job) == ("failed", "stale")
    assert not folder.exists() or not any(folder.iterdir())


def test_a_bad_printer_spec_is_refused_when_the_device_is_added(runner):
    result = runner.invoke(args=["device", "add", "--kind", "kiosk", "--center", CENTER,
                                 "--printer", "carrier-pigeon:5"])
    assert result.exit_code != 0 and "printer" in result.output


def test_a_printer_that_hangs_does_not_hold_up_another_kiosks_tickets(rt, client, tmp_path):
    import socket

    # A printer whose port never completes a connection: its listen backlog is full.
    dead = socket.socket()
    dead.bind(("127.0.0.1", 0))
    dead.listen(0)
    fillers = []
    for _ in range(4):
        filler = socket.socket()
        filler.setblocking(False)
        filler.connect_ex(dead.getsockname())
        fillers.append(filler)
    events = Recorder()
    rt.publisher.subscribe(events)
    try:
        slow = kiosk_with_printer(rt, f"network:127.0.0.1:{dead.getsockname()[1]}")
        good = kiosk_with_printer(rt, f"file:{tmp_path / 'good'}")
        client.post(URL, json={"service": "general-inquiry"}, headers=slow)
        client.post(URL, json={"service": "general-inquiry"}, headers=good)
        assert rt.spooler.drain(30)
    finally:
        for sock in [*fillers, dead]:
            sock.close()
    states = [e.payload["device"]["printer_state"] for e in events.events
              if e.name == "device.changed"]
    # The good kiosk's ticket printed while the dead printer was still timing out.
    assert states[0] == "ok" and states[1] in ("timeout", "offline")


def test_a_printer_low_on_paper_prints_and_tells_the_managers_to_bring_paper(
    rt, client, fake_printer_factory
):
    events = Recorder()
    rt.publisher.subscribe(events)
    fake = fake_printer_factory(paper_reply=PAPER_NEAR_END)
    kiosk = kiosk_with_printer(rt, f"network:127.0.0.1:{fake.port}")
    job = client.post(URL, json={"service": "general-inquiry"}, headers=kiosk).json["print"]["job"]
    assert rt.spooler.drain(30)
    assert job_state(rt, job) == ("printed", None)
    states = [e.payload["device"]["printer_state"] for e in events.events
              if e.name == "device.changed"]  # fmt: skip
    assert states == ["paper_low"]
    fake.paper_reply = PAPER_OK  # a new roll
    client.post(URL, json={"service": "general-inquiry"}, headers=kiosk)
    assert rt.spooler.drain(30)
    states = [e.payload["device"]["printer_state"] for e in events.events
              if e.name == "device.changed"]  # fmt: skip
    assert states == ["paper_low", "ok"]


def test_the_ticket_is_answered_while_its_printer_still_hangs(rt, client, monkeypatch):
    # A printer that takes the ticket and does not give the line back until the test
    # says so: the citizen has the ticket (201, shown on screen with its QR) meanwhile.
    import threading

    import taboor.server.spooler

    started, release = threading.Event(), threading.Event()

    class Hanging:
        def print_ticket(self, image, name, ticket=None):
            started.set()
            release.wait(30)
            return "ok"

        def status(self):
            return "ok"

    monkeypatch.setattr(taboor.server.spooler, "printer_from_spec", lambda spec: Hanging())
    kiosk = kiosk_with_printer(rt, "network:10.0.0.7:9100")
    response = client.post(URL, json={"service": "general-inquiry"}, headers=kiosk)
    assert response.status_code == 201 and response.json["label"] == "Q-001"
    job = response.json["print"]["job"]
    assert started.wait(30)  # the printer has the ticket, and has not finished
    assert job_state(rt, job) == ("queued", None)
    release.set()
    assert rt.spooler.drain(30)
    assert job_state(rt, job) == ("printed", None)


def _logo(path: Path) -> Path:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (300, 120), "white")
    ImageDraw.Draw(image).rectangle((20, 20, 280, 100), fill="black")
    image.save(path)
    return path


def _printed(folder: Path, label: str):
    (image,) = decode_raster((folder / f"{label}.escpos").read_bytes())
    return image.convert("1")


def test_the_centers_own_logo_wins_over_the_default_and_a_relative_path_is_the_instances(
    rt, client, tmp_path, monkeypatch
):
    import json
    from dataclasses import replace

    instance = Path(rt.settings.instance_path)
    _logo(instance / "all-centers.png")
    own = _logo(tmp_path / "midan.png")
    rt.spooler.logo = "all-centers.png"  # settings `ticket_logo`, relative to the instance
    monkeypatch.setattr(rt.spooler, "submit", lambda job_ids: None)  # printed below, by hand
    folder = tmp_path / "printed"
    kiosk = kiosk_with_printer(rt, f"file:{folder}")

    def printed_with(logo: Path) -> None:
        ticket = client.post(URL, json={"service": "general-inquiry"}, headers=kiosk).json
        job = ticket["print"]["job"]
        content = ticket_print(job_to_print(rt.db, job), str(logo))
        rt.spooler.print_job(job)
        expected = render_ticket(content, WIDTH_80MM).convert("1")
        bare = render_ticket(replace(content, logo_path=None), WIDTH_80MM)
        assert expected.height > bare.height  # the logo takes room at the top
        assert ImageChops.difference(_printed(folder, ticket["label"]), expected).getbbox() is None

    printed_with(instance / "all-centers.png")
    rt.db.atomic(lambda tx: tx.run(
        "UPDATE centers SET options = :o WHERE code = :c",
        {"o": json.dumps({"ticket_logo": str(own)}), "c": CENTER},
    ))  # fmt: skip
    printed_with(own)


def test_a_job_two_server_processes_both_resume_is_printed_once(rt, client, tmp_path):
    # Two processes of one instance (the scale-out path) start together and both find
    # the jobs a crash left queued: each job prints on one of them only.
    from taboor.server.app import create_app
    from taboor.server.operations.printing import claim

    folder = tmp_path / "printed"
    kiosk = kiosk_with_printer(rt, f"file:{folder}")
    rt.spooler.submit = lambda job_ids: None  # "crashed" before printing them
    tickets = [client.post(URL, json={"service": "general-inquiry"}, headers=kiosk).json
               for _ in range(6)]  # fmt: skip
    jobs = [ticket["print"]["job"] for ticket in tickets]
    seen_first = job_to_print(rt.db, jobs[0])
    seen_again = job_to_print(rt.db, jobs[0])
    assert claim(rt.db, seen_first, rt.now()) is True
    assert claim(rt.db, seen_again, rt.now()) is False  # read before the first took it
    other = create_app({"database_url": rt.settings.database_url,
                        "instance_path": rt.settings.instance_path}, clock=rt.clock)  # fmt: skip
    other_rt = other.extensions["taboor"]
    del rt.spooler.submit
    try:
        rt.spooler.resume()
        other_rt.spooler.resume()
        assert rt.spooler.drain(30) and other_rt.spooler.drain(30)
    finally:
        other_rt.spooler.close()
        other_rt.db.dispose()
    printed = sorted(p.name for p in folder.glob("*.escpos"))
    assert printed == [f"Q-{n:03d}.escpos" for n in range(2, 7)]  # job 1 was claimed above
    assert {job_state(rt, job) for job in jobs[1:]} == {("printed", None)}


def test_a_job_whose_printing_process_died_is_taken_again_once_its_lease_lapsed(
    rt, client, clock
):
    from taboor.server.operations.printing import CLAIM_LEASE_S, claim

    kiosk = kiosk_with_printer(rt, "file:/never-used")
    rt.spooler.submit = lambda job_ids: None
    job = client.post(URL, json={"service": "general-inquiry"}, headers=kiosk).json["print"]["job"]
    assert claim(rt.db, job_to_print(rt.db, job), rt.now())  # then that process died
    clock.advance(seconds=CLAIM_LEASE_S - 1)
    assert not claim(rt.db, job_to_print(rt.db, job), rt.now())  # it may still be printing
    clock.advance(seconds=2)
    assert claim(rt.db, job_to_print(rt.db, job), rt.now())
