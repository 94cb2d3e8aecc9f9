"""Statistics for a center-year: 1,000,000 tickets with their events, then daily,
monthly and yearly reports timed through the code path of the API.

    .venv/bin/python bench/stats_year.py [--tickets 1000000] [--days 300] [--seed 7]
                                         [--repeat 5] [--filters]

The year is simulated (one center, 40 counters, 38 services, a clerk per counter and a
few substitutes; arrivals peak mid-morning; counters open, pause and close; the queue
follows the calling rule; some no-shows, recalls, transfers, cancellations, calls out
of order and implausibly short services) and written straight into an SQLite file in
one bulk transaction, hash chain included (`taboor audit verify` accepts it). The file
is cached under /tmp keyed by the parameters, so a rerun only times the reports.

Each run first forgets the cached statistics summaries, times the first report of each
range (which summarises the days it needs), then `--repeat` more of each.
"""

from __future__ import annotations

import argparse
import hashlib
import heapq
import json
import os
import random
import secrets
import sqlite3
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from zoneinfo import ZoneInfo

from common import percentile

from taboor.config import load_settings
from taboor.server import reports
from taboor.server.auth import SYSTEM
from taboor.server.db import Database
from taboor.server.domain import chain
from taboor.server.migrate import upgrade
from taboor.server.operations.catalog import DEMO_CATALOG, apply_catalog, read_catalog

# Bump when the generated data changes shape, so stale cached files are not reused.
GENERATOR_VERSION = 1
CENTER = "BENCH-YEAR"
TIMEZONE = "Asia/Damascus"
COUNTERS = 40
SUBSTITUTES = 8
FIRST_DAY = date(2025, 1, 1)
HOLIDAYS = {date(2025, 1, 1), date(2025, 3, 30), date(2025, 3, 31), date(2025, 4, 17),
            date(2025, 5, 1), date(2025, 6, 6), date(2025, 6, 7), date(2025, 6, 8),
            date(2025, 6, 26), date(2025, 9, 4), date(2025, 10, 6), date(2025, 12, 25)}  # fmt: skip
HEAD_START_S = {"normal": 0, "elderly": 900, "disabled": 900, "appointment": 1800}
# Arrivals per local hour from 08:00 to 15:59 (relative weights).
ARRIVALS_BY_HOUR = [1.0, 1.3, 1.4, 1.3, 1.1, 1.0, 0.9, 0.7]
WEEKDAY_LOAD = {5: 0.85, 6: 1.15, 0: 1.1, 1: 1.0, 2: 1.0, 3: 0.9}  # Sat..Thu (Fri closed)
OPENS_S, LAST_ISSUE_S, LAST_CALL_S = 8 * 3600, 16 * 3600, 16 * 3600 + 1800
# Share of tickets with each twist (the rest: called, started, done).
P_ABANDON, P_NO_SHOW, P_TRANSFER, P_CANCEL_CALLED = 0.015, 0.04, 0.02, 0.005
P_RECALL, P_OUT_OF_ORDER, P_IMPLAUSIBLE = 0.05, 0.01, 0.01
TARGET_LOAD = 0.75  # the floor's utilisation the service times are scaled to


def demand(rank: int) -> float:
    """Relative demand for the service at `rank` in the catalog (the extracts lead)."""
    return 1 / (rank + 1) ** 0.7


def business_days(count: int) -> list[date]:
    """`count` business days from FIRST_DAY: Saturday to Thursday, minus holidays."""
    days, day = [], FIRST_DAY
    while len(days) < count:
        if day.weekday() != 4 and day not in HOLIDAYS:
            days.append(day)
        day += timedelta(days=1)
    return days


# --- the simulated floor ----------------------------------------------------------


@dataclass
class Sim:
    """One ticket as the simulation moves it; times in seconds after local midnight."""

    id: int
    service: int
    issued: float
    effective: float
    priority: str
    number: int
    label: str
    state: str = "waiting"
    counter: int | None = None
    clerk: int | None = None
    called: float | None = None
    started: float | None = None
    finished: float | None = None
    recalls: int = 0
    out_of_order: bool = False
    reason: str | None = None
    transferred_from: int | None = None
    patience: float | None = None
    events: list[tuple] = field(default_factory=list)


