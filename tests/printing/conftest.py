"""Fixtures for the printing tests: the demo ticket and a fake ESC/POS printer on loopback."""

from __future__ import annotations

import socket
import socketserver
import threading
from collections.abc import Iterator
from dataclasses import replace

import pytest
from PIL import Image, ImageOps

from taboor.printers.escpos_raster import PAPER_STATUS
from taboor.printers.fonts import BASIC, RAQM, raqm_available
from taboor.printers.layout import TicketPrint
from taboor.printers.sample import SAMPLE_TICKET

ENGINES = [
    pytest.param(RAQM, marks=pytest.mark.skipif(not raqm_available(), reason="no libraqm")),
    BASIC,
]


@pytest.fixture
def ticket() -> TicketPrint:
    return SAMPLE_TICKET


@pytest.fixture(params=["ar", "en"])
def any_lang_ticket(request: pytest.FixtureRequest) -> TicketPrint:
    return replace(SAMPLE_TICKET, lang=request.param)


def ink_bbox(image: Image.Image) -> tuple[int, int, int, int] | None:
    """Bounding box of the black dots of a bilevel image."""
    return ImageOps.invert(image.convert("L")).getbbox()


class FakePrinter(socketserver.ThreadingTCPServer):
    """A raw port 9100 printer: records every byte, answers DLE EOT 4 if told to."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, paper_reply: bytes | None = b"\x12", reads: bool = True) -> None:
        self.paper_reply = paper_reply
        self.reads = reads
        self.received = bytearray()
        self.finished = 0  # connections that reached end of stream
        self.changed = threading.Condition()
        self.release = threading.Event()  # lets a printer that never reads go
        super().__init__(("127.0.0.1", 0), _FakeHandler)

    @property
    def port(self) -> int:
        return self.server_address[1]

    def wait_finished(self, connections: int = 1, timeout: float = 5) -> bool:
        """Wait until that many connections were read to their end."""
        with self.changed:
            return self.changed.wait_for(lambda: self.finished >= connections, timeout)


class _FakeHandler(socketserver.BaseRequestHandler):
    server: FakePrinter

    def handle(self) -> None:
        fake = self.server
        sock: socket.socket = self.request
        if not fake.reads:
            fake.release.wait(30)
            return
        data = bytearray()
        answered = False
        while chunk := sock.recv(65536):
            data += chunk
            if not answered and fake.paper_reply is not None and data.startswith(PAPER_STATUS):
                sock.sendall(fake.paper_reply)
                answered = True
        with fake.changed:
            fake.received += data
            fake.finished += 1
            fake.changed.notify_all()


@pytest.fixture
def fake_printer_factory() -> Iterator:
    servers: list[FakePrinter] = []

    def start(**options: object) -> FakePrinter:
        server = FakePrinter(**options)  # type: ignore[arg-type]
        servers.append(server)
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}).start()
        return server

    yield start
    for server in servers:
        server.release.set()
        server.shutdown()
        server.server_close()


@pytest.fixture
def closed_port() -> int:
    """A loopback port with nothing listening on it."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
