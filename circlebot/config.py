"""Configuration from the environment (and a ``.env`` file), validated at start."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


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
    slack_bot_token: SecretStr | None = Field(None, description="Slack bot token (xoxb-...).")
    slack_signing_secret: SecretStr | None = Field(None, description="Slack signing secret.")
    slack_app_token: SecretStr | None = Field(None, description="Slack app-level token for Socket Mode (xapp-...).")
    discord_token: SecretStr | None = Field(None, description="Discord bot token.")

    @property
    def grace(self) -> timedelta:
        return timedelta(hours=self.grace_hours)
