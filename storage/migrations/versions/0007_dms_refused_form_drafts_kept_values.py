"""people.dms_refused, form_drafts and kept_values: what the Discord adapter kept in memory, kept here

* ``people.dms_refused``: the platform refused a direct message to this person
  (they closed their DMs); they are told in their circle's space the next time
  they act, and the flag is cleared.
* ``form_drafts``: a form longer than one Discord modal, page by page: the form and
  the answers so far, until its last page comes back (from any process, after any restart).
* ``kept_values``: small values an adapter keeps between runs and shares between
  replicas (the channel a moderator formed their circle in, the hash of the last
  command sync).

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.add_column(sa.Column("dms_refused", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_table(
        "form_drafts",
        sa.Column("user_key", sa.String(160), primary_key=True),
        sa.Column("action", sa.String(100), primary_key=True),
        sa.Column("form", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("answers", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    )
    op.create_index(op.f("ix_form_drafts_updated_at"), "form_drafts", ["updated_at"])
    op.create_table(
        "kept_values",
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("value", sa.String(500), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("kept_values")
    op.drop_index("ix_form_drafts_updated_at", table_name="form_drafts")
    op.drop_table("form_drafts")
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.drop_column("dms_refused")
