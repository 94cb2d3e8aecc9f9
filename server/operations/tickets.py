"""Ticket use cases: issue, call the next, call one by id, recall/start/finish/no-show/
cancel, transfer. Each is one transaction that appends its event to the center's chain.

These are the hot path: they speak SQL through `server.store` on a bare cursor (see
there why), not through the ORM.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import datetime

from taboor.server.auth import (
    ISSUERS,
    STAFF_AT_COUNTER,
    Principal,
    require_center,
    require_counter,
    require_role,
)
from taboor.server.db import Database
from taboor.server.domain.calling import effective_time
from taboor.server.domain.counters import require_free, require_open
from taboor.server.domain.errors import Conflict, InvalidInput, NotFound
from taboor.server.domain.issuing import (
    allow_priority,
    ticket_channel,
    ticket_lang,
    ticket_priority,
)
from taboor.server.domain.numbering import business_day, label
from taboor.server.domain.tickets import Action, Priority, TicketState, transition
from taboor.server.operations import Outcome, Published
from taboor.server.operations.printing import QUEUED, printer_for, queue_print
from taboor.server.store import Tx, counters, events, stats, tickets
from taboor.server.store.counters import CounterRow
from taboor.server.store.tickets import TicketRow
from taboor.server.views import ticket_view


def issue(
    db: Database,
    center_code: str,
    service_code: str,
    *,
    actor: Principal,
    now: datetime,
    head_starts_s: Mapping[str, int],
    priority: str = Priority.NORMAL,
    lang: str = "ar",
    channel: str | None = None,
    printer: str | None = None,
    base_url: str = "",
) -> Outcome:
    """Issue the next numbered ticket of a service.

    A kiosk's ticket is also queued for printing on `printer` (unless the kiosk has a
    printer of its own, or the printer is "none"), in the same transaction.
    """
    require_role(actor, *ISSUERS)
    at_kiosk = actor.kind == "device"
    klass = ticket_priority(priority)
    lang = ticket_lang(lang)
    source = ticket_channel(channel, at_kiosk=at_kiosk)

    def work(tx: Tx) -> Outcome:
        target = tickets.issue_target(tx, center_code, service_code)
        if target is None:
            raise NotFound(f"no center {center_code!r}", code="center_not_found")
        require_center(actor, target.center_id)
        if target.service_id is None or target.prefix is None:
            raise NotFound(
                f"no service {service_code!r} in {center_code}", code="service_not_found"
            )
        allow_priority(klass, target.options, at_kiosk=at_kiosk, center=center_code)
        day = business_day(now, target.timezone)
        number = tickets.next_number(tx, target.service_id, day)
        public_id = secrets.token_urlsafe(12)
        effective_at = effective_time(now, klass, head_starts_s)
        ticket_label = label(target.prefix, number)
        device_id = actor.id if at_kiosk else None
        ticket_id = tickets.insert_ticket(
            tx,
            public_id=public_id,
            center_id=target.center_id,
            service_id=target.service_id,
            day=day,
            number=number,
            label=ticket_label,
            priority=klass.value,
            channel=source.value,
            lang=lang,
            device_id=device_id,
            issued_at=now,
            effective_at=effective_at,
        )
        # Everything the view needs is known: no need to read the row back.
        ticket = TicketRow(
            ticket_id, public_id, target.center_id, target.service_id, day, number,
            ticket_label, klass.value, TicketState.WAITING.value, None, now, effective_at,
            None, None, None, 0, False, service_code, target.avg_service_s or 0,
            target.min_service_s or 0, center_code, None,
        )  # fmt: skip
        outcome = _ticket_outcome(
            tx,
            "ticket.issued",
            ticket,
            actor=actor,
            now=now,
            data={"service": service_code, "priority": klass.value, "channel": source.value},
        )
        spec = printer_for(tx, actor, printer)
        if spec is not None:
            job = queue_print(tx, ticket_id, device_id, spec, base_url, now)
            outcome.print_jobs.append(job)
            outcome.body = {**(outcome.body or {}), "print": {"job": job, "state": QUEUED}}
        return outcome

    return db.atomic(work)


def _counter_for_call(tx: Tx, counter_id: int, actor: Principal) -> CounterRow:
    """The counter if the actor may call there now: open, and no ticket in hand."""
    require_role(actor, *STAFF_AT_COUNTER)
    counter = counters.find_counter(tx, counter_id, lock=True)
    require_center(actor, counter.center_id)
    require_counter(actor, counter.id)
    require_open(counter.number, counter.state)
    busy = counters.in_hand(tx, counter.id)
    require_free(counter.number, None if busy is None else busy.label)
    return counter


def _called(counter_id: int, actor: Principal, now: datetime) -> dict[str, object]:
    """The columns a call sets on a waiting ticket."""
    return {
        "state": transition(TicketState.WAITING, Action.CALL).value,
        "counter_id": counter_id,
        "clerk_id": actor.id if actor.kind == "user" else None,
        "called_at": now,
    }


def call_next(db: Database, counter_id: int, *, actor: Principal, now: datetime) -> Outcome:
    """Call the next ticket for a counter by the calling rule; body None when nobody waits."""

    def work(tx: Tx) -> Outcome:
        counter = _counter_for_call(tx, counter_id, actor)
        day = business_day(now, counter.timezone)
        called = _called(counter.id, actor, now)
        ticket_id = tickets.claim_next(tx, counter.center_id, counter.id, day, called)
        if ticket_id is None:
            return Outcome(None)
        return _ticket_outcome(
            tx, "ticket.called", ticket_id, actor=actor, now=now, extra={"recall": False}
        )

    return db.atomic(work)


def call_ticket(
    db: Database, counter_id: int, ticket_id: int, *, reason: str, actor: Principal, now: datetime
) -> Outcome:
    """Call one waiting ticket by id; out of order unless it is the rule's next anyway."""
    if not reason or not reason.strip():
        raise InvalidInput(
            "a reason is required to call a specific ticket", field="reason", code="missing_field"
        )
    reason = reason.strip()

    def work(tx: Tx) -> Outcome:
        counter = _counter_for_call(tx, counter_id, actor)
        ticket = tickets.find_ticket(tx, ticket_id, lock=True)
        if ticket.center_id != counter.center_id:
            raise NotFound(f"no ticket {ticket_id} in this center", code="ticket_not_found")
        if ticket.service_id not in counters.service_ids(tx, counter.id):
            raise Conflict(
                f"counter {counter.number} does not serve this ticket's service",
                code="service_not_served",
            )
        transition(ticket.state, Action.CALL)
        day = business_day(now, counter.timezone)
        out_of_order = tickets.next_waiting(tx, counter.center_id, counter.id, day) != ticket.id
        tickets.update_ticket(
            tx,
            ticket.id,
            {
                **_called(counter.id, actor, now),
                "out_of_order": out_of_order,
                "call_reason": reason,
            },
        )
        return _ticket_outcome(
            tx,
            "ticket.called",
            ticket.id,
            actor=actor,
            now=now,
            reason=reason,
            data={"out_of_order": out_of_order},
            extra={"recall": False},
        )

    return db.atomic(work)


