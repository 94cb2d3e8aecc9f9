"""What the floor pages share: language, compiled catalogs, staff sessions, CSRF, assets.

Language: Arabic (RTL) by default, English one tap away. The choice comes from
`?lang=ar|en` (remembered in a cookie for a year), else the cookie, else Arabic.

Translations: every page package (kiosk, counter, display, server) keeps its own
`translations/<lang>/LC_MESSAGES/messages.po`; English is the source language, so only
Arabic needs a catalog. The catalogs are compiled into the instance folder when the
app starts (only when a `.po` is newer than its `.mo`) and Flask-Babel loads each
compiled catalog once per process: rendering a page costs dictionary lookups, not
file reads. Strings the page scripts need are translated in the template and handed
over as one JSON object (`js_strings`), so no string lives in a script.

Staff pages use a session login (`/login`) with a CSRF token on every form. The
session holds the staff bearer token (signed, revoked by a password change); a page
hands that token to its script, which calls the JSON API and Socket.IO with it like
any other client. Kiosks and displays are devices: their page reads the device token
that was given once in the address (`#token=...`) and keeps it in the browser.
"""

from __future__ import annotations

import functools
import hmac
import io
import secrets
from collections.abc import Callable, Iterable
from datetime import timedelta
from importlib import import_module
from importlib.util import find_spec
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import click
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    g,
    redirect,
    render_template,
    request,
    send_file,
    session,
    url_for,
)
from flask_babel import Babel, get_locale, lazy_ngettext
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from taboor.server import i18n
from taboor.server.auth import Principal
from taboor.server.domain.errors import TaboorError, TooManyAttempts
from taboor.server.i18n import CATALOG_PACKAGES
from taboor.server.operations import accounts
from taboor.server.runtime import runtime

LANGS = ("ar", "en")
DEFAULT_LANG = "ar"
LANG_COOKIE = "taboor_lang"
# Modules with an `init_app(app)` that registers their pages.
PAGE_MODULES = (
    "taboor.kiosk", "taboor.counter", "taboor.display", "taboor.server.manage",
    "taboor.server.citizen",
)
EASTERN = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")

bp = Blueprint("web", __name__, template_folder="templates")


# --- language and catalogs ----------------------------------------------------------


def select_locale() -> str:
    """The request's language: `?lang=`, else the cookie, else Arabic."""
    asked = request.args.get("lang")
    if asked in LANGS:
        return asked
    remembered = request.cookies.get(LANG_COOKIE)
    return remembered if remembered in LANGS else DEFAULT_LANG


def lang() -> str:
    return str(get_locale() or DEFAULT_LANG)


def text_dir() -> str:
    return "rtl" if lang() == "ar" else "ltr"


def catalog_sources() -> list[Path]:
    """The translation folders of the page packages that have one."""
    folders = []
    for name in CATALOG_PACKAGES:
        if find_spec(name) is None:
            continue
        module = import_module(name)
        folder = Path(next(iter(module.__path__))).resolve() / "translations"
        if folder.is_dir():
            folders.append(folder)
    return folders


def compile_catalogs(target: Path, sources: Iterable[Path] | None = None) -> list[str]:
    """Compile each `.po` under `sources` into `target/<package>/`; return the folders."""
    compiled = []
    for source in catalog_sources() if sources is None else sources:
        out_root = target / source.parent.name
        for po in sorted(source.glob("*/LC_MESSAGES/messages.po")):
            mo = out_root / po.relative_to(source).with_suffix(".mo")
            if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
                mo.parent.mkdir(parents=True, exist_ok=True)
                with po.open("rb") as handle:
                    catalog = read_po(handle)
                partial = mo.with_suffix(".mo.part")
                with partial.open("wb") as handle:
                    write_mo(handle, catalog)
                partial.replace(mo)  # another process starting at once never reads half a file
        compiled.append(str(out_root))
    return compiled


def digits(value: object, eastern: bool) -> str:
    """A number or text with Eastern Arabic digits when asked to and the page is Arabic."""
    text = str(value)
    return text.translate(EASTERN) if eastern and lang() == "ar" else text


