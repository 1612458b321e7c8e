"""Rendered prompt -> the exact prompt string a model sees (its own chat template, or a plain format).

The string ends with the template's answer prefix (e.g. MMLA's ``"intent:"``), so each label is the
continuation of the assistant turn. Images become ``{"type": "image"}`` parts of the media turn (audio clips
``{"type": "audio"}`` parts, after the images);
a prompt without media passes plain string contents, which every chat template understands.
"""

from __future__ import annotations

from typing import Any

from ...prompts import RenderedPrompt


def chat_messages(prompt: RenderedPrompt, n_images: int, n_audios: int = 0) -> list[dict[str, Any]]:
    """Messages for ``tokenizer.apply_chat_template`` (media parts only where there are media)."""
    messages: list[dict[str, Any]] = []
    for message in prompt.messages:
        if message.media and (n_images or n_audios):
            images = [{"type": "image"} for _ in range(n_images)] + [{"type": "audio"} for _ in range(n_audios)]
            text = [{"type": "text", "text": message.text}] if message.text else []
            content: Any = images + text if prompt.media_position == "start" else text + images
        else:
            content = message.text
        messages.append({"role": message.role, "content": content})
    return messages


def plain_prompt(prompt: RenderedPrompt, n_images: int, image_placeholder: str, n_audios: int = 0,
                 audio_placeholder: str = "") -> str:
    """A chat-template-free format: ``System``/``User:``/``Assistant:`` turns separated by blank lines."""
    parts = []
    for message in prompt.messages:
        text = message.text
        if message.media and (n_images or n_audios):
            images = image_placeholder * n_images + audio_placeholder * n_audios
            text = images + text if prompt.media_position == "start" else text + images
        parts.append(text if message.role == "system" else f"{message.role.capitalize()}: {text}")
    tail = f"Assistant: {prompt.answer_prefix}" if prompt.answer_prefix else "Assistant:"
    return "\n\n".join(parts + [tail])


def prompt_string(tokenizer: Any, prompt: RenderedPrompt, n_images: int = 0, *,
                  use_chat_template: bool | None = None, image_placeholder: str = "", n_audios: int = 0,
                  audio_placeholder: str = "") -> str:
    """The full prompt text; ``use_chat_template=None`` uses the tokenizer's template when it has one."""
    has_template = bool(getattr(tokenizer, "chat_template", None))
    if use_chat_template is None:
        use_chat_template = has_template
    if not use_chat_template:
        return plain_prompt(prompt, n_images, image_placeholder, n_audios, audio_placeholder)
    text = tokenizer.apply_chat_template(chat_messages(prompt, n_images, n_audios), tokenize=False,
                                         add_generation_prompt=True)
    return text + prompt.answer_prefix
