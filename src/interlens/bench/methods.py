"""Benchmark methods (MMLA Sec. 4) as an Enum; kept import-light for the CLI."""

from __future__ import annotations

from enum import StrEnum


class Method(StrEnum):
    """``zero-shot`` (no training), ``sft`` (one model per task and seed), ``it`` (one model per seed
    for all tasks: instruction tuning, MMLA Sec. 3.3)."""

    ZERO_SHOT = "zero-shot"
    SFT = "sft"
    IT = "it"


METHODS = tuple(m.value for m in Method)
