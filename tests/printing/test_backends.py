"""Printer backends: spec strings, files, a fake network printer on loopback, faults."""

from __future__ import annotations

import importlib.util
import os
import threading
import tty
import unicodedata
from dataclasses import replace
from pathlib import Path

import pytest
from PIL import Image

from taboor.printers.backends import (
    FilePrinter,
    NetworkPrinter,
    NullPrinter,
    PdfPrinter,
    Printer,
    PrinterError,
    SerialPrinter,
    UsbPrinter,
    paper_state,
    printer_from_spec,
)
from taboor.printers.escpos_raster import PAPER_STATUS, decode_raster, encode_ticket
from taboor.printers.layout import WIDTH_58MM, WIDTH_80MM, render_ticket

PAPER_OK = b"\x12"
PAPER_NEAR_END = b"\x1e"
PAPER_END = b"\x72"


@pytest.fixture
def image(ticket) -> Image.Image:
    return render_ticket(ticket, WIDTH_58MM)


# --- choosing a backend -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "kind", "attributes"),
    [
        ("none", NullPrinter, {}),
        ("file:/var/taboor/tickets", FilePrinter, {"folder": Path("/var/taboor/tickets")}),
        ("pdf:out", PdfPrinter, {"folder": Path("out")}),
        ("network:10.0.0.7", NetworkPrinter, {"host": "10.0.0.7", "port": 9100}),
        ("network:printer.local:9101", NetworkPrinter, {"host": "printer.local", "port": 9101}),
        ("network:[fe80::1]:9100", NetworkPrinter, {"host": "fe80::1", "port": 9100}),
        ("network:[fe80::1]", NetworkPrinter, {"host": "fe80::1", "port": 9100}),
        ("usb:04b8:0202", UsbPrinter, {"vendor": 0x04B8, "product": 0x0202}),
        ("usb:0x0416:0x5011", UsbPrinter, {"vendor": 0x0416, "product": 0x5011}),
        ("serial:/dev/ttyUSB0", SerialPrinter, {"device": "/dev/ttyUSB0", "baudrate": 9600}),
        ("serial:/dev/ttyS0:19200", SerialPrinter, {"device": "/dev/ttyS0", "baudrate": 19200}),
        ("serial:COM3", SerialPrinter, {"device": "COM3", "baudrate": 9600}),
    ],
)
def test_spec_string_chooses_the_backend(spec, kind, attributes) -> None:
    printer = printer_from_spec(spec)
    assert type(printer) is kind
    assert isinstance(printer, Printer)
    for name, value in attributes.items():
        assert getattr(printer, name) == value


def test_network_timeouts_are_seconds_not_a_minute() -> None:
    printer = printer_from_spec("network:10.0.0.7")
    assert printer.connect_timeout <= 5 and printer.write_timeout <= 10
    assert printer.status_timeout <= 1


@pytest.mark.parametrize(
    "spec",
    [
        "",
        "bogus",
        "lpt:1",
        "none:x",
        "file:",
        "pdf:",
        "network:",
        "network:host:abc",
        "network:host:70000",
        "network:[::1]x",
        "usb:04b8",
        "usb:zz:0202",
        "serial:",
    ],
)
def test_bad_spec_is_a_clear_value_error(spec) -> None:
    with pytest.raises(ValueError, match="bad printer spec"):
        printer_from_spec(spec)


# --- none, file, pdf ------------------------------------------------------------------------


def test_none_accepts_every_ticket(image) -> None:
    printer = printer_from_spec("none")
    printer.print_ticket(image, "A-042")
    assert printer.status() == "ok"


def test_file_backend_writes_the_escpos_bytes_and_a_png_preview(tmp_path, image) -> None:
    printer = printer_from_spec(f"file:{tmp_path / 'tickets'}")
    printer.print_ticket(image, "A-042")
    data = (tmp_path / "tickets" / "A-042.escpos").read_bytes()
    assert data == encode_ticket(image)
    with Image.open(tmp_path / "tickets" / "A-042.png") as preview:
        assert preview.size == image.size
        assert preview.convert("1").tobytes() == image.tobytes()
    assert printer.status() == "ok"


def test_file_backend_keeps_every_ticket_when_a_label_repeats(tmp_path, image) -> None:
    printer = FilePrinter(tmp_path)
    for _ in range(3):
        printer.print_ticket(image, "A-042")
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == [
        "A-042.escpos", "A-042.png", "A-042_2.escpos", "A-042_2.png",
        "A-042_3.escpos", "A-042_3.png",
    ]  # fmt: skip


def test_file_name_from_a_label_stays_inside_the_folder(tmp_path, image) -> None:
    FilePrinter(tmp_path / "t").print_ticket(image, "../../etc/passwd")
    assert [p.parent for p in tmp_path.rglob("*.escpos")] == [tmp_path / "t"]


