"""The README and docs point at files that exist (screenshots, other docs, scripts)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
# Markdown links and images: [text](target) and ![alt](target); web addresses and
# in-page anchors are not files.
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_every_local_link_and_image_in_the_docs_exists(doc):
    missing = []
    for target in LINK.findall(doc.read_text(encoding="utf-8")):
        if target.startswith(("http://", "https://", "#", "mailto:")):
            continue
        if not (doc.parent / target.split("#")[0]).exists():
            missing.append(target)
    assert not missing, f"{doc.name} links to missing files: {missing}"


# A file or folder of the repository named in code spans: `server/store/tickets.py`,
# `tests/run`, `printers/`. Addresses (`/api/v1/...`) and patterns (`<package>/...`)
# are not files.
CITED = re.compile(r"`((?:[\w.-]+/)+[\w.-]*)`")
TOP = {p.name for p in ROOT.iterdir()}
# Made at run time, never committed (.gitignore).
MADE = ("instance/", "server/static/vendor/", "build/")


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_every_file_the_docs_cite_exists(doc):
    cited = {
        path
        for path in CITED.findall(doc.read_text(encoding="utf-8"))
        if path.split("/")[0] in TOP and not path.startswith(MADE)
    }
    missing = sorted(path for path in cited if not (ROOT / path).exists())
    assert not missing, f"{doc.name} cites files that do not exist: {missing}"
