"""The `run` sandbox: no parent secret reaches a command, timeouts kill the whole group, output is capped,
and with bubblewrap there is no network and nothing outside the worktree is writable. Each common test
runs unconfined (`none`), in bubblewrap and as a per-run uid (the last two where this machine allows;
as root, bubblewrap also runs the command as a per-run uid)."""

from __future__ import annotations

import os
import secrets
import socket
import sys
from pathlib import Path

import pytest

from bot.agent.sandbox import Sandbox, bwrap_status, sandbox_env
from tests.support.sandboxes import UID_OK, UID_WHY, python_for_others, reachable_dir
from tests.support.waiting import wait_for

BWRAP, WHY_NOT = bwrap_status()
needs_bwrap = pytest.mark.skipif(not BWRAP, reason=f"bubblewrap not usable here: {WHY_NOT}")
needs_uid = pytest.mark.skipif(not UID_OK, reason=f"uid sandbox not usable here: {UID_WHY}")
SECRET_NAMES = [
    "GITHUB_TOKEN",
    "ORCHESTRA_TOKEN",
    "ORCHESTRA_WEBHOOK_SECRET",
    "ORCHESTRA_PRIVATE_KEY",
    "OPENAI_API_KEY",
    "ANTHROPIC_API_KEY",
    "REDIS_URL",
    "GITHUB_WEBHOOK_SECRET",
    "MY_SERVICE_TOKEN",
]


@pytest.fixture(params=["none", pytest.param("bwrap", marks=needs_bwrap), pytest.param("uid", marks=needs_uid)])
def sandbox(request: pytest.FixtureRequest):
    with reachable_dir() as base:
        work = base / "work"
        work.mkdir()
        box = Sandbox(work, timeout_s=30, mode=request.param)
        assert box.uses_bwrap == (request.param == "bwrap")
        assert box.isolation.startswith(request.param)
        yield box
        box.close()


def test_no_parent_secret_reaches_a_command(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    planted = {name: f"fake-{secrets.token_hex(12)}" for name in SECRET_NAMES}
    for name, value in planted.items():
        monkeypatch.setenv(name, value)
    # The environment is fixed when the sandbox is built; build one after planting.
    box = Sandbox(sandbox.workdir, mode=sandbox.policy.setting)
    try:
        result = box.run("env; cat /proc/self/environ | tr '\\0' '\\n'")
    finally:
        box.close()
    assert result.exit_code == 0
    for name, value in planted.items():
        assert value not in result.output, name
        assert f"{name}=" not in result.output
    assert f"HOME={box.home}" in result.output
    assert "PATH=" in result.output


def test_secret_like_extras_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="GITHUB_TOKEN"):
        sandbox_env(tmp_path, {"GITHUB_TOKEN": "x"})
    with pytest.raises(ValueError, match="DEPLOY_SECRET"):
        sandbox_env(tmp_path, {"DEPLOY_SECRET": "x"})
    assert sandbox_env(tmp_path, {"CI": "1"}, parent={"PATH": "/bin", "OPENAI_API_KEY": "k"}) == {
        "PATH": "/bin",
        "LANG": "C.UTF-8",
        "HOME": str(tmp_path),
        "CI": "1",
    }


def test_command_runs_in_the_worktree(sandbox: Sandbox) -> None:
    result = sandbox.run("pwd; echo made > here.txt")
    assert result.output.splitlines()[0] == str(sandbox.workdir)
    assert (sandbox.workdir / "here.txt").read_text() == "made\n"


def _alive(marker: str) -> bool:
    """Whether a live (non-zombie) process has `marker` in its command line."""
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if marker in cmdline:
            return True
    return False


def test_timeout_kills_the_command_and_its_children(sandbox: Sandbox) -> None:
    child = f"{secrets.randbelow(900) + 100}.{secrets.randbelow(900) + 100}"
    parent = f"{secrets.randbelow(900) + 100}.{secrets.randbelow(900) + 100}"
    result = sandbox.run(f"sleep {child} & echo started; sleep {parent}", timeout_s=1.5)
    assert result.timed_out and result.exit_code is None
    assert "started" in result.output
    wait_for(
        lambda: not _alive(f"sleep {child}") and not _alive(f"sleep {parent}"),
        timeout=10,
        what="the sleeper and its child to be gone",
    )


