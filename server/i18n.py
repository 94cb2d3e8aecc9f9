"""Keeping the Arabic catalogs complete: extract every string, merge, check.

English is the source language: strings are written in English in templates
(`_("...")`) and Python (`gettext`/`lazy_gettext`). Each page package keeps its own
Arabic catalog in `<package>/translations/ar/LC_MESSAGES/messages.po`.
`taboor catalogs` adds new strings to the catalogs (untranslated, for a translator)
and drops strings no longer used; `taboor catalogs --check` fails while any string
lacks its Arabic translation. A test runs the check, so no English string reaches
an Arabic page.
"""

from __future__ import annotations

from importlib import import_module
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

TRANSLATED = ("ar",)
# Packages whose `translations/` folder holds a catalog, in lookup order.
CATALOG_PACKAGES = (
    "taboor.server", "taboor.server.manage", "taboor.kiosk", "taboor.counter", "taboor.display"
)
METHODS = [
    ("**/translations/**", "ignore"),
    ("**/static/**", "ignore"),
    ("**/migrations/**", "ignore"),
    ("**.py", "python"),
    ("**/templates/**.html", "jinja2.ext:babel_extract"),
]
KEYWORDS = {"_": None, "gettext": None, "lazy_gettext": None, "_l": None,
            "ngettext": (1, 2), "lazy_ngettext": (1, 2)}  # fmt: skip
OPTIONS = {"**/templates/**.html": {"extensions": "jinja2.ext.do"}}


def package_dir(name: str) -> Path:
    return Path(next(iter(import_module(name).__path__))).resolve()


def po_path(package: str, lang: str) -> Path:
    return package_dir(package) / "translations" / lang / "LC_MESSAGES" / "messages.po"


def extract(package: str) -> Catalog:
    """Every translatable string used in the package's code and templates."""
    catalog = Catalog(project="taboor", locale=None)
    root = package_dir(package)
    # A sub-package with a catalog of its own is not part of its parent's catalog.
    own = [
        (f"{name.removeprefix(package + '.').replace('.', '/')}/**", "ignore")
        for name in CATALOG_PACKAGES
        if name.startswith(package + ".")
    ]
    for filename, lineno, message, comments, context in extract_from_dir(
        root, own + METHODS, keywords=KEYWORDS, options_map=OPTIONS, strip_comment_tags=True
    ):
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return catalog


def load(path: Path, lang: str) -> Catalog:
    if not path.exists():
        return Catalog(locale=lang, project="taboor")
    with path.open("rb") as handle:
        return read_po(handle, locale=lang)


def update(package: str) -> dict[str, int]:
    """Merge the extracted strings into each catalog of `package`; counts per language."""
    template = extract(package)
    counts = {}
    for lang in TRANSLATED:
        path = po_path(package, lang)
        catalog = load(path, lang)
        if not len(template) and not path.exists():
            continue
        catalog.update(template, no_fuzzy_matching=True)
        catalog.obsolete.clear()
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as handle:
            write_po(handle, catalog, width=100, omit_header=False, sort_output=True,
                     include_lineno=False)  # fmt: skip
        counts[lang] = len(catalog)
    return counts


def missing(package: str) -> dict[str, list[str]]:
    """Per language, the strings the package uses that have no translation yet."""
    template = extract(package)
    result = {}
    for lang in TRANSLATED:
        catalog = load(po_path(package, lang), lang)
        gaps = []
        for message in template:
            if not message.id:
                continue
            found = catalog.get(message.id, message.context)
            text = found.string if found is not None else None
            done = all(text) if isinstance(text, tuple | list) else bool(text)
            if not done or (found is not None and found.fuzzy):
                gaps.append(message.id if isinstance(message.id, str) else message.id[0])
        result[lang] = gaps
    return result


def translate(package: str, lang: str, texts: dict[str, str]) -> int:
    """Fill translations for known strings (a helper for scripted translation); count."""
    path = po_path(package, lang)
    catalog = load(path, lang)
    done = 0
    for msgid, text in texts.items():
        message = catalog.get(msgid)
        if message is None:
            raise KeyError(f"{msgid!r} is not in {path}; run `taboor catalogs` first")
        message.string = text
        message.flags.discard("fuzzy")
        done += 1
    with path.open("wb") as handle:
        write_po(handle, catalog, width=100, sort_output=True, include_lineno=False)
    return done
