"""Safety flags for the admin review queue: profanity, abuse, threats and signals of self-harm.

A survey comment is free text from an employee; a few of them need a human to look at them before anyone reads
them on a dashboard (a threat against a manager, a signal that someone may hurt themselves) and some should be
shown with care (insults, swearing). This module decides which comments go to that queue and why. It is a
hand-curated lexicon plus phrase patterns, not a model: every flag can be explained to an admin by pointing at
the words that raised it, and every miss can be fixed by adding a pattern and a labelled row.

Decisions, documented here because they are policy, not code:

* **profanity** (low) is swear-word vocabulary whoever it is aimed at ("this survey is bullshit"). Matching is
  per word, so "assess", "class", "Scunthorpe", "shitake", "cocktail", "analytics" and "therapist" are clean.
  Light obfuscation is undone first: leetspeak inside a word (sh1t, a$$hole), masking (f*ck, f**king, s***),
  a few vowel-less spellings (fck, fkn) and stretched letters (fuuuck). "hell" ("a hell of a good year", "what
  the hell") and "bloody" are too mild and too idiomatic to flag; "screw" only counts as "screw this/you/the
  company", never "screw up".
* **abuse** (medium) is an insult or harassment aimed at people: insult nouns (idiot, moron, asshole), name-
  calling of a person or group ("my manager is a joke", "our director is useless"), "a pathetic excuse for a
  leader", "go to hell", "fuck you". Civil criticism is not abuse, even when harsh: "management is incompetent
  at planning", "leadership is clueless about what we do", "this plan is stupid" (the target is a plan). Self-
  deprecation ("I felt like an idiot", "they treat us like idiots") and "idiot-proof" are not abuse. A profane
  insult ("he is an asshole") is both abuse and profanity.
* **threat** (high) is violence or harm to others or to property: a first-person intent (or "someone should")
  followed by a harm verb and a person ("I'll kill him", "someone should punch my manager"), wrecking a place
  ("I'll smash something", "burn this place down"), menace ("I know where he parks", "someone is going to get
  hurt", "my boss is going to pay for this", "the next person who ... is going to regret it"), weapons at work.
  Work idioms are not threats: "kill the legacy system", "this deadline is killing me", "killer feature",
  "shoot me an email", "hit the deadline", "blow up the budget", "the demo bombed", "heads will roll", "should
  be fired", "we'll crush the competition". "Someone is going to get hurt on those stairs" is a safety report.
* **self_harm** (high) is a signal that the writer may hurt themselves: "I want to end it all", "I don't see
  the point of going on", "thinking about hurting myself", "better off dead", suicidal thoughts. Overwork idioms
  are not: "I'm killing myself to hit these deadlines", "working myself to death", "career suicide", "dead
  tired", "I'm dying to see the results", "not sure how much longer I can keep this up", "just kill me now".

Known limits: spaced-out letters ("f u c k"), words split by punctuation ("f.ck"), sarcasm, threats phrased
without any of the verbs below, and capitalised first names as threat targets are only recognised when they
are not a known product or weekday ("I'll kill Dave" is a threat, "I'll kill Jira" is not).
"""

from __future__ import annotations

import csv
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

CATEGORIES: tuple[str, ...] = ("profanity", "abuse", "threat", "self_harm")
SEVERITY: dict[str, str] = {"profanity": "low", "abuse": "medium", "threat": "high", "self_harm": "high"}
_SEVERITY_RANK = {"high": 0, "medium": 1, "low": 2}

SHIPPED_SET = Path(__file__).parent / "data" / "safety_labelled.csv"


@dataclass(frozen=True)
class SafetyFlag:
    """One reason to put a comment in the review queue; ``severity`` orders the queue (high first)."""

    category: str
    severity: str


# ------------------------------------------------------------------------------------------- profanity lexicon

