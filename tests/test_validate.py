"""Validation: every problem at once, each with file, line, what is wrong and how to fix it."""
from __future__ import annotations

import json

import pytest

from dossier.model import PartialDate
from dossier.site import Config, check
from dossier.validate import parse_date

from conftest import (BASE_ANNOTATIONS, BASE_ARTICLE, DEAL_ASSESSMENT, annotations_with, article, dedent, formatted,
                      validate_strings)

# BASE_ANNOTATIONS ends with `annotations: []` on line 19, so the first item of a replacing
# `annotations:` section starts on line 20.


def problems(annotations: str = BASE_ANNOTATIONS, articles: dict | None = None, pages: dict | None = None) -> list[str]:
    return formatted(validate_strings(annotations, articles, pages)[1])


def where(annotations: str = BASE_ANNOTATIONS, articles: dict | None = None) -> list[tuple[str, int, str, str]]:
    """(file, line, message, hint) of every error."""
    return [(d.location.path, d.location.line, d.message, d.hint)
            for d in validate_strings(annotations, articles)[1] if d.level == "error"]


FACT_CHECK = """
    annotations:
      - id: deal-claim
        article: deal
        quote: Meta bought a stake
        kind: fact-check
        verdict: accurate
        note: The filing shows it.
        cite: [filing]
    """


def test_a_valid_dossier_has_no_problems():
    inputs, diagnostics = validate_strings(annotations_with(FACT_CHECK))
    assert diagnostics == []
    annotation = inputs.annotations.annotations[0]
    assert (annotation.id, annotation.article, annotation.kind, annotation.verdict, annotation.cite) == (
        "deal-claim", "deal", "fact-check", "accurate", ("filing",))
    assert str(annotation.location) == "annotations.yaml:20:5"
    assert str(annotation.quote_location) == "annotations.yaml:22:5"
    deal = inputs.articles["deal"]
    assert (deal.title, deal.source, deal.kind, deal.published, deal.body_line) == (
        "The deal", "daily", "news", PartialDate(2025, 6, 12), 7)


# ---- schema: fields, types, values --------------------------------------------------------

def test_unknown_field_suggests_the_closest_name():
    assert problems(annotations_with("""
        annotations:
          - id: one
            article: deal
            quote: Meta
            kind: context
            verdcit: accurate
        """)) == ["annotations.yaml:24:5: error: unknown field 'verdcit' (did you mean 'verdict'?)"]


def test_unknown_field_without_a_close_name_lists_the_known_fields():
    assert problems(annotations_with("""
        annotations:
          - id: one
            article: deal
            quote: Meta
            kind: context
            colour: red
        """)) == ["annotations.yaml:24:5: error: unknown field 'colour' (known fields: article, cite, claim, entities, "
                  "field, id, kind, note, prefix, quote, suffix, updates, verdict)"]


def test_unknown_section_suggests_the_closest_name():
    assert problems(BASE_ANNOTATIONS + "event:\n  - date: 2025\n    title: x\n") == [
        "annotations.yaml:20:1: error: unknown field 'event' (did you mean 'events'?)"]


def test_unknown_front_matter_field_names_the_article_file_and_line():
    assert problems(articles={"deal": article("Meta text.\n", extra="authr: Jo\n")}) == [
        "content/articles/deal.md:5:1: error: unknown field 'authr' (did you mean 'author'?)"]


def test_unknown_page_field_lists_the_known_fields():
    assert problems(pages={"about": "---\ntitle: About\nauthor: me\n---\nHello.\n"}) == [
        "content/pages/about.md:3:1: error: unknown field 'author' (known fields: description, title)"]


def test_invalid_annotation_id_names_file_and_line():
    assert problems(annotations_with("""
        annotations:
          - article: deal
            id: Deal_Claim
            quote: Meta
            kind: context
        """)) == ["annotations.yaml:21:5: error: id: 'Deal_Claim' is not a valid id (use lowercase letters, digits and "
                  "hyphens, starting with a letter or digit, e.g. 'scale-ai': ids become URLs)"]


def test_invalid_entity_id_names_its_line():
    yaml_text = BASE_ANNOTATIONS.replace("  meta:\n", "  Meta Inc:\n")
    errors = where(yaml_text)
    assert len(errors) == 1
    path, line, message, hint = errors[0]
    assert (path, line) == ("annotations.yaml", 12)
    assert "'Meta Inc' is not a valid id" in message
    assert hint.startswith("use lowercase letters, digits and hyphens")


def test_enum_value_with_a_typo_suggests_the_right_one():
    assert problems(BASE_ANNOTATIONS.replace("type: company", "type: compnay")) == [
        "annotations.yaml:14:5: error: 'type' must be one of person, company, organization, publication, product, place; "
        "'compnay' is not (did you mean 'company'?)"]


def test_wrong_type_says_what_was_expected():
    assert problems(BASE_ANNOTATIONS.replace("  meta:\n    name: Meta\n", "  meta:\n    name: Meta\n    aliases: Facebook\n")) == [
        "annotations.yaml:14:5: error: 'aliases' must be a list, not a string (write a list, e.g. [first-id, second-id])"]


def test_missing_required_field_points_at_the_start_of_its_item():
    yaml_text = BASE_ANNOTATIONS.replace("    rationale: Named authors and a corrections policy.\n", "")
    assert where(yaml_text) == [("annotations.yaml", 7, "missing required field 'rationale' in source 'daily'",
                                 "add 'rationale:' — why this rating: original reporting, named authors, corrections, "
                                 "aggregator, unknown owner… Markdown.")]


