"""Read-only views of a center: services with their queues, the snapshot, a ticket."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.domain.errors import NotFound
from server.domain.estimates import estimate_wait_s
from server.domain.tickets import TicketState
from server.models import Category, Center, Counter, CounterService, Service, Ticket
from server.operations import (
    ACTIVE,
    CounterState,
    counter_view,
    get_center,
    ticket_view,
)


def center_view(center: Center) -> dict[str, object]:
    return {
        "code": center.code,
        "name_ar": center.name_ar,
        "name_en": center.name_en,
        "governorate_ar": center.governorate_ar,
        "governorate_en": center.governorate_en,
        "timezone": center.timezone,
        "hours": center.hours,
        "options": center.options,
    }


def list_centers(session: Session) -> list[dict[str, object]]:
    return [center_view(c) for c in session.scalars(select(Center).order_by(Center.code))]


def waiting_by_service(session: Session, center_id: int) -> dict[int, int]:
    rows = session.execute(
        select(Ticket.service_id, func.count())
        .where(Ticket.center_id == center_id, Ticket.state == TicketState.WAITING)
        .group_by(Ticket.service_id)
    )
    return {service_id: count for service_id, count in rows}


def open_counters_by_service(session: Session, center_id: int) -> dict[int, int]:
    rows = session.execute(
        select(CounterService.service_id, func.count())
        .join(Counter, Counter.id == CounterService.counter_id)
        .where(Counter.center_id == center_id, Counter.state == CounterState.OPEN)
        .group_by(CounterService.service_id)
    )
    return {service_id: count for service_id, count in rows}


def list_services(session: Session, code: str) -> list[dict[str, object]]:
    """The center's services with the queue in front of each and its estimated wait."""
    center = get_center(session, code)
    waiting = waiting_by_service(session, center.id)
    open_counters = open_counters_by_service(session, center.id)
    rows = session.execute(
        select(Service, Category)
        .join(Category, Category.id == Service.category_id)
        .where(Service.center_id == center.id, Service.active.is_(True))
        .order_by(Category.id, Service.id)
    )
    result = []
    for service, category in rows:
        ahead = waiting.get(service.id, 0)
        result.append(
            {
                "code": service.code,
                "prefix": service.prefix,
                "name_ar": service.name_ar,
                "name_en": service.name_en,
                "category": category.code,
                "category_ar": category.name_ar,
                "category_en": category.name_en,
                "sla_minutes": service.sla_minutes,
                "online": service.online,
                "documents_ar": service.documents_ar,
                "documents_en": service.documents_en,
                "waiting": ahead,
                "open_counters": open_counters.get(service.id, 0),
                "estimated_wait_s": estimate_wait_s(
                    ahead, service.avg_service_s, open_counters.get(service.id, 0)
                ),
            }
        )
    return result


def list_counters(session: Session, code: str) -> list[dict[str, object]]:
    center = get_center(session, code)
    counters = session.scalars(
        select(Counter).where(Counter.center_id == center.id).order_by(Counter.number)
    )
    return [counter_view(session, counter) for counter in counters]


def snapshot(session: Session, code: str) -> dict[str, object]:
    """Everything a live page needs to redraw, as of the event `seq`."""
    center = get_center(session, code)
    serving = session.execute(
        select(
            Ticket.id,
            Ticket.label,
            Ticket.state,
            Ticket.called_at,
            Ticket.recall_count,
            Counter.id,
            Counter.number,
            Service.code,
        )
        .join(Counter, Counter.id == Ticket.counter_id)
        .join(Service, Service.id == Ticket.service_id)
        .where(Ticket.center_id == center.id, Ticket.state.in_(ACTIVE))
        .order_by(Ticket.called_at.desc())
    )
    waiting = waiting_by_service(session, center.id)
    codes = dict(
        session.execute(
            select(Service.id, Service.code).where(Service.center_id == center.id)
        ).all()
    )
    return {
        "center": center.code,
        "seq": center.event_seq,
        "now_serving": [
            {
                "ticket_id": tid,
                "label": label,
                "state": state,
                "called_at": called_at.isoformat().replace("+00:00", "Z"),
                "recall_count": recalls,
                "counter_id": cid,
                "counter": number,
                "service": svc,
            }
            for tid, label, state, called_at, recalls, cid, number, svc in serving
        ],
        "waiting": {codes[sid]: count for sid, count in sorted(waiting.items())},
        "counters": list_counters(session, code),
    }


def ticket_by_public_id(session: Session, public_id: str) -> dict[str, object]:
    ticket = session.scalar(select(Ticket).where(Ticket.public_id == public_id))
    if ticket is None:
        raise NotFound("no such ticket", code="ticket_not_found")
    return ticket_view(session, ticket)
