"""`python build.py diff BASE`: what a change does to the dossier, read as Markdown, against a
git ref (two versions of a small dossier in a scratch git repository) or a folder."""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import BUILD_PY, ROOT, build_env, write_files

ANNOTATIONS = """\
site:
  title: Test dossier
  base_url: https://example.org/test/
  published: 2025-06-20
  description: A dossier for tests.
sources:
  daily:
    name: The Daily
    rating: reliable
    rationale: Named authors and a corrections policy.
entities:
  meta:
    name: Meta
    type: company
  scale:
    name: Scale AI
    type: company
    aliases: [Scale]
    relations:
      - {type: investor, target: meta, share: "49%", cite: [filing]}
references:
  filing:
    title: The filing
    url: https://example.org/filing
events:
  - id: deal-announced
    date: 2025-06-12
    title: The deal is announced
    entities: [meta, scale]
    cite: [filing]
claims:
  deal-amount:
    statement: Meta paid $14.3 billion for a stake in Scale AI.
    verdict: accurate
    cite: [filing]
annotations:
  - id: price
    article: deal
    quote: "paid $14.3 billion"
    kind: fact-check
    verdict: accurate
    note: The filing gives the amount.
    cite: [filing]
    claim: deal-amount
  - id: final
    article: deal
    quote: "the deal was final"
    suffix: "."
    kind: context
    note: Scale said so twice.
"""
"""Version 1 of annotations.yaml; `price` starts on line 37, its verdict is on line 41."""

STORY = """\
---
title: The deal
source: daily
kind: news
---
Meta paid $14.3 billion for a stake. Scale said the deal was final.

Later, Scale said the deal was final again, and Meta agreed.
"""
"""Version 1 of the one article; its body starts on line 6."""

VERSION_1 = {"annotations.yaml": ANNOTATIONS, "content/articles/deal.md": STORY}


def against(repo: Path, base: str = "HEAD~1", quote: str = "`") -> str:
    """Which base the report says it used: the git ref and its commit."""
    return f"git ref {quote}{base}{quote} (commit {git(repo, 'rev-parse', '--short', base).strip()})"


def heading(repo: Path, base: str = "HEAD~1") -> str:
    return f"## Dossier changes against {against(repo, base)}"


def said(repo: Path, base: str = "HEAD~1") -> str:
    """The line diff starts its stderr with."""
    return f"diff against {against(repo, base, quote=chr(39))}"


COMMITTED = "2025-08-01T12:00:00+00:00"
"""When the tests' commits are made: the base commit's date, which new updates must not precede."""


def git(repo: Path, *args: str, date: str = COMMITTED) -> str:
    result = subprocess.run(["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.org",
                             "-c", "commit.gpgsign=false", *args], capture_output=True, text=True, timeout=60,
                            env={**os.environ, "GIT_COMMITTER_DATE": date, "GIT_AUTHOR_DATE": date})
    assert result.returncode == 0, result.stderr
    return result.stdout


def run(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, str(BUILD_PY), *args], capture_output=True, text=True,
                            env={**build_env(), **(env or {})}, timeout=120)
    assert "Traceback" not in result.stderr, result.stderr
    return result


@pytest.fixture
def repo(tmp_path):
    """A git repository whose one commit holds version 1 of the dossier."""
    root = write_files(tmp_path / "repo", VERSION_1)
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "version 1")
    return root


def commit(repo: Path, files: dict[str, str | None]) -> Path:
    """Version 2: write (or delete) the files and commit them, so `diff HEAD~1` compares."""
    write_files(repo, files)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "version 2")
    return repo


def edit(text: str, *pairs: tuple[str, str]) -> str:
    for old, new in pairs:
        assert old in text, old
        text = text.replace(old, new)
    return text


def diff(repo: Path, *args: str, base: str = "HEAD~1", env: dict | None = None) -> subprocess.CompletedProcess:
    result = run("diff", base, "--source", str(repo), *args, env=env)
    print(result.stdout, result.stderr, sep="\n----- stderr -----\n")  # shown when a test fails
    return result


CITING_FILING = "citing `filing` (“The filing”, <https://example.org/filing>)"
"""What a new verdict on `price` or `deal-amount` rests on, as the report says it."""
PRICE_PAGES = ("- changed: `/`, `/articles/`, `/articles/deal/`, `/claims/`, `/claims/deal-amount/`, `/compare/`, "
               "`/references/`")
"""The pages a new verdict on `price` changes."""
KIND = ("    kind: context\n    note: Scale", "    kind: opinion\n    note: Scale")
"""Version 2 of `final`'s kind."""


# ---- what changed --------------------------------------------------------------------------

def test_the_same_commit_has_no_changes(repo):
    result = diff(repo, base="HEAD")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [heading(repo, "HEAD"), "", f"No changes against {against(repo, 'HEAD')}."]
    assert result.stderr.splitlines() == [said(repo, "HEAD")]


def test_annotations_added_and_removed(repo):
    final = ANNOTATIONS[ANNOTATIONS.index("  - id: final"):]
    agreed = ('  - id: agreed\n    article: deal\n    quote: "and Meta agreed"\n    kind: context\n'
              "    note: Meta did not deny it.\n")
    commit(repo, {"annotations.yaml": edit(ANNOTATIONS, (final, agreed))})
    result = diff(repo)
    assert result.returncode == 0
    assert result.stdout.splitlines() == [
        heading(repo), "",
        "Annotations: 1 added, 1 removed · Pages: 2 changed", "",
        "### Annotations", "",
        "- added `agreed` in `deal`: context on “and Meta agreed”",
        "- removed `final` in `deal`: context on “the deal was final”", "",
        "### Pages whose output changes", "",
        "- changed: `/articles/deal/`, `/claims/`",
    ]
    assert result.stderr.splitlines() == [said(repo)]


