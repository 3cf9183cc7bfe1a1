"""Is this machine ready? The checks of `orchestra doctor`, which every command also runs before it starts.

Each check is bounded (`CHECK_TIMEOUT_S`; Redis gets `REDIS_WAIT_S` of retries) and they run at
once, so a pre-flight takes a few seconds at most (`PREFLIGHT_BOUND_S`). `orchestra doctor`
prints them all as a table; `run`, `serve`, `worker` and `reconcile` run the ones they need
(`preflight`) and stop on the first failure with one line and exit 2 — before anything is
written to a forge. Which checks a command runs is composed by the caller (`server_checks`
here; local mode's in `bot/modes/local/preflight.py`).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import jwt
import redis
import requests
from redis.backoff import NoBackoff
from redis.retry import Retry

from bot.errors import ConfigError, OrchestraError, PreflightFailed, Source
from bot.forge.auth import app_jwt
from bot.git import base_env, missing_git_message
from bot.llm.factory import ResolvedSpec, resolve_spec
from bot.llm.pricing import PRICES_ENV, load_prices
from bot.llm.probe import PROBE_TIMEOUT_S, probe_model
from bot.llm.scripted import PolicyFactory
from bot.llm.spec import parse_spec
from bot.repoconfig import RepoConfig
from bot.settings import Role, Settings

#: Seconds one forge or model call of a check may take.
CHECK_TIMEOUT_S = PROBE_TIMEOUT_S
#: Seconds to keep trying Redis before calling it unreachable (a service started with it gets this long).
REDIS_WAIT_S = 4.0
#: The whole pre-flight ends within this many seconds; a check still running then fails.
PREFLIGHT_BOUND_S = 10.0
#: What the App needs on every installation (`app.yml` asks for these, plus `actions: write`,
#: which only the Action mode's fan-out uses).
REQUIRED_APP_PERMISSIONS = {
    "issues": "write",
    "pull_requests": "write",
    "contents": "write",
    "checks": "read",
    "statuses": "read",
    "metadata": "read",
}
LEVELS = ("none", "read", "write", "admin")


class Skip(Exception):
    """A check that does not apply here; its message says why."""


@dataclass(frozen=True)
class Check:
    """One thing to check: `run()` returns what it found, raises an OrchestraError, or raises Skip."""

    name: str
    run: Callable[[], str]


@dataclass
class Result:
    """How one check ended: status "ok", "fail" or "skip", and a one-line detail."""

    name: str
    status: str
    detail: str
    error: OrchestraError | None = field(default=None, repr=False)

    def line(self) -> str:
        return f"{self.name}: {self.detail}"


def redact_url(url: str) -> str:
    """A URL without its password (`redis://:***@host:6379/0`)."""
    return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", url)


def _run_one(check: Check) -> Result:
    try:
        return Result(check.name, "ok", check.run())
    except Skip as skip:
        return Result(check.name, "skip", str(skip))
    except OrchestraError as error:
        return Result(check.name, "fail", str(error).splitlines()[0], error)
    except Exception as exc:  # noqa: BLE001 - a check that breaks is a failed check, said in one line
        return Result(check.name, "fail", f"{type(exc).__name__}: {exc}".splitlines()[0])


def run_checks(checks: list[Check], bound_s: float = PREFLIGHT_BOUND_S) -> list[Result]:
    """Run every check at once; each result in the order given. A check still running after
    `bound_s` is a failure (its thread is left behind as a daemon)."""
    results: dict[int, Result] = {}
    threads = []
    for index, check in enumerate(checks):
        thread = threading.Thread(
            target=lambda i=index, c=check: results.__setitem__(i, _run_one(c)), name=f"check-{check.name}", daemon=True
        )
        thread.start()
        threads.append(thread)
    deadline = time.monotonic() + bound_s
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    return [results.get(i) or Result(c.name, "fail", f"no answer within {bound_s:g}s") for i, c in enumerate(checks)]


def preflight(checks: list[Check]) -> list[Result]:
    """Run `checks`; PreflightFailed (one line: the check and what is wrong) on the first failure."""
    results = run_checks(checks)
    for result in results:
        if result.status == "fail":
            source = result.error.source if result.error is not None else None
            raise PreflightFailed(result.line(), source=source)
    return results


def render_table(results: list[Result]) -> str:
    """The results as an aligned text table (doctor's output)."""
    width = max([len("check"), *(len(r.name) for r in results)])
    lines = [f"{'check':<{width}}  status  detail"]
    lines += [f"{r.name:<{width}}  {r.status:<6}  {r.detail}" for r in results]
    return "\n".join(lines)


# -- the checks --------------------------------------------------------------------------------
def git_check() -> Check:
    """A `git` program on PATH that answers `git --version`."""

    def run() -> str:
        env = base_env()
        if shutil.which("git", path=env["PATH"]) is None:
            raise PreflightFailed(missing_git_message(env["PATH"]))
        try:
            done = subprocess.run(
                ["git", "--version"],
                env=env,
                capture_output=True,
                text=True,
                timeout=CHECK_TIMEOUT_S,
                stdin=subprocess.DEVNULL,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise PreflightFailed(f"git does not run: {exc}") from None
        return done.stdout.strip()

    return Check("git", run)


def redis_check(url: str, source: Source, wait_s: float = REDIS_WAIT_S) -> Check:
    """Redis at `url` answers PING within `wait_s` (tried every half second); a refused password fails at once."""

    def run() -> str:
        shown = redact_url(url)
        try:
            client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1, retry=Retry(NoBackoff(), 0))
        except ValueError as exc:
            raise ConfigError(f"{source.name}: {shown} is not a Redis URL: {exc}", source=source) from None
        deadline = time.monotonic() + wait_s
        while True:
            try:
                client.ping()
                version = client.info("server").get("redis_version", "?")
                return f"PONG from {shown} (Redis {version})"
            except (redis.AuthenticationError, redis.ResponseError) as exc:
                raise PreflightFailed(
                    f"Redis at {shown} refused: {exc} (the password in {source.name})", source=source
                ) from None
            except (redis.ConnectionError, redis.TimeoutError, OSError):
                if time.monotonic() >= deadline:
                    raise PreflightFailed(
                        f"Redis at {shown} is unreachable (tried for {wait_s:g}s); start it or fix {source.name}",
                        source=source,
                    ) from None
                time.sleep(0.5)
            finally:
                client.close()

    return Check("redis", run)


def settings_source(settings: Settings, name: str, default: str) -> Source:
    """Where a settings field came from: the environment variable that set it, else the default."""
    variable = settings.origins.get(name)
    return Source("env", variable) if variable else Source("default", default)


def model_checks(
    settings: Settings,
    config: RepoConfig | None,
    env: Mapping[str, str],
    scripts: Mapping[str, PolicyFactory] | None = None,
) -> list[Check]:
    """One check per distinct spec the roles use (a flag, the environment, the repo's file, the
    default): it parses, its key is set, its endpoint lists models. Named by the roles using it."""
    by_spec: dict[str, list[ResolvedSpec]] = {}
    for role in Role:
        resolved = resolve_spec(role, settings, config)
        by_spec.setdefault(resolved.spec, []).append(resolved)
    checks = []
    for spec, users in by_spec.items():
        roles = ", ".join(r.role for r in users)
        where = users[0].source

        def run(spec: str = spec, where: Source = where) -> str:
            try:
                probed = probe_model(spec, env, scripts=scripts)
            except OrchestraError as error:
                raise error.with_source(where) from None
            said = f"{spec} (from {where.describe()})"
            if not probed.endpoint:
                return f"{said}: {probed.note}"
            listed = f"answers, {probed.listed} models listed" if probed.listed else "answers"
            return f"{said}: {probed.endpoint} {listed}" + (f"; {probed.note}" if probed.note else "")

        checks.append(Check(f"model {roles}", run))
    return checks


def usd_cap_source(settings: Settings, config: RepoConfig) -> str | None:
    """Where the US-dollar cap of the spend breaker comes from (a flag, a variable, the file), None when none is set."""
    for cap, key in (("goal_usd", "budgets.goal.usd"), ("day_usd", "budgets.day.usd")):
        if getattr(settings.spend_caps, cap) is not None:
            return settings.origins.get(f"spend_caps.{cap}") or f"--{cap.replace('_', '-')}"
        if getattr(config.budgets, key.split(".")[1]).usd is not None:
            return f"{key} in .github/orchestra.yml"
    return None


def prices_check(settings: Settings, config: RepoConfig, env: Mapping[str, str]) -> Check:
    """With a spend cap in US dollars, every role's model must be in the price table: an unpriced
    model's calls count as $0 and the cap would never trip."""

    def run() -> str:
        table = load_prices(env.get(PRICES_ENV))
        where = usd_cap_source(settings, config.with_caps(settings.spend_caps))
        if where is None:
            raise Skip(f"no spend cap in US dollars (prices as of {table.as_of})")
        for role in Role:
            resolved = resolve_spec(role, settings, config)
            spec = parse_spec(resolved.spec)
            if spec.provider != "scripted" and not table.priced(spec.model):
                raise ConfigError(
                    f"a spend cap in US dollars ({where}) cannot work with the {role.value} model {resolved.spec}: "
                    f"it is not in the price table (prices as of {table.as_of}), so its calls would count as $0; "
                    f"price it in a file named by {PRICES_ENV}, or cap tokens instead",
                    source=Source("env", PRICES_ENV),
                )
        return f"every role's model is priced (prices as of {table.as_of}); the cap is {where}"

    return Check("prices", run)


def _get(url: str, headers: dict[str, str]) -> requests.Response:
    try:
        return requests.get(url, headers={"Accept": "application/vnd.github+json", **headers}, timeout=CHECK_TIMEOUT_S)
    except requests.RequestException as exc:
        host = re.sub(r"^(https?://[^/]+).*$", r"\1", url)
        raise PreflightFailed(
            f"the forge at {host} is unreachable: {type(exc).__name__}", source=Source("endpoint", host)
        ) from None


def _app_headers(settings: Settings) -> dict[str, str]:
    if not (settings.app_id and settings.private_key):
        missing = "ORCHESTRA_PRIVATE_KEY(_PATH)" if settings.app_id else "ORCHESTRA_APP_ID"
        raise ConfigError(f"App auth is half set: {missing} is missing", source=Source("env", missing))
    try:
        token = app_jwt(settings.app_id, settings.private_key.get_secret_value())
    except (jwt.PyJWTError, ValueError, TypeError) as exc:
        name = settings.origins.get("private_key", "ORCHESTRA_PRIVATE_KEY")
        raise ConfigError(
            f"{name}: not an RSA private key in PEM form ({type(exc).__name__}); no App JWT can be made",
            source=Source("env", name),
        ) from None
    return {"Authorization": f"Bearer {token}"}


def app_check(settings: Settings) -> Check:
    """App id and key set together, the key makes a JWT, the forge's `GET /app` answers with that id, and the
    App asks for every permission the bot uses (its installations are checked per repository)."""

    def run() -> str:
        if not (settings.app_id or settings.private_key):
            raise Skip("no App configured (ORCHESTRA_APP_ID unset)")
        headers = _app_headers(settings)
        response = _get(f"{settings.api_url}/app", headers)
        if response.status_code == 401:
            raise ConfigError(
                f"the forge refused the App JWT for App {settings.app_id}: the private key is not "
                "this App's, or the App id is wrong",
                source=Source("env", "ORCHESTRA_APP_ID"),
            )
        if response.status_code != 200:
            raise PreflightFailed(f"GET /app answered HTTP {response.status_code}")
        app = response.json()
        if str(settings.app_id) not in (str(app.get("id")), str(app.get("client_id"))):
            raise ConfigError(
                f"the key belongs to App {app.get('id')}, not ORCHESTRA_APP_ID={settings.app_id}",
                source=Source("env", "ORCHESTRA_APP_ID"),
            )
        gaps = lacking(app.get("permissions") or {})
        if gaps:
            raise PreflightFailed(
                f"App {app.get('id')} does not ask for {', '.join(gaps)}: add them in the App's "
                "settings (app.yml lists them), then accept them on each installation"
            )
        return f"App {app.get('id')} ({app.get('slug')}) at {settings.api_url} asks for what the bot needs"

    return Check("app", run)


def webhook_secret_check(settings: Settings, required: bool) -> Check:
    """The secret deliveries are signed with is set (`serve` refuses to start without it)."""

    def run() -> str:
        if settings.webhook_secret is not None:
            return f"set ({settings.origins.get('webhook_secret', 'ORCHESTRA_WEBHOOK_SECRET')})"
        if not required:
            raise Skip("not set (only `orchestra serve` needs it)")
        raise ConfigError(
            "ORCHESTRA_WEBHOOK_SECRET is not set; `orchestra serve` refuses to run without it",
            source=Source("env", "ORCHESTRA_WEBHOOK_SECRET"),
        )

    return Check("webhook secret", run)


def lacking(granted: Mapping[str, str], required: Mapping[str, str] = REQUIRED_APP_PERMISSIONS) -> list[str]:
    """The permissions `granted` lacks, as ``contents: write (has read)``."""
    gaps = []
    for name, level in required.items():
        have = granted.get(name, "none")
        if LEVELS.index(have if have in LEVELS else "none") < LEVELS.index(level):
            gaps.append(f"{name}: {level} (has {have})")
    return gaps


def installation_check(settings: Settings, repo: str | None = None) -> Check:
    """The App's installation on `repo` (`GET /repos/{o}/{r}/installation`) grants every permission the bot uses."""

    def run() -> str:
        if not (settings.app_id and settings.private_key):
            raise Skip("no App configured")
        if repo is None:
            raise Skip("no repository named (--repo OWNER/NAME checks its installation's permissions)")
        headers = _app_headers(settings)
        response = _get(f"{settings.api_url}/repos/{repo}/installation", headers)
        if response.status_code == 404:
            raise PreflightFailed(f"the App is not installed on {repo}: install it (the App's page → Install App)")
        if response.status_code != 200:
            raise PreflightFailed(f"GET /repos/{repo}/installation answered HTTP {response.status_code}")
        installation = response.json()
        gaps = lacking(installation.get("permissions") or {})
        if gaps:
            raise PreflightFailed(
                f"installation {installation.get('id')} on {repo} lacks {', '.join(gaps)}: accept "
                "the App's new permissions on the installation (or grant them in its settings)"
            )
        return f"installation {installation.get('id')} on {repo} grants what the bot needs"

    return Check("installation", run)


def token_check(settings: Settings, repo: str | None = None) -> Check:
    """The token is accepted (`GET /rate_limit`) and, with `repo`, may push to it."""

    def run() -> str:
        if settings.token is None:
            raise Skip("no token configured (ORCHESTRA_TOKEN unset)")
        name = settings.origins.get("token", "ORCHESTRA_TOKEN")
        headers = {"Authorization": f"token {settings.token.get_secret_value()}"}
        response = _get(f"{settings.api_url}/rate_limit", headers)
        if response.status_code == 401:
            raise ConfigError(
                f"the forge at {settings.api_url} refused the token in {name} (HTTP 401)", source=Source("env", name)
            )
        if repo is None:
            return f"accepted by {settings.api_url} ({name})"
        found = _get(f"{settings.api_url}/repos/{repo}", headers)
        if found.status_code in (403, 404):
            raise PreflightFailed(
                f"the token in {name} cannot see {repo} (HTTP {found.status_code})", source=Source("env", name)
            )
        permissions = found.json().get("permissions")
        if permissions is not None and not permissions.get("push"):
            raise PreflightFailed(
                f"the token in {name} cannot push to {repo}: give its account write access", source=Source("env", name)
            )
        return f"may write to {repo} ({name})" if permissions else f"sees {repo} ({name})"

    return Check("token" if not repo else f"token {repo}", run)


def forge_checks(settings: Settings, repo: str | None = None, required: bool = True) -> list[Check]:
    """The forge with this process's credentials: the App (id, key, installations), else the token.
    `required`: having neither is a failure (a worker can do nothing without one)."""
    if settings.app_id or settings.private_key:
        return [app_check(settings), *([installation_check(settings, repo)] if repo else [])]
    if settings.token is not None:
        return [token_check(settings, repo)]

    def none() -> str:
        if required:
            raise ConfigError(
                "no forge credentials: set ORCHESTRA_APP_ID and ORCHESTRA_PRIVATE_KEY_PATH (App), or ORCHESTRA_TOKEN",
                source=Source("env", "ORCHESTRA_APP_ID"),
            )
        raise Skip("no App or token configured (local mode needs none)")

    return [Check("forge", none)]


def server_checks(
    settings: Settings,
    command: str,
    env: Mapping[str, str],
    repo: str | None = None,
    scripts: Mapping[str, PolicyFactory] | None = None,
) -> list[Check]:
    """What a server command needs: `serve` (secret, Redis), `worker` (git, Redis, models, forge),
    `reconcile` (Redis, forge on the repository)."""
    redis_source = settings_source(settings, "redis_url", "redis_url")
    if command == "serve":
        return [webhook_secret_check(settings, required=True), redis_check(settings.redis_url, redis_source)]
    if command == "reconcile":
        return [redis_check(settings.redis_url, redis_source), *forge_checks(settings, repo)]
    return [
        git_check(),
        redis_check(settings.redis_url, redis_source),
        *model_checks(settings, None, env, scripts),
        *forge_checks(settings, repo),
    ]


def doctor_checks(
    settings: Settings,
    env: Mapping[str, str],
    repo: str | None = None,
    config: RepoConfig | None = None,
    redis_url: str | None = None,
    scripts: Mapping[str, PolicyFactory] | None = None,
) -> list[Check]:
    """Everything `orchestra doctor` looks at. Redis only when one is named (ORCHESTRA_REDIS_URL,
    REDIS_URL, `--redis`) or an App is configured: local mode runs without it."""
    checks = [git_check()]
    redis_source = Source("flag", "--redis") if redis_url else settings_source(settings, "redis_url", "redis_url")
    if redis_url or "redis_url" in settings.origins or settings.app_id:
        checks.append(redis_check(redis_url or settings.redis_url, redis_source))
    else:
        checks.append(Check("redis", _skip("no Redis named (ORCHESTRA_REDIS_URL unset; local mode runs without)")))
    checks += model_checks(settings, config, env, scripts)
    checks.append(prices_check(settings, config or RepoConfig(), env))
    checks.append(webhook_secret_check(settings, required=bool(settings.app_id)))
    checks += forge_checks(settings, repo, required=False)
    return checks


def _skip(reason: str) -> Callable[[], str]:
    def run() -> str:
        raise Skip(reason)

    return run