def test_file_backend_that_cannot_write_raises_printer_error(tmp_path, image) -> None:
    (tmp_path / "not-a-folder").write_text("")
    with pytest.raises(PrinterError) as caught:
        FilePrinter(tmp_path / "not-a-folder").print_ticket(image, "A-042")
    assert caught.value.code == "io_error"


def test_pdf_backend_writes_a_pdf_with_shaped_extractable_text(tmp_path, ticket, image) -> None:
    PdfPrinter(tmp_path).print_ticket(image, "A-042", ticket)
    data = (tmp_path / "A-042.pdf").read_bytes()
    assert data.startswith(b"%PDF")
    pypdf = pytest.importorskip("pypdf")
    text = pypdf.PdfReader(tmp_path / "A-042.pdf").pages[0].extract_text()
    assert "A-042" in text
    assert "Individual civil-registry extract" in text
    # Shaped Arabic is presentation forms; NFKC maps them back to the letters.
    assert "\ufed3" in text  # FEH INITIAL FORM: "فردي" was shaped
    plain = unicodedata.normalize("NFKC", text)
    assert "فردي" in plain or "فردي"[::-1] in plain


def test_pdf_ticket_leaves_out_a_broken_logo(tmp_path, ticket, image) -> None:
    (tmp_path / "logo.png").write_bytes(b"not an image")
    PdfPrinter(tmp_path).print_ticket(
        image, "A-042", replace(ticket, logo_path=tmp_path / "logo.png")
    )
    assert (tmp_path / "A-042.pdf").read_bytes().startswith(b"%PDF")


def test_pdf_backend_without_ticket_data_prints_the_image(tmp_path, image) -> None:
    PdfPrinter(tmp_path).print_ticket(image, "A-042")
    assert (tmp_path / "A-042.pdf").read_bytes().startswith(b"%PDF")


# --- network ------------------------------------------------------------------------------


def test_network_printer_receives_exactly_the_ticket_bytes(fake_printer_factory, image) -> None:
    fake = fake_printer_factory(paper_reply=PAPER_OK)
    NetworkPrinter("127.0.0.1", fake.port).print_ticket(image, "A-042")
    assert fake.wait_finished()
    assert bytes(fake.received) == PAPER_STATUS + encode_ticket(image)
    [printed] = decode_raster(bytes(fake.received))
    assert printed.tobytes() == image.tobytes()


def test_printer_that_does_not_answer_status_still_gets_the_ticket(
    fake_printer_factory, image
) -> None:
    fake = fake_printer_factory(paper_reply=None)
    NetworkPrinter("127.0.0.1", fake.port, status_timeout=0.1).print_ticket(image, "A-042")
    assert fake.wait_finished()
    assert bytes(fake.received) == PAPER_STATUS + encode_ticket(image)


def test_printer_without_paper_is_not_sent_the_ticket(fake_printer_factory, image) -> None:
    fake = fake_printer_factory(paper_reply=PAPER_END)
    with pytest.raises(PrinterError) as caught:
        NetworkPrinter("127.0.0.1", fake.port).print_ticket(image, "A-042")
    assert caught.value.code == "paper_out"
    assert fake.wait_finished()
    assert bytes(fake.received) == PAPER_STATUS


@pytest.mark.parametrize(
    ("reply", "state"),
    [(PAPER_OK, "ok"), (PAPER_NEAR_END, "paper_low"), (PAPER_END, "paper_out"), (None, "unknown")],
)
def test_network_status_reads_the_paper_sensor(fake_printer_factory, reply, state) -> None:
    fake = fake_printer_factory(paper_reply=reply)
    assert NetworkPrinter("127.0.0.1", fake.port, status_timeout=0.1).status() == state


def test_closed_port_raises_printer_error_offline(closed_port, image) -> None:
    printer = NetworkPrinter("127.0.0.1", closed_port, connect_timeout=1)
    with pytest.raises(PrinterError) as caught:
        printer.print_ticket(image, "A-042")
    assert caught.value.code == "offline"
    assert printer.status() == "offline"


def test_printer_that_accepts_but_never_reads_times_out(fake_printer_factory) -> None:
    fake = fake_printer_factory(reads=False)
    printer = NetworkPrinter("127.0.0.1", fake.port, write_timeout=0.3, status_timeout=0.1)
    # More than the kernel buffers on both ends of a loopback connection can hold.
    with pytest.raises(PrinterError) as caught:
        printer.send(bytes(64 * 1024 * 1024))
    assert caught.value.code == "timeout"


def test_one_printer_prints_concurrent_tickets_one_after_the_other(fake_printer_factory) -> None:
    fake = fake_printer_factory(paper_reply=PAPER_OK)
    printer = NetworkPrinter("127.0.0.1", fake.port)
    images = [Image.new("1", (WIDTH_80MM, 50 + i), 1) for i in range(4)]
    threads = [threading.Thread(target=printer.print_ticket, args=(im, "x")) for im in images]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert fake.wait_finished(4)
    printed = decode_raster(bytes(fake.received))
    assert sorted(p.height for p in printed) == [50, 51, 52, 53]


