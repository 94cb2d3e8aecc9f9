"""Staff users and devices: creating them and recognising their tokens."""

from __future__ import annotations

import functools
import secrets
from datetime import UTC, datetime

from sqlalchemy import select

from taboor.printers.backends import printer_from_spec
from taboor.server.auth import (
    DEVICE_TOKEN_PREFIX,
    DeviceKind,
    LoginThrottle,
    Principal,
    PrincipalCache,
    Role,
    StaffTokens,
    check_password,
    hash_device_token,
    hash_password,
    new_device_token,
    require_center,
    require_role,
)
from taboor.server.db import Database
from taboor.server.domain.errors import Conflict, InvalidInput, NotFound, Unauthorized
from taboor.server.models import Center, Counter, Device, User
from taboor.server.operations.catalog import DEMO_CATALOG, apply_catalog, read_catalog
from taboor.server.operations.printing import is_agent
from taboor.server.store import Tx, devices, users
from taboor.server.store.centers import get_center
from taboor.server.store.events import append_event_orm

DEMO_CENTER = "DAM-MIDAN"


@functools.cache
def _dummy_hash() -> str:
    """A hash to check when the username is unknown, so a login takes as long either way."""
    return hash_password(secrets.token_urlsafe(16))


def create_user(
    db: Database,
    username: str,
    password: str,
    role: str,
    *,
    center: str | None,
    counter: int | None = None,
    actor: Principal,
    now: datetime,
    replace: bool = False,
) -> User:
    """Add a staff user (or, with `replace`, reset an existing one)."""
    require_role(actor, Role.ADMIN)
    if role not in set(Role):
        raise InvalidInput(f"role must be one of {', '.join(Role)}", field="role")
    if not username or len(username) > 64:
        raise InvalidInput("username must be 1 to 64 characters", field="username")
    if len(password) < 8:
        raise InvalidInput("password must be at least 8 characters", field="password")
    if role != Role.ADMIN and center is None:
        raise InvalidInput(f"a {role} belongs to a center", field="center")
    with db.write() as session:
        center_row = get_center(session, center) if center else None
        counter_id = None
        if counter is not None:
            if center_row is None:
                raise InvalidInput("a counter needs a center", field="counter")
            counter_id = session.scalar(
                select(Counter.id).where(
                    Counter.center_id == center_row.id, Counter.number == counter
                )
            )
            if counter_id is None:
                raise NotFound(f"no counter {counter} in {center}", code="counter_not_found")
        user = session.scalar(select(User).where(User.username == username))
        if user is not None and not replace:
            raise Conflict(f"user {username!r} exists", code="username_taken")
        if user is None:
            user = User(username=username, created_at=now)
            session.add(user)
        user.password_hash = hash_password(password)
        user.role = role
        user.center_id = center_row.id if center_row else None
        user.counter_id = counter_id
        user.active = True
        session.flush()
        if center_row is not None:
            append_event_orm(
                session,
                center_row,
                "admin.user",
                actor=actor,
                now=now,
                data={"user": username, "role": role, "counter": counter},
            )
        return user


def set_user(
    db: Database,
    username: str,
    *,
    actor: Principal,
    now: datetime,
    active: bool | None = None,
    password: str | None = None,
) -> User:
    """Disable or enable a staff user, or give them a new password.

    Either one ends every token the user holds at once (the token lookup checks that
    the user is active and that the token was issued under the current password);
    other processes follow within their few seconds of cache. Logged in the user's
    center's event log.
    """
    require_role(actor, Role.ADMIN)
    if password is not None and len(password) < 8:
        raise InvalidInput("password must be at least 8 characters", field="password")
    with db.write() as session:
        user = session.scalar(select(User).where(User.username == username))
        if user is None:
            raise NotFound(f"no user {username!r}", code="user_not_found")
        change: dict[str, object] = {"user": username}
        if active is not None:
            user.active = active
            change["active"] = active
        if password is not None:
            user.password_hash = hash_password(password)
            change["password"] = "changed"
        session.flush()
        if user.center_id is not None:
            center = session.get(Center, user.center_id)
            assert center is not None
            append_event_orm(session, center, "admin.user", actor=actor, now=now, data=change)
        return user


def revoke_device(db: Database, device_id: int, *, actor: Principal, now: datetime) -> Device:
    """Take a device's token away for good (a stolen kiosk PC, a display retired).

    Its requests are refused from then on (other processes within their few seconds
    of cache); a replacement is a new device with a new token. Logged in its center's
    event log.
    """
    require_role(actor, Role.ADMIN, Role.MANAGER)
    with db.write() as session:
        device = session.get(Device, device_id)
        if device is None:
            raise NotFound(f"no device {device_id}", code="device_not_found")
        require_center(actor, device.center_id)
        device.active = False
        session.flush()
        center = session.get(Center, device.center_id)
        assert center is not None
        change = {"device": device.id, "kind": device.kind, "active": False}
        append_event_orm(session, center, "admin.device", actor=actor, now=now, data=change)
        return device


def list_devices(db: Database, center: str | None = None) -> list[Device]:
    """Every device (of one center), for the command line."""
    with db.read() as session:
        query = select(Device).order_by(Device.center_id, Device.id)
        if center is not None:
            query = query.where(Device.center_id == get_center(session, center).id)
        return list(session.scalars(query))


