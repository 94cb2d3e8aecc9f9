"""Arabic text helpers: LTR isolates, Eastern Arabic digits, and visual order without raqm."""

from __future__ import annotations

import re
from functools import lru_cache

LRI = "\u2066"  # LEFT-TO-RIGHT ISOLATE
PDI = "\u2069"  # POP DIRECTIONAL ISOLATE
LRM = "\u200e"  # LEFT-TO-RIGHT MARK

WESTERN_DIGITS = "0123456789"
EASTERN_DIGITS = "٠١٢٣٤٥٦٧٨٩"
_TO_EASTERN = str.maketrans(WESTERN_DIGITS, EASTERN_DIGITS)

# Explicit directional formatting characters: the fallback path removes them once the
# bidi algorithm has used them, because a font without raqm would draw them as boxes.
_BIDI_CONTROLS = re.compile("[\u200e\u200f\u061c\u202a-\u202e\u2066-\u2069]")
_RTL_CHAR = re.compile("[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufefc]")
_WORDS = re.compile(f"(?:{LRI}[^{PDI}]*{PDI}|\\S)+")
_SEPARATOR_AFTER_EASTERN = re.compile(f"([^{EASTERN_DIGITS}])(?=.)")


def eastern_digits(text: str) -> str:
    """Replace the digits 0-9 with Eastern Arabic digits (٠-٩)."""
    return text.translate(_TO_EASTERN)


def ltr_isolate(text: str) -> str:
    """Wrap a date, time or number in an LTR isolate so an Arabic line keeps its order.

    Eastern Arabic digits are "Arabic numbers" to the bidi algorithm, which even inside
    an LTR isolate reorders the pieces around a neutral separator ("٢٠٢٦-٠٣-٠١" would come
    out day first). A left-to-right mark after each separator pins the pieces in place.
    """
    if any(ch in EASTERN_DIGITS for ch in text):
        text = _SEPARATOR_AFTER_EASTERN.sub(lambda m: m.group(1) + LRM, text)
    return LRI + text + PDI


def words(text: str) -> list[str]:
    """Runs of non-space text; an isolate (a date with its time) is never cut in two."""
    return _WORDS.findall(text)


def strip_controls(text: str) -> str:
    """Remove directional formatting characters (for drawing without a bidi-aware engine)."""
    return _BIDI_CONTROLS.sub("", text)


def has_rtl(text: str) -> bool:
    """Whether the text holds any Arabic (or other right-to-left) letter."""
    return _RTL_CHAR.search(text) is not None


_MIRRORED = str.maketrans("()[]{}<>«»‹›", ")(][}{><»«›‹")


def mirror_brackets(line: str) -> str:
    """Swap the brackets of a right-to-left line that lie outside LTR isolates.

    python-bidi reorders but does not mirror: "(" reordered into a right-to-left run
    would still be drawn opening to the right. Swapping in logical order before the
    reordering draws the right glyph. Latin codes and numbers sit in isolates here, so
    a bracket outside one belongs to the Arabic text (UAX #9 rule N0 resolves it RTL).
    """
    out, depth = [], 0
    for ch in line:
        if ch == LRI:
            depth += 1
        elif ch == PDI and depth:
            depth -= 1
        out.append(ch if depth else ch.translate(_MIRRORED))
    return "".join(out)


@lru_cache(maxsize=8192)
def visual_line(line: str, rtl: bool) -> str:
    """One line as drawn without raqm: Arabic shaped (arabic-reshaper), then reordered
    (python-bidi) with the page's base direction. The one place Taboor shapes Arabic:
    tickets (image and PDF) and reports.

    Call it on a single, already wrapped line: reordering a paragraph and then cutting
    it into lines would put the end of the sentence on the first line. A line without
    any right-to-left letter is drawn as written. Cached: wrapping measures the same
    candidate lines again and again, and arabic-reshaper re-reads its settings on every
    call.
    """
    if not has_rtl(line):
        return strip_controls(line)
    # Imported here so that the raqm path does not need these packages loaded.
    import arabic_reshaper
    from bidi import get_display

    if rtl:
        line = mirror_brackets(line)
    return strip_controls(get_display(arabic_reshaper.reshape(line), base_dir="R" if rtl else "L"))
