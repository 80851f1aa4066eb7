"""Helpers for tests that read the core's decisions."""

from __future__ import annotations

from dataclasses import replace

from bot.engine import Decision
from bot.effects import RefreshHome


def without_home_refresh(decision: Decision) -> Decision:
    """The decision less the refresh of the speaker's own home view, which every change brings (see test_engine)."""
    return replace(decision, effects=tuple(e for e in decision.effects if not isinstance(e, RefreshHome)))