@dataclass
class Desk:
    """A counter on one day: its services, clerk, pause and state."""

    id: int
    number: int
    services: list[int]
    clerk: int
    opens: float
    pause_at: float
    pause_s: float
    state: str = "closed"
    idle: bool = False
    pause_due: bool = False
    paused_once: bool = False


class Floor:
    """A day of the center: arrivals, the calling rule at each counter, outcomes."""

    def __init__(self, rng: random.Random, catalog: Catalog, desks: list[Desk]) -> None:
        self.rng, self.catalog, self.desks = rng, catalog, desks
        self.queues: dict[int, list[tuple[float, int]]] = {s: [] for s in catalog.services}
        self.tickets: dict[int, Sim] = {}
        self.counter_events: list[tuple] = []
        self.agenda: list[tuple[float, int, str, int]] = []
        self._n = 0
        self.by_service: dict[int, list[Desk]] = {s: [] for s in catalog.services}
        for desk in desks:
            for s in desk.services:
                self.by_service[s].append(desk)

    def at(self, when: float, kind: str, what: int) -> None:
        self._n += 1
        heapq.heappush(self.agenda, (when, self._n, kind, what))

    def counter_change(self, desk: Desk, when: float, to: str) -> None:
        self.counter_events.append((when, desk, desk.state, to))
        desk.state = to

    def run(self, tickets: list[Sim]) -> None:
        for t in tickets:
            self.tickets[t.id] = t
            self.at(t.issued, "arrive", t.id)
            if t.patience is not None:
                self.at(t.issued + t.patience, "abandon", t.id)
        for desk in self.desks:
            self.at(desk.opens, "open", desk.id)
            self.at(desk.pause_at, "pause", desk.id)
            self.at(LAST_CALL_S, "closing", desk.id)
        by_id = {d.id: d for d in self.desks}
        while self.agenda:
            now, _, kind, what = heapq.heappop(self.agenda)
            if kind == "arrive":
                t = self.tickets[what]
                t.events.append((now, "ticket.issued", None, None))
                self.enqueue(t, now)
            elif kind == "requeue":
                self.enqueue(self.tickets[what], now)
            elif kind == "abandon":
                t = self.tickets[what]
                if t.state == "waiting":
                    t.state, t.finished = "cancelled", now
                    t.events.append((now, "ticket.cancelled", None, None))
            elif kind == "open":
                desk = by_id[what]
                self.counter_change(desk, now, "open")
                self.free(desk, now)
            elif kind == "pause":
                desk = by_id[what]
                if desk.idle and desk.state == "open":
                    self.take_pause(desk, now)
                else:
                    desk.pause_due = True
            elif kind == "free":
                self.free(by_id[what], now)
            elif kind == "closing":
                desk = by_id[what]
                if desk.idle and desk.state == "open":
                    desk.idle = False
                    self.counter_change(desk, now, "closed")

    def enqueue(self, t: Sim, now: float) -> None:
        heapq.heappush(self.queues[t.service], (t.effective, t.id))
        idle = [d for d in self.by_service[t.service] if d.idle and d.state == "open"]
        if idle:
            self.free(self.rng.choice(idle), now)

    def take_pause(self, desk: Desk, now: float) -> None:
        desk.idle, desk.pause_due, desk.paused_once = False, False, True
        self.counter_change(desk, now, "paused")
        back = now + desk.pause_s
        self.counter_events.append((back, desk, "paused", "open"))
        desk.state = "open"
        self.at(back, "free", desk.id)

    def next_for(self, desk: Desk) -> Sim | None:
        best: tuple[float, int] | None = None
        for s in desk.services:
            queue = self.queues[s]
            while queue and self.tickets[queue[0][1]].state != "waiting":
                heapq.heappop(queue)  # called elsewhere, cancelled, or moved on
            if queue and (best is None or queue[0] < best):
                best = queue[0]
        if best is None:
            return None
        t = self.tickets[best[1]]
        heapq.heappop(self.queues[t.service])
        return t

    def free(self, desk: Desk, now: float) -> None:
        """The counter is free at `now`: pause, close, or call the next ticket."""
        if desk.state != "open":
            return
        if desk.pause_due and not desk.paused_once:
            self.take_pause(desk, now)
            return
        if now >= LAST_CALL_S:
            desk.idle = False
            self.counter_change(desk, now, "closed")
            return
        t = self.next_for(desk)
        if t is None:
            desk.idle = True
            return
        desk.idle = False
        self.at(self.serve(desk, t, now), "free", desk.id)

    def serve(self, desk: Desk, t: Sim, now: float) -> float:
        """Call `t` at `desk` and play its outcome; when the counter is free again."""
        rng = self.rng
        first_call = t.called is None
        t.state, t.counter, t.clerk, t.called = "called", desk.id, desk.clerk, now
        if first_call and rng.random() < P_OUT_OF_ORDER:
            t.out_of_order, t.reason = True, "urgent case"
        t.events.append((now, "ticket.called", desk.id, desk.clerk))
        r = rng.random()
        if r < P_NO_SHOW:
            for i in range(rng.randint(0, 2)):
                t.recalls += 1
                t.events.append((now + 60 * (i + 1), "ticket.called", desk.id, desk.clerk))
            end = now + 60 * (t.recalls + 1)
            t.state, t.finished = "no_show", end
            t.events.append((end, "ticket.no_show", desk.id, desk.clerk))
            return end + 5
        r -= P_NO_SHOW
        if r < P_CANCEL_CALLED:
            end = now + rng.uniform(20, 90)
            t.state, t.finished = "cancelled", end
            t.events.append((end, "ticket.cancelled", desk.id, desk.clerk))
            return end + 5
        r -= P_CANCEL_CALLED
        start = now + rng.uniform(10, 40)
        if rng.random() < P_RECALL:
            t.recalls += 1
            t.events.append((now + 45, "ticket.called", desk.id, desk.clerk))
            start += 45
        t.state, t.started = "serving", start
        t.events.append((start, "ticket.started", desk.id, desk.clerk))
        if r < P_TRANSFER and t.transferred_from is None:
            end = start + rng.uniform(60, 180)
            target = rng.choice([s for s in self.catalog.services if s != t.service])
            t.events.append((end, "ticket.transferred", desk.id, desk.clerk))
            t.transferred_from, t.service = t.service, target
            t.state, t.counter, t.clerk, t.called, t.started = "waiting", None, None, None, None
            self.at(end, "requeue", t.id)
            return end + 5
        if rng.random() < P_IMPLAUSIBLE:
            length = rng.uniform(5, 40)
        else:
            mean = self.catalog.service_s[t.service]
            length = rng.lognormvariate(0, 0.45) * mean / 1.106  # lognormal mean e^(s^2/2)
        end = start + length
        t.state, t.finished = "done", end
        t.events.append((end, "ticket.done", desk.id, desk.clerk))
        return end + rng.uniform(5, 20)


