"""Bar plots of a fusion table and of per-interaction F1: moved to :mod:`interlens.report.plots` (report/
imports no method package, issue 29); the names stay importable from here."""

from __future__ import annotations

from ..report.plots import plot_fusion_table, plot_per_interaction

__all__ = ["plot_fusion_table", "plot_per_interaction"]
