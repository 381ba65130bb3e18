"""The static search index: Pagefind (PyPI `pagefind[bin]`) run over the finished site.

A site of up to one and a half times bundle_pages() pages is indexed in one bundle,
pagefind/. A larger one is split into shards of about bundle_pages() pages, by a hash of
each page's path: each shard is indexed by its own Pagefind process (two at a time, so
Pagefind's memory, about half a megabyte per article page, stays bounded) into its own
bundle (pagefind/shard-N/), which the search page merges with Pagefind's mergeIndex (the list
is pagefind/dossier-shards.json). Each bundle also holds a vocabulary page, so that a merged
search finds exactly what one bundle would (see *vocabulary pages* below), and each is kept
in the build cache by the paths and bytes of its pages and its vocabulary.

Only the pages that Pagefind would index go to it: those with a data-pagefind-body element,
or, when no page has one, every page (Pagefind's own rule).
"""
from __future__ import annotations

import gzip
import hashlib
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .cache import Store, digest, key as cache_key
from .interrupt import blocked_interrupts, die_with_parent
from .write import OutputError

BUNDLE = "pagefind"
SHARDS_FILE = "dossier-shards.json"
"""In the first bundle: the paths of the other bundles, relative to it, for search.js to merge,
and the ids of the vocabulary pages, which it never shows."""
BUNDLE_PAGES = 1000
"""About the most pages one bundle holds once a site is split (DOSSIER_SEARCH_BUNDLE_PAGES
overrides it): Pagefind holds about half a megabyte per article page while it indexes."""
VOCABULARY = "_dossier-vocabulary"
"""Where, in a bundle's pages, its vocabulary page is (one per language): no page of a site
can be there (every slug and id starts with a letter or digit: load.SLUG, validate.ID_RE)."""
INDEXABLE = re.compile(rb"<[A-Za-z][^<>]*?\sdata-pagefind-body(?=[\s=/>])")
"""An element whose content Pagefind indexes, ignoring the rest of the site."""
INDEX_ONLY = ("pagefind-entry.json", "index/", "fragment/", "filter/")
"""What a merged bundle needs (its entry, its metadata file and its index); the scripts,
styles and WebAssembly come from the first."""


def index_site(folder: Path, written: list | None = None, store: Store | None = None,
               processes: int | None = None) -> list[str]:
    """Write the Pagefind bundles of the pages `written` (site.Written: path, digest,
    indexable; None: every page in `folder`) into folder/pagefind/, replacing what is there
    (deterministic for the same pages); from `store` where it has a bundle. Returns the cache
    files used."""
    if written is None:
        written = _pages_in(folder)
    pages = sorted(((w.path, w.digest) for w in written if w.indexable), key=lambda p: p[0]) \
        or sorted((w.path, w.digest) for w in written)
    count = shard_count(len(pages))
    shards: list[list[tuple[str, str]]] = [[] for _ in range(count)]
    for page in pages:
        shards[shard_of(page[0], count)].append(page)
    shards = [shard for shard in shards if shard]
    names = ["" if n == 0 else f"shard-{n}/" for n in range(len(shards))]
    extras = vocabulary_pages(folder, shards, processes) if len(shards) > 1 else [{}]
    work = Path(tempfile.mkdtemp(prefix=".index-", dir=folder))
    used: list[str] = []
    try:
        bundles = [work / f"bundle-{n}" for n in range(len(shards))]
        keys = [cache_key("search", str(n), json.dumps(shard), json.dumps(sorted(extras[n].items())))
                for n, shard in enumerate(shards)]
        todo = [n for n in range(len(shards)) if store is None or not _restore(store, keys[n], bundles[n], used)]
        for n in _run_indexers(folder, [(n, shards[n], extras[n], work / f"site-{n}", bundles[n]) for n in todo],
                               processes or _processes()):
            if store is not None:
                _keep(store, keys[n], bundles[n], used)
        hidden = sorted(i for n, bundle in enumerate(bundles) if extras[n] for i in vocabulary_ids(bundle))
        for n in range(1, len(bundles)):
            os.rename(bundles[n], bundles[0] / names[n].rstrip("/"))
        (bundles[0] / SHARDS_FILE).write_text(json.dumps({"merge": names[1:], "hidden": hidden}) + "\n",
                                              encoding="utf-8")
        target = folder / BUNDLE
        if target.exists():  # serve's output: the index of an earlier build, replaced
            os.rename(target, work / "old")
        os.rename(bundles[0], target)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return used