@dataclass
class Catalog:
    center_id: int
    services: list[int]
    weights: list[float]
    prefix: dict[int, str]
    code: dict[int, str]
    service_s: dict[int, float]
    counters: list[tuple[int, int, list[int]]]  # id, number, services
    clerks: list[int]
    substitutes: list[int]
    kiosk: int


# --- writing the file ---------------------------------------------------------------


def setup_catalog(db: Database, conn: sqlite3.Connection, now: datetime) -> Catalog:
    """The demo's services at a bench center with 40 counters, clerks and a kiosk."""
    demo = read_catalog(DEMO_CATALOG)
    codes = [s["code"] for s in demo["services"]]
    # Desks in proportion to the work each service brings: counter n covers the n-th
    # fortieth of the cumulative work, plus a neighbour on each side for slack.
    work = [demand(i) * s.get("avg_service_s", 300) for i, s in enumerate(demo["services"])]
    edges, total = [], 0.0
    for w in work:
        edges.append((total, total + w))
        total += w
    counters = []
    for n in range(COUNTERS):
        lo, hi = n * total / COUNTERS, (n + 1) * total / COUNTERS
        covered = [i for i, (a, b) in enumerate(edges) if a < hi and b > lo]
        chosen = range(max(0, covered[0] - 1), min(len(codes), covered[-1] + 2))
        counters.append({"number": n + 1, "services": [codes[i] for i in chosen]})
    center = {
        "code": CENTER, "name_ar": "مركز قياس الأداء", "name_en": "Benchmark center",
        "timezone": TIMEZONE, "days": ["sat", "sun", "mon", "tue", "wed", "thu"],
        "opens": "08:00", "closes": "16:00", "services": "all", "counters": counters,
    }  # fmt: skip
    apply_catalog(
        db,
        {"categories": demo["categories"], "services": demo["services"], "centers": [center]},
        actor=SYSTEM,
        now=now,
    )
    center_id = conn.execute("SELECT id FROM centers WHERE code = ?", (CENTER,)).fetchone()[0]
    rows = conn.execute(
        "SELECT id, code, prefix, avg_service_s FROM services WHERE center_id = ? ORDER BY id",
        (center_id,),
    ).fetchall()
    services = [r[0] for r in rows]
    # Demand falls off with the catalog order (the civil extracts are the busiest).
    weights = [demand(i) for i in range(len(services))]
    desks = []
    for cid, number in conn.execute(
        "SELECT id, number FROM counters WHERE center_id = ? ORDER BY number", (center_id,)
    ):
        links = conn.execute(
            "SELECT service_id FROM counter_services WHERE counter_id = ? ORDER BY position",
            (cid,),
        ).fetchall()
        desks.append((cid, number, [s for (s,) in links]))
    created = now.isoformat(" ", "microseconds").replace("+00:00", "")
    clerks, subs = [], []
    for i in range(COUNTERS + SUBSTITUTES):
        user = conn.execute(
            "INSERT INTO users (username, password_hash, role, center_id, counter_id, active,"
            " created_at) VALUES (?, '!', 'clerk', ?, ?, 1, ?) RETURNING id",
            (f"bench{i + 1:02d}", center_id, desks[i][0] if i < COUNTERS else None, created),
        ).fetchone()[0]
        (clerks if i < COUNTERS else subs).append(user)
    kiosk = conn.execute(
        "INSERT INTO devices (kind, center_id, name, token_hash, printer, printer_state, active,"
        " created_at) VALUES ('kiosk', ?, 'bench-kiosk', ?, '', 'unknown', 1, ?) RETURNING id",
        (center_id, secrets.token_hex(32), created),
    ).fetchone()[0]
    conn.commit()
    return Catalog(
        center_id=center_id,
        services=services,
        weights=weights,
        prefix={r[0]: r[2] for r in rows},
        code={r[0]: r[1] for r in rows},
        service_s={r[0]: float(r[3]) for r in rows},
        counters=desks,
        clerks=clerks,
        substitutes=subs,
        kiosk=kiosk,
    )


