"""Browser tests: a real `taboor run` process and real headless Chromium (Debian's).

Playwright drives Debian's Chromium through `executable_path` (its own browser
download does not work offline); `tests/services/browser.sh` installs Chromium and
`tests/run` exports its path as TABOOR_TEST_CHROMIUM.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.error import HTTPError
from urllib.request import Request, urlopen

import pytest

TABOOR = str(Path(sys.executable).with_name("taboor"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`taboor run` on 127.0.0.1 with the demo loaded; can be stopped and started again."""

    def __init__(
        self, folder: Path, extra_env: dict[str, str] | None = None, demo: dict | None = None
    ) -> None:
        """`demo`: the demo of a server already made in `folder` (a second process of
        the same instance); without it the demo is loaded afresh."""
        self.folder = folder
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "TABOOR_INSTANCE_PATH": str(folder),
            "TABOOR_PRINTER": "none",
            "TABOOR_SQLITE_SYNCHRONOUS": "NORMAL",
            **(extra_env or {}),
        }
        self.log_file = folder / ("server.log" if demo is None else f"server-{self.port}.log")
        self.demo = demo or json.loads(
            subprocess.run(
                [TABOOR, "demo", "--json"], env=self.env, check=True, capture_output=True,
                text=True,
            ).stdout
        )  # fmt: skip
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        log = open(self.log_file, "a")  # noqa: SIM115 - closed with the process
        self.proc = subprocess.Popen(
            [TABOOR, "run", "--port", str(self.port)],
            env=self.env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        log.close()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                urlopen(self.base + "/api/v1/centers", timeout=1).read()
                return
            except OSError:
                if self.proc.poll() is not None:
                    break
                time.sleep(0.05)
        raise RuntimeError("taboor run did not start:\n" + self.log())

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None

    def log(self) -> str:
        return self.log_file.read_text(errors="replace")

    def user(self, role: str, index: int = 0) -> dict:
        return [u for u in self.demo["users"] if u["role"] == role][index]

    def device(self, kind: str) -> dict:
        return next(d for d in self.demo["devices"] if d["kind"] == kind)

    @property
    def center(self) -> str:
        return self.demo["center"]

    def api(self, method: str, path: str, token: str | None = None, body=None):
        """Call the JSON API as any client would: (status, decoded body or None)."""
        request = Request(self.base + path, method=method,
                          data=None if body is None else json.dumps(body).encode())  # fmt: skip
        request.add_header("Accept", "application/json")
        if body is not None:
            request.add_header("Content-Type", "application/json")
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        try:
            with urlopen(request, timeout=10) as response:
                raw = response.read()
                return response.status, json.loads(raw) if raw else None
        except HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"null")

    def issue(self, service: str, **extra: object) -> dict:
        """Issue a ticket the way a kiosk does (its device token, the JSON API)."""
        path = f"/api/v1/centers/{self.center}/tickets"
        body = {"service": service, **extra}
        status, ticket = self.api("POST", path, self.device("kiosk")["token"], body)
        assert status == 201, ticket
        return ticket

    def staff_token(self, user: dict) -> str:
        """A staff member's bearer token."""
        status, answer = self.api("POST", "/api/v1/auth/token", body={
            "username": user["username"], "password": user["password"]})  # fmt: skip
        assert status == 200, answer
        return answer["token"]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One Taboor server per test module."""
    srv = Server(tmp_path_factory.mktemp("browser-server"))
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()


def chromium_path() -> str:
    path = os.environ.get("TABOOR_TEST_CHROMIUM") or shutil.which("chromium")
    if not path:
        pytest.fail("Chromium is missing: run `bash tests/services/browser.sh` (tests/run does)")
    return path


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """Debian's Chromium, headless, driven by Playwright."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def new_page(browser) -> Iterator:
    """Make pages in fresh browser contexts (no shared cookies or storage); all closed after."""
    contexts = []

    def make(viewport: dict[str, int] | None = None):
        context = browser.new_context(viewport=viewport or {"width": 1280, "height": 800})
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        return page

    yield make
    for context in contexts:
        context.close()


def login(page, base: str, username: str, password: str, next_path: str = "/") -> None:
    """Sign a staff member in through the login form."""
    page.goto(f"{base}/login?next={next_path}")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
