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
def simulate(
    preset: str,
    scale: float,
    seed: int,
    out: Path | None,
    fmt: str,
    workers: int,
    list_presets: bool,
) -> None:
    """Generate labelled traffic: dg.request.v1 segments, accounts, labels and a manifest."""
    from distillguard.simulate import presets

    if list_presets:
        for name in presets.names():
            click.echo(f"{name:22} {presets.DESCRIPTIONS[name]}")
        return
    if out is None:
        raise click.UsageError("--out is required (or use --list-presets)")
    from rich.console import Console

    from distillguard.simulate import generate

    manifest = generate(preset, scale=scale, seed=seed, out=out, fmt=fmt, workers=workers)
    counts = manifest["counts"]
    Console(stderr=True).print(
        f"[bold]{preset}[/] scale={scale} seed={seed}: {counts['accounts']:,} accounts "
        f"({counts['malicious_accounts']:,} in {len(manifest['campaigns'])} campaigns), "
        f"{counts['requests']:,} requests ({counts['malicious_requests']:,} malicious) → {out}"
    )
