"""Re-tagging through ``run_command.run``: changed rules re-tag stored papers without reading
listings again; published weeks keep their tags unless ``rebuild``; the current week
follows the new rules."""

from __future__ import annotations

import datetime as dt
import shutil
from collections import Counter
from pathlib import Path

from digest import commands
from digest.commands import run as run_command
from digest.config import load_config
from digest.explain import check_lines, explain_lines
from digest.ingest import ingest
from digest.sources import gather

EXAMPLE = Path(__file__).resolve().parent.parent / "feeds" / "example"
TODAY = dt.date(2026, 5, 1)
"""Inside 2026-W18 (the Apr 28 listing): that week is current, 2026-W11 has ended."""
NEW_TAG = '  transformers:\n    any: ["transformer*", "case:ViT"]\n'
NEW_THEME = "  - name: Transformers\n    tags: [transformers]\n    priority: 9\n"

Stored = dict[str, tuple[str, tuple[str, ...], str]]


def copy_feed(tmp_path: Path) -> Path:
    root = tmp_path / "feed"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns("site", "*.sqlite*", ".lock"))
    return root


def edit(root: Path, old: str, new: str) -> None:
    path = root / "feed.yaml"
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1
    path.write_text(text.replace(old, new), encoding="utf-8")


def run(root: Path, *, rebuild: bool = False) -> tuple[run_command.RunReport, Stored]:
    cfg = load_config(root)
    report = run_command.run(cfg, TODAY, rebuild=rebuild)
    with commands.open_store(cfg) as store:
        stored = {p.id: (p.week, tuple(p.tags), p.theme) for p in store.papers.load()}
    return report, stored


def current(root: Path) -> dict[str, tuple[tuple[str, ...], str]]:
    """Every stored paper tagged afresh with the rules now in feed.yaml."""
    cfg = load_config(root)
    with commands.open_store(cfg) as store:
        papers = store.papers.load()
    taggings = cfg.rules.tag_many((p.title, p.abstract) for p in papers)
    return {p.id: (t.tags, t.theme) for p, t in zip(papers, taggings, strict=True)}


def test_new_rules_retag_the_current_week_and_rebuild_retags_the_rest(tmp_path: Path) -> None:
    root = copy_feed(tmp_path)
    first, before = run(root)
    weeks = Counter(week for week, _, _ in before.values())
    assert set(weeks) == {"2026-W11", "2026-W18"}
    assert first.tagged == len(before)

    unchanged, same = run(root)
    assert unchanged.tagged == 0 and same == before
    assert unchanged.ingest.listings_unchanged == 5

    edit(root, "tags:\n", "tags:\n" + NEW_TAG)
    edit(root, "themes:\n", "themes:\n" + NEW_THEME)
    report, after = run(root)
    # Only tags changed: no listing is parsed again, no sighting added.
    assert report.ingest.listings_new == 0 and report.ingest.sightings == 0
    assert report.ingest.listings_unchanged == 5
    assert report.tagged == weeks["2026-W18"]
    fresh = current(root)
    for pid, (week, tags, theme) in after.items():
        if week == "2026-W11":
            assert (tags, theme) == before[pid][1:], pid  # published: frozen
        else:
            assert (tags, theme) == fresh[pid], pid  # current week: the new rules
    assert any(t == "Transformers" for w, _, t in after.values() if w == "2026-W18")
    assert not any("transformers" in tags for w, tags, _ in after.values() if w == "2026-W11")
    frozen_but_stale = [
        p for p, (w, *rest) in after.items() if w == "2026-W11" and tuple(rest) != fresh[p]
    ]
    assert frozen_but_stale  # W11 has transformer papers that keep their old tags

    cfg = load_config(root)
    with commands.open_store(cfg) as store:
        lines = list(check_lines(cfg, store))
        assert f"{len(frozen_but_stale)} papers keep tags from earlier rules" in "\n".join(lines)
        why = list(explain_lines(cfg, store, frozen_but_stale[0]))
    assert any("as its published week was sent" in line for line in why)

    rebuilt, final = run(root, rebuild=True)
    assert rebuilt.tagged == weeks["2026-W11"]
    assert {pid: (tags, theme) for pid, (_, tags, theme) in final.items()} == current(root)


