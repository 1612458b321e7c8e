"""A method's settings (issue 29 item 1): a frozen, typed :class:`MethodConfig` with defaults, validation, the
scorer capabilities the method ``needs``, and :meth:`MethodConfig.from_overrides` for the command line.

:func:`split_pair` is THE one ``KEY=VALUE`` parser of interlens: every command-line option of that form
(``-s``, ``-d``, ``--setting``, ``--expert``, ``--prior``, ``--modality``, bench's ``--auxiliary`` /
``--modalities`` / ``--task-option``) goes through it, so a malformed item is refused the same way
everywhere -- one line naming the option (a :class:`~interlens.errors.DataError`, exit 2 in the CLI).
``tests/test_methods_shape.py`` checks the source tree holds no other.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, ClassVar, Self

from pydantic import BaseModel, ConfigDict, ValidationError

from ..errors import DataError, check_known_keys
from ..io import json_or_text
from ..scoring.base import Capability


def split_pair(item: str, *, field: str = "option", key_optional: bool = False,
               empty_value: bool = True) -> tuple[str, str]:
    """``"KEY=VALUE"`` -> ``("KEY", "VALUE")``, both stripped; the value may hold further ``=``.

    ``key_optional``: an item without ``=`` is ``("", item)`` (bench's ``--modalities a,b`` for every task);
    otherwise it is refused, as are an empty key and (``empty_value=False``) an empty value. ``field`` names
    the option in the one-line error.
    """
    key, sep, value = str(item).partition("=")
    if not sep and key_optional:
        return "", key.strip()
    if not sep or not key.strip() or (not empty_value and not value.strip()):
        raise DataError(f"expected KEY=VALUE, got {item!r}", field=field)
    return key.strip(), value.strip()


def parse_overrides(items: Iterable[str] | None, *, field: str = "option", typed: bool = True,
                    empty_value: bool = True) -> dict[str, Any]:
    """``["epochs=10", "fusion=late"]`` -> ``{"epochs": 10, "fusion": "late"}``.

    Keys have ``-`` turned into ``_`` when ``typed``; values are JSON literals when they parse
    (``3``, ``true``, ``[1, 2]``, ``null``), else the text (``typed=False``: always the text). A later
    item wins. Each item goes through :func:`split_pair`.
    """
    out: dict[str, Any] = {}
    for item in items or []:
        key, raw = split_pair(item, field=field, empty_value=empty_value)
        if typed:
            out[key.replace("-", "_")] = json_or_text(raw)
        else:
            out[key] = raw
    return out


class MethodConfig(BaseModel):
    """Base of every method's settings: frozen, unknown fields refused, typed fields validated.

    A subclass declares its fields with defaults and, in ``needs``, the :class:`Capability` values a scorer
    must declare for the method to run on it (checked before any work; the method x scorer matrix is read
    from them).
    """

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    needs: ClassVar[frozenset[Capability]] = frozenset()

    @classmethod
    def from_overrides(cls, items: Iterable[str] | None, **base: Any) -> Self:
        """The config from ``KEY=VALUE`` items (:func:`parse_overrides`) over ``base`` values; an unknown key
        or a value of the wrong type is refused in one line naming the key (and the valid keys)."""
        return cls.from_mapping({**base, **parse_overrides(items, field=cls._field_name())})

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> Self:
        """The config from a mapping, with :meth:`from_overrides`'s one-line errors."""
        check_known_keys(values, sorted(cls.model_fields), "setting", where=f" of {cls.__name__}")
        try:
            return cls(**values)
        except ValidationError as err:
            first = err.errors()[0]
            key = ".".join(str(p) for p in first.get("loc", ())) or "value"
            raise DataError(f"setting {key!r} of {cls.__name__}: {first.get('msg')} (got {first.get('input')!r})",
                            field=key) from None

    @classmethod
    def _field_name(cls) -> str:
        return "setting"

    def settings(self) -> dict[str, Any]:
        """The settings as plain JSON values (what a result's provenance records)."""
        return self.model_dump(mode="json")
