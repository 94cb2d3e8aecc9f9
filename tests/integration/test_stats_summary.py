"""Stored day and month summaries: equal to computing from tickets, and kept true by the
transactions that change tickets and counters (server/reports.py)."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from taboor.server import reports
from taboor.server.auth import SYSTEM, Principal
from taboor.server.domain.stats import Scope, build_report, local_midnight
from taboor.server.domain.tickets import Action
from taboor.server.models import Counter, Service, User
from taboor.server.operations import counters as counter_ops
from taboor.server.operations import tickets as ops
from taboor.server.store.stats import counter_intervals, ticket_facts
from tests.unit.test_stats_summary import assert_same_figures

CENTER = "DAM-MIDAN"
EXTRACT = "civil-extract-individual"
FAMILY = "civil-family-statement"
DAYS = [date(2026, 3, 1), date(2026, 3, 2), date(2026, 3, 3), date(2026, 3, 4)]
TODAY = date(2026, 3, 5)


def local(day: date, hour: int, minute: int = 0) -> datetime:
    """A wall-clock time in Damascus (UTC+3), as UTC."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC) - timedelta(hours=3)


class Floor:
    """Drives the operations at chosen times."""

    def __init__(self, rt, clock) -> None:
        self.rt, self.clock = rt, clock
        with rt.db.read() as session:
            self.counter = session.scalar(select(Counter.id).join(Counter.center).where(
                Counter.number == 1, Counter.center.has(code=CENTER)))  # fmt: skip
            user = session.scalar(select(User).where(User.username == "clerk01"))
            # clerk01 works at counter 1: the tickets it handles have a clerk.
            self.clerk = Principal("user", user.id, "clerk", user.center_id, self.counter)

    def at(self, when: datetime) -> None:
        self.clock.now = when

    def issue(self, service: str = EXTRACT) -> dict:
        return ops.issue(self.rt.db, CENTER, service, actor=SYSTEM, now=self.clock.now,
                         head_starts_s=self.rt.settings.head_starts_s()).body  # fmt: skip

    def counter_state(self, state: str) -> None:
        counter_ops.set_counter_state(
            self.rt.db, self.counter, state, actor=self.clerk, now=self.clock.now
        )

    def next(self) -> dict:
        return ops.call_next(self.rt.db, self.counter, actor=self.clerk, now=self.clock.now).body

    def act(self, ticket: dict, action: Action) -> None:
        ops.act(self.rt.db, ticket["id"], action, actor=self.clerk, now=self.clock.now)

    def day(self, day: date, minutes: int) -> dict:
        """A morning at counter 1: served, implausibly quick, no-show; one left waiting."""
        self.at(local(day, 8))
        self.counter_state("open")
        first, second, third = self.issue(), self.issue(FAMILY), self.issue()
        self.at(local(day, 8, minutes))
        t = self.next()
        self.act(t, Action.START)
        self.at(local(day, 8, minutes + 5))
        self.act(t, Action.FINISH)
        self.at(local(day, 9))
        t = self.next()
        self.act(t, Action.START)
        self.act(t, Action.FINISH)  # zero seconds: implausible
        self.at(local(day, 9, 30))
        self.act(self.next(), Action.NO_SHOW)
        self.at(local(day, 10))
        self.counter_state("paused")
        self.at(local(day, 10, 15))
        self.counter_state("open")
        left = self.issue()
        self.at(local(day, 12))
        self.counter_state("closed")
        assert {first["id"], second["id"], third["id"]} and left["state"] == "waiting"
        return left

    def report(self, first: date, last: date, **filters: str) -> dict:
        with self.rt.db.reading() as tx:
            return reports.center_report(tx, CENTER, now=self.clock.now, from_day=str(first),
                                         to_day=str(last), **filters)  # fmt: skip

    def exact(self, first: date, last: date, **filters: str) -> dict:
        """The report computed from tickets, however many days it covers."""
        with self.rt.db.reading() as tx:
            center = reports.find_center(tx, CENTER)
            scope = Scope(str(center["timezone"]), first, last, **filters)
            start, end = scope.window()
            facts = ticket_facts(tx, center["id"], start, end)
            intervals = counter_intervals(tx, center["id"], start, min(end, self.clock.now))
            sla = dict(tx.all("SELECT code, sla_minutes FROM services WHERE center_id = :c",
                              {"c": center["id"]}))  # fmt: skip
            return {"center": CENTER, **build_report(facts, intervals, sla, scope).to_dict()}

    def summarise(self, first: date, last: date, **filters: str) -> int:
        return reports.summarise(self.rt.db, CENTER, now=self.clock.now, from_day=str(first),
                                 to_day=str(last), **filters)  # fmt: skip

    def stored(self, filters: str = "") -> list[tuple[str, date]]:
        """The stored periods made with `filters` ("" for none)."""
        with self.rt.db.reading() as tx:
            rows = tx.all("SELECT span, first_day FROM stats_periods WHERE filters = :f"
                          " ORDER BY span, first_day", {"f": filters})  # fmt: skip
            return [(span, tx.read_day(day)) for span, day in rows]


