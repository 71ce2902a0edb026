"""The labelled identity set through the real pipeline: JSONL listings -> SQLite store.

Unlike tests/test_identity.py (which scores digest.identity alone), this ingests the
labelled records as real listings into a real store, so resolution order, blocking keys
in SQLite and the store's bookkeeping are all part of what is measured.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from identity_set import load, pairwise

from digest import pipeline
from digest.config import parse_config
from digest.explain import export_record

PER_LISTING = 100


def test_labelled_set_through_the_store(tmp_path: Path) -> None:
    records = load()
    listings = tmp_path / "listings"
    listings.mkdir()
    where: dict[tuple[str, int], str] = {}
    day = dt.date(2026, 1, 5)
    for n, start in enumerate(range(0, len(records), PER_LISTING)):
        chunk = records[start : start + PER_LISTING]
        name = f"{n:03d}.jsonl"
        with (listings / name).open("w", encoding="utf-8") as f:
            for position, record in enumerate(chunk):
                row = {"title": record.title, "abstract": record.abstract,
                       "date": (day + dt.timedelta(days=n)).isoformat()}  # fmt: skip
                f.write(json.dumps(row) + "\n")
                where[(name, position)] = record.id
    (tmp_path / "feed.yaml").write_text("sources: [listings/*.jsonl]\n")
    cfg = parse_config((tmp_path / "feed.yaml").read_text(), tmp_path)
    with pipeline.open_store(cfg) as store:
        files, _ = pipeline.source_files(cfg)
        report = pipeline.ingest(cfg, store, files, dt.date(2026, 11, 25))
        # Records without an abstract are kept (and reported); nothing is lost.
        assert all("without an abstract" in p.message for p in report.problems)
        assert report.sightings == len(records)
        predicted = {}
        rules: dict[str, int] = {}
        for paper in store.iter_papers():
            record = export_record(paper)
            for s in record["sightings"]:
                predicted[where[(s["listing"], s["position"])]] = paper.id
                rules[s["rule"]] = rules.get(s["rule"], 0) + 1
    precision, recall = pairwise(records, predicted)
    print(f"\nthrough the store: precision {precision:.4f}, recall {recall:.4f}, rules {rules}")
    assert precision == 1.0
    assert recall >= 0.99
    assert rules.get("fuzzy", 0) >= 20 and rules.get("abstract", 0) >= 100


def _feed(tmp_path: Path, identity: str = "") -> Path:
    listings = tmp_path / "listings"
    listings.mkdir(exist_ok=True)
    abstract = (
        "We present a method for fast sampling of diffusion models. Our approach finetunes the "
        "model with maximum mean discrepancy on a budget of timesteps. Experiments on CIFAR-10 "
        "and ImageNet show better speed-quality trade-offs than prior accelerated samplers."
    )
    other = (
        "Block transformers split attention into global and local stages. The global stage "
        "works on coarse blocks and the local one decodes tokens within a block. We show large "
        "throughput gains for batch inference with equal perplexity."
    )
    rows = [
        ("a.jsonl", "2026-03-10", "Fast Diffusion Sampling via MMD Finetuning", abstract),
        ("a.jsonl", "2026-03-10", "Block Transformer: Global-to-Local Modeling", other),
        ("b.jsonl", "2026-03-17", "MMD-DDM: Fast Inference in Denoising Diffusion Models",
         abstract + " Code is available at https://example.org/mmd."),
    ]  # fmt: skip
    for name in ("a.jsonl", "b.jsonl"):
        with (listings / name).open("w") as f:
            for n, day, title, text in rows:
                if n == name:
                    f.write(json.dumps({"title": title, "abstract": text, "date": day}) + "\n")
    (tmp_path / "feed.yaml").write_text("sources: [listings/*.jsonl]\n" + identity)
    return tmp_path


def _papers(feed: Path) -> list[dict[str, object]]:
    cfg = parse_config((feed / "feed.yaml").read_text(), feed)
    pipeline.run(cfg, dt.date(2026, 11, 25))
    with pipeline.open_store(cfg) as store:
        return [export_record(p) for p in store.iter_papers()]


def test_merge_is_explained_and_overrides_are_honoured(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from digest.cli import cli

    feed = _feed(tmp_path)
    papers = _papers(feed)
    assert len(papers) == 2  # the retitled v2 joined its paper by its abstract
    merged = next(p for p in papers if len(p["sightings"]) == 2)  # type: ignore[arg-type]
    # The newest version's title is shown; first_seen stays the earliest sighting.
    assert merged["title"] == "MMD-DDM: Fast Inference in Denoising Diffusion Models"
    assert merged["first_seen"] == "2026-03-10" and merged["week"] == "2026-W11"
    assert [s["rule"] for s in merged["sightings"]] == ["new", "abstract"]  # type: ignore[index]
    out = CliRunner().invoke(cli, ["explain", str(feed), "MMD-DDM"])
    assert out.exit_code == 0, out.output
    assert "abstract (score" in out.output and "why:" in out.output
    assert "title there: Fast Diffusion Sampling via MMD Finetuning" in out.output
    html = (feed / "site" / "2026-W11.html").read_text()
    assert "seen in 2 listings" in html

    # Forbid that merge: the next run keeps them apart, and the pages follow.
    split = ('identity:\n  split:\n    - ["Fast Diffusion Sampling via MMD Finetuning",'
             ' "MMD-DDM: Fast Inference in Denoising Diffusion Models"]\n')  # fmt: skip
    (feed / "feed.yaml").write_text("sources: [listings/*.jsonl]\n" + split)
    papers = _papers(feed)
    assert len(papers) == 3
    assert "2026-W12.html" in {p.name for p in (feed / "site").iterdir()}

    # Force a merge the matcher would never make.
    merge = ('identity:\n  merge:\n    - ["Block Transformer: Global-to-Local Modeling",'
             ' "Fast Diffusion Sampling via MMD Finetuning"]\n')  # fmt: skip
    (feed / "feed.yaml").write_text("sources: [listings/*.jsonl]\n" + merge)
    papers = _papers(feed)
    assert len(papers) == 1
    rules = sorted(s["rule"] for s in papers[0]["sightings"])  # type: ignore[union-attr]
    assert rules == ["abstract", "forced", "new"]
    from digest.store import Store

    with Store(feed / "digest.sqlite") as store:  # re-resolving kept every reference
        assert store.integrity_problems() == []
