"""The event hub: record each webhook delivery, send it asynchronously, signed, never retried."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import requests

from localhub.background import Pending
from localhub.store import Row, Store, now_iso

APP_HOOK_ID = 0  # deliveries to the App's webhook URL are recorded under hook id 0
USER_AGENT = "GitHub-Hookshot/localhub"
DELIVERY_TIMEOUT = 10.0  # seconds, as GitHub


@dataclass(frozen=True)
class Target:
    """Where one delivery goes."""

    hook_id: int
    url: str
    secret: str | None
    target_type: str  # "repository" or "integration"
    target_id: int


def signature(secret: str, body: bytes) -> str:
    """`X-Hub-Signature-256`: `sha256=` + hex HMAC-SHA256 of the raw body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class Events:
    """Emit events to repo hooks and the App webhook; deliveries are recorded in the store."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.app_webhook: tuple[str, str | None] | None = None
        self.app_id: int | None = None
        self.installation_id: int | None = None
        self.on_delivered: list[Callable[[str, str], None]] = []
        # One sender thread per target URL: deliveries to a receiver arrive in the order they were
        # emitted, and a slow receiver delays only its own queue, never the API.
        self._senders: dict[str, ThreadPoolExecutor] = {}
        self._pending = Pending()
        self._lock = threading.Lock()

    # -- emission ---------------------------------------------------------------------------
    def emit(self, repo: Row | None, event: str, payload: dict[str, Any]) -> list[str]:
        """Deliver `payload` for `event` to every matching target; returns the delivery guids."""
        guids = []
        for target in self._targets(repo, event):
            body = dict(payload)
            if target.hook_id == APP_HOOK_ID and self.installation_id is not None and "installation" not in body:
                body["installation"] = {
                    "id": self.installation_id,
                    "node_id": f"MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9u{self.installation_id}",
                }
            guids.append(self._send_new(target, repo, event, body))
        return guids

    def ping(self, hook: Row, payload: dict[str, Any]) -> str:
        """The `ping` event sent to a hook right after it is created."""
        repo = self.store.repo_by_id(hook["repo_id"])
        return self._send_new(self._hook_target(hook), repo, "ping", payload)

    def _targets(self, repo: Row | None, event: str) -> list[Target]:
        targets = []
        if repo is not None:
            for hook in self.store.all("SELECT * FROM hooks WHERE repo_id=? AND active=1", (repo["id"],)):
                events = json.loads(hook["events"])
                if event in events or "*" in events:
                    targets.append(self._hook_target(hook))
        if self.app_webhook is not None:
            url, secret = self.app_webhook
            targets.append(Target(APP_HOOK_ID, url, secret, "integration", self.app_id or 0))
        return targets

    @staticmethod
    def _hook_target(hook: Row) -> Target:
        return Target(hook["id"], hook["url"], hook["secret"], "repository", hook["repo_id"])

    def _send_new(self, target: Target, repo: Row | None, event: str, payload: dict[str, Any]) -> str:
        guid = str(uuid.uuid4())
        self._record_and_submit(
            target,
            guid,
            repo["id"] if repo else None,
            event,
            payload.get("action"),
            json.dumps(payload),
            redelivery=False,
        )
        return guid

    def _record_and_submit(
        self,
        target: Target,
        guid: str,
        repo_id: int | None,
        event: str,
        action: str | None,
        body: str,
        redelivery: bool,
    ) -> int:
        headers = {
            "Accept": "*/*",
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "X-GitHub-Delivery": guid,
            "X-GitHub-Event": event,
            "X-GitHub-Hook-ID": str(target.hook_id),
            "X-GitHub-Hook-Installation-Target-Type": target.target_type,
            "X-GitHub-Hook-Installation-Target-ID": str(target.target_id),
        }
        if target.secret:
            headers["X-Hub-Signature-256"] = signature(target.secret, body.encode())
            headers["X-Hub-Signature"] = (
                "sha1=" + hmac.new(target.secret.encode(), body.encode(), hashlib.sha1).hexdigest()
            )
        with self.store.write() as db:
            cur = db.execute(
                "INSERT INTO deliveries(guid, hook_id, repo_id, installation_id, event, action, url, payload,"
                " request_headers, redelivery, delivered_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (
                    guid,
                    target.hook_id,
                    repo_id,
                    self.installation_id,
                    event,
                    action,
                    target.url,
                    body,
                    json.dumps(headers),
                    int(redelivery),
                    now_iso(),
                ),
            )
            delivery_id = int(cur.lastrowid or 0)
        with self._lock:
            sender = self._senders.get(target.url)
            if sender is None:
                sender = self._senders[target.url] = ThreadPoolExecutor(1, thread_name_prefix="localhub-hook")
            self._pending.submit(sender, self._deliver, delivery_id, target.url, body.encode(), headers, event)
        return delivery_id

    # -- delivery ---------------------------------------------------------------------------
    def _deliver(self, delivery_id: int, url: str, body: bytes, headers: dict[str, str], event: str) -> None:
        started = time.monotonic()
        code, status, resp_headers, resp_body = 0, "", {}, ""
        try:
            resp = requests.post(url, data=body, headers=headers, timeout=DELIVERY_TIMEOUT)
            code, resp_headers, resp_body = resp.status_code, dict(resp.headers), resp.text[:10000]
            status = "OK" if 200 <= code < 300 else f"Invalid HTTP Response: {code}"
        except requests.Timeout:
            status = "timed out"
        except requests.RequestException as exc:
            status = f"failed to connect: {type(exc).__name__}"
        duration = time.monotonic() - started
        with self.store.write() as db:
            db.execute(
                "UPDATE deliveries SET status=?, status_code=?, duration=?, response_headers=?, response_body=?"
                " WHERE id=?",
                (status, code, duration, json.dumps(resp_headers), resp_body, delivery_id),
            )
        outcome = "ok" if status == "OK" else ("error" if code == 0 else str(code))
        for callback in self.on_delivered:
            callback(event, outcome)

    def redeliver(self, delivery_id: int) -> int:
        """Send a recorded delivery again with the same guid; returns the new delivery's id."""
        row = self.store.get("SELECT * FROM deliveries WHERE id=?", (delivery_id,))
        target = self._target_for_hook(row["hook_id"])
        return self._record_and_submit(
            target, row["guid"], row["repo_id"], row["event"], row["action"], row["payload"], redelivery=True
        )

    def _target_for_hook(self, hook_id: int) -> Target:
        if hook_id == APP_HOOK_ID:
            if self.app_webhook is None:
                raise LookupError("no App webhook is configured")
            url, secret = self.app_webhook
            return Target(APP_HOOK_ID, url, secret, "integration", self.app_id or 0)
        return self._hook_target(self.store.get("SELECT * FROM hooks WHERE id=?", (hook_id,)))

    def drain(self, timeout: float = 10.0) -> bool:
        """Wait until every pending delivery is sent; True if all finished within `timeout`."""
        return self._pending.drain(timeout)

    def close(self) -> None:
        with self._lock:
            senders = list(self._senders.values())
            self._senders.clear()
        for sender in senders:
            sender.shutdown(wait=True, cancel_futures=False)

    # -- store functions for the hooks/deliveries REST endpoints ----------------------------
    def deliveries(self, hook_id: int) -> list[Row]:
        return self.store.all("SELECT * FROM deliveries WHERE hook_id=? ORDER BY id DESC", (hook_id,))

    def delivery(self, delivery_id: int) -> Row | None:
        return self.store.one("SELECT * FROM deliveries WHERE id=?", (delivery_id,))


def delivery_shape(row: Row, full: bool = False) -> dict[str, Any]:
    """GitHub's `hook-delivery-item` (list) or `hook-delivery` (full=True) shape."""
    data: dict[str, Any] = {
        "id": row["id"],
        "guid": row["guid"],
        "delivered_at": row["delivered_at"],
        "redelivery": bool(row["redelivery"]),
        "duration": row["duration"] or 0.0,
        "status": row["status"] or "pending",
        "status_code": row["status_code"] or 0,
        "event": row["event"],
        "action": row["action"],
        "installation_id": row["installation_id"],
        "repository_id": row["repo_id"],
        "throttled_at": None,
    }
    if full:
        data["url"] = row["url"]
        data["request"] = {"headers": json.loads(row["request_headers"]), "payload": json.loads(row["payload"])}
        data["response"] = {"headers": json.loads(row["response_headers"] or "{}"), "payload": row["response_body"]}
    return data
