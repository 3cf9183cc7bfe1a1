"""GitHub App manifests: an App made from a manifest (with a fresh RSA key), its one-time code and
the code's conversion into the App's credentials, as GitHub's manifest flow does.

localhub serves one App at a time: the manifest flow fills that slot when the command line gave
none. The App is kept in the state dir (settings `manifest_app`), so it survives a restart; the
private key and client secret exist only until the code is converted (once, within an hour).
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import time
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from localhub.auth import AppConfig
from localhub.store import Row, Store, now_iso, register_schema

register_schema("""CREATE TABLE IF NOT EXISTS app_manifest_codes (
    code_hash TEXT PRIMARY KEY, app_id INTEGER NOT NULL, created_at REAL NOT NULL,
    credentials TEXT NOT NULL)""")

CODE_LIFETIME = 3600.0  # GitHub: the code must be exchanged within one hour
APP_SETTING = "manifest_app"
MANIFEST_APP_ID = 100001
PERMISSION_LEVELS = ("read", "write", "admin")
Webhook = tuple[str, str | None]


class ManifestError(Exception):
    """The manifest cannot make an App (bad JSON, a missing or invalid field, the slot is taken)."""


@dataclass(frozen=True)
class Manifest:
    """The settings a manifest form carries (GitHub's manifest parameters localhub uses)."""

    name: str
    url: str
    redirect_url: str
    description: str | None = None
    hook_url: str | None = None
    permissions: tuple[tuple[str, str], ...] = ()
    events: tuple[str, ...] = ()

    @classmethod
    def parse(cls, text: str, owner_login: str) -> Manifest:
        try:
            data = json.loads(text or "")
        except ValueError:
            raise ManifestError("The manifest is not valid JSON.") from None
        if not isinstance(data, dict):
            raise ManifestError("The manifest must be a JSON object.")
        hook = data.get("hook_attributes") or {}
        if not isinstance(hook, dict):
            raise ManifestError("hook_attributes must be an object.")
        hook_url = hook.get("url") if hook.get("active", True) else None
        return cls(
            name=_text(data, "name") or f"{owner_login}-app",
            url=_http_url(data.get("url"), "url"),
            redirect_url=_http_url(data.get("redirect_url"), "redirect_url"),
            description=_text(data, "description"),
            hook_url=_http_url(hook_url, "hook_attributes.url") if hook_url else None,
            permissions=_permissions(data.get("default_permissions") or {}),
            events=_events(data.get("default_events") or []),
        )


def _text(data: dict[str, Any], key: str) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ManifestError(f"{key} must be a string.")
    return value.strip() or None


def _http_url(value: Any, key: str) -> str:
    if not isinstance(value, str) or urlsplit(value).scheme not in ("http", "https") or not urlsplit(value).netloc:
        raise ManifestError(f"{key} must be an http(s) URL, got {value!r}.")
    return value


def _permissions(value: Any) -> tuple[tuple[str, str], ...]:
    if not isinstance(value, dict) or not all(isinstance(k, str) and v in PERMISSION_LEVELS for k, v in value.items()):
        raise ManifestError(f"default_permissions must map names to one of {', '.join(PERMISSION_LEVELS)}.")
    return tuple(sorted({"metadata": "read", **value}.items()))  # GitHub always grants metadata


def _events(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(e, str) for e in value):
        raise ManifestError("default_events must be a list of event names.")
    return tuple(value)


def slug_of(name: str) -> str:
    """GitHub's slug of an App name: lower case, runs of other characters become one `-`."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "app"


def redirect_target(redirect_url: str, code: str, state: str | None) -> str:
    """`redirect_url` with `code` (and `state`, when the form carried one) added to its query."""
    query = {"code": code, **({"state": state} if state else {})}
    return redirect_url + ("&" if "?" in redirect_url else "?") + urlencode(query)


def _code_hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def _key_pair() -> tuple[str, str]:
    """A new RSA key: (private PEM as GitHub hands it out, public PEM that checks the App's JWTs)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


def create_app(
    store: Store, current: AppConfig | None, manifest: Manifest, owner: Row
) -> tuple[AppConfig, str, Webhook | None]:
    """Make the App the manifest describes, owned by `owner`: the App, its one-time code, its webhook."""
    if current is not None:
        raise ManifestError(
            f"localhub serves one GitHub App at a time and already serves {current.slug} (id {current.app_id})."
        )
    private_pem, public_pem = _key_pair()
    app = AppConfig(
        app_id=MANIFEST_APP_ID,
        public_key_pem=public_pem,
        slug=slug_of(manifest.name),
        name=manifest.name,
        owner_login=owner["login"],
        description=manifest.description,
        external_url=manifest.url,
        permissions=manifest.permissions,
        events=manifest.events,
        created_at=now_iso(),
    )
    webhook_secret = secrets.token_hex(20) if manifest.hook_url else None
    webhook = (manifest.hook_url, webhook_secret) if manifest.hook_url else None
    save_app(store, app, webhook)
    code = secrets.token_hex(20)
    credentials = {"pem": private_pem, "client_secret": secrets.token_hex(20), "webhook_secret": webhook_secret}
    with store.write() as db:
        db.execute(
            "INSERT INTO app_manifest_codes(code_hash, app_id, created_at, credentials) VALUES (?, ?, ?, ?)",
            (_code_hash(code), app.app_id, time.time(), json.dumps(credentials)),
        )
    return app, code, webhook


def redeem(store: Store, code: str) -> tuple[int, dict[str, Any]] | None:
    """The App id and credentials of an unexpired code, which is spent; None if unknown or spent."""
    with store.write() as db:
        row = db.execute("SELECT * FROM app_manifest_codes WHERE code_hash=?", (_code_hash(code),)).fetchone()
        db.execute(
            "DELETE FROM app_manifest_codes WHERE code_hash=? OR created_at<?",
            (_code_hash(code), time.time() - CODE_LIFETIME),
        )
    if row is None or row["created_at"] < time.time() - CODE_LIFETIME:
        return None
    return int(row["app_id"]), json.loads(row["credentials"])


def save_app(store: Store, app: AppConfig, webhook: Webhook | None) -> None:
    store.set_setting(APP_SETTING, json.dumps({"app": asdict(app), "webhook": webhook}))


def load_app(store: Store) -> tuple[AppConfig, Webhook | None] | None:
    """The App a manifest made in this state dir, with its webhook (url, secret), if any."""
    saved = store.setting(APP_SETTING)
    if saved is None:
        return None
    data = json.loads(saved)
    fields = data["app"]
    app = AppConfig(
        **{**fields, "permissions": tuple(tuple(p) for p in fields["permissions"]), "events": tuple(fields["events"])}
    )
    webhook = tuple(data["webhook"]) if data["webhook"] else None
    return app, (webhook[0], webhook[1]) if webhook else None
