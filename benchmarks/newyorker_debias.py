"""The MME-JD image path on real images (issue 27 item 6): New Yorker cartoons + captions, a tiny random CLIP.

The only real images in ``../shared/data`` are 49 New Yorker caption-contest cartoons (contests 510-559 without
525, ``newyorker_caption_contest``; see its SOURCE.md) and 2 in ``enrico``. This script turns the cartoons into a
dataset file (docs/datasets.md) that ``interlens debias evaluate`` reads, builds a tiny CLIP with *random*
weights (no pretrained weights are reachable offline) and, with ``--run``, runs the image path of the debias
methods on it: the baseline, the image counterfactual by Algorithm 1 with gradient saliency, MID, MCTD and
MME-JD (docs/debias.md).

**What the numbers mean: nothing about the method.** The CLIP towers are random (only the linear heads on their
frozen embeddings are trained), and there are 49 images, so the accuracies are those of random features; the run
is a pipeline check of the image path on real JPEG files, not evidence for or against MME-JD / MID / MCTD.

Dataset (written to ``--work``, default ``runs/newyorker-data``):

* samples = (caption text, cartoon image) of one contest; label ``funny`` = the caption's mean vote ``score``
  is in its contest's top quartile (and above the median), ``not_funny`` = at or below the contest's median;
  the middle quartile is dropped; captions with fewer than ``--min-votes`` votes (default 5; contests 510-519
  have 6-9 votes per caption) are dropped; ids are ``<contest>-<row of the summary CSV, 1-based>``;
* ``--per-contest`` captions per contest (default 10: 490 samples, a run of ~95 s CPU; the debias methods' many
  metric evaluations, not the images, take the time), half of each label, drawn with ``--seed``; per contest
  the summary file with the most captions (then the most votes) is read;
* split BY CONTEST (35 / 7 / 7 contests for train / dev / test, drawn with ``--seed``), so no cartoon is in two
  splits;
* the cartoon is copied as a JPEG resized to at most ``--max-side`` pixels (default 160; 0 keeps the original
  file; the counterfactual images are held in memory at this size): every caption of a contest shares it;
* the tiny CLIP reads a ``--clip-size`` (default 112) centre crop, patch 16, hidden 64, 2 layers per tower.

Because the label is relative to the contest and each contest has as many ``funny`` as ``not_funny`` captions,
the image alone carries no information on the label: a contest's image is shared by all its captions, so any
weight a model puts on the image is an image-level shortcut (it can memorise the 35 training cartoons, none of
which is seen at test) -- the planted-like bias of this dataset, the one MID / MME-JD are meant to remove.

    python benchmarks/newyorker_debias.py                     # dataset file + tiny CLIP, prints the command
    python benchmarks/newyorker_debias.py --run               # ... then runs it and writes the results JSON

``--run`` calls ``interlens debias evaluate --dataset <work>/newyorker.yaml --scorer clip
-s model_path=<work>/tiny-clip --seed 0 --out runs/newyorker-debias --setting n_trials=30`` and writes
``benchmarks/results/newyorker_debias.json`` (the run's results.json without machine paths, with this script's
provenance).
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
LABELS = ("not_funny", "funny")
SPLIT_SIZES = {"train": 35, "dev": 7, "test": 7}
RESULT = ROOT / "benchmarks" / "results" / "newyorker_debias.json"


def portable(value: str) -> str:
    """A path or argument with this checkout's (and the shared data's) absolute prefix removed."""
    return str(value).replace(f"{ROOT}/", "").replace(str(ROOT.parent / "shared"), "../shared")


# -- data --------------------------------------------------------------------------------------------------
def pick_summary(files: list[Path]) -> Path:
    """The contest's summary with the most captions, then the most votes (510-519 have LilUCB + RoundRobin,
    559 three files)."""
    import pandas as pd

    def size(path: Path) -> tuple[int, int, str]:
        table = pd.read_csv(path, usecols=["count"])
        return len(table), int(table["count"].sum()), path.name

    return max(files, key=size)


def label_captions(table: Any, min_votes: int) -> Any:
    """``funny`` (1) = score in the contest's top quartile and above its median, ``not_funny`` (0) = at or below
    the median; the rest (and captions with under ``min_votes`` votes or no text) dropped."""
    table = table[(table["count"] >= min_votes) & table["caption"].notna()].copy()
    table["caption"] = table["caption"].astype(str).str.strip()
    table = table[table["caption"] != ""]
    median, top = table["score"].quantile(0.5), table["score"].quantile(0.75)
    funny = (table["score"] >= top) & (table["score"] > median)
    table["y"] = np.where(funny, 1, np.where(table["score"] <= median, 0, -1))
    return table[table["y"] >= 0]


def contest_splits(contests: list[int], seed: int) -> dict[int, str]:
    """Contest -> split: a seeded permutation cut 35 / 7 / 7 (scaled down when fewer contests are given)."""
    order = [contests[i] for i in np.random.default_rng(seed).permutation(len(contests))]
    n_test = max(1, round(len(order) * SPLIT_SIZES["test"] / sum(SPLIT_SIZES.values())))
    n_dev = n_test
    split = {c: "train" for c in order[: len(order) - n_dev - n_test]}
    split |= {c: "dev" for c in order[len(order) - n_dev - n_test: len(order) - n_test]}
    split |= {c: "test" for c in order[len(order) - n_test:]}
    return split


def write_image(source: Path, target: Path, max_side: int) -> None:
    """The cartoon as RGB JPEG, resized to at most ``max_side`` pixels (0: the original bytes)."""
    from PIL import Image

    target.parent.mkdir(parents=True, exist_ok=True)
    if max_side <= 0:
        target.write_bytes(source.read_bytes())
        return
    with Image.open(source) as img:
        img = img.convert("RGB")
        scale = max_side / max(img.size)
        if scale < 1:
            img = img.resize((max(1, round(img.width * scale)), max(1, round(img.height * scale))), Image.BICUBIC)
        img.save(target, "JPEG", quality=90)


def build_dataset(data_root: Path, work: Path, *, per_contest: int = 10, seed: int = 0, min_votes: int = 5,
                  max_side: int = 160, contests: list[int] | None = None) -> dict[str, Any]:
    """Write ``work/newyorker.yaml`` + ``work/samples.jsonl`` + ``work/images/<contest>.jpg``; returns a summary."""
    import pandas as pd

    from interlens.errors import DataError

    folder = data_root / "newyorker_caption_contest"
    if not folder.is_dir():
        raise DataError("New Yorker caption contest data not found", file=str(folder))
    found = sorted(int(p.name) for p in (folder / "info").iterdir() if (p / f"{p.name}.jpg").is_file())
    contests = sorted(c for c in found if contests is None or c in contests)
    splits = contest_splits(contests, seed)
    rows, per_split = [], {"train": 0, "dev": 0, "test": 0}
    for contest in contests:
        summaries = sorted((folder / "summaries").glob(f"{contest}_summary_*.csv"))
        if not summaries:
            raise DataError("no summary CSV for this contest", file=str(folder / "summaries"), record=str(contest))
        source = pick_summary(summaries)
        kept = label_captions(pd.read_csv(source), min_votes)
        rng = np.random.default_rng([seed, contest])
        half = per_contest // 2
        for y in (0, 1):
            pool = kept[kept["y"] == y]
            if len(pool) < half:
                raise DataError(f"only {len(pool)} {LABELS[y]} captions (need {half})", file=str(source),
                                field="score")
            picks = pool.iloc[np.sort(rng.choice(len(pool), half, replace=False))]
            for row, r in zip(picks.index, picks.itertuples(index=False), strict=True):
                rows.append({"id": f"{contest}-{int(row) + 1}", "contest": str(contest), "caption": r.caption,
                             "image": f"images/{contest}.jpg", "label": LABELS[y], "split": splits[contest],
                             "score": float(r.score), "votes": int(r.count), "summary": source.name})
        per_split[splits[contest]] += 2 * half
        write_image(folder / "info" / str(contest) / f"{contest}.jpg", work / "images" / f"{contest}.jpg", max_side)
    work.mkdir(parents=True, exist_ok=True)
    with open(work / "samples.jsonl", "w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    (work / "newyorker.yaml").write_text(
        "# written by benchmarks/newyorker_debias.py (issue 27 item 6): caption + cartoon, split by contest\n"
        "name: newyorker-funny\npath: samples.jsonl\nid: id\nlabel: label\n"
        f"labels: [{', '.join(LABELS)}]\n"
        "modalities:\n  caption: {column: caption, kind: text}\n  cartoon: {column: image, kind: image}\n"
        "split: split\ngroup: contest\ntask: caption funniness\ndimension: humour\n", encoding="utf-8")
    return {"contests": {s: sorted(c for c, v in splits.items() if v == s) for s in per_split},
            "samples": per_split, "images": len(contests), "per_contest": per_contest, "min_votes": min_votes,
            "max_side": max_side, "seed": seed, "labels": list(LABELS),
            "label_rule": "funny = score >= the contest's 75th percentile and > its median; not_funny = score <= "
                          "the median; the middle dropped; half of each label per contest"}


# -- a tiny random CLIP ------------------------------------------------------------------------------------
def build_tiny_clip(folder: Path, texts: list[str], *, seed: int = 0, vocab_size: int = 2000,
                    image_size: int = 112, patch_size: int = 16, hidden: int = 64) -> Path:
    """A ``CLIPModel`` with random weights (2 layers per tower), a byte-level BPE tokenizer trained on ``texts``
    and a CLIP image processor (shortest edge + centre crop ``image_size``), saved as a local folder the ``clip``
    scorer loads. Random towers: the embeddings are random features, not CLIP's."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import CLIPConfig, CLIPImageProcessorPil, CLIPModel, PreTrainedTokenizerFast

    specials = ["<|endoftext|>", "<|startoftext|>", "<pad>"]
    tk = Tokenizer(models.BPE())
    tk.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tk.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  special_tokens=specials, show_progress=False)
    tk.train_from_iterator([t.lower() for t in texts], trainer)
    tok = PreTrainedTokenizerFast(tokenizer_object=tk, eos_token="<|endoftext|>", bos_token="<|startoftext|>",
                                  pad_token="<pad>")
    torch.manual_seed(seed)
    config = CLIPConfig(
        text_config=dict(vocab_size=len(tok), hidden_size=hidden, intermediate_size=2 * hidden, num_hidden_layers=2,
                         num_attention_heads=2, max_position_embeddings=64, projection_dim=hidden,
                         pad_token_id=tok.pad_token_id, eos_token_id=tok.eos_token_id,
                         bos_token_id=tok.bos_token_id),
        vision_config=dict(hidden_size=hidden, intermediate_size=2 * hidden, num_hidden_layers=2,
                           num_attention_heads=2, image_size=image_size, patch_size=patch_size,
                           projection_dim=hidden),
        projection_dim=hidden)
    model = CLIPModel(config).eval()
    processor = CLIPImageProcessorPil(size={"shortest_edge": image_size},
                                   crop_size={"height": image_size, "width": image_size})
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder)
    tok.save_pretrained(folder)
    processor.save_pretrained(folder)
    (folder / "README.md").write_text("Tiny CLIP with RANDOM weights built by benchmarks/newyorker_debias.py "
                                      f"(seed {seed}); not a pretrained model.\n", encoding="utf-8")
    return folder


