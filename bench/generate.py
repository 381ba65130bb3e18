"""A synthetic dossier of N articles, deterministic from a seed, for benchmarks.

Each article has 600–1,500 words of Markdown with emphasis, links and lists; 10
annotations per article quote its own text (some across formatting); N/5 entities with
aliases that occur in the text; N/2 events; N references.

    python bench/generate.py OUT_DIR --articles 1000 [--seed 1]
"""
from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from dossier.anchor import find_quote, prepare  # noqa: E402  (quotes must anchor exactly once)
from dossier.markdown import parse_body  # noqa: E402

WORDS = ("the of and to in a is that for it as was with be by on not he this are or his from at which but have an "
         "they you were her she there been one all we their has would when if so what out up more who about into "
         "than them can only other time new some could these two may first then do any like my now over such our "
         "man me even most made after also did many before must through back years where much your way well down "
         "should because each just those people how too little state good very make world still own see men work "
         "long get here between both life being under never day same another know while last might us great old "
         "year off come since against go came right used take three report market data company deal stake label "
         "worker model review source claim evidence annotation investment board agency court price budget").split()
KINDS = ("fact-check", "context", "opinion", "boilerplate")
VERDICTS = ("accurate", "mostly-accurate", "mixed", "unsupported", "misleading", "inaccurate", "outdated")


def entity_names(n: int) -> list[tuple[str, str, str]]:
    """(id, name, alias) for n entities; names are capitalised pairs of made-up words."""
    rng = random.Random(7)
    syllables = ["ka", "lo", "mi", "ra", "ven", "tor", "shi", "pa", "dex", "ul", "bri", "on", "sta", "qu", "ze", "fi"]
    seen, out = set(), []
    while len(out) < n:
        first = "".join(rng.choice(syllables) for _ in range(rng.randint(2, 4))).capitalize()
        last = "".join(rng.choice(syllables) for _ in range(rng.randint(2, 4))).capitalize()
        if first in seen or last in seen or first == last:
            continue
        seen.update((first, last))
        i = len(out)
        out.append((f"e{i}-{first.lower()}-{last.lower()}", f"{first} {last}", f"{last} Group"))
    return out


def sentence(rng: random.Random, names: list[tuple[str, str, str]]) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(8, 22))]
    if rng.random() < 0.5:
        entity = rng.choice(names)
        words.insert(rng.randint(0, len(words)), entity[1] if rng.random() < 0.7 else entity[2])
    if rng.random() < 0.15:
        i = rng.randint(0, len(words) - 2)
        words[i] = f"*{words[i]} {words[i + 1]}*"
        del words[i + 1]
    if rng.random() < 0.1:
        i = rng.randint(0, len(words) - 1)
        words[i] = f"[{words[i]}](https://example.org/{rng.randint(1, 999)})"
    if rng.random() < 0.05:
        words.insert(rng.randint(0, len(words)), f"{rng.randint(1, 99)}%")
    text = " ".join(words)
    return text[0].upper() + text[1:] + "."


def article_body(rng: random.Random, names) -> str:
    target = rng.randint(600, 1500)
    blocks, count = [], 0
    while count < target:
        roll = rng.random()
        if roll < 0.08:
            block = "## " + " ".join(rng.choice(WORDS) for _ in range(rng.randint(2, 5))).capitalize()
        elif roll < 0.16:
            block = "\n".join("- " + sentence(rng, names) for _ in range(rng.randint(2, 4)))
        else:
            lines = [sentence(rng, names) for _ in range(rng.randint(2, 6))]
            block = "\n".join(lines)
        blocks.append(block)
        count += len(block.split())
    return "\n\n".join(blocks) + "\n"


def plain_text(markdown: str) -> list[str]:
    """Rough plain-text sentences of a generated body (formatting stripped) for quoting."""
    import re
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", markdown)
    text = text.replace("*", "").replace("## ", "").replace("- ", "")
    return [s.strip() for s in re.split(r"(?<=\.)\s+", text) if len(s.split()) >= 8]


