"""Free-text survey comments that read like real ones.

A comment is composed from a bank of sentence fragments per theme (the eight drivers plus common workplace
themes) and sentiment, with openers, connectors and closers, small placeholders (tools, meetings, who the
boss is), occasional typos and line breaks. The generator decides *what* a respondent says (sentiment, theme,
whether the comment carries personal data or abuse); this module decides *how* it is worded.

Personal data (names, e-mails, phone numbers, US SSNs, Luhn-valid card numbers) and abusive or threatening
sentences are planted on purpose: the NLP assets must mask the former and flag the latter.
"""

from __future__ import annotations

import random

SENTIMENTS: tuple[str, ...] = ("negative", "mixed", "neutral", "positive")

DRIVER_THEMES: tuple[str, ...] = (
    "recognition", "growth", "manager_relationship", "peer_relationships",
    "wellbeing", "autonomy", "alignment", "communication",
)
OTHER_THEMES: tuple[str, ...] = (
    "workload", "pay", "tools", "meetings", "leadership", "career", "remote_work", "office", "onboarding", "process",
)
THEMES: tuple[str, ...] = DRIVER_THEMES + OTHER_THEMES

PII_KINDS: tuple[str, ...] = ("name", "email", "phone", "ssn", "card")

# ------------------------------------------------------------------------------------------- placeholders

SLOTS: dict[str, tuple[str, ...]] = {
    "boss": ("my manager", "my lead", "my team lead", "our manager", "my boss", "our director", "my line manager"),
    "tool": ("Jira", "Confluence", "Slack", "Salesforce", "the VPN", "the CI pipeline", "Workday", "Zoom",
             "the ticketing system", "the expense tool", "the CRM", "Teams", "our build system", "SharePoint"),
    "period": ("lately", "this quarter", "since the reorg", "over the last few months", "this year",
               "recently", "since the last survey"),
    "meeting": ("standups", "status meetings", "all-hands", "1:1s", "planning meetings", "sync calls", "retros",
                "weekly team meetings"),
    "other_team": ("product", "sales", "platform", "finance", "marketing", "support", "design", "legal", "ops"),
}

# ------------------------------------------------------------------------------------------- the fragment bank