# -- the run -----------------------------------------------------------------------------------------------
def evaluate_argv(work: Path, out: Path, settings: list[str], seed: int) -> list[str]:
    argv = ["debias", "evaluate", "--dataset", str(work / "newyorker.yaml"), "--scorer", "clip",
            "-s", f"model_path={work / 'tiny-clip'}", "--seed", str(seed), "--out", str(out)]
    for setting in settings:
        argv += ["--setting", setting]
    return argv


def outcome(run: dict[str, Any], data: dict[str, Any], argv: list[str], wall: float | None) -> dict[str, Any]:
    """The committed JSON: the run's results.json (its keys kept, so its stored-prediction checks still point at
    its numbers; machine paths made relative) plus what the numbers can and cannot say and this script's
    provenance."""
    from interlens.provenance import environment, interlens_revision, interlens_version

    body = {k: v for k, v in run.items() if k != "stored_predictions"}
    body = json.loads(portable(json.dumps(body)))
    return {**body,
            "what_this_is": "a pipeline check of the MME-JD image path (Algorithm 1 with gradient saliency, MID, "
                            "MCTD, MME-JD) on the 49 real New Yorker cartoons (JPEG) with a tiny CLIP of RANDOM "
                            "weights: the accuracies are those of random features and say nothing about the methods",
            "newyorker_data": data,
            "study_provenance": {"script": "benchmarks/newyorker_debias.py",
                                 "argv": [portable(a) for a in sys.argv[1:]],
                                 "command": "interlens " + shlex.join(portable(a) for a in argv),
                                 "interlens_version": interlens_version(), "interlens_revision": interlens_revision(),
                                 "environment": environment(),
                                 "wall_s": None if wall is None else round(wall, 1)}}


