"""Benchmarks of ``digest run`` at scale: wall time, peak memory, stage shares, targets.

Input: sizes N (synthetic corpora from ``benchmarks/generate.py``, generated once and
reused), K rules, a seed, a repeat count. Output: a Markdown report on stdout (tables to
paste into the README, PASS/FAIL per target) and the same data as JSON in
``benchmarks/results/`` (git-ignored).

What is measured, per N, each as a separate ``python -m digest -q run FEED --today
2025-12-31`` child process (so interpreter start-up and imports count, as under cron):

- ``cold``: no store, no site: ingest, tag and render everything;
- ``no-op``: the same run again: nothing new;
- ``incremental``: one 500-entry listing added (dated the Monday after the corpus, so
  it starts a week of its own at every N; the 2nd and 3rd repeats add the next days'
  listings to that week), then the run.

The runs use digest's default ``--jobs`` (one process per available CPU: a large run
reads, keys and tags listings and renders weeks in worker processes; small runs stay in
one process). Wall time is ``time.perf_counter`` around the child, CPU time the child's
user plus system time, its workers' included; peak memory is ``ru_maxrss`` from
``os.wait4`` on the child: the peak RSS of the largest process of the run (the child or
one of its workers), in MiB. Medians over ``--repeat`` runs (default 3 up to 100k entries,
1 above). ``--source DIR`` measures a snapshot of the tree instead of the installed
digest.

Stage shares come from three extra runs under cProfile (``python -m cProfile -o FILE
-m digest ... --jobs 1``: in one process, since cProfile sees only the process it runs
in; the shares are shares of the work, wherever it runs): a cold build, a no-op run and
a +500 run (profiling slows a run down, so only shares and rankings are used). Each
function's own time (pstats ``tottime``) is attributed to a stage by module, and the
own time of code outside digest (the standard library, sqlite3, Jinja2, feedgen,
rapidfuzz, ...) to the stage of the digest code that called it, walking up the caller
graph and splitting by each caller edge's share of the cumulative time (pstats keeps
caller edges, not whole stacks, so a library function reached from two stages through
a common helper is split by that helper's callers). Stages:

- parse: ``digest/sources/``
- identity: the ``identity`` package (keys, matching, overrides, resolve)
- tag: ``rules``, ``matcher``
- store: the ``store`` package (SQLite included)
- render: ``site``, ``render``, ``grouping``, ``weeks``, ``output`` and the templates
- feeds: ``feeds`` (feedgen included)
- other: ``cli``, ``commands``, ``config`` and the rest (start-up, config), and
  whatever runs outside any digest function (the interpreter's own start-up)

``normalize``, ``latex``, ``models`` and ``errors`` are helpers shared by stages: like
library code, their time goes to the stage that called them (``clean_text`` called by
the text-dump reader is parsing; ``title_key`` called by ``resolve`` is identity).
Module-level code (imports) counts for the module that runs it.

Run: ``python benchmarks/run.py --sizes 10000,100000`` (see benchmarks/README.md).
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import platform
import pstats
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import generate  # noqa: E402  (the sibling script)

RESULTS = HERE / "results"
SOURCE: Path | None = None
"""A copy of the source tree to measure instead of the installed digest (``--source``)."""
INCREMENT = 500
STAGES = ("parse", "identity", "tag", "store", "render", "feeds", "other")
HELPERS = frozenset(["normalize", "latex", "models", "errors"])
"""Pure helpers shared by stages: their time goes to the stage that called them."""
WRAPPERS = frozenset(
    [
        *("cli", "terminal", "commands", "commands.run", "commands.ingest", "commands.send"),
        *("__main__", "ingest", "pipeline"),  # pipeline: a --source tree from before commands/
    ]
)
"""Modules whose functions hold whole phases (shown as phases, not as hotspots)."""
MODULE_STAGES = {
    "rules": "tag",
    "tag": "tag",
    "matcher": "tag",
    "site": "render",
    "feedid": "render",
    "render": "render",
    "grouping": "render",
    "weeks": "render",
    "output": "render",
    "feeds": "feeds",
    "workers": "other",
}
PHASES = {
    "ingest.py:ingest": "ingest (parse + identity + store)",
    "tag.py:tag": "tag (rules + store)",
    "__init__.py:build": "build (store reads + render + feeds)",  # digest/site/__init__.py
    "site.py:build": "build (store reads + render + feeds)",  # before digest/site/
}
TARGETS = (
    ("cold 100k <= 15 s", "cold", 100_000, "seconds", 15.0),
    ("cold 100k <= 500 MB", "cold", 100_000, "peak_mb", 500.0),
    ("cold 1M <= 180 s", "cold", 1_000_000, "seconds", 180.0),
    ("cold 1M <= 1 GB", "cold", 1_000_000, "peak_mb", 1024.0),
    ("incremental 500 into 1M <= 1 s", "incremental", 1_000_000, "seconds", 1.0),
)
NOOP_LIMIT = 0.5
INCREMENTAL_RATIO = 1.5


@dataclass(slots=True)
class Sample:
    """One child run."""

    seconds: float
    """Wall time."""
    cpu_seconds: float
    """User plus system CPU time of the child (less sensitive to a busy machine)."""
    peak_mb: float
    """Peak resident set size of the child."""
    exit_code: int


@dataclass(slots=True)
class Measure:
    """Repeated runs of one kind at one size, and their medians."""

    samples: list[Sample] = field(default_factory=list)

    @property
    def seconds(self) -> float:
        """Median wall time."""
        return statistics.median(s.seconds for s in self.samples)

    @property
    def cpu_seconds(self) -> float:
        """Median CPU time."""
        return statistics.median(s.cpu_seconds for s in self.samples)

    @property
    def peak_mb(self) -> float:
        """Median peak RSS."""
        return statistics.median(s.peak_mb for s in self.samples)

    def summary(self) -> dict[str, Any]:
        """Medians plus every sample, for the JSON."""
        return {
            "seconds": round(self.seconds, 3),
            "cpu_seconds": round(self.cpu_seconds, 3),
            "peak_mb": round(self.peak_mb, 1),
            "samples": [asdict(s) for s in self.samples],
        }


def child(args: list[str], log: Path) -> Sample:
    """Run one child process; its wall time and its own peak RSS (not the runner's)."""
    with log.open("wb") as out:
        start = time.perf_counter()
        proc = subprocess.Popen(
            args, stdout=out, stderr=subprocess.STDOUT, env=child_env(), cwd=SOURCE
        )
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
    proc.returncode = code = os.waitstatus_to_exitcode(status)
    if code not in (0, 3):  # 3: success with input warnings
        tail = log.read_text("utf-8", "replace")[-2000:]
        sys.exit(f"run.py: {' '.join(args)} exited with {code}:\n{tail}")
    cpu = usage.ru_utime + usage.ru_stime
    return Sample(round(seconds, 4), round(cpu, 4), round(usage.ru_maxrss / 1024, 1), code)


def child_env() -> dict[str, str]:
    """The children's environment: with ``--source``, that tree first on PYTHONPATH (and
    the children run in it: ``python -m`` puts the working folder first on sys.path)."""
    env = dict(os.environ)
    if SOURCE is not None:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SOURCE), env.get("PYTHONPATH")]))
    return env


