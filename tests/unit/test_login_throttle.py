"""Failed sign-ins: guessing slows down, a stranger cannot lock a clerk out elsewhere."""

from __future__ import annotations

import pytest

from taboor.server.auth import LoginThrottle
from taboor.server.domain.errors import TooManyAttempts


class Ticks:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def fail(throttle: LoginThrottle, times: int, user: str = "clerk1", address: str = "10.0.0.9"):
    for _ in range(times):
        throttle.check(user, address)
        throttle.failed(user, address)


def test_the_pair_is_held_after_limit_failures_until_the_oldest_leaves_the_window():
    ticks = Ticks()
    throttle = LoginThrottle(limit=3, window_s=300, clock=ticks)
    fail(throttle, 3)
    with pytest.raises(TooManyAttempts) as caught:
        throttle.check("clerk1", "10.0.0.9")
    assert caught.value.status == 429
    assert caught.value.details["retry_after_s"] == 300
    ticks.now += 299
    with pytest.raises(TooManyAttempts):
        throttle.check("clerk1", "10.0.0.9")
    ticks.now += 1
    throttle.check("clerk1", "10.0.0.9")


def test_fewer_failures_than_the_limit_never_hold():
    throttle = LoginThrottle(limit=3, clock=Ticks())
    fail(throttle, 2)
    throttle.check("clerk1", "10.0.0.9")


def test_another_address_is_not_held_for_the_same_username():
    throttle = LoginThrottle(limit=3, clock=Ticks())
    fail(throttle, 3, address="10.0.0.66")
    throttle.check("clerk1", "10.0.0.9")


def test_a_success_clears_the_pair():
    throttle = LoginThrottle(limit=3, clock=Ticks())
    fail(throttle, 2)
    throttle.succeeded("clerk1", "10.0.0.9")
    fail(throttle, 2)
    throttle.check("clerk1", "10.0.0.9")


def test_one_address_trying_many_usernames_is_held():
    throttle = LoginThrottle(limit=3, address_limit=5, clock=Ticks())
    for name in ("a", "b", "c", "d", "e"):
        fail(throttle, 1, user=name)
    with pytest.raises(TooManyAttempts):
        throttle.check("f", "10.0.0.9")
    throttle.check("f", "10.0.0.10")
