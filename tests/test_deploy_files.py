"""The deployment files say only true things: docker-compose.yml parses and runs only commands the CLI
has, secrets stay out of committed files, the Dockerfile ships every package, and action.yml and
both example workflows agree with `orchestra action` (inputs wired, dispatch input, permissions)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import yaml

from bot.cli import build_parser
from bot.modes.action import ACTION_ROUTER

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "${ORCHESTRA_REDIS_PASSWORD:?set ORCHESTRA_REDIS_PASSWORD in .env}"
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
    """The settings the uid sandbox needs and no more (tests/test_sandbox_deployment.py runs under them)."""
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
    for name in action["inputs"]:
        if name != "python-version":
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
        k: v for k, v in own[True].items() if k != "workflow_run"}
    [own_step] = [s for s in own["jobs"]["orchestra"]["steps"] if s.get("uses") == "./"]
    assert own_step["with"]["token"] == "${{ steps.app-token.outputs.token || github.token }}"