def test_a_verdict_changed_with_an_update_is_fine(repo):
    commit(repo, {"annotations.yaml": edit(ANNOTATIONS, (
        "    verdict: accurate\n    note: The filing gives the amount.\n",
        "    verdict: mostly-accurate\n    note: The filing gives a range.\n"
        '    updates:\n      - {date: 2025-09-01, summary: "Verdict from accurate to mostly-accurate: a range."}\n'))})
    result = diff(repo)
    assert result.returncode == 0
    assert result.stdout.splitlines() == [
        heading(repo), "",
        "Annotations: 1 changed · Pages: 8 changed", "",
        "### Annotations", "",
        "- changed `price` in `deal`: verdict **accurate** → **mostly-accurate**, citing `filing` (“The filing”, "
        "<https://example.org/filing>); note: “The filing gives ~~the amount.~~ **a range.**”; "
        "new update 2025-09-01 “Verdict from accurate to mostly-accurate: a range.”", "",
        "### Pages whose output changes", "",
        "- changed: `/`, `/articles/`, `/articles/deal/`, `/claims/`, `/claims/deal-amount/`, `/compare/`, "
        "`/corrections/`, `/references/`",
    ]
    assert result.stderr.splitlines() == [said(repo)]


def test_a_verdict_changed_without_an_update_is_an_error_at_its_line(repo):
    commit(repo, {"annotations.yaml": edit(ANNOTATIONS,
                                           ("    verdict: accurate\n    note: The", "    verdict: inaccurate\n    note: The"),
                                           ("    verdict: accurate\n    cite", "    verdict: mixed\n    cite"))})
    result = diff(repo)
    assert result.returncode == 1
    hint = ("(the corrections log must say why: add an entry under 'updates:', "
            "e.g. {date: YYYY-MM-DD, summary: what changed and why})")
    assert result.stderr.splitlines() == [
        said(repo),
        "annotations.yaml:34:5: error: the verdict of claim 'deal-amount' changed from 'accurate' to 'mixed' "
        "without a new entry under 'updates' " + hint,
        "annotations.yaml:41:5: error: the verdict of annotation 'price' changed from 'accurate' to 'inaccurate' "
        "without a new entry under 'updates' " + hint,
        "2 errors, 0 warnings",
    ]
    assert result.stdout.splitlines() == [
        heading(repo), "",
        "- **Error:** `annotations.yaml:34:5`: the verdict of claim 'deal-amount' changed from 'accurate' to 'mixed' "
        "without a new entry under 'updates' " + hint,
        "- **Error:** `annotations.yaml:41:5`: the verdict of annotation 'price' changed from 'accurate' to "
        "'inaccurate' without a new entry under 'updates' " + hint, "",
        "Annotations: 1 changed · Claims: 1 changed · Pages: 7 changed", "",
        "### Annotations", "",
        "- changed `price` in `deal`: verdict **accurate** → **inaccurate**, " + CITING_FILING, "",
        "### Claims", "",
        "- changed `deal-amount`: verdict **accurate** → **mixed**, " + CITING_FILING, "",
        "### Pages whose output changes", "",
        PRICE_PAGES,
    ]


def test_rewording_an_old_update_does_not_explain_a_new_verdict(repo):
    logged = edit(ANNOTATIONS, ("    claim: deal-amount\n", "    claim: deal-amount\n    updates:\n"
                                "      - {date: 2025-07-01, summary: Checked against the filing.}\n"))
    commit(repo, {"annotations.yaml": logged})
    commit(repo, {"annotations.yaml": edit(logged,
                                           ("    verdict: accurate\n    note: The", "    verdict: mixed\n    note: The"),
                                           ("Checked against the filing.", "Mixed; the filing gives a range."))})
    result = diff(repo)
    assert result.returncode == 1
    assert result.stderr.splitlines()[0] == said(repo)
    assert result.stderr.splitlines()[1].startswith(
        "annotations.yaml:41:5: error: the verdict of annotation 'price' changed from 'accurate' to 'mixed' without")
    assert ("- changed `price` in `deal`: verdict **accurate** → **mixed**, " + CITING_FILING + "; new update "
            "2025-07-01 “Mixed; the filing gives a range.”; update 2025-07-01 “Checked against the filing.” removed"
            ) in result.stdout.splitlines()
    assert "before the base commit" not in result.stderr  # a reworded entry keeps its date: it is not new


LONG_NOTE = ("The filing, published by the company on 12 June 2025, gives the amount paid for the stake, and two "
             "later reports by other outlets repeat it without a source of their own.")


def test_a_changed_note_is_shown_as_a_compact_word_diff(repo):
    commit(repo, {"annotations.yaml": edit(ANNOTATIONS, ("note: The filing gives the amount.", f"note: {LONG_NOTE}"))})
    commit(repo, {"annotations.yaml": edit(ANNOTATIONS, ("note: The filing gives the amount.", "note: " + edit(
        LONG_NOTE, ("gives the amount", "gives a range for the amount"), ("without a source", "with no source"))))})
    result = diff(repo)
    assert result.returncode == 0, result.stderr
    assert "- changed `price` in `deal`: note: “… 12 June 2025, gives **a range for** the amount paid for … " \
           "other outlets repeat it ~~without a~~ **with no** source of their own.”" in result.stdout.splitlines()


def test_a_note_added_or_removed_is_shown_in_full(repo):
    commit(repo, {"annotations.yaml": edit(ANNOTATIONS, ("    note: Scale said so twice.\n", ""))})
    result = diff(repo)
    assert "- changed `final` in `deal`: note removed: “Scale said so twice.”" in result.stdout.splitlines()
    commit(repo, {"annotations.yaml": edit(ANNOTATIONS, ("note: Scale said so twice.", f"note: {LONG_NOTE}"))})
    result = diff(repo)
    assert f"- changed `final` in `deal`: note added: “{LONG_NOTE}”" in result.stdout.splitlines()


