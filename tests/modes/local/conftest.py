"""The local-mode tests' `scripted_models`: the shared local-mode test bed of tests/support/local_bed.py."""

from tests.support.local_bed import scripted_models as scripted_models
