"""Ticket layout: one bilevel image exactly as wide as the printer's printable line.

ESC/POS code pages cannot shape Arabic, so the whole ticket is drawn here and sent
as a raster. Arabic goes through Pillow's raqm layout when libraqm is there, else
through arabic-reshaper + python-bidi, one wrapped line at a time.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from urllib.parse import quote

import segno
from PIL import Image, ImageDraw, ImageFont

from taboor.printers.arabic import (
    eastern_digits,
    has_rtl,
    ltr_isolate,
    visual_line,
    words,
)
from taboor.printers.fonts import BASIC, RAQM, default_engine, load_font

WIDTH_80MM = 576
WIDTH_58MM = 384
LANGUAGES = ("ar", "en")

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TicketPrint:
    """Everything printed on one ticket, already localized by the caller."""

    center_ar: str
    center_en: str
    label: str
    service_ar: str
    service_en: str
    ahead: int
    wait_minutes: int
    issued_local: datetime
    status_url: str
    lang: str = "ar"
    eastern_digits: bool = False
    logo_path: str | os.PathLike[str] | None = None

    def __post_init__(self) -> None:
        if self.lang not in LANGUAGES:
            raise ValueError(f"lang must be one of {LANGUAGES}, not {self.lang!r}")
        if not self.label.strip():
            raise ValueError("a ticket needs a label")
        if self.ahead < 0 or self.wait_minutes < 0:
            raise ValueError("ahead and wait_minutes cannot be negative")


def status_url(base_url: str, public_id: str) -> str:
    """The address a citizen's phone opens from the QR code: <base_url>/t/<public_id>."""
    return f"{base_url.rstrip('/')}/t/{quote(public_id, safe='')}"


# ---------------------------------------------------------------------------
# What is printed (text in logical order), separate from how it is drawn.


@dataclass(frozen=True)
class Text:
    """A paragraph: wrapped by words to the width, every line centered."""

    text: str
    role: str
    rtl: bool


@dataclass(frozen=True)
class Label:
    """The ticket label, as large as the width allows."""

    text: str


@dataclass(frozen=True)
class Rule:
    pass


@dataclass(frozen=True)
class Gap:
    height: int


@dataclass(frozen=True)
class QR:
    url: str


@dataclass(frozen=True)
class Logo:
    path: str


Item = Text | Label | Rule | Gap | QR | Logo


def _minutes_ar(n: int, number: Callable[[int], str]) -> str:
    if n == 0:
        return "أقل من دقيقة"
    if n == 1:
        return "دقيقة واحدة"
    if n == 2:
        return "دقيقتان"
    # Arabic counts 3-10 (and 103-110, ...) with the plural, everything else singular.
    unit = "دقائق" if 3 <= n % 100 <= 10 else "دقيقة"
    return f"{number(n)} {unit}"


def _people_ar(n: int, number: Callable[[int], str]) -> str:
    if n == 0:
        return "أنت التالي"
    return f"عدد المنتظرين قبلك: {number(n)}"


def _people_en(n: int) -> str:
    if n == 0:
        return "You are next"
    return "1 person ahead of you" if n == 1 else f"{n} people ahead of you"


def _minutes_en(n: int) -> str:
    if n == 0:
        return "under a minute"
    return "1 minute" if n == 1 else f"{n} minutes"


