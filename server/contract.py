"""The public API's contract, written once: request bodies, answers and live messages.

Each is a pydantic model. The JSON views validate request bodies with them (`parse`),
the OpenAPI document (server/openapi.py) is generated from them and from the routes'
declarations (`documented`), and the tests check real answers and live events against
the same models. Field names and status codes are those of DESIGN.md section 4.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any, Literal, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from taboor.server.domain.errors import InvalidInput

MAX_ID = 2**63 - 1  # the largest id a database integer column holds
MAX_TEXT = 1000

TicketStateName = Literal["waiting", "called", "serving", "done", "no_show", "cancelled"]
PriorityName = Literal["normal", "elderly", "disabled", "appointment"]
CounterStateName = Literal["open", "paused", "closed"]


def _text(value: str) -> str:
    # PostgreSQL text cannot hold NUL, and no name, code or reason needs it or a novel.
    # A lone surrogate (JSON allows "\ud800") cannot be stored or printed either.
    if "\x00" in value or len(value) > MAX_TEXT:
        raise ValueError(f"must be text of at most {MAX_TEXT} characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text") from None
    return value


Text = Annotated[str, AfterValidator(_text)]


def check_text(name: str, value: str) -> str:
    """A query argument, checked like a body's text field."""
    try:
        return _text(value)
    except ValueError as exc:
        raise InvalidInput(f"{name} {exc}", field=name) from None

Id = Annotated[int, Field(ge=1, le=MAX_ID)]


# --- request bodies --------------------------------------------------------------------


class Body(BaseModel):
    """A request body: types as sent (no coercion), unknown fields ignored."""

    model_config = ConfigDict(strict=True, extra="ignore", frozen=True)


class TokenRequest(Body):
    username: Text
    password: Text


class IssueRequest(Body):
    service: Text
    priority: Text = Field(
        default="normal",
        json_schema_extra={"enum": ["normal", "elderly", "disabled", "appointment"]},
    )
    lang: Text = Field(default="ar", json_schema_extra={"enum": ["ar", "en"]})


class CallRequest(Body):
    ticket: Id
    reason: Text = Field(json_schema_extra={"minLength": 1})


class ReasonRequest(Body):
    reason: Text | None = None


class TransferRequest(Body):
    service: Text
    reason: Text | None = None


class Empty(Body):
    """No fields: a body, when sent, must still be a JSON object."""


B = TypeVar("B", bound=Body)


def parse(model: type[B], body: Mapping[str, Any]) -> B:
    """Validate a decoded JSON object; InvalidInput names the first bad field.

    A field sent as null counts as not sent (its default, or `missing_field`).
    """
    given = {k: v for k, v in body.items() if v is not None}
    try:
        return model.model_validate(given)
    except ValidationError as exc:
        error = exc.errors(include_url=False, include_input=False)[0]
        name = str(error["loc"][0]) if error["loc"] else ""
        if error["type"] == "missing":
            raise InvalidInput(f"{name} is required", field=name, code="missing_field") from None
        reason = str(error["msg"]).removeprefix("Value error, ")
        raise InvalidInput(f"{name}: {reason}", field=name) from None


def report_query(*filters: str) -> tuple[tuple[str, dict[str, Any]], ...]:
    """A report's query: its local days (`from`, `to`) and the filters it takes."""
    day = {"type": "string", "format": "date"}
    return (("from", day), ("to", day), *((name, {"type": "string"}) for name in filters))


# --- answers ---------------------------------------------------------------------------


class Answer(BaseModel):
    """An answer's shape (documentation and tests; the views build plain dicts)."""

    model_config = ConfigDict(extra="forbid")


class ErrorDetail(Answer):
    model_config = ConfigDict(extra="allow")

    code: str = Field(description="Stable, for programs")
    message: str = Field(description="For people")
    field: str | None = Field(default=None, description="The request field at fault")
    state: str | None = Field(default=None, description="The ticket's or counter's state")


class Error(Answer):
    error: ErrorDetail


class TokenAnswer(Answer):
    token: str
    role: str
    expires_in: int | None = None
    counter_id: int | None = None


