"""Printer backends behind one small protocol, chosen by a spec string from the settings.

    none                        drop the ticket (a kiosk without a printer)
    file:<dir>                  <label>.escpos (the exact bytes) and <label>.png
    network:<host>[:<port>]     raw TCP, port 9100 by default
    usb:<vendor>:<product>      hex ids, via python-escpos + pyusb (extra "usb")
    serial:<device>[:<baud>]    via python-escpos + pyserial (extra "serial")
    pdf:<dir>                   <label>.pdf, for ordinary printers

Every failure is a PrinterError with a stable code; timeouts are seconds, never the
minute a library would wait by default, because a kiosk must answer the citizen.
"""

from __future__ import annotations

import os
import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, Protocol, runtime_checkable

from PIL import Image

from taboor.printers.escpos_raster import PAPER_STATUS, encode_ticket
from taboor.printers.layout import TicketPrint

STATUSES = ("ok", "paper_low", "paper_out", "offline", "unknown")
DEFAULT_PORT = 9100
CONNECT_TIMEOUT = 3.0
WRITE_TIMEOUT = 5.0
STATUS_TIMEOUT = 0.5


class PrinterError(Exception):
    """A ticket that could not be printed. Codes: offline, timeout, paper_out, io_error,
    unavailable (an optional dependency is missing)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


@runtime_checkable
class Printer(Protocol):
    """Where tickets go. `ticket` is the data behind the image, for backends that print text.

    `print_ticket` raises PrinterError when the ticket did not print, and otherwise
    returns the paper state it saw on the way (one of STATUSES), or None when it could
    not look while printing: then `status()` asks the printer.
    """

    def print_ticket(
        self, image: Image.Image, name: str, ticket: TicketPrint | None = None
    ) -> str | None: ...

    def status(self) -> str: ...


def paper_after_print(printer: Printer, seen: str | None) -> str:
    """The printer's state after a ticket printed: `paper_low` when its roll is nearly
    out (the manager should bring paper before the kiosk stops), else `ok`.

    `seen` is what `print_ticket` returned; without it the printer is asked. A printer
    that cannot tell (no sensor, no answer) has just printed: that is `ok`.
    """
    state = seen
    if state is None:
        try:
            state = printer.status()
        except Exception:  # a status query must never turn a printed ticket into a failure
            state = "unknown"
    return "paper_low" if state == "paper_low" else "ok"


def paper_state(reply: int) -> str:
    """Decode the answer to DLE EOT 4 (roll paper sensor status)."""
    # Bits 1 and 4 are always set, 0 and 7 always clear; anything else is not an answer.
    if reply & 0b1001_0011 != 0b0001_0010:
        return "unknown"
    if reply & 0b0110_0000:
        return "paper_out"
    if reply & 0b0000_1100:
        return "paper_low"
    return "ok"


_UNSAFE = re.compile(r"[^\w.-]+")


def file_stem(name: str) -> str:
    """A file name from a ticket label: no separators, no leading dot, never empty."""
    stem = _UNSAFE.sub("_", name).strip("._")[:80]
    return stem or "ticket"


def _claim(folder: Path, stem: str, suffix: str) -> tuple[str, IO[bytes]]:
    """Open <stem><suffix> for writing, or <stem>_2, _3, ... if the label was printed before."""
    folder.mkdir(parents=True, exist_ok=True)
    n = 1
    while True:
        candidate = stem if n == 1 else f"{stem}_{n}"
        try:
            return candidate, open(folder / f"{candidate}{suffix}", "xb")
        except FileExistsError:
            n += 1


# ---------------------------------------------------------------------------


class NullPrinter:
    """`none`: accepts every ticket and prints nothing."""

    def print_ticket(
        self, image: Image.Image, name: str, ticket: TicketPrint | None = None
    ) -> str | None:
        return "ok"

    def status(self) -> str:
        return "ok"


class FilePrinter:
    """`file:<dir>`: the exact ESC/POS bytes and a PNG preview of each ticket."""

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = Path(folder)

    def print_ticket(
        self, image: Image.Image, name: str, ticket: TicketPrint | None = None
    ) -> str | None:
        data = encode_ticket(image)
        try:
            stem, fh = _claim(self.folder, file_stem(name), ".escpos")
            with fh:
                fh.write(data)
            image.save(self.folder / f"{stem}.png")
        except OSError as exc:
            raise PrinterError("io_error", f"cannot write to {self.folder}: {exc}") from exc
        return "ok"

    def status(self) -> str:
        folder = self.folder if self.folder.exists() else self.folder.parent
        return "ok" if os.access(folder, os.W_OK) else "offline"


class PdfPrinter:
    """`pdf:<dir>`: a PDF ticket with real (shaped) text, for ordinary printers."""

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = Path(folder)

    def print_ticket(
        self, image: Image.Image, name: str, ticket: TicketPrint | None = None
    ) -> str | None:
        if ticket is not None:
            from taboor.printers.pdf_ticket import render_pdf

            data = render_pdf(ticket)
        else:
            data = _image_pdf(image)
        try:
            _, fh = _claim(self.folder, file_stem(name), ".pdf")
            with fh:
                fh.write(data)
        except OSError as exc:
            raise PrinterError("io_error", f"cannot write to {self.folder}: {exc}") from exc
        return "ok"

    def status(self) -> str:
        folder = self.folder if self.folder.exists() else self.folder.parent
        return "ok" if os.access(folder, os.W_OK) else "offline"


def _image_pdf(image: Image.Image) -> bytes:
    """Without the ticket's text, the PDF carries the raster at the thermal resolution."""
    import io

    buffer = io.BytesIO()
    image.convert("L").save(buffer, "PDF", resolution=203.0)
    return buffer.getvalue()


