"""The `taboor` command line (a Flask CLI group)."""

from __future__ import annotations

import json
import logging
import os
import signal
from pathlib import Path

import click
from flask import Flask
from flask.cli import with_appcontext
from sqlalchemy import func, select

from taboor.server import audit, migrate
from taboor.server.auth import SYSTEM, DeviceKind, Role
from taboor.server.domain.errors import TaboorError
from taboor.server.models import Center
from taboor.server.operations import accounts
from taboor.server.runtime import Runtime, runtime


def _fail(exc: TaboorError) -> None:
    raise click.ClickException(f"{exc.message} ({exc.code})")


@click.command("init")
@with_appcontext
def init_command() -> None:
    """Create or upgrade the database schema."""
    rt = runtime()
    migrate.upgrade(rt.db.engine)
    click.echo(f"database ready: {rt.db.engine.url.render_as_string(hide_password=True)}")


def _save_demo(app: Flask, demo: dict) -> Path:
    path = Path(app.instance_path) / "demo-credentials.json"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(demo, fh, ensure_ascii=False, indent=2)
    return path


def _print_demo(demo: dict) -> None:
    click.echo(f"Demo center: {demo['center']}")
    for user in demo["users"]:
        where = f" counter_id={user['counter_id']}" if user["counter_id"] else ""
        click.echo(f"  {user['role']:8} {user['username']:10} {user['password']}{where}")
    for device in demo["devices"]:
        click.echo(f"  {device['kind']:8} {device['name']:10} {device['token']}")


def _print_pages(base: str, demo: dict) -> None:
    """Where to open the floor pages of the demo center (device tokens in the address)."""
    center = demo["center"]
    token = {d["kind"]: d["token"] for d in demo["devices"]}
    click.echo("Floor pages (a device keeps the token from the address after the first visit):")
    if "kiosk" in token:
        click.echo(f"  kiosk    {base}/kiosk/{center}#token={token['kiosk']}")
    if "display" in token:
        click.echo(f"  display  {base}/display/{center}#token={token['display']}")
    click.echo(f"  counter  {base}/counter/   (sign in as a clerk above)")
    click.echo(f"  manager  {base}/manage/{center}   (sign in as the manager above)")


@click.command("demo")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@with_appcontext
def demo_command(as_json: bool) -> None:
    """Load the demo catalog and create demo users and devices (fresh secrets each time)."""
    from flask import current_app

    rt = runtime()
    migrate.upgrade(rt.db.engine)
    demo = accounts.load_demo(rt.db, actor=SYSTEM, now=rt.now())
    path = _save_demo(current_app, demo)
    if as_json:
        click.echo(json.dumps(demo, ensure_ascii=False))
    else:
        _print_demo(demo)
        click.echo(f"(saved to {path})")


@click.group("user")
def user_group() -> None:
    """Staff users."""


@user_group.command("add")
@click.argument("username")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--center", help="Center code (not needed for an admin).")
@click.option("--counter", type=int, help="The clerk's counter number.")
@click.password_option(help="Prompted for when not given.")
@with_appcontext
def user_add(
    username: str, role: str, center: str | None, counter: int | None, password: str
) -> None:
    """Add a staff user."""
    rt = runtime()
    try:
        user = accounts.create_user(
            rt.db,
            username,
            password,
            role,
            center=center,
            counter=counter,
            actor=SYSTEM,
            now=rt.now(),
        )
    except TaboorError as exc:
        _fail(exc)
    click.echo(f"user {user.username} ({user.role}) added")


def _set_user(username: str, **change: object) -> None:
    rt = runtime()
    try:
        accounts.set_user(rt.db, username, actor=SYSTEM, now=rt.now(), **change)  # type: ignore[arg-type]
    except TaboorError as exc:
        _fail(exc)


@user_group.command("disable")
@click.argument("username")
@with_appcontext
def user_disable(username: str) -> None:
    """Stop a user signing in; every token they hold stops working (someone who left)."""
    _set_user(username, active=False)
    click.echo(f"user {username} disabled; their tokens no longer work")


@user_group.command("enable")
@click.argument("username")
@with_appcontext
def user_enable(username: str) -> None:
    """Let a disabled user sign in again."""
    _set_user(username, active=True)
    click.echo(f"user {username} enabled")


@user_group.command("password")
@click.argument("username")
@click.password_option(help="Prompted for when not given.")
@with_appcontext
def user_password(username: str, password: str) -> None:
    """Give a user a new password; the tokens issued under the old one stop working."""
    _set_user(username, password=password)
    click.echo(f"user {username}: password changed")


@click.group("device")
def device_group() -> None:
    """Kiosks, displays and print agents."""


@device_group.command("add")
@click.option("--kind", type=click.Choice([k.value for k in DeviceKind]), required=True)
@click.option("--center", required=True, help="Center code.")
@click.option("--name", default="", help="A name to recognise it by.")
@click.option(
    "--printer",
    default="",
    help="A kiosk's own printer, e.g. network:10.0.0.7:9100, or agent (its print agent).",
)
@with_appcontext
def device_add(kind: str, center: str, name: str, printer: str) -> None:
    """Register a device and print its token (shown only now)."""
    rt = runtime()
    try:
        device, token = accounts.create_device(
            rt.db, kind, center, name=name, printer=printer, actor=SYSTEM, now=rt.now()
        )
    except TaboorError as exc:
        _fail(exc)
    click.echo(f"device {device.id} ({kind}) token: {token}")


