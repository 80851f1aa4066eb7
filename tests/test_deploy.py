"""The image's recipe and the compose file, checked without a Docker engine (none runs here).

hadolint lints the Dockerfile; the compose file is read as YAML and held to what
the README promises: PostgreSQL with a health check, the schema migrated once,
two replicas that wait for both and report their health through ``/healthz``.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from circlebot.config import Settings
from circlebot.config_check import env_name

ROOT = Path(__file__).resolve().parents[1]


def dockerfile_stages() -> list[list[str]]:
    """The Dockerfile's instructions (continuations joined), split into its stages."""
    text = re.sub(r"\\\n\s*", " ", (ROOT / "Dockerfile").read_text(encoding="utf-8"))
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    stages: list[list[str]] = []
    for line in lines:
        if line.upper().startswith("FROM "):
            stages.append([])
        stages[-1].append(line)
    return stages


def hadolint() -> str:
    found = Path(sys.executable).with_name("hadolint")
    return str(found) if found.exists() else shutil.which("hadolint") or pytest.fail("hadolint is not installed (dev)")


def test_hadolint_passes_the_dockerfile():
    linted = subprocess.run([hadolint(), str(ROOT / "Dockerfile")], capture_output=True, text=True)
    assert linted.returncode == 0, linted.stdout + linted.stderr


def test_the_image_is_multi_stage_slim_non_root_with_a_healthcheck():
    build, runtime = dockerfile_stages()
    assert all("-slim" in stage[0] for stage in (build, runtime))
    assert not any(line.startswith(("COPY . ", "COPY tests", "COPY bench")) for line in runtime)
    (user,) = [line.split()[1] for line in runtime if line.startswith("USER ")]
    assert user not in ("0", "root")
    (check,) = [line for line in runtime if line.startswith("HEALTHCHECK ")]
    assert "/healthz" in check
    assert [line for line in runtime if line.startswith("CMD ")] == ['CMD ["run"]']


def test_the_image_installs_as_ci_does():
    """Same steps as .ci/run: a venv, pip upgraded in it, then the project (CI adds -e and the dev tools)."""
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    (install,) = [line for line in dockerfile_stages()[0] if line.startswith("RUN ") and "pip install" in line]
    steps = [step.strip() for step in install.removeprefix("RUN ").split("&&")]
    assert steps[0] == "python3 -m venv /opt/venv" and "python3 -m venv .venv" in ci
    assert steps[1].endswith("-m pip install --quiet --no-cache-dir --upgrade pip")
    assert ".venv/bin/python -m pip install --quiet --upgrade pip" in ci
    assert steps[2].endswith("-m pip install --quiet --no-cache-dir .") and 'pip install --quiet -e ".[dev]"' in ci
    assert ".venv/bin/hadolint Dockerfile" in ci


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))


def test_compose_runs_postgres_a_migration_and_two_healthy_replicas():
    services = compose()["services"]
    assert set(services) == {"db", "migrate", "bot"}
    db, migrate, bot = services["db"], services["migrate"], services["bot"]
    assert db["image"].startswith("postgres:") and "pg_isready" in " ".join(db["healthcheck"]["test"])
    assert any(volume.endswith(":/var/lib/postgresql/data") for volume in db["volumes"])
    assert migrate["command"] == ["db", "upgrade"] and migrate["depends_on"]["db"]["condition"] == "service_healthy"
    assert bot["deploy"]["replicas"] == 2 and bot["command"] == ["run"]
    assert bot["depends_on"] == {"db": {"condition": "service_healthy"},
                                 "migrate": {"condition": "service_completed_successfully"}}
    assert "/healthz" in " ".join(bot["healthcheck"]["test"])
    assert bot["image"] == migrate["image"] and bot["build"] == migrate["build"] == "."
    for service in (migrate, bot):
        assert service["env_file"] == ".env"
        assert re.fullmatch(r"postgresql://circlebot:\$\{POSTGRES_PASSWORD\}@db:5432/circlebot",
                            service["environment"]["DATABASE_URL"])


def test_every_setting_compose_and_the_example_name_is_one_circlebot_reads():
    known = {env_name(field) for field in Settings.model_fields} | {"POSTGRES_PASSWORD"}
    named = set(compose()["services"]["bot"]["environment"])
    example = (ROOT / ".env.example").read_text(encoding="utf-8")
    named |= set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", example, flags=re.MULTILINE))
    assert named - known == set()
    assert {"SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "DISCORD_TOKEN", "POSTGRES_PASSWORD"} <= named
