"""The sandbox's fail-closed setting and its uid fallback: a command run as a per-run uid cannot read the
worker's environment or key, writes only the worktree it is lent, leaves no process or shared file
behind, and cannot replace the worktree's `.git`. Each uid test compares with an unconfined run of the
same command, so it shows what the uid stops."""

from __future__ import annotations

import os
import secrets
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.agent import sandbox_mode
from bot.agent.sandbox import Sandbox, bwrap_status
from bot.cli import main
from bot.errors import SandboxUnavailable
from tests.support.sandboxes import UID_OK, UID_WHY, reachable_dir
from tests.support.waiting import wait_for

needs_uid = pytest.mark.skipif(not UID_OK, reason=f"uid sandbox not usable here: {UID_WHY}")
MODES = [
    "none",
    pytest.param("bwrap", marks=pytest.mark.skipif(not bwrap_status()[0], reason=bwrap_status()[1])),
    pytest.param("uid", marks=needs_uid),
]


@pytest.fixture
def unusable(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Neither bubblewrap nor the uid fallback works in this process (as in a non-root Docker worker)."""
    monkeypatch.setattr(sandbox_mode, "bwrap_status", lambda: (False, "bwrap unusable: Creating new namespace failed"))
    monkeypatch.setattr(
        sandbox_mode, "uid_status", lambda: (False, "uid fallback needs root (the worker runs as uid 10001)")
    )
    sandbox_mode._resolve.cache_clear()
    yield
    sandbox_mode._resolve.cache_clear()


@pytest.fixture
def base() -> Iterator[Path]:
    with reachable_dir() as path:
        yield path


def _worktree(base: Path, name: str = "wt") -> Path:
    work = base / name
    work.mkdir(mode=0o700)
    (work / ".git").write_text("gitdir: /state/mirrors/x.git/worktrees/wt\n")
    (work / "README.md").write_text("hello\n")
    return work


def test_without_bwrap_or_uid_the_default_refuses_to_run_commands(
    unusable: None,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.delenv("ORCHESTRA_SANDBOX", raising=False)  # the default: auto
    monkeypatch.setenv("ORCHESTRA_REDIS_URL", "redis://127.0.0.1:1/0")  # were it to start: never the shared Redis
    with pytest.raises(SandboxUnavailable) as refused:
        Sandbox(tmp_path)
    message = str(refused.value)
    assert "ORCHESTRA_SANDBOX=auto" in message and "ORCHESTRA_SANDBOX=none" in message
    assert "Creating new namespace failed" in message and "needs root" in message and "\n" not in message
    # The worker says so before it takes a job: one line, exit 2.
    assert main(["worker", "--burst"]) == 2
    err = capsys.readouterr().err.strip()
    assert (
        err.startswith("orchestra: ORCHESTRA_SANDBOX=auto: agent commands cannot be confined here") and "\n" not in err
    )
    for mode in ("bwrap", "uid"):
        with pytest.raises(SandboxUnavailable, match=f"ORCHESTRA_SANDBOX={mode}"):
            Sandbox(tmp_path, mode=mode)
    monkeypatch.setenv("ORCHESTRA_SANDBOX", "sometimes")
    with pytest.raises(SandboxUnavailable, match="not a sandbox mode; use one of auto, bwrap, uid, best-effort, none"):
        Sandbox(tmp_path)


@pytest.mark.parametrize("setting", ["none", "best-effort"])
def test_unconfined_runs_only_by_opt_in_and_says_so(
    unusable: None, setting: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("ORCHESTRA_SANDBOX", setting)
    with caplog.at_level("WARNING", logger="bot.agent.sandbox_mode"), Sandbox(tmp_path) as box:
        result = box.run("echo ran")
    assert result.output == "ran\n" and result.isolation.startswith("none (")
    assert f"ORCHESTRA_SANDBOX={setting}" in result.isolation
    assert any("commands run unconfined" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("mode", MODES)
def test_a_replaced_git_file_is_put_back(base: Path, mode: str) -> None:
    work = _worktree(base)
    original = (work / ".git").read_text()
    with Sandbox(work, mode=mode) as box:
        result = box.run("rm -rf .git; mkdir .git && echo '[core] fsmonitor = cat /etc/hostname' > .git/config")
        again = box.run("cat .git")
    assert (work / ".git").is_file() and (work / ".git").read_text() == original
    assert again.output == original
    if mode == "none":  # nothing stopped the command; the sandbox put the file back and said so
        assert "the command replaced the worktree's .git file; it was restored" in result.output
    else:  # read-only bind (bwrap) or a sticky directory it does not own (uid): the command could not
        assert "restored" not in result.output and result.exit_code != 0


def _run_both(work: Path, command: str) -> tuple[str, str]:
    """The output of `command` as the uid and unconfined."""
    with Sandbox(work, mode="uid") as box:
        confined = box.run(command)
    assert confined.isolation.startswith("uid ")
    with Sandbox(work, mode="none") as plain:
        unconfined = plain.run(command)
    return confined.output, unconfined.output


@needs_uid
def test_uid_command_cannot_read_the_workers_environment_or_key(base: Path) -> None:
    work = _worktree(base)
    key = base / "app-private-key.pem"
    key.write_text(f"KEY-{secrets.token_hex(16)}\n")
    key.chmod(0o400)  # the worker's (root's) only
    parent_env = Path(f"/proc/{os.getpid()}/environ").read_bytes().split(b"\0")[0].decode()
    command = f"tr '\\0' '\\n' < /proc/$PPID/environ; cat {key}; echo uid=$(id -u)"
    confined, unconfined = _run_both(work, command)
    assert parent_env in unconfined and key.read_text() in unconfined  # what an unconfined command reads
    assert parent_env not in confined and key.read_text() not in confined
    assert confined.count("Permission denied") == 2 and "uid=0\n" not in confined


@needs_uid
def test_uid_command_writes_only_its_worktree_and_leaves_nothing_behind(base: Path) -> None:
    work, other = _worktree(base), _worktree(base, "other")
    token = secrets.token_hex(6)
    shared = [
        Path(f"/tmp/orchestra-left-{token}"),
        Path(f"/dev/shm/orchestra-left-{token}"),
        Path(f"/var/tmp/orchestra-left-{token}"),
    ]
    (work / "by-the-worker.txt").write_text("written by a file tool\n")  # root's, between commands
    key = base / "outside-secret"
    key.write_text("s\n")
    key.chmod(0o600)
    os.link(key, work / "hardlink")  # a hard link in the worktree to a file outside it
    with Sandbox(work, mode="uid") as box:
        uid = box.uid
        first = box.run(
            f"mkdir -p sub && echo new > sub/new.txt && echo more >> by-the-worker.txt; "
            f"echo x > {base}/planted; echo x > {other}/theirs; cat hardlink; "
            + "; ".join(f"echo left > {path}" for path in shared)
        )
        during = [path.exists() for path in shared]
    assert first.output.count("Permission denied") == 3  # the base dir, the other worktree, the hard link's file
    assert not (base / "planted").exists() and not (other / "theirs").exists()
    assert (work / "sub" / "new.txt").read_text() == "new\n"
    assert (work / "by-the-worker.txt").read_text() == "written by a file tool\nmore\n"
    assert all(during) and not any(path.exists() for path in shared)  # swept when the sandbox closed
    # Given back: everything the worker's again, the top directory as it was, the hard link's file untouched.
    owners = {p.lstat().st_uid for p in [work, *work.rglob("*")]}
    assert owners == {os.getuid()} and uid not in owners
    assert (work.stat().st_mode & 0o7777) == 0o700 and key.stat().st_uid == os.getuid()


def _alive(marker: str) -> bool:
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and marker in (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode():
                return True
        except OSError:
            continue
    return False


@needs_uid
def test_uid_kills_what_left_the_process_group(base: Path) -> None:
    work = _worktree(base)
    seconds = f"{secrets.randbelow(900) + 100}.{secrets.randbelow(900) + 100}"
    # The pid file is written from inside the new session: once it exists, the sleeper has left the group.
    command = (
        f"rm -f pid; setsid sh -c 'echo $$ > pid; exec sleep {seconds}' > /dev/null 2>&1 < /dev/null & "
        "while [ ! -s pid ]; do :; done; echo started"
    )
    with Sandbox(work, mode="uid") as box:
        result = box.run(command)
        assert "started" in result.output
        wait_for(lambda: not _alive(f"sleep {seconds}"), timeout=10, what="the detached sleeper to be gone")
    # Unconfined, the same detached process outlives the command (and is killed here by hand).
    with Sandbox(work, mode="none") as plain:
        plain.run(command)
    try:
        assert _alive(f"sleep {seconds}")
    finally:
        subprocess.run(["pkill", "-KILL", "-f", f"^sleep {seconds}$"], check=False)


@needs_uid
def test_concurrent_sandboxes_get_different_uids_and_cannot_touch_each_other(base: Path) -> None:
    first, second = _worktree(base, "a"), _worktree(base, "b")
    with Sandbox(first, mode="uid") as one, Sandbox(second, mode="uid") as two:
        assert one.uid != two.uid
        result = one.run(f"echo x > {second}/from-a; ls {second}")
    assert result.output.count("Permission denied") == 2 and not (second / "from-a").exists()


@needs_uid
def test_uid_mode_refuses_a_worktree_the_uid_cannot_reach(base: Path) -> None:
    hidden = base / "private"
    hidden.mkdir(mode=0o700)
    work = _worktree(hidden)
    with pytest.raises(SandboxUnavailable, match=f"{hidden} is not searchable by other users"):
        Sandbox(work, mode="uid")
    assert (work.stat().st_mode & 0o7777) == 0o700 and work.stat().st_uid == os.getuid()  # left as it was


@needs_uid
def test_a_worker_whose_state_dir_its_uids_cannot_reach_refuses_to_start(
    base: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    private = base / "private"
    private.mkdir(mode=0o700)
    monkeypatch.setenv("ORCHESTRA_SANDBOX", "uid")
    monkeypatch.setenv("ORCHESTRA_STATE_DIR", str(private / "state"))
    monkeypatch.setenv("ORCHESTRA_REDIS_URL", "redis://127.0.0.1:1/0")  # were it to start: never the shared Redis
    assert main(["worker", "--burst"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("orchestra: ORCHESTRA_SANDBOX=uid: the sandbox's uids cannot reach")
    assert f"{private} is not searchable by other users" in err and "\n" not in err


@pytest.mark.parametrize(
    ("root", "bwrap", "uid", "mode", "expected"),
    [
        (False, True, False, "auto", "bwrap"),
        (True, True, True, "auto", "bwrap+uid"),
        (True, False, True, "auto", "uid"),
        (True, True, False, "auto", "refused"),  # bubblewrap as root would read what root reads
        (False, False, False, "auto", "refused"),
        (True, True, True, "uid", "uid"),
        (False, True, False, "uid", "refused"),
        (True, False, True, "bwrap", "refused"),
        (True, True, False, "best-effort", "bwrap (as root:"),
        (False, False, False, "best-effort", "none ("),
        (True, True, True, "none", "none (ORCHESTRA_SANDBOX=none)"),
    ],
)
def test_which_isolation_each_setting_gives(
    monkeypatch: pytest.MonkeyPatch, root: bool, bwrap: bool, uid: bool, mode: str, expected: str
) -> None:
    monkeypatch.setattr(sandbox_mode.os, "geteuid", lambda: 0 if root else 10001)
    monkeypatch.setattr(sandbox_mode, "bwrap_status", lambda: (bwrap, "bwrap" if bwrap else "bwrap unusable: x"))
    monkeypatch.setattr(sandbox_mode, "uid_status", lambda: (uid, "uid" if uid else "uid fallback needs setpriv"))
    sandbox_mode._resolve.cache_clear()
    try:
        if expected == "refused":
            with pytest.raises(
                SandboxUnavailable, match=f"ORCHESTRA_SANDBOX={mode}: agent commands cannot be confined"
            ):
                sandbox_mode.resolve(mode)
        else:
            assert sandbox_mode.resolve(mode).label().startswith(expected)
    finally:
        sandbox_mode._resolve.cache_clear()