def package_dir() -> Path:
    """The digest package the children run."""
    if SOURCE is not None:
        return SOURCE / "digest"
    import digest

    return Path(digest.__file__).parent


def digest_args(feed: Path) -> list[str]:
    """The measured command (the interpreter running this script, so the same install)."""
    return [sys.executable, "-m", "digest", "-q", "run", str(feed), "--today", generate.TODAY]


def corpus(work: Path, n: int, rules: int, seed: int) -> tuple[Path, float | None]:
    """The feed folder for (n, rules, seed), generated unless a complete one exists;
    returns it and the generation time (None when reused)."""
    feed = work / f"feed-{n}-k{rules}-s{seed}"
    marker = feed / ".generated"
    if marker.exists():
        return feed, None
    if feed.exists():
        shutil.rmtree(feed)
    start = time.perf_counter()
    generate.generate(feed, n, rules, seed)
    took = time.perf_counter() - start
    marker.write_text(f"{n} {rules} {seed}\n")
    return feed, took


def reset(feed: Path, n: int, seed: int) -> None:
    """Back to the generated corpus: no store, no site, no appended listing."""
    files = len(generate.Plan(seed, n).sizes)
    for i in range(generate.MAX_APPENDED):
        generate.listing_path(feed, files + i).unlink(missing_ok=True)
    for name in ("site", "cache"):
        if (feed / name).exists():
            shutil.rmtree(feed / name)
    for path in feed.glob("digest.sqlite*"):
        path.unlink()
    (feed / ".digest.lock").unlink(missing_ok=True)


