"""``interlens interactions categorize | score | group | pid`` (parse, call the method's ``run`` in
:mod:`interlens.methods`, save its :class:`~interlens.methods.result.Result`, print)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from ..errors import DataError
from .common import console, friendly_errors, print_verdict, save_run
from .options import (
    CachePath,
    DataRoot,
    DatasetOptions,
    DatasetSpec,
    ExecutorOption,
    NoCache,
    RayAddress,
    ScorerName,
    ScorerOptions,
    build_scorer,
    load_data,
    open_cache,
    parse_options,
)

app = typer.Typer(no_args_is_help=True)


class Reference(StrEnum):
    gold = "gold"
    multimodal = "multimodal"


class Delta(StrEnum):
    exact = "exact"
    soft = "soft"


Modality = Annotated[str | None, typer.Option(help="Modality (default: the first/second the scorer reads).")]
PredFile = Annotated[Path | None, typer.Option(help="Precomputed predictions for this view (our JSON/Parquet/CSV, "
                                                    "MMoE JSON, MIntRec removal CSV); skips scoring.")]
LabelMap = Annotated[list[str] | None, typer.Option("--label-map", help="FILE_LABEL=DATASET_LABEL for prediction "
                                                                       "files whose label names differ (repeatable).")]


def measure_from_cli(config_cls: Any, dataset: str, data_root: Path | None, dataset_option: list[str] | None,
                     modality1: str | None, modality2: str | None, split: str, reference: str, scorer: str,
                     scorer_option: list[str] | None, pred1: Path | None, pred2: Path | None, predm: Path | None,
                     cache: Path | None, no_cache: bool, S: int = 100, C: int | None = None,
                     label_map: list[str] | None = None, checkpoint_dir: Path | None = None) -> Any:
    """Shared body of ``categorize`` and ``score``: parse into ``config_cls`` (a
    :class:`~interlens.methods.measure.CategorizeConfig`), then :func:`interlens.methods.measure.run`."""
    from ..methods.measure import run

    data = load_data(dataset, data_root, dataset_option)
    mapping = {k: str(v) for k, v in parse_options(label_map).items()} or None
    settings = {"split": split, "reference": reference, "S": S, "C": C, "label_map": mapping, "progress": True}
    if pred1 is None and pred2 is None and predm is None:
        model = build_scorer(scorer, scorer_option)
        mods = (modality1, modality2) if modality1 or modality2 else None
        config = config_cls.from_mapping({**settings, "modalities": mods})
        with open_cache(cache, no_cache) as store:
            return run(config, data, model, cache=store, checkpoint_dir=checkpoint_dir)
    if pred1 is None or pred2 is None:
        raise DataError("give both --pred1 and --pred2 (and --predm for a multimodal reference)", field="pred2")
    m1 = modality1 or data.modalities[0]
    m2 = modality2 or (data.modalities[1] if len(data.modalities) > 1 else None)
    if m2 is None:
        raise DataError(f"dataset {data.name!r} has one modality ({m1}); name the second with --modality2",
                        field="modality2")
    files = {m1: pred1, m2: pred2, **({f"{m1}+{m2}": predm} if predm is not None else {})}
    return run(config_cls.from_mapping({**settings, "modalities": (m1, m2), "files": files, "progress": False}), data)


def _print_counts(report: Any) -> None:
    from ..report import rich_table

    n = max(1, len(report.ids))
    console.print(rich_table([{"category": c, "n": k, "share": k / n} for c, k in report.counts.items()],
                             title=f"{report.dataset} ({report.split}): {report.modalities[0]} vs "
                                   f"{report.modalities[1]}, reference = {report.reference}"))


@app.command("categorize")
@friendly_errors
def categorize_cmd(
    dataset: DatasetSpec,
    out: Annotated[Path, typer.Option(help="Output directory.")] = Path("runs/interactions"),
    modality1: Modality = None,
    modality2: Modality = None,
    split: Annotated[str, typer.Option(help="Split to categorise (filter/rebalance only on train).")] = "test",
    reference: Annotated[Reference, typer.Option(help="gold (MMoE) or multimodal (MINT).")] = Reference.gold,
    scorer: ScorerName = "embedding",
    scorer_option: ScorerOptions = None,
    dataset_option: DatasetOptions = None,
    pred1: PredFile = None,
    pred2: PredFile = None,
    predm: PredFile = None,
    label_map: LabelMap = None,
    data_root: DataRoot = None,
    cache: CachePath = None,
    no_cache: NoCache = False,
    executor: ExecutorOption = "local",
    ray_address: RayAddress = None,
) -> None:
    """Categorise every sample as R / U1 / U2 / S (MMoE Algorithm 1) and write a report."""
    from ..execution import executor_session
    from ..methods.measure import CategorizeConfig

    with executor_session(executor, address=ray_address):
        result = measure_from_cli(CategorizeConfig, dataset, data_root, dataset_option, modality1, modality2, split,
                                  reference.value, scorer, scorer_option, pred1, pred2, predm, cache, no_cache,
                                  label_map=label_map, checkpoint_dir=out / "checkpoints")
    report = result.payload
    _print_counts(report)
    save_run(out, result)  # report.md, plots, results.json with provenance, report.html
    console.print(f"report: [bold]{out / 'report.md'}[/]")
    print_verdict(report.extra)


@app.command("score")
@friendly_errors
def score_cmd(
    dataset: DatasetSpec,
    out: Annotated[Path, typer.Option(help="Output directory.")] = Path("runs/score"),
    modality1: Modality = None,
    modality2: Modality = None,
    split: Annotated[str, typer.Option(help="Split to score.")] = "test",
    reference: Annotated[Reference, typer.Option(help="Category reference: gold or multimodal.")
                         ] = Reference.multimodal,
    draws: Annotated[int, typer.Option("--draws", min=1, help="S: number of draws (MINT Eq. 1).")] = 100,
    draw_size: Annotated[int | None, typer.Option("--draw-size", min=1, help="C: samples per draw.")] = None,
    scorer: ScorerName = "embedding",
    scorer_option: ScorerOptions = None,
    dataset_option: DatasetOptions = None,
    pred1: PredFile = None,
    pred2: PredFile = None,
    predm: PredFile = None,
    label_map: LabelMap = None,
    data_root: DataRoot = None,
    cache: CachePath = None,
    no_cache: NoCache = False,
    executor: ExecutorOption = "local",
    ray_address: RayAddress = None,
) -> None:
    """Dataset-level interaction score (MINT Eq. 1) with a bootstrap confidence interval."""
    from ..execution import executor_session
    from ..methods.measure import ScoreConfig
    from ..report import rich_table

    with executor_session(executor, address=ray_address):
        result = measure_from_cli(ScoreConfig, dataset, data_root, dataset_option, modality1, modality2, split,
                                  reference.value, scorer, scorer_option, pred1, pred2, predm, cache, no_cache,
                                  S=draws, C=draw_size, label_map=label_map, checkpoint_dir=out / "checkpoints")
    report = result.payload
    console.print(rich_table([{"delta": d, "score": s.score, "ci_low": s.ci_low, "ci_high": s.ci_high, "n": s.n}
                              for d, s in report.scores.items()],
                             title=f"{report.dataset}: interaction score (2 = R, 1 = U, 0 = S)"))
    save_run(out, result)  # report.md, plots, results.json with provenance, report.html
    print_verdict(report.extra)


@app.command("group")
@friendly_errors
def group_cmd(
    results: Annotated[list[Path], typer.Option("--results", help="results.json (or its folder) of a `score` run; "
                                                                 "repeat for each dataset.")],
    out: Annotated[Path, typer.Option(help="Output directory.")] = Path("runs/group"),
    delta: Annotated[Delta, typer.Option(help="exact or soft.")] = Delta.exact,
    n_groups: Annotated[int, typer.Option(min=1, help="Clusters for k-clustering on the distance matrix.")] = 3,
) -> None:
    """Distances between datasets (MINT Eq. 2) and grouping into R / U / S task groups."""
    from ..methods.measure import GroupConfig, run
    from ..report import rich_table

    result = run(GroupConfig(results=tuple(results), delta=delta.value, n_groups=n_groups))
    summary = result.payload
    names = summary["distance"]["names"]
    console.print(rich_table([{"dataset": n, "score": summary["scores"][n], "prototype group":
                               summary["groups_prototype"][n], "cluster group": summary["groups_clustering"][n]}
                              for n in names], title="Task grouping (MINT Sec. 3.3)"))
    console.print(rich_table([{"": a, **{b: summary["distance"]["matrix"][i][j] for j, b in enumerate(names)}}
                              for i, a in enumerate(names)], title="Distance |score_A - score_B| (MINT Eq. 2)"))
    save_run(out, result)  # scores.png, results.json with provenance, report.html
    print_verdict(summary)


class PIDSource(StrEnum):
    predictions = "predictions"
    features = "features"


@app.command("pid")
@friendly_errors
def pid_cmd(
    dataset: DatasetSpec,
    out: Annotated[Path, typer.Option(help="Output directory.")] = Path("runs/pid"),
    modality1: Modality = None,
    modality2: Modality = None,
    split: Annotated[str, typer.Option(help="Split to decompose.")] = "test",
    source: Annotated[PIDSource, typer.Option(help="x_i = each unimodal model's predicted label, or k-means "
                                                   "clusters of the scorer's features per modality.")
                      ] = PIDSource.predictions,
    k: Annotated[str, typer.Option("--k", help="Clusters per modality for --source features (or 'auto').")] = "8",
    target: Annotated[Reference, typer.Option(help="y: the gold label or the multimodal prediction.")
                      ] = Reference.gold,
    reference: Annotated[Reference, typer.Option(help="Reference of the MINT score / MMoE categories.")
                         ] = Reference.multimodal,
    boot: Annotated[int, typer.Option("--boot", min=0, help="Bootstrap resamples for the PID intervals.")] = 200,
    draws: Annotated[int, typer.Option("--draws", min=1, help="S: draws of the MINT score (Eq. 1).")] = 100,
    seed: Annotated[int, typer.Option(help="Seed of k-means, bootstrap and MINT draws.")] = 0,
    scorer: ScorerName = "embedding",
    scorer_option: ScorerOptions = None,
    dataset_option: DatasetOptions = None,
    data_root: DataRoot = None,
    cache: CachePath = None,
    no_cache: NoCache = False,
) -> None:
    """Partial information decomposition R / U1 / U2 / S in bits (Liang et al. 2023) beside the MINT score."""
    from ..interactions.pid import TERMS
    from ..methods.pid import PIDConfig, run
    from ..report import rich_table

    if k != "auto" and not k.isdigit():
        raise DataError(f"--k must be a positive integer or 'auto', got {k!r}", field="k")
    data = load_data(dataset, data_root, dataset_option)
    model = build_scorer(scorer, scorer_option)
    mods = (modality1, modality2) if modality1 or modality2 else None
    config = PIDConfig.from_mapping({"modalities": mods, "split": split, "source": source.value,
                                     "k": "auto" if k == "auto" else int(k), "target": target.value,
                                     "reference": reference.value, "n_boot": boot, "S": draws, "seed": seed,
                                     "progress": True})
    with open_cache(cache, no_cache) as store:
        saved = run(config, data, model, cache=store)
    report = saved.payload
    pid = report.extra["pid"]
    ci = pid.get("ci") or {}
    rows = [{"term": t, "bits": pid[t], "ci_low": ci.get(t, (None, None))[0], "ci_high": ci.get(t, (None, None))[1],
             "MMoE share": report.counts.get(t, 0) / max(1, len(report.ids))} for t in TERMS]
    m1, m2 = report.modalities
    console.print(rich_table(rows, title=f"{report.dataset} ({report.split}): PID of I(X1,X2;Y) = "
                                         f"{pid['I(X1,X2;Y)']:.4f} bits ({m1} vs {m2}, x_i from {source.value})"))
    console.print(rich_table([{"delta": d, "MINT score": s.score, "ci_low": s.ci_low, "ci_high": s.ci_high}
                              for d, s in report.scores.items()], title="Interaction score (2 = R, 1 = U, 0 = S)"))
    save_run(out, saved)  # report.md (+ PID section), plots, results.json with provenance, report.html
    console.print(f"report: [bold]{out / 'report.md'}[/]")
    print_verdict(getattr(report, "extra", {}) or {})
