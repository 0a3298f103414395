"""Both transports side by side: the <Gather>/<Play> loop and ConversationRelay, same load.

Run:  python bench/transports.py [--concurrency 1 50 200] [--transports gather relay]
      [--think 1.0] [--profile reference]
(with the package installed, or PYTHONPATH=src). For each concurrency level it runs the gather
transport and then the relay one (a fresh service each, `VOICE_TRANSPORT` set in its
environment), writes bench/results/transports.json and transports.md and prints the table. See
bench/README.md for what each figure means.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

from harness import (
    PROFILES,
    RESULTS,
    Bench,
    EventKind,
    Faults,
    Json,
    PlacedCall,
    Profile,
    RunData,
    StoredCall,
    StoredMessage,
    errors_of,
    fmt,
    machine,
    run_meta,
    summarize,
    write_json,
)
from latency import figures as gather_figures

from voiceagent.funnel.states import SCRIPTED_LINES, Line, State
from voiceagent.providers.base import LineRequest
from voiceagent.providers.line_check import CheckedLanguage
from voiceagent.providers.openai.language import OpenAILanguage
from voiceagent.providers.scripted import ScriptedLanguage
from voiceagent.script.model import load_script

TRANSPORTS = ("gather", "relay")
# The relay target: prompt -> first token at most this much over the model's own first token.
RELAY_MARGIN_MS = 20.0
GROUPS = ("generated", "fixed", "all")


# ---------------------------------------------------------------------------------------------
# Figures of one run


def health(run: RunData) -> Json:
    """Calls that failed (each counted once, with every reason it had), 5xx, calls completed."""
    reasons: Counter[str] = Counter()
    failed = 0
    for call in run.calls:
        why = _failures(call)
        reasons.update(why)
        failed += bool(why)
    # A refused WebSocket upgrade is no HTTP exchange the timing transport sees.
    upgrade_5xx = sum(
        1
        for call in run.calls
        for message in (call.transcript.errors if call.transcript else ())
        if "refused the WebSocket upgrade: HTTP 5" in message
    )
    log_errors = {
        k: v
        for k, v in run.service_log.items()
        if k.startswith(("error:", "critical:")) or k in ("traceback", "asgi_exception")
    }
    log = run.service_log
    return {
        # Lines the caller got less of: on relay, a line the model's deadline cut mid-way; on
        # gather, a turn answered with the script's line because the model was late.
        "degraded_lines": log.get("warning:llm_error_mid_line", 0)
        + log.get("warning:turn_answered_from_script", 0),
        "calls": len(run.calls),
        "completed": sum(1 for c in run.calls if (c.api or {}).get("status") == "completed"),
        "ended_as_expected": sum(1 for c in run.calls if c.ended_as_expected()),
        "failed_calls": failed,
        "failure_reasons": dict(reasons),
        "server_5xx": errors_of(run, [])["server_5xx"] + upgrade_5xx,
        "service_log_errors": sum(log_errors.values()),
        "service_log_error_kinds": log_errors,
    }


def _failures(call: PlacedCall) -> list[str]:
    why = []
    if call.start_status != 202:
        why.append("start_failed")
    if call.timed_out:
        why.append("timed_out")
    if call.transcript is not None and call.transcript.errors:
        why.append("transcript_errors")
    if call.start_status == 202 and not call.ended_as_expected():
        why.append("unexpected_end")
    return why


def cpu(run: RunData, lines: int) -> Json:
    return {
        "service_cpu_seconds": round(run.service_cpu, 1),
        "service_cpu_share": round(run.service_cpu / run.seconds, 3) if run.seconds else None,
        "service_cpu_ms_per_agent_line": round(run.service_cpu * 1000 / lines, 1)
        if lines
        else None,
    }


def _relay_messages(stored: StoredCall) -> list[tuple[str, StoredMessage]]:
    """The call's agent lines that answered a caller turn on the socket (the welcome greeting,
    answered on the webhook, has no relay stage), in order, each with generated|fixed."""
    found = [
        ("fixed" if turn.fixed else "generated", message)
        for turn in stored.turns.values()
        for message in turn.agent
        if "relay_first_token" in message.stages
    ]
    found += [("unknown", m) for m in stored.orphans if "relay_first_token" in m.stages]
    return sorted(found, key=lambda pair: pair[1].seq)


def relay_figures(run: RunData) -> Json:
    """Prompt -> first and last token: as the service stored it, and as the carrier heard it.

    The carrier's figures run from its prompt sent to the token received, so they hold the
    loopback WebSocket both ways and both event loops; each carrier line is paired with the
    stored line of the same text, to split generated from fixed lines and to take the
    difference (the hop)."""
    service_first: dict[str, list[float]] = {g: [] for g in GROUPS}
    service_last: dict[str, list[float]] = {g: [] for g in GROUPS}
    carrier_first: dict[str, list[float]] = {g: [] for g in GROUPS}
    carrier_last: dict[str, list[float]] = {g: [] for g in GROUPS}
    hop: list[float] = []
    disagree = unpaired = interrupted = 0
    for call in run.calls:
        stored = run.stored.get(call.call_id or "")
        if stored is None:
            continue
        queue = _relay_messages(stored)
        for group, message in queue:
            first = message.stages["relay_first_token"]
            if message.latency_ms is None or abs(message.latency_ms - first) > 1.0:
                disagree += 1  # latency_ms is meant to be the same figure
            interrupted += message.interrupted
            for key in (group, "all"):
                if key in service_first:
                    service_first[key].append(first)
                    if "relay_last_token" in message.stages:
                        service_last[key].append(message.stages["relay_last_token"])
        if call.transcript is None:
            continue
        for event in call.transcript.events:
            data = event.data
            if event.kind is not EventKind.SAY or "last_token_ms" not in data:
                continue
            text = event.text.strip()
            at = next((i for i, (_, m) in enumerate(queue) if m.text == text), None)
            if at is None:
                unpaired += 1
                group, message_first = "all", None
            else:
                (group, message), queue = queue[at], queue[at + 1 :]
                message_first = message.stages["relay_first_token"]
            first, last = float(data["first_token_ms"]), float(data["last_token_ms"])
            for key in {group, "all"}:
                if key in carrier_first:
                    carrier_first[key].append(first)
                    carrier_last[key].append(last)
            if message_first is not None:
                hop.append(first - message_first)
    carrier_count = sum(len(c.transcript.relay_timings()) for c in run.calls if c.transcript)
    lines = len(service_first["all"])
    target = run.profile.llm_first_token * 1000 + RELAY_MARGIN_MS
    first_generated = summarize(service_first["generated"])
    return {
        **run_meta(run),
        "transport": "relay",
        "measures": {
            "service_first_token_ms": {g: summarize(v) for g, v in service_first.items()},
            "service_last_token_ms": {g: summarize(v) for g, v in service_last.items()},
            "carrier_first_token_ms": {g: summarize(v) for g, v in carrier_first.items()},
            "carrier_last_token_ms": {g: summarize(v) for g, v in carrier_last.items()},
            "carrier_minus_service_first_token_ms": summarize(hop),
        },
        "target": {
            "what": "service prompt -> first token p95, generated lines",
            "limit_ms": target,
            "p95_ms": first_generated["p95"],
            "met": first_generated["p95"] is not None and first_generated["p95"] <= target,
        },
        "checks": {
            "stored_relay_lines": lines,
            "carrier_timed_lines": carrier_count,
            "carrier_lines_without_stored_line": unpaired,
            "latency_ms_differs_from_relay_first_token": disagree,
            "interrupted_lines": interrupted,
        },
        "cpu": cpu(run, lines),
        "health": health(run),
        "errors": errors_of(run, [h for h in run.webhooks() if not h.duplicate]),
        "end_reasons": dict(
            Counter(str((c.api or {}).get("end_reason")) for c in run.calls if c.api)
        ),
    }


def gather_run_figures(run: RunData) -> Json:
    result = gather_figures(run)
    lines = sum(result["webhook_kinds"].get(k, 0) for k in ("generated", "fixed"))
    return {**result, "transport": "gather", "cpu": cpu(run, lines), "health": health(run)}


async def provider_floor(bench: Bench, profile: Profile, lines: int) -> Json:
    """A relay line's floor without the service: the model's first token through the SDK, and
    the first piece the output check lets through (it waits for the word's end), one line at a
    time, in this process."""
    script = load_script()
    model = OpenAILanguage(
        api_key=bench.openai.api_key,
        model=bench.openai.model,
        script=script,
        base_url=f"{bench.urls['openai']}/v1",
    )
    checked = CheckedLanguage(model, ScriptedLanguage(script), fixed=SCRIPTED_LINES)
    bench.configure_vendors(profile, Faults())
    first_token: list[float] = []
    first_piece: list[float] = []
    for turn in range(1, lines + 1):
        request = LineRequest(
            call_id="floor",
            turn=turn,
            state=State.QUALIFY,
            lines=(Line.ASK_QUESTION,),
            caller_text="Sure, go ahead.",
        )
        for source, into in (
            (model.stream_tokens(request), first_token),
            (checked.stream_pieces(request), first_piece),
        ):
            began = time.perf_counter()
            async for _ in source:
                into.append((time.perf_counter() - began) * 1000)
                break
            await source.aclose()  # type: ignore[attr-defined]
    return {
        "lines": lines,
        "model_first_token_ms": summarize(first_token),
        "checked_first_piece_ms": summarize(first_piece),
    }


# ---------------------------------------------------------------------------------------------
# The table


def latency_rows(result: Json) -> list[tuple[str, str, Json]]:
    """(line kind, measure, figures) rows of one run."""
    m = result["measures"]
    if result["transport"] == "relay":
        rows = []
        for group in ("generated", "fixed"):
            rows += [
                (group, "service: prompt -> first token", m["service_first_token_ms"][group]),
                (group, "service: prompt -> last token", m["service_last_token_ms"][group]),
                (group, "carrier: prompt -> first token", m["carrier_first_token_ms"][group]),
                (group, "carrier: prompt -> last token", m["carrier_last_token_ms"][group]),
            ]
        rows.append(
            ("all", "carrier minus service, first token", m["carrier_minus_service_first_token_ms"])
        )
        return rows
    return [
        (group, name, m[key][group])
        for group in ("generated", "fixed")
        for name, key in (("time-to-first-audio", "ttfa_ms"), ("time-to-playable", "playable_ms"))
    ]


def run_row(result: Json) -> list[str]:
    h, c = result["health"], result["cpu"]
    load = result["machine_loadavg_1min_during"]
    target = result.get("target")
    met = "-" if target is None else f"{'yes' if target['met'] else 'NO'} ({target['p95_ms']})"
    return [
        result["transport"],
        str(result["concurrency"]),
        str(h["calls"]),
        str(h["completed"]),
        str(h["failed_calls"]),
        str(h["server_5xx"]),
        str(h["service_log_errors"]),
        str(h["degraded_lines"]),
        f"{result['seconds']}",
        f"{c['service_cpu_seconds']}",
        f"{c['service_cpu_share']:.0%}",
        "-"
        if c["service_cpu_ms_per_agent_line"] is None
        else f"{c['service_cpu_ms_per_agent_line']}",
        f"{load['first']} / {load['max']} / {result['machine_loadavg_1_5_15'][0]}",
        f"{result['loadgen_loop_lag_ms']['p99']}",
        met,
    ]


RUN_HEADER = [
    "transport",
    "concurrent",
    "calls",
    "completed",
    "failed calls",
    "5xx",
    "service log errors",
    "lines cut / from script",
    "run s",
    "service CPU s",
    "CPU % of run",
    "CPU ms / line",
    "load 1-min start / max / end",
    "loadgen lag p99 ms",
    "relay target met (p95 ms)",
]
LATENCY_HEADER = ["concurrent", "transport", "line", "measure (ms)", "n", "p50", "p95", "p99"]


def markdown(results: Sequence[Json], meta: Json) -> str:
    def table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
        out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        out += ["| " + " | ".join(row) + " |" for row in rows]
        return out

    def q(value: float | None) -> str:
        return "-" if value is None else f"{value:.0f}"

    latency = [
        [str(r["concurrency"]), r["transport"], line, measure, str(f["n"])]
        + [q(f[p]) for p in ("p50", "p95", "p99")]
        for r in results
        for line, measure, f in latency_rows(r)
    ]
    profile = meta["profile"]
    lines = [
        "# Transports side by side",
        "",
        f"Profile `{profile['name']}` (model first token {profile['llm_first_token_s'] * 1000:.0f}"
        f" ms, last {profile['llm_total_s'] * 1000:.0f} ms; TTS first byte "
        f"{profile['tts_first_byte_s'] * 1000:.0f} ms, used by gather only), think "
        f"{meta['think_seconds']} s +- {meta['think_jitter']:.0%}, {meta['machine']['cpus']} CPUs, "
        "Python "
        f"{meta['machine']['python']}. Command: `{meta['command']}` "
        f"({meta['wall_seconds']:.0f} s).",
        "",
        f"Relay target: service prompt -> first token p95 <= {meta['relay_target_ms']:.0f} ms "
        "(generated lines).",
        "",
        *_floor_text(meta.get("relay_floor")),
        "## Runs",
        "",
        *table(RUN_HEADER, (run_row(r) for r in results)),
        "",
        "## Latency (ms)",
        "",
        *table(LATENCY_HEADER, latency),
        "",
    ]
    return "\n".join(lines)


def _floor_text(floor: Json | None) -> list[str]:
    if not floor:
        return []
    token, piece = floor["model_first_token_ms"], floor["checked_first_piece_ms"]
    return [
        f"Relay floor, no service ({floor['lines']} lines one at a time): the model's first "
        f"token p50/p95 {token['p50']:.0f}/{token['p95']:.0f} ms through the SDK; the output "
        f"check's first piece {piece['p50']:.0f}/{piece['p95']:.0f} ms.",
        "",
    ]


def print_result(result: Json) -> None:
    h = result["health"]
    print(
        f"\n== {result['transport']} at {result['concurrency']}: {h['calls']} calls, "
        f"{h['completed']} completed, {h['failed_calls']} failed {h['failure_reasons'] or ''}, "
        f"5xx {h['server_5xx']}, service log errors {h['service_log_error_kinds'] or 0}; "
        f"{result['seconds']} s, service CPU {result['cpu']['service_cpu_seconds']} s "
        f"({result['cpu']['service_cpu_share']:.0%}), load {result['machine_loadavg_1min_during']}"
    )
    print(f"{'line':10}{'measure (ms)':38}{'n':>6}{'p50':>8}{'p95':>8}{'p99':>8}{'max':>8}")
    for line, measure, f in latency_rows(result):
        print(
            f"{line:10}{measure:38}{f['n']:>6}{fmt(f['p50'], 8)}{fmt(f['p95'], 8)}"
            f"{fmt(f['p99'], 8)}{fmt(f['max'], 8)}"
        )
    if "target" in result:
        t = result["target"]
        print(f"target {t['what']} <= {t['limit_ms']:.0f}: p95 {t['p95_ms']} -> {t['met']}")
        print(f"checks {result['checks']}")
    samples = result["errors"]["carrier_error_samples"]
    if samples:
        print(f"carrier errors, e.g. {samples}")
    if result["service_log_samples"]:
        print(f"service log, e.g. {result['service_log_samples']}")


# ---------------------------------------------------------------------------------------------
# The run


async def main(args: argparse.Namespace) -> list[Json]:
    results: list[Json] = []
    profile = PROFILES[args.profile]
    with tempfile.TemporaryDirectory(prefix="voiceagent-bench-") as tmp:
        async with Bench(args.workdir or Path(tmp), seed=args.seed) as bench:
            if args.floor_lines and "relay" in args.transports:
                floor = await provider_floor(bench, profile, args.floor_lines)
                args.floor = floor
                print(
                    f"provider floor ({floor['lines']} lines, no service): model first token "
                    f"{floor['model_first_token_ms']}, checked first piece "
                    f"{floor['checked_first_piece_ms']}"
                )
            # Each level's transports back to back, so both see about the same machine.
            for concurrency in args.concurrency:
                for transport in args.transports:
                    began = time.monotonic()
                    run = await bench.run(
                        label=f"{transport}-c{concurrency}",
                        concurrency=concurrency,
                        calls=max(concurrency, args.min_calls),
                        profile=profile,
                        think=args.think,
                        think_jitter=args.think_jitter,
                        call_timeout=args.call_timeout,
                        run_timeout=args.run_timeout,
                        extra_env={"VOICE_TRANSPORT": transport},
                    )
                    result = (relay_figures if transport == "relay" else gather_run_figures)(run)
                    result["wall_seconds_with_setup"] = round(time.monotonic() - began, 1)
                    results.append(result)
                    print_result(result)
    return results


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 50, 200])
    parser.add_argument("--transports", nargs="+", choices=TRANSPORTS, default=list(TRANSPORTS))
    parser.add_argument("--profile", choices=sorted(PROFILES), default="reference")
    parser.add_argument(
        "--min-calls", type=int, default=4, help="calls per run at least (one after another at 1)"
    )
    parser.add_argument(
        "--think", type=float, default=1.0, help="seconds each callee takes before replying"
    )
    parser.add_argument(
        "--think-jitter",
        type=float,
        default=0.0,
        help="each pause drawn from think x (1 +- this); 0: every callee replies in step",
    )
    # 200 gather calls on a busy 2-core machine run past two minutes: a call cut by the
    # harness's own timeout would count as failed.
    parser.add_argument("--call-timeout", type=float, default=300.0)
    parser.add_argument("--run-timeout", type=float, default=600.0)
    parser.add_argument(
        "--floor-lines",
        type=int,
        default=20,
        help="lines for the relay floor (model and output check, no service); 0 skips it",
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument(
        "--workdir", type=Path, help="keep each run's database and service log here"
    )
    args = parser.parse_args(argv)
    args.floor = None
    return args


def cli() -> None:
    import shlex
    import sys

    args = parse()
    began = time.monotonic()
    results = asyncio.run(main(args))
    profile = PROFILES[args.profile]
    meta: Json = {
        "command": shlex.join(["python", "bench/transports.py", *sys.argv[1:]]),
        "machine": machine(),
        "profile": profile.as_json(),
        "think_seconds": args.think,
        "think_jitter": args.think_jitter,
        "relay_target_ms": profile.llm_first_token * 1000 + RELAY_MARGIN_MS,
        "relay_floor": args.floor,
        "wall_seconds": round(time.monotonic() - began, 1),
    }
    write_json(args.out / "transports.json", {"benchmark": "transports", **meta, "runs": results})
    text = markdown(results, meta)
    (args.out / "transports.md").write_text(text)
    print("\n" + text)
    print(f"wrote {args.out / 'transports.json'} and {args.out / 'transports.md'}")


if __name__ == "__main__":
    cli()
