"""The deployment files say only true things: docker-compose.yml parses and runs only commands the CLI
has, secrets stay out of committed files and of the image's build context, the Dockerfile ships every
package, every healthcheck runs a real probe of a real endpoint (and tells alive from dead), and
action.yml and both example workflows agree with `orchestra action` (inputs wired, outputs written,
its own dependencies cached, bubblewrap installed only when missing, dispatch input, permissions)."""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import tomllib
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import redis
import yaml
from werkzeug.serving import make_server

from bot.cli import build_parser
from bot.modes import health
from bot.modes.action import ACTION_ROUTER
from bot.modes.action_outputs import OUTPUTS
from bot.modes.appsetup import KEY_FILE
from bot.queue.executors import InlineExecutor
from bot.queue.rqworker import OrchestraWorker
from bot.settings import Settings
from tests.support.github_output import parse_github_output
from tests.support.redis_server import PrivateRedis
from webhooks.app import create_app

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "${ORCHESTRA_REDIS_PASSWORD:?set ORCHESTRA_REDIS_PASSWORD in .env}"
#: Inputs of action.yml that shape the runner (Python, the cache, bubblewrap), not `orchestra action`.
SETUP_INPUTS = {"python-version", "cache", "install-bubblewrap"}
REDIS_URL = f"redis://:{PASSWORD}@redis:6379/0"


def _yaml(name: str) -> Any:
    return yaml.safe_load((ROOT / name).read_text())


def _cli_commands() -> set[str]:
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    return set(sub.choices)


def test_compose_runs_only_commands_the_cli_has() -> None:
    compose = _yaml("docker-compose.yml")
    services = compose["services"]
    assert {"web", "worker", "redis", "dashboard"} <= set(services)
    ours = {name: s for name, s in services.items() if s.get("image") == "agent-orchestra:latest"}
    assert set(ours) == {"web", "worker", "dashboard"}
    for name in ("web", "worker"):
        assert services[name]["command"][0] in _cli_commands(), name
        assert services[name]["env_file"] == ".env"
        assert services[name]["environment"]["ORCHESTRA_REDIS_URL"] == REDIS_URL
    assert services["web"]["command"][0] == "serve" and services["worker"]["command"][0] == "worker"
    assert "--processes" in services["worker"]["command"] and services["worker"]["deploy"]["replicas"] >= 1
    assert services["dashboard"]["entrypoint"] == ["rq-dashboard"] and "9181" in services["dashboard"]["command"]
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert any(dep.startswith("rq-dashboard") for dep in extras["dashboard"])


def test_compose_commands_parse_and_workers_expose_metrics() -> None:
    """Every command line in the compose file is one the CLI accepts; each worker container serves its metrics."""
    services = _yaml("docker-compose.yml")["services"]
    for name in ("web", "worker"):
        build_parser().parse_args(services[name]["command"])  # SystemExit on a flag the CLI lacks
    worker = services["worker"]["command"]
    port = worker[worker.index("--metrics-port") + 1]
    assert port in [str(p) for p in services["worker"]["expose"]]


def test_redis_requires_a_password_that_only_the_redis_urls_carry() -> None:
    services = _yaml("docker-compose.yml")["services"]
    redis = services["redis"]
    assert redis["command"][-2:] == ["--requirepass", PASSWORD]
    assert redis["environment"]["REDISCLI_AUTH"].startswith("${ORCHESTRA_REDIS_PASSWORD")  # the healthcheck's
    assert services["dashboard"]["command"][-1] == REDIS_URL
    for name in ("web", "worker", "dashboard"):
        text = yaml.safe_dump(services[name])
        assert text.count("${ORCHESTRA_REDIS_PASSWORD") == 1, name  # only inside the URL
    assert "ORCHESTRA_REDIS_PASSWORD=<" in (ROOT / ".env.example").read_text()