# --- staff sessions and CSRF -------------------------------------------------------


def csrf_token() -> str:
    """This session's CSRF token (made on first use)."""
    token = session.get("csrf")
    if not token:
        token = session["csrf"] = secrets.token_urlsafe(32)
    return token


def check_csrf() -> None:
    """Refuse a form post whose CSRF token does not match the session's."""
    sent = request.form.get("csrf_token", "")
    expected = session.get("csrf", "")
    if not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
        abort(400, description="csrf")


def staff() -> Principal | None:
    """The signed-in staff member of this browser session, checked on every request."""
    if "staff" in g:
        return g.staff
    principal = None
    token = session.get("token")
    if token:
        rt = runtime()
        try:
            principal = accounts.principal_for(rt.db, rt.tokens, token, rt.principals)
        except TaboorError:
            session.pop("token", None)  # expired or revoked: sign in again
    g.staff = principal
    return principal


def staff_page(*roles: str) -> Callable:
    """A page for signed-in staff with one of `roles`; others go to the login page."""

    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            principal = staff()
            if principal is None:
                return redirect(url_for("web.login", next=request.full_path.rstrip("?")))
            if principal.role not in roles:
                return render_template("forbidden.html"), 403
            return view(*args, **kwargs)

        return wrapper

    return decorate


def page_token() -> str:
    """The bearer token a staff page hands to its script."""
    return str(session.get("token", ""))


def _safe_next(target: str | None) -> str:
    """Only a path on this server: never redirect a login to another site."""
    if not target:
        return url_for("web.home")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("web.home")
    return target


# --- views -------------------------------------------------------------------------

# Strings every page script may need (the live connection banner, common errors).
COMMON_JS = {
    "not_live": _l("Not live: reconnecting to the server…"),
    "live_again": _l("Live again"),
    "error": _l("Something went wrong. Please try again."),
    "offline": _l("The server cannot be reached."),
}


