"""The README's Layout block names every module of ``src/interlens`` (issue 29, item 6: "the README layout
complete"): a top-level module or package has its own entry, a package's modules are named in its entry."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "interlens"


def layout_entries(readme: str) -> dict[str, str]:
    """``{first token: text of the entry}`` of the ```` ``` ```` block under ``## Layout``; an entry is a line
    indented by two spaces plus the more-indented lines that follow it (``#`` lines are headings)."""
    block = readme.split("## Layout", 1)[1].split("```", 2)[1]
    entries: dict[str, str] = {}
    current = None
    for line in block.splitlines():
        if re.match(r"^  [^\s#]", line):
            current = line.split()[0]
            entries[current] = line
        elif current is not None and re.match(r"^\s{3,}\S", line):
            entries[current] += " " + line.strip()
        else:
            current = None
    return entries


def missing_from_layout(src: Path, entries: dict[str, str]) -> list[str]:
    missing = []
    for path in sorted(src.rglob("*.py")):
        rel = path.relative_to(src)
        if rel.name == "__init__.py" or "templates" in rel.parts or "tasks" in rel.parts:
            continue
        package = "/".join(rel.parts[:-1])
        if not package:
            if rel.name not in entries:
                missing.append(f"{rel} (a top-level module: its own entry)")
        elif str(rel) not in entries:  # a module with its own entry (data/prediction_formats.py) counts
            entry = entries.get(package + "/")
            if entry is None or not re.search(rf"\b{re.escape(rel.stem)}\b", entry):
                missing.append(f"{rel} (named in the {package}/ entry)")
    for package in sorted(p for p in src.rglob("*") if (p / "__init__.py").is_file() and p != src):
        if f"{package.relative_to(src)}/" not in entries:
            missing.append(f"{package.relative_to(src)}/ (a package: its own entry)")
    return missing


def test_readme_layout_names_every_module() -> None:
    entries = layout_entries((ROOT / "README.md").read_text(encoding="utf-8"))
    missing = missing_from_layout(SRC, entries)
    assert not missing, "README.md ## Layout omits: " + "; ".join(missing)


def test_the_check_sees_a_module_left_out(tmp_path: Path) -> None:
    for name in ("pkg/__init__.py", "pkg/alpha.py", "pkg/beta.py", "top.py", "sub/__init__.py", "sub/own.py"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("", encoding="utf-8")
    readme = ("## Layout\n\n```\nsrc/\n  pkg/   alpha and\n         more\n  # heading\n  sub/own.py  own entry\n"
              "  sub/  x\n```\n")
    assert missing_from_layout(tmp_path, layout_entries(readme)) == [
        "pkg/beta.py (named in the pkg/ entry)", "top.py (a top-level module: its own entry)"]
