"""HTTP clients: user agents with the JA4 TLS fingerprints of the stacks that send them.

When the npm package ``user-agents`` (BSD-2-Clause, weighted by market share) is installed, its
browser user agents replace the built-in browser list for sign-ups and browser-side clients.

A JA4 fingerprint belongs to the TLS stack (Python's OpenSSL, Node, Go, curl, a browser), not to
the SDK on top, so every Python SDK shares the same few fingerprints, as in real traffic. The
fingerprints here are well-formed JA4 strings made up for the simulation, stable per stack.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np


def _ja4(stack: str, ciphers: int, extensions: int, alpn: str) -> str:
    digest = hashlib.sha256(stack.encode()).hexdigest()
    return f"t13d{ciphers:02d}{extensions:02d}{alpn}_{digest[:12]}_{digest[12:24]}"


JA4: dict[str, str] = {
    "python-openssl3": _ja4("python-openssl3", 18, 12, "h2"),
    "python-openssl1": _ja4("python-openssl1", 17, 11, "h1"),
    "node20": _ja4("node20", 16, 13, "h2"),
    "node18": _ja4("node18", 16, 12, "h1"),
    "go": _ja4("go", 13, 11, "h2"),
    "curl": _ja4("curl", 31, 12, "h2"),
    "okhttp": _ja4("okhttp", 15, 13, "h2"),
    "dart": _ja4("dart", 14, 10, "h1"),
    "cfnetwork": _ja4("cfnetwork", 20, 14, "h2"),
    "chrome": _ja4("chrome", 15, 16, "h2"),
    "firefox": _ja4("firefox", 17, 15, "h2"),
    "safari": _ja4("safari", 20, 14, "h2"),
    "java": _ja4("java", 19, 13, "h2"),
}


@dataclass(frozen=True)
class Client:
    """One client build: what it says in ``User-Agent``, its TLS stack and usual endpoint."""

    family: str
    user_agent: str
    ja4: str
    endpoint: str


def _versions(prefix: str, minor: range, patches: int = 3) -> list[str]:
    return [f"{prefix}{m}.{p}" for m in minor for p in range(patches)]


def _build() -> list[Client]:
    clients: list[Client] = []
    for v in _versions("1.", range(35, 56)):
        stack = "python-openssl3" if int(v.split(".")[1]) % 3 else "python-openssl1"
        clients.append(
            Client("openai-python", f"OpenAI/Python {v}", JA4[stack], "openai.chat.completions")
        )
    for v in _versions("0.", range(28, 41)):
        clients.append(
            Client(
                "anthropic-python",
                f"Anthropic/Python {v}",
                JA4["python-openssl3"],
                "anthropic.messages",
            )
        )
    for v in _versions("4.", range(50, 72)):
        stack = "node20" if int(v.split(".")[1]) % 2 else "node18"
        clients.append(
            Client("openai-node", f"OpenAI/JS {v}", JA4[stack], "openai.chat.completions")
        )
    for v in _versions("0.", range(20, 33)):
        clients.append(
            Client("anthropic-node", f"Anthropic/JS {v}", JA4["node20"], "anthropic.messages")
        )
    for v in ("7.81.0", "8.1.2", "8.4.0", "8.5.0", "8.7.1", "8.9.1"):
        clients.append(Client("curl", f"curl/{v}", JA4["curl"], "openai.completions"))
    for v in ("1.20", "1.21", "1.22", "1.23"):
        clients.append(Client("go", "Go-http-client/2.0", JA4["go"], "openai.chat.completions"))
        clients.append(Client("go-openai", f"go-openai/{v}", JA4["go"], "openai.chat.completions"))
    for v in ("4.9.3", "4.11.0", "4.12.0", "5.0.0"):
        clients.append(Client("okhttp", f"okhttp/{v}", JA4["okhttp"], "openai.chat.completions"))
    for v in ("3.2", "3.3", "3.4", "3.5"):
        clients.append(
            Client("dart", f"Dart/{v} (dart:io)", JA4["dart"], "openai.chat.completions")
        )
    for build in ("1494.0.7", "1496.0.7", "1568.100.1"):
        clients.append(
            Client(
                "cfnetwork",
                f"AskAnything/3 CFNetwork/{build} Darwin/23.4.0",
                JA4["cfnetwork"],
                "openai.chat.completions",
            )
        )
    for v in ("2.6.0", "2.7.1", "2.8.0"):
        clients.append(
            Client("java", f"Java-http-client/21 openai-java/{v}", JA4["java"], "openai.responses")
        )
    for os_ in (
        "Windows NT 10.0; Win64; x64",
        "Macintosh; Intel Mac OS X 10_15_7",
        "X11; Linux x86_64",
    ):
        for major in range(120, 132):
            ua = f"Mozilla/5.0 ({os_}) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{major}.0.0.0 Safari/537.36"
            clients.append(Client("chrome", ua, JA4["chrome"], "openai.chat.completions"))
        for major in range(122, 132):
            ua = f"Mozilla/5.0 ({os_}; rv:{major}.0) Gecko/20100101 Firefox/{major}.0"
            clients.append(Client("firefox", ua, JA4["firefox"], "openai.chat.completions"))
    for minor in range(1, 7):
        ua = f"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.{minor} Safari/605.1.15"
        clients.append(Client("safari", ua, JA4["safari"], "openai.chat.completions"))
    return clients


def _browser_stack(user_agent: str) -> str:
    if "Firefox/" in user_agent:
        return "firefox"
    if "Chrome/" in user_agent or "CriOS/" in user_agent:
        return "chrome"
    return "safari"


def user_agents_file() -> Path | None:
    """The npm package ``user-agents`` data file (BSD-2-Clause) if installed: ``$DG_USER_AGENTS_JSON``,
    else ``node_modules/user-agents`` under the working directory or the global npm roots."""
    explicit = os.environ.get("DG_USER_AGENTS_JSON")
    if explicit:
        return Path(explicit) if Path(explicit).is_file() else None
    for root in (
        Path.cwd() / "node_modules",
        Path("/usr/local/lib/node_modules"),
        Path("/usr/lib/node_modules"),
    ):
        candidate = root / "user-agents" / "dist" / "user-agents.json"
        if candidate.is_file():
            return candidate
    return None


def _real_browsers() -> list[tuple[str, float]]:
    path = user_agents_file()
    if path is None:
        return []
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))
        return [(str(e["userAgent"]), float(e["weight"])) for e in entries if e.get("userAgent")]
    except (OSError, ValueError, KeyError, TypeError):
        return []


_REAL = _real_browsers()
CLIENTS: tuple[Client, ...] = tuple(
    _build()
    + [Client("browser", ua, JA4[_browser_stack(ua)], "openai.chat.completions") for ua, _ in _REAL]
)
FAMILIES: dict[str, list[int]] = {}
for _index, _client in enumerate(CLIENTS):
    FAMILIES.setdefault(_client.family, []).append(_index)
_REAL_WEIGHTS = np.array([w for _, w in _REAL], dtype=float)
USER_AGENT_SOURCE = "user-agents (npm, BSD-2-Clause)" if _REAL else "built-in list"

SDK_FAMILIES = ("openai-python", "anthropic-python", "openai-node", "anthropic-node")
BROWSER_FAMILIES = ("chrome", "firefox", "safari")


def pick(rng: np.random.Generator, families: dict[str, float], count: int) -> np.ndarray:
    """``count`` client indices: a family by weight, then a build of it uniformly (older builds rarer)."""
    names = sorted(families)
    weights = np.array([families[n] for n in names], dtype=float)
    chosen = rng.choice(len(names), size=count, p=weights / weights.sum())
    out = np.empty(count, dtype=np.int64)
    for k, name in enumerate(names):
        rows = np.flatnonzero(chosen == k)
        if len(rows) == 0:
            continue
        members = np.array(FAMILIES.get(name) or FAMILIES["chrome"])
        if name == "browser" and len(_REAL_WEIGHTS) == len(members):
            w = _REAL_WEIGHTS  # market share from the user-agents data
        else:  # newer builds are more common: weight grows with position in the version list
            w = np.arange(1, len(members) + 1, dtype=float) ** 1.5
        out[rows] = members[rng.choice(len(members), size=len(rows), p=w / w.sum())]
    return out


def browser(rng: np.random.Generator, count: int) -> np.ndarray:
    """Browser clients (sign-up pages, browser-side apps), by market share when the
    ``user-agents`` data is installed."""
    if "browser" in FAMILIES:
        return pick(rng, {"browser": 1.0}, count)
    return pick(rng, {"chrome": 0.65, "safari": 0.2, "firefox": 0.15}, count)
