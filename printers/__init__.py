"""Ticket layout and printer backends (not built yet: the printing issue)."""
