"""Loading: bytes → text, front matter → YAML with positions, folders → raw documents."""
from __future__ import annotations

import datetime

import pytest
import yaml

from dossier.load import load_dossier, read_text, split_front_matter
from dossier.site import Config, check
from dossier.yamltree import parse_yaml

from conftest import BASE_ANNOTATIONS, BASE_ARTICLE, ROOT, dedent, formatted


# ---- bytes → text -------------------------------------------------------------------------

def test_utf8_byte_order_mark_is_accepted_and_dropped():
    text, problems = read_text("\ufefftitle: Café\n".encode("utf-8"), "annotations.yaml")
    assert problems == []
    assert text == "title: Café\n"


def test_crlf_and_cr_line_endings_become_lf():
    text, problems = read_text(b"one\r\ntwo\rthree\n", "content/articles/a.md")
    assert problems == []
    assert text == "one\ntwo\nthree\n"


def test_non_utf8_file_is_rejected_with_byte_and_line():
    text, problems = read_text(b"title: ok\nauthor: Jos\xe9\n", "content/articles/a.md")
    assert text is None
    assert formatted(problems) == [
        "content/articles/a.md:2: error: the file is not UTF-8 (byte 0xe9 cannot be decoded) (save the file with UTF-8 encoding)"]


def test_binary_file_is_rejected():
    text, problems = read_text(b"\x89PNG\r\n\x1a\n\x00\x00", "content/articles/logo.md")
    assert text is None
    assert formatted(problems) == [
        "content/articles/logo.md:3: error: this is a binary file, not UTF-8 text (remove it from the dossier, or save it as UTF-8 text)"]


# ---- front matter -------------------------------------------------------------------------

def test_front_matter_is_split_from_the_body_with_the_body_line():
    md, problems = split_front_matter(BASE_ARTICLE, "content/articles/deal.md", "deal")
    assert problems == []
    assert md.front_matter.value == {"title": "The deal", "source": "daily", "kind": "news", "published": "2025-06-12"}
    assert md.body == "Meta bought a stake in a data company.\n"
    assert md.body_line == 7
    assert md.slug == "deal"


def test_front_matter_positions_are_file_lines():
    md, _ = split_front_matter(BASE_ARTICLE, "content/articles/deal.md", "deal")
    assert str(md.front_matter.at(("source",))) == "content/articles/deal.md:3:1"
    assert str(md.front_matter.at(("published",))) == "content/articles/deal.md:5:1"


def test_body_keeps_its_text_verbatim():
    source = "---\ntitle: t\n---\n  indented **bold** line  \n\n\n# heading\n"
    md, _ = split_front_matter(source, "content/articles/a.md", "a")
    assert md.body == "  indented **bold** line  \n\n\n# heading\n"


def test_file_without_front_matter_is_an_error_on_line_1():
    md, problems = split_front_matter("Just text.\n", "content/articles/a.md", "a")
    assert md is None
    assert formatted(problems) == [
        "content/articles/a.md:1: error: the file does not start with front matter "
        "(begin it with a '---' line, the fields (title: …), and another '---' line)"]


def test_unclosed_front_matter_is_an_error():
    md, problems = split_front_matter("---\ntitle: x\nbody\n", "content/articles/a.md", "a")
    assert md is None
    assert formatted(problems) == [
        "content/articles/a.md:1: error: the front matter is not closed (add a '---' line after the last front-matter field)"]


def test_front_matter_that_is_a_list_is_an_error():
    md, problems = split_front_matter("---\n- a\n- b\n---\nbody\n", "content/articles/a.md", "a")
    assert md.front_matter is None
    assert formatted(problems) == [
        "content/articles/a.md:2: error: the front matter must be a mapping of fields, but it is a list "
        "(write one 'field: value' per line between the '---' lines)"]


def test_duplicate_key_in_front_matter_names_both_lines():
    md, problems = split_front_matter("---\ntitle: One\nkind: news\ntitle: Two\n---\nbody\n", "content/articles/a.md", "a")
    assert formatted(problems) == [
        "content/articles/a.md:4:1: error: duplicate key 'title' (first set on line 2) "
        "(remove one of them: YAML keeps only one value per key)"]
    assert md.front_matter.value["title"] == "One"


def test_yaml_syntax_error_in_front_matter_points_at_the_file_line():
    md, problems = split_front_matter("---\ntitle: ok\nauthor: Jo: Smith\n---\nbody\n", "content/articles/a.md", "a")
    assert md.front_matter is None
    assert formatted(problems) == [
        "content/articles/a.md:3:11: error: YAML syntax error: mapping values are not allowed in this context "
        "(check the indentation, and quote values that contain ': ' or start with a special character)"]


# ---- YAML with positions ------------------------------------------------------------------