PROFANITY: frozenset[str] = frozenset({
    "fuck", "fucks", "fucked", "fucker", "fuckers", "fucking", "fuckin", "fuckwit", "fuckwits", "fuckup", "fuckups",
    "fuckery", "motherfucker", "motherfuckers", "motherfucking", "clusterfuck", "fck", "fcks", "fcked", "fcking",
    "fckin", "fk", "fking", "fkin", "fkn", "fuk", "fuks", "fuking", "fukin", "fuq", "effing", "wtf", "ffs", "stfu",
    "shit", "shits", "shitty", "shite", "shitting", "shitted", "shithole", "shitholes", "shitshow", "shitstorm",
    "bullshit", "horseshit", "batshit", "dipshit", "sht", "shyt", "ass", "asses", "asshole", "assholes", "arse",
    "arses", "arsehole", "arseholes", "jackass", "dumbass", "smartass", "badass", "bitch", "bitches", "bitching",
    "bitchy", "bastard", "bastards", "damn", "damned", "dammit", "damnit", "goddamn", "goddamned", "goddammit",
    "crap", "crappy", "craphole", "piss", "pissed", "pissing", "dick", "dicks", "dickhead", "dickheads", "prick",
    "pricks", "cock", "cockup", "cunt", "cunts", "twat", "twats", "wanker", "wankers", "tosser", "tossers",
    "bollocks", "douche", "douchebag", "douchebags", "knobhead",
})
# phrases whose words are harmless alone ("screw up", "a screw")
_PROFANE_PHRASE = re.compile(
    r"\bscrew (?:this|that|you|them|him|her|it|the \w+|management|leadership|hr|everything|everyone|all)\b(?!\s+up\b)"
    r"|\bf[-'*]+(?:ing|in|ed|er|ers|ck\w*)\b",
    re.IGNORECASE,
)

_ALSO_A_NAME = frozenset({"dick"})
_NOT_COMPOUNDS = frozenset({"mishit"})

