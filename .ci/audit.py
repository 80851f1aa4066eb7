"""Audit the installed dependencies for known vulnerabilities with pip-audit (PyPI's vulnerability data).

Usage: ``.venv/bin/python .ci/audit.py`` (``.ci/run`` does it). Exit status:

* 1: a dependency has a known vulnerability (each is printed with the versions that fix it);
* 1: the audit could not be done and ``CIRCLEBOT_AUDIT=required`` is set (CI with network access);
* 0: nothing known, or the vulnerability service could not be reached (offline CI): then a
  warning says plainly that the dependencies were NOT audited, and how many.

pip-audit asks PyPI about each installed version; a package PyPI does not answer for
(offline, a mirror without it, or not published there) is skipped, not failed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

COMMAND = [sys.executable, "-m", "pip_audit", "--local", "--skip-editable", "--format", "json",
           "--progress-spinner", "off"]


def verdict(report: dict | None, required: bool) -> tuple[int, str]:
    """The exit status and what to print, from pip-audit's JSON report (None: it failed before reporting)."""
    if report is None:
        return (1 if required else 0), "WARNING: dependencies NOT audited: pip-audit could not reach its vulnerability service."
    found = [d for d in report.get("dependencies", []) if d.get("vulns")]
    skipped = [d for d in report.get("dependencies", []) if d.get("skip_reason")]
    audited = len(report.get("dependencies", [])) - len(skipped)
    if found:
        lines = [f"{d['name']} {d['version']}: {v['id']} (fixed in {', '.join(v.get('fix_versions') or ['no release yet'])})"
                 for d in found for v in d["vulns"]]
        return 1, "Known vulnerabilities in installed dependencies:\n" + "\n".join(lines)
    if skipped and not audited:
        return (1 if required else 0), (f"WARNING: dependencies NOT audited: PyPI answered for none of the "
                                        f"{len(skipped)} installed packages (offline, or a mirror).")
    note = f" ({len(skipped)} not found on PyPI, not audited)" if skipped else ""
    return 0, f"No known vulnerabilities in {audited} audited dependencies{note}."


def main() -> int:
    run = subprocess.run(COMMAND, capture_output=True, text=True, timeout=600)
    try:
        report = json.loads(run.stdout)
    except json.JSONDecodeError:
        report = None
        print(run.stderr.strip().splitlines()[-1] if run.stderr.strip() else "pip-audit printed nothing", file=sys.stderr)
    status, message = verdict(report, os.environ.get("CIRCLEBOT_AUDIT") == "required")
    print(message, file=sys.stderr if status else sys.stdout)
    return status


if __name__ == "__main__":
    sys.exit(main())
