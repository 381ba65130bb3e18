#!/usr/bin/env python3
"""Benchmark Dossier against the floor of its own stack, in one command.

    python bench/run.py --articles 1000 [--repeat 3] [--skip-serve]
    python bench/run.py --scales 1000,10000 --repeat 3 --report bench/results.md --json bench/results.json

For each N it generates a dossier with the project's generator (bench/gen_dossier.py), then
times, each as a fresh process tree (wall time, processor time, peak memory of every
process, Pagefind included):

  floor        bench/floor.py: the least any generator on this stack must do for the dossier
               (PyYAML's C loader for annotations.yaml, markdown-it-py, one trivial Jinja2
               template, on the same number of processes), interleaved with
  cold build   `build.py` into a new output folder with an empty build cache: floor, build,
               floor, build, … (--repeat times), so both see the same machine;
  no search    the same with --no-search;
  warm build   after each cold build series, one article edited (a sentence appended) and
               `build.py` run again with the cache the cold build left (--repeat edits);
               its output is then compared with a cold build of the same files (--no-cache);
  check        `build.py check`;
  serve        (unless --skip-serve) `build.py serve` and the time from saving an edit
               until the article's page on disk shows it (see serving.py).

The engine is a black box: only its command line and its output folder are used. See
bench/README.md for how to read the figures.
"""
from __future__ import annotations

import argparse
import filecmp
import json
import math
import os
import platform
import re
import secrets
import signal
import statistics
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from measure import ROOT, Run, exit_on_signal, fresh, kill_leftovers, run_measured, tail  # noqa: E402
from serving import ArticleEdit, ServerDied, bench_serve  # noqa: E402

BUILD = ROOT / "build.py"
GENERATE = ROOT / "bench" / "gen_dossier.py"
FLOOR = ROOT / "bench" / "floor.py"
PUBLISHED = "2025-01-01"
"""site.published, which gen_dossier.py does not write and a fact check needs (issue 18)."""


# ---------------------------------------------------------------------------- the dossier
def make_buildable(src: Path) -> None:
    """What gen_dossier.py (written before issue 18) leaves out and Dossier now requires or
    warns about: the date the fact checks were published, and a bottom line per article. The
    floor reads the same file, so it parses these lines too."""
    path = src / "annotations.yaml"
    lines = path.read_text(encoding="utf-8").split("\n")
    site = lines.index("site:")
    end = site + 1
    while lines[end].startswith("  "):
        end += 1
    lines.insert(end, f"  published: {PUBLISHED}")
    slugs = sorted(p.stem for p in (src / "content" / "articles").glob("*.md"))
    text = "\n".join(lines).rstrip("\n") + "\n\nassessments:\n" + "".join(
        f"  {slug}:\n    summary: The figures it reports hold up; the framing of the dispute does not.\n" for slug in slugs)
    path.write_text(text, encoding="utf-8")


def count_annotations(src: Path) -> int:
    text = (src / "annotations.yaml").read_text(encoding="utf-8")
    return len(re.findall(r"(?m)^\s*- id:", text))


def tree_differences(a: Path, b: Path) -> list[str]:
    """Files that differ between two output folders (by content), or exist in one only."""
    out = []

    def walk(compared: filecmp.dircmp, prefix: str) -> None:
        out.extend(prefix + name for name in compared.left_only + compared.right_only + compared.funny_files)
        _, mismatch, errors = filecmp.cmpfiles(compared.left, compared.right, compared.common_files, shallow=False)
        out.extend(prefix + name for name in mismatch + errors)
        for name, sub in compared.subdirs.items():
            walk(sub, f"{prefix}{name}/")
    walk(filecmp.dircmp(a, b), "")
    return sorted(out)


