"""Benchmark of digest.identity: the labelled set, and a synthetic corpus when there is one.

Input: the committed labelled set (tests/data/identity_pairs.jsonl) and, when the folder
exists, the first ``--entries`` entries of a corpus written by benchmarks/generate.py
(default /tmp/g: ``python benchmarks/generate.py /tmp/g --entries 20000 --rules 100
--seed 1``). Output (stdout), for the working tree's module and, with ``--baseline
REF``, for ``REF:digest/identity.py`` in the same run:

- labelled set: pairwise precision and recall of the simulated ingestion, candidates
  per lookup, µs per ``block_keys`` call and per ``decide`` call and candidate. Every
  call is timed in each of ``--runs`` ingestion runs and its median taken; the report
  gives the median (and mean) of those over all calls;
- synthetic corpus: ingested as the store does (exact title key first; ``block_keys``
  for a new text, candidates as ``digest.identity.resolve`` bounds them: keys held by at most
  ``BLOCK_CAP`` papers, rarer keys and newer papers first, at most ``MAX_PAPERS``
  papers with their ``VERSIONS_JUDGED`` newest texts, ``decide``): candidates per
  lookup, µs per call and the total seconds of ``block_keys`` + ``decide`` (median of
  ``--synthetic-runs`` runs).

The per-text caches are emptied before every run: a new sighting's text is never cached
in real use, and a candidate's is only if it was analysed recently. ``--cold`` empties
them before every entry instead (all but the word-spelling cache): then every candidate
text is analysed afresh, the worst case.

Run: ``python benchmarks/bench_identity.py [--runs N] [--baseline REF] [--cold]``.
Timings include whatever else the machine is doing; the load average is printed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import subprocess
import sys
import time
import types
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from identity_set import Record, load, pairwise  # noqa: E402

from digest.identity import keys, matching  # noqa: E402
from digest.identity.resolve import BLOCK_CAP, MAX_PAPERS, VERSIONS_JUDGED  # noqa: E402
from digest.normalize import title_key  # noqa: E402
from digest.sources import ReadContext, read_file  # noqa: E402

Clock = Callable[[], float]
identity = types.SimpleNamespace(
    block_keys=keys.block_keys, Candidate=matching.Candidate, decide=matching.decide
)
"""The identity functions measured (a baseline ref from before the identity package
holds them all in digest/identity.py)."""


def baseline(ref: str) -> types.ModuleType:
    """digest/identity.py as it is at git ``ref``, imported under another name."""
    source = subprocess.run(
        ["git", "show", f"{ref}:digest/identity.py"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    module = types.ModuleType(f"digest._identity_at_{ref}")
    module.__file__ = f"{ref}:digest/identity.py"
    sys.modules[module.__name__] = module  # dataclasses look their module up
    exec(compile(source, module.__file__, "exec"), module.__dict__)
    return module


def _clear(impl: types.ModuleType, keep_words: bool = False) -> None:
    """Empty the module's caches (every lru_cache it defines or imports)."""
    for name, value in vars(impl).items():
        if hasattr(value, "cache_clear") and not (keep_words and name == "_canon"):
            value.cache_clear()


@dataclass(slots=True)
class Labelled:
    """Timings of the labelled-set runs of one implementation."""

    keys_us: list[list[float]]
    """Per record: its block_keys time in each run."""
    decide_us: list[list[float]]
    """Per record with candidates: its decide time in each run."""
    sizes: list[int] = field(default_factory=list)
    """Candidates of each lookup (zero included), last run."""
    candidates: list[int] = field(default_factory=list)
    """Per record: candidates of its decide call (0 without one), last run."""
    predicted: dict[str, str] = field(default_factory=dict)
    """Record id -> paper, last run."""
    rules: Counter[str] = field(default_factory=Counter)