def test_update_summaries_are_shown_in_full(repo):
    summary = ("Verdict from accurate to mostly-accurate: the filing gives a range, not one figure, and the "
               "reports that give one figure name no source.")
    commit(repo, {"annotations.yaml": edit(ANNOTATIONS, (
        "    verdict: accurate\n    note: The", "    verdict: mostly-accurate\n    note: The"),
        ("    claim: deal-amount\n", f'    claim: deal-amount\n    updates:\n      - {{date: 2025-09-01, summary: "{summary}"}}\n'))})
    result = diff(repo)
    assert result.returncode == 0, result.stderr
    assert f"new update 2025-09-01 “{summary}”" in result.stdout


def test_a_changed_verdict_lists_the_references_it_now_cites(repo):
    commit(repo, {"annotations.yaml": edit(
        ANNOTATIONS,
        ("    url: https://example.org/filing\n", "    url: https://example.org/filing\n  call:\n"
                                                "    title: The earnings call (Q2)\n    note: Heard, not published.\n"),
        ("    verdict: accurate\n    note: The filing gives the amount.\n    cite: [filing]",
         "    verdict: mixed\n    note: The filing gives the amount.\n    cite: [filing, call]\n"
         "    updates:\n      - {date: 2025-09-01, summary: The call gave a range.}"))})
    result = diff(repo)
    assert result.returncode == 0, result.stderr
    assert ("- changed `price` in `deal`: verdict **accurate** → **mixed**, citing `filing` (“The filing”, "
            "<https://example.org/filing>), `call` (“The earnings call (Q2)”); cite +`call`; new update 2025-09-01 "
            "“The call gave a range.”") in result.stdout.splitlines()


def test_a_new_update_dated_before_the_base_commit_is_a_warning(repo):
    def with_update(date: str) -> str:
        return edit(ANNOTATIONS, ("    verdict: accurate\n    note: The", "    verdict: mixed\n    note: The"),
                    ("    claim: deal-amount\n",
                     f"    claim: deal-amount\n    updates:\n      - {{date: {date}, summary: A range.}}\n"))

    commit(repo, {"annotations.yaml": with_update("2023-01-01")})  # the base commit is dated 2025-08-01
    result = diff(repo)
    assert result.returncode == 0  # a warning
    warning = ("annotations.yaml:46:9: warning: the new update of annotation 'price' is dated 2023-01-01, before "
               "the base commit (2025-08-01) (date it the day of the change)")
    assert result.stderr.splitlines() == [said(repo), warning, "0 errors, 1 warning"]
    assert result.stdout.splitlines()[2] == "- **Warning:** `annotations.yaml:46:9`: " + warning.split(": warning: ")[1]
    assert diff(repo, "--strict").returncode == 1
    for date in ("2025-08-01", "2025-08", "2026"):  # the day of the base commit, or a date that may be after it
        write_files(repo, {"annotations.yaml": with_update(date)})
        result = diff(repo, base="HEAD~1")
        assert result.returncode == 0 and "before the base commit" not in result.stderr, date


def test_a_folder_base_has_no_date_and_no_update_date_rule(tmp_path):
    base = write_files(tmp_path / "base", VERSION_1)
    head = write_files(tmp_path / "head", {**VERSION_1, "annotations.yaml": edit(
        ANNOTATIONS, ("    verdict: accurate\n    note: The", "    verdict: mixed\n    note: The"),
        ("    claim: deal-amount\n", "    claim: deal-amount\n    updates:\n      - {date: 2001-01-01, summary: Old.}\n"))})
    result = run("diff", str(base), "--source", str(head))
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines() == [f"diff against the folder '{base}'"]

def test_an_edited_article_body_is_a_warning_naming_the_article_and_the_passage(repo):
    write_files(repo, {"content/articles/deal.md": edit(STORY, ("Later, Scale said", "Later, Scale denied"))})
    result = diff(repo, base="HEAD")  # the uncommitted change against the last commit
    assert result.returncode == 0
    warning = ("`content/articles/deal.md:8`: evidence is immutable, but the body of article 'deal' changed: "
               "“was final. Later, Scale said the deal was final” → “was final. Later, Scale denied the "
               "deal was final” (restore the article's text; say what is wrong in annotations.yaml instead)")
    assert result.stdout.splitlines() == [
        heading(repo, "HEAD"), "",
        "- **Warning:** " + warning, "",
        "Articles: 1 changed · Pages: 3 changed", "",
        "### Articles", "",
        "- changed `deal`: body text changed at line 8 (evidence is immutable: see above)", "",
        "### Pages whose output changes", "",
        "- changed: `/articles/deal/`, `/entities/meta/`, `/entities/scale/`",  # their mentions quote the sentence
    ]
    assert result.stderr.splitlines() == [said(repo, "HEAD"),
                                          warning.replace("`", "").replace(": evidence", ": warning: evidence"),
                                          "0 errors, 1 warning"]
    strict = diff(repo, "--strict", base="HEAD")
    assert strict.returncode == 1
    assert strict.stdout.splitlines()[2] == "- **Error:** " + warning
    assert strict.stderr.splitlines()[1].startswith("content/articles/deal.md:8: error: evidence is immutable")


