"""ESC/POS encoding: the raster decodes back to the very image that was rendered."""

from __future__ import annotations

import pytest
from PIL import Image, ImageDraw

from taboor.printers.escpos_raster import (
    INIT,
    PARTIAL_CUT,
    RasterError,
    decode_raster,
    encode_ticket,
    raster_bytes,
    raster_command,
)
from taboor.printers.layout import WIDTH_58MM, WIDTH_80MM, render_ticket

from .conftest import ENGINES


def raster_commands(data: bytes) -> int:
    return data.count(b"\x1dv0")


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("width", [WIDTH_80MM, WIDTH_58MM])
def test_raster_round_trip_is_pixel_exact(any_lang_ticket, width, engine) -> None:
    image = render_ticket(any_lang_ticket, width, engine=engine)
    [decoded] = decode_raster(encode_ticket(image))
    assert decoded.size == image.size == (width, image.height)
    assert decoded.tobytes() == image.tobytes()


def test_stream_starts_with_init_and_ends_with_feed_and_partial_cut(ticket) -> None:
    data = encode_ticket(render_ticket(ticket, WIDTH_80MM))
    assert data.startswith(INIT + b"\x1dv0\x00")
    assert data.endswith(b"\x1bd\x05" + PARTIAL_CUT)


def test_black_dot_is_bit_one_most_significant_first() -> None:
    image = Image.new("1", (16, 2), 1)
    image.putpixel((0, 0), 0)
    image.putpixel((15, 1), 0)
    assert raster_bytes(image) == (2, 2, bytes([0x80, 0x00, 0x00, 0x01]))


def test_header_carries_width_in_bytes_and_height_little_endian() -> None:
    command = raster_command(72, 300, bytes(72 * 300))
    assert command[:8] == b"\x1dv0\x00" + bytes([72, 0, 44, 1])


def test_width_not_a_multiple_of_eight_is_padded_with_white() -> None:
    image = Image.new("1", (10, 1), 0)
    width_bytes, _, data = raster_bytes(image)
    assert width_bytes == 2 and data == bytes([0xFF, 0xC0])


def test_tall_ticket_goes_in_bands_and_decodes_as_one_image() -> None:
    image = Image.new("1", (WIDTH_58MM, 1000), 1)
    ImageDraw.Draw(image).line((0, 0, WIDTH_58MM - 1, 999), fill=0, width=5)
    data = encode_ticket(image, band_rows=256)
    assert raster_commands(data) == 4
    [decoded] = decode_raster(data)
    assert decoded.tobytes() == image.tobytes()


def test_two_tickets_in_one_stream_decode_as_two_images() -> None:
    first = Image.new("1", (WIDTH_80MM, 40), 0)
    second = Image.new("1", (WIDTH_58MM, 30), 1)
    images = decode_raster(encode_ticket(first) + encode_ticket(second))
    assert [i.size for i in images] == [(WIDTH_80MM, 40), (WIDTH_58MM, 30)]


def test_raster_matches_python_escpos_bit_image_raster(ticket) -> None:
    dummy_module = pytest.importorskip("escpos.printer")
    image = render_ticket(ticket, WIDTH_58MM)
    dummy = dummy_module.Dummy()
    dummy.image(image, impl="bitImageRaster", fragment_height=4095)
    assert dummy.output == raster_command(*raster_bytes(image))


@pytest.mark.parametrize(
    "data",
    [
        INIT + b"hello",  # text: nothing this package sends
        INIT + b"\x1dv0\x00\x48\x00\x10\x00" + bytes(10),  # fewer bytes than promised
        b"\x1dv0\x03\x01\x00\x01\x00\x00",  # quadruple-size mode
    ],
)
def test_decoder_rejects_what_the_encoder_never_writes(data) -> None:
    with pytest.raises(RasterError):
        decode_raster(data)


def test_empty_image_is_refused() -> None:
    with pytest.raises(ValueError):
        encode_ticket(Image.new("1", (WIDTH_80MM, 0)))
