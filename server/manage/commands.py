"""`taboor report`: the dashboard's PDF or CSV report, written to a file."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from taboor.server import reports
from taboor.server.auth import SYSTEM
from taboor.server.domain.errors import TaboorError
from taboor.server.domain.numbering import business_day
from taboor.server.manage import data, exports
from taboor.server.runtime import runtime

FORMATS = {".pdf": "pdf", ".csv": "csv"}


@click.command("report")
@click.option("--center", help="Center code, e.g. DAM-MIDAN.")
@click.option("--all-centers", is_flag=True,
              help="Every center together, each in its own row (no --counter).")  # fmt: skip
@click.option("--from", "from_day", help="First local day, YYYY-MM-DD (default: today).")
@click.option("--to", "to_day", help="Last local day, YYYY-MM-DD (default: --from or today).")
@click.option("--service", help="Only this service (its code).")
@click.option("--counter", help="Only this counter (its number).")
@click.option("--clerk", help="Only this clerk (username).")
@click.option("--lang", type=click.Choice(["ar", "en"]), default="ar", show_default=True)
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The file to write: .pdf or .csv.")  # fmt: skip
@with_appcontext
def report_command(
    center: str | None,
    all_centers: bool,
    from_day: str | None,
    to_day: str | None,
    service: str | None,
    counter: str | None,
    clerk: str | None,
    lang: str,
    out: Path,
) -> None:
    """Write the statistics report of a center, or of every center, for a range of days
    (PDF or CSV)."""
    kind = FORMATS.get(out.suffix.lower())
    if kind is None:
        raise click.BadParameter("the file name must end in .pdf or .csv", param_hint="--out")
    if all_centers == (center is not None):
        raise click.UsageError("give --center C or --all-centers")
    if all_centers and counter is not None:
        raise click.UsageError("a counter belongs to one center: use --center with --counter")
    rt = runtime()
    try:
        # The command line is the system: it may read every center.
        report = reports.read_report(rt.db, center, actor=SYSTEM, now=rt.now(),
                                     from_day=from_day, to_day=to_day, service=service,
                                     counter=counter, clerk=clerk)  # fmt: skip
        if center is None:
            with rt.db.reading() as tx:
                names = data.all_center_names(tx)
            eastern, subject = False, "every center"
        else:
            with rt.db.reading() as tx:
                found = data.center(tx, center)
                choices = data.choices(tx, int(found["id"]))  # type: ignore[call-overload]
            names = exports.names_for(found, choices.services)
            eastern = bool((found.get("options") or {}).get("eastern_digits"))  # type: ignore[attr-defined]
            subject = center
    except TaboorError as exc:
        raise click.ClickException(f"{exc.message} ({exc.code})") from None
    if kind == "csv":
        # Column headers come from the catalogs: render them in the asked language.
        with current_app.test_request_context("/", query_string={"lang": lang}):
            body = exports.to_csv(report, names, lang)
    else:
        body = exports.to_pdf(report, names, lang, now=rt.now(), eastern=eastern)
    out.write_bytes(body)
    click.echo(f"taboor: report for {subject} {report['from']}..{report['to']} written to {out}")


@click.command("summarise")
@click.option("--center", required=True, help="Center code, e.g. DAM-MIDAN.")
@click.option("--from", "from_day", help="First local day, YYYY-MM-DD (default: 365 days ago).")
@click.option("--to", "to_day", help="Last local day, YYYY-MM-DD (default: yesterday).")
@with_appcontext
def summarise_command(center: str, from_day: str | None, to_day: str | None) -> None:
    """Store the day and month summaries long reports merge (e.g. nightly, or after an
    upgrade), so that no manager waits for the first report of a long range."""
    rt = runtime()
    now = rt.now()
    try:
        with rt.db.reading() as tx:
            zone = str(data.center(tx, center)["timezone"])
        yesterday = business_day(now, zone) - timedelta(days=1)
        last = to_day or yesterday.isoformat()
        first = from_day or (date.fromisoformat(last) - timedelta(days=365)).isoformat()
        days = reports.summarise(rt.db, center, now=now, from_day=first, to_day=last)
    except TaboorError as exc:
        raise click.ClickException(f"{exc.message} ({exc.code})") from None
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--to") from None
    click.echo(f"{center}: {days} day(s) summarised from {first} to {last}")