class NetworkPrinter:
    """`network:<host>[:<port>]`: raw TCP ("JetDirect", port 9100) with short timeouts.

    Before each ticket the printer is asked for its paper state (DLE EOT 4); a printer
    that does not answer within `status_timeout` is printed to anyway. With no paper the
    ticket is not sent: the printer would keep it and print it when the roll is changed,
    after the ticket has been reprinted elsewhere.
    """

    def __init__(
        self,
        host: str,
        port: int = DEFAULT_PORT,
        *,
        connect_timeout: float = CONNECT_TIMEOUT,
        write_timeout: float = WRITE_TIMEOUT,
        status_timeout: float = STATUS_TIMEOUT,
        check_paper: bool = True,
    ) -> None:
        self.host = host
        self.port = port
        self.connect_timeout = connect_timeout
        self.write_timeout = write_timeout
        self.status_timeout = status_timeout
        self.check_paper = check_paper
        # One job at a time: a raw port printer takes one connection and mixes two.
        self._lock = threading.Lock()

    @property
    def address(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    def print_ticket(
        self, image: Image.Image, name: str, ticket: TicketPrint | None = None
    ) -> str | None:
        return self.send(encode_ticket(image))

    def send(self, data: bytes) -> str:
        """Send an ESC/POS stream (a ticket, or a stored .escpos file to reprint).

        Returns the paper state read before sending (`unknown` unless `check_paper`)."""
        paper = "unknown"
        with self._lock, self._connection() as sock:
            if self.check_paper:
                paper = self._paper(sock)
            if paper == "paper_out":
                raise PrinterError("paper_out", f"printer {self.address} is out of paper")
            sock.settimeout(self.write_timeout)
            try:
                sock.sendall(data)  # the timeout bounds the whole call (Python >= 3.5)
            except TimeoutError:
                raise PrinterError(
                    "timeout", f"printer {self.address} took no data for {self.write_timeout:g} s"
                ) from None
            except OSError as exc:
                raise PrinterError("io_error", f"printer {self.address}: {exc}") from exc
            _close_gently(sock)
        return paper

    def status(self) -> str:
        try:
            with self._lock, self._connection() as sock:
                return self._paper(sock)
        except PrinterError:
            return "offline"

    @contextmanager
    def _connection(self) -> Iterator[socket.socket]:
        try:
            sock = socket.create_connection((self.host, self.port), timeout=self.connect_timeout)
        except TimeoutError:
            raise PrinterError(
                "offline", f"printer {self.address} did not answer in {self.connect_timeout:g} s"
            ) from None
        except OSError as exc:
            raise PrinterError("offline", f"cannot reach printer {self.address}: {exc}") from exc
        try:
            yield sock
        finally:
            sock.close()

    def _paper(self, sock: socket.socket) -> str:
        sock.settimeout(self.status_timeout)
        try:
            sock.sendall(PAPER_STATUS)
            reply = sock.recv(1)
        except OSError:  # includes TimeoutError: many printers never answer
            return "unknown"
        return paper_state(reply[0]) if reply else "unknown"


def _close_gently(sock: socket.socket) -> None:
    """Finish the stream with FIN, not RST.

    Closing a socket that still holds unread input (a late status answer) makes Linux
    reset the connection and drop what is still queued for the printer: the ticket
    would be cut short. Read whatever arrived, then shut down the sending side.
    """
    sock.setblocking(False)
    try:
        while sock.recv(4096):
            pass
    except OSError:  # BlockingIOError when nothing is waiting
        pass
    try:
        sock.shutdown(socket.SHUT_WR)
    except OSError:
        pass


class _EscposDevice:
    """Shared part of the USB and serial backends, which go through python-escpos."""

    extra = ""
    _lock: threading.Lock

    def _device(self) -> Any:
        raise NotImplementedError

    def _after_open(self, device: Any) -> None:
        pass

    def _finish(self, device: Any) -> None:
        """Wait, boundedly, until the data has left the computer."""

    def _abort(self, device: Any) -> None:
        """Drop unsent data so that closing the device does not wait for it."""

    def _errors(self) -> tuple[type[BaseException], ...]:
        raise NotImplementedError

    @contextmanager
    def _opened(self) -> Iterator[Any]:
        try:
            from escpos import exceptions
        except ImportError:
            raise PrinterError(
                "unavailable", f"printing to {self} needs: pip install 'taboor[{self.extra}]'"
            ) from None
        device = self._device()
        errors = self._errors()
        try:
            device.open()
        except (exceptions.DeviceNotFoundError, *errors) as exc:
            raise PrinterError("offline", f"cannot open {self}: {exc}") from exc
        try:
            self._after_open(device)
            yield device
        finally:
            try:
                device.close()
            except errors:
                pass

    def print_ticket(
        self, image: Image.Image, name: str, ticket: TicketPrint | None = None
    ) -> str | None:
        self.send(encode_ticket(image))
        return None  # the paper sensor is read by status(), on its own opening

    def send(self, data: bytes) -> None:
        """Send an ESC/POS stream."""
        with self._lock, self._opened() as device:
            try:
                device._raw(data)
                self._finish(device)
            except self._errors() as exc:
                self._abort(device)
                code = "timeout" if "timeout" in type(exc).__name__.lower() else "io_error"
                raise PrinterError(code, f"{self}: {exc}") from exc
            except PrinterError:
                self._abort(device)
                raise

    def status(self) -> str:
        try:
            if str(self) in _SILENT_SENSORS:
                return "unknown"
            with self._lock, self._opened() as device:
                try:
                    device._raw(PAPER_STATUS)
                    reply = bytes(device._read())
                except self._errors():
                    reply = b""
        except PrinterError as exc:
            return "unknown" if exc.code == "unavailable" else "offline"
        if not reply:
            # Never asked again in this process: a silent sensor costs a read timeout.
            _SILENT_SENSORS.add(str(self))
            return "unknown"
        return paper_state(reply[0])


# USB and serial printers that did not answer a paper-sensor query (by their spec).
_SILENT_SENSORS: set[str] = set()


class UsbPrinter(_EscposDevice):
    """`usb:<vendor>:<product>`: a USB printer through python-escpos and pyusb."""

    extra = "usb"

    def __init__(
        self,
        vendor: int,
        product: int,
        *,
        write_timeout: float = WRITE_TIMEOUT,
        in_ep: int = 0x82,
        out_ep: int = 0x01,
    ) -> None:
        self.vendor = vendor
        self.product = product
        self.write_timeout = write_timeout
        self.in_ep = in_ep
        self.out_ep = out_ep
        self._lock = threading.Lock()

    def __str__(self) -> str:
        return f"usb:{self.vendor:04x}:{self.product:04x}"

    def _device(self) -> Any:
        from escpos.printer import Usb

        if not Usb.is_usable():
            raise PrinterError("unavailable", "USB printing needs: pip install 'taboor[usb]'")
        # pyusb takes milliseconds; python-escpos's default of 0 waits forever.
        return Usb(
            self.vendor,
            self.product,
            timeout=int(self.write_timeout * 1000),
            in_ep=self.in_ep,
            out_ep=self.out_ep,
        )

    def _errors(self) -> tuple[type[BaseException], ...]:
        import usb.core

        return (usb.core.USBError, OSError)


class SerialPrinter(_EscposDevice):
    """`serial:<device>[:<baud>]`: a serial printer through python-escpos and pyserial."""

    extra = "serial"

    def __init__(
        self,
        device: str,
        baudrate: int = 9600,
        *,
        write_timeout: float = WRITE_TIMEOUT,
        status_timeout: float = STATUS_TIMEOUT,
        dsrdtr: bool = True,
    ) -> None:
        self.device = device
        self.baudrate = baudrate
        self.write_timeout = write_timeout
        self.status_timeout = status_timeout
        self.dsrdtr = dsrdtr
        self._lock = threading.Lock()

    def __str__(self) -> str:
        return f"serial:{self.device}:{self.baudrate}"

    def _device(self) -> Any:
        from escpos.printer import Serial

        if not Serial.is_usable():
            raise PrinterError("unavailable", "serial printing needs: pip install 'taboor[serial]'")
        return Serial(
            devfile=self.device,
            baudrate=self.baudrate,
            timeout=self.status_timeout,
            dsrdtr=self.dsrdtr,
        )

    def _after_open(self, device: Any) -> None:
        # python-escpos passes no write timeout, and pyserial's default blocks forever
        # when the printer holds flow control (paper out, cover open).
        device.device.write_timeout = self.write_timeout

    def _finish(self, device: Any) -> None:
        # Closing a serial port waits for its output queue to drain (up to 30 s in Linux
        # drivers), so wait here with our own limit instead.
        port = device.device
        deadline = time.monotonic() + self.write_timeout
        while port.out_waiting and time.monotonic() < deadline:
            time.sleep(0.01)
        if port.out_waiting:
            raise PrinterError("timeout", f"{self} took no data for {self.write_timeout:g} s")

    def _abort(self, device: Any) -> None:
        try:
            device.device.reset_output_buffer()
        except self._errors():
            pass

    def _errors(self) -> tuple[type[BaseException], ...]:
        import serial

        return (serial.SerialException, OSError)


# ---------------------------------------------------------------------------


def _parse_port(text: str, spec: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise ValueError(f"bad printer spec {spec!r}: port must be 1-65535, not {text!r}")
    return int(text)


def _parse_network(rest: str, spec: str) -> NetworkPrinter:
    if rest.startswith("["):  # [IPv6]:port
        host, _, tail = rest[1:].partition("]")
        if tail and not tail.startswith(":"):
            raise ValueError(f"bad printer spec {spec!r}: expected [host]:port")
        port = _parse_port(tail[1:], spec) if tail else DEFAULT_PORT
    elif rest.count(":") == 1:
        host, port_text = rest.split(":")
        port = _parse_port(port_text, spec)
    else:
        host, port = rest, DEFAULT_PORT  # a bare name, or a bare IPv6 address
    if not host:
        raise ValueError(f"bad printer spec {spec!r}: network:<host>[:<port>] needs a host")
    return NetworkPrinter(host, port)


def _parse_usb(rest: str, spec: str) -> UsbPrinter:
    parts = rest.split(":")
    try:
        if len(parts) != 2:
            raise ValueError
        vendor, product = (int(p.removeprefix("0x"), 16) for p in parts)
    except ValueError:
        raise ValueError(
            f"bad printer spec {spec!r}: expected usb:<vendor>:<product> in hex, e.g. usb:04b8:0202"
        ) from None
    return UsbPrinter(vendor, product)


def _parse_serial(rest: str, spec: str) -> SerialPrinter:
    device, sep, baud = rest.rpartition(":")
    if not sep or not baud.isdigit():
        device, baud = rest, ""
    if not device:
        raise ValueError(f"bad printer spec {spec!r}: serial:<device>[:<baud>] needs a device")
    return SerialPrinter(device, int(baud) if baud else 9600)


def printer_from_spec(spec: str) -> Printer:
    """The backend named by a settings string such as `network:10.0.0.7:9100`."""
    text = spec.strip()
    kind, sep, rest = text.partition(":")
    kind = kind.lower()
    if kind == "none":
        if sep:
            raise ValueError(f"bad printer spec {spec!r}: none takes no argument")
        return NullPrinter()
    if not sep:
        raise ValueError(
            f"bad printer spec {spec!r}: expected none, file:<dir>, network:<host>[:<port>], "
            "usb:<vendor>:<product>, serial:<device>[:<baud>] or pdf:<dir>"
        )
    if kind in ("file", "pdf"):
        if not rest:
            raise ValueError(f"bad printer spec {spec!r}: {kind}:<dir> needs a directory")
        return FilePrinter(rest) if kind == "file" else PdfPrinter(rest)
    if kind == "network":
        return _parse_network(rest, spec)
    if kind == "usb":
        return _parse_usb(rest, spec)
    if kind == "serial":
        return _parse_serial(rest, spec)
    raise ValueError(f"bad printer spec {spec!r}: unknown printer kind {kind!r}")
