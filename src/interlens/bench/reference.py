"""Published MMLA numbers to compare against.

Source: Zhang et al., 2025, "Can Large Language Models Help Multimodal Language Analysis? MMLA: A
Comprehensive Benchmark", Table 3 (supervised fine-tuning, text-only LLMs), ACC x100 on each dataset's
test split; checked against shared/papers/mmla-multimodal-language-analysis-benchmark.txt.
Only tasks with ``comparable_to_paper: true`` are evaluated on the same split here.
"""

from __future__ import annotations

CITATION = ("Zhang et al. (2025). Can Large Language Models Help Multimodal Language Analysis? MMLA: A "
            "Comprehensive Benchmark. Table 3 (SFT), ACC.")
# task name -> model -> ACC (%)
MMLA_TABLE3_SFT_ACC: dict[str, dict[str, float]] = {
    "mintrec": {"Qwen2-0.5B": 70.11, "Qwen2-7B": 74.61},
    "mintrec2": {"Qwen2-0.5B": 55.83, "Qwen2-7B": 61.49},
    "meld-emotion": {"Qwen2-0.5B": 63.95, "Qwen2-7B": 65.71},
    "iemocap-emotion": {"Qwen2-0.5B": 46.61, "Qwen2-7B": 52.10},
    "meld-da": {"Qwen2-0.5B": 57.31, "Qwen2-7B": 57.71},
    "iemocap-da": {"Qwen2-0.5B": 68.21, "Qwen2-7B": 72.08},
    "mosi": {"Qwen2-0.5B": 82.94, "Qwen2-7B": 87.32},
    "chsims2": {"Qwen2-0.5B": 68.96, "Qwen2-7B": 73.11},
    "urfunny": {"Qwen2-0.5B": 65.59, "Qwen2-7B": 71.33},
    "mustard": {"Qwen2-0.5B": 60.87, "Qwen2-7B": 63.04},
    "annomi-client": {"Qwen2-0.5B": 62.98, "Qwen2-7B": 64.57},
    "annomi-therapist": {"Qwen2-0.5B": 73.33, "Qwen2-7B": 75.53},
}
MODELS = ("Qwen2-0.5B", "Qwen2-7B")


def reference_acc(task: str, model: str) -> float | None:
    return MMLA_TABLE3_SFT_ACC.get(task, {}).get(model)
