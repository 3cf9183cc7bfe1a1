"""GitHub App auth (JWT → installation token, cached and refreshed early) or a plain token.

`forge_for(settings, repo, installation_id)` is the one way jobs get a `Forge`. The tokens
live in a process-wide `TokenCache`; a `Forge` asks it for the current token on every
request (through `InstallationTokenAuth`), so a long job never runs on an expired token.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import jwt
import requests
from github import Auth
from github.GithubException import GithubException

from bot.errors import ConfigError, ForgeError, PermissionDenied
from bot.forge.client import Forge
from bot.forge.memo import Memo
from bot.forge.retry import RetryPolicy
from bot.settings import Settings

#: Refresh an installation token this many seconds before it expires.
REFRESH_MARGIN_S = 300
#: App JWT lifetime (GitHub allows at most 10 minutes) and backdating for clock drift.
JWT_LIFETIME_S = 540
JWT_BACKDATE_S = 60


def app_jwt(app_id: str, private_key: str, now: float | None = None) -> str:
    """An RS256 App JWT: issued 60 s in the past, expiring 9 min ahead, `iss` = app id."""
    issued = int(now if now is not None else time.time())
    payload = {"iat": issued - JWT_BACKDATE_S, "exp": issued + JWT_LIFETIME_S, "iss": str(app_id)}
    return jwt.encode(payload, private_key, algorithm="RS256")


@dataclass(frozen=True)
class _Token:
    value: str
    expires_at: float


#: Installation tokens by (API URL, app id, installation id). In RQ workers the memo's shared level is the
#: workers' Redis (bot/queue/forgecache.py), so the work horse of each job does not mint a token of its
#: own: one token an installation serves the deployment until it is near expiry. Whoever can read that
#: Redis could already enqueue jobs the workers run, so the tokens add nothing to what it must guard.
INSTALLATION_TOKENS: Memo[_Token] = Memo(
    "installation-token",
    encode=lambda t: [t.value, t.expires_at],
    decode=lambda d: _Token(value=str(d[0]), expires_at=float(d[1])),
    ttl_s=3600 - REFRESH_MARGIN_S,  # GitHub's tokens live an hour
    size=0,  # the shared level only: a TokenCache keeps this process's tokens
)


class TokenCache:
    """Installation tokens per (API URL, app, installation); thread-safe; refreshed early."""

    def __init__(
        self,
        api_url: str,
        app_id: str,
        private_key: str,
        clock: Callable[[], float] = time.time,
        session: requests.Session | None = None,
        policy: RetryPolicy | None = None,
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self.app_id = app_id
        self._private_key = private_key
        self._clock = clock
        self._session = session or requests.Session()
        self._policy = policy or RetryPolicy()
        self._tokens: dict[int, _Token] = {}
        self._lock = threading.Lock()
        self.fetches = 0

    def token(self, installation_id: int) -> str:
        """A token valid for at least REFRESH_MARGIN_S more seconds: this process's, else one another
        process of the deployment minted (`INSTALLATION_TOKENS`, shared in RQ workers), else a new one."""
        with self._lock:
            cached = self._tokens.get(installation_id)
            if cached is None or not self._fresh(cached):
                cached = self._shared_or_new(installation_id)
                self._tokens[installation_id] = cached
            return cached.value

    def _shared_or_new(self, installation_id: int) -> _Token:
        key = (self.api_url, str(self.app_id), str(installation_id))
        _found, shared = INSTALLATION_TOKENS.get(key)
        if shared is not None and self._fresh(shared):
            return shared
        token: _Token = self._policy.call(f"installation token {installation_id}", lambda: self._fetch(installation_id))
        INSTALLATION_TOKENS.put(key, token)
        return token

    def _fresh(self, token: _Token) -> bool:
        return token.expires_at - self._clock() > REFRESH_MARGIN_S

    def _fetch(self, installation_id: int) -> _Token:
        url = f"{self.api_url}/app/installations/{installation_id}/access_tokens"
        headers = {
            "Authorization": f"Bearer {app_jwt(self.app_id, self._private_key, self._clock())}",
            "Accept": "application/vnd.github+json",
        }
        response = self._session.post(url, headers=headers, timeout=30)
        if (
            response.status_code >= 500
            or response.status_code == 429
            or (response.status_code == 403 and "rate limit" in response.text.lower())
        ):  # retried by the policy; a token created by a lost answer is simply never used
            raise GithubException(response.status_code, response.text, dict(response.headers))
        if response.status_code in (401, 403, 404):
            raise PermissionDenied(
                f"installation {installation_id}: the forge refused an installation token "
                f"(HTTP {response.status_code}); check the app id, private key and installation"
            )
        if response.status_code != 201:
            raise ForgeError(f"installation token for {installation_id}: HTTP {response.status_code}")
        self.fetches += 1
        data = response.json()
        expires = datetime.fromisoformat(str(data["expires_at"]).replace("Z", "+00:00")).timestamp()
        return _Token(value=str(data["token"]), expires_at=expires)


class InstallationTokenAuth(Auth.Auth):
    """PyGithub auth that asks the cache for the installation's current token on each request."""

    def __init__(self, cache: TokenCache, installation_id: int) -> None:
        self._cache = cache
        self._installation_id = installation_id

    @property
    def token_type(self) -> str:
        return "token"

    @property
    def token(self) -> str:
        return self._cache.token(self._installation_id)

    @property
    def _masked_token(self) -> str:
        return "token (installation, removed)"