@device_group.command("list")
@click.option("--center", help="Only this center's devices.")
@with_appcontext
def device_list(center: str | None) -> None:
    """The devices, with their id, kind, name, printer and state."""
    rt = runtime()
    try:
        devices = accounts.list_devices(rt.db, center)
    except TaboorError as exc:
        _fail(exc)
    for d in devices:
        seen = d.last_seen.isoformat(timespec="seconds") if d.last_seen else "never"
        state = "active" if d.active else "revoked"
        click.echo(f"{d.id}\t{d.kind}\t{d.name or '-'}\t{d.printer or '-'}\t"
                   f"{d.printer_state}\tlast seen {seen}\t{state}")  # fmt: skip


@device_group.command("revoke")
@click.argument("device_id", type=int)
@with_appcontext
def device_revoke(device_id: int) -> None:
    """Take a device's token away for good (a stolen kiosk PC, a retired display)."""
    rt = runtime()
    try:
        device = accounts.revoke_device(rt.db, device_id, actor=SYSTEM, now=rt.now())
    except TaboorError as exc:
        _fail(exc)
    click.echo(f"device {device.id} ({device.kind}) revoked; its token no longer works")


@click.group("audit")
def audit_group() -> None:
    """The tamper-evident event log."""


@audit_group.command("verify")
@click.option("--center", "centers", multiple=True, help="Only these centers.")
@with_appcontext
def audit_verify(centers: tuple[str, ...]) -> None:
    """Check every center's hash chain; exit 1 naming the first bad event."""
    with runtime().db.read() as session:
        results = audit.verify_all(session, list(centers))
    if not results:
        raise click.ClickException("no such center")
    broken = False
    for code, problem in results.items():
        if problem is None:
            click.echo(f"{code}: intact")
        else:
            broken = True
            click.echo(f"{code}: BROKEN at event {problem.seq}: {problem.reason}", err=True)
    if broken:
        raise SystemExit(1)


@click.command("run")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--threads", default=64, show_default=True, type=int, help="Request threads.")
@click.option(
    "--live", default=2000, show_default=True, type=int, help="Live (Socket.IO) connections."
)
@click.option("--demo", is_flag=True, help="Load the demo center first if there is none.")
@with_appcontext
def run_command(host: str, port: int, threads: int, live: int, demo: bool) -> None:
    """Upgrade the database and serve Taboor."""
    from flask import current_app

    from taboor.server.serve import serve

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    rt = runtime()
    migrate.upgrade(rt.db.engine)
    base = f"http://{host}:{port}"
    if demo:
        with rt.db.read() as session:
            empty = not session.scalar(select(func.count()).select_from(Center))
        saved = Path(app.instance_path) / "demo-credentials.json"
        if empty:
            credentials = accounts.load_demo(rt.db, actor=SYSTEM, now=rt.now())
            path = _save_demo(app, credentials)
            _print_demo(credentials)
            click.echo(f"(saved to {path})")
            _print_pages(base, credentials)
        else:
            click.echo(f"demo already loaded; credentials in {saved}")
            if saved.exists():
                _print_pages(base, json.loads(saved.read_text(encoding="utf-8")))
    click.echo(f"Taboor on {base}/ (API: {base}/api/v1/centers)")
    # The server forks its worker: nothing opened here may be shared with it.
    rt.db.dispose()

    def worker_started() -> None:
        _start_background_work(rt)

    make_app = rt.make_app

    def worker_app():
        """The gevent worker's own app, made after the standard library is patched."""
        assert make_app is not None
        own = make_app()
        with own.app_context():
            _start_background_work(runtime())
        return own

    serve(
        app, host, port, threads, live, on_worker_start=worker_started,
        mode=rt.settings.live_mode, make_app=worker_app,
    )  # fmt: skip


def _start_background_work(rt: Runtime) -> None:
    """In the serving worker: print what the last run left, keep statistics summarised."""
    resumed = rt.spooler.resume()
    if resumed:
        click.echo(f"printing {resumed} ticket(s) left unprinted by the last run")
    if rt.summariser is not None:
        rt.summariser.start()


@click.command("agent")
@click.option("--server", required=True, help="The Taboor server, e.g. http://10.0.0.2:5000.")
@click.option(
    "--token",
    required=True,
    envvar="TABOOR_AGENT_TOKEN",
    help="The kiosk's device token (or TABOOR_AGENT_TOKEN).",
)
@click.option("--printer", required=True, help="The printer here, e.g. usb:04b8:0202.")
@click.option("--paper", type=click.Choice(["80", "58"]), default="80", show_default=True,
              help="Paper width in mm.")  # fmt: skip
@click.option(
    "--state-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where the journal of printed jobs is kept (default: the user's state folder).",
)
@click.option(
    "--logo",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A logo (PNG or JPEG) printed at the top of every ticket.",
)
def agent_command(
    server: str, token: str, printer: str, paper: str, state_dir: Path | None, logo: Path | None
) -> None:
    """Print a kiosk's tickets on this PC's printer (the kiosk print agent)."""
    from taboor.printers.agent import AgentError, PrintAgent, default_state_dir
    from taboor.printers.backends import printer_from_spec

    if not server.startswith(("http://", "https://")):
        raise click.BadParameter("give the server as http://host:port", param_hint="--server")
    try:
        backend = printer_from_spec(printer)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--printer") from None
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    folder = state_dir or default_state_dir()
    agent = PrintAgent(
        server.rstrip("/"), token.strip(), backend, paper_mm=int(paper), state_dir=folder,
        logo=logo,
    )  # fmt: skip
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: agent.stop())
    click.echo(f"print agent for {server}, printing to {printer}; journal in {folder}")
    try:
        agent.run()
    except AgentError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"print agent stopped ({agent.printed} ticket(s) printed)")


def init_app(app: Flask) -> None:
    """Attach the commands to the app (the `taboor` group finds them there)."""
    for command in (init_command, demo_command, user_group, device_group, audit_group, run_command):
        app.cli.add_command(command)
