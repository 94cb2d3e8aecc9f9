"""The report as files: CSV (UTF-8 with a byte order mark) and PDF (server/manage/pdf.py).

CSV layout: one rectangular table, so a spreadsheet can filter and pivot it. Every
row carries the range (`from`, `to`) and its section: the total first, then one row
per service, per counter, per clerk, per hour and per day. Headers are in the page's
language; codes (service code, counter number, clerk username) stay as they are so
rows can be matched across languages. Durations are seconds (one decimal, as the
statistics give them) and ratios percentages, with Western digits and a dot: figures
for a spreadsheet, not for reading aloud. Empty cells mean "no data", never zero.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l

from taboor.server.manage.pdf import ReportNames, render_report

BOM = "\ufeff"

COLUMNS: tuple[tuple[str, Any], ...] = (
    ("from", _l("From")),
    ("to", _l("To")),
    ("section", _l("Section")),
    ("code", _l("Code")),
    ("name", _l("Name")),
    ("issued", _l("Issued")),
    ("served", _l("Served")),
    ("no_show", _l("No-show")),
    ("cancelled", _l("Cancelled")),
    ("pending", _l("Still open")),
    ("transferred", _l("Transferred")),
    ("recalls", _l("Recalls")),
    ("out_of_order", _l("Called out of order")),
    ("implausible", _l("Implausibly short service")),
    ("wait_mean", _l("Mean wait (s)")),
    ("wait_p50", _l("Median wait (s)")),
    ("wait_p90", _l("90th percentile wait (s)")),
    ("wait_max", _l("Longest wait (s)")),
    ("service_mean", _l("Mean service time (s)")),
    ("service_p50", _l("Median service time (s)")),
    ("service_p90", _l("90th percentile service time (s)")),
    ("service_max", _l("Longest service time (s)")),
    ("sla_within", _l("Called within target")),
    ("sla_total", _l("Counted for the target")),
    ("sla_pct", _l("Within target (%)")),
    ("open_s", _l("Counter open (s)")),
    ("paused_s", _l("Counter paused (s)")),
    ("serving_s", _l("Counter serving (s)")),
    ("utilisation_pct", _l("Utilisation (%)")),
)
SECTIONS = {
    "total": _l("Total"),
    "center": _l("Center"),
    "service": _l("Service"),
    "counter": _l("Counter"),
    "clerk": _l("Clerk"),
    "hour": _l("Hour"),
    "day": _l("Day"),
}


def _pct(ratio: float | None) -> str:
    return "" if ratio is None else f"{ratio * 100:.2f}"


def _cell(value: object) -> str:
    return "" if value is None else str(value)


def _text(value: object) -> str:
    """A name or code as a CSV cell that a spreadsheet will never run as a formula."""
    text = _cell(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _figures(f: Mapping[str, Any]) -> dict[str, str]:
    wait, service, sla = f.get("wait_s") or {}, f.get("service_s") or {}, f.get("sla") or {}
    counts = ("issued", "served", "no_show", "cancelled", "pending", "transferred", "recalls",
              "out_of_order", "implausible")  # fmt: skip
    row = {k: _cell(f.get(k, 0)) for k in counts}
    for prefix, summary in (("wait", wait), ("service", service)):
        for key in ("mean", "p50", "p90", "max"):
            row[f"{prefix}_{key}"] = _cell(summary.get(key))
    row["sla_within"] = _cell(sla.get("within"))
    row["sla_total"] = _cell(sla.get("total"))
    row["sla_pct"] = _pct(sla.get("ratio"))
    return row


def _utilisation(u: Mapping[str, Any] | None) -> dict[str, str]:
    if not u:
        return {}
    return {
        "open_s": _cell(u.get("open_s")),
        "paused_s": _cell(u.get("paused_s")),
        "serving_s": _cell(u.get("serving_s")),
        "utilisation_pct": _pct(u.get("ratio")),
    }


def rows(report: Mapping[str, Any], names: ReportNames, lang: str) -> Iterator[list[str]]:
    """The CSV's rows, the header first, in `lang` (call inside the page's locale)."""
    yield [str(label) for _, label in COLUMNS]
    span = {"from": _cell(report.get("from")), "to": _cell(report.get("to"))}

    def line(section: str, code: str, name: str, values: Mapping[str, str]) -> list[str]:
        cells = {**span, "section": str(SECTIONS[section]), "code": _text(code),
                 "name": _text(name), **values}  # fmt: skip
        return [cells.get(key, "") for key, _ in COLUMNS]

    yield line("total", str(report.get("center", "")), names.center(lang),
               {**_figures(report), **_utilisation(report.get("utilisation"))})  # fmt: skip
    for code, f in (report.get("by_center") or {}).items():
        yield line("center", code, names.center_of(code, lang), _figures(f))
    for code, f in (report.get("by_service") or {}).items():
        yield line("service", code, names.service(code, lang), _figures(f))
    for number, f in (report.get("by_counter") or {}).items():
        label = f"{SECTIONS['counter']} {number}"
        yield line(
            "counter", str(number), label, {**_figures(f), **_utilisation(f.get("utilisation"))}
        )
    for clerk, f in (report.get("by_clerk") or {}).items():
        yield line("clerk", clerk, clerk, _figures(f))
    for hour, f in (report.get("by_hour") or {}).items():
        yield line("hour", hour, f"{hour}:00", _figures(f))
    for day, f in (report.get("by_day") or {}).items():
        yield line("day", day, day, _figures(f))


def to_csv(report: Mapping[str, Any], names: ReportNames, lang: str) -> bytes:
    """The report as CSV bytes: UTF-8 with a BOM (spreadsheets then read Arabic right)."""
    buffer = io.StringIO()
    buffer.write(BOM)
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerows(rows(report, names, lang))
    return buffer.getvalue().encode("utf-8")


def to_pdf(
    report: Mapping[str, Any], names: ReportNames, lang: str, *, now: datetime, eastern: bool
) -> bytes:
    """The report as a PDF (see server/manage/pdf.py)."""
    return render_report(report, names, lang, generated_at=now, eastern=eastern)


def filename(report: Mapping[str, Any], extension: str) -> str:
    """taboor-<center>-<from>-<to>.<ext>: ASCII only, safe in a Content-Disposition."""
    center = str(report.get("center") or "all-centers")
    return f"taboor-{center}-{report.get('from')}-{report.get('to')}.{extension}"


def names_for(center: Mapping[str, Any], services: Mapping[str, tuple[str, str]]) -> ReportNames:
    return ReportNames(str(center["name_ar"]), str(center["name_en"]), dict(services))
