"""Benchmark of ``digest send``: one week to 1 and to 100 recipients over real SMTP.

Input: the example feed (feeds/example, copied to a temporary folder, its listings
ingested and tagged), its latest complete week before 2026-05-06 (2026-W18). An
aiosmtpd server on 127.0.0.1 (a free port) accepts every message; it is stopped at the
end, and a watchdog ends the process after ``--max-seconds`` whatever happens.

Output (stdout): for 1 and for 100 recipients, the median wall (and CPU) seconds of
``digest.commands.send.send_week`` (``force``: the ledger never skips) over
``--repeat`` runs, the 100/1 ratio, and the SMTP connections the server saw. With
``--reference``, the same for the old path (the week rendered and CSS-inlined again
for each recipient: :func:`digest.mail.compose` per recipient).

Run: ``python benchmarks/bench_send.py [--repeat N] [--reference]``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import socket
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from email.message import EmailMessage
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
    """Accepts every message; counts them and the connections they came over."""

    def __init__(self) -> None:
        self.messages = 0
        self.peers: set[Any] = set()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages += 1
        self.peers.add(session.peer)
        return "250 2.0.0 accepted"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def server() -> Iterator[tuple[Sink, int]]:
    sink, port = Sink(), free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield sink, port
    finally:
        controller.stop()


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


def per_recipient(
    cfg: FeedConfig, email: Any, store: Store, week: str, when: dt.datetime
) -> Callable[[str], EmailMessage]:
    """The old composer: the whole message rendered for each recipient."""
    digest = group_week(week, store.papers.load(week), cfg.rules.section_names)
    uid, env = feed_uid(cfg, store), render.environment(cfg.templates)
    return lambda rcpt: mail.compose(cfg, email, digest, recipient=rcpt, uid=uid, now=when, env=env)


def timed(root: Path, sink: Sink, to: list[str], repeat: int) -> tuple[float, float, int]:
    """Median wall and CPU seconds of sending the week to ``to`` (CPU: this process's,
    the in-process server's share included; less moved by a busy machine than wall),
    and connections per send."""
    cfg = load_config(root)
    times, cpus, connections = [], [], set()
    for _ in range(repeat):
        before, peers = sink.messages, set(sink.peers)
        with commands.open_store(cfg) as store:
            start, cpu = time.perf_counter(), time.process_time()
            report = send_command.send_week(cfg, store, TODAY, to=to, force=True)
            times.append(time.perf_counter() - start)
            cpus.append(time.process_time() - cpu)
        assert report.sent == to and sink.messages - before == len(to), report
        connections.add(len(sink.peers - peers))
    return statistics.median(times), statistics.median(cpus), max(connections)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs per measurement")
    parser.add_argument("--reference", action="store_true", help="also time the old path")
    parser.add_argument("--max-seconds", type=float, default=600, help="watchdog")
    args = parser.parse_args()
    watchdog = threading.Timer(args.max_seconds, lambda: os._exit(2))
    watchdog.daemon = True
    watchdog.start()
    one = ["reader@example.org"]
    hundred = [f"Reader {i:03d} <reader{i:03d}@example.org>" for i in range(100)]
    paths = [("shared (WeekMail)", delivery.composer)]
    if args.reference:
        paths.append(("per recipient (old)", per_recipient))
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"digest send, example feed, 2026-W18; repeat {args.repeat}; load {load:.2f}")
    with tempfile.TemporaryDirectory() as tmp, server() as (sink, port):
        root = example_feed(Path(tmp), port)
        for name, composer in paths:
            delivery.composer = composer  # type: ignore[assignment]
            t1, cpu1, c1 = timed(root, sink, one, args.repeat)
            t100, cpu100, c100 = timed(root, sink, hundred, args.repeat)
            print(
                f"{name:>20}: 1 recipient {t1:.3f} s (CPU {cpu1:.3f} s), 100 recipients "
                f"{t100:.3f} s (CPU {cpu100:.3f} s), ratio {t100 / t1:.1f}x; "
                f"SMTP connections per send: {c1} and {c100}"
            )
    watchdog.cancel()
    sys.stdout.flush()


if __name__ == "__main__":
    main()