def test_a_body_edit_that_breaks_a_quote_is_still_named(repo):
    write_files(repo, {"content/articles/deal.md": edit(STORY, ("$14.3 billion", "$14.8 billion"))})
    result = diff(repo, base="HEAD")
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        said(repo, "HEAD"),
        "annotations.yaml:39:5: error: the quote of annotation 'price' is not in content/articles/deal.md; the "
        'nearest passage (line 6) '
        'is "paid $14.8 billion" (the article says \'$14.8\', the quote says \'$14.3\': copy the article\'s '
        "exact words)",
        "error: the dossier does not build: 1 error; compared only what could be loaded (no quote positions, no pages)",
        "content/articles/deal.md:6: warning: evidence is immutable, but the body of article 'deal' changed: "
        "“Meta paid $14.3 billion for a stake.” → “Meta paid $14.8 billion for a stake.” (restore the "
        "article's text; say what is wrong in annotations.yaml instead)",
        "0 errors, 1 warning",
    ]
    assert result.stdout.splitlines() == [
        heading(repo, "HEAD"), "",
        "- **Error:** the dossier does not build (1 error, the first: `annotations.yaml:39:5`: the quote of "
        "annotation 'price' is not in content/articles/deal.md; the nearest passage (line 6) is "
        "\"paid \\$14.8 billion\"); only what could be "
        "loaded is compared (no quote positions, no pages)",
        "- **Warning:** `content/articles/deal.md:6`: evidence is immutable, but the body of article 'deal' changed: "
        "“Meta paid \\$14.3 billion for a stake.” → “Meta paid \\$14.8 billion for a stake.” (restore the "
        "article's text; say what is wrong in annotations.yaml instead)", "",
        "Articles: 1 changed", "",
        "### Articles", "",
        "- changed `deal`: body text changed at line 6 (evidence is immutable: see above)",
    ]


def test_a_quote_re_anchored_elsewhere_names_the_old_and_new_line(repo):
    commit(repo, {"annotations.yaml": edit(ANNOTATIONS, ('    suffix: "."\n', '    suffix: "again,"\n'))})
    result = diff(repo)
    assert result.returncode == 0
    assert result.stdout.splitlines() == [
        heading(repo), "",
        "Annotations: 1 changed · Pages: 1 changed", "",
        "### Annotations", "",
        "- changed `final` in `deal`: suffix “.” → “again,”; quote re-anchored from line 6 to line 8 "
        "(now “…final. Later, Scale said **the deal was final** again, and Meta agreed.”)", "",
        "### Pages whose output changes", "",
        "- changed: `/articles/deal/`",
    ]


def test_a_kind_change_and_front_matter_are_ordinary_changes(repo):
    commit(repo, {"annotations.yaml": edit(ANNOTATIONS, KIND),
                  "content/articles/deal.md": edit(STORY, ("title: The deal\n",
                                                           "title: The Meta deal\nauthor: A. Writer\n"))})
    result = diff(repo)
    assert result.returncode == 0
    assert result.stderr.splitlines() == [said(repo)]
    assert result.stdout.splitlines() == [
        heading(repo), "",
        "Annotations: 1 changed · Articles: 1 changed · Pages: 9 changed", "",
        "### Annotations", "",
        "- changed `final` in `deal`: kind **context** → **opinion**", "",
        "### Articles", "",
        "- changed `deal`: title “The deal” → “The Meta deal”; author *none* → “A. Writer”", "",
        "### Pages whose output changes", "",
        "- changed: `/`, `/articles/`, `/articles/deal/`, `/claims/`, `/claims/deal-amount/`, `/compare/`, "
        "`/entities/meta/`, `/entities/scale/`, `/sources/`",
    ]


VERSION_2 = edit(
    ANNOTATIONS,
    ("    rating: reliable\n", "    rating: mixed\n"),
    ("rationale: Named authors and a corrections policy.\n",
     "rationale: Named authors and a corrections policy.\n  wire:\n    name: The Wire\n    rating: unknown\n"
     "    rationale: Not yet rated.\n"),
    ("    name: Meta\n", "    name: Meta Platforms\n"),
    ('share: "49%"', 'share: "about 49%"'),
    ("cite: [filing]}\n", "cite: [filing]}\n      - {type: ceo, target: wang, until: 2025-06, cite: [press]}\n"
     "  wang:\n    name: Alexandr Wang\n    type: person\n"),
    ("    url: https://example.org/filing\n", "    url: https://example.org/filing.pdf\n  press:\n"
     "    title: The press release\n"),
    ("    title: The deal is announced\n", "    title: Meta and Scale announce the deal\n"),
    ("claims:\n", "  - {date: 2025-07, title: The deal closes}\nclaims:\n"),
    ("statement: Meta paid $14.3 billion for a stake in Scale AI.",
     "statement: Meta paid about $14.3 billion for a stake in Scale AI."),
    ("annotations:\n", "  stake:\n    statement: Meta owns 49% of Scale AI.\n    verdict: accurate\n"
     "    cite: [filing]\nannotations:\n"))


