"""Time at the edge: the clock, the outbox delivery loop, and APScheduler wiring.

Jobs carry only keys; firing one feeds a clock tick into the core through the
service, and the outbox delivers what the core decided, exactly once.
"""