def create_device(
    db: Database,
    kind: str,
    center: str,
    *,
    name: str = "",
    printer: str = "",
    actor: Principal,
    now: datetime,
    replace: bool = False,
) -> tuple[Device, str]:
    """Register a device and return it with its token (shown once, stored hashed)."""
    require_role(actor, Role.ADMIN, Role.MANAGER)
    if kind not in set(DeviceKind):
        raise InvalidInput(f"kind must be one of {', '.join(DeviceKind)}", field="kind")
    if printer and not is_agent(printer):
        try:
            printer_from_spec(printer)
        except ValueError as exc:
            raise InvalidInput(str(exc), field="printer") from None
    token = new_device_token()
    with db.write() as session:
        center_row = get_center(session, center)
        device = None
        if replace and name:
            device = session.scalar(
                select(Device).where(
                    Device.center_id == center_row.id,
                    Device.name == name,
                    Device.kind == kind,
                )
            )
        if device is None:
            device = Device(kind=kind, center_id=center_row.id, name=name, created_at=now)
            session.add(device)
        device.token_hash = hash_device_token(token)
        device.printer = printer
        device.active = True
        session.flush()
        append_event_orm(
            session,
            center_row,
            "admin.device",
            actor=actor,
            now=now,
            data={"device": device.id, "kind": kind, "name": name},
        )
        return device, token


def login(
    db: Database,
    tokens: StaffTokens,
    username: str,
    password: str,
    *,
    throttle: LoginThrottle | None = None,
    address: str = "",
) -> tuple[str, User]:
    """Check a staff password and return a fresh token (failures count against `address`)."""
    if throttle is not None:
        throttle.check(username, address)
    with db.read() as session:
        user = session.scalar(select(User).where(User.username == username, User.active.is_(True)))
    if user is None:
        check_password(_dummy_hash(), password)
    if user is None or not check_password(user.password_hash, password):
        if throttle is not None:
            throttle.failed(username, address)
        raise Unauthorized("wrong username or password", code="invalid_credentials")
    if throttle is not None:
        throttle.succeeded(username, address)
    return tokens.issue(user.id, user.password_hash), user


def principal_for(
    db: Database, tokens: StaffTokens, token: str, cache: PrincipalCache | None = None
) -> Principal:
    """The principal a bearer token stands for, or Unauthorized (runs on every request)."""
    if cache is not None and (known := cache.get(token)) is not None:
        return known
    principal = _lookup_principal(db, tokens, token)
    if cache is not None:
        cache.put(token, principal)
    return principal


def _lookup_principal(db: Database, tokens: StaffTokens, token: str) -> Principal:
    if token.startswith(DEVICE_TOKEN_PREFIX):
        with db.reading() as tx:
            device = devices.token_device(tx, hash_device_token(token))
        if device is None:
            raise Unauthorized("unknown device token", code="token_invalid")
        return Principal("device", device.id, device.kind, device.center_id)
    staff = tokens.load(token)
    with db.reading() as tx:
        user = users.token_user(tx, staff.user_id, staff.token_id)
    if user is None or not tokens.matches(staff.stamp, user.password_hash):
        raise Unauthorized("the token is no longer valid", code="token_invalid")
    if user.revoked:
        raise Unauthorized("this token was signed out; sign in again", code="token_invalid")
    return Principal("user", user.id, user.role, user.center_id, user.counter_id)


def revoke(
    db: Database,
    tokens: StaffTokens,
    token: str,
    *,
    cache: PrincipalCache | None = None,
    now: datetime | None = None,
) -> None:
    """Sign a staff token out: refused from now on (by other processes within their
    cache's few seconds). Unauthorized when it is not a valid staff token.

    Records of tokens expired by `now` are dropped. Tokens expire on the real clock
    (their signature's time), so `now` is the real time unless a test says otherwise.
    """
    now = now or datetime.now(UTC)
    if token.startswith(DEVICE_TOKEN_PREFIX):
        raise InvalidInput(
            "only a staff token can be signed out, not a device's",
            code="staff_token_required",
        )
    principal = principal_for(db, tokens, token, cache)
    staff = tokens.load(token)
    if staff.token_id is None:  # issued before tokens had ids: it can only expire
        raise InvalidInput(
            "this token predates sign-out; it expires by itself", code="token_not_revocable"
        )

    token_id = staff.token_id

    def work(tx: Tx) -> None:
        users.revoke_token(tx, token_id, principal.id, staff.expires_at, now)

    db.atomic(work)
    if cache is not None:
        cache.forget(token)


def load_demo(db: Database, *, actor: Principal, now: datetime) -> dict[str, object]:
    """Load the demo catalog and (re)create demo users and devices with fresh secrets."""
    apply_catalog(db, read_catalog(DEMO_CATALOG), actor=actor, now=now)
    with db.read() as session:
        center = session.scalar(select(Center).where(Center.code == DEMO_CENTER))
        assert center is not None
        numbers = list(
            session.scalars(
                select(Counter.number)
                .where(Counter.center_id == center.id)
                .order_by(Counter.number)
            )
        )
    users: list[dict[str, object]] = []

    def add(username: str, role: str, center_code: str | None, counter: int | None) -> None:
        password = secrets.token_urlsafe(9)
        user = create_user(
            db,
            username,
            password,
            role,
            center=center_code,
            counter=counter,
            actor=actor,
            now=now,
            replace=True,
        )
        users.append(
            {
                "username": username,
                "password": password,
                "role": role,
                "center": center_code,
                "counter_id": user.counter_id,
            }
        )

    add("admin", Role.ADMIN, None, None)
    add("manager", Role.MANAGER, DEMO_CENTER, None)
    for number in numbers:
        add(f"clerk{number:02d}", Role.CLERK, DEMO_CENTER, number)
    devices = []
    for kind, name in (
        (DeviceKind.KIOSK, "kiosk-1"),
        (DeviceKind.DISPLAY, "display-1"),
    ):
        _, token = create_device(
            db, kind, DEMO_CENTER, name=name, actor=actor, now=now, replace=True
        )
        devices.append({"kind": str(kind), "center": DEMO_CENTER, "name": name, "token": token})
    return {"center": DEMO_CENTER, "users": users, "devices": devices}