FRAGMENTS: dict[str, dict[str, tuple[str, ...]]] = {
    "recognition": {
        "positive": (
            "{boss} is great at calling out good work in front of the team.",
            "I really appreciate the shout-outs in our {meeting}.",
            "I feel like my work is actually noticed here.",
            "The peer kudos channel is a small thing but it makes a real difference.",
            "Got a thank-you note from a director last month, which meant a lot.",
            "Wins get celebrated here, even the small ones.",
            "Recognition feels genuine, not just a box being ticked.",
        ),
        "negative": (
            "Nobody notices the work unless something breaks.",
            "I've put in a lot of extra hours {period} and not a single thank you.",
            "Credit always goes to the same two people.",
            "Recognition only goes to the loud people, the quiet work is invisible.",
            "We shipped a huge project and it wasn't even mentioned at the all-hands.",
            "I feel completely invisible here.",
            "The \"employee of the month\" thing feels like a popularity contest.",
            "{boss} takes credit for the team's work in front of leadership.",
            "No recognition at all.",
        ),
        "neutral": (
            "It would be nice to have a simple way to thank colleagues on other teams.",
            "Maybe share customer feedback with the people who actually did the work.",
            "A quarterly recognition round could work well.",
            "More recognition for behind-the-scenes work please.",
            "Recognition is ok, it could be more consistent across teams.",
        ),
    },
    "growth": {
        "positive": (
            "I've learned more here in a year than in my previous three jobs.",
            "The learning budget is generous and easy to use.",
            "{boss} actively looks for stretch projects for me.",
            "I got to move into a new area {period} and it's been great for my development.",
            "The mentoring program has been really valuable.",
            "Lots of room to grow if you want it.",
            "The internal training sessions are genuinely useful.",
        ),
        "negative": (
            "I have no idea what I need to do to get promoted.",
            "There's no real career path for people in my role.",
            "I've been doing the same thing for two years and I'm not learning anything new.",
            "The learning budget exists on paper but nobody has time to use it.",
            "Promotions seem to depend on who you know, not what you do.",
            "Development conversations keep getting cancelled.",
            "I feel stuck.",
            "All the interesting projects go to the same people.",
            "My growth has stalled completely {period}.",
        ),
        "neutral": (
            "A clear career framework for each role would help.",
            "It would be good to have more internal mobility between teams.",
            "Would love to see more mentoring opportunities.",
            "Please publish the promotion criteria.",
            "Maybe set aside protected time for learning each month.",
        ),
    },
    "manager_relationship": {
        "positive": (
            "{boss} is the best manager I've had.",
            "My manager always makes time for me, even when things are hectic.",
            "I trust my manager completely.",
            "{boss} gives honest, useful feedback.",
            "Our 1:1s are actually useful.",
            "My manager has my back.",
            "Great support from {boss} during a tough personal time.",
        ),
        "negative": (
            "{boss} cancels our 1:1s almost every week.",
            "I never get feedback until it's too late to do anything about it.",
            "My manager micromanages every small decision.",
            "I don't feel I can be honest with {boss}.",
            "{boss} is never available when the team needs a decision.",
            "Feedback from my manager is vague and inconsistent.",
            "There's a lot of favouritism from {boss}.",
            "My manager doesn't seem to understand what I actually do.",
            "My manager changed three times in a year, there's no continuity.",
        ),
        "neutral": (
            "Regular 1:1s would help.",
            "Some manager training would be useful, especially for new leads.",
            "I would like more frequent feedback, not just at review time.",
            "It would be good to give upward feedback to managers.",
            "My manager is fine, we just don't talk very often.",
        ),
    },
    "peer_relationships": {
        "positive": (
            "I love my team.",
            "My colleagues are smart, kind and always willing to help.",
            "The people are the best part of working here.",
            "Great collaboration across teams {period}.",
            "Everyone on the team pulls their weight.",
            "I feel really supported by my teammates.",
            "There's a genuine sense of camaraderie here.",
        ),
        "negative": (
            "There's a lot of blame when things go wrong.",
            "Some people on the team don't pull their weight and nothing happens.",
            "Collaboration with the other teams is painful.",
            "There's a clique on my team and it's hard to be included.",
            "People are not respectful in meetings, there's lots of interrupting.",
            "Silos everywhere, nobody shares anything.",
            "Team morale is low and it shows in how people treat each other.",
            "Constant friction between us and the {other_team} team.",
        ),
        "neutral": (
            "A team offsite would be nice.",
            "Maybe more cross-team projects so we get to know each other.",
            "It would be good to have some social events that aren't after hours.",
            "The team is fine, nothing special to report.",
            "More chances to meet colleagues from other offices, please.",
        ),
    },
    "wellbeing": {
        "positive": (
            "I can switch off in the evenings and nobody expects me to answer messages.",
            "The flexible hours make a huge difference for my family.",
            "The pace feels sustainable.",
            "I appreciated the extra wellbeing day.",
            "People here genuinely care about your health.",
            "Good work-life balance overall.",
        ),
        "negative": (
            "I'm exhausted.",
            "I'm close to burning out and I'm not the only one.",
            "Working weekends has become normal {period}.",
            "I regularly answer messages at 11pm because that's the expectation.",
            "The pace is not sustainable, people are getting sick.",
            "I haven't been able to take a proper holiday this year.",
            "Wellbeing initiatives are nice but they don't fix the workload.",
            "Stress levels on the team are way too high.",
            "My sleep is suffering because of work.",
        ),
        "neutral": (
            "Maybe no-meeting Fridays?",
            "It would help to have clearer expectations about responding out of hours.",
            "Mental health days would be a good addition.",
            "Please remind people to take their leave.",
            "A quieter period after big launches would help people recover.",
        ),
    },
    "autonomy": {
        "positive": (
            "I have a lot of freedom in how I do my work.",
            "I'm trusted to make decisions without asking for permission every time.",
            "{boss} gives me space to figure things out.",
            "We get to choose our own tools and approach, which I love.",
            "I feel real ownership over my projects.",
            "Great balance of guidance and freedom.",
        ),
        "negative": (
            "Every small decision needs three approvals.",
            "I'm told what to do and how to do it, there's no room for judgement.",
            "Decisions get made above us and we just have to execute.",
            "I don't feel trusted to do my job.",
            "We're not allowed to change anything about how we work.",
            "Constant check-ins make it impossible to focus.",
            "Any initiative gets shut down.",
            "Zero autonomy.",
        ),
        "neutral": (
            "Maybe let teams decide their own processes.",
            "Clearer decision rights would help.",
            "I'd like more say in which projects I work on.",
            "It would help to know which decisions I can make on my own.",
            "Autonomy is fine, no complaints there.",
        ),
    },
    "alignment": {
        "positive": (
            "I understand where the company is going and I believe in it.",
            "The strategy is clear and I can see how my work fits.",
            "Really proud of what we're building.",
            "The quarterly goals make sense and everyone knows them.",
            "I believe in our mission.",
            "Leadership did a good job explaining the priorities {period}.",
        ),
        "negative": (
            "Priorities change every few weeks and nobody explains why.",
            "I have no idea what the strategy is.",
            "We're working on things that don't seem to matter to anyone.",
            "The goals we were given contradict each other.",
            "It feels like every team is pulling in a different direction.",
            "The mission sounds nice but the day-to-day doesn't match it.",
            "We keep starting projects and then dropping them halfway.",
            "Nobody can tell me why this project exists.",
            "\"Strategic priority\" seems to mean whatever leadership said last week.",
        ),
        "neutral": (
            "A one-page summary of the company goals would help.",
            "Please connect team goals to the company goals more explicitly.",
            "More context on why priorities change would be helpful.",
            "I'd like a yearly roadmap review with everyone.",
            "The strategy is mostly clear, some details are fuzzy.",
        ),
    },
    "communication": {
        "positive": (
            "The all-hands are informative and leadership is honest.",
            "I always know what's going on, communication is really good.",
            "Love the weekly update email.",
            "I feel heard when I raise something.",
            "Information is shared openly here, which I really value.",
            "Communication has been transparent {period}, much better than before.",
        ),
        "negative": (
            "I find out about important changes from the rumour mill.",
            "We heard about the reorg on LinkedIn before we heard it from leadership.",
            "Communication is terrible.",
            "Decisions are announced without any explanation.",
            "Nobody tells us anything until it's too late.",
            "Feedback goes into a black hole, nothing ever comes back.",
            "Too many channels, important messages get lost.",
            "Leadership says they want feedback but they don't listen.",
        ),
        "neutral": (
            "A short written summary after each all-hands would help.",
            "Maybe one place where all announcements go.",
            "It would be good to close the loop on survey feedback.",
            "Please share meeting notes for those in other time zones.",
            "Communication is ok, it could be more timely.",
        ),
    },
    "workload": {
        "positive": (
            "The workload is busy but fair.",
            "We finally got the headcount we needed and it shows.",
            "Good prioritisation {period}, we're not trying to do everything at once.",
            "Deadlines are realistic.",
            "The team has a healthy pace right now.",
            "I have enough time to do my work properly.",
        ),
        "negative": (
            "There is way too much work for the number of people on this team.",
            "We've been running at 150% for months and there's no end in sight.",
            "Everything is a priority, so nothing is.",
            "Two people left and their work was just split among the rest of us.",
            "The workload is insane.",
            "I'm doing the job of two people.",
            "Deadlines are set without asking the people who do the work.",
            "We keep getting new projects without anything being taken off our plate.",
            "Unrealistic deadlines, every single sprint.",
            "Overtime is expected and never acknowledged.",
        ),
        "neutral": (
            "Please hire more people for the team.",
            "We need to stop saying yes to everything.",
            "A proper capacity planning process would help.",
            "Maybe review the workload before adding new projects.",
            "The workload varies a lot from week to week.",
        ),
    },
    "pay": {
        "positive": (
            "Pay is competitive and the benefits are great.",
            "The new parental leave policy is excellent.",
            "I feel fairly paid for what I do.",
            "The bonus this year was a nice surprise.",
            "The benefits are among the best I've seen.",
        ),
        "negative": (
            "Salaries haven't kept up with inflation.",
            "New hires are paid more than people who have been here for years.",
            "The pay is below market and everyone knows it.",
            "The bonus structure is a mystery.",
            "The raise this year was an insult.",
            "I can't afford to live near the office on this salary.",
            "Pay transparency is non-existent.",
            "Underpaid.",
            "We keep hearing \"there is no budget\" while new VPs get hired.",
        ),
        "neutral": (
            "Publish the salary bands please.",
            "A cost-of-living adjustment would be appreciated.",
            "I'd like to understand how bonuses are calculated.",
            "Maybe benchmark salaries against the market every year.",
            "Benefits are fine, the pension matching could be better.",
        ),
    },
    "tools": {
        "positive": (
            "The new laptops are a big improvement.",
            "{tool} works well for us.",
            "IT is quick to help when something breaks.",
            "We have good tools and the budget to get what we need.",
            "Moving to {tool} was a good call.",
        ),
        "negative": (
            "{tool} is painfully slow and wastes hours every week.",
            "My laptop is five years old and barely works.",
            "We use too many tools that don't talk to each other.",
            "Getting access to anything takes weeks of tickets.",
            "{tool} goes down at least once a week.",
            "The internal tooling is held together with duct tape.",
            "Requesting software licenses is a nightmare.",
            "{tool} is a mess.",
        ),
        "neutral": (
            "Please upgrade {tool}.",
            "It would be good to consolidate some of our tools.",
            "A better guide for {tool} would help.",
            "Maybe a second monitor for everyone who wants one.",
            "Tools are ok, some could be better.",
        ),
    },
    "meetings": {
        "positive": (
            "The no-meeting Wednesdays have been a great change.",
            "Our {meeting} are short and useful.",
            "Meetings have been much more focused {period}.",
            "Love that agendas are now required for meetings.",
            "Good meeting culture on our team.",
        ),
        "negative": (
            "Way too many meetings.",
            "Every \"quick sync\" turns into an hour.",
            "I spend most of my day in meetings and do the real work in the evening.",
            "Half our {meeting} could be an email.",
            "Meetings without agendas, without notes, without decisions.",
            "My calendar is back-to-back from 9 to 5.",
            "The {meeting} drag on for an hour with no outcome.",
            "We have meetings to prepare for other meetings.",
            "Too many people are invited to every meeting.",
        ),
        "neutral": (
            "Fewer meetings please.",
            "Maybe default meetings to 25 minutes.",
            "It would help to have one meeting-free day a week.",
            "Please share notes so not everyone has to attend.",
            "Could we review recurring meetings every quarter?",
        ),
    },
    "leadership": {
        "positive": (
            "Leadership is honest, even when the news is bad.",
            "I trust the executive team to make the right calls.",
            "The CEO's town halls are genuinely inspiring.",
            "Leadership handled the difficult quarter really well.",
            "Senior leaders are approachable and visible.",
        ),
        "negative": (
            "Leadership is completely out of touch with what's happening on the ground.",
            "The executive team keeps changing direction.",
            "I don't trust senior leadership anymore.",
            "Leadership talks about transparency but makes every decision behind closed doors.",
            "The layoffs were handled badly and nobody has owned that.",
            "We never see senior leaders unless something is on fire.",
            "Too many layers of management.",
            "The \"open door\" policy only works if someone is behind the door.",
            "Leadership doesn't seem to care about the people doing the work.",
        ),
        "neutral": (
            "More skip-level meetings would be great.",
            "I'd like to hear from leadership more often.",
            "Maybe an open Q&A with the exec team each quarter.",
            "Leadership is fine, mostly invisible to me.",
            "An update on last year's commitments would be helpful.",
        ),
    },
    "career": {
        "positive": (
            "I was promoted this year and the process felt fair.",
            "There are real opportunities to move between teams.",
            "I can see myself building a long career here.",
            "The career framework finally makes expectations clear.",
            "Great internal opportunities.",
            "My manager actually asked \"where do you want to be in two years?\" and followed up.",
        ),
        "negative": (
            "The promotion process is a black box.",
            "I was told I'm ready for promotion two cycles in a row and nothing happened.",
            "Internal candidates are always passed over for external hires.",
            "I'll have to leave to get promoted.",
            "Nobody talks about careers here.",
            "Promotions have been frozen for over a year.",
            "The performance review process is demoralising.",
            "No career progression.",
        ),
        "neutral": (
            "Please make the promotion timeline clearer.",
            "More transparency on internal job postings would help.",
            "A career conversation once a year would be a good start.",
            "I'd like to know what the senior roles look like.",
            "Career paths for individual contributors would be welcome.",
        ),
    },
    "remote_work": {
        "positive": (
            "The hybrid setup works really well for me.",
            "Being able to work from home two days a week is a game changer.",
            "Remote collaboration is really smooth on our team.",
            "I love the flexibility to work from anywhere.",
            "The remote-first approach makes it easy to work across time zones.",
        ),
        "negative": (
            "The return-to-office mandate makes no sense for my role.",
            "Remote people are always an afterthought in meetings.",
            "I spend three hours a day commuting to sit on video calls.",
            "Hybrid meetings are a mess, we can never hear the people in the room.",
            "Being fully remote gets very lonely.",
            "Office days are chosen by people who don't have to commute.",
            "Remote employees are left out of the important conversations.",
        ),
        "neutral": (
            "Let teams decide their own office days.",
            "Better meeting room equipment for hybrid calls please.",
            "A home office allowance would help.",
            "It would be good to coordinate office days so the team is actually there together.",
            "Occasional in-person meetups for remote folks would be nice.",
        ),
    },
    "office": {
        "positive": (
            "The new office is beautiful.",
            "Free lunch on Fridays is a nice touch.",
            "I really like the quiet rooms in the office.",
            "The facilities team does a great job.",
            "The coffee is excellent.",
        ),
        "negative": (
            "The office is too loud to concentrate.",
            "There are never enough desks on office days.",
            "The air conditioning has been broken for weeks.",
            "The meeting rooms are always booked.",
            "The office coffee is undrinkable.",
            "Parking is a nightmare.",
            "The open-plan office makes focused work impossible.",
        ),
        "neutral": (
            "More quiet spaces in the office would help.",
            "Maybe a desk booking system that actually works.",
            "Could we get better coffee?",
            "More bike parking please.",
            "The office is fine.",
        ),
    },
    "onboarding": {
        "positive": (
            "My onboarding was smooth and well organised.",
            "My onboarding buddy was fantastic.",
            "I felt welcome from day one.",
            "The onboarding docs were clear and up to date.",
            "I was productive within a couple of weeks thanks to a good onboarding plan.",
        ),
        "negative": (
            "My laptop arrived two weeks after I started.",
            "There was no onboarding plan at all, I was left to figure it out.",
            "The onboarding docs are years out of date.",
            "Nobody told me who to ask for anything in my first month.",
            "New joiners are thrown in at the deep end.",
            "I still don't have access to half the systems I need.",
        ),
        "neutral": (
            "An onboarding buddy for every new joiner would help.",
            "Maybe a 30-60-90 day plan for new hires.",
            "Please update the onboarding docs.",
            "A welcome session with the wider department would be nice.",
            "Onboarding was ok, a bit rushed.",
        ),
    },
    "process": {
        "positive": (
            "Our processes are lightweight and sensible.",
            "The new approval flow is much faster.",
            "Good that we finally have a clear process for releases.",
            "I like how little bureaucracy there is here.",
            "Expense reports are quick and painless now.",
        ),
        "negative": (
            "Too much bureaucracy.",
            "Getting anything approved takes weeks.",
            "We have a process for everything and none of them make sense.",
            "Filling in forms takes more time than doing the actual work.",
            "Procurement is a nightmare, it took two months to buy one license.",
            "The travel approval process is ridiculous.",
            "Every change needs a ticket, a review, a meeting and another ticket.",
            "Red tape everywhere.",
            "Every request gets the same answer: \"raise a ticket\".",
        ),
        "neutral": (
            "Maybe review which approvals are actually needed.",
            "A simpler expense process would save everyone time.",
            "Please document the processes in one place.",
            "Could we automate some of the approval steps?",
            "Processes are ok, some could be simplified.",
        ),
    },
}

