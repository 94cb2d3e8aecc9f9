"""The scale-out path: two server processes, one SQLite file, one Redis message queue.

Behind a load balancer a kiosk may reach one process and a display another. With
`message_queue` set, what one process commits reaches the displays connected to every
process, once and in order; and the two processes still number tickets without a gap.
Runs against a real Redis server (`tests/services/redis.sh`, started by `tests/run`).
"""

from __future__ import annotations

import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import socketio

from tests.browser.conftest import Server

REDIS = os.environ.get("TABOOR_TEST_REDIS_URL", "")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not REDIS,
        reason="TABOOR_TEST_REDIS_URL is not set (start a server with: export "
        "TABOOR_TEST_REDIS_URL=$(bash tests/services/redis.sh | tail -1))",
    ),
]


@pytest.fixture
def two_servers(tmp_path):
    env = {"TABOOR_MESSAGE_QUEUE": REDIS}
    first = Server(tmp_path, env)
    second = Server(tmp_path, env, demo=first.demo)  # the same instance: same database
    try:
        first.start()
        second.start()
        yield first, second
    finally:
        second.stop()
        first.stop()


def _display(server: Server, heard: list[tuple[str, int]], lock: threading.Lock):
    client = socketio.Client(reconnection=False)

    @client.on("*")
    def every_event(name, payload=None):
        if isinstance(payload, dict) and "seq" in payload:
            with lock:
                heard.append((name, payload["seq"]))

    client.connect(server.base, auth={"token": server.device("display")["token"]},
                   transports=["websocket"], wait_timeout=10)  # fmt: skip
    assert client.call("join", {"center": server.center}, timeout=10)["ok"]
    return client


def test_a_display_on_one_process_hears_what_the_other_committed_once_in_order(two_servers):
    first, second = two_servers
    heard: list[tuple[str, int]] = []
    lock = threading.Lock()
    display = _display(first, heard, lock)
    try:
        for _ in range(3):
            second.issue("civil-extract-individual")  # a kiosk on the other process
        desk = first.user("clerk")
        clerk = first.staff_token(desk)  # a clerk on this one
        counter = desk["counter_id"]
        assert first.api("POST", f"/api/v1/counters/{counter}/open", clerk)[0] == 200
        status, called = first.api("POST", f"/api/v1/counters/{counter}/next", clerk)
        assert status == 200 and called["number"] == 1
        deadline = time.monotonic() + 30  # a liveness bound, not a speed claim
        while time.monotonic() < deadline:
            with lock:
                if len(heard) >= 5:
                    break
            time.sleep(0.05)
        time.sleep(0.5)  # anything delivered twice would arrive by now
    finally:
        display.disconnect()
    names = [name for name, _ in heard]
    seqs = [seq for _, seq in heard]
    assert names == ["ticket.issued"] * 3 + ["counter.changed", "ticket.called"]
    assert seqs == list(range(seqs[0], seqs[0] + 5))  # every event once, in order


def test_kiosks_on_both_processes_get_unique_gapless_numbers(two_servers):
    first, second = two_servers
    service = "justice-no-conviction"

    def issue(n: int) -> int:
        return (first if n % 2 else second).issue(service)["number"]

    with ThreadPoolExecutor(16) as pool:
        numbers = sorted(pool.map(issue, range(120)))
    assert numbers == list(range(1, 121))
