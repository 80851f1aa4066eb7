"""Where the platforms' official specs live: ``shared/specs`` beside the repository.

CI clones the repository with ``shared/`` next to it; a developer's worktree may
sit deeper, so every ancestor's ``shared/specs`` is tried, nearest first.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def spec_path(relative: str) -> Path:
    """The spec file ``relative`` to ``shared/specs``, e.g. ``slack/web_api_openapi_v2.json``.

    Outside CI a missing spec skips the test with the places looked at; under CI it fails.
    """
    tried = [parent / "shared" / "specs" / relative for parent in ROOT.parents]
    for path in tried:
        if path.is_file():
            return path
    problem = f"spec {relative} not found in shared/specs beside the repository (looked in {tried[0].parent.parent})"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(problem)
    pytest.skip(problem)
