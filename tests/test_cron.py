"""Cron-grade operation: idempotent, incremental, locked, crash-safe, isolating bad input."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
EXAMPLE = ROOT / "feeds" / "example"
TODAY = "2026-11-25"


def copy_feed(target: Path) -> Path:
    shutil.copytree(EXAMPLE, target, ignore=shutil.ignore_patterns("site", "*.sqlite*", "cache"))
    return target


def digest(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "digest", *args], capture_output=True, text=True, check=check
    )


def snapshot(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def export(feed: Path) -> list[dict[str, object]]:
    out = digest("export", str(feed))
    return [json.loads(line) for line in out.stdout.splitlines()]


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, bytes], list[object]]:
    """Outputs and export of one uninterrupted run."""
    feed = copy_feed(tmp_path_factory.mktemp("ref") / "feed")
    digest("run", str(feed), "--today", TODAY)
    return snapshot(feed / "site"), export(feed)


def test_rerun_is_byte_identical_and_rewrites_nothing(tmp_path: Path, reference: tuple) -> None:
    feed = copy_feed(tmp_path / "feed")
    digest("run", str(feed), "--today", TODAY)
    site = feed / "site"
    assert snapshot(site) == reference[0]
    mtimes = {p: p.stat().st_mtime_ns for p in site.rglob("*")}
    time.sleep(0.05)
    again = digest("run", str(feed), "--today", TODAY)
    assert "0 new listings, 0 new papers" in again.stderr and "0 files written" in again.stderr
    assert {p: p.stat().st_mtime_ns for p in site.rglob("*")} == mtimes


def test_changes_are_judged_by_content_not_mtime(tmp_path: Path, reference: tuple) -> None:
    feed = copy_feed(tmp_path / "feed")
    digest("run", str(feed), "--today", TODAY)
    listing = sorted((feed / "listings").glob("*.txt"))[1]
    os.utime(listing, (time.time() + 100, time.time() + 100))  # touched: same content
    out = digest("run", str(feed), "--today", TODAY)
    assert "0 new listings, 0 new papers" in out.stderr and "0 files written" in out.stderr
    # A real change of content is picked up, whatever the mtime says.
    stat = listing.stat()
    listing.write_text(listing.read_text().replace("Mar 14", "Mar 15").replace("Apr 28", "Apr 29"))
    os.utime(listing, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    out = digest("run", str(feed), "--today", TODAY)
    assert "1 new listings" in out.stderr


def test_new_or_emptied_out_folder_gets_every_file(tmp_path: Path, reference: tuple) -> None:
    feed = copy_feed(tmp_path / "feed")
    digest("run", str(feed), "--today", TODAY)
    other = tmp_path / "elsewhere"
    digest("run", str(feed), "--today", TODAY, "--out", str(other))
    assert snapshot(other) == reference[0]
    for path in (feed / "site").iterdir():
        if path.is_file():
            path.unlink()
    digest("run", str(feed), "--today", TODAY)
    assert snapshot(feed / "site") == reference[0]


def test_quiet_run_prints_nothing(tmp_path: Path) -> None:
    feed = copy_feed(tmp_path / "feed")
    out = digest("--quiet", "run", str(feed), "--today", TODAY)
    assert out.stdout == "" and out.stderr == ""


@pytest.mark.slow
def test_sigkill_at_many_points_then_rerun_gives_the_uninterrupted_outputs(
    tmp_path: Path, reference: tuple
) -> None:
    # How long an uninterrupted run takes here, to spread the kill points over it.
    probe = copy_feed(tmp_path / "probe")
    start = time.monotonic()
    digest("run", str(probe), "--today", TODAY)
    duration = time.monotonic() - start
    points = 14
    killed = 0
    for i in range(points):
        feed = copy_feed(tmp_path / f"k{i}")
        proc = subprocess.Popen(
            [sys.executable, "-m", "digest", "run", str(feed), "--today", TODAY],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        time.sleep(duration * (i + 0.5) / points)
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            killed += 1
        proc.wait()
        # No half-written output is ever visible under its real name.
        for path in (feed / "site").glob("*") if (feed / "site").exists() else []:
            if path.suffix in (".xml", ".html") and not path.name.startswith("."):
                assert path.read_bytes().rstrip().endswith((b"</html>", b"</rss>", b"</feed>"))
        rerun = digest("run", str(feed), "--today", TODAY, check=False)
        assert rerun.returncode == 0, rerun.stderr
        assert snapshot(feed / "site") == reference[0], f"kill point {i}"
        assert export(feed) == reference[1], f"kill point {i}"
    assert killed >= points // 2  # most points really interrupted a run


def test_ingest_killed_midway_then_rerun(tmp_path: Path, reference: tuple) -> None:
    feed = copy_feed(tmp_path / "feed")
    files = sorted(str(p) for p in (feed / "listings").glob("*.txt"))
    for delay in (0.35, 0.5, 0.7):
        proc = subprocess.Popen(
            [sys.executable, "-m", "digest", "ingest", str(feed), *files, "--today", TODAY],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        time.sleep(delay)
        proc.kill()
        proc.wait()
    digest("run", str(feed), "--today", TODAY)
    assert snapshot(feed / "site") == reference[0]
    assert export(feed) == reference[1]


KILL_AFTER = """
import os, signal, sys
from digest import cli, ingest
ingest.BULK_BYTES = 1  # the example is small: a bulk ingest all the same
ingest.COMMIT_ROWS = 100  # a commit before each listing
real, stored, kill_at = ingest.store_listing, [], int(sys.argv[1])
def add_listing(store, resolver, *args, **kwargs):
    result = real(store, resolver, *args, **kwargs)
    stored.append(args[0])
    if len(stored) == kill_at:  # inside the listing's transaction, not committed
        os.kill(os.getpid(), signal.SIGKILL)
    return result
