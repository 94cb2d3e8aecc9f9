"""Who is acting: staff users and devices, their tokens and what they may do."""

from __future__ import annotations

import hashlib
import math
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from werkzeug.security import check_password_hash, generate_password_hash

from taboor.server.domain.errors import Forbidden, TooManyAttempts, Unauthorized


class Role(StrEnum):
    ADMIN = "admin"
    MANAGER = "manager"
    CLERK = "clerk"


class DeviceKind(StrEnum):
    KIOSK = "kiosk"
    DISPLAY = "display"
    AGENT = "agent"


STAFF = frozenset(Role)
# Who acts at a counter (call, recall, serve, transfer, open and close it).
STAFF_AT_COUNTER = (Role.CLERK, Role.MANAGER, Role.ADMIN)
# Who issues tickets: a kiosk, or staff at reception.
ISSUERS = (DeviceKind.KIOSK, Role.CLERK, Role.MANAGER, Role.ADMIN)
DEVICE_TOKEN_PREFIX = "dev_"


@dataclass(frozen=True)
class Principal:
    """An authenticated actor. `center_id` None means every center (an admin)."""

    kind: str  # "user", "device" or "system"
    id: int | None
    role: str  # a Role for users, a DeviceKind for devices, "system" for the CLI
    center_id: int | None
    counter_id: int | None = None  # a clerk's own counter

    @property
    def actor(self) -> str:
        return "system" if self.kind == "system" else f"{self.kind}:{self.id}"

    def in_center(self, center_id: int) -> bool:
        return self.center_id is None or self.center_id == center_id


SYSTEM = Principal("system", None, "system", None)


def require_role(principal: Principal | None, *roles: str) -> Principal:
    """The principal if it has one of `roles` (the system may do anything)."""
    if principal is None:
        raise Unauthorized("a bearer token is required", code="token_required")
    if principal.kind != "system" and principal.role not in roles:
        raise Forbidden(f"this needs the role {' or '.join(roles)}", code="role_forbidden")
    return principal


def require_center(principal: Principal, center_id: int) -> None:
    if principal.kind != "system" and not principal.in_center(center_id):
        raise Forbidden("you may not act in this center", code="center_forbidden")


def require_counter(principal: Principal, counter_id: int) -> None:
    """A clerk works at their own counter (managers and admins at any)."""
    if (
        principal.role == Role.CLERK
        and principal.counter_id is not None
        and principal.counter_id != counter_id
    ):
        raise Forbidden("you work at another counter", code="counter_forbidden")


def hash_password(password: str) -> str:
    return generate_password_hash(password)


def check_password(password_hash: str, password: str) -> bool:
    return check_password_hash(password_hash, password)


def new_device_token() -> str:
    return DEVICE_TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_device_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class StaffToken:
    """What a valid staff token says: whose it is, and which one it is."""

    user_id: int
    stamp: str  # of the password it was issued under
    token_id: str | None  # None in tokens issued before sign-out existed
    expires_at: datetime


class StaffTokens:
    """Signed, expiring staff tokens.

    A password change invalidates a user's older tokens (they carry a stamp of the
    password hash); signing out revokes one token (its id is recorded until it expires).
    """

    def __init__(self, secret_key: str, max_age_s: int) -> None:
        self._serializer = URLSafeTimedSerializer(secret_key, salt="taboor.staff-token")
        self.max_age_s = max_age_s

    @staticmethod
    def _stamp(password_hash: str) -> str:
        return hashlib.sha256(password_hash.encode()).hexdigest()[:16]

    def issue(self, user_id: int, password_hash: str) -> str:
        claims = {"u": user_id, "p": self._stamp(password_hash), "j": secrets.token_urlsafe(12)}
        return self._serializer.dumps(claims)

    def load(self, token: str) -> StaffToken:
        """What `token` says, or Unauthorized when it is forged or expired."""
        try:
            data, signed_at = self._serializer.loads(
                token, max_age=self.max_age_s, return_timestamp=True
            )
        except SignatureExpired:
            raise Unauthorized("the token has expired", code="token_expired") from None
        except BadSignature:
            raise Unauthorized("the token is not valid", code="token_invalid") from None
        token_id = data.get("j")
        return StaffToken(
            int(data["u"]),
            str(data["p"]),
            token_id if isinstance(token_id, str) else None,
            signed_at + timedelta(seconds=self.max_age_s),
        )

    def matches(self, stamp: str, password_hash: str) -> bool:
        return secrets.compare_digest(stamp, self._stamp(password_hash))


class PrincipalCache:
    """Bearer tokens seen in the last few seconds and whom they stand for.

    Every request authenticates; a kiosk sends the same token all day. Remembering
    the answer for `ttl_s` seconds saves a database round trip per request, at the
    price that a revoked token keeps working for at most that long.
    """

    def __init__(self, ttl_s: float = 10.0, size: int = 4096) -> None:
        self.ttl_s = ttl_s
        self.size = size
        self._entries: dict[str, tuple[float, Principal]] = {}

    def get(self, token: str) -> Principal | None:
        entry = self._entries.get(token)
        if entry is None or entry[0] < time.monotonic():
            return None
        return entry[1]

    def put(self, token: str, principal: Principal) -> None:
        if len(self._entries) >= self.size:
            self._entries.clear()
        self._entries[token] = (time.monotonic() + self.ttl_s, principal)

    def forget(self, token: str) -> None:
        """Stop answering for `token` here (it was just revoked)."""
        self._entries.pop(token, None)

    def clear(self) -> None:
        self._entries.clear()


class LoginThrottle:
    """Failed sign-ins slow guessing down, without letting a stranger lock a clerk out.

    After `limit` failures for one username from one address within `window_s`, that
    pair waits until its oldest failure leaves the window; one address is also held to
    `address_limit` failures across all usernames (someone trying many names). A
    success clears the pair. Kept in memory: Taboor serves from one process, and a
    restart forgetting the count costs an attacker a restart per few guesses.
    """

    def __init__(
        self,
        limit: int = 5,
        address_limit: int = 30,
        window_s: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = limit
        self.address_limit = address_limit
        self.window_s = window_s
        self.clock = clock
        self._lock = threading.Lock()
        self._failures: dict[tuple[str, str], deque[float]] = {}
        self._by_address: dict[str, deque[float]] = {}

    def _recent(self, times: deque[float] | None, now: float) -> deque[float] | None:
        if times is not None:
            while times and times[0] <= now - self.window_s:
                times.popleft()
        return times

    def check(self, username: str, address: str) -> None:
        """Raise TooManyAttempts while this username and address must wait."""
        now = self.clock()
        with self._lock:
            pair = self._recent(self._failures.get((username, address)), now)
            every = self._recent(self._by_address.get(address), now)
            waits = []
            if pair is not None and len(pair) >= self.limit:
                waits.append(pair[len(pair) - self.limit] + self.window_s - now)
            if every is not None and len(every) >= self.address_limit:
                waits.append(every[len(every) - self.address_limit] + self.window_s - now)
        if waits:
            retry = max(1, math.ceil(max(waits)))
            raise TooManyAttempts(
                f"too many failed sign-ins; try again in {retry} seconds", retry_after_s=retry
            )

    def failed(self, username: str, address: str) -> None:
        now = self.clock()
        with self._lock:
            if len(self._failures) > 10_000:  # a flood of names: forget the oldest state
                self._failures.clear()
                self._by_address.clear()
            self._failures.setdefault((username, address), deque()).append(now)
            self._by_address.setdefault(address, deque()).append(now)

    def succeeded(self, username: str, address: str) -> None:
        with self._lock:
            self._failures.pop((username, address), None)
