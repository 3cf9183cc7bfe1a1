"""`bed` for the ledger tests that need a forge and a runtime: the planner test bed (tests/support/planner_bed.py)."""

from tests.support.planner_bed import bed as bed