GENERIC: dict[str, tuple[str, ...]] = {
    "positive": (
        "Keep doing what you're doing.",
        "Honestly, nothing. I'm happy here.",
        "Great place to work.",
        "Nothing, it's a good place to be.",
        "Best job I've had.",
    ),
    "neutral": (
        "Nothing to add this time.",
        "All good for now.",
        "No strong opinions this month.",
        "Nothing new since the last survey.",
        "n/a",
        "Can't think of anything.",
    ),
}

OPENERS: dict[str, tuple[str, ...]] = {
    "positive": ("Overall, ", "Honestly, ", "For me, ", "In general, ", "Tbh ", "I have to say, "),
    "negative": ("Honestly, ", "Frankly, ", "I'll be blunt: ", "Not going to lie, ", "Same as last time: ",
                 "To be honest, "),
    "neutral": ("One idea: ", "Small thing, but ", "Suggestion: ", "Just a thought: ", "If anything, "),
}

CLOSERS: dict[str, tuple[str, ...]] = {
    "positive": ("Keep it up!", "Thanks!", "Great place to work.", "Really happy here overall.", "No complaints.",
                 "Thanks for asking.", ":)"),
    "negative": ("Please do something about it.", "This needs to change.", "It's really frustrating.",
                 "Not sure how much longer I can keep this up.", "I've raised this before and nothing happened.",
                 "Same as the last survey.", "People are starting to leave because of this.",
                 "I don't expect anything to change though."),
    "neutral": ("Just my two cents.", "Thanks for asking.", "That's all.", "Nothing else to add.",
                "Otherwise all good."),
}