_LEET = {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s", "!": "i", "|": "l"}
_MASKS = "*#%"
_TOKEN = re.compile(r"[a-z0-9@$!*#%|]+")
_RUN3 = re.compile(r"([a-z])\1{2,}")


def _squeeze(word: str) -> str:
    """Collapse every run of a repeated letter to one letter ("fuuuck" and "fuck" both give "fuck")."""
    return re.sub(r"([a-z])\1+", r"\1", word)


@lru_cache(maxsize=1)
def _squeezed_lexicon() -> dict[str, str]:
    return {_squeeze(word): word for word in PROFANITY}


def _deleet(token: str) -> str:
    """Undo leetspeak inside a word that has letters: sh1t, a$$hole, @ss (a trailing "!" is punctuation)."""
    token = token.rstrip("!").lstrip("*")
    if not re.search("[a-z]", token):
        return ""
    return "".join(_LEET.get(ch, ch) for ch in token)


def _masked_match(token: str) -> bool:
    """A masked token (f*ck, f**king, s***) matches when some swear word fits its visible letters."""
    parts = re.split(f"([{re.escape(_MASKS)}]+)", token)
    pattern = "".join(f"[a-z]{{1,{len(p) + 2}}}" if p[0] in _MASKS else re.escape(p) for p in parts if p)
    compiled = re.compile(f"^{pattern}$")
    return any(compiled.match(word) for word in PROFANITY)


def _looks_like_name(text: str, start: int, end: int) -> bool:
    """ "Dick Smith from facilities": a swear word that is also a first name, capitalised, before a surname."""
    word = text[start:end]
    surname = re.match(r"\s+[A-Z][a-z]+", text[end:])
    return word.lower() in _ALSO_A_NAME and word[:1].isupper() and bool(surname)


def _is_profane_compound(token: str) -> bool:
    """Compounds of the two commonest roots: "dogshit", "apeshit", "fuckface", "absofuckinglutely"."""
    return "fuck" in token or (token.endswith("shit") and token not in _NOT_COMPOUNDS)


def profane_words(text: str) -> list[str]:
    """The tokens of ``text`` that are swear words once obfuscation is undone (in order, as written)."""
    found = []
    for match in _TOKEN.finditer(text.lower()):
        raw, token = match.group(0), _deleet(match.group(0))
        if not token or _looks_like_name(text, match.start(), match.end()):
            continue
        if token in PROFANITY or _is_profane_compound(token):
            found.append(raw)
        elif any(m in token for m in _MASKS):
            if _masked_match(token):
                found.append(raw)
        elif _RUN3.search(token) and _squeeze(token) in _squeezed_lexicon():
            found.append(raw)
    return found


# ------------------------------------------------------------------------------------------- shared pieces

_BOSS = (r"(?:manager|managers|boss|bosses|lead|leads|team ?lead|line manager|director|directors|supervisor|"
         r"supervisors|skip[- ]level|ceo|cto|cfo|coo|vp|vps|head of \w+|execs?|executives?|leaders?|leadership|"
         r"leadership team|management|management team|colleagues?|co-?workers?|team ?mates?|hr|hr team|"
         r"recruiters?|c-suite|founders?|owner|board|board members|partners?)")
_NOT_A_NAME = (r"(?:Jira|Slack|Zoom|Teams|Confluence|Salesforce|Workday|SharePoint|Outlook|Excel|Windows|Java|"
               r"Python|Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday|January|February|March|April|"
               r"May|June|July|August|September|October|November|December|Q[1-4]|It|This|That|The|Everything)")
# a person or group the sentence is about; capitalised names are only trusted after a harm verb (a capitalised
# word at the start of a sentence is usually not a name), masked ones ("[NAME]") everywhere
_PERSON = (rf"(?:(?:my|our|the|that|this|your|their|his|her)\s+(?:\w+\s+)?{_BOSS}(?:\s+of\s+\w+)?|"
           r"management|leadership|hr|execs|executives|managers|he|she|"
           r"(?:you (?:lot|people|guys|all)|those people|these people)(?: (?:in|from|at) (?:the )?\w+(?: team)?)?|you|"
           r"whoever\b[^.!?]{0,50}?|\[name\])")
_NAME = rf"(?!{_NOT_A_NAME}\b)(?-i:[A-Z][a-z]+)"
_TARGET = (rf"(?:him|her|them|you|someone|somebody|anyone|anybody|everyone|everybody|people|"
           rf"(?:that|this) (?:\w+ )?(?:guy|man|woman|person|idiot|moron|clown|bastard|asshole)|"
           rf"the (?:people|person|guy|man|woman|idiots?|clowns?) "
           rf"(?:who|that|responsible)|the next (?:person|one|guy)|{_PERSON}|{_NAME})"
           r"(?!'s|\w)(?!\s+with kindness)")
_COPULA = r"(?:\s+(?:is|are|was|were|has always been|have always been|is just|are just)|'s|'re)"
_INTENSIFIERS = (r"(?:(?:just|so|such|a|an|total|totally|complete|completely|utter|utterly|absolute|absolutely|"
                 r"really|truly|fucking|bloody|real|right|massive|huge|bunch of|pack of|the biggest|one big|"
                 r"nothing but|clearly|honestly)\s+)*")
_SELF_INTENT = (r"(?:\bi(?:'ll| will| shall|'m going to|'m gonna| am going to| am gonna| want to| wanna| could|"
                r" would|'d| might|'m about to| am about to| feel like| swear i'll| swear i will| swear to god i'll)"
                r"|\b(?:someone|somebody|one of us) (?:should|needs to|ought to|is going to|will|might|could)"
                r"|\bmakes? me want to|\bmade me want to|\bi(?:'m| am)? (?:this |so |very |really )?close to"
                r"|\bi (?:fantasi[sz]e|dream|think|keep thinking|daydream) (?:about|of)"
                r"|\bi(?:'ve| have)? (?:thought|been thinking|considered|dreamt|dreamed) (?:about|of))")
# up to four words between the intent and the verb ("I'm going to lose it and hit someone"), never a negation
_FILLER = r"(?:\s+(?!(?:not|never|don't|doesn't|won't|wouldn't|didn't|can't|no|nobody|without)\b)[\w']+){0,4}?"


def _compile(*patterns: str) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE)


# ------------------------------------------------------------------------------------------- abuse

_STRONG_INSULTS = (r"(?:idiots?|morons?|imbeciles?|cretins?|dimwits?|halfwits?|nitwits?|numpt(?:y|ies)|dumbass(?:es)?|"
                   r"jackass(?:es)?|assholes?|arseholes?|dickheads?|douchebags?|douches|scumbags?|dipshits?|wankers?|"
                   r"twats?|cunts?|retards?|tossers?|knobheads?|fuckwits?|motherfuckers?|buffoons?|bastards?)")
