"""guess_language: one line back in the caller's language, and never a false alarm on English."""

from __future__ import annotations

import pytest

from voiceagent.intent.language import guess_language


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("hola", "es"),
        ("si, bueno?", "es"),
        ("perdon, no entiendo", "es"),
        ("no hablo ingles", "es"),
        ("no hablo inglés lo siento", "es"),
        ("perdón no entiendo", "es"),
        ("lo siento estoy ocupado", "es"),
        ("es un mal momento", "es"),
        ("me llamo juan", "es"),
        ("bonjour", "fr"),
        ("je ne parle pas anglais", "fr"),
        ("désolé je suis occupé", "fr"),
        ("não falo inglês", "pt"),
        ("nao falo ingles desculpe", "pt"),
        ("obrigado", "pt"),
        ("tudo bem", "pt"),
        ("ich spreche kein englisch", "de"),
        ("nein danke", "de"),
        ("entschuldigung ich verstehe nicht", "de"),
        ("non parlo inglese", "it"),
        ("pronto chi parla", "it"),
        ("grazie ciao", "it"),
        ("tôi không nói tiếng anh", "vi"),
        ("toi khong noi tieng anh", "vi"),
        ("xin chào", "vi"),
        ("我不会说英语", "zh"),
        ("你好", "zh"),
        ("ni hao wo bu shi", "zh"),
        ("wo ting bu dong", "zh"),
    ],
)
def test_non_english_is_named(text: str, expected: str) -> None:
    assert guess_language(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "yes",
        "no",
        "ok",
        "hello who is this",
        "we use excel",
        "sorry i am busy call me later",
        "no thanks not interested",
        "i dont speak spanish",
        "we have like forty people",
        "the total is about forty",
        "el",
        "si",
        "que",
        "la la la",
        "pardon",
        "uh huh yeah go ahead",
        "can you call me back tomorrow afternoon",
        "my email is jo dot smith at acme dot com",
        "is this a robot",
    ],
)
def test_english_or_too_short_is_none(text: str) -> None:
    assert guess_language(text) is None