def bundle_pages() -> int:
    value = os.environ.get("DOSSIER_SEARCH_BUNDLE_PAGES", "")
    return max(1, int(value)) if value.isdigit() else BUNDLE_PAGES


def shard_count(pages: int) -> int:
    """How many bundles `pages` pages are indexed in: one up to one and a half times
    bundle_pages(), then bundles of about bundle_pages() each."""
    size = bundle_pages()
    return 1 if pages <= size * 3 // 2 else math.ceil(pages / size)


def shard_of(path: str, count: int) -> int:
    """The shard of a page: a hash of its path (stable from build to build), modulo `count`."""
    return int.from_bytes(hashlib.blake2b(path.encode("utf-8"), digest_size=8).digest(), "big") % count


@dataclass(frozen=True)
class _Page:
    path: str
    digest: str
    indexable: bool


def _pages_in(folder: Path) -> list[_Page]:
    """The HTML pages in `folder` (serve's output), as a build's `written` lists them."""
    pages = []
    for path in sorted(folder.rglob("*.html")):
        relpath = path.relative_to(folder).as_posix()
        if relpath.startswith((BUNDLE + "/", ".")):
            continue
        data = path.read_bytes()
        pages.append(_Page(relpath, digest(data), INDEXABLE.search(data) is not None))
    return pages


# ---- vocabulary pages ----------------------------------------------------------------------
# A bundle that lacks a searched word answers with the longest word it has that the term
# starts with (Pagefind's fallback, for words nobody wrote), so on an index merged from several
# bundles "nonvoting", written in one article, would also find every page of the other
# bundles that says "no". Each bundle is therefore given one more page, its vocabulary page:
# every word of the other bundles' pages that its own pages lack. Every bundle then knows
# every word of the site, finds a searched word wherever the site has it, and falls back only
# where one bundle of the whole site would; search.js never shows the vocabulary pages.
# The words are taken generously (the text of each whole page, with tags removed and with
# tags as spaces): a word too many costs a little index, a word too few a wrong result.

_TAG = re.compile(r"<[^>]*>")
_INDEXED = re.compile(INDEXABLE.pattern.decode("ascii"))
_UNINDEXED = re.compile(r"<(script|style)\b.*?</\1\s*>", re.S | re.I)
_LANG = re.compile(r"<html\b[^>]*?\slang=[\"']?([A-Za-z0-9-]+)", re.I)


def vocabulary_pages(folder: Path, shards: list[list[tuple[str, str]]], processes: int | None = None) -> list[dict[str, str]]:
    """For each shard: language → the text of its vocabulary page (the words of the other
    shards that it lacks, sorted), for the languages the other shards have pages in."""
    from .parallel import map_chunks
    pages = [(n, path) for n, shard in enumerate(shards) for path, _ in shard]
    own: list[dict[str, set[str]]] = [{} for _ in shards]
    for n, language, words in map_chunks(_words, pages, folder, processes):
        own[n].setdefault(language, set()).update(words)
    every: dict[str, set[str]] = {}
    for words in own:
        for language, those in words.items():
            every.setdefault(language, set()).update(those)
    ordered = {language: sorted(those) for language, those in sorted(every.items())}  # sorted once, not per shard
    vocabularies = []
    for mine in own:
        lacking = {language: " ".join([word for word in words if word not in mine.get(language, ())])
                   for language, words in ordered.items()}
        vocabularies.append({language: text for language, text in lacking.items() if text})
    return vocabularies


