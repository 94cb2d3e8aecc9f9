"""The statistics report as an A4 PDF, in Arabic or English: key figures, charts, tables.

reportlab neither shapes Arabic nor reorders it. Every text is therefore cut into lines
in *logical* order first, measuring each candidate line as it will be drawn (shaped),
and only then is each line shaped (arabic-reshaper) and reordered (python-bidi) on its
own: `wrap_logical` then `visual_line` (printers/arabic.py, the one place Arabic is
shaped), together `visual_lines`. Reordering a whole
paragraph and cutting it afterwards would put its last words on the first line.
Numbers, dates and durations inside Arabic text sit in LTR isolates.

The caller hands in the report dict (`server.domain.stats.Report.to_dict()`, as
`server.reports.read_report` returns it), the display names and the language; the
result is the PDF's bytes. No request is needed: the labels' Arabic comes from this
package's Babel catalog, the one the dashboard's pages use, read once per process. One
font, Noto Sans Arabic, draws both scripts (its Latin and digit glyphs are checked by
the tests).
"""

from __future__ import annotations

import gettext
import io
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations
from reportlab.graphics.charts.barcharts import HorizontalBarChart, VerticalBarChart
from reportlab.graphics.shapes import Drawing, Rect, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import (
    CondPageBreak,
    Flowable,
    KeepTogether,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from taboor.printers.arabic import (
    LRI,
    eastern_digits,
    ltr_isolate,
    visual_line,
    words,
)
from taboor.printers.fonts import font_path

FONT = "TaboorReportSans"
LANGUAGES = ("ar", "en")
MARGIN = 15 * mm
BODY = 9.0  # point size of table text
LEADING = 1.3
INK = colors.HexColor("#14213d")
MUTED = colors.HexColor("#5c677d")
BRAND = colors.HexColor("#0b6e4f")
HEADER_FILL = colors.HexColor("#e3efe9")
STRIPE = colors.HexColor("#f6f7f9")
LINE = colors.HexColor("#c9ced8")
# Outcome colours, the same on the dashboard: served, no-show, cancelled, pending.
OUTCOME_COLOURS = ("#0b6e4f", "#f2a541", "#b3261e", "#9aa5b8")
DASH = "–"
SERVICES_PER_CHART = 36  # bars that fit one page with the heading
CATALOGS = Path(__file__).resolve().parent / "translations"

# Every label the report prints, by key: its English, the message id of its Arabic in
# this package's catalog (translations/ar/LC_MESSAGES/messages.po, shared with the
# dashboard). Marked for `taboor catalogs`, translated when a report is drawn.
def _(message: str) -> str:
    return message


TEXTS: dict[str, str] = {
    "title": _("Waiting and service time report"),
    "range": _("From {start} to {end}"),
    "generated": _("Generated {at} (center time)"),
    "filters": _("Filters: {filters}"),
    "filter_service": _("service {value}"),
    "filter_counter": _("counter {value}"),
    "filter_clerk": _("clerk {value}"),
    "key_figures": _("Key figures"),
    "issued": _("Tickets issued"),
    "served": _("Tickets served"),
    "no_show": _("No-show"),
    "cancelled": _("Tickets cancelled"),
    "pending": _("Still open"),
    "transferred": _("Transferred"),
    "recalls": _("Recalls"),
    "out_of_order": _("Called out of order"),
    "implausible": _("Implausibly short service (left out)"),
    "wait": _("Wait (issue to first call)"),
    "service_time": _("Service time (start to done)"),
    "mean": _("Mean"),
    "p50": _("Median"),
    "p90": _("90th percentile"),
    "max": _("Longest"),
    "sla": _("Served within target"),
    "sla_detail": _("{within} of {total}"),
    "utilisation": _("Counter utilisation"),
    "open_time": _("Open time"),
    "paused_time": _("Paused time"),
    "serving_time": _("Serving time"),
    "all_centers": _("All centers"),
    "by_center": _("By center"),
    "center": _("Center"),
    "by_service": _("By service"),
    "by_counter": _("By counter"),
    "by_clerk": _("By clerk"),
    "by_day": _("By day"),
    "chart_service": _("Tickets per service"),
    "chart_hour": _("Wait by hour of issue (minutes)"),
    "service": _("Service"),
    "counter": _("Counter"),
    "counter_n": _("Counter {n}"),
    "clerk": _("Clerk"),
    "day": _("Day"),
    "hour": _("Hour"),
    "mean_wait": _("Mean wait"),
    "p90_wait": _("Wait, 90th percentile"),
    "mean_service": _("Mean service"),
    "p90_service": _("Service, 90th percentile"),
    "mean_wait_min": _("Mean wait"),
    "p90_wait_min": _("Wait, 90th percentile"),
    "none": _("No tickets in this range."),
    "notes": _(
        "Wait runs from issue to the first call; service time from start to done. "
        '"Within target" counts tickets called within their service\'s target, out of '
        "those called plus those cancelled after waiting past it. Service times shorter "
        "than the service's minimum plausible time are counted separately and left out "
        "of the averages. A day is the center's local business day."
    ),
    "page": _("Page {n}"),
    "minutes": _("min"),
}
del _


@cache
def translations(lang: str) -> gettext.NullTranslations:
    """The package's catalog for `lang`, read from its .po once per process (English is
    the source language: no catalog). Outside a request, unlike the pages' Flask-Babel."""
    po = CATALOGS / lang / "LC_MESSAGES" / "messages.po"
    if not po.exists():
        return gettext.NullTranslations()
    with po.open("rb") as handle:
        catalog = read_po(handle, locale=lang)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled)


