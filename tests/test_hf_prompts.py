"""Prompt templates: snapshots of the exact text (MMLA Appendix D, MMoE Tables 10-15), view-driven
variants (a masked modality is absent), versioning and clear errors."""

from __future__ import annotations

import pytest

from interlens.data.schema import Sample
from interlens.errors import DataError, RegistryError
from interlens.prompts import list_templates, load_template, render_prompt, split_continuation

SAMPLE = Sample("s1", {"text": "that's a really good point", "video": ["f0.png", "f1.png"], "image": "x.png"})
INTENTS = ["Complain", "Praise", "Ask for help"]

MMLA_TEXT = """[user]
The speaker says: that's a really good point. Based on the text, what is the intent of this speaker?
The candidate labels for intent are: [Complain, Praise, Ask for help]. Respond in the format: 'intent: [label]'. \
Only one label should be provided.
[assistant]
intent:"""

MMLA_TEXT_VIDEO = """[user] <video>
You are presented with a video in which the speaker says: that's a really good point.
Based on the textual and visual content, what is the intent of this speaker?
The candidate labels for intent are: [Complain, Praise, Ask for help].
Respond in the following format: intent: label.
Only one label should be provided.
[assistant]
intent:"""

MMLA_VIDEO = """[user] <video>
You are presented with a video.
Based on the visual content, what is the intent of this speaker?
The candidate labels for intent are: [Complain, Praise, Ask for help].
Respond in the following format: intent: label.
Only one label should be provided.
[assistant]
intent:"""

MMOE_URFUNNY_TEXT = """[system]
Please analyze the text provided below for humor or not.
If you think the text includes an exaggerated description or it is expressing sarcastic meaning, please answer 'Yes'.
If you think the text is neutral or just common meaning, please answer 'No'.
Please make sure that your answer is based on the text itself, not on the context or your knowledge.
There are only two options: 'Yes' or 'No'.
If you are not sure, please provide your best guess and do not say that you are not sure.
You should only make No judgment when you are very sure that the text is not funny. As long as you think \
potentially it is funny, you should say Yes.
[user]
TEXT: why invite men they are the problem
[assistant]
Yes. It expresses that men can be problematic and the speaker is sarcastic to make people laugh.
[user]
TEXT: we all feel the same things.
[assistant]
No. It is a neutral statement.
[user]
TEXT: that's a really good point
[assistant]
"""


def test_mmla_text_snapshot_matches_released_text_files():
    prompt = render_prompt("mmla", SAMPLE, INTENTS, "text", dimension="intent")
    assert prompt.to_text() == MMLA_TEXT
    assert prompt.media == ()
    assert prompt.answer_prefix == "intent:"
    assert prompt.label_texts == (" Complain", " Praise", " Ask for help")
    # the released MIntRec file holds exactly this human turn (thuiar/MMLA, *_text_intent_llamafactory.json)
    released = ("The speaker says: that's a really good point. Based on the text, what is the intent of this "
                "speaker?\nThe candidate labels for intent are: [Complain, Praise, Ask for help]. Respond in the "
                "format: 'intent: [label]'. Only one label should be provided.")
    assert prompt.messages[-1].text == released


def test_mmla_view_decides_variant_and_media():
    both = render_prompt("mmla", SAMPLE, INTENTS, "text+video", dimension="intent")
    assert both.to_text() == MMLA_TEXT_VIDEO
    assert [m for m, _ in both.media] == ["video"] and both.messages[-1].media
    video_only = render_prompt("mmla", SAMPLE, INTENTS, "video", dimension="intent")
    assert video_only.to_text() == MMLA_VIDEO
    assert "really good point" not in video_only.to_text()  # masked text is absent, not blank
    image = render_prompt("mmla", SAMPLE, INTENTS, "image+text", dimension="intent")
    assert image.messages[-1].text.startswith("You are presented with an image in which the speaker says: that's")
    assert [m for m, _ in image.media] == ["image"]


def test_mmoe_text_prompt_is_few_shot_with_yes_no_labels():
    prompt = render_prompt("mmoe-yesno", Sample("u", {"text": "that's a really good point"}), ["serious", "humorous"],
                           "text", task="urfunny")
    assert prompt.to_text() == MMOE_URFUNNY_TEXT
    assert [m.role for m in prompt.messages] == ["system", "user", "assistant", "user", "assistant", "user"]
    assert prompt.verbalized == ("No", "Yes") and prompt.label_texts == ("No", "Yes")


def test_mmoe_image_prompt_has_system_and_image_only():
    prompt = render_prompt("mmoe-yesno", SAMPLE, ["sincere", "sarcastic"], "image", task="mustard")
    assert prompt.messages[0].text.startswith("Please analyze the image provided for sarcastic or not. "
                                              "The image is a screenshot of a TV show.")
    assert prompt.messages[-1].text == "" and prompt.messages[-1].media
    assert prompt.media == (("image", "x.png"),)
    assert "that's a really good point" not in prompt.to_text()


def test_template_key_versions_and_listing():
    assert list_templates() == {"mmla": [1], "mmoe-yesno": [1]}
    template = load_template("mmla@1")
    assert template.key.startswith("mmla@1#") and len(template.key) == len("mmla@1#") + 12
    assert load_template("mmla") is template  # latest version, loaded once
    with pytest.raises(DataError, match="no version '7'"):
        load_template("mmla@7")
    with pytest.raises(RegistryError, match="Did you mean 'mmla'"):
        load_template("mmlaa")