def compose(ticket: TicketPrint) -> list[Item]:
    """The ticket's content from top to bottom, text in logical order."""
    when = ticket.issued_local.strftime("%Y-%m-%d %H:%M")
    arabic = ticket.lang == "ar"

    def ar(text: str) -> str:
        return eastern_digits(text) if ticket.eastern_digits else text

    def number(n: int) -> str:
        return ltr_isolate(ar(str(n)))

    items: list[Item] = []
    if ticket.logo_path:
        items.append(Logo(os.fspath(ticket.logo_path)))
    center = ticket.center_ar if arabic else (ticket.center_en or ticket.center_ar)
    items.append(Text(ar(center) if has_rtl(center) else center, "center", has_rtl(center)))
    items += [Gap(4), Rule(), Gap(6), Label(ticket.label)]
    services = [(ticket.service_ar, True), (ticket.service_en, False)]
    if not arabic:
        services.reverse()
    for index, (name, rtl) in enumerate(s for s in services if s[0].strip()):
        role = "service" if index == 0 else "service2"
        items.append(Text(ar(name) if rtl else name, role, rtl))
    items += [Gap(10), Rule(), Gap(4)]
    if arabic:
        items += [
            Text(_people_ar(ticket.ahead, number), "info", True),
            Text("الانتظار المتوقع: " + _minutes_ar(ticket.wait_minutes, number), "info", True),
            Text("وقت الإصدار: " + ltr_isolate(ar(when)), "time", True),
        ]
    else:
        items += [
            Text(_people_en(ticket.ahead), "info", False),
            Text("Estimated wait: " + _minutes_en(ticket.wait_minutes), "info", False),
            Text("Issued: " + when, "time", False),
        ]
    items += [QR(ticket.status_url)]
    if arabic:
        items.append(Text("امسح الرمز لمتابعة دورك", "small", True))
    else:
        items.append(Text("Scan the code to follow your turn", "small", False))
    return items


def ticket_texts(ticket: TicketPrint) -> list[str]:
    """Every text printed on the ticket, in logical order (isolates included)."""
    out: list[str] = []
    for item in compose(ticket):
        if isinstance(item, Text | Label):
            out.append(item.text)
    return out


# ---------------------------------------------------------------------------
# How it is drawn.

# Pixel size at 576 dots and weight (the font is variable) per role. Thermal heads
# print thin strokes faintly, so nothing is lighter than medium.
_ROLES: dict[str, tuple[int, int]] = {
    "center": (30, 700),
    "label": (180, 800),
    "service": (36, 700),
    "service2": (26, 600),
    "info": (30, 600),
    "time": (26, 600),
    "small": (24, 500),
}


@dataclass(frozen=True)
class _Geometry:
    width: int
    margin: int
    scale: float

    @property
    def inner(self) -> int:
        return self.width - 2 * self.margin

    def size(self, role: str) -> int:
        return max(12, round(_ROLES[role][0] * self.scale))


