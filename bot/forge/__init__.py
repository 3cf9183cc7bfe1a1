"""The forge interface: the verbs the bot needs over PyGithub, App auth, retries and markers."""

from bot.forge.auth import TokenCache, forge_for
from bot.forge.client import Forge
from bot.forge.retry import RetryPolicy
from bot.forge.types import (
    BranchRules,
    CheckFailure,
    CheckState,
    Comment,
    Issue,
    IssueRef,
    Permission,
    PullRequest,
)

__all__ = [
    "BranchRules",
    "CheckFailure",
    "CheckState",
    "Comment",
    "Forge",
    "Issue",
    "IssueRef",
    "Permission",
    "PullRequest",
    "RetryPolicy",
    "TokenCache",
    "forge_for",
]
