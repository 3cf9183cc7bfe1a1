"""Acknowledgement latency of `orchestra serve`: 1,000 signed deliveries from 8 concurrent clients.

Starts its own redis-server (free port, nothing on disk) and `orchestra serve` (gunicorn with
waitress workers) on loopback, sends a mix of deliveries (goal issues that enqueue a plan job,
pushes that enqueue a conflict scan, comments that enqueue nothing), and prints p50 / p99 / max
of the time from sending a request to reading its answer. With `--slow-clients N`, N more
connections are held open all along — four in five sent headers and the start of a body and
stall, one in five sent nothing — and a single delivery is timed once they are all connected.
Usage: `.venv/bin/python benchmarks/webhook_ack.py [--slow-clients 50]`.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import redis
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.modes.bench.scale import private_redis  # noqa: E402
from webhooks.signature import sign  # noqa: E402

SECRET = "benchmark-secret-not-real"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(check, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except (requests.ConnectionError, redis.ConnectionError):
            pass
        time.sleep(0.05)
    raise SystemExit(f"timed out waiting for {what}")


def deliveries(count: int) -> list[tuple[str, bytes]]:
    repo = {"full_name": "octo/cat", "default_branch": "main", "name": "cat", "owner": {"login": "octo"}}
    sender = {"login": "ann", "type": "User"}
    out = []
    for i in range(count):
        kind = i % 3
        if kind == 0:
            payload = {
                "action": "opened",
                "issue": {"number": i, "labels": [{"name": "orchestra:goal"}]},
                "repository": repo,
                "sender": sender,
                "installation": {"id": 1},
            }
            out.append(("issues", payload))
        elif kind == 1:
            payload = {"ref": "refs/heads/main", "after": f"{i:040x}", "repository": repo, "sender": sender}
            out.append(("push", payload))
        else:
            payload = {
                "action": "created",
                "issue": {"number": 1},
                "comment": {"id": i, "body": "looks good"},
                "repository": repo,
                "sender": sender,
            }
            out.append(("issue_comment", payload))
    return [(event, json.dumps(p).encode()) for event, p in out]


def open_slow_clients(port: int, count: int) -> list[socket.socket]:
    """`count` connections that stall: four in five mid-body, one in five before sending anything."""
    stalled = []
    for index in range(count):
        sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        if index % 5 != 4:
            sock.sendall(
                b"POST /webhook HTTP/1.1\r\nHost: bench\r\nX-GitHub-Event: issues\r\n"
                b'Content-Type: application/json\r\nContent-Length: 4000\r\n\r\n{"action": "op'
            )
        stalled.append(sock)
    return stalled


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--slow-clients", type=int, default=0, help="connections that stall mid-request during the run")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="orchestra-bench-"))
    http_port = free_port()
    redis_server = contextlib.ExitStack()
    try:
        redis_url = redis_server.enter_context(private_redis(workdir))  # the bench's own throwaway server
    except RuntimeError as exc:
        sys.exit(str(exc))
    env = {
        **os.environ,
        "ORCHESTRA_WEBHOOK_SECRET": SECRET,
        "ORCHESTRA_REDIS_URL": redis_url,
        "ORCHESTRA_APP_ID": "1",
        "ORCHESTRA_LOG_LEVEL": "WARNING",
    }
    orchestra = str(Path(sys.executable).with_name("orchestra"))
    server = subprocess.Popen(
        [
            orchestra,
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(http_port),
            "--workers",
            str(args.workers),
            "--threads",
            str(args.threads),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=(workdir / "serve.log").open("w"),
    )
    base = f"http://127.0.0.1:{http_port}"
    stalled: list[socket.socket] = []
    try:
        conn = redis.Redis.from_url(redis_url)
        wait_until(conn.ping, 15, "redis-server")
        wait_until(lambda: requests.get(f"{base}/healthz", timeout=1).ok, 30, "orchestra serve")
        work = deliveries(args.requests)
        sessions: dict[int, requests.Session] = {}

        def send(item: tuple[str, bytes]) -> tuple[float, int]:
            import threading

            session = sessions.setdefault(threading.get_ident(), requests.Session())
            event, body = item
            headers = {
                "X-GitHub-Event": event,
                "X-GitHub-Delivery": str(uuid.uuid4()),
                "X-Hub-Signature-256": sign(SECRET.encode(), body),
                "Content-Type": "application/json",
            }
            started = time.perf_counter()
            try:
                status = session.post(f"{base}/webhook", data=body, headers=headers, timeout=10).status_code
            except requests.Timeout:
                status = 0  # no answer within 10 s (GitHub's own delivery timeout)
            return time.perf_counter() - started, status

        for item in work[:50]:  # warm-up: connections, imports, first Redis round trips
            send(item)
        conn.flushdb()
        stalled += open_slow_clients(http_port, args.slow_clients)
        if stalled:
            seconds, status = send(work[0])
            print(
                f"one delivery with {len(stalled)} slow clients connected: {status or 'no answer'} after "
                f"{seconds * 1000:.1f} ms"
            )
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=args.clients) as pool:
            results = list(pool.map(send, work))
        elapsed = time.perf_counter() - started
    finally:
        for sock in stalled:
            sock.close()
        server.terminate()
        server.wait(timeout=15)
        redis_server.close()
        shutil.rmtree(workdir, ignore_errors=True)

    latencies = sorted(seconds * 1000 for seconds, _status in results)
    statuses = Counter(status for _seconds, status in results)
    p50 = statistics.median(latencies)
    p99 = latencies[int(len(latencies) * 0.99) - 1]
    print(
        f"deliveries: {len(results)} from {args.clients} clients in {elapsed:.2f}s "
        f"({len(results) / elapsed:.0f}/s); {args.workers} worker processes x {args.threads} threads; "
        f"{args.slow_clients} slow clients"
    )
    print(f"status codes: {dict(sorted(statuses.items()))}")
    print(f"ack latency ms: p50 {p50:.2f}  p99 {p99:.2f}  max {latencies[-1]:.2f}")
    return 0 if set(statuses) <= {202, 204} else 1


if __name__ == "__main__":
    raise SystemExit(main())
