"""What benign customers send: casual questions, IDE coding help, chat-app conversations,
templated batch jobs, public benchmark items, logprob experiments and agent loops.

Every builder maps (request random ``r``, wording random ``w``, the account's own ``style``
number) to a list of messages and the sampling parameters the client sets.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from distillguard.simulate import extraction, questions

Messages = list[dict[str, str]]

IDE_SYSTEMS = (
    "You are an AI programming assistant in Visual Studio Code. Follow the user's requirements carefully. Keep answers short and impersonal.",
    "You are Codeium-like autocomplete and chat helper embedded in JetBrains IDEs. Answer with code first.",
    "You are a senior engineer pair-programming with the user inside their editor. Prefer minimal diffs.",
    "You are a terminal coding agent. The repository is checked out in the working directory.",
)
APP_SYSTEMS = (
    "You are {app}, a friendly companion who remembers the user's day and asks thoughtful questions.",
    "You are the support assistant of {app}. Only answer questions about {app}'s products; be concise.",
    "You are {app}, a language-learning buddy. Correct mistakes gently and reply in simple sentences.",
    "You are {app}, a recipe assistant. Suggest dishes from what the user has at home.",
    "You are {app}'s study helper for high-school students. Never just give the answer; guide them.",
    "You are {app}, a travel planner. Ask about budget and dates before suggesting itineraries.",
)
APP_NAMES = (
    "Lumi",
    "Pocket Tutor",
    "ChefBot",
    "Wanderly",
    "Hablo",
    "Nimbus Support",
    "Sprout",
    "Quill",
    "Orbit Help",
    "Mira",
)
PIPELINES = (
    (
        'Classify the support ticket into exactly one of: billing, bug, feature_request, account, other. Reply as JSON {{"label": ...}}.',
        'Ticket #{id}: Customer {name} writes: "{w1} {w2} since the last update, order {id2} is stuck and I was charged twice."',
    ),
    (
        "Extract vendor, date, currency and total from the invoice text. Output JSON only.",
        "INVOICE {id}\nVendor: {Company}\nDate: 2026-{mm:02d}-{dd:02d}\nItems: {n} x {w1} @ {price}\nTotal due: {total} EUR",
    ),
    (
        "Summarise the call transcript in three bullet points for the CRM.",
        "Transcript {id}. Agent: Thanks for calling about your {w1}. Customer {name}: The {w2} keeps failing when I try to {w1}...",
    ),
    (
        "Translate the product description to {tongue}. Keep HTML tags unchanged.",
        "<p>The {Company} {w1} organiser keeps your {w2}s tidy. SKU {id}. {n} colours available.</p>",
    ),
    (
        "Rate the sentiment of the review from 1 (very negative) to 5 (very positive). Output the number only.",
        'Review {id} for {w1}: "{adj} product, delivery took {n} days, would {verb} again."',
    ),
    (
        "Redact personal data (names, e-mails, phone numbers) from the text. Return the redacted text.",
        "Note {id}: {name} ({handle}@example.com, +1 555 {id2}) asked about the {w1} contract renewal.",
    ),
)
BENCH_HEADERS = (
    "The following are multiple choice questions (with answers) about {s}.\n\n",
    "Answer the following question. Let's think step by step.\n\n",
    "",
    "Solve the problem. Put the final answer after '####'.\n\n",
)
JUDGE = "Rate the helpfulness of the assistant reply on a 1-10 scale. Output only the number.\nUser: {q}\nAssistant: {a}"


def _p(seq: Sequence[str], r: int, shift: int) -> str:
    return seq[(r >> shift) % len(seq)]


def casual(r: int, w: int, style: int) -> tuple[Messages, dict[str, Any], str]:
    capability = _p(
        (
            "chat",
            "chat",
            "knowledge",
            "writing",
            "coding",
            "coding",
            "math",
            "planning",
            "knowledge",
        ),
        r,
        1,
    )
    text = questions.CAPABILITIES[capability](r)
    if capability in ("math", "reasoning") and (w >> 12) % 3 == 0:
        text += _p(
            (
                " Explain step by step please.",
                " Can you walk me through it step by step?",
                " Show your reasoning.",
            ),
            w,
            14,
        )
    messages: Messages = []
    if style % 3 == 0:
        messages.append({"role": "system", "content": "You are a helpful assistant."})
    if (w >> 5) % 6 == 0:
        earlier = questions.CAPABILITIES[capability](w)
        messages.append({"role": "user", "content": earlier})
        messages.append({"role": "assistant", "content": "Sure, here's what I'd suggest: ..."})
    messages.append({"role": "user", "content": text})
    params: dict[str, Any] = {"stream": bool(style & 4)}
    if style & 8:
        params["temperature"] = (0.2, 0.7, 1.0)[style % 3]
    if style & 16:
        params["max_tokens"] = (512, 1024, 2048)[(style >> 5) % 3]
    return messages, params, capability


def coding_ide(r: int, w: int, style: int) -> tuple[Messages, dict[str, Any], str]:
    ask = questions.coding(r)
    snippet = f"```\n# file: src/{_p(questions.WORDS, w, 3)}_{_p(questions.WORDS, w, 9)}.py (lines {w % 300}-{w % 300 + 40})\n...\n```"
    messages: Messages = [
        {"role": "system", "content": IDE_SYSTEMS[style % len(IDE_SYSTEMS)]},
        {"role": "user", "content": f"{snippet}\n{ask}"},
    ]
    return messages, {"stream": True, "temperature": 0.2, "max_tokens": 4096}, "coding"


def chat_app(r: int, w: int, style: int) -> tuple[Messages, dict[str, Any], str]:
    app = APP_NAMES[style % len(APP_NAMES)]
    system = APP_SYSTEMS[(style >> 4) % len(APP_SYSTEMS)].format(app=app)
    messages: Messages = [{"role": "system", "content": system}]
    for turn in range((w >> 7) % 4):
        messages.append({"role": "user", "content": questions.chat(w >> turn)})
        messages.append({"role": "assistant", "content": "Great question! Let me help with that."})
    messages.append(
        {
            "role": "user",
            "content": questions.CAPABILITIES[_p(("chat", "chat", "writing", "knowledge"), r, 1)](
                r
            ),
        }
    )
    return messages, {"stream": True, "temperature": 0.8, "max_tokens": 700}, "chat"


def batch(r: int, w: int, style: int) -> tuple[Messages, dict[str, Any], str]:
    system, body = PIPELINES[(style + (r & 1 if style & 64 else 0)) % len(PIPELINES)]
    fields = {
        "id": 100000 + r % 900000,
        "id2": 1000 + (r >> 20) % 9000,
        "name": _p(questions.NAMES, r, 30),
        "w1": _p(questions.WORDS, r, 34),
        "w2": _p(questions.WORDS, r, 38),
        "Company": _p(("Acme", "Globex", "Initech", "Umbrella", "Hooli", "Vandelay"), r, 42),
        "mm": 1 + (r >> 44) % 12,
        "dd": 1 + (r >> 48) % 28,
        "n": 1 + (r >> 52) % 30,
        "price": f"{(r >> 20) % 500}.{r % 100:02d}",
        "total": f"{(r >> 24) % 9000}.{(r >> 8) % 100:02d}",
        "tongue": _p(questions.TONGUES, style, 8),
        "adj": _p(("Great", "Terrible", "Decent", "Flimsy", "Excellent", "Okay"), r, 56),
        "verb": _p(("buy", "not buy", "recommend"), r, 59),
        "handle": _p(questions.NAMES, r, 30).lower(),
    }
    messages: Messages = [
        {"role": "system", "content": system.format(**fields)},
        {"role": "user", "content": body.format(**fields)},
    ]
    return (
        messages,
        {"temperature": 0.0, "max_tokens": 256, "response_format": "json_object"},
        "other",
    )


def eval_item(item: str, style: int, subject: str) -> tuple[Messages, dict[str, Any], str]:
    header = BENCH_HEADERS[style % len(BENCH_HEADERS)].format(s=subject)
    params: dict[str, Any] = {"temperature": 0.0, "max_tokens": (256, 1024, 2048)[(style >> 3) % 3]}
    if style & 64:
        params["n"] = 5
    return [{"role": "user", "content": header + item}], params, "other"


def research(r: int, w: int, style: int) -> tuple[Messages, dict[str, Any], str]:
    kind = (w >> 3) % 3
    if kind == 0:
        text = f"{questions.knowledge(r)}\nAnswer with a single letter.\nA) yes B) no C) partly D) unknown"
        params: dict[str, Any] = {
            "logprobs": True,
            "top_logprobs": 20,
            "max_tokens": 1,
            "temperature": 0.0,
        }
        if style & 2:
            params["logit_bias_size"] = 4
        return [{"role": "user", "content": text}], params, "knowledge"
    if kind == 1:
        text = JUDGE.format(q=questions.chat(r), a="You could try ... (reply truncated)")
        return (
            [{"role": "user", "content": text}],
            {"logprobs": True, "top_logprobs": 5, "max_tokens": 2, "temperature": 0.0},
            "other",
        )
    text = questions.math(r)
    return (
        [{"role": "user", "content": text}],
        {"logprobs": True, "top_logprobs": 1, "max_tokens": 512, "temperature": 1.0},
        "math",
    )


def agent(r: int, w: int, style: int) -> tuple[Messages, dict[str, Any], str]:
    tools = 3 + style % 12
    system = f"You are an autonomous agent. You can call these tools: {', '.join(extraction.TOOLS[: min(tools, 10)])}. Think before each call."
    messages = extraction.agent_turns(w, system, extraction.agent_task(r), tools)
    return messages, {"tools": tools, "temperature": 0.2, "max_tokens": 2048}, "agentic"


BUILDERS = {
    "casual": casual,
    "coding_ide": coding_ide,
    "chat_app": chat_app,
    "batch": batch,
    "research": research,
    "agent": agent,
}