_WEAK_INSULTS = (r"(?:bitch(?:es)?|pricks?|clowns?|losers?|joke|disgrace|snakes?|pigs?|muppets?|psychos?|"
                 r"psychopaths?|sociopaths?|cowards?|parasites?|weasels?|rats?|liars?|worms?|tools?|gits?|bull(?:y|ies)|"
                 r"slackers?|crooks?|thie(?:f|ves)|leech(?:es)?|hypocrites?|dinosaurs?|jerks?|fools?|scum|creeps?|perverts?|"
                 r"waste of (?:space|oxygen|a salary)|piece of (?:shit|crap|work)|excuse for a human)")
_INSULT_ADJ = (r"(?:stupid|dumb|useless|pathetic|worthless|brainless|spineless|gutless|idiotic|moronic|vile|"
               r"brain[- ]?dead|thick as (?:two short planks|a brick)|a waste of space)")
# any adjectives before an insult noun ("a smug git", "a lazy, useless slacker", "greedy pigs")
_NOUN_ADJ = r"(?:[a-z-]+,?\s+){0,3}?"
# the insult noun closes the phrase ("a joke" but not "a joke teller"), so the noun is not a modifier
_NOUN_END = (r"(?=\s*(?:$|[.!?,;:)\-])|\s+(?:and|but|who|to|of|with|in|at|for|if|because|plain|honestly|tbh|"
             r"frankly|though|every|all|as|from|on|that|like)\b)")
_SELF_DIRECTED = re.compile(
    r"(?:\b(?:i|me|we|us|people|everyone|staff|employees)\b(?:\s+\w+){0,2}\s+like\s+(?:an?\s+|total\s+|complete\s+|"
    r"bunch of\s+)*$"
    r"|\b(?:i|we)(?:'m|'re| am| are| was| were| feel| felt| looked?)\s+(?:such\s+|an?\s+|total\s+|complete\s+|"
    r"absolute\s+|bit of an?\s+|right\s+)*$)",
    re.IGNORECASE,
)
_STRONG_INSULT_RE = re.compile(rf"\b{_STRONG_INSULTS}\b(?![- ]proof)", re.IGNORECASE)
_ADJ_END = r"(?=\s*(?:$|[.!?,;:)\-])|\s+(?:and|but|as|too|honestly|tbh|frankly|though|to everyone)\b)"
_NOT_PEOPLE_AFTER = (r"(?!\s+(?:training|decisions?|meetings?|style|updates?|layers?|structure|process(?:es)?|"
                     r"changes?|tools?|reviews?|programs?|courses?|chain|system|offsite|team meetings?|emails?)\b)")
_ABUSE = _compile(
    # name-calling a person: "my manager is a joke", "you clowns", "our director is useless"
    rf"(?<!\w){_PERSON}{_COPULA}\s+{_INTENSIFIERS}{_NOUN_ADJ}{_WEAK_INSULTS}{_NOUN_END}",
    rf"(?<!\w){_PERSON}{_COPULA}\s+{_INTENSIFIERS}{_INSULT_ADJ}\b{_ADJ_END}",
    rf"\byou\s+(?:{_INSULT_ADJ}\s+)?{_WEAK_INSULTS}\b",
    rf"(?<!\w){_PERSON}(?:\s+(?:is|are|was|were)|'re)\s+{_INTENSIFIERS}{_INSULT_ADJ}\s+(?!(?:at|when|in|with|about|for|to|on)\b)[\w-]+"
    rf"{_NOUN_END}",
    r"\b(?:those|these|you|what a bunch of|bunch of) (?:\w+\s+)?(?:clowns|jerks|muppets|losers|cowards|pricks|bullies|"
    r"scum|fools|hypocrites|crooks|parasites|leeches|weasels|morons|idiots)\b",
    rf"\b{_INSULT_ADJ}\s+(?:\w+\s+)?(?:{_BOSS}|people|person|man|woman|guy|bitch|cow|pig)\b{_NOT_PEOPLE_AFTER}",
    r"\b(?:pathetic|sorry|poor|miserable) excuse (?:for|of) an? (?:\w+\s+)?"
    r"(?:leader|manager|boss|human|human being|person|man|woman|director|ceo|lead|colleague)\b",
    # harassment aimed at someone
    r"\b(?:fuck|screw|f\*+k|f\*+ck)\s+(?:you|off|him|her|them|management|leadership|hr)\b",
    r"\bgo\s+(?:to\s+hell|fuck\s+(?:yourself|yourselves|off)|die)\b",
    r"\b(?:piss|bugger|sod)\s+off\b", r"\bkiss my (?:ass|arse)\b", r"\beat shit\b", r"\bdrop dead\b",
    r"\bshut (?:your|his|her|their) (?:mouth|trap|face)\b", r"\bget (?:stuffed|bent)\b",
    r"\bnobody (?:likes|can stand) (?:you|him|her)\b",
)


