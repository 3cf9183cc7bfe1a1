"""`orchestra app create`: GitHub's App manifest flow run from this machine, ending in `.env` and a key file.

The steps (docs/deploy.md, step 1):

1. `app.yml` is read and given the webhook URL and name asked for; its `redirect_url` becomes this
   command's own page, `http://127.0.0.1:PORT/callback`.
2. A page on 127.0.0.1 (a free port) posts the manifest, as the form field `manifest`, to
   `SERVER/settings/apps/new?state=STATE` (or an organization's), by itself; the person signs in
   there and confirms. `STATE` is random and said only to that page.
3. The server redirects the browser to `/callback?code=CODE&state=STATE`. A callback whose state
   differs is refused and the command keeps waiting.
4. The code becomes the App (`POST API/app-manifests/CODE/conversions`): its id, slug, private key,
   webhook secret, client id and client secret. The orchestra uses no OAuth: the client's id and
   secret are not kept (the App's settings page shows the id and makes new secrets).
5. The key is written to its own file (mode 0600) and the settings to `.env` (mode 0600): the App
   id, the webhook secret, the key's path, the bot's login — never the key itself. Existing files
   are left alone unless `force` (then the App's lines of `.env` are replaced, the others kept).
6. The key is checked: a JWT it signs is accepted by `GET API/app`.

Nothing secret is printed or logged: not the key, the secrets, the code or the state.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import quote, urlsplit

import requests
import yaml

from bot.errors import ConfigError, ForgeError, OrchestraError
from bot.forge.auth import app_jwt
from bot.modes.appfiles import check_values, path_setting, refuse_existing, write_settings
from bot.modes.apppage import LocalPage, form_page, result_page

GITHUB = "https://github.com"
GITHUB_API = "https://api.github.com"
#: How long the command waits for the person to create the App (GitHub's code then lasts an hour).
WAIT_S = 900.0
HTTP_TIMEOUT_S = 30.0
ENV_FILE = Path(".env")
#: Where docker-compose.yml takes the key from (its `app-private-key` secret).
KEY_FILE = Path("secrets/app-private-key.pem")
PLACEHOLDER_HOST = "example.com"


@dataclass(frozen=True)
class AppRequest:
    """What the person asked for: where to create the App, from which manifest, and where to write."""

    manifest_path: Path
    server_url: str = GITHUB
    api_url: str | None = None
    org: str | None = None
    webhook_url: str | None = None
    name: str | None = None
    env_file: Path = ENV_FILE
    key_file: Path = KEY_FILE
    force: bool = False
    host: str = "127.0.0.1"
    port: int = 0
    wait_s: float = WAIT_S

    @property
    def server(self) -> str:
        return self.server_url.rstrip("/")

    @property
    def api(self) -> str:
        """The REST root: the one given, api.github.com for github.com, else SERVER/api/v3 (GHES, localhub).
        A login in the server's URL is the browser's, for the form: the API calls never carry it."""
        if self.api_url:
            return self.api_url.rstrip("/")
        server = public(self.server)
        return GITHUB_API if server == GITHUB else f"{server}/api/v3"

    @property
    def form_url(self) -> str:
        """Where the manifest form is posted: the person's App page, or the organization's."""
        return (
            f"{self.server}/organizations/{self.org}/settings/apps/new"
            if self.org
            else f"{self.server}/settings/apps/new"
        )


@dataclass(frozen=True)
class AppCredentials:
    """What the manifest conversion hands out. `repr` shows no secret."""

    app_id: int
    slug: str
    name: str
    html_url: str
    owner: str
    client_id: str
    pem: str = field(repr=False)
    webhook_secret: str | None = field(repr=False)

    @classmethod
    def from_conversion(cls, data: Any) -> AppCredentials:
        try:
            return cls(
                app_id=int(data["id"]),
                slug=str(data["slug"]),
                name=str(data.get("name") or data["slug"]),
                html_url=str(data.get("html_url") or ""),
                owner=str((data.get("owner") or {}).get("login", "")),
                client_id=str(data.get("client_id") or ""),
                pem=str(data["pem"]),
                webhook_secret=data.get("webhook_secret"),
            )
        except (KeyError, TypeError, ValueError, AttributeError):
            raise ForgeError("the manifest conversion answered without the App's id, slug or key") from None

    @property
    def bot_login(self) -> str:
        return f"{self.slug}[bot]"

    @property
    def install_url(self) -> str:
        """The App's page to install it on repositories (GitHub: /apps/SLUG/installations/new)."""
        return f"{self.html_url.rstrip('/')}/installations/new" if self.html_url else ""


