"""Under the compose file's settings, an agent command reads no secret and cannot use Redis.

Docker is absent here, so the worker container is simulated with what decides the outcome: the
worker's user and capabilities as docker-compose.yml sets them (or the Dockerfile's USER), no
new privileges, and the namespace/mount rules of Docker's default seccomp profile
(tests/support/docker_like.py), under which bubblewrap cannot start. The worker's environment
holds the secrets compose gives it, the App's key lies in a file only the worker's user can read,
and Redis requires the password that only ORCHESTRA_REDIS_URL carries. A driver process builds a
`Sandbox` exactly as the worker's session does (no mode passed: the setting comes from the
environment) and runs a probe; the test reads what the probe saw.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
import yaml

from tests.support import docker_like
from tests.support.redis_server import PrivateRedis
from tests.support.sandboxes import python_for_others

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.skipif(
        not hasattr(os, "geteuid") or os.geteuid() != 0,
        reason="simulating the container's users and capabilities needs root",
    ),
    pytest.mark.skipif(not docker_like.supported(), reason="the seccomp simulation knows x86-64 and aarch64 only"),
    pytest.mark.skipif(shutil.which("redis-cli") is None, reason="the probe asks Redis with redis-cli"),
    pytest.mark.skipif(python_for_others() is None, reason="no Python interpreter other users may run"),
]

DRIVER = """
import json, sys
from pathlib import Path
from bot.agent.sandbox import Sandbox
from bot.settings import Settings

settings = Settings.from_env()  # reads the key file, as a worker does
assert settings.private_key is not None
work = Path(sys.argv[1])
with Sandbox(work, timeout_s=60) as box:  # as bot/worker/session.py builds it
    result = box.run(sys.argv[2])
print(json.dumps({"isolation": result.isolation, "exit": result.exit_code, "output": result.output}))
"""


def _compose_worker() -> dict[str, Any]:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return {"worker": compose["services"]["worker"], "redis": compose["services"]["redis"]}


def _worker_uid(worker: dict[str, Any]) -> int:
    """The uid the worker container runs as: compose's `user`, else the Dockerfile's USER."""
    user = str(worker.get("user", "")).split(":")[0]
    dockerfile = (ROOT / "Dockerfile").read_text()
    if not user:
        user = re.findall(r"^USER (\S+)", dockerfile, re.MULTILINE)[-1]
    if user in ("root", "0"):
        return 0
    if user.isdigit():
        return int(user)
    found = re.search(rf"useradd[^\n]*--uid (\d+)[^\n]* {re.escape(user)}\b", dockerfile)
    assert found, f"the Dockerfile does not say the uid of {user}"
    return int(found.group(1))


def _expand(value: str, variables: dict[str, str]) -> str:
    """Compose's ${NAME}, ${NAME:?message} and ${NAME:-default} interpolation."""
    return re.sub(r"\$\{(\w+)(?::[?-][^}]*)?\}", lambda m: variables[m.group(1)], value)


@pytest.fixture
def deployment(tmp_path: Path) -> Iterator[dict[str, Any]]:
    """Redis with a password, a state dir laid out as the image's, a key file, the worker's env."""
    services = _compose_worker()
    worker, redis_service = services["worker"], services["redis"]
    password = secrets.token_hex(16)
    wants_password = "--requirepass" in " ".join(map(str, redis_service["command"]))
    server = PrivateRedis(tmp_path, password=password if wants_password else None)
    uid = _worker_uid(worker)
    state = Path(tempfile.mkdtemp(prefix="orchestra-state-"))  # /tmp/…, as /home/orchestra/state in the image
    try:
        state.chmod(0o711)
        os.chown(state, uid, uid)
        key = state / "app-private-key"
        key.write_text("-----BEGIN PRIVATE KEY-----\n" + secrets.token_hex(40) + "\n-----END PRIVATE KEY-----\n")
        os.chown(key, uid, uid)
        key.chmod(0o400)  # docs/deploy.md: readable by the worker's user only
        (state / "worktrees").mkdir(mode=0o755)
        work = Path(tempfile.mkdtemp(prefix="wt-", dir=state / "worktrees"))  # as Workspace.worktree makes it
        other = Path(tempfile.mkdtemp(prefix="wt-", dir=state / "worktrees"))  # another job's worktree
        (other / "theirs.txt").write_text("another job\n")
        for path in (state / "worktrees", work, other, other / "theirs.txt"):
            os.chown(path, uid, uid)
        variables = {"ORCHESTRA_REDIS_PASSWORD": password}
        env = {name: _expand(str(value), variables) for name, value in worker.get("environment", {}).items()}
        env["ORCHESTRA_REDIS_URL"] = env["ORCHESTRA_REDIS_URL"].replace("redis:6379", f"127.0.0.1:{server.port}")
        image_state = re.search(r"ORCHESTRA_STATE_DIR=(\S+)", (ROOT / "Dockerfile").read_text())
        if image_state:  # paths in the image's state dir (the volume) → the test's state dir
            env = {name: value.replace(image_state.group(1), str(state)) for name, value in env.items()}
        planted = {  # what .env gives the worker (env_file), with made-up values
            "ORCHESTRA_APP_ID": "12345",
            "ORCHESTRA_WEBHOOK_SECRET": f"whsec-{secrets.token_hex(12)}",
            "OPENAI_API_KEY": f"sk-{secrets.token_hex(16)}",
            "ANTHROPIC_API_KEY": f"sk-ant-{secrets.token_hex(16)}",
            "ORCHESTRA_TOKEN": f"ghs_{secrets.token_hex(16)}",
        }
        python = python_for_others()
        assert python is not None
        env |= planted | {
            "ORCHESTRA_PRIVATE_KEY_PATH": str(key),
            "ORCHESTRA_STATE_DIR": str(state),
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "LANG": "C.UTF-8",
            **python[1],
        }
        secret_values = [v for k, v in planted.items() if k != "ORCHESTRA_APP_ID"]  # the App id is no secret
        secret_values += [password, key.read_text().splitlines()[1]]
        yield {
            "env": env,
            "uid": uid,
            "python": python[0],
            "work": work,
            "other": other,
            "state": state,
            "key": key,
            "server": server,
            "secrets": secret_values,
            "worker": worker,
        }
    finally:
        server.stop()
        shutil.rmtree(state, ignore_errors=True)


