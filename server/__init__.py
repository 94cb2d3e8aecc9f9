"""Taboor server: the Flask app, the queue domain, operations and the public API."""

from server.app import create_app

__all__ = ["create_app"]