def _labelled_run(impl: types.ModuleType, records: list[Record], out: Labelled, cold: bool) -> None:
    """Ingest like the store does, timing every block_keys and decide call (µs)."""
    _clear(impl)
    by_title: dict[str, str] = {}
    blocks: dict[str, list[str]] = {}
    shown: dict[str, tuple[str, str]] = {}
    clock = time.perf_counter
    out.sizes, out.candidates, out.predicted, out.rules = [], [0] * len(records), {}, Counter()
    for i, rec in enumerate(records):
        if cold:
            _clear(impl, keep_words=True)
        t0 = clock()
        keys = impl.block_keys(rec.title, rec.abstract)
        out.keys_us[i].append((clock() - t0) * 1e6)
        key = title_key(rec.title)
        paper = by_title.get(key)
        if paper is None:
            ids = list(dict.fromkeys(p for k in keys for p in blocks.get(k, ())))
            cands = [impl.Candidate(p, *shown[p]) for p in ids]
            t0 = clock()
            decision = impl.decide(rec.title, rec.abstract, cands)
            if cands:
                out.decide_us[i].append((clock() - t0) * 1e6)
            out.sizes.append(len(cands))
            out.candidates[i] = len(cands)
            if decision is not None:
                out.rules[decision.rule] += 1
            paper = decision.paper_id if decision else f"P{len(shown)}"
        by_title.setdefault(key, paper)
        for k in keys:
            if paper not in blocks.setdefault(k, []):
                blocks[k].append(paper)
        shown[paper] = (rec.title, rec.abstract)
        out.predicted[rec.id] = paper


def _plain(rec: Record) -> bool:
    text = rec.title + rec.abstract
    return text.isascii() and not any(c in text for c in "&$\\")


def report_labelled(records: list[Record], out: Labelled) -> None:
    """Print the labelled-set report of one implementation."""
    precision, recall = pairwise(records, out.predicted)
    lookups = out.sizes
    print(
        f"  pairwise precision {precision:.4f}  recall {recall:.4f}  decisions "
        f"{dict(sorted(out.rules.items()))}"
    )
    print(
        f"  candidates per lookup: mean {statistics.mean(lookups):.2f}, "
        f"median {statistics.median(lookups):.0f}, max {max(lookups)}"
    )
    per_keys = [statistics.median(t) for t in out.keys_us]
    per_plain = [
        statistics.median(t) for t, r in zip(out.keys_us, records, strict=True) if _plain(r)
    ]
    print(
        f"  block_keys: median {statistics.median(per_keys):.1f} µs/call, "
        f"mean {statistics.mean(per_keys):.1f} ({len(per_keys)} calls; plain ASCII text "
        f"without entities or LaTeX: median {statistics.median(per_plain):.1f})"
    )
    calls = [
        (statistics.median(t), n) for t, n in zip(out.decide_us, out.candidates, strict=True) if t
    ]
    per_call = [t for t, _ in calls]
    per_cand = [t / n for t, n in calls]
    print(
        f"  decide: median {statistics.median(per_call):.1f} µs/call, "
        f"mean {statistics.mean(per_call):.1f} ({len(calls)} calls with "
        f"{statistics.mean(n for _, n in calls):.2f} candidates on average); per candidate: "
        f"median {statistics.median(per_cand):.1f} µs, "
        f"total/candidates {sum(per_call) / sum(n for _, n in calls):.1f} µs"
    )


# --- the synthetic corpus -------------------------------------------------------------------


def corpus(folder: Path, entries: int) -> list[tuple[str, str]]:
    """(title, abstract) of the first ``entries`` entries of a generated corpus."""
    ctx = ReadContext(today=dt.date(2025, 12, 31), year=2025)
    pairs: list[tuple[str, str]] = []
    for path in sorted((folder / "listings").glob("*.txt")):
        pairs += [(e.title, e.abstract) for e in read_file(path, ctx).entries]
        if len(pairs) >= entries:
            break
    return pairs[:entries]


@dataclass(slots=True)
class Synthetic:
    """One store-like ingestion of the synthetic corpus."""

    keys_us: list[float] = field(default_factory=list)
    decide_us: list[float] = field(default_factory=list)
    """Per decide call with candidates."""
    sizes: list[int] = field(default_factory=list)
    """Candidate texts per lookup (zero included)."""
    merged: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0
    """block_keys + decide, all calls."""


def _bounded(keys: list[str], blocks: dict[str, list[str]]) -> list[str]:
    """digest.identity.resolve's candidate papers: keys held by at most BLOCK_CAP papers, rarer
    keys first, newest papers first, at most MAX_PAPERS."""
    per_key = [blocks.get(k, []) for k in keys if len(blocks.get(k, ())) <= BLOCK_CAP]
    chosen: dict[str, None] = {}
    for papers in sorted(per_key, key=len):
        for p in reversed(papers):
            chosen.setdefault(p)
            if len(chosen) == MAX_PAPERS:
                return list(chosen)
    return list(chosen)


