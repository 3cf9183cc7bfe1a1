"""GitHub-flavoured Markdown to safe HTML for the pages: GFM syntax, no HTML comments, sanitised HTML.

markdown-it-py parses CommonMark plus GitHub's extensions (tables, strikethrough, autolinked URLs,
task lists through mdit-py-plugins) with raw HTML allowed, as GitHub allows it; soft line breaks
become `<br>` as in GitHub's issues and comments, and `#N` links to the repository's issue N.
nh3 (the Ammonia sanitiser) then keeps an allow-list close to GitHub's: comments (the bot's
hidden `<!-- orchestra:... -->` markers) are dropped, `<script>`/`<style>` lose their content,
event handlers and `style` (except table alignment) go, and links and images keep only http(s),
mailto and relative URLs. A ```mermaid block stays a code block with class `language-mermaid`.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import nh3
from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore
from markdown_it.token import Token
from markupsafe import Markup
from mdit_py_plugins.tasklists import tasklists_plugin

# Tags and attributes GitHub's sanitiser keeps (a subset: no forms, frames, media or styles).
TAGS = {
    "a",
    "abbr",
    "b",
    "bdo",
    "blockquote",
    "br",
    "caption",
    "cite",
    "code",
    "dd",
    "del",
    "details",
    "dfn",
    "div",
    "dl",
    "dt",
    "em",
    "figcaption",
    "figure",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "i",
    "img",
    "input",
    "ins",
    "kbd",
    "li",
    "mark",
    "ol",
    "p",
    "picture",
    "pre",
    "q",
    "rp",
    "rt",
    "ruby",
    "s",
    "samp",
    "small",
    "source",
    "span",
    "strike",
    "strong",
    "sub",
    "summary",
    "sup",
    "table",
    "tbody",
    "td",
    "tfoot",
    "th",
    "thead",
    "time",
    "tr",
    "tt",
    "ul",
    "var",
    "wbr",
}
ATTRIBUTES = {
    "*": {"title", "lang", "dir"},
    "a": {"href"},
    "img": {"src", "alt", "width", "height", "align"},
    "source": {"srcset", "media"},
    "td": {"align", "colspan", "rowspan", "style"},
    "th": {"align", "colspan", "rowspan", "style"},
    "ol": {"start", "type", "class"},
    "ul": {"class"},
    "li": {"class"},
    "input": {"checked", "class"},  # type and disabled are forced below: only inert checkboxes
    "code": {"class"},
    "details": {"open"},
    "div": {"align"},
    "p": {"align"},
    "h1": {"align"},
    "h2": {"align"},
    "h3": {"align"},
    "time": {"datetime"},
}
URL_SCHEMES = {"http", "https", "mailto"}
# Classes that survive, by tag: task lists and the fenced block's language.
_CLASSES: dict[str, re.Pattern[str]] = {
    "code": re.compile(r"language-[\w+#.-]+"),
    "ul": re.compile(r"contains-task-list"),
    "ol": re.compile(r"contains-task-list"),
    "li": re.compile(r"task-list-item"),
    "input": re.compile(r"task-list-item-checkbox"),
}
_ISSUE_REF = re.compile(r"(?<![\w#/&])#(\d+)\b")


def _keep_classes(tag: str, attr: str, value: str) -> str | None:
    if attr != "class":
        return value
    pattern = _CLASSES.get(tag)
    kept = [name for name in value.split() if pattern is not None and pattern.fullmatch(name)]
    return " ".join(kept) or None


def _link_issue_refs(state: StateCore) -> None:
    """`#N` in text (not in links or code) → a link to `{repo_path}/issues/N`, as GitHub autolinks."""
    repo_path = state.env.get("repo_path")
    if not repo_path:
        return
    for block in state.tokens:
        if block.type == "inline" and block.children:
            block.children = _split_refs(block.children, repo_path)


def _split_refs(children: list[Token], repo_path: str) -> list[Token]:
    out: list[Token] = []
    depth = 0
    for token in children:
        depth += {"link_open": 1, "link_close": -1}.get(token.type, 0)
        if token.type != "text" or depth or not _ISSUE_REF.search(token.content):
            out.append(token)
            continue
        last = 0
        for match in _ISSUE_REF.finditer(token.content):
            out.append(_text(token.content[last : match.start()]))
            link = Token("link_open", "a", 1)
            link.attrSet("href", f"{repo_path}/issues/{match.group(1)}")
            out += [link, _text(match.group(0)), Token("link_close", "a", -1)]
            last = match.end()
        out.append(_text(token.content[last:]))
    return out


def _text(content: str) -> Token:
    token = Token("text", "", 0)
    token.content = content
    return token


def _parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": True, "linkify": True, "breaks": True})
    md.enable(["table", "strikethrough", "linkify"])
    md.use(tasklists_plugin)
    md.core.ruler.push("issue_refs", _link_issue_refs)
    return md


_MARKDOWN = _parser()


def sanitise(html: str, attribute_filter: Callable[[str, str, str], str | None] = _keep_classes) -> str:
    """`html` with only the allow-listed tags, attributes and URL schemes; comments removed."""
    return nh3.clean(
        html,
        tags=TAGS,
        clean_content_tags={"script", "style"},
        attributes=ATTRIBUTES,
        attribute_filter=attribute_filter,
        strip_comments=True,
        link_rel="nofollow noopener noreferrer",
        url_schemes=URL_SCHEMES,
        filter_style_properties={"text-align"},
        set_tag_attribute_values={"input": {"type": "checkbox", "disabled": "disabled"}},
    )


def render(text: str | None, repo_path: str | None = None) -> Markup:
    """A Markdown body as safe HTML; `repo_path` (`/owner/name`) turns `#N` into issue links."""
    if not text:
        return Markup("")
    return Markup(sanitise(_MARKDOWN.render(text, {"repo_path": repo_path})))
