"""`orchestra app create` against localhub, end to end: the command's own page posts app.yml to the forge's
manifest form, a scripted person follows the form and the redirect as a browser would, and the `.env` and
key file the command writes (0600, no key in `.env`, nothing secret printed) authenticate as the App:
JWT → installation token → an issue opened as the App's bot; the webhook secret checks its deliveries."""

from __future__ import annotations

import io
import os
import queue
import socket
import stat
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import IO, Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from bot.cli import main
from bot.cli.app_cmd import graphical
from bot.errors import ConfigError, ForgeError
from bot.forge.auth import forge_for, installation_for
from bot.modes.appfiles import merged_env
from bot.modes.appsetup import AppRequest, AppResult, create_app, load_manifest, report
from bot.settings import Settings
from localhub.manifests import MANIFEST_APP_ID
from tests.support.browser import Browser
from tests.support.localhub import LocalhubHandle, WebhookReceiver
from tests.support.waiting import wait_for
from webhooks.signature import verify

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 60.0


class _Form(HTMLParser):
    """The first form of a page: its method, action and fields, as a browser would submit it."""

    def __init__(self) -> None:
        super().__init__()
        self.method, self.action, self.fields, self.scripts = "", "", {}, ""
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "form" and not self.action:
            self.method, self.action = values.get("method", "get").lower(), values.get("action", "")
        elif tag == "input" and values.get("name"):
            self.fields[values["name"]] = values.get("value", "")
        self._in_script = tag == "script"

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.scripts += data


@dataclass
class Command:
    """`orchestra app create` running in a child process; its output as it comes."""

    process: subprocess.Popen[str]
    out: list[str] = field(default_factory=list)
    err: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._readers = [
            threading.Thread(target=self._read, args=(stream, into), daemon=True)
            for stream, into in ((self.process.stdout, self.out), (self.process.stderr, self.err))
        ]
        for reader in self._readers:
            reader.start()

    @staticmethod
    def _read(stream: IO[str] | None, into: list[str]) -> None:
        assert stream is not None
        for line in stream:
            into.append(line)

    def page_url(self) -> str:
        def opened() -> str | None:
            found = [w for line in list(self.out) for w in line.split() if w.startswith("http://127.0.0.1:")]
            if not found and self.process.poll() is not None:
                raise AssertionError(f"the command ended: {''.join(self.err)}")
            return found[0] if found else None

        return wait_for(opened, timeout=TIMEOUT, what="the command to print its page")

    def finish(self) -> tuple[int, str, str]:
        self.process.wait(timeout=TIMEOUT)
        for reader in self._readers:
            reader.join(timeout=TIMEOUT)
        return self.process.returncode, "".join(self.out), "".join(self.err)


def _start(tmp: Path, *args: str) -> Command:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ORCHESTRA_") and k != "BROWSER"}
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "app", "create", "--no-browser", "--manifest", str(ROOT / "app.yml"), *args],
        cwd=tmp,
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    return Command(process)


def _read_form(page_url: str) -> _Form:
    page = requests.get(page_url, timeout=10)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    form = _Form()
    form.feed(page.text)
    assert form.method == "post" and set(form.fields) == {"manifest"}
    assert "submit()" in form.scripts  # the page posts itself; the button is there without scripts
    return form


def _post_as(form: _Form, hub: LocalhubHandle, login: str) -> str:
    """The person signs in on the forge and confirms: the forge's redirect back (its Location)."""
    answer = requests.post(
        form.action, data=form.fields, auth=(login, hub.token(login)), allow_redirects=False, timeout=30
    )
    assert answer.status_code == 302, answer.text
    return str(answer.headers["Location"])


