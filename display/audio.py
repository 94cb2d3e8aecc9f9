"""Hall announcements: a chime, then the call spoken in Arabic and in English, as one WAV.

The sound is made on the server, so a display works with no internet and no voice
installed on the TV: the chime is synthesized here and the speech comes from Debian's
espeak-ng (voices `ar` and `en`). Each (label, counter) pair is generated once and
kept on disk in the instance folder (`audio/<hash>.wav`), so the next call of the same
ticket number at the same counter is a file read. Without espeak-ng the chime alone is
served (and a warning logged), never an error: a call must never go unannounced.

The pure parts (what is said, the chime, WAV encoding) import nothing from Flask.
"""

from __future__ import annotations

import array
import functools
import hashlib
import io
import logging
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import wave
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

# Bump when the wording, voices or sound change: old cached files are then unused
# (and pruned once the cache is full).
VERSION = 1
RATE = 22050  # espeak-ng's own output rate; the chime is made at the same rate
LABEL_RE = re.compile(r"^([A-Z]{1,3})-([0-9]{1,4})$")

# Latin letter names as an Arabic speaker says them, spelled so espeak-ng's Arabic
# voice pronounces them well (checked against `espeak-ng -v ar -x`).
ARABIC_LETTERS = {
    "A": "إيه", "B": "بي", "C": "سي", "D": "دي", "E": "إي", "F": "إف", "G": "جي",
    "H": "إتش", "I": "آي", "J": "جيه", "K": "كيه", "L": "إل", "M": "إم", "N": "إن",
    "O": "أُو", "P": "بي", "Q": "كيو", "R": "آرْ", "S": "إس", "T": "تي", "U": "يو",
    "V": "في", "W": "دبليو", "X": "إكس", "Y": "وايْ", "Z": "زِد",
}  # fmt: skip


# --- what is said ------------------------------------------------------------------


def parse_label(label: str) -> tuple[str, int]:
    """`A-042` -> ("A", 42); ValueError for anything that is not a ticket label."""
    match = LABEL_RE.match(label)
    if match is None or int(match.group(2)) < 1:
        raise ValueError(f"not a ticket label: {label!r}")
    return match.group(1), int(match.group(2))


def spoken_arabic(prefix: str, number: int, counter: int) -> str:
    """The Arabic call: letters by their names, the numbers read as numbers."""
    letters = " ".join(ARABIC_LETTERS[letter] for letter in prefix)
    return f"البطاقة {letters} {number}، إلى الشباك رقم {counter}"


def spoken_english(prefix: str, number: int, counter: int) -> str:
    """The English call; dotted letters are spelled (a bare "A" would be the article)."""
    letters = "".join(f"{letter}." for letter in prefix)
    return f"Ticket {letters} {number}, counter {counter}."


def spoken_texts(prefix: str, number: int, counter: int) -> list[tuple[str, str]]:
    """(espeak-ng voice, text) in the order they are played: Arabic, then English."""
    return [
        ("ar", spoken_arabic(prefix, number, counter)),
        ("en", spoken_english(prefix, number, counter)),
    ]


# --- sound -----------------------------------------------------------------------------

Samples = array.array  # signed 16-bit mono samples ("h")


def silence(seconds: float, rate: int = RATE) -> Samples:
    return array.array("h", bytes(2 * round(seconds * rate)))


@functools.cache
def chime(rate: int = RATE) -> Samples:
    """A soft two-tone ding-dong (E5 then C5) with a bell-like envelope, about 1.7 s."""
    notes = ((0.0, 659.25), (0.55, 523.25))  # (start s, frequency Hz): a falling major third
    length = 1.75
    total = round(length * rate)
    mix = [0.0] * total
    attack = 0.008
    for start, freq in notes:
        first = round(start * rate)
        for i in range(total - first):
            t = i / rate
            # A quick linear attack avoids a click; the exponential decay rings like a bell.
            envelope = min(1.0, t / attack) * math.exp(-t / 0.42)
            tone = (
                math.sin(2 * math.pi * freq * t)
                + 0.35 * math.sin(2 * math.pi * 2 * freq * t) * math.exp(-t / 0.15)
                + 0.12 * math.sin(2 * math.pi * 3 * freq * t) * math.exp(-t / 0.08)
            )
            mix[first + i] += envelope * tone
    fade = round(0.06 * rate)  # end exactly at zero, however long the ring
    for i in range(fade):
        mix[total - fade + i] *= 1 - (i + 1) / fade
    peak = max(abs(v) for v in mix) or 1.0
    scale = 0.55 * 32767 / peak
    return array.array("h", (round(v * scale) for v in mix))


