"""The tamper-evident event log: a SHA-256 hash chain per center.

Each event's hash covers the previous event's hash and the event's canonical JSON
(sorted keys, no spaces, UTF-8). Changing any field of any event changes its hash and
breaks the link to the next event; deleting an event leaves a gap in the sequence
numbers and a broken link; deleting the newest events is caught by the center's
recorded head sequence number.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

GENESIS = "0" * 64
HASHED_FIELDS = (
    "center",
    "seq",
    "at",
    "type",
    "ticket",
    "actor",
    "counter",
    "reason",
    "data",
)


def canonical(event: Mapping[str, object]) -> bytes:
    """The bytes that are hashed for one event."""
    body = {key: event.get(key) for key in HASHED_FIELDS}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def link(prev_hash: str, event: Mapping[str, object]) -> str:
    """The hash of `event` chained after `prev_hash`."""
    return hashlib.sha256(prev_hash.encode() + b"\n" + canonical(event)).hexdigest()


@dataclass(frozen=True)
class ChainBreak:
    seq: int
    reason: str


def verify(
    events: Iterable[Mapping[str, object]], head_seq: int | None = None
) -> ChainBreak | None:
    """The first break in one center's chain (events in seq order), or None if intact."""
    prev_hash, expected = GENESIS, 1
    for event in events:
        seq = int(event["seq"])  # type: ignore[call-overload]
        if seq != expected:
            return ChainBreak(expected, f"event {expected} is missing (next found is {seq})")
        if event["prev_hash"] != prev_hash:
            return ChainBreak(seq, "prev_hash does not match the previous event's hash")
        if event["hash"] != link(prev_hash, event):
            return ChainBreak(seq, "hash does not match the event's content")
        prev_hash, expected = str(event["hash"]), seq + 1
    if head_seq is not None and head_seq >= expected:
        return ChainBreak(expected, f"events {expected}..{head_seq} are missing")
    return None