@pytest.fixture
def floor(rt, clock):
    """Four days of tickets (1 to 4 March 2026), then the morning of the 5th."""
    f = Floor(rt, clock)
    f.left = [f.day(day, 2 + i) for i, day in enumerate(DAYS)]
    f.at(local(TODAY, 9))
    f.issue()  # today's ticket: in reports, never in a stored summary
    return f


def test_a_report_over_days_is_the_same_from_stored_summaries_and_equals_the_exact_one(floor):
    computed = floor.report(DAYS[0], TODAY)
    assert floor.summarise(DAYS[0], TODAY) == 4
    assert floor.stored() == [("day", d) for d in DAYS]  # today is not closed yet
    stored = floor.report(DAYS[0], TODAY)
    assert stored == computed
    assert_same_figures(floor.exact(DAYS[0], TODAY), stored)
    assert stored["issued"] == 17 and stored["implausible"] == 4
    assert stored["percentiles"]["method"] == "histogram"
    assert floor.summarise(DAYS[0], TODAY) == 0  # nothing left to store


def test_a_late_change_to_a_past_days_ticket_is_reflected_in_the_report(floor):
    floor.summarise(DAYS[0], DAYS[-1])
    before = floor.report(DAYS[0], DAYS[-1])["by_day"]["2026-03-02"]
    floor.act(floor.left[1], Action.CANCEL)  # today, a clerk cancels a ticket of the 2nd
    assert ("day", DAYS[1]) not in floor.stored()  # forgotten with the change
    assert ("day", DAYS[0]) in floor.stored()  # the month's other days stay
    after = floor.report(DAYS[0], DAYS[-1])["by_day"]["2026-03-02"]
    assert (after["pending"], after["cancelled"]) == (before["pending"] - 1, 1)
    floor.summarise(DAYS[0], DAYS[-1])
    assert floor.report(DAYS[0], DAYS[-1])["by_day"]["2026-03-02"] == after
    assert_same_figures(floor.exact(DAYS[0], DAYS[-1]), floor.report(DAYS[0], DAYS[-1]))


def test_a_late_call_of_a_past_days_ticket_is_reflected_in_the_report(floor):
    floor.summarise(DAYS[0], DAYS[-1])
    floor.counter_state("open")
    ops.call_ticket(floor.rt.db, floor.counter, floor.left[0]["id"], reason="came back",
                    actor=SYSTEM, now=floor.clock.now)  # fmt: skip
    report = floor.report(DAYS[0], DAYS[-1])
    assert report["by_day"]["2026-03-01"]["out_of_order"] == 1
    assert_same_figures(floor.exact(DAYS[0], DAYS[-1]), report)


def test_a_whole_closed_month_is_stored_and_forgotten_when_one_of_its_days_changes(rt, clock):
    f = Floor(rt, clock)
    feb10 = f.day(date(2026, 2, 10), 3)
    f.day(date(2026, 2, 20), 4)
    f.at(local(TODAY, 9))
    first, last = date(2026, 2, 1), DAYS[-1]
    f.summarise(first, last)
    assert ("month", date(2026, 2, 1)) in f.stored()
    assert len([s for s in f.stored() if s[0] == "day"]) == 28 + 4  # every day, even empty
    with_month = f.report(first, last)
    assert_same_figures(f.exact(first, last), with_month)
    f.act(feb10, Action.CANCEL)
    assert not {("month", date(2026, 2, 1)), ("day", date(2026, 2, 10))} & set(f.stored())
    assert f.report(first, last)["cancelled"] == with_month["cancelled"] + 1
    f.summarise(first, last)
    assert ("month", date(2026, 2, 1)) in f.stored()
    assert_same_figures(f.exact(first, last), f.report(first, last))


def test_a_counter_change_forgets_the_summaries_of_its_day_and_after(floor):
    floor.summarise(DAYS[0], DAYS[-1])
    floor.at(local(DAYS[2], 13))  # a clock set back (or a report made from the future)
    floor.counter_state("open")
    assert floor.stored() == [("day", DAYS[0]), ("day", DAYS[1])]