def _is_abuse(text: str) -> bool:
    if _ABUSE.search(text):
        return True
    for match in _STRONG_INSULT_RE.finditer(text):
        clause = re.split(r"[.!?;]", text[: match.start()])[-1]
        if not _SELF_DIRECTED.search(clause):
            return True
    return False


# ------------------------------------------------------------------------------------------- threat

_HARM_VERB = (r"(?:kill|killing|murder|murdering|strangle|strangling|stab|stabbing|punch|punching|slap|slapping|"
              r"hurt|hurting|harm|harming|beat up|beating up|"
              r"(?:beat|beating|kick|kicking|knock|knocking|punch|punching|smack) the "
              r"(?:shit|crap|hell|living daylights|stuffing) out of|"
              r"smack|smacking|throttle|throttling|choke|choking|attack|attacking|assault|assaulting|deck|decking|"
              r"poison|poisoning|run over|(?:shoot|shooting|hit|hitting)"
              r"(?=\s+\w+(?!\w)(?!\s+(?:an?|the|some|over|back|up|with|on|my|our|your|this|that|off|out)\b)))")
_BODY = r"(?:neck|legs?|arms?|face|nose|jaw|teeth|head|skull|fingers?|knees?|kneecaps?)"
_PLACE = (r"(?:something|things|stuff|everything|the (?:office|building|place|windows?|walls?|furniture|"
          r"kitchen|server room)|this (?:place|office|building)|(?:his|her|their|your|the \w+'s) "
          r"(?:car|office|desk|house|windows?)|the whole place|a (?:window|chair|desk))")
_PLACE_NARROW = (r"(?:a wall|the walls?|a window|the windows?|(?:his|her|their|your|the boss's|my manager's) "
                 r"(?:car|windows?|door|office|desk|face|tyres|tires))")