def size_mb(path: Path) -> float:
    """Total size of the files under ``path`` (or of the file)."""
    if path.is_file():
        return path.stat().st_size / 2**20
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 2**20


def bench_size(work: Path, n: int, rules: int, seed: int, repeat: int) -> dict[str, Any]:
    """Cold, no-op and incremental runs at one size."""
    feed, generated = corpus(work, n, rules, seed)
    logs = work / "logs"
    logs.mkdir(exist_ok=True)
    cold, noop, incremental = Measure(), Measure(), Measure()
    for r in range(repeat):
        reset(feed, n, seed)
        cold.samples.append(child(digest_args(feed), logs / f"{n}-cold-{r}.log"))
        noop.samples.append(child(digest_args(feed), logs / f"{n}-noop-{r}.log"))
        _progress(n, "cold", cold.samples[-1], "no-op", noop.samples[-1])
    store = size_mb(feed / "digest.sqlite")
    site = size_mb(feed / "site")
    for r in range(min(repeat, generate.MAX_APPENDED)):
        generate.append_listing(feed, n, seed, INCREMENT, r)
        incremental.samples.append(child(digest_args(feed), logs / f"{n}-incr-{r}.log"))
        _progress(n, "incremental", incremental.samples[-1])
    return {
        "entries": n,
        "generate_seconds": None if generated is None else round(generated, 1),
        "store_mb": round(store, 1),
        "site_mb": round(site, 1),
        "cold": cold.summary(),
        "noop": noop.summary(),
        "incremental": incremental.summary(),
    }


def _progress(n: int, *parts: Any) -> None:
    shown = [
        f"{p} {s.seconds:.2f} s ({s.cpu_seconds:.2f} s CPU) {s.peak_mb:.0f} MB"
        for p, s in zip(parts[::2], parts[1::2], strict=True)
    ]
    print(f"run.py: {n}: " + ", ".join(shown), file=sys.stderr, flush=True)


# --- the profile --------------------------------------------------------------------------


def profile(work: Path, n: int, rules: int, seed: int) -> list[dict[str, Any]]:
    """A cold run, then a no-op run, then a +500 run, each under cProfile: stage shares,
    phase times and hotspots of each."""
    feed, _ = corpus(work, n, rules, seed)
    reset(feed, n, seed)
    found = []
    for kind in ("cold", "noop", "incremental"):
        if kind == "incremental":
            generate.append_listing(feed, n, seed, INCREMENT, 0)
        out = work / f"profile-{n}-{kind}.pstats"
        # One process (--jobs 1): cProfile sees only the process it runs in, and stage
        # shares are shares of the work, wherever it would run.
        args = [
            sys.executable, "-m", "cProfile", "-o", str(out), *digest_args(feed)[1:],
            "--jobs", "1",
        ]  # fmt: skip
        sample = child(args, work / "logs" / f"{n}-profile-{kind}.log")
        found.append({"entries": n, "kind": kind, "seconds": sample.seconds, **analyse(out)})
    reset(feed, n, seed)
    return found


def _module(file: str, package: str) -> str | None:
    """``sources.textdump``, ``store``, ``templates`` (for digest code), or None."""
    path = Path(file)
    if path.suffix in (".html", ".md", ".xml", ".txt") and "templates" in path.parts:
        return "templates"
    if not file.startswith(package):
        return None
    return ".".join(Path(file[len(package) :].lstrip("/")).with_suffix("").parts)


def _stage(file: str, package: str, *, helpers: bool = False) -> str | None:
    """The stage of digest code in ``file``; None for code outside digest and (unless
    ``helpers``) for the shared helper modules."""
    module = _module(file, package)
    if module is None or (module in HELPERS and not helpers):
        return None
    if module == "templates":
        return "render"
    if module.startswith("sources."):
        return "parse"
    # A module of a package (site.plan) counts for the package unless named itself.
    package_stage = {"identity": "identity", "store": "store"}.get(module.split(".")[0])
    return package_stage or MODULE_STAGES.get(
        module, MODULE_STAGES.get(module.split(".")[0], "other")
    )


