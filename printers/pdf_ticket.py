"""The ticket as a PDF for ordinary printers: same content as the thermal layout, real text.

reportlab neither shapes Arabic nor reorders it, so every Arabic line is wrapped in
logical order first and then shaped (arabic-reshaper) and reordered (python-bidi).
"""

from __future__ import annotations

import io
import logging
import os
from functools import cache

import segno
from PIL import Image
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from taboor.printers.arabic import visual_line, words
from taboor.printers.fonts import font_path
from taboor.printers.layout import QR, Gap, Label, Logo, Rule, Text, TicketPrint, compose

log = logging.getLogger(__name__)

FONT = "TaboorNotoSansArabic"
PAGE_WIDTH = 80 * mm
MARGIN = 4 * mm
# Point sizes: the thermal layout's pixel sizes at 203 dpi.
_SIZES = {
    "center": 10.5,
    "label": 60.0,
    "service": 13.0,
    "service2": 9.5,
    "info": 10.5,
    "time": 9.0,
    "small": 8.5,
}
_BOLD = {"center", "label", "service", "info"}


@cache
def _register_font() -> str:
    pdfmetrics.registerFont(TTFont(FONT, str(font_path())))
    return FONT


def _wrap(text: str, rtl: bool, size: float, width: float) -> list[str]:
    """Wrap by words in logical order, measuring each candidate as it will be drawn."""

    def fits(line: str) -> bool:
        return pdfmetrics.stringWidth(visual_line(line, rtl), FONT, size) <= width

    lines: list[str] = []
    current = ""
    for word in words(text):
        candidate = f"{current} {word}" if current else word
        if current and not fits(candidate):
            lines.append(current)
            current = word
        else:
            current = candidate
    if current:
        lines.append(current)
    return [visual_line(line, rtl) for line in lines]


def _qr_size(url: str) -> tuple[segno.QRCode, float]:
    code = segno.make(url, error="m", micro=False)
    return code, min(34 * mm, PAGE_WIDTH - 2 * MARGIN)


def _draw(pdf: Canvas | None, items: list, top: float) -> float:
    """Draw the items from `top` down (or only measure when pdf is None); return the end y."""
    y = top
    inner = PAGE_WIDTH - 2 * MARGIN
    for item in items:
        if isinstance(item, Gap):
            y -= item.height * 0.35
        elif isinstance(item, Rule):
            y -= 2 * mm
            if pdf:
                pdf.saveState()
                pdf.setLineWidth(0.8)
                pdf.setDash(3, 2)
                pdf.line(MARGIN, y, PAGE_WIDTH - MARGIN, y)
                pdf.restoreState()
            y -= 2 * mm
        elif isinstance(item, Label):
            size = _SIZES["label"]
            while size > 8 and pdfmetrics.stringWidth(item.text, FONT, size) > inner:
                size -= 1
            y -= size * 0.8
            if pdf:
                _text(pdf, item.text, size, y, bold=True)
            y -= size * 0.2
        elif isinstance(item, Text):
            size = _SIZES[item.role]
            for line in _wrap(item.text, item.rtl, size, inner):
                y -= size * 1.25
                if pdf:
                    _text(pdf, line, size, y, bold=item.role in _BOLD)
            y -= size * 0.4
        elif isinstance(item, QR):
            code, side = _qr_size(item.url)
            y -= 4 * mm + side
            if pdf:
                modules = code.symbol_size(scale=1, border=0)[0]
                cell = side / modules
                x0 = (PAGE_WIDTH - side) / 2
                for r, row in enumerate(code.matrix_iter(scale=1, border=0)):
                    for c, dark in enumerate(row):
                        if dark:
                            pdf.rect(x0 + c * cell, y + side - (r + 1) * cell, cell, cell, 0, 1)
            y -= 2 * mm
        elif isinstance(item, Logo):
            try:
                reader = ImageReader(_flat_logo(item.path))
                w, h = reader.getSize()
            except OSError as exc:  # a broken logo must not cost the citizen the ticket
                log.warning("ticket logo %s left out: %s", item.path, exc)
                continue
            scale = min(inner / w, 15 * mm / h)
            y -= h * scale
            if pdf:
                pdf.drawImage(reader, (PAGE_WIDTH - w * scale) / 2, y, w * scale, h * scale)
            y -= 2 * mm
    return y


def _flat_logo(path: str) -> Image.Image:
    """The logo on white: transparent areas would otherwise print black."""
    with Image.open(path) as source:
        rgba = source.convert("RGBA")
    flat = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    flat.alpha_composite(rgba)
    return flat.convert("RGB")


def _text(pdf: Canvas, line: str, size: float, y: float, *, bold: bool) -> None:
    pdf.saveState()
    text = pdf.beginText()
    text.setFont(FONT, size)
    if bold:
        # The variable font's default instance is Regular; fill and stroke for a bold look.
        text.setTextRenderMode(2)
        pdf.setLineWidth(size / 30)
    width = pdfmetrics.stringWidth(line, FONT, size)
    text.setTextOrigin((PAGE_WIDTH - width) / 2, y)
    text.textLine(line)
    pdf.drawText(text)
    pdf.restoreState()


def render_pdf(ticket: TicketPrint) -> bytes:
    """A one-page PDF, 80 mm wide and as tall as the ticket."""
    _register_font()
    items = compose(ticket)
    height = -_draw(None, items, 0) + 2 * MARGIN
    buffer = io.BytesIO()
    pdf = Canvas(buffer, pagesize=(PAGE_WIDTH, height), pageCompression=1)
    pdf.setTitle(f"Ticket {ticket.label}")
    pdf.setCreator("Taboor")
    _draw(pdf, items, height - MARGIN)
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def write_pdf(ticket: TicketPrint, path: str | os.PathLike[str]) -> None:
    """Write the PDF ticket to a file."""
    with open(path, "wb") as fh:
        fh.write(render_pdf(ticket))