_THREAT = _compile(
    # intent + harm verb + a person: "I'll kill him", "someone should punch my manager", "I want to hurt you"
    rf"{_SELF_INTENT}{_FILLER}\s+{_HARM_VERB}\s+{_TARGET}",
    rf"{_SELF_INTENT}{_FILLER}\s+(?:break|smash|bash|kick) (?:in )?(?:his|her|their|your|someone's|"
    rf"(?:my|our|the) \w+'s) {_BODY}",
    # wrecking property: "I swear I'll snap and smash something", "someone should burn this place down"
    rf"{_SELF_INTENT}{_FILLER}\s+(?:smash|smashing|trash|trashing|wreck|wrecking|torch|torching|vandali[sz]e|"
    rf"set fire to|burn down|blow up)\s+{_PLACE}",
    rf"{_SELF_INTENT}{_FILLER}\s+(?:punch|punching|kick in|break|breaking|key|keying|slash|slashing)\s+{_PLACE_NARROW}",
    r"\b(?:burn|burning|torch)\s+(?:this|the|that)\s+(?:place|office|building|company)\s+(?:down|to the ground)",
    r"\b(?:blow|blowing) up (?:the|this|that) (?:office|building|place|hq|headquarters)\b",
    r"\bset (?:fire to|on fire) (?:the|this|that|his|her) (?:office|building|place|car|house)\b",
    # menace
    r"\bi know where (?:he|she|they|you|[^.!?]{1,40}?) (?:lives?|parks?|sleeps?|stays?|drops? (?:the|their|his|"
    r"her) kids)\b",
    rf"\b(?:throw|throwing|threw|hurl|hurling) (?:a|the|my|this|that) (?:chair|stapler|mug|cup|laptop|keyboard|"
    rf"brick|rock|punch|monitor|bottle) at {_TARGET}",
    rf"{_SELF_INTENT}{_FILLER}\s+(?:knock|knocking|deck|decking|floor|flooring) {_TARGET} (?:out|down)\b"
    r"(?!\s+(?:with|of the park))",
    rf"\bmake {_TARGET} (?:suffer|bleed)\b|\bmake {_TARGET} pay\b(?!\s+(?:for (?!this|that|what)|[a-z]))",
    r"\b(?:put|putting|pump) (?:a )?bullets? (?:in|into|through)\b|\bsix feet under\b",
    r"\bput (?:him|her|them|you|my manager|my boss) in (?:the )?(?:hospital|ground|grave)\b",
    r"\bbreak (?:every|all the) bones? in (?:his|her|their|your) body\b",
    rf"{_SELF_INTENT}{_FILLER}\s+(?:slash|slashing|key|keying|let down|letting down) (?:the |his |her |their |"
    rf"\w+'s )?(?:tyres|tires|car)\b",
    rf"\b(?:waiting|wait|be waiting) for {_TARGET} (?:in|at|outside) (?:the )?(?:car park|parking lot|parking garage|"
    r"garage|(?:his|her|their) (?:house|home|car))\b",
    rf"{_SELF_INTENT}{_FILLER}\s+(?:run|running) (?:over )?{_TARGET}(?: over)?\b",
    rf"{_SELF_INTENT}{_FILLER}\s+(?:get(?:ting)? even with|get(?:ting)? back at|(?:take|get|getting|taking) "
    rf"(?:my )?revenge on) {_TARGET}",
    r"\b(?:fist|foot|boot|knee|elbow|head) (?:through|into|in) (?:\w+\s+)?(?:\w+'s|his|her|their|your) "
    r"(?:face|head|teeth|jaw|skull)\b",
    r"\bget(?:s|ting)? (?:their|his|her|your) (?:heads?|teeth|faces?|legs?) (?:kicked|smashed|bashed|punched|knocked)"
    r" in\b",
    r"\b(?:and|or) (?:you|he|she|they)(?:'ll| will) (?:be sorry|regret it|pay for it)\b",
    r"\bset (?:his|her|their|your|the|this|that) (?:\w+ )?(?:car|office|house|building|desk|place) "
    r"(?:on fire|alight|ablaze)\b",
    r"\bi know (?:where|which school) (?:his|her|their|your) (?:kids|children|family)\b",
    rf"(?<!\w)(?:someone|somebody|people|anyone|{_PERSON})(?:'s| is| are| will)? (?:going to|gonna|will)? ?"
    r"(?:get|be|ends? up|winds? up) (?:hurt|killed|shot|stabbed|beaten(?: up)?)\b"
    r"(?!\s+(?:on|by|in|at|from|because|using|with|if (?:we|they) don't|unless|during|while|when|doing))",
    rf"(?<!\w)(?:{_PERSON}|they)(?:'ll| will| is going to| are going to| is gonna| are gonna) (?:pay|be sorry)"
    r" for (?:this|that|what (?:they|he|she|you)(?:'ve| have)? (?:did|done|said))\b",
    rf"\bmake (?:sure|certain) (?:that )?{_PERSON} (?:pays? for (?:this|that|what|it\b(?!\s+\w))|"
    r"will pay for (?:this|that|what)|suffers?|gets? what)",
    r"\b(?:the next (?:person|one|guy|manager|idiot)|whoever|anyone who)\b[^.!?]{0,60}"
    r"(?:is going to|are going to|is gonna|will|'ll) (?:regret it|regret this|be sorry)\b",
    rf"(?<!\w){_PERSON}(?!\w)[^.!?]{{0,40}}(?:is going to|are going to|will|'ll) (?:regret|be sorry)[^.!?]{{0,30}}"
    r"\bi (?:promise|swear)\b",
    rf"(?<!\w)(?:{_PERSON}|they|someone)\s+(?:deserves?|should|ought|needs?) (?:to )?(?:all )?(?:be|get) "
    r"(?:shot|killed|stabbed|beaten(?: up)?|punched|strangled|hanged|hung|hurt|lined up and shot|taken out back)\b"
    r"(?!\s+down)",
    r"\b(?:bring|bringing|brought) (?:a|my|the) (?:gun|knife|weapon|bat|baseball bat|rifle|shotgun) (?:to|into)\b",
    r"\bshoot up (?:the|this) (?:place|office|building)\b", r"\bgo(?:ing|ne)? postal\b",
    r"\bthere will be (?:blood|bloodshed|violence)\b",
    rf"(?<!\w){_PERSON}(?:'d| had| would) better watch (?:his|her|their|your) back\b",
    r"\bwatch your back\b", r"\bwon't (?:know|see) what hit (?:him|her|them|you)\b",
)


