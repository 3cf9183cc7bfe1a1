"""`RepoConfig`: the schema of a target repo's `.github/orchestra.yml`, read from its default branch.

The file is bounded before it is parsed: at most `MAX_CONFIG_BYTES`, and YAML aliases may expand
to at most `MAX_CONFIG_VALUES` values (a few hundred bytes of nested aliases would otherwise
expand to gigabytes). Every refusal is one line naming the file.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from yaml.nodes import MappingNode, Node, SequenceNode

from bot.errors import ConfigError, Source
from bot.forge.paths import check_repo_path
from bot.settings import Role, SpendCaps

CONFIG_PATH = ".github/orchestra.yml"
#: The largest config file read (bytes); the orchestra's own keys fit in a few hundred.
MAX_CONFIG_BYTES = 64 * 1024
#: The most values (scalars, lists, mappings) the file may hold once its YAML aliases are expanded.
MAX_CONFIG_VALUES = 10_000
#: Error lines reported for an invalid file (the rest are counted), and the longest value quoted.
MAX_ERROR_LINES = 10
MAX_QUOTED_CHARS = 80


#: What a path segment may not hold: backslashes, percent-escapes and control characters.


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ModelOverrides(_Strict):
    """Per-role model specs; a role left out uses the server's setting."""

    planner: str | None = None
    worker: str | None = None
    conflict: str | None = None
    ci_fix: str | None = None
    review: str | None = None

    def for_role(self, role: Role | str) -> str | None:
        value: str | None = getattr(self, Role(role).value)
        return value


#: Changelog-like files merged keeping both sides (gitattributes patterns; see `MergePolicy.union_paths`).
UNION_PATHS = ["CHANGES*", "CHANGELOG*", "HISTORY*", "NEWS*"]
#: A gitattributes pattern as `union_paths` allows it: no spaces, no negation, no comment, no quoting.
_ATTRIBUTE_PATTERN = re.compile(r"^[^\s!#\"\\][^\s\"\\]*$")


class MergePolicy(_Strict):
    """When and how an orchestra PR lands: the policy, the queue that tests PRs together, mechanical merges."""

    policy: Literal["auto", "review"] = "review"
    #: How a PR is merged when `queue` is `off` (the queue lands a merge commit of the tested tree).
    method: Literal["merge", "squash", "rebase"] = "squash"
    required_approvals: int = Field(default=0, ge=0, le=10)
    delete_branch: bool = True
    #: `batch`: ready PRs are tested together on `orchestra/queue/<default>` and land fast-forward;
    #: `serial`: a batch of one; `off`: each PR is merged once its own checks are green.
    queue: Literal["batch", "serial", "off"] = "batch"
    #: At most this many PRs in one batch.
    max_batch: int = Field(default=8, ge=1, le=50)
    #: While implementations of this repository wait for a free worker (where the executor can tell), a
    #: batch smaller than `max_batch` waits for more PRs to join until its oldest PR's head is this
    #: old: one CI run and one landing for several PRs instead of one each. 0: land what is ready now.
    batch_wait_seconds: int = Field(default=30, ge=0, le=3600)
    #: A batch whose CI has not concluded this long after it was built is rebuilt (a new commit, so CI
    #: runs again), twice at most; then its PRs leave the queue and ask a person.
    batch_timeout_minutes: int = Field(default=60, ge=1, le=24 * 60)
    #: Paths merged keeping both sides, with no model (the worker's and the queue's merges only).
    union_paths: list[str] = Field(default_factory=lambda: list(UNION_PATHS), max_length=50)

    @field_validator("queue", mode="before")
    @classmethod
    def _yaml_off(cls, value: Any) -> Any:
        return "off" if value is False else value  # YAML 1.1 reads a bare `off` as false

    @field_validator("union_paths")
    @classmethod
    def _attribute_patterns(cls, value: list[str]) -> list[str]:
        for pattern in value:
            if not _ATTRIBUTE_PATTERN.match(pattern):
                raise ValueError(
                    f"{pattern!r} is not a plain gitattributes pattern "
                    "(no spaces, quotes, backslashes, leading '!' or '#')"
                )
        return value

    @property
    def batch_size(self) -> int:
        """How many PRs one batch may hold (`serial` is a batch of one)."""
        return 1 if self.queue == "serial" else self.max_batch


class Spend(_Strict):
    """A token and money ceiling."""

    tokens: int = Field(default=2_000_000, ge=1)
    usd: float = Field(default=5.0, ge=0)


class PullCeiling(_Strict):
    """The ceiling of all work on one PR: the implementation and every fix, conflict and review run."""

    tokens: int = Field(default=8_000_000, ge=1)
    usd: float = Field(default=20.0, ge=0)
    #: Agent time summed over the PR's fix, conflict and queue-fix runs, in hours.
    agent_hours: float = Field(default=3.0, gt=0)


