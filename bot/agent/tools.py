"""The agent's tools as `ToolSpec`s, composed into a `Toolbox` (full, or read-only plus extra terminal tools).

A tool call never crashes the run: failures, sandbox refusals and rejected terminal arguments
come back to the model as the tool's result, marked as errors. A *terminal* tool (``finish``,
or one a caller adds such as the planner's ``submit_plan``) ends the run when its validator
accepts the arguments; when it raises `ToolRejected` the message goes back to the model and
the loop counts the rejection against a bound.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ValidationError

from bot.agent.files import FileTools, ToolFailure, truncate
from bot.agent.paths import PathGuard
from bot.agent.result import Handoff
from bot.agent.sandbox import Sandbox
from bot.errors import SandboxViolation
from bot.llm.types import ToolCall, ToolSpec

__all__ = ["Terminal", "TerminalTool", "ToolFailure", "ToolOutcome", "ToolRejected", "Toolbox", "finish_tool"]


class ToolRejected(ToolFailure):
    """A terminal tool's validator refused the arguments; the model is told why and may try again."""


@dataclass(frozen=True)
class Terminal:
    """An accepted terminal call: how the run ends."""

    status: Literal["finished", "blocked"]
    report: Handoff
    output: dict[str, Any] | None = None


Validator = Callable[[dict[str, Any]], "Terminal | BaseModel | dict[str, Any]"]


@dataclass(frozen=True)
class TerminalTool:
    """A tool that ends the run once `validate` accepts its arguments (raise `ToolRejected` to refuse)."""

    spec: ToolSpec
    validate: Validator

    def accept(self, arguments: dict[str, Any]) -> Terminal:
        value = self.validate(arguments)
        if isinstance(value, Terminal):
            return value
        output = value.model_dump(mode="json") if isinstance(value, BaseModel) else dict(value)
        return Terminal("finished", Handoff(summary=f"{self.spec.name} accepted"), output)


@dataclass
class ToolOutcome:
    """What one tool call produced: the text for the model, and whether it ended or was refused."""

    text: str
    error: bool = False
    terminal: Terminal | None = None
    rejected: bool = False


def _obj(required: Sequence[str] = (), **properties: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": list(required), "additionalProperties": False}


_S = {"type": "string"}
_I = {"type": "integer", "minimum": 1}
_LIST = {"type": "array", "items": {"type": "string"}}

READ_SPECS = [
    ToolSpec(
        name="read_file",
        description=(
            "Show a text file with numbered lines, optionally only lines start_line..end_line (1-based, inclusive)."
        ),
        parameters=_obj(["path"], path=_S, start_line=_I, end_line=_I),
    ),
    ToolSpec(
        name="list_files",
        description=(
            "List files under a directory (ignored files hidden), "
            "optionally filtered by a glob such as '*.py' or 'src/**/test_*.py'."
        ),
        parameters=_obj([], path=_S, pattern=_S),
    ),
    ToolSpec(
        name="grep",
        description=(
            "Search file contents with a Python regular expression; prints path:line: text. "
            "Optional glob filters files."
        ),
        parameters=_obj(["pattern"], pattern=_S, path=_S, glob=_S, ignore_case={"type": "boolean"}),
    ),
]
WRITE_SPECS = [
    ToolSpec(
        name="write_file",
        description="Create or overwrite a file with the given full content.",
        parameters=_obj(["path", "content"], path=_S, content=_S),
    ),
    ToolSpec(
        name="edit_file",
        description=(
            "Replace one exact occurrence of old_string with new_string in a file. "
            "old_string must match exactly once, whitespace included."
        ),
        parameters=_obj(["path", "old_string", "new_string"], path=_S, old_string=_S, new_string=_S),
    ),
    ToolSpec(
        name="run",
        description=(
            "Run a shell command (sh -c) in the repository root, without network when sandboxed; "
            "returns the exit code and output. timeout_s is capped by the policy."
        ),
        parameters=_obj(["command"], command=_S, timeout_s=_I),
    ),
]
FINISH_SPEC = ToolSpec(
    name="finish",
    description=(
        "End your turn with the handoff report. status 'done' when the task is complete and verified, "
        "'blocked' when it cannot be completed (say why in concerns)."
    ),
    parameters=_obj(
        ["status", "summary"],
        status={"type": "string", "enum": ["done", "blocked"]},
        summary=_S,
        notes=_LIST,
        concerns=_LIST,
        deviations=_LIST,
        findings=_LIST,
        feedback=_LIST,
    ),
)


def _accept_finish(arguments: dict[str, Any]) -> Terminal:
    args = dict(arguments)
    status = args.pop("status", "done")
    if status not in ("done", "blocked"):
        raise ToolRejected(f"status must be 'done' or 'blocked', not {status!r}")
    try:
        report = Handoff.model_validate(args)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'report'}: {e['msg']}" for e in exc.errors())
        raise ToolRejected(f"the handoff report is invalid: {problems}") from exc
    return Terminal("finished" if status == "done" else "blocked", report)


