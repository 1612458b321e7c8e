"""MINT study (interaction-grouped multi-task tuning): interaction scores, groups, training regimes."""

from .study import REGIMES, MintTask, prepare_task, radar_plot, run_mint_study

__all__ = ["REGIMES", "MintTask", "prepare_task", "radar_plot", "run_mint_study"]
