"""Serving Taboor: gunicorn with one worker process and a pool of threads.

One process keeps SQLite's single writer in one place (an in-process lock hands the
write lock over without sleeping); threads serve the many kiosks and displays that
hold connections open.

A Socket.IO connection holds a thread for as long as it lives (a WebSocket for
hours, a long-poll for up to the ping interval). So the pool has two parts: `threads`
for HTTP requests and `live` for Socket.IO, and a guard turns Socket.IO away with 503
once `live` are in use, so displays can never take the threads kiosks issue with
(clients retry with back-off). Pool threads start only when needed.
"""

from __future__ import annotations

import functools
import gc
import resource
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication


class _Gunicorn(BaseApplication):
    """gunicorn serving one WSGI app, or (`lazy`) the app a factory makes in the worker."""

    def __init__(self, app: Any, options: dict[str, Any], *, lazy: bool = False) -> None:
        self.application = app
        self.options = options
        self.lazy = lazy
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            if key in self.cfg.settings:  # older gunicorn lacks some (control socket)
                self.cfg.set(key, value)

    def load(self) -> Any:
        return self.application() if self.lazy else self.application


class LiveGuard:
    """WSGI middleware: at most `limit` Socket.IO requests at once (the rest get 503)."""

    def __init__(self, app: Any, limit: int, prefix: str = "/socket.io") -> None:
        self.app = app
        self.prefix = prefix
        self._slots = threading.BoundedSemaphore(limit)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        if not environ.get("PATH_INFO", "").startswith(self.prefix):
            return self.app(environ, start_response)
        if not self._slots.acquire(blocking=False):
            start_response(
                "503 Service Unavailable",
                [("Content-Type", "text/plain"), ("Retry-After", "5")],
            )
            return [b"too many live connections; retry later\n"]
        try:
            body = self.app(environ, start_response)  # a WebSocket lives inside this call
        except BaseException:
            self._slots.release()
            raise
        return _Closing(body, self._slots.release)


class _Closing:
    """A response body that calls `on_close` once, when the server closes it."""

    def __init__(self, body: Iterable[bytes], on_close: Callable[[], None]) -> None:
        self.body = body
        self.on_close: Callable[[], None] | None = on_close

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.body)

    def close(self) -> None:
        try:
            close = getattr(self.body, "close", None)
            if close is not None:
                close()
        finally:
            on_close, self.on_close = self.on_close, None
            if on_close is not None:
                on_close()


def _raise_open_files_limit(wanted: int) -> None:
    """Each connection is a file descriptor; the usual soft limit of 1024 is too low."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


def _ensure_assets() -> None:
    """Build the browser packages once (npm); the API works without them, pages do not."""
    from taboor.server import assets

    try:
        assets.build()
    except (assets.AssetBuildError, OSError) as exc:
        print(f"taboor: warning: the floor pages will not be live: {exc}", file=sys.stderr)


def _post_fork(
    on_worker_start: Callable[[], None] | None, _server: object, _worker: object
) -> None:
    """In the forked worker: start its background work, then freeze the heap made so far.

    Everything alive now (the app, its routes, templates, catalogs, the modules) lives
    as long as the process: frozen, the cyclic garbage collector stops walking it on
    every full collection, which otherwise lands as a pause on some kiosk's request.
    """
    if on_worker_start is not None:
        on_worker_start()
    gc.freeze()


def serve(
    app: Flask,
    host: str,
    port: int,
    threads: int = 64,
    live: int = 2000,
    on_worker_start: Callable[[], None] | None = None,
    *,
    mode: str = "threading",
    make_app: Callable[[], Flask] | None = None,
) -> None:
    """Serve `app` until interrupted: `threads` for HTTP, `live` for Socket.IO clients.

    `on_worker_start` runs in the worker process once it is forked (background work
    such as the print spooler belongs there, not in the master).

    `mode` "gevent" serves every connection from one event loop (gunicorn's gevent
    worker; settings `live_mode`): a WebSocket costs a few kilobytes instead of threads,
    and a call reaches hundreds of displays without waking hundreds of threads. The
    worker then builds its own app with `make_app` after gevent has patched the
    standard library, because a lock or thread made before the patch would block the
    whole loop; `app` only served the master (migrations)."""
    _ensure_assets()
    connections = threads + live + 1000
    _raise_open_files_limit(connections + 256)
    options: dict[str, Any] = {
        "bind": f"{host}:{port}",
        "workers": 1,
        "worker_connections": connections,
        "keepalive": 75,
        "timeout": 60,
        "graceful_timeout": 10,
        "accesslog": None,
        "errorlog": "-",
        # No control socket in $HOME: two Taboor instances must not share one.
        "control_socket_disable": True,
    }
    if mode == "gevent":
        if make_app is None:
            raise ValueError("the gevent mode needs make_app")
        factory = make_app
        options["worker_class"] = "gevent"
        _Gunicorn(lambda: LiveGuard(factory(), live), options, lazy=True).run()
        return
    # Kept-alive kiosk connections wait in the poller, not in threads: room for them too.
    options.update(
        worker_class="gthread",
        threads=threads + live,
        post_fork=functools.partial(_post_fork, on_worker_start),
    )
    _Gunicorn(LiveGuard(app, live), options).run()  # type: ignore[arg-type]