def label(key: str, lang: str) -> str:
    """One of the report's labels in `lang`."""
    return translations(lang).gettext(TEXTS[key])


class _Labels(Mapping[str, tuple[str, str]]):
    """Every label as (English, Arabic), the Arabic from the catalog."""

    def __getitem__(self, key: str) -> tuple[str, str]:
        return label(key, "en"), label(key, "ar")

    def __iter__(self) -> Iterator[str]:
        return iter(TEXTS)

    def __len__(self) -> int:
        return len(TEXTS)


LABELS: Mapping[str, tuple[str, str]] = _Labels()


@dataclass(frozen=True)
class ReportNames:
    """Display names for the codes in a report dict: the center's and each service's."""

    center_ar: str
    center_en: str
    services: Mapping[str, tuple[str, str]] = field(default_factory=dict)  # code -> (ar, en)
    # A report of several centers: each center's names by code.
    centers: Mapping[str, tuple[str, str]] = field(default_factory=dict)

    @classmethod
    def all_centers(
        cls, centers: Mapping[str, tuple[str, str]], services: Mapping[str, tuple[str, str]]
    ) -> ReportNames:
        """Names for a report of every center together."""
        en, ar = LABELS["all_centers"]
        return cls(ar, en, dict(services), dict(centers))

    def center(self, lang: str) -> str:
        return self.center_ar if lang == "ar" else self.center_en

    def center_of(self, code: str, lang: str) -> str:
        """One of the centers of a several-center report, by its code."""
        names = self.centers.get(code)
        if names is None:
            return code
        return names[0] if lang == "ar" else names[1]

    def service(self, code: str, lang: str) -> str:
        names = self.services.get(code)
        if names is None:
            return code
        return names[0] if lang == "ar" else names[1]


# --- numbers --------------------------------------------------------------------


