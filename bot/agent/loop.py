"""The coding agent's loop: ask the model, run its tool calls, stop at a terminal tool or a budget.

The loop never commits, pushes or comments; it returns an `AgentResult` and a separate step
publishes it. Every way out is bounded: steps, tokens, money, wall time, nudges for replies
without a tool call, and rejections of a terminal tool's arguments.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bot.agent.context import compact
from bot.agent.result import AgentResult, AgentStatus, BudgetName, Handoff
from bot.agent.tools import Terminal, Toolbox
from bot.agent.transcript import Transcript
from bot.errors import ModelError
from bot.git import git_entries
from bot.llm.types import ChatModel, Message, ToolCall, Usage
from bot.settings import Budget

NUDGE = (
    "Your reply did not call a tool. Work only through tools: call a tool to continue, "
    "or call `finish` (or the terminal tool you were given) to end with your report."
)
#: Replies without a tool call in a row before the run gives up; each earlier one gets a nudge.
MAX_NUDGES = 2
#: Rejected terminal-tool arguments before the run gives up.
MAX_REJECTIONS = 3
REPLY_TOKENS = 8192


@dataclass(frozen=True)
class StepEvent:
    """One thing the loop did, for live display: a tool call and its result size, or the end."""

    step: int
    kind: str  # "tool", "text", "end"
    tool: str = ""
    args: str = ""
    result_chars: int = 0
    error: bool = False
    detail: str = ""


def short_args(call: ToolCall, width: int = 80) -> str:
    """A one-line preview of a call's arguments."""
    parts = []
    for key, value in call.arguments.items():
        text = value if isinstance(value, str) else json.dumps(value)
        text = text.replace("\n", "⏎")
        parts.append(f"{key}={text[:40]}{'…' if len(text) > 40 else ''}")
    line = " ".join(parts)
    return line if len(line) <= width else line[: width - 1] + "…"


