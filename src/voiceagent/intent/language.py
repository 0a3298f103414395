"""Guess which language a caller is speaking when it is not English.

A caller who answers in Spanish deserves one line back in Spanish ("sorry, I can only talk in
English; we will call back") rather than an English sales pitch. That needs only a guess from
one short utterance, so a language-identification model would be overkill on a live turn: the
common function words and letters of each language carry the signal. Recognisers tuned for
English often drop accents, so both accented and plain spellings are listed.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["guess_language"]


def _words(text: str) -> list[str]:
    return text.split()


# Words that are common in a language and rare in English speech. Two points each; words
# in STRONG (unmistakable on their own: "hola", "bonjour") five.
_WORDS: dict[str, frozenset[str]] = {
    "es": frozenset(
        _words(
            "hola que qué hablo habla llamo buenas buenos dias días tardes mal es un "
            " hablas ingles inglés espanol español por favor gracias senor señor "
            "senora señora usted estoy esta está tengo quien quién como cómo bueno sí el los las "
            "una pero yo ahora puede necesito trabajo momento disculpe perdon perdón ocupado "
            "ocupada lo siento nada muy para con eso aqui aquí donde dónde cuando cuándo porque "
            "también tambien llame llamar despues después mañana manana hoy entiendo"
        )
    ),
    "fr": frozenset(
        _words(
            "je ne pas parle parlez anglais francais français oui merci bonjour monsieur madame "
            "cest c'est est les des une et vous nous mais qui quoi comprends désolé desole suis "
            "rappeler plus tard aujourdhui demain maintenant très tres avec pour du au"
        )
    ),
    "pt": frozenset(
        _words(
            "não nao falo fala ingles inglês portugues português obrigado obrigada você voce sim "
            "eu estou tenho agora é um uma com muito entendo desculpe olá ola tudo bem ligar "
            "depois amanhã amanha hoje também tambem senhor senhora"
        )
    ),
    "de": frozenset(
        _words(
            "ich nicht sprechen spreche sie deutsch englisch danke bitte kein keine ist das der "
            "und nein guten tag habe haben wir mit auf verstehe entschuldigung jetzt später "
            "spaeter morgen heute bin zeit"
        )
    ),
    "it": frozenset(
        _words(
            "non parlo parla inglese italiano grazie buongiorno ciao sono sì che il della per "
            "cosa capisco scusi adesso dispiace chiamare dopo ho io lei domani oggi signore "
            "pronto"
        )
    ),
    "vi": frozenset(
        _words(
            "không khong tôi toi xin chào chao bạn được duoc người nguoi việt viet tiếng tieng "
            "biết biet nói noi cảm cam ơn gì gi vâng vang dạ da"
        )
    ),
    "zh": frozenset(_words("ni hao xie wo bu shi zhongwen putonghua ting dong mei you")),
}
_STRONG = frozenset(
    _words(
        "hola hablo habla bueno entiendo perdón perdon español espanol gracias "
        "bonjour merci français francais parlez oui "
        "obrigado obrigada português portugues você não nao danke bitte deutsch englisch ich "
        "nicht grazie buongiorno italiano inglese capisco parlo không khong xin chào tiếng tieng "
        "zhongwen putonghua"
    )
)
# Ordinary English words that are also foreign function words: they prove nothing.
_ENGLISH = frozenset(
    _words(
        "i you the a an and is are was to of in it that this we they he she me my no yes not "
        "do does have has on for with what when where how can will would just so but or if "
        "yeah okay ok hello hi sorry please thanks thank call back now later today busy time "
        "some who mean talk speak english am be"
    )
)
_PHRASES = {
    "zh": ("ni hao", "xie xie", "wo bu", "ting bu dong", "bu yao", "mei you"),
    "es": ("no hablo", "lo siento", "por favor", "no entiendo", "me llamo"),
    "pt": ("não falo", "nao falo", "tudo bem"),
    "fr": ("je ne", "au revoir", "ne parle pas"),
    "it": ("non parlo", "mi dispiace"),
    "de": ("ich spreche", "kein englisch"),
    "vi": ("xin chào", "xin chao", "cảm ơn", "cam on", "tiếng việt", "tieng viet"),
}
_LETTERS = {
    "es": "ñ¿¡",
    "pt": "ãõ",
    "de": "ßäöü",
    "fr": "œèêëîïûù",
    "it": "ìò",
    "vi": "ăđơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ",
}
_CJK = re.compile(r"[\u4e00-\u9fff\u3400-\u4dbf]")
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")
_THRESHOLD = 4


def _score(text: str, words: list[str]) -> dict[str, int]:
    scores = dict.fromkeys(_WORDS, 0)
    for language, vocabulary in _WORDS.items():
        for word in words:
            if word in vocabulary and word not in _ENGLISH:
                scores[language] += 5 if word in _STRONG else 2
        scores[language] += sum(5 for phrase in _PHRASES[language] if f" {phrase} " in text)
        scores[language] += sum(3 for letter in _LETTERS.get(language, "") if letter in text)
    return scores


def guess_language(text: str) -> str | None:
    """ISO 639-1 code of a non-English utterance ("es", "fr", "pt", "de", "it", "vi", "zh").

    None when the utterance looks English or too short to tell: the caller then keeps getting
    English, which is the safe default.
    """
    lowered = unicodedata.normalize("NFC", text).lower()
    if _CJK.search(lowered):
        return "zh"
    words = _WORD.findall(lowered)
    english = sum(1 for word in words if word in _ENGLISH)
    scores = _score(f" {' '.join(words)} ", words)
    best = max(scores, key=lambda language: scores[language])
    if scores[best] < _THRESHOLD or scores[best] <= 2 * english:
        return None
    return best
