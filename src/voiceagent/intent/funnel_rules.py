"""Funnel-intent rules: interested, not interested, and unclear.

A strong cue ("not interested", "tell me more") decides on its own; a weak one ("yeah", "no",
"we use salesforce") decides only when nothing stronger, and nothing puzzled ("hello?",
"hang on"), was said.
"""

from __future__ import annotations

import re

from voiceagent.funnel.states import Intent
from voiceagent.intent.rules import WEAK, rules

# Fixed phrases whose words would otherwise read the wrong way round ("not a problem" is a yes).
# They are found first and blanked out, so their "no"/"not" neither counts nor negates.
POSITIVE_IDIOMS = rules(
    Intent.INTERESTED,
    [
        ("idiom_no_problem", r"\b(?:not a|no) (?:problem|worries|bother)\b"),
        ("idiom_why_not", r"\bwhy not\b"),
        ("idiom_not_bad", r"\bnot (?:a )?bad(?: idea)?\b"),
        ("idiom_no_doubt", r"\bno doubt\b"),
        ("idiom_would_not_say_no", r"\b(?:would not|would never|could not) say no\b"),
        ("idiom_do_not_mind", r"\b(?:do not|would not) mind\b"),
        ("idiom_not_opposed", r"\bnot (?:opposed|against)\b"),
        ("idiom_cannot_hurt", r"\b(?:can not|could not|does not|would not|will not) hurt\b"),
        ("idiom_no_objection", r"\bno objections?\b"),
        ("idiom_not_busy", r"\bnot (?:busy|too busy|that busy)\b"),
        ("idiom_no_brainer", r"\bno brainer\b"),
    ],
)
# Phrases that carry a negator but no stance; blanked so the negator reaches nothing.
NEUTRAL_IDIOMS = tuple(
    re.compile(pattern)
    for pattern in (
        r"\bnot (?:sure|certain)\b",
        r"\bdo not know\b",
        r"\bnot quite sure\b",
    )
)

