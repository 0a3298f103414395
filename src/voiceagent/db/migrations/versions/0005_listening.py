"""What the agent heard: each caller message's act, and on the call the qualifying answers, the
callback time the caller asked for, the meeting time a yes named, and where a follow-up email goes.

Calls made before have no answers (an empty mapping) and no callback or follow-up; their caller
messages have no act.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("calls") as batch:
        batch.add_column(
            sa.Column("answers", sa.JSON(), nullable=False, server_default=sa.text("'{}'"))
        )
        batch.add_column(sa.Column("callback_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("callback_note", sa.String(120), nullable=True))
        batch.add_column(sa.Column("follow_up_to", sa.String(254), nullable=True))
        batch.add_column(sa.Column("meeting_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("meeting_note", sa.String(120), nullable=True))
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("act", sa.String(32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("act")
    with op.batch_alter_table("calls") as batch:
        batch.drop_column("meeting_note")
        batch.drop_column("meeting_at")
        batch.drop_column("follow_up_to")
        batch.drop_column("callback_note")
        batch.drop_column("callback_at")
        batch.drop_column("answers")