def analyse(path: Path) -> dict[str, Any]:
    """Stage shares, phase (inclusive) times and function hotspots of a pstats file."""
    package = str(package_dir())
    stats: dict[Any, Any] = pstats.Stats(str(path)).stats  # type: ignore[attr-defined]
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 20_000))
    memo: dict[Any, dict[str, float]] = {}
    busy: set[Any] = set()

    def context(func: Any) -> dict[str, float] | None:
        """Which stage(s) the time of ``func`` belongs to, as weights summing to 1."""
        stage = _stage(func[0], package)
        if stage is not None:
            return {stage: 1.0}
        if func in memo:
            return memo[func]
        if func in busy:  # a cycle among non-digest functions: no information there
            return None
        busy.add(func)
        mix: dict[str, float] = {}
        total = 0.0
        for caller, edge in stats[func][4].items():
            weight = edge[3] or edge[2] or 1e-9
            got = context(caller) if caller in stats and caller != func else None
            if got is None:
                continue
            total += weight
            for s, w in got.items():
                mix[s] = mix.get(s, 0.0) + weight * w
        busy.discard(func)
        result = {s: w / total for s, w in mix.items()} if total else {"other": 1.0}
        memo[func] = result
        return result

    seconds = dict.fromkeys(STAGES, 0.0)
    total = 0.0
    for func, (_, _, tottime, _, _) in stats.items():
        total += tottime
        for s, w in (context(func) or {"other": 1.0}).items():
            seconds[s] += tottime * w
    phases = {}
    hot = []
    for func, (_, calls, tottime, cumtime, _) in stats.items():
        module = _module(func[0], package)
        if module is None or func[2].startswith("<"):
            continue
        name = f"{Path(func[0]).name}:{func[2]}"
        if name in PHASES:
            phases[PHASES[name]] = round(cumtime, 2)
        if module not in WRAPPERS and func[2] not in ("read_bytes", "build"):
            stage = "helper" if module in HELPERS else _stage(func[0], package) or "other"
            hot.append((cumtime, tottime, calls, f"{name}:{func[1]}", stage))
    hot.sort(reverse=True)
    self_hot = sorted(
        ((t[2], t[1], f"{Path(f[0]).name}:{f[2]}:{f[1]}") for f, t in stats.items()),
        reverse=True,
    )
    return {
        "total_seconds": round(total, 2),
        "stages": {s: round(v, 2) for s, v in seconds.items()},
        "phases": phases,
        "hotspots": [
            {
                "function": name,
                "stage": stage,
                "cumulative": round(cum, 2),
                "own": round(own, 2),
                "calls": calls,
            }
            for cum, own, calls, name, stage in hot[:25]
        ],
        "self_hotspots": [
            {"function": name, "own": round(own, 2), "calls": calls}
            for own, calls, name in self_hot[:15]
        ],
    }


# --- report -------------------------------------------------------------------------------


def targets(results: dict[int, dict[str, Any]]) -> list[tuple[str, str, str]]:
    """(target, measured, PASS/FAIL/not measured) for each target."""
    rows = []
    for label, kind, n, metric, limit in TARGETS:
        got = results.get(n, {}).get(kind, {}).get(metric)
        if got is None:
            rows.append((label, "-", "not measured"))
        else:
            unit = "s" if metric == "seconds" else "MB"
            rows.append((label, f"{got:g} {unit}", "PASS" if got <= limit else "FAIL"))
    small = results.get(min(results, default=0), {}).get("incremental", {}).get("seconds")
    big = results.get(1_000_000, {}).get("incremental", {}).get("seconds")
    label = f"incremental 1M <= {INCREMENTAL_RATIO}x incremental {min(results, default=0)}"
    if small and big:
        ratio = big / small
        rows.append((label, f"{ratio:.2f}x", "PASS" if ratio <= INCREMENTAL_RATIO else "FAIL"))
    else:
        rows.append((label, "-", "not measured"))
    for n, res in sorted(results.items()):
        got = res["noop"]["seconds"]
        rows.append(
            (f"no-op {n} <= {NOOP_LIMIT} s", f"{got:g} s", "PASS" if got <= NOOP_LIMIT else "FAIL")
        )
    return rows


