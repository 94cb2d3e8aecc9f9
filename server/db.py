"""Engine and transactions.

The ticket use cases write through `Database.atomic()` and read through `reading()`, on
bare DB-API cursors (see server/store.py); catalog, accounts and the CLI use ORM sessions
from `write()` and `read()`.

On SQLite every write transaction starts with BEGIN IMMEDIATE: it takes the database's
single write lock up front (waiting up to the busy timeout), so a transaction never
has to upgrade a read lock, which SQLite would refuse under concurrency. Reads start a
plain deferred transaction and, in WAL mode, never wait for writers.
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import TypeVar

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from taboor.config import Settings
from taboor.server.store import Tx

T = TypeVar("T")


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


class WriterLock:
    """SQLite's one writer, handed over without sleeping.

    Threads of a process queue on a mutex; processes (several server workers, the
    CLI) queue on an flock of a file beside the database. Both wake the next waiter
    the moment the lock is released, where SQLite's own busy handler would sleep and
    retry (up to 100 ms a time, which collapses throughput under load).
    """

    def __init__(self, database: str | None) -> None:
        self._mutex = threading.Lock()
        self._path = f"{database}-writer.lock" if database and database != ":memory:" else None
        self._fd: int | None = None

    def __enter__(self) -> None:
        self._mutex.acquire()
        if self._path is None:
            return
        try:
            if self._fd is None:
                self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
            fcntl.flock(self._fd, fcntl.LOCK_EX)
        except BaseException:
            self._mutex.release()
            raise

    def __exit__(self, *exc: object) -> None:
        try:
            if self._fd is not None:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            self._mutex.release()

    def close(self) -> None:
        """Drop the lock file's descriptor (a forked child must open its own)."""
        with self._mutex:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None


class _Job:
    """One caller's work in the group-commit queue, and how its caller is woken."""

    __slots__ = ("work", "result", "error", "done", "lead", "wake")

    def __init__(self, work: Callable[[Tx], object]) -> None:
        self.work = work
        self.result: object = None
        self.error: Exception | None = None
        self.done = False
        self.lead = False  # this caller runs the next batch
        self.wake = threading.Event()  # set when done, or when made the leader


class Database:
    """One engine and the two kinds of transaction the app uses."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name
        self._write_lock = WriterLock(engine.url.database) if self.dialect == "sqlite" else None
        self._queue: list[_Job] = []
        self._queue_lock = threading.Lock()
        self._leading = False  # a caller is running (or about to run) a batch
        self._write = sessionmaker(engine, expire_on_commit=False)
        self._read_engine = engine.execution_options(taboor_read=True)
        self._read = sessionmaker(self._read_engine, expire_on_commit=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> Database:
        return cls(make_engine(settings))

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A session in one write transaction: committed on success, rolled back on error."""
        with self._write_lock or nullcontext(), self._write.begin() as session:
            yield session

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for reading; closing it ends the transaction without a commit."""
        with self._read() as session:
            yield session

    @contextmanager
    def _begin(self) -> Iterator[Tx]:
        """Begin on a pooled DB-API connection; commit on success, else roll back."""
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

    def atomic(self, work: Callable[[Tx], T]) -> T:
        """Run `work` in a write transaction and return its result once committed.

        On SQLite, concurrent callers share transactions (group commit): whoever holds
        the writer lock runs every waiting caller's work, each inside its own
        savepoint, and commits once for all of them. A caller whose work raises gets
        its own error and leaves no trace; the others are unaffected. One commit
        (and, with synchronous=FULL, one fsync) then serves a whole batch, which is
        what lets a busy center's kiosks be fast and durable at the same time.
        """
        if self._write_lock is None:  # PostgreSQL: row locks, no global writer
            with self._begin() as tx:
                return work(tx)
        job = _Job(work)
        with self._queue_lock:
            self._queue.append(job)
            if not self._leading:
                self._leading = job.lead = True
        if not job.lead:
            job.wake.wait()
        if not job.done:  # made the leader: run one batch, this job and all queued since
            self._lead_one_batch(job)
        if job.error is not None:
            raise job.error
        return job.result  # type: ignore[return-value]

    def _lead_one_batch(self, own: _Job) -> None:
        """Run the queued jobs as one batch, then hand the lead to the oldest waiter.

        Only the leader takes the writer lock; every other caller waits on its own
        job and is woken once, when its batch has committed (or when the lead passes
        to it). So a caller is answered after at most the batch already running and
        its own, in arrival order, however many kiosks press at once.
        """
        try:
            with self._write_lock:
                self._run_batch()
        except BaseException:
            # The lock itself failed (the batch never ran): the caller gets the error,
            # so its work must not run in the next leader's batch behind its back.
            with self._queue_lock:
                if not own.done and own in self._queue:
                    self._queue.remove(own)
            raise
        finally:
            with self._queue_lock:
                successor = self._queue[0] if self._queue else None
                if successor is None:
                    self._leading = False
                else:
                    successor.lead = True
            if successor is not None:
                successor.wake.set()

    def _run_batch(self) -> None:
        """Run the queued jobs in one transaction (the writer lock is held)."""
        with self._queue_lock:
            batch = list(self._queue)
            self._queue.clear()
        try:
            with self._begin() as tx:
                for job in batch:
                    tx.cursor.execute("SAVEPOINT job")
                    try:
                        job.result = job.work(tx)
                    except Exception as exc:  # the job's own failure, for its caller
                        tx.cursor.execute("ROLLBACK TO job")
                        job.error = exc
                    tx.cursor.execute("RELEASE job")
        except Exception as exc:  # the commit itself failed: nobody's work is kept
            for job in batch:
                job.result, job.error = None, exc
        except BaseException:
            for job in batch:
                job.result, job.error = None, RuntimeError("transaction interrupted")
            raise
        finally:
            for job in batch:
                job.done = True
                job.wake.set()

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
        """Close every pooled connection and the writer lock's file.

        Call it before forking a server worker: SQLite connections and lock files
        must never be shared across processes (the child opens its own)."""
        self.engine.dispose()
        if self._write_lock is not None:
            self._write_lock.close()
