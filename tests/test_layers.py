"""The dependency rule, read from the source: which of our packages may import which.

Every module under `src/voiceagent` is parsed with `ast`; an import counts wherever it is written,
inside a function or an `if TYPE_CHECKING:` block too. The layers, lowest first:

    base (settings, errors, observability, phone, text)  <  funnel  <  script, intent
      <  providers, db  <  calls  <  web  <  cli

A package imports its own modules and packages of lower layers, never a higher layer nor a
sibling of its own layer (script and intent know nothing of each other; nor do providers and db).
Base is the one layer whose modules build on each other. `emulators` (local servers speaking the
vendors' wire protocols) is a leaf for tests and benchmarks: nothing in `src` imports it.

An edge that breaks a rule today and cannot be fixed yet is in `ALLOWED`, with why; an entry
nothing needs any more fails too, so the list only shrinks.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
ROOT = "voiceagent"

LAYERS: tuple[frozenset[str], ...] = (
    frozenset({ROOT, "settings", "errors", "observability", "phone", "text"}),
    frozenset({"funnel"}),
    frozenset({"script", "intent"}),
    frozenset({"providers", "db"}),
    frozenset({"calls"}),
    frozenset({"web"}),
    frozenset({"cli"}),
    frozenset({"__main__"}),  # `python -m voiceagent`: runs the CLI
)
BASE = LAYERS[0]
LEAVES = frozenset({"emulators"})
VENDORS = frozenset({"twilio", "openai", "elevenlabs"})
VENDOR_HOMES = frozenset({"providers", "emulators"})

# The composition roots: they build the engine and run migrations, so they name `db` by design.
COMPOSITION_ROOTS = frozenset({f"{ROOT}.web.app", f"{ROOT}.cli.admin"})

# (importing module, imported module or package): why it is allowed for now. An entry covers the
# module it names and everything under it.
ALLOWED: dict[tuple[str, str], str] = {
    # ORM rows named by the web layer as read models (the reads themselves go through calls/).
    (f"{ROOT}.web.schemas", f"{ROOT}.db.tables"): (
        "CallSummary/CallDetail.of convert a CallRow: calls/service.py returns rows until it "
        "has read types of its own"
    ),
    (f"{ROOT}.web.dnc_api", f"{ROOT}.db.tables"): (
        "DncEntry.of converts a DncRow: calls/dnc.py returns rows"
    ),
    (f"{ROOT}.web.ui.streams", f"{ROOT}.db.tables"): (
        "the stream hub keeps the MessageRows calls/dashboard.py polled, to type its buffer"
    ),
    # Intended to stay: a command over the learned part, with no call service involved.
    (f"{ROOT}.cli.intent", f"{ROOT}.intent"): (
        "`voiceagent intent train` drives the corpus, the trainer and the artefact itself"
    ),
}

# The vendors' providers: only `providers.wiring` builds them (the wire formats of Twilio's two
# transports, `providers.twilio.{webhooks,twiml,relay}`, are read and written by the transports).
VENDOR_PROVIDERS = frozenset(
    {f"{ROOT}.providers.openai", f"{ROOT}.providers.elevenlabs", f"{ROOT}.providers.twilio.voice"}
)
WIRING = f"{ROOT}.providers.wiring"

Edge = tuple[str, str]


def _modules() -> dict[str, Path]:
    found = {}
    for path in sorted((SRC / ROOT).rglob("*.py")):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


MODULES = _modules()


def _imports(module: str, path: Path) -> Iterable[str]:
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, *([node.module] if node.module else [])])
            for alias in node.names:
                # `from voiceagent.web.ui import queries` imports the module queries.
                name = f"{base}.{alias.name}"
                yield name if name in MODULES else base


EDGES: frozenset[Edge] = frozenset(
    (module, target) for module, path in MODULES.items() for target in _imports(module, path)
)


def _package(name: str) -> str:
    """Our top-level package of a dotted name ("voiceagent.web.ui.calls" -> "web")."""
    parts = name.split(".")
    return parts[1] if len(parts) > 1 else ROOT


def _ours(name: str) -> bool:
    return name == ROOT or name.startswith(f"{ROOT}.")


def _covers(entry: str, name: str) -> bool:
    return name == entry or name.startswith(f"{entry}.")


def _allowed(edge: Edge) -> bool:
    return any(edge[0] == module and _covers(target, edge[1]) for module, target in ALLOWED)


def _rank(package: str) -> int:
    return next(i for i, layer in enumerate(LAYERS) if package in layer)


def _report(rule: str, edges: Iterable[Edge]) -> str:
    lines = sorted(f"  {module} -> {target}" for module, target in edges)
    return f"{rule}:\n" + "\n".join(lines)


def test_every_package_has_a_layer() -> None:
    packages = {_package(module) for module in MODULES}
    known = set().union(*LAYERS, LEAVES)
    assert packages <= known, f"give these a layer in LAYERS: {sorted(packages - known)}"


def test_funnel_imports_nothing_of_ours_outside_funnel() -> None:
    bad = [
        (m, t) for m, t in EDGES if _package(m) == "funnel" and _ours(t) and _package(t) != "funnel"
    ]
    assert not bad, _report("the funnel is pure: it imports none of our other packages", bad)


def test_no_package_imports_a_higher_layer_or_a_sibling() -> None:
    bad = []
    for module, target in EDGES:
        mine, theirs = _package(module), _package(target)
        if not _ours(target) or mine == theirs or mine in LEAVES or _allowed((module, target)):
            continue
        if theirs in LEAVES:
            continue  # its own rule below says nothing may
        lower = _rank(theirs) < _rank(mine)
        if not lower and not (mine in BASE and theirs in BASE):
            bad.append((module, target))
    order = " < ".join("/".join(sorted(layer)) for layer in LAYERS)
    assert not bad, _report(f"imports up the layers ({order}) or across one", bad)


def test_nothing_in_src_imports_the_emulators() -> None:
    bad = [
        (m, t)
        for m, t in EDGES
        if _ours(t) and _package(t) in LEAVES and _package(m) != _package(t)
    ]
    assert not bad, _report("emulators are for tests and benchmarks only", bad)


def test_vendor_sdks_are_imported_only_under_providers() -> None:
    bad = [
        (m, t)
        for m, t in EDGES
        if t.split(".")[0] in VENDORS and _package(m) not in VENDOR_HOMES and not _allowed((m, t))
    ]
    assert not bad, _report(f"{sorted(VENDORS)} SDKs outside {sorted(VENDOR_HOMES)}", bad)


def test_web_and_cli_reach_the_database_and_the_classifier_through_calls() -> None:
    bad = [
        (m, t)
        for m, t in EDGES
        if _package(m) in {"web", "cli"}
        and _ours(t)
        and _package(t) in {"db", "intent"}
        and not (_package(t) == "db" and m in COMPOSITION_ROOTS)
        and not _allowed((m, t))
    ]
    assert not bad, _report("web and cli go through calls/ (not db/ or intent/)", bad)


def test_every_allowed_edge_still_exists() -> None:
    stale = [
        (module, target)
        for module, target in ALLOWED
        if not any(m == module and _covers(target, t) for m, t in EDGES)
    ]
    assert not stale, _report("allowed edges nothing needs any more: remove them", stale)


def test_only_the_wiring_names_a_vendors_provider() -> None:
    def vendor(name: str) -> str | None:
        return next((v for v in VENDOR_PROVIDERS if _covers(v, name)), None)

    bad = [
        (m, t)
        for m, t in EDGES
        if (home := vendor(t)) is not None
        and m != WIRING
        and not _covers(home, m)
        and not _allowed((m, t))
    ]
    assert not bad, _report("only providers/wiring.py may name a vendor's provider", bad)
