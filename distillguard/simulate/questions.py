"""Task generators by capability: coding, math, reasoning, planning, writing, knowledge, chat.

Each generator turns one 64-bit random integer into a task text, so a request's content is
fixed by a number drawn with numpy (fast, deterministic) and the space of tasks is large enough
that prompts rarely repeat by chance. Benign users and extraction campaigns draw from the same
generators: the task itself is not what gives a campaign away.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

Generator = Callable[[int], str]

LANGS = (
    "Python",
    "JavaScript",
    "TypeScript",
    "Go",
    "Rust",
    "Java",
    "C++",
    "C#",
    "Kotlin",
    "SQL",
    "Bash",
    "Ruby",
)
CODE_TASKS = (
    "parse a CSV file and compute the average of the column '{w}'",
    "merge two sorted lists of {w} records without duplicates",
    "debounce calls to a function that saves {w}",
    "implement an LRU cache with a capacity of {n} entries",
    "validate an e-mail address field in a {w} form",
    "retry an HTTP request up to {n} times with exponential backoff",
    "find the {n} most frequent words in a text file",
    "serialize a {w} object to JSON and back",
    "paginate a REST endpoint that lists {w}",
    "compute a moving average over the last {n} readings",
    "detect a cycle in a directed graph of {w} dependencies",
    "write a unit test for a function that formats {w}",
    "stream a large log file and count lines containing '{w}'",
    "rate-limit a worker to {n} jobs per second",
    "convert a nested dict of {w} settings into environment variables",
    "implement binary search over a sorted array of {w} timestamps",
)
CODE_ASKS = (
    "Write a {lang} function to {task}.",
    "How do I {task} in {lang}?",
    "Can you show me idiomatic {lang} code to {task}?",
    "I need to {task}. What's the cleanest way in {lang}?",
    "Give me a {lang} snippet that will {task}, with comments.",
    "In {lang}, {task}. Keep it under {n} lines.",
)
ERRORS = (
    "TypeError: 'NoneType' object is not subscriptable",
    "KeyError: '{w}'",
    "IndexError: list index out of range",
    "panic: runtime error: invalid memory address or nil pointer dereference",
    "error[E0502]: cannot borrow `{w}` as mutable because it is also borrowed as immutable",
    "Uncaught TypeError: Cannot read properties of undefined (reading '{w}')",
    "java.lang.NullPointerException at {W}Service.load({W}Service.java:{n})",
    "ModuleNotFoundError: No module named '{w}'",
    "SyntaxError: Unexpected token '<' in JSON at position {n}",
    'psycopg.errors.UniqueViolation: duplicate key value violates unique constraint "{w}_pkey"',
)
WORDS = [
    "invoice",
    "order",
    "customer",
    "sensor",
    "user",
    "product",
    "ticket",
    "payment",
    "shipment",
    "session",
    "patient",
    "booking",
    "device",
    "account",
    "message",
    "event",
    "profile",
    "review",
    "article",
    "inventory",
    "route",
    "playlist",
    "recipe",
]
NAMES = [
    "Ava",
    "Ben",
    "Chloe",
    "Dev",
    "Elena",
    "Farid",
    "Grace",
    "Hiro",
    "Isla",
    "Jamal",
    "Kenji",
    "Lena",
    "Mateo",
    "Nadia",
    "Omar",
    "Priya",
    "Quinn",
    "Rosa",
    "Sami",
    "Tara",
]
ITEMS = [
    "apples",
    "pencils",
    "marbles",
    "books",
    "stickers",
    "cookies",
    "tickets",
    "coins",
    "cards",
    "bottles",
]
SUBJECTS = (
    "photosynthesis",
    "inflation",
    "black holes",
    "the French Revolution",
    "vaccines",
    "plate tectonics",
    "compound interest",
    "neural networks",
    "the Roman Empire",
    "climate feedback loops",
    "quantum entanglement",
    "supply and demand",
    "the immune system",
    "blockchains",
    "the Silk Road",
    "CRISPR",
    "game theory",
    "the water cycle",
    "jet engines",
)
GOALS = (
    "launch a small online bakery",
    "migrate a monolith to microservices",
    "prepare for a marathon",
    "organise a 200-person conference",
    "move a data warehouse to the cloud",
    "learn Japanese in a year",
    "open a coworking space",
    "roll out SSO across {n} internal apps",
    "renovate a kitchen on a budget",
    "run a school science fair",
    "ship a mobile app MVP",
    "reduce a team's on-call load",
)
GENRES = (
    "short story",
    "poem",
    "product description",
    "cover letter",
    "blog post intro",
    "toast",
    "haiku",
    "limerick",
    "newsletter blurb",
    "LinkedIn post",
)
TOPICS = (
    "a lighthouse keeper",
    "autumn in Kyoto",
    "a robot learning to paint",
    "our new {w} app",
    "a retiring teacher",
    "the first day at a new job",
    "a lost umbrella",
    "remote work",
    "a city at 3am",
    "a cat who runs a bakery",
)
CHAT = (
    "what's a good name for a {w} tracking app?",
    "any tips for sleeping better?",
    "how long should I boil an egg for a soft yolk?",
    "what should I cook with leftover rice and {i}?",
    "is it worth learning {lang} in 2026?",
    "help me plan a weekend in {city}",
    "explain the offside rule like I'm 10",
    "what's the difference between a latte and a flat white?",
    "recommend three sci-fi books like Project Hail Mary",
    "how do I politely decline a meeting?",
    "translate 'see you tomorrow' into {tongue}",
    "what are some fun team-building ideas?",
)
CITIES = (
    "Lisbon",
    "Seoul",
    "Chicago",
    "Berlin",
    "Kyoto",
    "Mexico City",
    "Cape Town",
    "Vancouver",
    "Hanoi",
    "Edinburgh",
)
TONGUES = ("Spanish", "Korean", "German", "Japanese", "French", "Portuguese", "Hindi", "Vietnamese")


def _p(seq: Sequence[str], r: int, shift: int) -> str:
    return seq[(r >> shift) % len(seq)]


class _Slots(dict[str, object]):
    """Slot values computed on demand from the bits of one random number."""

    def __init__(self, r: int) -> None:
        super().__init__()
        self.r = r

    def __missing__(self, key: str) -> object:
        r = self.r
        if key == "w":
            return _p(WORDS, r, 40)
        if key == "W":
            return _p(WORDS, r, 40).capitalize()
        if key == "n":
            return 2 + (r >> 44) % 48
        if key == "lang":
            return _p(LANGS, r, 50)
        if key == "i":
            return _p(ITEMS, r, 52)
        if key == "city":
            return _p(CITIES, r, 54)
        if key == "tongue":
            return _p(TONGUES, r, 56)
        raise KeyError(key)


def _fill(text: str, r: int) -> str:
    """Fill ``{w}``-style slots (slot values come from high bits of ``r``)."""
    if "{" not in text:
        return text
    return text.format_map(_Slots(r))


def coding(r: int) -> str:
    if (r >> 60) % 4 == 0:
        err = _fill(_p(ERRORS, r, 8), r)
        return f"I'm getting this error in my {_p(LANGS, r, 50)} code:\n{err}\nWhat does it mean and how do I fix it?"
    task = _fill(_p(CODE_TASKS, r, 8), r)
    return _fill(_p(CODE_ASKS, r, 16).replace("{task}", task), r)


def math(r: int) -> str:
    a, b, c = 3 + (r >> 8) % 97, 2 + (r >> 16) % 23, 2 + (r >> 24) % 9
    name, other, item = _p(NAMES, r, 32), _p(NAMES, r, 36), _p(ITEMS, r, 40)
    kind = (r >> 44) % 8
    if kind == 0:
        return f"{name} has {a} {item}. {other} gives {name} {b} more, then {name} shares them equally among {c} friends. How many {item} does each friend get, and how many are left over?"
    if kind == 1:
        return f"A train leaves at {1 + a % 12}:{b % 60:02d} travelling at {40 + a} km/h. A second train leaves {c} hours later at {60 + b} km/h on the same track. When does the second catch up?"
    if kind == 2:
        return f"Solve for x: {a}x + {b} = {c}x - {a + b * c}."
    if kind == 3:
        return f"What is the probability of getting at least {1 + c % 4} heads in {c + 3} fair coin flips?"
    if kind == 4:
        return f"Find the sum of all positive integers n ≤ {a * 10} such that n is divisible by {b % 7 + 2} but not by {c + 3}."
    if kind == 5:
        return f"A rectangle's length is {b} cm more than twice its width, and its perimeter is {2 * (3 * a + b)} cm. Find its area."
    if kind == 6:
        return f"Compute the derivative of f(x) = {c}x^{b % 5 + 2} · sin({a % 9 + 1}x) and evaluate it at x = 0."
    return f"{name} invests ${a * 100} at {b % 9 + 1}% interest compounded yearly. How much is it worth after {c + 2} years?"


def reasoning(r: int) -> str:
    a, b, c = _p(NAMES, r, 8), _p(NAMES, r, 12), _p(NAMES, r, 16)
    kind = (r >> 20) % 6
    if kind == 0:
        return f"{a}, {b} and {c} each own a different pet: a cat, a dog and a parrot. {a} is allergic to fur. {b} does not own the dog. Who owns which pet?"
    if kind == 1:
        return f"If all {_p(WORDS, r, 24)}s are {_p(WORDS, r, 32)}s and some {_p(WORDS, r, 32)}s are archived, can we conclude that some {_p(WORDS, r, 24)}s are archived? Explain."
    if kind == 2:
        return f"A clock shows {1 + (r >> 30) % 12}:{(r >> 34) % 60:02d}. What is the angle between the hour and minute hands?"
    if kind == 3:
        return f"{a} always lies on {_p(('Mondays', 'Tuesdays', 'Fridays'), r, 36)} and tells the truth otherwise. {a} says 'Yesterday I lied.' Which days could today be?"
    if kind == 4:
        return f"You have {3 + (r >> 38) % 9} boxes, one holding a prize. After you pick one, the host opens {1 + (r >> 42) % 2} empty boxes. Should you switch? Justify."
    return f"Is the following argument valid? 'If the {_p(WORDS, r, 46)} service is down, alerts fire. Alerts fired. Therefore the service is down.'"


def planning(r: int) -> str:
    goal = _fill(_p(GOALS, r, 8), r)
    return _p(
        (
            "Make a step-by-step plan to {g} within {m} months.",
            "I want to {g}. Break it into milestones with owners and risks.",
            "Draft a {m}-week schedule to {g}, assuming {n} people part-time.",
            "What are the first ten things to do to {g}?",
            "Create a project plan with dependencies to {g}; budget is ${b}k.",
        ),
        r,
        16,
    ).format(g=goal, m=2 + (r >> 24) % 10, n=2 + (r >> 28) % 8, b=5 + (r >> 32) % 200)


def writing(r: int) -> str:
    topic = _fill(_p(TOPICS, r, 8), r)
    genre = _p(GENRES, r, 12)
    return _p(
        (
            "Write a {g} about {t}.",
            "Can you write a {g} about {t}? Keep it {k}.",
            "Draft a {k} {g} about {t}.",
            "Rewrite this to sound more {k}: 'We are pleased to announce {t}.'",
            "Give me three options for a {g} about {t}.",
        ),
        r,
        16,
    ).format(
        g=genre, t=topic, k=_p(("short", "funny", "formal", "warm", "punchy", "casual"), r, 20)
    )


def knowledge(r: int) -> str:
    subject = _p(SUBJECTS, r, 8)
    return _p(
        (
            "Explain {s} in simple terms.",
            "What are the main causes of {s}?",
            "Give me a summary of {s} for a high-school student.",
            "What's a common misconception about {s}?",
            "How does {s} work? Include an example.",
            "Compare {s} with {o}.",
            "Write five quiz questions about {s}.",
        ),
        r,
        16,
    ).format(s=subject, o=_p(SUBJECTS, r, 24))


def chat(r: int) -> str:
    text = _fill(_p(CHAT, r, 8), r)
    return _p(("", "hey, ", "quick question: ", "Hi! ", "hmm "), r, 20) + text


CAPABILITIES: dict[str, Generator] = {
    "coding": coding,
    "math": math,
    "reasoning": reasoning,
    "planning": planning,
    "writing": writing,
    "knowledge": knowledge,
    "chat": chat,
}
