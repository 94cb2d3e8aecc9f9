"""How the dashboard writes figures and draws its charts (inline SVG, no chart library).

Durations are minutes:seconds (the same `duration_text` as the PDF report), digits
Eastern Arabic when the center asks for them on an Arabic page. Charts are drawn here,
server-side, in the page's direction: in Arabic the labels stand on the right and bars
grow leftwards, and the hours run from right to left. Labels are measured with the
page font's metrics (the font the PDF report embeds) and shortened to fit.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from html import escape
from typing import Any
from zoneinfo import ZoneInfo

from markupsafe import Markup

from taboor.printers.arabic import eastern_digits
from taboor.server.manage.pdf import (
    OUTCOME_COLOURS,
    axis_top,
    duration_text,
    nice_step,
    percent_text,
    text_width,
)

OUTCOMES = ("served", "no_show", "cancelled", "pending")
WAIT_COLOURS = ("#0b6e4f", "#8fc1ad")  # mean, 90th percentile
DASH = "–"


@dataclass(frozen=True)
class Numbers:
    """Figures as a page writes them: its language and whether digits are Eastern."""

    lang: str = "ar"
    eastern: bool = False

    @property
    def arabic_digits(self) -> bool:
        return self.eastern and self.lang == "ar"

    def num(self, value: object) -> str:
        text = DASH if value is None else str(value)
        return eastern_digits(text) if self.arabic_digits else text

    def dur(self, seconds: float | None) -> str:
        """Seconds as m:ss (h:mm:ss from an hour)."""
        return self.num(duration_text(seconds))

    def pct(self, ratio: float | None) -> str:
        return percent_text(ratio, arabic=self.arabic_digits)

    def clock(self, at: datetime | None, timezone: str) -> str:
        """An instant as the center's local time of day, HH:MM."""
        return DASH if at is None else self.num(at.astimezone(ZoneInfo(timezone)).strftime("%H:%M"))


def _fit(text: str, size: float, width: float, rtl: bool) -> str:
    """The text, shortened with an ellipsis until it fits `width` at `size` (SVG units)."""
    # Font units: text_width measures in points at `size`, the SVG draws at the same size.
    if text_width(text, size, rtl) <= width:
        return text
    while text and text_width(text + "…", size, rtl) > width:
        text = text[:-1]
    return text.rstrip() + "…"


class _Svg:
    """A tiny SVG writer that mirrors x for right-to-left pages."""

    def __init__(self, width: float, height: float, rtl: bool, label: str) -> None:
        self.w, self.h, self.rtl = width, height, rtl
        self.parts = [
            f'<svg class="chart" viewBox="0 0 {width:g} {height:g}" role="img" '
            f'aria-label="{escape(label)}" xmlns="http://www.w3.org/2000/svg">'
        ]

    def x(self, x: float, w: float = 0) -> float:
        return self.w - x - w if self.rtl else x

    def rect(self, x: float, y: float, w: float, h: float, fill: str, title: str = "") -> None:
        if w <= 0 or h <= 0:
            return
        tip = f"<title>{escape(title)}</title>" if title else ""
        self.parts.append(f'<rect x="{self.x(x, w):.1f}" y="{y:.1f}" width="{w:.1f}" '
                          f'height="{h:.1f}" fill="{fill}">{tip}</rect>')  # fmt: skip

    def line(self, x1: float, y1: float, x2: float, y2: float, cls: str) -> None:
        self.parts.append(f'<line class="{cls}" x1="{self.x(x1):.1f}" y1="{y1:.1f}" '
                          f'x2="{self.x(x2):.1f}" y2="{y2:.1f}"/>')  # fmt: skip

    def text(
        self, x: float, y: float, text: str, anchor: str, cls: str = "", title: str = ""
    ) -> None:
        # `anchor` is logical (start/middle/end); with direction="rtl" the browser flips it.
        direction = ' direction="rtl"' if self.rtl else ""
        tip = f"<title>{escape(title)}</title>" if title else ""
        self.parts.append(
            f'<text x="{self.x(x):.1f}" y="{y:.1f}" text-anchor="{anchor}" class="{cls}"'
            f"{direction}>{tip}{escape(text)}</text>"
        )

    def markup(self) -> Markup:
        return Markup("".join([*self.parts, "</svg>"]))  # noqa: S704 - every text is escaped


