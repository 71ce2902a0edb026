"""Identity and themes at scale (issue 17): friendly vs realistic corpora, 20/50/500 themes.

Input: sizes N, corpus configurations ``SHAPE:THEMES`` (``friendly:20``,
``realistic:500``, ...), K rules, a seed, a repeat count. Output: a Markdown report on
stdout and in ``benchmarks/results/scale-latest.md`` (data in ``scale-latest.json``).

Per size (sizes one after the other, configurations one after the other within a size,
so every ratio is taken within one run of the script), each a separate child process
like ``benchmarks/run.py``'s (same timing and peak RSS, ``run.child``), run through
``benchmarks/counting.py`` (the engine's resolution wrapped from outside, in the child):

- ``cold``: no store, no site (``--repeat`` times; the median is reported);
- ``+500``: one 500-entry listing added, three times (one more listing a run);
- candidates judged per near-duplicate lookup (the stored texts handed to
  ``matching.decide``; mean, p99, max) and papers found (``_bounded_candidates``), in
  the cold build and in the +500 runs; resolution seconds per entry;
- near-duplicate recall and precision of the cold build against the generator's
  ground truth (realistic shape): sightings from ``digest export --format jsonl``,
  pairwise over sightings (pairs in one digest paper vs pairs of one true paper), and
  per kind of sighting how many were joined to their paper and how many were put
  in a paper with another paper's sightings.

Corpora are generated once per (shape, N, seed) under ``--work`` and shared by the
theme configurations (each a folder with its own feed.yaml, store and site whose
``listings`` and ``truth`` link to the shared ones).

Run: ``python benchmarks/bench_scale.py --sizes 10000,100000`` (see benchmarks/README.md).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import generate  # noqa: E402  (sibling scripts)
import run  # noqa: E402

CONFIGS = "friendly:20,realistic:20,realistic:50,realistic:500"


def shared_corpus(work: Path, shape: str, n: int, seed: int) -> Path:
    """Listings (and ground truth) of (shape, n, seed), generated unless complete."""
    folder = work / f"corpus-{shape}-{n}-s{seed}"
    marker = folder / ".generated"
    if not marker.exists():
        if folder.exists():
            shutil.rmtree(folder)
        generate.generate(folder, n, 1, seed, shape)
        marker.write_text(f"{shape} {n} {seed}\n")
    return folder


def feed_folder(work: Path, shape: str, n: int, rules: int, themes: int, seed: int) -> Path:
    """A feed folder of its own (feed.yaml with ``themes``) on the shared listings."""
    corpus = shared_corpus(work, shape, n, seed)
    feed = work / f"feed-{shape}-{n}-k{rules}-t{themes}-s{seed}"
    feed.mkdir(exist_ok=True)
    vocab = generate.Vocabulary(random.Random(seed))
    (feed / "feed.yaml").write_text(generate.feed_yaml(vocab, rules, seed, themes), "utf-8")
    for name in ("listings", "truth"):
        link = feed / name
        if (corpus / name).exists() and not link.exists():
            link.symlink_to(corpus / name, target_is_directory=True)
    return feed


def reset(feed: Path, n: int, seed: int) -> None:
    """No store, no site, no appended listing (nor its ground truth)."""
    run.reset(feed, n, seed)
    files = len(generate.Plan(seed, n).sizes)
    for i in range(generate.MAX_APPENDED):
        generate.truth_path(feed, files + i).unlink(missing_ok=True)


def counted_run(feed: Path, log: Path) -> tuple[run.Sample, dict[str, Any]]:
    """One measured child run through counting.py: its sample and its counts."""
    counts = log.with_suffix(".counts.json")
    counts.unlink(missing_ok=True)
    args = [sys.executable, str(HERE / "counting.py"), str(counts), *run.digest_args(feed)[3:]]
    sample = run.child(args, log)
    return sample, json.loads(counts.read_text("utf-8")) if counts.exists() else {}


def summary(counts: dict[str, Any]) -> dict[str, Any]:
    """Mean, p99 and max of the candidates; resolution seconds per entry."""

    def stats(values: list[int]) -> dict[str, float]:
        if not values:
            return {"lookups": 0, "mean": 0.0, "p99": 0, "max": 0}
        ordered = sorted(values)
        p99 = ordered[min(len(ordered) - 1, math.ceil(0.99 * len(ordered)) - 1)]
        return {
            "lookups": len(values),
            "mean": round(statistics.fmean(values), 2),
            "p99": p99,
            "max": ordered[-1],
        }

    seconds = counts.get("seconds", [])
    return {
        "judged": stats(counts.get("judged", [])),
        "papers": stats(counts.get("papers", [])),
        "resolved": len(seconds),
        "resolve_ms_per_entry": round(1000 * sum(seconds) / len(seconds), 3) if seconds else None,
        "resolve_seconds": round(sum(seconds), 2),
        "missing": counts.get("missing", []),
    }


def truth_of(feed: Path) -> dict[tuple[str, int], tuple[str, str]]:
    """(listing file name, position) -> (true paper, kind), from the truth files."""
    truth = {}
    for path in sorted((feed / "truth").glob("*.tsv")):
        listing = path.with_suffix(".txt").name
        for line in path.read_text("utf-8").splitlines():
            pos, paper, kind = line.split("\t")
            truth[listing, int(pos)] = (paper, kind)
    return truth


def accuracy(feed: Path) -> dict[str, Any] | None:
    """Pairwise precision and recall of the stored papers against the ground truth, and
    per kind of sighting: joined to its paper, and put with another paper's sightings."""
    if not (feed / "truth").exists():
        return None
    truth = truth_of(feed)
    proc = subprocess.Popen(
        [sys.executable, "-m", "digest", "export", str(feed), "--format", "jsonl"],
        stdout=subprocess.PIPE,
        env=run.child_env(),
        cwd=run.SOURCE,
        text=True,
    )
    assert proc.stdout is not None
    cells: Counter[tuple[str, str]] = Counter()
    predicted: Counter[str] = Counter()
    actual: Counter[str] = Counter()
    members: dict[str, set[str]] = defaultdict(set)  # digest paper -> true papers in it
    placed: list[tuple[str, str, str, str]] = []  # (digest paper, true paper, kind, rule)
    for line in proc.stdout:
        record = json.loads(line)
        for s in record["sightings"]:
            paper, kind = truth[s["listing"], s["position"]]
            cells[record["id"], paper] += 1
            predicted[record["id"]] += 1
            actual[paper] += 1
            members[record["id"]].add(paper)
            placed.append((record["id"], paper, kind, s["rule"]))
    proc.wait()
    if proc.returncode not in (0, 3):
        sys.exit(f"bench_scale.py: digest export {feed} exited with {proc.returncode}")
    first: dict[str, str] = {}  # true paper -> the digest paper of its first slot
    for pid, paper, kind, _ in placed:
        if kind in ("new", "sibling"):
            first[paper] = pid
    kinds: dict[str, dict[str, int]] = {}
    near = Counter()  # joins by the near-duplicate rules, and the wrong ones
    for pid, paper, kind, rule in placed:
        row = kinds.setdefault(kind, {"sightings": 0, "joined": 0, "mixed": 0})
        row["sightings"] += 1
        row["joined"] += first.get(paper) == pid
        row["mixed"] += len(members[pid]) > 1
        if rule in ("fuzzy", "abstract"):
            near["joins"] += 1
            near["wrong"] += first.get(paper) != pid
        if kind in ("fuzzy", "abstract"):
            near["repeats"] += 1
            near["found"] += first.get(paper) == pid

    def pairs(counter: Counter[Any]) -> int:
        return sum(c * (c - 1) // 2 for c in counter.values())

    both, said, true = pairs(cells), pairs(predicted), pairs(actual)
    return {
        "sightings": len(placed),
        "true_pairs": true,
        "predicted_pairs": said,
        "precision": round(both / said, 4) if said else 1.0,
        "recall": round(both / true, 4) if true else 1.0,
        "near_precision": round(1 - near["wrong"] / near["joins"], 4) if near["joins"] else 1.0,
        "near_recall": round(near["found"] / near["repeats"], 4) if near["repeats"] else 1.0,
        "near": dict(near),
        "kinds": kinds,
    }


def bench_config(
    work: Path, shape: str, themes: int, n: int, rules: int, seed: int, repeat: int
) -> dict[str, Any]:
    """Cold runs, the ground-truth check and +500 runs of one configuration at one size."""
    feed = feed_folder(work, shape, n, rules, themes, seed)
    logs = work / "logs"
    logs.mkdir(exist_ok=True)
    label = f"{shape}:{themes}@{n}"
    cold = run.Measure()
    cold_counts: dict[str, Any] = {}
    for r in range(repeat):
        reset(feed, n, seed)
        sample, counts = counted_run(feed, logs / f"{shape}-t{themes}-{n}-cold-{r}.log")
        cold.samples.append(sample)
        cold_counts = cold_counts or counts
        _progress(label, "cold", sample, counts)
    found = accuracy(feed)
    if found:
        print(
            f"bench_scale.py: {label}: precision {found['precision']} recall "
            f"{found['recall']}, near-duplicate precision {found['near_precision']} recall "
            f"{found['near_recall']}",
            file=sys.stderr,
            flush=True,
        )
    incremental = run.Measure()
    incr_counts: dict[str, list[Any]] = {"judged": [], "papers": [], "seconds": []}
    for r in range(generate.MAX_APPENDED):
        generate.append_listing(feed, n, seed, run.INCREMENT, r, shape)
        sample, counts = counted_run(feed, logs / f"{shape}-t{themes}-{n}-incr-{r}.log")
        incremental.samples.append(sample)
        for key, values in incr_counts.items():
            values += counts.get(key, [])
        _progress(label, "+500", sample, counts)
    store, site = run.size_mb(feed / "digest.sqlite"), run.size_mb(feed / "site")
    reset(feed, n, seed)
    return {
        "shape": shape,
        "themes": themes,
        "entries": n,
        "cold": cold.summary(),
        "incremental": incremental.summary(),
        "cold_identity": summary(cold_counts),
        "incremental_identity": summary(incr_counts),
        "accuracy": found,
        "store_mb": round(store, 1),
        "site_mb": round(site, 1),
    }


def _progress(label: str, kind: str, s: run.Sample, counts: dict[str, Any]) -> None:
    got = summary(counts)
    print(
        f"bench_scale.py: {label}: {kind} {s.seconds:.2f} s ({s.cpu_seconds:.2f} s CPU) "
        f"{s.peak_mb:.0f} MB; judged mean {got['judged']['mean']} p99 {got['judged']['p99']} "
        f"max {got['judged']['max']}; resolve {got['resolve_ms_per_entry']} ms/entry",
        file=sys.stderr,
        flush=True,
    )


def profile(work: Path, shape: str, themes: int, n: int, rules: int, seed: int) -> dict[str, Any]:
    """A cold build under cProfile (one process: ``--jobs 1``): stage shares and hotspots
    (``run.analyse``)."""
    feed = feed_folder(work, shape, n, rules, themes, seed)
    reset(feed, n, seed)
    out = work / f"profile-{shape}-t{themes}-{n}-cold.pstats"
    args = [sys.executable, "-m", "cProfile", "-o", str(out), *run.digest_args(feed)[1:]]
    sample = run.child([*args, "--jobs", "1"], work / "logs" / f"profile-{shape}-{n}.log")
    reset(feed, n, seed)
    return {
        "entries": n,
        "kind": "cold",
        "config": f"{shape}:{themes}",
        "seconds": sample.seconds,
        "pstats": str(out),
        **run.analyse(out),
    }


# --- report -------------------------------------------------------------------------------


def markdown(report: dict[str, Any]) -> str:
    """The report: one table of runs, ratios, identity accuracy, profiles."""
    rows = report["results"]
    env = report["environment"]
    lines = [
        f"digest {env['digest']} ({env['commit']}, code {env['code_sha256']}), "
        f"{env['cpus']} CPUs; K = {report['rules']} rules, seed {report['seed']}; medians of "
        f"{report['repeat']} cold runs and of 3 +500 runs; load average "
        f"{report['load_average'][0]:g} at the start, {report['load_average'][1]:g} at the end.",
        "",
        "| corpus | themes | entries | cold s (CPU) | cold peak MB | +500 s (CPU) | +500 peak MB "
        "| resolve ms/entry cold | judged/lookup cold mean / p99 / max "
        "| judged/lookup +500 mean / p99 / max | papers/lookup cold mean / max |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        cj, ij, cp = (
            r["cold_identity"]["judged"],
            r["incremental_identity"]["judged"],
            (r["cold_identity"]["papers"]),
        )
        lines.append(
            f"| {r['shape']} | {r['themes']} | {r['entries']:,} "
            f"| {r['cold']['seconds']:.1f} ({r['cold']['cpu_seconds']:.1f}) "
            f"| {r['cold']['peak_mb']:.0f} "
            f"| {r['incremental']['seconds']:.2f} ({r['incremental']['cpu_seconds']:.2f}) "
            f"| {r['incremental']['peak_mb']:.0f} "
            f"| {r['cold_identity']['resolve_ms_per_entry']} "
            f"| {cj['mean']} / {cj['p99']} / {cj['max']} "
            f"| {ij['mean']} / {ij['p99']} / {ij['max']} "
            f"| {cp['mean']} / {cp['max']} |"
        )
    lines += ["", "Ratios (same run):", ""]
    lines += [f"- {text}" for text in ratios(rows)]
    lines += [
        "",
        "Pairwise precision and recall over all sightings (pairs in one digest paper vs pairs "
        "of one true paper); near-duplicate precision: of the sightings the fuzzy and "
        "abstract rules joined, the share joined to their true paper; near-duplicate recall: "
        "of the repeats only those rules can join, the share joined to their true paper.",
        "",
        "| corpus | themes | entries | sightings | pairwise precision | pairwise recall "
        "| near-dup precision | near-dup recall "
        "| per kind: joined / sightings (in a mixed paper) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for r in rows:
        acc = r["accuracy"]
        if not acc:
            continue
        kinds = "; ".join(
            f"{k} {v['joined']}/{v['sightings']} ({v['mixed']})" for k, v in acc["kinds"].items()
        )
        lines.append(
            f"| {r['shape']} | {r['themes']} | {r['entries']:,} | {acc['sightings']:,} "
            f"| {acc['precision']:.4f} | {acc['recall']:.4f} "
            f"| {acc['near_precision']:.4f} ({acc['near'].get('joins', 0):,} joins) "
            f"| {acc['near_recall']:.4f} | {kinds} |"
        )
    for prof in report["profiles"]:
        lines += ["", f"Profile: {prof['config']} at {prof['entries']:,} entries, cold."]
        lines += run._profile_tables(prof["entries"], [prof])
    return "\n".join(lines) + "\n"


def ratios(rows: list[dict[str, Any]]) -> list[str]:
    """realistic / friendly (20 themes), 50 and 500 themes / 20, +500 at the largest N /
    +500 at the smallest."""
    at = {(r["shape"], r["themes"], r["entries"]): r for r in rows}
    sizes = sorted({r["entries"] for r in rows})
    out = []

    def ratio(a: dict[str, Any], b: dict[str, Any], kind: str) -> str:
        wall = a[kind]["seconds"] / b[kind]["seconds"]
        return f"{wall:.2f}x (CPU {a[kind]['cpu_seconds'] / b[kind]['cpu_seconds']:.2f}x)"

    for n in sizes:
        base = at.get(("realistic", 20, n))
        friendly = at.get(("friendly", 20, n))
        if base and friendly:
            out.append(
                f"{n:,}: realistic / friendly (20 themes): cold {ratio(base, friendly, 'cold')}"
                f", +500 {ratio(base, friendly, 'incremental')}"
            )
        for themes in (50, 500):
            other = at.get(("realistic", themes, n))
            if base and other:
                out.append(
                    f"{n:,}: realistic {themes} themes / 20 themes: cold "
                    f"{ratio(other, base, 'cold')}, +500 {ratio(other, base, 'incremental')}"
                )
    if len(sizes) > 1:
        lo, hi = sizes[0], sizes[-1]
        for (shape, themes, n), r in sorted(at.items()):
            small = at.get((shape, themes, lo))
            if n == hi and small:
                out.append(
                    f"{shape}:{themes}: +500 into {hi:,} / +500 into {lo:,}: "
                    f"{ratio(r, small, 'incremental')}; cold {ratio(r, small, 'cold')}"
                )
    return out


def main(argv: list[str] | None = None) -> None:
    """Command line: see the module docstring and benchmarks/README.md."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000", help="comma-separated N")
    parser.add_argument("--configs", default=CONFIGS, help="comma-separated SHAPE:THEMES")
    parser.add_argument("--rules", type=int, default=500, help="K tags in feed.yaml")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--repeat", type=int, help="cold runs per configuration (default 3 up to 10k, then 1)"
    )
    parser.add_argument(
        "--profile", default="", help="cold builds to profile: SHAPE:THEMES@N,... (--jobs 1)"
    )
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "digest-scale")
    parser.add_argument("--source", type=Path, help="measure this copy of the tree (run.py)")
    parser.add_argument("--name", default="scale-latest", help="results/NAME.md and .json")
    parser.add_argument("--report", type=Path, help="only print the report of a results JSON")
    args = parser.parse_args(argv)
    if args.report is not None:
        print(markdown(json.loads(args.report.read_text("utf-8"))))
        return
    if args.source is not None:
        run.SOURCE = args.source.resolve()
    sizes = sorted({int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()})
    configs = [(c.split(":")[0], int(c.split(":")[1])) for c in args.configs.split(",")]
    args.work = args.work.resolve()
    (args.work / "logs").mkdir(parents=True, exist_ok=True)
    load = os.getloadavg()[0]
    report: dict[str, Any] = {
        "environment": run.environment(),
        "rules": args.rules,
        "seed": args.seed,
        "repeat": args.repeat or "3 (<= 10k), 1 (> 10k)",
        "load_average": [round(load, 2), round(load, 2)],
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "results": [],
        "profiles": [],
    }

    def save() -> str:
        """Write the report so far (a long run stopped early keeps what it measured)."""
        report["load_average"][1] = round(os.getloadavg()[0], 2)
        text = markdown(report)
        run.RESULTS.mkdir(exist_ok=True)
        (run.RESULTS / f"{args.name}.json").write_text(json.dumps(report, indent=2) + "\n")
        (run.RESULTS / f"{args.name}.md").write_text(text, "utf-8")
        return text

    for n in sizes:
        for shape, themes in configs:
            repeat = args.repeat or (3 if n <= 10_000 else 1)
            report["results"].append(
                bench_config(args.work, shape, themes, n, args.rules, args.seed, repeat)
            )
            save()
    for item in filter(None, args.profile.split(",")):
        config, _, n = item.partition("@")
        shape, _, themes = config.partition(":")
        report["profiles"].append(
            profile(args.work, shape, int(themes), int(n), args.rules, args.seed)
        )
        save()
    print(save())


if __name__ == "__main__":
    main()