def _is_threat(text: str) -> bool:
    return bool(_THREAT.search(text))


# ------------------------------------------------------------------------------------------- self-harm

_SELF_HARM = _compile(
    r"\b(?:kill|killing|end|ending|off|offing|top|topping) myself\b"
    r"(?!\s+(?:to|for|over|with|working|trying|at|on|doing|getting|just to|so that|laughing))",
    r"\b(?:want|wanna|going|gonna|urge|urges|thinking about|thought about|thoughts of|feel like|tempted|might|could|"
    r"'ll|will|keep|started|been)\b[^.!?]{0,15}\b(?:hurt|hurting|harm|harming|cut|cutting) myself\b"
    r"(?!\s+(?:some slack|off))",
    r"\bself[- ]?harm(?:ing)?\b",
    r"\bsuicid(?:e|al)\b",
    r"\b(?:end|ending|take|taking) (?:it all|my (?:own )?life)\b(?!\s+(?:back|into|with|at))",
    r"\b(?:no|don't see the|do not see the|don't see any|what's the|lost the|not much|see no) point "
    r"(?:in |of )?(?:going on|carrying on|living|being alive|waking up|existing|anything anymore|life|"
    r"me being here)\b(?!\s+with\b)",
    r"\b(?:want|wanna|wanted|wish) (?:to|i could) die\b",
    r"\bdon't (?:want|wish) to (?:live|be alive|wake up|exist)(?: tomorrow)? (?:anymore|any more)\b",
    r"\bdon't (?:want|wish) to be alive\b",
    r"\b(?:wish(?:ed)? i (?:was|were|'d been) (?:dead|never born|gone)|wish i (?:wasn't|weren't) (?:alive|born))\b",
    r"\bbetter off (?:dead|without me|if i (?:wasn't|weren't) here|if i was gone)\b",
    r"\b(?:nobody|no one|no-one) (?:would|will) (?:miss me|notice if i (?:was|were) gone|care if i (?:died|was gone|"
    r"disappeared))\b",
    r"\b(?:thinking|thought|thoughts) (?:about|of) (?:ending it|ending my life|ending everything|ending things|"
    r"not being here|dying|"
    r"disappearing for good)\b",
    r"\b(?:think|thinking|thought) about not (?:waking up|being here|being alive|existing)\b",
    r"\breason to (?:keep living|keep going on|live|stay alive|go on living|carry on living|be alive)\b",
    r"\blife (?:isn't|is not|is no longer|isn't really|doesn't feel|does not feel) worth (?:living|it)\b",
    r"\bnot worth living\b",
    r"\b(?:i|me)\b[^.!?]{0,25}\bstay alive\b",
    r"\b(?:feel like|want to|going to|thinking about|thought about|close to) (?:ending|end) it\b(?=\s*(?:$|[.!,;]))",
    r"\b(?:whether|if) i live or die\b|\bif i (?:was|were) dead\b",
    r"\b(?:tired|sick|weary) of (?:living|being alive|life)\b(?!\s+(?:out of|in|with|on|like|from|at|as)\b)",
    r"\b(?:sleep|go to sleep|fall asleep|go to bed) and (?:not|never) wake up\b",
    r"\b(?:planning|plan|planned|plans|figured out|research(?:ed|ing)?) (?:how|when|ways?) to (?:end it|end my life|"
    r"kill myself|do it without)\b",
    r"\bbetter (?:off )?without me\b",
    r"\b(?:disappear|vanish) (?:forever|for good|permanently)\b",
    r"\b(?:jump|jumping) (?:off|from) (?:a|the) (?:bridge|roof|building|balcony)\b",
    r"\b(?:step|stepping|throw myself) in front of (?:a|the) (?:train|bus|car|truck)\b",
    r"\b(?:take|taking|took) an overdose\b|\boverdos(?:ed|ing) on\b",
    r"\bnot (?:want|wanting) to be (?:alive|around) anymore\b",
)
_SELF_HARM_IDIOMS = re.compile(r"\b(?:career|political|commercial|social|corporate) suicide\b|\bsuicide (?:mission|"
                               r"squad|run|doors?|prevention|awareness)\b", re.IGNORECASE)


