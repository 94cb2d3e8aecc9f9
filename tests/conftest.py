"""Shared fixtures: an app on a real SQLite file with the demo center, and a fixed clock."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from taboor.server.app import create_app
from taboor.server.auth import SYSTEM
from taboor.server.operations.accounts import load_demo
from taboor.server.runtime import runtime

SECRET = "test-secret-key-not-for-production"
# A Sunday morning in Damascus (UTC+3): 09:00 local.
T0 = datetime(2026, 3, 1, 6, 0, tzinfo=UTC)


class Clock:
    """A clock that moves only when told to."""

    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


def settings_for(folder: Path) -> dict[str, object]:
    return {
        "instance_path": str(folder),
        "database_url": f"sqlite:///{folder / 'taboor.sqlite3'}",
        "secret_key": SECRET,
        # Tests do not need to survive a power cut; they need to be quick.
        "sqlite_synchronous": "NORMAL",
        # Printing is switched on by the tests about printing.
        "printer": "none",
    }


@dataclass
class Demo:
    """The demo credentials, as `taboor demo --json` prints them."""

    data: dict

    @property
    def center(self) -> str:
        return self.data["center"]

    def user(self, role: str, index: int = 0) -> dict:
        return [u for u in self.data["users"] if u["role"] == role][index]

    def device(self, kind: str) -> dict:
        return next(d for d in self.data["devices"] if d["kind"] == kind)

    @property
    def clerks(self) -> list[dict]:
        return [u for u in self.data["users"] if u["role"] == "clerk"]


@pytest.fixture(scope="session")
def template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Demo]:
    """A migrated database with the demo loaded, made once and copied into each test."""
    folder = tmp_path_factory.mktemp("template")
    app = create_app(settings_for(folder), clock=Clock())
    with app.app_context():
        from taboor.server.migrate import upgrade

        rt = runtime()
        upgrade(rt.db.engine)
        demo = load_demo(rt.db, actor=SYSTEM, now=T0)
        rt.db.dispose()  # the last connection out checkpoints the WAL into the file
    return folder / "taboor.sqlite3", Demo(json.loads(json.dumps(demo)))


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def demo(template: tuple[Path, Demo]) -> Demo:
    return template[1]


@pytest.fixture
def app(tmp_path: Path, template: tuple[Path, Demo], clock: Clock) -> Iterator:
    shutil.copy(template[0], tmp_path / "taboor.sqlite3")
    app = create_app(settings_for(tmp_path), clock=clock)
    app.config["TESTING"] = True
    yield app
    app.extensions["taboor"].spooler.close()
    app.extensions["taboor"].db.dispose()


@pytest.fixture
def rt(app):
    with app.app_context():
        yield runtime()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def login(client, user: dict) -> dict[str, str]:
    """Authorization headers for a demo staff user."""
    response = client.post(
        "/api/v1/auth/token", json={"username": user["username"], "password": user["password"]}
    )
    assert response.status_code == 200, response.json
    return bearer(response.json["token"])


@pytest.fixture
def kiosk(demo: Demo) -> dict[str, str]:
    return bearer(demo.device("kiosk")["token"])


@pytest.fixture
def clerk(client, demo: Demo) -> dict[str, str]:
    """Clerk of counter 1 (serves the civil-registry extracts)."""
    return login(client, demo.clerks[0])


@pytest.fixture
def manager(client, demo: Demo) -> dict[str, str]:
    return login(client, demo.user("manager"))