def duration_text(seconds: float | None) -> str:
    """Seconds as minutes:seconds ("3:27"), hours:minutes:seconds from an hour; "–" for none."""
    if seconds is None:
        return DASH
    total = int(round(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def nice_step(top: float, ticks: int = 5) -> float:
    """A round axis step (1, 2 or 5 times a power of ten) that splits 0..top in <= ticks."""
    if top <= 0:
        return 1
    raw = top / ticks
    scale = 10 ** math.floor(math.log10(raw))
    for mult in (1, 2, 5, 10):
        if mult * scale >= raw:
            return mult * scale
    return 10 * scale


def axis_top(top: float, step: float) -> float:
    """The first multiple of `step` at or above `top` (at least one step)."""
    return step * max(1, math.ceil(top / step - 1e-9))


def percent_text(ratio: float | None, *, arabic: bool = False) -> str:
    """A ratio 0..1 as a percentage with one decimal ("95.5%"); "–" for none."""
    if ratio is None:
        return DASH
    text = f"{ratio * 100:.1f}"
    return f"{eastern_digits(text).replace('.', '٫')}٪" if arabic else f"{text}%"


# --- text: wrap in logical order, then shape and reorder each line ----------------------


@cache
def register_font() -> str:
    """Register Noto Sans Arabic with reportlab once; its name for setFont."""
    pdfmetrics.registerFont(TTFont(FONT, str(font_path())))
    return FONT


def missing_glyphs(text: str) -> set[str]:
    """Characters of `text` (as drawn) that the report font has no glyph for."""
    register_font()
    cmap = pdfmetrics.getFont(FONT).face.charToGlyph
    return {ch for ch in text if ord(ch) not in cmap and not ch.isspace()}


def text_width(line: str, size: float, rtl: bool) -> float:
    """Width of a logical line once shaped and drawn."""
    return pdfmetrics.stringWidth(visual_line(line, rtl), register_font(), size)


def _split_word(word: str, size: float, width: float, rtl: bool) -> list[str]:
    """A word wider than a whole line, cut into pieces that fit (rare: long codes)."""
    pieces, current = [], ""
    for ch in word:
        if current and text_width(current + ch, size, rtl) > width:
            pieces.append(current)
            current = ch
        else:
            current += ch
    return [*pieces, current] if current else pieces


def wrap_logical(text: str, size: float, width: float, rtl: bool) -> list[str]:
    """Cut `text` into lines, in logical order, each no wider than `width` once drawn.

    Paragraph breaks ("\\n") are kept. An isolate (a date, a number) is never cut.
    """
    lines: list[str] = []
    for paragraph in text.split("\n"):
        current = ""
        for word in words(paragraph):
            pieces = [word]
            # A word wider than a line is cut, but never inside an isolate (it overflows).
            if LRI not in word and text_width(word, size, rtl) > width:
                pieces = _split_word(word, size, width, rtl)
            for piece in pieces:
                candidate = f"{current} {piece}" if current else piece
                if current and text_width(candidate, size, rtl) > width:
                    lines.append(current)
                    current = piece
                else:
                    current = candidate
        lines.append(current)
    return lines


def visual_lines(text: str, size: float, width: float, rtl: bool) -> list[str]:
    """The lines to draw: wrapped in logical order first, then each reordered on its own."""
    return [visual_line(line, rtl) for line in wrap_logical(text, size, width, rtl)]


# --- flowables ------------------------------------------------------------------------


class TextBlock(Flowable):
    """A paragraph wrapped to the frame, aligned to the start side of the language."""

    def __init__(
        self,
        text: str,
        size: float,
        rtl: bool,
        *,
        color: colors.Color = INK,
        bold: bool = False,
        space_after: float = 0.0,
    ) -> None:
        super().__init__()
        self.text, self.size, self.rtl = text, size, rtl
        self.color, self.bold, self.space_after = color, bold, space_after
        self.lines: list[str] = []

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        self.width = avail_width
        self.lines = visual_lines(self.text, self.size, avail_width, self.rtl)
        self.height = len(self.lines) * self.size * LEADING + self.space_after
        return self.width, self.height

    def draw(self) -> None:
        canvas = self.canv
        canvas.saveState()
        canvas.setFillColor(self.color)
        canvas.setStrokeColor(self.color)
        y = self.height - self.space_after
        for line in self.lines:
            y -= self.size * LEADING
            text = canvas.beginText()
            text.setFont(FONT, self.size)
            if self.bold:
                # The variable font's default instance is Regular: fill and stroke look bold.
                text.setTextRenderMode(2)
                canvas.setLineWidth(self.size / 32)
            width = pdfmetrics.stringWidth(line, FONT, self.size)
            text.setTextOrigin(self.width - width if self.rtl else 0, y + self.size * 0.28)
            text.textLine(line)
            canvas.drawText(text)
        canvas.restoreState()


# --- the report -------------------------------------------------------------------


class _Writer:
    """Builds the flowables of one report in one language."""

    def __init__(
        self,
        report: Mapping[str, Any],
        names: ReportNames,
        lang: str,
        eastern: bool,
        width: float,
    ) -> None:
        self.r, self.names, self.lang = report, names, lang
        self.rtl = lang == "ar"
        self.eastern = eastern and self.rtl
        self.width = width

    # words and numbers
    def t(self, key: str, **values: object) -> str:
        return label(key, self.lang).format(**values)

    def num(self, value: object) -> str:
        """A figure as shown (Eastern digits when asked); isolated inside Arabic text."""
        text = DASH if value is None else str(value)
        return eastern_digits(text) if self.eastern else text

    def iso(self, value: object) -> str:
        text = self.num(value)
        return ltr_isolate(text) if self.rtl else text

    def dur(self, seconds: float | None) -> str:
        return self.num(duration_text(seconds))

    def pct(self, ratio: float | None) -> str:
        return percent_text(ratio, arabic=self.eastern)

    # blocks
    def heading(self, key: str) -> list[Flowable]:
        title = TextBlock(self.t(key), 13, self.rtl, color=BRAND, bold=True, space_after=2 * mm)
        return [CondPageBreak(40 * mm), Spacer(1, 4 * mm), title]

    def table(
        self,
        header: Sequence[str] | None,
        rows: Iterable[Sequence[str]],
        widths: Sequence[float],
        *,
        text_cols: Iterable[int] = (0,),
        size: float = BODY,
    ) -> Table:
        """A table in reading order: the first column at the start side (right in Arabic)."""
        text_cols = set(text_cols)
        pad = 3.0

        def cell(text: str, col: int) -> str:
            return "\n".join(visual_lines(text, size, widths[col] - 2 * pad, self.rtl))

        data = [[cell(h, i) for i, h in enumerate(header)]] if header else []
        data += [[cell(v, i) for i, v in enumerate(row)] for row in rows]
        col_widths = list(widths)
        n = len(col_widths)

        def at(col: int) -> int:  # the column's place on the page
            return n - 1 - col if self.rtl else col

        if self.rtl:
            data = [list(reversed(row)) for row in data]
            col_widths.reverse()
        style = [
            ("FONT", (0, 0), (-1, -1), FONT, size, size * LEADING),
            ("TEXTCOLOR", (0, 0), (-1, -1), INK),
            ("ROWBACKGROUNDS", (0, 1 if header else 0), (-1, -1), [colors.white, STRIPE]),
            ("LINEBELOW", (0, 0), (-1, -1), 0.4, LINE),
            ("BOX", (0, 0), (-1, -1), 0.6, LINE),
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ("ALIGN", (0, 0), (-1, -1), "CENTER"),
            ("LEFTPADDING", (0, 0), (-1, -1), pad),
            ("RIGHTPADDING", (0, 0), (-1, -1), pad),
            ("TOPPADDING", (0, 0), (-1, -1), 2),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
        ]
        if header:
            style.append(("BACKGROUND", (0, 0), (-1, 0), HEADER_FILL))
        for col in text_cols:
            style.append(("ALIGN", (at(col), 0), (at(col), -1), "RIGHT" if self.rtl else "LEFT"))
        table = Table(data, colWidths=col_widths, repeatRows=1 if header else 0,
                      hAlign="RIGHT" if self.rtl else "LEFT")  # fmt: skip
        table.setStyle(TableStyle(style))
        return table

    def header(self, generated_at: datetime) -> list[Flowable]:
        r = self.r
        zone = ZoneInfo(str(r.get("timezone") or "Asia/Damascus"))
        local = generated_at.astimezone(zone).strftime("%Y-%m-%d %H:%M")
        blocks: list[Flowable] = [
            TextBlock(self.t("title"), 18, self.rtl, color=BRAND, bold=True, space_after=1 * mm),
            TextBlock(self.names.center(self.lang), 14, self.rtl, bold=True, space_after=1 * mm),
            TextBlock(
                self.t("range", start=self.iso(r.get("from")), end=self.iso(r.get("to"))),
                11,
                self.rtl,
            ),
        ]
        filters = r.get("filters") or {}
        chosen = []
        if filters.get("service"):
            service = self.names.service(filters["service"], self.lang)
            chosen.append(self.t("filter_service", value=service))
        if filters.get("counter"):
            chosen.append(self.t("filter_counter", value=self.iso(filters["counter"])))
        if filters.get("clerk"):
            chosen.append(self.t("filter_clerk", value=self.iso(filters["clerk"])))
        if chosen:
            blocks.append(TextBlock(self.t("filters", filters="، ".join(chosen) if self.rtl
                                           else ", ".join(chosen)), 10, self.rtl))  # fmt: skip
        blocks.append(TextBlock(self.t("generated", at=self.iso(local)), 9, self.rtl, color=MUTED,
                                space_after=2 * mm))  # fmt: skip
        return blocks

    def key_figures(self) -> list[Flowable]:
        r = self.r
        counts = ("issued", "served", "no_show", "cancelled", "pending", "transferred",
                  "recalls", "out_of_order", "implausible")  # fmt: skip
        outcome = self.table(
            [self.t(k) for k in counts], [[self.num(r.get(k, 0)) for k in counts]],
            [self.width / len(counts)] * len(counts), text_cols=(), size=8,
        )  # fmt: skip
        stats = ("mean", "p50", "p90", "max")
        times = self.table(
            ["", *(self.t(k) for k in stats)],
            [
                [self.t(label), *(self.dur((r.get(key) or {}).get(k)) for k in stats)]
                for label, key in (("wait", "wait_s"), ("service_time", "service_s"))
            ],
            self._widths(0.4, len(stats)),
        )
        sla, util = r.get("sla") or {}, r.get("utilisation") or {}
        sla_value = self.iso(self.pct(sla.get("ratio")))
        if sla.get("total"):
            detail = self.t("sla_detail", within=self.iso(sla.get("within")),
                            total=self.iso(sla.get("total")))  # fmt: skip
            sla_value = f"{sla_value} ({detail})"
        targets = self.table(
            None,
            [[self.t("sla"), sla_value], [self.t("utilisation"), self.pct(util.get("ratio"))]],
            [self.width * 0.4, self.width * 0.6],
            text_cols=(0, 1),
        )
        gap = Spacer(1, 2.5 * mm)
        return [*self.heading("key_figures"), outcome, gap, times, gap, targets]

    # charts
    def _label(self, text: str, size: float, width: float) -> str:
        """One chart label: the first line, shortened with an ellipsis when cut."""
        lines = wrap_logical(text, size, width, self.rtl)
        first = lines[0] if lines else ""
        if len(lines) > 1:
            while first and text_width(first + "…", size, self.rtl) > width:
                first = first[:-1]
            first = first.rstrip() + "…"
        return visual_line(first, self.rtl)

    def _legend(self, drawing: Drawing, items: list[tuple[str, str]], y: float) -> None:
        """Swatch then name for each item, from the start side (the right in Arabic)."""
        size, box, gap, space = 8.0, 7.0, 4.0, 16.0
        x = drawing.width if self.rtl else 0.0
        for colour, text in items:
            label = visual_line(text, self.rtl)
            width = pdfmetrics.stringWidth(label, FONT, size)
            fill = colors.HexColor(colour)
            if self.rtl:
                drawing.add(Rect(x - box, y, box, box, fillColor=fill, strokeColor=None))
                drawing.add(String(x - box - gap, y + 0.5, label, fontName=FONT, fontSize=size,
                                   textAnchor="end", fillColor=INK))  # fmt: skip
                x -= box + gap + width + space
            else:
                drawing.add(Rect(x, y, box, box, fillColor=fill, strokeColor=None))
                drawing.add(String(x + box + gap, y + 0.5, label, fontName=FONT, fontSize=size,
                                   textAnchor="start", fillColor=INK))  # fmt: skip
                x += box + gap + width + space

    def service_charts(self) -> list[Drawing]:
        """Stacked bars per service, busiest first; in page-sized parts on one scale."""
        by_service = self.r.get("by_service") or {}
        if not by_service:
            return []
        codes = sorted(by_service, key=lambda c: (-int(by_service[c].get("issued", 0)), c))
        top = max(int(by_service[c].get("issued", 0)) for c in codes) or 1
        step = max(1, int(nice_step(top)))
        parts = [
            codes[i : i + SERVICES_PER_CHART] for i in range(0, len(codes), SERVICES_PER_CHART)
        ]
        last = len(parts) - 1
        top = axis_top(top, step)
        return [
            self._service_part(part, by_service, top, step, legend=i == last)
            for i, part in enumerate(parts)
        ]

    def _service_part(
        self,
        codes: list[str],
        by_service: Mapping[str, Any],
        top: float,
        step: float,
        *,
        legend: bool,
    ) -> Drawing:
        label_w = self.width * 0.32
        row_h = 14
        plot_h = row_h * len(codes)
        bottom = 36 if legend else 20
        drawing = Drawing(self.width, plot_h + bottom + 8)
        chart = HorizontalBarChart()
        chart.x = 6 if self.rtl else label_w + 6
        chart.y = bottom
        chart.width = self.width - label_w - 12
        chart.height = plot_h
        series = ("served", "no_show", "cancelled", "pending")
        # The first category sits at the bottom: reverse so the busiest service is on top.
        ordered = list(reversed(codes))
        chart.data = [[by_service[c].get(k, 0) for c in ordered] for k in series]
        chart.categoryAxis.style = "stacked"
        chart.categoryAxis.categoryNames = [
            self._label(self.names.service(c, self.lang), 8, label_w - 8) for c in ordered
        ]
        chart.categoryAxis.labels.fontName = FONT
        chart.categoryAxis.labels.fontSize = 8
        axis = chart.valueAxis
        axis.labels.fontName, axis.labels.fontSize = FONT, 7
        axis.valueMin, axis.valueMax, axis.valueStep, axis.forceZero = 0, top, step, 1
        axis.visibleGrid, axis.gridStrokeColor = 1, LINE
        axis.labelTextFormat = self._axis_number
        if self.rtl:
            # Mirrored: bars grow leftwards from the names on the right.
            axis.reverseDirection = 1
            chart.categoryAxis.joinAxisMode = "right"
            chart.categoryAxis.labels.boxAnchor = "w"
            chart.categoryAxis.labels.dx = 6
        else:
            chart.categoryAxis.labels.boxAnchor = "e"
            chart.categoryAxis.labels.dx = -6
        chart.barWidth = row_h * 0.7
        chart.groupSpacing = row_h * 0.3
        chart.bars.strokeColor = None
        for i, colour in enumerate(OUTCOME_COLOURS):
            chart.bars[i].fillColor = colors.HexColor(colour)
        drawing.add(chart)
        if legend:
            names = [(c, self.t(k)) for c, k in zip(OUTCOME_COLOURS, series, strict=True)]
            self._legend(drawing, names, 2)
        return drawing

    def _axis_number(self, value: float) -> str:
        text = f"{value:g}"
        return eastern_digits(text) if self.eastern else text

    def hour_chart(self) -> Drawing | None:
        by_hour = self.r.get("by_hour") or {}
        hours = sorted(by_hour)
        if not hours:
            return None
        first, last = int(hours[0]), int(hours[-1])
        span = [f"{h:02d}" for h in range(first, last + 1)]
        means = [((by_hour.get(h) or {}).get("wait_s") or {}).get("mean") for h in span]
        p90s = [((by_hour.get(h) or {}).get("wait_s") or {}).get("p90") for h in span]
        drawing = Drawing(self.width, 196)
        chart = VerticalBarChart()
        chart.x, chart.y = 36, 60
        chart.width, chart.height = self.width - 72, 120
        chart.data = [[(v or 0) / 60 for v in means], [(v or 0) / 60 for v in p90s]]
        top = max(max(series) for series in chart.data) or 1
        step = nice_step(top)
        chart.valueAxis.valueStep, chart.valueAxis.valueMax = step, axis_top(top, step)
        chart.categoryAxis.categoryNames = [self.num(h) for h in span]
        chart.categoryAxis.labels.fontName = FONT
        chart.categoryAxis.labels.fontSize = 8
        chart.valueAxis.labels.fontName = FONT
        chart.valueAxis.labels.fontSize = 7
        chart.valueAxis.valueMin = 0
        chart.valueAxis.forceZero = 1
        chart.valueAxis.visibleGrid = 1
        chart.valueAxis.gridStrokeColor = LINE
        chart.valueAxis.labelTextFormat = self._axis_number
        if self.rtl:
            # Time runs right to left and the value axis stands on the right.
            chart.categoryAxis.reverseDirection = 1
            chart.valueAxis.joinAxisMode = "right"
            chart.valueAxis.labels.boxAnchor = "w"
            chart.valueAxis.labels.dx = 6
        chart.bars.strokeColor = None
        chart.bars[0].fillColor = colors.HexColor(OUTCOME_COLOURS[0])
        chart.bars[1].fillColor = colors.HexColor("#8fc1ad")
        chart.groupSpacing = 6
        drawing.add(chart)
        hour_label = visual_line(self.t("hour"), self.rtl)
        drawing.add(String(self.width / 2, 32, hour_label, fontName=FONT, fontSize=8,
                           textAnchor="middle", fillColor=MUTED))  # fmt: skip
        self._legend(drawing, [(OUTCOME_COLOURS[0], self.t("mean_wait_min")),
                               ("#8fc1ad", self.t("p90_wait_min"))], 18)  # fmt: skip
        return drawing

    def charts(self) -> list[Flowable]:
        blocks: list[Flowable] = []
        parts = self.service_charts()
        if parts:
            blocks.append(KeepTogether([*self.heading("chart_service"), parts[0]]))
            blocks += parts[1:]
        hour = self.hour_chart()
        if hour is not None:
            blocks.append(KeepTogether([*self.heading("chart_hour"), hour]))
        return blocks

    # tables
    def _numbers(self, f: Mapping[str, Any]) -> list[str]:
        wait, service = f.get("wait_s") or {}, f.get("service_s") or {}
        return [
            self.num(f.get("issued", 0)), self.num(f.get("served", 0)),
            self.num(f.get("no_show", 0)), self.num(f.get("cancelled", 0)),
            self.dur(wait.get("mean")), self.dur(wait.get("p90")),
            self.dur(service.get("mean")), self.pct((f.get("sla") or {}).get("ratio")),
        ]  # fmt: skip

    def _figure_header(self, first: str) -> list[str]:
        keys = ("issued", "served", "no_show", "cancelled", "mean_wait", "p90_wait",
                "mean_service", "sla")  # fmt: skip
        return [first, *(self.t(k) for k in keys)]

    def _widths(self, first_share: float, count: int) -> list[float]:
        first = self.width * first_share
        rest = (self.width - first) / count
        return [first] + [rest] * count

    def center_table(self) -> list[Flowable]:
        by_center = self.r.get("by_center") or {}
        if not by_center:
            return []
        rows = [[self.names.center_of(code, self.lang), *self._numbers(f)]
                for code, f in by_center.items()]  # fmt: skip
        table = self.table(self._figure_header(self.t("center")), rows, self._widths(0.28, 8))
        return [*self.heading("by_center"), table]

    def counter_label(self, key: str) -> str:
        """"Counter 3", or "DAM-MIDAN · Counter 3" in a several-center report."""
        center, _, number = str(key).rpartition("/")
        label = self.t("counter_n", n=self.iso(number))
        return f"{center} · {label}" if center else label

    def service_table(self) -> list[Flowable]:
        by_service = self.r.get("by_service") or {}
        if not by_service:
            return []
        rows = [[self.names.service(code, self.lang), *self._numbers(f)]
                for code, f in by_service.items()]  # fmt: skip
        rows.sort(key=lambda row: row[0])
        table = self.table(self._figure_header(self.t("service")), rows, self._widths(0.28, 8))
        return [*self.heading("by_service"), table]

    def counter_table(self) -> list[Flowable]:
        by_counter = self.r.get("by_counter") or {}
        if not by_counter:
            return []
        header = [self.t("counter"), self.t("issued"), self.t("served"), self.t("mean_wait"),
                  self.t("mean_service"), self.t("open_time"), self.t("paused_time"),
                  self.t("serving_time"), self.t("utilisation")]  # fmt: skip
        rows = []
        for number, f in by_counter.items():
            util = f.get("utilisation") or {}
            rows.append([
                self.counter_label(number), self.num(f.get("issued", 0)),
                self.num(f.get("served", 0)), self.dur((f.get("wait_s") or {}).get("mean")),
                self.dur((f.get("service_s") or {}).get("mean")), self.dur(util.get("open_s")),
                self.dur(util.get("paused_s")), self.dur(util.get("serving_s")),
                self.pct(util.get("ratio")),
            ])  # fmt: skip
        return [*self.heading("by_counter"), self.table(header, rows, self._widths(0.16, 8))]

    def clerk_table(self) -> list[Flowable]:
        by_clerk = self.r.get("by_clerk") or {}
        if not by_clerk:
            return []
        header = [self.t("clerk"), self.t("issued"), self.t("served"), self.t("no_show"),
                  self.t("mean_service"), self.t("p90_service"), self.t("recalls"),
                  self.t("out_of_order"), self.t("implausible")]  # fmt: skip
        rows = []
        for clerk, f in by_clerk.items():
            service = f.get("service_s") or {}
            rows.append([
                clerk, self.num(f.get("issued", 0)), self.num(f.get("served", 0)),
                self.num(f.get("no_show", 0)), self.dur(service.get("mean")),
                self.dur(service.get("p90")), self.num(f.get("recalls", 0)),
                self.num(f.get("out_of_order", 0)), self.num(f.get("implausible", 0)),
            ])  # fmt: skip
        return [*self.heading("by_clerk"), self.table(header, rows, self._widths(0.16, 8))]

    def day_table(self) -> list[Flowable]:
        by_day = self.r.get("by_day") or {}
        if len(by_day) < 2:
            return []
        rows = [[self.num(day), *self._numbers(f)] for day, f in by_day.items()]
        table = self.table(self._figure_header(self.t("day")), rows, self._widths(0.16, 8))
        return [*self.heading("by_day"), table]

    def story(self, generated_at: datetime) -> list[Flowable]:
        blocks = self.header(generated_at)
        if not self.r.get("issued"):
            blocks.append(TextBlock(self.t("none"), 12, self.rtl, space_after=4 * mm))
        blocks += self.key_figures()
        blocks += self.charts()
        blocks += self.center_table()
        blocks += self.service_table()
        blocks += self.counter_table()
        blocks += self.clerk_table()
        blocks += self.day_table()
        blocks += [Spacer(1, 6 * mm), TextBlock(self.t("notes"), 8, self.rtl, color=MUTED)]
        return blocks


def render_report(
    report: Mapping[str, Any],
    names: ReportNames,
    lang: str = "ar",
    *,
    generated_at: datetime | None = None,
    eastern: bool = False,
) -> bytes:
    """The report as PDF bytes (A4 portrait), in `lang` ("ar" right to left, or "en")."""
    if lang not in LANGUAGES:
        raise ValueError(f"lang must be one of {LANGUAGES}, not {lang!r}")
    register_font()
    generated_at = generated_at or datetime.now(UTC)
    buffer = io.BytesIO()
    page_w, page_h = A4
    writer = _Writer(report, names, lang, eastern, page_w - 2 * MARGIN)
    title = f"{label('title', lang)} · {names.center(lang)}"
    doc = SimpleDocTemplate(
        buffer, pagesize=A4, leftMargin=MARGIN, rightMargin=MARGIN, topMargin=MARGIN,
        bottomMargin=MARGIN + 4 * mm, title=title, author="Taboor", creator="Taboor",
        lang=lang,
    )  # fmt: skip

    def footer(canvas: Any, document: Any) -> None:
        canvas.saveState()
        canvas.setFont(FONT, 8)
        canvas.setFillColor(MUTED)
        text = visual_line(writer.t("page", n=writer.iso(document.page)), writer.rtl)
        center = visual_line(names.center(lang), writer.rtl)
        y = MARGIN - 2 * mm
        if writer.rtl:
            canvas.drawString(MARGIN, y, text)
            canvas.drawRightString(page_w - MARGIN, y, center)
        else:
            canvas.drawString(MARGIN, y, center)
            canvas.drawRightString(page_w - MARGIN, y, text)
        canvas.restoreState()

    doc.build(writer.story(generated_at), onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()
