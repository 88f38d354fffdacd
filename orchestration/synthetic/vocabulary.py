"""Words the synthetic org is made of: people's names, departments and teams, office locations, survey questions.

Everything here is plain data (tuples, so the order, and therefore every seeded draw, is fixed). The names are
deliberately diverse, the way a real international roster is, and a few carry accents so that the landing zone
exercises UTF-8 end to end.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache

FIRST_NAMES: tuple[str, ...] = (
    # English-speaking countries
    "James", "Mary", "John", "Patricia", "Robert", "Jennifer", "Michael", "Linda", "William", "Elizabeth",
    "David", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah", "Charles", "Karen",
    "Christopher", "Nancy", "Daniel", "Lisa", "Matthew", "Betty", "Anthony", "Margaret", "Mark", "Sandra",
    "Emily", "Olivia", "Ethan", "Hannah", "Noah", "Chloe", "Liam", "Grace", "Ryan", "Megan",
    "Tyler", "Lauren", "Kevin", "Rachel", "Brian", "Amanda", "Jason", "Nicole", "Justin", "Samantha",
    # Spanish and Portuguese
    "José", "María", "Carlos", "Lucía", "Javier", "Sofía", "Diego", "Valentina", "Alejandro", "Camila",
    "Mateo", "Isabella", "Andrés", "Gabriela", "Luis", "Ana", "Pedro", "Mariana", "João", "Beatriz",
    # South Asian
    "Priya", "Rahul", "Ananya", "Arjun", "Deepa", "Vikram", "Kavya", "Rohan", "Sneha", "Aditya",
    "Meera", "Sanjay", "Pooja", "Nikhil", "Lakshmi", "Imran", "Ayesha", "Farhan", "Nadia", "Tariq",
    # East and South-East Asian
    "Wei", "Mei", "Jun", "Xiu", "Hiroshi", "Yuki", "Haruto", "Sakura", "Min-jun", "Ji-woo",
    "Seo-yeon", "Hyun", "Linh", "Minh", "Thanh", "Mai", "Arif", "Siti", "Ramon", "Maricel",
    # African
    "Chinedu", "Ngozi", "Kwame", "Ama", "Oluwaseun", "Folake", "Tendai", "Thandiwe", "Kofi", "Abena",
    "Sipho", "Zanele", "Amani", "Wanjiru", "Tunde", "Adaeze", "Yaw", "Efua", "Kagiso", "Lerato",
    # Middle Eastern and North African
    "Omar", "Fatima", "Ahmed", "Layla", "Youssef", "Yasmin", "Karim", "Rania", "Hassan", "Leila",
    "Mustafa", "Noor", "Ali", "Zainab", "Samir", "Dalia", "Ibrahim", "Salma", "Khalid", "Hana",
    # European
    "Lukas", "Anna", "Jonas", "Lena", "Matteo", "Giulia", "Luca", "Chiara", "Pierre", "Camille",
    "Louis", "Chloé", "Søren", "Freja", "Lars", "Ingrid", "Mikael", "Elin", "Jan", "Katarzyna",
    "Piotr", "Agnieszka", "Łukasz", "Zofia", "Ivan", "Olga", "Dmitri", "Natalia", "Andrei", "Ioana",
    "Niamh", "Seán", "Aoife", "Cian", "Eilidh", "Callum", "Zoë", "Bram", "Sanne", "Jörg",
    # more, to keep repeats rare in a 50,000-person roster
    "Alex", "Jordan", "Taylor", "Morgan", "Casey", "Riley", "Jamie", "Avery", "Quinn", "Rowan",
    "Isaac", "Naomi", "Elijah", "Miriam", "Gabriel", "Esther", "Samuel", "Ruth", "Benjamin", "Leah",
)

LAST_NAMES: tuple[str, ...] = (
    # English-speaking countries
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Wilson", "Anderson", "Taylor",
    "Thomas", "Moore", "Jackson", "Martin", "Thompson", "White", "Harris", "Clark", "Lewis", "Robinson",
    "Walker", "Young", "Allen", "King", "Wright", "Scott", "Green", "Baker", "Adams", "Nelson",
    "Hill", "Campbell", "Mitchell", "Roberts", "Carter", "Phillips", "Evans", "Turner", "Parker", "Collins",
    "Edwards", "Stewart", "Morris", "Murphy", "Cook", "Rogers", "Morgan", "Cooper", "Peterson", "Reed",
    # Irish and Scottish
    "O'Brien", "O'Connor", "Kelly", "Byrne", "Ryan", "Doyle", "MacDonald", "Fraser", "Sinclair", "McKenzie",
    # Spanish and Portuguese
    "García", "Rodríguez", "Martínez", "Hernández", "López", "González", "Pérez", "Sánchez", "Ramírez", "Torres",
    "Flores", "Rivera", "Gómez", "Díaz", "Morales", "Ortiz", "Castillo", "Silva", "Santos", "Oliveira",
    "Pereira", "Costa", "Almeida", "Ferreira", "Núñez",
    # South Asian
    "Patel", "Shah", "Sharma", "Singh", "Kumar", "Gupta", "Reddy", "Iyer", "Nair", "Menon",
    "Rao", "Desai", "Mehta", "Joshi", "Chatterjee", "Banerjee", "Das", "Khan", "Hussain", "Chaudhry",
    # East and South-East Asian
    "Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Huang", "Zhao", "Wu", "Zhou",
    "Sato", "Suzuki", "Takahashi", "Tanaka", "Watanabe", "Kim", "Lee", "Park", "Choi", "Jung",
    "Nguyen", "Tran", "Le", "Pham", "Hoang", "Santos-Cruz", "Reyes", "Bautista", "Tan", "Lim",
    # African
    "Okafor", "Adeyemi", "Okonkwo", "Mensah", "Boateng", "Asante", "Mwangi", "Otieno", "Kamau", "Dlamini",
    "Ndlovu", "Nkosi", "Moyo", "Banda", "Abubakar", "Eze", "Balogun", "Owusu", "Achieng", "Mbeki",
    # Middle Eastern and North African
    "Haddad", "Khoury", "Nasser", "Saleh", "Aziz", "Rahman", "Farouk", "Mansour", "El-Amin", "Hamdan",
    "Yilmaz", "Kaya", "Demir", "Şahin", "Öztürk", "Cohen", "Levi", "Mizrahi", "Friedman", "Katz",
    # European
    "Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Becker", "Rossi", "Russo", "Ferrari", "Bianchi",
    "Romano", "Colombo", "Dubois", "Moreau", "Laurent", "Lefèvre", "Girard", "Jensen", "Nielsen", "Hansen",
    "Andersson", "Johansson", "Lindqvist", "Virtanen", "Nowak", "Kowalski", "Wiśniewski", "Novak", "Horvat", "Popescu",
    "Ivanov", "Petrov", "Kuznetsova", "De Vries", "Van Dijk", "Janssen", "Bakker", "Papadopoulos", "Nagy", "Kovács",
)

MIDDLE_INITIALS: tuple[str, ...] = tuple("ABCDEFGHJKLMNPRSTVW")

EMAIL_DOMAIN = "northwind.example"
PERSONAL_EMAIL_DOMAINS: tuple[str, ...] = ("gmail.com", "outlook.com", "yahoo.com", "proton.me", "icloud.com")


@dataclass(frozen=True)
class TeamName:
    """A team a department can have: its id suffix, display name, and (for nested teams) its parent's suffix."""

    slug: str
    name: str
    parent: str | None = None