def normalize(samples: Samples, peak: float = 0.85) -> Samples:
    """Scale so the loudest sample is `peak` of full scale (speech voices differ in level)."""
    if not samples:
        return array.array("h")
    loudest = max(max(samples), -min(samples))
    if loudest == 0:
        return array.array("h", samples)
    scale = min(peak, 1.0) * 32767 / loudest  # |v| <= loudest, so nothing can clip
    return array.array("h", [int(v * scale) for v in samples])


def trim(samples: Samples, threshold: int = 300) -> Samples:
    """Drop the near-silence espeak-ng leaves at both ends (the gaps are ours to set)."""
    start = next((i for i, v in enumerate(samples) if abs(v) > threshold), len(samples))
    end = len(samples)
    while end > start and abs(samples[end - 1]) <= threshold:
        end -= 1
    return samples[start:end]


def resample(samples: Samples, source: int, target: int) -> Samples:
    """Linear resampling, for a voice that does not speak at `RATE`."""
    if source == target or not samples:
        return array.array("h", samples)
    count = max(1, round(len(samples) * target / source))
    step = (len(samples) - 1) / max(1, count - 1)
    out = array.array("h")
    for i in range(count):
        x = i * step
        left = int(x)
        right = min(left + 1, len(samples) - 1)
        frac = x - left
        out.append(round(samples[left] * (1 - frac) + samples[right] * frac))
    return out


def concat(parts: Iterable[Samples]) -> Samples:
    out = array.array("h")
    for part in parts:
        out.extend(part)
    return out


def wav_bytes(samples: Samples, rate: int = RATE) -> bytes:
    """A mono 16-bit PCM WAV file."""
    data = array.array("h", samples)
    if sys.byteorder == "big":
        data.byteswap()
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(data.tobytes())
    return buffer.getvalue()


def read_wav(data: bytes) -> tuple[Samples, int]:
    """Samples and rate of a mono 16-bit WAV (what espeak-ng writes)."""
    with wave.open(io.BytesIO(data), "rb") as source:
        if source.getsampwidth() != 2:
            raise ValueError("expected 16-bit samples")
        channels = source.getnchannels()
        rate = source.getframerate()
        samples = array.array("h", source.readframes(source.getnframes()))
    if sys.byteorder == "big":
        samples.byteswap()
    if channels > 1:
        samples = samples[::channels]
    return samples, rate


def announcement(speech: Sequence[tuple[Samples, int]], rate: int = RATE) -> Samples:
    """Chime, then each spoken part with a pause between: one clip, played as one."""
    parts: list[Samples] = [chime(rate), silence(0.3, rate)]
    for i, (samples, source_rate) in enumerate(speech):
        if i:
            parts.append(silence(0.7, rate))
        parts.append(normalize(trim(resample(samples, source_rate, rate))))
    parts.append(silence(0.3, rate))
    return concat(parts)


# --- espeak-ng and the cache -------------------------------------------------------------


class VoiceUnavailable(RuntimeError):
    """espeak-ng is not installed or failed; the chime is played alone."""


def speak(espeak: str, voice: str, text: str, *, speed: int = 150) -> tuple[Samples, int]:
    """Run espeak-ng once; its WAV goes through a temporary file (stdout WAVs lack sizes)."""
    with tempfile.TemporaryDirectory(prefix="taboor-voice-") as folder:
        target = Path(folder) / "speech.wav"
        try:
            subprocess.run(
                [espeak, "-v", voice, "-s", str(speed), "-w", str(target), "--", text],
                check=True,
                capture_output=True,
                timeout=20,
            )
            return read_wav(target.read_bytes())
        except (OSError, subprocess.SubprocessError, ValueError, EOFError, wave.Error) as exc:
            raise VoiceUnavailable(f"espeak-ng -v {voice} failed: {exc}") from exc


