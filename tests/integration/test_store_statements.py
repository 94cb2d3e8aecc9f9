"""Every SQL statement of the data layer prepares against the migrated schema (SQLite).

The statements of server/store are module-level constants (or lists, tuples and dicts
of them), found here by reading the modules, so a new one is checked without being listed. Each is
prepared with `EXPLAIN`, every named parameter bound to NULL: the database resolves
every table and column without running anything, so a misspelt column fails here
before a use case meets it. tests/postgres/test_store_statements.py prepares the same
statements on PostgreSQL, through `Tx.run`'s own parameter translation.
"""

from __future__ import annotations

import importlib
import pkgutil
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from taboor.server import store
from taboor.server.store import _NAMED, Tx, stats, tickets
from tests.conftest import Demo

VERBS = ("SELECT", "INSERT", "UPDATE", "DELETE", "WITH")
# Row locks are PostgreSQL's: the store takes them only there.
POSTGRES_ONLY = "FOR UPDATE"


def _found(name: str, value: object) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        if value.lstrip().upper().startswith(VERBS):
            yield name, value
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from _found(f"{name}[{index}]", item)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _found(f"{name}[{key!r}]", item)


def statements() -> dict[str, str]:
    """Every statement of server/store, named `module.CONSTANT` (each text once)."""
    found: dict[str, str] = {}
    for info in sorted(pkgutil.iter_modules(store.__path__), key=lambda i: i.name):
        module = importlib.import_module(f"{store.__name__}.{info.name}")
        for name, value in vars(module).items():
            for key, sql in _found(f"{info.name}.{name}", value):
                if sql not in found.values():
                    found[key] = sql
    # Built at run time, each in its widest form: a ticket's change from the columns it
    # sets; a report's facts with every filter; stored groups of one dimension.
    found["tickets.update_ticket(all columns)"] = tickets._update_sql(
        tuple(sorted(tickets._UPDATABLE))
    )
    found["stats.ticket_facts(all filters)"] = stats._TICKET_FACTS + "".join(
        stats._FILTERS.values()
    )
    found["stats.stored_groups(one dimension)"] = stats._GROUPS + " AND dim = :dim"
    return found


STATEMENTS = statements()


def prepare(tx: Tx, sql: str) -> None:
    """Have the database plan `sql` without running it, every parameter NULL."""
    tx.run("EXPLAIN " + sql, dict.fromkeys(_NAMED.findall(sql)))


@pytest.fixture(scope="module")
def sqlite_tx(
    template: tuple[Path, Demo], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Tx]:
    """A cursor on a copy of the migrated database."""
    path = tmp_path_factory.mktemp("statements") / "taboor.sqlite3"
    shutil.copy(template[0], path)
    connection = sqlite3.connect(path)
    try:
        yield Tx(connection.cursor(), postgres=False)
    finally:
        connection.close()


@pytest.mark.parametrize(
    "name", [name for name, sql in STATEMENTS.items() if POSTGRES_ONLY not in sql]
)
def test_every_statement_of_the_data_layer_prepares_on_sqlite(sqlite_tx, name):
    prepare(sqlite_tx, STATEMENTS[name])


def test_a_misspelt_column_fails_to_prepare(sqlite_tx):
    misspelt = STATEMENTS["tickets._TICKET_BY_ID"].replace("t.label", "t.lable")
    with pytest.raises(sqlite3.OperationalError, match="lable"):
        prepare(sqlite_tx, misspelt)


def test_every_table_group_of_the_data_layer_has_its_statements_found():
    modules = {name.split(".")[0] for name in STATEMENTS}
    groups = {info.name for info in pkgutil.iter_modules(store.__path__)}
    assert modules == groups
    for name in ("tickets._CLAIM_SQLITE", "tickets._NEXT_WAITING_LOCKED",
                 "centers._ACTIVE_SERVICES", "events._CALLS_TODAY"):  # fmt: skip
        assert name in STATEMENTS


def test_statements_in_lists_and_dicts_are_found_and_fragments_are_not():
    value = {"one": ["SELECT 1", (" AND x = :x", "\nWITH a AS (SELECT 1) SELECT * FROM a")]}
    assert dict(_found("m.X", value)) == {
        "m.X['one'][0]": "SELECT 1",
        "m.X['one'][1][1]": "\nWITH a AS (SELECT 1) SELECT * FROM a",
    }
