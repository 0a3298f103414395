"""What every call service needs, gathered once by the app factory."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from voiceagent.db.engine import Sessions
from voiceagent.observability import Metrics
from voiceagent.providers.base import LanguageModel, Providers
from voiceagent.providers.scripted import ScriptedLanguage
from voiceagent.script.model import SalesScript
from voiceagent.settings import Settings


class AudioLookup(Protocol):
    """Ready audio for sentences known in advance (the script's fixed lines), as WAV files."""

    def get(self, text: str) -> bytes | None: ...


@dataclass(frozen=True)
class Context:
    settings: Settings
    sessions: Sessions
    providers: Providers
    script: SalesScript
    metrics: Metrics
    log: Any
    fallback: ScriptedLanguage  # the script's own lines, when the language model fails
    audio_cache: AudioLookup | None = None
    hints: list[str] = field(default_factory=list)

    @property
    def language(self) -> LanguageModel:
        return self.providers.language

    def voice_url(self, call_id: str, turn: int) -> str:
        return f"{self.settings.public_base_url}/twilio/voice?call_id={call_id}&turn={turn}"

    def status_url(self, call_id: str) -> str:
        return f"{self.settings.public_base_url}/twilio/status?call_id={call_id}"

    def fallback_url(self, call_id: str) -> str:
        return f"{self.settings.public_base_url}/twilio/fallback?call_id={call_id}"

    def dial_url(self, call_id: str) -> str:
        return f"{self.settings.public_base_url}/twilio/dial?call_id={call_id}"

    def relay_url(self) -> str:
        """ConversationRelay's WebSocket: the public URL with https -> wss (http -> ws)."""
        base = self.settings.public_base_url
        scheme, rest = base.split("://", 1)
        return f"{'wss' if scheme == 'https' else 'ws'}://{rest}/twilio/relay"

    def relay_action_url(self, call_id: str) -> str:
        return f"{self.settings.public_base_url}/twilio/relay/action?call_id={call_id}"

    def audio_url(self, audio_id: str) -> str:
        return f"{self.settings.public_base_url}/audio/{audio_id}.wav"
