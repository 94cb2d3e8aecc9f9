"""Engine and transactions. Operations write through `Database.write()`, reads use `read()`.

On SQLite every write transaction starts with BEGIN IMMEDIATE: it takes the database's
single write lock up front (waiting up to the busy timeout), so a transaction never
has to upgrade a read lock, which SQLite would refuse under concurrency. Reads start a
plain deferred transaction and, in WAL mode, never wait for writers.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from config import Settings
from server.store import Tx


def _sqlite_engine(url: str, settings: Settings) -> Engine:
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    # SQLite connections are cheap to keep: a roomy pool means request threads never
    # open and close connections under load (SQLite itself serialises the writers).
    engine = create_engine(
        url,
        connect_args={"timeout": settings.sqlite_busy_timeout_ms / 1000},
        pool_size=32,
        max_overflow=64,
        pool_use_lifo=True,  # reuse the warmest connection (its page cache is hot)
    )
    synchronous = settings.sqlite_synchronous.upper()

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):  # noqa: ANN001
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.execute(f"PRAGMA busy_timeout={int(settings.sqlite_busy_timeout_ms)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):  # noqa: ANN001
        if conn.get_execution_options().get("taboor_read"):
            conn.exec_driver_sql("BEGIN")
        else:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def make_engine(settings: Settings) -> Engine:
    url = settings.database_url
    if url.startswith("sqlite"):
        return _sqlite_engine(url, settings)
    return create_engine(url, pool_size=20, max_overflow=20, pool_pre_ping=True)


class Database:
    """One engine and the two kinds of transaction the app uses."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name
        self._write_lock = threading.Lock() if self.dialect == "sqlite" else None
        self._write = sessionmaker(engine, expire_on_commit=False)
        self._read_engine = engine.execution_options(taboor_read=True)
        self._read = sessionmaker(self._read_engine, expire_on_commit=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> Database:
        return cls(make_engine(settings))

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A session in one write transaction: committed on success, rolled back on error."""
        if self._write_lock is None:
            with self._write.begin() as session:
                yield session
            return
        # SQLite has one writer at a time. Threads of this process queue on a lock
        # and hand over at once, instead of backing off in SQLite's busy handler
        # (which sleeps up to 100 ms per retry and collapses throughput under load).
        with self._write_lock, self._write.begin() as session:
            yield session

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for reading; closing it ends the transaction without a commit."""
        with self._read() as session:
            yield session

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        """One write transaction on a bare DB-API connection (the hot path)."""
        with self._write_lock or nullcontext():
            raw = self.engine.raw_connection()
            try:
                cursor = raw.cursor()
                if self.dialect == "sqlite":
                    cursor.execute("BEGIN IMMEDIATE")
                yield Tx(cursor, postgres=self.dialect == "postgresql")
                raw.commit()
            except BaseException:
                raw.rollback()
                raise
            finally:
                raw.close()

    @contextmanager
    def reading(self) -> Iterator[Tx]:
        """One consistent read on a bare DB-API connection; nothing is committed."""
        raw = self._read_engine.raw_connection()
        try:
            cursor = raw.cursor()
            if self.dialect == "sqlite":
                cursor.execute("BEGIN")
            yield Tx(cursor, postgres=self.dialect == "postgresql")
        finally:
            raw.rollback()
            raw.close()

    def dispose(self) -> None:
        self.engine.dispose()