def _parse_env(path: Path) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if line and not line.startswith("#"))
    return {key: value for key, value in pairs}


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_app_create_writes_settings_that_authenticate_as_the_app(
    localhub: LocalhubHandle, webhook_receiver: WebhookReceiver, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    localhub.add_user("alice")
    localhub.github("alice").get_user().create_repo("project")
    command = _start(tmp_path, "--server", localhub.url, "--webhook-url", webhook_receiver.url)
    page = command.page_url()
    form = _read_form(page)
    assert form.action.startswith(f"{localhub.url}/settings/apps/new?state=")
    state = parse_qs(urlsplit(form.action).query)["state"][0]
    assert len(state) >= 32

    back = _post_as(form, localhub, "alice")
    assert back.startswith(page.rstrip("/") + "/callback?")
    code = parse_qs(urlsplit(back).query)["code"][0]
    forged = requests.get(back.replace(f"state={state}", "state=forged"), timeout=10)
    assert forged.status_code == 400 and "not the App this command asked for" in forged.text
    done = requests.get(back, timeout=60)
    assert done.status_code == 200 and "Created the GitHub App Agent Orchestra" in done.text
    rc, out, err = command.finish()
    assert rc == 0, err

    env_file, key_file = tmp_path / ".env", tmp_path / "secrets" / "app-private-key.pem"
    assert (_mode(env_file), _mode(key_file), _mode(key_file.parent)) == (0o600, 0o600, 0o700)
    env = _parse_env(env_file)
    pem = key_file.read_text()
    assert pem.startswith("-----BEGIN RSA PRIVATE KEY-----") and "PRIVATE KEY" not in env_file.read_text()
    assert env["ORCHESTRA_APP_ID"] == str(MANIFEST_APP_ID) and env["ORCHESTRA_BOT_LOGIN"] == "agent-orchestra[bot]"
    assert env["ORCHESTRA_PRIVATE_KEY_PATH"] == "secrets/app-private-key.pem"
    assert (env["ORCHESTRA_API_URL"], env["ORCHESTRA_SERVER_URL"]) == (localhub.api_url, localhub.url)
    assert len(env["ORCHESTRA_REDIS_PASSWORD"]) == 64 and env["ORCHESTRA_WEBHOOK_SECRET"]
    for secret in (
        env["ORCHESTRA_WEBHOOK_SECRET"],
        env["ORCHESTRA_REDIS_PASSWORD"],
        code,
        state,
        *pem.splitlines()[1:-1],
    ):
        assert secret not in out + err + done.text
    assert f"{localhub.url}/apps/agent-orchestra/installations/new" in out
    assert "accepts (App id 100001)" in out and "docker compose up -d" in out

    # The written settings work as the server's: App JWT → the installation → a token → an API call.
    monkeypatch.chdir(tmp_path)  # the key's path is relative to the folder of .env, where compose runs
    settings = Settings.from_env(env)
    installation = installation_for(settings, "alice/project")
    issue = forge_for(settings, "alice/project", installation).create_issue("Opened by the App", "hello")
    assert localhub.github("alice").get_repo("alice/project").get_issue(issue.number).user.login == (
        "agent-orchestra[bot]"
    )
    localhub.drain()
    [opened] = [d for d in webhook_receiver.events("issues") if d.json()["action"] == "opened"]
    assert verify(env["ORCHESTRA_WEBHOOK_SECRET"].encode(), opened.body, opened.headers["X-Hub-Signature-256"])


@dataclass
class InProcess:
    """`create_app` on a thread of this process; the page's address arrives as the browser would get it."""

    request: AppRequest
    opened: queue.Queue[str] = field(default_factory=queue.Queue)
    outcome: list[AppResult | BaseException] = field(default_factory=list)
    printed: io.StringIO = field(default_factory=io.StringIO)

    def __post_init__(self) -> None:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self.outcome.append(create_app(self.request, self.printed, self.opened.put))
        except BaseException as exc:  # handed to the test's thread
            self.outcome.append(exc)

    def page_url(self) -> str:
        return self.opened.get(timeout=TIMEOUT)

    def result(self) -> AppResult | BaseException:
        self._thread.join(timeout=TIMEOUT)
        return self.outcome[0]


def _request(hub: LocalhubHandle, tmp: Path, **extra: Any) -> AppRequest:
    values: dict[str, Any] = {
        "server_url": hub.url,
        "webhook_url": "https://orchestra.test/webhook",
        "env_file": tmp / ".env",
        "key_file": tmp / "secrets" / "app-private-key.pem",
        "wait_s": TIMEOUT,
        **extra,
    }
    return AppRequest(ROOT / "app.yml", **values)


def test_existing_files_are_refused_before_any_app_is_made(
    localhub: LocalhubHandle, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / ".env").write_text("OPENAI_API_KEY=kept\n")
    request = _request(localhub, tmp_path)
    assert (
        main(
            [
                "app",
                "create",
                "--no-browser",
                "--manifest",
                str(request.manifest_path),
                "--server",
                localhub.url,
                "--webhook-url",
                "https://orchestra.test/webhook",
                "--env-file",
                str(request.env_file),
                "--key-file",
                str(request.key_file),
            ]
        )
        == 2
    )
    captured = capsys.readouterr()
    assert ".env exists: pass --force" in captured.err and captured.out == ""
    assert localhub.hub.config.app is None  # no App was made on the forge
    assert (tmp_path / ".env").read_text() == "OPENAI_API_KEY=kept\n" and not (tmp_path / "secrets").exists()


def test_force_replaces_the_apps_lines_and_keeps_the_others(localhub: LocalhubHandle, tmp_path: Path) -> None:
    localhub.add_user("alice")
    make_org = requests.post(
        f"{localhub.api_url}/orgs/acme/repos",
        json={"name": "tool"},
        timeout=10,
        headers={"Authorization": f"token {localhub.token('alice')}"},
    )
    assert make_org.status_code == 201
    env_file = tmp_path / ".env"
    env_file.write_text("# mine\nORCHESTRA_APP_ID=1\nOPENAI_API_KEY=kept\nORCHESTRA_REDIS_PASSWORD=mine\n")
    env_file.chmod(0o644)
    run = InProcess(_request(localhub, tmp_path, org="acme", force=True, name="Orchestra Acme"))
    form = _read_form(run.page_url())
    assert form.action.startswith(f"{localhub.url}/organizations/acme/settings/apps/new?state=")
    assert requests.get(_post_as(form, localhub, "alice"), timeout=60).status_code == 200
    result = run.result()
    assert isinstance(result, AppResult), result
    assert (result.app.owner, result.app.slug) == ("acme", "orchestra-acme")
    assert "owned by acme" in report(result)
    env = _parse_env(env_file)
    assert env_file.read_text().startswith("# mine\nORCHESTRA_APP_ID=100001\nOPENAI_API_KEY=kept\n")
    assert env["ORCHESTRA_REDIS_PASSWORD"] == "mine" and _mode(env_file) == 0o600


def test_a_spent_code_leaves_no_file_and_says_why(localhub: LocalhubHandle, tmp_path: Path) -> None:
    localhub.add_user("alice")
    run = InProcess(_request(localhub, tmp_path))
    back = _post_as(_read_form(run.page_url()), localhub, "alice")
    code = parse_qs(urlsplit(back).query)["code"][0]
    stolen = requests.post(f"{localhub.api_url}/app-manifests/{code}/conversions", timeout=10)
    assert stolen.status_code == 201  # someone else used the code first
    page = requests.get(back, timeout=60)
    assert page.status_code == 200 and "could not be set up" in page.text
    error = run.result()
    assert isinstance(error, ForgeError) and "already used or is older than an hour" in str(error)
    assert not (tmp_path / ".env").exists() and not (tmp_path / "secrets").exists()


def test_a_real_browser_follows_the_page_to_the_end(localhub: LocalhubHandle, browser: Browser, tmp_path: Path) -> None:
    """Headless Chromium runs the page: its script posts the form, the forge signs the person in (the
    login travels in the server URL, as a person would type it into the browser's prompt), redirects
    back, and the page says the App was made. The login never reaches the files or the output."""
    token = localhub.add_user("alice")
    signed_in = localhub.url.replace("http://", f"http://alice:{token}@")
    run = InProcess(_request(localhub, tmp_path, server_url=signed_in))
    dom = browser.dom(run.page_url())
    assert "Created the GitHub App Agent Orchestra" in dom and "/apps/agent-orchestra/installations/new" in dom
    result = run.result()
    assert isinstance(result, AppResult), result
    assert token not in (tmp_path / ".env").read_text() + report(result) + run.printed.getvalue()
    assert result.verified.startswith("the key signs a JWT that") and result.app.owner == "alice"
    assert _parse_env(tmp_path / ".env")["ORCHESTRA_SERVER_URL"] == localhub.url


def test_the_placeholder_webhook_url_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="placeholder https://orchestra.example.com/webhook: pass --webhook-url"):
        load_manifest(AppRequest(ROOT / "app.yml"))
    manifest = load_manifest(AppRequest(ROOT / "app.yml", webhook_url="https://bots.acme.test/webhook", name="X"))
    assert manifest["hook_attributes"] == {"url": "https://bots.acme.test/webhook", "active": True}
    assert manifest["name"] == "X" and manifest["default_permissions"]["issues"] == "write"