def finish_tool() -> TerminalTool:
    """The standard `finish` tool: ends the run with a `Handoff`."""
    return TerminalTool(FINISH_SPEC, _accept_finish)


@dataclass
class Toolbox:
    """The tools one agent run may call, bound to one worktree (and, for `run`, one sandbox)."""

    workdir: Path
    sandbox: Sandbox | None = None
    protected: Iterable[str] = ()
    read_only: bool = False
    terminal_tools: Sequence[TerminalTool] = field(default_factory=lambda: [finish_tool()])
    output_limit: int = 20_000
    command_timeout_s: float = 300

    def __post_init__(self) -> None:
        self.guard = PathGuard(self.workdir, self.protected)
        self.files = FileTools(self.guard)
        self._terminal = {t.spec.name: t for t in self.terminal_tools}
        if not self.read_only and self.sandbox is None:
            raise ValueError("a writable Toolbox needs a Sandbox for its run tool")

    @property
    def specs(self) -> list[ToolSpec]:
        plain = READ_SPECS if self.read_only else READ_SPECS + WRITE_SPECS
        return [*plain, *(t.spec for t in self.terminal_tools)]

    @property
    def names(self) -> list[str]:
        return [s.name for s in self.specs]

    @property
    def files_written(self) -> set[str]:
        return set(self.files.written)

    @property
    def isolation(self) -> str:
        return self.sandbox.isolation if self.sandbox else "none (read-only tools)"

    def execute(self, call: ToolCall) -> ToolOutcome:
        """Run one call; every failure becomes an error outcome the model reads."""
        args = call.arguments if isinstance(call.arguments, dict) else {}
        if "_unparsed_arguments" in args:
            return ToolOutcome(
                f"error: the arguments of {call.name} were not valid JSON; send a JSON object", error=True
            )
        terminal = self._terminal.get(call.name)
        try:
            if terminal is not None:
                accepted = terminal.accept(args)
                return ToolOutcome(f"{call.name} accepted; the run ends.", terminal=accepted)
            return ToolOutcome(self._dispatch(call.name, args))
        except ToolRejected as exc:
            return ToolOutcome(f"error: {exc}", error=True, rejected=True)
        except SandboxViolation as exc:
            return ToolOutcome(f"SandboxViolation: {exc}", error=True)
        except ToolFailure as exc:
            return ToolOutcome(f"error: {exc}", error=True)
        except (TypeError, ValueError) as exc:
            return ToolOutcome(f"error: bad arguments for {call.name}: {exc}", error=True)
        except OSError as exc:
            return ToolOutcome(f"error: {call.name}: {exc.strerror or exc}", error=True)

    def _dispatch(self, name: str, args: dict[str, Any]) -> str:
        if name not in self.names:
            raise ToolFailure(f"no tool named {name!r}; available: {', '.join(self.names)}")
        if name == "run":
            return self._run(**args)
        method: Callable[..., str] = getattr(self.files, name)
        return truncate(method(**args), self.output_limit)

    def _run(self, command: str, timeout_s: int | None = None) -> str:
        assert self.sandbox is not None
        if not isinstance(command, str) or not command.strip():
            raise ToolFailure("command is empty")
        limit = min(float(timeout_s or self.command_timeout_s), self.command_timeout_s)
        result = self.sandbox.run(command, timeout_s=limit)
        if result.timed_out:
            head = f"killed after {limit:g}s (timeout; the command and its children were stopped)"
        else:
            head = f"exit code {result.exit_code} ({result.duration_s:.1f}s)"
        return truncate(f"{head}\n{result.output}", self.output_limit, keep_tail=True)
