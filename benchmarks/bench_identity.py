"""Benchmark of digest.identity on the labelled set (tests/data/identity_pairs.jsonl).

Input: the committed labelled set. Output (stdout): pairwise precision and recall of
the simulated ingestion, candidates per lookup, and microseconds per ``block_keys``
and per ``decide`` call. Every call is timed in each of ``--runs`` ingestion runs and
its median taken; the report gives the median (and mean) of those over all calls. The
per-text caches are emptied before every run: a new sighting's text is never cached in
real use, and a candidate's is only if it was decided on recently.

Run: ``python benchmarks/bench_identity.py [--runs N]``. Timings include whatever else
the machine is doing; ``uptime`` alongside tells how busy it was.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from identity_set import Record, load, pairwise, simulate  # noqa: E402

from digest import identity  # noqa: E402
from digest.normalize import title_key  # noqa: E402


def _clear() -> None:
    for cached in (
        identity._title,
        identity._content,
        identity._canon,
        identity._sentences,
        identity._abstract_keys,
        identity._abstract_words,
    ):
        cached.cache_clear()


def _one_run(
    records: list[Record], keys_us: list[list[float]], decide_us: list[list[float]]
) -> list[int]:
    """Ingest like the store does, timing every block_keys and decide call (µs).

    Returns the number of candidates of each decide call.
    """
    _clear()
    by_title: dict[str, str] = {}
    blocks: dict[str, list[str]] = {}
    shown: dict[str, tuple[str, str]] = {}
    clock = time.perf_counter
    sizes = []
    for i, rec in enumerate(records):
        t0 = clock()
        keys = identity.block_keys(rec.title, rec.abstract)
        keys_us[i].append((clock() - t0) * 1e6)
        key = title_key(rec.title)
        paper = by_title.get(key)
        if paper is None:
            ids = list(dict.fromkeys(p for k in keys for p in blocks.get(k, ())))
            cands = [identity.Candidate(p, *shown[p]) for p in ids]
            t0 = clock()
            decision = identity.decide(rec.title, rec.abstract, cands)
            if cands:
                decide_us[i].append((clock() - t0) * 1e6)
                sizes.append(len(cands))
            paper = decision.paper_id if decision else f"P{len(shown)}"
        by_title.setdefault(key, paper)
        for k in keys:
            if paper not in blocks.setdefault(k, []):
                blocks[k].append(paper)
        shown[paper] = (rec.title, rec.abstract)
    return sizes


def _plain(rec: Record) -> bool:
    text = rec.title + rec.abstract
    return text.isascii() and not any(c in text for c in "&$\\")


def main() -> None:
    """Print precision, recall and timings."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    records = load()

    _clear()
    outcome = simulate(records)
    precision, recall = pairwise(records, outcome.predicted)
    cands = outcome.candidates
    print(f"records {len(records)}, papers {len({r.paper for r in records})}")
    print(f"pairwise precision {precision:.4f}  recall {recall:.4f}")
    print(
        f"candidates per lookup: mean {statistics.mean(cands):.2f}, "
        f"median {statistics.median(cands):.0f}, max {max(cands)}"
    )

    keys_us: list[list[float]] = [[] for _ in records]
    decide_us: list[list[float]] = [[] for _ in records]
    sizes: list[int] = []
    for _ in range(args.runs):
        sizes = _one_run(records, keys_us, decide_us)
    per_keys = [statistics.median(t) for t in keys_us]
    per_plain = [statistics.median(t) for t, r in zip(keys_us, records, strict=True) if _plain(r)]
    per_decide = [statistics.median(t) for t in decide_us if t]
    print(
        f"block_keys: median {statistics.median(per_keys):.1f} µs/call, "
        f"mean {statistics.mean(per_keys):.1f} ({len(per_keys)} calls; plain ASCII text "
        f"without entities or LaTeX: median {statistics.median(per_plain):.1f})"
    )
    print(
        f"decide: median {statistics.median(per_decide):.1f} µs/call, "
        f"mean {statistics.mean(per_decide):.1f} ({len(per_decide)} calls with "
        f"{statistics.mean(sizes):.2f} candidates on average)"
    )
    load1 = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"{args.runs} runs; load average {load1:.2f} on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
