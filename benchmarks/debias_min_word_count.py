"""Choose min_word_count on MMSD2.0 dev (docs/debias.md): relevance from dev half A, MID F1 on dev half B."""
import json
import time
from pathlib import Path

import numpy as np

from interlens.data.resolve import resolve_dataset
from interlens.debias.counterfactual import (
    pick_modalities,
    relevance_from_effects,
    replace_inputs,
    text_counterfactuals,
    word_effects,
)
from interlens.debias.methods import mid_grid
from interlens.debias.plan import make_debias_scorer

t0 = time.time()
data = resolve_dataset("mmsd2")
mods = pick_modalities(data, image_modality="image_attributes")
data = data.with_modalities([mods.text, mods.image])
rng = np.random.default_rng(0)
tr_ids = rng.choice(data.splits["train"], 1000, replace=False).tolist()
dev_ids = rng.permutation(data.splits["dev"]).tolist()
A, B = data.subset(dev_ids[:600]), data.subset(dev_ids[600:1200])
train = data.subset(tr_ids)
scorer = make_debias_scorer("embedding", seed=0)
scorer.fit(train, list(mods.views))
print("fit", round(time.time() - t0), flush=True)
eff_t = word_effects(scorer, A, mods.text)
eff_i = word_effects(scorer, A, mods.image)
print("effects", round(time.time() - t0), flush=True)
p0 = scorer.predict_proba(B, mods.fused).probs
out = {}
for k in (1, 2, 3, 5, 10):
    rt, ri = relevance_from_effects(eff_t, k), relevance_from_effects(eff_i, k)
    cf = replace_inputs(replace_inputs(B, mods.text, text_counterfactuals(B.column(mods.text), rt), "t"),
                        mods.image, text_counterfactuals(B.column(mods.image), ri), "i")
    pt, pi = scorer.predict_proba(cf, mods.text).probs, scorer.predict_proba(cf, mods.image).probs
    g = mid_grid(p0, pi, pt, B.y, metric="f1", steps=11)
    out[k] = {"mid_f1_devB": g["best"]["value"], "base_f1_devB": g["values"][0][0], "n_words": len(rt),
              "top_text": sorted(rt, key=lambda w: -rt[w])[:8]}
    print(k, json.dumps(out[k]), round(time.time() - t0), flush=True)
Path("docs/results/debias").mkdir(parents=True, exist_ok=True)
Path("docs/results/debias/min_word_count.json").write_text(json.dumps(out, indent=1))
