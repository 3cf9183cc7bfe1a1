"""Prompts as files: one Jinja/Markdown template per role in `prompts/`, rendered by `render_prompt`.

Rendering is strict: a variable the template uses but the context lacks is an error naming it.
A repository may replace any role's template with `.github/orchestra/prompts/<role>.md` on its
default branch; the caller reads that text and passes it in `overrides`. Each template lists
its variables in the Jinja comment at its top (see `documented_variables`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from importlib import resources
from typing import Any

import jinja2
from jinja2 import meta

from bot.errors import ConfigError
from bot.repoconfig import RepoConfig

ROLES = ("planner", "subplanner", "worker", "conflict", "ci_fix", "review")
OVERRIDE_DIR = ".github/orchestra/prompts"


def _codelist(values: Iterable[str]) -> str:
    """`a`, `b` — or (none) for an empty list."""
    items = [f"`{v}`" for v in values]
    return ", ".join(items) if items else "(none)"


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["codelist"] = _codelist
    return env


_ENV = _environment()


def builtin_template(role: str) -> str:
    """The text of the shipped template for `role`."""
    if role not in ROLES:
        raise ConfigError(f"no prompt for role {role!r}; roles: {', '.join(ROLES)}")
    return (resources.files("prompts") / f"{role}.md").read_text(encoding="utf-8")


def render_prompt(role: str, context: Mapping[str, Any], overrides: Mapping[str, str] | None = None) -> str:
    """Render `role`'s template (the repo's override when given) with `context`; ConfigError names any problem."""
    builtin = builtin_template(role)
    source, origin = builtin, f"prompts/{role}.md"
    if overrides and role in overrides:
        source, origin = overrides[role], f"{OVERRIDE_DIR}/{role}.md"
    try:
        template = _ENV.from_string(source)
    except jinja2.TemplateSyntaxError as exc:
        raise ConfigError(f"{origin}:{exc.lineno}: template error: {exc.message}") from exc
    try:
        return template.render(**context).strip() + "\n"
    except jinja2.UndefinedError as exc:
        raise ConfigError(f"{origin}: variable missing from the context: {exc.message}") from exc


def template_variables(source: str) -> set[str]:
    """The names a template reads from its context (found by parsing it)."""
    return set(meta.find_undeclared_variables(_ENV.parse(source))) - set(_ENV.globals)


def documented_variables(role: str) -> dict[str, str]:
    """The variables listed in the comment at the top of `role`'s template: name → `(type): meaning`."""
    header = re.match(r"\{#(.*?)#\}", builtin_template(role), re.DOTALL)
    if header is None:
        return {}
    found = re.findall(r"^\s+(\w+) (\(.*)$", header.group(1).split("Variables:", 1)[-1], re.MULTILINE)
    return dict(found)


def policy_context(config: RepoConfig, notes: str, *, repo: str) -> dict[str, Any]:
    """The variables every agent role shares, from the repo's config and its notes file's text."""
    return {
        "repo": repo,
        "allow_new_dependencies": config.agent.allow_new_dependencies,
        "command_timeout_s": config.agent.command_timeout_s,
        "protected_paths": list(config.protected_paths),
        "max_steps": config.agent.max_steps,
        "notes_file": config.notes_file,
        "notes": notes,
    }