def test_the_worker_container_confines_agent_commands() -> None:
    """The settings the uid sandbox needs and no more (tests/agent/test_sandbox_deployment.py runs under them)."""
    worker = _yaml("docker-compose.yml")["services"]["worker"]
    env = worker["environment"]
    assert env["ORCHESTRA_SANDBOX"] == "auto"  # fail closed, never `none` or `best-effort`
    assert env["ORCHESTRA_SANDBOX_LOCK_DIR"].startswith("/home/orchestra/state/")  # on the shared volume
    assert worker["user"] == "0:0" and worker["cap_drop"] == ["ALL"]
    assert set(worker["cap_add"]) == {"CHOWN", "DAC_OVERRIDE", "FOWNER", "KILL", "SETGID", "SETUID"}
    assert "no-new-privileges:true" in worker["security_opt"] and worker["init"] is True
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "install -d -m 0711" in dockerfile and "chmod 0711 /home/orchestra" in dockerfile
    assert "command -v setpriv" in dockerfile


def test_secrets_stay_out_of_committed_files() -> None:
    ignored = (ROOT / ".gitignore").read_text().split()
    assert ".env" in ignored and "secrets/" in ignored
    compose = _yaml("docker-compose.yml")
    assert compose["secrets"]["app-private-key"]["file"].startswith("./secrets/")
    assert compose["services"]["worker"]["environment"]["ORCHESTRA_PRIVATE_KEY_PATH"] == "/run/secrets/app-private-key"
    secretish = re.compile(r"(KEY|SECRET|TOKEN)$")
    for line in (ROOT / ".env.example").read_text().splitlines():
        key, sep, value = line.partition("=")
        if sep and not line.startswith("#") and (secretish.search(key) or key.endswith("PASSWORD")):
            assert value.startswith("<") and value.endswith(">"), f"{key} must be a placeholder"


def test_dockerfile_ships_every_package_and_runs_unprivileged() -> None:
    text = (ROOT / "Dockerfile").read_text()
    packages = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]["include"]
    for package in packages:
        name = package.rstrip("*")
        assert f"COPY {name} ./{name}" in text, name
    assert 'pip install --no-cache-dir ".[dashboard]"' in text
    assert "USER orchestra" in text and 'ENTRYPOINT ["orchestra"]' in text
    assert "git" in text and "bubblewrap" in text


def test_action_yml_wires_every_input_into_orchestra_action() -> None:
    action = _yaml("action.yml")
    assert action["runs"]["using"] == "composite"
    steps = action["runs"]["steps"]
    assert steps[0]["uses"].startswith("actions/setup-python@")
    run = steps[-1]
    assert run["run"].strip() == "orchestra action" and "action" in _cli_commands()
    wired = " ".join(str(v) for v in run["env"].values())
    setup = " ".join(yaml.safe_dump(step) for step in steps[:-1])
    for name in action["inputs"]:
        if name in SETUP_INPUTS:
            assert f"inputs.{name}" in setup, f"input {name} changes no setup step"
        else:
            assert f"inputs.{name}" in wired, f"input {name} reaches no setting"
    assert action["inputs"]["token"]["default"] == "${{ github.token }}"
    assert action["inputs"]["model"]["required"] is True


def test_example_workflows_fan_out_by_task_and_agree() -> None:
    docs, own = _yaml("docs/action-workflow.yml"), _yaml(".github/workflows/orchestra.yml")
    for workflow in (docs, own):
        triggers = workflow[True]  # YAML 1.1 reads the key `on` as True
        assert "task" in triggers["workflow_dispatch"]["inputs"]
        assert {"issues", "issue_comment", "pull_request", "check_suite", "workflow_run"} <= set(triggers)
        assert workflow["permissions"]["actions"] == "write"
        assert {workflow["permissions"][p] for p in ("contents", "issues", "pull-requests")} == {"write"}
        assert "inputs.task" in workflow["concurrency"]["group"]
        assert workflow["concurrency"]["cancel-in-progress"] is False
        # Every trigger is routed; of the routed events only the redundant per-run/status ones are left out.
        assert set(triggers) <= ACTION_ROUTER.events
        assert ACTION_ROUTER.events - set(triggers) == {"check_run", "status"}
    assert docs["permissions"] == own["permissions"] and docs["concurrency"] == own["concurrency"]
    assert {k: v for k, v in docs[True].items() if k != "workflow_run"} == {
        k: v for k, v in own[True].items() if k != "workflow_run"
    }
    [own_step] = [s for s in own["jobs"]["orchestra"]["steps"] if s.get("uses") == "./"]
    assert own_step["with"]["token"] == "${{ steps.app-token.outputs.token || github.token }}"


