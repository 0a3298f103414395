"""`voiceagent intent train`: rebuild the intent model from the corpus, or check the shipped one.

Registered on the main command line as the `intent` group. Training needs scikit-learn (a
development dependency); the service itself only reads the artefact.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from voiceagent.intent import corpus, learned

if TYPE_CHECKING:
    from voiceagent.intent.train import Result

console = Console(width=None if Console().is_terminal else 120)
app = typer.Typer(
    add_completion=False, no_args_is_help=True, help="The learned intent model (corpus/intent)."
)


@app.command()
def train(
    check: Annotated[
        bool,
        typer.Option("--check", help="retrain in memory; fail if the shipped artefact differs"),
    ] = False,
    corpus_dir: Annotated[
        Path, typer.Option("--corpus", help="directory of training *.tsv files")
    ] = corpus.TRAIN_DIR,
    out: Annotated[Path, typer.Option(help="where to write the artefact")] = learned.ARTEFACT,
) -> None:
    """Train the intent and act model from the corpus and write the artefact (deterministic)."""
    from voiceagent.intent import train as training

    try:
        with console.status("training the intent model…") as status:
            result = training.train_corpus(corpus_dir, progress=status.update)
    except training.TrainingUnavailable as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from None
    except corpus.CorpusError as exc:
        console.print(f"[red]corpus error:[/] {exc}")
        raise typer.Exit(2) from None
    _summary(result)
    if check:
        try:
            shipped = learned.read(out)
        except learned.ArtefactError as exc:
            console.print(f"[red]{exc}[/]")
            raise typer.Exit(1) from None
        problems = training.differences(shipped, result.model)
        for problem in problems:
            console.print(f"[red]differs:[/] {problem}")
        if problems:
            console.print("the shipped artefact is not what the corpus trains: run without --check")
            raise typer.Exit(1)
        console.print(f"[green]{out} is what the corpus trains[/]")
        return
    training.save(result, out)
    size = out.stat().st_size
    console.print(f"wrote {out} ({size / 1024:.0f} KiB) and {out.with_suffix('.json').name}")


def _summary(result: Result) -> None:
    manifest = result.manifest
    console.print(
        f"{manifest['lines']} lines from {len(manifest['files'])} files, "
        f"{manifest['features']} features, trained in {result.seconds:.1f} s"
    )
    safety = list(manifest["thresholds"])
    table = Table("dev split", "rows", "accuracy", "act accuracy", *safety)
    for name, figures in manifest["dev"].items():
        cells = []
        for intent in safety:
            found = figures["intents"][intent]
            precision, recall = found["precision"], found["recall"]
            cells.append(
                f"P {precision:.3f} R {recall:.3f}" if precision and recall is not None else "-"
            )
        table.add_row(
            name,
            str(figures["rows"]),
            f"{figures['accuracy']:.3f}",
            f"{figures['act_accuracy']:.3f}",
            *cells,
        )
    console.print(table)
    thresholds = ", ".join(f"{k} {v:.2f}" for k, v in manifest["thresholds"].items())
    console.print(f"safety thresholds (set on dev): {thresholds}")