# -------------------------------------------------------------------------------- one size
def bench_one(n: int, args) -> dict:
    base = Path(args.workdir).resolve() / f"n{n}"
    logs, src = base / "logs", base / "src"
    base.mkdir(parents=True, exist_ok=True)
    fresh(logs)
    r: dict = {"n": n, "seed": args.seed, "processes": args.processes, "failures": [], "loads": []}

    def say(message: str) -> None:
        print(f"[N={n}] {message}", file=sys.stderr, flush=True)

    if not (args.keep and (src / "annotations.yaml").is_file()):
        say(f"generating {n} articles into {src}")
        gen = run_measured([sys.executable, str(GENERATE), str(n), str(fresh(src)), "--seed", str(args.seed),
                            "--procs", str(args.processes)], logs / "generate")
        if not gen.ok:
            raise RuntimeError(f"bench/gen_dossier.py failed (exit {gen.returncode}):\n{tail(gen.stderr)}")
        make_buildable(src)
        r["generate_s"] = gen.wall_s
    r["articles"] = len(list((src / "content" / "articles").glob("*.md")))
    r["annotations"] = count_annotations(src)
    lock = src / "annotations.lock"  # written by each build: removed so every run sees the same input

    def timed(name: str, command: list[str], out: Path | None, clean: tuple[Path, ...] = ()) -> Run | None:
        for path in (out, *clean):
            if path is not None:
                fresh(path)
        lock.unlink(missing_ok=True)
        r["loads"].append(os.getloadavg()[0])
        run = run_measured(command, logs / f"{name}-{len(r.get(name, {}).get('runs', [])) + 1}", timeout=args.timeout)
        say(f"{name:<10} {run.wall_s:7.2f}s  cpu {run.cpu_s:7.2f}s  exit {run.returncode}  PSS tree {run.tree_pss_mb:.0f} MB"
            f"  RSS tree {run.tree_rss_mb:.0f} MB  largest {run.max_rss_mb:.0f} MB")
        if not run.ok:
            r["failures"].append(f"{name}: exit {run.returncode}: {tail(run.stderr, 4)}")
            say(f"{name} FAILED:\n{tail(run.stderr)}")
            return None
        entry = r.setdefault(name, {"runs": []})
        entry["runs"].append({"s": run.wall_s, "cpu_s": run.cpu_s, "pss_mb": run.tree_pss_mb, "rss_mb": run.tree_rss_mb,
                              "max_rss_mb": run.max_rss_mb, "processes": run.tree_processes,
                              "stderr_tail": tail(run.stderr, 2)})
        for key in ("s", "cpu_s"):
            entry[key] = statistics.median(x[key] for x in entry["runs"])
        for key in ("pss_mb", "rss_mb", "max_rss_mb", "processes"):
            entry[key] = max(x[key] for x in entry["runs"])
        return run

    build_out, cache = base / "out-build", base / "cache"
    cold = [sys.executable, str(BUILD), "--source", str(src), "--out", str(build_out), "--cache", str(cache)]
    floor_out = base / "out-floor"
    for _ in range(args.repeat):  # interleaved: floor, build, floor, build, …
        timed("floor", [sys.executable, str(FLOOR), str(src), str(floor_out), "--procs", str(args.processes)], floor_out)
        timed("build", cold, build_out, (cache,))
    if "build" in r:
        r["pages"] = sum(1 for _ in build_out.rglob("*.html"))
    nosearch_out = base / "out-nosearch"
    for _ in range(0 if args.skip_nosearch else args.repeat):
        timed("nosearch", [sys.executable, str(BUILD), "--source", str(src), "--out", str(nosearch_out), "--no-search",
                           "--no-cache"], nosearch_out)

    slug = sorted(p.stem for p in (src / "content" / "articles").glob("*.md"))[min(42, r["articles"] - 1)]
    edit = ArticleEdit(src, slug)
    if "build" in r:  # the cache and the output the last cold build left
        for _ in range(args.repeat):
            token = "zq" + secrets.token_hex(5)
            edit.apply(token)
            if timed("warm", cold, None):
                page = build_out / "articles" / slug / "index.html"
                if token not in page.read_text(encoding="utf-8"):
                    r["failures"].append(f"warm: the edit {token} is not on {page}")
        if args.verify and "warm" in r:
            say("verify: a cold build of the same files, without the cache, to compare with the warm build")
            verify_out = base / "out-verify"
            if timed("verify", [sys.executable, str(BUILD), "--source", str(src), "--out", str(verify_out),
                                "--no-cache"], verify_out):
                differences = tree_differences(build_out, verify_out)
                r["identical"] = not differences
                if differences:
                    r["failures"].append(f"warm build differs from a cold build: {differences[:5]}")
        edit.restore()
    if not args.skip_check:
        timed("check", [sys.executable, str(BUILD), "check", "--source", str(src), "--no-cache"], None)

    if not args.skip_serve:
        build_s = r.get("build", {}).get("s", 60.0)
        edit_timeout = args.serve_timeout or max(30.0, 5 * build_s)
        say(f"serve: editing {slug}, {args.serve_reps} edits of each kind (timeout {edit_timeout:.0f}s each)")
        lock.unlink(missing_ok=True)
        if args.layouts_before_serve:
            (src / "layouts").mkdir(exist_ok=True)
        try:
            r["serve"] = bench_serve(src, fresh(base / "out-serve"), logs, slug, args.serve_reps, args.serve_spacing,
                                     args.serve_settle, edit_timeout, start_timeout=max(120.0, 20 * build_s))
            for kind in ("article", "annotation", "template"):
                missed = sum(t is None for t in r["serve"][kind])
                if missed:
                    r["failures"].append(f"serve: {missed} of {len(r['serve'][kind])} {kind} edits never reached "
                                         f"the page within {edit_timeout:.0f}s"
                                         + (" (gave up on the rest)" if r["serve"].get(f"{kind}_gave_up") else ""))
            for edit in r["serve"].get("reload_before_page", []):
                r["failures"].append(f"serve: the browser was told to reload before the edited page was on disk ({edit})")
            served, on_disk = r["serve"]["home_served_bytes"], r["serve"]["home_file_bytes"]
            if served < on_disk:  # the live-reload script makes the served page a little longer, never shorter
                r["failures"].append(f"serve: GET / returned {served} bytes but index.html has {on_disk} (truncated)")
        except (ServerDied, TimeoutError, ValueError, OSError) as exc:
            r["failures"].append(f"serve: {exc}")
            say(f"serve FAILED: {exc}")
        finally:
            for path in (src / "layouts", ):
                if path.is_dir():
                    fresh(path)

    if not args.keep:
        for folder in (src, floor_out, build_out, cache, nosearch_out, base / "out-verify", base / "out-serve"):
            fresh(folder)
        for leftover in base.glob(".out-*"):  # temporary folders of an interrupted build
            fresh(leftover)
    return r


