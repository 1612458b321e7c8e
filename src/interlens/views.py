"""Views: which modalities a scorer may see. Masking is explicit: a modality outside the view is
absent from the scorer's input, never silently blanked."""

from __future__ import annotations

from dataclasses import dataclass

from .errors import DataError


@dataclass(frozen=True)
class View:
    """An ordered set of modality names, plus optional named counterfactual transforms.

    ``View.parse("text+image")`` and ``str(view)`` round-trip; the string is the cache key part.
    """

    modalities: tuple[str, ...]
    transforms: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.modalities:
            raise DataError("a view needs at least one modality", field="view")
        if len(set(self.modalities)) != len(self.modalities):
            raise DataError(f"view repeats a modality: {'+'.join(self.modalities)}", field="view")

    @classmethod
    def parse(cls, spec: str | View) -> View:
        """``"text"``, ``"text+image"``, ``"text+image|cf_text"`` (transforms after ``|``)."""
        if isinstance(spec, View):
            return spec
        body, _, transforms = str(spec).partition("|")
        mods = tuple(m.strip() for m in body.split("+") if m.strip())
        tfs = tuple(t.strip() for t in transforms.split(",") if t.strip())
        return cls(mods, tfs)

    def __str__(self) -> str:
        base = "+".join(self.modalities)
        return f"{base}|{','.join(self.transforms)}" if self.transforms else base

    @property
    def is_unimodal(self) -> bool:
        return len(self.modalities) == 1

    def check(self, available: tuple[str, ...] | list[str], source: str | None = None) -> View:
        missing = [m for m in self.modalities if m not in available]
        if missing:
            raise DataError(f"view {self} needs modality {missing[0]!r}, the dataset has {list(available)}",
                            file=source, field="view")
        return self
