"""The dashboard's pages and downloads. Views translate and nothing more."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l

from taboor.server import reports
from taboor.server.domain.errors import Forbidden, InvalidInput, Unauthorized
from taboor.server.manage import data, exports
from taboor.server.manage.figures import Numbers, hour_chart, service_chart
from taboor.server.runtime import runtime
from taboor.server.web import lang, page_token, staff, staff_page

bp = Blueprint(
    "manage",
    __name__,
    url_prefix="/manage",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)

MANAGERS = ("manager", "admin")
FILTERS = ("from", "to", "service", "counter", "clerk")
MAX_ARG = 100
# What went wrong with a chosen range, in the page's language (codes from server.reports).
RANGE_ERRORS = {
    "bad_range": _l("The range ends before it starts."),
    "range_too_long": _l("A report covers at most 366 days."),
}
BAD_DATE = _l("Enter the dates as year-month-day, for example 2026-03-01.")


def _filters() -> dict[str, str | None]:
    """The range and filters from the query string, as `center_report` takes them."""
    values: dict[str, str | None] = {}
    for name in FILTERS:
        value = request.args.get(name) or None
        if value is not None and (len(value) > MAX_ARG or "\x00" in value):
            raise InvalidInput(f"{name} is too long", field=name)
        values[name] = value
    return {"from_day": values["from"], "to_day": values["to"], "service": values["service"],
            "counter": values["counter"], "clerk": values["clerk"]}  # fmt: skip


def _allowed(center: dict[str, Any]) -> bool:
    principal = staff()
    return principal is not None and principal.in_center(int(center["id"]))


def _numbers(center: dict[str, Any]) -> Numbers:
    return Numbers(lang(), bool((center.get("options") or {}).get("eastern_digits")))


def _forbidden() -> tuple[str, int]:
    return render_template("forbidden.html"), 403


def _may_read(center: str) -> bool:
    """Whether the signed-in manager may read this center's statistics (checked before
    the range, so that a center not theirs is a 403 whatever the query)."""
    with runtime().db.reading() as tx:
        try:
            reports.require_reader(tx, staff(), center)
        except Forbidden:
            return False
    return True


def _report(center: str, filters: dict[str, str | None]) -> dict[str, Any]:
    """The report for the range and filters (summarised first where the range lacks it)."""
    rt = runtime()
    return reports.read_report(rt.db, center, actor=staff(), now=rt.now(), **filters)


@bp.get("/")
@staff_page(*MANAGERS)
def index():
    """A manager's own dashboard; an admin picks a center on the start page."""
    principal = staff()
    if principal is None or principal.center_id is None:
        return redirect(url_for("web.home"))
    with runtime().db.reading() as tx:
        code = data.center_code(tx, principal.center_id)
    return redirect(url_for("manage.dashboard", center=code))


@bp.get("/<code:center>")
@staff_page(*MANAGERS)
def dashboard(center: str):
    """The dashboard: the floor now, and the statistics for a chosen range."""
    rt = runtime()
    error = None
    report = None
    if not _may_read(center):
        return _forbidden()
    try:
        filters = _filters()
        # Today's figures without filters come with the board.
        report = _report(center, filters) if any(filters.values()) else None
    except InvalidInput as exc:
        error = RANGE_ERRORS.get(exc.code, BAD_DATE)
    with rt.db.reading() as tx:
        found = data.center(tx, center)
        board = data.board(tx, center, rt.now())
        choices = data.choices(tx, int(found["id"]))  # type: ignore[call-overload]
    if report is None and error is None:
        report = board.today
    numbers = _numbers(found)
    names = exports.names_for(found, choices.services)
    charts = {}
    if report is not None:
        rows = [(names.service(code, numbers.lang), f)
                for code, f in (report.get("by_service") or {}).items()]  # fmt: skip
        charts = {
            "service": service_chart(rows, numbers, str(_l("Tickets per service"))),
            "hour": hour_chart(report.get("by_hour") or {}, numbers,
                               str(_l("Wait by hour of issue (minutes)"))),
        }  # fmt: skip
    query = {k: v for k, v in request.args.items() if k in FILTERS and v}
    page = render_template(
        "manage/dashboard.html",
        center=found,
        board=board,
        report=report,
        error=error,
        charts=charts,
        choices=choices,
        names=names,
        n=numbers,
        query=query,
        args=request.args,
        token=page_token(),
        eastern_digits=numbers.eastern,
        page_js={"live_error": _l("The live figures could not be refreshed.")},
    )
    # The page carries the session's bearer token: never from a cache (the Back button
    # on a shared PC after signing out).
    return page, 400 if error else 200, {"Cache-Control": "no-store"}


@bp.get("/<code:center>/live")
def live(center: str):
    """The live part of the dashboard as an HTML fragment (the page script refetches it)."""
    principal = staff()
    if principal is None:
        raise Unauthorized("sign in again", code="session_expired")
    if principal.role not in MANAGERS:
        raise Forbidden("this needs the role manager or admin", code="role_forbidden")
    rt = runtime()
    with rt.db.reading() as tx:
        found = data.center(tx, center)
        if not _allowed(found):
            raise Forbidden("you may not see this center", code="center_forbidden")
        board = data.board(tx, center, rt.now())
        choices = data.choices(tx, int(found["id"]))  # type: ignore[call-overload]
    numbers = _numbers(found)
    html = render_template("manage/_live.html", center=found, board=board, n=numbers,
                           names=exports.names_for(found, choices.services))  # fmt: skip
    return Response(html, mimetype="text/html", headers={"Cache-Control": "no-store"})


def _download(center: str, extension: str) -> Response | tuple[str, int]:
    rt = runtime()
    if not _may_read(center):
        return _forbidden()
    report = _report(center, _filters())
    with rt.db.reading() as tx:
        found = data.center(tx, center)
        choices = data.choices(tx, int(found["id"]))  # type: ignore[call-overload]
    names = exports.names_for(found, choices.services)
    if extension == "csv":
        body = exports.to_csv(report, names, lang())
        mimetype = "text/csv; charset=utf-8"
    else:
        body = exports.to_pdf(report, names, lang(), now=rt.now(),
                              eastern=_numbers(found).eastern)  # fmt: skip
        mimetype = "application/pdf"
    disposition = f'attachment; filename="{exports.filename(report, extension)}"'
    return Response(body, mimetype=mimetype, headers={"Content-Disposition": disposition})


@bp.get("/<code:center>/report.csv")
@staff_page(*MANAGERS)
def report_csv(center: str):
    """The statistics for the chosen range as CSV (UTF-8 with BOM)."""
    return _download(center, "csv")


@bp.get("/<code:center>/report.pdf")
@staff_page(*MANAGERS)
def report_pdf(center: str):
    """The statistics for the chosen range as a PDF report."""
    return _download(center, "pdf")