def scale_service_times(catalog: Catalog, per_day: float) -> None:
    """Scale mean service times so the floor runs at about TARGET_LOAD."""
    open_s = COUNTERS * (LAST_CALL_S - OPENS_S - 1200)
    overhead = 25 + 12 + 0.05 * 45  # call -> start, counter turnaround, recalls
    budget = open_s * TARGET_LOAD / per_day - overhead
    pairs = zip(catalog.services, catalog.weights, strict=True)
    mean = sum(w * catalog.service_s[s] for s, w in pairs) / sum(catalog.weights)
    for s in catalog.services:
        catalog.service_s[s] *= budget / mean


def day_counts(days: list[date], tickets: int, rng: random.Random) -> list[int]:
    raw = [WEEKDAY_LOAD[d.weekday()] * rng.uniform(0.9, 1.1) for d in days]
    scale = tickets / sum(raw)
    counts = [int(r * scale) for r in raw]
    for i in range(tickets - sum(counts)):
        counts[i % len(counts)] += 1
    return counts


class Writer:
    """Bulk rows for one SQLite transaction, with the center's event chain."""

    def __init__(self, conn: sqlite3.Connection, catalog: Catalog, code: str) -> None:
        self.conn, self.catalog, self.code = conn, catalog, code
        self.seq = conn.execute(
            "SELECT event_seq FROM centers WHERE id = ?", (catalog.center_id,)
        ).fetchone()[0]
        self.prev = conn.execute(
            "SELECT hash FROM events WHERE center_id = ? AND seq = ?",
            (catalog.center_id, self.seq),
        ).fetchone()[0]
        self.ticket_id = conn.execute("SELECT coalesce(max(id), 0) FROM tickets").fetchone()[0]
        self.counter_number = {cid: number for cid, number, _ in catalog.counters}

    def event(self, at: datetime, type_: str, ticket: int | None, actor: str,
              counter: int | None, reason: str | None, data: dict) -> tuple:  # fmt: skip
        self.seq += 1
        record = {"center": self.code, "seq": self.seq,
                  "at": at.isoformat().replace("+00:00", "Z"), "type": type_, "ticket": ticket,
                  "actor": actor, "counter": counter, "reason": reason,
                  "data": json.dumps(data, sort_keys=True, ensure_ascii=False)}  # fmt: skip
        digest = chain.link(self.prev, record)
        row = (self.catalog.center_id, self.seq, _text(at), type_, ticket, actor, counter,
               reason, record["data"], self.prev, digest)  # fmt: skip
        self.prev = digest
        return row

    def day(self, day: date, floor: Floor, tickets: list[Sim]) -> tuple[list, list, list]:
        midnight = datetime.combine(day, clock_time(0), ZoneInfo(TIMEZONE)).astimezone(UTC)

        def when(seconds: float | None) -> datetime | None:
            return None if seconds is None else midnight + timedelta(seconds=seconds)

        cat = self.catalog
        ticket_rows = []
        stream: list[tuple] = []
        for t in tickets:
            ticket_rows.append((
                t.id, secrets.token_urlsafe(12), cat.center_id, t.service,
                t.transferred_from or t.service, day.isoformat(), t.number, t.label, t.priority,
                "kiosk", "ar", t.state, t.counter, t.clerk, cat.kiosk, _text(when(t.issued)),
                _text(when(t.effective)), _text(when(t.called)), _text(when(t.started)),
                _text(when(t.finished)), t.recalls, int(t.out_of_order), t.reason,
                t.transferred_from,
            ))  # fmt: skip
            state, service = "waiting", t.transferred_from or t.service
            calls = 0
            for at, type_, counter, clerk in t.events:
                data: dict[str, object] = {"label": t.label}
                reason = None
                actor = f"user:{clerk}" if clerk is not None else "user:1"
                if type_ == "ticket.issued":
                    actor = f"device:{cat.kiosk}"
                    data.update(service=cat.code[service], priority=t.priority, channel="kiosk")
                elif type_ == "ticket.called":
                    state = "called"
                    calls += 1
                    if calls == 1 and t.out_of_order:
                        data["out_of_order"], reason = True, t.reason
                elif type_ == "ticket.started":
                    state = "serving"
                elif type_ == "ticket.transferred":
                    state, calls = "waiting", 0
                    data.update({"from": cat.code[service], "to": cat.code[t.service]})
                    service = t.service
                else:
                    state = {"ticket.done": "done", "ticket.no_show": "no_show",
                             "ticket.cancelled": "cancelled"}[type_]  # fmt: skip
                data["state"] = state
                stream.append((at, t.id, type_, actor, counter, reason, data))
        for at, desk, before, after in floor.counter_events:
            data = {"number": desk.number, "from": before, "to": after}
            stream.append((at, None, "counter.changed", f"user:{desk.clerk}", desk.id, None, data))
        stream.sort(key=lambda e: (e[0], e[1] or 0))
        event_rows = [
            self.event(when(at), type_, tid, actor, counter, reason, data)  # type: ignore[arg-type]
            for at, tid, type_, actor, counter, reason, data in stream
        ]
        numbers: dict[int, int] = {}
        for t in tickets:
            origin = t.transferred_from or t.service
            numbers[origin] = max(numbers.get(origin, 0), t.number)
        number_rows = [(s, day.isoformat(), n) for s, n in numbers.items()]
        return ticket_rows, event_rows, number_rows


