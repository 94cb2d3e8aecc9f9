"""Durations as additive histograms: buckets, packing, merging and percentiles.

A report over many days cannot keep every wait it covers, so it keeps, for waits and
for service times, their count, sum, max and a histogram (`Durations`); merging two
periods adds them up. Buckets are 1 s wide up to `HIST_LINEAR_S` (100 s), then each
is 1 % wider than the one before, up to a week; longer durations share the last
bucket. Bucket b holds durations in (HIST_EDGES[b - 1], HIST_EDGES[b]], bucket 0
everything up to 1 s.

A percentile from a histogram is the upper edge of the bucket that holds the
nearest-rank value (`stats.nearest_rank`), capped at the exact max: never below the
exact value, and above it by less than 1 s (under 100 s) or 1 % (above).

A histogram is one Python int holding a 32-bit count per bucket (bucket b in bits
32b..32b+31), so merging two is one addition: no count comes near 2**32. Stored, it is
that int's little-endian bytes, compressed (`histogram_bytes`).
"""

from __future__ import annotations

import math
import struct
import zlib
from bisect import bisect_left
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import accumulate

HIST_LINEAR_S = 100
HIST_GROWTH = 1.01
HIST_TOP_S = 7 * 86400


def _bucket_edges() -> tuple[float, ...]:
    edges = [float(b + 1) for b in range(HIST_LINEAR_S)]
    while edges[-1] < HIST_TOP_S:
        # A power, not repeated multiplication: no rounding drift across the buckets.
        edges.append(HIST_LINEAR_S * HIST_GROWTH ** (len(edges) - HIST_LINEAR_S + 1))
    edges.append(math.inf)
    return tuple(edges)


HIST_EDGES = _bucket_edges()
HIST_BUCKETS = len(HIST_EDGES)
_HIST_BYTES = 4 * HIST_BUCKETS


def bucket_of(seconds: float) -> int:
    """The histogram bucket of a duration."""
    return bisect_left(HIST_EDGES, seconds)


def pack(tally: Mapping[int, int]) -> int:
    """Bucket counts {bucket: count} as one int, 32 bits a bucket."""
    packed = bytearray(_HIST_BYTES)
    for b, n in tally.items():
        struct.pack_into("<I", packed, 4 * b, n)
    return int.from_bytes(packed, "little")


@dataclass
class Durations:
    """Count, sum, max and histogram of durations (seconds): additive across days."""

    count: int = 0
    total: float = 0.0
    high: float | None = None
    hist: int = 0

    @classmethod
    def of(cls, values: Sequence[float]) -> Durations:
        if not values:
            return cls()
        tally: dict[int, int] = {}
        for v in values:
            b = bisect_left(HIST_EDGES, v)
            tally[b] = tally.get(b, 0) + 1
        return cls(len(values), math.fsum(values), max(values), pack(tally))

    def merge(self, other: Durations) -> None:
        """Add `other` into this one."""
        if other.count == 0:
            return
        self.count += other.count
        self.total += other.total
        self.high = other.high if self.high is None else max(self.high, other.high)  # type: ignore[type-var]
        self.hist += other.hist

    def counts(self) -> tuple[int, ...]:
        """The count in each bucket, up to the last bucket that has any."""
        used = -(-self.hist.bit_length() // 32)
        return struct.unpack(f"<{used}I", self.hist.to_bytes(4 * used, "little"))

    def percentiles(self, *ps: int) -> tuple[float | None, ...]:
        """The nearest-rank p-th percentiles from the histogram: each the upper edge of
        the bucket holding that rank, capped at the exact max; None without values."""
        if self.count == 0:
            return tuple(None for _ in ps)
        cumulative = list(accumulate(self.counts()))
        result = []
        for p in ps:
            rank = -(-p * self.count // 100)
            upper = HIST_EDGES[bisect_left(cumulative, rank)]
            result.append(upper if self.high is None else min(upper, self.high))
        return tuple(result)

    def histogram_bytes(self) -> bytes:
        """The histogram for storage (compressed; empty when there are no values)."""
        if not self.hist:
            return b""
        # Little-endian: the empty buckets above the longest duration cost nothing.
        return zlib.compress(self.hist.to_bytes(-(-self.hist.bit_length() // 8), "little"), 1)

    @staticmethod
    def histogram_from(blob: bytes | None) -> int:
        """The histogram back from `histogram_bytes`."""
        return int.from_bytes(zlib.decompress(blob), "little") if blob else 0
