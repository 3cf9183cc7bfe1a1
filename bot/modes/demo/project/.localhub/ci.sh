#!/usr/bin/env bash
# CI: the whole test suite (every module, including the docstring checks in tests/test_modules.py).
set -euo pipefail
python3 -m unittest discover -s tests -t . -v
