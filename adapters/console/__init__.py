"""A terminal chat that drives the real core, storage and scheduler path with a simulated clock."""
