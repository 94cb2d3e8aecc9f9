"""Taboor settings and the demo catalog (data files live beside this module)."""

from taboor.config.settings import Settings, SettingsError, load_settings

__all__ = ["Settings", "SettingsError", "load_settings"]
