"""The planner tests' `bed`: the shared planner test bed of tests/support/planner_bed.py."""

from tests.support.planner_bed import bed as bed
