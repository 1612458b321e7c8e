"""``interlens bench``: MMLA-style benchmark (thin wrappers over :mod:`interlens.bench`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from ..bench.methods import Method
from ..errors import DataError
from ..io import read_json
from .common import console, friendly_errors, print_verdict, save_run
from .options import (
    DataRoot,
    DatasetOptions,
    ExecutorOption,
    RayAddress,
    ScorerName,
    ScorerOptions,
    TrackerOption,
    parse_options,
)

app = typer.Typer(no_args_is_help=True, help="MMLA benchmark: list tasks, run, report, compare with the paper.")


@app.command("list")
@friendly_errors
def list_tasks() -> None:
    """Registered tasks, grouped by dimension."""
    from ..bench import tasks_by_dimension

    table = Table("dimension", "task", "title", "labels", "data", "eval split", "vs paper")
    for dim, tasks in tasks_by_dimension().items():
        for task in tasks:
            table.add_row(dim, task.name, task.title, str(len(task.labels)), task.adapter, task.evaluation_split,
                          "yes" if task.comparable_to_paper else "no")
    console.print(table)


def parse_members(text: str) -> list[int]:
    """'4,3' -> [4, 3]; anything else: one line."""
    try:
        return [int(k) for k in text.split(",")]
    except ValueError:
        raise DataError(f"--prefit-members takes member numbers like '4,3', got {text!r}",
                        field="prefit_members") from None


@app.command()
@friendly_errors
def run(
    ctx: typer.Context,
    tasks: Annotated[str, typer.Option(help="Comma-separated task names, a dimension, 'all', or dataset files "
                                            "(my_task.yaml: splits train/dev/test, evaluated on test).")] = "mintrec",
    scorer: ScorerName = "minilm-ft",
    scorer_option: ScorerOptions = None,
    method: Annotated[Method, typer.Option(help="zero-shot (needs a zero-shot scorer), sft (one model per task) "
                                                "or it (one model for all tasks).")] = Method.SFT,
    seeds: Annotated[int, typer.Option(min=1, help="Number of seeds (0..N-1), at least 1.")] = 3,
    out: Annotated[Path, typer.Option(help="Run folder (units/ and results.json); re-running resumes.")] = Path(
        "runs/bench"),
    dataset_option: DatasetOptions = None,
    limit: Annotated[int | None, typer.Option(min=1, help="Use the first N samples of each split (smoke tests).")
                     ] = None,
    n_boot: Annotated[int, typer.Option(min=0, help="Bootstrap resamples for the 95% CIs.")] = 1000,
    data_root: DataRoot = None,
    executor: ExecutorOption = "local",
    ray_address: RayAddress = None,
    save_models: Annotated[bool, typer.Option("--save-models/--no-save-models",
                                              help="Save each trained model (save_pretrained) under "
                                                   "OUT/models/<unit>/.")] = True,
    tracker: TrackerOption = None,
    modalities: Annotated[list[str] | None, typer.Option(
        help="Modalities the tasks show the scorer: 'a,b' (every task) or TASK=a,b (repeatable), e.g. "
             "'text' = the utterance only, no dialogue context; default: all of each task's.")] = None,
    auxiliary: Annotated[list[str] | None, typer.Option(
        help="TASK=AUX[,AUX] (repeatable, sft): pool AUX's training samples that carry one of TASK's labels "
             "into TASK's training split; dev and test stay TASK's own. 'sisters' = the registered pairs "
             "(mintrec <-> mintrec2).")] = None,
    task_option: Annotated[list[str] | None, typer.Option(
        help="TASK:KEY=VALUE (repeatable): a loader option for one task of the run, registered or a file, e.g. "
             "meld-emotion:turns_after=1 or mintrec2:context_turns=5; an option its loader lacks is refused."
    )] = None,
    plan: Annotated[Path | None, typer.Option(
        help="A pre-registered plan (YAML: name, tasks, method, scorer, scorer_params, modalities, auxiliary, "
             "seeds, metric, reference, analysis) that fixes what runs; its sha256 is recorded with each test "
             "look. Another configuration under the same plan name is refused (see --new-look).")] = None,
    new_look: Annotated[bool, typer.Option(
        "--new-look", help="Allow a test evaluation of a configuration the --plan did not pre-register; it is "
                           "counted and shown as a new test look.")] = False,
    prefit_members: Annotated[str | None, typer.Option(
        help="K,K (scorer ensemble, sft): only fit these members of the unfinished units into their checkpoint "
             "folders under OUT, then stop; a run with the same OUT restores them (one unit's members split "
             "over processes).")] = None,
    samples_format: Annotated[str, typer.Option(
        help="Per-sample output besides OUT/samples/<unit>.jsonl: 'lm-eval' also writes lm-evaluation-harness's "
             "layout, OUT/lm-eval/seed<k>/samples_interlens_<task>_<timestamp>.jsonl.")] = "interlens",
) -> None:
    """Run (or resume) tasks x seeds with one scorer and method; writes OUT/results.json, per-sample
    predictions OUT/samples/<unit>.jsonl and (--save-models) the trained models OUT/models/<unit>/."""
    from ..bench import parse_tasks
    from ..bench.pooling import parse_auxiliary, parse_task_options, restrict_modalities, with_data_options
    from ..execution import executor_session
    from ..methods.bench import BenchConfig, build_runner
    from ..methods.bench import run as run_bench
    from ..tracking import log_run, start_run

    start_run(tracker, out)  # a missing package is refused before any work; metrics go live from here
    if samples_format not in ("interlens", "lm-eval"):
        raise DataError(f"--samples-format is 'interlens' or 'lm-eval', got {samples_format!r}",
                        field="samples_format")
    scorer_params = parse_options(scorer_option)
    seed_list = list(range(seeds))
    loaded = None
    if plan is not None:  # issue 26: the plan fixes what runs
        from ..evidence.plan import load_plan

        loaded = load_plan(plan)
        tasks, scorer, method, scorer_params, seed_list, modalities, auxiliary = _from_plan(ctx, loaded[0])
        console.print(f"plan {loaded[0].name!r} (sha256 {loaded[1][:12]}): {tasks}, {scorer}, seeds {seed_list}",
                      markup=False)
    specs = restrict_modalities(parse_tasks(tasks, **parse_options(dataset_option)), modalities)
    specs = with_data_options(specs, parse_task_options(task_option, specs))
    config = BenchConfig.from_mapping({"method": method.value, "seeds": tuple(seed_list), "limit": limit,
                                       "n_boot": n_boot, "save_models": save_models, "new_look": new_look})
    runner = build_runner(config, specs, scorer, workdir=out, data_root=data_root, log=console.print,
                          scorer_params=scorer_params, auxiliary=parse_auxiliary(auxiliary, specs))
    if prefit_members is not None:
        for task, seed, k, how in runner.prefit_members(parse_members(prefit_members)):
            console.print(f"{task} seed {seed}: member {k} {how}")
        return
    with executor_session(executor, address=ray_address):
        result = run_bench(config, specs, scorer, workdir=out, scorer_params=scorer_params, plan=loaded,
                           runner=runner)
    path = save_run(out, result)  # stored predictions, results.json with provenance, report.html
    payload = result.payload
    if samples_format == "lm-eval":
        from ..bench.export import write_lm_eval_samples

        console.print(f"lm-eval samples: {len(write_lm_eval_samples(runner))} file(s) under {out / 'lm-eval'}",
                      markup=False)
    for name in getattr(runner, "unplanned_looks", []):
        console.print(f"NEW TEST LOOK: {name} under plan {loaded[0].name!r} (--new-look): a configuration the plan "
                      f"did not pre-register; test looks on its split: {runner.test_looks[name]}",
                      style="bold yellow", markup=False)
    if tracker is not None:
        console.print(f"tracked ({tracker.value}): [bold]{log_run(tracker, out, read_json(path))}[/]")
    for task in payload["tasks"]:
        acc, n = task["summary"]["acc"], len(task["seeds"])
        shown = f"{100 * acc['mean']:.2f} (1 seed)" if n == 1 else \
            f"{100 * acc['mean']:.2f} ± {100 * acc['std']:.2f} ({n} seeds)"
        console.print(f"{task['title']}: ACC {shown} ({task['evaluation_split']}; test looks: "
                      f"{runner.test_looks.get(task['task'], '?')})", markup=False)
    print_verdict(payload)


#: ``bench run`` options a plan fixes (given with --plan, they are refused)
PLAN_FIXES = ("tasks", "scorer", "scorer_option", "method", "seeds", "modalities", "auxiliary")


def _from_plan(ctx: typer.Context, plan: Any) -> tuple[str, str, Method, dict[str, Any], list[int], list[str],
                                                       list[str]]:
    """The run's tasks, scorer, method, scorer parameters, seeds, modalities and auxiliary data from a plan;
    an option the plan fixes given on the command line too is refused (one line)."""
    given = [name for name in PLAN_FIXES
             if getattr(ctx.get_parameter_source(name), "name", "DEFAULT") not in ("DEFAULT", "DEFAULT_MAP")]
    if given:
        raise DataError(f"--plan fixes {', '.join('--' + g.replace('_', '-') for g in given)}; drop "
                        f"{'it' if len(given) == 1 else 'them'} or edit the plan (a new plan name)", field="plan")
    try:
        method = Method(plan.method)
    except ValueError:
        raise DataError(f"unknown method {plan.method!r} in the plan", field="method") from None
    return (",".join(plan.tasks), plan.scorer, method, dict(plan.scorer_params), list(plan.seeds),
            [f"{task}={','.join(mods)}" for task, mods in plan.modalities.items()],
            [f"{task}={','.join(aux)}" for task, aux in plan.auxiliary.items()])


@app.command("export")
@friendly_errors
def export(
    tasks: Annotated[str, typer.Option(help="Comma-separated task names, a dimension, 'all', or dataset files "
                                            "(evaluated on their test split).")],
    out: Annotated[Path, typer.Option(help="Folder for the task YAMLs and their data (lm-eval: include_path).")],
    format: Annotated[str, typer.Option("--format", help="Target format: lm-eval (lm-evaluation-harness task "
                                                         "YAMLs, multiple choice over the labels).")] = "lm-eval",
    dataset_option: DatasetOptions = None,
    limit: Annotated[int | None, typer.Option(min=1, help="Export the first N samples of each task.")] = None,
    data_root: DataRoot = None,
) -> None:
    """Write tasks for another harness: `lm_eval --include_path OUT --tasks interlens` (chat models, with
    --apply_chat_template) or `--tasks interlens_plain` (no chat template) runs them with interlens's prompts."""
    from ..bench import parse_tasks
    from ..bench.export import FORMATS, export_lm_eval

    if format not in FORMATS:
        raise DataError(f"unknown export format {format!r}; one of {', '.join(FORMATS)}", field="format")
    for item in export_lm_eval(parse_tasks(tasks, **parse_options(dataset_option)), out, data_root=data_root,
                               limit=limit):
        console.print(f"{item.task}: {item.chat_task} / {item.plain_task} ({item.n_docs} docs) -> "
                      f"{item.yaml_chat.parent}", markup=False)


@app.command()
@friendly_errors
def report(
    runs: Annotated[list[Path], typer.Argument(help="Run folders or results.json files.")],
    out: Annotated[Path, typer.Option(help="Report folder.")] = Path("runs/bench-report"),
) -> None:
    """Ranking table, per-dimension bars, radar chart and a static HTML page."""
    from ..bench.report import build_report, load_run

    paths = build_report([load_run(p) for p in runs], out)
    console.print(f"report: [bold]{paths['html']}[/]")


@app.command()
@friendly_errors
def compare(run: Annotated[Path, typer.Argument(help="Run folder or results.json.")]) -> None:
    """Our ACC next to MMLA Table 3 (text-only SFT, Qwen2-0.5B / Qwen2-7B)."""
    from ..bench.report import compare_table, load_run

    console.print(compare_table(load_run(run)), markup=False)
