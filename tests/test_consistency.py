"""Consistency checks: facts in the annotation layer that contradict each other fail `check`
with the file, the line of the field to fix, and how to fix it."""
from __future__ import annotations

import subprocess
import sys

from dossier.consistency import share_percent

from conftest import BASE_ANNOTATIONS, BUILD_PY, DEAL_ASSESSMENT, article, build_env, formatted, validate_strings

# In BASE_ANNOTATIONS, `meta:` (the entity) is on line 12 and `type: company` on line 14.
ENTITIES = """\
entities:
  meta:
    name: Meta
    type: company
"""


def with_relations(relations: str, extra_entities: str = "") -> str:
    """BASE_ANNOTATIONS whose entity `meta` has these relations (first relation on line 16)."""
    block = "    relations:\n" + "".join(f"      - {line}\n" for line in relations.strip().splitlines())
    others = "  scale:\n    name: Scale\n    type: company\n  accel:\n    name: Accel\n    type: company\n" + extra_entities
    return BASE_ANNOTATIONS.replace(ENTITIES, ENTITIES + block + others)


def problems(annotations: str = BASE_ANNOTATIONS, articles: dict | None = None) -> list[str]:
    return formatted(validate_strings(annotations, articles)[1])


def test_a_relation_that_ends_before_it_begins_is_an_error_at_until():
    assert problems(with_relations("{type: ceo, target: scale, since: 2025-07, until: 2025-06}")) == [
        "annotations.yaml:16:52: error: the relation 'ceo' of 'meta' to 'scale' ends (2025-06) before it begins "
        "(2025-07) (swap 'since' and 'until', or correct the date that is wrong)"]


def test_partial_dates_conflict_only_when_every_reading_does():
    assert problems(with_relations("""
        {type: ceo, target: scale, since: 2025-06, until: 2025-06-01}
        {type: cfo, target: scale, since: 2025, until: 2025-03}
        {type: cto, target: scale, since: 2016, until: 2016}
        """.replace("        ", ""))) == []


def test_shares_held_at_the_same_time_over_100_percent_are_an_error_at_the_share():
    assert problems(with_relations("""
        {type: investor, target: scale, share: "49%", since: 2025-06}
        {type: investor, target: accel, share: "60%", since: 2025-08}
        """.replace("        ", ""))) == [
        "annotations.yaml:17:41: error: the shares in 'meta' add up to 109% from 2025-08: "
        "49% scale (line 16), 60% accel (line 17) (correct a share, or end the earlier stake with 'until:')"]


def test_shares_that_follow_each_other_do_not_add_up():
    assert problems(with_relations("""
        {type: investor, target: scale, share: "60%", since: 2020, until: 2025-06}
        {type: investor, target: accel, share: "60%", since: 2025-06}
        {type: investor, target: scale, share: "40%", since: 2025-06}
        {type: partner, target: accel, share: "a majority"}
        """.replace("        ", ""))) == []


def test_shares_without_dates_are_held_at_the_same_time():
    assert problems(with_relations("""
        {type: investor, target: scale, share: "70.5%"}
        {type: investor, target: accel, share: "30 %"}
        """.replace("        ", ""))) == [
        "annotations.yaml:17:41: error: the shares in 'meta' add up to 100.5% at the same time: "
        "70.5% scale (line 16), 30% accel (line 17) (correct a share, or end the earlier stake with 'until:')"]


def test_share_percent_reads_percentages_only():
    assert [share_percent(s) for s in ("49%", " 12.5 % ", "100%", "half", "49", None)] == [
        49.0, 12.5, 100.0, None, None, None]


def test_an_article_retrieved_before_it_was_published_is_an_error_at_retrieved():
    text = article("Meta bought a stake.\n", extra="published: 2025-06-12\nretrieved: 2025-06-11\n")
    assert problems(articles={"deal": text}) == [
        "content/articles/deal.md:6:1: error: the article was retrieved (2025-06-11) before it was published "
        "(2025-06-12) (a copy cannot be taken before the article exists: correct 'published' or 'retrieved')"]
    same_month = article("Meta bought a stake.\n", extra="published: 2025-06\nretrieved: 2025-06-01\n")
    assert problems(articles={"deal": same_month}) == []


def test_a_republication_dated_before_its_original_is_an_error_at_published():
    original = article("Meta bought a stake.\n", extra="published: 2025-06-12\n")
    copy = article("Meta bought a stake.\n", kind="republication", extra="published: 2025-06-10\nrepublishes: deal\n")
    assert problems(articles={"deal": original, "copy": copy}) == [
        "content/articles/copy.md:5:1: error: this republication is dated 2025-06-10, before the article it "
        "republishes, 'deal' (2025-06-12) (a copy cannot come before its original: correct this date or the one "
        "in content/articles/deal.md)"]
    later = copy.replace("2025-06-10", "2025-06")
    assert problems(articles={"deal": original, "copy": later}) == []


def test_articles_that_republish_each_other_are_an_error():
    one = article("Meta bought a stake.\n", kind="republication", extra="republishes: two\n")
    two = article("Meta bought a stake.\n", kind="republication", extra="republishes: one\n")
    assert problems(articles={"one": one, "two": two}) == [
        "content/articles/one.md:5:1: error: 'one' republishes 'two', which leads back to 'one' (only a copy names its "
        "original in 'republishes': remove it from the original)",
        "content/articles/two.md:5:1: error: 'two' republishes 'one', which leads back to 'two' (only a copy names its "
        "original in 'republishes': remove it from the original)"]


CLAIMS = """\
claims:
  deal-amount:
    statement: Meta paid $14.3 billion.
    verdict: accurate
    cite: [filing]
"""


def test_a_claim_no_annotation_tells_is_a_warning_and_an_error_with_strict(make_dossier):
    text = BASE_ANNOTATIONS.replace("annotations: []\n", CLAIMS + "annotations: []\n")
    assert problems(text) == [
        "annotations.yaml:20:3: warning: claim 'deal-amount' is not told by any annotation (add 'claim: "
        "deal-amount' to each annotation whose quote states it, or remove the claim)"]
    folder = make_dossier({"annotations.yaml": text})
    lenient = subprocess.run([sys.executable, str(BUILD_PY), "check", "--source", str(folder)],
                             capture_output=True, text=True, env=build_env())
    strict = subprocess.run([sys.executable, str(BUILD_PY), "check", "--strict", "--source", str(folder)],
                            capture_output=True, text=True, env=build_env())
    assert (lenient.returncode, strict.returncode) == (0, 1)
    assert "claim 'deal-amount' is not told by any annotation" in strict.stderr
    assert "Traceback" not in strict.stderr


def test_a_told_claim_has_no_warning_and_an_unknown_claim_is_an_error():
    told = BASE_ANNOTATIONS.replace("annotations: []\n", CLAIMS + """\
annotations:
  - id: price
    article: deal
    quote: Meta bought a stake
    kind: context
    claim: deal-amount
  - id: other
    article: deal
    quote: a data company
    kind: context
    claim: deal-amonut
""" + DEAL_ASSESSMENT)
    assert problems(told) == [
        "annotations.yaml:34:5: error: unknown claim 'deal-amonut' (did you mean 'deal-amount'?)"]
