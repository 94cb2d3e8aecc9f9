"""Issue throughput over HTTP with concurrent kiosks, then call-next latency.

    .venv/bin/python bench/issue_and_call.py [--clients 16] [--seconds 10]

Starts `taboor run` on a fresh SQLite instance in a child process, drives it from
this process with keep-alive HTTP connections, and prints the numbers.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import threading
import time
from urllib.request import urlopen

from common import percentile, staff_token, taboor_server


def post(conn: http.client.HTTPConnection, path: str, body: dict | None, token: str):
    payload = json.dumps(body or {})
    conn.request(
        "POST",
        path,
        payload,
        {"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    response = conn.getresponse()
    data = response.read()
    return response.status, data


def bench_issue(base: str, token: str, center: str, clients: int, seconds: float) -> dict:
    """Kiosks press services round robin over the whole catalog, as a floor would."""
    host, port = base.removeprefix("http://").split(":")
    with urlopen(f"{base}/api/v1/centers/{center}/services") as response:
        services = [s["code"] for s in json.load(response)]
    latencies: list[list[float]] = [[] for _ in range(clients)]
    statuses: list[dict[int, int]] = [{} for _ in range(clients)]
    stop = time.perf_counter() + seconds
    start = threading.Barrier(clients + 1)

    def kiosk(i: int) -> None:
        conn = http.client.HTTPConnection(host, int(port), timeout=30)
        path = f"/api/v1/centers/{center}/tickets"
        start.wait()
        n = 0
        while time.perf_counter() < stop:
            t = time.perf_counter()
            status, _ = post(conn, path, {"service": services[(i + n) % len(services)]}, token)
            latencies[i].append(time.perf_counter() - t)
            statuses[i][status] = statuses[i].get(status, 0) + 1
            n += 1
        conn.close()

    threads = [threading.Thread(target=kiosk, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    start.wait()
    began = time.perf_counter()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - began
    flat = [x for per in latencies for x in per]
    merged: dict[int, int] = {}
    for per in statuses:
        for k, v in per.items():
            merged[k] = merged.get(k, 0) + v
    return {
        "requests": len(flat),
        "per_s": len(flat) / elapsed,
        "statuses": merged,
        "p50_ms": percentile(flat, 50) * 1000,
        "p99_ms": percentile(flat, 99) * 1000,
        "max_ms": max(flat) * 1000,
    }


def bench_call_next(base: str, demo: dict, rounds: int) -> dict:
    host, port = base.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    clerk = next(u for u in demo["users"] if u["role"] == "clerk")
    token = staff_token(conn, clerk)
    counter = clerk["counter_id"]
    post(conn, f"/api/v1/counters/{counter}/open", None, token)
    latencies = []
    for _ in range(rounds):
        t = time.perf_counter()
        status, data = post(conn, f"/api/v1/counters/{counter}/next", None, token)
        latencies.append(time.perf_counter() - t)
        if status == 204:
            break
        if status != 200:
            raise RuntimeError(f"call next answered {status}: {data[:200]!r}")
        ticket = json.loads(data)
        post(conn, f"/api/v1/tickets/{ticket['id']}/no-show", None, token)
    return {
        "calls": len(latencies),
        "p50_ms": percentile(latencies, 50) * 1000,
        "p99_ms": percentile(latencies, 99) * 1000,
        "max_ms": max(latencies) * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--calls", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=3, help="Fresh server each time.")
    args = parser.parse_args()
    sync = os.environ.get("TABOOR_SQLITE_SYNCHRONOUS", "FULL (the default)")
    print(f"machine: {os.cpu_count()} cores; SQLite, synchronous={sync}")
    rates = []
    for run in range(1, args.repeat + 1):
        with taboor_server() as (base, demo):
            kiosk = next(d for d in demo["devices"] if d["kind"] == "kiosk")["token"]
            issue = bench_issue(base, kiosk, demo["center"], args.clients, args.seconds)
            call = bench_call_next(base, demo, args.calls)
        rates.append(issue["per_s"])
        print(
            f"run {run}: issue over HTTP, {args.clients} concurrent kiosks, "
            f"{args.seconds:.0f} s: {issue['requests']} tickets, {issue['per_s']:.0f} tickets/s, "
            f"p50 {issue['p50_ms']:.1f} ms, p99 {issue['p99_ms']:.1f} ms, "
            f"max {issue['max_ms']:.1f} ms, statuses {issue['statuses']}"
        )
        print(
            f"run {run}: call next (one clerk, {call['calls']} calls): "
            f"p50 {call['p50_ms']:.1f} ms, p99 {call['p99_ms']:.1f} ms, "
            f"max {call['max_ms']:.1f} ms"
        )
    rates.sort()
    print(
        f"issue throughput over {args.repeat} runs: median {rates[len(rates) // 2]:.0f}/s, "
        f"min {rates[0]:.0f}/s, max {rates[-1]:.0f}/s"
    )


if __name__ == "__main__":
    main()
