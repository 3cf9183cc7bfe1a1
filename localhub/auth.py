"""Who is calling: personal tokens, installation tokens, App JWTs (RS256) and git's basic auth."""

from __future__ import annotations

import base64
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt

from localhub.rest import ApiError
from localhub.store import Row, Store

BAD_CREDENTIALS = "Bad credentials"
TOKEN_LIFETIME = timedelta(hours=1)
JWT_MAX_LIFETIME = 600  # GitHub: exp at most 10 minutes after iat
JWT_LEEWAY = 60


@dataclass(frozen=True)
class Principal:
    """An authenticated caller: a user (or Bot) with a token, or the App itself with a JWT."""

    user: Row | None
    kind: str  # "pat", "installation", "app", "anonymous"
    label: str  # metering key: never the token
    installation_id: int | None = None


ANONYMOUS = Principal(None, "anonymous", "anonymous")


@dataclass(frozen=True)
class AppConfig:
    """The one GitHub App this localhub knows (App mode)."""

    app_id: int
    public_key_pem: str
    slug: str = "orchestra"
    installation_id: int = 1
    # What the App's manifest said (the manifest flow, localhub/manifests.py); unset for an App from
    # the command line, whose `GET /app` shows the slug as name and localhub's default permissions.
    name: str | None = None
    owner_login: str | None = None
    description: str | None = None
    external_url: str | None = None
    permissions: tuple[tuple[str, str], ...] = ()
    events: tuple[str, ...] = ()
    created_at: str | None = None

    @property
    def bot_login(self) -> str:
        return f"{self.slug}[bot]"

    @property
    def client_id(self) -> str:
        return f"Iv1.localhub{self.app_id}"


def _bad(message: str = BAD_CREDENTIALS) -> ApiError:
    return ApiError(401, message)


def principal_for(store: Store, app: AppConfig | None, authorization: str | None) -> Principal:
    """Resolve an `Authorization` header; raise ApiError(401) for bad or expired credentials."""
    if not authorization:
        return ANONYMOUS
    scheme, _, credential = authorization.strip().partition(" ")
    scheme = scheme.lower()
    credential = credential.strip()
    if scheme == "basic":
        try:
            decoded = base64.b64decode(credential).decode()
        except (ValueError, UnicodeDecodeError):
            raise _bad() from None
        credential = decoded.partition(":")[2]
        scheme = "token"
    if scheme not in ("token", "bearer") or not credential:
        raise _bad()
    if scheme == "bearer" and credential.count(".") == 2:
        return _app_principal(app, credential)
    return token_principal(store, credential)


def token_principal(store: Store, token: str) -> Principal:
    row = store.token(token)
    if row is None:
        raise _bad()
    if row["expires_at"] and row["expires_at"] <= _iso(datetime.now(UTC)):
        raise _bad()
    return Principal(store.user_by_id(row["user_id"]), row["kind"], row["label"], row["installation_id"])


def _app_principal(app: AppConfig | None, token: str) -> Principal:
    if app is None:
        raise _bad("A JSON web token could not be decoded")
    try:
        claims = jwt.decode(
            token,
            app.public_key_pem,
            algorithms=["RS256"],
            leeway=JWT_LEEWAY,
            options={"require": ["iat", "exp", "iss"], "verify_iss": False},
        )
    except jwt.ExpiredSignatureError:
        raise _bad(
            "'Expiration time' claim ('exp') must be a numeric value representing the future "
            "time at which the assertion expires"
        ) from None
    except jwt.InvalidTokenError:
        raise _bad("A JSON web token could not be decoded") from None
    if str(claims["iss"]) not in (str(app.app_id), app.client_id):
        raise _bad("A JSON web token could not be decoded")
    if int(claims["exp"]) - int(claims["iat"]) > JWT_MAX_LIFETIME + JWT_LEEWAY:
        raise _bad("'Expiration time' claim ('exp') is too far in the future")
    return Principal(None, "app", f"app:{app.app_id}")


def mint_installation_token(store: Store, app: AppConfig) -> tuple[str, str]:
    """A fresh installation token for the App's Bot user and its ISO expiry (one hour)."""
    bot = store.ensure_user(app.bot_login, "Bot")
    token = "ghs_" + secrets.token_urlsafe(27)
    expires_at = _iso(datetime.now(UTC) + TOKEN_LIFETIME)
    store.add_token(token, bot["id"], "installation", app.installation_id, expires_at)
    return token, expires_at


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def unix_now() -> int:
    return int(time.time())