@dataclass(frozen=True)
class Clip:
    """An announcement to send: a cached file, or (without a voice) the chime in memory."""

    path: Path | None
    data: bytes | None
    generated: bool  # made for this request (False: read from the cache)
    voiced: bool


class AnnouncementCache:
    """One WAV per (label, counter) in `folder`, made once; the oldest go past `max_bytes`."""

    def __init__(self, folder: Path, espeak: str = "espeak-ng", max_bytes: int = 256 << 20):
        self.folder = folder
        self.espeak = espeak
        self.max_bytes = max_bytes
        # One generation at a time: a burst of odd requests costs one CPU, not all of them.
        self._lock = threading.Lock()
        self._warned = False
        self.generated = 0
        self.last_generation_s: float | None = None

    def key(self, prefix: str, number: int, counter: int) -> str:
        """The cache name: the same call gives the same file, whatever the label's padding."""
        texts = spoken_texts(prefix, number, counter)
        raw = f"v{VERSION}|{RATE}|" + "|".join(f"{voice}:{text}" for voice, text in texts)
        return hashlib.sha256(raw.encode()).hexdigest()[:32]

    def path(self, prefix: str, number: int, counter: int) -> Path:
        return self.folder / f"{self.key(prefix, number, counter)}.wav"

    def clip(self, prefix: str, number: int, counter: int) -> Clip:
        """The announcement of ticket `prefix-number` at `counter`."""
        target = self.path(prefix, number, counter)
        if target.is_file():
            return self._hit(target)
        with self._lock:
            if target.is_file():  # made by another request while this one waited
                return self._hit(target)
            executable = shutil.which(self.espeak)
            if executable is None:
                self._warn(f"espeak-ng not found ({self.espeak!r}): announcing with the chime only")
                return Clip(None, chime_wav(), generated=False, voiced=False)
            started = time.perf_counter()
            try:
                speech = [speak(executable, voice, text) for voice, text in spoken_texts(
                    prefix, number, counter)]  # fmt: skip
            except VoiceUnavailable as exc:
                self._warn(f"{exc}: announcing with the chime only")
                return Clip(None, chime_wav(), generated=False, voiced=False)
            data = wav_bytes(announcement(speech))
            self._store(target, data)
            self.last_generation_s = time.perf_counter() - started
            self.generated += 1
            log.info("announcement %s-%03d counter %d made in %.0f ms", prefix, number, counter,
                     self.last_generation_s * 1000)  # fmt: skip
            self._prune(keep=target)
        return Clip(target, None, generated=True, voiced=True)

    def _hit(self, target: Path) -> Clip:
        try:
            os.utime(target)  # recently used: the last to be pruned
        except OSError:
            pass
        return Clip(target, None, generated=False, voiced=True)

    def _warn(self, message: str) -> None:
        if not self._warned:  # once per process: a display calls many times a day
            log.warning(message)
            self._warned = True

    def _store(self, target: Path, data: bytes) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        handle, partial = tempfile.mkstemp(dir=self.folder, suffix=".part")
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(partial, target)  # another process never reads half a file

    def _prune(self, keep: Path) -> None:
        """Remove the least recently used files while the folder is over its size."""
        files = []
        for entry in os.scandir(self.folder):
            try:
                stat = entry.stat()
                if entry.name.endswith(".part") and stat.st_mtime < time.time() - 3600:
                    Path(entry.path).unlink()  # left by a process that died while writing
                elif entry.name.endswith(".wav") and entry.is_file():
                    files.append((stat.st_mtime, stat.st_size, Path(entry.path)))
            except FileNotFoundError:  # another server process pruned it first
                continue
        total = sum(size for _, size, _ in files)
        for _, size, path in sorted(files):
            if total <= self.max_bytes:
                break
            if path == keep:
                continue
            path.unlink(missing_ok=True)
            total -= size


@functools.cache
def chime_wav() -> bytes:
    return wav_bytes(concat([chime(), silence(0.2)]))
