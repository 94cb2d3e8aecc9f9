"""Use cases. Each one is a single transaction that also appends its events to the
center's hash chain; it returns what the shell should answer and publish (after the
commit, never before)."""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from server.auth import Principal, Role, require_center, require_role
from server.db import Database
from server.domain import chain
from server.domain.calling import effective_time
from server.domain.errors import Conflict, InvalidInput, NotFound
from server.domain.estimates import estimate_wait_s
from server.domain.numbering import business_day, label
from server.domain.tickets import Action, Channel, Priority, TicketState, transition
from server.models import (
    Center,
    Counter,
    CounterService,
    DailyNumber,
    Event,
    Service,
    Ticket,
)

STAFF_AT_COUNTER = (Role.CLERK, Role.MANAGER, Role.ADMIN)
ISSUERS = ("kiosk", Role.CLERK, Role.MANAGER, Role.ADMIN)
ACTIVE = (TicketState.CALLED, TicketState.SERVING)


class CounterState:
    OPEN = "open"
    PAUSED = "paused"
    CLOSED = "closed"
    ALL = (OPEN, PAUSED, CLOSED)


@dataclass(frozen=True)
class Published:
    """A live event for the center's room: wire name and payload (with center, seq)."""

    name: str
    payload: dict[str, object]


@dataclass
class Outcome:
    body: dict[str, object] | None
    events: list[Published] = field(default_factory=list)


# --- lookups -------------------------------------------------------------------------


def get_center(session: Session, code: str) -> Center:
    center = session.scalar(select(Center).where(Center.code == code))
    if center is None:
        raise NotFound(f"no center {code!r}", code="center_not_found")
    return center


def get_service(session: Session, center: Center, code: str) -> Service:
    service = session.scalar(
        select(Service).where(
            Service.center_id == center.id,
            Service.code == code,
            Service.active.is_(True),
        )
    )
    if service is None:
        raise NotFound(f"no service {code!r} in {center.code}", code="service_not_found")
    return service


def get_counter(session: Session, counter_id: int, *, lock: bool = False) -> Counter:
    counter = session.get(Counter, counter_id, with_for_update=lock)
    if counter is None:
        raise NotFound(f"no counter {counter_id}", code="counter_not_found")
    return counter


def get_ticket(session: Session, ticket_id: int, *, lock: bool = False) -> Ticket:
    ticket = session.get(Ticket, ticket_id, with_for_update=lock)
    if ticket is None:
        raise NotFound(f"no ticket {ticket_id}", code="ticket_not_found")
    return ticket


# --- views ---------------------------------------------------------------------------


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat().replace("+00:00", "Z")


def _open_counters_serving(session: Session, service_id: int) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(CounterService)
            .join(Counter, Counter.id == CounterService.counter_id)
            .where(
                CounterService.service_id == service_id,
                Counter.state == CounterState.OPEN,
            )
        )
        or 0
    )


def people_ahead(session: Session, ticket: Ticket) -> int:
    """Waiting tickets of the same service that the calling rule puts before `ticket`."""
    return (
        session.scalar(
            select(func.count())
            .select_from(Ticket)
            .where(
                Ticket.center_id == ticket.center_id,
                Ticket.state == TicketState.WAITING,
                Ticket.service_id == ticket.service_id,
                (Ticket.effective_at < ticket.effective_at)
                | ((Ticket.effective_at == ticket.effective_at) & (Ticket.id < ticket.id)),
            )
        )
        or 0
    )


def ticket_view(session: Session, ticket: Ticket) -> dict[str, object]:
    """A ticket as the public contract describes it."""
    service = session.get(Service, ticket.service_id)
    center = session.get(Center, ticket.center_id)
    counter = session.get(Counter, ticket.counter_id) if ticket.counter_id else None
    assert service is not None and center is not None
    ahead: int | None = None
    wait: int | None = None
    if ticket.state == TicketState.WAITING:
        ahead = people_ahead(session, ticket)
        wait = estimate_wait_s(
            ahead, service.avg_service_s, _open_counters_serving(session, service.id)
        )
    return {
        "id": ticket.id,
        "public_id": ticket.public_id,
        "label": ticket.label,
        "number": ticket.number,
        "service": service.code,
        "center": center.code,
        "state": ticket.state,
        "priority": ticket.priority,
        "position": None if ahead is None else ahead + 1,
        "ahead": ahead,
        "estimated_wait_s": wait,
        "counter": counter.number if counter else None,
        "counter_id": counter.id if counter else None,
        "issued_at": _iso(ticket.issued_at),
        "called_at": _iso(ticket.called_at),
        "started_at": _iso(ticket.started_at),
        "finished_at": _iso(ticket.finished_at),
        "recall_count": ticket.recall_count,
        "out_of_order": ticket.out_of_order,
        "business_day": ticket.day.isoformat(),
    }


