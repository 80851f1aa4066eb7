"""Configuration from the environment (and a ``.env`` file), validated at start."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


def _named(name: str, description: str, default: object = None):
    """A setting under the platform's own name (``SLACK_BOT_TOKEN``, ``DISCORD_TOKEN``), with ``CIRCLEBOT_<name>`` as an alias."""
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
    tick_process: bool | None = Field(
        None, description="`circlebot run` ticks circles in a second process of its own, so a fan-out's ticks do not "
        "take the interpreter's turns from commands and sending (never for an in-memory database). Unset: when this "
        "process may use two CPUs or more.",
    )
    support_resources: list[str] = Field(
        default_factory=list,
        description='The workplace\'s own support lines, shown first to anyone who says they are struggling '
        '(a JSON list, e.g. ["Our assistance programme: call 0800 ..."]).',
    )
    log_level: str = Field("INFO", description="Python logging level.")
    log_format: Literal["json", "text"] | None = Field(
        None, description="json: one JSON object a line (the default for `circlebot run`); text: readable lines."
    )
    slack_bot_token: SecretStr | None = _named("SLACK_BOT_TOKEN", "Bot token (xoxb-...) of a single-workspace install.")
    slack_signing_secret: SecretStr | None = _named("SLACK_SIGNING_SECRET", "Verifies that requests come from Slack.")
    slack_client_id: str | None = _named("SLACK_CLIENT_ID", "OAuth v2 client id, to install in many workspaces.")
    slack_client_secret: SecretStr | None = _named("SLACK_CLIENT_SECRET", "OAuth v2 client secret.")
    slack_app_token: SecretStr | None = _named("SLACK_APP_TOKEN", "App-level token (xapp-...): Socket Mode instead of HTTP.")
    slack_api_url: str = _named("SLACK_API_URL", "Slack Web API base URL (a local fake or a proxy).", "https://slack.com/api/")
    slack_community_channel: str | None = _named(
        "SLACK_COMMUNITY_CHANNEL", "Channel id where approved stories are posted (the bot must be a member)."
    )
    public_url: str | None = Field(
        None,
        description="Where people reach this bot over HTTPS (e.g. https://circlebot.example.com); with it, "
        "`/circle calendar` gives each member a private calendar subscription address under it.",
    )
    port: int = Field(3000, validation_alias=AliasChoices("PORT", "CIRCLEBOT_PORT"), description="HTTP port for Slack.")
    secret_key: SecretStr | None = Field(
        None, description="Any string of 16+ characters; the key that encrypts stored tokens is derived from it."
    )  # its length is checked with the rest, by `circlebot config check` and `run` (circlebot.config_check)
    discord_token: SecretStr | None = _named(
        "DISCORD_TOKEN", "Discord bot token; when set, `circlebot run` starts the Discord adapter."
    )
    discord_api_url: str | None = _named(
        "DISCORD_API_URL", "Discord's REST base including the version (default https://discord.com/api/v10); for local fakes."
    )
    discord_gateway_url: str | None = _named(
        "DISCORD_GATEWAY_URL", "The gateway websocket URL (default: the one Discord names); for local fakes."
    )
    discord_guild_id: int | None = _named(
        "DISCORD_GUILD_ID", "Development: sync /circle to this guild at start-up, when it changed."
    )
    discord_channel_id: int | None = Field(
        None, description="The channel where circle threads are opened (default: where the circle was formed)."
    )
    discord_community_channel_id: int | None = Field(
        None, description="Where approved stories are posted (default: the channel holding the circle's thread)."
    )
    discord_shard_ids: list[int] | None = Field(
        None, description="The shards this process runs (a JSON list, with discord_shard_count); default: all."
    )
    discord_shard_count: int | None = Field(None, ge=1, description="The total number of shards, with discord_shard_ids.")

    @property
    def grace(self) -> timedelta:
        return timedelta(hours=self.grace_hours)