def test_a_changed_sla_target_makes_stored_summaries_stale(floor):
    floor.summarise(DAYS[0], DAYS[-1])
    strict = floor.report(DAYS[0], DAYS[-1])
    with floor.rt.db.write() as session:
        session.execute(update(Service).where(Service.code == EXTRACT).values(sla_minutes=1))
    report = floor.report(DAYS[0], DAYS[-1])
    assert report["sla"]["within"] < strict["sla"]["within"]
    assert_same_figures(floor.exact(DAYS[0], DAYS[-1]), report)
    assert floor.summarise(DAYS[0], DAYS[-1]) == 4  # all four rebuilt on the new basis
    assert floor.report(DAYS[0], DAYS[-1]) == report


def test_summarise_leaves_out_a_day_that_changed_after_it_was_read(floor):
    db = floor.rt.db
    with db.reading() as tx:
        req = reports._Request(tx, CENTER, floor.clock.now, str(DAYS[0]), str(DAYS[-1]))
        seq = tx.scalar("SELECT event_seq FROM centers WHERE code = :c", {"c": CENTER})
        summaries = req.summarise(tx, DAYS[0], DAYS[-1])
    floor.act(floor.left[2], Action.CANCEL)  # the 3rd changes while the summaries are made
    assert reports._write(db, req, seq, list(summaries.values())) == 3
    assert floor.stored() == [("day", d) for d in DAYS if d != DAYS[2]]
    assert_same_figures(floor.exact(DAYS[0], DAYS[-1]), floor.report(DAYS[0], DAYS[-1]))


def test_a_one_day_report_is_computed_exactly_from_tickets(floor):
    assert floor.summarise(DAYS[1], DAYS[1]) == 0
    floor.summarise(DAYS[0], DAYS[-1])
    one = floor.report(DAYS[1], DAYS[1])
    assert one["percentiles"] == {"method": "exact"}
    assert one == floor.exact(DAYS[1], DAYS[1])


@pytest.mark.parametrize(
    "filters",
    [
        {"service": FAMILY},
        {"counter": "1"},
        {"clerk": "clerk01"},
        {"service": EXTRACT, "counter": "1"},
    ],
)
def test_a_filtered_report_over_days_merges_summaries_made_with_its_filters(floor, filters):
    computed = floor.report(DAYS[0], DAYS[-1], **filters)
    assert floor.summarise(DAYS[0], DAYS[-1], **filters) == 4
    key = reports.json.dumps([filters.get(k) for k in ("service", "counter", "clerk")],
                             separators=(",", ":"))  # fmt: skip
    assert floor.stored(key) == [("day", d) for d in DAYS] and floor.stored() == []
    stored = floor.report(DAYS[0], DAYS[-1], **filters)
    assert stored == computed and stored["filters"] == {"service": None, "counter": None,
                                                         "clerk": None, **filters}  # fmt: skip
    assert stored["issued"] > 0
    assert_same_figures(floor.exact(DAYS[0], DAYS[-1], **filters), stored)
    floor.act(floor.left[1], Action.CANCEL)  # a change forgets the day for every filter
    assert ("day", DAYS[1]) not in floor.stored(key)
    assert_same_figures(floor.exact(DAYS[0], DAYS[-1], **filters),
                        floor.report(DAYS[0], DAYS[-1], **filters))  # fmt: skip


@pytest.mark.parametrize("filters", [{"counter": "x"}, {"counter": "99"}, {"clerk": "nobody"},
                                     {"service": "nope"}, {"counter": "9" * 30}])  # fmt: skip
def test_a_filter_that_names_nothing_matches_nothing_and_stores_nothing(floor, filters):
    assert floor.summarise(DAYS[0], DAYS[-1], **filters) == 0
    assert floor.report(DAYS[0], DAYS[-1], **filters)["issued"] == 0
    with floor.rt.db.reading() as tx:
        assert tx.scalar("SELECT count(*) FROM stats_periods") == 0


def test_the_counter_intervals_of_a_window_start_from_the_state_before_it(floor):
    # Counter 1 opened at 08:00 and paused at 10:00 on the 1st: a window from 09:00 sees
    # it open from 09:00, without reading the events before the window.
    with floor.rt.db.reading() as tx:
        center_id = reports.find_center(tx, CENTER)["id"]
        zone_day = local_midnight(DAYS[0], ZoneInfo("Asia/Damascus"))
        intervals = counter_intervals(
            tx, center_id, zone_day + timedelta(hours=9), zone_day + timedelta(hours=11)
        )
    assert [(i.state, i.start.hour, i.end.hour, i.end.minute) for i in intervals] == [
        ("open", 6, 7, 0),
        ("paused", 7, 7, 15),
        ("open", 7, 8, 0),
    ]
