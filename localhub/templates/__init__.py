"""Jinja2 templates of the human-readable pages (a package so that they ship with localhub)."""
