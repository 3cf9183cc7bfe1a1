"""Bodies on localhub's pages are GitHub-flavoured Markdown: hidden markers vanish, tables, task
lists, fenced code (mermaid kept as source), details and links render, and raw HTML is sanitised
(no script, no event handlers, no javascript: URLs)."""

from __future__ import annotations

import re

import pytest
import requests

from localhub.gfm import render
from tests.support.localhub import LocalhubHandle

MARKED = '<!-- orchestra:status {"key": 1} -->\nStatus: **working** on it'
TABLE = "| task | state |\n|:--|--:|\n| one | done |\n| two | open |"
TASKS = "- [ ] write the test\n- [x] read the code"


def test_hidden_marker_is_removed_and_the_rest_rendered() -> None:
    html = render(MARKED)
    assert "orchestra:status" not in html and "<!--" not in html
    assert "<strong>working</strong>" in html


def test_comment_text_inside_code_stays_visible_as_text() -> None:
    html = render("```html\n<!-- shown -->\n```\n\n`<!-- inline -->`")
    assert html.count("&lt;!-- shown --&gt;") == 1 and "&lt;!-- inline --&gt;" in html


def test_table_renders_as_table_with_alignment() -> None:
    html = render(TABLE)
    assert "<table>" in html and '<th style="text-align:left">task</th>' in html
    assert '<td style="text-align:right">done</td>' in html


def test_task_lists_render_as_disabled_checkboxes() -> None:
    html = render(TASKS)
    boxes = re.findall(r"<input[^>]*>", html)
    assert len(boxes) == 2
    assert all('type="checkbox"' in box and 'disabled="disabled"' in box for box in boxes)
    assert ['checked="checked"' in box for box in boxes] == [False, True]
    assert "[ ]" not in html and "[x]" not in html


@pytest.mark.parametrize(
    "hostile",
    [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        "<IMG SRC=x OnError='alert(1)'>",
        '<a href="javascript:alert(1)">x</a>',
        '<a href="JaVaScRiPt:alert(1)">x</a>',
        "[x](javascript:alert(1))",
        '<div onmouseover="alert(1)">x</div>',
        "<svg onload=alert(1)></svg>",
        '<iframe src="https://example.com"></iframe>',
        "<style>body{display:none}</style>",
        '<input type="text" onfocus="alert(1)" autofocus>',
        "<details open ontoggle=alert(1)><summary>s</summary>x</details>",
    ],
)
def test_hostile_html_never_survives(hostile: str) -> None:
    html = render(f"before\n\n{hostile}\n\nafter").lower()
    for bad in (
        "<script",
        "onerror",
        "onload",
        "onmouseover",
        "onfocus",
        "ontoggle",
        "<iframe",
        "<svg",
        "<style",
        "autofocus",
        'type="text"',
    ):
        assert bad not in html, (hostile, html)
    assert not re.search(r"(href|src)\s*=\s*[\"']?\s*javascript", html), html  # shown as text at most
    assert "before" in html and "after" in html


def test_github_extensions_render() -> None:
    html = render(
        "# Title\n\n~~old~~ <sub>small</sub> see #4 and https://example.com/x\n\n"
        "<details>\n<summary>Log</summary>\n\n**inside**\n\n</details>\n\n"
        "```mermaid\ngraph TD; A-->B\n```\n\n```python\nx = 1\n```\nline one\nline two",
        repo_path="/alice/app",
    )
    assert "<h1>Title</h1>" in html and "<s>old</s>" in html and "<sub>small</sub>" in html
    assert '<a href="/alice/app/issues/4"' in html and '<a href="https://example.com/x"' in html
    assert "<details>" in html and "<summary>Log</summary>" in html and "<strong>inside</strong>" in html
    assert '<code class="language-mermaid">graph TD; A--&gt;B' in html
    assert '<code class="language-python">' in html
    assert "line one<br>" in html  # a newline in a comment is a line break, as on GitHub


def test_unknown_classes_and_styles_are_dropped() -> None:
    html = render('<span class="octicon" style="position:fixed;color:red">s</span>\n\n```js" onclick="x\ncode\n```')
    assert "<span>s</span>" in html
    assert "onclick" not in html and "position" not in html


def test_pages_render_bodies_of_issues_comments_and_reviews(localhub: LocalhubHandle, tmp_path) -> None:
    from tests.support.git_repos import git, make_repo

    localhub.add_user("alice")
    localhub.add_user("bob")
    work = make_repo(tmp_path / "src", {"a.txt": "a\n"})
    git(work, "checkout", "-q", "-b", "feature")
    (work / "a.txt").write_text("b\n")
    git(work, "commit", "-q", "-am", "feature")
    localhub.import_repo(work, "alice/app")
    repo = localhub.github("alice").get_repo("alice/app")
    issue = repo.create_issue("Goal", body=f"{TABLE}\n\n<script>alert(1)</script>")
    issue.create_comment(MARKED)
    pr = repo.create_pull(title="Work", body=f"{TASKS}\n\nCloses #{issue.number}", head="feature", base="main")
    localhub.github("bob").get_repo("alice/app").get_pull(pr.number).create_review(
        body="<!-- orchestra:review -->\nLooks **good**", event="COMMENT"
    )

    issue_page = requests.get(f"{localhub.url}/alice/app/issues/{issue.number}", timeout=10).text
    assert "<table>" in issue_page and "<strong>working</strong>" in issue_page
    assert "orchestra:status" not in issue_page and "alert(1)" not in issue_page
    pr_page = requests.get(f"{localhub.url}/alice/app/pull/{pr.number}", timeout=10).text
    assert pr_page.count('type="checkbox"') == 2
    assert f'<a href="/alice/app/issues/{issue.number}"' in pr_page
    assert "<strong>good</strong>" in pr_page and "orchestra:review" not in pr_page
