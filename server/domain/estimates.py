"""Estimated wait: people ahead divided by the rate of the counters serving them."""

from __future__ import annotations


def estimate_wait_s(ahead: int, service_time_s: float, open_counters: int) -> int:
    """Seconds until a ticket with `ahead` people before it is called.

    With no open counter the estimate assumes one will open: a citizen is better
    served by a pessimistic number than by none.
    """
    if ahead <= 0:
        return 0
    return round(ahead * service_time_s / max(open_counters, 1))