def counter_view(session: Session, counter: Counter) -> dict[str, object]:
    current = session.scalar(
        select(Ticket).where(Ticket.counter_id == counter.id, Ticket.state.in_(ACTIVE))
    )
    return {
        "id": counter.id,
        "number": counter.number,
        "state": counter.state,
        "services": [link.service.code for link in counter.links],
        "ticket": None if current is None else current.label,
        "ticket_id": None if current is None else current.id,
    }


# --- the event chain -----------------------------------------------------------------


def append_event(
    session: Session,
    center: Center,
    type_: str,
    *,
    actor: Principal,
    now: datetime,
    ticket: Ticket | None = None,
    counter_id: int | None = None,
    reason: str | None = None,
    data: Mapping[str, object] | None = None,
) -> int:
    """Append one event to the center's chain and return its sequence number.

    Bumping `centers.event_seq` locks the center's row until commit, so appends in
    one center are serialised and each event links to the one before it. Callers
    lock ticket rows first and append last, which keeps lock order acyclic.
    """
    seq = session.execute(
        update(Center)
        .where(Center.id == center.id)
        .values(event_seq=Center.event_seq + 1)
        .returning(Center.event_seq)
    ).scalar_one()
    prev_hash = chain.GENESIS
    if seq > 1:
        prev_hash = (
            session.scalar(
                select(Event.hash).where(Event.center_id == center.id, Event.seq == seq - 1)
            )
            or chain.GENESIS
        )
    record = {
        "center": center.code,
        "seq": seq,
        "at": _iso(now),
        "type": type_,
        "ticket": ticket.id if ticket else None,
        "actor": actor.actor,
        "counter": counter_id,
        "reason": reason,
        "data": json.dumps(dict(data or {}), sort_keys=True, ensure_ascii=False),
    }
    session.add(
        Event(
            center_id=center.id,
            seq=seq,
            at=now,
            type=type_,
            ticket_id=record["ticket"],
            actor=record["actor"],
            counter_id=counter_id,
            reason=reason,
            data=record["data"],
            prev_hash=prev_hash,
            hash=chain.link(prev_hash, record),
        )
    )
    return seq


def _ticket_event(
    session: Session,
    center: Center,
    name: str,
    ticket: Ticket,
    *,
    actor: Principal,
    now: datetime,
    reason: str | None = None,
    data: Mapping[str, object] | None = None,
    extra: Mapping[str, object] | None = None,
) -> Outcome:
    """Append the event for a ticket change and build the outcome to answer and publish."""
    session.flush()
    seq = append_event(
        session,
        center,
        name,
        actor=actor,
        now=now,
        ticket=ticket,
        counter_id=ticket.counter_id,
        reason=reason,
        data={"label": ticket.label, "state": ticket.state, **(data or {})},
    )
    view = ticket_view(session, ticket)
    payload = {"center": center.code, "seq": seq, "ticket": view, **(extra or {})}
    return Outcome(view, [Published(name, payload)])


# --- numbering and claiming ----------------------------------------------------------


