"""Fixtures for the tests against a real PostgreSQL server.

They run only when TABOOR_TEST_POSTGRES_URL names a database the tests may wipe, e.g.

    export TABOOR_TEST_POSTGRES_URL=$(bash tests/services/postgres.sh | tail -1)

and are skipped otherwise. Each test gets an empty `public` schema, migrated to head,
with the demo loaded. The fixtures `app` and `demo` override the SQLite ones of
tests/conftest.py, so `rt`, `client`, `runner`, `kiosk`, `clerk` and `manager` from
there work here unchanged, on PostgreSQL.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.pool import NullPool

from taboor.server.app import create_app
from taboor.server.auth import SYSTEM
from taboor.server.migrate import upgrade
from taboor.server.operations.accounts import load_demo
from taboor.server.runtime import runtime
from tests.conftest import T0, Clock, Demo, settings_for

URL_VARIABLE = "TABOOR_TEST_POSTGRES_URL"


@pytest.fixture(scope="session")
def pg_url() -> str:
    url = os.environ.get(URL_VARIABLE, "").strip()
    if not url:
        pytest.skip(
            f"{URL_VARIABLE} is not set (start a server with: "
            f"export {URL_VARIABLE}=$(bash tests/services/postgres.sh | tail -1))"
        )
    if not url.startswith("postgresql"):
        pytest.fail(f"{URL_VARIABLE} must be a postgresql+psycopg:// URL, not {url!r}")
    try:
        import psycopg  # noqa: F401
    except ImportError:
        pytest.fail(f"{URL_VARIABLE} is set but psycopg is missing: pip install -e '.[postgres]'")
    return url


@pytest.fixture(scope="session")
def pg_admin(pg_url: str) -> Iterator[Engine]:
    """A connection source outside the app, for resetting the schema and plain SQL."""
    engine = create_engine(pg_url, poolclass=NullPool)
    yield engine
    engine.dispose()


def reset_schema(engine: Engine) -> None:
    """Drop everything in the test database (tables, types, Alembic's version row)."""
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))


@pytest.fixture
def pg_loaded(
    pg_url: str, pg_admin: Engine, tmp_path: Path, clock: Clock
) -> Iterator[tuple[object, Demo]]:
    """An app on the PostgreSQL database: fresh schema, migrated to head, demo loaded."""
    reset_schema(pg_admin)
    app = create_app({**settings_for(tmp_path), "database_url": pg_url}, clock=clock)
    app.config["TESTING"] = True
    try:
        with app.app_context():
            rt = runtime()
            assert rt.db.dialect == "postgresql"
            upgrade(rt.db.engine)
            demo = Demo(json.loads(json.dumps(load_demo(rt.db, actor=SYSTEM, now=T0))))
        yield app, demo
    finally:
        app.extensions["taboor"].db.dispose()


@pytest.fixture
def app(pg_loaded):
    return pg_loaded[0]


@pytest.fixture
def demo(pg_loaded) -> Demo:
    return pg_loaded[1]