def _geometry(width: int) -> _Geometry:
    # Text shrinks less than the paper: 58 mm tickets are read by the same eyes.
    scale = 0.7 + 0.3 * width / WIDTH_80MM
    return _Geometry(width=width, margin=max(8, width // 48), scale=scale)


@dataclass(frozen=True)
class Face:
    """The font at one size and weight, for one layout engine: shapes, measures, draws lines."""

    size: int
    weight: int
    engine: str

    @property
    def font(self) -> ImageFont.FreeTypeFont:
        return load_font(self.size, self.weight, self.engine)

    def prepare(self, text: str, rtl: bool) -> tuple[str, dict[str, str]]:
        """What the engine is given: logical text and a direction for raqm, else visual text."""
        if self.engine == RAQM:
            return text, {"direction": "rtl" if rtl else "ltr", "language": "ar" if rtl else "en"}
        return visual_line(text, rtl), {}

    def bbox(self, text: str, rtl: bool) -> tuple[int, int, int, int]:
        """Ink box of a line drawn with its baseline at y = 0 and its start at x = 0."""
        return _bbox(self, text, rtl)

    def width(self, text: str, rtl: bool) -> int:
        x0, _, x1, _ = self.bbox(text, rtl)
        return x1 - x0

    def line(self, text: str, rtl: bool, *, cache: bool = True) -> Image.Image:
        """The line drawn black on white, cropped to its bbox."""
        return _line_image(self, text, rtl) if cache else _draw_line(self, text, rtl)


# Most lines (center, service names, instructions) repeat on every ticket of a service:
# shaping and rasterizing them once is most of the time a ticket takes to lay out.
@lru_cache(maxsize=2048)
def _bbox(face: Face, text: str, rtl: bool) -> tuple[int, int, int, int]:
    drawn, options = face.prepare(text, rtl)
    return face.font.getbbox(drawn, anchor="ls", **options)  # type: ignore[return-value]


def _draw_line(face: Face, text: str, rtl: bool) -> Image.Image:
    x0, y0, x1, y1 = face.bbox(text, rtl)
    drawn, options = face.prepare(text, rtl)
    image = Image.new("L", (max(1, x1 - x0), max(1, y1 - y0)), 255)
    ImageDraw.Draw(image).text((-x0, -y0), drawn, font=face.font, fill=0, anchor="ls", **options)
    return image


# At most about 5 MB of small line images.
_line_image = lru_cache(maxsize=256)(_draw_line)


def wrap(text: str, rtl: bool, face: Face, max_width: int) -> list[str]:
    """Break a logical paragraph into lines no wider than max_width (by words, then letters).

    Lines are cut in logical order and each is shaped and reordered on its own later.
    """
    if face.width(text, rtl) <= max_width:
        return [text]
    lines: list[str] = []
    current = ""
    for token in words(text):
        candidate = f"{current} {token}" if current else token
        if face.width(candidate, rtl) <= max_width:
            current = candidate
            continue
        if current:
            lines.append(current)
        current = token
        # A single word wider than the paper: cut it rather than let it be clipped.
        while face.width(current, rtl) > max_width and len(current) > 1:
            cut = len(current) - 1
            while cut > 1 and face.width(current[:cut], rtl) > max_width:
                cut -= 1
            lines.append(current[:cut])
            current = current[cut:]
    if current:
        lines.append(current)
    return lines


Draw = Callable[[Image.Image, int], None]


def _text_block(item: Text, geo: _Geometry, engine: str) -> tuple[int, Draw]:
    size = geo.size(item.role)
    face = Face(size, _ROLES[item.role][1], engine)
    lines = wrap(item.text, item.rtl, face, geo.inner)
    boxes = [face.bbox(line, item.rtl) for line in lines]
    # One pitch for the whole paragraph, from its tallest ink, so lines never touch.
    top = min(b[1] for b in boxes)
    bottom = max(b[3] for b in boxes)
    gap = max(5, size // 3)
    pitch = bottom - top + gap
    height = pitch * len(lines) - gap

    def draw(canvas: Image.Image, y: int) -> None:
        for index, (line, box) in enumerate(zip(lines, boxes, strict=True)):
            x = (geo.width - (box[2] - box[0])) // 2
            canvas.paste(face.line(line, item.rtl), (x, y + index * pitch + box[1] - top))

    return height, draw


def _label_block(item: Label, geo: _Geometry, engine: str) -> tuple[int, Draw]:
    rtl = has_rtl(item.text)
    face = Face(geo.size("label"), _ROLES["label"][1], engine)
    width = face.width(item.text, rtl)
    while width > geo.inner and face.size > 12:
        size = max(12, min(face.size - 1, int(face.size * geo.inner / width)))
        face = Face(size, face.weight, engine)
        width = face.width(item.text, rtl)
    image = face.line(item.text, rtl, cache=False)  # large, and new on every ticket

    def draw(canvas: Image.Image, y: int) -> None:
        canvas.paste(image, ((geo.width - image.width) // 2, y))

    return image.height, draw


_QR_QUIET_ZONE = 4  # modules of white around the symbol, as the standard asks
_DARK_TO_GRAY = bytes([255, 0]) + bytes(254)  # matrix value 1 (dark) -> 0 (black)


def _qr_image(url: str, width: int) -> Image.Image:
    # Error level M (15 %) survives a crumpled or smudged ticket; segno still picks the
    # mask by the standard's penalty rules, which is most of the time a ticket takes.
    code = segno.make(url, error="m", micro=False)
    matrix = code.matrix
    size = len(matrix)
    symbol = Image.frombytes("L", (size, size), b"".join(matrix).translate(_DARK_TO_GRAY))
    total = size + 2 * _QR_QUIET_ZONE
    # 1 mm modules on 80 mm paper (203 dpi), 0.75 mm on 58 mm; never under 4 dots.
    module = max(4, min(8, int(width * 0.65) // total))
    image = Image.new("L", (total * module, total * module), 255)
    scaled = symbol.resize((size * module, size * module), Image.Resampling.NEAREST)
    image.paste(scaled, (_QR_QUIET_ZONE * module, _QR_QUIET_ZONE * module))
    return image


def _qr_block(item: QR, geo: _Geometry) -> tuple[int, Draw]:
    image = _qr_image(item.url, geo.width)
    if image.width > geo.width:
        raise ValueError(f"status URL too long for a QR code on {geo.width} dots: {item.url}")

    def draw(canvas: Image.Image, y: int) -> None:
        canvas.paste(image, ((geo.width - image.width) // 2, y))

    return image.height, draw


@lru_cache(maxsize=8)
def _logo_image(path: str, mtime_ns: int, max_width: int, max_height: int) -> Image.Image:
    with Image.open(path) as source:
        rgba = source.convert("RGBA")
    flat = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    flat.alpha_composite(rgba)
    gray = flat.convert("L")
    gray.thumbnail((max_width, max_height), Image.Resampling.LANCZOS)
    # Dither to black and white here: the final threshold would lose grey areas.
    return gray.convert("1").convert("L")


def _logo_block(item: Logo, geo: _Geometry) -> tuple[int, Draw]:
    try:
        mtime = Path(item.path).stat().st_mtime_ns
        image = _logo_image(item.path, mtime, geo.inner, round(110 * geo.scale))
    except (OSError, Image.DecompressionBombError) as exc:  # UnidentifiedImageError is an OSError
        # A broken logo must not cost the citizen the ticket.
        log.warning("ticket logo %s left out: %s", item.path, exc)
        return 0, lambda canvas, y: None

    def draw(canvas: Image.Image, y: int) -> None:
        canvas.paste(image, ((geo.width - image.width) // 2, y))

    return image.height, draw


def _rule_block(geo: _Geometry) -> tuple[int, Draw]:
    def draw(canvas: Image.Image, y: int) -> None:
        pen = ImageDraw.Draw(canvas)
        for x in range(geo.margin, geo.width - geo.margin, 12):
            pen.rectangle((x, y, min(x + 7, geo.width - geo.margin - 1), y + 1), fill=0)

    return 2, draw


def render_ticket(
    ticket: TicketPrint, width: int = WIDTH_80MM, *, engine: str | None = None
) -> Image.Image:
    """Draw the ticket as a mode "1" image exactly `width` dots wide (black = 0)."""
    return render_items(compose(ticket), width, engine=engine)


def render_items(items: list[Item], width: int, *, engine: str | None = None) -> Image.Image:
    """Draw laid-out items top to bottom, centered, as a mode "1" image `width` dots wide."""
    if width < 200 or width % 8:
        raise ValueError(f"width must be a multiple of 8 and at least 200 dots, not {width}")
    engine = engine or default_engine()
    if engine not in (RAQM, BASIC):
        raise ValueError(f"engine must be {RAQM!r} or {BASIC!r}, not {engine!r}")
    geo = _geometry(width)
    spacing = round(14 * geo.scale)
    blocks: list[tuple[int, Draw]] = []
    trailing = 0  # the space after the last block, not wanted at the bottom
    for item in items:
        if isinstance(item, Gap):
            blocks.append((round(item.height * geo.scale), lambda canvas, y: None))
            trailing = 0
            continue
        if isinstance(item, Text):
            block = _text_block(item, geo, engine)
        elif isinstance(item, Label):
            block = _label_block(item, geo, engine)
        elif isinstance(item, QR):
            block = _qr_block(item, geo)
        elif isinstance(item, Logo):
            block = _logo_block(item, geo)
        else:
            block = _rule_block(geo)
        if block[0] == 0:
            continue
        blocks.append((block[0] + spacing, block[1]))
        trailing = spacing
    height = geo.margin + sum(h for h, _ in blocks) - trailing + geo.margin
    canvas = Image.new("L", (width, height), 255)
    y = geo.margin
    for block_height, draw in blocks:
        draw(canvas, y)
        y += block_height
    return canvas.convert("1", dither=Image.Dither.NONE)
