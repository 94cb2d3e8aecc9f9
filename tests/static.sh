#!/usr/bin/env bash
# Static checks: lint (.ruff.toml), the import contracts (setup.cfg [importlinter]) and
# the type check (setup.cfg [mypy]). Run by tests/run; run alone after `bash tests/run`
# has made .venv.
#
# Taboor's folders install under the `taboor` namespace through a mapping that only
# Python's import system understands (setup.cfg package_dir); import-linter and mypy
# read packages from the file system, so they read a tree of links instead:
# build/layout/taboor/<folder> -> <folder>.
set -euo pipefail
cd "$(dirname "$0")/.."

.venv/bin/ruff check --quiet

layout=build/layout
mkdir -p "$layout/taboor"
for folder in config server kiosk counter display printers; do
    ln -sfn "$PWD/$folder" "$layout/taboor/$folder"
done
if ! contracts=$(PYTHONPATH="$PWD/$layout" .venv/bin/lint-imports --no-cache 2>&1); then
    echo "$contracts"
    exit 1
fi
MYPYPATH="$PWD/$layout" .venv/bin/mypy
