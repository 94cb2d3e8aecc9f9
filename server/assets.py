"""The browser assets build step: packages from the npm registry, served by Taboor.

The floor pages run on a LAN with no internet, so nothing is loaded from a CDN. The
packages are pinned in `web/package.json` and `web/package-lock.json`; `taboor assets`
runs `npm ci` there and copies the files the pages load into `server/static/vendor/`
(not committed). `taboor run` builds them first when they are missing.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WEB = ROOT / "web"
VENDOR = Path(__file__).resolve().parent / "static" / "vendor"


@dataclass(frozen=True)
class Asset:
    package: str
    source: str  # path inside the package
    target: str  # file name under static/vendor


ASSETS = (
    Asset("socket.io-client", "dist/socket.io.min.js", "socket.io.min.js"),
    Asset("socket.io-client", "dist/socket.io.min.js.map", "socket.io.min.js.map"),
)


class AssetBuildError(RuntimeError):
    """npm is missing or the install failed; the message says what to do."""


def _pinned_versions() -> dict[str, str]:
    lock = json.loads((WEB / "package-lock.json").read_text(encoding="utf-8"))
    packages = lock.get("packages", {})
    return {
        name.removeprefix("node_modules/"): meta["version"]
        for name, meta in packages.items()
        if name.startswith("node_modules/")
    }


def _stamp() -> Path:
    return VENDOR / "versions.json"


def up_to_date() -> bool:
    """Whether every asset is in place, built from the versions the lock file pins."""
    if not all((VENDOR / asset.target).is_file() for asset in ASSETS):
        return False
    try:
        built = json.loads(_stamp().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    pinned = _pinned_versions()
    return all(built.get(a.package) == pinned.get(a.package) for a in ASSETS)


def build(*, force: bool = False, log=print) -> bool:
    """Install the pinned packages with npm and copy the served files; False if nothing to do."""
    if not force and up_to_date():
        return False
    npm = shutil.which("npm")
    if npm is None:
        raise AssetBuildError(
            "npm is needed once to fetch the browser packages: install Node.js and npm "
            "(Debian: apt-get install nodejs npm), then run `taboor assets`"
        )
    log(f"taboor: installing browser packages with npm ci in {WEB}")
    result = subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=WEB,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise AssetBuildError(f"npm ci failed:\n{result.stdout}{result.stderr}")
    VENDOR.mkdir(parents=True, exist_ok=True)
    versions: dict[str, str] = {}
    for asset in ASSETS:
        package = WEB / "node_modules" / asset.package
        shutil.copyfile(package / asset.source, VENDOR / asset.target)
        meta = json.loads((package / "package.json").read_text(encoding="utf-8"))
        versions[asset.package] = meta["version"]
    _stamp().write_text(json.dumps(versions, indent=2) + "\n", encoding="utf-8")
    log(f"taboor: browser assets ready in {VENDOR}")
    return True
