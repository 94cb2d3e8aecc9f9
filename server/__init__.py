"""Taboor server: the app factory (`server.app`), the pure queue domain (`server.domain`),
operations, the public API, live updates and the command line."""
