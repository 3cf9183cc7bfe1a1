"""git over smart HTTP handles chunked uploads (pushes past http.postBuffer) and gzip-compressed
upload-pack requests (fetches with many wants), and bad tokens get a 401 challenge."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import requests

from tests.support.git_repos import git, make_repo


def test_chunked_push_and_gzip_fetch(localhub, tmp_path: Path) -> None:
    localhub.add_user("alice")
    localhub.github("alice").get_user().create_repo("big")
    work = make_repo(tmp_path / "work", {"a.txt": "a\n"})
    (work / "blob.bin").write_bytes(os.urandom(200_000))
    git(work, "add", "-A")
    git(work, "commit", "-qm", "binary")
    for n in range(40):
        git(work, "branch", f"feature/branch-number-{n:02d}")
    # a 1 KiB post buffer makes git send the pack with Transfer-Encoding: chunked
    git(work, "-c", "http.postBuffer=1024", "push", "-q", localhub.git_url("alice/big", "alice"), "--all")
    assert localhub.github("alice").get_repo("alice/big").get_branches().totalCount == 41

    # 41 wants make the upload-pack request larger than 1 KiB, which git sends gzip-compressed
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", "--mirror", localhub.git_url("alice/big"), str(clone))
    assert len(git(clone, "for-each-ref", "refs/heads/").splitlines()) == 41
    assert git(clone, "rev-parse", "main") == git(work, "rev-parse", "main")


def test_bad_token_gets_a_challenge(localhub) -> None:
    localhub.add_user("alice")
    localhub.github("alice").get_user().create_repo("private-ish")
    url = f"{localhub.url}/alice/private-ish.git/info/refs?service=git-receive-pack"
    anonymous = requests.get(url, timeout=10)
    assert anonymous.status_code == 401
    assert anonymous.headers["WWW-Authenticate"].startswith("Basic")
    bad = requests.get(url, auth=("x-access-token", "wrong"), timeout=10)
    assert bad.status_code == 401
    good = requests.get(url, auth=("x-access-token", localhub.token("alice")), timeout=10)
    assert good.status_code == 200
    assert good.headers["Content-Type"] == "application/x-git-receive-pack-advertisement"
    assert good.content.startswith(b"001f# service=git-receive-pack\n0000")


@pytest.mark.parametrize("path", ["/alice/nothing.git/info/refs?service=git-upload-pack", "/alice/x/info/refs"])
def test_unknown_repositories_are_404(localhub, path: str) -> None:
    localhub.add_user("alice")
    assert requests.get(localhub.url + path, timeout=10).status_code == 404
