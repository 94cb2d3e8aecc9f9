"""The scale-out path on a real PostgreSQL server: schema, concurrency, HTTP cycle, audit,
printing and stored statistics.

Skipped unless TABOOR_TEST_POSTGRES_URL is set (see conftest.py and
tests/services/postgres.sh). Every test starts from an empty schema migrated to head.
"""

import inspect

import pytest
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import func, select, text
from sqlalchemy import inspect as schema_of

from taboor.server.audit import verify_all
from taboor.server.migrate import alembic_config
from taboor.server.models import Base, Center, Counter, Event, Service, User
from tests.conftest import login
from tests.integration import test_concurrency as sqlite_concurrency
from tests.integration.test_calling_order import play_random_queue
from tests.integration.test_stats_summary import floor  # noqa: F401  (a fixture, shared)

CENTER = "DAM-MIDAN"
EXTRACT = "civil-extract-individual"


def _run_shared_test(test, request: pytest.FixtureRequest) -> None:
    """Run a test written for SQLite with this directory's (PostgreSQL) fixtures."""
    test(**{name: request.getfixturevalue(name) for name in inspect.signature(test).parameters})


@pytest.mark.parametrize("seed", range(4))
def test_postgres_calls_in_the_order_of_pick_next(rt, clock, seed):
    called, listed, expected = play_random_queue(rt, clock, seed)
    assert called == expected
    assert listed == expected


def test_migrations_upgrade_to_head_and_the_demo_loads(rt, demo):
    engine = rt.db.engine
    assert engine.dialect.name == "postgresql"
    head = ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
    with engine.connect() as conn:
        assert MigrationContext.configure(conn).get_current_revision() == head
        tables = set(schema_of(conn).get_table_names())
    assert set(Base.metadata.tables) <= tables
    with rt.db.read() as session:
        center = session.scalar(select(Center).where(Center.code == CENTER))
        assert center is not None and center.timezone == "Asia/Damascus"
        assert session.scalar(select(func.count()).select_from(Service)
                              .where(Service.center_id == center.id)) > 0
        assert session.scalar(select(func.count()).select_from(Counter)
                              .where(Counter.center_id == center.id)) == len(demo.clerks)
        assert session.scalar(select(func.count()).select_from(User)) == len(demo.data["users"])
        # The demo's own admin changes are on the chain, and it verifies on PostgreSQL.
        assert session.scalar(select(func.count()).select_from(Event)) > 0
        assert all(problem is None for problem in verify_all(session).values())


@pytest.mark.slow
def test_concurrent_kiosks_and_clerks_lose_nothing_and_call_nothing_twice(rt, request):
    """16 kiosks and 16 clerks at once: `FOR UPDATE SKIP LOCKED` and the row locks."""
    assert rt.db.dialect == "postgresql"
    _run_shared_test(
        sqlite_concurrency.test_concurrent_kiosks_and_clerks_lose_nothing_and_call_nothing_twice,
        request,
    )


@pytest.mark.slow
def test_concurrent_kiosks_over_http_get_unique_gapless_numbers(app, request):
    assert app.extensions["taboor"].db.dialect == "postgresql"
    _run_shared_test(
        sqlite_concurrency.test_concurrent_kiosks_over_http_get_unique_gapless_numbers, request
    )


