"""``distillguard simulate``: write a labelled scenario, list presets, or replay one through a gateway."""

from __future__ import annotations

from pathlib import Path

import click

from distillguard.logs.segments import FORMATS


@click.command()
@click.option(
    "--preset", default="seed", show_default=True, help="Scenario preset (see --list-presets)."
)
@click.option(
    "--scale",
    type=float,
    default=0.001,
    show_default=True,
    help="Shrink every count by this factor.",
)
@click.option("--seed", type=int, default=7, show_default=True, help="Same seed, same bytes.")
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    help="Output directory (must not hold request segments).",
)
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="jsonl.zst", show_default=True)
@click.option(
    "--workers",
    type=int,
    default=1,
    show_default=True,
    help="Processes generating days in parallel (output is identical).",
)
@click.option("--list-presets", is_flag=True, help="List the presets and exit.")
@click.option(
    "--replay",
    "replay_url",
    help="Send the scenario as HTTP requests to the gateway at this URL instead of writing files.",
)
@click.option(
    "--db",
    "db_url",
    help="Replay: control-plane database to create the accounts and their keys in.",
)
@click.option(
    "--keys",
    "keys_path",
    type=click.Path(path_type=Path),
    help="Replay: account keys (JSONL of 'accounts import --keys') instead of --db.",
)
@click.option(
    "--rate", type=float, default=20.0, show_default=True, help="Replay: requests per second."
)
@click.option(
    "--duration",
    type=float,
    default=60.0,
    show_default=True,
    help="Replay: stop after this many seconds.",
)
@click.option(
    "--limit",
    type=int,
    default=1000,
    show_default=True,
    help="Replay: stop after this many requests.",
)
@click.option(
    "--concurrency",
    type=int,
    default=16,
    show_default=True,
    help="Replay: requests in flight at most.",
)
@click.option(
    "--ja4-header",
    default="x-ja4",
    show_default=True,
    help="Replay: header carrying the JA4 fingerprint.",
)
@click.option(
    "--closed-loop",
    is_flag=True,
    help="Replay the scenario through hourly detection, the policy and the gateway, and "
    "report what the campaigns still got (yield, containment, collateral).",
)
@click.option(
    "--every",
    default="1h",
    show_default=True,
    help="Closed loop: a detection run every this much simulated time.",
)
@click.option(
    "--window",
    default="7d",
    show_default=True,
    help="Closed loop: each detection run looks at this much of the log.",
)
@click.option(
    "--days", type=int, help="Closed loop: replay only the first N days (default: all of them)."
)
@click.option(
    "--policy",
    "policy_path",
    type=click.Path(path_type=Path, exists=True, dir_okay=False),
    help="Closed loop: enforcement policy TOML (default: the shipped policy).",
)
@click.option(
    "--config",
    "detect_config",
    type=click.Path(path_type=Path, exists=True, dir_okay=False),
    help="Closed loop: detection thresholds TOML (default: detection's, with the loop's short-window overrides).",
)
@click.option(
    "--adaptive",
    is_flag=True,
    help="Closed loop: the attacker replaces every blocked account with a fresh one.",
)
@click.option(
    "--account-cost",
    type=float,
    default=5.0,
    show_default=True,
    help="Closed loop: what a fresh account costs the adaptive attacker (USD).",
)
@click.option(
    "--signup-from",
    type=click.Choice(["proxy", "fresh"]),
    default="proxy",
    show_default=True,
    help="Closed loop: where the adaptive attacker signs replacements up from: the refused "
    "request's proxy address, or a fresh residential address.",
)
@click.option(
    "--replacement-age",
    default=None,
    help="Closed loop: the adaptive attacker's replacements were signed up this long (e.g. 31d) "
    "before their first use, bought aged instead of signed up when needed.",
)
def simulate(
    preset: str,
    scale: float,
    seed: int,
    out: Path | None,
    fmt: str,
    workers: int,
    list_presets: bool,
    replay_url: str | None,
    db_url: str | None,
    keys_path: Path | None,
    rate: float,
    duration: float,
    limit: int,
    concurrency: int,
    ja4_header: str,
    closed_loop: bool,
    every: str,
    window: str,
    days: int | None,
    policy_path: Path | None,
    detect_config: Path | None,
    adaptive: bool,
    account_cost: float,
    signup_from: str,
    replacement_age: str | None,
) -> None:
    """Generate labelled traffic: dg.request.v1 segments, accounts, labels and a manifest.

    With --replay URL, send a small scenario through a running gateway instead (its accounts
    and keys are created through the control plane given by --db, or read from --keys).

    With --closed-loop, replay the scenario in time order through a detection run every
    --every, the enforcement policy and a model of the gateway, and write the defended log,
    the audit log and closed_loop.json (yield against the undefended scenario, time to
    containment, benign collateral per persona, and with --adaptive the attacker's cost).
    """
    from distillguard.simulate import presets

    if list_presets:
        for name in presets.names():
            click.echo(f"{name:22} {presets.DESCRIPTIONS[name]}")
        return
    from rich.console import Console

    console = Console(stderr=True)
    if replay_url is not None:
        _replay(
            replay_url,
            preset,
            scale,
            seed,
            db_url,
            keys_path,
            rate,
            duration,
            limit,
            concurrency,
            ja4_header,
        )
        return
    if out is None:
        raise click.UsageError("--out is required (or use --list-presets or --replay)")
    if closed_loop:
        from distillguard.cli.closed_loop import run

        run(
            console,
            out=out,
            preset=preset,
            scale=scale,
            seed=seed,
            fmt=fmt,
            every=every,
            window=window,
            days=days,
            policy=policy_path,
            detect_config=detect_config,
            adaptive=adaptive,
            account_cost=account_cost,
            signup_from=signup_from,
            replacement_age=replacement_age,
        )
        return
    from distillguard.simulate import generate

    manifest = generate(preset, scale=scale, seed=seed, out=out, fmt=fmt, workers=workers)
    counts = manifest["counts"]
    console.print(
        f"[bold]{preset}[/] scale={scale} seed={seed}: {counts['accounts']:,} accounts "
        f"({counts['malicious_accounts']:,} in {len(manifest['campaigns'])} campaigns), "
        f"{counts['requests']:,} requests ({counts['malicious_requests']:,} malicious) → {out}"
    )


def _replay(
    url: str,
    preset: str,
    scale: float,
    seed: int,
    db_url: str | None,
    keys_path: Path | None,
    rate: float,
    duration: float,
    limit: int,
    concurrency: int,
    ja4_header: str,
) -> None:
    import asyncio

    import orjson

    from distillguard.simulate import replay, scenario

    if (db_url is None) == (keys_path is None):
        raise click.UsageError(
            "--replay needs exactly one of --db (create accounts and keys) or --keys"
        )
    if scale > 0.01:
        raise click.UsageError("--replay sends a small scenario: use --scale 0.01 or less")
    traffic, builder = scenario.prepare(preset, scale, seed)
    if db_url is not None:
        keys = replay.provision(db_url, builder.accounts)
    elif keys_path is not None:
        keys = replay.read_keys(keys_path)
    report = asyncio.run(
        replay.send(
            url,
            scenario.records(traffic),
            keys,
            rate=rate,
            duration=duration,
            limit=limit,
            concurrency=concurrency,
            ja4_header=ja4_header,
        )
    )
    click.echo(orjson.dumps(report.to_dict()).decode())
