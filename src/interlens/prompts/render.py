"""Versioned prompt templates (YAML + Jinja) and ``render_prompt``.

A template file ``templates/<id>.v<version>.yaml`` holds variants chosen by the *kinds* of the view's
modalities (``text``, ``image``, ``video``), never by their names: every text-kind modality is placed
(one alone as ``{{ text }}``; several as ``name: value`` lines, in view order), image/video kinds become
the prompt's media. A modality outside the view is *absent* from the prompt, never blank.
A list-valued text modality (dialogue turns) is joined in order, one turn per line.

When the answer prefix ends in whitespace, that whitespace is moved to the front of every label
continuation, as lm-evaluation-harness does (``Answer: `` + ``label`` is scored as ``Answer:`` +
`` label``), so label log-likelihoods match lm-eval's.
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

from ..data.schema import Sample, infer_kind, text_of
from ..errors import DataError, unknown_name
from ..registry import Registry
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
    media_kinds: tuple[str, ...] = ()

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
    media_kinds: tuple[str, ...]
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
                   media_kinds=tuple(spec.get("media_kinds", spec.get("media_modalities", ()))),
                   answer_prefix=str(spec.get("answer_prefix", "")), label_prefix=str(spec.get("label_prefix", "")),
                   verbalizer=tuple(verbalizer) if verbalizer else None, tasks=spec.get("tasks") or {},
                   variants=variants, path=str(path))

    @property
    def kinds(self) -> frozenset[str]:
        """Modality kinds the template can place: text plus its media kinds."""
        return frozenset({"text", *self.media_kinds})

    def find_variant(self, kinds: frozenset[str] | set[str]) -> Mapping[str, Any] | None:
        """The first variant whose ``when`` lists this set of kinds (order-insensitive), or None."""
        wanted = frozenset(kinds)
        for variant in self.variants:
            if any(frozenset(w.split("+")) == wanted for w in variant["when"]):
                return variant
        return None

    def variant_for(self, view: View, kinds: Mapping[str, str] | None = None) -> Mapping[str, Any]:
        """The variant for the kinds of the view's modalities (``kinds``: modality -> kind)."""
        kinds = dict(kinds or {})
        unknown = [m for m in view.modalities if kinds.get(m, "text") not in self.kinds]
        if unknown:
            raise DataError(f"template {self.id}@{self.version} cannot place modality {unknown[0]!r} "
                            f"(kind {kinds.get(unknown[0])}); it places kinds {sorted(self.kinds)}", field="view")
        variant = self.find_variant({kinds.get(m, "text") for m in view.modalities})
        if variant is None:
            supported = [w for v in self.variants for w in v["when"]]
            raise DataError(f"template {self.id}@{self.version} has no prompt for view {view} (kinds "
                            f"{'+'.join(kinds.get(m, 'text') for m in view.modalities)}); supported kinds: "
                            f"{supported}", field="view")
        return variant


def split_continuation(context: str, continuations: Sequence[str]) -> tuple[str, tuple[str, ...]]:
    """lm-evaluation-harness's context/continuation split: trailing whitespace of the context moves to the
    front of each continuation (``("Answer: ", ["yes"])`` -> ``("Answer:", (" yes",))``); the joined strings
    are unchanged, only the token boundary moves (a leading-space token, as in pre-training text)."""
    n = len(context) - len(context.rstrip())
    if not n:
        return context, tuple(continuations)
    moved = context[-n:]
    return context[:-n], tuple(moved + c for c in continuations)


def _template_dir() -> Path:
    return Path(str(resources.files("interlens.prompts") / "templates"))


def _load_templates() -> None:
    found: dict[str, dict[int, Path]] = {}
    for path in sorted(_template_dir().glob("*.yaml")):
        match = _FILE.match(path.name)
        if match:
            found.setdefault(match["id"], {})[int(match["version"])] = path
    for tid, versions in found.items():
        TEMPLATES.add(tid, versions)


#: bundled template id -> {version: file} (:class:`interlens.registry.Registry`, read on first use)
TEMPLATES: Registry[dict[int, Path]] = Registry("prompt template", load=_load_templates)


