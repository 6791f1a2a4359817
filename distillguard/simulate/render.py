"""Renders drawn request numbers into dg.request.v1 records (the only per-record Python work)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from distillguard.simulate import conversations, evalsets, extraction
from distillguard.simulate.clients import CLIENTS
from distillguard.simulate.networks import AddressBook
from distillguard.simulate.population import Group
from distillguard.simulate.streams import Clock, request_ids

RESPONSES: dict[str, tuple[str, ...]] = {
    "coding": (
        "Here's a clean way to do it:\n```\ndef solve(items):\n    seen = set()\n    ...\n```\nThis runs in O(n log n) for n = {n}.",
        "The error means the value is None at that point. Check line {n}; a guard like `if x is None: return` fixes it.",
        "You can use a dictionary to count occurrences, then sort by count. For {n} items that is fast enough.",
    ),
    "math": (
        "Each friend gets {n} and there are {m} left over.",
        "Setting up the equation gives x = {n}.",
        "The probability is {n}/1024, about {m}%.",
    ),
    "reasoning": (
        "Let's check each possibility. Only one assignment satisfies every clue, so the answer is option {m}.",
        "The argument is invalid: it affirms the consequent.",
        "The angle is {n} degrees.",
    ),
    "planning": (
        "Here is a phased plan:\n1. Discovery (weeks 1-{m}): define goals and owners\n2. Build:",
        "Milestones: scope, pilot with {m} users, rollout, review.",
    ),
    "knowledge": (
        "In short: it is a process where energy or information moves from one form to another. For example,",
        "A common misconception is that it happens all at once; in fact it takes about {n} steps.",
    ),
    "writing": (
        "Sure! Here's a draft:\n\nThe light came on at dusk, as it always had, and",
        "Option {m}: Bright ideas, delivered daily.",
    ),
    "chat": (
        "Good question! A few ideas that usually work well:",
        "Sure, here are {m} options:",
        "Happy to help. First,",
    ),
    "agentic": (
        "I'll start by calling the search tool to gather the current data, then",
        '[tool_call] web_search({{"q": "item {n}"}})',
    ),
    "other": (
        '{{"label": "billing"}}',
        '{{"label": "bug"}}',
        "{m}",
        '{{"vendor": "Acme", "total": "{n}.00"}}',
    ),
    "cot": (
        "Let me work through this step by step.\nStep 1: Identify what is being asked.\nStep 2: Write down the known quantities ({n}).\nStep 3:",
        "<think>First, restate the problem. Next, consider case {m}...</think>\nFinal answer: {n}",
        "Reasoning:\n1. We start from the given facts.\n2. Applying the rule gives {n}.\n3. Checking: consistent.\nAnswer: {n}",
    ),
    "sysprompt": (
        "I'm sorry, but I can't share my system instructions. I can help with something else, though.",
        "I don't have access to share that. Is there anything else I can do?",
    ),
    "synthetic": (
        '{{"instruction": "A farmer has {n} cows...", "output": "Step 1: ..."}}\n{{"instruction":',
        "1. Problem: Compute {n} + {m}. Solution: ...",
    ),
}
CAMPAIGN_OUT = {
    "cot": 1400,
    "backfill": 1200,
    "rubric": 500,
    "sysprompt": 150,
    "synthetic": 3000,
    "agentic": 900,
    "sweep": 800,
    "rewrite": 600,
}
BENIGN_OUT = {
    "casual": 350,
    "coding_ide": 600,
    "chat_app": 180,
    "batch": 30,
    "eval": 300,
    "research": 4,
    "agent": 250,
}
REASONING = "aurora-1-reasoning"


class Renderer:
    """Turns one block of drawn columns into request records."""

    def __init__(
        self, groups: list[Group], book: AddressBook, clock: Clock, models: list[str], seed: int
    ) -> None:
        self.groups = groups
        self.book = book
        self.clock = clock
        self.models = models
        self.id_key = seed * 0x9E3779B1 + 17
        self.banks = evalsets.banks()
        self._kinds: list[list[str]] = []
        # response texts pre-formatted once: 128 variants per kind
        self._responses = {
            kind: [
                options[k % len(options)].format(n=(k * 7919) % 997, m=1 + k % 9)
                for k in range(128)
            ]
            for kind, options in RESPONSES.items()
        }
        for g in groups:
            table: list[str] = []
            if g.campaign is not None:
                names = sorted(g.campaign.kinds)
                total = sum(g.campaign.kinds.values())
                for name in names:
                    table += [name] * round(1000 * g.campaign.kinds[name] / total)
            self._kinds.append(table or ["sweep"])

    def render_block(
        self, block: dict[str, list[Any]], day: int, first_number: int
    ) -> Iterator[dict[str, Any]]:
        ids = request_ids(first_number, len(block["ts"]), self.id_key)
        address = self.book.text
        for k, (ts, gi, a, ip, c, m, r, w, seq) in enumerate(
            zip(
                block["iso"],
                block["group"],
                block["account"],
                block["ip"],
                block["client"],
                block["model"],
                block["r"],
                block["w"],
                block["seq"],
                strict=True,
            )
        ):
            g = self.groups[gi]
            model = self.models[m]
            if g.campaign is not None:
                messages, params, kind, out = self._campaign(gi, g, a, r, w, model)
            else:
                messages, params, kind, out = self._benign(g, a, r, w, seq, day)
            client = CLIENTS[c]
            endpoint = client.endpoint
            if endpoint == "openai.completions" and len(messages) > 1:
                endpoint = "openai.chat.completions"
            keys = g.keys[a]
            size = 0
            for message in messages:
                size += len(message["content"])
            status = 200
            roll = (r >> 20) % 1000
            if roll < 5:
                status = 429
            elif roll == 5:
                status = 500
            output = int(out * (0.25 + ((r >> 32) % 1000) / 550)) if status == 200 else 0
            reasoning = int(output * 0.8) if model.endswith("reasoning") and status == 200 else None
            if reasoning is not None:
                params = {**params, "thinking_budget": 16000}
            yield {
                "ts": ts,
                "request_id": ids[k],
                "account_id": g.ids[a],
                "org_id": g.orgs[a],
                "api_key_id": keys[(r >> 50) % len(keys)],
                "client_ip": address(ip),
                "user_agent": client.user_agent,
                "tls_ja4": client.ja4,
                "retry_count": 1 if (r >> 40) % 100 == 0 else 0,
                "endpoint": endpoint,
                "model": model,
                "messages": messages,
                "params": params,
                "status": status,
                "input_tokens": size // 4 + 8,
                "output_tokens": output,
                "reasoning_tokens": reasoning,
                "latency_ms": 250 + output * 12 + (reasoning or 0) * 10 + (w >> 40) % 400,
                "response_text": self._response(kind, messages, r, w) if status == 200 else None,
                "decision": "throttle" if status == 429 else "allow",
            }

    def _response(self, kind: str, messages: list[dict[str, str]], r: int, w: int) -> str:
        if (
            kind not in ("cot", "sysprompt", "synthetic")
            and "step by step" in messages[-1]["content"]
        ):
            kind = "cot"
        pool = self._responses.get(kind) or self._responses["chat"]
        return pool[(r >> 24) % len(pool)]

    def _benign(
        self, g: Group, a: int, r: int, w: int, seq: int, day: int
    ) -> tuple[list[dict[str, str]], dict[str, Any], str, int]:
        assert g.persona is not None
        content = g.persona.content
        style = int(g.style[a])
        if content == "eval":
            bench = evalsets.NAMES[style % 3]
            items = self.banks[bench]
            start = (style >> 4) + day * 97 + a * 13
            messages, params, kind = conversations.eval_item(
                items[(start + seq) % len(items)], style >> 2, bench
            )
            return messages, params, "other", BENIGN_OUT["eval"]
        messages, params, kind = conversations.BUILDERS[content](r, w, style)
        return messages, params, kind, BENIGN_OUT[content]

    def _campaign(
        self, gi: int, g: Group, a: int, r: int, w: int, model: str
    ) -> tuple[list[dict[str, str]], dict[str, Any], str, int]:
        spec = g.campaign
        assert spec is not None
        if spec.reseller_mix > 0 and ((w >> 52) % 1000) < spec.reseller_mix * 1000:
            builder = conversations.casual if (w >> 51) & 1 else conversations.chat_app
            mixed = builder(r, w, int(g.style[a]))
            return mixed[0], mixed[1], mixed[2], 300
        kind = self._kinds[gi][(r >> 2) % len(self._kinds[gi])]
        paraphrase = spec.paraphrase > 0 and ((w >> 44) % 100) < spec.paraphrase * 100
        system = extraction.SYSTEM_EXPERT[
            (spec.system_style + (w >> 40) % 2) % len(extraction.SYSTEM_EXPERT)
        ]
        params: dict[str, Any] = {
            "max_tokens": (8192, 16000, 4096, 32000)[spec.system_style % 4],
            "temperature": (0.7, 1.0)[(w >> 38) & 1],
        }
        if kind == "agentic":
            tools = 4 + (r >> 45) % 8
            messages = extraction.agent_turns(
                w, system or "You are an agent with tools.", extraction.agent_task(r), tools
            )
            params["tools"] = tools
        else:
            text = extraction.user_text(kind, r, w, paraphrase, spec.variants)
            messages = (
                [{"role": "system", "content": system}, {"role": "user", "content": text}]
                if system
                else [{"role": "user", "content": text}]
            )
        if kind == "sweep" and (w >> 36) % 10 == 0:
            params["n"] = 4
        category = (
            kind
            if kind in ("cot", "sysprompt", "synthetic", "agentic")
            else "cot"
            if kind == "backfill"
            else "reasoning"
        )
        return messages, params, category, CAMPAIGN_OUT[kind]
