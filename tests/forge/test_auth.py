"""App auth: a well-formed JWT buys an installation token that is cached and refreshed before expiry."""

from __future__ import annotations

from datetime import UTC, datetime

import jwt
import pytest
import responses
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from bot.errors import ConfigError, PermissionDenied
from bot.forge import Forge, RetryPolicy, forge_for, memo
from bot.forge.auth import InstallationTokenAuth, TokenCache, app_jwt
from bot.settings import Settings

API = "http://forge.test:9000/api/v3"


@pytest.fixture(scope="module")
def key_pair() -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_app_jwt_claims(key_pair: tuple[str, str]) -> None:
    token = app_jwt("42", key_pair[0], now=1_700_000_000)
    claims = jwt.decode(token, key_pair[1], algorithms=["RS256"], options={"verify_exp": False, "verify_iat": False})
    assert claims == {"iat": 1_700_000_000 - 60, "exp": 1_700_000_000 + 540, "iss": "42"}


@responses.activate
def test_installation_token_is_cached_and_refreshed_five_minutes_before_expiry(key_pair: tuple[str, str]) -> None:
    now = [1_700_000_000.0]
    url = f"{API}/app/installations/7/access_tokens"
    responses.post(url, status=201, json={"token": "first", "expires_at": _iso(now[0] + 3600)})
    responses.post(url, status=201, json={"token": "second", "expires_at": _iso(now[0] + 7200)})
    cache = TokenCache(API, "42", key_pair[0], clock=lambda: now[0])
    assert cache.token(7) == "first"
    now[0] += 3600 - 301
    assert cache.token(7) == "first"
    now[0] += 2
    assert cache.token(7) == "second"
    assert cache.fetches == 2
    sent = responses.calls[0].request.headers["Authorization"].removeprefix("Bearer ")
    assert (
        jwt.decode(sent, key_pair[1], algorithms=["RS256"], options={"verify_exp": False, "verify_iat": False})["iss"]
        == "42"
    )


@responses.activate
def test_a_forge_asks_for_the_token_on_each_request(key_pair: tuple[str, str]) -> None:
    responses.post(
        f"{API}/app/installations/7/access_tokens",
        status=201,
        json={"token": "inst-tok", "expires_at": _iso(4_000_000_000)},
    )
    responses.get(f"{API}/repos/octo/cat/collaborators/ann/permission", json={"permission": "read"})
    cache = TokenCache(API, "42", key_pair[0])
    forge = Forge(
        "octo/cat",
        InstallationTokenAuth(cache, 7),
        api_url=API,
        server_url="http://forge.test:9000",
        bot_login="orchestra[bot]",
        policy=RetryPolicy(write_spacing_s=None),
    )
    forge.permission("ann")
    assert responses.calls[1].request.headers["Authorization"] == "token inst-tok"


@responses.activate
def test_a_refused_installation_token_is_a_permission_error(key_pair: tuple[str, str]) -> None:
    responses.post(f"{API}/app/installations/7/access_tokens", status=404, json={"message": "Not Found"})
    with pytest.raises(PermissionDenied, match="installation 7"):
        TokenCache(API, "42", key_pair[0]).token(7)


def test_forge_for_picks_credentials(key_pair: tuple[str, str]) -> None:
    app = Settings(app_id="42", private_key=key_pair[0], api_url=API)
    assert isinstance(forge_for(app, "octo/cat", 7)._auth, InstallationTokenAuth)
    plain = Settings(token="t0k", api_url=API)
    assert forge_for(plain, "octo/cat", None).git_auth_header().startswith("Basic ")
    with pytest.raises(ConfigError):
        forge_for(Settings(api_url=API), "octo/cat", None)


def test_forge_for_spaces_writes_as_the_settings_say() -> None:
    """GitHub asks for a second between writes; ORCHESTRA_WRITE_SPACING_S=0 (localhub) makes none."""
    github = Settings.from_env({"ORCHESTRA_TOKEN": "t0k", "ORCHESTRA_API_URL": API})
    assert forge_for(github, "octo/cat", None).policy.write_spacing_s == 1.0
    local = Settings.from_env({"ORCHESTRA_TOKEN": "t0k", "ORCHESTRA_API_URL": API, "ORCHESTRA_WRITE_SPACING_S": "0"})
    assert local.origins["write_spacing_s"] == "ORCHESTRA_WRITE_SPACING_S"
    assert forge_for(local, "octo/cat", None).policy.write_spacing_s is None


class _Store:
    """The shared level of the forge memos as a dict (Redis in RQ workers: tests/queue/test_forge_memo_shared.py)."""

    def __init__(self) -> None:
        self.items: dict[str, bytes] = {}

    def get(self, key: str) -> bytes | None:
        return self.items.get(key)

    def set(self, key: str, value: bytes, ttl_s: int) -> None:
        self.items[key] = value


@responses.activate
def test_work_horses_share_an_installation_token_until_it_is_near_expiry(key_pair: tuple[str, str]) -> None:
    now = [1_700_000_000.0]
    url = f"{API}/app/installations/9/access_tokens"
    responses.post(url, status=201, json={"token": "shared", "expires_at": _iso(now[0] + 3600)})
    responses.post(url, status=201, json={"token": "next", "expires_at": _iso(now[0] + 7200)})
    memo.share(_Store())
    try:
        horses = [TokenCache(API, "42", key_pair[0], clock=lambda: now[0]) for _ in range(3)]  # three jobs' processes
        assert [horse.token(9) for horse in horses] == ["shared"] * 3
        assert [horse.fetches for horse in horses] == [1, 0, 0]
        now[0] += 3600 - 299  # near expiry: the next job mints the next token, and the others take it
        assert [TokenCache(API, "42", key_pair[0], clock=lambda: now[0]).token(9) for _ in range(2)] == ["next"] * 2
    finally:
        memo.share(None)
    assert len(responses.calls) == 2
    # without a shared level (threads mode, one process), each TokenCache mints its own, as before
    responses.post(url, status=201, json={"token": "own", "expires_at": _iso(now[0] + 3600)})
    assert TokenCache(API, "42", key_pair[0], clock=lambda: now[0]).token(9) == "own"