class Cap(_Strict):
    """A cap of the spend breaker: tokens, US dollars, or both; unset is no cap."""

    tokens: int | None = Field(default=None, ge=1)
    usd: float | None = Field(default=None, ge=0)


class Budgets(_Strict):
    """Ceilings per agent run of a task and per PR (all its runs); the spend breaker's caps per goal
    (the planner and every task of it) and per UTC day (every goal of the repository)."""

    task: Spend = Spend()
    pr: PullCeiling = PullCeiling()
    goal: Cap = Cap()
    day: Cap = Cap()

    @property
    def capped(self) -> bool:
        """True when the spend breaker has any cap to watch."""
        return any(v is not None for v in (self.goal.tokens, self.goal.usd, self.day.tokens, self.day.usd))

    @property
    def capped_in_usd(self) -> bool:
        return self.goal.usd is not None or self.day.usd is not None


class PlannerBounds(_Strict):
    """How many tasks one plan may hold and how deep sub-goals may nest."""

    min_tasks: int = Field(default=1, ge=1)
    max_tasks: int = Field(default=30, ge=1, le=100)
    max_depth: int = Field(default=2, ge=0, le=8)
    max_plan_attempts: int = Field(default=3, ge=1, le=10)

    @model_validator(mode="after")
    def _ordered(self) -> PlannerBounds:
        if self.min_tasks > self.max_tasks:
            raise ValueError(f"min_tasks ({self.min_tasks}) is greater than max_tasks ({self.max_tasks})")
        return self


class PlanningPolicy(_Strict):
    """Whether a person approves a goal's plan before any of its tasks is filed or dispatched."""

    #: `required`: the planner posts the plan and files nothing until a writer comments `/orchestra approve`.
    approval: Literal["none", "required"] = "none"


class AgentPolicy(_Strict):
    """Limits and policies given to every coding agent."""

    max_steps: int = Field(default=60, ge=1, le=1000)
    command_timeout_s: int = Field(default=300, ge=1, le=7200)
    allow_new_dependencies: bool = False


class SteeringPolicy(_Strict):
    """Who may steer the agents: commands, goal labels, goal text, reviews and review comments."""

    permission: Literal["write", "maintain", "admin"] = "write"


class RepoConfig(_Strict):
    """The orchestra's settings for one repository. Every key is optional."""

    label_prefix: str = Field(default="orchestra", pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,30}$")
    models: ModelOverrides = ModelOverrides()
    max_parallel_tasks: int = Field(default=4, ge=1, le=500)
    setup_commands: list[str] = []
    test_command: str | None = None
    merge: MergePolicy = MergePolicy()
    max_ci_fix_attempts: int = Field(default=3, ge=0, le=20)
    max_conflict_attempts: int = Field(default=3, ge=0, le=20)
    budgets: Budgets = Budgets()
    protected_paths: list[str] = [".github/workflows/**"]
    planner: PlannerBounds = PlannerBounds()
    agent: AgentPolicy = AgentPolicy()
    notes_file: str = ".orchestra/NOTES.md"
    steering: SteeringPolicy = SteeringPolicy()
    planning: PlanningPolicy = PlanningPolicy()

    @field_validator("notes_file")
    @classmethod
    def _inside_the_repository(cls, value: str) -> str:
        return check_repo_path(value)

    def with_caps(self, caps: SpendCaps) -> RepoConfig:
        """This config with the spend caps given to the process (flags, environment) laid over `budgets`."""
        goal = {k: v for k, v in (("tokens", caps.goal_tokens), ("usd", caps.goal_usd)) if v is not None}
        day = {k: v for k, v in (("tokens", caps.day_tokens), ("usd", caps.day_usd)) if v is not None}
        if not goal and not day:
            return self
        budgets = self.budgets.model_copy(
            update={"goal": self.budgets.goal.model_copy(update=goal), "day": self.budgets.day.model_copy(update=day)}
        )
        return self.model_copy(update={"budgets": budgets})

    def label(self, name: str) -> str:
        """The full label name, e.g. ``orchestra:task``."""
        return f"{self.label_prefix}:{name}"


