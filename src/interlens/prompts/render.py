"""Versioned prompt templates (YAML + Jinja) and ``render_prompt``.

A template file ``templates/<id>.v<version>.yaml`` holds variants chosen by the view's modality set:
a modality outside the view is *absent* from the prompt (its variant never mentions it), never blank.
Rendering is pure and deterministic, so snapshot tests pin the exact text; the template key
(``id@version#sha``) enters every scorer fingerprint, so an edited template never reuses cached scores.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from jinja2 import StrictUndefined, TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from ..data.schema import Sample
from ..errors import DataError, unknown_name
from ..views import View

_FILE = re.compile(r"^(?P<id>[a-z0-9][a-z0-9_-]*)\.v(?P<version>\d+)\.yaml$")
_ENV = ImmutableSandboxedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False)


@dataclass(frozen=True)
class Message:
    """One chat turn. ``media`` is true on the turn that carries the view's images/videos."""

    role: str
    text: str
    media: bool = False


@dataclass(frozen=True)
class RenderedPrompt:
    """A prompt ready for a chat template: turns, media (modality, value) in view order, the answer
    prefix that ends the prompt, and the continuation string scored for each label."""

    template: str
    variant: str
    messages: tuple[Message, ...]
    media: tuple[tuple[str, Any], ...]
    media_position: str
    answer_prefix: str
    label_texts: tuple[str, ...]
    verbalized: tuple[str, ...]

    def to_text(self) -> str:
        """A plain, deterministic rendering (for snapshots and logs; not what the model sees)."""
        lines = []
        for message in self.messages:
            tags = "".join(f" <{m}>" for m, _ in self.media) if message.media else ""
            lines.append(f"[{message.role}]{tags}\n{message.text}")
        lines.append(f"[assistant]\n{self.answer_prefix}")
        return "\n".join(lines)


@dataclass(frozen=True)
class PromptTemplate:
    """A parsed template file (see ``templates/*.yaml`` for the schema by example)."""

    id: str
    version: int
    source: str
    sha: str
    required_vars: tuple[str, ...]
    text_modalities: tuple[str, ...]
    media_modalities: tuple[str, ...]
    answer_prefix: str
    label_prefix: str
    verbalizer: tuple[str, ...] | None
    tasks: Mapping[str, Any]
    variants: tuple[Mapping[str, Any], ...]
    path: str = field(default="", compare=False)

    @property
    def key(self) -> str:
        """``id@version#sha``: identifies the exact text of the template (used in fingerprints)."""
        return f"{self.id}@{self.version}#{self.sha}"

    @classmethod
    def from_file(cls, path: str | Path) -> PromptTemplate:
        path = Path(path)
        raw = path.read_bytes()
        try:
            spec = yaml.safe_load(raw)
        except yaml.YAMLError as err:
            raise DataError(f"malformed template YAML: {err}", file=str(path)) from None
        for key in ("id", "version", "variants"):
            if key not in (spec or {}):
                raise DataError(f"template lacks {key!r}", file=str(path), field=key)
        variants = tuple(spec["variants"])
        for n, variant in enumerate(variants):
            if "when" not in variant or "user" not in variant:
                raise DataError("every variant needs 'when' and 'user'", file=str(path), record=n)
        verbalizer = spec.get("verbalizer")
        return cls(id=str(spec["id"]), version=int(spec["version"]), source=str(spec.get("source", "")),
                   sha=hashlib.sha256(raw).hexdigest()[:12],
                   required_vars=tuple(spec.get("required_vars", ())),
                   text_modalities=tuple(spec.get("text_modalities", ("text",))),
                   media_modalities=tuple(spec.get("media_modalities", ())),
                   answer_prefix=str(spec.get("answer_prefix", "")), label_prefix=str(spec.get("label_prefix", "")),
                   verbalizer=tuple(verbalizer) if verbalizer else None, tasks=spec.get("tasks") or {},
                   variants=variants, path=str(path))

    def variant_for(self, view: View) -> Mapping[str, Any]:
        """The first variant whose ``when`` lists the view's modality set (order-insensitive)."""
        wanted = frozenset(view.modalities)
        known = set(self.text_modalities) | set(self.media_modalities)
        unknown = [m for m in view.modalities if m not in known]
        if unknown:
            raise DataError(f"template {self.id}@{self.version} cannot place modality {unknown[0]!r}; "
                            f"it knows {sorted(known)}", field="view")
        for variant in self.variants:
            if any(frozenset(w.split("+")) == wanted for w in variant["when"]):
                return variant
        supported = [w for v in self.variants for w in v["when"]]
        raise DataError(f"template {self.id}@{self.version} has no prompt for view {view}; "
                        f"supported views: {supported}", field="view")


def _template_dir() -> Path:
    return Path(str(resources.files("interlens.prompts") / "templates"))


@lru_cache(maxsize=1)
def _registry() -> dict[str, dict[int, Path]]:
    found: dict[str, dict[int, Path]] = {}
    for path in sorted(_template_dir().glob("*.yaml")):
        match = _FILE.match(path.name)
        if match:
            found.setdefault(match["id"], {})[int(match["version"])] = path
    return found