@bp.get("/")
def home():
    """The start page: links to the floor pages of each center."""
    with runtime().db.reading() as tx:
        from taboor.server import queries

        centers = queries.list_centers(tx)
    return render_template("home.html", centers=centers, signed_in=staff())


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Staff sign-in with username and password (CSRF-protected form)."""
    error, status = None, 200
    if request.method == "POST":
        check_csrf()
        username = request.form.get("username", "")[:200]
        password = request.form.get("password", "")[:200]
        rt = runtime()
        try:
            token, _user = accounts.login(
                rt.db, rt.tokens, username, password,
                throttle=rt.logins, address=request.remote_addr or "",
            )  # fmt: skip
        except TooManyAttempts as exc:
            minutes = max(1, round(int(exc.details["retry_after_s"]) / 60))
            error = lazy_ngettext(
                "Too many failed attempts. Try again in %(num)d minute.",
                "Too many failed attempts. Try again in %(num)d minutes.",
                minutes,
            )
            status = 429
        except TaboorError:
            error = _l("Wrong username or password.")
            status = 401
        else:
            keep_lang = session.get("lang")
            session.clear()
            session.permanent = True
            session["token"] = token
            if keep_lang:
                session["lang"] = keep_lang
            return redirect(_safe_next(request.args.get("next")))
    return render_template("login.html", error=error), status


@bp.post("/logout")
def logout():
    """Sign out of this browser session; the token its pages used stops working."""
    check_csrf()
    token = session.get("token")
    if token:
        rt = runtime()
        try:
            accounts.revoke(rt.db, rt.tokens, str(token), cache=rt.principals)
        except TaboorError:  # expired or already refused: nothing left to sign out
            pass
    keep_lang = session.get("lang")
    session.clear()
    if keep_lang:
        session["lang"] = keep_lang
    return redirect(url_for("web.login"))


@bp.get("/static/fonts/NotoSansArabic.ttf")
def arabic_font():
    """The page font, from the same pip package the tickets use (no web font service)."""
    from taboor.printers.fonts import font_path

    return send_file(font_path(), mimetype="font/ttf", max_age=86400)


@bp.get("/qr.svg")
def qr_svg():
    """A QR code (SVG) for a link on this server or an e-service address from the catalog."""
    import segno

    data = request.args.get("data", "")
    if not 0 < len(data) <= 500:
        abort(400, description="qr")
    qr = segno.make(data, error="m")
    buffer = io.BytesIO()  # a standalone SVG (with its namespace): an <img> draws only that
    qr.save(buffer, kind="svg", scale=4, border=2, dark="#000", light="#fff", xmldecl=False)
    svg = buffer.getvalue()
    # The data may be a ticket's status address (its public id): keep it out of caches.
    return Response(svg, mimetype="image/svg+xml", headers={"Cache-Control": "no-store"})


# --- build commands --------------------------------------------------------------


@click.command("assets")
@click.option("--force", is_flag=True, help="Reinstall even when up to date.")
def assets_command(force: bool) -> None:
    """Fetch the browser packages (npm) and copy what the pages load into static/."""
    from taboor.server import assets

    try:
        if not assets.build(force=force):
            click.echo("taboor: browser assets are up to date")
    except assets.AssetBuildError as exc:
        raise click.ClickException(str(exc)) from None


@click.command("catalogs")
@click.option("--check", is_flag=True, help="Only check; fail when a string lacks Arabic.")
def catalogs_command(check: bool) -> None:
    """Add new strings to the Arabic catalogs, or check that none is untranslated."""
    gaps = 0
    for package in CATALOG_PACKAGES:
        if not check:
            i18n.update(package)
        for lang, missing in i18n.missing(package).items():
            for msgid in missing:
                click.echo(f"{package} [{lang}] untranslated: {msgid}")
            gaps += len(missing)
    if check and gaps:
        raise click.ClickException(f"{gaps} strings lack a translation")
    click.echo(f"taboor: {gaps} strings lack a translation")


# --- wiring ------------------------------------------------------------------------


def _remember_lang(response: Response) -> Response:
    asked = request.args.get("lang")
    if asked in LANGS and request.cookies.get(LANG_COOKIE) != asked:
        response.set_cookie(LANG_COOKIE, asked, max_age=365 * 86400, samesite="Lax", httponly=False)
    return response


def _page_globals() -> dict[str, object]:
    return {
        "lang": lang(),
        "dir": text_dir(),
        "other_lang": "en" if lang() == "ar" else "ar",
        "csrf_token": csrf_token,
        "js_strings": js_strings,
        "lang_url": lang_url,
    }


def lang_url(target: str) -> str:
    """This page's address in language `target`, keeping its other query arguments."""
    args = [(key, value) for key, value in request.args.items(multi=True) if key != "lang"]
    return request.path + "?" + urlencode([*args, ("lang", target)])


def js_strings(extra: dict[str, object] | None = None) -> dict[str, str]:
    """The translated strings a page script needs, as plain text for `tojson`."""
    merged = {**COMMON_JS, **(extra or {})}
    return {key: str(value) for key, value in merged.items()}


def init_app(app: Flask) -> None:
    """Languages, compiled catalogs, session cookies and the shared pages."""
    compiled = compile_catalogs(Path(app.instance_path) / "translations")
    app.config.update(
        BABEL_DEFAULT_LOCALE=DEFAULT_LANG,
        BABEL_TRANSLATION_DIRECTORIES=";".join(compiled),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=timedelta(hours=12),
    )
    Babel(app, locale_selector=select_locale)
    app.jinja_env.filters["digits"] = digits
    app.jinja_env.globals["Markup"] = Markup
    app.context_processor(_page_globals)
    app.after_request(_remember_lang)
    app.register_blueprint(bp)
    app.cli.add_command(assets_command)
    app.cli.add_command(catalogs_command)
    # The pages themselves live in their own packages.
    for name in PAGE_MODULES:
        if find_spec(name) is None:
            continue
        module = import_module(name)
        if hasattr(module, "init_app"):
            module.init_app(app)
