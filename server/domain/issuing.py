"""Who may ask for which ticket: the priority classes, the language, the channel.

A center lists the priority classes it honours (`options.priorities`; all when not
set) and, among them, those a citizen may choose at its kiosks
(`options.kiosk_priorities`; none when not set). An appointment is never
self-declared at a kiosk: it comes from a check-in. Staff at reception may give any
class the center honours.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from taboor.server.domain.errors import InvalidInput
from taboor.server.domain.tickets import Channel, Priority

LANGS = ("ar", "en")


def ticket_priority(requested: str) -> Priority:
    """The priority class named `requested`, or InvalidInput naming `priority`."""
    try:
        return Priority(requested)
    except ValueError:
        raise InvalidInput(
            f"priority must be one of {', '.join(Priority)}", field="priority"
        ) from None


def allow_priority(
    priority: Priority, options: Mapping[str, Any], *, at_kiosk: bool, center: str
) -> None:
    """Refuse a class the center does not honour, or not offer at its kiosks."""
    if priority is Priority.NORMAL:
        return
    honoured = options.get("priorities")
    if honoured is not None and priority not in honoured:
        raise InvalidInput(f"{center} does not offer priority {priority}", field="priority")
    offered = options.get("kiosk_priorities") or ()
    if at_kiosk and (priority is Priority.APPOINTMENT or priority not in offered):
        raise InvalidInput(
            f"priority {priority} is not offered at this kiosk",
            field="priority",
            code="priority_not_offered",
        )


def ticket_lang(lang: str) -> str:
    """The language the ticket prints and speaks in."""
    if lang not in LANGS:
        raise InvalidInput("lang must be 'ar' or 'en'", field="lang")
    return lang


def ticket_channel(channel: str | None, *, at_kiosk: bool) -> Channel:
    """Where the ticket came from: a kiosk's, else reception's, unless said."""
    if channel is None:
        return Channel.KIOSK if at_kiosk else Channel.RECEPTION
    return Channel(channel)