def _container(
    deployment: dict[str, Any], uid: int, argv: list[str], env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`argv` started as compose starts the worker: as `uid`, with its capabilities, under Docker's seccomp."""
    worker = deployment["worker"]
    caps = ",".join(worker.get("cap_add", [])) if "ALL" in worker.get("cap_drop", []) else None
    nnp = any("no-new-privileges" in str(opt) for opt in worker.get("security_opt", []))
    prefix = [
        sys.executable,
        "-m",
        "tests.support.docker_like",
        *(["--caps", caps] if caps else []),
        *(["--nnp"] if nnp else []),
        "--user",
        str(uid),
        "--",
    ]
    return subprocess.run(
        [*prefix, *argv], cwd=ROOT, env=env or deployment["env"], capture_output=True, text=True, timeout=120
    )


def _launch(deployment: dict[str, Any], probe: str) -> dict[str, Any]:
    """The driver in the simulated worker container; what the probe saw."""
    done = _container(
        deployment, deployment["uid"], [deployment["python"], "-c", DRIVER, str(deployment["work"]), probe]
    )
    assert done.returncode == 0, f"driver failed: {done.stderr[-2000:]}"
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def test_under_the_compose_settings_a_command_reads_no_secret_and_cannot_use_redis(
    deployment: dict[str, Any],
) -> None:
    port = deployment["server"].port
    key, state, other = deployment["key"], deployment["state"], deployment["other"]
    probe = "; ".join(
        [
            "echo uid=$(id -u)",
            "env",
            "for f in /proc/[0-9]*/environ; do tr '\\0' '\\n' < $f 2>/dev/null; done",
            "cat /proc/$PPID/environ || echo ENVIRON-DENIED",
            f"cat {key} || echo KEY-DENIED",
            f"redis-cli -h 127.0.0.1 -p {port} ping",
            f"redis-cli -h 127.0.0.1 -p {port} set planted 1",
            f"echo x > {state}/planted && echo STATE-WRITTEN || echo STATE-DENIED",
            f"echo x > {other}/theirs.txt && echo OTHER-WRITTEN || echo OTHER-DENIED",
            f"cat {other}/theirs.txt || echo OTHER-UNREADABLE",
            "echo y > inside.txt && echo INSIDE-WRITTEN",
        ]
    )
    seen = _launch(deployment, probe)
    output = seen["output"]
    for value in deployment["secrets"]:
        assert value not in output
    assert seen["isolation"].startswith("uid "), seen["isolation"]  # bwrap cannot start under Docker's seccomp
    assert "uid=0" not in output and f"uid={deployment['uid']}\n" not in output  # not the worker's user
    assert "ENVIRON-DENIED" in output and "KEY-DENIED" in output and "Permission denied" in output
    assert "NOAUTH" in output and "PONG" not in output
    assert redis.Redis.from_url(deployment["server"].url).get("planted") is None
    assert "STATE-DENIED" in output and not (state / "planted").exists()
    assert "OTHER-DENIED" in output and "OTHER-UNREADABLE" in output
    assert (other / "theirs.txt").read_text() == "another job\n"
    assert "INSIDE-WRITTEN" in output and (deployment["work"] / "inside.txt").read_text() == "y\n"


def test_a_worker_that_cannot_confine_commands_refuses_to_start(deployment: dict[str, Any]) -> None:
    """The same container run as the image's unprivileged user (no uid fallback, no bwrap): fail closed."""
    # `orchestra worker --burst` as bot.cli.main runs it (main itself imports every command's module).
    start = (
        "import argparse, sys\nfrom bot.cli.serve_cmd import worker_command\nfrom bot.errors import OrchestraError\n"
        "try:\n    worker_command(argparse.Namespace(processes=1, burst=True))\n"
        "except OrchestraError as exc:\n    print(f'orchestra: {exc}', file=sys.stderr)\n    sys.exit(2)\n"
    )
    env = {k: v for k, v in deployment["env"].items() if k != "ORCHESTRA_PRIVATE_KEY_PATH"}  # root's file
    done = _container(deployment, 10001, [deployment["python"], "-c", start], env)
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2 and len(lines) == 1, done.stderr
    assert lines[0].startswith("orchestra: ORCHESTRA_SANDBOX=auto: agent commands cannot be confined here")
    assert "bwrap unusable" in lines[0] and "uid fallback needs root" in lines[0]
    assert "ORCHESTRA_SANDBOX=none" in lines[0]
