"""A minimal asyncio Socket.IO client for load tests: many displays in one process.

A python-socketio `Client` runs threads of its own, so a few hundred of them on the
benchmark machine measure the clients more than the server. This client speaks just
enough of the protocols to stand for a hall display: a WebSocket (RFC 6455, client
frames masked) carrying Engine.IO 4 (`0` open, `2`/`3` ping/pong, `4` message) and
Socket.IO 5 (`40` connect with auth, `42` event, `42<id>` event with ack, `43<id>`
ack). It connects, authenticates with a token, joins a center and reports the
arrival time of every event named in `watch`. Only for bench/; pages use the official
client from npm.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import struct
import time
from collections.abc import Callable
from urllib.parse import urlsplit

OP_TEXT, OP_CLOSE, OP_PING, OP_PONG = 0x1, 0x8, 0x9, 0xA


class Display:
    """One WebSocket connection in a center room."""

    def __init__(self, base: str, token: str, center: str) -> None:
        parts = urlsplit(base)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.token = token
        self.center = center
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def connect(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        key = base64.b64encode(os.urandom(16)).decode()
        self.writer.write(
            (
                "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\n"
                f"Host: {self.host}:{self.port}\r\n"
                "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )
        status = await self.reader.readline()
        if b" 101 " not in status:
            raise ConnectionError(f"handshake refused: {status!r}")
        while await self.reader.readline() not in (b"\r\n", b""):
            pass
        opened = await self.recv()
        if not opened.startswith("0"):
            raise ConnectionError(f"expected an Engine.IO open packet, got {opened[:40]!r}")
        await self.send("40" + json.dumps({"token": self.token}))
        answer = await self.recv_message()
        if not answer.startswith("0"):
            raise ConnectionError(f"Socket.IO connect refused: {answer[:200]!r}")
        await self.send("420" + json.dumps(["join", {"center": self.center}]))
        joined = await self.recv_message()
        if not joined.startswith("30") or not json.loads(joined[2:])[0].get("ok"):
            raise ConnectionError(f"join refused: {joined[:200]!r}")

    async def send(self, text: str) -> None:
        payload = text.encode()
        mask = os.urandom(4)
        length = len(payload)
        if length < 126:
            header = struct.pack("!BB", 0x80 | OP_TEXT, 0x80 | length)
        elif length < 65536:
            header = struct.pack("!BBH", 0x80 | OP_TEXT, 0x80 | 126, length)
        else:
            header = struct.pack("!BBQ", 0x80 | OP_TEXT, 0x80 | 127, length)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        assert self.writer is not None
        self.writer.write(header + mask + masked)
        await self.writer.drain()

    async def recv(self) -> str:
        """The next text frame (answers WebSocket pings on the way)."""
        assert self.reader is not None and self.writer is not None
        while True:
            first, second = await self.reader.readexactly(2)
            opcode, length = first & 0x0F, second & 0x7F
            if length == 126:
                (length,) = struct.unpack("!H", await self.reader.readexactly(2))
            elif length == 127:
                (length,) = struct.unpack("!Q", await self.reader.readexactly(8))
            data = await self.reader.readexactly(length)
            if opcode == OP_TEXT:
                return data.decode()
            if opcode == OP_PING:
                mask = os.urandom(4)
                masked = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
                self.writer.write(struct.pack("!BB", 0x80 | OP_PONG, 0x80 | length) + mask + masked)
            elif opcode == OP_CLOSE:
                raise ConnectionError("the server closed the WebSocket")

    async def recv_message(self) -> str:
        """The next Socket.IO packet, Engine.IO's `4` taken off (answers pings on the way)."""
        while True:
            packet = await self.recv()
            if packet == "2":
                await self.send("3")
            elif packet.startswith("4"):
                return packet[1:]

    async def listen(self, watch: str, on_event: Callable[[dict, float], None]) -> None:
        """Call `on_event(payload, arrival)` for each `watch` event until cancelled."""
        prefix = f'2["{watch}",'
        while True:
            message = await self.recv_message()
            if message.startswith(prefix):
                arrival = time.perf_counter()
                on_event(json.loads(message[1:])[1], arrival)

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            try:
                await self.writer.wait_closed()
            except (ConnectionError, OSError):
                pass