ingest.store_listing = add_listing
sys.argv = ["digest", *sys.argv[2:]]
cli.main()
"""


def test_bulk_ingest_killed_midway_then_rerun(tmp_path: Path, reference: tuple) -> None:
    feed = copy_feed(tmp_path / "feed")
    files = sorted(str(p) for p in (feed / "listings").glob("*.txt"))
    for listings in (2, 1, 3):  # each run stores the listings the one before left
        proc = subprocess.run(
            [sys.executable, "-c", KILL_AFTER, str(listings), "ingest", str(feed), *files,
             "--today", TODAY],
            capture_output=True,
        )  # fmt: skip
        assert proc.returncode == -signal.SIGKILL
        assert (feed / "digest.sqlite-journal").exists()  # a transaction to roll back
    digest("run", str(feed), "--today", TODAY)
    assert snapshot(feed / "site") == reference[0]
    assert export(feed) == reference[1]
    assert not (feed / "digest.sqlite-journal").exists()


def test_second_concurrent_run_waits_or_exits_4(tmp_path: Path) -> None:
    from filelock import FileLock

    feed = copy_feed(tmp_path / "feed")
    with FileLock(feed / ".digest.lock"):
        out = digest("run", str(feed), "--today", TODAY, "--lock-timeout", "0.5", check=False)
        assert out.returncode == 4
        assert "another digest run holds" in out.stderr
    # The lock dies with its holder: a killed holder never blocks the next run.
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time; from filelock import FileLock; "
         "l = FileLock(sys.argv[1]); l.acquire(); print('held', flush=True); time.sleep(60)",
         str(feed / ".digest.lock")],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    holder.kill()
    holder.wait()
    out = digest("run", str(feed), "--today", TODAY, "--lock-timeout", "5", check=False)
    assert out.returncode == 0, out.stderr


def test_bad_listing_is_isolated(tmp_path: Path, reference: tuple) -> None:
    feed = copy_feed(tmp_path / "feed")
    digest("run", str(feed), "--today", TODAY)
    before = export(feed)
    listings = feed / "listings"
    (listings / "binary.txt").write_bytes(b"\x00\x01\x02\x03" * 50)
    (listings / "latin1.txt").write_bytes(
        "new\n\nMar 12\n\nCaf\xe9 paper title\n\nAn abstract about caf\xe9s.\n".encode("latin-1")
    )
    (listings / "nodate.txt").write_text("just\n\nsome text\n")
    out = digest("run", str(feed), "--today", TODAY, check=False)
    assert out.returncode == 3, out.stderr  # success with warnings
    assert "binary.txt: looks like a binary file" in out.stderr
    assert "latin1.txt:5: not valid UTF-8" in out.stderr
    assert "nodate.txt: no date line" in out.stderr
    after = export(feed)
    old = {r["id"]: r for r in before}
    # Everything stored before is unchanged; only the readable part of latin1.txt was added.
    assert all(old[r["id"]] == r for r in after if r["id"] in old)
    assert len(after) == len(before) + 1
    strict = digest("run", str(feed), "--today", TODAY, "--strict", check=False)
    assert strict.returncode == 1


def test_published_week_pages_change_only_with_their_papers(tmp_path: Path) -> None:
    feed = copy_feed(tmp_path / "feed")
    digest("run", str(feed), "--today", TODAY)
    page = feed / "site" / "2026-W11.html"
    before = page.read_bytes()
    title = "Block Transformer: Global-to-Local Language Modeling for Fast Inference"
    assert before.count(b"seen in 2 listings") >= 1
    source = (feed / "listings" / "000_b7ea8f9abe6ed864.txt").read_text().split("\n\n")
    abstract = source[source.index(title) + 1]
    # A later sighting of a paper of the published week 2026-W11: provenance only.
    (feed / "listings" / "late.txt").write_text(f"Mar 12\n\n{title}\n\n{abstract}\n")
    out = digest("run", str(feed), "--today", TODAY)
    assert "1 new listings, 0 new papers" in out.stderr
    assert page.read_bytes() == before  # the published page is kept as it was
    (record,) = [r for r in export(feed) if r["title"] == title]
    assert len(record["sightings"]) == 3  # type: ignore[arg-type]
    # A new paper first seen in that week is news: the page is redone.
    (feed / "listings" / "late2.txt").write_text(
        "Mar 13\n\nA Brand New Paper on Sparse Attention\n\n"
        "We study sparse attention. It is fast. It is also accurate.\n"
    )
    digest("run", str(feed), "--today", TODAY)
    after = page.read_text()
    assert "A Brand New Paper on Sparse Attention" in after
    # --rebuild brings every page up to date with everything the store knows.
    digest("run", str(feed), "--today", TODAY, "--rebuild")
    assert "seen in 3 listings" in page.read_text()
