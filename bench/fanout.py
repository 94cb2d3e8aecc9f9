"""Call -> every display in the room has it: latency with N connected Socket.IO clients.

    .venv/bin/python bench/fanout.py [--clients 50 200 500] [--rounds 200] [--procs 1]
                                     [--mode threading gevent]

Starts `taboor run` on a fresh SQLite instance, connects N hall displays (WebSocket
transport, display device token, all in the demo center's room; the light asyncio
client of bench/light_socketio.py, so that the clients cost little next to the
server) spread over --procs client processes, then a clerk calls tickets over HTTP one at a time.
For each call it records the time from sending the HTTP request to the moment the
last client got `ticket.called` (and each client's own delay). The clients share the
machine with the server, so the numbers are an upper bound for the server.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import multiprocessing as mp
import os
import time

from common import percentile, staff_token, taboor_server
from light_socketio import Display

CENTER = "DAM-MIDAN"


def clients_process(base: str, token: str, count: int, ready, stop, out) -> None:
    """Connect `count` displays, report when joined, then each ticket.called arrival time."""
    asyncio.run(_clients(base, token, count, ready, stop, out))


async def _clients(base: str, token: str, count: int, ready, stop, out) -> None:
    arrivals: list[tuple[int, float]] = []
    displays = [Display(base, token, CENTER) for _ in range(count)]
    gate = asyncio.Semaphore(25)  # connect in small waves, as displays switched on do
    joined = asyncio.Event()
    count_in = 0

    async def run(display: Display) -> None:
        nonlocal count_in
        async with gate:
            await display.connect()
        count_in += 1
        if count_in == count:
            joined.set()
        # Listen at once: a display that waits for the others would miss its pings.
        await display.listen(
            "ticket.called", lambda p, at: arrivals.append((p["ticket"]["id"], at))
        )

    listeners = [asyncio.create_task(run(d)) for d in displays]
    while not joined.is_set():
        await asyncio.sleep(0.05)
        for task in listeners:
            if task.done():
                raise RuntimeError(f"a display could not connect: {task.exception()}")
    ready.set()
    while not stop.is_set():
        await asyncio.sleep(0.02)
        for task in listeners:
            if task.done():
                raise RuntimeError(f"a display lost its connection: {task.exception()}")
        if arrivals:
            batch, arrivals[:] = arrivals[:], []
            out.put(batch)
    for task in listeners:
        task.cancel()
    await asyncio.gather(*listeners, return_exceptions=True)
    await asyncio.gather(*(d.close() for d in displays))
    out.put(None)


def post(conn: http.client.HTTPConnection, path: str, token: str, body: dict | None = None):
    conn.request(
        "POST",
        path,
        json.dumps(body or {}),
        {"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    response = conn.getresponse()
    return response.status, response.read()


def bench(base: str, demo: dict, clients: int, rounds: int, procs: int) -> dict:
    host, port = base.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    kiosk = next(d for d in demo["devices"] if d["kind"] == "kiosk")["token"]
    display = next(d for d in demo["devices"] if d["kind"] == "display")["token"]
    clerk = next(u for u in demo["users"] if u["role"] == "clerk")
    token = staff_token(conn, clerk)
    counter = clerk["counter_id"]
    post(conn, f"/api/v1/counters/{counter}/open", token)
    for _ in range(rounds):
        post(
            conn,
            f"/api/v1/centers/{CENTER}/tickets",
            kiosk,
            {"service": "civil-extract-individual"},
        )

    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    stop = ctx.Event()
    readies, workers = [], []
    began = time.perf_counter()
    for i in range(procs):
        share = clients // procs + (1 if i < clients % procs else 0)
        ready = ctx.Event()
        worker = ctx.Process(target=clients_process, args=(base, display, share, ready, stop, out))
        worker.start()
        readies.append(ready)
        workers.append(worker)
    for ready in readies:
        if not ready.wait(300):
            raise RuntimeError("clients did not connect")
    connect_s = time.perf_counter() - began

    arrivals: dict[int, list[float]] = {}
    sent: dict[int, float] = {}
    all_in: list[float] = []
    each: list[float] = []
    for _ in range(rounds):
        t = time.perf_counter()
        status, data = post(conn, f"/api/v1/counters/{counter}/next", token)
        if status != 200:
            raise RuntimeError(f"call next answered {status}: {data[:200]!r}")
        ticket = json.loads(data)["id"]
        sent[ticket] = t
        deadline = time.perf_counter() + 10
        while len(arrivals.get(ticket, [])) < clients and time.perf_counter() < deadline:
            batch = out.get(timeout=10)
            for tid, at in batch:
                arrivals.setdefault(tid, []).append(at)
        got = arrivals.get(ticket, [])
        if len(got) < clients:
            raise RuntimeError(f"only {len(got)} of {clients} clients got ticket {ticket}")
        all_in.append(max(got) - t)
        each.extend(at - t for at in got)
        post(conn, f"/api/v1/tickets/{ticket}/no-show", token)
    stop.set()
    for _ in workers:  # each says None once its clients are gone
        while out.get(timeout=60) is not None:
            pass
    for worker in workers:
        worker.join(60)
    conn.close()
    return {
        "connect_s": connect_s,
        "p50_ms": percentile(all_in, 50) * 1000,
        "p99_ms": percentile(all_in, 99) * 1000,
        "max_ms": max(all_in) * 1000,
        "each_p50_ms": percentile(each, 50) * 1000,
        "each_p99_ms": percentile(each, 99) * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, nargs="+", default=[50, 200, 500])
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--procs", type=int, default=1, help="Client processes.")
    parser.add_argument(
        "--mode",
        nargs="+",
        default=["threading", "gevent"],
        choices=["threading", "gevent"],
        help="Server live_mode(s) to measure.",
    )
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores; server and clients on the same machine")
    for mode in args.mode:
        for clients in args.clients:
            with taboor_server({"TABOOR_LIVE_MODE": mode}) as (base, demo):
                r = bench(base, demo, clients, args.rounds, min(args.procs, clients))
            print(
                f"{mode}: {clients} clients ({r['connect_s']:.1f} s to connect and join), "
                f"{args.rounds} calls: call -> all received p50 {r['p50_ms']:.1f} ms, "
                f"p99 {r['p99_ms']:.1f} ms, max {r['max_ms']:.1f} ms; "
                f"per client p50 {r['each_p50_ms']:.1f} ms, p99 {r['each_p99_ms']:.1f} ms",
                flush=True,
            )


if __name__ == "__main__":
    main()