def _words(folder: Path, pages: list[tuple[int, str]]) -> list[tuple[int, str, set[str]]]:
    """(shard, language, the words of its pages among `pages`), in the worker processes."""
    found: dict[tuple[int, str], set[str]] = {}
    for n, path in pages:
        text = (folder / path).read_text(encoding="utf-8", errors="replace")
        language = _LANG.search(text[:4096])
        start = _INDEXED.search(text)  # Pagefind reads nothing before the first such element
        pieces = _TAG.split(_UNINDEXED.sub(" ", text[start.start() if start else max(0, text.find("<body")):]))
        bag = found.setdefault((n, language.group(1).lower() if language else ""), set())
        bag.update(" ".join(pieces).split())
        bag.update("".join(pieces).split())
    return [(n, language, words) for (n, language), words in found.items()]


def _vocabulary_html(language: str, text: str) -> str:
    lang = f' lang="{language}"' if language else ""
    return (f'<!doctype html>\n<html{lang}><head><meta charset="utf-8"><title>Vocabulary</title></head>'
            f'<body><main data-pagefind-body><p>{text.replace("<", "&lt;")}</p></main></body></html>\n')


def vocabulary_ids(bundle: Path) -> list[str]:
    """The Pagefind ids of the bundle's vocabulary pages (their fragments' URLs say so)."""
    ids = []
    try:
        entry = json.loads((bundle / "pagefind-entry.json").read_text(encoding="utf-8"))
        for info in entry["languages"].values():
            pages = _read(bundle / f"pagefind.{info['hash']}.pf_meta")[1]
            # the vocabulary page is by far the longest: look there first, then everywhere
            for page_id, _ in sorted(pages, key=lambda p: -p[1]):
                if _fragment_url(bundle, page_id).startswith(f"/{VOCABULARY}/"):
                    ids.append(page_id)
                    break
    except (OSError, ValueError, KeyError, IndexError, TypeError) as exc:
        raise OutputError(f"the search index has an unexpected layout ({exc}); build with --no-search") from None
    return ids


def _fragment_url(bundle: Path, page_id: str) -> str:
    data = gzip.decompress((bundle / "fragment" / f"{page_id}.pf_fragment").read_bytes())
    if not data.startswith(SIGNATURE):
        raise ValueError("not a Pagefind fragment")
    return json.loads(data[len(SIGNATURE):])["url"]


def _processes() -> int:
    from .parallel import workers
    return workers()


def _run_indexers(folder: Path, jobs: list[tuple[int, list, dict, Path, Path]], limit: int):
    """Run Pagefind for each job (shard number, its pages, its vocabulary pages' text by
    language, a folder for links to them, the bundle to write), `limit` at a time; yields each shard's number once its bundle is done.
    On any error or interruption the indexers still running are stopped."""
    waiting, running = list(jobs), {}
    try:
        while waiting or running:
            while waiting and len(running) < max(1, limit):
                n, pages, extra, site, bundle = waiting.pop(0)
                _link_pages(folder, pages, site)
                for language, text in extra.items():
                    page = site / VOCABULARY / (language or "page") / "index.html"
                    page.parent.mkdir(parents=True, exist_ok=True)
                    page.write_text(_vocabulary_html(language, text), encoding="utf-8")
                with blocked_interrupts():  # no Ctrl-C between starting it and knowing to stop it
                    running[n] = (_start_indexer(site, bundle), site, bundle)
            done = [n for n, (process, _, _) in running.items() if process.poll() is not None]
            if not done:
                time.sleep(0.01)
            for n in done:
                process, site, bundle = running.pop(n)
                _finish_indexer(process, site, bundle, first=n == 0)
                yield n
    finally:
        for process, _, _ in running.values():
            process.kill()
            process.wait()


def _link_pages(folder: Path, pages: list[tuple[str, str]], site: Path) -> None:
    """The shard's pages in a folder of their own (hard links, or copies), for Pagefind's --site."""
    for path, _ in pages:
        link = site / path
        link.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(folder / path, link)
        except OSError:
            shutil.copyfile(folder / path, link)