# ------------------------------------------------------------------------------ reporting
def machine() -> dict:
    model = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = "?"
    try:
        kib = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
        memory = f"{kib / 1024 / 1024:.1f} GiB"
    except (OSError, AttributeError):
        pass
    try:
        commit = subprocess.run(["git", "-C", str(ROOT), "describe", "--always", "--dirty"], capture_output=True,
                                text=True, timeout=10).stdout.strip() or "?"
    except OSError:
        commit = "?"
    versions = {}
    for package in ("markdown-it-py", "jinja2", "pyyaml", "pagefind"):
        try:
            from importlib.metadata import version
            versions[package] = version(package)
        except Exception:  # noqa: BLE001
            versions[package] = "?"
    return {"cpus": os.cpu_count(), "cpu_model": model, "memory": memory, "python": platform.python_version(),
            "platform": platform.platform(), "load_avg": os.getloadavg(), "commit": commit, "versions": versions,
            "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")}


def _s(r: dict, key: str) -> str:
    return f"{r[key]['s']:.2f}" if key in r else "–"


def _cpu(r: dict, key: str) -> str:
    return f"{r[key]['cpu_s']:.2f}" if key in r else "–"


def _ratio(r: dict, key: str, to: str, field: str = "s") -> str:
    return f"{r[key][field] / r[to][field]:.2f}×" if key in r and to in r else "–"


def _memory(r: dict, key: str) -> str:
    if key not in r:
        return "–"
    m = r[key]
    return f"{m['pss_mb']:.0f} / {m['rss_mb']:.0f} / {m['max_rss_mb']:.0f}"


def _serve(r: dict, kind: str) -> str:
    """Median / p100 (the slowest edit) in ms."""
    if "serve" not in r:
        return "–"
    times = r["serve"].get(kind) or []
    got = [t * 1000 for t in times if t is not None]
    if not got:
        return "timeout"
    text = f"{statistics.median(got):.0f} / {max(got):.0f}"
    return text if len(got) == len(times) else f"{text} ({len(times) - len(got)} timeouts)"