def test_action_yml_outputs_are_what_orchestra_action_writes() -> None:
    action = _yaml("action.yml")
    [run] = [step for step in action["runs"]["steps"] if step.get("id") == "run"]
    assert run["run"].strip() == "orchestra action"
    assert list(action["outputs"]) == list(OUTPUTS)
    for name, output in action["outputs"].items():
        assert output["value"] == f"${{{{ steps.run.outputs.{name} }}}}" and output["description"] == OUTPUTS[name]
    assert "GITHUB_OUTPUT" in _leaf("action").format_help()
    docs = (ROOT / "docs" / "action.md").read_text()
    assert all(f"`{name}`" in docs for name in OUTPUTS), "docs/action.md lists every output"


def test_action_yml_caches_its_own_dependencies_and_installs_bubblewrap_only_when_missing(tmp_path: Path) -> None:
    steps = _yaml("action.yml")["runs"]["steps"]
    [key_step] = [s for s in steps if s.get("id") == "cache-key"]
    [cache] = [s for s in steps if str(s.get("uses", "")).startswith("actions/cache@")]
    assert key_step["if"] == cache["if"] == "inputs.cache == 'true'"
    assert cache["with"]["path"] == "${{ steps.cache-key.outputs.dir }}"
    assert (
        "steps.cache-key.outputs.hash" in cache["with"]["key"]
        and "steps.python.outputs.python-version" in (cache["with"]["key"])
    )
    # The key step, run as the runner runs it: pip's cache folder and the hash of this action's pyproject.toml.
    output = tmp_path / "github_output"
    env = {
        **os.environ,
        "ORCHESTRA_ACTION_PATH": str(ROOT),
        "GITHUB_OUTPUT": str(output),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
    }
    subprocess.run(["bash", "-e", "-c", key_step["run"]], env=env, check=True, timeout=120, capture_output=True)
    values = parse_github_output(output.read_text())
    assert values["hash"] == hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()[:16]
    assert Path(values["dir"]).is_absolute()

    [sandbox] = [s for s in steps if "bubblewrap" in s.get("name", "")]
    assert sandbox["if"].startswith("inputs.install-bubblewrap == 'true'")
    script = sandbox["run"]
    assert script.index("if ! command -v bwrap") < script.index("apt-get install")  # only when missing
    assert "apt-get" not in " ".join(str(s.get("run", "")) for s in steps if s is not sandbox)
    assert 'apparmor_restrict_unprivileged_userns 2>/dev/null)" = 1' in script  # only when restricted


def _leaf(*words: str) -> argparse.ArgumentParser:
    parser = build_parser()
    for word in words:
        sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        parser = sub.choices[word]
    return parser


def _dockerfile_healthcheck() -> list[str]:
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    [line] = [line for line in text.splitlines() if line.startswith("HEALTHCHECK ")]
    return list(json.loads(line.split(" CMD ", 1)[1]))


def _probe(argv: list[str]) -> argparse.Namespace:
    """The probe a healthcheck runs, parsed by the probe's own parser (a typo fails here)."""
    assert argv[:3] == ["python", "-m", "bot.modes.health"], argv
    return health.build_parser().parse_args(argv[3:])