@dataclass(frozen=True)
class Department:
    """A top-level department and, in the order they are used, the teams inside it."""

    slug: str
    name: str
    teams: tuple[TeamName, ...]


ROOT_TEAM = TeamName("exec", "Executive Leadership")

# Teams are used in the listed order, so the first ones of each department appear in small orgs; nested teams
# (with a parent) come after their parent, so a parent always exists when its child is used.
DEPARTMENTS: tuple[Department, ...] = (
    Department("eng", "Engineering", (
        TeamName("platform", "Platform Engineering"),
        TeamName("web", "Web Engineering"),
        TeamName("mobile", "Mobile Engineering"),
        TeamName("data", "Data Engineering"),
        TeamName("security", "Security Engineering"),
        TeamName("qa", "Quality Engineering"),
        TeamName("platform-infra", "Infrastructure", "platform"),
        TeamName("platform-sre", "Site Reliability", "platform"),
        TeamName("web-checkout", "Checkout", "web"),
        TeamName("web-growth", "Growth Engineering", "web"),
        TeamName("mobile-ios", "iOS", "mobile"),
        TeamName("mobile-android", "Android", "mobile"),
        TeamName("data-ml", "Machine Learning", "data"),
    )),
    Department("sales", "Sales", (
        TeamName("emea", "Sales EMEA"),
        TeamName("na", "Sales North America"),
        TeamName("apac", "Sales APAC"),
        TeamName("latam", "Sales LATAM"),
        TeamName("enablement", "Sales Enablement"),
        TeamName("ops", "Sales Operations"),
        TeamName("emea-dach", "Sales DACH", "emea"),
        TeamName("emea-uki", "Sales UK & Ireland", "emea"),
        TeamName("na-east", "Sales NA East", "na"),
        TeamName("na-west", "Sales NA West", "na"),
        TeamName("apac-anz", "Sales ANZ", "apac"),
        TeamName("na-smb", "SMB Sales", "na"),
    )),
    Department("cs", "Customer Success", (
        TeamName("support", "Customer Support"),
        TeamName("onboarding", "Customer Onboarding"),
        TeamName("accounts", "Account Management"),
        TeamName("education", "Customer Education"),
        TeamName("support-t1", "Support Tier 1", "support"),
        TeamName("support-t2", "Support Tier 2", "support"),
        TeamName("support-emea", "Support EMEA", "support"),
        TeamName("accounts-strategic", "Strategic Accounts", "accounts"),
        TeamName("accounts-renewals", "Renewals", "accounts"),
        TeamName("community", "Community"),
        TeamName("support-apac", "Support APAC", "support"),
    )),
    Department("product", "Product", (
        TeamName("management", "Product Management"),
        TeamName("design", "Product Design"),
        TeamName("research", "User Research"),
        TeamName("analytics", "Product Analytics"),
        TeamName("design-system", "Design Systems", "design"),
        TeamName("content", "Content Design", "design"),
        TeamName("management-core", "Core Product", "management"),
        TeamName("management-platform", "Platform Product", "management"),
        TeamName("pricing", "Pricing & Packaging"),
    )),
    Department("people", "People", (
        TeamName("hrbp", "HR Business Partners"),
        TeamName("talent", "Talent Acquisition"),
        TeamName("learning", "Learning & Development"),
        TeamName("total-rewards", "Total Rewards"),
        TeamName("talent-tech", "Technical Recruiting", "talent"),
        TeamName("talent-gtm", "GTM Recruiting", "talent"),
        TeamName("dei", "Diversity & Inclusion"),
        TeamName("people-ops", "People Operations"),
        TeamName("hrbp-emea", "HRBP EMEA", "hrbp"),
    )),
    Department("finance", "Finance", (
        TeamName("accounting", "Accounting"),
        TeamName("fpa", "FP&A"),
        TeamName("payroll", "Payroll"),
        TeamName("tax", "Tax"),
        TeamName("treasury", "Treasury"),
        TeamName("accounting-ap", "Accounts Payable", "accounting"),
        TeamName("accounting-ar", "Accounts Receivable", "accounting"),
        TeamName("audit", "Internal Audit"),
        TeamName("billing", "Billing"),
    )),
    Department("marketing", "Marketing", (
        TeamName("brand", "Brand"),
        TeamName("demand", "Demand Generation"),
        TeamName("pmm", "Product Marketing"),
        TeamName("events", "Events"),
        TeamName("comms", "Communications"),
        TeamName("demand-digital", "Digital Marketing", "demand"),
        TeamName("demand-abm", "Account-Based Marketing", "demand"),
        TeamName("brand-creative", "Creative Studio", "brand"),
        TeamName("web", "Web & SEO"),
    )),
    Department("ops", "Operations", (
        TeamName("it", "IT"),
        TeamName("facilities", "Facilities"),
        TeamName("procurement", "Procurement"),
        TeamName("bizops", "Business Operations"),
        TeamName("it-helpdesk", "IT Helpdesk", "it"),
        TeamName("it-systems", "Business Systems", "it"),
        TeamName("facilities-workplace", "Workplace Experience", "facilities"),
        TeamName("logistics", "Logistics"),
        TeamName("vendor", "Vendor Management", "procurement"),
    )),
    Department("legal", "Legal", (
        TeamName("commercial", "Commercial Legal"),
        TeamName("privacy", "Privacy"),
        TeamName("compliance", "Compliance"),
        TeamName("corporate", "Corporate Legal"),
        TeamName("ip", "Intellectual Property"),
        TeamName("compliance-risk", "Risk", "compliance"),
        TeamName("contracts", "Contract Management", "commercial"),
        TeamName("employment", "Employment Law"),
        TeamName("policy", "Public Policy"),
    )),
    Department("data", "Data & Insights", (
        TeamName("bi", "Business Intelligence"),
        TeamName("science", "Data Science"),
        TeamName("governance", "Data Governance"),
        TeamName("platform", "Data Platform"),
        TeamName("science-experiments", "Experimentation", "science"),
        TeamName("science-forecasting", "Forecasting", "science"),
        TeamName("bi-finance", "Finance Analytics", "bi"),
        TeamName("bi-gtm", "GTM Analytics", "bi"),
        TeamName("quality", "Data Quality"),
    )),
)

