"""A WSGI app served by waitress on a loopback port, in this thread or a background one, until stopped.

localhub serves its API this way, and local mode serves the webhook app beside it.
"""

from __future__ import annotations

import threading
from typing import Any

from waitress import wasyncore
from waitress.server import create_server


class ServedApp:
    """Binds at construction (port 0 picks a free one); `start()` serves in a thread, `serve()` here."""

    def __init__(
        self, app: Any, *, host: str = "127.0.0.1", port: int = 0, threads: int = 8, ident: str = "localhub"
    ) -> None:
        self._server: Any = create_server(app, host=host, port=port, threads=threads, ident=ident)
        self.port = int(self._server.effective_port)
        self.url = f"http://{host}:{self.port}"
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, name: str) -> None:
        """Serve in a daemon thread named `name`."""
        self._thread = threading.Thread(target=self.serve, name=name, daemon=True)
        self._thread.start()

    def serve(self) -> None:
        """Serve in this thread until `stop()`."""
        server = self._server
        while not self._stopping.is_set():
            wasyncore.loop(timeout=0.1, map=server._map, use_poll=True, count=1)
        server.task_dispatcher.shutdown(cancel_pending=True, timeout=5)
        wasyncore.close_all(server._map)

    def stop(self) -> None:
        """End serving (from any thread) and wait for the serving thread, if one was started."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