def test_missing_field_message_names_the_item_in_the_singular():
    yaml_text = BASE_ANNOTATIONS.replace("    type: company\n", "")
    assert [(line, message) for _, line, message, _ in where(yaml_text)] == [
        (12, "missing required field 'type' in entity 'meta'")]


def test_missing_article_title_is_reported():
    errors = where(articles={"deal": "---\nsource: daily\nkind: news\n---\nMeta text.\n"})
    assert [(path, message) for path, _, message, _ in errors] == [
        ("content/articles/deal.md", "missing required field 'title'")]
    assert errors[0][3].startswith("add 'title:'")


@pytest.mark.parametrize("field, value, line", [
    ("base_url", "example.org/test/", 3),
    ("url", "ftp://example.org/filing", 18),
])
def test_url_fields_must_be_http_or_https(field, value, line):
    yaml_text = BASE_ANNOTATIONS.replace("https://example.org/test/" if field == "base_url" else "https://example.org/filing", value)
    assert problems(yaml_text) == [
        f"annotations.yaml:{line}:{3 if field == 'base_url' else 5}: error: {field}: '{value}' is not an http(s) URL "
        "(write a full address starting with https:// or http://)"]


@pytest.mark.parametrize("value, problem", [
    ("https://example.org//evil.example/", "has an empty path segment ('//')"),  # 404.html would load from evil.example
    ("https://example.org/test//", "has an empty path segment ('//')"),
    ("https://example.org@evil.example/", "has a user name or password ('…@' before the host)"),
    ("https://example.org/test/?page=1", "has a query ('?…')"),
    ("https://example.org/test/#top", "has a fragment ('#…')"),
    ("https://example.org/%2F%2Fevil.example/", "has an escaped '/', '\\' or '.' in its path (%2F, %5C, %2E)"),
    ("https://example.org/%2e%2e/", "has an escaped '/', '\\' or '.' in its path (%2F, %5C, %2E)"),
    ("https://example.org/test/../", "has a '..' path segment"),
    ("https://example.org:0/", "has an invalid port"),
    ("https://[::1/", "has an invalid host"),
    ("https://bücher.example/", "has an invalid host 'bücher.example' (letters, digits, '-' and '.'; an international name "
                                "in its xn-- form)"),
    ("https://example.org/café/", "has 'é' in its path (percent-encode it)"),
    ("https://example.org/100%/", "has a '%' that does not start an escape like %20"),
    ("https://example.org/\u0080/", "contains a space or a control character"),
])
def test_base_url_must_be_the_plain_address_of_a_site(value, problem):
    text = BASE_ANNOTATIONS.replace("https://example.org/test/", json.dumps(value))
    assert where(text) == [("annotations.yaml", 3, f"base_url: '{value}' {problem}",
                            "write the address the site is published at, e.g. https://owner.github.io/repo/")]


@pytest.mark.parametrize("value", ["https://owner.github.io/repo", "http://127.0.0.1:8000/", "https://[::1]:8443/a%20b/",
                                   "https://xn--bcher-kva.example/dossier/", "https://example.org/a_b/c~d/"])
def test_base_url_of_any_plain_form_is_accepted(value):
    inputs, diagnostics = validate_strings(BASE_ANNOTATIONS.replace("https://example.org/test/", value))
    assert diagnostics == []
    assert inputs.annotations.site.base_url == value.rstrip("/") + "/"


@pytest.mark.parametrize("value", ["https:/\\evil.example/", "https://\\evil.example/", "https://", "https:///evil.example/",
                                   "https://evil.example/\\x", "https://evil.example/\u0001", "https:// evil.example/"])
def test_url_fields_refuse_backslashes_control_characters_and_a_missing_host(value):
    text = (BASE_ANNOTATIONS.replace("https://example.org/test/", json.dumps(value))
            .replace("https://example.org/filing", json.dumps(value)))
    assert [(line, message) for _, line, message, _ in where(text)] == [
        (3, f"base_url: '{value}' is not an http(s) URL"), (18, f"url: '{value}' is not an http(s) URL")]


def test_javascript_url_in_front_matter_is_refused():
    assert problems(articles={"deal": article("Meta text.\n", extra="url: javascript:alert(1)\n")}) == [
        "content/articles/deal.md:5:1: error: url: 'javascript:alert(1)' is not an http(s) URL "
        "(write a full address starting with https:// or http://)"]


def test_annotations_file_that_is_a_list_is_an_error():
    assert problems("- id: one\n  article: deal\n") == [
        "annotations.yaml:1:1: error: annotations.yaml must be a mapping with site, sources, entities, references, events, "
        "claims and annotations (start the file with 'site:' and the other sections, not with a list or a value)"]


# ---- values where an item belongs: nothing is dropped silently ----------------------------

INDENTED = """\
site:
  title: T
sources:
  daily:
    name: The Daily
    rating: reliable
    rationale: R.
entities:
  meta:
    name: Meta
    type: company
  scale-ai:
    name: Scale AI
    type: company
  relations:
    - {type: investor, target: meta}
references:
  filing:
    title: The filing
annotations: []
"""


