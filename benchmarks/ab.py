"""Interleaved A/B of two source snapshots: cold, no-op and +500 runs, alternating.

Input: two snapshots made as benchmarks/README.md says ("measure a snapshot"), a
size N whose corpus ``run.py`` has generated (``$TMPDIR/digest-bench``), and a
number of rounds. Output: medians of wall and CPU seconds per kind of run, and the
ratio after/before. Each round builds both snapshots from scratch, alternating which
goes first, so a slow minute of a shared machine costs both alike.

    python benchmarks/ab.py --before /tmp/digest-base --after /tmp/digest-after 100000 3
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import generate  # the sibling script

KINDS = ("cold", "no-op", "+500")


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU seconds (the child and its workers) of one command."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(cmd, env=env, check=True, cwd=tempfile.gettempdir())
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime


def one_round(snap: Path, name: str, n: int, work: Path) -> dict[str, tuple[float, float]]:
    """A cold build of the N corpus with ``snap``, then a no-op run, then +500 entries."""
    corpus = work / f"feed-{n}-k100-s1"
    feed = work / "ab" / f"{name}-{n}"
    shutil.rmtree(feed, ignore_errors=True)
    feed.mkdir(parents=True)
    shutil.copy(corpus / "feed.yaml", feed / "feed.yaml")
    shutil.copytree(corpus / "listings", feed / "listings")
    files = len(generate.Plan(1, n).sizes)
    for i in range(generate.MAX_APPENDED):
        generate.listing_path(feed, files + i).unlink(missing_ok=True)
    env = dict(os.environ, PYTHONPATH=str(snap))
    cmd = [sys.executable, "-m", "digest", "-q", "run", str(feed), "--today", generate.TODAY]
    out = {"cold": timed(cmd, env), "no-op": timed(cmd, env)}
    script = Path(__file__).with_name("generate.py")
    args = [str(feed), "--entries", str(n), "--append-listing", "500"]
    subprocess.run([sys.executable, str(script), *args], check=True, capture_output=True)
    out["+500"] = timed(cmd, env)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--before", type=Path, required=True)
    parser.add_argument("--after", type=Path, required=True)
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "digest-bench")
    parser.add_argument("n", type=int)
    parser.add_argument("rounds", type=int)
    args = parser.parse_args()
    snaps = {"before": args.before, "after": args.after}
    runs: dict[str, list[dict[str, tuple[float, float]]]] = {k: [] for k in snaps}
    for r in range(args.rounds):
        order = list(snaps) if r % 2 == 0 else list(snaps)[::-1]
        for name in order:
            runs[name].append(one_round(snaps[name], name, args.n, args.work))
    for kind in KINDS:
        b = [run[kind] for run in runs["before"]]
        a = [run[kind] for run in runs["after"]]
        wb, wa = statistics.median(x[0] for x in b), statistics.median(x[0] for x in a)
        cb, ca = statistics.median(x[1] for x in b), statistics.median(x[1] for x in a)
        print(
            f"{args.n} {kind}: before {wb:.2f} s ({cb:.2f} CPU), after {wa:.2f} s ({ca:.2f} CPU);"
            f" after/before wall {wa / wb:.3f}, CPU {ca / cb:.3f};"
            f" walls before {[round(x[0], 2) for x in b]} after {[round(x[0], 2) for x in a]}"
        )


if __name__ == "__main__":
    main()
