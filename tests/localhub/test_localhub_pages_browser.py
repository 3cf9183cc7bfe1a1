"""A real browser shows localhub's issue and PR pages: headless Chromium's screenshots are not blank
and its DOM has the rendered Markdown (a table, task-list checkboxes) and none of the hidden markers.
Skipped when Chromium is not installed."""

from __future__ import annotations

import re
from pathlib import Path

from tests.support.browser import Browser, distinct_colours, dominant_share
from tests.support.git_repos import git, make_repo
from tests.support.localhub import LocalhubHandle

GOAL = """<!-- orchestra:goal {"version": 1} -->
## What to build

| step | owner |
|:--|:--|
| parse | planner |
| render | worker |

- [x] read the code
- [ ] write the test

<details><summary>Notes</summary>

Nothing **hidden** here.

</details>
"""
PR_BODY = """<!-- orchestra:pr {"task": 2} -->
Closes #1

```mermaid
graph TD; goal-->task
```

- [ ] reviewed
"""


def _forge(localhub: LocalhubHandle, tmp_path: Path) -> tuple[int, int]:
    localhub.add_user("alice")
    work = make_repo(tmp_path / "src", {"app.py": "x = 1\n"})
    git(work, "checkout", "-q", "-b", "feature")
    (work / "app.py").write_text("x = 2\n")
    git(work, "commit", "-q", "-am", "feature")
    localhub.import_repo(work, "alice/app")
    repo = localhub.github("alice").get_repo("alice/app")
    goal = repo.create_issue("Render the pages", body=GOAL)
    goal.create_comment("<!-- orchestra:status -->\nStatus: **planning** ~~idle~~")
    pr = repo.create_pull(title="Render Markdown", body=PR_BODY, head="feature", base="main")
    return goal.number, pr.number


def _assert_not_blank(png: Path) -> None:
    assert png.stat().st_size > 2000, png
    assert distinct_colours(png) > 16, f"{png}: {distinct_colours(png)} colours"
    assert dominant_share(png) < 0.97, f"{png}: one colour covers {dominant_share(png):.1%}"


def test_issue_and_pr_pages_render_in_chromium(localhub: LocalhubHandle, browser: Browser, tmp_path: Path) -> None:
    issue, pull = _forge(localhub, tmp_path)
    issue_url = f"{localhub.url}/alice/app/issues/{issue}"
    pull_url = f"{localhub.url}/alice/app/pull/{pull}"

    _assert_not_blank(browser.screenshot(issue_url, "issue.png", width=1100, height=900))
    _assert_not_blank(browser.screenshot(pull_url, "pull.png", width=1100, height=900))

    dom = browser.dom(issue_url)
    assert re.search(r"<table>.*<th[^>]*>step</th>.*<td[^>]*>planner</td>", dom, re.S)
    boxes = re.findall(r"<input[^>]*>", dom)
    assert len(boxes) == 2 and all('type="checkbox"' in b and "disabled" in b for b in boxes)
    assert "<summary>Notes</summary>" in dom and "<strong>planning</strong>" in dom
    assert "orchestra:" not in dom and "<!--" not in dom

    dom = browser.dom(pull_url)
    assert '<code class="language-mermaid">' in dom and 'type="checkbox"' in dom
    assert f'href="/alice/app/issues/{issue}"' in dom
    assert "orchestra:" not in dom and "<!--" not in dom
