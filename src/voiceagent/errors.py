"""Our own errors. Vendor errors are translated into these at the provider boundary.

VoiceAgentError
├── ConfigError          a setting or the sales script is missing or malformed (start-up)
│   └── ScriptError      the sales script file is invalid; the message names the field
├── InvalidPhoneNumber   not a dialable E.164 number (HTTP 422)
├── CallRefused          policy forbids the call: do-not-call list, calling hours (HTTP 409)
├── CallNotFound         no call with that id (HTTP 404)
└── ProviderError        a provider failed or timed out
    ├── TelephonyError   placing a call failed
    ├── LanguageError    the language model failed
    │   └── LanguageTimeout  ...by not answering in time: slow, not broken
    └── SpeechError      speech synthesis failed
"""

from __future__ import annotations


class VoiceAgentError(Exception):
    """Base of every error this package raises on purpose."""


class ConfigError(VoiceAgentError):
    pass


class ScriptError(ConfigError):
    pass


class InvalidPhoneNumber(VoiceAgentError):
    pass


class CallRefused(VoiceAgentError):
    pass


class CallNotFound(VoiceAgentError):
    pass


class ProviderError(VoiceAgentError):
    pass


class TelephonyError(ProviderError):
    pass


class LanguageError(ProviderError):
    pass


class LanguageTimeout(LanguageError):
    pass


class SpeechError(ProviderError):
    pass