def markdown(report: dict[str, Any]) -> str:
    """The whole report as Markdown."""
    results = {int(k): v for k, v in report["sizes"].items()}
    env = report["environment"]
    lines = [
        f"digest {env['digest']} ({env['commit']}, code {env['code_sha256']}), "
        f"Python {env['python']}, "
        f"{env['cpus']} CPUs, {env['machine']}; K = {report['rules']} rules, seed "
        f"{report['seed']}; medians of {report['repeat']} runs; start-up alone "
        f"(`digest --version`) {report['startup_seconds']:.2f} s; 1-minute load average "
        f"{report['load_average'][0]:g} at the start, {report['load_average'][1]:g} at the end.",
        "",
        "Times are wall seconds (CPU seconds in brackets: when they are far apart the "
        "machine was busy); memory is the child's peak RSS.",
        "",
        "| entries | cold s | cold peak MB | no-op s | no-op peak MB | +500 entries s "
        "| +500 peak MB | store MB | site MB |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]

    def cell(m: dict[str, Any]) -> str:
        return f"{m['seconds']:.2f} ({m['cpu_seconds']:.2f}) | {m['peak_mb']:.0f}"

    for n, r in sorted(results.items()):
        lines.append(
            f"| {n:,} | {cell(r['cold'])} | {cell(r['noop'])} | {cell(r['incremental'])} "
            f"| {r['store_mb']:.0f} | {r['site_mb']:.0f} |"
        )
    if len(results) > 1:
        ns = sorted(results)
        lo, hi = results[ns[0]], results[ns[-1]]
        lines += [
            "",
            f"Ratios {ns[-1]:,} / {ns[0]:,} entries (x{ns[-1] / ns[0]:g} the data): "
            + ", ".join(
                f"{label} {hi[kind]['seconds'] / lo[kind]['seconds']:.1f}x "
                f"(CPU {hi[kind]['cpu_seconds'] / lo[kind]['cpu_seconds']:.1f}x)"
                for label, kind in (("cold", "cold"), ("no-op", "noop"), ("+500", "incremental"))
            )
            + ".",
        ]
    lines += ["", "| target | measured | result |", "| --- | ---: | --- |"]
    lines += [f"| {a} | {b} | {c} |" for a, b, c in targets(results)]
    by_size: dict[int, list[dict[str, Any]]] = {}
    for prof in report["profiles"]:
        by_size.setdefault(prof["entries"], []).append(prof)
    for n, profs in by_size.items():
        lines += _profile_tables(n, profs)
    return "\n".join(lines) + "\n"


KIND_LABELS = {"cold": "cold", "noop": "no-op", "incremental": "+500 entries"}


def _profile_tables(n: int, profs: list[dict[str, Any]]) -> list[str]:
    """Stage shares, phases and hotspots of the profiled runs at one size."""
    heads = " | ".join(KIND_LABELS[p["kind"]] for p in profs)
    rule = " | ".join("---:" for _ in profs)
    lines = [
        "",
        f"Profiles at {n:,} entries (cProfile; seconds are profiled seconds, "
        + ", ".join(f"{KIND_LABELS[p['kind']]} {p['total_seconds']:.1f} s" for p in profs)
        + "):",
        "",
        f"| stage | {heads} |",
        f"| --- | {rule} |",
    ]

    def share(p: dict[str, Any], v: float) -> str:
        return f"{v:.1f} s ({v / p['total_seconds']:.0%})" if p["total_seconds"] else "-"

    for stage in STAGES:
        lines.append(
            f"| {stage} | " + " | ".join(share(p, p["stages"][stage]) for p in profs) + " |"
        )
    lines += ["", f"| phase (inclusive) | {heads} |", f"| --- | {rule} |"]
    for phase in PHASES.values():
        cells = [share(p, p["phases"][phase]) if phase in p["phases"] else "-" for p in profs]
        lines.append(f"| {phase} | " + " | ".join(cells) + " |")
    for p in profs:
        top = 15 if p["kind"] == "cold" else 8
        total = p["total_seconds"] or 1.0
        lines += [
            "",
            f"| {KIND_LABELS[p['kind']]}: hotspot (digest function) | stage | cumulative s "
            "| share | own s | calls |",
            "| --- | --- | ---: | ---: | ---: | ---: |",
        ]
        lines += [
            f"| `{h['function']}` | {h['stage']} | {h['cumulative']:.2f} "
            f"| {h['cumulative'] / total:.0%} | {h['own']:.2f} | {h['calls']:,} |"
            for h in p["hotspots"][:top]
        ]
        if p["kind"] == "cold":
            lines += [
                "",
                "| cold: own time (any function) | own s | share | calls |",
                "| --- | ---: | ---: | ---: |",
            ]
            lines += [
                f"| `{h['function']}` | {h['own']:.2f} | {h['own'] / total:.0%} | {h['calls']:,} |"
                for h in p["self_hotspots"][:10]
            ]
    return lines


def environment() -> dict[str, Any]:
    """What the numbers were measured on."""

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)
        return done.stdout.strip()

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    if SOURCE is None and git("status", "--porcelain", "--untracked-files=no", "digest"):
        commit += "+changes"
    # Which code the children ran, and a hash of it (others may edit the tree meanwhile).
    probe = "import digest; print(digest.__version__); print(digest.__file__)"
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=child_env(), cwd=SOURCE
    )
    version, _, imported = done.stdout.strip().partition("\n")
    top = package_dir().parent
    tree = hashlib.sha256()
    for path in sorted(p for sub in ("digest", "templates") for p in (top / sub).rglob("*")):
        if path.is_file() and path.suffix in (".py", ".html", ".md", ".xml", ".css", ".yaml"):
            tree.update(str(path.relative_to(top)).encode())
            tree.update(path.read_bytes())
    return {
        "digest": version,
        "imported_from": imported,
        "commit": commit if SOURCE is None else f"{SOURCE}, {_snapshot_commit()}",
        "code_sha256": tree.hexdigest()[:12],
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "machine": f"{platform.system()} {platform.machine()}",
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }


def _snapshot_commit() -> str:
    """The commit a ``--source`` snapshot was taken from, if its COMMIT file says."""
    assert SOURCE is not None
    path = SOURCE / "COMMIT"
    return "commit " + path.read_text().strip()[:7] if path.is_file() else "commit unknown"


def main(argv: list[str] | None = None) -> None:
    """Command line: see the module docstring and benchmarks/README.md."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000", help="comma-separated N")
    parser.add_argument("--rules", type=int, default=100, help="K tags in feed.yaml")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--repeat", type=int, help="runs per measurement (default 3 up to 100k, then 1)"
    )
    parser.add_argument(
        "--profile",
        default="auto",
        help="sizes to profile: comma-separated N, 'none', or 'auto' (the largest <= 100k)",
    )
    parser.add_argument(
        "--work",
        type=Path,
        default=Path(tempfile.gettempdir()) / "digest-bench",
        help="where corpora, stores and sites go (1M entries need ~10 GB)",
    )
    parser.add_argument(
        "--source",
        type=Path,
        help="measure this copy of the tree (a folder with digest/ and templates/) instead "
        "of the installed digest: git archive HEAD digest templates | tar -x -C DIR; "
        "git rev-parse HEAD > DIR/COMMIT",
    )
    args = parser.parse_args(argv)
    global SOURCE
    if args.source is not None:
        SOURCE = args.source.resolve()
        if not (SOURCE / "digest" / "__init__.py").is_file():
            sys.exit(f"run.py: {SOURCE} holds no digest/ package")
    sizes = sorted({int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()})
    if args.profile == "auto":
        small = [n for n in sizes if n <= 100_000]
        profiled = [max(small or sizes)]
    elif args.profile == "none":
        profiled = []
    else:
        profiled = [int(s) for s in args.profile.split(",")]
    args.work = args.work.resolve()
    load = os.getloadavg()[0]
    args.work.mkdir(parents=True, exist_ok=True)
    (args.work / "logs").mkdir(exist_ok=True)

    startup = Measure(
        [
            child([sys.executable, "-m", "digest", "--version"], args.work / "logs" / "version.log")
            for _ in range(5)
        ]
    )
    results: dict[int, dict[str, Any]] = {}
    for n in sizes:
        repeat = args.repeat or (3 if n <= 100_000 else 1)
        results[n] = bench_size(args.work, n, args.rules, args.seed, repeat)
    profiles = [p for n in profiled for p in profile(args.work, n, args.rules, args.seed)]
    report = {
        "environment": environment(),
        "rules": args.rules,
        "seed": args.seed,
        "repeat": args.repeat or "3 (<= 100k), 1 (> 100k)",
        "startup_seconds": startup.seconds,
        "load_average": [round(load, 2), round(os.getloadavg()[0], 2)],
        "sizes": results,
        "targets": targets(results),
        "profiles": profiles,
    }
    text = markdown(report)
    RESULTS.mkdir(exist_ok=True)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    for name in (f"run-{stamp}.json", "latest.json"):
        (RESULTS / name).write_text(json.dumps(report, indent=2) + "\n", "utf-8")
    (RESULTS / "latest.md").write_text(text, "utf-8")
    print(text)


if __name__ == "__main__":
    main()
