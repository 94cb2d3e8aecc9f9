"""A sample ticket with the demo center's data, for previews, benchmarks and tests."""

from __future__ import annotations

from datetime import datetime

from taboor.printers.layout import TicketPrint, status_url

SAMPLE_TICKET = TicketPrint(
    center_ar="مركز خدمة المواطن - الميدان",
    center_en="Citizen Service Center - Al-Midan",
    label="A-042",
    service_ar="إخراج قيد فردي",
    service_en="Individual civil-registry extract",
    ahead=7,
    wait_minutes=12,
    issued_local=datetime(2026, 3, 1, 9, 0),
    status_url=status_url("http://192.168.1.10:8000", "Vq3kZP9xLrT2wYbN"),
)