class Center(Answer):
    code: str
    name_ar: str
    name_en: str
    governorate_ar: str | None = None
    governorate_en: str | None = None
    timezone: str
    hours: dict[str, Any] | None = None
    options: dict[str, Any] | None = None


class Estimate(Answer):
    """How an estimated wait was made: people ahead divided by the recent service rate
    of the open counters that serve the service."""

    wait_s: int
    basis: str = Field(description="recent completions, or the configured average")
    ahead: int
    counters: int
    capacity: float | None = None
    handle_s: float | None = None
    rate_per_min: float | None = None
    samples: int | None = None


class Service(Answer):
    code: str
    prefix: str = Field(pattern="^[A-Z]{1,3}$")
    name_ar: str
    name_en: str
    category: str
    category_ar: str | None = None
    category_en: str | None = None
    sla_minutes: int | None = None
    online: bool | None = None
    documents_ar: list[str] | None = None
    documents_en: list[str] | None = None
    waiting: int
    open_counters: int | None = None
    estimated_wait_s: int
    estimate: Estimate | None = None


class PrintRef(Answer):
    """The print job queued with a kiosk's ticket."""

    job: int
    state: str


class Ticket(Answer):
    id: int
    public_id: str
    label: str
    number: int
    service: str
    center: str
    state: TicketStateName
    priority: PriorityName
    position: int | None
    ahead: int | None = None
    estimated_wait_s: int | None
    estimate: Estimate | None = None
    counter: int | None
    counter_id: int | None = None
    issued_at: datetime
    called_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    recall_count: int | None = None
    out_of_order: bool | None = None
    business_day: date | None = None
    print: PrintRef | None = None


class Counter(Answer):
    id: int
    number: int
    state: CounterStateName
    services: list[str]
    ticket: str | None = None
    ticket_id: int | None = None


class QueuedTicket(Answer):
    id: int
    label: str
    service: str
    priority: PriorityName
    issued_at: datetime
    position: int = Field(ge=1, description="The place in the ticket's own service")
    order: int = Field(ge=1, description="The place in this counter's calling order")


class CounterQueue(Answer):
    counter_id: int
    counter: int
    business_day: date
    tickets: list[QueuedTicket]


class Snapshot(Answer):
    center: str | None = None
    seq: int
    now_serving: list[dict[str, Any]]
    waiting: dict[str, int]
    counters: list[Counter]


class ServiceWait(Answer):
    code: str
    name_ar: str | None = None
    name_en: str | None = None
    waiting: int
    open_counters: int | None = None
    estimated_wait_s: int
    longest_wait_s: int | None = Field(
        default=None, description="How long the oldest of today's waiting tickets has waited"
    )
    sla_minutes: int | None = None
    basis: Literal["recent", "configured"]


class Waits(Answer):
    center: str
    generated_at: datetime
    services: list[ServiceWait]


class PrintJob(Answer):
    job: int
    state: str
    printer: str | None = None


class ProgressCenter(Answer):
    code: str
    name_ar: str
    name_en: str
    timezone: str
    public_display: bool | None = None
    eastern_digits: bool | None = None


class ServiceName(Answer):
    code: str
    name_ar: str
    name_en: str


class CalledFirst(Answer):
    label: str
    reason: Literal["priority", "transfer", "clerk"]
    note: str | None = Field(
        default=None, max_length=200, description="The clerk's stated reason (clerk only)"
    )
    at: datetime


class TicketProgress(Answer):
    ticket: Ticket
    center: ProgressCenter
    service: ServiceName
    expired: bool = Field(description="Still waiting, but issued on an earlier business day")
    final: bool = Field(description="done, no_show or cancelled")
    joined_at: datetime | None
    joined_by: Literal["issue", "transfer"]
    served_since: int = Field(
        description="Other tickets of its service called to a counter (recalls not counted) "
        "between joining the line and its own call"
    )
    out_of_order: list[CalledFirst] = Field(
        description="Tickets called in that span although they joined the line after this one"
    )
    seq: int = Field(description="The center's event sequence number when read")


# --- statistics (definitions in server/domain/stats.py) --------------------------------


class Summary(Answer):
    mean: float | None
    p50: float | None
    p90: float | None
    max: float | None
    count: int


