"""Settings: defaults, then a file, then TABOOR_* variables; the secret made once."""

from pathlib import Path

import pytest

from taboor.config import SettingsError, load_settings
from taboor.config.settings import ensure_secret_key


def test_defaults_put_sqlite_and_tickets_in_the_instance_folder(tmp_path: Path):
    settings = load_settings(env={"TABOOR_INSTANCE_PATH": str(tmp_path)})
    assert settings.database_url == f"sqlite:///{tmp_path / 'taboor.sqlite3'}"
    assert settings.printer == f"file:{tmp_path / 'tickets'}"
    assert settings.head_starts_s()["elderly"] == 15 * 60


def test_file_overrides_defaults_and_environment_overrides_file(tmp_path: Path):
    file = tmp_path / "site.toml"
    file.write_text('token_max_age_s = 60\nprinter = "none"\n')
    settings = load_settings(file, env={"TABOOR_TOKEN_MAX_AGE_S": "120"})
    assert settings.token_max_age_s == 120
    assert settings.printer == "none"


def test_settings_file_can_come_from_the_environment(tmp_path: Path):
    file = tmp_path / "site.toml"
    file.write_text('database_url = "postgresql+psycopg://taboor@db/taboor"\n')
    settings = load_settings(env={"TABOOR_SETTINGS": str(file)})
    assert settings.database_url.startswith("postgresql")


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"TABOOR_TOKEN_MAX_AGE_S": "soon"}, "must be an integer"),
        ({"TABOOR_SQLITE_SYNCHRONOUS": "maybe"}, "sqlite_synchronous"),
        ({"TABOOR_LIVE_MODE": "eventlet"}, "live_mode must be threading or gevent"),
        ({"TABOOR_SETTINGS": "/nonexistent/taboor.toml"}, "cannot read settings file"),
    ],
)
def test_bad_settings_are_explained(env, message):
    with pytest.raises(SettingsError, match=message):
        load_settings(env=env)


def test_unknown_key_in_a_file_is_an_error(tmp_path: Path):
    file = tmp_path / "site.toml"
    file.write_text("databse_url = 'x'\n")
    with pytest.raises(SettingsError, match="unknown setting 'databse_url'"):
        load_settings(file, env={})


def test_missing_secret_is_generated_once_with_private_permissions(tmp_path: Path):
    settings = load_settings(env={"TABOOR_INSTANCE_PATH": str(tmp_path)})
    first = ensure_secret_key(settings)
    second = ensure_secret_key(settings)
    assert first.secret_key and first.secret_key == second.secret_key
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600


def test_a_given_secret_is_kept(tmp_path: Path):
    settings = load_settings(
        env={"TABOOR_INSTANCE_PATH": str(tmp_path), "TABOOR_SECRET_KEY": "given"}
    )
    assert ensure_secret_key(settings).secret_key == "given"
    assert not (tmp_path / "secret_key").exists()