_ACTION_EVENTS: dict[Action, str] = {
    Action.RECALL: "ticket.called",
    Action.START: "ticket.started",
    Action.FINISH: "ticket.done",
    Action.NO_SHOW: "ticket.no_show",
    Action.CANCEL: "ticket.cancelled",
}


def act(
    db: Database,
    ticket_id: int,
    action: Action,
    *,
    actor: Principal,
    now: datetime,
    reason: str | None = None,
) -> Outcome:
    """Recall, start, finish, mark no-show or cancel a ticket."""
    require_role(actor, *STAFF_AT_COUNTER)
    if action not in _ACTION_EVENTS:
        raise ValueError(f"act() does not handle {action}")

    def work(tx: Tx) -> Outcome:
        ticket = tickets.find_ticket(tx, ticket_id, lock=True)
        require_center(actor, ticket.center_id)
        if ticket.counter_id is not None:
            require_counter(actor, ticket.counter_id)
        changes: dict[str, object] = {"state": transition(ticket.state, action).value}
        if action is Action.RECALL:
            changes["recall_count"] = ticket.recall_count + 1
        elif action is Action.START:
            changes["started_at"] = now
        else:
            changes["finished_at"] = now
        tickets.update_ticket(tx, ticket.id, changes)
        return _ticket_outcome(
            tx,
            _ACTION_EVENTS[action],
            ticket.id,
            actor=actor,
            now=now,
            reason=reason,
            extra={"recall": True} if action is Action.RECALL else None,
        )

    return db.atomic(work)


def transfer(
    db: Database,
    ticket_id: int,
    service_code: str,
    *,
    actor: Principal,
    now: datetime,
    reason: str | None = None,
) -> Outcome:
    """Send a called or serving ticket to another service, keeping its place in line."""
    require_role(actor, *STAFF_AT_COUNTER)

    def work(tx: Tx) -> Outcome:
        ticket = tickets.find_ticket(tx, ticket_id, lock=True)
        require_center(actor, ticket.center_id)
        if ticket.counter_id is not None:
            require_counter(actor, ticket.counter_id)
        target = tickets.service_in_center(tx, ticket.center_id, service_code)
        if target is None:
            raise NotFound(
                f"no service {service_code!r} in {ticket.center_code}", code="service_not_found"
            )
        if target == ticket.service_id:
            raise Conflict("the ticket is already in this service", code="same_service")
        state = transition(ticket.state, Action.TRANSFER)
        # issued_at and effective_at stay as they are: that is the place in line.
        tickets.update_ticket(
            tx,
            ticket.id,
            {
                "state": state.value,
                "service_id": target,
                "transferred_from_id": ticket.service_id,
                "counter_id": None,
                "clerk_id": None,
                "called_at": None,
                "started_at": None,
            },
        )
        return _ticket_outcome(
            tx,
            "ticket.transferred",
            ticket.id,
            actor=actor,
            now=now,
            reason=reason,
            counter_id=ticket.counter_id,
            data={"from": ticket.service_code, "to": service_code},
            extra={"from_service": ticket.service_code, "to_service": service_code},
        )

    return db.atomic(work)


def _ticket_outcome(
    tx: Tx,
    name: str,
    ticket: int | TicketRow,
    *,
    actor: Principal,
    now: datetime,
    reason: str | None = None,
    counter_id: int | None = None,
    data: Mapping[str, object] | None = None,
    extra: Mapping[str, object] | None = None,
) -> Outcome:
    """Append the event for a ticket change; build the answer and the live event."""
    if not isinstance(ticket, TicketRow):
        ticket = tickets.find_ticket(tx, ticket)
    seq = events.append_event(
        tx,
        ticket.center_id,
        ticket.center_code,
        name,
        actor=actor,
        now=now,
        ticket_id=ticket.id,
        counter_id=ticket.counter_id if counter_id is None else counter_id,
        reason=reason,
        data={"label": ticket.label, "state": ticket.state, **(data or {})},
    )
    stats.forget_summaries(tx, ticket.center_id, ticket.day)
    view = ticket_view(tx, ticket)
    payload = {"center": ticket.center_code, "seq": seq, "ticket": view, **(extra or {})}
    return Outcome(view, [Published(name, payload)])