_caches: dict[tuple[str, str, str], TokenCache] = {}
_caches_lock = threading.Lock()


def token_cache(settings: Settings) -> TokenCache:
    """The process-wide token cache for the settings' API URL, App and key."""
    if not (settings.app_id and settings.private_key):
        raise ConfigError("GitHub App auth needs ORCHESTRA_APP_ID and ORCHESTRA_PRIVATE_KEY(_PATH)")
    private_key = settings.private_key.get_secret_value()
    key = (settings.api_url, settings.app_id, hashlib.sha256(private_key.encode()).hexdigest())
    with _caches_lock:
        if key not in _caches:
            _caches[key] = TokenCache(settings.api_url, settings.app_id, private_key)
        return _caches[key]


def forge_for(
    settings: Settings,
    repo_full_name: str,
    installation_id: int | None,
    policy: RetryPolicy | None = None,
) -> Forge:
    """A Forge for one repository: App installation auth when an installation is given, else the token."""
    if installation_id is not None and settings.uses_app_auth:
        auth: Auth.Auth = InstallationTokenAuth(token_cache(settings), installation_id)
    elif settings.token is not None:
        auth = Auth.Token(settings.token.get_secret_value())
    elif installation_id is not None:
        raise ConfigError(f"installation {installation_id}: set ORCHESTRA_APP_ID and ORCHESTRA_PRIVATE_KEY")
    else:
        raise ConfigError("no forge credentials: set ORCHESTRA_TOKEN, or the App id and private key")
    return Forge(
        repo_full_name,
        auth,
        api_url=settings.api_url,
        server_url=settings.server_url,
        bot_login=settings.bot_login,
        policy=policy or RetryPolicy(write_spacing_s=settings.write_spacing_s or None),
    )


def installation_for(settings: Settings, repo_full_name: str, timeout_s: float = 30.0) -> int:
    """The id of the App's installation on `repo_full_name` (`GET /repos/{o}/{r}/installation` with the App JWT)."""
    if not (settings.app_id and settings.private_key):
        raise ConfigError(
            "finding the installation needs the App: set ORCHESTRA_APP_ID and ORCHESTRA_PRIVATE_KEY(_PATH)"
        )
    token = app_jwt(settings.app_id, settings.private_key.get_secret_value())
    url = f"{settings.api_url.rstrip('/')}/repos/{repo_full_name}/installation"
    try:
        response = requests.get(
            url,
            timeout=timeout_s,
            headers={"Authorization": f"Bearer {token}", "Accept": "application/vnd.github+json"},
        )
    except requests.RequestException as exc:
        raise ForgeError(f"installation of {repo_full_name}: the forge is unreachable ({type(exc).__name__})") from None
    if response.status_code == 404:
        raise ConfigError(
            f"App {settings.app_id} is not installed on {repo_full_name}: install it, or pass --installation-id"
        )
    if response.status_code in (401, 403):
        raise PermissionDenied(
            f"installation of {repo_full_name}: the forge refused the App JWT "
            f"(HTTP {response.status_code}); check ORCHESTRA_APP_ID and the private key"
        )
    if response.status_code != 200:
        raise ForgeError(f"installation of {repo_full_name}: HTTP {response.status_code}")
    return int(response.json()["id"])


