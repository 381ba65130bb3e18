"""Entity linking: aliases found in article text become mentions (all of them) and links
(the first linkable mention of each entity in each paragraph, the rule resolve.py applies)."""
from __future__ import annotations

import re

from dossier.link import build_alias_index, find_mentions, sentence_around, sentence_parts, sentences_with

from conftest import BASE_ANNOTATIONS, article, body_html, formatted, read_html, resolve_strings

NAMES = {
    "meta": ("Meta", "Meta Platforms"),
    "msl": ("Meta Superintelligence Labs",),
    "scale-ai": ("Scale AI", "Scale"),
    "wang": ("Alexandr Wang", "Wang"),
}

ENTITIES = """\
  meta:
    name: Meta
    type: company
    aliases: [Meta Platforms]
  msl:
    name: Meta Superintelligence Labs
    type: organization
  scale-ai:
    name: Scale AI
    type: company
    aliases: [Scale]
  wang:
    name: Alexandr Wang
    type: person
    aliases: [Wang]
"""


def mentions_in(text: str) -> list[tuple[str, str]]:
    """(matched words, entity id) of every mention in `text`."""
    return [(text[start:end], entity) for start, end, entity in find_mentions(text, build_alias_index(NAMES))]


def resolved(body: str):
    annotations = BASE_ANNOTATIONS.replace("  meta:\n    name: Meta\n    type: company\n", ENTITIES)
    dossier, diagnostics = resolve_strings(annotations, {"deal": article(body)})
    assert formatted(diagnostics, "error") == []
    return dossier


def links_in(html: str) -> list[tuple[str, str]]:
    """(href, text) of every entity link."""
    return [(href, re.sub(r"<[^>]+>", "", inner))
            for href, inner in re.findall(r'<a class="entity-link" href="([^"]+)"[^>]*>(.*?)</a>', html)]


# ---- finding aliases, on strings ----------------------------------------------------------

def test_longest_alias_wins():
    assert mentions_in("Meta Superintelligence Labs hired.") == [("Meta Superintelligence Labs", "msl")]
    assert mentions_in("Meta Platforms and Meta.") == [("Meta Platforms", "meta"), ("Meta", "meta")]
    assert mentions_in("Scale AI, not Scale.") == [("Scale AI", "scale-ai"), ("Scale", "scale-ai")]


def test_aliases_match_whole_words_only():
    assert mentions_in("Metaverse, MetaMask, Meta_x, xMeta and Scaled models.") == []


def test_aliases_are_case_sensitive():
    assert mentions_in("They label data at scale, not META scale.") == []
    assert mentions_in("They label data at scale for Scale.") == [("Scale", "scale-ai")]


def test_possessive_counts_as_the_name():
    assert mentions_in("Meta's offer and Scale’s answer.") == [("Meta", "meta"), ("Scale", "scale-ai")]


def test_mentions_are_found_left_to_right_without_overlap():
    assert mentions_in("Wang left Scale AI for Meta Superintelligence Labs at Meta.") == [
        ("Wang", "wang"), ("Scale AI", "scale-ai"), ("Meta Superintelligence Labs", "msl"), ("Meta", "meta")]


def test_a_longer_alias_that_does_not_fit_falls_back_to_the_shorter():
    assert mentions_in("Meta Superintelligence is not a lab name.") == [("Meta", "meta")]


def test_no_aliases_find_nothing():
    assert find_mentions("Meta and Scale AI.", build_alias_index({})) == []


def test_sentence_around_a_mention_is_its_sentence():
    text = "First sentence. Then Meta bought a stake! Last one."
    start = text.index("Meta")
    assert sentence_around(text, start, start + 4) == "Then Meta bought a stake!"


def test_sentence_around_stops_at_a_paragraph_and_joins_whitespace():
    text = "A heading about Meta\n\nBody text  with   Meta in it. More."
    start = text.rindex("Meta")
    assert sentence_around(text, start, start + 4) == "Body text with Meta in it."
    assert sentence_around(text, 16, 20) == "A heading about Meta"


def test_sentence_around_runs_across_a_soft_line_break():
    text = "Meta invested $15 billion in Scale AI for half of the company, a bet on\nhuman-labelled data. Next."
    start = text.index("Scale AI")
    assert sentence_around(text, start, start + 8) == (
        "Meta invested $15 billion in Scale AI for half of the company, a bet on human-labelled data.")


def test_sentence_around_keeps_closing_quotes_and_brackets():
    text = 'He said “Meta bought Scale.” Then (Meta left.) The end.'
    assert sentence_around(text, text.index("Meta"), text.index("Meta") + 4) == "He said “Meta bought Scale.”"
    start = text.rindex("Meta")
    assert sentence_around(text, start, start + 4) == "Then (Meta left.)"
    assert sentence_parts(text, start, start + 4) == ("Then (", "Meta", " left.)")


def test_a_sentence_naming_an_entity_twice_is_listed_once_with_both_names():
    text = "Meta and Meta again! Then “Meta left.” End"
    spans = [(i, i + 4) for i in range(len(text)) if text.startswith("Meta", i)]
    assert sentences_with(text, spans) == [
        (("Meta", 0), (" and ", None), ("Meta", 1), (" again!", None)),
        (("Then “", None), ("Meta", 2), (" left.”", None)),
    ]


def test_a_sentence_cut_at_the_limit_says_so_at_both_ends():
    text = "x" * 50 + " Meta " + "y" * 50
    (pieces,) = sentences_with(text, [(51, 55)], limit=20)
    assert pieces[0][0].startswith("…") and pieces[-1][0].endswith("…")
    assert pieces[1] == ("Meta", 0)


