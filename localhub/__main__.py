"""`python -m localhub serve|import ...`."""

import sys

from localhub.cli import main

sys.exit(main())
