"""The ticket font: Noto Sans Arabic from the fontpkg-noto-sans-arabic wheel (Arabic and Latin)."""

from __future__ import annotations

from functools import cache, lru_cache
from importlib import resources
from pathlib import Path

from PIL import ImageFont, features

FONT_PACKAGE = "fontpkg_noto_sans_arabic"
RAQM = "raqm"
BASIC = "basic"


class FontMissingError(RuntimeError):
    """The font package is not installed or holds no Noto Sans Arabic TTF."""


@cache
def font_path() -> Path:
    """Path of the Noto Sans Arabic TTF shipped inside the font package."""
    try:
        folder = resources.files(FONT_PACKAGE) / "files"
        names = sorted(entry.name for entry in folder.iterdir())
    except (ModuleNotFoundError, FileNotFoundError) as exc:
        raise FontMissingError(f"install fontpkg-noto-sans-arabic ({exc})") from None
    for name in names:
        if name.startswith("NotoSansArabic") and name.endswith(".ttf"):
            return Path(str(folder / name))
    raise FontMissingError(f"no NotoSansArabic*.ttf in {folder}")


def raqm_available() -> bool:
    """Whether Pillow can shape and reorder text itself (libraqm with FriBiDi)."""
    return bool(features.check("raqm"))


def default_engine() -> str:
    return RAQM if raqm_available() else BASIC


@lru_cache(maxsize=64)
def load_font(size: int, weight: int, engine: str) -> ImageFont.FreeTypeFont:
    """The ticket font at a pixel size and weight (100-900), for one layout engine."""
    if engine not in (RAQM, BASIC):
        raise ValueError(f"unknown layout engine {engine!r}")
    layout = ImageFont.Layout.RAQM if engine == RAQM else ImageFont.Layout.BASIC
    font = ImageFont.truetype(str(font_path()), size, layout_engine=layout)
    # A variable font: pick the weight, keep the full width.
    axes = font.get_variation_axes()
    values = []
    for axis in axes:
        name = axis["name"]
        name = name.decode() if isinstance(name, bytes) else str(name)
        values.append(weight if name == "Weight" else axis["default"])
    if axes:
        font.set_variation_by_axes(values)
    return font