def _synthetic_run(impl: types.ModuleType, pairs: list[tuple[str, str]], cold: bool) -> Synthetic:
    _clear(impl)
    out = Synthetic()
    by_title: dict[str, str] = {}
    blocks: dict[str, list[str]] = {}
    texts: dict[str, list[tuple[str, str]]] = {}
    seen: set[tuple[str, str]] = set()
    clock = time.perf_counter
    for title, abstract in pairs:
        key = title_key(title)
        paper = by_title.get(key)
        if paper is not None and (title, abstract) in seen:
            continue  # the store knows this exact text: no keys, no lookup
        if cold:
            _clear(impl, keep_words=True)
        t0 = clock()
        keys = impl.block_keys(title, abstract)
        out.keys_us.append((clock() - t0) * 1e6)
        if paper is None:
            ids = _bounded(keys, blocks)
            cands = [
                impl.Candidate(p, *text) for p in ids for text in texts[p][::-1][:VERSIONS_JUDGED]
            ]
            out.sizes.append(len(cands))
            t0 = clock()
            decision = impl.decide(title, abstract, cands)
            if cands:
                out.decide_us.append((clock() - t0) * 1e6)
            if decision is not None:
                out.merged[decision.rule] += 1
                paper = decision.paper_id
            else:
                paper = f"P{len(texts)}"
            by_title[key] = paper
        for k in keys:
            if paper not in blocks.setdefault(k, []):
                blocks[k].append(paper)
        texts.setdefault(paper, []).append((title, abstract))
        seen.add((title, abstract))
    out.seconds = (sum(out.keys_us) + sum(out.decide_us)) / 1e6
    return out


def report_synthetic(entries: int, done: list[Synthetic]) -> None:
    """Print the synthetic-corpus report of one implementation."""
    last = done[-1]
    sizes = last.sizes
    print(
        f"  {entries} entries, {len(last.keys_us)} block_keys calls, {len(sizes)} lookups: "
        f"candidates per lookup mean {statistics.mean(sizes):.3f}, max {max(sizes)}, "
        f"{sum(1 for n in sizes if n)} lookups with any; merged {dict(last.merged)}"
    )
    keys = statistics.median(statistics.median(r.keys_us) for r in done)
    decide = [statistics.median(r.decide_us) for r in done if r.decide_us]
    per_cand = [sum(r.decide_us) / sum(r.sizes) for r in done if r.decide_us]
    print(
        f"  block_keys median {keys:.1f} µs/call; decide "
        + (
            f"median {statistics.median(decide):.1f} µs/call with candidates, "
            f"{statistics.median(per_cand):.1f} µs per candidate"
            if decide
            else "never had candidates"
        )
        + f"; block_keys + decide {statistics.median(r.seconds for r in done):.2f} s in total"
    )


def main() -> None:
    """Print precision, recall, candidates and timings."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--baseline", metavar="REF", help="also measure REF:digest/identity.py")
    parser.add_argument("--cold", action="store_true", help="empty the caches before each entry")
    parser.add_argument("--synthetic", type=Path, default=Path("/tmp/g"), metavar="DIR")
    parser.add_argument("--entries", type=int, default=20_000)
    parser.add_argument("--synthetic-runs", type=int, default=3)
    args = parser.parse_args()
    impls = [("working tree", identity)]
    if args.baseline:
        impls.insert(0, (f"baseline {args.baseline}", baseline(args.baseline)))
    # Runs of the implementations alternate, so a busy spell of the machine hits both.
    records = load()
    print(f"labelled set: {len(records)} records, {len({r.paper for r in records})} papers")
    outs = [Labelled([[] for _ in records], [[] for _ in records]) for _ in impls]
    for _ in range(args.runs):
        for (_, impl), out in zip(impls, outs, strict=True):
            _labelled_run(impl, records, out, args.cold)
    for (name, _), out in zip(impls, outs, strict=True):
        print(f"{name}:")
        report_labelled(records, out)
    if args.synthetic.is_dir():
        pairs = corpus(args.synthetic, args.entries)
        print(f"synthetic corpus {args.synthetic}:")
        done: list[list[Synthetic]] = [[] for _ in impls]
        for _ in range(args.synthetic_runs):
            for (_, impl), runs in zip(impls, done, strict=True):
                runs.append(_synthetic_run(impl, pairs, args.cold))
        for (name, _), runs in zip(impls, done, strict=True):
            print(f"{name}:")
            report_synthetic(len(pairs), runs)
    else:
        print(f"no synthetic corpus in {args.synthetic} (benchmarks/generate.py makes one)")
    load1 = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"{args.runs} runs{' (cold caches)' if args.cold else ''}; "
        f"load average {load1:.2f} on {os.cpu_count()} CPUs"
    )


if __name__ == "__main__":
    main()
