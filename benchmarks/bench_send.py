"""Benchmark of ``digest send``: one week to 1 and to 100 recipients over real SMTP.

Input: the example feed (feeds/example, copied to a temporary folder, its listings
ingested and tagged), its latest complete week before 2026-05-06 (2026-W18). An
aiosmtpd server on 127.0.0.1 (a free port) accepts every message, in a process of its
own (as a real server is: its CPU is not digest's; ``--server thread`` runs it in
this process instead); it is stopped at the end, and a watchdog ends the benchmark
after ``--max-seconds`` whatever happens.

Output (stdout): for 1 and for 100 recipients, the median wall seconds and CPU seconds
(this process: digest's side only, unless ``--server thread``) of
``digest.commands.send.send_week`` (``force``: the ledger never skips) over
``--repeat`` runs, the 100/1 ratios, and the SMTP connections the server saw. With
``--reference``, the same for the oldest path (the week rendered and CSS-inlined again
for each recipient: :func:`digest.mail.compose` per recipient).

It calls only ``send_week``, so it can time an older snapshot of digest too:
``PYTHONPATH=/tmp/snapshot python benchmarks/bench_send.py``.

With ``--split``, the CPU milliseconds per further recipient (100 recipients against 1)
of the address check, the message's bytes, the ledger and smtplib, each measured by
wrapping it with ``time.process_time`` (this code's functions only).

Run: ``python benchmarks/bench_send.py [--repeat N] [--server process|thread]
[--reference] [--split]``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing
import os
import queue
import shutil
import socket
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

from digest import commands, delivery, mail, render
from digest.commands import send as send_command
from digest.config import FeedConfig, load_config
from digest.feedid import feed_uid
from digest.grouping import group_week
from digest.ingest import ingest
from digest.store import Store
from digest.tag import tag

ROOT = Path(__file__).resolve().parent.parent
TODAY = dt.date(2026, 5, 6)


class Sink:
    """Accepts every message; tells ``seen`` the connection each came over."""

    def __init__(self, seen: Any) -> None:
        self.seen = seen

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.seen.put(session.peer)
        return "250 2.0.0 accepted"


def serve(port: int, seen: Any, stop: Any) -> None:
    """The server process: accept messages until ``stop`` is set."""
    controller = Controller(Sink(seen), hostname="127.0.0.1", port=port)
    controller.start()
    seen.put("ready")
    stop.wait()
    controller.stop()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def server(where: str) -> Iterator[tuple[Any, int]]:
    """A running server and its port; the queue gets each message's connection."""
    port = free_port()
    if where == "thread":
        seen: Any = queue.Queue()
        controller = Controller(Sink(seen), hostname="127.0.0.1", port=port)
        controller.start()
        try:
            yield seen, port
        finally:
            controller.stop()
        return
    ctx = multiprocessing.get_context("spawn")
    seen, stop = ctx.Queue(), ctx.Event()
    child = ctx.Process(target=serve, args=(port, seen, stop), daemon=True)
    child.start()
    try:
        assert seen.get(timeout=60) == "ready"
        yield seen, port
    finally:
        stop.set()
        child.join(10)


def example_feed(folder: Path, port: int) -> Path:
    root = folder / "example"
    shutil.copytree(ROOT / "feeds" / "example", root)
    yaml = (root / "feed.yaml").read_text()
    yaml = yaml.replace("host: localhost", "host: 127.0.0.1").replace("port: 25", f"port: {port}")
    (root / "feed.yaml").write_text(yaml)
    cfg = load_config(root)
    with commands.open_store(cfg) as store:
        ingest(cfg, store, sorted((root / "listings").glob("*.txt")), TODAY)
        tag(cfg, store)
    return root


class PerRecipient:
    """The oldest composer: the whole message rendered for each recipient."""

    def __init__(
        self, cfg: FeedConfig, email: Any, store: Store, week: str, when: dt.datetime
    ) -> None:
        self.digest = group_week(week, store.papers.load(week), cfg.rules.section_names)
        self.cfg, self.email, self.when = cfg, email, when
        self.uid, self.env = feed_uid(cfg, store), render.environment(cfg.templates)

    def compose(self, rcpt: str) -> Any:
        return mail.compose(
            self.cfg, self.email, self.digest,
            recipient=rcpt, uid=self.uid, now=self.when, env=self.env,
        )  # fmt: skip

    def outgoing(self, rcpt: str) -> Any:
        return mail.outgoing(self.compose(rcpt))