def test_every_mention_has_a_place_to_link_to_in_the_article():
    dossier = resolved("# Meta\n\nMeta bought in, and Meta said so.\n")
    html = body_html(dossier)
    assert len(dossier.articles["deal"].mentions) == 3
    for index in range(3):  # headings and unlinked mentions too, each right before its name
        assert re.search(rf'<span id="m_{index}"></span>(<a [^>]*>)?Meta', html)


# ---- mentions and links in an article -----------------------------------------------------

def test_every_mention_is_recorded_with_its_sentence():
    dossier = resolved("Meta bought in. Later Meta said more.\n\nScale AI agreed. Meta's lab grew.\n")
    mentions = [(m.entity, m.context) for m in dossier.articles["deal"].mentions]
    assert mentions == [
        ("meta", "Meta bought in."),
        ("meta", "Later Meta said more."),
        ("scale-ai", "Scale AI agreed."),
        ("meta", "Meta's lab grew."),
    ]
    assert [m.context for m in dossier.index.mentions_by_entity["meta"]] == [
        "Meta bought in.", "Later Meta said more.", "Meta's lab grew."]


def test_first_mention_in_each_paragraph_is_linked():
    dossier = resolved("Meta bought in. Later Meta said more.\n\nThen Meta again, and Meta.\n")
    assert [m.linked for m in dossier.articles["deal"].mentions] == [True, False, True, False]
    html = body_html(dossier)
    assert links_in(html) == [("../../entities/meta/", "Meta"), ("../../entities/meta/", "Meta")]


def test_each_entity_gets_its_own_first_link_in_a_paragraph():
    html = body_html(resolved("Meta and Scale AI met; Meta and Scale AI agreed.\n"))
    assert links_in(html) == [("../../entities/meta/", "Meta"), ("../../entities/scale-ai/", "Scale AI")]


def test_longest_alias_is_linked_to_its_own_entity():
    html = body_html(resolved("Meta Superintelligence Labs is new.\n"))
    assert links_in(html) == [("../../entities/msl/", "Meta Superintelligence Labs")]


def test_scale_the_noun_is_not_a_mention():
    dossier = resolved("Labelling at scale is hard.\n")
    assert dossier.articles["deal"].mentions == ()
    assert links_in(body_html(dossier)) == []


def test_possessive_is_linked_without_the_apostrophe_s():
    html = body_html(resolved("Meta's stake is large.\n"))
    assert re.search(r'<a class="entity-link" href="../../entities/meta/"[^>]*>Meta</a>\'s stake', html)


def test_name_inside_an_existing_link_is_neither_mention_nor_link():
    dossier = resolved("Read [what Meta said](https://example.org/meta) today.\n")
    assert dossier.articles["deal"].mentions == ()
    html = body_html(dossier)
    assert links_in(html) == []
    assert '<a href="https://example.org/meta" rel="noopener noreferrer">what Meta said</a>' in html


def test_name_in_inline_code_is_neither_mention_nor_link():
    dossier = resolved("Run `Meta` in a shell.\n")
    assert dossier.articles["deal"].mentions == ()
    assert "<code>Meta</code>" in body_html(dossier)


def test_mention_after_a_link_in_the_same_paragraph_is_linked():
    dossier = resolved("[Meta](https://example.org/meta) and `Meta`, then Meta.\n")
    assert [(m.linked, m.context) for m in dossier.articles["deal"].mentions] == [(True, "Meta and Meta, then Meta.")]
    assert links_in(body_html(dossier)) == [("../../entities/meta/", "Meta")]


def test_mention_in_a_heading_is_recorded_but_not_linked():
    dossier = resolved("# Meta and Scale\n\nBody text.\n")
    assert [(m.entity, m.linked) for m in dossier.articles["deal"].mentions] == [("meta", False), ("scale-ai", False)]
    assert links_in(body_html(dossier)) == []


def test_mention_in_bold_is_linked_inside_the_emphasis():
    html = body_html(resolved("**Meta** leads.\n"))
    assert '<strong><span id="m_0"></span><a class="entity-link" href="../../entities/meta/"' in html


def test_mention_across_emphasis_is_recorded_and_the_next_one_is_linked():
    dossier = resolved("Scale *AI* grew, and Scale AI hired.\n")
    mentions = dossier.articles["deal"].mentions
    assert [(m.entity, m.linked) for m in mentions] == [("scale-ai", False), ("scale-ai", True)]
    assert links_in(body_html(dossier)) == [("../../entities/scale-ai/", "Scale AI")]


def test_entity_links_never_sit_inside_other_links():
    html = body_html(resolved("See [Scale AI news](https://example.org) and Meta.\n"))
    reader = read_html(html)
    assert links_in(html) == [("../../entities/meta/", "Meta")]
    assert reader.hrefs == ["https://example.org", "../../entities/meta/"]


def test_mention_inside_a_highlighted_quote_keeps_both():
    annotations = BASE_ANNOTATIONS.replace("annotations: []\n", (
        "annotations:\n  - id: buy\n    article: deal\n    quote: Meta bought\n    kind: context\n"))
    dossier, diagnostics = resolve_strings(annotations, {"deal": article("Then Meta bought in.\n")})
    assert formatted(diagnostics, "error") == []
    html = body_html(dossier)
    assert links_in(html) == [("../../entities/meta/", "Meta")]
    assert "".join(m["text"] for m in read_html(html).marks) == "Meta bought"