def service_chart(
    rows: Sequence[tuple[str, Mapping[str, Any]]],
    numbers: Numbers,
    label: str,
) -> Markup | None:
    """Stacked bars per service: served, no-show, cancelled, still open (busiest on top)."""
    if not rows:
        return None
    rtl = numbers.lang == "ar"
    rows = sorted(rows, key=lambda r: -int(r[1].get("issued", 0)))
    width, label_w, row_h, bar_h, size = 760.0, 260.0, 30.0, 20.0, 15.0  # size: .label in CSS
    top = max(int(f.get("issued", 0)) for _, f in rows) or 1
    step = nice_step(top)
    span = axis_top(top, step)
    plot_x, plot_w = label_w + 12, width - label_w - 12 - 48
    height = row_h * len(rows) + 30
    svg = _Svg(width, height, rtl, label)
    for i in range(int(span // step) + 1):
        x = plot_x + plot_w * (i * step) / span
        svg.line(x, 0, x, height - 24, "grid")
        svg.text(x, height - 8, numbers.num(f"{i * step:g}"), "middle", "axis")
    for row, (name, figures) in enumerate(rows):
        y = row * row_h + (row_h - bar_h) / 2
        svg.text(label_w, y + bar_h - 5, _fit(name, size, label_w, rtl), "end", "label", name)
        x = plot_x
        for key, colour in zip(OUTCOMES, OUTCOME_COLOURS, strict=True):
            value = int(figures.get(key, 0))
            w = plot_w * value / span
            svg.rect(x, y, w, bar_h, colour, f"{name}: {numbers.num(value)}")
            x += w
        svg.text(x + 6, y + bar_h - 5, numbers.num(figures.get("issued", 0)), "start", "value")
    return svg.markup()


def hour_chart(
    by_hour: Mapping[str, Mapping[str, Any]], numbers: Numbers, label: str
) -> Markup | None:
    """Mean and 90th-percentile wait (minutes) per hour of issue, every hour in between shown."""
    if not by_hour:
        return None
    rtl = numbers.lang == "ar"
    hours = sorted(int(h) for h in by_hour)
    span_hours = [f"{h:02d}" for h in range(hours[0], hours[-1] + 1)]

    def minutes(hour: str, key: str) -> float:
        return float(((by_hour.get(hour) or {}).get("wait_s") or {}).get(key) or 0) / 60

    top = max(max(minutes(h, "p90"), minutes(h, "mean")) for h in span_hours) or 1
    step = nice_step(top)
    span = axis_top(top, step)
    width, height, axis_w, base = 760.0, 260.0, 44.0, 230.0
    plot_h = base - 12
    slot = (width - axis_w - 8) / len(span_hours)
    bar_w = min(28.0, slot * 0.36)
    svg = _Svg(width, height, rtl, label)
    for i in range(int(round(span / step)) + 1):
        y = base - plot_h * (i * step) / span
        svg.line(axis_w, y, width, y, "grid")
        svg.text(axis_w - 6, y + 4, numbers.num(f"{i * step:g}"), "end", "axis")
    for i, hour in enumerate(span_hours):
        centre = axis_w + slot * (i + 0.5)
        for j, key in enumerate(("mean", "p90")):
            value = minutes(hour, key)
            h = plot_h * value / span
            x = centre - bar_w + j * bar_w
            seconds = value * 60 if value else None
            svg.rect(
                x,
                base - h,
                bar_w - 2,
                h,
                WAIT_COLOURS[j],
                f"{numbers.num(hour)}: {numbers.dur(seconds)}",
            )
        svg.text(centre, base + 18, numbers.num(hour), "middle", "axis")
    return svg.markup()
