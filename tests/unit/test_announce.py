"""What the hall says when a ticket is called, and the chime before it (no server, no voice)."""

from __future__ import annotations

import array
import io
import math
import wave

import pytest

from taboor.display import audio


def test_arabic_call_spells_the_letters_and_reads_the_number_without_its_zeros():
    prefix, number = audio.parse_label("A-042")
    assert audio.spoken_arabic(prefix, number, 3) == "البطاقة إيه 42، إلى الشباك رقم 3"


def test_english_call_spells_the_letters_so_a_is_not_read_as_the_article():
    assert audio.spoken_english("A", 42, 3) == "Ticket A. 42, counter 3."


def test_a_prefix_of_several_letters_is_spelled_letter_by_letter_in_both_languages():
    prefix, number = audio.parse_label("ID-007")
    assert audio.spoken_arabic(prefix, number, 12) == "البطاقة آي دي 7، إلى الشباك رقم 12"
    assert audio.spoken_english(prefix, number, 12) == "Ticket I.D. 7, counter 12."


def test_arabic_comes_first_then_english():
    assert [voice for voice, _ in audio.spoken_texts("F", 5, 1)] == ["ar", "en"]


def test_every_latin_letter_has_an_arabic_name():
    assert sorted(audio.ARABIC_LETTERS) == [chr(c) for c in range(ord("A"), ord("Z") + 1)]
    for name in audio.ARABIC_LETTERS.values():
        assert name and all("\u0600" <= ch <= "\u06ff" for ch in name)


@pytest.mark.parametrize("label", ["A-1000", "ABC-9999", "Q-001"])
def test_labels_of_one_to_three_letters_and_up_to_four_digits_are_read(label):
    prefix, number = audio.parse_label(label)
    assert f"{prefix}-{number:03d}" == label


@pytest.mark.parametrize(
    "label",
    ["", "A", "A-", "-042", "a-042", "A042", "A_042", "ABCD-1", "A-0", "A-000", "A-12345",
     "A-٠٤٢", "A-42 ", " A-42", "A-4\n2", "أ-042"],
)  # fmt: skip
def test_anything_but_a_ticket_label_is_refused(label):
    with pytest.raises(ValueError):
        audio.parse_label(label)


def _power(samples: list[float], rate: int, freq: float) -> float:
    """Goertzel: the strength of one frequency in a window of samples."""
    coeff = 2 * math.cos(2 * math.pi * freq / rate)
    s1 = s2 = 0.0
    for x in samples:
        s1, s2 = x + coeff * s1 - s2, s1
    return s1 * s1 + s2 * s2 - coeff * s1 * s2


def test_chime_is_a_high_tone_then_a_lower_one():
    samples = audio.chime()
    rate = audio.RATE
    ding = list(samples[round(0.05 * rate) : round(0.45 * rate)])
    dong = list(samples[round(0.7 * rate) : round(1.1 * rate)])
    assert _power(ding, rate, 659.25) > 10 * _power(ding, rate, 523.25)
    assert _power(dong, rate, 523.25) > 3 * _power(dong, rate, 659.25)


def test_chime_starts_and_ends_at_silence_without_clipping():
    samples = audio.chime()
    assert 1.5 <= len(samples) / audio.RATE <= 2.0
    assert samples[0] == 0 and samples[-1] == 0
    peak = max(max(samples), -min(samples))
    assert 0.4 * 32767 < peak < 0.7 * 32767  # loud enough, with headroom for the voice


def test_chime_rings_down_instead_of_stopping_abruptly():
    samples = audio.chime()
    rate = audio.RATE

    def loudness(start: float) -> int:
        window = samples[round(start * rate) : round((start + 0.05) * rate)]
        return max(abs(v) for v in window)

    assert loudness(0.6) > loudness(1.0) > loudness(1.4) > 0


def test_wav_is_mono_16_bit_at_the_voice_rate():
    data = audio.wav_bytes(audio.chime())
    with wave.open(io.BytesIO(data)) as clip:
        assert (clip.getnchannels(), clip.getsampwidth(), clip.getframerate()) == (1, 2, 22050)
        assert clip.getnframes() == len(audio.chime())
    samples, rate = audio.read_wav(data)
    assert rate == audio.RATE and samples == audio.chime()


def test_announcement_is_chime_then_each_voice_with_pauses():
    rate = audio.RATE
    voice = array.array("h", [0] * 100 + [1000, -1000] * 2000 + [0] * 100)
    clip = audio.announcement([(voice, rate), (voice, rate)])
    spoken = 4000  # the silence espeak-ng leaves around speech is trimmed
    expected = len(audio.chime()) + round(0.3 * rate) + 2 * spoken + round(0.7 * rate)
    assert len(clip) == expected + round(0.3 * rate)
    assert clip[: len(audio.chime())] == audio.chime()


def test_speech_is_brought_to_a_common_loudness():
    quiet = array.array("h", [100, -200, 50])
    loud = audio.normalize(quiet, peak=0.5)
    assert max(abs(v) for v in loud) == int(200 * 0.5 * 32767 / 200)
    assert audio.normalize(array.array("h", [0, 0])) == array.array("h", [0, 0])


def test_a_voice_at_another_rate_is_resampled_to_the_clip_rate():
    source = array.array("h", range(0, 16000, 10))  # 1,600 samples at 16 kHz: 0.1 s
    out = audio.resample(source, 16000, 22050)
    assert len(out) == round(1600 * 22050 / 16000)
    assert out[0] == 0 and out[-1] == source[-1]
    assert all(a <= b for a, b in zip(out, out[1:], strict=False))
