"""The coding agent: a bounded tool loop over a `ChatModel`, its tools, and the sandbox `run` uses."""

from bot.agent.loop import StepEvent, run_agent
from bot.agent.result import AgentResult, Handoff
from bot.agent.sandbox import CommandResult, Sandbox
from bot.agent.tools import Terminal, TerminalTool, Toolbox, ToolRejected, finish_tool

__all__ = [
    "AgentResult",
    "CommandResult",
    "Handoff",
    "Sandbox",
    "StepEvent",
    "Terminal",
    "TerminalTool",
    "ToolRejected",
    "Toolbox",
    "finish_tool",
    "run_agent",
]
