"""``interlens interactions categorize | score | group``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from ..errors import DataError
from ..io import read_json
from .common import console, friendly_errors, write_results
from .options import CachePath, DataRoot, NoCache, open_cache, parse_options

app = typer.Typer(no_args_is_help=True)

Dataset_ = Annotated[str, typer.Option(help="Registered dataset name (see `interlens data list`).")]
Modality = Annotated[str | None, typer.Option(help="Modality name (default: the dataset's first/second).")]
PredFile = Annotated[Path | None, typer.Option(help="Precomputed predictions for this view (our JSON/Parquet/CSV, "
                                                    "MMoE JSON, MIntRec removal CSV); skips scoring.")]


def load_prediction_file(path: Path, view: str, dataset: Any, split: str | None) -> Any:
    """Read a prediction file of any supported format with the dataset's label names and ids."""
    from ..scoring.precomputed import detect_format, read_predictions

    fmt = detect_format(path)
    kwargs: dict[str, Any] = {"view": view, "labels": dataset.labels}
    if fmt == "mintrec":
        kwargs["ids"] = (dataset.split(split) if split else dataset).ids
    return read_predictions(path, format=fmt, **kwargs)  # type: ignore[arg-type]


def measure_from_cli(dataset: str, data_root: Path | None, dataset_option: list[str] | None, modality1: str | None,
                     modality2: str | None, split: str, reference: str, scorer: str,
                     scorer_option: list[str] | None, pred1: Path | None, pred2: Path | None, predm: Path | None,
                     cache: Path | None, no_cache: bool, S: int = 100, C: int | None = None) -> Any:
    """Shared body of ``categorize`` and ``score`` (also usable from Python)."""
    from ..data import load_dataset
    from ..measure import measure_interactions
    from ..scoring.registry import make_scorer

    data = load_dataset(dataset, data_root, **parse_options(dataset_option))
    m1 = modality1 or data.modalities[0]
    m2 = modality2 or (data.modalities[1] if len(data.modalities) > 1 else None)
    if m2 is None:
        raise DataError(f"dataset {dataset!r} has one modality ({m1}); interactions need two "
                        "(try --dataset-option context=true where the corpus has dialogue context)",
                        field="modality2")
    files = {m1: pred1, m2: pred2, f"{m1}+{m2}": predm}
    given = {v: p for v, p in files.items() if p is not None}
    predictions = None
    if given:
        if pred1 is None or pred2 is None:
            raise DataError("give both --pred1 and --pred2 (and --predm for a multimodal reference)", field="pred2")
        predictions = {v: load_prediction_file(p, v, data, split) for v, p in given.items()}
    with open_cache(cache, no_cache) as store:
        return measure_interactions(data, None if predictions else make_scorer(scorer, **parse_options(scorer_option)),
                                    modalities=(m1, m2), split=split, reference=reference,  # type: ignore[arg-type]
                                    predictions=predictions, cache=store, S=S, C=C, progress=True)


def _print_counts(report: Any) -> None:
    from ..report import rich_table

    n = max(1, len(report.ids))
    console.print(rich_table([{"category": c, "n": k, "share": k / n} for c, k in report.counts.items()],
                             title=f"{report.dataset} ({report.split}): {report.modalities[0]} vs "
                                   f"{report.modalities[1]}, reference = {report.reference}"))


@app.command("categorize")
@friendly_errors
def categorize_cmd(
    dataset: Dataset_,
    out: Annotated[Path, typer.Option(help="Output directory.")] = Path("runs/interactions"),
    modality1: Modality = None,
    modality2: Modality = None,
    split: Annotated[str, typer.Option(help="Split to categorise (filter/rebalance only on train).")] = "test",
    reference: Annotated[str, typer.Option(help="gold (MMoE) or multimodal (MINT).")] = "gold",
    scorer: Annotated[str, typer.Option(help="Scorer when no prediction files are given.")] = "embedding",
    scorer_option: Annotated[list[str] | None, typer.Option("--scorer-option", "-s")] = None,
    dataset_option: Annotated[list[str] | None, typer.Option("--dataset-option", "-d")] = None,
    pred1: PredFile = None,
    pred2: PredFile = None,
    predm: PredFile = None,
    data_root: DataRoot = None,
    cache: CachePath = None,
    no_cache: NoCache = False,
) -> None:
    """Categorise every sample as R / U1 / U2 / S (MMoE Algorithm 1) and write a report."""
    from ..measure import write_report

    report = measure_from_cli(dataset, data_root, dataset_option, modality1, modality2, split, reference, scorer,
                              scorer_option, pred1, pred2, predm, cache, no_cache)
    _print_counts(report)
    paths = write_report(report, out, title="Interaction categories")
    console.print(f"report: [bold]{paths['report']}[/]; results: [bold]{paths['results']}[/]")


