"""Kiosk touch pages and the kiosk print agent (not built yet: live floor, printing)."""