def _is_self_harm(text: str) -> bool:
    return bool(_SELF_HARM.search(_SELF_HARM_IDIOMS.sub(" ", text)))


# ------------------------------------------------------------------------------------------- the public API


def normalise(text: str) -> str:
    """Typographic noise removed so patterns see plain words: curly quotes, accents, doubled spaces, leetspeak.

    Case is kept (a capitalised word may be a name); matching is case-insensitive everywhere else.
    """
    text = unicodedata.normalize("NFKC", text)
    text = text.replace("\u2019", "'").replace("\u2018", "'").replace("\u201c", '"').replace("\u201d", '"')
    text = re.sub(r"\s+", " ", text).strip()

    def unleet(match: re.Match[str]) -> str:
        word = match.group(0)
        if not re.search("[A-Za-z]", word) or not re.search(r"[A-Za-z][0-9@$|][A-Za-z]|[0-9$][A-Za-z]{2}", word):
            return word
        return "".join(_LEET.get(ch, ch) for ch in word)

    return re.sub(r"[A-Za-z0-9@$|]+", unleet, text)


def categories(text: str) -> set[str]:
    """The categories that ``text`` falls under (empty when it is clean)."""
    clean = normalise(text)
    found = set()
    if profane_words(clean) or _PROFANE_PHRASE.search(clean):
        found.add("profanity")
    if _is_abuse(clean):
        found.add("abuse")
    if _is_threat(clean):
        found.add("threat")
    if _is_self_harm(clean):
        found.add("self_harm")
    return found


def flag(text: str) -> list[SafetyFlag]:
    """One flag per category found in ``text``, most severe first (ties in :data:`CATEGORIES` order)."""
    found = categories(text)
    ordered = sorted((c for c in CATEGORIES if c in found), key=lambda c: _SEVERITY_RANK[SEVERITY[c]])
    return [SafetyFlag(category=c, severity=SEVERITY[c]) for c in ordered]


def load_labelled(path: Path = SHIPPED_SET) -> list[tuple[str, set[str]]]:
    """The labelled safety set: (text, expected categories) per row; ``categories`` is ``;``-separated."""
    with path.open(newline="", encoding="utf-8") as handle:
        return [(row["text"], {c for c in row["categories"].split(";") if c}) for row in csv.DictReader(handle)]


def precision_recall(rows: list[tuple[str, set[str]]]) -> dict:
    """Per-category precision and recall of :func:`flag` on labelled rows, plus the rows it got wrong."""
    report: dict = {"rows": len(rows), "errors": []}
    predicted = [categories(text) for text, _ in rows]
    for category in CATEGORIES:
        tp = sum(category in p and category in e for p, (_, e) in zip(predicted, rows))
        fp = sum(category in p and category not in e for p, (_, e) in zip(predicted, rows))
        fn = sum(category not in p and category in e for p, (_, e) in zip(predicted, rows))
        report[category] = {"precision": tp / (tp + fp) if tp + fp else 1.0,
                            "recall": tp / (tp + fn) if tp + fn else 1.0,
                            "tp": tp, "fp": fp, "fn": fn, "support": tp + fn}
    report["errors"] = [(text, sorted(e), sorted(p)) for p, (text, e) in zip(predicted, rows) if p != e]
    return report


def evaluate_shipped() -> dict:
    """Precision/recall per category on the shipped labelled set (the figures quoted in the docs and tests)."""
    return precision_recall(load_labelled())
