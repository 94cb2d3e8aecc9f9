"""Shared helpers for the benchmarks: a Taboor server in a child process, percentiles."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.request import urlopen

ROOT = Path(__file__).resolve().parent.parent
TABOOR = str(Path(sys.executable).with_name("taboor"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile of `values` (p in 0..100)."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(p / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


@contextmanager
def taboor_server(extra_env: dict[str, str] | None = None):
    """Start `taboor run` on a fresh instance with the demo; yield (base_url, demo)."""
    with tempfile.TemporaryDirectory(prefix="taboor-bench-") as folder:
        # Printing is measured on its own (bench/printing.py): a thermal printer takes
        # ~2 s a ticket, so the issue path is measured without rendering every ticket.
        env = {
            "TABOOR_PRINTER": "none",
            **os.environ,
            "TABOOR_INSTANCE_PATH": folder,
            **(extra_env or {}),
        }
        demo = json.loads(
            subprocess.run(
                [TABOOR, "demo", "--json"], env=env, check=True, capture_output=True, text=True
            ).stdout
        )
        port = free_port()
        log = open(Path(folder) / "server.log", "w")
        proc = subprocess.Popen(
            [TABOOR, "run", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT
        )
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(200):
                try:
                    urlopen(base + "/api/v1/centers", timeout=1).read()
                    break
                except OSError:
                    time.sleep(0.05)
            else:
                raise RuntimeError("server did not start")
            yield base, demo
        finally:
            proc.terminate()
            try:
                proc.wait(20)  # open WebSockets hold a graceful stop up to its timeout
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)
            log.close()


def staff_token(conn, user: dict) -> str:
    """A staff member's bearer token over an open http.client connection."""
    conn.request(
        "POST",
        "/api/v1/auth/token",
        json.dumps({"username": user["username"], "password": user["password"]}),
        {"Content-Type": "application/json"},
    )
    return json.loads(conn.getresponse().read())["token"]