def test_every_healthcheck_runs_a_real_probe_of_a_real_endpoint() -> None:
    web = _probe(_dockerfile_healthcheck())
    assert web.probe == "web" and urlsplit(web.url).path == "/healthz"
    app = create_app(Settings(webhook_secret="s"), executor=InlineExecutor())
    assert app.test_client().get(urlsplit(web.url).path).status_code == 200  # serve's liveness route
    services = _yaml("docker-compose.yml")["services"]
    checks = {name: service["healthcheck"] for name, service in services.items()}
    assert set(checks) == {"web", "worker", "redis", "dashboard"}
    for name in ("web", "worker", "dashboard"):
        test = checks[name]["test"]
        assert test[0] == "CMD", name
        probe = _probe(test[1:])
        assert probe.probe == ("worker" if name == "worker" else "web"), name
        assert checks[name]["start_period"] and checks[name]["interval"], name
    web_command, dashboard_command = services["web"]["command"], services["dashboard"]["command"]
    web_url = urlsplit(_probe(checks["web"]["test"][1:]).url)
    assert (web_url.port, web_url.path) == (int(web_command[web_command.index("--port") + 1]), "/healthz")
    assert _probe(checks["web"]["test"][1:]).url == web.url  # the compose probe spells out the image's
    dashboard_url = urlsplit(_probe(checks["dashboard"]["test"][1:]).url)
    assert dashboard_url.port == int(dashboard_command[dashboard_command.index("--port") + 1])
    assert "metrics" not in " ".join(checks["worker"]["test"])  # liveness never depends on the metrics port
    assert checks["redis"]["test"] == ["CMD-SHELL", "redis-cli ping | grep -q PONG"]


def test_services_wait_for_a_healthy_redis() -> None:
    services = _yaml("docker-compose.yml")["services"]
    for name in ("web", "worker", "dashboard"):
        assert services[name]["depends_on"] == {"redis": {"condition": "service_healthy"}}, name


def test_the_probes_tell_a_live_process_from_a_dead_one(tmp_path: Path) -> None:
    server = make_server("127.0.0.1", 0, create_app(Settings(webhook_secret="s"), executor=InlineExecutor()))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}"
    try:
        assert health.main(["web", "--url", f"{url}/healthz"]) == 0
        assert health.main(["web", "--url", f"{url}/no-such-page"]) == 1
    finally:
        server.shutdown()
        thread.join(timeout=10)
    assert health.main(["web", "--url", f"{url}/healthz"]) == 1  # nothing answers any more

    redis_server = PrivateRedis(tmp_path, password="s3cret")
    try:
        env = {"ORCHESTRA_REDIS_URL": redis_server.url}
        assert health.main(["worker"], env=env) == 1  # Redis answers, but no worker of this host
        connection = redis.Redis.from_url(redis_server.url)
        worker = OrchestraWorker(["default"], connection=connection)
        worker.register_birth()
        assert health.main(["worker"], env=env) == 0
        assert health.main(["worker"], env={"ORCHESTRA_REDIS_URL": redis_server.bare_url}) == 1  # NOAUTH
        worker.register_death()
        assert health.main(["worker"], env=env) == 1
    finally:
        redis_server.stop()
    assert health.main(["worker"], env=env) == 1  # Redis is gone


@pytest.mark.skipif(shutil.which("redis-cli") is None, reason="redis-cli is not installed")
def test_the_redis_healthcheck_needs_the_password(tmp_path: Path) -> None:
    """`redis-cli ping` exits 0 on NOAUTH: the compose healthcheck must look for PONG."""
    [_, command] = _yaml("docker-compose.yml")["services"]["redis"]["healthcheck"]["test"]
    redis_server = PrivateRedis(tmp_path, password="s3cret")
    try:
        here = command.replace("redis-cli", f"redis-cli -p {redis_server.port}")  # the container's port is 6379

        def check(password: str) -> int:
            env = {**os.environ, "REDISCLI_AUTH": password}
            return subprocess.run(["sh", "-c", here], env=env, capture_output=True, timeout=30).returncode

        assert check("s3cret") == 0
        assert check("wrong") != 0
        assert (
            subprocess.run(
                ["redis-cli", "-p", str(redis_server.port), "ping"], capture_output=True, timeout=30
            ).returncode
            == 0
        )  # what the old check trusted
    finally:
        redis_server.stop()


