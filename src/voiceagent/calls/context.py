"""What every call service needs, gathered once by the app factory."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from voiceagent.db.engine import Sessions
from voiceagent.observability import Metrics
from voiceagent.providers.base import Providers
from voiceagent.providers.scripted import ScriptedLanguage
from voiceagent.script.model import SalesScript
from voiceagent.settings import Settings


@dataclass(frozen=True)
class Context:
    settings: Settings
    sessions: Sessions
    providers: Providers
    script: SalesScript
    metrics: Metrics
    log: Any
    fallback: ScriptedLanguage  # the script's own lines, when the language model fails

    def voice_url(self, call_id: str, turn: int) -> str:
        return f"{self.settings.public_base_url}/twilio/voice?call_id={call_id}&turn={turn}"

    def status_url(self, call_id: str) -> str:
        return f"{self.settings.public_base_url}/twilio/status?call_id={call_id}"