CONNECTORS: tuple[str, ...] = ("But ", "However, ", "That said, ", "On the other hand, ", "Having said that, ",
                               "The downside: ", "Only thing is, ")

ABUSE_KINDS: tuple[str, ...] = ("profanity", "threat", "insult")

ABUSIVE_BY_KIND: dict[str, tuple[str, ...]] = {
    "profanity": (
        "This place is a fucking joke.",
        "What a shit show this quarter has been.",
        "This survey is bullshit, nothing ever changes.",
        "Screw this company and screw this survey.",
        "These stupid fucking tools make me want to throw my laptop out of the window.",
        "Shut up and listen to us for once, damn it.",
    ),
    "threat": (
        "If they cut our bonus again someone is going to get hurt.",
        "Keep pushing us like this and I swear I'll snap and smash something.",
        "The next person who books a 7am meeting is going to regret it, I promise you that.",
        "I'm going to make sure {boss} pays for what they did to this team.",
        "I know where {boss} parks. Just saying.",
    ),
    "insult": (
        "{boss} is a useless idiot and everyone knows it.",
        "Management are a bunch of clueless morons.",
        "Honestly {boss} is an asshole to everyone on the team.",
        "Whoever designed this reorg should be fired, the idiots.",
        "Our director is a pathetic excuse for a leader and a total dickhead.",
    ),
}
ABUSIVE: tuple[str, ...] = tuple(line for lines in ABUSIVE_BY_KIND.values() for line in lines)

