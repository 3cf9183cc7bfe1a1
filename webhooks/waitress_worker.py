"""`WaitressWorker`: a gunicorn worker process that serves the app with waitress.

gunicorn keeps what it is good at — forking and supervising several worker processes, heartbeats,
graceful restarts and shutdown — while each worker reads requests the way waitress does: in one
event loop that buffers a request's headers *and body* before a thread runs the app. A client
that sends half a body, or nothing at all, holds a buffer and a socket, never an app thread, so
fifty of them do not delay a real delivery; waitress closes a connection that sent nothing for
`channel_timeout` seconds.
"""

from __future__ import annotations

import logging
import os
import time
from typing import Any

from gunicorn.workers.base import Worker
from waitress import wasyncore
from waitress.channel import HTTPChannel
from waitress.server import BaseWSGIServer, create_server

#: Seconds a connection may stay silent (no byte of a request arriving) before it is closed.
READ_TIMEOUT_S = 10
#: GitHub caps webhook payloads at 25 MB; waitress answers 413 to a larger body before the app sees it.
MAX_BODY = 25 * 1024 * 1024
#: How often the event loop wakes to heartbeat and notice a stop request, in seconds.
TICK_S = 0.5
#: How long a stopping worker keeps idle connections open, for a request already on its way.
LINGER_S = 1.0


def _in_flight(channel: Any) -> bool:
    """True while a connection is receiving a request, running it, or sending its answer."""
    return bool(channel.request is not None or channel.requests or channel.total_outbufs_len)


class WaitressWorker(Worker):
    """One gunicorn worker: waitress's event loop on gunicorn's listening sockets, `--threads` app threads."""

    def run(self) -> None:
        # waitress warns each time a request waits for a free thread; at a few milliseconds a
        # request that is routine, and the ack latency histogram is where saturation shows.
        logging.getLogger("waitress.queue").setLevel(logging.ERROR)
        socket_map: dict[int, Any] = {}
        server = create_server(
            self.wsgi,
            map=socket_map,
            sockets=[listener.sock for listener in self.sockets],
            threads=self.cfg.threads,
            channel_timeout=READ_TIMEOUT_S,
            cleanup_interval=1,
            connection_limit=self.cfg.worker_connections,
            max_request_body_size=MAX_BODY,
            ident="orchestra",
            expose_tracebacks=False,
        )
        try:
            self._serve(socket_map)
            self._drain(socket_map)
        finally:
            server.task_dispatcher.shutdown(cancel_pending=True, timeout=5)
            wasyncore.close_all(socket_map)

    def _serve(self, socket_map: dict[int, Any]) -> None:
        next_beat = 0.0
        while self.alive:
            now = time.monotonic()
            if now >= next_beat:  # the heartbeat gunicorn's master watches, about once a tick
                self.notify()
                next_beat = now + TICK_S
                if self.ppid != os.getppid():
                    self.log.info("Parent changed, shutting down: %s", self)
                    return
            wasyncore.loop(timeout=TICK_S, map=socket_map, use_poll=True, count=1)

    def _drain(self, socket_map: dict[int, Any]) -> None:
        """Graceful stop: close the listening sockets, finish what is in flight within
        `graceful_timeout`, and keep idle connections open for `LINGER_S` in case a request is on
        its way on one of them."""
        for dispatcher in list(socket_map.values()):
            if isinstance(dispatcher, BaseWSGIServer):
                # The plain dispatcher close: BaseWSGIServer.close would also close the trigger the
                # app threads wake this loop with.
                wasyncore.dispatcher.close(dispatcher)
        started = time.monotonic()
        deadline = started + self.cfg.graceful_timeout
        while time.monotonic() < deadline:
            channels = [d for d in socket_map.values() if isinstance(d, HTTPChannel)]
            busy = any(_in_flight(channel) for channel in channels)
            if not busy and (not channels or time.monotonic() - started >= LINGER_S):
                return
            self.notify()
            wasyncore.loop(timeout=TICK_S / 5, map=socket_map, use_poll=True, count=1)
        self.log.warning("graceful timeout: closing connections still in flight")
