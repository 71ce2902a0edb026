"""Benchmark: work per entry stays bounded on hostile input (issue 15).

Input: nothing (every input is generated). Output (stdout): for each class, the median
of ``--repeat`` runs per size and the ratios between sizes, all measured in this run:

- links: ``render.linkify`` of a URL followed by N ``)`` (50 KB .. 1 MB); linear means
  time/size stays flat (ratio of time ~ ratio of size). The former rule (bracket
  counts taken again per dropped character) is timed on small sizes for contrast;
- near-duplicates: ingesting 300 / 600 / 3,000 look-alike records (versions of one
  paper) into a real store: seconds, seconds per record, and the most stored texts one
  record was judged against (``resolve.MAX_JUDGED`` bounds it);
- regexes: the reported patterns on long hostile texts through ``RuleSet.tag`` (re2),
  and Python's ``re`` on short ones for contrast; the ordinary patterns of
  tests/test_rules.py on their hostile texts against the 2 s bound that test held;
- fetch: a server that never answers in time (0.2 s timeout, 2 attempts: bound 0.9 s,
  moved from tests/test_fetch.py) and a server that drips a byte every 0.05 s with a
  1 s deadline (bound: the deadline plus 0.5 s).

Run: ``python benchmarks/bench_hostile.py [--repeat N] [--only links,dedupe,regex,fetch]``
(about a minute). Timings include whatever else the machine does; the load average is
printed. Bounds are reported as PASS/FAIL, never asserted.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import re
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT)]

from digest import commands, filters, render  # noqa: E402
from digest.config import parse_config  # noqa: E402
from digest.config.rules import parse_rules  # noqa: E402
from digest.identity import matching as identity  # noqa: E402
from digest.identity import resolve  # noqa: E402
from digest.ingest import ingest  # noqa: E402
from digest.rules import RuleSet  # noqa: E402
from digest.sources import gather  # noqa: E402
from digest.sources.fetch import fetch  # noqa: E402
from digest.yamlsrc import Source  # noqa: E402


def median_time(work: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def ratios(sizes: Sequence[int], times: Sequence[float], unit: str) -> None:
    base_size, base_time = sizes[0], times[0]
    for size, took in zip(sizes, times, strict=True):
        print(
            f"  {size:>9,} {unit}: {took * 1000:9.1f} ms   size x{size / base_size:5.1f}"
            f"   time x{took / base_time:6.1f}   per {unit[:-1] or unit}: "
            f"{took / size * 1e6:8.3f} µs"
        )


# -- links -------------------------------------------------------------------------------


def _old_trim(url: str) -> str:
    pairs = {")": "(", "]": "["}
    while url and (
        url[-1] in filters._TRAILING
        or (url[-1] in pairs and url.count(pairs[url[-1]]) < url.count(url[-1]))
    ):
        url = url[:-1]
    return url


def bench_links(repeat: int) -> None:
    print("links: linkify('see https://x.org/a' + ')' * N)")
    sizes = [50_000, 100_000, 200_000, 1_000_000]
    times = [median_time(lambda n=n: render.linkify("see https://x.org/a" + ")" * n), repeat)
             for n in sizes]  # fmt: skip
    ratios(sizes, times, "bytes")
    flat = times[-1] / sizes[-1] <= 3 * times[0] / sizes[0]
    print(f"  linear (time per byte at 1 MB within 3x of 50 KB): {'PASS' if flat else 'FAIL'}")
    print("  former rule (_trim_url recounting per character), for contrast:")
    small = [5_000, 10_000, 20_000]
    old = [median_time(lambda n=n: _old_trim("https://x.org/a" + ")" * n), 1) for n in small]
    ratios(small, old, "bytes")


# -- near-duplicates ---------------------------------------------------------------------


def _look_alikes(n: int) -> list[dict[str, str]]:
    """Versions of one paper: each a two-word edit of the first abstract, retitled."""
    rnd = random.Random(1)
    words = ["model", "data", "learning", "network", "sparse", "token", "attention", "layer"]
    base = [rnd.choice(words) for _ in range(60)]
    rows = []
    for i in range(n):
        text = list(base)
        for _ in range(2 if i else 0):
            text[rnd.randrange(60)] = f"{rnd.choice(words)}{rnd.randrange(10**6)}"
        abstract = ". ".join(" ".join(text[k : k + 20]) for k in (0, 20, 40)) + "."
        rows.append({"title": f"Sparse attention for {rnd.choice(words)}{i} models",
                     "abstract": abstract, "date": "2026-01-05"})  # fmt: skip
    return rows


def _ingest(rows: list[dict[str, str]]) -> tuple[float, int]:
    judged: list[int] = []
    decide = identity.decide

    def counting(title: str, abstract: str, cands: Sequence[identity.Candidate]) -> object:
        judged.append(len(cands))
        return decide(title, abstract, cands)

    resolve.matching.decide = counting  # type: ignore[assignment]
    try:
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            (root / "listings").mkdir()
            with (root / "listings" / "a.jsonl").open("w") as f:
                f.writelines(json.dumps(row) + "\n" for row in rows)
            (root / "feed.yaml").write_text("sources: [listings/*.jsonl]\n")
            cfg = parse_config((root / "feed.yaml").read_text(), root)
            start = time.perf_counter()
            with commands.open_store(cfg) as store:
                files, _ = gather.source_files(cfg)
                ingest(cfg, store, files, dt.date(2026, 11, 25))
            took = time.perf_counter() - start
    finally:
        resolve.matching.decide = decide
    return took, max(judged, default=0)


def bench_dedupe(repeat: int) -> None:
    print(f"near-duplicates: look-alike records ingested (bound: {resolve.MAX_JUDGED} judged)")
    sizes = [300, 600, 3000]
    times, most = [], 0
    for n in sizes:
        rows = _look_alikes(n)
        runs = [_ingest(rows) for _ in range(repeat)]
        times.append(statistics.median(t for t, _ in runs))
        most = max(most, *(m for _, m in runs))
    ratios(sizes, times, "records")
    print(f"  most texts judged for one record: {most} "
          f"({'PASS' if most <= resolve.MAX_JUDGED else 'FAIL'})")  # fmt: skip


# -- regexes -----------------------------------------------------------------------------

REPORTED = [  # pattern, hostile text for re2 (long), for Python's re (short)
    (r"(a|a)*b", "a" * 100_000, "a" * 20),
    (r"\w+\s?\w+\s?\w+\s?\w+\s?!", "a" * 100_000, "a" * 60),
    (r"(a|aa)+$", "a" * 100_000 + "!", "a" * 26 + "!"),
    (r".*.*.*.*.*=", "a" * 20_000, "a" * 50),
]
ORDINARY = [
    r"(\s\w+)+", r"(a+b)+", r"(?:foo|bar)+", r"\b(?:\w+ ){0,3}transformer",
    r"mixture[ ]of[ ]experts?", r"\d+(?:\.\d+)?x", r"\bllms?\b", r"(?:low|mixed) precision",
    r"(\w|\d)+",
]  # fmt: skip
EVIL = ("a" * 3000 + "!", "ab" * 1500, "a " * 1500 + "!", "1" * 3000)


def _one_term(pattern: str) -> RuleSet:
    ruleset, problems = parse_rules({"tags": {"t": {"any": ["re:" + pattern]}}}, Source("x"))
    assert ruleset is not None, [str(p) for p in problems]
    return ruleset


def bench_regex(repeat: int) -> None:
    print("regexes: the reported patterns (re2 on long texts, Python's re on short ones)")
    for pattern, long_text, short_text in REPORTED:
        ruleset = _one_term(pattern)
        took = median_time(lambda r=ruleset, t=long_text: r.tag(t, t), repeat)
        compiled = re.compile(pattern, re.IGNORECASE)
        old = median_time(lambda c=compiled, t=short_text: c.search(t), 1)
        print(f"  {pattern:<28} re2 {len(long_text):>7,} chars x2 fields: {took * 1000:8.1f} ms"
              f"   re {len(short_text):>4} chars: {old * 1000:9.1f} ms")  # fmt: skip
    print("  ordinary patterns on hostile texts (bound 2 s each, from tests/test_rules.py):")
    worst = 0.0
    for pattern in ORDINARY:
        ruleset = _one_term(pattern)
        took = median_time(lambda r=ruleset: [r.tag(e, e) for e in EVIL], repeat)
        worst = max(worst, took)
    print(f"  slowest: {worst * 1000:.1f} ms ({'PASS' if worst < 2 else 'FAIL'})")


# -- fetch -------------------------------------------------------------------------------


class _Slow(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        try:
            if self.path == "/slow":  # the answer comes after the client gave up
                time.sleep(1.0)
                self.send_response(200)
                self.end_headers()
                return
            self.wfile.write(b"HTTP/1.0 200 OK\r\nContent-Length: 400\r\n\r\n")
            for _ in range(400):  # one byte every 0.05 s: 20 s in all
                self.wfile.write(b"x")
                self.wfile.flush()
                time.sleep(0.05)
        except OSError:
            pass

    def log_message(self, format: str, *args: object) -> None:
        pass


def bench_fetch(repeat: int) -> None:
    os.environ["no_proxy"] = "127.0.0.1"
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Slow)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    with tempfile.TemporaryDirectory() as tmp:
        day = dt.date(2024, 3, 11)
        slow = median_time(lambda: fetch(f"{base}/slow", Path(tmp), day, timeout=0.2,
                                         retries=1, sleep=lambda _: None), repeat)  # fmt: skip
        drip = median_time(lambda: fetch(f"{base}/drip", Path(tmp), day, timeout=0.5,
                                         deadline=1.0), repeat)  # fmt: skip
    server.shutdown()
    server.server_close()
    print("fetch:")
    print(f"  no answer in time, 0.2 s timeout x 2 attempts: {slow:.2f} s "
          f"(bound 0.9 s: {'PASS' if slow < 0.9 else 'FAIL'})")  # fmt: skip
    print(f"  dripping server, 1 s deadline (20 s of drip): {drip:.2f} s "
          f"(bound 1.5 s: {'PASS' if drip < 1.5 else 'FAIL'})")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", default="links,dedupe,regex,fetch")
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f}, repeat {args.repeat} (medians)")
    benches = {"links": bench_links, "dedupe": bench_dedupe, "regex": bench_regex,
               "fetch": bench_fetch}  # fmt: skip
    for name in args.only.split(","):
        benches[name](args.repeat)


if __name__ == "__main__":
    main()
