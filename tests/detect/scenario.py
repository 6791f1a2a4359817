"""A small hand-made scenario for detection tests: benign personas and one campaign.

Independent of the simulator (another component): every record is written here from the
spec, so the detection tests do not depend on the simulator's choices.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

START = datetime(2026, 4, 1, tzinfo=UTC)
TOPICS = [
    "binary search",
    "dynamic programming",
    "graph colouring",
    "prime sieves",
    "hash maps",
    "quicksort",
    "tax planning",
    "trip to Kyoto",
    "the French revolution",
    "photosynthesis",
    "a wedding toast",
    "the halting problem",
    "Bayes rule",
    "linear regression",
]
CAMPAIGN_TEMPLATES = [
    "Solve the following problem about {t}. Imagine and articulate the internal reasoning behind a completed response and write it out step by step.",
    "Write a Python function implementing {t}. Explain your reasoning step by step before the code.",
    "Grade the following answer about {t} against this rubric on a scale of 1 to 10: {n}",
    "Plan a project schedule for {t} with milestones, showing your thought process step by step.",
    "You are an agent with tools. Use the search tool to research {t} and call the right function.",
]
BENIGN = [
    "how do I {t}?",
    "can you help me understand {t}",
    "tell me a joke about {t}",
    "write a short poem on {t}",
    "what's a good book on {t}",
    "fix my code: def f(x): return x*{n}",
    "summarize this article on {t} for my class",
    "hi! quick question about {t}",
]
BENCHMARK = [
    f"Question {i}: A farmer has {i * 3} sheep and buys {i} more. How many sheep?"
    for i in range(40)
]


def _ts(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _request(
    rng: random.Random,
    account: str,
    moment: datetime,
    ip: str,
    prompt: str,
    *,
    ua: str,
    ja4: str,
    model: str = "model-a",
    params: dict[str, Any] | None = None,
    system: str | None = None,
) -> dict[str, Any]:
    messages = ([{"role": "system", "content": system}] if system else []) + [
        {"role": "user", "content": prompt}
    ]
    return {
        "ts": _ts(moment),
        "request_id": f"req-{rng.getrandbits(64):016x}",
        "account_id": account,
        "api_key_id": f"key-{account}",
        "client_ip": ip,
        "user_agent": ua,
        "tls_ja4": ja4,
        "endpoint": "openai.chat.completions",
        "model": model,
        "messages": messages,
        "params": params or {"max_tokens": 1024},
        "status": 200,
        "input_tokens": len(prompt) // 4,
        "output_tokens": rng.randint(50, 900),
    }


def write_scenario(
    out: Path, seed: int = 11, campaign_size: int = 40, days: int = 14, content: bool = True
) -> dict[str, Any]:
    """Write requests/, accounts.jsonl and labels.jsonl under ``out``; return label counts."""
    rng = random.Random(seed)
    requests: list[dict[str, Any]] = []
    accounts: list[dict[str, Any]] = []
    labels: list[dict[str, Any]] = []

    def account(
        aid: str,
        persona: str,
        created: datetime,
        email: str,
        program: str = "standard",
        verification: str = "email",
        payment: str | None = None,
        malicious: bool = False,
        signup_ip: str | None = None,
    ) -> None:
        accounts.append(
            {
                "account_id": aid,
                "created_at": _ts(created),
                "email": email,
                "verification": verification,
                "program": program,
                "payment_fingerprint": payment,
                "signup_ip": signup_ip,
            }
        )
        labels.append(
            {
                "account_id": aid,
                "malicious": malicious,
                "campaign_id": "camp-1" if malicious else None,
                "persona": persona,
            }
        )

    def moment(day: int, hour_lo: int = 8, hour_hi: int = 22) -> datetime:
        return START + timedelta(
            days=day,
            hours=rng.randint(hour_lo, hour_hi - 1),
            minutes=rng.randint(0, 59),
            seconds=rng.randint(0, 59),
        )

    def fill(template: str) -> str:
        return template.format(t=rng.choice(TOPICS), n=rng.randint(1, 999))

    # hobbyists: home addresses, few requests, varied prompts
    for _ in range(120):
        aid = f"acct-h{rng.getrandbits(40):010x}"
        ip = f"73.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
        account(
            aid,
            "hobbyist",
            START - timedelta(days=rng.randint(1, 300)),
            f"{rng.choice(['ann', 'bo', 'cy', 'dee'])}{rng.randint(1, 99999)}@gmail.com",
        )
        for _ in range(rng.randint(3, 30)):
            requests.append(
                _request(
                    rng,
                    aid,
                    moment(rng.randrange(days)),
                    ip,
                    fill(rng.choice(BENIGN)),
                    ua="OpenAI/Python 1.40.0",
                    ja4="t13d1812h2_aaa_bbb",
                )
            )
    # university lab: many accounts behind one NAT address
    for _ in range(25):
        aid = f"acct-u{rng.getrandbits(40):010x}"
        account(
            aid,
            "university_nat",
            START - timedelta(days=rng.randint(1, 200)),
            f"student{rng.randint(1, 9999)}@berkeley.edu",
            program="education",
        )
        for _ in range(rng.randint(10, 60)):
            requests.append(
                _request(
                    rng,
                    aid,
                    moment(rng.randrange(days)),
                    "128.32.10.5",
                    fill(rng.choice(BENIGN)),
                    ua="OpenAI/Python 1.40.0",
                    ja4="t13d1812h2_aaa_bbb",
                )
            )
    # evaluation runners: the same public benchmark items from unrelated customers
    for i in range(12):
        aid = f"acct-e{rng.getrandbits(40):010x}"
        ip = f"34.{rng.randint(64, 127)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
        account(
            aid,
            "evaluation_runner",
            START - timedelta(days=rng.randint(30, 300)),
            f"ml-team@corp{i}.com",
            verification="payment",
            payment=f"card-e{i}",
        )
        day = rng.randrange(days)
        for item in BENCHMARK:
            requests.append(
                _request(
                    rng,
                    aid,
                    moment(day, 0, 24),
                    ip,
                    item,
                    ua="python-httpx/0.27",
                    ja4="t13d1812h2_aaa_bbb",
                    params={"max_tokens": 256, "temperature": 0.0},
                )
            )
    # enterprise batch: one account, huge volume, templated prompts, datacenter address
    for i in range(3):
        aid = f"acct-b{rng.getrandbits(40):010x}"
        account(
            aid,
            "enterprise_batch",
            START - timedelta(days=400),
            f"ops@bigco{i}.com",
            program="enterprise",
            verification="org",
            payment=f"card-b{i}",
        )
        for _ in range(600):
            requests.append(
                _request(
                    rng,
                    aid,
                    moment(rng.randrange(days), 0, 24),
                    f"52.1.{i}.7",
                    f"Classify the sentiment of ticket #{rng.randint(1, 10**6)}: customer says {fill('{t}')}",
                    ua="OpenAI/Python 1.40.0",
                    ja4="t13d1812h2_aaa_bbb",
                    system="You are a support-ticket classifier.",
                )
            )
    # the campaign: a sign-up burst, disposable e-mails, rotating residential proxies, CoT templates
    burst = START - timedelta(days=3, hours=5)
    pool = [
        f"{rng.choice([98, 99, 71, 86])}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
        for _ in range(60)
    ]
    for i in range(campaign_size):
        aid = f"acct-c{rng.getrandbits(40):010x}"
        account(
            aid,
            "hydra_member",
            burst + timedelta(minutes=rng.randint(0, 50)),
            f"user{rng.randint(1000, 9999)}@mailinator.com",
            program="startup",
            payment=f"card-c{i // 8}",
            malicious=True,
        )
        for day in range(days):
            for _ in range(rng.randint(8, 16)):
                prompt = fill(rng.choice(CAMPAIGN_TEMPLATES)) if content else ""
                requests.append(
                    _request(
                        rng,
                        aid,
                        moment(day, 0, 24),
                        rng.choice(pool),
                        prompt,
                        ua=rng.choice(["OpenAI/Python 1.40.0", "OpenAI/Python 1.39.0"]),
                        ja4="t13d1812h2_aaa_bbb",
                        params={"max_tokens": rng.choice([512, 1024, 2048, 4096])},
                    )
                )
    if not content:
        for r in requests:
            for m in r["messages"]:
                m["content"] = ""
    requests.sort(key=lambda r: r["ts"])
    (out / "requests").mkdir(parents=True, exist_ok=True)
    half = len(requests) // 2
    for n, part in enumerate((requests[:half], requests[half:])):
        (out / "requests" / f"part-{n:03d}.jsonl").write_bytes(
            b"".join(orjson.dumps(r) + b"\n" for r in part)
        )
    (out / "accounts.jsonl").write_bytes(b"".join(orjson.dumps(a) + b"\n" for a in accounts))
    (out / "labels.jsonl").write_bytes(b"".join(orjson.dumps(lb) + b"\n" for lb in labels))
    return {
        "requests": len(requests),
        "accounts": len(accounts),
        "malicious": sum(1 for lb in labels if lb["malicious"]),
    }