def _describe(error: dict[str, Any], model: type[BaseModel]) -> str:
    """One line for one pydantic error: the bad value and what is allowed."""
    kind = error["type"]
    value = _Quoted(error.get("input"))
    ctx = error.get("ctx") or {}
    if kind == "extra_forbidden":
        return f"unknown key; allowed keys here: {', '.join(_allowed_keys(model, error['loc'][:-1]))}"
    if kind == "literal_error":
        return f"{value!r} is not allowed; expected {ctx.get('expected', '')}"
    if kind in {"greater_than_equal", "less_than_equal", "greater_than", "less_than"}:
        bound = {"greater_than_equal": ">=", "less_than_equal": "<=", "greater_than": ">", "less_than": "<"}[kind]
        limit = next(iter(ctx.values()), "")
        return f"{value!r} is out of range; expected a number {bound} {limit}"
    if kind == "string_pattern_mismatch":
        return f"{value!r} is not allowed; expected letters, digits, '.', '_' or '-' (at most 31)"
    if kind == "value_error":
        return str(ctx.get("error", error["msg"]))
    return f"{value!r} is not allowed; {error['msg'][0].lower()}{error['msg'][1:]}"


class _Quoted:
    """A value as an error line quotes it: its repr, cut to `MAX_QUOTED_CHARS`."""

    def __init__(self, value: Any) -> None:
        text = (
            repr(value)
            if not isinstance(value, (dict, list)) or len(value) < 20
            else f"<{type(value).__name__} of {len(value)}>"
        )
        self.text = text if len(text) <= MAX_QUOTED_CHARS else text[: MAX_QUOTED_CHARS - 1] + "…"

    def __repr__(self) -> str:
        return self.text


def _allowed_keys(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    current: type[BaseModel] = model
    for part in loc:
        field = current.model_fields.get(str(part))
        annotation = field.annotation if field else None
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            current = annotation
        else:
            return []
    return list(current.model_fields)


def parse_repo_config(text: str, path: str = CONFIG_PATH) -> RepoConfig:
    """Parse the YAML text of an orchestra config; raise ConfigError naming path, key and value."""
    data = _load_bounded(text, path)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(
            f"{path}: the top level must be a mapping of keys, got {type(data).__name__}",
            source=Source("file", CONFIG_PATH),
        )
    try:
        return RepoConfig.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors()
        lines = [
            f"{path}:{'.'.join(str(p) for p in e['loc']) or '(top level)'}: {_describe(dict(e), RepoConfig)}"
            for e in errors[:MAX_ERROR_LINES]
        ]
        if len(errors) > MAX_ERROR_LINES:
            lines.append(f"{path}: … and {len(errors) - MAX_ERROR_LINES} more problems")
        first = ".".join(str(p) for p in errors[0]["loc"]) or CONFIG_PATH
        raise ConfigError("\n".join(lines), source=Source("file", first)) from exc


def _load_bounded(text: str, path: str) -> Any:
    """The YAML document of `text`, refused (one line) when the text or its alias expansion is too large."""
    size = len(text.encode("utf-8"))
    if size > MAX_CONFIG_BYTES:
        raise ConfigError(
            f"{path}: {size:,} bytes; a config file may have at most {MAX_CONFIG_BYTES:,}",
            source=Source("file", CONFIG_PATH),
        )
    if not text.strip():
        return {}
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        values = _expanded_size(node, {}, set())
        if values > MAX_CONFIG_VALUES:
            raise ConfigError(
                f"{path}: its YAML aliases expand to more than {MAX_CONFIG_VALUES:,} values; "
                "write the values out instead of repeating aliases",
                source=Source("file", CONFIG_PATH),
            )
        return loader.construct_document(node)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "?"
        problem = str(getattr(exc, "problem", None) or exc).splitlines()[0][: MAX_QUOTED_CHARS * 2]
        raise ConfigError(f"{path}:{where}: not valid YAML: {problem}", source=Source("file", CONFIG_PATH)) from exc
    finally:
        loader.dispose()


def _expanded_size(node: Node, sizes: dict[int, int], open_nodes: set[int]) -> int:
    """How many values `node` stands for with every alias expanded (shared nodes counted each time
    they are used, computed once each); a node that contains itself counts as too many."""
    key = id(node)
    if key in sizes:
        return sizes[key]
    if key in open_nodes:
        return MAX_CONFIG_VALUES + 1  # a recursive alias expands without end
    open_nodes.add(key)
    total = 1
    if isinstance(node, SequenceNode):
        total += sum(_expanded_size(child, sizes, open_nodes) for child in node.value)
    elif isinstance(node, MappingNode):
        total += sum(_expanded_size(k, sizes, open_nodes) + _expanded_size(v, sizes, open_nodes) for k, v in node.value)
    open_nodes.discard(key)
    sizes[key] = min(total, MAX_CONFIG_VALUES + 1)
    return sizes[key]


def load_repo_config(path: Path) -> RepoConfig:
    """Read and parse a config file from disk."""
    try:
        text = path.read_text()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from exc
    return parse_repo_config(text, str(path))