def test_a_field_outdented_to_the_items_is_an_error_naming_the_item_above():
    assert where(INDENTED) == [(
        "annotations.yaml", 15, "'relations' is not an entity (it has no name/type); check the indentation: "
        "it is probably a field of entity 'scale-ai' above", "indent 'relations:' as far as the other fields of 'scale-ai'")]


def test_fields_outdented_below_an_empty_item_name_it():
    text = INDENTED.replace("  scale-ai:\n    name: Scale AI\n    type: company\n", "  scale-ai:\n  name: Scale AI\n  type: company\n")
    assert [(line, message) for _, line, message, _ in where(text)] == [
        (12, "entity 'scale-ai' is empty; check the indentation of the fields below it ('name', 'type', 'relations')"),
        (13, "'name' is not an entity (it has no name/type); check the indentation: it is probably a field of entity 'scale-ai' above"),
        (14, "'type' is not an entity (it has no name/type); check the indentation: it is probably a field of entity 'scale-ai' above"),
        (15, "'relations' is not an entity (it has no name/type); check the indentation: it is probably a field of entity 'scale-ai' above")]


@pytest.mark.parametrize("text, line, key, owner", [
    (INDENTED.replace("  relations:\n    - {type", "relations:\n    - {type"), 15, "relations", "entity 'scale-ai'"),
    (INDENTED.replace("    title: The filing\n", "    title: The filing\nurl: https://example.org/\n"), 20, "url",
     "reference 'filing'"),
    (INDENTED.replace("  title: T\n", "  title: T\nbase_url: https://example.org/\n"), 3, "base_url", "'site'"),
], ids=["entity", "reference", "site"])
def test_a_field_outdented_to_the_top_level_names_the_item_above(text, line, key, owner):
    assert [(n, message, hint) for _, n, message, hint in where(text) if key in message] == [
        (line, f"unknown field '{key}'; check the indentation: it is probably a field of {owner} above",
         f"indent '{key}:' as far as the other fields of {owner}")]


def test_a_relation_field_outdented_to_its_entity_names_the_relation():
    text = INDENTED.replace("  relations:\n    - {type: investor, target: meta}\n",
                            "    relations:\n    - type: investor\n      target: meta\n    since: 2025\n")
    assert where(text) == [("annotations.yaml", 18, "unknown field 'since'; check the indentation: it is probably "
                            "a field of relation 'investor → meta' of entity 'scale-ai' above",
                            "indent 'since:' as far as the other fields of relation 'investor → meta' of entity "
                            "'scale-ai'")]


def test_a_value_where_an_item_belongs_is_an_error_in_every_section():
    text = dedent("""
        site:
          title: T
        sources:
          daily: The Daily
        entities:
          meta: [Meta, company]
          scale-ai:
            name: Scale AI
            type: company
            relations: [meta]
        references:
          filing:
        events:
          - 2025-06-12
        claims:
          stake:
            statement: S
            verdict: accurate
            cite: [filing]
            updates: [2025-07-01]
        annotations:
          - just a note
          -
        """)
    errors = [(line, message) for _, line, message, _ in where(text)]
    assert [e for e in errors if "must be a mapping" in e[1] or "is empty" in e[1]] == [
        (4, "source 'daily' must be a mapping of fields, not a string"),
        (6, "entity 'meta' must be a mapping of fields, not a list"),
        (10, "relation 1 of entity 'scale-ai' must be a mapping of fields (type/target), not a string"),
        (12, "reference 'filing' is empty"),
        (14, "event 1 must be a mapping of fields (date/title), not a string"),
        (20, "update 1 of claim 'stake' must be a mapping of fields (date/summary), not a string"),
        (22, "annotation 1 must be a mapping of fields (id/article/quote/kind), not a string"),
        (23, "annotation 2 must be a mapping of fields (id/article/quote/kind), not empty")]


def test_yaml_tags_that_would_change_or_drop_a_value_are_errors_at_their_line():
    errors = where(annotations_with("""
        annotations:
          - id: one
            article: deal
            quote: !!binary TWV0YQ==
            kind: !custom context
            note: !!python/object/apply:os.system [echo]
            cite: !!set {filing}
            entities: !!seq [meta]
        """))
    assert [(line, message) for _, line, message, _ in errors if "tag" in message] == [
        (22, "the YAML tag '!!binary' is not supported"), (23, "the YAML tag '!custom' is not supported"),
        (24, "the YAML tag '!!python/object/apply:os.system' is not supported"), (25, "the YAML tag '!!set' is not supported")]
    assert errors[0][3] == "remove it: a dossier holds plain text, numbers, dates, lists and mappings"


def test_plain_yaml_tags_are_read_as_the_values_they_name():
    inputs, diagnostics = validate_strings(articles={"deal": article("Meta text.\n", title="!!str 2025")})
    assert diagnostics == []
    assert inputs.articles["deal"].title == "2025"


def test_an_alias_of_only_spaces_is_an_error_not_dropped():
    assert problems(BASE_ANNOTATIONS.replace("    type: company\n", "    type: company\n    aliases: [Facebook, \"  \"]\n")) == [
        "annotations.yaml:15:25: error: aliases: '  ' is only spaces (write the words as they occur in the articles, "
        "or remove the entry)"]


