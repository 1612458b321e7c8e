"""Seal the committed studies in benchmarks/results/ (issue 26, item 3): every file gets a retro-fitted
``provenance`` block and a ``content_sha256`` of its payload; MANIFEST.json keeps per-value digests so
that ``interlens verify benchmarks/results`` names an edited number.

    python benchmarks/seal_results.py                  # seal new files, check sealed ones
    python benchmarks/seal_results.py --force FILE...  # re-seal files whose numbers were changed on purpose

A file whose payload no longer matches its seal is refused (exit 1) unless ``--force`` names it (or all).
Provenance is what the file records (git_revision, versions, command) plus the commit that last changed
the file, marked ``"retrofitted": true``: it was not recorded when the numbers were made.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from interlens.evidence import seal

ROOT = Path(__file__).resolve().parent / "results"


def _last_commit(path: Path) -> str | None:
    done = subprocess.run(["git", "log", "-1", "--format=%H", "--", path.name], cwd=path.parent,
                          capture_output=True, text=True, check=False)
    return done.stdout.strip() or None


def _head(root: Path) -> str | None:
    done = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=False)
    return done.stdout.strip() or None


def _version() -> str:
    import interlens

    return interlens.__version__


def _indent(path: Path) -> int:
    """The file's own indentation (kept, so sealing only adds lines)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    second = lines[1] if len(lines) > 1 else ""
    return (len(second) - len(second.lstrip(" "))) or 2


def retrofitted_provenance(path: Path, data: dict) -> dict:
    prov = {"retrofitted": True,
            "note": "reconstructed from what the file records and the git history when it was sealed; "
                    "not recorded when the numbers were made",
            "git_revision": data.get("git_revision") or data.get("revision"),
            "last_commit_of_file": _last_commit(path),
            "versions": data.get("versions") or data.get("environment"),
            "command": data.get("command") or data.get("commands"),
            "sealed": datetime.now(UTC).isoformat(timespec="seconds")}
    return {k: v for k, v in prov.items() if v is not None}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("files", nargs="*", type=Path, help="study files (default: every *.json in benchmarks/results)")
    ap.add_argument("--force", action="store_true", help="re-seal the named files even if their numbers changed")
    ap.add_argument("--root", type=Path, default=ROOT)
    args = ap.parse_args(argv)
    root = args.root
    files = [f if f.is_absolute() or f.exists() else root / f for f in args.files] or sorted(
        p for p in root.glob("*.json") if p.name != seal.MANIFEST)
    manifest_path = root / seal.MANIFEST
    manifest = json.loads(manifest_path.read_text(encoding="utf-8")) if manifest_path.is_file() else {}
    entries = manifest.get("files", {})
    refused = 0
    for path in files:
        data = json.loads(path.read_text(encoding="utf-8"))
        recorded = data.get("content_sha256") or entries.get(path.name, {}).get("content_sha256")
        if recorded and seal.content_sha256(data) != recorded and not args.force:
            print(f"refused: {path.name}: its numbers changed since it was sealed (re-seal with --force {path.name})")
            refused += 1
            continue
        if "content_sha256" in data and seal.content_sha256(data) == data["content_sha256"] \
                and entries.get(path.name, {}).get("content_sha256") == data["content_sha256"]:
            print(f"ok: {path.name}")
            continue
        body = seal.payload(data)
        prov = data.get("provenance")
        if not isinstance(prov, dict):
            prov = retrofitted_provenance(path, data)
        sealed = {**body, "provenance": prov, "content_sha256": seal.content_sha256(body)}
        text = path.read_text(encoding="utf-8")  # its own style is kept, so sealing only adds lines
        path.write_text(json.dumps(sealed, indent=_indent(path), ensure_ascii="\\u" in text)
                        + ("\n" if text.endswith("\n") else ""), encoding="utf-8")
        entries[path.name] = {"content_sha256": sealed["content_sha256"], "n_values": len(seal.sorted_leaves(body)),
                              "value_digest": seal.value_digest(body)}
        print(f"sealed: {path.name} ({entries[path.name]['n_values']} values)")
    manifest = {"format": seal.MANIFEST_FORMAT,
                "about": "per-file content hashes and per-value digests of the sealed studies "
                         "(benchmarks/seal_results.py; checked by `interlens verify benchmarks/results`)",
                "files": dict(sorted(entries.items())),
                "provenance": {"written_by": "benchmarks/seal_results.py", "interlens": _version(),
                               "git_revision": _head(root), "files_sealed_or_checked": len(files)}}
    manifest_path.write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    return 1 if refused else 0


if __name__ == "__main__":
    sys.exit(main())