def list_templates() -> dict[str, list[int]]:
    """Bundled template ids and their versions."""
    return {tid: sorted(versions) for tid, versions in TEMPLATES.items()}


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
    versions = TEMPLATES.get(tid)  # unknown: "unknown prompt template 'x'. Did you mean ...?"
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


def _is_missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, list | tuple):
        return len(value) == 0
    return False


def render_prompt(template: str | Path | PromptTemplate, sample: Sample, labels: Sequence[str],
                  view: View | str, *, verbalizer: Mapping[str, str] | Sequence[str] | None = None,
                  kinds: Mapping[str, str] | None = None, **variables: Any) -> RenderedPrompt:
    """Render ``template`` for one sample under ``view``.

    Modalities are placed by kind (``kinds``: modality -> kind, e.g. ``dataset.kinds``; inferred from
    the values when absent): text kinds become ``text`` (one modality: its value; several: ``name: value``
    lines), ``texts`` (name/text pairs) and ``inputs.<name>``; image/video kinds become the returned
    ``media``. ``variables`` fill the template's ``required_vars`` (e.g. ``dimension`` for MMLA,
    ``task`` for the MMoE prompts).
    """
    tpl = load_template(template)
    view = View.parse(view)
    for modality in view.modalities:
        if _is_missing(sample.inputs.get(modality)):
            raise DataError(f"missing modality {modality!r} needed by view {view}", record=sample.id,
                            field=modality)
    kinds = {m: (kinds or {}).get(m) or infer_kind(sample.inputs[m]) for m in view.modalities}
    variant = tpl.variant_for(view, kinds)
    missing = [v for v in tpl.required_vars if variables.get(v) in (None, "")]
    if missing:
        raise DataError(f"template {tpl.id}@{tpl.version} needs variable {missing[0]!r}", field=missing[0])
    inputs: dict[str, str] = {}
    media: list[tuple[str, Any]] = []
    for modality in view.modalities:
        value = sample.inputs[modality]
        if kinds[modality] == "text":
            inputs[modality] = text_of(value).strip()
        else:
            media.append((modality, value))
    texts = [{"name": m, "text": t} for m, t in inputs.items()]
    text = (texts[0]["text"] if len(texts) == 1
            else "\n".join(f"{t['name']}: {t['text']}" for t in texts))
    media_kinds = tuple(kinds[m] for m, _ in media)
    words = verbalize(tpl, labels, verbalizer)
    task_data: Mapping[str, Any] = {}
    if tpl.tasks:
        task = variables.get("task")
        if task not in tpl.tasks:
            raise unknown_name(f"task of template {tpl.id}", str(task), list(tpl.tasks))
        task_data = tpl.tasks[task]
    noun = "video" if "video" in media_kinds else "image" if "image" in media_kinds or not media_kinds else "audio clip"
    context = {**variables, "inputs": inputs, "text": text, "texts": texts, "labels": list(words),
               "modalities": list(view.modalities), "media_noun": noun,
               "media_phrase": f"a {noun}" if noun == "video" else f"an {noun}", "task_data": task_data}
    messages: list[Message] = []
    if variant.get("system"):
        messages.append(Message("system", _render(variant["system"], context, tpl, "system")))
    for example in task_data.get(variant["examples"], []) if variant.get("examples") else []:
        messages.append(Message("user", str(example["user"])))
        messages.append(Message("assistant", str(example["assistant"])))
    messages.append(Message("user", _render(variant["user"], context, tpl, "user"), media=bool(media)))
    prefix, label_texts = split_continuation(_render(tpl.answer_prefix, context, tpl, "answer_prefix"),
                                             [tpl.label_prefix + w for w in words])
    return RenderedPrompt(template=tpl.key, variant=str(variant.get("name", "")), messages=tuple(messages),
                          media=tuple(media), media_position=str(variant.get("media_position", "start")),
                          answer_prefix=prefix, label_texts=label_texts, verbalized=words, media_kinds=media_kinds)