@pytest.mark.parametrize(
    ("reply", "state"),
    [
        (0x12, "ok"),
        (0x16, "paper_low"),
        (0x1E, "paper_low"),
        (0x72, "paper_out"),
        (0x7E, "paper_out"),
        (0x00, "unknown"),
        (0xFF, "unknown"),
        (0x13, "unknown"),
    ],
)
def test_paper_sensor_byte_is_decoded(reply, state) -> None:
    assert paper_state(reply) == state


# --- usb and serial -------------------------------------------------------------------------


@pytest.mark.skipif(importlib.util.find_spec("usb") is not None, reason="pyusb is installed")
def test_usb_without_its_extra_reports_unavailable(image) -> None:
    printer = printer_from_spec("usb:04b8:0202")
    with pytest.raises(PrinterError) as caught:
        printer.print_ticket(image, "A-042")
    assert caught.value.code == "unavailable"
    assert printer.status() == "unknown"


@pytest.fixture
def serial_port():
    """A pseudo-terminal: the backend opens its device side, the test reads the other."""
    pytest.importorskip("serial")
    pytest.importorskip("escpos")
    if not hasattr(os, "openpty"):
        pytest.skip("no pseudo-terminals here")
    controller, device = os.openpty()
    tty.setraw(controller)
    received = bytearray()

    def read() -> None:
        while True:
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # the device side was closed
                return
            if not chunk:
                return
            received.extend(chunk)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    yield os.ttyname(device), received
    os.close(device)
    os.close(controller)
    reader.join(5)


def test_serial_printer_writes_the_ticket_to_the_device(serial_port, image) -> None:
    path, received = serial_port
    printer = printer_from_spec(f"serial:{path}:115200")
    printer.print_ticket(image, "A-042")
    expected = encode_ticket(image)
    for _ in range(100):
        if len(received) >= len(expected):
            break
        threading.Event().wait(0.05)
    assert bytes(received) == expected


def test_serial_printer_that_takes_no_data_times_out() -> None:
    pytest.importorskip("serial")
    pytest.importorskip("escpos")
    if not hasattr(os, "openpty"):
        pytest.skip("no pseudo-terminals here")
    controller, device = os.openpty()  # nobody reads the controller side: a stalled printer
    tty.setraw(controller)
    try:
        printer = SerialPrinter(os.ttyname(device), 115200, write_timeout=0.3)
        with pytest.raises(PrinterError) as caught:
            printer.send(bytes(4 * 1024 * 1024))
        assert caught.value.code == "timeout"
    finally:
        os.close(device)
        os.close(controller)


def test_a_serial_printers_paper_sensor_is_read_and_a_silent_one_not_asked_twice(
    serial_port,
) -> None:
    from taboor.printers import backends

    path, received = serial_port  # nobody answers on this one
    silent = SerialPrinter(path, 115200, status_timeout=0.2)
    assert silent.status() == "unknown"
    assert silent.status() == "unknown"
    threading.Event().wait(0.2)
    assert bytes(received).count(PAPER_STATUS) == 1  # asked once, then left alone
    backends._SILENT_SENSORS.discard(str(silent))

    controller, device = os.openpty()  # a printer whose roll is nearly out
    tty.setraw(controller)

    def answer() -> None:
        seen = b""
        while PAPER_STATUS not in seen:
            seen += os.read(controller, 64)
        os.write(controller, PAPER_NEAR_END)

    responder = threading.Thread(target=answer, daemon=True)
    responder.start()
    try:
        assert SerialPrinter(os.ttyname(device), 115200, status_timeout=2).status() == "paper_low"
    finally:
        responder.join(5)
        os.close(device)
        os.close(controller)


def test_serial_device_that_does_not_exist_is_offline(image) -> None:
    pytest.importorskip("serial")
    pytest.importorskip("escpos")
    printer = SerialPrinter("/dev/taboor-no-such-printer")
    with pytest.raises(PrinterError) as caught:
        printer.print_ticket(image, "A-042")
    assert caught.value.code == "offline"
    assert printer.status() == "offline"


def test_every_backend_takes_the_80mm_image(tmp_path, fake_printer_factory, ticket) -> None:
    image = render_ticket(ticket, WIDTH_80MM)
    fake = fake_printer_factory()
    for spec in (
        "none",
        f"file:{tmp_path}/f",
        f"pdf:{tmp_path}/p",
        f"network:127.0.0.1:{fake.port}",
    ):
        printer_from_spec(spec).print_ticket(image, ticket.label, ticket)
    assert (tmp_path / "f" / "A-042.escpos").exists() and (tmp_path / "p" / "A-042.pdf").exists()