def _text(value: datetime | None) -> str | None:
    """A time as the app stores it on SQLite (naive UTC text, microseconds)."""
    return None if value is None else value.replace(tzinfo=None).isoformat(" ", "microseconds")


def simulate_day(
    rng: random.Random, catalog: Catalog, day: date, count: int, first_id: int
) -> tuple[Floor, list[Sim]]:
    hours = rng.choices(range(len(ARRIVALS_BY_HOUR)), ARRIVALS_BY_HOUR, k=count)
    arrivals = sorted(OPENS_S + 3600 * h + rng.uniform(0, 3600) for h in hours)
    arrivals = [min(a, LAST_ISSUE_S - 1) for a in arrivals]
    services = rng.choices(catalog.services, catalog.weights, k=count)
    numbers: dict[int, int] = {}
    tickets = []
    for i, (issued, service) in enumerate(zip(arrivals, services, strict=True)):
        r = rng.random()
        priority = ("normal" if r < 0.9 else "elderly" if r < 0.95
                    else "disabled" if r < 0.98 else "appointment")  # fmt: skip
        number = numbers[service] = numbers.get(service, 0) + 1
        t = Sim(first_id + i, service, issued, issued - HEAD_START_S[priority], priority,
                number, f"{catalog.prefix[service]}-{number:03d}")  # fmt: skip
        if rng.random() < P_ABANDON:
            t.patience = rng.uniform(600, 3600)
        tickets.append(t)
    desks = []
    absent = set(rng.sample(range(COUNTERS), rng.randint(0, 3)))
    for i, (cid, number, served) in enumerate(catalog.counters):
        if i in absent:
            continue
        clerk = catalog.clerks[i]
        if rng.random() < 0.08:
            clerk = rng.choice(catalog.substitutes)
        desks.append(Desk(cid, number, served, clerk, opens=OPENS_S - rng.uniform(0, 900),
                          pause_at=rng.uniform(11 * 3600, 12.5 * 3600),
                          pause_s=rng.uniform(900, 1800)))  # fmt: skip
    floor = Floor(rng, catalog, desks)
    floor.run(tickets)
    return floor, tickets