@app.command("score")
@friendly_errors
def score_cmd(
    dataset: Dataset_,
    out: Annotated[Path, typer.Option(help="Output directory.")] = Path("runs/score"),
    modality1: Modality = None,
    modality2: Modality = None,
    split: Annotated[str, typer.Option(help="Split to score.")] = "test",
    reference: Annotated[str, typer.Option(help="Category reference: gold or multimodal.")] = "multimodal",
    draws: Annotated[int, typer.Option("--draws", help="S: number of draws (MINT Eq. 1).")] = 100,
    draw_size: Annotated[int | None, typer.Option("--draw-size", help="C: samples per draw.")] = None,
    scorer: Annotated[str, typer.Option(help="Scorer when no prediction files are given.")] = "embedding",
    scorer_option: Annotated[list[str] | None, typer.Option("--scorer-option", "-s")] = None,
    dataset_option: Annotated[list[str] | None, typer.Option("--dataset-option", "-d")] = None,
    pred1: PredFile = None,
    pred2: PredFile = None,
    predm: PredFile = None,
    data_root: DataRoot = None,
    cache: CachePath = None,
    no_cache: NoCache = False,
) -> None:
    """Dataset-level interaction score (MINT Eq. 1) with a bootstrap confidence interval."""
    from ..measure import write_report
    from ..report import rich_table

    report = measure_from_cli(dataset, data_root, dataset_option, modality1, modality2, split, reference, scorer,
                              scorer_option, pred1, pred2, predm, cache, no_cache, S=draws, C=draw_size)
    console.print(rich_table([{"delta": d, "score": s.score, "ci_low": s.ci_low, "ci_high": s.ci_high, "n": s.n}
                              for d, s in report.scores.items()],
                             title=f"{report.dataset}: interaction score (2 = R, 1 = U, 0 = S)"))
    write_report(report, out, title="Interaction score")
    console.print(f"results: [bold]{out / 'results.json'}[/]")


def group_results(results: dict[str, dict[str, Any]], delta: str = "exact", n_groups: int = 3) -> dict[str, Any]:
    """Distance matrix (MINT Eq. 2) and both groupings from several score results."""
    from ..interactions import distance_matrix, group_by_clustering, group_by_prototype

    scores = {name: r["interaction_score"][delta]["score"] for name, r in results.items()}
    names, dist = distance_matrix(scores)
    return {"delta": delta, "scores": scores,
            "intervals": {n: [r["interaction_score"][delta]["ci_low"], r["interaction_score"][delta]["ci_high"]]
                          for n, r in results.items()},
            "distance": {"names": names, "matrix": dist.tolist()},
            "groups_prototype": group_by_prototype(scores),
            "groups_clustering": group_by_clustering(scores, n_groups=min(n_groups, len(scores)))}


@app.command("group")
@friendly_errors
def group_cmd(
    results: Annotated[list[Path], typer.Option("--results", help="results.json (or its folder) of a `score` run; "
                                                                 "repeat for each dataset.")],
    out: Annotated[Path, typer.Option(help="Output directory.")] = Path("runs/group"),
    delta: Annotated[str, typer.Option(help="exact or soft.")] = "exact",
    n_groups: Annotated[int, typer.Option(help="Clusters for k-clustering on the distance matrix.")] = 3,
) -> None:
    """Distances between datasets (MINT Eq. 2) and grouping into R / U / S task groups."""
    from ..report import rich_table
    from ..report.plots import score_with_ci

    loaded: dict[str, dict[str, Any]] = {}
    for path in results:
        file = path / "results.json" if path.is_dir() else path
        data = read_json(file)
        if "interaction_score" not in data or delta not in data["interaction_score"]:
            raise DataError(f"no interaction_score.{delta} (is this the output of `interactions score`?)",
                            file=str(file), field="interaction_score")
        name = data.get("dataset", file.parent.name)
        if name in loaded:
            name = f"{name} ({file.parent.name})"
        loaded[name] = data
    summary = group_results(loaded, delta, n_groups)
    names = summary["distance"]["names"]
    console.print(rich_table([{"dataset": n, "score": summary["scores"][n], "prototype group":
                               summary["groups_prototype"][n], "cluster group": summary["groups_clustering"][n]}
                              for n in names], title="Task grouping (MINT Sec. 3.3)"))
    console.print(rich_table([{"": a, **{b: summary["distance"]["matrix"][i][j] for j, b in enumerate(names)}}
                              for i, a in enumerate(names)], title="Distance |score_A - score_B| (MINT Eq. 2)"))
    score_with_ci({n: (summary["scores"][n], *summary["intervals"][n]) for n in names}, out / "scores.png")
    write_results(out, summary)