def test_custom_template_file(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text("id: mine\nversion: 3\nanswer_prefix: 'Answer:'\nlabel_prefix: ' '\nvariants:\n"
                    "  - when: [text]\n    user: 'Classify: {{ inputs.text }} ({{ labels | join(\"/\") }})'\n")
    prompt = render_prompt(str(path), SAMPLE, ["a", "b"], "text")
    assert prompt.to_text() == "[user]\nClassify: that's a really good point (a/b)\n[assistant]\nAnswer:"
    assert prompt.template.startswith("mine@3#")


def test_prompt_errors_are_clear():
    with pytest.raises(DataError, match="needs variable 'dimension'"):
        render_prompt("mmla", SAMPLE, INTENTS, "text")
    with pytest.raises(DataError, match="no prompt for view text\\+image \\(kinds text\\+image\\); "
                                        "supported kinds: \\['text', 'image'\\]"):
        render_prompt("mmoe-yesno", SAMPLE, ["a", "b"], "text+image", task="mmsd")
    with pytest.raises(DataError, match="verbalises 2 labels"):
        render_prompt("mmoe-yesno", SAMPLE, ["a", "b", "c"], "text", task="mmsd")
    with pytest.raises(RegistryError, match="Did you mean 'mustard'"):
        render_prompt("mmoe-yesno", SAMPLE, ["a", "b"], "text", task="mustrad")
    with pytest.raises(DataError, match="cannot place modality 'vec'"):  # mmla places text, image, video, audio
        render_prompt("mmla", Sample("a", {"vec": "x.npy"}), INTENTS, "vec", kinds={"vec": "features"},
                      dimension="intent")
    with pytest.raises(DataError, match="missing modality 'text'"):
        render_prompt("mmla", Sample("b", {"text": "  "}), INTENTS, "text", dimension="intent")


# -- modalities by kind, not by name --------------------------------------------------------------
DIALOGUE = Sample("d1", {"utterance": "oh great, another meeting",
                         "context": ["A: the meeting moved to 8am", "B: on a Saturday"],
                         "picture": "frame.png"})
KINDS = {"utterance": "text", "context": "text", "picture": "image"}


def test_text_modalities_are_placed_by_kind_with_their_names():
    one = render_prompt("mmla", DIALOGUE, INTENTS, "utterance", kinds=KINDS, dimension="intent")
    assert one.messages[-1].text.startswith("The speaker says: oh great, another meeting. Based on the text,")
    both = render_prompt("mmla", DIALOGUE, INTENTS, "utterance+context", kinds=KINDS, dimension="intent")
    assert both.messages[-1].text == (
        "The speaker's inputs are:\nutterance: oh great, another meeting\n"
        "context: A: the meeting moved to 8am\nB: on a Saturday\n"  # dialogue turns joined in order
        "Based on the text, what is the intent of this speaker?\nThe candidate labels for intent are: "
        "[Complain, Praise, Ask for help]. Respond in the format: 'intent: [label]'. "
        "Only one label should be provided.")
    assert both.media == ()


def test_media_kind_and_list_of_turns_is_text_not_an_image():
    prompt = render_prompt("mmla", DIALOGUE, INTENTS, "context+picture", kinds=KINDS, dimension="intent")
    assert prompt.media == (("picture", "frame.png"),) and prompt.media_kinds == ("image",)
    assert prompt.messages[-1].text.startswith("You are presented with an image in which the speaker says: "
                                               "A: the meeting moved to 8am\nB: on a Saturday.\n")
    # without declared kinds they are inferred from the values: the list of turns is text
    inferred = render_prompt("mmla", DIALOGUE, INTENTS, "context", dimension="intent")
    assert inferred.media == () and "B: on a Saturday" in inferred.messages[-1].text
    yesno = render_prompt("mmoe-yesno", DIALOGUE, ["no", "yes"], "utterance", kinds=KINDS, task="mustard")
    assert yesno.messages[-1].text == "TEXT: oh great, another meeting"
    with pytest.raises(DataError, match="cannot place modality 'sound' \\(kind features\\)"):
        render_prompt("mmla", Sample("a", {"sound": "x.npy"}), INTENTS, "sound", kinds={"sound": "features"},
                      dimension="intent")
    audio = render_prompt("mmla", Sample("a", {"said": "fine", "sound": "x.wav"}), INTENTS, "said+sound",
                          kinds={"said": "text", "sound": "audio"}, dimension="intent")
    assert audio.media_kinds == ("audio",) and audio.messages[-1].text.startswith(
        "You are presented with an audio clip in which the speaker says: fine.\nBased on the textual and audio")


# -- lm-eval context / continuation split ------------------------------------------------------------
def test_split_continuation_moves_trailing_space_into_the_label():
    assert split_continuation("Answer: ", ["yes", "no"]) == ("Answer:", (" yes", " no"))
    assert split_continuation("Answer:", [" yes"]) == ("Answer:", (" yes",))
    assert split_continuation("Q\n\n", ["a"]) == ("Q", ("\n\na",))  # all trailing whitespace, as lm-eval


def test_template_whose_prefix_ends_in_a_space_scores_the_label_with_its_space(tmp_path):
    path = tmp_path / "spaced.yaml"
    path.write_text("id: spaced\nversion: 1\nanswer_prefix: 'Answer: '\nlabel_prefix: ''\nvariants:\n"
                    "  - when: [text]\n    user: '{{ text }}'\n")
    prompt = render_prompt(str(path), SAMPLE, ["yes", "no"], "text")
    assert prompt.answer_prefix == "Answer:" and prompt.label_texts == (" yes", " no")
    assert prompt.to_text().endswith("[assistant]\nAnswer:")