def test_output_is_capped_with_a_note(tmp_path: Path) -> None:
    with Sandbox(tmp_path, output_cap=1000, use_bwrap=False) as box:
        result = box.run("head -c 200000 /dev/zero | tr '\\0' a; echo; echo THE-END")
    assert result.omitted_bytes > 190_000
    assert "[output truncated:" in result.output
    assert result.output.rstrip().endswith("THE-END")
    assert len(result.output) < 1200


@needs_bwrap
def test_bwrap_has_no_network() -> None:
    python = python_for_others() or (sys.executable, {})
    with socket.socket() as server, reachable_dir() as work:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        connect = (
            f"PYTHONPATH={python[1].get('PYTHONPATH', '')} {python[0]} -c "
            f"'import socket; socket.create_connection((\"127.0.0.1\", {port}))' && echo CONNECTED"
        )
        with Sandbox(work, use_bwrap=True) as box:
            result = box.run(connect, timeout_s=10)
        with Sandbox(work, use_bwrap=False) as plain:
            reach = plain.run(connect, timeout_s=10)
    assert box.uses_bwrap
    assert "CONNECTED" not in result.output and result.exit_code != 0  # a private loopback: refused
    assert "CONNECTED" in reach.output  # the same command reaches the port without bwrap


@needs_bwrap
def test_bwrap_allows_writes_only_in_the_worktree() -> None:
    # Outside /tmp (which is a private tmpfs inside the sandbox): next to this test file.
    outside = Path(__file__).parent / f".sandbox-probe-{secrets.token_hex(6)}"
    private = Path("/tmp") / f"orchestra-private-{secrets.token_hex(6)}"
    with reachable_dir() as base:
        work = base / "work"
        work.mkdir()
        with Sandbox(work, use_bwrap=True) as box:
            result = box.run(f"echo x > {outside}; echo y > inside.txt; echo z > {private} && cat {private}")
        written = outside.exists()
        outside.unlink(missing_ok=True)
        assert not written
        assert (work / "inside.txt").read_text() == "y\n"
    # Read-only where it is visible; a checkout under /tmp is not even visible (private tmpfs).
    assert "Read-only file system" in result.output or "Directory nonexistent" in result.output
    assert result.output.rstrip().endswith("z")  # /tmp is writable inside, but private to the command
    assert not private.exists()


def test_the_workers_own_environment_is_out_of_reach(sandbox: Sandbox) -> None:
    """/proc/<worker>/environ holds what the worker started with (tokens, keys, the Redis URL)."""
    first = Path(f"/proc/{os.getpid()}/environ").read_bytes().split(b"\0")[0].decode()
    result = sandbox.run(
        f"tr '\\0' '\\n' < /proc/{os.getpid()}/environ; "
        "for f in /proc/[0-9]*/environ; do tr '\\0' '\\n' < $f; done 2>/dev/null; true"
    )
    if sandbox.isolation.startswith("none"):
        assert first in result.output  # unconfined, it is there to read
    else:  # bwrap: a PID namespace of its own (the worker's pid is not even there); uid: not its process
        assert first not in result.output


@needs_bwrap
def test_bwrap_hides_the_app_key_file(monkeypatch: pytest.MonkeyPatch) -> None:
    # Outside /tmp (a private tmpfs in the sandbox hides all of /tmp anyway): next to this test file.
    key = Path(__file__).parent / f".sandbox-key-{secrets.token_hex(6)}.pem"
    key.write_text("PRIVATE-KEY-BODY\n")
    key.chmod(0o644)  # even readable by everyone: in bubblewrap /dev/null is mounted over the path
    monkeypatch.setenv("ORCHESTRA_PRIVATE_KEY_PATH", str(key))
    try:
        with reachable_dir() as work, Sandbox(work, use_bwrap=True) as box:
            result = box.run(f"cat {key}; echo END")
        with reachable_dir() as work, Sandbox(work, use_bwrap=False) as plain:
            control = plain.run(f"cat {key}")
    finally:
        key.unlink()
    assert "PRIVATE-KEY-BODY" not in result.output and result.output.endswith("END\n")
    assert control.output == "PRIVATE-KEY-BODY\n"