PII_TEMPLATES: dict[str, dict[str, tuple[str, ...]]] = {
    "name": {
        "positive": ("{name} in {team} was great.", "Big thanks to {name} for helping me out {period}.",
                     "{name} is the reason I'm still here.", "Shout out to {name} from {team}!",
                     "{name} deserves a promotion, seriously."),
        "negative": ("{name} keeps taking credit for other people's work.",
                     "Working with {name} has been really difficult.",
                     "{name} in {team} is constantly rude in meetings.",
                     "Nobody dares to say it, but {name} is the problem."),
        "neutral": ("I've raised this with {name} already.", "Talk to {name} in {team}, they know the details.",
                    "{name} was going to look into this."),
    },
    "email": {"any": ("Happy to talk more, email me at {email}.", "You can reach me on {email} if you want details.",
                      "I sent the details to {email} and never heard back.", "Contact me: {email}")},
    "phone": {"any": ("Call me on {phone} if you want to discuss.", "My number is {phone}, happy to chat.",
                      "Text me at {phone}.", "I can be reached at {phone} after 5.")},
    "ssn": {"any": ("HR asked me to email my SSN ({ssn}) in plain text, which is not OK.",
                    "My social security number {ssn} was printed on a payroll form left at the printer.",
                    "Payroll still has the wrong SSN for me, it should be {ssn}.")},
    "card": {"any": ("I had to put travel on my own card ({card}) because the corporate card never arrived.",
                     "Expenses still haven't reimbursed the charges on my card {card}.",
                     "Please refund my card {card}, it's been three months.")},
}

