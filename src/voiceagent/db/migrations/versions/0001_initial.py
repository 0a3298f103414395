"""The initial schema: calls, turns, messages, transitions, dnc.

Written by hand, not generated, so that each constraint and index has the name the naming
convention in `db/tables.py` gives it: later migrations alter them by name on both backends.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _at(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _call_id(table: str) -> sa.Column[object]:
    return sa.Column(
        "call_id",
        sa.String(36),
        sa.ForeignKey("calls.id", ondelete="CASCADE", name=f"fk_{table}_call_id_calls"),
        nullable=False,
    )


def upgrade() -> None:
    op.create_table(
        "calls",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("phone", sa.String(20), nullable=False),
        sa.Column("lead", sa.JSON(), nullable=False),
        sa.Column("telephony", sa.String(16), nullable=False),
        sa.Column("is_test", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("state", sa.String(8), nullable=False),
        sa.Column("end_reason", sa.String(32), nullable=True),
        sa.Column("outcome", sa.String(16), nullable=True),
        sa.Column("twilio_sid", sa.String(64), nullable=True),
        sa.Column("idempotency_key", sa.String(200), nullable=True),
        sa.Column("progress", sa.JSON(), nullable=False),
        sa.Column("status_sequence", sa.Integer(), nullable=False),
        sa.Column("duration_seconds", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        _at("created_at"),
        _at("answered_at", nullable=True),
        _at("ended_at", nullable=True),
        _at("updated_at"),
        sa.PrimaryKeyConstraint("id", name="pk_calls"),
        sa.UniqueConstraint("twilio_sid", name="uq_calls_twilio_sid"),
        sa.UniqueConstraint("idempotency_key", name="uq_calls_idempotency_key"),
    )
    op.create_index("ix_calls_phone", "calls", ["phone"])
    op.create_index("ix_calls_status", "calls", ["status"])
    op.create_index("ix_calls_created_at", "calls", ["created_at"])

    op.create_table(
        "turns",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        _call_id("turns"),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("twiml", sa.Text(), nullable=False),
        _at("created_at"),
        _at("ready_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_turns"),
        sa.UniqueConstraint("call_id", "number", name="uq_turn_call_number"),
    )

    op.create_table(
        "messages",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        _call_id("messages"),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(8), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("state", sa.String(8), nullable=False),
        sa.Column("intent", sa.String(16), nullable=True),
        sa.Column("latency_ms", sa.Float(), nullable=True),
        sa.Column("stages", sa.JSON(), nullable=False),
        sa.Column("audio_id", sa.String(40), nullable=True),
        _at("created_at"),
        sa.PrimaryKeyConstraint("id", name="pk_messages"),
        sa.UniqueConstraint("call_id", "seq", name="uq_message_call_seq"),
        sa.UniqueConstraint("audio_id", name="uq_messages_audio_id"),
    )
    op.create_index("ix_messages_call_id", "messages", ["call_id"])

    op.create_table(
        "transitions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        _call_id("transitions"),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("from_state", sa.String(8), nullable=False),
        sa.Column("to_state", sa.String(8), nullable=False),
        sa.Column("intent", sa.String(16), nullable=True),
        _at("at"),
        sa.PrimaryKeyConstraint("id", name="pk_transitions"),
        sa.UniqueConstraint("call_id", "seq", name="uq_transition_call_seq"),
    )
    op.create_index("ix_transitions_call_id", "transitions", ["call_id"])

    op.create_table(
        "dnc",
        sa.Column("phone", sa.String(20), nullable=False),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("call_id", sa.String(36), nullable=True),
        _at("created_at"),
        sa.PrimaryKeyConstraint("phone", name="pk_dnc"),
    )


def downgrade() -> None:
    op.drop_table("dnc")
    op.drop_index("ix_transitions_call_id", table_name="transitions")
    op.drop_table("transitions")
    op.drop_index("ix_messages_call_id", table_name="messages")
    op.drop_table("messages")
    op.drop_table("turns")
    op.drop_index("ix_calls_created_at", table_name="calls")
    op.drop_index("ix_calls_status", table_name="calls")
    op.drop_index("ix_calls_phone", table_name="calls")
    op.drop_table("calls")
