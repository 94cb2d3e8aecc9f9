"""Use cases, one module per subject: `tickets` (issue, call, act, transfer), `counters`
(open, pause, close), `printing` (where a ticket prints, its job queued with it, results,
reprints, print agents), `accounts` (staff, devices, sign-in, tokens) and `catalog`
(the catalog file: read, check, apply).

Each use case is one transaction (`Database.atomic`) that also appends its events to
the center's hash chain, and returns an `Outcome`: what the shell answers, and the live
events to publish after the commit, never before. Rules come from `server.domain`;
SQL from `server.store`.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Published:
    """A live event for the center's room: wire name and payload (with center, seq)."""

    name: str
    payload: dict[str, object]


@dataclass
class Outcome:
    body: dict[str, object] | None
    events: list[Published] = field(default_factory=list)
    print_jobs: list[int] = field(default_factory=list)
