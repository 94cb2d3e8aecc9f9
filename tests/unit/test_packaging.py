"""What `pip install` puts in site-packages: every package folder, under `taboor` only."""

from __future__ import annotations

import configparser
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FOLDERS = ("config", "server", "kiosk", "counter", "display", "printers")


def _declared() -> set[str]:
    setup = configparser.ConfigParser()
    setup.read(ROOT / "setup.cfg", encoding="utf-8")
    return set(setup["options"]["packages"].split())


def test_every_folder_with_python_code_is_installed_as_a_taboor_package():
    found = {
        "taboor." + ".".join(folder.relative_to(ROOT).parts)
        for top in FOLDERS
        for folder in [ROOT / top, *(ROOT / top).rglob("*")]
        if folder.is_dir() and "__pycache__" not in folder.parts and any(folder.glob("*.py"))
    }
    found.add("taboor.config.demo")  # data only: the demo catalog
    assert _declared() == found


def test_nothing_is_installed_outside_the_taboor_namespace():
    assert all(name.startswith("taboor.") for name in _declared())
