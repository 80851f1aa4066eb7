"""Configuration from the environment (and a ``.env`` file), validated at start."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


def _slack(name: str, description: str, default: str | None = None):
    """A Slack setting under Slack's own name, with ``CIRCLEBOT_<name>`` as an alias."""
    return Field(default, validation_alias=AliasChoices(name, f"CIRCLEBOT_{name}"), description=description)


class Settings(BaseSettings):
    """Every setting has a working default, so the console runs with none set.

    Names are ``CIRCLEBOT_<FIELD>``; the database also reads plain ``DATABASE_URL``.
    """

    model_config = SettingsConfigDict(env_prefix="CIRCLEBOT_", env_file=".env", extra="ignore")

    database_url: str = Field(
        "sqlite:///circlebot.db",
        validation_alias=AliasChoices("DATABASE_URL", "CIRCLEBOT_DATABASE_URL"),
        description="SQLAlchemy URL; SQLite file by default, postgresql://... for several replicas.",
    )
    kits_dir: Path | None = Field(None, description="A folder of extra kit YAML files, loaded beside the built-in kits.")
    grace_hours: float = Field(6, ge=0, le=72, description="How late an occurrence may still be sent after downtime.")
    locale: str = Field("en", description="Language of the bot's messages.")
    support_resources: list[str] = Field(
        default_factory=list,
        description='The workplace\'s own support lines, shown first to anyone who says they are struggling '
        '(a JSON list, e.g. ["Our assistance programme: call 0800 ..."]).',
    )
    log_level: str = Field("INFO", description="Python logging level.")
    slack_bot_token: SecretStr | None = _slack("SLACK_BOT_TOKEN", "Bot token (xoxb-...) of a single-workspace install.")
    slack_signing_secret: SecretStr | None = _slack("SLACK_SIGNING_SECRET", "Verifies that requests come from Slack.")
    slack_client_id: str | None = _slack("SLACK_CLIENT_ID", "OAuth v2 client id, to install in many workspaces.")
    slack_client_secret: SecretStr | None = _slack("SLACK_CLIENT_SECRET", "OAuth v2 client secret.")
    slack_app_token: SecretStr | None = _slack("SLACK_APP_TOKEN", "App-level token (xapp-...): Socket Mode instead of HTTP.")
    slack_api_url: str = _slack("SLACK_API_URL", "Slack Web API base URL (a local fake or a proxy).", "https://slack.com/api/")
    slack_community_channel: str | None = _slack(
        "SLACK_COMMUNITY_CHANNEL", "Channel id where approved stories are posted (the bot must be a member)."
    )
    port: int = Field(3000, validation_alias=AliasChoices("PORT", "CIRCLEBOT_PORT"), description="HTTP port for Slack.")
    secret_key: SecretStr | None = Field(
        None, min_length=16, description="Any string of 16+ characters; the key that encrypts stored tokens is derived from it."
    )
    discord_token: SecretStr | None = Field(None, description="Discord bot token.")

    @property
    def grace(self) -> timedelta:
        return timedelta(hours=self.grace_hours)
