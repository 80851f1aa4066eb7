"""The dependency audit CI runs (``.ci/audit.py``): a known vulnerability fails it; an audit that could not reach
PyPI says so plainly and fails only where the audit is required (``CIRCLEBOT_AUDIT=required``)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / ".ci" / "audit.py"


@pytest.fixture(scope="module")
def audit():
    spec = importlib.util.spec_from_file_location("ci_audit", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_known_vulnerability_fails_and_names_the_fix(audit):
    report = {"dependencies": [
        {"name": "aiohttp", "version": "3.9.0", "vulns": [{"id": "PYSEC-2024-24", "fix_versions": ["3.9.2"]}]},
        {"name": "yarl", "version": "1.9.4", "vulns": []},
    ]}
    status, message = audit.verdict(report, required=False)
    assert status == 1 and "aiohttp 3.9.0: PYSEC-2024-24 (fixed in 3.9.2)" in message


def test_nothing_known_passes_and_says_what_was_not_audited(audit):
    report = {"dependencies": [{"name": "yarl", "version": "1.9.4", "vulns": []},
                               {"name": "private", "skip_reason": "Dependency not found on PyPI"}]}
    assert audit.verdict(report, required=True) == (
        0, "No known vulnerabilities in 1 audited dependencies (1 not found on PyPI, not audited).")


@pytest.mark.parametrize("report", [None, {"dependencies": [{"name": "yarl", "skip_reason": "not found"}]}])
def test_an_audit_that_reached_nothing_warns_offline_and_fails_where_required(audit, report):
    offline, warning = audit.verdict(report, required=False)
    assert offline == 0 and warning.startswith("WARNING: dependencies NOT audited")
    assert audit.verdict(report, required=True)[0] == 1
