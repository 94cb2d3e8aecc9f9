"""The gevent live mode (`live_mode = "gevent"`): the same contract from one event loop.

A real `taboor run` process in that mode: displays connected over WebSocket get each
committed event once, and concurrent kiosks still get unique, gapless numbers.
"""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.request import Request, urlopen

import pytest
import socketio

from tests.browser.conftest import Server

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def gevent_server(tmp_path_factory: pytest.TempPathFactory):
    srv = Server(tmp_path_factory.mktemp("gevent"), {"TABOOR_LIVE_MODE": "gevent"})
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()


def post(base: str, path: str, token: str, body: dict | None = None) -> dict:
    request = Request(
        base + path,
        data=json.dumps(body or {}).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="POST",
    )
    with urlopen(request, timeout=30) as response:
        return json.loads(response.read() or b"null")


def test_displays_get_every_committed_event_once_in_gevent_mode(gevent_server):
    srv = gevent_server
    displays, received, lock = [], [], threading.Lock()
    try:
        for _ in range(5):
            client = socketio.Client(reconnection=False)
            client.on("ticket.issued", lambda p: (lock.acquire(), received.append(p["seq"]),
                                                  lock.release()))  # fmt: skip
            client.connect(srv.base, auth={"token": srv.device("display")["token"]},
                           transports=["websocket"], wait_timeout=10)  # fmt: skip
            assert client.call("join", {"center": srv.center}, timeout=10)["ok"]
            displays.append(client)
        kiosk = srv.device("kiosk")["token"]
        for _ in range(3):
            post(srv.base, f"/api/v1/centers/{srv.center}/tickets", kiosk,
                 {"service": "civil-extract-individual"})  # fmt: skip
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with lock:
                if len(received) >= 15:
                    break
            time.sleep(0.05)
        with lock:
            assert len(received) == 15
            assert len(set(received)) == 3  # three events, each reached all five displays
    finally:
        for client in displays:
            client.disconnect()


def test_concurrent_kiosks_get_unique_gapless_numbers_in_gevent_mode(gevent_server):
    srv = gevent_server
    kiosk = srv.device("kiosk")["token"]
    service = "justice-no-conviction"

    def issue(_: int) -> int:
        return post(srv.base, f"/api/v1/centers/{srv.center}/tickets", kiosk,
                    {"service": service})["number"]  # fmt: skip

    with ThreadPoolExecutor(16) as pool:
        numbers = sorted(pool.map(issue, range(160)))
    assert numbers == list(range(1, 161))