def test_claims_entities_relations_events_references_and_sources(repo):
    commit(repo, {"annotations.yaml": VERSION_2})
    result = diff(repo)
    assert result.returncode == 0
    assert result.stdout.splitlines() == [
        heading(repo), "",
        "Claims: 1 added, 1 changed · Entities: 1 added, 1 changed · Relations: 1 added, 1 changed · "
        "Events: 1 added, 1 changed · References: 1 added, 1 changed · Sources: 1 added, 1 changed · "
        "Pages: 2 added, 12 changed", "",
        "### Claims", "",
        "- added `stake`: “Meta owns 49% of Scale AI.”, **accurate**",
        "- changed `deal-amount`: statement “Meta paid \\$14.3 billion for a stake in Scale AI.” → "
        "“Meta paid about \\$14.3 billion for a stake in Scale AI.”", "",
        "### Entities", "",
        "- added `wang`: Alexandr Wang (person)",
        "- changed `meta`: name “Meta” → “Meta Platforms”", "",
        "### Relations", "",
        "- added `scale` → ceo → `wang`: until 2025-06",
        "- changed `scale` → investor → `meta`: share “49%” → “about 49%”", "",
        "### Events", "",
        "- added `2025-07-the-deal-closes`: 2025-07 “The deal closes”",
        "- changed `deal-announced`: title “The deal is announced” → “Meta and Scale announce the deal”", "",
        "### References", "",
        "- added `press`: “The press release”",
        "- changed `filing`: url `https://example.org/filing` → `https://example.org/filing.pdf`", "",
        "### Sources", "",
        "- added `wire`: The Wire (**unknown**)",
        "- changed `daily`: rating **reliable** → **mixed**", "",
        "### Pages whose output changes", "",
        "- added: `/claims/stake/`, `/entities/wang/`",
        "- changed: `/`, `/articles/`, `/articles/deal/`, `/claims/`, `/claims/deal-amount/`, `/compare/`, "
        "`/entities/`, `/entities/meta/`, `/entities/scale/`, `/references/`, `/sources/`, `/timeline/`",
    ]
    assert result.stderr.splitlines() == [said(repo)]
    commit(repo, {"annotations.yaml": ANNOTATIONS})  # and back: the same items, removed
    result = diff(repo)
    assert result.returncode == 0
    assert result.stdout.splitlines() == [
        heading(repo), "",
        "Claims: 1 removed, 1 changed · Entities: 1 removed, 1 changed · Relations: 1 removed, 1 changed · "
        "Events: 1 removed, 1 changed · References: 1 removed, 1 changed · Sources: 1 removed, 1 changed · "
        "Pages: 2 removed, 12 changed", "",
        "### Claims", "",
        "- removed `stake`: “Meta owns 49% of Scale AI.”, **accurate**",
        "- changed `deal-amount`: statement “Meta paid about \\$14.3 billion for a stake in Scale AI.” → "
        "“Meta paid \\$14.3 billion for a stake in Scale AI.”", "",
        "### Entities", "",
        "- removed `wang`: Alexandr Wang (person)",
        "- changed `meta`: name “Meta Platforms” → “Meta”", "",
        "### Relations", "",
        "- removed `scale` → ceo → `wang`: until 2025-06",
        "- changed `scale` → investor → `meta`: share “about 49%” → “49%”", "",
        "### Events", "",
        "- removed `2025-07-the-deal-closes`: 2025-07 “The deal closes”",
        "- changed `deal-announced`: title “Meta and Scale announce the deal” → “The deal is announced”", "",
        "### References", "",
        "- removed `press`: “The press release”",
        "- changed `filing`: url `https://example.org/filing.pdf` → `https://example.org/filing`", "",
        "### Sources", "",
        "- removed `wire`: The Wire (**unknown**)",
        "- changed `daily`: rating **mixed** → **reliable**", "",
        "### Pages whose output changes", "",
        "- removed: `/claims/stake/`, `/entities/wang/`",
        "- changed: `/`, `/articles/`, `/articles/deal/`, `/claims/`, `/claims/deal-amount/`, `/compare/`, "
        "`/entities/`, `/entities/meta/`, `/entities/scale/`, `/references/`, `/sources/`, `/timeline/`",
    ]


def test_page_lists_are_capped(tmp_path):
    many = "".join(f"  e{i:02d}:\n    name: E{i:02d}\n    type: company\n" for i in range(60))
    crowded = edit(ANNOTATIONS, ("entities:\n", "entities:\n" + many))
    base = write_files(tmp_path / "base", {**VERSION_1, "annotations.yaml": crowded})
    head = write_files(tmp_path / "head", {**VERSION_1, "annotations.yaml": edit(
        crowded, ("title: Test dossier", "title: Another dossier"))})
    result = run("diff", str(base), "--source", str(head))
    assert result.returncode == 0, result.stderr
    urls = sorted(["", "404.html", "about/"][:2] + ["articles/", "articles/deal/", "claims/", "claims/deal-amount/",
                                                     "compare/", "corrections/", "entities/", "entities/meta/",
                                                     "entities/scale/", "references/", "search/", "sources/",
                                                     "timeline/"] + [f"entities/e{i:02d}/" for i in range(60)])
    assert result.stdout.splitlines() == [
        f"## Dossier changes against the folder `{base}`", "",
        f"Site settings: 1 changed · Pages: {len(urls)} changed", "",
        "### Site settings", "",
        "- changed `site`: title “Test dossier” → “Another dossier”", "",
        "### Pages whose output changes", "",
        "- changed: " + ", ".join(f"`/{url}`" for url in urls[:50]) + f", … and {len(urls) - 50} more",
    ]


def test_a_template_change_lists_the_pages_it_changes(make_dossier):
    base = make_dossier(VERSION_1, name="base")
    own = "<!doctype html>\n<title>Sources</title>\n<p>{{ d.sources | length }} sources</p>\n"
    head = make_dossier({**VERSION_1, "layouts/sources.html": own}, name="head")
    result = run("diff", str(base), "--source", str(head))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        f"## Dossier changes against the folder `{base}`", "",
        "Pages: 1 changed", "",
        "### Pages whose output changes", "",
        "- changed: `/sources/`",
    ]


def test_templates_that_do_not_render(make_dossier):
    broken = "<!doctype html>\n<p>{{ no_such_variable.name }}</p>\n"
    base = make_dossier({**VERSION_1, "layouts/sources.html": broken}, name="base")
    head = make_dossier(VERSION_1, name="head")
    result = diff(head, base=str(base))  # an old base's templates: render its pages with today's
    assert result.returncode == 0
    assert result.stdout.splitlines() == [
        f"## Dossier changes against the folder `{base}`", "",
        "- **Note:** the base's templates do not render with this version of Dossier (layouts/sources.html:2: error: "
        "template error while rendering /sources/: 'no\\_such\\_variable' is undefined (check the variable names the "
        "template uses)), so its pages were rendered with the current ones: template changes are not listed", "",
        f"No changes against the folder `{base}`.",
    ]
    result = diff(base, base=str(head))  # the dossier's own: it does not build
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"diff against the folder '{head}'",
        "layouts/sources.html:2: error: template error while rendering /sources/: 'no_such_variable' is undefined "
        "(check the variable names the template uses)",
        "error: the dossier does not build: 1 error; compared only what could be loaded (no pages)",
    ]
    assert result.stdout.splitlines()[2] == (
        "- **Error:** the dossier does not build (1 error, the first: `layouts/sources.html:2`: template error while "
        "rendering /sources/: 'no\\_such\\_variable' is undefined); only what could be loaded is compared (no pages)")


