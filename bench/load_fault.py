"""Issue 4 item 8: 200 concurrent calls with faults injected; nothing lost, nothing doubled.

Run:  python bench/load_fault.py [--calls 200] [--concurrency 200]
(with the package installed, or PYTHONPATH=src). Writes bench/results/load_fault.json, prints
a summary, and exits 1 when a turn was lost or doubled or the service answered a 5xx.

Faults, all drawn from seeded generators: a share of language-model requests fail (503) and of
TTS requests fail (503); a share of each are held back (slow); a share of voice webhooks are sent
twice at once by the carrier, as a Twilio retry racing the original. Callees are a mix of the
bundled personas, so calls end in every way the funnel allows.

Turn integrity, checked from the database against what the carrier sent:
- a turn is *lost* when the carrier sent a webhook for turn N of a call and the database has no
  `ready` turn N, or no agent message for it (written with the turn's answer), or - when the
  carrier sent speech - no caller message for it (written with the turn's decision);
- a turn is *doubled* when turn N has two caller messages or two agent messages, or a stored
  message belongs to no turn, or the database holds a turn the carrier never asked for.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from harness import (
    BUDGET_SECONDS,
    PROFILES,
    RESULTS,
    Bench,
    Faults,
    Json,
    RunData,
    Webhook,
    errors_of,
    machine,
    run_meta,
    summarize,
    write_json,
)

# Who answers: mostly buyers, and every other ending the funnel has.
PERSONAS: dict[str, float] = {
    "eager_buyer": 4.0,
    "not_interested": 1.0,
    "do_not_call": 1.0,
    "asks_if_ai": 1.0,
    "wants_human": 1.0,
    "silent": 1.0,
    "sceptic": 1.0,
    "rambler": 1.0,
}
FAULTS = Faults(
    llm_fail_rate=0.05,
    tts_fail_rate=0.10,
    llm_slow_rate=0.10,
    llm_slow_seconds=0.8,  # the line is late: a bridging line and a Redirect
    tts_slow_rate=0.10,
    tts_slow_seconds=0.6,  # first byte past the TTS timeout: the line through <Say>
    duplicate_rate=0.10,
)


def integrity(run: RunData) -> Json:
    lost: list[str] = []
    doubled: list[str] = []
    sent_turns = 0
    duplicates = 0
    by_call: dict[str, list[Webhook]] = {}
    for hook in run.webhooks():
        by_call.setdefault(hook.call_id, []).append(hook)
    for call in run.calls:
        if call.transcript is None or call.call_id is None:
            continue
        stored = run.stored.get(call.call_id)
        hooks = by_call.get(call.call_id, [])
        duplicates += sum(1 for h in hooks if h.duplicate)
        sent: dict[int, str] = {}
        for hook in hooks:
            if hook.turn is not None and hook.turn not in sent:
                sent[hook.turn] = hook.speech or ""
        sent_turns += len(sent)
        where = f"call {call.call_id} ({call.persona})"
        if stored is None:
            lost += [f"{where} turn {n}: call not stored" for n in sent]
            continue
        for number, speech in sorted(sent.items()):
            turn = stored.turns.get(number)
            if turn is None:
                lost.append(f"{where} turn {number}: no turn row")
            elif turn.status != "ready":
                lost.append(f"{where} turn {number}: turn left {turn.status}")
            elif not turn.agent:
                lost.append(f"{where} turn {number}: no agent message")
            elif speech and not turn.caller:
                lost.append(f"{where} turn {number}: caller's words not stored")
        for number, turn in sorted(stored.turns.items()):
            if len(turn.caller) > 1 or len(turn.agent) > 1:
                doubled.append(
                    f"{where} turn {number}: {len(turn.caller)} caller and "
                    f"{len(turn.agent)} agent messages"
                )
            if number not in sent:
                doubled.append(f"{where} turn {number}: stored, never sent by the carrier")
        doubled += [f"{where}: {m.role} message {m.seq} belongs to no turn" for m in stored.orphans]
    return {
        "turns_sent": sent_turns,
        "duplicate_webhooks_sent": duplicates,
        "lost": len(lost),
        "doubled": len(doubled),
        "lost_samples": lost[:10],
        "doubled_samples": doubled[:10],
    }


def report(run: RunData) -> Json:
    hooks = run.webhooks()
    primary = [h for h in hooks if not h.duplicate]
    echoes = [h for h in hooks if h.duplicate]
    # A retry must get the answer the original got (both are replays of one stored turn);
    # a bridging line on one and the line on the other is allowed: both lead to the same turn.
    first_answer = {(h.call_id, h.turn, h.wait): h.twiml for h in primary}
    diverged = sum(
        1
        for e in echoes
        if e.status == 200
        and first_answer.get((e.call_id, e.turn, e.wait)) not in (None, e.twiml)
        and "<Redirect" not in e.twiml + first_answer.get((e.call_id, e.turn, e.wait), "")
    )
    errors = errors_of(run, hooks)
    finished = [c for c in run.calls if c.transcript is not None and c.transcript.finished]
    return {
        **run_meta(run),
        "calls_placed": sum(1 for c in run.calls if c.start_status == 202),
        "calls_completed": sum(1 for c in finished if not c.timed_out),
        "end_reasons": dict(
            Counter(str((c.api or {}).get("end_reason")) for c in run.calls if c.api)
        ),
        "statuses": dict(Counter(str((c.api or {}).get("status")) for c in run.calls if c.api)),
        "personas": dict(Counter(c.persona for c in run.calls)),
        "turns": integrity(run),
        "server_errors_5xx": errors["server_5xx"],
        "errors": errors,
        "webhooks": len(primary),
        "duplicate_answers_differing": diverged,
        "bridges": sum(1 for h in primary if h.bridged),
        "over_budget": sum(1 for h in hooks if h.ms > BUDGET_SECONDS * 1000),
        "webhook_ms": summarize(h.ms for h in primary),
    }


def print_report(result: Json) -> None:
    t = result["turns"]
    print(
        f"\n== load and faults: {result['calls']} calls, {result['concurrency']} at a time, "
        f"{result['seconds']} s, service CPU {result['service_cpu_seconds']} s"
    )
    print(f"faults: {result['faults']}; slowed requests {result['slowed_requests']}")
    print(
        f"calls placed {result['calls_placed']}, completed {result['calls_completed']}; "
        f"statuses {result['statuses']}"
    )
    print(f"end reasons: {result['end_reasons']}")
    print(
        f"turns sent {t['turns_sent']} (+{t['duplicate_webhooks_sent']} duplicated webhooks): "
        f"lost {t['lost']}, doubled {t['doubled']}; server errors (5xx) "
        f"{result['server_errors_5xx']}"
    )
    for sample in t["lost_samples"] + t["doubled_samples"]:
        print(f"  {sample}")
    e = result["errors"]
    w = result["webhook_ms"]
    print(
        f"other: carrier errors {e['carrier_errors']} {e['carrier_error_kinds']}, unexpected "
        f"endings {e['unexpected_end']} {e['unexpected_end_kinds']}, timeouts {e['timed_out']}, "
        f"duplicate answers differing {result['duplicate_answers_differing']}, bridges "
        f"{result['bridges']}, webhooks over budget {result['over_budget']} "
        f"(webhook p50/p95/max {w['p50']}/{w['p95']}/{w['max']} ms)"
    )
    print(f"service log: {result['service_log']}")
    for sample in result["service_log_samples"]:
        print(f"  {sample}")


async def main(args: argparse.Namespace) -> Json:
    with tempfile.TemporaryDirectory(prefix="voiceagent-bench-") as tmp:
        async with Bench(args.workdir or Path(tmp), seed=args.seed) as bench:
            run = await bench.run(
                label="load-fault",
                concurrency=args.concurrency,
                calls=args.calls,
                profile=PROFILES["reference"],
                faults=FAULTS,
                personas=PERSONAS,
                think=args.think,
                call_timeout=args.call_timeout,
                run_timeout=args.run_timeout,
                handoff=True,
            )
            return report(run)


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=200)
    parser.add_argument("--think", type=float, default=1.0)
    parser.add_argument("--call-timeout", type=float, default=180.0)
    parser.add_argument("--run-timeout", type=float, default=300.0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--workdir", type=Path, help="keep the database and service log here")
    args = parser.parse_args()
    began = time.monotonic()
    result = asyncio.run(main(args))
    print_report(result)
    write_json(
        args.out / "load_fault.json",
        {"benchmark": "load_fault", "machine": machine(), "run": result},
    )
    print(f"\nwrote {args.out / 'load_fault.json'} in {time.monotonic() - began:.0f} s")
    failed = result["turns"]["lost"] or result["turns"]["doubled"] or result["server_errors_5xx"]
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    cli()