class _Run:
    """The state of one run; `run_agent` is its only user."""

    def __init__(
        self,
        model: ChatModel,
        toolbox: Toolbox,
        budget: Budget,
        workdir: Path,
        transcript: Transcript,
        on_event: Callable[[StepEvent], None] | None,
    ) -> None:
        self.model, self.toolbox, self.budget, self.workdir = model, toolbox, budget, workdir
        self.transcript, self.on_event = transcript, on_event
        self.usage = Usage()
        self.steps = 0
        self.started = time.monotonic()
        self.messages: list[Message] = []
        self.dirty_before = _git_dirty(workdir)

    def emit(self, event: StepEvent) -> None:
        if self.on_event is not None:
            self.on_event(event)

    def add(self, message: Message) -> None:
        self.messages.append(message)
        self.transcript.write("message", self.steps, message)

    def exhausted(self) -> tuple[BudgetName, str] | None:
        b = self.budget
        if b.max_steps is not None and self.steps >= b.max_steps:
            return "steps", f"step budget spent: {self.steps} of {b.max_steps} steps"
        if b.max_tokens is not None and self.usage.total_tokens >= b.max_tokens:
            return "tokens", f"token budget spent: {self.usage.total_tokens:,} of {b.max_tokens:,} tokens"
        if b.max_usd is not None and self.usage.cost_usd > 0 and self.usage.cost_usd >= b.max_usd:
            return "usd", f"money budget spent: ${self.usage.cost_usd:.4f} of ${b.max_usd:.2f}"
        elapsed = time.monotonic() - self.started
        if b.max_wall_s is not None and elapsed >= b.max_wall_s:
            return "wall_time", f"time budget spent: {elapsed:.0f}s of {b.max_wall_s:g}s"
        return None

    def result(
        self,
        status: AgentStatus,
        reason: str,
        *,
        report: Handoff | None = None,
        budget: BudgetName | None = None,
        terminal: tuple[str, Terminal] | None = None,
    ) -> AgentResult:
        changed = self.toolbox.files_written | (_git_dirty(self.workdir) - self.dirty_before)
        result = AgentResult(
            status=status,
            reason=reason,
            exhausted_budget=budget,
            report=report or Handoff(summary=f"The run ended without a report: {reason}"),
            usage=self.usage,
            steps=self.steps,
            files_changed=sorted(changed),
            transcript_path=str(self.transcript.path) if self.transcript.path else None,
            terminal_tool=terminal[0] if terminal else None,
            output=terminal[1].output if terminal else None,
            isolation=self.toolbox.isolation,
        )
        self.transcript.write("result", self.steps, result)
        self.emit(StepEvent(self.steps, "end", detail=f"{status}: {reason}"))
        return result

    def loop(self, system: str, task: str) -> AgentResult:
        self.add(Message(role="system", content=system))
        self.add(Message(role="user", content=task, cache_breakpoint=True))
        nudges = rejections = 0
        last_prompt = 0
        while True:
            spent = self.exhausted()
            if spent is not None:
                return self.result("budget_exhausted", spent[1], budget=spent[0])
            window = getattr(self.model, "context_window", 0)
            if window and compact(self.messages, window, REPLY_TOKENS, last_prompt):
                self.transcript.write("event", self.steps, {"event": "context_compacted"})
            try:
                reply = self.model.complete(self.messages, self.toolbox.specs, max_tokens=REPLY_TOKENS)
            except ModelError as exc:
                return self.result("model_error", f"{type(exc).__name__}: {exc}")
            self.steps += 1
            self.usage = self.usage + reply.usage
            last_prompt = reply.usage.input_tokens
            self.add(reply.as_message())
            if not reply.tool_calls:
                nudges += 1
                self.emit(StepEvent(self.steps, "text", detail=reply.text[:200]))
                if nudges > MAX_NUDGES:
                    return self.result("no_progress", f"{nudges} replies in a row without a tool call")
                self.add(Message(role="user", content=NUDGE))
                continue
            nudges = 0
            ended = self.run_calls(reply.tool_calls)
            if isinstance(ended, AgentResult):
                return ended
            rejections += ended
            if rejections >= MAX_REJECTIONS:
                return self.result("no_progress", f"terminal tool arguments rejected {rejections} times")

    def run_calls(self, calls: list[ToolCall]) -> AgentResult | int:
        """Execute a reply's calls in order; the result when a terminal call was accepted, else rejections."""
        rejected = 0
        for index, call in enumerate(calls):
            outcome = self.toolbox.execute(call)
            self.add(Message(role="tool", content=outcome.text, tool_call_id=call.id))
            self.emit(StepEvent(self.steps, "tool", call.name, short_args(call), len(outcome.text), outcome.error))
            rejected += int(outcome.rejected)
            if outcome.terminal is not None:
                for skipped in calls[index + 1 :]:
                    self.add(Message(role="tool", content="not run: the run had ended", tool_call_id=skipped.id))
                end = outcome.terminal
                reason = "the agent finished" if end.status == "finished" else "the agent reported it is blocked"
                return self.result(end.status, reason, report=end.report, terminal=(call.name, end))
        return rejected


def run_agent(
    model: ChatModel,
    *,
    system: str,
    task: str,
    toolbox: Toolbox,
    budget: Budget,
    workdir: Path,
    transcript_path: Path | None,
    on_event: Callable[[StepEvent], None] | None = None,
) -> AgentResult:
    """Run one agent until it calls a terminal tool or a bound stops it; never raises on model errors."""
    transcript = Transcript(transcript_path)
    try:
        return _Run(model, toolbox, budget, workdir, transcript, on_event).loop(system, task)
    finally:
        transcript.close()


def _git_dirty(workdir: Path) -> set[str]:
    """Paths git sees as changed or untracked (empty when `workdir` is not a git checkout)."""
    if not (workdir / ".git").exists():
        return set()
    entries = git_entries(workdir, "status", "--porcelain=v1", "-z", "-uall")
    if entries is None:
        return set()
    paths: set[str] = set()
    skip = False
    for entry in entries:
        if skip:
            skip = False
            continue
        if len(entry) > 3:
            paths.add(entry[3:])
            skip = entry[0] in "RC"  # a rename is followed by its source path
    return paths
