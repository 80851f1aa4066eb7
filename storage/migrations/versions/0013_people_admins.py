"""people.is_admin: whom a report reaches besides the circle's moderators

The platforms keep no list of a workspace's admins the bot could ask, so each
person's admin flag is kept as the platform last described them; a partial
index holds only the admins.

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.add_column(sa.Column("is_admin", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_index("ix_people_admins", "people", ["user_key"], postgresql_where=sa.text("is_admin"),
                    sqlite_where=sa.text("is_admin"))


def downgrade() -> None:
    op.drop_index("ix_people_admins", table_name="people")
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.drop_column("is_admin")
