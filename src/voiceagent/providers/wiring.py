"""The only module that names concrete vendors: builds the providers the settings ask for."""

from __future__ import annotations

import secrets

from voiceagent.funnel.states import SCRIPTED_LINES
from voiceagent.intent.local import LocalClassifier
from voiceagent.providers.base import IntentModel, LanguageModel, Providers, Speech
from voiceagent.providers.scripted import ScriptedLanguage
from voiceagent.providers.simulated.carrier import SimulatedCarrier
from voiceagent.providers.twilio.voice import TwilioTelephony
from voiceagent.script.model import SalesScript
from voiceagent.settings import Settings


def build_providers(settings: Settings, script: SalesScript) -> Providers:
    if settings.uses_twilio:
        assert settings.twilio_account_sid
        assert settings.twilio_auth_token
        telephony: TwilioTelephony | SimulatedCarrier = TwilioTelephony(
            account_sid=settings.twilio_account_sid,
            auth_token=settings.twilio_auth_token.get_secret_value(),
            api_base_url=settings.twilio_api_base_url,
        )
    else:
        # The simulated carrier signs its webhooks with a key that lives only in this process.
        telephony = SimulatedCarrier(auth_token=secrets.token_hex(16))
    language, intent_model = _language(settings, script)
    return Providers(
        telephony=telephony,
        language=language,
        classifier=LocalClassifier(),
        speech=_speech(settings),
        intent_model=intent_model,
    )


def _language(settings: Settings, script: SalesScript) -> tuple[LanguageModel, IntentModel | None]:
    scripted = ScriptedLanguage(script)
    if settings.openai_api_key is None:
        return scripted, None
    # Imported here: the SDK costs start-up time that a keyless run should not pay.
    from voiceagent.providers.line_check import CheckedLanguage
    from voiceagent.providers.openai.intent import OpenAIIntentModel
    from voiceagent.providers.openai.language import OpenAILanguage

    key = settings.openai_api_key.get_secret_value()
    model = OpenAILanguage(
        api_key=key,
        model=settings.openai_model,
        script=script,
        base_url=settings.openai_base_url,
        deadline_seconds=settings.llm_timeout_seconds,
    )
    intent_model = (
        OpenAIIntentModel(
            api_key=key,
            model=settings.openai_model,
            base_url=settings.openai_base_url,
            timeout_seconds=settings.classifier_timeout_seconds,
        )
        if settings.llm_classifier
        else None
    )
    return CheckedLanguage(model, scripted, fixed=SCRIPTED_LINES), intent_model


def _speech(settings: Settings) -> Speech | None:
    if settings.elevenlabs_api_key is None:
        return None
    # Imported here: the SDK costs start-up time that a keyless run should not pay.
    from voiceagent.providers.elevenlabs.speech import ElevenLabsSpeech

    return ElevenLabsSpeech(
        api_key=settings.elevenlabs_api_key.get_secret_value(),
        voice_id=settings.elevenlabs_voice_id,
        model=settings.elevenlabs_model,
        base_url=settings.elevenlabs_base_url,
        first_byte_timeout=settings.tts_first_byte_timeout_seconds,
    )
