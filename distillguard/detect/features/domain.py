"""Capability domain of a prompt: which skill of the model the request exercises.

The domain is the one whose keyword set shares the most words with the prompt (ties go to the
earlier domain in :data:`DOMAINS`); a prompt that declares tools is ``agentic``; a prompt with no
keyword is ``other``. Keyword sets are deliberately small and literal: this must run on every
request in microseconds, and a campaign sweeping capabilities shows up in aggregate even when
single prompts are misclassified.
"""

from __future__ import annotations

from collections.abc import Set as AbstractSet

DOMAINS = ("coding", "math", "reasoning", "planning", "agentic", "writing", "chat", "other")

# The keywords of each domain, in DOMAINS order (none for "other").
DOMAIN_KEYWORDS: tuple[frozenset[str], ...] = (
    frozenset(
        [
            "python",
            "javascript",
            "typescript",
            "java",
            "rust",
            "golang",
            "c++",
            "sql",
            "function",
            "code",
            "bug",
            "debug",
            "compile",
            "compiler",
            "regex",
            "api",
            "class",
            "method",
            "algorithm",
            "implement",
            "implementation",
            "refactor",
            "unittest",
            "script",
            "program",
            "programming",
            "array",
            "recursion",
            "stack",
            "exception",
            "variable",
            "json",
            "html",
            "css",
            "docker",
            "kubernetes",
            "git",
            "database",
            "query",
            "leetcode",
            "complexity",
            "def",
            "return",
        ]
    ),
    frozenset(
        [
            "math",
            "solve",
            "equation",
            "integral",
            "derivative",
            "probability",
            "calculate",
            "compute",
            "prove",
            "proof",
            "theorem",
            "lemma",
            "algebra",
            "geometry",
            "triangle",
            "polynomial",
            "matrix",
            "sum",
            "product",
            "prime",
            "fraction",
            "percent",
            "percentage",
            "arithmetic",
            "statistics",
            "variance",
            "mean",
            "median",
            "remainder",
            "divisible",
            "digits",
            "multiply",
            "divide",
            "ratio",
        ]
    ),
    frozenset(
        [
            "reasoning",
            "logic",
            "logical",
            "puzzle",
            "riddle",
            "deduce",
            "deduction",
            "infer",
            "inference",
            "syllogism",
            "argument",
            "premise",
            "conclusion",
            "paradox",
            "hypothesis",
            "consistent",
            "contradiction",
            "why",
            "analyze",
            "analyse",
            "evaluate",
            "implication",
        ]
    ),
    frozenset(
        [
            "plan",
            "planning",
            "schedule",
            "itinerary",
            "roadmap",
            "milestones",
            "timeline",
            "strategy",
            "organize",
            "prioritize",
            "steps",
            "project",
            "goals",
            "agenda",
            "budget",
            "trip",
            "workflow",
        ]
    ),
    frozenset(
        [
            "tool",
            "tools",
            "agent",
            "agents",
            "browse",
            "browser",
            "search",
            "execute",
            "terminal",
            "shell",
            "command",
            "call",
            "invoke",
            "function_call",
            "tool_call",
            "observation",
            "action",
            "environment",
            "click",
            "navigate",
            "automation",
            "orchestrate",
        ]
    ),
    frozenset(
        [
            "write",
            "essay",
            "story",
            "poem",
            "rewrite",
            "paraphrase",
            "summarize",
            "summary",
            "letter",
            "email",
            "article",
            "blog",
            "draft",
            "edit",
            "proofread",
            "translate",
            "translation",
            "tone",
            "headline",
            "narrative",
        ]
    ),
    frozenset(
        [
            "hi",
            "hello",
            "hey",
            "thanks",
            "thank",
            "you",
            "your",
            "feel",
            "favorite",
            "recommend",
            "advice",
            "chat",
            "joke",
            "opinion",
            "tell",
            "talk",
        ]
    ),
)
# Every keyword: domain_index(words) depends only on words & KEYWORDS.
KEYWORDS = frozenset().union(*DOMAIN_KEYWORDS)
_DOMAIN_OF: dict[str, list[int]] = {}
for _index, _keywords in enumerate(DOMAIN_KEYWORDS):
    for _word in _keywords:
        _DOMAIN_OF.setdefault(_word, []).append(_index)


def domain_index(words: AbstractSet[str], tools: int = 0) -> int:
    """Index into :data:`DOMAINS` for a prompt given as the set of its words.

    ``words`` comes from :func:`~distillguard.detect.features.normalize.words_of`.

    >>> from distillguard.detect.features.normalize import words_of
    >>> DOMAINS[domain_index(set(words_of("write a python function to reverse a linked list")))]
    'coding'
    >>> DOMAINS[domain_index(set(), tools=3)]
    'agentic'
    """
    if tools:
        return 4
    hits = words & KEYWORDS
    if not hits:
        return 7
    if len(hits) == 1:
        # One keyword: its first domain (the lists are in DOMAINS order, as ties are).
        return _DOMAIN_OF[next(iter(hits))][0]
    scores = [0] * len(DOMAIN_KEYWORDS)
    for word in hits:
        for index in _DOMAIN_OF[word]:
            scores[index] += 1
    best = max(scores)
    return scores.index(best)