NOT_INTERESTED = rules(
    Intent.NOT_INTERESTED,
    [
        ("not_interested", r"\bnot (?:at all |\w+ )?(?:be )?interested\b|\bno interest\b"),
        ("all_set", r"\ball set\b|\b(?:we|i) are (?:covered|sorted)\b"),
        (
            "already_have",
            r"\balready (?:have|got|use|using|work with|working with|signed|has|on)\b",
        ),
        (
            "signed_elsewhere",
            r"\b(?:signed|went|going) with (?:someone|somebody|another|a different)|"
            r"\b(?:renewed|re signed) (?:with|our (?:contract|subscription|license|plan))\b|"
            r"\b(?:locked in|under contract) with\b",
        ),
        (
            "happy_with_current",
            r"\b(?:happy|satisfied|fine) with (?:what|our|it|them|the one|the current)",
        ),
        ("no_thanks", r"\bno (?:thanks|thank you)\b|\bthanks but no\b"),
        ("pass", r"\b(?:i|we) (?:will|am going to|are going to|would|think i will) pass\b|^pass\b"),
        ("too_expensive", r"\btoo (?:expensive|pricey|costly|much)\b"),
        (
            "no_budget",
            r"\b(?:can not|could not) afford\b|\bno budget\b|\bdo not have (?:the |a |any )?"
            r"(?:budget|money|funds)\b|\b(?:out of|not in) (?:our|my|the) budget\b",
        ),
        (
            "busy",
            r"\b(?:am|are|really|pretty|super|kind of|too) busy\b|\bin a meeting\b|"
            r"\b(?:am|i) driving\b|\bat work\b",
        ),
        ("bad_time", r"\bnot (?:a )?(?:good|great|convenient) time\b|\bbad time\b"),
        (
            "not_now",
            r"\bnot (?:right )?now\b|\bnot today\b|\bnot at (?:the|this) (?:moment|time)\b|"
            r"\bnot this (?:week|month|year|quarter)\b",
        ),
        (
            "cannot_talk",
            r"\b(?:can not|could not|do not have time to) (?:talk|speak|chat)\b|"
            r"\bdo not have (?:the |a |any )?(?:time|minute|second)\b",
        ),
        (
            "call_later",
            r"\bcall (?:me |us )?(?:back )?(?:later|tomorrow|next|another|some other|"
            r"in (?:a|an|the)|after|on (?:monday|tuesday|wednesday|thursday|friday))\b|"
            r"\bcall (?:me |us )back\b|\b(?:try|check|reach out|contact) (?:me |us |"
            r"back )?(?:again )?"
            r"(?:later|next|in a|in an|in the)\b|\bmaybe (?:next|later|in (?:a|the))\b|"
            r"\b(?:some )?other time\b|\banother time\b|\bmaybe later\b",
        ),
        (
            "redirect_channel",
            r"\bcall (?:me )?(?:at|on) (?:my|the) (?:office|work|cell|mobile|other)|"
            r"\bdo not call me (?:on|at|before|after|during)\b|\bno need to call\b",
        ),
        (
            "do_not_need",
            r"\bdo not (?:really )?(?:need|want) (?:it|that|this|one|any|anything|a|an|your|those|"
            r"to talk|to speak|to hear)\b|\bnot something (?:we|i) (?:need|want)\b|"
            r"\b(?:we|i) (?:do not|never) need\b|\bdo not think (?:we|i) (?:need|want)\b",
        ),
        ("did_not_work", r"\b(?:did not|does not|never) work (?:out )?for (?:us|me)\b"),
        (
            "not_for_us",
            r"\bnot for (?:us|me)\b|\bnot (?:really )?(?:buying|looking|in the market)\b",
        ),
        (
            "decline",
            r"\bi do not think so\b|\b(?:would|had) rather not\b|\b(?:absolutely|definitely|"
            r"certainly|probably) not\b|\bno way\b|^not really\b|\bnot really$|\bnot at all\b",
        ),
        (
            "we_are_good",
            r"\b(?:i am|we are|i am all|we are all) (?:good|fine|okay)\b(?! (?:to go|with "
            r"(?:that|it|this)))|\ball good\b",
        ),
        (
            "hostile",
            r"\b(?:annoying|scam|spam|waste (?:of )?(?:my|our) time|go away|get lost|buzz off|"
            r"hanging up|(?<!not )hang up)\b",
        ),
        (
            "stall",
            # "let me think about it" stalls; "let me think, we were about eight" is an answer.
            r"\blet me (?:think (?:about|it over|on)|sleep on|talk to my|check with my|ask my)"
            r"\b|\blet me think(?: it over)?$|"
            r"\b(?:i|we|ill) (?:will |would )?(?:have to )?(?:think about it|think it over)\b|"
            r"\b(?:talk|speak|check) (?:to|with) my \w+ first\b",
        ),
    ],
)
NOT_INTERESTED_WEAK = rules(
    Intent.NOT_INTERESTED,
    [
        ("bare_no", r"\b(?:no|nope|nah|naw|nay)\b"),
        ("farewell", r"\b(?:bye|goodbye|bye bye|have a good (?:one|day))$"),
    ],
    strength=WEAK,
)