MISSPELLINGS: dict[str, str] = {
    "definitely": "definately", "receive": "recieve", "separate": "seperate", "really": "realy",
    "meetings": "meetigns", "because": "becuase", "management": "managment", "environment": "enviroment",
    "don't": "dont", "doesn't": "doesnt", "I'm": "im", "can't": "cant", "it's": "its", "there's": "theres",
    "the": "teh", "their": "there", "too": "to", "people": "poeple", "across": "accross",
}

_KEEP_CAPITAL = frozenset({"I", "I'm", "I've", "I'll", "I'd", "IT", "CEO's", "HR"}) | frozenset(
    word.split()[0] for word in SLOTS["tool"] if word[0].isupper()
)

# ------------------------------------------------------------------------------------------- helpers


def fragment_count() -> int:
    """Distinct sentence fragments and templates in the bank (before placeholders multiply them)."""
    bank = sum(len(v) for theme in FRAGMENTS.values() for v in theme.values())
    extras = (sum(len(v) for v in GENERIC.values()) + sum(len(v) for v in OPENERS.values())
              + sum(len(v) for v in CLOSERS.values()) + len(CONNECTORS) + len(ABUSIVE)
              + sum(len(v) for kind in PII_TEMPLATES.values() for v in kind.values()))
    return bank + extras