def test_full_ticket_cycle_over_http_with_409_on_a_wrong_transition(client, kiosk, demo, clock):
    issued = client.post(f"/api/v1/centers/{CENTER}/tickets", json={"service": EXTRACT},
                         headers=kiosk)
    assert issued.status_code == 201, issued.json
    ticket = issued.json
    assert ticket["label"] == "A-001" and ticket["state"] == "waiting"
    assert ticket["position"] == 1 and ticket["issued_at"].endswith("Z")

    clerk_user = demo.clerks[0]
    clerk = login(client, clerk_user)
    counter = clerk_user["counter_id"]
    opened = client.post(f"/api/v1/counters/{counter}/open", headers=clerk)
    assert opened.status_code == 200 and opened.json["state"] == "open"

    clock.advance(minutes=3)
    called = client.post(f"/api/v1/counters/{counter}/next", headers=clerk)
    assert called.status_code == 200, called.json
    assert called.json["id"] == ticket["id"] and called.json["state"] == "called"
    assert called.json["counter"] == 1

    # Starting twice is a wrong transition: 409 with the error contract.
    clock.advance(seconds=30)
    started = client.post(f"/api/v1/tickets/{ticket['id']}/start", headers=clerk)
    assert started.status_code == 200 and started.json["state"] == "serving"
    again = client.post(f"/api/v1/tickets/{ticket['id']}/start", headers=clerk)
    assert again.status_code == 409
    assert again.json["error"]["code"] == "invalid_transition" and again.json["error"]["message"]

    clock.advance(minutes=4)
    done = client.post(f"/api/v1/tickets/{ticket['id']}/done", headers=clerk)
    assert done.status_code == 200 and done.json["state"] == "done"
    body = done.json
    assert body["issued_at"] < body["called_at"] < body["started_at"] < body["finished_at"]
    no_show = client.post(f"/api/v1/tickets/{ticket['id']}/no-show", headers=clerk)
    assert no_show.status_code == 409 and no_show.json["error"]["code"] == "invalid_transition"

    status = client.get(f"/api/v1/tickets/{ticket['public_id']}")
    assert status.status_code == 200 and status.json["state"] == "done"
    assert client.post(f"/api/v1/counters/{counter}/next", headers=clerk).status_code == 204


def test_audit_verify_reports_the_seq_of_an_event_edited_with_sql(rt, runner, kiosk, client,
                                                                  pg_admin):
    for _ in range(3):
        response = client.post(f"/api/v1/centers/{CENTER}/tickets", json={"service": EXTRACT},
                               headers=kiosk)
        assert response.status_code == 201
    with rt.db.read() as session:
        assert all(problem is None for problem in verify_all(session).values())
        target = session.scalars(select(Event).where(Event.type == "ticket.issued")
                                 .order_by(Event.seq)).all()[1]
    result = runner.invoke(args=["audit", "verify", "--center", CENTER])
    assert result.exit_code == 0, result.output

    # Someone with database access rewrites history behind the application's back.
    with pg_admin.begin() as conn:
        edited = conn.execute(text("UPDATE events SET data = :data WHERE id = :id"),
                              {"data": '{"label": "A-099"}', "id": target.id})
        assert edited.rowcount == 1

    with rt.db.read() as session:
        problem = verify_all(session, [CENTER])[CENTER]
    assert problem is not None and problem.seq == target.seq
    result = runner.invoke(args=["audit", "verify", "--center", CENTER])
    assert result.exit_code == 1
    assert f"BROKEN at event {target.seq}" in result.output


@pytest.mark.parametrize("name", [
    "test_a_job_whose_printing_process_died_is_taken_again_once_its_lease_lapsed",
    "test_a_kiosk_ticket_is_printed_after_the_commit_as_the_rendered_image",
    "test_a_job_two_server_processes_both_resume_is_printed_once",
])  # fmt: skip
def test_print_job_rules_hold_on_postgresql(rt, name, request):
    from tests.printing import test_server_printing

    assert rt.db.dialect == "postgresql"
    _run_shared_test(getattr(test_server_printing, name), request)


@pytest.mark.parametrize("name", [
    "test_a_report_over_days_is_the_same_from_stored_summaries_and_equals_the_exact_one",
    "test_a_late_change_to_a_past_days_ticket_is_reflected_in_the_report",
    "test_summarise_leaves_out_a_day_that_changed_after_it_was_read",
    "test_the_counter_intervals_of_a_window_start_from_the_state_before_it",
])  # fmt: skip
def test_stored_statistics_rules_hold_on_postgresql(rt, name, request):
    from tests.integration import test_stats_summary

    assert rt.db.dialect == "postgresql"
    _run_shared_test(getattr(test_stats_summary, name), request)
