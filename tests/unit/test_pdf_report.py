"""The PDF report: Arabic wrapped in logical order then reordered per line, one font, tables."""

from __future__ import annotations

import io
import unicodedata
from datetime import UTC, date, datetime, timedelta

import pytest
from pypdf import PdfReader

from taboor.printers.arabic import LRI, PDI, ltr_isolate, mirror_brackets, visual_line, words
from taboor.server.domain.counters import CounterState
from taboor.server.domain.stats import (
    CounterInterval,
    Scope,
    TicketFacts,
    build_report,
)
from taboor.server.domain.tickets import TicketState
from taboor.server.manage.pdf import (
    LABELS,
    ReportNames,
    duration_text,
    missing_glyphs,
    percent_text,
    render_report,
    text_width,
    visual_lines,
    wrap_logical,
)

T0 = datetime(2026, 3, 1, 6, 0, tzinfo=UTC)  # 09:00 in Damascus
NAMES = ReportNames(
    "مركز خدمة المواطن - الميدان",
    "Citizen Service Center - Midan",
    {
        "civil-extract-individual": ("إخراج قيد فردي", "Individual civil-registry extract"),
        "civil-family-statement": ("بيان عائلي", "Family statement"),
    },
)
PARAGRAPH = LABELS["notes"][1]


def at(seconds: int) -> datetime:
    return T0 + timedelta(seconds=seconds)


@pytest.fixture(scope="module")
def report() -> dict:
    """Four tickets at counter 1: waits 120, 400, 100 s; one served in 300 s."""
    facts = [
        TicketFacts(1, "civil-extract-individual", at(0), TicketState.DONE, counter="1",
                    clerk="clerk01", first_called_at=at(120), started_at=at(150),
                    finished_at=at(450), service_min_s=60),
        TicketFacts(2, "civil-extract-individual", at(60), TicketState.NO_SHOW, counter="1",
                    clerk="clerk01", first_called_at=at(460), finished_at=at(600)),
        TicketFacts(3, "civil-extract-individual", at(700), TicketState.CANCELLED,
                    finished_at=at(800)),
        TicketFacts(4, "civil-family-statement", at(900), TicketState.DONE, counter="1",
                    clerk="clerk01", first_called_at=at(1000), started_at=at(1010),
                    finished_at=at(1020), service_min_s=60),
    ]  # fmt: skip
    intervals = [CounterInterval("1", CounterState.OPEN, at(0), at(1200))]
    scope = Scope(from_day=date(2026, 3, 1), to_day=date(2026, 3, 1))
    sla = {"civil-extract-individual": 20, "civil-family-statement": 20}
    return {"center": "DAM-MIDAN", **build_report(facts, intervals, sla, scope).to_dict()}


def pdf_text(pdf: bytes) -> str:
    """The PDF's text as pypdf extracts it, presentation forms folded back to letters."""
    pages = PdfReader(io.BytesIO(pdf)).pages
    return unicodedata.normalize("NFKC", "\n".join(page.extract_text() for page in pages))


# --- wrapping: logical lines first, then each line reordered on its own -----------------


def test_a_long_arabic_paragraph_wraps_into_lines_in_logical_order():
    lines = wrap_logical(PARAGRAPH, 9, 220, rtl=True)
    assert len(lines) >= 4
    assert " ".join(lines).split() == words(PARAGRAPH)  # nothing lost, nothing moved
    assert all(text_width(line, 9, rtl=True) <= 220 for line in lines)
    assert lines[0].startswith("يُحسب الانتظار")
    assert lines[-1].endswith("يوم العمل المحلي للمركز.")


def test_each_wrapped_line_is_shaped_and_reordered_on_its_own():
    lines = wrap_logical(PARAGRAPH, 9, 220, rtl=True)
    drawn = visual_lines(PARAGRAPH, 9, 220, rtl=True)
    assert drawn == [visual_line(line, rtl=True) for line in lines]
    first_word, last_word = words(PARAGRAPH)[0], words(PARAGRAPH)[-1]
    # The first drawn line holds the paragraph's opening, at its right end (drawn last)...
    assert drawn[0].endswith(visual_line(first_word, rtl=True))
    assert visual_line(last_word, rtl=True) not in drawn[0]
    # ...which reordering the whole paragraph before cutting it would get wrong.
    whole = visual_line(PARAGRAPH, rtl=True)
    assert not whole.startswith(drawn[0])


