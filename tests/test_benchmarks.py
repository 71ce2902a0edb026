"""The benchmark corpus generator (benchmarks/generate.py, benchmarks/realistic.py).

The friendly shape must stay byte for byte what earlier measurements used; the realistic
shape must be deterministic, carry its ground truth, and hold what it promises (repeats
the exact title rule cannot join, near-miss papers with titles of their own); a small
realistic corpus run through digest is scored against that ground truth the way
``benchmarks/bench_scale.py`` scores the large ones.
"""

from __future__ import annotations

import hashlib
import random
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
import yaml

from digest.normalize import title_key

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import bench_scale  # noqa: E402
import generate  # noqa: E402
import realistic  # noqa: E402

FRIENDLY_3000_SHA256 = "f0538faa3ab7535831e12c3eb8d1970e63365f9dcfe3e949981c93ef3d888e99"
"""Every file (path and bytes) of ``generate.py OUT --entries 3000 --rules 500 --seed 1``
plus ``--append-listing 500 --append-index 1``, as written before the realistic shape
existed (commit 3b75d5c). It changes only if the seed listings in feeds/example do."""


def tree_sha256(root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if path.is_file():
            digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def test_friendly_corpus_is_unchanged(tmp_path: Path) -> None:
    out = tmp_path / "friendly"
    generate.main([str(out), "--entries", "3000", "--rules", "500", "--seed", "1"])
    generate.main([str(out), "--entries", "3000", "--seed", "1", "--append-listing", "500",
                   "--append-index", "1"])  # fmt: skip
    assert not (out / "truth").exists()
    assert tree_sha256(out) == FRIENDLY_3000_SHA256


def test_realistic_corpus_is_deterministic_and_has_its_ground_truth(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    for out in (a, b):
        generate.main([str(out), "--entries", "2000", "--shape", "realistic", "--seed", "3"])
    assert tree_sha256(a) == tree_sha256(b)
    plan = generate.Plan(3, 2000)
    lines = [line.split("\t") for f in range(len(plan.sizes))
             for line in generate.truth_path(a, f).read_text().splitlines()]  # fmt: skip
    assert len(lines) == 2000
    kinds = Counter(kind for _, _, kind in lines)
    assert set(kinds) == set(realistic.KINDS)
    assert kinds["fuzzy"] + kinds["abstract"] > 2 * kinds["exact"]
    assert 0.02 < kinds["sibling"] / 2000 < 0.08  # none in the first listing


def test_realistic_repeats_and_near_misses_are_what_they_claim() -> None:
    vocab = generate.Vocabulary(random.Random(1))
    plan = generate.Plan(1, 3000)
    texts: dict[str, tuple[str, str]] = {}
    rows = []
    for f, size in enumerate(plan.sizes):
        for pos, (title, abstract, truth) in enumerate(realistic.entries(vocab, plan, f, size)):
            paper, kind = truth.split("\t")
            rows.append((paper, kind, title))
            if kind in ("new", "sibling"):
                assert paper == f"{f}:{pos}"
                texts[paper] = (title, abstract)
    keys = Counter(title_key(t) for p, k, t in rows if k in ("new", "sibling"))
    # Distinct papers have titles of their own (else the exact rule would merge them).
    assert max(keys.values()) == 1
    fuzzy = [(p, t) for p, k, t in rows if k in ("fuzzy", "abstract")]
    changed = sum(title_key(t) != title_key(texts[p][0]) for p, t in fuzzy)
    assert changed >= 0.9 * len(fuzzy)
    exact = [(p, t) for p, k, t in rows if k == "exact"]
    assert all(title_key(t) == title_key(texts[p][0]) for p, t in exact)
    # Common phrasing: stock sentences recur across papers.
    shared = sum(realistic.STOCK[0] in a for _, a in texts.values())
    assert shared > len(texts) / 30


def test_themes_option() -> None:
    vocab = generate.Vocabulary(random.Random(1))
    for themes, per_theme in ((500, 1), (50, 10)):
        doc = yaml.safe_load(generate.feed_yaml(vocab, 500, 1, themes))
        assert len(doc["themes"]) == themes
        assert {len(t["tags"]) for t in doc["themes"]} == {per_theme}
        assert sorted(tag for t in doc["themes"] for tag in t["tags"]) == sorted(doc["tags"])


@pytest.mark.slow
def test_near_duplicates_of_a_small_realistic_corpus_are_found(tmp_path: Path) -> None:
    feed = tmp_path / "feed"
    generate.main([str(feed), "--entries", "1500", "--rules", "50", "--shape", "realistic"])
    subprocess.run(
        [sys.executable, "-m", "digest", "-q", "run", str(feed), "--today", generate.TODAY],
        check=True,
    )
    found = bench_scale.accuracy(feed)
    assert found is not None
    assert found["sightings"] == 1500
    assert found["near"]["joins"] > 100
    assert (found["near_precision"], found["near_recall"]) == (1.0, 1.0)
    assert found["precision"] == found["recall"] == 1.0
