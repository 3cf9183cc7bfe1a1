"""Scenarios on real projects nobody here wrote: a vendored project and a scripted model playing every role on it."""
