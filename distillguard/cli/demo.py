"""``distillguard demo``: the whole gateway story in one command, on embedded defaults.

Starts the mock upstream and the gateway on free loopback ports (in this process), creates an
organization, accounts and keys in a fresh SQLite database, sends traffic in both provider
formats (plain HTTP, so the base install suffices) — normal answers, a stream, a burst that
gets rate limited, a revoked key, a suspended account, a made-up key — then prints what
happened and where the request log is.
"""

from __future__ import annotations

import asyncio
import gzip
import shutil
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import orjson

DEMO_TIER = 90
CHAT_PROMPTS = (
    "Summarise the plot of Hamlet in one sentence.",
    "Write a haiku about rate limits.",
    "What is the capital of Australia?",
)


@dataclass
class Sent:
    """One request the demo made and what came back."""

    who: str
    route: str
    status: int
    note: str


def _prepare(db_url: str) -> dict[str, str]:
    from distillguard.controlplane.store import ControlPlaneStore
    from distillguard.controlplane.tiers import TierSpec

    store = ControlPlaneStore.open(db_url)
    try:
        limits = {
            "key": {"rpm": 6, "itpm": 100_000, "otpm": 20_000, "concurrent": 10},
            "account": {"rpm": 60, "itpm": 200_000, "otpm": 40_000, "daily_requests": 1_000},
        }
        store.tiers.put(
            TierSpec(DEMO_TIER, "demo", limits, "none", "small limits to show throttling")
        )
        org = store.create_org("Acme Research", verification="email")
        keys: dict[str, str] = {}
        for name in ("alice", "bob", "carol"):
            account = store.create_account(
                org_id=org.org_id,
                email=f"{name}@acme.example",
                signup_ip="198.51.100.7",
                tier=DEMO_TIER,
            )
            keys[name] = store.create_key(account.account_id, name=f"{name}-laptop").secret
            if name == "carol":
                store.suspend_account(account.account_id, "demo: suspended for abuse")
        revoked = store.create_key(
            store.list_accounts()[0].account_id, name="leaked"
        )  # alice's second key, leaked and revoked
        store.revoke_key(revoked.record.key_id)
        keys["alice (revoked key)"] = revoked.secret
        keys["mallory (made-up key)"] = "dg-key_0000000000000000-not-a-real-secret"
        return keys
    finally:
        store.close()


async def _traffic(url: str, keys: dict[str, str]) -> list[Sent]:
    import aiohttp

    sent: list[Sent] = []

    async def call(session: aiohttp.ClientSession, who: str, route: str, body: Any) -> None:
        key = keys[who]
        if route == "/v1/messages":
            headers = {"x-api-key": key, "anthropic-version": "2023-06-01"}
        else:
            headers = {"Authorization": f"Bearer {key}"}
        async with session.post(url + route, data=orjson.dumps(body), headers=headers) as reply:
            raw = await reply.read()
            note = ""
            if reply.status == 429:
                note = f"retry-after {reply.headers.get('retry-after', '-')} s"
            elif reply.status >= 400:
                try:
                    data = orjson.loads(raw)
                    error = data.get("error", {})
                    note = error.get("message", "")
                except orjson.JSONDecodeError:
                    note = raw[:60].decode("utf-8", "replace")
            elif body.get("stream"):
                note = f"{raw.count(b'data:')} SSE events"
            else:
                remaining = reply.headers.get(
                    "x-ratelimit-remaining-requests",
                    reply.headers.get("anthropic-ratelimit-requests-remaining", "-"),
                )
                note = f"requests left {remaining}"
            label = "anthropic messages" if route == "/v1/messages" else "openai chat"
            sent.append(Sent(who, label, reply.status, note))

    chat = "/v1/chat/completions"
    async with aiohttp.ClientSession() as session:
        for prompt in CHAT_PROMPTS:
            body = {"model": "mock-1", "messages": [{"role": "user", "content": prompt}]}
            await call(session, "alice", chat, body)
        stream = {
            "model": "mock-1",
            "stream": True,
            "messages": [{"role": "user", "content": "Stream me a sentence."}],
        }
        await call(session, "alice", chat, stream)
        message = {
            "model": "claude-mock-1",
            "max_tokens": 256,
            "system": "You are terse.",
            "messages": [{"role": "user", "content": "Name three prime numbers."}],
        }
        await call(session, "bob", "/v1/messages", message)
        await call(session, "bob", "/v1/messages", {**message, "stream": True})
        # A burst: ten concurrent requests on bob's key, whose tier allows 6 a minute.
        burst = {"model": "mock-1", "messages": [{"role": "user", "content": "Hi!"}]}
        await asyncio.gather(*(call(session, "bob", chat, burst) for _ in range(10)))
        for who in ("alice (revoked key)", "carol", "mallory (made-up key)"):
            await call(session, who, chat, burst)
    sent.extend(await asyncio.to_thread(_sdk_calls, url, keys["alice"]))
    return sent