def test_a_yaml_merge_key_is_an_error_that_says_so():
    text = BASE_ANNOTATIONS.replace("  meta:\n    name: Meta\n    type: company\n",
                                    "  meta: &company\n    name: Meta\n    type: company\n  scale:\n    <<: *company\n    name: Scale\n")
    assert [(line, message, hint) for _, line, message, hint in where(text) if "<<" in message] == [
        (16, "unknown field '<<': YAML merge keys are not supported",
         "write the fields out in full: each item says everything about itself")]


# ---- verdicts -----------------------------------------------------------------------------

def test_verdict_outside_the_scale_is_an_error():
    assert problems(annotations_with(FACT_CHECK.replace("verdict: accurate", "verdict: correct"))) == [
        "annotations.yaml:24:5: error: 'verdict' must be one of accurate, mostly-accurate, mixed, unsupported, misleading, "
        "inaccurate, outdated; 'correct' is not (write one of these values exactly)"]


def test_verdict_typo_suggests_the_scale_value():
    assert problems(annotations_with(FACT_CHECK.replace("verdict: accurate", "verdict: mostly-acurate"))) == [
        "annotations.yaml:24:5: error: 'verdict' must be one of accurate, mostly-accurate, mixed, unsupported, misleading, "
        "inaccurate, outdated; 'mostly-acurate' is not (did you mean 'mostly-accurate' or 'accurate'?)"]


def test_claim_verdict_outside_the_scale_is_an_error():
    yaml_text = BASE_ANNOTATIONS + "claims:\n  price:\n    statement: Meta paid.\n    verdict: wrong\n    cite: [filing]\n"
    assert formatted(validate_strings(yaml_text)[1], "error") == [
        "annotations.yaml:23:5: error: 'verdict' must be one of accurate, mostly-accurate, mixed, unsupported, misleading, "
        "inaccurate, outdated; 'wrong' is not (write one of these values exactly)"]


def test_verdict_on_a_non_fact_check_is_an_error_at_the_verdict_line():
    assert problems(annotations_with("""
        annotations:
          - id: background
            article: deal
            quote: Meta
            kind: context
            verdict: accurate
        """)) == ["annotations.yaml:24:5: error: annotation 'background' has a verdict but is not a fact-check "
                  "(only kind: fact-check takes a verdict; remove it or change the kind)"]


def test_fact_check_without_verdict_is_an_error_at_the_item():
    errors = where(annotations_with(FACT_CHECK).replace("    verdict: accurate\n", ""))
    assert [(line, message) for _, line, message, _ in errors] == [
        (20, "missing required field 'verdict' in annotation 'deal-claim'")]
    assert errors[0][3].startswith("add 'verdict:' — the verdict: accurate (5) · mostly-accurate (4)")


def test_fact_check_needs_a_note_and_a_reference():
    yaml_text = annotations_with(FACT_CHECK).replace("    note: The filing shows it.\n", "").replace("cite: [filing]", "cite: []")
    assert [(line, message) for _, line, message, _ in where(yaml_text)] == [
        (20, "missing required field 'note' in annotation 'deal-claim'"),
        (25, "'cite' of annotation 'deal-claim' lists no reference")]


NAMED = annotations_with("""
    events:
      - id: deal-signed
        date: 2025-06-12
      - date: 2025-06-13
        summary: The title is missing.
    claims:
      stake:
        statement: Meta bought a stake.
        verdict: accurate
        cite: [filing]
        updates:
          - {date: 2025-07-01}
    annotations:
      - id: deal-claim
        quote: Meta bought a stake
        kind: context
        updates:
          - {date: 2025-07-02, summary: Checked.}
          - {date: 2025-07-03}
      - article: deal
        quote: Meta
        kind: context
      - id: background
        article: deal
        quote: Meta
        kind: context
    """).replace("    type: company\n", "    type: company\n    relations:\n      - {type: investor, target: scale}\n"
                 "      - {type: owner}\n  scale:\n    name: Scale AI\n    type: company\n")
NAMES = [
    "missing required field 'target' in relation 2 (type 'owner') of entity 'meta'",
    "missing required field 'title' in event 'deal-signed'",
    "missing required field 'title' in event 2",
    "missing required field 'summary' in update 1 (2025-07-01) of claim 'stake'",
    "missing required field 'article' in annotation 'deal-claim'",
    "missing required field 'summary' in update 2 (2025-07-03) of annotation 'deal-claim'",
    "missing required field 'id' in annotation 2",
]


def test_every_error_about_an_item_names_it_by_id_and_by_position_only_without_one(make_dossier):
    assert [message for _, _, message, _ in where(NAMED)] == NAMES
    # `check` reads annotations.yaml in pieces, item by item: the same names
    _, diagnostics = check(Config(source=make_dossier({"annotations.yaml": NAMED})))
    assert [d.message for d in diagnostics if d.level == "error"] == NAMES


def test_an_event_without_an_id_is_named_by_its_position_and_title():
    text = annotations_with("""
        events:
          - {date: 2025-06-12, title: The deal is signed, cite: []}
        annotations: []
        """)
    assert [message for _, _, message, _ in where(text)] == [
        "'cite' of event 1 ('The deal is signed') lists no reference"]


def test_a_field_outdented_below_an_annotation_names_it_by_id():
    text = annotations_with("""
        annotations:
          - id: background
            article: deal
            quote: Meta
        kind: context
        """)
    assert [(line, message) for _, line, message, _ in where(text)] == [
        (20, "missing required field 'kind' in annotation 'background'"),
        (23, "unknown field 'kind'; check the indentation: it is probably a field of annotation 'background' above")]