def test_a_date_in_an_isolate_is_never_cut_and_keeps_its_digit_order():
    text = "تقرير الفترة من " + ltr_isolate("2026-03-01") + " إلى " + ltr_isolate("2026-03-31")
    for width in range(40, 260, 7):
        lines = wrap_logical(text, 10, width, rtl=True)
        assert sum(line.count(LRI) for line in lines) == 2
        assert all(line.count(LRI) == line.count(PDI) for line in lines)
    assert "2026-03-01" in visual_line(text, rtl=True)


def test_a_word_wider_than_the_line_is_cut_into_pieces_that_fit():
    lines = wrap_logical("clerk_with_a_very_long_username_0123456789", 9, 40, rtl=False)
    assert len(lines) > 1 and "".join(lines) == "clerk_with_a_very_long_username_0123456789"
    assert all(text_width(line, 9, rtl=False) <= 40 for line in lines)


def test_paragraph_breaks_are_kept():
    assert wrap_logical("سطر أول\nسطر ثان", 10, 500, rtl=True) == ["سطر أول", "سطر ثان"]


def test_brackets_in_arabic_are_mirrored_so_they_enclose_their_words():
    drawn = visual_line("خدمة (مستبعدة)", rtl=True)
    # Left to right on the page: "(" then the word, ")" then the first word.
    assert drawn[0] == "(" and drawn.index(")") < drawn.index(" ")
    assert mirror_brackets(f"أ ({LRI}(x){PDI})") == f"أ ){LRI}(x){PDI}("


def test_latin_text_is_not_reordered():
    assert (
        visual_line("Citizen Service Center (Midan)", rtl=True) == "Citizen Service Center (Midan)"
    )


# --- numbers ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (None, "–"),
        (0, "0:00"),
        (206.7, "3:27"),
        (400, "6:40"),
        (3599.6, "1:00:00"),
        (3725, "1:02:05"),
    ],  # fmt: skip
)
def test_durations_are_minutes_and_seconds(seconds, text):
    assert duration_text(seconds) == text


def test_percentages_in_western_or_eastern_digits():
    assert percent_text(0.9523) == "95.2%"
    assert percent_text(0.9523, arabic=True) == "٩٥٫٢٪"
    assert percent_text(None) == "–"


# --- the font -------------------------------------------------------------------------------


def test_every_label_and_digit_is_drawable_in_the_report_font():
    for en, ar in LABELS.values():
        assert missing_glyphs(en) == set(), en
        assert missing_glyphs(visual_line(ar, rtl=True)) == set(), ar
    assert missing_glyphs("0123456789٠١٢٣٤٥٦٧٨٩%٪٫:–…()") == set()
    assert missing_glyphs(visual_line("إخراج قيد فردي لا", rtl=True)) == set()


def test_the_font_check_finds_a_missing_glyph():
    assert missing_glyphs("→") == {"→"}


# --- the report ----------------------------------------------------------------------------


def test_arabic_report_is_a_pdf_whose_text_extracts_in_logical_order(report):
    pdf = render_report(report, NAMES, "ar", generated_at=at(3600))
    assert pdf.startswith(b"%PDF")
    text = pdf_text(pdf)
    for phrase in ("تقرير أوقات الانتظار والخدمة", "مركز خدمة المواطن - الميدان",
                   "إخراج قيد فردي", "حسب الخدمة", "حسب الشباك", "حسب الموظف"):  # fmt: skip
        assert phrase in text, phrase
    assert "clerk01" in text and "3:27" in text  # the clerk and the mean wait


def drawn_strings(pdf: bytes, page: int = 0) -> list[str]:
    """Each string as the page draws it, glyph by glyph from left to right (no bidi).

    Decoded through each subset font's ToUnicode map, so Arabic comes out as the
    presentation forms that were placed on the page, in placement order.
    """
    import re

    from pypdf.generic import ContentStream

    reader = PdfReader(io.BytesIO(pdf))
    sheet = reader.pages[page]
    maps: dict[str, dict[int, str]] = {}
    for name, ref in sheet["/Resources"]["/Font"].items():
        font = ref.get_object()
        if "/ToUnicode" not in font:
            continue
        cmap = font["/ToUnicode"].get_object().get_data().decode()
        pairs = re.findall(r"<([0-9A-F]{2})> <([0-9A-F]{4})>", cmap)
        maps[name] = {int(code, 16): chr(int(uni, 16)) for code, uni in pairs}
    drawn, font = [], None
    for operands, operator in ContentStream(sheet.get_contents(), reader).operations:
        if operator == b"Tf":
            font = operands[0]
        elif operator == b"Tj" and font in maps:
            raw = operands[0].original_bytes
            drawn.append("".join(maps[font].get(b, "?") for b in raw))
    return drawn


