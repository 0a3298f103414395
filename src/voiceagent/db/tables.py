"""ORM tables. API schemas live in `web/schemas.py`; the two families never mix."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from voiceagent.text import utf8_safe_json


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC on every backend (SQLite stores naive datetimes)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime: store UTC-aware datetimes only")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


class Utf8JSON(TypeDecorator[Any]):
    """JSON whose strings UTF-8 can encode, written and read back: a lone surrogate that an
    older version stored in a lead reads as U+FFFD rather than failing every page and turn."""

    impl = JSON
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        return utf8_safe_json(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        return utf8_safe_json(value)


# Explicit, predictable constraint names: migrations (db/migrations/) refer to them by name.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
DNC_SOURCES = ("caller_request", "import", "operator")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        dict[str, Any]: Utf8JSON,
        datetime: UTCDateTime,
    }


class CallRow(Base):
    __tablename__ = "calls"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    phone: Mapped[str] = mapped_column(String(20), index=True)
    lead: Mapped[dict[str, Any]] = mapped_column(default=dict)
    telephony: Mapped[str] = mapped_column(String(16))  # twilio | simulated
    is_test: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), index=True)
    state: Mapped[str] = mapped_column(String(8))
    end_reason: Mapped[str | None] = mapped_column(String(32), default=None)
    outcome: Mapped[str | None] = mapped_column(String(16), default=None)
    twilio_sid: Mapped[str | None] = mapped_column(String(64), unique=True, default=None)
    idempotency_key: Mapped[str | None] = mapped_column(String(200), unique=True, default=None)
    progress: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status_sequence: Mapped[int] = mapped_column(Integer, default=-1)
    duration_seconds: Mapped[int | None] = mapped_column(Integer, default=None)
    error: Mapped[str | None] = mapped_column(Text, default=None)
    # The transfer's own leg, from Twilio's <Dial action>: completed, busy, no-answer, failed.
    dial_status: Mapped[str | None] = mapped_column(String(16), default=None)
    dial_duration_seconds: Mapped[int | None] = mapped_column(Integer, default=None)
    # The qualifying answers by the script's field names: {"employees": 40, "payroll_tool": ...}.
    answers: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # A callback the caller asked for: when (UTC), and the time as the agent repeated it back.
    callback_at: Mapped[datetime | None] = mapped_column(default=None)
    callback_note: Mapped[str | None] = mapped_column(String(120), default=None)
    follow_up_to: Mapped[str | None] = mapped_column(String(254), default=None)  # email address
    # The meeting time a yes named ("Thursday afternoon works"), and as it was said back.
    meeting_at: Mapped[datetime | None] = mapped_column(default=None)
    meeting_note: Mapped[str | None] = mapped_column(String(120), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    answered_at: Mapped[datetime | None] = mapped_column(default=None)
    ended_at: Mapped[datetime | None] = mapped_column(default=None)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    messages: Mapped[list[MessageRow]] = relationship(
        order_by="MessageRow.seq", cascade="all, delete-orphan", lazy="raise"
    )
    transitions: Mapped[list[TransitionRow]] = relationship(
        order_by="TransitionRow.seq", cascade="all, delete-orphan", lazy="raise"
    )


class TurnRow(Base):
    """One answered webhook. The unique (call_id, number) makes a retried webhook a replay."""

    __tablename__ = "turns"
    __table_args__ = (UniqueConstraint("call_id", "number", name="uq_turn_call_number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    call_id: Mapped[str] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    # pending: the funnel has decided and stored the turn, its line is still being written;
    # ready: `twiml` is the answer, replayed to every retry or redirect of this turn.
    status: Mapped[str] = mapped_column(String(8), default="ready")
    twiml: Mapped[str] = mapped_column(Text, default="")
    # What the funnel decided (lines to say, what follows): any instance can write the line.
    plan: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    ready_at: Mapped[datetime | None] = mapped_column(default=None)


class MessageRow(Base):
    __tablename__ = "messages"
    __table_args__ = (UniqueConstraint("call_id", "seq", name="uq_message_call_seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    call_id: Mapped[str] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    role: Mapped[str] = mapped_column(String(8))  # agent | caller
    text: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(8))
    intent: Mapped[str | None] = mapped_column(String(16), default=None)
    act: Mapped[str | None] = mapped_column(String(32), default=None)  # caller messages only
    latency_ms: Mapped[float | None] = mapped_column(Float, default=None)
    stages: Mapped[dict[str, Any]] = mapped_column(default=dict)  # per-stage latency in ms
    # The unguessable id in the <Play> URL of this line's audio (Twilio fetches it unsigned).
    audio_id: Mapped[str | None] = mapped_column(String(40), unique=True, default=None)
    # The caller spoke over this line (relay): `text` is what was heard before it was cut.
    interrupted: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class TransitionRow(Base):
    __tablename__ = "transitions"
    __table_args__ = (UniqueConstraint("call_id", "seq", name="uq_transition_call_seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    call_id: Mapped[str] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    from_state: Mapped[str] = mapped_column(String(8))
    to_state: Mapped[str] = mapped_column(String(8))
    intent: Mapped[str | None] = mapped_column(String(16), default=None)
    at: Mapped[datetime] = mapped_column(default=utcnow)


class DncRow(Base):
    """A number never to dial again. Kept forever: retention never purges it."""

    __tablename__ = "dnc"
    __table_args__ = (CheckConstraint(f"source IN {DNC_SOURCES!r}", name="source"),)

    phone: Mapped[str] = mapped_column(String(20), primary_key=True)
    source: Mapped[str] = mapped_column(String(32))  # one of DNC_SOURCES
    call_id: Mapped[str | None] = mapped_column(String(36), default=None)
    note: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class RevokedSessionRow(Base):
    """A dashboard session logged out before its cookie expired: refused by every instance."""

    __tablename__ = "revoked_sessions"

    session_id: Mapped[str] = mapped_column(String(43), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(index=True)  # forgotten once past