def test_a_kind_that_is_not_a_kind_is_one_error_not_two():
    yaml_text = annotations_with(FACT_CHECK).replace("kind: fact-check", "kind: factcheck")
    assert problems(yaml_text) == [
        "annotations.yaml:23:5: error: 'kind' must be one of fact-check, context, correction, boilerplate, opinion; "
        "'factcheck' is not (did you mean 'fact-check'?)"]
    assert problems(annotations_with(FACT_CHECK).replace("    kind: fact-check\n", "")) == [
        "annotations.yaml:20:5: error: missing required field 'kind' in annotation 'deal-claim' (add 'kind:' — "
        "fact-check (has a verdict) · context · correction · boilerplate (scrape junk) · opinion (speculation or "
        "opinion).)"]


def test_the_placeholder_note_of_an_annotate_stub_is_an_error():
    from dossier.annotate import stub
    from dossier.validate import PLACEHOLDER_NOTE

    pasted = stub("deal", "Meta bought a stake", "bought-a-stake", ["meta"], None)
    filled = pasted.replace("verdict:  # choose one", "verdict: accurate  # choose one").replace(
        "cite: []", "cite: [filing]")
    assert PLACEHOLDER_NOTE in filled
    assert problems(annotations_with("annotations:\n" + filled)) == [
        "annotations.yaml:25:5: error: the note of annotation 'bought-a-stake' is still the placeholder that "
        "`annotate` wrote (write what is right, what is wrong, and what the evidence is, in your own words, in place "
        "of the placeholder)"]
    own_words = filled.replace(PLACEHOLDER_NOTE, "The filing shows it.")
    assert problems(annotations_with("annotations:\n" + own_words)) == []
    # kept in front of the editor's own words, reflowed, or on a context note: still the placeholder
    kept = filled.replace(PLACEHOLDER_NOTE, PLACEHOLDER_NOTE.replace(", what is wrong,", ",\n      what is wrong,")
                          + " The filing shows it.").replace("kind: fact-check", "kind: context").replace(
        "    verdict: accurate", "    #")
    assert [message for _, _, message, _ in where(annotations_with("annotations:\n" + kept))] == [
        "the note of annotation 'bought-a-stake' is still the placeholder that `annotate` wrote"]


@pytest.mark.parametrize("section, line, hint", [
    ("""
     annotations:
       - {id: background, article: deal, quote: Meta, kind: context, note: N., cite: []}
     """, "annotations.yaml:20:75: error: 'cite' of annotation 'background' lists no reference",
     "write the ids of the references under 'references:' that support it, e.g. cite: [filing], or remove 'cite:'"),
    ("""
     events:
       - {date: 2025-06-12, title: The deal, cite: []}
     annotations: []
     """, "annotations.yaml:20:41: error: 'cite' of event 1 ('The deal') lists no reference",
     "write the ids of the references under 'references:' that support it, e.g. cite: [filing], or remove 'cite:'"),
    ("""
     claims:
       stake: {statement: Meta bought a stake., verdict: accurate, cite: []}
     annotations: []
     """, "annotations.yaml:20:63: error: 'cite' of claim 'stake' lists no reference",
     "write the ids of the references under 'references:' that support it, e.g. cite: [filing]; a claim needs at "
     "least one"),
], ids=["annotation", "event", "claim"])
def test_an_empty_cite_list_is_an_error_anywhere(section, line, hint):
    assert formatted(validate_strings(annotations_with(section))[1], "error") == [f"{line} ({hint})"]


def test_an_empty_cite_list_of_a_relation_names_the_relation():
    yaml_text = BASE_ANNOTATIONS.replace(
        "    type: company\n", "    type: company\n    relations:\n      - {type: investor, target: scale, cite: []}\n"
        "  scale:\n    name: Scale AI\n    type: company\n")
    assert problems(yaml_text) == [
        "annotations.yaml:16:41: error: 'cite' of relation 'investor → scale' of entity 'meta' lists no reference "
        "(write the ids of the references under 'references:' that support it, e.g. cite: [filing], or remove "
        "'cite:')"]


# ---- dates --------------------------------------------------------------------------------

@pytest.mark.parametrize("written, expected", [
    (2025, PartialDate(2025)),
    ("2025", PartialDate(2025)),
    ("2025-06", PartialDate(2025, 6)),
    ("2025-06-12", PartialDate(2025, 6, 12)),
    ("2024-02-29", PartialDate(2024, 2, 29)),
])
def test_dates_keep_their_precision(written, expected):
    parsed = parse_date(written)
    assert parsed == expected
    assert parsed.iso == str(written)
    assert parsed.precision == {1: "year", 2: "month", 3: "day"}[len(str(written).split("-"))]


@pytest.mark.parametrize("written", ["2025-02-30", "2025-02-29", "2025-06-31", "2025-13", "2025-00", "2025-06-00",
                                     "2025-13-01", "2025/06/01", "June 2025", True])
def test_impossible_or_malformed_dates_do_not_parse(written):
    assert parse_date(written) is None


@pytest.mark.parametrize("date", ["2025-02-30", "2025-13", "2025-00", "2025-02-29", "2025-04-31"])
def test_impossible_event_date_names_file_and_line(date):
    yaml_text = BASE_ANNOTATIONS + f"events:\n  - title: Something happened\n    date: {date}\n"
    assert problems(yaml_text) == [
        f"annotations.yaml:22:5: error: 'date' {date} is not a real calendar date "
        "(check the month (01–12) and the day of that month)"]