def test_diff_against_a_folder_lists_what_changed(make_dossier):
    base = make_dossier(VERSION_1, name="base")
    head = make_dossier({**VERSION_1, "annotations.yaml": edit(ANNOTATIONS, ('    suffix: "."\n', ""),
                                                               ("the deal was final", "and Meta agreed"))}, name="head")
    result = diff(head, base=str(base))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        f"## Dossier changes against the folder `{base}`", "",
        "Annotations: 1 changed · Pages: 2 changed", "",
        "### Annotations", "",
        "- changed `final` in `deal`: quote “the deal was final” → “and Meta agreed”; suffix “.” → "
        "*none*; quote re-anchored from line 6 to line 8 (now “…deal was final again, **and Meta agreed**.”)", "",
        "### Pages whose output changes", "",
        "- changed: `/articles/deal/`, `/claims/`",
    ]
    assert result.stderr.splitlines() == [f"diff against the folder '{base}'"]


# ---- which base: a git ref always, a folder only outside the dossier ------------------------

def run_in(folder: Path, *args: str) -> subprocess.CompletedProcess:
    """build.py run from `folder`, as the Check workflow runs it from the clone's top."""
    result = subprocess.run([sys.executable, str(BUILD_PY), *args], capture_output=True, text=True, cwd=folder,
                            env=build_env(), timeout=120)
    print(result.stdout, result.stderr, sep="\n----- stderr -----\n")
    assert "Traceback" not in result.stderr, result.stderr
    return result


@pytest.fixture
def planted(repo):
    """A pull request against origin/main that changes a verdict without an update and edits
    the evidence, and commits a folder named origin/main/ holding a copy of its own dossier."""
    git(repo, "update-ref", "refs/remotes/origin/main", "HEAD")
    changed = {"annotations.yaml": edit(ANNOTATIONS, ("    verdict: accurate\n    note: The", "    verdict: mixed\n    note: The")),
               "content/articles/deal.md": edit(STORY, ("Later, Scale said", "Later, Scale denied"))}
    return commit(repo, {**changed, **{f"origin/main/{path}": text for path, text in changed.items()}})


def test_a_git_ref_is_the_base_even_when_a_folder_has_its_name(planted):
    result = run_in(planted, "diff", "origin/main", "--strict")
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[0] == heading(planted, "origin/main")
    assert lines[2].startswith("- **Error:** `annotations.yaml:41:5`: the verdict of annotation 'price' changed")
    assert lines[3].startswith("- **Error:** `content/articles/deal.md:8`: evidence is immutable")
    assert lines[4] == "- **Note:** a folder named origin/main exists too; it was not used: a git ref always comes first"
    assert result.stderr.splitlines()[0] == said(planted, "origin/main")


def test_without_the_ref_a_folder_inside_the_dossier_is_never_the_base(planted):
    git(planted, "update-ref", "-d", "refs/remotes/origin/main")  # e.g. a shallow clone that did not fetch it
    result = run_in(planted, "diff", "origin/main", "--strict")
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.splitlines() == [
        "error: 'origin/main' is no git ref, and the folder origin/main is inside the dossier being compared (.): "
        "a change could bring its own copy there (give a git ref, e.g. origin/main, or a folder outside the dossier; "
        "in a shallow clone, fetch the base first, e.g. git fetch origin main)"]


def test_the_dossier_itself_is_never_the_base(repo, tmp_path):
    (tmp_path / "link").symlink_to(repo)  # the same folder by another name
    for base, source in ((".", "."), (str(repo), "."), (str(tmp_path / "link"), "."), (".", str(tmp_path / "link"))):
        result = run_in(repo, "diff", base, "--source", source)
        assert result.returncode == 1 and result.stdout == "", (base, source)
        assert result.stderr.startswith(f"error: '{base}' is no git ref, and the folder {base} is the dossier being "
                                        f"compared ({source}) (give a git ref"), (base, source)


# ---- what diff cannot compare --------------------------------------------------------------

def test_an_unknown_ref_lists_the_branches_and_tags_that_exist(repo):
    git(repo, "branch", "-M", "master")  # what `git init` names the first branch, where the examples say main
    git(repo, "tag", "v1")
    result = diff(repo, base="main")
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.splitlines() == [
        f"error: 'main' is neither a folder nor a commit of the git repository at {repo}; known branches: master; "
        "tags: v1 (give a branch, tag or commit, e.g. master or HEAD~1, or a dossier folder; in a shallow clone, "
        "fetch the base first, e.g. git fetch origin master)"]
    # a clone: its remote's branches count too, and the branch its origin/HEAD names is the example
    clone = repo.parent / "clone"
    git(repo.parent, "clone", "-q", str(repo), str(clone))
    git(clone, "switch", "-q", "-c", "feature")
    result = diff(clone, base="mastr")
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.splitlines() == [
        f"error: 'mastr' is neither a folder nor a commit of the git repository at {clone}; known branches: "
        "feature, master, origin/master; tags: v1 (did you mean 'master'? give a branch, tag or commit, e.g. "
        "origin/master or HEAD~1, or a dossier folder; in a shallow clone, fetch the base first, e.g. "
        "git fetch origin master)"]


def test_an_unknown_ref_in_a_repository_without_commits(tmp_path):
    root = write_files(tmp_path / "repo", VERSION_1)
    git(root, "init", "-q")
    result = diff(root, base="main")
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.splitlines() == [
        f"error: 'main' is neither a folder nor a commit of the git repository at {root}; the repository has no "
        "commits yet (commit the dossier first, then compare against that commit, or give a dossier folder)"]


