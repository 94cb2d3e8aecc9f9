"""Ticket layout: exact width, nothing clipped, Arabic shaped and ordered, digits, QR."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageDraw

from taboor.printers.arabic import (
    EASTERN_DIGITS,
    LRM,
    WESTERN_DIGITS,
    eastern_digits,
    ltr_isolate,
    visual_line,
    words,
)
from taboor.printers.fonts import BASIC, RAQM, font_path, raqm_available
from taboor.printers.layout import (
    WIDTH_58MM,
    WIDTH_80MM,
    Face,
    Label,
    Text,
    TicketPrint,
    _Geometry,
    _geometry,
    render_items,
    render_ticket,
    status_url,
    ticket_texts,
    wrap,
)

from .conftest import ENGINES, ink_bbox

WIDTHS = [WIDTH_80MM, WIDTH_58MM]
LONG_AR = (
    "تصديق وثيقة صادرة عن دائرة الأحوال المدنية مع ترجمة محلفة إلى اللغة الإنكليزية "
    "وإرسالها إلى وزارة الخارجية والمغتربين"
)
LONG_EN = (
    "Certification of a civil-registry document with a sworn English translation, "
    "forwarded to the Ministry of Foreign Affairs and Expatriates"
)


def same_pixels(a: Image.Image, b: Image.Image) -> bool:
    return a.size == b.size and a.tobytes() == b.tobytes()


def ink_difference(a: Image.Image, b: Image.Image) -> float:
    """Share of dots that differ between two drawings, each cropped to its ink (1.0: unlike)."""
    a, b = a.crop(ink_bbox(a)), b.crop(ink_bbox(b))
    if a.size != b.size:
        return 1.0
    differing = ImageChops.logical_xor(a, b).histogram()[255]
    return differing / (a.width * a.height)


def test_font_comes_from_the_installed_package() -> None:
    path = font_path()
    assert path.is_file() and path.suffix == ".ttf"
    assert "site-packages" in path.parts or "dist-packages" in path.parts


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("width", WIDTHS)
def test_ticket_is_exactly_the_printable_width(any_lang_ticket, width, engine) -> None:
    image = render_ticket(any_lang_ticket, width, engine=engine)
    assert image.mode == "1"
    assert image.width == width
    assert 500 < image.height < 1400


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("width", WIDTHS)
def test_long_names_wrap_instead_of_running_off_the_paper(ticket, width, engine) -> None:
    long = replace(
        ticket, center_ar=LONG_AR, center_en=LONG_EN, service_ar=LONG_AR, service_en=LONG_EN
    )
    for lang in ("ar", "en"):
        normal = render_ticket(replace(ticket, lang=lang), width, engine=engine)
        image = render_ticket(replace(long, lang=lang), width, engine=engine)
        assert image.width == width
        assert image.height > normal.height + 100  # the long names took several lines
        margin = _geometry(width).margin
        left, _, right, _ = ink_bbox(image)
        # No ink in the side margins: every line was wrapped before it reached the edge.
        assert left >= margin - 2 and right <= width - margin + 2


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("width", WIDTHS)
def test_every_wrapped_line_fits_the_inner_width(width, engine) -> None:
    geo: _Geometry = _geometry(width)
    face = Face(geo.size("service"), 700, engine)
    for text, rtl in ((LONG_AR, True), (LONG_EN, False), ("x" * 300, False)):
        lines = wrap(text, rtl, face, geo.inner)
        assert len(lines) > 1
        assert all(face.width(line, rtl) <= geo.inner for line in lines)
        assert "".join(lines).replace(" ", "") == text.replace(" ", "")


@pytest.mark.parametrize("engine", ENGINES)
def test_a_label_too_long_for_the_paper_shrinks_to_fit(engine) -> None:
    image = render_items([Label("APPOINTMENT-12345")], WIDTH_58MM, engine=engine)
    left, _, right, _ = ink_bbox(image)
    assert image.width == WIDTH_58MM
    assert left >= _geometry(WIDTH_58MM).margin - 2
    assert right <= WIDTH_58MM - _geometry(WIDTH_58MM).margin + 2


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("width", WIDTHS)
def test_label_prints_several_times_taller_than_body_text(width, engine) -> None:
    label = ink_bbox(render_items([Label("A-042")], width, engine=engine))
    body = ink_bbox(render_items([Text("A-042", "info", False)], width, engine=engine))
    label_height = label[3] - label[1]
    assert label_height >= 3 * (body[3] - body[1])
    assert label_height >= width // 5  # over 13 mm on 80 mm paper, over 9 mm on 58 mm


@pytest.mark.parametrize("engine", ENGINES)
def test_arabic_letters_are_joined_not_isolated(engine) -> None:
    def draw(text: str) -> Image.Image:
        return render_items([Text(text, "info", True)], WIDTH_80MM, engine=engine)

    shaped = draw("خدمة")
    isolated = draw("\ufea5\ufea9\ufee1\ufe93")  # the same letters in their isolated forms
    joined = draw("\ufea7\ufeaa\ufee3\ufe94")  # and in the forms a correct shaper picks
    # raqm positions glyphs to the subpixel, so allow a few dots of difference there.
    assert ink_difference(shaped, joined) < 0.05
    assert ink_difference(shaped, isolated) > 0.2
    if engine == BASIC:
        assert same_pixels(shaped, joined)


@pytest.mark.parametrize("engine", ENGINES)
def test_arabic_is_drawn_right_to_left(engine) -> None:
    # "بـ" then "ا": read right to left, the tall alef must be on the left.
    def draw(text: str) -> Image.Image:
        return render_items([Text(text, "info", True)], WIDTH_80MM, engine=engine)

    image = draw("با")
    left, top, right, bottom = ink_bbox(image)
    left_half = image.crop((left, top, (left + right) // 2, bottom))
    right_half = image.crop(((left + right) // 2, top, right, bottom))
    assert ink_bbox(left_half)[1] < ink_bbox(right_half)[1]  # the alef reaches higher


def test_fallback_reorders_each_wrapped_line_on_its_own() -> None:
    lines = wrap(LONG_AR, True, Face(36, 700, BASIC), 368)
    assert lines[0].startswith("تصديق")  # wrapping happened in logical order
    first_visual = visual_line(lines[0], rtl=True)
    # The first word of the sentence is at the right end of the first printed line.
    assert first_visual.endswith(visual_line("تصديق", rtl=True))


@pytest.mark.parametrize("date", ["2026-03-01 09:00", eastern_digits("2026-03-01 09:00")])
def test_isolated_date_keeps_its_order_inside_an_arabic_line_without_raqm(date) -> None:
    shown = visual_line("وقت الإصدار: " + ltr_isolate(date), rtl=True)
    assert date in shown
    assert date not in visual_line("وقت الإصدار: " + date, rtl=True)  # what the isolate prevents


@pytest.mark.skipif(not raqm_available(), reason="no libraqm")
@pytest.mark.parametrize("date", ["2026-03-01 09:00", eastern_digits("2026-03-01 09:00")])
def test_isolated_date_keeps_its_order_inside_an_arabic_line_with_raqm(date) -> None:
    def draw(text: str, rtl: bool) -> Image.Image:
        return render_items([Text(text, "info", rtl)], WIDTH_80MM, engine=RAQM)

    # Every character pinned left to right: the order a reader expects.
    expected = draw("".join(ch + LRM for ch in date), False)
    assert same_pixels(draw(ltr_isolate(date), True), expected)
    assert not same_pixels(draw(date, True), expected)


def test_a_date_with_its_time_is_never_split_across_lines() -> None:
    line = "وقت الإصدار: " + ltr_isolate("2026-03-01 09:00")
    assert words(line)[-1] == ltr_isolate("2026-03-01 09:00")


def test_numbers_in_arabic_lines_are_wrapped_in_ltr_isolates(ticket) -> None:
    texts = ticket_texts(ticket)
    assert "عدد المنتظرين قبلك: \u20667\u2069" in texts
    assert "الانتظار المتوقع: \u206612\u2069 دقيقة" in texts
    assert "وقت الإصدار: \u20662026-03-01 09:00\u2069" in texts


def test_eastern_digits_replace_western_digits_in_arabic_lines(ticket) -> None:
    texts = ticket_texts(replace(ticket, eastern_digits=True))
    arabic_lines = [t for t in texts if any("\u0600" <= ch <= "\u06ff" for ch in t)]
    joined = "".join(arabic_lines)
    assert "٧" in joined and "١٢" in joined and "٢٠٢٦" in joined
    assert not any(d in joined for d in WESTERN_DIGITS)
    assert "A-042" in texts  # the label stays as the display boards call it


def test_western_digits_by_default(ticket) -> None:
    assert not any(d in "".join(ticket_texts(ticket)) for d in EASTERN_DIGITS)


@pytest.mark.parametrize("engine", ENGINES)
def test_eastern_digits_change_the_printed_ticket(ticket, engine) -> None:
    western = render_ticket(ticket, WIDTH_80MM, engine=engine)
    eastern = render_ticket(replace(ticket, eastern_digits=True), WIDTH_80MM, engine=engine)
    assert not same_pixels(western, eastern)


@pytest.mark.parametrize(
    ("minutes", "text"),
    [
        (0, "أقل من دقيقة"),
        (1, "دقيقة واحدة"),
        (2, "دقيقتان"),
        (5, "\u20665\u2069 دقائق"),
        (12, "\u206612\u2069 دقيقة"),
        (105, "\u2066105\u2069 دقائق"),
    ],
)
def test_arabic_wait_counts_minutes_grammatically(ticket, minutes, text) -> None:
    texts = ticket_texts(replace(ticket, wait_minutes=minutes))
    assert "الانتظار المتوقع: " + text in texts


def test_english_ticket_speaks_english(ticket) -> None:
    texts = ticket_texts(replace(ticket, lang="en", ahead=1, wait_minutes=1))
    assert "Citizen Service Center - Al-Midan" in texts
    assert "1 person ahead of you" in texts
    assert "Estimated wait: 1 minute" in texts
    assert "Issued: 2026-03-01 09:00" in texts
    assert texts.index("Individual civil-registry extract") < texts.index("إخراج قيد فردي")


def test_nobody_ahead_says_you_are_next(ticket) -> None:
    assert "أنت التالي" in ticket_texts(replace(ticket, ahead=0))
    assert "You are next" in ticket_texts(replace(ticket, ahead=0, lang="en"))


def test_status_url_points_at_the_public_ticket_page() -> None:
    assert status_url("http://10.0.0.2:8000/", "Vq3k_Z-9") == "http://10.0.0.2:8000/t/Vq3k_Z-9"


@pytest.mark.parametrize("width", WIDTHS)
def test_qr_code_on_the_ticket_scans_to_the_status_url(any_lang_ticket, width) -> None:
    zxingcpp = pytest.importorskip("zxingcpp")
    image = render_ticket(any_lang_ticket, width)
    results = zxingcpp.read_barcodes(image.convert("L"))
    assert [r.text for r in results] == [any_lang_ticket.status_url]


@pytest.mark.parametrize("width", WIDTHS)
def test_a_wide_logo_is_scaled_into_the_width(ticket, tmp_path: Path, width) -> None:
    logo = Image.new("RGBA", (2000, 400), (0, 0, 0, 0))
    ImageDraw.Draw(logo).ellipse((0, 0, 1999, 399), fill=(20, 60, 20, 255))
    logo.save(tmp_path / "logo.png")
    without = render_ticket(ticket, width)
    image = render_ticket(replace(ticket, logo_path=tmp_path / "logo.png"), width)
    assert image.width == width
    assert image.height > without.height
    left, top, right, _ = ink_bbox(image)
    assert left >= _geometry(width).margin - 2 and right <= width - _geometry(width).margin + 2


@pytest.mark.parametrize("content", [None, b"not an image"])
def test_a_missing_or_broken_logo_is_left_out(ticket, tmp_path: Path, content, caplog) -> None:
    logo = tmp_path / "logo.png"
    if content is not None:
        logo.write_bytes(content)
    image = render_ticket(replace(ticket, logo_path=logo), WIDTH_80MM)
    assert same_pixels(image, render_ticket(ticket, WIDTH_80MM))
    assert "logo" in caplog.text


def test_ticket_data_is_checked() -> None:
    with pytest.raises(ValueError, match="lang"):
        TicketPrint(
            "م", "C", "A-1", "خ", "S", 0, 0, datetime(2026, 3, 1, 9, 0), "http://x/t/1", lang="fr"
        )
    with pytest.raises(ValueError, match="negative"):
        TicketPrint("م", "C", "A-1", "خ", "S", -1, 0, datetime(2026, 3, 1, 9, 0), "http://x/t/1")


@pytest.mark.parametrize("width", [0, 300, 577])
def test_width_must_be_whole_bytes(ticket, width) -> None:
    with pytest.raises(ValueError, match="width"):
        render_ticket(ticket, width)


def test_brackets_in_an_arabic_line_face_the_right_way_without_raqm():
    # Visual order runs left to right: the logical closing bracket is drawn leftmost,
    # and must be drawn as "(" to close the parenthesis read from the right.
    from taboor.printers.arabic import visual_line

    assert visual_line("أ (ب)", rtl=True) == "(ﺏ) ﺃ"


def test_a_line_without_arabic_is_drawn_as_written_on_an_arabic_ticket():
    # Reordering it with a right-to-left base direction moved its brackets and its
    # leading sign to the other end ("(Citizen Service Center )Midan").
    for line in ("Citizen Service Center (Midan)", "~ 15 min", "A-042"):
        assert visual_line(line, rtl=True) == line
