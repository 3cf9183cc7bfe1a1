"""The model stand-in: a real HTTP server speaking OpenAI Chat Completions, Responses and Anthropic Messages.

It also answers `GET /v1/models` (`.models` lists; `.listings` records the calls), the free call
every pre-flight makes.

The real `openai` and `anthropic` SDKs talk to it over loopback (plain and streamed). Tests
drive it with provider-neutral `Turn`s or a policy function, inject faults (429 with
retry-after, 529 overloaded, 500, 401, slow answers, answers cut mid-way, streams ending
early, error events inside a stream) and assert on the recorded requests. The wire formats
live in `model_wire.py`.
"""

from __future__ import annotations

import itertools
import json
import random
import select
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from bot.llm.types import Message
from tests.support.model_wire import (
    Turn,
    answer_anthropic,
    answer_openai,
    answer_responses,
    request_messages,
)

__all__ = ["Fault", "ModelServer", "RecordedRequest", "Turn", "model_server", "request_messages"]

SECRET_HEADERS = {"authorization", "x-api-key", "api-key"}


@dataclass
class Fault:
    """What the next request gets instead of (or before) its turn."""

    #: "429" | "529" | "500" | "401" | "slow" | "cut" (connection dropped mid-answer) |
    #: "eof" (a close-delimited stream that ends cleanly but early) | "overloaded-event"
    #: (a stream that starts, then carries the provider's in-stream error: Anthropic's
    #: `event: error` overloaded_error, a Chat Completions `{"error": ...}` chunk, a Responses
    #: `error` event)
    kind: str
    retry_after: float | None = None
    retry_after_ms: float | None = None
    delay: float = 0.0


@dataclass
class RecordedRequest:
    """A request as the server saw it; secret headers are replaced by "<redacted>"."""

    provider: str
    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    auth_present: bool

    @property
    def messages(self) -> list[Message]:
        """The conversation this request carried, provider-neutral."""
        return request_messages(self.body, self.provider)


Policy = Callable[[dict[str, Any], str], Turn]


