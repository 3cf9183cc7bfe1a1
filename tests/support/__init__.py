"""Shared test fixtures: one fake of each outside thing (see docs/testing.md)."""
