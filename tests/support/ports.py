"""A free loopback port for a server a test starts in another process (it binds it itself)."""

from __future__ import annotations

import socket


def free_port() -> int:
    """A port nothing listens on now. Another process may take it before ours binds it, so a
    server started on it is checked (and, where it matters, started again on another)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
