"""What an agent run hands back: the handoff report and the serialisable `AgentResult`."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from bot.llm.types import Usage

AgentStatus = Literal["finished", "blocked", "budget_exhausted", "model_error", "no_progress"]
BudgetName = Literal["steps", "tokens", "usd", "wall_time"]


#: The sections of a handoff that can change the plan; a report with none of them (a summary, notes)
#: says the task was done as asked, and is recorded without a planning pass (bot/planner/goal_jobs.py).
PLANNING_SECTIONS = ("Concerns", "Deviations", "Findings", "Feedback")


def asks_planner(markdown: str) -> bool:
    """True when a handoff's Markdown (`Handoff.markdown`) carries a section that can change the plan."""
    return any(f"**{title}**\n" in markdown for title in PLANNING_SECTIONS)


class Handoff(BaseModel):
    """The one report a run ends with: what was done and what the next reader must know."""

    model_config = ConfigDict(extra="forbid")

    summary: str = Field(min_length=1)
    notes: list[str] = Field(default_factory=list)
    concerns: list[str] = Field(default_factory=list)
    deviations: list[str] = Field(default_factory=list)
    findings: list[str] = Field(default_factory=list)
    feedback: list[str] = Field(default_factory=list)

    @field_validator("notes", "concerns", "deviations", "findings", "feedback", mode="before")
    @classmethod
    def _one_string_is_a_list(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [value] if value.strip() else []
        return value

    def markdown(self) -> str:
        """The report as Markdown, e.g. for a PR body or a handoff comment."""
        parts = [self.summary.strip()]
        for title, items in (
            ("Notes", self.notes),
            ("Concerns", self.concerns),
            ("Deviations", self.deviations),
            ("Findings", self.findings),
            ("Feedback", self.feedback),
        ):
            if items:
                parts.append(f"**{title}**\n" + "\n".join(f"- {item}" for item in items))
        return "\n\n".join(parts)


class AgentResult(BaseModel):
    """The outcome of one agent run; publishing it (commit, push, PR, comment) is someone else's job."""

    status: AgentStatus
    #: One sentence on why the run ended (e.g. which budget and how much was used).
    reason: str = ""
    exhausted_budget: BudgetName | None = None
    report: Handoff
    usage: Usage = Field(default_factory=Usage)
    steps: int = 0
    files_changed: list[str] = Field(default_factory=list)
    transcript_path: str | None = None
    #: The terminal tool that ended the run (`finish`, or e.g. `submit_plan`) and its validated output.
    terminal_tool: str | None = None
    output: dict[str, Any] | None = None
    #: How `run` was isolated: "bwrap" or "plain (<why not bwrap>)".
    isolation: str = ""

    @property
    def ok(self) -> bool:
        return self.status == "finished"