def fill(rng: random.Random, template: str, **values: str) -> str:
    """Replace ``{slot}`` placeholders with a random choice of that slot (or the given value)."""
    out = template
    for slot, choices in SLOTS.items():
        while "{" + slot + "}" in out:
            out = out.replace("{" + slot + "}", rng.choice(choices), 1)
    for key, value in values.items():
        out = out.replace("{" + key + "}", value)
    return out[0].upper() + out[1:] if out[:1].islower() else out


def decapitalise(sentence: str) -> str:
    """Lower-case the first letter so a sentence can follow an opener or connector ("But the office...")."""
    first = sentence.split(" ", 1)[0]
    if first in _KEEP_CAPITAL or first.isupper() or not sentence[:1].isalpha():
        return sentence
    return sentence[0].lower() + sentence[1:]


def pick(rng: random.Random, theme: str, sentiment: str) -> str:
    return fill(rng, rng.choice(FRAGMENTS[theme][sentiment]))


def sentence_count(rng: random.Random) -> int:
    """How many sentences a comment has: mostly one or two, sometimes three or four."""
    return rng.choices((1, 2, 3, 4), weights=(36, 34, 20, 10))[0]


def add_typo(rng: random.Random, text: str) -> str:
    """One human slip: a misspelling, swapped or dropped letters, or a missing apostrophe."""
    words = text.split(" ")
    candidates = [i for i, w in enumerate(words) if w.strip(".,!?") in MISSPELLINGS]
    if candidates and rng.random() < 0.5:
        i = rng.choice(candidates)
        core = words[i].strip(".,!?")
        words[i] = words[i].replace(core, MISSPELLINGS[core], 1)
        return " ".join(words)
    long_words = [i for i, w in enumerate(words) if len(w) >= 5 and w.isalpha()]
    if not long_words:
        return text
    i = rng.choice(long_words)
    w = words[i]
    j = rng.randrange(1, len(w) - 2)
    words[i] = w[:j] + w[j + 1] + w[j] + w[j + 2:] if rng.random() < 0.6 else w[:j] + w[j + 1:]
    return " ".join(words)


def casual_style(rng: random.Random, text: str) -> str:
    """Sometimes people type fast: all lower case, no final full stop, or an extra exclamation mark."""
    roll = rng.random()
    if roll < 0.05:
        return text.lower()
    if roll < 0.13 and text.endswith("."):
        return text[:-1]
    if roll < 0.16 and text.endswith("."):
        return text[:-1] + "!!"
    return text


def join_sentences(rng: random.Random, sentences: list[str]) -> str:
    """Join with spaces; now and then a line break, as in a comment typed into a multi-line box."""
    if len(sentences) > 1 and rng.random() < 0.05:
        return "\n".join(sentences)
    return " ".join(sentences)


# ------------------------------------------------------------------------------------------- composition


def body(rng: random.Random, sentiment: str, theme: str, second_theme: str) -> list[str]:
    """The sentences of a comment of the given sentiment, about ``theme`` (and maybe ``second_theme``)."""
    n = sentence_count(rng)
    if sentiment == "mixed":
        good = pick(rng, second_theme, "positive")
        bad = rng.choice(CONNECTORS) + decapitalise(pick(rng, theme, "negative"))
        extra = [pick(rng, theme, "neutral")] if n >= 3 else []
        return [good, bad, *extra]
    if sentiment in GENERIC and n == 1 and rng.random() < 0.15:
        return [rng.choice(GENERIC[sentiment])]
    sentences = [pick(rng, theme, sentiment)]
    if n >= 2:
        same = rng.random() < 0.6
        sentences.append(pick(rng, theme if same else second_theme, sentiment))
    if n >= 3:
        sentences.append(pick(rng, theme, "neutral") if sentiment == "negative" else
                         pick(rng, second_theme, sentiment))
    if n >= 4 or (n >= 2 and rng.random() < 0.25):
        sentences.append(rng.choice(CLOSERS[sentiment]))
    sentences = list(dict.fromkeys(sentences))  # no sentence twice, order kept
    if rng.random() < 0.12:
        sentences[0] = rng.choice(OPENERS[sentiment]) + decapitalise(sentences[0])
    return sentences


