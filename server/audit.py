"""Verifying the event log's hash chain, center by center."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session

from taboor.server.domain import chain
from taboor.server.models import Center, Event


def _records(center: Center, rows: Iterator[Event]) -> Iterator[dict[str, object]]:
    for event in rows:
        yield {
            "center": center.code,
            "seq": event.seq,
            "at": event.at.isoformat().replace("+00:00", "Z"),
            "type": event.type,
            "ticket": event.ticket_id,
            "actor": event.actor,
            "counter": event.counter_id,
            "reason": event.reason,
            "data": event.data,
            "prev_hash": event.prev_hash,
            "hash": event.hash,
        }


def verify_center(session: Session, center: Center) -> chain.ChainBreak | None:
    """The first break in the center's chain, or None when it is intact."""
    rows = session.execute(
        select(Event)
        .where(Event.center_id == center.id)
        .order_by(Event.seq)
        .execution_options(yield_per=2000)
    ).scalars()
    try:
        return chain.verify(_records(center, rows), head_seq=center.event_seq)
    finally:
        rows.close()  # verify stops at the first break; release the server-side cursor


def verify_all(
    session: Session, codes: list[str] | None = None
) -> dict[str, chain.ChainBreak | None]:
    query = select(Center).order_by(Center.code)
    if codes:
        query = query.where(Center.code.in_(codes))
    return {center.code: verify_center(session, center) for center in session.scalars(query)}
