"""The application factory: the one place that wires settings, stores and shells together.

The shells (api, web and the page packages, realtime and agent_hub, cli) never import
one another or this module; they reach what they share through `server.runtime`.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping

from flask import Flask
from werkzeug.routing import BaseConverter, IntegerConverter

from taboor.config import load_settings
from taboor.config.settings import ensure_secret_key
from taboor.server import agent_hub, api, cli, errors, realtime, web
from taboor.server.auth import PrincipalCache, StaffTokens
from taboor.server.db import Database
from taboor.server.publish import Publisher
from taboor.server.runtime import EXTENSION, Clock, Runtime, utc_now
from taboor.server.spooler import PrintSpooler
from taboor.server.summariser import Summariser


class IdConverter(IntegerConverter):
    """A database id in a URL: 1 to 18 digits, so it always fits a 64-bit column."""

    regex = r"[1-9]\d{0,17}"


class CodeConverter(BaseConverter):
    """A center code or public id in a URL: letters, digits, dash and underscore."""

    regex = r"[A-Za-z0-9_-]{1,64}"


def create_app(test_config: Mapping[str, object] | None = None, *, clock: Clock = utc_now) -> Flask:
    """Build the app; `test_config` overrides settings (same keys as defaults.toml)."""
    settings = ensure_secret_key(load_settings(overrides=test_config))
    app = Flask(__name__, instance_path=settings.instance_path)
    # No request to Taboor needs more than a few kilobytes.
    app.config.update(SECRET_KEY=settings.secret_key, MAX_CONTENT_LENGTH=64 * 1024)
    app.json.ensure_ascii = False  # Arabic stays readable in JSON
    app.json.sort_keys = False

    db = Database.from_settings(settings)
    publisher = Publisher()
    rt = app.extensions[EXTENSION] = Runtime(
        settings=settings,
        db=db,
        tokens=StaffTokens(settings.secret_key, settings.token_max_age_s),
        publisher=publisher,
        clock=clock,
        principals=PrincipalCache(),
        spooler=PrintSpooler(
            db,
            publisher,
            clock,
            paper_mm=settings.paper_mm,
            logo=settings.ticket_logo,
            instance_path=settings.instance_path,
        ),
        summariser=Summariser(db, clock),
        make_app=lambda: create_app(dataclasses.asdict(settings), clock=clock),
    )

    app.url_map.converters["id"] = IdConverter
    app.url_map.converters["code"] = CodeConverter

    errors.init_app(app)
    cli.init_app(app)
    app.register_blueprint(api.bp)
    web.init_app(app)
    realtime.init_app(app, rt)
    # Kiosk print agents: their handlers, and the spooler's hand-over of agent jobs.
    agent_hub.init_app(app, rt, realtime.socketio.server)
    logging.getLogger("taboor").setLevel(logging.INFO)
    return app
