"""`orchestra serve` as operators meet it, as a real process on a private Redis: metrics that add up
over its worker processes, readiness that follows Redis, slow clients that do not hold up a
delivery, and a stop that finishes the delivery in flight."""

from __future__ import annotations

import json
import os
import signal
import socket
import time
from pathlib import Path

import redis
import requests
from prometheus_client.parser import text_string_to_metric_families

from tests.support.orchestra_serve import Served, goal_issue, orchestra_serve, signed_headers
from tests.support.redis_server import PrivateRedis
from tests.support.waiting import wait_for
from tests.support.webhook_delivery import rq_job_ids
from webhooks.waitress_worker import READ_TIMEOUT_S


def scrape(served: Served) -> dict[str, float]:
    """`/metrics` on a new connection, as {sample name with labels: value}."""
    text = requests.get(f"{served.base}/metrics", timeout=5).text
    samples: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
            samples[f"{sample.name}{{{labels}}}"] = sample.value
    return samples


def test_six_deliveries_read_six_on_every_scrape_whichever_process_answers(
    redis_conn: redis.Redis, redis_url: str, tmp_path: Path
) -> None:
    with orchestra_serve(redis_url, tmp_path, workers=2) as served:
        for number in range(1, 7):  # each on a new connection, so both processes take some
            assert served.deliver("issues", goal_issue(number)).status_code == 202
        _assert_scrapes_read(served, 6)
        # Workers that die are replaced; their counts stay in the sum, so totals never go backwards.
        before = _workers(served)
        for pid in before:
            os.kill(pid, signal.SIGKILL)
        wait_for(
            lambda: len(set(_workers(served)) - set(before)) == 2, timeout=30, what="gunicorn to replace both workers"
        )
        wait_for(lambda: requests.get(f"{served.base}/healthz", timeout=5).ok, timeout=30, what="a new worker")
        _assert_scrapes_read(served, 6)
    assert len(rq_job_ids(redis_conn)) == 6


def _assert_scrapes_read(served: Served, count: int) -> None:
    for _scrape in range(12):  # each on a new connection: whichever process answers
        samples = scrape(served)
        assert samples.get("orchestra_webhook_deliveries_total{event=issues,outcome=enqueued}") == count
        assert samples.get("orchestra_webhook_ack_seconds_count{}") == count
        assert samples.get("orchestra_queue_depth{queue=default}") == count


def _workers(served: Served) -> list[int]:
    """The pids of gunicorn's worker processes (children of the master)."""
    pid = served.process.pid
    return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def test_readyz_follows_redis_while_healthz_stays_ok(tmp_path: Path) -> None:
    private = PrivateRedis(tmp_path)
    try:
        with orchestra_serve(private.url, tmp_path, workers=1) as served:
            ready = requests.get(f"{served.base}/readyz", timeout=5)
            assert ready.status_code == 200 and ready.json() == {"ok": True}
            private.stop()
            started = time.monotonic()
            down = requests.get(f"{served.base}/readyz", timeout=5)
            assert down.status_code == 503
            assert "Redis" in down.json()["error"] and "\n" not in down.text.strip()
            assert time.monotonic() - started < 2  # bounded: a down Redis does not hold the probe
            assert requests.get(f"{served.base}/healthz", timeout=5).json() == {"ok": True}
            assert served.deliver("issues", goal_issue(1)).status_code == 503
    finally:
        private.stop()


def _slow_clients(port: int, count: int) -> list[socket.socket]:
    """`count` connections: four in five send headers and the start of a body, then stall; the rest send nothing."""
    sockets = []
    for index in range(count):
        sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        if index % 5 != 4:
            sock.sendall(
                b"POST /webhook HTTP/1.1\r\nHost: orchestra\r\nX-GitHub-Event: issues\r\n"
                b'Content-Type: application/json\r\nContent-Length: 4000\r\n\r\n{"action": "op'
            )
        sockets.append(sock)
    return sockets


def _closed_by_server(sock: socket.socket) -> bool:
    sock.setblocking(False)
    try:
        return sock.recv(1024) == b""
    except BlockingIOError:
        return False
    except ConnectionResetError:
        return True


def test_fifty_slow_clients_do_not_delay_a_delivery_and_are_cut_off(
    redis_conn: redis.Redis, redis_url: str, tmp_path: Path
) -> None:
    with orchestra_serve(redis_url, tmp_path, workers=2) as served:
        stalled = _slow_clients(served.port, 50)
        try:
            for number in (1, 2, 3):
                started = time.monotonic()
                response = served.deliver("issues", goal_issue(number), timeout=30)
                elapsed = time.monotonic() - started
                assert response.status_code == 202 and elapsed < 1.0, (
                    f"answered {response.status_code} in {elapsed:.2f}s"
                )
            # The read timeout: a connection that sends nothing more is closed by the server.
            wait_for(
                lambda: all(_closed_by_server(sock) for sock in stalled),
                timeout=READ_TIMEOUT_S + 10,
                interval=0.5,
                what="the server to close the stalled connections",
            )
        finally:
            for sock in stalled:
                sock.close()
    assert rq_job_ids(redis_conn) == ["plan-octo_scat-1", "plan-octo_scat-2", "plan-octo_scat-3"]


def _refused(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except ConnectionRefusedError:
        return True
    return False


def test_a_stop_finishes_the_delivery_being_received(redis_conn: redis.Redis, redis_url: str, tmp_path: Path) -> None:
    with orchestra_serve(redis_url, tmp_path, workers=1) as served:
        body = json.dumps(goal_issue(9)).encode()
        head = "".join(f"{k}: {v}\r\n" for k, v in signed_headers("issues", body).items())
        sock = socket.create_connection(("127.0.0.1", served.port), timeout=10)
        sock.sendall(
            f"POST /webhook HTTP/1.1\r\nHost: orchestra\r\n{head}Content-Length: {len(body)}\r\n\r\n".encode()
            + body[:20]
        )
        served.process.terminate()
        wait_for(lambda: _refused(served.port), timeout=10, what="the stopping server to refuse new connections")
        sock.sendall(body[20:])
        answer = sock.recv(4096).decode()
        sock.close()
        assert answer.startswith("HTTP/1.1 202"), answer
        assert served.process.wait(timeout=15) == 0, served.output()
    assert rq_job_ids(redis_conn) == ["plan-octo_scat-9"]
