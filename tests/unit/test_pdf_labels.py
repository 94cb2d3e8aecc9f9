"""The PDF report's labels come from the dashboard's Babel catalog, not a table of their own."""

from __future__ import annotations

import pytest

from taboor.server import i18n
from taboor.server.manage.pdf import LABELS, TEXTS, ReportNames, label

CATALOG = i18n.load(i18n.po_path("taboor.server.manage", "ar"), "ar")


@pytest.mark.parametrize("key", sorted(TEXTS))
def test_a_report_label_reads_in_arabic_what_the_catalog_says(key):
    message = CATALOG.get(TEXTS[key])
    assert message is not None and message.string, TEXTS[key]
    assert label(key, "ar") == message.string != TEXTS[key]


def test_an_english_label_is_its_message_id():
    assert all(label(key, "en") == text for key, text in TEXTS.items())
    assert LABELS["title"] == ("Waiting and service time report", "تقرير أوقات الانتظار والخدمة")


def test_a_report_of_every_center_is_named_in_both_languages_from_the_catalog():
    names = ReportNames.all_centers({}, {})
    arabic = CATALOG["All centers"].string
    assert (names.center("en"), names.center("ar")) == ("All centers", arabic)