PEOPLE_DEPARTMENT = "people"  # where the HR admins of the dashboards sit

LOCATIONS: tuple[str, ...] = (
    "London", "New York", "San Francisco", "Austin", "Toronto", "Berlin", "Munich", "Amsterdam", "Dublin", "Paris",
    "Madrid", "Lisbon", "Stockholm", "Warsaw", "Kraków", "Bangalore", "Pune", "Singapore", "Sydney", "Tokyo",
    "São Paulo", "Mexico City", "Nairobi", "Lagos", "Cape Town", "Dubai", "Tel Aviv", "Zürich", "Remote (US)",
    "Remote (EU)",
)


@dataclass(frozen=True)
class Question:
    """One survey question; ``driver_id`` is set for likert questions only."""

    question_id: str
    type: str
    text: str
    driver_id: str | None = None


DRIVERS: tuple[str, ...] = (
    "recognition", "growth", "manager_relationship", "peer_relationships",
    "wellbeing", "autonomy", "alignment", "communication",
)

_LIKERT_TEXTS: dict[str, tuple[str, tuple[str, str, str]]] = {
    # driver: (question id prefix, its three question texts)
    "recognition": ("rec", (
        "I get recognition for good work.",
        "My contributions are noticed by the people I work with.",
        "When I do great work, it is celebrated in a way that feels genuine.",
    )),
    "growth": ("gro", (
        "I have good opportunities to learn and grow here.",
        "I can see a realistic path to progress in my career at this company.",
        "In the last six months, someone has talked with me about my development.",
    )),
    "manager_relationship": ("mgr", (
        "I trust my manager.",
        "My manager gives me useful feedback on my work.",
        "My manager genuinely cares about my wellbeing.",
    )),
    "peer_relationships": ("peer", (
        "The people on my team help each other out.",
        "I feel respected by my colleagues.",
        "I can count on people outside my team when I need them.",
    )),
    "wellbeing": ("wel", (
        "My workload is manageable.",
        "I am able to switch off from work when I need to.",
        "I rarely feel burned out because of my work.",
    )),
    "autonomy": ("aut", (
        "I have the freedom to decide how I do my work.",
        "I have a say in decisions that affect my work.",
        "I am trusted to get on with my work without being micromanaged.",
    )),
    "alignment": ("ali", (
        "I understand the company's strategy and goals.",
        "I believe in the mission of this company.",
        "I can see how my work contributes to the company's goals.",
    )),
    "communication": ("com", (
        "Information is shared openly and in good time.",
        "I feel heard when I speak up.",
        "Leadership keeps us informed about what is going on.",
    )),
}

