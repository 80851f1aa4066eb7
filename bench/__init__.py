"""Scale benchmarks; run from the repository root, e.g. ``python -m bench.fanout`` (see README.md).

The shared settings live here, importing nothing heavy, so that ``bench.fanout``
can read them before it measures the bot's start-up (imports included).
"""

import tempfile
from datetime import UTC, datetime
from pathlib import Path

DEFAULT_DB = f"sqlite:///{Path(tempfile.gettempdir()) / 'circlebot-bench.db'}"
DEFAULT_CIRCLES = 35_000
#: When every seeded circle's week-1 exercise comes due: 48 h before its first meeting, Tue 8 Dec 17:00 London.
DUE = datetime(2026, 12, 6, 17, 0, tzinfo=UTC)
