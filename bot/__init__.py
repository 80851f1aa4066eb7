"""The platform-neutral core of Circlebot.

Commands and clock ticks go in, effects come out, all plain frozen data. Nothing
in this package does I/O, touches a platform SDK or reads the wall clock: the
current time always arrives as an argument.
"""