def write_outcome(out: Path, result_path: Path, data: dict[str, Any], argv: list[str], wall: float | None) -> Path:
    """``result_path`` (+ its stored predictions beside it, with the run's checks) from the run folder ``out``."""
    from interlens.evidence.store import read_predictions, save_study

    run = json.loads((out / "results.json").read_text(encoding="utf-8"))
    rows = read_predictions(out, run.get("stored_predictions"))
    checks = (run.get("stored_predictions") or {}).get("checks")
    result_path.parent.mkdir(parents=True, exist_ok=True)
    return save_study(result_path, outcome(run, data, argv, wall), predictions=rows, checks=checks)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-root", type=Path, default=None, help="default: $INTERLENS_DATA or ../shared/data")
    ap.add_argument("--work", type=Path, default=ROOT / "runs" / "newyorker-data")
    ap.add_argument("--out", type=Path, default=ROOT / "runs" / "newyorker-debias")
    ap.add_argument("--per-contest", type=int, default=10)
    ap.add_argument("--min-votes", type=int, default=5)
    ap.add_argument("--max-side", type=int, default=160)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--clip-size", type=int, default=112, help="the tiny CLIP's input (crop) size, patch 16")
    ap.add_argument("--setting", action="append", default=None,
                    help="debias evaluate --setting KEY=VALUE (default: n_trials=30)")
    ap.add_argument("--run", action="store_true", help="run debias evaluate and write the results JSON")
    ap.add_argument("--result", type=Path, default=RESULT)
    ap.add_argument("--collect", action="store_true",
                    help="only write the results JSON from an existing --out run folder (no new run)")
    args = ap.parse_args(argv)
    from interlens.data.paths import data_root as find_data_root

    root = Path(args.data_root) if args.data_root else Path(find_data_root(None))
    work = args.work.resolve()
    data = build_dataset(root, work, per_contest=args.per_contest, seed=args.seed, min_votes=args.min_votes,
                         max_side=args.max_side)
    train = [json.loads(line)["caption"] for line in (work / "samples.jsonl").read_text(encoding="utf-8").splitlines()
             if json.loads(line)["split"] == "train"]
    if not args.collect:
        build_tiny_clip(work / "tiny-clip", train, seed=args.seed, image_size=args.clip_size)
    command = evaluate_argv(work, args.out.resolve(), args.setting or ["n_trials=30"], args.seed)
    print(f"dataset: {data['samples']} samples, {data['images']} cartoons -> {portable(str(work))}")
    print("interlens " + shlex.join(command))
    if args.collect:
        path = write_outcome(args.out, args.result, data, command, None)
        print(f"wrote {portable(str(path))}")
        return 0
    if not args.run:
        return 0
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "interlens", *command], check=False)
    if done.returncode:
        return done.returncode
    path = write_outcome(args.out, args.result, data, command, time.perf_counter() - start)
    print(f"wrote {portable(str(path))}; seal it with: python benchmarks/seal_results.py {path.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
