"""Versioned prompt templates: MMLA (Appendix D) and the MMoE yes/no prompts (Appendix F)."""

from .render import (
    Message,
    PromptTemplate,
    RenderedPrompt,
    list_templates,
    load_template,
    render_prompt,
    split_continuation,
    verbalize,
)

__all__ = ["Message", "PromptTemplate", "RenderedPrompt", "list_templates", "load_template", "render_prompt",
           "split_continuation", "verbalize"]