def generate(path: Path, tickets: int, days: int, seed: int) -> None:
    """Write the center-year into a fresh SQLite file at `path`."""
    started = time.perf_counter()
    partial = path.with_suffix(".partial")
    for leftover in path.parent.glob(partial.name + "*"):
        leftover.unlink()
    overrides = {"database_url": f"sqlite:///{partial}", "instance_path": str(path.parent),
                 "secret_key": "bench", "sqlite_synchronous": "OFF"}  # fmt: skip
    db = Database.from_settings(load_settings(env={}, overrides=overrides))
    upgrade(db.engine)
    conn = sqlite3.connect(partial, isolation_level=None)
    conn.execute("PRAGMA busy_timeout = 10000")
    all_days = business_days(days)
    catalog = setup_catalog(db, conn, datetime.combine(all_days[0], clock_time(4), UTC))
    db.dispose()
    Path(f"{partial}-writer.lock").unlink(missing_ok=True)
    rng = random.Random(seed)
    counts = day_counts(all_days, tickets, rng)
    scale_service_times(catalog, tickets / days)
    writer = Writer(conn, catalog, CENTER)
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("PRAGMA cache_size = -1000000")
    conn.execute("BEGIN IMMEDIATE")
    next_id = writer.ticket_id + 1
    n_events = 0
    for i, (day, count) in enumerate(zip(all_days, counts, strict=True)):
        floor, sims = simulate_day(rng, catalog, day, count, next_id)
        next_id += count
        ticket_rows, event_rows, number_rows = writer.day(day, floor, sims)
        conn.executemany(
            "INSERT INTO tickets (id, public_id, center_id, service_id, issued_service_id, day,"
            " number, label, priority, channel, lang, state, counter_id, clerk_id, device_id,"
            " issued_at, effective_at, called_at, started_at, finished_at, recall_count,"
            " out_of_order, call_reason, transferred_from_id)"
            " VALUES (" + ", ".join("?" * 24) + ")",
            ticket_rows,
        )
        conn.executemany(
            "INSERT INTO events (center_id, seq, at, type, ticket_id, actor, counter_id, reason,"
            " data, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            event_rows,
        )
        conn.executemany(
            "INSERT INTO daily_numbers (service_id, day, last_number) VALUES (?, ?, ?)",
            number_rows,
        )
        n_events += len(event_rows)
        if (i + 1) % 25 == 0:
            done = next_id - 1 - writer.ticket_id
            elapsed = time.perf_counter() - started
            print(f"  {i + 1}/{days} days, {done} tickets, {n_events} events, {elapsed:.0f} s")
    # The chain's head, as append_event keeps it.
    conn.execute("UPDATE centers SET event_seq = ? WHERE id = ?", (writer.seq, catalog.center_id))
    conn.execute("COMMIT")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("ANALYZE")
    conn.close()
    partial.rename(path)
    print(f"generated {tickets} tickets and {n_events} events over {days} days"
          f" in {time.perf_counter() - started:.0f} s: {path}")  # fmt: skip


# --- timing ---------------------------------------------------------------------------


def cached_file(tickets: int, days: int, seed: int) -> Path:
    key = hashlib.sha256(
        f"{GENERATOR_VERSION}:{tickets}:{days}:{seed}:{COUNTERS}".encode()
    ).hexdigest()[:12]
    folder = Path(os.environ.get("TMPDIR", "/tmp")) / "taboor-bench-stats"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"year-{tickets}-{days}-{seed}-{key}.sqlite3"


