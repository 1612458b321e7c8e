"""MIntRec: our per-sample categories (MMoE Algorithm 1) vs. the human "which modality is needed" label.

Predictions: the modality-removal runs of ``mintrec/Phase-2-Automated-Annotation`` (MIntRec2.0:
MulT, ``mult_bert_*.csv``; MIntRec: SDIF, ``sdif_bert_*.csv``), one row per test utterance in
``test.tsv`` order. Modality 1 = text (``*_text.csv``); modality 2 = video (``*_video.csv``) or
audio+video (``*_audio_video.csv``), both reported. Reference = gold label, or the full model's
prediction (``*_all.csv``, MINT-style). Categories: R both right, U1 text only, U2 video only, S neither.

Human labels: ``Human-Annotation/<set>/merged_test.tsv`` (a sample of the test rows), joined on
(Dialogue_id, Utterance_id) for MIntRec2.0 and (season, episode, clip) for MIntRec; text and label
are checked to match. Writes ``docs/results/mintrec{2,1}_crosstab.{json,md}``.

Run: ``.venv/bin/python benchmarks/mintrec_crosstab.py [--data-root DIR] [--out-dir docs/results]``
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from interlens.data.paths import data_root
from interlens.interactions import CATEGORIES, categorize, category_counts
from interlens.io import atomic_write_text, write_json
from interlens.scoring.precomputed import mintrec_label_order, read_mintrec_removal

REPO = Path(__file__).resolve().parents[1]
SETS = {
    "mintrec2": {"title": "MIntRec2.0 test (MulT)", "auto": "MIntRec-2-auto-annotate", "prefix": "mult_bert",
                 "human": "MIntRec2.0", "key": ["Dialogue_id", "Utterance_id"], "text": "Text", "label": "Label"},
    "mintrec1": {"title": "MIntRec test (SDIF)", "auto": "MIntRec-1-auto-annotate", "prefix": "sdif_bert",
                 "human": "MIntRec-1", "key": ["season", "episode", "clip"], "text": "text", "label": "label"},
}
MODALITY2 = {"video": "video", "audio+video": "audio_video"}
HUMAN_ORDER = ["Text", "Audio+Text", "Video+Text", "Audio+Video+Text", "Video", "NA"]
CATS = [c for c in CATEGORIES if c != "missing"]


def read_tsv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False, quoting=3)


def normalise_modality(value: str) -> str:
    """'Video+Audio+Text' -> 'Audio+Video+Text' (order-free); '', 'Na' -> 'NA'."""
    parts = [p.strip().lower() for p in value.split("+") if p.strip()]
    if not parts or parts == ["na"]:
        return "NA"
    order = ["audio", "video", "text"]
    return "+".join(p.capitalize() for p in sorted(parts, key=lambda p: order.index(p) if p in order else 9))


def join_human(test: pd.DataFrame, human: pd.DataFrame, spec: dict[str, Any]) -> tuple[pd.DataFrame, dict]:
    key, text, label = spec["key"], spec["text"], spec["label"]
    if test.duplicated(key).any():
        raise SystemExit(f"join key {key} is not unique in test.tsv")
    indexed = test.reset_index().rename(columns={"index": "row"})
    joined = human.merge(indexed[[*key, "row", text, label]], on=key, how="left", suffixes=("", "_test"))
    matched = joined["row"].notna()
    same_text = (joined[text] == joined[f"{text}_test"]) & matched
    same_label = (joined[label] == joined[f"{label}_test"]) & matched
    info = {"key": key, "human_rows": len(human), "matched": int(matched.sum()),
            "coverage": float(matched.mean()), "text_equal": int(same_text.sum()),
            "label_equal": int(same_label.sum()), "test_rows": len(test),
            "share_of_test_annotated": float(matched.sum() / len(test))}
    joined = joined[matched].copy()
    joined["row"] = joined["row"].astype(int)
    joined["human"] = joined["Modality"].map(normalise_modality)
    return joined, info


def crosstab(human: pd.Series, ours: np.ndarray) -> dict[str, dict[str, int]]:
    table = pd.crosstab(human.to_numpy(), ours)
    rows = [h for h in HUMAN_ORDER if h in table.index] + [h for h in table.index if h not in HUMAN_ORDER]
    return {h: {c: int(table.loc[h, c]) if c in table.columns else 0 for c in CATS} for h in rows}


def markdown(table: dict[str, dict[str, int]]) -> list[str]:
    lines = ["| human label | " + " | ".join(CATS) + " | total | text right (R+U1) |",
             "|---|" + "---:|" * (len(CATS) + 2)]
    totals = dict.fromkeys(CATS, 0)
    for human, row in table.items():
        n = sum(row.values())
        for c in CATS:
            totals[c] += row[c]
        share = (row["R"] + row["U1"]) / n if n else float("nan")
        lines.append(f"| {human} | " + " | ".join(str(row[c]) for c in CATS) + f" | {n} | {share:.0%} |")
    n = sum(totals.values())
    share = (totals["R"] + totals["U1"]) / n if n else float("nan")
    lines.append("| **all** | " + " | ".join(str(totals[c]) for c in CATS) + f" | {n} | {share:.0%} |")
    return lines


def text_right_shares(table: dict[str, dict[str, int]]) -> dict[str, float]:
    """Share of rows the text model gets right (R + U1): human 'Text' vs. human 'needs another modality'."""
    def share(rows: list[str]) -> float:
        n = sum(sum(table[h].values()) for h in rows if h in table)
        right = sum(table[h]["R"] + table[h]["U1"] for h in rows if h in table)
        return right / n if n else float("nan")

    other = [h for h in table if h not in ("Text", "NA")]
    return {"human_text_only": share(["Text"]), "human_needs_other_modality": share(other)}


def run(name: str, root: Path, out_dir: Path) -> dict[str, Any]:
    spec = SETS[name]
    auto = root / "mintrec" / "Phase-2-Automated-Annotation" / spec["auto"]
    test = read_tsv(auto / "test.tsv")
    human = read_tsv(root / "mintrec" / "Human-Annotation" / spec["human"] / "merged_test.tsv")
    labels = mintrec_label_order(auto / "test.tsv", auto / f"{spec['prefix']}_all.csv")
    ids = [str(i) for i in range(len(test))]
    views = ["text", "video", "audio_video", "all"]
    preds = {v: read_mintrec_removal(auto / f"{spec['prefix']}_{v}.csv", labels=labels, ids=ids) for v in views}
    gold = np.array([labels.index(preds["all"].meta["targets"][i]) for i in ids])
    hard = {v: p.argmax() for v, p in preds.items()}
    joined, join_info = join_human(test, human, spec)
    rows = joined["row"].to_numpy()

    result: dict[str, Any] = {
        "dataset": spec["title"], "folder": str(auto.relative_to(root)), "n_test": len(test), "n_labels": len(labels),
        "files": {v: f"{spec['prefix']}_{v}.csv" for v in views},
        "accuracy": {v: float((hard[v] == gold).mean()) for v in views},
        "distinct_predicted_classes": {v: int(np.unique(hard[v]).size) for v in views},
        "no_true_label_prob_rows": {v: p.meta["no_true_label_prob"] for v, p in preds.items()},
        "join": join_info,
        "human_modality_counts": joined["human"].value_counts().to_dict(),
        "modality1": "text", "tables": [],
        "note": "Categories: R = text and modality-2 model both match the reference; U1 = text only; "
                "U2 = modality 2 only; S = neither (MMoE Algorithm 1, k classes).",
    }
    md = [f"# {spec['title']}: our interaction categories vs. human modality labels", "",
          f"Generated by `benchmarks/mintrec_crosstab.py` from `{result['folder']}` (predictions of one model "
          "trained and tested with modalities removed) and "
          f"`mintrec/Human-Annotation/{spec['human']}/merged_test.tsv`.", "",
          f"- Test rows: {len(test)}, {len(labels)} intents. Accuracy: "
          + ", ".join(f"{v} {a:.3f}" for v, a in result["accuracy"].items()) + ".",
          f"- Join on {' + '.join(join_info['key'])}: {join_info['matched']}/{join_info['human_rows']} human rows "
          f"matched ({join_info['coverage']:.0%}); text equal {join_info['text_equal']}, label equal "
          f"{join_info['label_equal']}. The annotated rows are {join_info['share_of_test_annotated']:.0%} of the "
          "test set; the other test rows have no human label and are not in the tables.",
          *[f"- Caution: the {v}-only model predicts a single class ({labels[int(hard[v][0])]!r}) for every "
            f"test row, so modality 2 = {v.replace('_', '+')} is degenerate here (its R/U2 just mean "
            "'gold is that class')." for v in views if result["distinct_predicted_classes"][v] == 1],
          *[f"- `{spec['prefix']}_{v}.csv` has no `true_label_prob` values ({c} rows); only its predicted "
            "labels are used (exact-match categories need nothing else)." for v, c in
            result["no_true_label_prob_rows"].items() if c],
          "- Human labels (normalised; 'Video+Audio+Text' = 'Audio+Video+Text', empty/'Na' = NA): "
          + ", ".join(f"{k} {v}" for k, v in result["human_modality_counts"].items()) + ".",
          "- Columns: R = text model and modality-2 model both right; U1 = only the text model right; "
          "U2 = only the modality-2 model right; S = neither (MMoE Algorithm 1 for k classes). "
          "'text right' = R + U1.", ""]
    for m2, suffix in MODALITY2.items():
        for ref_name, ref in (("gold", gold), ("full-model prediction (MINT-style)", hard["all"])):
            cats_all = categorize(hard["text"], hard[suffix], ref)
            table = crosstab(joined["human"], cats_all[rows])
            shares = text_right_shares(table)
            result["tables"].append({"modality2": m2, "reference": ref_name.split(" ")[0],
                                     "counts_all_test_rows": category_counts(cats_all, CATS), "crosstab": table,
                                     "text_right_share": shares})
            md += [f"## Modality 2 = {m2}, reference = {ref_name}", "",
                   "All test rows: " + ", ".join(f"{c} {n}" for c, n in category_counts(cats_all, CATS).items())
                   + ".", "", *markdown(table), "",
                   f"Text model right (R+U1): {shares['human_text_only']:.0%} of rows humans marked 'Text' vs. "
                   f"{shares['human_needs_other_modality']:.0%} of rows marked as needing audio and/or video.", ""]
    write_json(out_dir / f"{name}_crosstab.json", result)
    atomic_write_text(out_dir / f"{name}_crosstab.md", "\n".join(md))
    print("\n".join(md))
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", default=None, help="folder holding mintrec/ (default: auto-detected)")
    parser.add_argument("--out-dir", type=Path, default=REPO / "docs" / "results")
    parser.add_argument("--sets", nargs="+", default=list(SETS), choices=list(SETS))
    args = parser.parse_args(argv)
    root = data_root(args.data_root)
    for name in args.sets:
        run(name, root, args.out_dir)


if __name__ == "__main__":
    main()