def generate(out: Path, n: int, seed: int = 1) -> None:
    rng = random.Random(seed)
    if out.exists():
        shutil.rmtree(out)
    (out / "content" / "articles").mkdir(parents=True)
    names = entity_names(max(1, n // 5))
    refs = [f"ref-{i}" for i in range(n)]
    yaml_lines = ["site:", "  title: Synthetic dossier", "  base_url: https://example.org/bench/", "  language: en",
                  "  description: A generated dossier for benchmarks.", "  published: 2025-01-01", "sources:"]
    for s in range(10):
        yaml_lines += [f"  source-{s}:", f"    name: Source {s}", f"    rating: {('reliable', 'mixed', 'unreliable', 'unknown')[s % 4]}",
                       "    rationale: Generated."]
    yaml_lines.append("entities:")
    for i, (eid, name, alias) in enumerate(names):
        yaml_lines += [f"  {eid}:", f"    name: {name}", "    type: company", f"    aliases: [{alias}]",
                       f"    summary: Entity number {i}."]
        if i:
            yaml_lines += ["    relations:", f"      - {{type: partner, target: {names[i - 1][0]}, since: 2020, cite: [{refs[i % n]}]}}"]
    yaml_lines.append("references:")
    for i, ref in enumerate(refs):
        yaml_lines += [f"  {ref}:", f"    title: Reference {i}", "    publisher: Wire", f"    url: https://example.org/ref/{i}",
                       f"    date: {2000 + i % 25}-{1 + i % 12:02d}-{1 + i % 28:02d}"]
    yaml_lines.append("events:")
    for i in range(max(1, n // 2)):
        yaml_lines += [f"  - date: {2000 + i % 25}-{1 + i % 12:02d}" + (f"-{1 + i % 28:02d}" if i % 3 else ""),
                       f"    title: Event {i}", f"    entities: [{names[i % len(names)][0]}]", f"    cite: [{refs[i % n]}]"]
    yaml_lines.append("annotations:")
    for a in range(n):
        slug = f"article-{a:05d}"
        body = article_body(rng, names)
        published = f"{2015 + a % 10}-{1 + a % 12:02d}-{1 + a % 28:02d}"
        (out / "content" / "articles" / f"{slug}.md").write_text(
            f"---\ntitle: Article {a}\nsource: source-{a % 10}\npublished: {published}\nkind: news\n---\n{body}", encoding="utf-8")
        sentences = plain_text(body)
        searchable = prepare(parse_body(body).text)
        used = set()
        for k in range(10):
            quote = None
            for _ in range(20):
                s = rng.choice(sentences)
                words = s.split()
                start = rng.randint(0, max(0, len(words) - 8))
                candidate = " ".join(words[start:start + rng.randint(5, 8)])
                if candidate not in used and len(find_quote(searchable, candidate)) == 1:
                    quote = candidate
                    break
            if quote is None:
                continue
            used.add(quote)
            kind = KINDS[k % 4] if k % 5 else "fact-check"
            yaml_lines += [f"  - id: {slug}-n{k}", f"    article: {slug}", f"    quote: {json.dumps(quote)}", f"    kind: {kind}"]
            if kind == "fact-check":
                yaml_lines += [f"    verdict: {VERDICTS[(a + k) % len(VERDICTS)]}", "    note: Checked against the reference.",
                               f"    cite: [{refs[(a + k) % n]}]"]
            else:
                yaml_lines.append("    note: A generated note.")
    yaml_lines.append("assessments:")
    yaml_lines += [f"  article-{a:05d}: {{summary: A generated bottom line.}}" for a in range(n)]
    (out / "annotations.yaml").write_text("\n".join(yaml_lines) + "\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out", type=Path)
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    generate(args.out, args.articles, args.seed)


if __name__ == "__main__":
    main()