def timed(
    db: Database, now: datetime, first: date, last: date, **filters: str
) -> tuple[float, float]:
    """One report as the stats endpoint makes it (store missing summaries, then read):
    (wall, CPU) seconds. CPU time shows the work when other jobs share the cores."""
    began, cpu = time.perf_counter(), time.process_time()
    arguments = {"now": now, "from_day": first.isoformat(), "to_day": last.isoformat(), **filters}
    reports.summarise(db, CENTER, **arguments)
    with db.reading() as tx:
        body = reports.center_report(tx, CENTER, **arguments)
    elapsed = time.perf_counter() - began, time.process_time() - cpu
    assert body["issued"] > 0
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=300)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--filters", action="store_true", help="Also time filtered reports.")
    parser.add_argument(
        "--keep-summaries", action="store_true", help="Keep stored summaries from a last run."
    )
    args = parser.parse_args()
    path = cached_file(args.tickets, args.days, args.seed)
    if not path.exists():
        generate(path, args.tickets, args.days, args.seed)
    overrides = {"database_url": f"sqlite:///{path}", "instance_path": str(path.parent),
                 "secret_key": "bench"}  # fmt: skip
    db = Database.from_settings(load_settings(env={}, overrides=overrides))
    upgrade(db.engine)  # a file cached before a new migration gets it now
    days = business_days(args.days)
    if not args.keep_summaries:
        db.atomic(lambda tx: reports.forget_summaries(tx, CENTER))
    now = datetime.combine(days[-1] + timedelta(days=7), clock_time(6), UTC)
    mid = days[len(days) // 2]
    month_first = mid.replace(day=1)
    month_last = (month_first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    year = days[0].year
    ranges = [
        ("day", mid, mid),
        ("month", month_first, month_last),
        ("year", date(year, 1, 1), date(year, 12, 31)),
        # Whole months in the middle, partial months at both ends: the most day summaries.
        ("year, unaligned", date(year, 1, 2), date(year, 12, 30)),
    ]
    print(f"machine: {os.cpu_count()} cores, SQLite {sqlite3.sqlite_version}, "
          f"python {sys.version.split()[0]}; file {path.name} "
          f"({path.stat().st_size / 2**30:.2f} GiB)")  # fmt: skip
    with db.reading() as tx:
        n = tx.scalar("SELECT count(*) FROM tickets t JOIN centers c ON c.id = t.center_id "
                      "WHERE c.code = :code", {"code": CENTER})  # fmt: skip
        service = tx.scalar("SELECT s.code FROM services s JOIN centers c ON c.id = s.center_id"
                            " WHERE c.code = :c ORDER BY s.id LIMIT 1", {"c": CENTER})  # fmt: skip
    print(f"{n} tickets at {CENTER}, {days[0]}..{days[-1]} ({len(days)} business days)")
    cases: list[tuple[str, date, date, dict[str, str]]] = [(n, a, b, {}) for n, a, b in ranges]
    if args.filters:
        # The busiest service (about a tenth of the tickets), one counter, one clerk.
        for name, a, b in ranges[:3]:
            cases.append((f"{name}, service={service}", a, b, {"service": service}))
            cases.append((f"{name}, counter=7", a, b, {"counter": "7"}))
            cases.append((f"{name}, clerk=bench07", a, b, {"clerk": "bench07"}))
    print(f"load average {os.getloadavg()[0]:.1f} before the reports")
    print("first = the first report of the range (stores the summaries it lacks);")
    print(f"then {args.repeat} more: p50 and max of wall time, p50 of CPU time")
    for name, first, last, filters in cases:
        cold, cold_cpu = timed(db, now, first, last, **filters)
        runs = [timed(db, now, first, last, **filters) for _ in range(args.repeat)]
        wall = [w for w, _ in runs]
        cpu = [c for _, c in runs]
        print(f"{name:<40} {first}..{last}: first {cold * 1000:8.1f} ms "
              f"(CPU {cold_cpu * 1000:8.1f}); then p50 {percentile(wall, 50) * 1000:6.1f} ms, "
              f"max {max(wall) * 1000:6.1f} ms (CPU p50 {percentile(cpu, 50) * 1000:6.1f})",
              flush=True)  # fmt: skip
    print(f"load average {os.getloadavg()[0]:.1f} after")
    db.dispose()


if __name__ == "__main__":
    main()