def compose_comment(
    rng: random.Random,
    sentiment: str,
    theme: str,
    second_theme: str,
    *,
    pii_sentence: str | None = None,
    abuse: str | None = None,
) -> str:
    """Write one comment.

    ``sentiment`` is negative, mixed (something good, then the problem with ``theme``), neutral (suggestions)
    or positive. ``pii_sentence`` (see :func:`pii_sentence`) is woven in; ``abuse`` (one of
    :data:`ABUSE_KINDS`) adds a profane, threatening or insulting sentence (such comments are negative).
    """
    sentences = body(rng, sentiment, theme, second_theme)
    if abuse:
        rant = fill(rng, rng.choice(ABUSIVE_BY_KIND[abuse]))
        sentences = [rant] if rng.random() < 0.3 else [*sentences[:2], rant]
    if pii_sentence:
        sentences.insert(rng.randrange(len(sentences) + 1), pii_sentence)
    text = join_sentences(rng, sentences)
    if rng.random() < 0.07:
        text = add_typo(rng, text)
    return casual_style(rng, text)


# ------------------------------------------------------------------------------------------- personal data


def luhn_check_digit(digits: str) -> str:
    """The digit that makes ``digits + check`` pass the Luhn test used by payment cards."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 0:  # these positions are doubled once the check digit is appended
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return str((10 - total % 10) % 10)


def luhn_valid(number: str) -> bool:
    """True when the digits of ``number`` (spaces and dashes ignored) pass the Luhn test."""
    digits = [int(c) for c in number if c.isdigit()]
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return len(digits) >= 12 and total % 10 == 0


def card_number(rng: random.Random) -> str:
    """A Luhn-valid Visa, Mastercard or Amex number, written with spaces, dashes or not at all."""
    brand = rng.choice(("visa", "visa", "mastercard", "amex"))
    if brand == "amex":
        body_digits = rng.choice(("34", "37")) + "".join(rng.choice("0123456789") for _ in range(12))
        number = body_digits + luhn_check_digit(body_digits)
        groups = [number[:4], number[4:10], number[10:]]
    else:
        prefix = "4" if brand == "visa" else str(rng.randint(51, 55))
        body_digits = prefix + "".join(rng.choice("0123456789") for _ in range(15 - len(prefix)))
        number = body_digits + luhn_check_digit(body_digits)
        groups = [number[i:i + 4] for i in range(0, 16, 4)]
    return rng.choice((" ", "-", "")).join(groups)


def ssn(rng: random.Random) -> str:
    """A well-formed US social security number (area never 000, 666 or 9xx)."""
    area = rng.choice([a for a in range(1, 900) if a != 666])
    return f"{area:03d}-{rng.randint(1, 99):02d}-{rng.randint(1, 9999):04d}"


def phone_number(rng: random.Random) -> str:
    """A phone number in one of several national and international formats."""
    def d(n: int) -> str:
        return "".join(rng.choice("0123456789") for _ in range(n))

    formats = (
        lambda: f"+1 (415) 555-{d(4)}", lambda: f"+1 212-555-{d(4)}", lambda: f"(646) 555-{d(4)}",
        lambda: f"+44 20 7946 {d(4)}", lambda: f"+44 7700 900{d(3)}", lambda: f"07700 900{d(3)}",
        lambda: f"+49 30 {d(8)}", lambda: f"+49 151 {d(8)}", lambda: f"+33 6 {d(2)} {d(2)} {d(2)} {d(2)}",
        lambda: f"+91 98{d(3)} {d(5)}", lambda: f"+61 4{d(2)} {d(3)} {d(3)}", lambda: f"+81 90-{d(4)}-{d(4)}",
        lambda: f"+55 11 9{d(4)}-{d(4)}", lambda: f"+234 803 {d(3)} {d(4)}", lambda: f"555.{d(3)}.{d(4)}",
    )
    return rng.choice(formats)()


def pii_sentence(
    rng: random.Random, kind: str, sentiment: str, *, person: str, team: str, email: str
) -> str:
    """A sentence carrying one piece of personal data of ``kind`` (name, email, phone, ssn or card).

    ``person``/``team`` are a real employee on the roster and their team's name; ``email`` is the address to
    leak (work or personal).
    """
    if kind == "name":
        tone = sentiment if sentiment in ("positive", "negative") else "neutral"
        template = rng.choice(PII_TEMPLATES["name"][tone])
    else:
        template = rng.choice(PII_TEMPLATES[kind]["any"])
    values = {"name": person, "team": team, "email": email}
    if kind == "phone":
        values["phone"] = phone_number(rng)
    elif kind == "ssn":
        values["ssn"] = ssn(rng)
    elif kind == "card":
        values["card"] = card_number(rng)
    return fill(rng, template, **values)