INTERESTED = rules(
    Intent.INTERESTED,
    [
        (
            "go_ahead",
            r"\b(?:go ahead|go on|continue|carry on|keep going|shoot|fire away|proceed)\b",
        ),
        (
            "tell_me_more",
            r"\btell me (?:more|about)\b|\bi am listening\b|\b(?:what|how) (?:does|do|would) "
            r"(?:it|this|that|your \w+) (?:do|work|cost)\b",
        ),
        (
            "sounds_good",
            r"\bsounds (?:good|great|interesting|fine|cool|awesome|perfect|nice|"
            r"alright|okay|like a plan)\b|\b(?:that is|that would be) (?:fine|great|good|perfect|"
            r"ok|okay)"
            r"\b|\binteresting\b",
        ),
        ("interested", r"\binterested\b"),
        (
            "works",
            r"\b(?:that|it|this|which|\w+day|morning|afternoon|evening|time) works\b|"
            r"\bworks for (?:me|us)\b|\b(?:is|are) (?:fine|good|perfect) for (?:me|us)\b|"
            r"\b\w+day (?:at \w+ )?(?:is|would be) (?:fine|good|great|perfect)\b",
        ),
        (
            "have_a_minute",
            r"\b(?:got|have|got you) (?:a|one|two|five|a few|a couple|\d+) "
            r"(?:minute|minutes|min|mins|sec|second|seconds)\b",
        ),
        (
            "send_details",
            r"\b(?:send|email|text) (?:me|us|over) (?:the |some |more )?(?:details|info|"
            r"information|"
            r"brochure|link|deck|pricing|email)\b",
        ),
        (
            "price_question",
            r"\bhow much\b|\b(?:is it|is that|how) (?:expensive|pricey)\b|\b(?:cost|costs|price|"
            r"prices|pricing|per seat|per month|"
            r"per user|discount)\b",
        ),
        (
            "detail_question",
            r"\b(?:trial|demo|integrate|integrates|integration|sync|syncs|contract|"
            r"onboarding|setup|set up|features?|plans?|results|roi|case stud(?:y|ies)|"
            r"references)\b",
        ),
        (
            "product_question",
            r"\b(?:does|do|can|will|would) (?:it|this|that|your \w+|you guys) "
            r"(?:work|support|connect|handle|include|come|offer|have|run|export|import|let)\b|"
            r"\bdo you (?:offer|have|support|integrate|work with|charge)\b",
        ),
        (
            "enthusiastic_yes",
            r"\b(?:absolutely|definitely|of course|certainly|for sure|yes please|"
            r"let us do it|sign me up|count me in|i am in)\b",
        ),
    ],
    negatable=True,
)
INTERESTED_WEAK = rules(
    Intent.INTERESTED,
    [
        (
            "bare_yes",
            r"\b(?:yes|yeah|yep|yup|sure|okay|alright|all right|right|uhhuh|please|"
            r"good|great|cool|fine|perfect|i guess|i suppose)\b",
        ),
        # In a sales call, giving information is engagement: "we use salesforce".
        (
            "states_fact",
            r"\b(?:we|i|our \w+|my \w+|they|it|the team) (?:are |am |is )?(?:just |"
            r"currently |mostly |also |actually |still |only )?(?:do not |does not )?(?:have|has|"
            r"use|"
            r"using|uses|run|running|do|does|handle|handles|handled|track|tracking|manage|managing|"
            r"sell|selling|work|working|make|keep|store|are a|are an|\w+ed)\b",
        ),
        (
            "quantity",
            r"\b(?:\d+|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|"
            r"fifteen|twenty|thirty|forty|fifty|hundred|dozen|a few|"
            r"a couple of) (?:\w+ )?(?:people|"
            r"reps|employees|users|seats|agents|salespeople|locations|stores|staff|guys|accounts|"
            r"customers|clients|calls|deals)\b",
        ),
        ("mostly", r"\b(?:mostly|mainly|usually|honestly|probably) \w+"),
    ],
    negatable=True,
    strength=WEAK,
)

UNCLEAR = rules(
    Intent.UNCLEAR,
    [
        (
            "who_is_this",
            r"\bwho (?:is this|is calling|are you|is it|is that|did you say|gave you)\b|"
            r"^who\b|\bwho (?:this|dis)\b",
        ),
        (
            "what_about",
            r"\bwhat is (?:this|it|that|the call) (?:about|regarding|for)\b|"
            r"\bwhat is (?:it|this)$|\bwhat (?:company|business|name)\b|\bname of the company\b|"
            r"\bwhere are you calling from\b|\bwhere (?:is|are) (?:this|you) from\b",
        ),
        (
            "who_are_you",
            r"\bdo i know you\b|\bnever heard of\b|\bhow did you get (?:this|my)\b|"
            r"\bwhere did you get (?:this|my)\b|\bwho gave you\b",
        ),
        (
            "repeat",
            r"\b(?:repeat|say (?:that|it|again)|come again|pardon|what was that|what did you "
            r"say|what did you|missed (?:that|it|what)|did not (?:quite |really )?(?:catch|get|"
            r"hear|understand))\b",
        ),
        (
            "hearing",
            r"\b(?:can not|could not|barely) hear\b|\bbreaking up\b|\bcut(?:ting)? out\b|"
            r"\bspeak up\b|\bcan you hear me\b|\bbad (?:line|connection|signal)\b|\b(?:line|"
            r"connection|signal|reception) is "
            r"(?:bad|terrible|awful|breaking)\b|\bare you (?:still )?there\b|\bquieter\b",
        ),
        (
            "hold_on",
            r"\b(?:hang on|hold on|one (?:sec|second|moment|minute)|just a (?:sec|second|"
            r"moment|minute)|give me a (?:sec|second)|wait a (?:sec|second|minute))\b",
        ),
        (
            "puzzled",
            r"^(?:hello|hi|what|huh|sorry|wait|hmm|hm|oh|excuse me|yes hello|"
            r"i am sorry|wait what|what what)(?: (?:hello|what|who|huh|sorry|what now))*$|"
            r"\b(?:sorry|wait) (?:what|who)\b|\bhello is (?:anyone|anybody|someone) there\b",
        ),
    ],
)