def _start_indexer(site: Path, bundle: Path) -> subprocess.Popen:
    """Pagefind over the pages in `site`, writing `bundle`; it dies with this process."""
    command = [sys.executable, "-m", "pagefind", "--site", str(site), "--output-path", str(bundle), "--quiet"]
    log = open(site.with_name(site.name + ".log"), "w+", encoding="utf-8", errors="replace")
    try:
        return subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                preexec_fn=die_with_parent)
    except OSError as exc:
        raise OutputError(f"the search indexer could not run: {exc}") from None
    finally:
        log.close()


def _finish_indexer(process: subprocess.Popen, site: Path, bundle: Path, first: bool) -> None:
    if process.returncode != 0 or not (bundle / "pagefind-entry.json").is_file():
        log = site.with_name(site.name + ".log").read_text(encoding="utf-8", errors="replace")
        detail = log.strip().splitlines()[-3:]
        raise OutputError("the search indexer (Pagefind) failed: " + " ".join(detail)
                          + " — install it with pip install 'pagefind[bin]', or build with --no-search")
    shutil.rmtree(site, ignore_errors=True)
    stabilise(bundle)
    if not first:  # a merged bundle: its index alone
        for entry in list(bundle.iterdir()):
            name = entry.name + ("/" if entry.is_dir() else "")
            if not (name in INDEX_ONLY or (entry.name.startswith("pagefind.") and entry.name.endswith(".pf_meta"))):
                shutil.rmtree(entry) if entry.is_dir() else entry.unlink()


def _restore(store: Store, shard_key: str, bundle: Path, used: list[str]) -> bool:
    """Put the shard's files from the cache into `bundle` (hard links where it can, as for the
    pages); False when it does not have them all."""
    manifest = store.get("search", shard_key)
    if type(manifest) is not dict or not manifest:
        return False
    files: dict[str, tuple[str, bytes]] = {}
    for relpath, name in manifest.items():
        if type(name) is not str or not _plain_relpath(relpath):
            return False
        data = store.read_blob(name)
        if data is None:
            return False
        files[relpath] = name, data
    for relpath, (name, data) in files.items():
        path = bundle / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        store.place_blob(name, data, path)
    used += [store.entry_path("search", shard_key)] + [store.blob_path(name) for name in manifest.values()]
    return True


def _keep(store: Store, shard_key: str, bundle: Path, used: list[str]) -> None:
    manifest = {}
    for path in sorted(bundle.rglob("*")):
        if path.is_file():
            manifest[path.relative_to(bundle).as_posix()] = store.put_blob(path.read_bytes(), path)
    store.put("search", shard_key, manifest)
    used += [store.entry_path("search", shard_key)] + [store.blob_path(name) for name in manifest.values()]


def _plain_relpath(relpath: Any) -> bool:
    """A relative path of ordinary names: nothing read from the cache is written elsewhere."""
    return (type(relpath) is str and relpath and not relpath.startswith("/") and "\\" not in relpath
            and all(part not in ("", ".", "..") for part in relpath.split("/")))


# ---- making the index reproducible ---------------------------------------------------------
# Pagefind writes its filter indexes with their values in hash-map order, so their bytes and
# hashed names change from run to run (Pagefind issue #638). Sorting the values and renaming
# the files by their content makes two builds of the same site byte-identical. The files are
# gzip-compressed CBOR behind a "pagefind_dcd" signature; anything unexpected is left alone.

SIGNATURE = b"pagefind_dcd"


