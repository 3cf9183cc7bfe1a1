"""Scenarios on real projects nobody here wrote: a vendored project plus a scripted model that plays every role on it."""