def test_any_rule_change_retags_the_current_week(tmp_path: Path) -> None:
    root = copy_feed(tmp_path)
    _, before = run(root)
    # A priority change alone moves papers between themes.
    theme = "  - name: Reasoning, RL and agents\n    tags: [rl-reasoning]\n    priority: "
    edit(root, theme + "1", theme + "9")
    report, after = run(root)
    assert report.tagged == sum(1 for week, _, _ in before.values() if week == "2026-W18")
    moved = [pid for pid in after if after[pid][2] != before[pid][2]]
    assert moved and all(after[pid][0] == "2026-W18" for pid in moved)
    assert all(after[pid][2] == "Reasoning, RL and agents" for pid in moved)
    # A term removed: the next run re-tags again, no more.
    edit(root, '"reasoning", ', "")
    report, _ = run(root)
    assert report.tagged == sum(1 for week, _, _ in before.values() if week == "2026-W18")


def test_tags_given_at_ingest_are_those_of_the_rules_at_tagging_time(tmp_path: Path) -> None:
    # Texts are tagged as they are ingested; the tag stage copies those tags only when
    # they were computed under the rules in force, and tags afresh otherwise.
    root = copy_feed(tmp_path)
    cfg = load_config(root)
    files, _ = gather.source_files(cfg)
    with commands.open_store(cfg) as store:
        ingest(cfg, store, files, TODAY)  # tagged under the original rules
    edit(root, "tags:\n", "tags:\n" + NEW_TAG)
    edit(root, "themes:\n", "themes:\n" + NEW_THEME)
    report, stored = run(root)
    assert report.tagged == len(stored) == 453
    assert {pid: (tags, theme) for pid, (_, tags, theme) in stored.items()} == current(root)
    assert any(theme == "Transformers" for _, _, theme in stored.values())


def test_papers_are_tagged_as_stored_and_texts_keep_their_tags(tmp_path: Path) -> None:
    root = copy_feed(tmp_path)
    cfg = load_config(root)
    files, _ = gather.source_files(cfg)
    fingerprint = cfg.rules.fingerprint
    with commands.open_store(cfg) as store:
        ingest(cfg, store, files, TODAY)
        assert list(store.papers.untagged(fingerprint, only_new=True)) == []
        tagged = {p.id: (tuple(p.tags), p.theme) for p in store.papers.load()}
        # Papers that lost their tags get those their shown text was given at ingest.
        store.db.execute("UPDATE paper SET tags='[]', theme='', rules=''")
        assert store.papers.tags_from_texts(fingerprint) == 453
        copied = {p.id: (tuple(p.tags), p.theme) for p in store.papers.load()}
    assert tagged == copied == current(root)


def test_a_new_version_of_a_published_paper_keeps_its_published_tags(tmp_path: Path) -> None:
    root = copy_feed(tmp_path)
    _, before = run(root)
    cfg = load_config(root)
    with commands.open_store(cfg) as store:
        published = [p for p in store.papers.load("2026-W11") if p.theme != "Mixture of experts"]
    paper = published[0]
    page = root / "site" / "2026-W11.html"
    sent = page.read_bytes()
    # v2 of a published paper, seen in the current week, is about mixture of experts now
    abstract = "We route tokens to experts. A mixture of experts model with sparse experts."
    (root / "listings" / "v2.txt").write_text(f"Apr 29\n\n{paper.title}\n\n{abstract}\n")
    report, after = run(root)
    assert report.ingest.merged == 1 and report.ingest.new_papers == 0
    assert after[paper.id] == before[paper.id]  # its published tags and theme
    assert page.read_bytes() == sent  # its week's page as it was sent
    with commands.open_store(cfg) as store:
        (shown,) = store.papers.load(ids=[paper.id])
        assert shown.abstract == abstract  # the store shows the newest version
        assert "1 papers keep tags from earlier rules" in "\n".join(check_lines(cfg, store))
    _, rebuilt = run(root, rebuild=True)
    assert rebuilt[paper.id][1:] == current(root)[paper.id]
    assert rebuilt[paper.id][2] == "Mixture of experts"


def test_a_new_version_of_a_paper_never_tagged_is_tagged_in_a_published_week(
    tmp_path: Path,
) -> None:
    root = copy_feed(tmp_path)
    run(root)
    cfg = load_config(root)
    with commands.open_store(cfg) as store:
        paper = store.papers.load("2026-W11")[0]
        # as a paper is after identity.merge/split changed (re-resolved, not tagged yet)
        store.db.execute("UPDATE paper SET tags='[]', theme='', rules='' WHERE id=?", (paper.id,))
    abstract = "We route tokens to experts. A mixture of experts model with sparse experts."
    (root / "listings" / "v2.txt").write_text(f"Apr 29\n\n{paper.title}\n\n{abstract}\n")
    _, after = run(root)
    assert after[paper.id][1:] == current(root)[paper.id]  # tagged, from its newest text
    with commands.open_store(cfg) as store:
        rules = store.db.execute("SELECT rules FROM paper WHERE id=?", (paper.id,)).fetchone()
    assert rules[0] == cfg.rules.fingerprint
