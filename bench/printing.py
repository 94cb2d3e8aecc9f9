"""Render + encode one ticket (layout to a 1-bit image, then ESC/POS bytes), per ticket.

    .venv/bin/python bench/printing.py [--iterations 200] [--engine raqm|basic]

Every iteration prints a different ticket (label, people ahead, status URL), so the
QR code is encoded afresh each time as it is in service; fonts stay loaded, as they
do in a running server. Target (DESIGN.md section 6): at most 30 ms per ticket.
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import sys
import time
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from common import percentile

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from taboor.printers.escpos_raster import encode_ticket  # noqa: E402
from taboor.printers.fonts import default_engine  # noqa: E402
from taboor.printers.layout import (  # noqa: E402
    WIDTH_58MM,
    WIDTH_80MM,
    TicketPrint,
    render_ticket,
    status_url,
)
from taboor.printers.sample import SAMPLE_TICKET  # noqa: E402


def nth_ticket(base: TicketPrint, n: int) -> TicketPrint:
    return replace(
        base,
        label=f"A-{n % 1000:03d}",
        ahead=n % 40,
        wait_minutes=(n * 3) % 90,
        issued_local=base.issued_local + timedelta(minutes=n),
        status_url=status_url("http://192.168.1.10:8000", secrets.token_urlsafe(12)),
    )


def bench(lang: str, width: int, iterations: int, engine: str) -> dict[str, float]:
    base = replace(SAMPLE_TICKET, lang=lang)
    t = time.perf_counter()
    first = encode_ticket(render_ticket(base, width, engine=engine))
    cold = time.perf_counter() - t
    render_s, total_s = [], []
    for n in range(iterations):
        ticket = nth_ticket(base, n)
        t0 = time.perf_counter()
        image = render_ticket(ticket, width, engine=engine)
        t1 = time.perf_counter()
        encode_ticket(image)
        t2 = time.perf_counter()
        render_s.append(t1 - t0)
        total_s.append(t2 - t0)
    return {
        "cold_ms": cold * 1000,
        "bytes": len(first),
        "render_mean_ms": statistics.fmean(render_s) * 1000,
        "mean_ms": statistics.fmean(total_s) * 1000,
        "p50_ms": percentile(total_s, 50) * 1000,
        "p99_ms": percentile(total_s, 99) * 1000,
        "max_ms": max(total_s) * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=200)
    parser.add_argument("--engine", choices=["raqm", "basic"], default=default_engine())
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores; layout engine: {args.engine}")
    worst = 0.0
    for lang in ("ar", "en"):
        for width, paper in ((WIDTH_80MM, "80 mm"), (WIDTH_58MM, "58 mm")):
            r = bench(lang, width, args.iterations, args.engine)
            worst = max(worst, r["p99_ms"])
            print(
                f"{lang} {paper}: {args.iterations} tickets, render+encode mean "
                f"{r['mean_ms']:.1f} ms (render {r['render_mean_ms']:.1f}), "
                f"p50 {r['p50_ms']:.1f} ms, p99 {r['p99_ms']:.1f} ms, max {r['max_ms']:.1f} ms; "
                f"first ticket {r['cold_ms']:.0f} ms; {r['bytes']} bytes"
            )
    verdict = "meets" if worst <= 30 else "MISSES"
    print(f"worst p99 {worst:.1f} ms: {verdict} the 30 ms target")


if __name__ == "__main__":
    main()
