"""Where OAuth installs are kept: slack_sdk's SQLAlchemy stores in our database, tokens encrypted at rest.

The encryption key is derived from ``CIRCLEBOT_SECRET_KEY`` (HKDF-SHA256), so the
operator keeps one secret string and the database alone never yields a token.
"""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from slack_sdk.oauth.installation_store.sqlalchemy import AsyncSQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import AsyncSQLAlchemyOAuthStateStore
from sqlalchemy import Text, TypeDecorator
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from storage.database import normalise_url

TOKEN_COLUMNS = ("bot_token", "bot_refresh_token", "user_token", "user_refresh_token")
STATE_LIFETIME = 600  # seconds an install link stays valid


def fernet_from(secret: str) -> Fernet:
    """A Fernet key derived from any secret string of 16 characters or more."""
    if len(secret) < 16:
        raise ValueError("CIRCLEBOT_SECRET_KEY must have at least 16 characters")
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"circlebot slack tokens").derive(secret.encode())
    return Fernet(base64.urlsafe_b64encode(key))


class Encrypted(TypeDecorator):
    """A text column whose values are Fernet-encrypted on the way in and decrypted on the way out."""

    impl = Text
    cache_ok = True

    def __init__(self, fernet: Fernet):
        super().__init__()
        self.fernet = fernet

    def process_bind_param(self, value, dialect):
        return None if value is None else self.fernet.encrypt(value.encode()).decode()

    def process_result_value(self, value, dialect):
        return None if value is None else self.fernet.decrypt(value.encode()).decode()


class EncryptedInstallationStore(AsyncSQLAlchemyInstallationStore):
    """slack_sdk's store whose token columns are encrypted, whichever of its methods reads or writes them."""

    def __init__(self, client_id: str, engine: AsyncEngine, fernet: Fernet):
        super().__init__(client_id, engine)
        for table in (self.bots, self.installations):
            for name in TOKEN_COLUMNS:
                if name in table.c:
                    table.c[name].type = Encrypted(fernet)


def async_engine(url: str) -> AsyncEngine:
    """An async engine on the same database as ``DATABASE_URL`` (aiosqlite or psycopg's async mode)."""
    url = normalise_url(url)
    if url.startswith("sqlite://"):
        url = "sqlite+aiosqlite://" + url[len("sqlite://"):]
    return create_async_engine(url)


async def open_stores(
    url: str, client_id: str, secret_key: str
) -> tuple[EncryptedInstallationStore, AsyncSQLAlchemyOAuthStateStore]:
    """The installation and OAuth state stores, their tables created if missing."""
    engine = async_engine(url)
    installations = EncryptedInstallationStore(client_id, engine, fernet_from(secret_key))
    states = AsyncSQLAlchemyOAuthStateStore(STATE_LIFETIME, engine)
    await installations.create_tables()
    await states.create_tables()
    return installations, states
