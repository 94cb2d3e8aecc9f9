"""Serving Taboor: gunicorn with one worker process and a pool of threads.

One process keeps SQLite's single writer in one place (an in-process lock hands the
write lock over without sleeping); threads serve the many kiosks and displays that
hold connections open.
"""

from __future__ import annotations

import sys
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication


class _Gunicorn(BaseApplication):
    def __init__(self, app: Flask, options: dict[str, Any]) -> None:
        self.application = app
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            if key in self.cfg.settings:  # older gunicorn lacks some (control socket)
                self.cfg.set(key, value)

    def load(self) -> Flask:
        return self.application


def serve(app: Flask, host: str, port: int, threads: int = 64) -> None:
    """Serve `app` until interrupted."""
    # Requests are short and mostly wait on sockets and SQLite: hand the GIL over
    # sooner than the default 5 ms so a thread holding the writer lock is not kept
    # waiting behind threads parsing requests (measured in bench/issue_and_call.py).
    sys.setswitchinterval(0.0005)
    _Gunicorn(
        app,
        {
            "bind": f"{host}:{port}",
            "workers": 1,
            "worker_class": "gthread",
            "threads": threads,
            "keepalive": 75,
            "timeout": 60,
            "graceful_timeout": 10,
            "accesslog": None,
            "errorlog": "-",
            # No control socket in $HOME: two Taboor instances must not share one.
            "control_socket_disable": True,
        },
    ).run()
