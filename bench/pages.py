"""Page rendering, and how much of it is translation (issue: a few ms at most).

    .venv/bin/python bench/pages.py [--repeat 200]

Builds the app on a fresh SQLite instance with the demo, signs a clerk and a manager
in through the login form, issues a few tickets, then renders each floor page
`--repeat` times in Arabic and in English with Flask's test client (no network). It
reports the median render time per page and the time spent inside the translation
functions (Flask-Babel's gettext family and the catalog lookups behind Jinja's `_()`,
wrapped with a timer whose own cost is included: an upper bound), so the share of
translation is measured, not guessed.
"""

from __future__ import annotations

import argparse
import re
import statistics
import tempfile
import time
from contextlib import contextmanager

import flask_babel
from common import percentile

from taboor.server.app import create_app
from taboor.server.auth import SYSTEM
from taboor.server.migrate import upgrade
from taboor.server.operations.accounts import load_demo
from taboor.server.runtime import runtime

spent = [0.0]
calls = [0]


def _timed(function):
    def wrapper(*args, **kwargs):
        began = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            spent[0] += time.perf_counter() - began
            calls[0] += 1

    return wrapper


class _TimedCatalog:
    """A translations object whose lookups are timed (what templates call)."""

    def __init__(self, catalog) -> None:
        self._catalog = catalog

    def __getattr__(self, name):
        value = getattr(self._catalog, name)
        return _timed(value) if callable(value) else value


@contextmanager
def translation_timer():
    """Time every translation: Flask-Babel's gettext family (Python code) and the
    catalog lookups Jinja's `_()` makes through `flask_babel.get_translations`."""
    domain = flask_babel.Domain
    names = ("gettext", "ngettext", "pgettext", "npgettext")
    saved = {name: getattr(domain, name) for name in names}
    for name, function in saved.items():
        setattr(domain, name, _timed(function))
    original = flask_babel.get_translations
    flask_babel.get_translations = _timed(lambda: _TimedCatalog(original()))
    try:
        yield
    finally:
        for name, function in saved.items():
            setattr(domain, name, function)
        flask_babel.get_translations = original


def signed_in(app, user: dict):
    client = app.test_client()
    html = client.get("/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    answer = client.post(
        "/login",
        data={"username": user["username"], "password": user["password"], "csrf_token": csrf},
    )
    assert answer.status_code == 302, answer.status_code
    return client


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="taboor-pages-") as folder:
        app = create_app(
            {
                "instance_path": folder,
                "printer": "none",
                "database_url": f"sqlite:///{folder}/taboor.sqlite3",
            }
        )
        with app.app_context():
            rt = runtime()
            upgrade(rt.db.engine)
            demo = load_demo(rt.db, actor=SYSTEM, now=rt.now())
        center = demo["center"]
        kiosk = next(d for d in demo["devices"] if d["kind"] == "kiosk")["token"]
        anonymous = app.test_client()
        ticket = None
        for _ in range(5):
            ticket = anonymous.post(
                f"/api/v1/centers/{center}/tickets",
                json={"service": "civil-extract-individual"},
                headers={"Authorization": f"Bearer {kiosk}"},
            ).json
        clerk = signed_in(app, next(u for u in demo["users"] if u["role"] == "clerk"))
        manager = signed_in(app, next(u for u in demo["users"] if u["role"] == "manager"))
        pages = [
            ("home", anonymous, "/"),
            ("kiosk", anonymous, f"/kiosk/{center}"),
            ("display", anonymous, f"/display/{center}"),
            ("status", anonymous, f"/t/{ticket['public_id']}"),
            ("counter", clerk, "/counter/"),
            ("manage", manager, f"/manage/{center}"),
        ]
        print(f"{args.repeat} renders per page and language (Flask test client, no network)")
        print(
            "| page | lang | render p50 | p99 | translation per render (upper bound) "
            "| timed calls |"
        )
        print("|---|---|---|---|---|---|")
        with translation_timer():
            for name, client, path in pages:
                for lang in ("ar", "en"):
                    url = f"{path}?lang={lang}"
                    assert client.get(url).status_code == 200, url  # warm: catalogs load
                    times, spent[0], calls[0] = [], 0.0, 0
                    for _ in range(args.repeat):
                        began = time.perf_counter()
                        response = client.get(url)
                        times.append(time.perf_counter() - began)
                        assert response.status_code == 200
                    print(
                        f"| {name} | {lang} | {statistics.median(times) * 1000:.2f} ms "
                        f"| {percentile(times, 99) * 1000:.2f} ms "
                        f"| {spent[0] / args.repeat * 1000:.3f} ms "
                        f"| {calls[0] // args.repeat} |"
                    )
        rt_ = app.extensions["taboor"]
        rt_.spooler.close()
        rt_.db.dispose()


if __name__ == "__main__":
    main()