def test_a_ref_outside_a_git_repository(make_dossier):
    folder = make_dossier(VERSION_1)
    result = diff(folder, base="main")
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.splitlines() == [
        f"error: 'main' is not a folder, and {folder} is not in a git repository (give a dossier folder to compare "
        "against, or run diff in a git clone)"]


def test_a_folder_that_is_no_dossier(repo, tmp_path):
    (tmp_path / "empty").mkdir()
    result = diff(repo, base=str(tmp_path / "empty"))
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.splitlines() == [
        f"error: {tmp_path / 'empty'} is not a dossier (no annotations.yaml or content/articles/)"]


def test_a_dossier_in_a_subfolder_of_the_repository(tmp_path):
    root = write_files(tmp_path / "repo", {"README.md": "A project with a dossier in site/.\n"})
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "no dossier yet")
    commit(root, {f"site/{path}": text for path, text in VERSION_1.items()})
    result = diff(root / "site")
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.splitlines() == [
        f"error: at HEAD~1, {root / 'site'} is not a dossier (no annotations.yaml or content/articles/)"]
    commit(root, {"site/annotations.yaml": edit(ANNOTATIONS, KIND)})
    result = diff(root / "site")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        heading(root), "",
        "Annotations: 1 changed · Pages: 4 changed", "",
        "### Annotations", "",
        "- changed `final` in `deal`: kind **context** → **opinion**", "",
        "### Pages whose output changes", "",
        "- changed: `/`, `/articles/`, `/articles/deal/`, `/claims/`",
    ]


def test_a_base_that_does_not_build_is_compared_as_far_as_it_loads(repo):
    commit(repo, {"annotations.yaml": edit(ANNOTATIONS, ('quote: "paid $14.3 billion"', 'quote: "paid $15 billion"'))})
    commit(repo, {"annotations.yaml": ANNOTATIONS})
    result = diff(repo)
    assert result.returncode == 1
    first = ("annotations.yaml:39:5: error: the quote of annotation 'price' is not in content/articles/deal.md; the "
             'nearest passage (line 6) is "paid $14.3 billion"')
    assert result.stderr.splitlines() == [
        said(repo),
        first + " (the article says '$14.3', the quote says '$15': copy the article's exact words)",
        "error: the base (HEAD~1) does not build: 1 error; compared only what could be loaded (no quote positions, "
        "no pages)",
    ]
    assert result.stdout.splitlines() == [
        heading(repo), "",
        "- **Error:** the base (HEAD\\~1) does not build (1 error, the first: `annotations.yaml:39:5`: the quote of "
        "annotation 'price' is not in content/articles/deal.md; the nearest passage (line 6) is "
        "\"paid \\$14.3 billion\"); only what could "
        "be loaded is compared (no quote positions, no pages)", "",
        "Annotations: 1 changed", "",
        "### Annotations", "",
        "- changed `price` in `deal`: quote “paid \\$15 billion” → “paid \\$14.3 billion”",
    ]


def test_a_base_whose_annotations_cannot_be_read_stops(repo):
    commit(repo, {"annotations.yaml": "site: [unclosed\n"})
    commit(repo, {"annotations.yaml": ANNOTATIONS})
    result = diff(repo)
    assert result.returncode == 1 and result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[0] == said(repo)
    assert lines[1].startswith("annotations.yaml:2:1: error: YAML syntax error")
    assert lines[2:] == ["error: the base (HEAD~1) does not build, and its annotations.yaml cannot be read, so there "
                         "is nothing to compare (compare against another ref)"]


# ---- in GitHub Actions, and what diff leaves alone -------------------------------------------

def test_the_report_is_appended_to_the_github_step_summary(repo, tmp_path):
    commit(repo, {"annotations.yaml": edit(ANNOTATIONS, KIND)})
    summary = tmp_path / "summary.md"
    summary.write_text("# Earlier step\n", encoding="utf-8")
    result = diff(repo, env={"GITHUB_STEP_SUMMARY": str(summary)})
    assert result.returncode == 0
    assert summary.read_text(encoding="utf-8") == "# Earlier step\n" + result.stdout + "\n"
    git(repo, "branch", "-M", "master")
    unknown = diff(repo, base="no-such-branch", env={"GITHUB_STEP_SUMMARY": str(summary)})
    assert unknown.returncode == 1
    escaped = str(repo).replace("_", "\\_")  # Markdown
    assert summary.read_text(encoding="utf-8").endswith(
        "\n## Dossier changes against `no-such-branch`\n\n- **Error:** 'no-such-branch' is neither a folder nor a "
        f"commit of the git repository at {escaped}; known branches: master (give a branch, tag or commit, e.g. "
        "master or HEAD\\~1, or a dossier folder; in a shallow clone, fetch the base first, e.g. git fetch origin "
        "master)\n\n")


def test_diff_reads_the_base_without_touching_the_working_tree_or_the_index(repo):
    commit(repo, {"annotations.yaml": edit(ANNOTATIONS, KIND)})
    write_files(repo, {"content/articles/deal.md": edit(STORY, ("title: The deal", "title: A deal")),
                       "notes.txt": "untracked\n"})
    git(repo, "add", "content/articles/deal.md")  # staged …
    write_files(repo, {"content/articles/deal.md": edit(STORY, ("title: The deal", "title: The big deal"))})  # … not
    status = git(repo, "status", "--porcelain")
    index = hashlib.sha256((repo / ".git" / "index").read_bytes()).hexdigest()
    head = git(repo, "rev-parse", "HEAD")
    result = diff(repo)
    assert result.returncode == 0, result.stderr
    assert hashlib.sha256((repo / ".git" / "index").read_bytes()).hexdigest() == index
    assert git(repo, "status", "--porcelain") == status == "MM content/articles/deal.md\n?? notes.txt\n"
    assert git(repo, "rev-parse", "HEAD") == head
    assert result.stdout.splitlines() == [  # the working tree is what is compared, not the index
        heading(repo), "",
        "Annotations: 1 changed · Articles: 1 changed · Pages: 9 changed", "",
        "### Annotations", "",
        "- changed `final` in `deal`: kind **context** → **opinion**", "",
        "### Articles", "",
        "- changed `deal`: title “The deal” → “The big deal”", "",
        "### Pages whose output changes", "",
        "- changed: `/`, `/articles/`, `/articles/deal/`, `/claims/`, `/claims/deal-amount/`, `/compare/`, "
        "`/entities/meta/`, `/entities/scale/`, `/sources/`",
    ]


