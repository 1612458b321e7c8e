"""One registry type for every "name -> object" table of interlens (issue 29, item 5).

:class:`Registry` is a read-only :class:`~collections.abc.Mapping` from a name to an object with

* ``register(name)`` -- a decorator (``add(name, obj)`` without one) that refuses a second, different object
  under a name already taken (registering the very same object again is a no-op, so a module reload is
  harmless), after the registry's own ``check`` of the name and the object;
* ``get(name)`` / ``registry[name]`` -- the object, or the one-line "unknown <kind> 'name'. Did you mean ...?
  Known: ..." :class:`~interlens.errors.RegistryError` (a ``KeyError``) of :func:`~interlens.errors.unknown_name`;
  ``get(name, default)`` returns ``default`` instead, as ``dict.get`` does;
* ``names()``, iteration, ``len`` and ``in`` in registration order;
* an optional ``load`` callable run once, on the first read, that fills the registry (the built-in scorer
  modules, the bench task files), so that importing a registry stays cheap.

The registries built on it: scorers (:data:`interlens.scoring.base.SCORERS`), datasets
(:data:`interlens.data.adapters.REGISTRY`), prediction-file formats (:data:`interlens.data.prediction_formats.FORMATS`),
bench tasks (:data:`interlens.bench.registry.TASKS`), fusion strategies
(:data:`interlens.experts.fusion.FUSION_STRATEGIES`), prompt templates (:data:`interlens.prompts.render.TEMPLATES`)
and Hugging Face families (:data:`interlens.scoring.hf.encoding.FAMILIES`,
:data:`interlens.scoring.hf.families.ENCODERS`). ``tests/test_registry_generic.py`` enumerates them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any, TypeVar

from .errors import unknown_name

T = TypeVar("T")
_MISSING: Any = object()


class Registry(Mapping[str, T]):
    """``name -> object`` with a duplicate-refusing ``register`` and a "did you mean" ``get`` (see the module).

    ``kind`` names the entries in errors ("scorer", "dataset", ...). ``normalize`` maps a looked-up name to
    its key (e.g. ``str.lower``; the error still quotes the name as given). ``check(name, obj)`` may refuse
    an entry before it is added (raise). ``entries`` are added at once; ``load`` fills the registry on the
    first read."""

    def __init__(self, kind: str, entries: Mapping[str, T] | None = None, *, load: Callable[[], None] | None = None,
                 normalize: Callable[[str], str] | None = None,
                 check: Callable[[str, T], None] | None = None) -> None:
        self.kind = kind
        self._items: dict[str, T] = {}
        self._load = load
        self._normalize = normalize
        self._check = check
        for name, obj in (entries or {}).items():
            self.add(name, obj)

    def _loaded(self) -> dict[str, T]:
        if self._load is not None:
            load, self._load = self._load, None  # once, even if it fails half-way (as an import would)
            load()
        return self._items

    # -- writing ------------------------------------------------------------------------------------
    def add(self, name: str, obj: T) -> T:
        """Register ``obj`` under ``name`` and return it; a different object under a taken name is refused."""
        if self._check is not None:
            self._check(name, obj)
        if name in self._items and self._items[name] is not obj:
            held = self._items[name]
            raise ValueError(f"{self.kind} {name!r} is already registered "
                             f"(by {getattr(held, '__qualname__', None) or type(held).__name__})")
        self._items[name] = obj
        return obj

    def register(self, name: str) -> Callable[[T], T]:
        """Decorator form of :meth:`add`: ``@REGISTRY.register("name")``."""

        def wrap(obj: T) -> T:
            return self.add(name, obj)

        return wrap

    # -- reading ------------------------------------------------------------------------------------
    def key(self, name: str) -> str:
        """The key ``name`` is looked up under (``normalize`` applied)."""
        return self._normalize(name) if self._normalize is not None else name

    def get(self, name: str, default: Any = _MISSING) -> Any:  # type: ignore[override]
        """The object registered under ``name``; unknown: ``default`` if given, else a one-line
        :class:`~interlens.errors.RegistryError` with the closest names."""
        items = self._loaded()
        key = self.key(name) if isinstance(name, str) else name
        if key in items:
            return items[key]
        if default is not _MISSING:
            return default
        raise unknown_name(self.kind, name, list(items))

    def __getitem__(self, name: str) -> T:
        return self.get(name)

    def __contains__(self, name: object) -> bool:
        items = self._loaded()
        return (self.key(name) if isinstance(name, str) else name) in items

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._loaded()))

    def __len__(self) -> int:
        return len(self._loaded())

    def names(self) -> list[str]:
        """The registered names, in registration order."""
        return list(self._loaded())

    def as_dict(self) -> dict[str, T]:
        """A plain copy ``{name: object}`` (registration order)."""
        return dict(self._loaded())

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}, {self.names()})"


__all__ = ["Registry"]