def stabilise(bundle: Path) -> None:
    """Rewrite the filter files and the metadata that names them in a canonical order."""
    try:
        entry_path = bundle / "pagefind-entry.json"
        entry = json.loads(entry_path.read_text(encoding="utf-8"))
        for language, info in entry["languages"].items():
            meta_path = bundle / f"pagefind.{info['hash']}.pf_meta"
            meta = _read(meta_path)
            filters = meta[3]
            renamed = {}
            for name, old in filters:
                path = bundle / "filter" / f"{old}.pf_filter"
                data = _read(path)
                data[1] = sorted(data[1], key=lambda item: str(item[0]))
                new = _write(bundle / "filter", data, old.split("_", 1)[0] + "_", ".pf_filter", 7)
                if new != path:
                    path.unlink()
                renamed[old] = new.name[: -len(".pf_filter")]
            meta[3] = sorted([[name, renamed[old]] for name, old in filters], key=lambda f: f[0])
            new_meta = _write(bundle, meta, f"pagefind.{language}_", ".pf_meta", 10)
            if new_meta != meta_path:
                meta_path.unlink()
            info["hash"] = new_meta.name[len("pagefind."): -len(".pf_meta")]
        entry_path.write_text(json.dumps(entry, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
    except (OSError, ValueError, KeyError, IndexError, TypeError):
        return  # a Pagefind version with another layout: keep its own files


def _read(path: Path):
    data = gzip.decompress(path.read_bytes())
    if not data.startswith(SIGNATURE):
        raise ValueError("not a Pagefind file")
    value, end = _cbor_decode(data, len(SIGNATURE))
    if end != len(data):
        raise ValueError("trailing bytes")
    return value


def _write(folder: Path, value, prefix: str, suffix: str, digits: int) -> Path:
    data = gzip.compress(SIGNATURE + _cbor_encode(value), mtime=0)
    path = folder / f"{prefix}{hashlib.sha256(data).hexdigest()[:digits]}{suffix}"
    path.write_bytes(data)
    return path


def _cbor_decode(data: bytes, i: int):
    """A minimal CBOR (RFC 8949) decoder for the definite-length items Pagefind writes."""
    head = data[i]
    major, info = head >> 5, head & 31
    i += 1
    if major == 7:
        simple = {20: False, 21: True, 22: None}
        if info in simple:
            return simple[info], i
        size = {25: 2, 26: 4, 27: 8}[info]
        return _Float(data[i - 1:i + size]), i + size
    if info < 24:
        arg = info
    else:
        size = {24: 1, 25: 2, 26: 4, 27: 8}[info]
        arg, i = int.from_bytes(data[i:i + size], "big"), i + size
    if major == 0:
        return arg, i
    if major == 1:
        return -1 - arg, i
    if major == 2:
        return bytes(data[i:i + arg]), i + arg
    if major == 3:
        return data[i:i + arg].decode("utf-8"), i + arg
    if major == 4:
        items = []
        for _ in range(arg):
            item, i = _cbor_decode(data, i)
            items.append(item)
        return items, i
    if major == 5:
        pairs = {}
        for _ in range(arg):
            key, i = _cbor_decode(data, i)
            pairs[key], i = _cbor_decode(data, i)
        return pairs, i
    raise ValueError(f"CBOR major type {major}")


class _Float(bytes):
    """A float kept as its encoded bytes, so it is written back exactly."""


def _cbor_encode(value) -> bytes:
    if isinstance(value, _Float):
        return bytes(value)
    if value is None or isinstance(value, bool):
        return bytes([0xF6 if value is None else 0xF5 if value else 0xF4])
    if isinstance(value, int):
        return _cbor_head(0, value) if value >= 0 else _cbor_head(1, -1 - value)
    if isinstance(value, bytes):
        return _cbor_head(2, len(value)) + value
    if isinstance(value, str):
        raw = value.encode("utf-8")
        return _cbor_head(3, len(raw)) + raw
    if isinstance(value, list):
        return _cbor_head(4, len(value)) + b"".join(_cbor_encode(v) for v in value)
    if isinstance(value, dict):
        return _cbor_head(5, len(value)) + b"".join(_cbor_encode(k) + _cbor_encode(v) for k, v in value.items())
    raise ValueError(f"cannot encode {type(value).__name__}")


def _cbor_head(major: int, arg: int) -> bytes:
    if arg < 24:
        return bytes([major << 5 | arg])
    for info, size in ((24, 1), (25, 2), (26, 4), (27, 8)):
        if arg < 1 << (8 * size):
            return bytes([major << 5 | info]) + arg.to_bytes(size, "big")
    raise ValueError("integer too large")
