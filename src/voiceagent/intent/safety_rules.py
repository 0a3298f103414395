"""Safety-intent rules: do-not-call, a request for a person, and "are you an AI?".

These decide alone and are never negated away lightly: a missed opt-out is a compliance failure
(SPEC, "Compliance defaults"), so the patterns lean towards recall.
"""

from __future__ import annotations

from voiceagent.funnel.states import Intent
from voiceagent.intent.rules import rules

# Shared vocabulary.
_PERSON = (
    r"(?:real |live |actual |human |proper )*(?:person|human being|human|somebody|someone|anybody|"
    r"anyone|whoever is in charge|someone in charge|agent|representative|rep|manager|supervisor|"
    r"operator|boss|people|sales ?reps?|"
    r"sales team|salesperson|man|woman|guy)"
)
_DET = r"(?:a |an |the |some |your |one of your |another |a different )?"
# "A recording" is a machine; "are you recording this?" asks about recording (`question:recorded`).
_MACHINE = (
    r"(?:robot|bot|chatbot|machine|computer|ai|artificial intelligence|(?<=a )recording|"
    r"recorded message|"
    r"recorded call|"
    r"prerecorded message|pre recorded message|robocall|robo call|automated|automated call|"
    r"automated system|automated message|chatgpt|chat gpt|program|voice assistant|"
    r"virtual assistant)"
)
_LIVING = r"(?:real |live |actual |even |like |just )*(?:person|human being|human|live agent)"
_LIST = r"(?:\w+ )?(?:list|lists|database|system|records|registry)"
_CONTACT = r"(?:call|calling|ring|ringing|phone|phoning|contact|contacting|text|texting|bother)"
# What a caller tells us to stop doing: calling, and the ways of saying it.
_PESTER = r"(?:call|ring|phon|contact|text|dial|bother|bugg|harass|pester|spamm|robocall|messag)\w*"
# "Stop" with only polite or emphatic words around it: the opt-out the opening offers.
_STOP_BEFORE = r"(?:okay|alright|all right|please|just|now|i said|hey|no|oh|so|yes|yeah|look|man)"
_STOP_AFTER = (
    r"(?:it|now|please|that|right now|right there|already|stop|thanks|thank you|then|"
    r"for real|seriously|man|okay|bye|goodbye)"
)

DO_NOT_CALL = rules(
    Intent.DO_NOT_CALL,
    [
        ("dnc_list", r"\b(?:do not call|dnc|no call) (?:list|registry|register)\b"),
        (
            "take_off_list",
            # "did you get my number from a list?" asks where it came from: "get" needs "off".
            r"\b(?:(?:take|scratch|cross|strike|drop|remove|delete|pull) (?:me|us|"
            r"my (?:phone )?"
            r"number|this (?:phone )?number|my name|my info\w*|my details) (?:off|from|out of)|"
            r"(?:get|put) (?:me|us|my (?:phone )?number|this (?:phone )?number|my name|my info\w*|"
            r"my details) (?:off|out of))"
            rf"(?: of)? (?:your|the|this|that|all|any)? ?{_LIST}",
        ),
        (
            "remove_me",
            r"\b(?:remove|delete|erase|unlist) (?:me|us|my (?:phone )?number|"
            r"this (?:phone )?number|"
            r"my (?:name|info|information|details|data))\b",
        ),
        (
            "want_removed",
            r"\b(?:be|get|number|name|me|us) (?:removed|deleted|taken off|unlisted)\b",
        ),
        ("unsubscribe", r"\b(?:unsubscribe|opt (?:me )?out|opting out)\b"),
        (
            "never_again",
            # "no, call me back tomorrow" is a "no" and a deferral, not "no calling back".
            rf"\b(?:do not|never|never ever|not|no(?! {_CONTACT} (?:me |us )?back)) (?:ever )?"
            rf"{_CONTACT} (?:me |us |here |this "
            r"(?:number|phone|house) |my (?:number|phone|cell) )?(?:again|back|anymore|any more|"
            r"no more|ever again|ever)\b",
        ),
        # "don't call me" said and left there is an opt-out; "don't call me on this number,
        # call my office" or "don't call me before nine" is a redirect, handled as not_interested.
        (
            "do_not_call_me",
            rf"\b(?:do not|never|please do not) (?:ever )?{_CONTACT} (?:me|us|here|this number|"
            r"this phone|my number)(?: please)?$",
        ),
        (
            "stop_calling",
            rf"\b(?:stop|quit|cease|enough) (?:it )?(?:with )?(?:the |these |"
            rf"your )?{_CONTACT}\w*\b",
        ),
        # "stop dialing this number", "stop bugging me"; "stop" then anything else is not one
        # ("hold on, stop, which company is this?").
        ("stop_pestering", rf"\b(?:stop|quit) (?:it )?(?:with )?(?:the |these |your )?{_PESTER}\b"),
        ("bare_stop", rf"^(?:{_STOP_BEFORE} )*stop(?: {_STOP_AFTER})*$"),
        (
            "no_more_calls",
            r"\b(?:no more|any more|anymore|no further) (?:of (?:these|your|the|those) )?"
            r"(?:phone )?calls\b(?! (?:today|tonight|right now|for now|this week))",
        ),
        (
            "do_not_want_calls",
            r"\b(?:do not|never) (?:want|need) (?:to be (?:called|contacted)|(?:any |your )?"
            r"(?:more |further )?(?:phone )?calls)\b",
        ),
        ("lose_my_number", r"\b(?:lose|forget|delete|burn) (?:my|this) (?:phone )?number\b"),
        ("take_us_off", r"\btake (?:me|us|this number|my number) off(?: (?:it|of it|please))?$"),
        ("want_off_list", rf"\b(?:want|get) (?:me |us )?off (?:your|the|this|that) {_LIST}"),
        (
            "told_you_not_to",
            rf"\b(?:told|asked) (?:you|your \w+)(?: \w+){{0,3}} (?:not to|to stop|"
            rf"never to) {_CONTACT}",
        ),
        (
            "do_not_want_you_calling",
            rf"\b(?:do not|never) want (?:you|your company|anyone|you people|you guys) "
            rf"(?:to )?{_CONTACT}",
        ),
        ("leave_me_alone", r"\bleave (?:me|us) alone\b"),
    ],
    # "no need to remove me, i am just busy" waves the request off.
    negatable=True,
)