@pytest.mark.parametrize("date", ["2025", "2025-06", "2025-06-30", "2024-02-29"])
def test_possible_event_dates_at_each_precision_are_accepted(date):
    inputs, diagnostics = validate_strings(BASE_ANNOTATIONS + f"events:\n  - title: Something happened\n    date: {date}\n")
    assert diagnostics == []
    assert inputs.annotations.events[0].date.iso == date


def test_malformed_date_says_how_to_write_one():
    yaml_text = BASE_ANNOTATIONS + "events:\n  - title: Something happened\n    date: 12/06/2025\n"
    assert problems(yaml_text) == [
        "annotations.yaml:22:5: error: date: '12/06/2025' is not a date (write YYYY, YYYY-MM or YYYY-MM-DD, e.g. 2025-06-12)"]


def test_impossible_published_date_in_front_matter():
    assert problems(articles={"deal": article("Meta text.\n", extra="published: 2025-02-30\n")}) == [
        "content/articles/deal.md:5:1: error: 'published' 2025-02-30 is not a real calendar date "
        "(check the month (01–12) and the day of that month)"]


def test_impossible_date_in_a_relation_and_an_update():
    yaml_text = BASE_ANNOTATIONS.replace("    type: company\n", (
        "    type: company\n"
        "    relations:\n"
        "      - type: owner\n"
        "        target: other\n"
        "        since: 2025-13\n"
        "  other:\n"
        "    name: Other\n"
        "    type: company\n")).replace("annotations: []\n", dedent("""
        annotations:
          - id: one
            article: deal
            quote: Meta
            kind: context
            updates:
              - date: 2025-09-31
                summary: Reworded.
        """) + DEAL_ASSESSMENT)
    assert [(d.location.line, d.message) for d in validate_strings(yaml_text)[1]] == [
        (18, "'since' 2025-13 is not a real calendar date"),
        (32, "'date' 2025-09-31 is not a real calendar date")]


# ---- identifiers and cross-references -----------------------------------------------------

def test_duplicate_annotation_ids_name_the_first_line():
    assert problems(annotations_with("""
        annotations:
          - id: same
            article: deal
            quote: Meta
            kind: context
          - id: same
            article: deal
            quote: stake
            kind: context
        """)) == ["annotations.yaml:24:5: error: duplicate annotation id 'same' (first used at line 20) "
                  "(give each annotation its own id: it is the link to it)"]


def test_annotation_id_reserved_by_the_layout_is_an_error():
    assert problems(annotations_with("""
        annotations:
          - id: main
            article: deal
            quote: Meta
            kind: context
        """)) == ["annotations.yaml:20:5: error: annotation id 'main' is reserved by the page layout (choose another id)"]


def test_duplicate_event_ids_are_an_error():
    yaml_text = BASE_ANNOTATIONS + dedent("""
        events:
          - id: deal
            date: 2025-06-12
            title: The deal
          - id: deal
            date: 2025-06-13
            title: The deal, again
        """)
    assert problems(yaml_text) == [
        "annotations.yaml:24:5: error: duplicate event id 'deal' (first used at line 21) (give the event an 'id:' of its own)"]


def test_alias_shared_by_two_entities_is_an_error():
    yaml_text = BASE_ANNOTATIONS.replace("    type: company\n", "    type: company\n    aliases: [Facebook]\n") \
        .replace("references:\n", "  fb:\n    name: Facebook\n    type: product\nreferences:\n")
    assert problems(yaml_text) == [
        "annotations.yaml:16:3: error: 'Facebook' names both entity 'meta' and entity 'fb' "
        "(an alias must belong to one entity: remove it from one of them)"]


RELATIONS = BASE_ANNOTATIONS.replace("    type: company\n", """\
    type: company
    relations:
      - type: investor
        target: ghost
        cite: [rumour]
""")
"""Lines 15–18: the relation; `target` on line 17, `cite` on line 18."""

EVENTS = BASE_ANNOTATIONS + """\
events:
  - date: 2025-06-12
    title: The deal
    entities: [ghost]
    cite: [rumour]
"""
"""Lines 20–24: the event; `entities` on line 23, `cite` on line 24."""

CLAIMS = BASE_ANNOTATIONS + """\
claims:
  price:
    statement: Meta paid.
    verdict: accurate
    cite: [rumour]
    entities: [ghost]
"""
"""Lines 21–25: the claim; `cite` on line 24, `entities` on line 25."""

ANNOTATION = annotations_with("""
    annotations:
      - id: one
        article: deal
        quote: Meta
        kind: context
        cite: [rumour]
        entities: [ghost]
        claim: nothing
    """)
"""Lines 20–26: `cite` on line 24, `entities` on line 25, `claim` on line 26."""