class Sla(Answer):
    ratio: float | None
    within: int | None = None
    total: int | None = None


class Figures(Answer):
    issued: int
    served: int
    no_show: int
    cancelled: int
    pending: int | None = None
    transferred: int | None = None
    recalls: int | None = None
    out_of_order: int | None = None
    implausible: int | None = None
    wait_s: Summary
    service_s: Summary
    sla: Sla


class Utilisation(Answer):
    """Counters' time in the range, in seconds."""

    open_s: float | None = None
    paused_s: float | None = None
    serving_s: float | None = None
    ratio: float | None = Field(default=None, description="serving time / open time")


class CounterFigures(Figures):
    utilisation: Utilisation | None = None


class Filters(Answer):
    service: str | None = None
    counter: str | None = None
    clerk: str | None = None


class Percentiles(Answer):
    """How p50 and p90 were found: exact (one day) or from stored histograms (longer
    ranges; never below the exact value, above it by at most the resolution given)."""

    method: Literal["exact", "histogram"]
    linear_below_s: int | None = None
    absolute_s: float | None = None
    relative: float | None = None


class Stats(Figures):
    model_config = ConfigDict(populate_by_name=True)

    center: str | None = None
    timezone: str | None = None
    from_: date | None = Field(default=None, alias="from")
    to: date | None = None
    filters: Filters | None = None
    utilisation: Utilisation | None = None
    implausible_ids: list[int] | None = Field(
        default=None,
        description="Tickets whose service time was shorter than the service's minimum "
        "plausible time (counted apart, not averaged in)",
    )
    sla_targets_min: dict[str, int] | None = Field(
        default=None, description="Each service's SLA target in minutes"
    )
    percentiles: Percentiles | None = None
    by_service: dict[str, Figures]
    by_counter: dict[str, CounterFigures]
    by_clerk: dict[str, Figures]
    by_hour: dict[str, Figures]
    by_day: dict[str, Figures]


class AllCentersStats(Stats):
    centers: list[str]
    by_center: dict[str, Figures]


# --- live messages (Socket.IO, room center:<code>) -------------------------------------


class JoinRequest(Body):
    center: Text


class RoomTicket(Ticket):
    """A ticket as a center's room hears it: without its public id and priority class."""

    public_id: str | None = None  # type: ignore[assignment]
    priority: PriorityName | None = None  # type: ignore[assignment]


class TicketEvent(Answer):
    """`ticket.issued`, `ticket.called` (`recall` true for a recall), `ticket.started`,
    `ticket.done`, `ticket.no_show`, `ticket.cancelled`, `ticket.transferred`."""

    center: str
    seq: int
    ticket: RoomTicket
    recall: bool | None = None
    from_service: str | None = None
    to_service: str | None = None


class CounterEvent(Answer):
    """`counter.changed`: a counter opened, paused or closed."""

    center: str
    seq: int
    counter: Counter


# --- routes ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    """What the OpenAPI document says of one view besides its path and docstring."""

    answers: Mapping[int, type[BaseModel] | dict[str, Any] | None]
    errors: tuple[int, ...] = ()
    body: type[Body] | None = None
    auth: bool = False
    query: tuple[tuple[str, dict[str, Any]], ...] = ()


def documented(
    answers: Mapping[int, type[BaseModel] | dict[str, Any] | None],
    *,
    errors: tuple[int, ...] = (),
    body: type[Body] | None = None,
    auth: bool = False,
    query: tuple[tuple[str, dict[str, Any]], ...] = (),
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Declare a JSON view's answers, errors, body and query for the OpenAPI document."""

    def mark(view: Callable[..., Any]) -> Callable[..., Any]:
        view.taboor_route = Route(dict(answers), errors, body, auth, query)  # type: ignore[attr-defined]
        return view


    return mark


COMPONENTS: tuple[type[BaseModel], ...] = (
    Error, TokenAnswer, Center, Service, Estimate, Ticket, Counter, CounterQueue, Snapshot,
    Waits, PrintJob, TicketProgress, Stats, AllCentersStats, TicketEvent, CounterEvent,
)  # fmt: skip
