"""The data layer: SQL on a bare DB-API cursor, for SQLite and PostgreSQL alike.

One module per group of tables (`centers` with services, `counters`, `tickets`, `events`,
`printing`, `devices`, `users`) holds the statements, as module-level constants, each
beside the small function that runs it and decodes its rows by column name into typed
rows; use cases, read views and pages call these functions, and never write SQL of
their own.

Issuing and calling tickets happen on every kiosk press and every clerk click. Through
SQLAlchemy each statement costs about 0.1 ms of Python before SQLite even sees it;
on the DB-API cursor it costs a tenth of that. So the ticket use cases write plain
SQL (named `:parameters`, portable between the two backends), and this module
translates parameters and values: SQLite stores times as text in SQLAlchemy's
format, PostgreSQL as naive UTC timestamps. The schema stays defined by the models
and migrations; tests/integration/test_store_statements.py (and its PostgreSQL twin)
prepares every statement of this package against it.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

_NAMED = re.compile(r"(?<![:\w]):(\w+)")


@functools.cache
def _pyformat(sql: str) -> str:
    return _NAMED.sub(r"%(\1)s", sql.replace("%", "%%"))


class Tx:
    """A cursor inside one transaction, plus the value conversions of its backend."""

    __slots__ = ("cursor", "postgres")

    def __init__(self, cursor: Any, *, postgres: bool) -> None:
        self.cursor = cursor
        self.postgres = postgres

    def run(self, sql: str, params: Mapping[str, object] | None = None) -> Any:
        return self.cursor.execute(_pyformat(sql) if self.postgres else sql, params or {})

    def one(self, sql: str, params: Mapping[str, object] | None = None) -> tuple | None:
        self.run(sql, params)
        return self.cursor.fetchone()

    def scalar(self, sql: str, params: Mapping[str, object] | None = None) -> Any:
        row = self.one(sql, params)
        return None if row is None else row[0]

    def all(self, sql: str, params: Mapping[str, object] | None = None) -> list[tuple]:
        self.run(sql, params)
        return self.cursor.fetchall()

    def column(self, sql: str, params: Mapping[str, object] | None = None) -> list[Any]:
        """The value of every row of a one-column statement."""
        return [value for (value,) in self.all(sql, params)]

    def mapping(
        self, sql: str, params: Mapping[str, object] | None = None
    ) -> dict[str, Any] | None:
        """The first row as a dict by column name, or None."""
        row = self.one(sql, params)
        return None if row is None else dict(zip(self._names(), row, strict=True))

    def mappings(
        self, sql: str, params: Mapping[str, object] | None = None
    ) -> list[dict[str, Any]]:
        """Every row as a dict by column name."""
        rows = self.all(sql, params)
        names = self._names()
        return [dict(zip(names, row, strict=True)) for row in rows]

    def _names(self) -> list[str]:
        return [column[0] for column in self.cursor.description]

    # values in
    def time(self, value: datetime | None) -> object:
        """A time to bind: on SQLite, text in SQLAlchemy's own DateTime format."""
        if value is None:
            return None
        utc = value.astimezone(UTC).replace(tzinfo=None)
        return utc if self.postgres else utc.isoformat(" ", "microseconds")

    def day(self, value: date) -> object:
        return value if self.postgres else value.isoformat()

    # values out
    @staticmethod
    def read_time(value: object) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC)

    @staticmethod
    def read_json(value: object) -> Any:
        """A JSON column: text on SQLite, already decoded on PostgreSQL."""
        return json.loads(value) if isinstance(value, str) else value

    @staticmethod
    def read_day(value: object) -> date:
        if isinstance(value, str):
            return date.fromisoformat(value)
        assert isinstance(value, date)
        return value
