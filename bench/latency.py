"""Issue 3 item 7: per-turn latency at 1, 50 and 200 concurrent calls, and with the model 8 s late.

Run:  python bench/latency.py [--concurrency 1 50 200] [--profile reference slow-llm]
(with the package installed, or PYTHONPATH=src). Writes bench/results/latency.json and
bench/results/latency.png and prints a table. See bench/README.md for what each figure means.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from harness import (
    BUDGET_SECONDS,
    PROFILES,
    RESULTS,
    Bench,
    Json,
    RunData,
    Webhook,
    errors_of,
    fmt,
    machine,
    run_meta,
    summarize,
    write_json,
)

STAGES = (
    "classify",
    "language_first",
    "language_total",
    "tts_first_byte",
    "tts_total",
    "webhook",
    "overhead",
)
# The providers' own critical path under the reference profile: the model's first sentence
# (its first token at 300 ms, the sentence complete a little later) plus the TTS first byte.
FLOOR_MS = 1150.0


def figures(run: RunData) -> Json:
    hooks = [h for h in run.webhooks() if not h.duplicate]
    # A turn's first webhook (wait=0), whatever it was answered with: the line, or a bridging
    # line when the line was late. Redirects after a bridge are counted in "all" only.
    groups: dict[str, list[Webhook]] = {"generated": [], "fixed": [], "all": hooks}
    for hook in hooks:
        if hook.line in ("generated", "fixed") and hook.wait == 0:
            groups[hook.line].append(hook)
    measures: Json = {}
    getters: tuple[tuple[str, Callable[[Webhook], float | None]], ...] = (
        ("webhook_ms", lambda h: h.ms),
        ("ttfa_ms", lambda h: h.ttfa_ms),
        ("playable_ms", lambda h: h.playable_ms),
    )
    for name, getter in getters:
        measures[name] = {
            group: summarize(getter(h) for h in items) for group, items in groups.items()
        }
    turns = [t for c in run.stored.values() for t in c.turns.values() if t.agent]
    stage_figures: Json = {}
    for group, wanted in (("generated", False), ("fixed", True)):
        chosen = [t.agent[0].stages for t in turns if t.fixed is wanted]
        stage_figures[group] = {stage: summarize(s.get(stage) for s in chosen) for stage in STAGES}
    measures["overhead_ms"] = {
        group: stage_figures[group]["overhead"] for group in ("generated", "fixed")
    }
    budget_ms = BUDGET_SECONDS * 1000
    return {
        **run_meta(run),
        "webhooks": len(hooks),
        "webhook_kinds": dict(Counter(f"{h.line}{'-redirect' if h.wait else ''}" for h in hooks)),
        "answers": dict(Counter(h.prompt or "none" for h in hooks)),
        "bridges": sum(1 for h in hooks if h.bridged),
        "over_budget": sum(1 for h in hooks if h.ms > budget_ms),
        "turns_answered_from_script": sum(1 for t in turns if "gave_up" in t.agent[0].stages),
        "end_reasons": dict(
            Counter(str((c.api or {}).get("end_reason")) for c in run.calls if c.api)
        ),
        "measures": measures,
        "stages_ms": stage_figures,
        "slowest_stage": _slowest(stage_figures["generated"]),
        "errors": errors_of(run, hooks),
    }


def _slowest(stages: Json) -> str | None:
    timed = {
        s: f["p50"]
        for s, f in stages.items()
        if s not in ("webhook", "language_total", "tts_total") and f["p50"] is not None
    }
    return max(timed, key=lambda s: timed[s]) if timed else None


def print_run(result: Json) -> None:
    m = result["measures"]
    print(
        f"\n== {result['label']}: {result['calls']} calls, {result['concurrency']} at a time, "
        f"profile {result['profile']['name']}, {result['seconds']} s, "
        f"service CPU {result['service_cpu_seconds']} s ({result['service_cpu_share']:.0%} "
        f"of a core), load-generator loop lag p99 {result['loadgen_loop_lag_ms']['p99']} ms"
    )
    print(f"{'measure (ms)':34}{'n':>6}{'p50':>8}{'p95':>8}{'p99':>8}{'max':>8}")
    rows: list[tuple[str, Json]] = [
        ("webhook, generated lines", m["webhook_ms"]["generated"]),
        ("webhook, fixed lines", m["webhook_ms"]["fixed"]),
        ("time-to-first-audio, generated", m["ttfa_ms"]["generated"]),
        ("time-to-first-audio, fixed", m["ttfa_ms"]["fixed"]),
        ("time-to-playable, generated", m["playable_ms"]["generated"]),
        ("time-to-playable, fixed", m["playable_ms"]["fixed"]),
        ("service overhead, generated", m["overhead_ms"]["generated"]),
        ("service overhead, fixed", m["overhead_ms"]["fixed"]),
        ("webhook, every answer", m["webhook_ms"]["all"]),
    ]
    for name, f in rows:
        print(
            f"{name:34}{f['n']:>6}{fmt(f['p50'], 8)}{fmt(f['p95'], 8)}{fmt(f['p99'], 8)}"
            f"{fmt(f['max'], 8)}"
        )
    stages = result["stages_ms"]["generated"]
    print(
        "stages p50/p95, generated: "
        + ", ".join(
            f"{s} {fmt(f['p50'], 0)}/{fmt(f['p95'], 0)}" for s, f in stages.items() if f["n"]
        )
        + f"  -> slowest: {result['slowest_stage']}"
    )
    e = result["errors"]
    print(
        f"errors {e['total']} (start {e['start_failed']}, timeouts {e['timed_out']}, "
        f"carrier {e['carrier_errors']}, unexpected endings {e['unexpected_end']}, "
        f"5xx {e['server_5xx']}); bridges {result['bridges']}; over budget "
        f"{result['over_budget']}; answered from script {result['turns_answered_from_script']}; "
        f"end reasons {result['end_reasons']}"
    )
    noisy = {k: v for k, v in result["service_log"].items() if not k.startswith("warning:webhook")}
    if noisy:
        print(f"service log (warnings and errors): {noisy}")


def plot(results: list[Json], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    runs = sorted(
        (r for r in results if r["profile"]["name"] == "reference"), key=lambda r: r["concurrency"]
    )
    if not runs:
        return
    x = [r["concurrency"] for r in runs]
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(8, 8), sharex=True)
    series: list[tuple[str, str, str, Any]] = [
        ("webhook_ms", "generated", "webhook (generated)", "tab:blue"),
        ("ttfa_ms", "generated", "time-to-first-audio (generated)", "tab:orange"),
        ("playable_ms", "generated", "time-to-playable (generated)", "tab:green"),
    ]
    for measure, group, label, color in series:
        for q, style in (("p50", "-"), ("p95", "--")):
            y = [r["measures"][measure][group][q] for r in runs]
            top.plot(x, y, style, marker="o", color=color, label=f"{label} {q}")
    top.axhline(FLOOR_MS, color="grey", linewidth=0.8, linestyle=":")
    top.text(x[0], FLOOR_MS, " providers' floor (1.15 s)", va="bottom", color="grey")
    top.axhline(BUDGET_SECONDS * 1000, color="red", linewidth=0.8, linestyle=":")
    top.text(x[0], BUDGET_SECONDS * 1000, " webhook budget", va="bottom", color="red")
    top.set_ylabel("ms")
    top.set_title("Generated lines (reference profile)")
    top.legend(fontsize=7, loc="upper left")
    for measure, group, label, color in (
        ("ttfa_ms", "fixed", "time-to-first-audio (fixed lines)", "tab:purple"),
        ("overhead_ms", "generated", "service overhead (generated)", "tab:brown"),
        ("overhead_ms", "fixed", "service overhead (fixed)", "tab:pink"),
    ):
        for q, style in (("p50", "-"), ("p95", "--")):
            y = [r["measures"][measure][group][q] for r in runs]
            bottom.plot(x, y, style, marker="o", color=color, label=f"{label} {q}")
    bottom.axhline(50, color="grey", linewidth=0.8, linestyle=":")
    bottom.set_ylabel("ms")
    bottom.set_xlabel("concurrent calls")
    bottom.set_title("Fixed lines and service overhead")
    bottom.legend(fontsize=7, loc="upper left")
    bottom.set_xscale("symlog", linthresh=10)
    bottom.set_xticks(x, [str(c) for c in x])
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


async def main(args: argparse.Namespace) -> list[Json]:
    results: list[Json] = []
    with tempfile.TemporaryDirectory(prefix="voiceagent-bench-") as tmp:
        async with Bench(args.workdir or Path(tmp), seed=args.seed) as bench:
            plan: list[tuple[str, int]] = []
            for profile in args.profile:
                levels = args.concurrency if profile == "reference" else args.slow_concurrency
                plan += [(profile, level) for level in levels]
            for profile_name, concurrency in plan:
                calls = max(concurrency, args.min_calls)
                run = await bench.run(
                    label=f"{profile_name}-c{concurrency}",
                    concurrency=concurrency,
                    calls=calls,
                    profile=PROFILES[profile_name],
                    think=args.think,
                    call_timeout=args.call_timeout,
                    run_timeout=args.run_timeout,
                )
                result = figures(run)
                results.append(result)
                print_run(result)
    return results


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 50, 200])
    parser.add_argument(
        "--profile", nargs="+", choices=sorted(PROFILES), default=["reference", "slow-llm"]
    )
    parser.add_argument(
        "--slow-concurrency",
        type=int,
        nargs="+",
        default=[50],
        help="concurrency of the slow-llm runs",
    )
    parser.add_argument(
        "--min-calls", type=int, default=4, help="calls per run at least (one after another at 1)"
    )
    parser.add_argument(
        "--think", type=float, default=1.0, help="seconds each callee takes before replying"
    )
    parser.add_argument("--call-timeout", type=float, default=120.0)
    parser.add_argument("--run-timeout", type=float, default=240.0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument(
        "--workdir", type=Path, help="keep each run's database and service log here"
    )
    return parser.parse_args(argv)


def cli() -> None:
    args = parse()
    began = time.monotonic()
    results = asyncio.run(main(args))
    data = {"benchmark": "latency", "machine": machine(), "runs": results}
    write_json(args.out / "latency.json", data)
    plot(results, args.out / "latency.png")
    print(
        f"\nwrote {args.out / 'latency.json'} and {args.out / 'latency.png'} "
        f"in {time.monotonic() - began:.0f} s"
    )


if __name__ == "__main__":
    cli()
