"""What an intent rule is, and the vocabulary the engine uses to read negation and questions.

The rule families themselves are data in `safety_rules`. Patterns are written
against the normalised form (see `normalise`), so "don't" is spelled "do not" and "I'm" is
"i am". A rule is `negatable` when a negator just before it ("not", "never", "do not really want
to") flips its meaning; rules whose wording already carries the negation ("not interested",
"do not call me again") are not.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from voiceagent.funnel.states import Intent


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    intent: Intent
    pattern: re.Pattern[str]
    negatable: bool = False


def words(spaced: str) -> frozenset[str]:
    return frozenset(spaced.split())


def rules(
    intent: Intent, table: list[tuple[str, str]], *, negatable: bool = False
) -> tuple[Rule, ...]:
    return tuple(Rule(name, intent, re.compile(pattern), negatable) for name, pattern in table)


# Words that, spoken just before a cue, put the cue under negation ("i am not busy").
NEGATORS = frozenset({"not", "never", "nobody", "nothing", "without", "nor", "neither", "hardly"})
# Words a negation reaches across to its cue: "not really want to talk", "never be interested".
# Anything else (a content word) closes the scope: "not interested take me off your list".
SCOPE_CARRIERS = words(
    "really ever even that too very so be being been to want need like would could should "
    "will going try trying actually exactly necessarily particularly currently quite just any "
    "a an the i we me you it is am are was have has had do does did get"
)
