"""The one settings object. `get_settings()` is the only code that reads the environment."""

from __future__ import annotations

import ipaddress
import re
from datetime import time
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from voiceagent.errors import ConfigError
from voiceagent.phone import known_region

MIN_API_TOKEN = 32  # a guessable token is no lock: refused at start-up
_HOURS = re.compile(r"^(\d{2}):(\d{2})-(\d{2}):(\d{2})$")


class CallingHours:
    """The callee's local window for real calls; `any` turns the check off."""

    def __init__(self, start: time | None, end: time | None) -> None:
        self.start, self.end = start, end

    @classmethod
    def parse(cls, text: str) -> CallingHours:
        if text.strip().lower() == "any":
            return cls(None, None)
        match = _HOURS.match(text.strip())
        if not match:
            raise ValueError("expected HH:MM-HH:MM (e.g. 08:00-21:00) or 'any'")
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        try:
            start, end = time(h1, m1), time(h2, m2)
        except ValueError as exc:
            raise ValueError(f"not a time of day: {exc}") from None
        if start >= end:
            raise ValueError("the window must start before it ends")
        return cls(start, end)

    @property
    def unrestricted(self) -> bool:
        return self.start is None

    def allows(self, local: time) -> bool:
        if self.start is None or self.end is None:
            return True
        return self.start <= local < self.end

    def __str__(self) -> str:
        if self.start is None or self.end is None:
            return "any"
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    database_url: str = "sqlite+aiosqlite:///./data/voiceagent.db"
    twilio_account_sid: str | None = None
    twilio_auth_token: SecretStr | None = None
    twilio_phone_number: str | None = None
    twilio_api_base_url: str = "https://api.twilio.com"
    public_base_url: str = "http://127.0.0.1:8000"
    openai_api_key: SecretStr | None = None
    openai_base_url: str | None = None
    openai_model: str = "gpt-4o-mini"
    elevenlabs_api_key: SecretStr | None = None
    elevenlabs_base_url: str | None = None
    elevenlabs_voice_id: str = "21m00Tcm4TlvDq8ikWAM"
    elevenlabs_model: str = "eleven_flash_v2_5"
    handoff_number: str | None = None
    webhook_budget_seconds: Annotated[float, Field(gt=0, le=14)] = 1.8
    silence_timeout_seconds: Annotated[float, Field(gt=0, le=120)] = 8.0
    gather_timeout_seconds: Annotated[int, Field(ge=1, le=30)] = 4
    # How long a line may take before the script's line is used instead (the call goes on);
    # bridging lines cover the wait past WEBHOOK_BUDGET_SECONDS.
    llm_timeout_seconds: Annotated[float, Field(gt=0, le=30)] = 3.0
    llm_classifier: bool = False
    classifier_timeout_seconds: Annotated[float, Field(gt=0, le=5)] = 0.4
    tts_first_byte_timeout_seconds: Annotated[float, Field(gt=0, le=30)] = 1.2
    api_token: SecretStr | None = None
    call_start_rate_per_minute: Annotated[int, Field(ge=0)] = 120  # per client; 0 turns it off
    # Addresses (or networks) whose X-Forwarded-For/-Proto are believed; nobody's by default.
    trusted_proxies: str = ""
    script_path: Path | None = None
    retention_days: Annotated[int, Field(ge=1)] = 90
    # A live call with nothing written for this long lost its end (a closed terminal, a lost
    # final callback) and is finalised.
    stale_call_minutes: Annotated[int, Field(ge=1, le=24 * 60)] = 30
    calling_hours: str = "08:00-21:00"
    default_region: str = "US"  # of numbers written without + and a country code
    log_level: str = "INFO"
    log_format: str = "json"  # json | console
    # How calls are carried: `gather` (the TwiML loop) or `relay` (Twilio ConversationRelay).
    voice_transport: Literal["gather", "relay"] = "gather"
    # ConversationRelay's own speech: Twilio runs it, so the pair must be one Twilio accepts
    # (an invalid pair makes Twilio drop the call). Unset, ElevenLabs speaks ELEVENLABS_VOICE_ID.
    relay_tts_provider: Literal["ElevenLabs", "Google", "Amazon"] = "ElevenLabs"
    relay_voice: str | None = None
    relay_transcription_provider: Literal["Deepgram", "Google"] = "Deepgram"
    relay_language: str = "en-US"

    @field_validator(
        "twilio_account_sid",
        "twilio_phone_number",
        "handoff_number",
        "openai_base_url",
        "elevenlabs_base_url",
        "relay_voice",
        mode="before",
    )
    @classmethod
    def _blank_is_unset(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator(
        "twilio_auth_token", "openai_api_key", "elevenlabs_api_key", "api_token", mode="before"
    )
    @classmethod
    def _blank_secret_is_unset(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("api_token")
    @classmethod
    def _long_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < MIN_API_TOKEN:
            raise ValueError(
                f"must be at least {MIN_API_TOKEN} characters; make one with "
                "python -c 'import secrets; print(secrets.token_urlsafe(32))'"
            )
        return value

    @field_validator("public_base_url", "twilio_api_base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not re.match(r"^https?://[^/\s]+", value):
            raise ValueError("must be an http(s) URL such as https://example.ngrok.app")
        return value.rstrip("/")

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        if not re.match(r"^(sqlite\+aiosqlite|postgresql\+asyncpg)://", value):
            raise ValueError(
                "must be an async SQLAlchemy URL: sqlite+aiosqlite:///path.db or "
                "postgresql+asyncpg://user@host/db"
            )
        return value

    @field_validator("calling_hours")
    @classmethod
    def _hours(cls, value: str) -> str:
        CallingHours.parse(value)
        return value

    @field_validator("default_region", mode="before")
    @classmethod
    def _region(cls, value: Any) -> Any:
        code = value.strip().upper() if isinstance(value, str) else value
        if isinstance(code, str) and not known_region(code):
            raise ValueError("expected a two-letter region code such as US, CA or GB")
        return code

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies(cls, value: str) -> str:
        for item in (part.strip() for part in value.split(",")):
            if not item:
                continue
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ValueError(
                    f"{item!r} is not an IP address or network (e.g. 10.0.0.5,192.168.0.0/16)"
                ) from None
        return ",".join(part.strip() for part in value.split(",") if part.strip())

    @field_validator("log_format")
    @classmethod
    def _log_format(cls, value: str) -> str:
        if value not in ("json", "console"):
            raise ValueError("must be json or console")
        return value

    @model_validator(mode="after")
    def _twilio_all_or_nothing(self) -> Settings:
        given = {
            "TWILIO_ACCOUNT_SID": self.twilio_account_sid,
            "TWILIO_AUTH_TOKEN": self.twilio_auth_token,
            "TWILIO_PHONE_NUMBER": self.twilio_phone_number,
        }
        if any(given.values()) and not all(given.values()):
            missing = ", ".join(name for name, value in given.items() if not value)
            raise ValueError(f"real telephony needs all three Twilio settings; missing {missing}")
        return self

    @field_validator("voice_transport", mode="before")
    @classmethod
    def _transport(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("relay_language")
    @classmethod
    def _language(cls, value: str) -> str:
        if not re.fullmatch(r"[a-z]{2,3}-[A-Z]{2}", value):
            raise ValueError("expected a BCP-47 language tag such as en-US")
        return value

    @model_validator(mode="after")
    def _relay_voice_fits(self) -> Settings:
        if self.voice_transport == "relay":
            problem = relay_voice_problem(self.relay_tts_provider, self.relay_voice_name)
            if problem:
                raise ValueError(f"RELAY_VOICE: {problem}")
        return self

    @property
    def relay_voice_name(self) -> str:
        """The voice ConversationRelay speaks with (ELEVENLABS_VOICE_ID by default)."""
        if self.relay_voice:
            return self.relay_voice
        return self.elevenlabs_voice_id if self.relay_tts_provider == "ElevenLabs" else ""

    @property
    def uses_twilio(self) -> bool:
        return self.twilio_account_sid is not None

    @property
    def proxies(self) -> list[str]:
        return [part for part in self.trusted_proxies.split(",") if part]

    @property
    def hours(self) -> CallingHours:
        return CallingHours.parse(self.calling_hours)


# The voice names each ConversationRelay speech provider takes (Twilio's documented forms):
# ElevenLabs `voiceId[-model][-speed_stability_similarity]`, Google `en-US-Journey-O`,
# Amazon `Joanna-Neural` / `Matthew-Generative`.
_RELAY_VOICES = {
    "ElevenLabs": re.compile(
        r"[A-Za-z0-9]{20}(?:-(?:flash_v2_5|turbo_v2_5|flash_v2|turbo_v2|multilingual_v2))?"
        r"(?:-\d(?:\.\d+)?_\d(?:\.\d+)?_\d(?:\.\d+)?)?"
    ),
    "Google": re.compile(r"[a-z]{2,3}-[A-Z]{2}-[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*"),
    "Amazon": re.compile(r"[A-Z][a-z]+(?:-(?:Neural|Generative|Standard|LongForm))?"),
}


def relay_voice_problem(provider: str, voice: str) -> str | None:
    """Why Twilio would refuse this provider and voice, or None when they fit."""
    if not voice:
        return f"{provider} needs a voice name (set RELAY_VOICE)"
    pattern = _RELAY_VOICES.get(provider)
    if pattern is None:
        return f"unknown speech provider {provider!r}"
    if not pattern.fullmatch(voice):
        return f"{voice!r} is not a {provider} voice name for ConversationRelay"
    return None


def get_settings(**overrides: Any) -> Settings:
    """Build the settings from the environment (and `.env`), failing with one clear line."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]).upper() or "settings"
        raise ConfigError(f"{where}: {first['msg']}") from None
