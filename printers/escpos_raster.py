"""ESC/POS bytes for a ticket image (GS v 0 raster), and the decoder the tests read them with.

The stream is: ESC @ (reset), the image as GS v 0 bands, ESC d n (feed past the
cutter), GS V 1 (partial cut). Bit 1 is a black dot, rows are packed MSB first.
"""

from __future__ import annotations

from PIL import Image

ESC = b"\x1b"
GS = b"\x1d"
DLE = b"\x10"
EOT = b"\x04"

INIT = ESC + b"@"
PARTIAL_CUT = GS + b"V\x01"
FULL_CUT = GS + b"V\x00"
PAPER_STATUS = DLE + EOT + b"\x04"  # DLE EOT 4: roll paper sensor status, answered in real time

# GS v 0 allows up to 4095 rows, but cheap printers with small receive buffers choke on
# one huge command; bands of 256 rows (18 KB at 576 dots) print without gaps everywhere.
BAND_ROWS = 256
FEED_LINES = 5

# Inverting a byte: Pillow packs white as 1, ESC/POS wants black as 1.
_INVERT = bytes(255 - b for b in range(256))


class RasterError(ValueError):
    """Bytes that are not a stream this module writes."""


def raster_bytes(image: Image.Image) -> tuple[int, int, bytes]:
    """(width in bytes, height, packed rows with black = 1) for a bilevel image."""
    bilevel = image if image.mode == "1" else image.convert("1", dither=Image.Dither.NONE)
    if bilevel.width % 8:
        # Pad with white so the pad bits are 0 after inversion (nothing printed).
        padded = Image.new("1", ((bilevel.width + 7) // 8 * 8, bilevel.height), 1)
        padded.paste(bilevel, (0, 0))
        bilevel = padded
    return bilevel.width // 8, bilevel.height, bilevel.tobytes().translate(_INVERT)


def raster_command(width_bytes: int, rows: int, data: bytes) -> bytes:
    """One GS v 0 command in normal density (mode 0)."""
    if not (1 <= width_bytes <= 0xFFFF and 1 <= rows <= 0x0FFF):
        raise ValueError(f"raster of {width_bytes} bytes x {rows} rows is out of range")
    header = GS + b"v0\x00" + width_bytes.to_bytes(2, "little") + rows.to_bytes(2, "little")
    return header + data


def encode_ticket(
    image: Image.Image,
    *,
    band_rows: int = BAND_ROWS,
    feed_lines: int = FEED_LINES,
    cut: bytes = PARTIAL_CUT,
) -> bytes:
    """The complete byte stream that prints `image` and cuts the paper."""
    width_bytes, height, data = raster_bytes(image)
    if height == 0:
        raise ValueError("cannot print an empty image")
    if not 1 <= band_rows <= 0x0FFF:
        raise ValueError(f"band_rows must be 1..4095, not {band_rows}")
    parts = [INIT]
    for start in range(0, height, band_rows):
        rows = min(band_rows, height - start)
        offset = start * width_bytes
        parts.append(raster_command(width_bytes, rows, data[offset : offset + rows * width_bytes]))
    parts.append(ESC + b"d" + bytes((feed_lines,)))
    parts.append(cut)
    return b"".join(parts)


def decode_raster(data: bytes) -> list[Image.Image]:
    """Images printed by an ESC/POS stream: consecutive GS v 0 bands make one image.

    Understands what this package writes (ESC @, GS v 0, ESC d, ESC J, GS V, DLE EOT, LF)
    and raises RasterError at anything else, so a stray byte in the output fails a test.
    """
    images: list[Image.Image] = []
    bands: list[Image.Image] = []

    def flush() -> None:
        if bands:
            out = Image.new("1", (bands[0].width, sum(b.height for b in bands)), 1)
            y = 0
            for band in bands:
                out.paste(band, (0, y))
                y += band.height
            images.append(out)
            bands.clear()

    i = 0
    n = len(data)
    while i < n:
        if data.startswith(GS + b"v0", i):
            if i + 8 > n:
                raise RasterError(f"truncated GS v 0 header at byte {i}")
            mode = data[i + 3]
            if mode not in (0, 48):
                raise RasterError(f"GS v 0 mode {mode} (scaled) at byte {i}")
            width_bytes = int.from_bytes(data[i + 4 : i + 6], "little")
            rows = int.from_bytes(data[i + 6 : i + 8], "little")
            size = width_bytes * rows
            body = data[i + 8 : i + 8 + size]
            if len(body) != size:
                raise RasterError(f"GS v 0 at byte {i} promises {size} bytes, has {len(body)}")
            if bands and bands[0].width != width_bytes * 8:
                flush()
            bands.append(Image.frombytes("1", (width_bytes * 8, rows), body.translate(_INVERT)))
            i += 8 + size
            continue
        flush()
        if data.startswith(INIT, i):
            i += 2
        elif (
            data.startswith(ESC + b"d", i)
            or data.startswith(ESC + b"J", i)
            or data.startswith(DLE + EOT, i)
        ):
            if i + 3 > n:
                raise RasterError(f"truncated feed at byte {i}")
            i += 3
        elif data.startswith(GS + b"V", i):
            if i + 3 > n:
                raise RasterError(f"truncated cut at byte {i}")
            # Function A (m = 0, 1, 48, 49) has no argument; B, C, D (m >= 65) take one byte.
            i += 4 if data[i + 2] >= 65 else 3
        elif data[i] == 0x0A:
            i += 1
        else:
            raise RasterError(f"unexpected byte 0x{data[i]:02x} at {i}")
    flush()
    return images