class _QuietServer(ThreadingHTTPServer):
    """Clients that hang up (an SDK closing its keep-alive connection, a cut answer) are normal here."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        import sys

        if isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError)):
            return
        super().handle_error(request, client_address)


class ModelServer:
    """The stand-in: `.script(turns)` or `.policy(fn)`, `.fail_next(kind, n)`, `.requests`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._httpd = _QuietServer(("127.0.0.1", 0), _Handler)
        self._httpd.daemon_threads = True
        self._httpd.stand_in = self  # type: ignore[attr-defined]
        self.port = self._httpd.server_address[1]
        self.openai_base_url = f"http://127.0.0.1:{self.port}/v1"
        self.anthropic_base_url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()
        self._ids = itertools.count(1)
        self.reset()

    # -- driving -----------------------------------------------------------------------------
    def reset(self) -> None:
        with self._lock:
            self.requests: list[RecordedRequest] = []
            self._turns: list[Turn] = []
            self._policy: Policy | None = None
            self._faults: list[Fault] = []
            self._random_faults: tuple[float, itertools.cycle[Fault], random.Random] | None = None
            #: Faults drawn by `fail_randomly`, by kind.
            self.injected: dict[str, int] = {}
            self.api_key: str | None = None  # when set, any other key gets a 401
            #: What `GET /v1/models` lists (both SDKs' free call; `orchestra doctor` and every pre-flight make it).
            self.models: list[str] = ["gpt-stand-in", "claude-stand-in"]
            #: The `GET /v1/models` calls: (provider, key present), apart from `requests` (the model calls).
            self.listings: list[tuple[str, bool]] = []

    def script(self, turns: list[Turn]) -> None:
        """Answer the next requests with these turns, in order."""
        with self._lock:
            self._turns = list(turns)
            self._policy = None

    def policy(self, fn: Policy) -> None:
        """Answer every request with ``fn(request_json, provider)``; provider is "openai",
        "openai-responses" or "anthropic"."""
        with self._lock:
            self._policy = fn

    def policy_on_messages(self, fn: Callable[[list[Message]], Turn]) -> None:
        """Like `policy`, but ``fn`` sees the conversation as provider-neutral `Message`s, so one
        policy drives every SDK the same way."""
        self.policy(lambda body, provider: fn(request_messages(body, provider)))

    def fail_next(
        self,
        kind: str,
        n: int = 1,
        *,
        retry_after: float | None = None,
        retry_after_ms: float | None = None,
        delay: float = 0.0,
    ) -> None:
        """Queue `n` faults of one kind for the next requests."""
        if kind not in {"429", "529", "500", "401", "slow", "cut", "eof", "overloaded-event"}:
            raise ValueError(f"unknown fault {kind!r}")
        with self._lock:
            self._faults += [Fault(kind, retry_after, retry_after_ms, delay) for _ in range(n)]

    def fail_randomly(
        self,
        rate: float,
        kinds: tuple[str, ...] = ("429", "529", "500", "slow"),
        *,
        seed: int = 0,
        retry_after_ms: float | None = 100,
        delay: float = 2.0,
    ) -> None:
        """From now on, a seeded `rate` of requests (after any queued by `fail_next`) get a fault of one of
        `kinds`, taken in turn (so a few faults already cover every kind); `injected` counts them by kind.
        `rate` 0 turns it off."""
        for kind in kinds:
            if kind not in {"429", "529", "500", "slow"}:
                raise ValueError(f"unknown random fault {kind!r}")
        faults = tuple(
            Fault(kind, None, retry_after_ms if kind in {"429", "529"} else None, delay if kind == "slow" else 0.0)
            for kind in kinds
        )
        with self._lock:
            self._random_faults = (rate, itertools.cycle(faults), random.Random(seed)) if rate > 0 else None

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    # -- used by the handler -----------------------------------------------------------------
    def _record(self, request: RecordedRequest) -> Fault | None:
        with self._lock:
            self.requests.append(request)
            if self._faults:
                return self._faults.pop(0)
            if self._random_faults is None:
                return None
            rate, faults, draw = self._random_faults
            if draw.random() >= rate:
                return None
            fault = next(faults)
            self.injected[fault.kind] = self.injected.get(fault.kind, 0) + 1
            return fault

    def _next_turn(self, body: dict[str, Any], provider: str) -> Turn | None:
        with self._lock:
            policy = self._policy
            if policy is None:
                return self._turns.pop(0) if self._turns else None
        return policy(body, provider)

    def next_id(self, prefix: str) -> str:
        return f"{prefix}_{next(self._ids)}"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    chunked = True

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        return

    @property
    def stand_in(self) -> ModelServer:
        return self.server.stand_in  # type: ignore[attr-defined]

    def do_GET(self) -> None:
        """`GET /v1/models`: the list both SDKs fetch (Anthropic's SDK sends `anthropic-version`)."""
        if self.path.split("?")[0] != "/v1/models":
            self._json(404, {"error": {"message": f"stand-in: no route GET {self.path}", "type": "not_found"}})
            return
        provider = "anthropic" if self.headers.get("anthropic-version") else "openai"
        key = self.headers.get("x-api-key") or (self.headers.get("authorization") or "").removeprefix("Bearer ")
        with self.stand_in._lock:
            self.stand_in.listings.append((provider, bool(key)))
            expected, models = self.stand_in.api_key, list(self.stand_in.models)
        if expected is not None and key != expected:
            self._fault(Fault("401"), provider, key)
        elif provider == "anthropic":
            data = [{"id": m, "type": "model", "display_name": m, "created_at": "2025-01-01T00:00:00Z"} for m in models]
            self._json(
                200,
                {
                    "data": data,
                    "has_more": False,
                    "first_id": models[0] if models else None,
                    "last_id": models[-1] if models else None,
                },
            )
        else:
            self._json(
                200,
                {
                    "object": "list",
                    "data": [{"id": m, "object": "model", "created": 0, "owned_by": "stand-in"} for m in models],
                },
            )

    def do_POST(self) -> None:
        routes = {"/v1/chat/completions": "openai", "/v1/responses": "openai-responses", "/v1/messages": "anthropic"}
        provider = routes.get(self.path.split("?")[0])
        length = int(self.headers.get("content-length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        if provider is None:
            self._json(404, {"error": {"message": f"stand-in: no route {self.path}", "type": "not_found"}})
            return
        key = self.headers.get("x-api-key") or (self.headers.get("authorization") or "").removeprefix("Bearer ")
        headers = {k.lower(): ("<redacted>" if k.lower() in SECRET_HEADERS else v) for k, v in self.headers.items()}
        fault = self.stand_in._record(RecordedRequest(provider, self.path, headers, body, bool(key)))
        expected = self.stand_in.api_key
        if fault is not None and fault.kind == "slow":
            time.sleep(fault.delay)
            if self._client_gone():
                return  # the client timed out; this request consumes no turn
        elif fault is not None and fault.kind == "overloaded-event" and body.get("stream"):
            self._overloaded_event(body, provider)
            return
        elif fault is not None and fault.kind not in {"cut", "eof", "overloaded-event"}:
            self._fault(fault, provider, key)
            return
        if expected is not None and key != expected:
            self._fault(Fault("401"), provider, key)
            return
        turn = self.stand_in._next_turn(body, provider)
        if turn is None:
            self._error(400, provider, "invalid_request_error", "stand-in: the script has no turn left")
            return
        broken = fault is not None and fault.kind in {"cut", "eof"}
        if broken:
            with self.stand_in._lock:  # the broken answer never arrives whole: give the turn back
                self.stand_in._turns.insert(0, turn)
        self.chunked = not (fault is not None and fault.kind == "eof")
        answer = {"openai": answer_openai, "openai-responses": answer_responses, "anthropic": answer_anthropic}[
            provider
        ]
        answer(self, body, turn, cut_after=3 if broken else None)

    def _overloaded_event(self, body: dict[str, Any], provider: str) -> None:
        """A stream that starts with HTTP 200, then fails with the provider's in-stream error."""
        model = body.get("model", "?")
        events: list[tuple[str | None, Any]]
        if provider == "anthropic":
            start = {
                "id": self.stand_in.next_id("msg"),
                "type": "message",
                "role": "assistant",
                "model": model,
                "content": [],
                "stop_reason": None,
                "stop_sequence": None,
                "usage": {"input_tokens": 1, "output_tokens": 1},
            }
            events = [
                ("message_start", {"type": "message_start", "message": start}),
                ("error", {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}),
            ]
        elif provider == "openai":
            chunk = {
                "id": "chatcmpl-x",
                "object": "chat.completion.chunk",
                "created": 0,
                "model": model,
                "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}],
            }
            events = [(None, chunk), (None, {"error": {"message": "The server had an error", "type": "server_error"}})]
        else:
            events = [
                (
                    "error",
                    {
                        "type": "error",
                        "code": "server_error",
                        "message": "The server had an error",
                        "param": None,
                        "sequence_number": 0,
                    },
                )
            ]
        self._sse(iter(events))

    def next_id(self, prefix: str) -> str:
        return self.stand_in.next_id(prefix)

    def _client_gone(self) -> bool:
        readable, _, _ = select.select([self.connection], [], [], 0)
        if not readable:
            return False
        try:
            return self.connection.recv(1, socket.MSG_PEEK) == b""
        except OSError:
            return True

    def _fault(self, fault: Fault, provider: str, key: str) -> None:
        extra: dict[str, str] = {}
        if fault.retry_after is not None:
            extra["retry-after"] = f"{fault.retry_after:g}"
        if fault.retry_after_ms is not None:
            extra["retry-after-ms"] = f"{fault.retry_after_ms:g}"
        if fault.kind == "429":
            self._error(429, provider, "rate_limit_error", "stand-in: rate limited", extra)
        elif fault.kind == "529":
            self._error(529, provider, "overloaded_error", "Overloaded", extra)
        elif fault.kind == "500":
            self._error(500, provider, "api_error", "stand-in: internal error", extra)
        else:  # 401 echoes the key like real providers partly do, so tests can prove we scrub it
            self._error(401, provider, "authentication_error", f"Incorrect API key provided: {key}")

    def _error(
        self, status: int, provider: str, kind: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        if provider == "anthropic":
            body: dict[str, Any] = {"type": "error", "error": {"type": kind, "message": message}}
        else:
            body = {"error": {"message": message, "type": kind, "param": None, "code": kind}}
        self._json(status, body, headers)

    def _json(
        self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None, cut: bool = False
    ) -> None:
        """Answer JSON; `cut` sends half the body and drops the connection."""
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if cut:
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.wfile.write(data)

    def _sse(
        self, events: Iterator[tuple[str | None, Any]], cut_after: int | None = None, chunked: bool = True
    ) -> None:
        """Stream server-sent events, chunked or delimited by closing the connection.
        `cut_after` stops after that many events: chunked, without the final chunk (a broken
        stream); close-delimited, with a clean close (a stream that merely ends early)."""
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("cache-control", "no-cache")
        self.send_header("transfer-encoding" if chunked else "connection", "chunked" if chunked else "close")
        self.end_headers()
        self.close_connection = not chunked
        for count, (name, data) in enumerate(events):
            if cut_after is not None and count >= cut_after:
                self.close_connection = True
                self.wfile.flush()
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            line = f"event: {name}\n" if name else ""
            payload = data if isinstance(data, str) else json.dumps(data)
            event = f"{line}data: {payload}\n\n".encode()
            self.wfile.write(f"{len(event):x}\r\n".encode() + event + b"\r\n" if chunked else event)
            self.wfile.flush()
        if chunked:
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()


@pytest.fixture(scope="session")
def _model_server_session() -> Iterator[ModelServer]:
    server = ModelServer()
    yield server
    server.stop()


@pytest.fixture
def model_server(_model_server_session: ModelServer) -> Iterator[ModelServer]:
    """The stand-in, reset for this test (script, faults, recorded requests, expected key)."""
    _model_server_session.reset()
    yield _model_server_session
    _model_server_session.reset()
