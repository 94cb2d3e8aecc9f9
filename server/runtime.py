"""What the shells share at run time: settings, database, tokens, publisher, clock.

`create_app` (server/app.py) builds one `Runtime` per app; HTTP views, Socket.IO
handlers and CLI commands reach it through `runtime()` inside an app context. This
module imports no shell, so every shell can import it without a circle.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from flask import Flask, current_app

from taboor.config import Settings
from taboor.server.auth import LoginThrottle, PrincipalCache, StaffTokens
from taboor.server.db import Database
from taboor.server.publish import Publisher
from taboor.server.spooler import PrintSpooler
from taboor.server.summariser import Summariser

Clock = Callable[[], datetime]
EXTENSION = "taboor"


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Runtime:
    """What the shells share: settings, the database, tokens, the publisher, the clock."""

    settings: Settings
    db: Database
    tokens: StaffTokens
    publisher: Publisher
    clock: Clock
    principals: PrincipalCache
    spooler: PrintSpooler
    logins: LoginThrottle = field(default_factory=LoginThrottle)
    summariser: Summariser | None = None  # started by the server's worker (`taboor run`)
    # Makes another app with these settings: the gevent worker builds its own after
    # gevent has patched the standard library.
    make_app: Callable[[], Flask] | None = None

    def now(self) -> datetime:
        return self.clock()


def runtime() -> Runtime:
    """The current app's runtime."""
    return current_app.extensions[EXTENSION]
