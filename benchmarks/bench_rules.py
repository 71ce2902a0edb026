"""Benchmark: the compiled rule matcher against one regex search per rule.

Input: nothing (or sizes on the command line). Output: a report on stdout with
the median wall time of each matcher and their ratio.

Deterministic: 100k synthetic papers (titles of ~10 words, abstracts of ~200
words drawn from a Zipf-weighted vocabulary with planted phrases, acronyms,
hyphenated compounds and punctuation) and 500 synthetic tags in 50 themes are
generated from a fixed seed. The fast matcher (:meth:`RuleSet.tag`: one
Aho-Corasick pass over the word text of both fields) tags every paper; the naive reference searches
each tag's ``any`` terms as one alternation per field, then looks at the terms
of tags that fired one by one. The naive matcher is timed on a sample (default
1,000 papers) and scaled to the full count; both must agree on that sample.

    python benchmarks/bench_rules.py                  # 100k papers, 500 rules
    python benchmarks/bench_rules.py --papers 20000 --naive-papers 20000 --repeat 1

``--feed DIR`` instead times :meth:`RuleSet.tag` alone on the papers stored by a
feed that has run (say one made by ``benchmarks/generate.py``), with its own rules,
and splits the time between scanning the text and deciding the tags. With
``--texts DB`` the papers are instead the first ``--papers`` rows of the ``text``
table of that store (opened read-only), for a feed whose own store is empty:

    python benchmarks/bench_rules.py --feed FEED --texts OTHER/digest.sqlite --papers 20000
"""

from __future__ import annotations

import argparse
import random
import re
import sqlite3
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from digest.config import load_config
from digest.config.rules import parse_rules
from digest.rules import RuleSet, Tagging
from digest.store import Store
from digest.terms import FIELDS, fold
from digest.yamlsrc import Source

SEED = 20260311
# fmt: off
SYLLABLES = ["ka", "ri", "to", "na", "me", "lo", "su", "vi", "de", "pa", "ro", "ni", "ta",
             "ge", "mo", "lu", "ce", "fa", "bi", "zo", "xe", "qu", "ul", "an", "or", "es"]
ML_WORDS = ["model", "models", "learning", "neural", "network", "training", "inference",
            "attention", "transformer", "language", "vision", "image", "video", "diffusion",
            "sparse", "dense", "quantization", "pruning", "latency", "throughput", "memory",
            "compute", "efficient", "scaling", "benchmark", "dataset", "token", "tokens",
            "decoding", "retrieval", "reasoning", "agent", "reward", "policy", "graph",
            "speech", "audio", "robot", "embedding", "kernel"]
# fmt: on


def acronym_list(size: int = 100) -> list[str]:
    """Upper-case acronyms with a mixed-case few (``MoE``-like)."""
    rng = random.Random(SEED - 1)
    out = {
        "".join(rng.choice("ABCDEFGHKLMNPRSTVX") for _ in range(rng.randint(2, 4)))
        for _ in range(size)
    }
    # sorted, not list(out): set order follows string hashing, which changes per process
    mixed = {a[0] + a[1:-1].lower() + a[-1] for a in sorted(out)[:10] if len(a) > 2}
    return sorted(out | mixed)


def vocabulary(rng: random.Random, size: int = 30_000) -> list[str]:
    """Pseudo-words from syllables plus real words, most frequent first."""
    words: dict[str, None] = dict.fromkeys(ML_WORDS)
    while len(words) < size:
        words["".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4)))] = None
    return list(words)


def papers(n: int, seed: int = SEED) -> tuple[list[tuple[str, str]], list[str], list[str]]:
    """``n`` (title, abstract) pairs, the vocabulary and the planted phrases."""
    rng = random.Random(seed)
    vocab = vocabulary(rng)
    acronyms = acronym_list()
    weights = [1 / (rank + 10) for rank in range(len(vocab))]  # Zipf-like, flattened head
    cum: list[float] = []
    total = 0.0
    for w in weights:
        total += w
        cum.append(total)
    phrases = [" ".join(rng.sample(vocab[50:3000], rng.randint(2, 3))) for _ in range(2000)]

    def words(k: int) -> list[str]:
        out = rng.choices(vocab, cum_weights=cum, k=k)
        for _ in range(rng.randint(0, 2)):
            out.insert(rng.randrange(len(out) + 1), rng.choice(phrases))
        if rng.random() < 0.5:
            out.insert(rng.randrange(len(out) + 1), rng.choice(acronyms))
        if rng.random() < 0.3:
            i = rng.randrange(len(out))
            out[i] = out[i] + "-" + rng.choice(vocab[:500])
        return out

    result = []
    for _ in range(n):
        title = " ".join(words(rng.randint(7, 13)))
        title = title[:1].upper() + title[1:]
        body = words(rng.randint(170, 230))
        sentences = []
        for i in range(0, len(body), 20):
            sentence = " ".join(body[i : i + 20])
            sentence = sentence.replace(" ", ", ", 1) if rng.random() < 0.3 else sentence
            sentences.append(sentence[:1].upper() + sentence[1:] + ".")
        result.append((title, " ".join(sentences)))
    return result, vocab, phrases