def test_yaml_records_the_line_and_column_of_every_value():
    doc, problems = parse_yaml(dedent("""
        annotations:
          - id: one
            cite: [a, b]
          - id: two
        """), "annotations.yaml")
    assert problems == []
    assert doc.positions[("annotations",)] == (1, 1)
    assert doc.positions[("annotations", 0)] == (2, 5)
    assert doc.positions[("annotations", 0, "cite")] == (3, 5)
    assert doc.positions[("annotations", 0, "cite", 1)] == (3, 15)
    assert doc.positions[("annotations", 1, "id")] == (4, 5)


def test_location_of_a_missing_path_falls_back_to_its_nearest_ancestor():
    doc, _ = parse_yaml("annotations:\n  - id: one\n", "annotations.yaml")
    assert str(doc.at(("annotations", 0, "quote"))) == "annotations.yaml:2:5"
    assert str(doc.at(("nothing",))) == "annotations.yaml:1:1"


def test_duplicate_yaml_key_is_an_error_with_file_and_line():
    doc, problems = parse_yaml(dedent("""
        entities:
          meta:
            name: Meta
            type: company
          meta:
            name: Meta Platforms
        """), "annotations.yaml")
    assert formatted(problems) == [
        "annotations.yaml:5:3: error: duplicate key 'meta' (first set on line 2) "
        "(remove one of them: YAML keeps only one value per key)"]
    assert doc.value["entities"]["meta"]["name"] == "Meta"


def test_dates_stay_strings_as_written_and_impossible_ones_are_not_crashes():
    doc, problems = parse_yaml("a: 2025-06-12\nb: 2025-02-30\nc: 2025\nd: 2025-06\n", "annotations.yaml")
    assert problems == []
    assert doc.value == {"a": "2025-06-12", "b": "2025-02-30", "c": 2025, "d": "2025-06"}


def test_yaml_syntax_error_names_line_and_column():
    doc, problems = parse_yaml("site:\n  title: ok\n\tlanguage: en\n", "annotations.yaml")
    assert doc is None
    assert len(problems) == 1
    assert str(problems[0].location) == "annotations.yaml:3:1"
    assert problems[0].message.startswith("YAML syntax error: ")
    assert problems[0].hint == "check the indentation, and quote values that contain ': ' or start with a special character"


def test_non_scalar_mapping_key_is_an_error():
    _, problems = parse_yaml("? [a, b]\n: 1\n", "annotations.yaml")
    assert formatted(problems) == ["annotations.yaml:1:3: error: a mapping key must be a plain word (write 'name: value')"]


def test_alias_bomb_is_refused():
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{n}: &{n} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
        for p, n in zip("abcdefgh", "bcdefghi"))
    doc, problems = parse_yaml(bomb, "annotations.yaml")
    assert doc is None
    assert formatted(problems) == [
        "annotations.yaml:1: error: the YAML document is too large once its aliases are expanded "
        "(remove the '*alias' references that repeat large blocks)"]


def test_empty_yaml_document_is_no_error():
    doc, problems = parse_yaml("", "annotations.yaml")
    assert problems == []
    assert doc.value is None


