"""Nothing lost, nothing called twice: 16 kiosks and 16 clerks at once on a SQLite file."""

import random
import threading
from collections import Counter as Tally
from collections import defaultdict

import pytest
import requests
from sqlalchemy import func, select
from werkzeug.serving import make_server

from taboor.server.audit import verify_all
from taboor.server.auth import SYSTEM
from taboor.server.domain.tickets import Action
from taboor.server.models import Center, Counter, CounterService, Event, Service, Ticket
from taboor.server.operations import counters as counter_ops
from taboor.server.operations import tickets as ops

pytestmark = pytest.mark.slow

CENTER = "DAM-MIDAN"
SERVICES = ["civil-extract-individual", "civil-family-statement", "justice-no-conviction",
            "general-inquiry"]
KIOSKS, CLERKS, PER_KIOSK = 16, 16, 25


def _add_counters(rt, numbers: range) -> None:
    """Extra counters serving every test service, so that 16 clerks each have one."""
    with rt.db.write() as session:
        center = session.scalar(select(Center).where(Center.code == CENTER))
        services = session.scalars(select(Service).where(
            Service.center_id == center.id, Service.code.in_(SERVICES))).all()
        assert len(services) == len(SERVICES)
        for number in numbers:
            counter = Counter(center_id=center.id, number=number, state="closed")
            counter.links = [CounterService(service_id=s.id, position=i)
                             for i, s in enumerate(services)]
            session.add(counter)


def _run_all(threads: list[threading.Thread]) -> None:
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
        assert not t.is_alive(), "a worker hung"


def test_concurrent_kiosks_and_clerks_lose_nothing_and_call_nothing_twice(rt):
    _add_counters(rt, range(13, 17))
    with rt.db.read() as session:
        counter_ids = list(session.scalars(select(Counter.id).join(Counter.center).where(
            Center.code == CENTER).order_by(Counter.number)))[:CLERKS]
    for cid in counter_ids:
        counter_ops.set_counter_state(rt.db, cid, "open", actor=SYSTEM, now=rt.now())

    issued: list[dict] = []
    called: list[int] = []
    errors: list[BaseException] = []
    kiosks_done = threading.Event()
    lock = threading.Lock()
    start = threading.Barrier(KIOSKS + CLERKS)

    def kiosk(seed: int) -> None:
        rng = random.Random(seed)
        try:
            start.wait()
            for _ in range(PER_KIOSK):
                ticket = ops.issue(rt.db, CENTER, rng.choice(SERVICES), actor=SYSTEM,
                                   now=rt.now(), head_starts_s=rt.settings.head_starts_s(),
                                   priority=rng.choice(["normal"] * 5 + ["elderly"])).body
                with lock:
                    issued.append(ticket)
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)

    def clerk(cid: int) -> None:
        try:
            start.wait()
            while True:
                finished = kiosks_done.is_set()
                ticket = ops.call_next(rt.db, cid, actor=SYSTEM, now=rt.now()).body
                if ticket is None:
                    if finished:
                        return
                    kiosks_done.wait(0.01)  # like a clerk, do not hammer an empty queue
                    continue
                with lock:
                    called.append(ticket["id"])
                ops.act(rt.db, ticket["id"], Action.START, actor=SYSTEM, now=rt.now())
                ops.act(rt.db, ticket["id"], Action.FINISH, actor=SYSTEM, now=rt.now())
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    kiosk_threads = [threading.Thread(target=kiosk, args=(i,)) for i in range(KIOSKS)]
    clerk_threads = [threading.Thread(target=clerk, args=(cid,)) for cid in counter_ids]
    for t in kiosk_threads + clerk_threads:
        t.start()
    for t in kiosk_threads:
        t.join(timeout=120)
    kiosks_done.set()
    for t in clerk_threads:
        t.join(timeout=120)
        assert not t.is_alive()
    assert not errors, errors[:3]

    total = KIOSKS * PER_KIOSK
    assert len(issued) == total
    # Every ticket called exactly once.
    assert len(called) == total
    assert Tally(called).most_common(1)[0][1] == 1
    assert set(called) == {t["id"] for t in issued}
    # Numbers 1..n per service, no gap, no duplicate.
    numbers: dict[str, list[int]] = defaultdict(list)
    for ticket in issued:
        numbers[ticket["service"]].append(ticket["number"])
    for service, got in numbers.items():
        assert sorted(got) == list(range(1, len(got) + 1)), service
    with rt.db.read() as session:
        states = dict(
            session.execute(select(Ticket.state, func.count()).group_by(Ticket.state)).all()
        )
        assert states == {"done": total}
        calls = session.scalar(select(func.count()).select_from(Event)
                               .where(Event.type == "ticket.called"))
        assert calls == total
        assert all(problem is None for problem in verify_all(session).values())


def test_concurrent_kiosks_over_http_get_unique_gapless_numbers(app, demo):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}/api/v1/centers/{CENTER}/tickets"
    headers = {"Authorization": f"Bearer {demo.device('kiosk')['token']}"}
    results: list[tuple[int, dict]] = []
    lock = threading.Lock()
    start = threading.Barrier(KIOSKS)

    def kiosk(seed: int) -> None:
        rng = random.Random(seed)
        with requests.Session() as http:
            start.wait()
            for _ in range(15):
                response = http.post(url, json={"service": rng.choice(SERVICES[:2])},
                                     headers=headers, timeout=30)
                with lock:
                    results.append((response.status_code, response.json()))

    try:
        _run_all([threading.Thread(target=kiosk, args=(i,)) for i in range(KIOSKS)])
    finally:
        server.shutdown()
    assert {status for status, _ in results} == {201}
    by_service: dict[str, list[int]] = defaultdict(list)
    for _, ticket in results:
        by_service[ticket["service"]].append(ticket["number"])
    for got in by_service.values():
        assert sorted(got) == list(range(1, len(got) + 1))
    assert len({ticket["public_id"] for _, ticket in results}) == len(results)