DANGLING = [
    # (case, annotations.yaml, article files, file, line of the offending field, message, hint)
    ("article-source", BASE_ANNOTATIONS, {"deal": BASE_ARTICLE.replace("source: daily", "source: dialy")},
     "content/articles/deal.md", 3, "unknown source 'dialy'", "did you mean 'daily'?"),
    ("article-republishes", BASE_ANNOTATIONS, {"deal": BASE_ARTICLE.replace("kind: news\n", "kind: news\nrepublishes: original\n")},
     "content/articles/deal.md", 5, "unknown article or reference 'original'", "add content/articles/original.md"),
    ("annotation-article", annotations_with("""
        annotations:
          - id: one
            article: dael
            quote: Meta
            kind: context
        """), None, "annotations.yaml", 21, "unknown article 'dael'", "did you mean 'deal'?"),
    ("annotation-cite", ANNOTATION, None, "annotations.yaml", 24, "unknown reference 'rumour'", "define it under 'references:'"),
    ("annotation-entities", ANNOTATION, None, "annotations.yaml", 25, "unknown entity 'ghost'", "define it under 'entities:'"),
    ("annotation-claim", ANNOTATION, None, "annotations.yaml", 26, "unknown claim 'nothing'", "define it under 'claims:'"),
    ("relation-target", RELATIONS, None, "annotations.yaml", 17, "unknown entity 'ghost'", "define it under 'entities:'"),
    ("relation-cite", RELATIONS, None, "annotations.yaml", 18, "unknown reference 'rumour'", "define it under 'references:'"),
    ("event-entities", EVENTS, None, "annotations.yaml", 23, "unknown entity 'ghost'", "define it under 'entities:'"),
    ("event-cite", EVENTS, None, "annotations.yaml", 24, "unknown reference 'rumour'", "define it under 'references:'"),
    ("claim-cite", CLAIMS, None, "annotations.yaml", 24, "unknown reference 'rumour'", "define it under 'references:'"),
    ("claim-entities", CLAIMS, None, "annotations.yaml", 25, "unknown entity 'ghost'", "define it under 'entities:'"),
]


@pytest.mark.parametrize("case, annotations, articles, path, line, message, hint", DANGLING, ids=[c[0] for c in DANGLING])
def test_dangling_reference_names_file_line_of_the_field_and_a_fix(case, annotations, articles, path, line, message, hint):
    errors = [(p, ln, m, h) for p, ln, m, h in where(annotations, articles) if m == message]
    assert errors, f"no error {message!r} among {where(annotations, articles)}"
    found_path, found_line, _, found_hint = errors[0]
    assert {"file": found_path, "line": found_line, "hint": hint in found_hint} == {"file": path, "line": line, "hint": True}, \
        f"{found_path}:{found_line}: {message} ({found_hint}) should point at line {line} of {path} with a hint like {hint!r}"


def test_relation_to_itself_is_an_error():
    yaml_text = RELATIONS.replace("target: ghost", "target: meta").replace("cite: [rumour]", "cite: [filing]")
    assert [(m, h) for _, _, m, h in where(yaml_text)] == [
        ("entity 'meta' has a relation to itself", "point 'target' at another entity")]


def test_article_cannot_republish_itself():
    errors = where(articles={"deal": BASE_ARTICLE.replace("kind: news\n", "kind: news\nrepublishes: deal\n")})
    assert [(p, m, h) for p, _, m, h in errors] == [
        ("content/articles/deal.md", "an article cannot republish itself", "remove 'republishes' or name another article")]


def test_article_without_body_is_an_error_at_the_body_line():
    assert problems(articles={"deal": "---\ntitle: t\nsource: daily\nkind: news\n---\n\n"}) == [
        "content/articles/deal.md:6: error: the article has no body (paste the article's text after the front matter)"]


def test_page_cannot_take_a_built_in_page_name():
    assert problems(pages={"timeline": "---\ntitle: Timeline\n---\nMine.\n"}) == [
        "content/pages/timeline.md:1: error: the page name 'timeline' is taken by a built-in page "
        "(rename the file, e.g. about-timeline.md)"]


def test_whitespace_only_quote_is_an_error():
    assert problems(annotations_with("""
        annotations:
          - id: one
            article: deal
            quote: "   "
            kind: context
        """)) == ["annotations.yaml:22:5: error: the quote of annotation 'one' is only whitespace (copy the exact words "
                  "from the article)"]


# ---- warnings and the whole report --------------------------------------------------------

def test_reference_without_url_is_a_warning():
    yaml_text = BASE_ANNOTATIONS.replace("    url: https://example.org/filing\n", "")
    assert problems(yaml_text) == [
        "annotations.yaml:16:3: warning: reference 'filing' has no url "
        "(add 'url:' or 'archive:' where readers can check it, or a 'note:' saying why none is known)"]


def test_reference_with_a_note_instead_of_url_is_fine():
    yaml_text = BASE_ANNOTATIONS.replace("    url: https://example.org/filing\n", "    note: Seen in print only.\n")
    assert problems(yaml_text) == []


PARAGRAPH = "Meta bought a 49% stake in Scale AI for about $14.3 billion, and its founder will lead a new lab.\n"


@pytest.mark.parametrize("copy, why", [
    (article("A copy, with its own first line.\n\n" + PARAGRAPH, title="Meta buys into Scale", kind="republication"),
     "its paragraph at line 8 is there word for word"),
    (article("Its own words, shorter.\n", title="The  Deal", kind="republication"), "the same title"),
], ids=["a paragraph", "the title"])
def test_a_republication_that_does_not_name_its_original_in_the_dossier_is_a_warning(make_dossier, copy, why):
    original = article(PARAGRAPH)
    assert problems(articles={"deal": original, "copy": copy}) == [
        f"content/articles/copy.md:4:1: warning: article 'copy' is a republication and seems to copy 'deal' ({why}), "
        "but does not name it in 'republishes:', so claim pages count the two as independent publishers (add "
        "'republishes: deal')"]
    named = copy.replace("kind: republication\n", "kind: republication\nrepublishes: deal\n")
    assert problems(articles={"deal": original, "copy": named}) == []
    root = make_dossier({"content/articles/deal.md": original, "content/articles/copy.md": copy})
    assert check(Config(source=root))[0] is not None  # a warning: the site builds
    assert check(Config(source=root, strict=True))[0] is None  # and --strict fails


