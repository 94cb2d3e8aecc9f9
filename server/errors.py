"""One place that turns every failure into `{"error": {"code", "message"}}`."""

from __future__ import annotations

import logging
import sqlite3

from flask import Flask, jsonify, render_template, request
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException

from taboor.server.domain.errors import TaboorError

log = logging.getLogger(__name__)

HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    429: "too_many_attempts",
    415: "unsupported_media_type",
}


def error_response(status: int, code: str, message: str, **details: object):
    response = jsonify({"error": {"code": code, "message": message, **details}})
    response.status_code = status
    return response


def wants_page() -> bool:
    """A browser asking for a floor page (not the API): answer with an HTML page."""
    if request.path.startswith(("/api/", "/socket.io")):
        return False
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best == "text/html"


def error_page(status: int, code: str, message: str):
    return render_template("error.html", status=status, code=code, message=message), status


def init_app(app: Flask) -> None:
    @app.errorhandler(TaboorError)
    def taboor_error(exc: TaboorError):
        if wants_page() and exc.status != 401:
            return error_page(exc.status, exc.code, exc.message)
        response = error_response(exc.status, **exc.to_dict())
        if exc.status == 401:
            response.headers["WWW-Authenticate"] = f'Bearer error="{exc.code}"'
        if exc.status == 429 and "retry_after_s" in exc.details:
            response.headers["Retry-After"] = str(exc.details["retry_after_s"])
        return response

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        status = exc.code or 500
        if wants_page():
            return error_page(status, HTTP_CODES.get(status, "http_error"), exc.description)
        response = error_response(
            status, HTTP_CODES.get(status, "http_error"), exc.description or exc.name
        )
        if status == 405 and exc.valid_methods:  # type: ignore[attr-defined]
            response.headers["Allow"] = ", ".join(exc.valid_methods)  # type: ignore[attr-defined]
        return response

    @app.errorhandler(OperationalError)
    @app.errorhandler(PoolTimeout)
    @app.errorhandler(sqlite3.OperationalError)
    def database_busy(exc: Exception):
        # The database stayed locked past the busy timeout, or the server went away:
        # nothing was committed, so the client may safely try again.
        log.warning("database unavailable: %s", exc)
        response = error_response(
            503,
            "database_unavailable",
            "the database is busy or unreachable; try again",
        )
        response.headers["Retry-After"] = "1"
        return response

    try:  # the hot path runs on the driver's cursor, so its errors arrive unwrapped
        import psycopg
    except ImportError:
        pass
    else:
        app.register_error_handler(psycopg.OperationalError, database_busy)
