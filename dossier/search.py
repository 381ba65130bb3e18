"""The static search index: Pagefind (PyPI `pagefind[bin]`) run over the finished site."""
from __future__ import annotations

import gzip
import hashlib
import json
import subprocess
import sys
from pathlib import Path

from .write import OutputError


def index_site(folder: Path) -> None:
    """Write the Pagefind bundle into folder/pagefind/ (deterministic for the same pages)."""
    command = [sys.executable, "-m", "pagefind", "--site", str(folder), "--output-subdir", "pagefind", "--quiet"]
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=600)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise OutputError(f"the search indexer could not run: {exc}") from None
    if result.returncode != 0 or not (folder / "pagefind" / "pagefind.js").is_file():
        detail = (result.stderr or result.stdout).strip().splitlines()[-3:]
        raise OutputError("the search indexer (Pagefind) failed: " + " ".join(detail)
                          + " — install it with pip install 'pagefind[bin]', or build with --no-search")
    stabilise(folder / "pagefind")


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
