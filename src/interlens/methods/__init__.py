"""Methods: the pipelines that run an estimator on a dataset + scorer (issue 29's ``methods/`` layer, above
``scoring/``, ``measure`` and ``report``; the estimators themselves are pure maths in ``interactions/``).

Submodules are imported on use (``from interlens.methods.pid import measure_pid``) so that importing the
package stays cheap.
"""
