"""Taboor server: the Flask app, the queue domain, operations and the public API."""

from taboor.server.app import create_app

__all__ = ["create_app"]
