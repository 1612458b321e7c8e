"""MINT study (interaction-grouped multi-task tuning): interaction scores, groups, training regimes,
honest baselines (majority class, unimodal models) and paired tests over several seeds."""

from .study import (
    BASELINES,
    REFERENCE,
    REGIMES,
    MintTask,
    aggregate,
    pooled,
    prepare_task,
    radar_plot,
    run_mint_study,
    subset_train,
    table_markdown,
)

__all__ = ["BASELINES", "REFERENCE", "REGIMES", "MintTask", "aggregate", "pooled", "prepare_task", "radar_plot",
           "run_mint_study", "subset_train", "table_markdown"]