def _sdk_calls(url: str, key: str) -> list[Sent]:
    """One call with each official SDK, when it is installed (the dev extra has both)."""
    sent: list[Sent] = []
    question = [{"role": "user", "content": "Say hello through the SDK."}]
    try:
        import openai
    except ImportError:
        pass
    else:
        client = openai.OpenAI(base_url=url + "/v1", api_key=key, max_retries=0)
        try:
            reply = client.chat.completions.create(model="mock-1", messages=question)  # type: ignore[arg-type]
            sent.append(Sent("alice (openai SDK)", "openai chat", 200, f"id {reply._request_id}"))
        except openai.APIStatusError as exc:
            sent.append(Sent("alice (openai SDK)", "openai chat", exc.status_code, exc.message))
    try:
        import anthropic
    except ImportError:
        pass
    else:
        claude = anthropic.Anthropic(base_url=url, api_key=key, max_retries=0)
        try:
            answer = claude.messages.create(model="claude-mock-1", max_tokens=64, messages=question)  # type: ignore[arg-type]
            note = f"{answer.usage.output_tokens} output tokens"
            sent.append(Sent("alice (anthropic SDK)", "anthropic messages", 200, note))
        except anthropic.APIStatusError as exc:
            sent.append(
                Sent("alice (anthropic SDK)", "anthropic messages", exc.status_code, exc.message)
            )
    return sent


def _read_log(directory: Path) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for path in sorted(directory.glob("requests-*.jsonl.gz")):
        with gzip.open(path, "rb") as handle:
            rows.extend(orjson.loads(line) for line in handle if line.strip())
    return rows


@click.command("demo")
@click.option(
    "--dir",
    "workdir",
    default=".dg/demo",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Where the demo database and request log go (recreated).",
)
def demo(workdir: str) -> None:
    """Run mock upstream + gateway, create keys, send traffic, show what the gateway did."""
    from rich.console import Console
    from rich.table import Table

    from distillguard.config import load_settings
    from distillguard.gateway.assembly import build_gateway
    from distillguard.gateway.server import BackgroundServer
    from distillguard.mockllm import MockLLM

    console = Console()
    root = Path(workdir)
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    db_url = f"sqlite:///{root / 'distillguard.db'}"
    log_dir = root / "logs"
    console.print(f"[bold]distillguard demo[/bold] — working in {root}/")
    keys = _prepare(db_url)
    console.print(f"created organization 'Acme Research', 3 accounts and {len(keys) - 1} keys")
    with BackgroundServer(MockLLM()) as mock:
        settings = load_settings(
            {"upstream_url": mock.url, "db_url": db_url, "log_dir": str(log_dir)}, env={}
        )
        gateway = BackgroundServer(build_gateway(settings))
        with gateway:
            console.print(f"mock upstream {mock.url}   gateway {gateway.url}")
            sent = asyncio.run(_traffic(gateway.url, keys))
    records = _read_log(log_dir)

    table = Table(title="Requests sent through the gateway")
    for column in ("#", "caller", "route", "status", "what happened"):
        table.add_column(column)
    for number, item in enumerate(sent, 1):
        colour = "green" if item.status == 200 else "yellow" if item.status == 429 else "red"
        table.add_row(
            str(number), item.who, item.route, f"[{colour}]{item.status}[/{colour}]", item.note
        )
    console.print(table)
    decisions = Counter(str(r.get("decision")) for r in records)
    statuses = Counter(r["status"] for r in records)
    summary = Table(title="Request log (dg.request.v1)")
    summary.add_column("records")
    summary.add_column("by status")
    summary.add_column("by decision")
    summary.add_column("accounts seen")
    summary.add_row(
        str(len(records)),
        ", ".join(f"{k}: {v}" for k, v in sorted(statuses.items())),
        ", ".join(f"{k}: {v}" for k, v in sorted(decisions.items())),
        str(len({r["account_id"] for r in records})),
    )
    console.print(summary)
    segments = sorted(log_dir.glob("requests-*"))
    console.print(f"request log: {', '.join(str(p) for p in segments)}")
    console.print(f"look inside: zcat {segments[0] if segments else log_dir} | head -n 3")
    if len(records) != len(sent):
        raise click.ClickException(f"{len(sent)} requests sent but {len(records)} logged")
