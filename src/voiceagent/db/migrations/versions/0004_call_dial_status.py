"""A transferred call keeps its own leg's result, from Twilio's `<Dial action>` callback.

Both columns are empty for calls made before: their transfers' results were never recorded.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("calls") as batch:
        batch.add_column(sa.Column("dial_status", sa.String(16), nullable=True))
        batch.add_column(sa.Column("dial_duration_seconds", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("calls") as batch:
        batch.drop_column("dial_duration_seconds")
        batch.drop_column("dial_status")
