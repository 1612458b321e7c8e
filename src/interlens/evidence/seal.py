"""Seals of committed studies that have no stored predictions (issue 26, item 3).

A study JSON gets ``content_sha256``: the sha256 of its payload (the file without ``provenance`` and
``content_sha256``, as canonical JSON: keys sorted, no spaces). ``MANIFEST.json`` in the same folder keeps
per file a *value digest*: for every leaf value, in sorted JSON-pointer order, the first 4 hex characters
of ``sha256(pointer NUL canonical value)``; when the content hash no longer matches, comparing digests
names the changed number (a changed structure is reported as such).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from typing import Any

SEAL_KEYS = ("provenance", "content_sha256")
MANIFEST = "MANIFEST.json"
MANIFEST_FORMAT = "interlens.seal-manifest/v1"
DIGEST_CHARS = 4


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def payload(data: dict[str, Any]) -> dict[str, Any]:
    """The sealed part of a study: everything but its provenance block and its own hash."""
    return {k: v for k, v in data.items() if k not in SEAL_KEYS}


def content_sha256(data: dict[str, Any]) -> str:
    return hashlib.sha256(canonical(payload(data)).encode("utf-8")).hexdigest()


def _escape(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


def leaves(value: Any, pointer: str = "") -> Iterator[tuple[str, Any]]:
    """``(JSON pointer, value)`` of every leaf (numbers, strings, booleans, null, empty containers)."""
    if isinstance(value, dict) and value:
        for key, item in value.items():
            yield from leaves(item, f"{pointer}/{_escape(str(key))}")
    elif isinstance(value, list) and value:
        for i, item in enumerate(value):
            yield from leaves(item, f"{pointer}/{i}")
    else:
        yield pointer or "/", value


def sorted_leaves(data: dict[str, Any]) -> list[tuple[str, Any]]:
    return sorted(leaves(payload(data)), key=lambda kv: kv[0])


def value_digest(data: dict[str, Any]) -> str:
    return "".join(hashlib.sha256(f"{p}\x00{canonical(v)}".encode()).hexdigest()[:DIGEST_CHARS]
                   for p, v in sorted_leaves(data))


def changed_values(data: dict[str, Any], digest: str) -> list[tuple[str, Any]] | None:
    """The leaves whose digest differs from ``digest`` (None: the structure changed, leaves not aligned)."""
    current = sorted_leaves(data)
    if len(current) * DIGEST_CHARS != len(digest):
        return None
    now = value_digest(data)
    return [current[i] for i in range(len(current))
            if now[i * DIGEST_CHARS:(i + 1) * DIGEST_CHARS] != digest[i * DIGEST_CHARS:(i + 1) * DIGEST_CHARS]]