@dataclass
class AppResult:
    """What `create_app` did: the App and the files written (paths), for the report to the person."""

    app: AppCredentials
    env_file: Path
    key_file: Path
    env_keys: list[str]
    verified: str


# -- the manifest -----------------------------------------------------------------------------


def load_manifest(request: AppRequest) -> dict[str, Any]:
    """`app.yml` as the manifest to post, with the webhook URL and name asked for.

    The shipped file's webhook URL is a placeholder (orchestra.example.com): posting it would send
    every event to a host that is not yours, so it is refused until `--webhook-url` replaces it.
    """
    try:
        data = yaml.safe_load(request.manifest_path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(
            f"cannot read the App manifest {request.manifest_path}: {exc.strerror}; pass "
            "--manifest PATH (the repository's app.yml)"
        ) from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{request.manifest_path} is not YAML: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{request.manifest_path} does not hold a manifest (a mapping)")
    manifest = dict(data)
    hook = dict(manifest.get("hook_attributes") or {})
    if request.webhook_url:
        _check_url(request.webhook_url, "--webhook-url")
        hook.update(url=request.webhook_url, active=True)
    hook_url = str(hook.get("url") or "")
    host = _host(hook_url)
    if hook.get("active", True) and (host == PLACEHOLDER_HOST or host.endswith("." + PLACEHOLDER_HOST)):
        raise ConfigError(
            f"the manifest's webhook URL is the placeholder {hook_url}: pass --webhook-url "
            "https://YOUR-HOST/webhook (where `orchestra serve` is reachable)"
        )
    manifest["hook_attributes"] = hook
    if request.name:
        manifest["name"] = request.name
    return manifest


def public(url: str) -> str:
    """`url` without a login or password in it: what may be printed or written to `.env`."""
    parts = urlsplit(url)
    return parts._replace(netloc=parts.netloc.rpartition("@")[2]).geturl() if "@" in parts.netloc else url


def _host(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


def _check_url(url: str, what: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(f"{what}: {url!r} is not an http(s) URL")


# -- the pages --------------------------------------------------------------------------------


def done_page(result: AppResult) -> str:
    app = result.app
    install = f'<a href="{escape(app.install_url)}">install the App</a>' if app.install_url else "install the App"
    return result_page(
        f"Created the GitHub App {app.name}",
        [
            f"App id {app.app_id}, slug <code>{escape(app.slug)}</code>; the settings are in "
            f"<code>{escape(str(result.env_file))}</code> and the key in <code>{escape(str(result.key_file))}</code>.",
            f"Next: {install} on the repositories it should work on, then <code>docker compose up -d</code>.",
            "You can close this tab; the terminal says the same.",
        ],
    )


def failed_page(error: OrchestraError) -> str:
    return result_page("The App could not be set up", [escape(str(error)), "The terminal says what to do next."])


# -- the conversion and the files -------------------------------------------------------------


def convert(api: str, code: str, timeout_s: float = HTTP_TIMEOUT_S) -> AppCredentials:
    """Trade the redirect's code for the App's credentials (`POST /app-manifests/{code}/conversions`)."""
    url = f"{api}/app-manifests/{quote(code, safe='')}/conversions"
    try:
        response = requests.post(url, headers={"Accept": "application/vnd.github+json"}, timeout=timeout_s)
    except requests.RequestException as exc:
        raise ForgeError(
            f"the forge's API at {public(api)} is unreachable ({type(exc).__name__}); check --api-url"
        ) from None
    if response.status_code == 404:
        raise ForgeError(
            "the forge does not know the App's code: it was already used or is older than an hour. "
            "The App may exist already: delete it on its settings page, then run the command again"
        )
    if response.status_code != 201:
        raise ForgeError(f"the manifest conversion at {public(api)} answered HTTP {response.status_code}")
    try:
        return AppCredentials.from_conversion(response.json())
    except ValueError:
        raise ForgeError("the manifest conversion did not answer JSON") from None


def env_settings(app: AppCredentials, request: AppRequest) -> dict[str, str]:
    """The lines this command owns in `.env` (the App's; the forge's when it is not github.com)."""
    values = {
        "ORCHESTRA_APP_ID": str(app.app_id),
        "ORCHESTRA_WEBHOOK_SECRET": app.webhook_secret or "",
        "ORCHESTRA_PRIVATE_KEY_PATH": path_setting(request.key_file, request.env_file),
        "ORCHESTRA_BOT_LOGIN": app.bot_login,
    }
    server, api = public(request.server), public(request.api)
    if server != GITHUB or api != GITHUB_API:
        values.update(ORCHESTRA_API_URL=api, ORCHESTRA_SERVER_URL=server)
    return values


def write_files(app: AppCredentials, request: AppRequest) -> list[str]:
    """The key file, then `.env` (both 0600); returns the `.env` keys this command set."""
    try:
        refuse_existing(request.env_file, request.key_file, request.force)  # again: one may have appeared
    except ConfigError as exc:
        raise ConfigError(
            f"the App {app.slug} (id {app.app_id}) was created but nothing was written: {exc}. "
            "Generate a private key on the App's settings page instead"
        ) from None
    return write_settings(request.env_file, request.key_file, app.pem, env_settings(app, request))


def verify(app: AppCredentials, api: str, timeout_s: float = HTTP_TIMEOUT_S) -> str:
    """A sentence saying whether a JWT signed with the new key is accepted by `GET /app` (never raises)."""
    try:
        token = app_jwt(str(app.app_id), app.pem)
        response = requests.get(
            f"{api}/app",
            timeout=timeout_s,
            headers={"Authorization": f"Bearer {token}", "Accept": "application/vnd.github+json"},
        )
        accepted = response.status_code == 200 and response.json().get("id") == app.app_id
    except (requests.RequestException, ValueError, AttributeError) as exc:
        return f"could not check the key ({type(exc).__name__}); `orchestra doctor` checks it later"
    if accepted:
        return f"the key signs a JWT that {public(api)}/app accepts (App id {app.app_id})"
    return (
        f"{public(api)}/app refused the key's JWT (HTTP {response.status_code}); "
        "run `orchestra doctor` once it is installed"
    )


# -- the whole flow ---------------------------------------------------------------------------


def create_app(request: AppRequest, out: TextIO, open_browser: Callable[[str], object] | None = None) -> AppResult:
    """Run the manifest flow to the end (see the module docstring); print what the person must do."""
    refuse_existing(request.env_file, request.key_file, request.force)
    check_values({"ORCHESTRA_PRIVATE_KEY_PATH": path_setting(request.key_file, request.env_file)})
    _check_url(request.server, "--server")
    manifest = load_manifest(request)
    try:
        page = LocalPage(request.host, request.port, secrets.token_urlsafe(24))
    except OSError as exc:
        raise ConfigError(
            f"cannot serve the page on {request.host}:{request.port}: {exc.strerror}; pass another "
            "--port, or 0 for a free one"
        ) from None
    try:
        manifest["redirect_url"] = page.callback_url
        page.serve(form_page(manifest, f"{request.form_url}?state={page.state}", public(request.server)))
        print(
            f"Open {page.url} in your browser to create the GitHub App on {public(request.server)} "
            f"(waiting up to {request.wait_s / 60:g} min).",
            file=out,
            flush=True,
        )
        if open_browser is not None:
            open_browser(page.url)
        code = page.wait_for_code(request.wait_s)
        try:
            app = convert(request.api, code)
            keys = write_files(app, request)
        except OrchestraError as exc:
            page.finish(failed_page(exc))
            raise
        result = AppResult(app, request.env_file, request.key_file, keys, verify(app, request.api))
        page.finish(done_page(result))
        return result
    finally:
        page.close()


def report(result: AppResult) -> str:
    """What the terminal says after the App was made: the App, the files, the next steps. No secret."""
    app = result.app
    owner = f" owned by {app.owner}" if app.owner else ""
    install = app.install_url or "the App's page → Install App"
    return "\n".join(
        [
            f"Created the GitHub App {app.name!r} (id {app.app_id}, slug {app.slug}){owner}.",
            f"Wrote {result.key_file} (mode 0600): the App's private key.",
            f"Wrote {result.env_file} (mode 0600): {', '.join(result.env_keys)}.",
            f"Checked: {result.verified}.",
            "",
            "Next steps:",
            f"  1. Install the App on the repositories it should work on: {install}",
            f"  2. Fill in the models and their keys in {result.env_file} (docs/models.md).",
            "  3. docker compose run --rm worker doctor --repo OWNER/NAME   # checks every setting",
            "  4. docker compose up -d --build",
            "  5. Label an issue orchestra:goal in an installed repository.",
        ]
    )