def test_the_pull_request_workflow_runs_diff_against_the_base_branch():
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "check.yml").read_text(encoding="utf-8"))
    steps = workflow["jobs"]["check"]["steps"]
    checkout = next(s for s in steps if s.get("uses", "").startswith("actions/checkout@"))
    assert checkout["with"]["fetch-depth"] == 0  # the base branch's history, for `diff origin/<base>`
    (step,) = [s for s in steps if "build.py diff" in s.get("run", "")]
    assert step["run"].strip() == '.venv/bin/python build.py diff "origin/$BASE_REF" --strict'
    assert step["env"] == {"BASE_REF": "${{ github.base_ref }}"}  # not pasted into the script: no injection
    assert "pull_request" in step["if"]


# ---- the pieces, from strings ----------------------------------------------------------------

def test_comparing_and_reporting_know_nothing_of_how_the_versions_were_read():
    """changes.py compares plain data and report.py renders it: neither imports the other at
    run time, nor the modules that read files, run git or print (snapshot.py, diff.py)."""
    code = ("import sys, importlib; importlib.import_module(sys.argv[1]); "
            "print(' '.join(sorted(m for m in sys.modules if m.startswith('dossier.'))))")
    for module, not_imported in (("dossier.changes", {"dossier.report", "dossier.snapshot", "dossier.diff"}),
                                 ("dossier.report", {"dossier.changes", "dossier.snapshot", "dossier.diff"})):
        loaded = subprocess.run([sys.executable, "-c", code, module], capture_output=True, text=True, cwd=ROOT,
                                check=True).stdout.split()
        assert module in loaded and not not_imported & set(loaded), (module, loaded)


def test_markdown_characters_in_user_text_are_escaped():
    from dossier.changes import Change
    from dossier.diagnostics import Location
    from dossier.model import Claim
    from dossier.report import Report, render_markdown

    claim = Claim("odd", "Meta paid *$14.3 billion* | [a] <b> ~2`", "accurate", "", ("filing",), (), (),
                  Location("annotations.yaml", 3))
    text = render_markdown(Report("main", [Change("claims", "odd", "+", claim)], [], [], []))
    assert text.splitlines()[-1] == (
        "- added `odd`: “Meta paid \\*\\$14.3 billion\\* \\| \\[a\\] \\<b\\> \\~2\\`”, **accurate**")


def test_a_body_edit_names_the_first_passage_and_counts_the_others():
    from dossier.changes import body_edit
    from dossier.diagnostics import Location
    from dossier.model import Article

    def article(body: str) -> Article:
        return Article("deal", "The deal", "daily", "news", None, None, None, None, None, body, 6,
                       Location("content/articles/deal.md", 1))

    old = "One two three four five.\n\nSix seven eight.\n\nNine ten finalised eleven.\n"
    new = old.replace("seven", "SEVEN").replace("finalised", "finalized")
    edit_ = body_edit(article(old), article(new))
    assert (edit_.line, edit_.old, edit_.new, edit_.passages) == (
        8, "three four five. Six seven eight. Nine ten finalised",
        "three four five. Six SEVEN eight. Nine ten finalized", 2)
    inserted = body_edit(article(old), article("Zero.\n" + old))
    assert (inserted.line, inserted.old, inserted.new) == (6, "One two three four five.",
                                                           "Zero. One two three four five.")


# ---- issue 18: title quotes, bottom lines, the site's new settings -------------------------

def test_a_quote_moved_from_the_body_to_the_title_is_said_to_be(repo):
    commit(repo, {"annotations.yaml": edit(ANNOTATIONS, ('    quote: "the deal was final"\n    suffix: "."\n',
                                                         '    field: title\n    quote: "The deal"\n'))})
    result = diff(repo)
    assert result.returncode == 0
    assert result.stdout.splitlines()[4:7] == [
        "### Annotations", "",
        "- changed `final` in `deal`: field **body** → **title**; quote “the deal was final” → “The deal”; "
        "suffix “.” → *none*; quote re-anchored from the body (line 6) to the title (line 2) (now “**The deal**”)"]


def test_assessments_and_the_sites_summary_and_publication_date_are_compared(repo):
    commit(repo, {"annotations.yaml": edit(ANNOTATIONS, (
        "  published: 2025-06-20\n", "  published: 2025-06-21\n  summary: Meta paid.\n"))
        + "assessments:\n  deal: {summary: It holds up., updated: 2025-09-01}\n"})
    result = diff(repo)
    assert result.returncode == 0
    assert result.stdout.splitlines() == [
        heading(repo), "",
        "Assessments: 1 added · Site settings: 1 changed · Pages: 4 changed", "",
        "### Assessments", "",
        "- added `deal`: “It holds up.”", "",
        "### Site settings", "",
        "- changed `site`: summary added: “Meta paid.”; published 2025-06-20 → 2025-06-21", "",
        "### Pages whose output changes", "",
        # the claim page's ClaimReview is dated by site.published
        "- changed: `/`, `/articles/`, `/articles/deal/`, `/claims/deal-amount/`"]
