"""The one check that a Python ``methods.X.run(...)`` + ``Result.save`` writes the results.json of the CLI
(issue 29): shared by the mint, train, debias and bench tests."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any


def assert_api_matches_cli(api: Mapping[str, Any], by_cli: Mapping[str, Any], *, command: str,
                           must_have: Iterable[str] = ()) -> None:
    """Same top-level keys (including ``must_have``), the kind of ``command`` in both, a valid envelope whose
    provenance names ``command``, the CLI's own command line recorded, and the same scorer and datasets
    (the CLI adds only its command line and argv)."""
    from interlens.provenance import kind_of, validate_results

    assert sorted(api) == sorted(by_cli)
    assert {"kind", "provenance", *must_have} <= set(api)
    assert api["kind"] == by_cli["kind"] == kind_of(command)
    assert validate_results(api).provenance.command == command
    assert by_cli["provenance"]["command"].startswith(f"interlens {command} ")  # the CLI's command line
    assert api["provenance"]["scorer"] == by_cli["provenance"]["scorer"]
    assert api["provenance"].get("datasets") == by_cli["provenance"].get("datasets")
