"""Do-not-call entries as a feature: an operator's note, a known source, listed by time.

Every entry says where it came from (`caller_request` with its call id, `import`, `operator`);
the check constraint keeps it that way. An entry from before this revision with some other
source is kept — it is never dropped — as `operator`, its old source written into the note.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

SOURCES = ("caller_request", "import", "operator")
KNOWN = "source IN ('caller_request', 'import', 'operator')"


def upgrade() -> None:
    with op.batch_alter_table("dnc") as batch:
        batch.add_column(sa.Column("note", sa.Text(), nullable=True))
    dnc = sa.table("dnc", sa.column("source", sa.String), sa.column("note", sa.Text))
    op.execute(
        dnc.update()
        .where(dnc.c.source.not_in(SOURCES))
        .values(note=sa.literal("source before 0002: ") + dnc.c.source, source="operator")
    )
    with op.batch_alter_table("dnc") as batch:
        batch.create_check_constraint("ck_dnc_source", KNOWN)
    op.create_index("ix_dnc_created_at", "dnc", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_dnc_created_at", table_name="dnc")
    with op.batch_alter_table("dnc") as batch:
        batch.drop_constraint("ck_dnc_source", type_="check")
        batch.drop_column("note")