HUMAN_REQUEST = rules(
    Intent.HUMAN_REQUEST,
    [
        (
            "talk_to_person",
            # "you should talk to someone in marketing" points us elsewhere; it asks for no one.
            r"(?<!you should )(?<!you need to )(?<!you have to )(?<!you would have to )"
            r"(?<!you will have to )(?<!you might want to )(?<!you could )"
            rf"\b(?:talk|speak|chat) (?:to|with) {_DET}{_PERSON}\b(?! (?:handles|is|does|who is))",
        ),
        (
            "person_i_can_talk_to",
            rf"\b{_DET}{_PERSON} (?:real |live )?(?:there )?(?:i|we) (?:can|could) (?:talk|speak)",
        ),
        ("put_me_through", r"\bput me (?:through|thru)\b|\bhand me (?:over|off)\b"),
        ("transfer_me", r"\btransfer (?:me|us|this call)\b"),
        ("connect_me", r"\bconnect (?:me|us) (?:to|with)\b"),
        ("get_me_a_person", rf"\b(?:get|give|find) me {_DET}{_PERSON}\b"),
        ("person_on_the_line", rf"\b(?:put|get) {_DET}{_PERSON} on the (?:line|phone)\b"),
        (
            "i_want_a_person",
            r"\b(?:i (?:want|need|would like|would rather have|would prefer)|can i (?:have|get)) "
            r"(?:a |an |some |your )?"
            r"(?:real |live |actual )*(?:human being|human|person|representative|operator|"
            r"supervisor|manager)\b(?! (?:who|that|to|for))",
        ),
        (
            "person_call_me",
            rf"\b(?:have|can|could) {_DET}{_PERSON} (?:call|ring|contact) (?:me|us)\b",
        ),
        (
            "put_someone_on",
            r"\bput (?:somebody|someone|a person|a human|your manager) (?:real |live )?on\b",
        ),
        (
            "bare_request",
            # "real person?" alone asks whether we are one (`ai_question`); with "please" it asks
            # for one.
            r"^(?:(?:(?:representative|operator|agent|transfer|human|live agent|human agent|"
            r"customer service|a human|human being)(?: please)?|(?:a |an )?(?:real |live |actual )?"
            r"(?:person|human) please) ?)+$",
        ),
    ],
    negatable=True,
)

AI_QUESTION = rules(
    Intent.AI_QUESTION,
    [
        (
            "are_you_machine",
            rf"\bare you (?:a |an |like a |like an |some kind of |some sort of |just a |"
            rf"even )*{_MACHINE}\b",
        ),
        ("are_you_human", rf"\bare you (?:even |like |actually |just )?(?:a |an )?{_LIVING}\b"),
        (
            "are_you_real",
            r"\bare you (?:even |actually |for )?real(?! (?:company|business|firm))\b",
        ),
        (
            "is_this_machine",
            rf"\bis (?:this|it|that) (?:a |an |one of those |some kind of |like a )*"
            rf"(?:\w+ )?{_MACHINE}\b",
        ),
        ("is_this_human", rf"\bis (?:this|that) (?:a |an )?{_LIVING}\b"),
        (
            "am_i_talking_to",
            rf"\bam i (?:talking|speaking|on|chatting) (?:to|with) (?:a |an )?(?:{_LIVING}|"
            rf"(?:real )?{_MACHINE})\b",
        ),
        (
            "you_are_machine",
            # "i do not care if you are a robot, what is the price?" waves the question off.
            r"(?<!\bif )(?<!\bwhether )"
            rf"\b(?:you are|this is|you sound|you sound like|sounds like) (?:a |an |just a )?"
            rf"{_MACHINE}\b",
        ),
        ("you_are_not_human", rf"\byou are not (?:a |an )?{_LIVING}\b"),
        ("or_machine", rf"\bor (?:is (?:it|this) |are you )?(?:a |an )?(?:real )?{_MACHINE}\b"),
        (
            "person_on_call",
            r"\bis there (?:a |an )?(?:real |actual )?(?:person|human) on (?:this|the) call",
        ),
    ],
)