ROWS = [
    ("articles / annotations", lambda r: f"{r['articles']} / {r['annotations']}"),
    ("floor (s)", lambda r: _s(r, "floor")),
    ("cold build, with search (s)", lambda r: _s(r, "build")),
    ("cold build / floor", lambda r: _ratio(r, "build", "floor")),
    ("cold build, no search (s)", lambda r: _s(r, "nosearch")),
    ("warm build, one article edited (s)", lambda r: _s(r, "warm")),
    ("warm / cold build", lambda r: _ratio(r, "warm", "build")),
    ("warm output = cold output", lambda r: {True: "yes", False: "NO"}.get(r.get("identical"), "–")),
    ("check (s)", lambda r: _s(r, "check")),
    ("processor time (s): floor", lambda r: _cpu(r, "floor")),
    ("  cold build / no search / warm", lambda r: f"{_cpu(r, 'build')} / {_cpu(r, 'nosearch')} / {_cpu(r, 'warm')}"),
    ("  cold / floor, warm / cold (processor)",
     lambda r: f"{_ratio(r, 'build', 'floor', 'cpu_s')}, {_ratio(r, 'warm', 'build', 'cpu_s')}"),
    ("peak memory MB, cold build (PSS / RSS sum / largest)", lambda r: _memory(r, "build")),
    ("  no search", lambda r: _memory(r, "nosearch")),
    ("  warm build", lambda r: _memory(r, "warm")),
    ("  floor", lambda r: _memory(r, "floor")),
    ("pages written", lambda r: str(r.get("pages", "–"))),
    ("serve article ms (med / p100)", lambda r: _serve(r, "article")),
    ("serve annotation ms (med / p100)", lambda r: _serve(r, "annotation")),
    ("serve template ms (med / p100)", lambda r: _serve(r, "template")),
    *[(f"serve {kind} edit → reload ms (med / p100)", lambda r, k=f"{kind}_reload": _serve(r, k))
      for kind in ("article", "annotation", "template")],
    ("serve load average (1 min) start / end",
     lambda r: "{:.2f} / {:.2f}".format(r["serve"]["load_avg_start"][0], r["serve"]["load_avg_end"][0])
     if "serve" in r else "–"),
]
LINEAR = [("floor", "floor"), ("cold build", "build"), ("cold build, no search", "nosearch"), ("warm build", "warm"),
          ("check", "check")]


def linearity(results: list[dict]) -> list[tuple[str, str, str, str]]:
    """(pair, measure, time ratio, exponent) for each consecutive pair of sizes (and
    smallest → largest when there are more than two)."""
    ordered = sorted(results, key=lambda r: r["n"])
    pairs = list(zip(ordered, ordered[1:]))
    if len(ordered) > 2:
        pairs.append((ordered[0], ordered[-1]))
    rows = []
    for small, large in pairs:
        n_ratio = large["n"] / small["n"]
        for label, key in LINEAR:
            if key in small and key in large:
                t_ratio = large[key]["s"] / small[key]["s"]
                exponent = math.log(t_ratio) / math.log(n_ratio) if n_ratio > 1 and t_ratio > 0 else float("nan")
                rows.append((f"{small['n']} → {large['n']} (N ×{n_ratio:g})", label, f"×{t_ratio:.2f}",
                             f"{exponent:.2f}"))
    return rows


def machine_line(m: dict, args, results: list[dict]) -> str:
    loads = [load for r in results for load in r["loads"]]
    load = f"load average (1 min) {min(loads):.2f}–{max(loads):.2f} over the runs" if loads else ""
    return (f"{m['cpus']} CPUs ({m['cpu_model']}), {m['memory']} RAM, Python {m['python']}, {m['platform']}; "
            f"{load}; floor processes {args.processes}; seed {args.seed}; repeat {args.repeat} (medians); "
            f"commit {m['commit']}; markdown-it-py {m['versions']['markdown-it-py']}, Jinja2 {m['versions']['jinja2']}, "
            f"PyYAML {m['versions']['pyyaml']}, Pagefind {m['versions']['pagefind']}")


