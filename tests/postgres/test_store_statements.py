"""Every SQL statement of the data layer prepares against the migrated schema (PostgreSQL).

The same statements as tests/integration/test_store_statements.py, row locks included,
prepared with `EXPLAIN` through `Tx.run` (which turns `:name` into psycopg's
`%(name)s`), every parameter NULL. Skipped unless TABOOR_TEST_POSTGRES_URL is set.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, create_engine
from sqlalchemy.pool import NullPool

from taboor.server.db import Database
from taboor.server.migrate import upgrade
from taboor.server.store import Tx
from tests.integration.test_store_statements import STATEMENTS, prepare
from tests.postgres.conftest import reset_schema


@pytest.fixture(scope="module")
def migrated(pg_url: str, pg_admin: Engine) -> Iterator[Database]:
    """The test database, empty and migrated to head, once for this module."""
    reset_schema(pg_admin)
    engine = create_engine(pg_url, poolclass=NullPool)
    upgrade(engine)
    yield Database(engine)
    engine.dispose()


@pytest.fixture
def pg_tx(migrated: Database) -> Iterator[Tx]:
    """A cursor in a transaction of its own (a failed statement spoils only its own)."""
    with migrated.reading() as tx:
        assert tx.postgres
        yield tx


@pytest.mark.parametrize("name", list(STATEMENTS))
def test_every_statement_of_the_data_layer_prepares_on_postgres(pg_tx, name):
    prepare(pg_tx, STATEMENTS[name])


def test_a_misspelt_column_fails_to_prepare_on_postgres(pg_tx):
    import psycopg  # here: without a server to test, the module needs no driver

    misspelt = STATEMENTS["tickets._TICKET_BY_ID"].replace("t.label", "t.lable")
    with pytest.raises(psycopg.errors.UndefinedColumn, match="lable"):
        prepare(pg_tx, misspelt)