ENPS_QUESTION = Question("enps", "enps", "How likely are you to recommend working here to a friend?")
COMMENT_QUESTION = Question("open_1", "comment", "If you could change one thing about working here, what would it be?")


def likert_questions() -> tuple[Question, ...]:
    """The 24 likert questions: three per driver, in driver order (ids like ``rec_1``, ``gro_2``)."""
    return tuple(
        Question(f"{_LIKERT_TEXTS[driver][0]}_{i + 1}", "likert", text, driver)
        for driver in DRIVERS
        for i, text in enumerate(_LIKERT_TEXTS[driver][1])
    )


def survey_questions() -> tuple[Question, ...]:
    """Every question of a pulse survey, in the order a respondent sees them."""
    return (*likert_questions(), ENPS_QUESTION, COMMENT_QUESTION)


_ASCII_FOLD = str.maketrans({"ø": "o", "Ø": "O", "ł": "l", "Ł": "L", "ß": "ss", "æ": "ae", "Æ": "AE", "ı": "i"})


@lru_cache(maxsize=4096)
def ascii_slug(text: str) -> str:
    """Lower-case ASCII letters and digits only, e.g. ``"Łukasz O'Brien-Núñez"`` -> ``"lukaszobriennunez"``.

    Used for e-mail local parts: accents are folded, apostrophes, hyphens and spaces dropped.
    """
    folded = unicodedata.normalize("NFKD", text.translate(_ASCII_FOLD))
    return "".join(ch for ch in folded.lower() if ch.isascii() and ch.isalnum())