def _docker_ignored(path: str, patterns: list[str]) -> bool:
    """Docker's rule: a path is left out when a pattern matches it or one of its parent folders."""

    def regex(pattern: str) -> re.Pattern[str]:
        out = ""
        for token in re.split(r"(\*\*/|\*|\?)", pattern.strip("/")):
            out += {"**/": "(?:.*/)?", "*": "[^/]*", "?": "[^/]"}.get(token, re.escape(token))
        return re.compile(out + r"\Z")

    compiled = [regex(p) for p in patterns]
    parts = path.split("/")
    return any(c.match("/".join(parts[:n])) for c in compiled for n in range(1, len(parts) + 1))


def test_dockerignore_keeps_secrets_state_and_junk_out_and_the_sources_in() -> None:
    patterns = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert not any(p.startswith("!") for p in patterns)
    left_out = [
        ".env",
        ".env.local",
        "secrets/app-private-key.pem",
        "app.2025-06-01.private-key.pem",
        "deploy/tls.key",
        ".git/config",
        ".venv/bin/python",
        ".orchestra-state/mirrors/x",
        "localhub-state/hub.sqlite",
        "bot/__pycache__/x.cpython-311.pyc",
        ".pytest_cache/v",
        ".mypy_cache/x",
        "tests/test_x.py",
        "build/lib/x.py",
        "dist/x.whl",
    ]
    for path in left_out:
        assert _docker_ignored(path, patterns), f"{path} would reach the image's build context"
    copied = re.findall(r"^COPY (.+) \./", (ROOT / "Dockerfile").read_text(), re.M)
    sources = [name for line in copied for name in line.split()]
    assert {"pyproject.toml", "README.md", "bot", "webhooks", "localhub", "prompts"} <= set(sources)
    tracked = subprocess.run(
        ["git", "ls-files", *sources], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    assert tracked and not [path for path in tracked if _docker_ignored(path, patterns)]


#: What a real credential looks like: a private key's body, GitHub tokens, OpenAI and Anthropic keys.
SECRET_SHAPES = re.compile(
    r"-----BEGIN [A-Z ]*PRIVATE KEY-----(?:\\n|\n)[A-Za-z0-9+/=]{60}"
    r"|\bgh[pousr]_[A-Za-z0-9]{36}\b|\bgithub_pat_[A-Za-z0-9_]{60,}"
    r"|\bsk-(?:ant-|proj-)?[A-Za-z0-9_-]{32,}|\bAKIA[0-9A-Z]{16}\b"
)
#: GitHub's published examples (regenerated from @octokit/openapi by scripts/vendor_github_fixtures.py).
VENDORED_EXAMPLES = "tests/fixtures/github/"


def test_no_secret_is_committed() -> None:
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    assert "docker-compose.yml" in tracked and not [
        p for p in tracked if p.endswith((".pem", ".key")) or p.split("/")[-1] == ".env"
    ]
    found = []
    for path in tracked:
        if path.startswith(VENDORED_EXAMPLES) or not (ROOT / path).is_file():
            continue
        text = (ROOT / path).read_text(encoding="utf-8", errors="replace")
        found += [f"{path}: {m.group(0)[:24]}…" for m in SECRET_SHAPES.finditer(text)]
    assert found == []
    assert SECRET_SHAPES.search("ghs_" + "a1B2" * 9) and SECRET_SHAPES.search(  # the shapes do match
        "-----BEGIN RSA PRIVATE KEY-----\n" + "MIIE" * 16
    )


def test_the_key_goes_to_the_worker_only_and_where_app_create_writes_it() -> None:
    compose = _yaml("docker-compose.yml")
    services = compose["services"]
    assert services["web"]["environment"]["ORCHESTRA_PRIVATE_KEY_PATH"] == ""  # .env's path is not for the web
    assert services["worker"]["secrets"] == ["app-private-key"] and "secrets" not in services["web"]
    assert compose["secrets"]["app-private-key"]["file"] == f"./{KEY_FILE}"
    assert "app" in _cli_commands() and _leaf("app", "create").get_default("key_file") == KEY_FILE