def test_a_republication_of_an_article_outside_the_dossier_is_a_warning_until_a_reference_names_it(make_dossier):
    copy = article("Meta bought a stake in a data company, a copy says.\n", title="Copied", kind="republication")
    assert problems(articles={"deal": BASE_ARTICLE, "copy": copy}) == [
        "content/articles/copy.md:4:1: warning: article 'copy' is a republication that names no original in "
        "'republishes:', so claim pages count the publisher that copied it ('daily') as the one that said it (name "
        "the original in 'republishes:': its slug when it is in content/articles/; when it is not in the dossier, add "
        "it under 'references:' (title, publisher, and its url or date if known) and name that reference's id — "
        "claim pages then count the words as the original publisher's)"]
    # the reference 'filing' stands for the original: nothing left to say about the copy
    named = copy.replace("kind: republication\n", "kind: republication\nrepublishes: filing\n")
    assert problems(articles={"deal": BASE_ARTICLE, "copy": named}) == []
    root = make_dossier({"content/articles/copy.md": copy})
    assert check(Config(source=root))[0] is not None  # a warning: the site builds
    assert check(Config(source=root, strict=True))[0] is None  # and --strict fails


def test_a_copy_dated_before_the_reference_standing_for_its_original_is_an_error():
    copy = article("A copy.\n", title="Copied", kind="republication", extra="republishes: filing\npublished: 2025-01\n")
    dated = BASE_ANNOTATIONS.replace("    url: https://example.org/filing\n",
                                     "    url: https://example.org/filing\n    date: 2025-06-12\n")
    assert [p for p in problems(dated, articles={"deal": BASE_ARTICLE, "copy": copy}) if ": error: " in p] == [
        "content/articles/copy.md:6:1: error: this republication is dated 2025-01, before the original it "
        "republishes, 'filing' (2025-06-12) (a copy cannot come before its original: correct this date or the one "
        "in the reference 'filing')"]


def test_strict_check_turns_a_warning_into_a_failure(make_dossier):
    root = make_dossier({"annotations.yaml": BASE_ANNOTATIONS.replace("    url: https://example.org/filing\n", "")})
    dossier, diagnostics = check(Config(source=root))
    assert dossier is not None
    assert [d.level for d in diagnostics] == ["warning"]
    dossier, diagnostics = check(Config(source=root, strict=True))
    assert dossier is None


def test_every_problem_is_reported_at_once_sorted_by_file_and_line(make_dossier):
    root = make_dossier({
        "annotations.yaml": annotations_with("""
            annotations:
              - id: second
                article: deal
                quote: Meta
                kind: opinion
                verdict: accurate
              - id: first
                article: deal
                quote: stake
                kind: contxt
            """).replace("rating: reliable", "rating: great"),
        "content/articles/b.md": article("Meta text.\n", kind="newz"),
        "content/articles/a.md": article("Meta text.\n", extra="published: 2025-13\n"),
    })
    dossier, diagnostics = check(Config(source=root))
    assert dossier is None
    assert formatted(diagnostics) == [
        "annotations.yaml:9:5: error: 'rating' must be one of reliable, mixed, unreliable, unknown; 'great' is not (write one of these values exactly)",
        "annotations.yaml:24:5: error: annotation 'second' has a verdict but is not a fact-check "
        "(only kind: fact-check takes a verdict; remove it or change the kind)",
        "annotations.yaml:28:5: error: 'kind' must be one of fact-check, context, correction, boilerplate, opinion; "
        "'contxt' is not (did you mean 'context'?)",
        # the dossier gives 'deal' a bottom line, so the new articles want one too
        "content/articles/a.md:1: warning: article 'a' has no assessment (add its bottom line under 'assessments:' in "
        "annotations.yaml: 'a: {summary: …}', two or three sentences on what holds up and what does not)",
        "content/articles/a.md:5:1: error: 'published' 2025-13 is not a real calendar date "
        "(check the month (01–12) and the day of that month)",
        "content/articles/b.md:1: warning: article 'b' has no assessment (add its bottom line under 'assessments:' in "
        "annotations.yaml: 'b: {summary: …}', two or three sentences on what holds up and what does not)",
        "content/articles/b.md:4:1: error: 'kind' must be one of news, analysis, opinion, republication, aggregator; "
        "'newz' is not (did you mean 'news'?)",
    ]


def test_diagnostic_format_is_path_line_col_level_message_hint():
    diagnostic = validate_strings(annotations_with(FACT_CHECK.replace("kind: fact-check", "kind: fact")))[1][0]
    assert diagnostic.format() == (
        "annotations.yaml:23:5: error: 'kind' must be one of fact-check, context, correction, boilerplate, opinion; "
        "'fact' is not (write one of these values exactly)")
    assert diagnostic.github() == (
        "::error file=annotations.yaml,line=23,col=5::'kind' must be one of fact-check, context, correction, boilerplate, "
        "opinion; 'fact' is not (write one of these values exactly)")
