"""Ingest cost against store size: one 500-entry listing into stores of N papers.

Input: sizes N (default 10,000 and 100,000 entries). For each N a synthetic corpus
is generated (benchmarks/generate.py) and ingested once (untimed); then the same
500-entry listing (``--append-listing``) is ingested into a fresh copy of that store,
``--repeat`` times, timing only ``digest.ingest.ingest`` in this process (parse, identity
with near-duplicate blocking, store writes). Output: medians per N and the ratio of
the largest to the smallest store, which should stay near 1 when the cost of a
listing grows with the listing and not with the store.

Run: ``python benchmarks/bench_ingest.py [--sizes 10000,100000] [--repeat 5]``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import generate

from digest import commands
from digest.config import load_config
from digest.ingest import ingest
from digest.sources import gather

TODAY = dt.date(2025, 12, 31)
INCREMENT = 500


def store_of(n: int, work: Path, seed: int) -> Path:
    """A feed folder holding an ingested N-entry corpus and one appended listing."""
    feed = work / f"n{n}"
    generate.main([str(feed), "--entries", str(n), "--rules", "50", "--seed", str(seed)])
    cfg = load_config(feed)
    files, _ = gather.source_files(cfg)
    with commands.open_store(cfg) as store:
        ingest(cfg, store, files, TODAY)
    extra = generate.append_listing(feed, n, seed, INCREMENT, 0)
    (feed / "extra.name").write_text(extra.name)
    return feed


def one_run(feed: Path, work: Path) -> float:
    """Seconds to ingest the appended listing into a fresh copy of the store."""
    copy = work / "copy"
    shutil.rmtree(copy, ignore_errors=True)
    (copy / "listings").mkdir(parents=True)
    shutil.copy(feed / "feed.yaml", copy / "feed.yaml")
    for part in feed.glob("digest.sqlite*"):
        shutil.copy(part, copy / part.name)
    name = (feed / "extra.name").read_text()
    listing = shutil.copy(feed / "listings" / name, copy / "listings" / name)
    cfg = load_config(copy)
    with commands.open_store(cfg) as store:
        start = time.perf_counter()
        report = ingest(cfg, store, [Path(listing)], TODAY)
        seconds = time.perf_counter() - start
    assert report.sightings == INCREMENT, report
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    medians: dict[int, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        feeds = {n: store_of(n, work, args.seed) for n in sizes}
        # Interleave the sizes so that load on a shared machine hits both alike.
        samples: dict[int, list[float]] = {n: [] for n in sizes}
        for _ in range(args.repeat):
            for n in sizes:
                samples[n].append(one_run(feeds[n], work))
        for n in sizes:
            medians[n] = statistics.median(samples[n])
            print(
                f"ingest {INCREMENT} entries into a {n:,}-entry store: "
                f"median {medians[n] * 1000:.0f} ms over {args.repeat} runs"
            )
    if len(sizes) > 1:
        ratio = medians[sizes[-1]] / medians[sizes[0]]
        print(f"ratio {sizes[-1]:,} / {sizes[0]:,}: {ratio:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