# Reading glyphs right to left, a bracket drawn mirrored reads as its logical self.
UNMIRROR = str.maketrans("()[]«»", ")(][»«")


def read_right_to_left(drawn: str) -> str:
    return unicodedata.normalize("NFKC", drawn[::-1]).translate(UNMIRROR)


def test_arabic_glyphs_are_placed_right_to_left_in_logical_order_per_line(report):
    pdf = render_report(report, NAMES, "ar", generated_at=at(3600))
    drawn = drawn_strings(pdf)
    title = LABELS["title"][1]
    # Read right to left, the placed glyphs give the title back, word for word.
    as_read = [read_right_to_left(d) for d in drawn]
    assert title in as_read
    assert "مركز خدمة المواطن - الميدان" in as_read
    # The leftmost glyphs of the title line are its last word.
    line = drawn[as_read.index(title)]
    assert read_right_to_left(line.split(" ")[0]) == "والخدمة"


def test_the_arabic_notes_paragraph_is_drawn_line_by_line_in_reading_order(report):
    pdf = render_report(report, NAMES, "ar", generated_at=at(3600))
    pages = len(PdfReader(io.BytesIO(pdf)).pages)
    drawn = [d for page in range(pages) for d in drawn_strings(pdf, page)]
    as_read = [read_right_to_left(d) for d in drawn]
    start = next(i for i, t in enumerate(as_read) if t.startswith("يحسب الانتظار"))
    lines = []
    for text in as_read[start:]:
        lines.append(text)
        if text.endswith("للمركز."):
            break
    assert len(lines) >= 2
    folded = unicodedata.normalize("NFKC", PARAGRAPH).replace("\u064f", "").replace("\u0651", "")
    assert " ".join(lines).replace("\u064f", "").replace("\u0651", "") == folded


def test_english_report_has_its_words_and_figures(report):
    text = pdf_text(render_report(report, NAMES, "en", generated_at=at(3600)))
    assert "Citizen Service Center - Midan" in text
    assert "From 2026-03-01 to 2026-03-01" in text
    assert "Individual civil-registry extract" in text
    assert "Wait (issue to first call)" in text and "3:27" in text and "6:40" in text


def test_eastern_digits_when_asked_drawn_left_to_right(report):
    # pypdf's extraction turns runs of Eastern digits around; the placed glyphs do not.
    drawn = " ".join(drawn_strings(render_report(report, NAMES, "ar", generated_at=at(3600),
                                                 eastern=True)))  # fmt: skip
    assert "٣:٢٧" in drawn and "٢٠٢٦-٠٣-٠١" in drawn and "2026" not in drawn


def test_a_range_without_tickets_says_so():
    empty = build_report([], [], {}, Scope(from_day=date(2026, 3, 1), to_day=date(2026, 3, 1)))
    text = pdf_text(render_report(empty.to_dict(), NAMES, "en", generated_at=T0))
    assert "No tickets in this range." in text


def test_many_services_flow_onto_more_pages():
    facts = [
        TicketFacts(i, f"service-{i:02d}", at(i * 60), TicketState.DONE, counter="1",
                    clerk="clerk01", first_called_at=at(i * 60 + 30), started_at=at(i * 60 + 40),
                    finished_at=at(i * 60 + 200))
        for i in range(1, 61)
    ]  # fmt: skip
    sla = {f"service-{i:02d}": 20 for i in range(1, 61)}
    rep = build_report(facts, [], sla, Scope(from_day=date(2026, 3, 1), to_day=date(2026, 3, 1)))
    pdf = render_report(rep.to_dict(), NAMES, "ar", generated_at=T0)
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) >= 3
    assert "service-60" in pdf_text(pdf)


def test_an_unknown_language_is_refused(report):
    with pytest.raises(ValueError, match="lang"):
        render_report(report, NAMES, "fr")
