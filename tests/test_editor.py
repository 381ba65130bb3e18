"""The editor workflow: the schema files, `annotate`, drift notices, and GitHub annotations."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import jsonschema
import pytest
import yaml

from conftest import BASE_ANNOTATIONS, BUILD_PY, DEAL_ASSESSMENT, ROOT, article, dedent

SCHEMAS = ROOT / "dossier" / "schema"

STORY = article(dedent("""
    Meta paid $14.3 billion for a stake. Scale said the deal was final.

    Later, Scale said the deal was final again, and Meta agreed.
    """))


def run(*args: str, cwd=None, env=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(BUILD_PY), *args], capture_output=True, text=True, cwd=cwd,
                          env=env, timeout=120)


def annotations_plus(entries: str) -> str:
    return BASE_ANNOTATIONS.replace("annotations: []\n", "annotations:\n" + dedent(entries) + DEAL_ASSESSMENT)


# ---- the JSON Schemas ---------------------------------------------------------------------

def test_shipped_dossier_matches_the_schemas():
    data = yaml.safe_load((ROOT / "annotations.yaml").read_text(encoding="utf-8"))
    data = json.loads(json.dumps(data, default=str))  # dates as strings, as the checker sees them
    jsonschema.Draft7Validator(json.loads((SCHEMAS / "annotations.schema.json").read_text())).validate(data)
    front = jsonschema.Draft7Validator(json.loads((SCHEMAS / "article.schema.json").read_text()))
    for path in sorted((ROOT / "content" / "articles").glob("*.md")):
        meta = yaml.safe_load(path.read_text(encoding="utf-8").split("---")[1])
        front.validate(json.loads(json.dumps(meta, default=str)))


def test_annotations_yaml_points_editors_at_the_schema():
    first = (ROOT / "annotations.yaml").read_text(encoding="utf-8").splitlines()[0]
    assert first == "# yaml-language-server: $schema=dossier/schema/annotations.schema.json"
    assert (ROOT / first.split("=", 1)[1]).is_file()


def _described(schema: dict, where: str) -> list[str]:
    missing = []
    for name, prop in schema.get("properties", {}).items():
        if "description" not in prop:
            missing.append(f"{where}.{name}")
        missing += _described(prop, f"{where}.{name}")
    return missing


@pytest.mark.parametrize("name", ["annotations", "article", "page"])
def test_every_field_has_a_description(name):
    schema = json.loads((SCHEMAS / f"{name}.schema.json").read_text())
    missing = _described(schema, name)
    for key, definition in schema.get("definitions", {}).items():
        missing += _described(definition, f"{name}#{key}")
    assert missing == []


MISTAKES = {
    "unknown field": {"annotations": [{"id": "a", "article": "x", "quote": "q", "kind": "context", "colour": "red"}]},
    "missing field": {"annotations": [{"id": "a", "article": "x", "kind": "context"}]},
    "wrong type": {"annotations": [{"id": "a", "article": "x", "quote": ["q"], "kind": "context"}]},
    "bad id": {"entities": {"Meta Inc": {"name": "Meta", "type": "company"}}},
    "bad kind": {"annotations": [{"id": "a", "article": "x", "quote": "q", "kind": "fact_check"}]},
    "verdict off the scale": {"claims": {"c": {"statement": "s", "verdict": "true", "cite": ["r"]}}},
    "verdict on context": {"annotations": [{"id": "a", "article": "x", "quote": "q", "kind": "context", "verdict": "accurate"}]},
    "fact check without verdict": {"annotations": [{"id": "a", "article": "x", "quote": "q", "kind": "fact-check",
                                                    "note": "n", "cite": ["r"]}]},
    "bad date": {"events": [{"date": "June 2025", "title": "t"}]},
    "bad url": {"references": {"r": {"title": "t", "url": "javascript:alert(1)"}}},
    "bad rating": {"sources": {"s": {"name": "S", "rating": "great", "rationale": "r"}}},
}


@pytest.mark.parametrize("mistake", sorted(MISTAKES))
def test_schema_rejects_each_kind_of_mistake(mistake):
    validator = jsonschema.Draft7Validator(json.loads((SCHEMAS / "annotations.schema.json").read_text()))
    assert list(validator.iter_errors(MISTAKES[mistake])), mistake


# ---- annotate -----------------------------------------------------------------------------

def test_annotate_prints_a_stub_for_a_unique_quote(make_dossier):
    folder = make_dossier({"content/articles/deal.md": STORY})
    result = run("annotate", "deal", "paid $14.3 billion", "--source", str(folder))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[:3] == ["  - id: paid-14-3-billion", "    article: deal",
                                              '    quote: "paid $14.3 billion"']
    assert "    kind: fact-check" in result.stdout and "prefix:" not in result.stdout
    stub = yaml.safe_load(result.stdout)
    assert stub[0]["article"] == "deal" and stub[0]["quote"] == "paid $14.3 billion"


def test_annotate_names_the_entities_that_occur_in_the_quote(make_dossier):
    folder = make_dossier({"content/articles/deal.md": STORY})
    result = run("annotate", "deal", "Meta paid $14.3 billion", "--source", str(folder))
    assert "    entities: [meta]" in result.stdout


def test_annotate_gives_each_occurrence_of_an_ambiguous_quote_its_shortest_context(make_dossier):
    folder = make_dossier({"content/articles/deal.md": STORY})
    result = run("annotate", "deal", "the deal was final", "--source", str(folder))
    assert result.returncode == 0
    assert "the quote occurs 2 times" in result.stderr
    stubs = yaml.safe_load(result.stdout)
    assert [(s.get("prefix"), s.get("suffix")) for s in stubs] == [(None, "."), (None, "again,")]
    # each stub, pasted into annotations.yaml, anchors without an error
    for stub in stubs:
        stub.update(kind="context", note="n")
        stub.pop("verdict", None), stub.pop("cite", None)
    text = annotations_plus(yaml.safe_dump(stubs, allow_unicode=True, sort_keys=False))
    (folder / "annotations.yaml").write_text(text, encoding="utf-8")
    assert run("check", "--source", str(folder)).returncode == 0


def test_annotate_says_why_it_cannot(make_dossier):
    folder = make_dossier({"content/articles/deal.md": STORY})
    result = run("annotate", "deal", "Meta paid $15 billion", "--source", str(folder))
    assert result.returncode == 1 and result.stdout == ""
    assert ('error: the quote is not in the article; the nearest passage is "Meta paid $14.3 billion" '
            "(the article says '$14.3', the quote says '$15')") in result.stderr


def test_a_pasted_stub_fails_check_until_every_placeholder_is_replaced(make_dossier):
    folder = make_dossier({"content/articles/deal.md": STORY})
    stub = run("annotate", "deal", "paid $14.3 billion", "--source", str(folder)).stdout

    def check_with(text: str) -> subprocess.CompletedProcess:
        (folder / "annotations.yaml").write_text(annotations_plus(text), encoding="utf-8")
        return run("check", "--strict", "--source", str(folder))

    result = check_with(stub)  # pasted as it is: the verdict, the note and the references are all to write
    assert result.returncode == 1
    assert [line.split(" (")[0] for line in result.stderr.splitlines()] == [
        "annotations.yaml:24:3: error: 'verdict' is empty",
        "annotations.yaml:25:3: error: the note of annotation 'paid-14-3-billion' is still the placeholder that "
        "`annotate` wrote",
        "annotations.yaml:27:3: error: 'cite' of annotation 'paid-14-3-billion' lists no reference",
        "3 errors, 0 warnings"]
    chosen = stub.replace("verdict:  #", "verdict: accurate  #").replace("cite: []", "cite: [filing]")
    result = check_with(chosen)  # a verdict and a reference, but the note is still the placeholder
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "annotations.yaml:25:3: error: the note of annotation 'paid-14-3-billion' is still the placeholder that "
        "`annotate` wrote (write what is right, what is wrong, and what the evidence is, in your own words, in place "
        "of the placeholder)", "1 error, 0 warnings"]
    written = chosen.replace("What is right, what is wrong, and what the evidence is.", "The filing gives the amount.")
    assert check_with(written).returncode == 0


# ---- drift notices ------------------------------------------------------------------------

def test_a_changed_article_reports_the_annotations_to_re_read(make_dossier):
    entries = """\
        - id: price
          article: deal
          quote: "paid $14.3 billion"
          kind: context
          note: n
        - id: later
          article: deal
          quote: "and Meta agreed"
          kind: context
          note: n
        """
    folder = make_dossier({"content/articles/deal.md": STORY, "annotations.yaml": annotations_plus(entries)})
    assert run("--source", str(folder), "--no-search").returncode == 0
    assert (folder / "annotations.lock").is_file()
    assert run("check", "--source", str(folder)).stderr.count("notice") == 0
    edited = STORY.replace("Meta paid $14.3 billion", "Meta paid  $14.3\nbillion").replace(
        "Later,", "Much later,\n\nand then,")
    (folder / "content/articles/deal.md").write_text(edited, encoding="utf-8")
    result = run("check", "--source", str(folder), "--strict")
    assert result.returncode == 0  # notices never fail a build
    lines = [line for line in result.stderr.splitlines() if ": notice: " in line]
    # 'price' has new spacing inside its quote; 'later' only moved down (line 8 → 11): the
    # paragraph added above it is further back than the words kept around its quote.
    assert lines == ["annotations.yaml:22:3: notice: content/articles/deal.md changed under annotation 'price': the "
                     "words are the same, but the spacing after 'paid' changed from a space to 2 spaces (re-read the "
                     "note against the article's new words)"]


def test_a_quote_that_now_matches_only_after_normalisation_is_reported(make_dossier):
    story = article('Scale said "final" twice.\n')
    entries = """\
        - id: said
          article: deal
          quote: 'said "final"'
          kind: context
          note: n
        """
    folder = make_dossier({"content/articles/deal.md": story, "annotations.yaml": annotations_plus(entries)})
    assert run("--source", str(folder), "--no-search").returncode == 0
    (folder / "content/articles/deal.md").write_text(story.replace('"final"', "“final”"), encoding="utf-8")
    result = run("check", "--source", str(folder))
    assert result.returncode == 0
    notices = [line for line in result.stderr.splitlines() if "notice" in line]
    assert notices == ["annotations.yaml:22:3: notice: content/articles/deal.md changed under annotation 'said': "
                       "the article now says '“final”' where it said '\"final\"' (re-read the note against the "
                       "article's new words)"]


# ---- GitHub annotations -------------------------------------------------------------------

def test_check_in_github_actions_prints_error_commands_with_file_line_and_column(make_dossier):
    entries = """\
        - id: price
          article: deal
          quote: "paid $14.3 billion"
          kind: context
          note: n
          colour: red
        """
    folder = make_dossier({"content/articles/deal.md": STORY, "annotations.yaml": annotations_plus(entries)})
    env = dict(os.environ, GITHUB_ACTIONS="true")
    result = run("check", "--source", str(folder), env=env)
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        "::error file=annotations.yaml,line=25,col=3::unknown field 'colour' (known fields: article, cite, claim, "
        "entities, field, id, kind, note, prefix, quote, suffix, updates, verdict)"]