def test_a_new_env_file_gets_a_redis_password_and_model_lines() -> None:
    text, keys = merged_env(None, {"ORCHESTRA_APP_ID": "7"})
    assert "ORCHESTRA_APP_ID=7\n" in text and "# ORCHESTRA_MODEL=" in text and keys[-1] == "ORCHESTRA_REDIS_PASSWORD"
    again, keys = merged_env(
        "export ORCHESTRA_APP_ID=1\nORCHESTRA_APP_ID=2\nX=1\nORCHESTRA_REDIS_PASSWORD=p",
        {"ORCHESTRA_APP_ID": "7", "ORCHESTRA_BOT_LOGIN": "b[bot]"},
    )
    assert again == "ORCHESTRA_APP_ID=7\nX=1\nORCHESTRA_REDIS_PASSWORD=p\nORCHESTRA_BOT_LOGIN=b[bot]\n"
    assert keys == ["ORCHESTRA_APP_ID", "ORCHESTRA_BOT_LOGIN"]


def test_a_browser_is_opened_only_where_it_shows_a_window() -> None:
    assert graphical({"DISPLAY": ":0"}, "linux") and graphical({"BROWSER": "firefox"}, "linux")
    assert graphical({}, "darwin") and not graphical({}, "linux")  # over SSH: no text browser in the terminal


def test_a_taken_port_is_one_clear_line(localhub: LocalhubHandle, tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(ConfigError, match=f"cannot serve the page on 127.0.0.1:{port}: .*--port"):
            create_app(_request(localhub, tmp_path, port=port), io.StringIO())
    assert localhub.hub.config.app is None and not (tmp_path / ".env").exists()