def _as_parse_yaml_reads(value):
    """yaml.safe_load's value as parse_yaml gives it: dates as ISO strings, keys as written."""
    if isinstance(value, dict):
        return {str(k): _as_parse_yaml_reads(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_as_parse_yaml_reads(v) for v in value]
    return value.isoformat() if isinstance(value, datetime.date) else value


@pytest.mark.parametrize("text", [
    (ROOT / "annotations.yaml").read_text(encoding="utf-8"),
    (ROOT / "tests/golden/sample/annotations.yaml").read_text(encoding="utf-8"),
    "a: &x {b: 1, c: [1, 2.5, true, null, ~]}\nd: *x\ne: [*x, *x]\n",
    "{a: [b, {c: d}], e: 'f', g: \"h\\u00e9\", i: [], j: {}, k: ''}\n",
    "- - - x\n  - y\n- {? z : 1}\n- !!str 2025\n- ! 12\n- 0x1f\n- 1_000\n- .inf\n- -.5e3\n",
    "a:\n  b:\n    - c: 1\n      d: >\n        folded\n        text\n  e: 2025-06-12\n  f: |\n    kept\n",
], ids=["repository", "golden-sample", "aliases", "flow", "sequences-and-tags", "block-scalars"])
def test_parse_yaml_reads_values_as_pyyaml_does(text):
    doc, problems = parse_yaml(text, "annotations.yaml")
    assert problems == []
    assert doc.value == _as_parse_yaml_reads(yaml.safe_load(text))


# ---- the dossier folder -------------------------------------------------------------------

def test_dossier_folder_loads_articles_and_pages_in_name_order(make_dossier):
    root = make_dossier({
        "content/articles/b-second.md": BASE_ARTICLE,
        "content/articles/a-first.md": BASE_ARTICLE,
        "content/pages/about.md": "---\ntitle: About\n---\nHello.\n",
    })
    raw, problems = load_dossier(root)
    assert problems == []
    assert [a.slug for a in raw.articles] == ["a-first", "b-second", "deal"]
    assert [a.path for a in raw.articles] == ["content/articles/a-first.md", "content/articles/b-second.md",
                                              "content/articles/deal.md"]
    assert [p.slug for p in raw.pages] == ["about"]
    assert raw.annotations.value["site"]["title"] == "Test dossier"


def test_bom_and_crlf_files_load_with_correct_line_numbers(make_dossier):
    article = "---\r\ntitle: The deal\r\nsource: daily\r\nkind: newz\r\n---\r\nMeta bought a stake.\r\n"
    root = make_dossier({"content/articles/deal.md": "\ufeff".encode() + article.encode()})
    _, problems = check(Config(source=root))
    assert [(d.location.path, d.location.line, d.message) for d in problems if d.level == "error"] == [
        ("content/articles/deal.md", 4,
         "'kind' must be one of news, analysis, opinion, republication, aggregator; 'newz' is not")]


def test_bom_and_crlf_annotations_file_loads_with_correct_line_numbers(make_dossier):
    yaml_text = BASE_ANNOTATIONS.replace("    rating: reliable\n", "    rating: reliabel\n").replace("\n", "\r\n")
    root = make_dossier({"annotations.yaml": b"\xef\xbb\xbf" + yaml_text.encode("utf-8")})
    _, problems = check(Config(source=root))
    assert formatted(problems, "error") == [
        "annotations.yaml:9:5: error: 'rating' must be one of reliable, mixed, unreliable, unknown; 'reliabel' is not "
        "(did you mean 'reliable' or 'unreliable'?)"]


def test_non_utf8_article_fails_the_check_with_a_clear_error(make_dossier):
    root = make_dossier({"content/articles/deal.md": BASE_ARTICLE.replace("data company", "caf\xe9").encode("latin-1")})
    dossier, problems = check(Config(source=root))
    assert dossier is None
    assert formatted(problems, "error") == [
        "content/articles/deal.md:7: error: the file is not UTF-8 (byte 0xe9 cannot be decoded) (save the file with UTF-8 encoding)"]


def test_missing_annotations_file_is_reported(make_dossier, tmp_path):
    root = make_dossier({"annotations.yaml": None})
    raw, problems = load_dossier(root)
    assert raw.annotations is None
    assert formatted(problems) == [
        f"annotations.yaml: error: no annotations.yaml in {root} (create it, or point --source at the dossier folder)"]


def test_non_markdown_file_in_articles_is_reported(make_dossier):
    root = make_dossier({"content/articles/notes.txt": "hello\n"})
    _, problems = load_dossier(root)
    assert formatted(problems) == [
        "content/articles/notes.txt: error: 'notes.txt' is not a Markdown (.md) file "
        "(only .md files belong in content/articles/; put images and other files in layouts/static/)"]


def test_article_file_name_must_be_a_slug(make_dossier):
    root = make_dossier({"content/articles/Big Deal.md": BASE_ARTICLE})
    raw, problems = load_dossier(root)
    assert [a.slug for a in raw.articles] == ["deal"]
    assert formatted(problems) == [
        "content/articles/Big Deal.md: error: the file name 'Big Deal.md' is not a valid slug "
        "(rename it to lowercase letters, digits and hyphens, e.g. meta-scale-deal.md: it becomes the URL)"]


def test_hidden_files_are_ignored(make_dossier):
    root = make_dossier({"content/articles/.deal.md.swp": b"\x00\x01", "content/articles/.DS_Store": b"\x00"})
    raw, problems = load_dossier(root)
    assert problems == []
    assert [a.slug for a in raw.articles] == ["deal"]


@pytest.mark.parametrize("leases", [True, False])
def test_a_file_still_being_written_is_read_once_it_is_whole(tmp_path, monkeypatch, leases):
    """serve reads annotations.yaml after a save; a writer that pauses between two chunks
    must not be read half-way (its missing items would look deleted). Where leases cannot
    tell whether the file is open for writing, a quiet spell has to do."""
    import threading
    import time
    from dossier import load

    if not leases:
        monkeypatch.setattr(load, "_open_for_writing", lambda path: None)
    path = tmp_path / "annotations.yaml"
    path.write_text("old\n", encoding="utf-8")
    first, rest = "a" * 100_000, "b" * 100_000
    halfway = threading.Event()

    def writer():
        with open(path, "w", encoding="utf-8") as f:
            f.write(first)
            f.flush()
            halfway.set()
            time.sleep(0.015 if not leases else 0.2)  # without leases: shorter than SETTLE_NS
            f.write(rest)

    thread = threading.Thread(target=writer)
    thread.start()
    halfway.wait()
    assert load.read_settled(path, load.SETTLE_NS) == (first + rest).encode()
    thread.join()
    assert load.read_settled(path) == (first + rest).encode()  # a build reads at once
