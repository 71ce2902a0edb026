"""Worker processes: same results as one process, in order, and never outliving a run."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import require_tool

from digest import commands, ingest, tag, workers
from digest.commands import run as run_command
from digest.config import load_config
from digest.sources import gather

ROOT = Path(__file__).parent.parent
EXAMPLE = ROOT / "feeds" / "example"
TODAY = dt.date(2026, 11, 25)

pytestmark = pytest.mark.skipif(not workers.can_fork(), reason="worker processes need fork")


def _square(offset: int, item: int) -> tuple[int, int]:
    return item * item + offset, os.getpid()


def _fail(state: None, item: int) -> int:
    if item == 3:
        raise ValueError(f"bad item {item}")
    return item


def test_pool_maps_in_order_in_other_processes() -> None:
    with workers.Pool(10, 2) as pool:
        results = list(pool.map(_square, range(50)))
    assert [r for r, _ in results] == [i * i + 10 for i in range(50)]
    assert os.getpid() not in {pid for _, pid in results}


def test_pool_runs_here_with_no_workers_or_when_told() -> None:
    with workers.Pool(1, 0) as pool:
        assert {pid for _, pid in pool.map(_square, range(5))} == {os.getpid()}
    with workers.Pool(1, 2) as pool:
        assert {pid for _, pid in pool.map(_square, range(5), parallel=False)} == {os.getpid()}


def test_a_worker_error_reaches_the_caller() -> None:
    with workers.Pool(None, 2) as pool, pytest.raises(ValueError, match="bad item 3"):
        list(pool.map(_fail, range(10)))


def _feed(tmp_path: Path) -> Path:
    target = tmp_path / "feed"
    shutil.copytree(EXAMPLE, target, ignore=shutil.ignore_patterns("site", "*.sqlite*", "cache"))
    return target


def _export(feed: Path) -> list[dict[str, object]]:
    from digest import explain

    cfg = load_config(feed)
    with commands.open_store(cfg) as store:
        return [explain.export_record(p) for p in store.papers.iter_all()]


def test_parallel_run_gives_the_serial_run_byte_for_byte(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    serial, parallel = _feed(tmp_path / "a"), _feed(tmp_path / "b")
    run_command.run(load_config(serial), TODAY, jobs=1)
    # The example is small: lower the thresholds so that every stage uses workers.
    monkeypatch.setattr(ingest, "PARALLEL_BYTES", 1)
    monkeypatch.setattr(tag, "PARALLEL_TAGGING", 1)
    report = run_command.run(load_config(parallel), TODAY, jobs=3)
    assert (report.ingest.sightings, report.ingest.new_papers, report.tagged) == (563, 453, 453)
    assert _export(parallel) == _export(serial)
    with commands.open_store(load_config(parallel)) as store:
        assert store.db.integrity_problems() == []
    files = sorted(p.relative_to(serial / "site") for p in (serial / "site").rglob("*"))
    assert files == sorted(p.relative_to(parallel / "site") for p in (parallel / "site").rglob("*"))
    for name in files:
        if (serial / "site" / name).is_file():
            assert (serial / "site" / name).read_bytes() == (parallel / "site" / name).read_bytes()


def _children(pid: int) -> set[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True)
    return {int(line) for line in out.stdout.split()}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split(") ")[1].startswith("Z"))


def test_killed_run_leaves_no_worker_behind_and_the_next_run_completes(tmp_path: Path) -> None:
    if shutil.which("pgrep") is None:
        require_tool("pgrep", "procps")  # CI installs it (.ci/run): there a skip is a failure
    feed = tmp_path / "feed"
    subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "generate.py"), "--entries", "6000",
         "--rules", "50", str(feed)],
        check=True, capture_output=True,
    )  # fmt: skip
    command = [sys.executable, "-m", "digest", "-q", "run", str(feed), "--today", "2025-12-31"]
    proc = subprocess.Popen([*command, "--jobs", "2"])
    deadline = time.monotonic() + 30
    kids: set[int] = set()
    while not kids and proc.poll() is None and time.monotonic() < deadline:
        kids = _children(proc.pid)
        time.sleep(0.01)
    assert kids, "the run started worker processes"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    # Workers notice their parent is gone and exit (they must not keep the lock).
    deadline = time.monotonic() + 15  # they check every 0.5 s; the machine may be busy
    while any(_alive(k) for k in kids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(_alive(k) for k in kids)
    done = subprocess.run([*command, "--jobs", "2", "--lock-timeout", "0"], capture_output=True)
    assert done.returncode == 0, done.stderr
    again = tmp_path / "again"
    shutil.copytree(feed, again, ignore=shutil.ignore_patterns("site", "*.sqlite*"))
    subprocess.run(
        [sys.executable, "-m", "digest", "-q", "run", str(again), "--today", "2025-12-31",
         "--jobs", "1"],
        check=True,
    )  # fmt: skip
    for path in sorted((again / "site").rglob("*")):
        if path.is_file():
            assert (feed / "site" / path.relative_to(again / "site")).read_bytes() == (
                path.read_bytes()
            ), path.name
    with commands.open_store(load_config(feed)) as a, commands.open_store(load_config(again)) as b:
        assert a.papers.counts() == b.papers.counts()
    assert json.dumps(_export(feed)) == json.dumps(_export(again))


def _die(state: None, item: int) -> int:
    if item == 2:
        os._exit(3)  # as the kernel's OOM killer would leave it
    return item


def test_a_dead_worker_is_a_clear_error() -> None:
    from digest.errors import DigestError

    with workers.Pool(None, 2) as pool, pytest.raises(DigestError, match="worker process died"):
        list(pool.map(_die, range(10)))


def test_a_reader_crash_costs_one_listing_not_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    feed = _feed(tmp_path)
    real = ingest.read_bytes

    def flaky(data: bytes, name: str, *args: object) -> object:
        if name.startswith("002_"):
            raise RuntimeError("reader bug")
        return real(data, name, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(ingest, "read_bytes", flaky)
    cfg = load_config(feed)
    files, _ = gather.source_files(cfg)
    with commands.open_store(cfg) as store:
        report = ingest.ingest(cfg, store, files, TODAY)
    assert report.listings_new == 4
    [problem] = report.problems
    assert problem.file.startswith("002_") and "RuntimeError: reader bug" in problem.message


def test_a_touched_listing_is_hashed_not_parsed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    feed = _feed(tmp_path)
    cfg = load_config(feed)
    files, _ = gather.source_files(cfg)
    with commands.open_store(cfg) as store:
        ingest.ingest(cfg, store, files, TODAY)
    os.utime(files[0], (1, 1))  # new mtime and ctime, same content
    parsed: list[str] = []
    real = ingest.read_bytes
    monkeypatch.setattr(
        ingest, "read_bytes", lambda data, name, *a: parsed.append(name) or real(data, name, *a)
    )
    with commands.open_store(cfg) as store:
        report = ingest.ingest(cfg, store, files, TODAY)
    assert (report.listings_new, report.listings_unchanged, parsed) == (0, 5, [])


def test_a_listing_that_cannot_be_stored_costs_that_listing_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from digest.store import Store

    feed = _feed(tmp_path)
    real = ingest.store_listing
    calls: dict[str, int] = {}

    def failing(store: Store, resolver: Any, name: str, *args: Any, **kwargs: Any) -> Any:
        result = real(store, resolver, name, *args, **kwargs)
        calls[name[:4]] = calls.get(name[:4], 0) + 1
        if name.startswith(("002_", "004_")):
            raise RuntimeError("store bug")  # after writing: the listing must roll back
        if name.startswith("001_") and calls["001_"] == 2:
            raise RuntimeError("flaky bug")  # when stored again after 002_ failed
        return result

    monkeypatch.setattr(ingest, "store_listing", failing)
    cfg = load_config(feed)
    files, _ = gather.source_files(cfg)
    with commands.open_store(cfg) as store:
        report = ingest.ingest(cfg, store, files, TODAY)
    failed = sorted((p.file[:4], p.message.split(";")[0]) for p in report.problems)
    assert failed == [
        ("001_", "could not be stored (RuntimeError: flaky bug)"),
        ("002_", "could not be stored (RuntimeError: store bug)"),
        ("004_", "could not be stored (RuntimeError: store bug)"),
    ]
    # 002_ failing rolled back 000_ and 001_; 001_ failed when stored again, so 000_
    # was stored a third time, and committed: 004_ failing cost it nothing, 003_ was
    # stored again
    assert calls == {"000_": 3, "001_": 2, "002_": 1, "003_": 2, "004_": 1}
    monkeypatch.undo()
    with commands.open_store(cfg) as store:
        names = {m[0][:4] for m in store.listings.meta().values()}
        assert names == {"000_", "003_"}
        assert store.db.integrity_problems() == []
        # each listing stored counts once, whatever was done again
        assert report.listings_new == 2 and report.sightings == store.papers.counts()["sightings"]
        retried = ingest.ingest(cfg, store, files, TODAY)  # the next run stores them
    assert (retried.listings_new, retried.listings_unchanged) == (3, 2)


def test_a_full_commit_group_is_committed_before_the_next_listing_is_stored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from digest.store import Store

    feed = _feed(tmp_path)
    real = ingest.store_listing
    calls: list[str] = []

    def failing(store: Store, resolver: Any, name: str, *args: Any, **kwargs: Any) -> Any:
        calls.append(name[:4])
        result = real(store, resolver, name, *args, **kwargs)
        if name.startswith("002_"):
            raise RuntimeError("store bug")
        return result

    monkeypatch.setattr(ingest, "store_listing", failing)
    monkeypatch.setattr(ingest, "COMMIT_ROWS", 1)  # every listing fills a group
    from digest.store import CommitGroup

    commits = 0
    real_commit = CommitGroup.commit

    def counted(self: CommitGroup) -> bool:
        nonlocal commits
        commits += 1
        return real_commit(self)

    monkeypatch.setattr(CommitGroup, "commit", counted)
    cfg = load_config(feed)
    files, _ = gather.source_files(cfg)
    with commands.open_store(cfg) as store:
        report = ingest.ingest(cfg, store, files, TODAY)
    # 000_ and 001_ were committed before 002_ was stored: its failure cost them nothing
    assert calls == ["000_", "001_", "002_", "003_", "004_"]
    # A commit after each listing but the last one, which the group's end commits
    # (its checkpoint left to a thread); and one for the listing stored again (none).
    assert commits == 4 and store.db.checkpointing
    monkeypatch.undo()
    with commands.open_store(cfg) as store:
        assert {m[0][:4] for m in store.listings.meta().values()} == {
            "000_",
            "001_",
            "003_",
            "004_",
        }
        assert report.listings_new == 4 and report.sightings == store.papers.counts()["sightings"]
        assert store.db.integrity_problems() == []


def test_a_store_that_cannot_work_stops_the_ingest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sqlite3

    def broken(*args: object, **kwargs: object) -> object:
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(ingest, "store_listing", broken)
    feed = _feed(tmp_path)
    cfg = load_config(feed)
    files, _ = gather.source_files(cfg)
    with commands.open_store(cfg) as store, pytest.raises(sqlite3.OperationalError):
        ingest.ingest(cfg, store, files, TODAY)


def test_two_source_files_with_one_name_are_reported_not_alternated(tmp_path: Path) -> None:
    feed = _feed(tmp_path)
    first = sorted((feed / "listings").glob("*.txt"))[0]
    (feed / "more").mkdir()
    (feed / "more" / first.name).write_text(first.read_text()[:2000])
    config = feed / "feed.yaml"
    config.write_text(
        config.read_text().replace(
            "  - path: listings/*.txt", "  - path: listings/*.txt\n  - path: more/*.txt", 1
        )
    )
    inputs, problems = gather.gather_sources(load_config(feed), TODAY)
    assert [i.path for i in inputs if i.name == first.name] == [first]
    [problem] = problems
    assert "has the name of" in problem.message and "more" in problem.message


def test_entries_and_keys_pickle_every_field() -> None:
    import dataclasses
    import datetime as dt
    import pickle

    from digest.models import Entry, EntryKeys, Signals

    entry = Entry(
        "T", "A", "l.txt", dt.date(2026, 3, 11), 3, line=7, source_id="arxiv:2403.1",
        version=2, url="https://x.org", authors=("A B",), announce="new",
        links=(("pdf", "https://arxiv.org/pdf/2403.1"),), signals=Signals(upvotes=3),
        ids=("doi:10.1/x",),
    )  # fmt: skip
    keys = EntryKeys("t", ("a1", "t2"), "h")
    for value in (entry, keys):
        assert len(value.__reduce__()[1]) == len(dataclasses.fields(value))
        assert pickle.loads(pickle.dumps(value)) == value
    assert all(getattr(entry, f.name) != f.default for f in dataclasses.fields(Entry))
