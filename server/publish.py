"""The seam between committed domain events and their transport.

Operations return `Published` events; shells hand them to the app's publisher after
the transaction has committed. The in-process publisher calls its subscribers; the
Socket.IO transport subscribes to it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

from taboor.server.operations import Published

log = logging.getLogger(__name__)
Subscriber = Callable[[Published], None]


class Publisher:
    def __init__(self) -> None:
        self._subscribers: list[Subscriber] = []

    def subscribe(self, subscriber: Subscriber) -> None:
        self._subscribers.append(subscriber)

    def publish(self, events: Iterable[Published]) -> None:
        for event in events:
            for subscriber in self._subscribers:
                try:
                    subscriber(event)
                except Exception:  # a broken listener must not undo a committed change
                    log.exception("subscriber failed on %s", event.name)


class Recorder:
    """A subscriber that keeps what it received (tests, the CLI)."""

    def __init__(self) -> None:
        self.events: list[Published] = []

    def __call__(self, event: Published) -> None:
        self.events.append(event)