def _bump_number(session: Session, service_id: int, day: object) -> int:
    """The next number of (service, day), in this transaction: gapless and unique."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(DailyNumber).values(service_id=service_id, day=day, last_number=1)
    stmt = stmt.on_conflict_do_update(
        index_elements=[DailyNumber.service_id, DailyNumber.day],
        set_={"last_number": DailyNumber.last_number + 1},
    ).returning(DailyNumber.last_number)
    return session.execute(stmt).scalar_one()


def _claim_next(
    session: Session,
    center_id: int,
    service_ids: list[int],
    called: Mapping[str, object],
) -> int | None:
    """Atomically take the next waiting ticket (the calling rule) and set `called` on it."""
    if not service_ids:
        return None
    pick = (
        select(Ticket.id)
        .where(
            Ticket.center_id == center_id,
            Ticket.state == TicketState.WAITING,
            Ticket.service_id.in_(service_ids),
        )
        .order_by(Ticket.effective_at, Ticket.id)
        .limit(1)
    )
    if session.get_bind().dialect.name == "postgresql":
        # Concurrent clerks skip each other's rows instead of queueing behind them.
        ticket_id = session.scalar(pick.with_for_update(skip_locked=True))
        if ticket_id is not None:
            session.execute(update(Ticket).where(Ticket.id == ticket_id).values(**called))
        return ticket_id
    # SQLite: the write transaction already holds the database lock (BEGIN IMMEDIATE);
    # the state condition keeps this single UPDATE a correct claim even without it.
    return session.execute(
        update(Ticket)
        .where(Ticket.id == pick.scalar_subquery(), Ticket.state == TicketState.WAITING)
        .values(**called)
        .returning(Ticket.id)
    ).scalar()


# --- use cases -----------------------------------------------------------------------


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
) -> Outcome:
    """Issue the next numbered ticket of a service."""
    require_role(actor, *ISSUERS)
    try:
        priority = Priority(priority)
    except ValueError:
        raise InvalidInput(
            f"priority must be one of {', '.join(Priority)}", field="priority"
        ) from None
    if lang not in ("ar", "en"):
        raise InvalidInput("lang must be 'ar' or 'en'", field="lang")
    channel = channel or (Channel.KIOSK if actor.kind == "device" else Channel.RECEPTION)
    with db.write() as session:
        center = get_center(session, center_code)
        require_center(actor, center.id)
        service = get_service(session, center, service_code)
        allowed = center.options.get("priorities")
        if allowed is not None and priority != Priority.NORMAL and priority not in allowed:
            raise InvalidInput(
                f"{center.code} does not offer priority {priority}", field="priority"
            )
        day = business_day(now, center.timezone)
        number = _bump_number(session, service.id, day)
        ticket = Ticket(
            public_id=secrets.token_urlsafe(12),
            center_id=center.id,
            service_id=service.id,
            issued_service_id=service.id,
            day=day,
            number=number,
            label=label(service.prefix, number),
            priority=priority,
            channel=channel,
            lang=lang,
            state=TicketState.WAITING,
            device_id=actor.id if actor.kind == "device" else None,
            issued_at=now,
            effective_at=effective_time(now, priority, head_starts_s),
            recall_count=0,
            out_of_order=False,
        )
        session.add(ticket)
        return _ticket_event(
            session,
            center,
            "ticket.issued",
            ticket,
            actor=actor,
            now=now,
            data={"service": service.code, "priority": priority, "channel": channel},
        )


def _counter_for_call(
    session: Session, counter_id: int, actor: Principal
) -> tuple[Counter, Center]:
    require_role(actor, *STAFF_AT_COUNTER)
    counter = get_counter(session, counter_id, lock=True)
    require_center(actor, counter.center_id)
    if counter.state != CounterState.OPEN:
        raise Conflict(
            f"counter {counter.number} is {counter.state}; open it first",
            code="counter_not_open",
            state=counter.state,
        )
    busy = session.scalar(
        select(Ticket.label).where(Ticket.counter_id == counter.id, Ticket.state.in_(ACTIVE))
    )
    if busy is not None:
        raise Conflict(
            f"counter {counter.number} still has {busy}; finish it first",
            code="counter_busy",
            ticket=busy,
        )
    center = session.get(Center, counter.center_id)
    assert center is not None
    return counter, center


def _called(counter: Counter, actor: Principal, now: datetime) -> dict[str, object]:
    """The columns a call sets on a waiting ticket."""
    return {
        "state": transition(TicketState.WAITING, Action.CALL),
        "counter_id": counter.id,
        "clerk_id": actor.id if actor.kind == "user" else None,
        "called_at": now,
    }


def call_next(db: Database, counter_id: int, *, actor: Principal, now: datetime) -> Outcome:
    """Call the next ticket for a counter by the calling rule; body None when nobody waits."""
    with db.write() as session:
        counter, center = _counter_for_call(session, counter_id, actor)
        service_ids = [link.service_id for link in counter.links]
        ticket_id = _claim_next(session, center.id, service_ids, _called(counter, actor, now))
        if ticket_id is None:
            return Outcome(None)
        ticket = get_ticket(session, ticket_id)
        return _ticket_event(
            session,
            center,
            "ticket.called",
            ticket,
            actor=actor,
            now=now,
            extra={"recall": False},
        )


def call_ticket(
    db: Database,
    counter_id: int,
    ticket_id: int,
    *,
    reason: str,
    actor: Principal,
    now: datetime,
) -> Outcome:
    """Call one waiting ticket by id; out of order unless it is the rule's next anyway."""
    if not reason or not reason.strip():
        raise InvalidInput(
            "a reason is required to call a specific ticket",
            field="reason",
            code="missing_field",
        )
    with db.write() as session:
        counter, center = _counter_for_call(session, counter_id, actor)
        ticket = get_ticket(session, ticket_id, lock=True)
        if ticket.center_id != center.id:
            raise NotFound(f"no ticket {ticket_id} in {center.code}", code="ticket_not_found")
        service_ids = [link.service_id for link in counter.links]
        if ticket.service_id not in service_ids:
            raise Conflict(
                f"counter {counter.number} does not serve this ticket's service",
                code="service_not_served",
            )
        transition(ticket.state, Action.CALL)
        next_id = session.scalar(
            select(Ticket.id)
            .where(
                Ticket.center_id == center.id,
                Ticket.state == TicketState.WAITING,
                Ticket.service_id.in_(service_ids),
            )
            .order_by(Ticket.effective_at, Ticket.id)
            .limit(1)
        )
        for column, value in _called(counter, actor, now).items():
            setattr(ticket, column, value)
        ticket.out_of_order = next_id != ticket.id
        ticket.call_reason = reason.strip()
        return _ticket_event(
            session,
            center,
            "ticket.called",
            ticket,
            actor=actor,
            now=now,
            reason=ticket.call_reason,
            data={"out_of_order": ticket.out_of_order},
            extra={"recall": False},
        )


