"""The worker tests' `bed`: the shared worker test bed of tests/support/worker_bed.py."""

from tests.support.worker_bed import bed as bed
