"""The security suite: nobody reaches what is not theirs, and every refusal changes nothing.

Run it alone with ``python -m pytest -q tests/security``; the default ``pytest -q`` runs it too.
Each test drives a real seam (the command service, the Slack HTTP endpoint, the Discord
client against the fake Discord) and compares every stored row before and after.
"""