#: The most pages `visible_repositories` reads per listing (100 items a page).
MAX_LISTING_PAGES = 20


@dataclass(frozen=True)
class Visible:
    """A repository the credentials can see: its full name and, in App mode, its installation."""

    full_name: str
    installation_id: int | None


def visible_repositories(
    settings: Settings, policy: RetryPolicy | None = None, session: requests.Session | None = None
) -> list[Visible]:
    """Every repository the App's installations (or the token) can see that has open issues or PRs.

    App mode: `GET /app/installations` (the App's JWT), then `GET /installation/repositories`
    with each installation's token. Token mode: `GET /user/repos`. Archived repositories and
    ones with issues turned off or nothing open are left out (a sweep there finds nothing).
    """
    policy = policy or RetryPolicy()
    session = session or requests.Session()
    api = settings.api_url.rstrip("/")
    if settings.uses_app_auth:
        cache = token_cache(settings)
        assert settings.private_key is not None
        key = settings.private_key.get_secret_value()
        found: list[Visible] = []
        for installation in _pages(
            session,
            policy,
            f"{api}/app/installations",
            lambda: {"Authorization": f"Bearer {app_jwt(str(settings.app_id), key)}"},
        ):
            number = int(installation["id"])

            def installation_auth(n: int = number) -> dict[str, str]:
                return {"Authorization": f"token {cache.token(n)}"}

            listing = _pages(session, policy, f"{api}/installation/repositories", installation_auth)
            found += [Visible(str(repo["full_name"]), number) for repo in listing if _worth_sweeping(repo)]
        return found
    if settings.token is None:
        raise ConfigError("no forge credentials: set ORCHESTRA_TOKEN, or the App id and private key")
    token = settings.token.get_secret_value()
    listing = _pages(session, policy, f"{api}/user/repos", lambda: {"Authorization": f"token {token}"})
    return [Visible(str(repo["full_name"]), None) for repo in listing if _worth_sweeping(repo)]


def _worth_sweeping(repo: dict) -> bool:
    return (
        not repo.get("archived")
        and repo.get("has_issues", True) is not False
        and int(repo.get("open_issues_count") or 0) > 0
    )


def _pages(
    session: requests.Session, policy: RetryPolicy, url: str, headers: Callable[[], dict[str, str]]
) -> list[dict]:
    """Every item of a GitHub list endpoint (a plain list, or `repositories` of an installation's listing)."""
    items: list[dict] = []
    next_url: str | None = f"{url}?per_page=100"
    for _page in range(MAX_LISTING_PAGES):
        if next_url is None:
            break
        page_url: str = next_url

        def fetch(u: str = page_url) -> requests.Response:
            return _get(session, u, headers())

        answer = policy.call(f"GET {url}", fetch)
        data = answer.json()
        items += data.get("repositories", []) if isinstance(data, dict) else data
        next_url = answer.links.get("next", {}).get("url")
    return items


def _get(session: requests.Session, url: str, headers: dict[str, str]) -> requests.Response:
    response = session.get(url, headers={**headers, "Accept": "application/vnd.github+json"}, timeout=30)
    if (
        response.status_code >= 500
        or response.status_code == 429
        or (response.status_code == 403 and "rate limit" in response.text.lower())
    ):
        raise GithubException(response.status_code, response.text, dict(response.headers))  # retried by the policy
    if response.status_code in (401, 403, 404):
        raise PermissionDenied(f"{url}: HTTP {response.status_code}; check the app id, key or token")
    if response.status_code != 200:
        raise ForgeError(f"{url}: HTTP {response.status_code}")
    return response