_TICKET_ACTIONS: dict[Action, str] = {
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
    with db.write() as session:
        ticket = get_ticket(session, ticket_id, lock=True)
        require_center(actor, ticket.center_id)
        ticket.state = transition(ticket.state, action)
        if action is Action.RECALL:
            ticket.recall_count += 1
        elif action is Action.START:
            ticket.started_at = now
        else:
            ticket.finished_at = now
        center = session.get(Center, ticket.center_id)
        assert center is not None
        extra = {"recall": True} if action is Action.RECALL else None
        return _ticket_event(
            session,
            center,
            _TICKET_ACTIONS[action],
            ticket,
            actor=actor,
            now=now,
            reason=reason,
            extra=extra,
        )


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
    with db.write() as session:
        ticket = get_ticket(session, ticket_id, lock=True)
        require_center(actor, ticket.center_id)
        center = session.get(Center, ticket.center_id)
        assert center is not None
        target = get_service(session, center, service_code)
        if target.id == ticket.service_id:
            raise Conflict("the ticket is already in this service", code="same_service")
        ticket.state = transition(ticket.state, Action.TRANSFER)
        origin = session.get(Service, ticket.service_id)
        assert origin is not None
        from_counter = ticket.counter_id
        ticket.transferred_from_id = ticket.service_id
        ticket.service_id = target.id
        ticket.counter_id = None
        ticket.clerk_id = None
        ticket.called_at = None
        ticket.started_at = None
        # issued_at and effective_at stay: the ticket keeps its place in line.
        session.flush()
        seq = append_event(
            session,
            center,
            "ticket.transferred",
            actor=actor,
            now=now,
            ticket=ticket,
            counter_id=from_counter,
            reason=reason,
            data={"label": ticket.label, "from": origin.code, "to": target.code},
        )
        view = ticket_view(session, ticket)
        payload = {
            "center": center.code,
            "seq": seq,
            "ticket": view,
            "from_service": origin.code,
            "to_service": target.code,
        }
        return Outcome(view, [Published("ticket.transferred", payload)])


def set_counter_state(
    db: Database, counter_id: int, state: str, *, actor: Principal, now: datetime
) -> Outcome:
    """Open, pause or close a counter."""
    if state not in CounterState.ALL:
        raise InvalidInput(f"state must be one of {', '.join(CounterState.ALL)}", field="state")
    require_role(actor, *STAFF_AT_COUNTER)
    with db.write() as session:
        counter = get_counter(session, counter_id, lock=True)
        require_center(actor, counter.center_id)
        if state != CounterState.OPEN:
            busy = session.scalar(
                select(Ticket.label).where(
                    Ticket.counter_id == counter.id, Ticket.state.in_(ACTIVE)
                )
            )
            if busy is not None:
                raise Conflict(
                    f"counter {counter.number} still has {busy}; finish it first",
                    code="counter_busy",
                    ticket=busy,
                )
        previous = counter.state
        counter.state = state
        center = session.get(Center, counter.center_id)
        assert center is not None
        session.flush()
        seq = append_event(
            session,
            center,
            "counter.changed",
            actor=actor,
            now=now,
            counter_id=counter.id,
            data={"number": counter.number, "from": previous, "to": state},
        )
        view = counter_view(session, counter)
        return Outcome(
            view,
            [
                Published(
                    "counter.changed",
                    {"center": center.code, "seq": seq, "counter": view},
                )
            ],
        )
