"""SQLAlchemy 2 models. Times are stored in UTC; `day` is the center's business day."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out, whatever the backend stores."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; Taboor stores aware UTC times")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    pass


class Center(Base):
    __tablename__ = "centers"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name_ar: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    governorate_ar: Mapped[str] = mapped_column(String(100), default="")
    governorate_en: Mapped[str] = mapped_column(String(100), default="")
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Damascus")
    # {"days": ["sun", ...], "opens": "08:00", "closes": "14:00"}
    hours: Mapped[dict] = mapped_column(JSON, default=dict)
    # Per-center options: {"eastern_digits": bool, "public_display": bool, "priorities": [...]}
    options: Mapped[dict] = mapped_column(JSON, default=dict)
    # Head of the event chain: the sequence number of the newest event. Bumping it is
    # also the per-center lock that serialises appends to the chain.
    event_seq: Mapped[int] = mapped_column(Integer, default=0)


class Category(Base):
    __tablename__ = "categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name_ar: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))


class Service(Base):
    __tablename__ = "services"
    __table_args__ = (
        UniqueConstraint("center_id", "code"),
        UniqueConstraint("center_id", "prefix"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    center_id: Mapped[int] = mapped_column(ForeignKey("centers.id"))
    code: Mapped[str] = mapped_column(String(64))
    prefix: Mapped[str] = mapped_column(String(3))
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id"))
    name_ar: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    sla_minutes: Mapped[int] = mapped_column(Integer, default=20)
    min_service_s: Mapped[int] = mapped_column(Integer, default=60)
    avg_service_s: Mapped[int] = mapped_column(Integer, default=300)
    online: Mapped[bool] = mapped_column(Boolean, default=False)
    documents_ar: Mapped[list] = mapped_column(JSON, default=list)
    documents_en: Mapped[list] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    center: Mapped[Center] = relationship()
    category: Mapped[Category] = relationship()


class Counter(Base):
    __tablename__ = "counters"
    __table_args__ = (UniqueConstraint("center_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    center_id: Mapped[int] = mapped_column(ForeignKey("centers.id"))
    number: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16), default="closed")

    center: Mapped[Center] = relationship()
    links: Mapped[list[CounterService]] = relationship(
        order_by="CounterService.position", cascade="all, delete-orphan"
    )


class CounterService(Base):
    """A service a counter serves, in the counter's order."""

    __tablename__ = "counter_services"

    counter_id: Mapped[int] = mapped_column(ForeignKey("counters.id"), primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, default=0)

    service: Mapped[Service] = relationship()


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(16))
    # None for an admin of every center.
    center_id: Mapped[int | None] = mapped_column(ForeignKey("centers.id"))
    # The counter a clerk sits at by default (a clerk may act at any counter of the center).
    counter_id: Mapped[int | None] = mapped_column(ForeignKey("counters.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    center: Mapped[Center | None] = relationship()


class Device(Base):
    __tablename__ = "devices"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    center_id: Mapped[int] = mapped_column(ForeignKey("centers.id"))
    name: Mapped[str] = mapped_column(String(100), default="")
    # SHA-256 of the token: tokens are long random secrets, so a fast hash is enough
    # and lets every request find its device with one indexed lookup.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    printer: Mapped[str] = mapped_column(String(200), default="")
    printer_state: Mapped[str] = mapped_column(String(32), default="unknown")
    last_seen: Mapped[datetime | None] = mapped_column(UTCDateTime)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    center: Mapped[Center] = relationship()


class DailyNumber(Base):
    """The last number issued for a service on a business day (bumped with each issue)."""

    __tablename__ = "daily_numbers"

    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    last_number: Mapped[int] = mapped_column(Integer, default=0)


class Ticket(Base):
    __tablename__ = "tickets"
    __table_args__ = (
        UniqueConstraint("center_id", "day", "label"),
        UniqueConstraint("issued_service_id", "day", "number"),
        # The calling rule reads today's waiting tickets by effective time.
        Index(
            "ix_tickets_waiting", "center_id", "state", "service_id", "day", "effective_at", "id"
        ),
        Index("ix_tickets_counter", "counter_id", "state"),
        # The estimator reads each service's latest completions of the day.
        Index("ix_tickets_done", "service_id", "day", "state", "finished_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    center_id: Mapped[int] = mapped_column(ForeignKey("centers.id"))
    # The service the ticket waits for now (changes on transfer)...
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"))
    # ...and the one whose numbering gave it its label (never changes).
    issued_service_id: Mapped[int] = mapped_column(ForeignKey("services.id"))
    day: Mapped[date] = mapped_column(Date)
    number: Mapped[int] = mapped_column(Integer)
    label: Mapped[str] = mapped_column(String(16))
    priority: Mapped[str] = mapped_column(String(16), default="normal")
    channel: Mapped[str] = mapped_column(String(16), default="kiosk")
    lang: Mapped[str] = mapped_column(String(2), default="ar")
    state: Mapped[str] = mapped_column(String(16), default="waiting")
    counter_id: Mapped[int | None] = mapped_column(ForeignKey("counters.id"))
    clerk_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    device_id: Mapped[int | None] = mapped_column(ForeignKey("devices.id"))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    effective_at: Mapped[datetime] = mapped_column(UTCDateTime)
    called_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    recall_count: Mapped[int] = mapped_column(Integer, default=0)
    out_of_order: Mapped[bool] = mapped_column(Boolean, default=False)
    call_reason: Mapped[str | None] = mapped_column(Text)
    transferred_from_id: Mapped[int | None] = mapped_column(ForeignKey("services.id"))


class Event(Base):
    """One entry of a center's hash-chained event log (see server.domain.chain)."""

    __tablename__ = "events"
    __table_args__ = (
        UniqueConstraint("center_id", "seq"),
        Index("ix_events_ticket", "ticket_id"),
        # Statistics read a range's counter state changes; partial, so ticket events
        # (nearly all of them) cost nothing more to insert.
        Index(
            "ix_events_counter_changes",
            "center_id",
            "counter_id",
            "at",
            sqlite_where=text("type = 'counter.changed'"),
            postgresql_where=text("type = 'counter.changed'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    center_id: Mapped[int] = mapped_column(ForeignKey("centers.id"))
    seq: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    type: Mapped[str] = mapped_column(String(32))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    actor: Mapped[str] = mapped_column(String(64))
    counter_id: Mapped[int | None] = mapped_column(ForeignKey("counters.id"))
    reason: Mapped[str | None] = mapped_column(Text)
    data: Mapped[str] = mapped_column(Text, default="{}")
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class PrintJob(Base):
    """One ticket to print on one printer; kept until printed, reprinted on request."""

    __tablename__ = "print_jobs"
    __table_args__ = (Index("ix_print_jobs_state", "state", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    device_id: Mapped[int | None] = mapped_column(ForeignKey("devices.id"))
    printer: Mapped[str] = mapped_column(String(200))
    # Where the QR code points: the address the kiosk reached the server by, unless
    # the `public_url` setting says otherwise.
    base_url: Mapped[str] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(16), default="queued")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error_code: Mapped[str | None] = mapped_column(String(32))
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class StatsPeriod(Base):
    """A summarised day or month of a center's statistics (server.domain.summaries).

    A row exists only while the period's summary is valid: an operation that changes a
    ticket of the day deletes the day's and its month's rows in its own transaction.
    """

    __tablename__ = "stats_periods"
    # Operations forget a day whatever the filters; reports read one filter's days.
    __table_args__ = (Index("ix_stats_periods_day", "center_id", "first_day", "span"),)

    center_id: Mapped[int] = mapped_column(ForeignKey("centers.id"), primary_key=True)
    # The report filters it was made for: "" for none, else JSON [service, counter, clerk].
    filters: Mapped[str] = mapped_column(String(200), primary_key=True)
    span: Mapped[str] = mapped_column(String(8), primary_key=True)  # "day" or "month"
    first_day: Mapped[date] = mapped_column(Date, primary_key=True)
    last_day: Mapped[date] = mapped_column(Date)
    # The time zone, SLA targets and minimum service times it was computed with.
    basis: Mapped[str] = mapped_column(String(32))
    # The center's event sequence number the summary reflects.
    seq: Mapped[int] = mapped_column(Integer)
    implausible_ids: Mapped[str] = mapped_column(Text, default="[]")
    built_at: Mapped[datetime] = mapped_column(UTCDateTime)


class StatsGroup(Base):
    """One group (the whole period, a service, counter, clerk or hour) of a StatsPeriod."""

    __tablename__ = "stats_groups"
    __table_args__ = (Index("ix_stats_groups_day", "center_id", "first_day", "span"),)

    center_id: Mapped[int] = mapped_column(ForeignKey("centers.id"), primary_key=True)
    filters: Mapped[str] = mapped_column(String(200), primary_key=True)
    span: Mapped[str] = mapped_column(String(8), primary_key=True)
    first_day: Mapped[date] = mapped_column(Date, primary_key=True)
    dim: Mapped[str] = mapped_column(String(8), primary_key=True)
    group_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    issued: Mapped[int] = mapped_column(Integer, default=0)
    served: Mapped[int] = mapped_column(Integer, default=0)
    no_show: Mapped[int] = mapped_column(Integer, default=0)
    cancelled: Mapped[int] = mapped_column(Integer, default=0)
    pending: Mapped[int] = mapped_column(Integer, default=0)
    transferred: Mapped[int] = mapped_column(Integer, default=0)
    recalls: Mapped[int] = mapped_column(Integer, default=0)
    out_of_order: Mapped[int] = mapped_column(Integer, default=0)
    implausible: Mapped[int] = mapped_column(Integer, default=0)
    sla_within: Mapped[int] = mapped_column(Integer, default=0)
    sla_total: Mapped[int] = mapped_column(Integer, default=0)
    wait_n: Mapped[int] = mapped_column(Integer, default=0)
    wait_sum: Mapped[float] = mapped_column(Float, default=0.0)
    wait_max: Mapped[float | None] = mapped_column(Float)
    wait_hist: Mapped[bytes] = mapped_column(LargeBinary, default=b"")
    service_n: Mapped[int] = mapped_column(Integer, default=0)
    service_sum: Mapped[float] = mapped_column(Float, default=0.0)
    service_max: Mapped[float | None] = mapped_column(Float)
    service_hist: Mapped[bytes] = mapped_column(LargeBinary, default=b"")
    open_s: Mapped[float] = mapped_column(Float, default=0.0)
    paused_s: Mapped[float] = mapped_column(Float, default=0.0)
    serving_s: Mapped[float] = mapped_column(Float, default=0.0)
    # {"YYYY-MM-DD": seconds} served on later days; NULL when none.
    serving_later: Mapped[str | None] = mapped_column(Text)


class RevokedToken(Base):
    """A staff token signed out before it expired (`POST /logout`, `DELETE .../auth/token`).

    Staff tokens are signed, not stored: a row here is what stops one still inside its
    lifetime. A row outlives its token by nothing: revoking prunes the expired ones.
    """

    __tablename__ = "revoked_tokens"
    __table_args__ = (Index("ix_revoked_tokens_expiry", "expires_at"),)

    token_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
