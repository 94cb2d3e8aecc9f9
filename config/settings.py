"""Settings: config/defaults.toml, then an optional file, then TABOOR_* variables."""

from __future__ import annotations

import dataclasses
import os
import secrets
import tomllib
from collections.abc import Mapping
from pathlib import Path

DEFAULTS_FILE = Path(__file__).with_name("defaults.toml")
ENV_PREFIX = "TABOOR_"


class SettingsError(ValueError):
    """A settings file or variable that cannot be used."""


@dataclasses.dataclass(frozen=True)
class Settings:
    database_url: str
    instance_path: str
    secret_key: str
    printer: str
    paper_mm: int
    ticket_logo: str
    public_url: str
    message_queue: str
    live_mode: str
    sqlite_synchronous: str
    sqlite_busy_timeout_ms: int
    token_max_age_s: int
    head_start_normal_min: int
    head_start_elderly_min: int
    head_start_disabled_min: int
    head_start_appointment_min: int
    eservice_url: str

    def head_starts_s(self) -> dict[str, int]:
        """Head start per priority class, in seconds."""
        return {
            "normal": self.head_start_normal_min * 60,
            "elderly": self.head_start_elderly_min * 60,
            "disabled": self.head_start_disabled_min * 60,
            "appointment": self.head_start_appointment_min * 60,
        }

    def replace(self, **changes: object) -> Settings:
        return dataclasses.replace(self, **changes)


_FIELDS = {f.name: f.type for f in dataclasses.fields(Settings)}


def _coerce(key: str, value: object, source: str) -> object:
    kind = _FIELDS[key]
    if kind == "int":
        if isinstance(value, bool):
            raise SettingsError(f"{source}: {key} must be an integer")
        try:
            return int(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise SettingsError(f"{source}: {key} must be an integer, not {value!r}") from None
    if not isinstance(value, str):
        raise SettingsError(f"{source}: {key} must be a string, not {value!r}")
    return value


def _merge(target: dict[str, object], values: Mapping[str, object], source: str) -> None:
    for key, value in values.items():
        if key not in _FIELDS:
            raise SettingsError(f"{source}: unknown setting {key!r}")
        target[key] = _coerce(key, value, source)


def load_settings(
    file: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, object] | None = None,
) -> Settings:
    """Read the defaults, the optional settings file, the environment and overrides."""
    env = os.environ if env is None else env
    values: dict[str, object] = {}
    with DEFAULTS_FILE.open("rb") as fh:
        _merge(values, tomllib.load(fh), str(DEFAULTS_FILE))
    file = file or env.get(ENV_PREFIX + "SETTINGS") or None
    if file:
        try:
            with open(file, "rb") as fh:
                _merge(values, tomllib.load(fh), str(file))
        except OSError as exc:
            raise SettingsError(f"cannot read settings file {file}: {exc.strerror}") from None
        except tomllib.TOMLDecodeError as exc:
            raise SettingsError(f"{file}: {exc}") from None
    for key in _FIELDS:
        name = ENV_PREFIX + key.upper()
        if name in env:
            _merge(values, {key: env[name]}, name)
    _merge(values, overrides or {}, "overrides")

    instance = Path(str(values["instance_path"]) or "instance").resolve()
    values["instance_path"] = str(instance)
    if not values["database_url"]:
        values["database_url"] = f"sqlite:///{instance / 'taboor.sqlite3'}"
    if values["printer"] == "file:":
        values["printer"] = f"file:{instance / 'tickets'}"
    if values["paper_mm"] not in (58, 80):
        raise SettingsError("paper_mm must be 58 or 80")
    if values["live_mode"] not in {"threading", "gevent"}:
        raise SettingsError("live_mode must be threading or gevent")
    if str(values["sqlite_synchronous"]).upper() not in {"OFF", "NORMAL", "FULL", "EXTRA"}:
        raise SettingsError("sqlite_synchronous must be OFF, NORMAL, FULL or EXTRA")
    return Settings(**values)  # type: ignore[arg-type]


def ensure_secret_key(settings: Settings) -> Settings:
    """Return settings with a secret key, generating one into the instance folder once."""
    if settings.secret_key:
        return settings
    instance = Path(settings.instance_path)
    instance.mkdir(parents=True, exist_ok=True)
    path = instance / "secret_key"
    try:
        key = path.read_text().strip()
    except FileNotFoundError:
        key = ""
    if not key:
        key = secrets.token_urlsafe(48)
        # Create with owner-only permissions; exclusive so two processes agree on one key.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            key = path.read_text().strip()
        else:
            with os.fdopen(fd, "w") as fh:
                fh.write(key + "\n")
    return settings.replace(secret_key=key)