def rules(n_tags: int, vocab: Sequence[str], phrases: Sequence[str], seed: int = SEED) -> RuleSet:
    """``n_tags`` synthetic tags (words, phrases, wildcards, acronyms, scopes, none-lists)
    grouped ten to a theme."""
    rng = random.Random(seed + 1)
    rare = vocab[6000:]  # a rule's words are specific: each is in about one paper in 1000
    tags: dict[str, Any] = {}
    for i in range(n_tags):
        terms: list[Any] = []
        for _ in range(rng.randint(3, 8)):
            roll = rng.random()
            if roll < 0.6:
                terms.append(rng.choice(rare))
            elif roll < 0.8:
                terms.append(rng.choice(phrases))
            elif roll < 0.9:
                word = rng.choice(rare)
                terms.append(word[: max(6, len(word) - 2)] + "*")
            elif roll < 0.92:
                terms.append("case:" + rng.choice(acronym_list()))
            else:
                terms.append({"term": rng.choice(rare), "field": "title", "weight": 2})
        unique = {str(t): t for t in terms}  # the same text twice is a config error
        spec: dict[str, Any] = {"any": list(unique.values())}
        if rng.random() < 0.2:
            spec["none"] = [rng.choice(rare)]
        if rng.random() < 0.1:
            spec["all"] = [rng.choice(vocab[:300])]
        tags[f"tag{i:03d}"] = spec
    themes = [
        {"name": f"Theme {j:02d}", "tags": list(tags)[j::50], "priority": rng.randint(0, 5)}
        for j in range(min(50, n_tags))
    ]
    ruleset, problems = parse_rules({"tags": tags, "themes": themes}, Source("bench"))
    if ruleset is None:
        raise SystemExit("\n".join(map(str, problems)))
    return ruleset


_LEFT, _RIGHT = r"(?<!\w)", r"(?!\w)"


class Naive:
    """One regex search per tag and field (its ``any`` terms as one alternation); the terms
    of tags that fire are then searched one by one for the exact tagging."""

    def __init__(self, ruleset: RuleSet) -> None:
        self.ruleset = ruleset
        self.plans: list[tuple[list[tuple[int, bool, re.Pattern[str]]], list[Any]]] = []
        for rule in ruleset.tags:
            combined = []
            for fi, name in enumerate(FIELDS):
                for case in (False, True):
                    # Literal terms only: each pattern is (?<!\w)BODY(?!\w) with no flags,
                    # so the boundaries are factored out of the alternation.
                    parts = [
                        t.pattern.pattern[len(_LEFT) : -len(_RIGHT)]
                        for t in rule.any
                        if name in t.fields and t.case == case
                    ]
                    if parts:
                        alternation = _LEFT + "(?:" + "|".join(parts) + ")" + _RIGHT
                        combined.append((fi, case, re.compile(alternation)))
            self.plans.append((combined, [*rule.any, *rule.all, *rule.none]))

    def tag(self, title: str, abstract: str) -> Tagging:
        texts = [(fold(t), fold(t, keep_case=True)) for t in (title, abstract)]
        hits: set[int] = set()
        for combined, terms in self.plans:
            if combined and not any(p.search(texts[fi][case]) for fi, case, p in combined):
                continue
            for t in terms:
                if any(
                    t.pattern.search(texts[fi][t.case])
                    for fi, name in enumerate(FIELDS)
                    if name in t.fields
                ):
                    hits.add(t.id)
        return self.ruleset.decide(hits)


def timed(fns: Sequence[Callable[[], object]], repeat: int) -> list[tuple[float, float]]:
    """Median (wall, CPU) seconds of each function over ``repeat`` rounds. The functions
    alternate within a round, so a change in machine load hits them alike; CPU time
    is what a busy machine does not distort."""
    runs: list[list[tuple[float, float]]] = [[] for _ in fns]
    for _ in range(repeat):
        for i, fn in enumerate(fns):
            wall, cpu = time.perf_counter(), time.process_time()
            fn()
            runs[i].append((time.perf_counter() - wall, time.process_time() - cpu))
    return [
        (statistics.median(r[0] for r in rounds), statistics.median(r[1] for r in rounds))
        for rounds in runs
    ]


