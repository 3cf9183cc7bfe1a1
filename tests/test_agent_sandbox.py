"""The `run` sandbox: no parent secret reaches a command, timeouts kill the whole group, output is capped,
and with bubblewrap there is no network and nothing outside the worktree is writable."""

from __future__ import annotations

import secrets
import socket
import sys
from pathlib import Path

import pytest

from bot.agent.sandbox import Sandbox, bwrap_status, sandbox_env
from tests.support.waiting import wait_for

BWRAP, WHY_NOT = bwrap_status()
needs_bwrap = pytest.mark.skipif(not BWRAP, reason=f"bubblewrap not usable here: {WHY_NOT}")
SECRET_NAMES = [
    "GITHUB_TOKEN", "ORCHESTRA_TOKEN", "ORCHESTRA_WEBHOOK_SECRET", "ORCHESTRA_PRIVATE_KEY",
    "OPENAI_API_KEY", "ANTHROPIC_API_KEY", "REDIS_URL", "GITHUB_WEBHOOK_SECRET", "MY_SERVICE_TOKEN",
]


@pytest.fixture(params=["plain", pytest.param("bwrap", marks=needs_bwrap)])
def sandbox(request: pytest.FixtureRequest, tmp_path: Path):
    work = tmp_path / "work"
    work.mkdir()
    box = Sandbox(work, timeout_s=30, use_bwrap=request.param == "bwrap")
    assert box.uses_bwrap == (request.param == "bwrap")
    yield box
    box.close()


def test_no_parent_secret_reaches_a_command(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    planted = {name: f"fake-{secrets.token_hex(12)}" for name in SECRET_NAMES}
    for name, value in planted.items():
        monkeypatch.setenv(name, value)
    # The environment is fixed when the sandbox is built; build one after planting.
    box = Sandbox(sandbox.workdir, use_bwrap=sandbox.uses_bwrap)
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
        "PATH": "/bin", "LANG": "C.UTF-8", "HOME": str(tmp_path), "CI": "1",
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
    wait_for(lambda: not _alive(f"sleep {child}") and not _alive(f"sleep {parent}"),
             timeout=10, what="the sleeper and its child to be gone")


def test_output_is_capped_with_a_note(tmp_path: Path) -> None:
    with Sandbox(tmp_path, output_cap=1000, use_bwrap=False) as box:
        result = box.run("head -c 200000 /dev/zero | tr '\\0' a; echo; echo THE-END")
    assert result.omitted_bytes > 190_000
    assert "[output truncated:" in result.output
    assert result.output.rstrip().endswith("THE-END")
    assert len(result.output) < 1200


@needs_bwrap
def test_bwrap_has_no_network(tmp_path: Path) -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        connect = f"{sys.executable} -c 'import socket; socket.create_connection((\"127.0.0.1\", {port}))' && echo CONNECTED"
        with Sandbox(tmp_path) as box:
            result = box.run(connect, timeout_s=10)
        with Sandbox(tmp_path, use_bwrap=False) as plain:
            reach = plain.run(connect, timeout_s=10)
    assert box.isolation == "bwrap"
    assert "CONNECTED" not in result.output
    assert "CONNECTED" in reach.output  # the same command reaches the port without bwrap


@needs_bwrap
def test_bwrap_allows_writes_only_in_the_worktree(tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    # Outside /tmp (which is a private tmpfs inside the sandbox): next to this test file.
    outside = Path(__file__).parent / f".sandbox-probe-{secrets.token_hex(6)}"
    private = Path("/tmp") / f"orchestra-private-{secrets.token_hex(6)}"
    with Sandbox(work) as box:
        result = box.run(f"echo x > {outside}; echo y > inside.txt; echo z > {private} && cat {private}")
    written = outside.exists()
    outside.unlink(missing_ok=True)
    assert not written
    assert (work / "inside.txt").read_text() == "y\n"
    # Read-only where it is visible; a checkout under /tmp is not even visible (private tmpfs).
    assert "Read-only file system" in result.output or "Directory nonexistent" in result.output
    assert result.output.rstrip().endswith("z")  # /tmp is writable inside, but private to the command
    assert not private.exists()
