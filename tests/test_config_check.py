"""``circlebot config check``: what is set (secrets masked), what is missing, exit codes.

``circlebot run`` refuses an unusable configuration in the same words.
"""

from __future__ import annotations

import os

import pytest

from circlebot.cli import main
from circlebot.config import Settings
from circlebot.config_check import mask, problems

TOKEN = "xoxb-1111-2222-secrettoken-9876"
SIGNING = "signing-secret-abcdef-4321"
DISCORD = "discord-token-123456"
SECRETS = {"SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_CLIENT_SECRET", "DISCORD_TOKEN"}


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch, tmp_path):
    """No setting from the machine or a .env file; the default SQLite file goes in a temporary folder."""
    for name in list(os.environ):
        if name.startswith(("SLACK_", "DISCORD_", "CIRCLEBOT_")) or name in ("DATABASE_URL", "PORT"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/check.db")


def check(capsys) -> tuple[int, str, str]:
    code = main(["config", "check"])
    out, err = capsys.readouterr()
    return code, out, err


def test_a_usable_slack_configuration_passes_with_its_secrets_masked(monkeypatch, capsys):
    monkeypatch.setenv("SLACK_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("SLACK_SIGNING_SECRET", SIGNING)
    code, out, err = check(capsys)
    assert code == 0, err
    assert TOKEN not in out + err and SIGNING not in out + err
    assert "****9876" in out and "****4321" in out
    assert "Slack, one workspace: ready" in out
    assert "Discord, bot: missing DISCORD_TOKEN" in out
    assert "Database: reachable" in out


@pytest.mark.parametrize(("env", "words"), [
    ({"SLACK_BOT_TOKEN": TOKEN}, "SLACK_SIGNING_SECRET is missing"),
    ({"SLACK_CLIENT_ID": "1.2", "SLACK_CLIENT_SECRET": "client-secret-xyz", "SLACK_SIGNING_SECRET": SIGNING},
     "CIRCLEBOT_SECRET_KEY is missing"),
    ({"DISCORD_TOKEN": DISCORD, "CIRCLEBOT_SECRET_KEY": "short"}, "CIRCLEBOT_SECRET_KEY has fewer than 16 characters"),
    ({"DISCORD_TOKEN": DISCORD, "DATABASE_URL": "not a url"}, "DATABASE_URL is not a database URL"),
    ({"DISCORD_TOKEN": DISCORD, "DATABASE_URL": "mysql://db/circles"}, "DATABASE_URL is not a database URL"),
    ({}, "No chat platform is configured"),
])
def test_an_unusable_configuration_fails_check_and_run_in_the_same_words(monkeypatch, capsys, env, words):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    code, out, err = check(capsys)
    assert code == 1 and words in err
    assert main(["run"]) == 2
    _, refused = capsys.readouterr()
    assert words in refused
    assert refused.strip() == "\n".join(problems(Settings())).strip()  # one function says it for both
    for name, value in env.items():
        if name in SECRETS:
            assert value not in out + err + refused


def test_an_unreachable_database_fails_without_showing_its_password(monkeypatch, capsys):
    monkeypatch.setenv("DISCORD_TOKEN", "discord-token-123456")
    monkeypatch.setenv("DATABASE_URL", "postgresql://circlebot:hunter2secret@127.0.0.1:1/circlebot")
    code, out, err = check(capsys)
    assert code == 1
    assert "does not answer" in err and "hunter2secret" not in out + err
    assert "postgresql://circlebot:****@127.0.0.1:1/circlebot" in out


def test_a_setting_that_cannot_be_read_is_named_not_shown(monkeypatch, capsys):
    monkeypatch.setenv("PORT", "eighty")
    monkeypatch.setenv("CIRCLEBOT_GRACE_HOURS", "1000")
    assert main(["config", "check"]) == 2
    err = capsys.readouterr().err
    assert "PORT:" in err and "CIRCLEBOT_GRACE_HOURS:" in err and "eighty" not in err and "Traceback" not in err


def test_short_secrets_show_nothing_of_themselves():
    assert mask("xoxb-1234-5678-abcd") == "****abcd"
    assert mask("short-one") == "set (hidden)"
