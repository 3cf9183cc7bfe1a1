"""A typed error ends in one comment from the error table on the issue: errors that need a person leave
their label and end the job; transient ones leave no label and are re-raised for the queue to retry."""

from __future__ import annotations

import pytest

from bot.errors import ModelUnavailable, PlanInvalid
from bot.ledger.failures import failures_reported
from bot.repoconfig import RepoConfig
from tests.support.planner_bed import Bed


def test_failures_are_commented_once_labelled_or_re_raised(bed: Bed) -> None:
    forge, goal = bed.forge(), bed.goal()
    for _attempt in range(2):
        with failures_reported(forge, goal, RepoConfig()):
            raise PlanInvalid("the last plan had a cycle")
    with pytest.raises(ModelUnavailable), failures_reported(forge, goal, RepoConfig()):
        raise ModelUnavailable("HTTP 529 after 5 attempts")
    issue = bed.person().get_issue(goal)
    bodies = [c.body for c in issue.get_comments()]
    assert len(bodies) == 2
    assert "The planner could not produce a valid plan." in bodies[0] and "the last plan had a cycle" in bodies[0]
    assert "stayed unavailable" in bodies[1] and "HTTP 529" in bodies[1]
    assert {label.name for label in issue.labels} == {"orchestra:goal", "orchestra:needs-human"}