def main(argv: Sequence[str] | None = None) -> int:
    """Generate, time both matchers, check they agree, print the report."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--papers", type=int, default=100_000)
    parser.add_argument("--rules", type=int, default=500)
    parser.add_argument("--naive-papers", type=int, default=1_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--feed", type=Path, help="time the papers stored by this feed")
    parser.add_argument("--texts", type=Path, help="with --feed: take the papers from this store")
    args = parser.parse_args(argv)
    if args.feed is not None:
        return feed_report(args.feed, args.repeat, args.texts, args.papers)

    start = time.perf_counter()
    corpus, vocab, phrases = papers(args.papers)
    ruleset = rules(args.rules, vocab, phrases)
    naive = Naive(ruleset)
    sample = corpus[: args.naive_papers]
    print(
        f"generated {len(corpus)} papers, {len(ruleset.tags)} tags, {len(ruleset.terms)} terms, "
        f"{len(ruleset.themes)} themes in {time.perf_counter() - start:.1f} s"
    )
    fast_result = ruleset.tag_many(sample)
    naive_result = [naive.tag(t, a) for t, a in sample]
    pairs = zip(fast_result, naive_result, strict=True)
    agree = sum(f.tags == n.tags and f.theme == n.theme for f, n in pairs)
    print(f"agreement on the {len(sample)}-paper sample: {agree}/{len(sample)}")

    (fast, fast_cpu), (slow, slow_cpu) = timed(
        [lambda: ruleset.tag_many(corpus), lambda: [naive.tag(t, a) for t, a in sample]],
        args.repeat,
    )
    scale = len(corpus) / max(len(sample), 1)
    tagged = [len(t.tags) for t in fast_result]
    print(
        f"sample: {sum(map(bool, tagged)) / max(len(sample), 1):.0%} of papers tagged, "
        f"{statistics.mean(tagged):.1f} tags per paper"
    )
    print(
        f"fast matcher: {len(corpus)} papers, median of {args.repeat}: "
        f"{fast:.2f} s wall, {fast_cpu:.2f} s CPU"
    )
    print(
        f"naive matcher: {len(sample)} papers, median of {args.repeat}: {slow:.2f} s wall, "
        f"{slow_cpu:.2f} s CPU; scaled to {len(corpus)}: {slow * scale:.1f} s wall, "
        f"{slow_cpu * scale:.1f} s CPU"
    )
    print(
        f"speed-up: {slow * scale / fast:.1f}x wall, {slow_cpu * scale / fast_cpu:.1f}x CPU "
        f"({1e6 * fast_cpu / len(corpus):.0f} µs vs {1e6 * slow_cpu / max(len(sample), 1):.0f} µs "
        "CPU per paper)"
    )
    return 0 if agree == len(sample) else 1


def feed_report(folder: Path, repeat: int, texts: Path | None = None, limit: int = 0) -> int:
    """Time tagging the papers stored by one feed (or the first ``limit`` texts of the
    store ``texts``) with the feed's rules: whole, scan, decide."""
    cfg = load_config(folder)
    ruleset = cfg.rules
    if texts is not None:
        db = sqlite3.connect(f"{texts.resolve().as_uri()}?mode=ro", uri=True)
        try:
            rows = db.execute("SELECT title, abstract FROM text ORDER BY id LIMIT ?", (limit,))
            corpus = [(str(title), str(abstract)) for title, abstract in rows]
        finally:
            db.close()
    else:
        store = Store(cfg.store)
        try:
            corpus = [(p.title, p.abstract) for p in store.papers.iter_all()]
        finally:
            store.close()
    if not corpus:
        raise SystemExit(f"no papers stored in {cfg.store}: run 'digest run {folder}' first")
    hits = [ruleset.scan(t, a) for t, a in corpus]
    union = [in_title | in_abstract for in_title, in_abstract in hits]
    tagged = ruleset.tag_many(corpus)
    print(
        f"{len(corpus)} papers, {len(ruleset.tags)} tags, {len(ruleset.terms)} terms, "
        f"{len(ruleset.themes)} themes; {statistics.mean(len(h) for h in union):.1f} terms found, "
        f"{statistics.mean(len(t.tags) for t in tagged):.1f} tags per paper"
    )
    results = timed(
        [
            lambda: ruleset.tag_many(corpus),
            lambda: [ruleset.scan(t, a) for t, a in corpus],
            lambda: [ruleset.decide(h) for h in union],
        ],
        repeat,
    )
    for name, (wall, cpu) in zip(("tag", "scan", "decide"), results, strict=True):
        print(
            f"{name}: median of {repeat}: {wall:.2f} s wall, {cpu:.2f} s CPU, "
            f"{1e6 * cpu / len(corpus):.1f} µs CPU per paper"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
