"""Scale benchmarks; run from the repository root, e.g. ``python -m bench.fanout`` (see README.md).

The shared settings live here, importing nothing heavy, so that ``bench.fanout``
can read them before it measures the bot's start-up (imports included).
"""

import re
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote

DEFAULT_DB = f"sqlite:///{Path(tempfile.gettempdir()) / 'circlebot-bench.db'}"
#: A schema of its own, so a run neither touches nor blocks the test suite's.
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/test?options=-csearch_path%3Dcirclebot_bench"
DEFAULT_CIRCLES = 35_000
#: When every seeded circle's next exercise comes due: 48 h before its meeting on Tue 8 Dec 17:00 London.
DUE = datetime(2026, 12, 6, 17, 0, tzinfo=UTC)


def schema_of(url: str) -> str | None:
    """The schema a PostgreSQL URL names in ``search_path`` (the benchmark's own), if any."""
    found = re.search(r"search_path(?:=|%3D)([A-Za-z_][A-Za-z0-9_]*)", unquote(url))
    return found.group(1) if found else None