def drain(seen: Any) -> list[Any]:
    """The connections of the messages the server accepted since the last call."""
    peers = []
    while True:
        try:
            peers.append(seen.get(timeout=0.2))
        except queue.Empty:
            return peers


def timed(root: Path, seen: Any, to: list[str], repeat: int) -> tuple[float, float, int]:
    """Median wall and CPU seconds of sending the week to ``to`` (CPU: this process's;
    less moved by a busy machine than wall), and connections per send."""
    cfg = load_config(root)
    times, cpus, connections = [], [], set()
    for _ in range(repeat):
        # Each send as in a fresh process: no address remembered from the last one.
        getattr(mail.read_address, "cache_clear", lambda: None)()
        with commands.open_store(cfg) as store:
            start, cpu = time.perf_counter(), time.process_time()
            report = send_command.send_week(cfg, store, TODAY, to=to, force=True)
            times.append(time.perf_counter() - start)
            cpus.append(time.process_time() - cpu)
        peers = drain(seen)
        assert report.sent == to and len(peers) == len(to), (report, len(peers))
        connections.add(len(set(peers)))
    return statistics.median(times), statistics.median(cpus), max(connections)


def split(root: Path, seen: Any, to: list[str], repeat: int) -> str:
    """Median CPU ms per further recipient of each step (see the module docstring)."""
    from digest.store.ledger import Ledger

    spent: dict[str, float] = {}

    def wrap(owner: Any, name: str, label: str) -> None:
        inner = getattr(owner, name)

        def timed_step(*args: Any, **kwargs: Any) -> Any:
            start = time.process_time()
            try:
                return inner(*args, **kwargs)
            finally:
                spent[label] = spent.get(label, 0.0) + time.process_time() - start

        setattr(owner, name, timed_step)

    wrap(mail, "address_problem", "address check")
    wrap(mail.WeekMail, "outgoing", "message bytes")
    wrap(delivery.Transport, "send", "smtplib")
    for name in ("status", "mark_sending", "mark_sent"):
        wrap(Ledger, name, "ledger")
    cfg, runs = load_config(root), []
    for _ in range(repeat):
        per_count = []
        for count in (1, len(to)):
            spent.clear()
            mail.read_address.cache_clear()
            with commands.open_store(cfg) as store:
                send_command.send_week(cfg, store, TODAY, to=to[:count], force=True)
            drain(seen)
            per_count.append(dict(spent))
        one, many = per_count
        runs.append({k: (many[k] - one.get(k, 0.0)) / (len(to) - 1) for k in many})
    return ", ".join(f"{k} {statistics.median(r[k] for r in runs) * 1000:.2f} ms" for k in runs[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs per measurement")
    parser.add_argument("--reference", action="store_true", help="also time the oldest path")
    parser.add_argument("--server", choices=["process", "thread"], default="process")
    parser.add_argument("--split", action="store_true", help="CPU per recipient by step")
    parser.add_argument("--max-seconds", type=float, default=600, help="watchdog")
    args = parser.parse_args()
    watchdog = threading.Timer(args.max_seconds, lambda: os._exit(2))
    watchdog.daemon = True
    watchdog.start()
    one = ["reader@example.org"]
    hundred = [f"Reader {i:03d} <reader{i:03d}@example.org>" for i in range(100)]
    paths: list[tuple[str, Any]] = [("shared (WeekMail)", delivery.composer)]
    if args.reference:
        paths.append(("per recipient (old)", PerRecipient))
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"digest send, example feed, 2026-W18; repeat {args.repeat}; load {load:.2f}; "
        f"server in a {args.server}; digest from {Path(delivery.__file__).parent}"
    )
    with tempfile.TemporaryDirectory() as tmp, server(args.server) as (seen, port):
        root = example_feed(Path(tmp), port)
        for name, composer in paths:
            delivery.composer = composer
            t1, cpu1, c1 = timed(root, seen, one, args.repeat)
            t100, cpu100, c100 = timed(root, seen, hundred, args.repeat)
            print(
                f"{name:>20}: 1 recipient {t1:.3f} s (CPU {cpu1:.3f} s), 100 recipients "
                f"{t100:.3f} s (CPU {cpu100:.3f} s), ratio {t100 / t1:.1f}x wall, "
                f"{cpu100 / cpu1:.1f}x CPU; SMTP connections per send: {c1} and {c100}"
            )
        if args.split:
            delivery.composer = paths[0][1]
            print(f"CPU per further recipient: {split(root, seen, hundred, args.repeat)}")
    watchdog.cancel()
    sys.stdout.flush()


if __name__ == "__main__":
    main()