def list_templates() -> dict[str, list[int]]:
    """Bundled template ids and their versions."""
    return {tid: sorted(versions) for tid, versions in _registry().items()}


@lru_cache(maxsize=64)
def _load_path(path: str) -> PromptTemplate:
    return PromptTemplate.from_file(path)


def load_template(template: str | Path | PromptTemplate) -> PromptTemplate:
    """``"mmla"`` (latest version), ``"mmla@1"`` (pinned) or a path to a ``.yaml`` file."""
    if isinstance(template, PromptTemplate):
        return template
    spec = str(template)
    if spec.endswith((".yaml", ".yml")):
        if not Path(spec).is_file():
            raise DataError("template file not found", file=spec)
        return _load_path(str(Path(spec).resolve()))
    tid, _, version = spec.partition("@")
    versions = _registry().get(tid)
    if versions is None:
        raise unknown_name("prompt template", tid, list(_registry()))
    if version:
        if not version.isdigit() or int(version) not in versions:
            raise DataError(f"template {tid!r} has no version {version!r}; available: {sorted(versions)}",
                            field="template")
        return _load_path(str(versions[int(version)]))
    return _load_path(str(versions[max(versions)]))


def verbalize(template: PromptTemplate, labels: Sequence[str],
              verbalizer: Mapping[str, str] | Sequence[str] | None = None) -> tuple[str, ...]:
    """The words the model is asked for: an explicit mapping/list, the template's, or the labels."""
    labels = tuple(labels)
    if verbalizer is None:
        verbalizer = template.verbalizer
    if verbalizer is None:
        return labels
    if isinstance(verbalizer, Mapping):
        missing = [label for label in labels if label not in verbalizer]
        if missing:
            raise DataError(f"verbalizer has no word for label {missing[0]!r}", field="verbalizer")
        words = tuple(str(verbalizer[label]) for label in labels)
    else:
        words = tuple(str(w) for w in verbalizer)
        if len(words) != len(labels):
            raise DataError(f"template {template.id} verbalises {len(words)} labels ({list(words)}), "
                            f"the dataset has {len(labels)}: {list(labels)}", field="labels")
    if len(set(words)) != len(words):
        raise DataError(f"verbalizer maps two labels to the same word: {list(words)}", field="verbalizer")
    return words


def _render(source: str, context: Mapping[str, Any], template: PromptTemplate, what: str) -> str:
    try:
        return _ENV.from_string(source).render(**context)
    except TemplateError as err:
        raise DataError(f"template {template.id}@{template.version} ({what}): {err}",
                        file=template.path or None) from None


def render_prompt(template: str | Path | PromptTemplate, sample: Sample, labels: Sequence[str],
                  view: View | str, *, verbalizer: Mapping[str, str] | Sequence[str] | None = None,
                  **variables: Any) -> RenderedPrompt:
    """Render ``template`` for one sample under ``view``.

    Only modalities in ``view`` reach the template (text ones as ``inputs.<name>``, media ones as the
    returned ``media``). ``variables`` fill the template's ``required_vars`` (e.g. ``dimension`` for
    MMLA, ``task`` for the MMoE prompts).
    """
    tpl = load_template(template)
    view = View.parse(view)
    variant = tpl.variant_for(view)
    missing = [v for v in tpl.required_vars if variables.get(v) in (None, "")]
    if missing:
        raise DataError(f"template {tpl.id}@{tpl.version} needs variable {missing[0]!r}", field=missing[0])
    inputs, media = {}, []
    for modality in view.modalities:
        value = sample.inputs.get(modality)
        if value is None or (isinstance(value, str) and not value.strip()):
            raise DataError(f"missing modality {modality!r} needed by view {view}", record=sample.id,
                            field=modality)
        if modality in tpl.media_modalities:
            media.append((modality, value))
        else:
            inputs[modality] = str(value).strip()
    words = verbalize(tpl, labels, verbalizer)
    task_data: Mapping[str, Any] = {}
    if tpl.tasks:
        task = variables.get("task")
        if task not in tpl.tasks:
            raise unknown_name(f"task of template {tpl.id}", str(task), list(tpl.tasks))
        task_data = tpl.tasks[task]
    noun = "video" if any(m == "video" for m, _ in media) else "image"
    context = {**variables, "inputs": inputs, "labels": list(words), "modalities": list(view.modalities),
               "media_noun": noun, "media_phrase": f"a {noun}" if noun == "video" else f"an {noun}",
               "task_data": task_data}
    messages: list[Message] = []
    if variant.get("system"):
        messages.append(Message("system", _render(variant["system"], context, tpl, "system")))
    for example in task_data.get(variant["examples"], []) if variant.get("examples") else []:
        messages.append(Message("user", str(example["user"])))
        messages.append(Message("assistant", str(example["assistant"])))
    messages.append(Message("user", _render(variant["user"], context, tpl, "user"), media=bool(media)))
    prefix = _render(tpl.answer_prefix, context, tpl, "answer_prefix")
    return RenderedPrompt(template=tpl.key, variant=str(variant.get("name", "")), messages=tuple(messages),
                          media=tuple(media), media_position=str(variant.get("media_position", "start")),
                          answer_prefix=prefix, label_texts=tuple(tpl.label_prefix + w for w in words),
                          verbalized=words)
