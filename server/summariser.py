"""Keeping every center's closed days summarised, in the background.

A report longer than a day merges stored day and month summaries (`server/reports.py`);
a range nobody asked for before is summarised by the first report that asks, which
for a year of a busy center costs about 45 s. The server's worker runs this
summariser instead: at start and then every hour it stores, for each center, the
summaries the unfiltered reports of the last `DAYS` days would merge, newest month
first, one month at a time with a pause between months so that kiosks' requests keep
their share of the interpreter. On an ordinary day it finds only last night's day to
store (about 0.15 s); after an upgrade with a year of history it catches up in the
background in about a minute, and a manager's first yearly report is fast.

Summaries stay correct without it: an operation that changes a ticket of a closed day
forgets that day's summaries in its own transaction, and the next pass (or report)
stores them again. Filtered reports (a service, a counter, a clerk) are still
summarised on first use.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import date, datetime, timedelta

from taboor.server import reports
from taboor.server.db import Database
from taboor.server.domain.errors import TaboorError
from taboor.server.domain.numbering import business_day
from taboor.server.store.stats import center_histories

log = logging.getLogger(__name__)

DAYS = 400  # a year back, and the month it started in
EVERY_S = 3600.0
PAUSE_S = 0.2  # between two months' work
START_DELAY_S = 5.0  # let the server answer its first requests first

def months_back(yesterday: date, days: int, since: date | None = None) -> list[tuple[date, date]]:
    """(first, last) of each calendar month from yesterday's back to `days` before it,
    newest first: the newest ends yesterday, the oldest starts on its 1st, or on
    `since` (the first day with a ticket) when that is later."""
    oldest = (yesterday - timedelta(days=days)).replace(day=1)
    if since is not None:
        oldest = max(oldest, since)
    months = []
    last = yesterday
    while last >= oldest:
        first = max(last.replace(day=1), oldest)
        months.append((first, last))
        last = last.replace(day=1) - timedelta(days=1)
    return months


class Summariser:
    """A background thread that stores the summaries long reports will merge."""

    def __init__(
        self,
        db: Database,
        clock: Callable[[], datetime],
        *,
        days: int = DAYS,
        every_s: float = EVERY_S,
        pause_s: float = PAUSE_S,
    ) -> None:
        self.db = db
        self.clock = clock
        self.days = days
        self.every_s = every_s
        self.pause_s = pause_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self) -> int:
        """One pass over every center; returns the number of days it summarised."""
        written = 0
        with self.db.reading() as tx:
            # A center without a ticket yet has nothing to store.
            centers = [c for c in center_histories(tx) if c.first_day is not None]
        now = self.clock()
        for center in centers:
            code, zone, since = center.code, center.timezone, center.first_day
            yesterday = business_day(now, zone) - timedelta(days=1)
            for first, last in months_back(yesterday, self.days, since):
                if self._stop.is_set():
                    return written
                try:
                    days = reports.summarise(
                        self.db, code, now=now, from_day=first.isoformat(), to_day=last.isoformat()
                    )
                except TaboorError as exc:  # e.g. the center was renamed meanwhile
                    log.warning("summaries of %s %s..%s not stored: %s", code, first, last, exc)
                    break
                written += days
                if days:
                    self._stop.wait(self.pause_s)
        if written:
            log.info("stored the statistics summaries of %s day(s)", written)
        return written

    def start(self, delay_s: float = START_DELAY_S) -> None:
        """Run a pass after `delay_s`, then one every `every_s`, until `stop()`."""
        if self._thread is not None:
            return
        self._thread = threading.Thread(
            target=self._loop, args=(delay_s,), name="taboor-summariser", daemon=True
        )
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _loop(self, delay_s: float) -> None:
        if self._stop.wait(delay_s):
            return
        while not self._stop.is_set():
            try:
                self.run_once()
            except Exception:  # a database outage: try again at the next pass
                log.exception("storing statistics summaries failed")
            self._stop.wait(self.every_s)