def text_report(results: list[dict], m: dict, args) -> str:
    head = ["N"] + [str(r["n"]) for r in results]
    body = [[label] + [fn(r) for r in results] for label, fn in ROWS]
    widths = [max(len(row[i]) for row in [head] + body) for i in range(len(head))]
    lines = [f"Machine: {machine_line(m, args, results)}", ""]
    for row in [head] + body:
        lines.append("  ".join([row[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(row[1:], widths[1:])]))
    lin = linearity(results)
    if lin:
        lines += ["", "Linearity (time ratio vs N ratio; exponent = log(time ratio) / log(N ratio), 1.00 = linear):"]
        for pair, label, ratio, exponent in lin:
            lines.append(f"  {pair:<28} {label:<24} {ratio:>8}  exponent {exponent}")
    for r in results:
        for problem in r["failures"]:
            lines.append(f"PROBLEM at N={r['n']}: {problem}")
        for line in r.get("serve", {}).get("log_problems", []):
            lines.append(f"serve log at N={r['n']}: {line}")
    return "\n".join(lines)


def markdown_report(results: list[dict], m: dict, args) -> str:
    out = [f"#### Dossier benchmark, {m['date']}", "", f"Machine: {machine_line(m, args, results)}", "",
           "| N | " + " | ".join(f"{r['n']:,}" for r in results) + " |",
           "|---|" + "|".join("---:" for _ in results) + "|"]
    out += [f"| {label} | " + " | ".join(fn(r) for r in results) + " |" for label, fn in ROWS]
    lin = linearity(results)
    if lin:
        out += ["", "| sizes | measure | time ratio | exponent (1.00 = linear) |", "|---|---|---:|---:|"]
        out += [f"| {pair} | {label} | {ratio} | {exponent} |" for pair, label, ratio, exponent in lin]
    problems = [f"- N={r['n']}: {p}" for r in results for p in r["failures"]]
    if problems:
        out += ["", "Problems:"] + problems
    return "\n".join(out) + "\n\n"


# ----------------------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Benchmark Dossier (cold and warm builds, check, serve) against "
                                                 "the floor of its stack on a generated dossier.")
    size = parser.add_mutually_exclusive_group(required=True)
    size.add_argument("--articles", type=int, metavar="N", help="number of articles to generate")
    size.add_argument("--scales", metavar="N,N,...", help="several sizes in one run, e.g. 1000,10000")
    parser.add_argument("--seed", type=int, default=1, help="generator seed (default 1)")
    parser.add_argument("--workdir", default=str(ROOT / "bench" / "out"),
                        help="where dossiers, outputs and logs go (default bench/out/, git-ignored)")
    parser.add_argument("--processes", type=int, default=os.cpu_count() or 1,
                        help="processes for the floor and the generator (default os.cpu_count(), as the build)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each measurement; medians (default 3)")
    parser.add_argument("--no-verify", dest="verify", action="store_false",
                        help="skip comparing the warm build's output with a cold build's")
    parser.add_argument("--skip-serve", action="store_true", help="skip the serve latency measurements")
    parser.add_argument("--skip-nosearch", action="store_true", help="skip the builds without the search index")
    parser.add_argument("--skip-check", action="store_true", help="skip `build.py check`")
    parser.add_argument("--serve-reps", type=int, default=20, help="edits of each kind (default 20)")
    parser.add_argument("--serve-spacing", type=float, default=1.5, help="seconds between two edits (default 1.5)")
    parser.add_argument("--serve-settle", type=float, default=0.5,
                        help="at least this many seconds after a change showed before the next edit (default 0.5)")
    parser.add_argument("--serve-timeout", type=float, default=None,
                        help="give up on one edit after this many seconds (default max(30, 5 × cold build))")
    parser.add_argument("--layouts-before-serve", action="store_true",
                        help="create an empty SRC/layouts/ before serve starts (by default the template edit creates it)")
    parser.add_argument("--timeout", type=float, default=None, help="kill a timed command after this many seconds")
    parser.add_argument("--report", metavar="FILE", help="append the results as a Markdown table to FILE")
    parser.add_argument("--json", metavar="FILE", help="write every measurement as JSON to FILE")
    parser.add_argument("--keep", action="store_true",
                        help="keep the generated dossiers and outputs (and reuse a kept dossier next time)")
    args = parser.parse_args(argv)
    if args.scales:
        try:
            sizes = [int(x) for x in args.scales.split(",") if x.strip()]
        except ValueError:
            parser.error("--scales takes numbers separated by commas, e.g. 1000,10000")
    else:
        sizes = [args.articles]
    if not sizes or min(sizes) < 1 or args.repeat < 1 or args.serve_reps < 1 or args.processes < 1:
        parser.error("sizes, --repeat, --serve-reps and --processes must be at least 1")

    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, exit_on_signal)
    m = machine()
    results = []
    try:
        for n in sizes:
            results.append(bench_one(n, args))
    except KeyboardInterrupt:
        print("interrupted; every process the benchmark started has been stopped", file=sys.stderr)
        return 130
    finally:
        kill_leftovers()
    print(text_report(results, m, args))
    if args.report:
        with open(args.report, "a", encoding="utf-8") as f:
            f.write(markdown_report(results, m, args))
        print(f"\nappended the Markdown table to {args.report}")
    if args.json:
        Path(args.json).write_text(json.dumps({"machine": m, "results": results}, indent=2, default=str) + "\n",
                                   encoding="utf-8")
    return 1 if any(r["failures"] for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
