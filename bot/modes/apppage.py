"""The local page of `orchestra app create`: on 127.0.0.1, `/` posts the App's manifest to the forge and
`/callback` receives the forge's redirect with the one-time code (checked against the state)."""

from __future__ import annotations

import json
import queue
import secrets
import threading
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from bot.errors import ConfigError

CALLBACK = "/callback"
#: How long the callback's browser waits for the outcome, and `finish` for the browser to get it.
ANSWER_WAIT_S = 60.0


def form_page(manifest: dict[str, Any], action: str, server: str) -> str:
    """The page that posts the manifest by itself (a button where scripts do not run)."""
    name = escape(str(manifest.get("name") or "the App"))
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Create the GitHub App {name}</title></head>
<body>
<h1>Create the GitHub App {name}</h1>
<p>This page sends the App's manifest (its name, permissions, events and webhook URL) to
{escape(server)}. Sign in there if asked, check the name and confirm; you then come back here.</p>
<form id="manifest-form" method="post" action="{escape(action)}">
<input type="hidden" name="manifest" value="{escape(json.dumps(manifest))}">
<button type="submit">Create the App on {escape(server)}</button>
</form>
<script>document.getElementById("manifest-form").submit();</script>
</body></html>
"""


def result_page(title: str, items: list[str]) -> str:
    """A page with a heading and a list; `items` are HTML (escape what they quote)."""
    listed = "".join(f"<li>{item}</li>" for item in items)
    return (
        f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title></head>\n'
        f"<body><h1>{escape(title)}</h1><ul>{listed}</ul></body></html>\n"
    )


class LocalPage:
    """The page's HTTP server, on its own thread.

    `wait_for_code` hands the main thread the first callback that carries the right state (others
    get a 400 page and the wait goes on); `finish(html)` answers that callback's browser with the
    outcome and returns once the browser has it. Nothing is logged: the request line holds the code.
    """

    def __init__(self, host: str, port: int, state: str) -> None:
        self.state = state
        self._codes: queue.Queue[str] = queue.Queue()
        self._outcome: queue.Queue[str] = queue.Queue()
        self._answered = threading.Event()
        self._form = ""
        self.server = ThreadingHTTPServer((host, port), self._handler())
        self.server.daemon_threads = True
        self._thread = threading.Thread(target=self.server.serve_forever, name="app-create-page", daemon=True)

    @property
    def host(self) -> str:
        host = self.server.server_address[0]
        return host.decode() if isinstance(host, bytes) else str(host)

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/"

    @property
    def callback_url(self) -> str:
        return f"http://{self.host}:{self.port}{CALLBACK}"

    def serve(self, form_html: str) -> None:
        self._form = form_html
        self._thread.start()

    def wait_for_code(self, timeout_s: float) -> str:
        try:
            return self._codes.get(timeout=timeout_s)
        except queue.Empty:
            raise ConfigError(
                f"no App was created within {timeout_s:g} s (the page at {self.url} was not "
                "followed to the end); run the command again"
            ) from None

    def finish(self, html: str) -> None:
        self._outcome.put(html)
        self._answered.wait(ANSWER_WAIT_S)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def answer(self, path: str, host: str) -> tuple[int, str]:
        """(status, page) for a GET of `path` with this `Host` header."""
        if host not in (f"{self.host}:{self.port}", f"localhost:{self.port}"):  # no DNS rebinding
            return 421, result_page("Wrong address", [f"Open {escape(self.url)} instead."])
        parts = urlsplit(path)
        if parts.path == "/":
            return 200, self._form
        if parts.path != CALLBACK:
            return 404, result_page("Not found", [f'Start at <a href="/">{escape(self.url)}</a>.'])
        query = parse_qs(parts.query)
        code, state = (query.get("code") or [""])[0], (query.get("state") or [""])[0]
        if not code or not secrets.compare_digest(state.encode(), self.state.encode()):
            return 400, result_page(
                "This is not the App this command asked for",
                [
                    "The redirect carries no code, or not the state this command made. Start again from "
                    f'<a href="/">{escape(self.url)}</a>.'
                ],
            )
        self._codes.put(code)
        try:
            return 200, self._outcome.get(timeout=ANSWER_WAIT_S)
        except queue.Empty:
            return 504, result_page("Still working", ["The terminal says how it ended."])

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        page = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                status, html = page.answer(self.path, self.headers.get("Host", ""))
                body = html.encode()
                self.send_response(status)
                for name, value in (
                    ("Content-Type", "text/html; charset=utf-8"),
                    ("Content-Length", str(len(body))),
                    ("Cache-Control", "no-store"),
                    ("Referrer-Policy", "no-referrer"),
                ):
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)
                if urlsplit(self.path).path == CALLBACK and status == 200:
                    page._answered.set()

            def log_message(self, *args: Any) -> None:
                """Silent: the request line carries the one-time code."""

        return Handler
