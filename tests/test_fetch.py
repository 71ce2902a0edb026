"""Fetching listing URLs from a real HTTP server on 127.0.0.1, with a real cache folder."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from digest import __version__
from digest.sources import ReadContext, read_bytes
from digest.sources.fetch import fetch, replay, retry_after, slug

FIXTURES = Path(__file__).parent / "fixtures" / "sources"
RSS = (FIXTURES / "arxiv_rss_cs_lg.xml").read_bytes()
WEEKEND = (FIXTURES / "arxiv_rss_weekend.xml").read_bytes()
DAY1 = dt.date(2024, 3, 11)
DAY2 = dt.date(2024, 3, 12)
CTX = ReadContext(today=DAY2)


@dataclass
class Reply:
    """What the test server answers to one request."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    drip: float = 0.0
    """Seconds between single bytes of the body (of the whole response with
    ``drip_head``): the stalling server of issue 15, bounded by the body's length."""
    drip_head: bool = False


Route = Callable[[Message], Reply]


def sequence(*replies: Reply) -> Route:
    """Answer with each reply in turn, then keep repeating the last one."""
    queue = list(replies)

    def route(_headers: Message) -> Reply:
        return queue.pop(0) if len(queue) > 1 else queue[0]

    return route


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.routes: dict[str, Route] = {}
        self.seen: list[tuple[str, Message]] = []
        self.dripped: list[tuple[int, int]] = []
        """(bytes sent, bytes meant) of each dripping reply, once it ended."""

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}{path}"

    def requests(self, path: str) -> list[Message]:
        return [headers for p, headers in self.seen if p == path]

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # the timeout test hangs up on purpose; no traceback on stderr for that


class Handler(BaseHTTPRequestHandler):
    server: Server

    def do_GET(self) -> None:
        self.server.seen.append((self.path, self.headers))
        route = self.server.routes.get(self.path)
        reply = route(self.headers) if route else Reply(404, b"not found")
        time.sleep(reply.delay)
        if reply.drip:
            self._drip(reply)
            return
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        if reply.status != 304:
            self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        if reply.status != 304:
            self.wfile.write(reply.body)

    def _drip(self, reply: Reply) -> None:
        """One byte every ``reply.drip`` seconds until the client hangs up or all is sent."""
        head = f"HTTP/1.0 {reply.status} OK\r\nContent-Length: {len(reply.body)}\r\n\r\n"
        data = head.encode() + reply.body
        sent = 0
        if not reply.drip_head:
            self.wfile.write(data[: len(head)])
            self.wfile.flush()
            sent = len(head)
        try:
            for at in range(sent, len(data)):
                self.wfile.write(data[at : at + 1])
                self.wfile.flush()
                sent = at + 1
                time.sleep(reply.drip)
        except OSError:
            pass  # the client hung up: what the deadline is for
        self.server.dripped.append((sent, len(data)))

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[Server]:
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    srv = Server()
    thread = threading.Thread(target=srv.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


def no_retry(seconds: float) -> None:
    pytest.fail(f"unexpected retry (would sleep {seconds} s)")


def conditional(body: bytes, etag: str, last_modified: str) -> Route:
    """A server that honours If-None-Match like a real one."""

    def route(headers: Message) -> Reply:
        if headers.get("If-None-Match") == etag:
            return Reply(304, headers={"ETag": etag})
        kept = {"ETag": etag, "Last-Modified": last_modified, "Content-Type": "application/xml"}
        return Reply(200, body, kept)

    return route


def test_200_is_returned_kept_and_readable(server: Server, tmp_path: Path) -> None:
    server.routes["/rss/cs.LG"] = sequence(
        Reply(200, RSS, {"Content-Type": "application/rss+xml; charset=utf-8", "ETag": '"a1"'})
    )
    url = server.url("/rss/cs.LG")
    result = fetch(url, tmp_path, DAY1, sleep=no_retry)
    assert (result.status, result.from_cache, result.problems) == (200, False, [])
    assert result.data == RSS
    assert result.name == f"{slug(url)}_2024-03-11.xml"
    assert result.name.startswith("127-0-0-1-")
    assert (tmp_path / result.name).read_bytes() == RSS
    meta = json.loads((tmp_path / f"{slug(url)}.json").read_text(encoding="utf-8"))
    fetched_at = dt.datetime.fromisoformat(meta.pop("fetched_at"))  # real time, UTC
    assert abs((dt.datetime.now(dt.UTC) - fetched_at).total_seconds()) < 60
    assert meta == {"etag": '"a1"', "file": result.name, "url": url}
    [headers] = server.requests("/rss/cs.LG")
    assert headers.get("If-None-Match") is None
    assert (
        headers["User-Agent"]
        == f"digest/{__version__} (reading-digest: weekly paper digests; python-urllib)"
    )
    assert headers["Accept-Encoding"] == "gzip"
    listing = read_bytes(result.data, result.name, CTX)
    assert listing.format == "arxiv-rss"
    assert len(listing.entries) == 5
    assert {e.listing for e in listing.entries} == {result.name}


def test_304_sends_the_validators_and_returns_the_kept_body(server: Server, tmp_path: Path) -> None:
    stamp = "Mon, 11 Mar 2024 04:30:12 GMT"
    server.routes["/rss/cs.LG"] = conditional(RSS, '"v1"', stamp)
    url = server.url("/rss/cs.LG")
    first = fetch(url, tmp_path, DAY1)
    second = fetch(url, tmp_path, DAY2)
    assert (second.status, second.from_cache, second.problems) == (304, True, [])
    assert second.data == RSS
    assert second.name == first.name  # the same listing, not a new one dated DAY2
    sent = server.requests("/rss/cs.LG")[1]
    assert sent["If-None-Match"] == '"v1"'
    assert sent["If-Modified-Since"] == stamp
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"{slug(url)}.json", first.name]


def test_new_content_on_a_later_day_is_kept_beside_the_old(server: Server, tmp_path: Path) -> None:
    server.routes["/feed"] = sequence(Reply(200, RSS), Reply(200, WEEKEND))
    url = server.url("/feed")
    first = fetch(url, tmp_path, DAY1)
    second = fetch(url, tmp_path, DAY2)
    assert (first.name, second.name) == (
        f"{slug(url)}_2024-03-11.txt",
        f"{slug(url)}_2024-03-12.txt",
    )
    assert (tmp_path / first.name).read_bytes() == RSS
    assert (tmp_path / second.name).read_bytes() == WEEKEND
    # No validators were given, so the second request was unconditional.
    assert "If-None-Match" not in server.requests("/feed")[1]


def test_new_content_on_the_same_day_never_overwrites_the_kept_body(
    server: Server, tmp_path: Path
) -> None:
    # Issue 15: the Hugging Face daily list changes during the day; a second fetch with
    # new content replaced the first body, and the store lost what only it had.
    server.routes["/feed.xml"] = sequence(Reply(200, RSS), Reply(200, WEEKEND), Reply(200, RSS))
    url = server.url("/feed.xml")
    first = fetch(url, tmp_path, DAY1)
    second = fetch(url, tmp_path, DAY1)
    third = fetch(url, tmp_path, DAY1)
    assert first.name == f"{slug(url)}_2024-03-11.xml"
    assert second.name.startswith(f"{slug(url)}_2024-03-11-") and second.name != first.name
    assert third.name == first.name  # the first content again: the same listing
    assert (tmp_path / first.name).read_bytes() == RSS
    assert (tmp_path / second.name).read_bytes() == WEEKEND
    assert replay(url, tmp_path, DAY1).data in (RSS, WEEKEND)


def test_500_then_success_is_retried_with_backoff(server: Server, tmp_path: Path) -> None:
    server.routes["/flaky"] = sequence(Reply(500, b"oops"), Reply(503, b"busy"), Reply(200, RSS))
    sleeps: list[float] = []
    result = fetch(server.url("/flaky"), tmp_path, DAY1, retries=2, sleep=sleeps.append)
    assert (result.status, result.data, result.problems) == (200, RSS, [])
    assert sleeps == [1.0, 2.0]
    assert len(server.requests("/flaky")) == 3


def test_persistent_500_gives_up_with_a_problem(server: Server, tmp_path: Path) -> None:
    server.routes["/down"] = sequence(Reply(500, b"oops"))
    sleeps: list[float] = []
    url = server.url("/down")
    result = fetch(url, tmp_path, DAY1, retries=2, backoff=0.5, sleep=sleeps.append)
    assert (result.data, result.status, result.from_cache) == (None, 500, False)
    assert [(p.file, p.message) for p in result.problems] == [
        (url, "HTTP 500 Internal Server Error (3 attempts)")
    ]
    assert sleeps == [0.5, 1.0]
    assert list(tmp_path.iterdir()) == []


def test_404_is_not_retried(server: Server, tmp_path: Path) -> None:
    result = fetch(server.url("/missing"), tmp_path, DAY1, sleep=no_retry)
    assert (result.data, result.status) == (None, 404)
    assert [p.message for p in result.problems] == ["HTTP 404 Not Found"]
    assert len(server.requests("/missing")) == 1


def test_timeout_is_retried_then_a_problem(server: Server, tmp_path: Path) -> None:
    server.routes["/slow"] = sequence(Reply(200, RSS, delay=1.0))
    sleeps: list[float] = []
    result = fetch(server.url("/slow"), tmp_path, DAY1, timeout=0.2, retries=1, sleep=sleeps.append)
    # No wall-clock bound here (a loaded machine makes one flaky): two attempts, each
    # given up, say that the timeout acted.
    assert len(server.requests("/slow")) == 2
    assert result.data is None
    assert [p.message for p in result.problems] == ["no answer within 0.2 s (2 attempts)"]
    assert sleeps == [1.0]


@pytest.mark.parametrize("drip_head", [False, True], ids=["body", "status-line"])
def test_a_dripping_server_meets_the_deadline(
    server: Server, tmp_path: Path, drip_head: bool
) -> None:
    # One byte every 0.05 s never trips the 0.5 s per-read timeout; 400 bytes would take
    # 20 s (the server stops by itself then). The 1 s deadline for the fetch ends it.
    body = b"x" * 400
    server.routes["/drip"] = sequence(Reply(200, body, drip=0.05, drip_head=drip_head))
    url = server.url("/drip")
    result = fetch(url, tmp_path, DAY1, timeout=0.5, deadline=1.0, sleep=no_retry)
    assert result.data is None
    assert [(p.file, p.message) for p in result.problems] == [
        (url, "no complete answer within the 1 s deadline for one URL: skipped, "
              "the run goes on without it")
    ]  # fmt: skip
    assert len(server.requests("/drip")) == 1  # no retry after the deadline
    # The connection was shut down: the server saw the hang-up before it was done.
    for _ in range(100):  # its thread notices at its next write
        if server.dripped:
            break
        time.sleep(0.05)
    [(sent, meant)] = server.dripped
    assert sent < meant
    assert list(tmp_path.iterdir()) == []


def test_no_retry_starts_past_the_deadline(server: Server, tmp_path: Path) -> None:
    server.routes["/down"] = sequence(Reply(503, b"busy"))
    sleeps: list[float] = []
    url = server.url("/down")
    result = fetch(url, tmp_path, DAY1, retries=3, backoff=5, deadline=2, sleep=sleeps.append)
    assert sleeps == []  # a 5 s wait would pass the 2 s deadline
    assert [p.message for p in result.problems] == [
        "HTTP 503 Service Unavailable (1 attempt; no time left for another within the "
        "2 s deadline for one URL)"
    ]


def test_refused_connection_is_a_problem(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("no_proxy", "127.0.0.1")  # passes with http_proxy set too
    probe = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    port = probe.server_address[1]
    probe.server_close()  # nothing listens there any more
    result = fetch(f"http://127.0.0.1:{port}/x", tmp_path, DAY1, retries=1, sleep=lambda _: None)
    assert result.data is None
    [problem] = result.problems
    assert problem.message.startswith("network error: ")
    assert problem.message.endswith("(2 attempts)")


def test_malformed_content_is_fetched_and_reported_by_the_reader(
    server: Server, tmp_path: Path
) -> None:
    garbage = (
        b"<?xml version='1.0'?><rss xmlns:arxiv='http://arxiv.org/schemas/atom'><channel><item>"
    )
    server.routes["/broken"] = sequence(Reply(200, garbage, {"Content-Type": "text/xml"}))
    result = fetch(server.url("/broken"), tmp_path, DAY1)
    assert (result.status, result.problems) == (200, [])
    assert result.data is not None and result.name.endswith(".xml")
    listing = read_bytes(result.data, result.name, CTX)
    assert listing.format == "arxiv-rss"
    assert listing.entries == []
    [problem] = listing.problems
    assert problem.message.startswith("not well-formed XML")


def test_non_http_urls_are_refused(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("do not read", encoding="utf-8")
    result = fetch(secret.as_uri(), tmp_path, DAY1)
    assert result.data is None
    assert [p.message for p in result.problems] == ["only http(s) URLs can be fetched"]


def test_offline_replay_returns_the_newest_kept_body(server: Server, tmp_path: Path) -> None:
    server.routes["/feed.xml"] = sequence(Reply(200, RSS), Reply(200, WEEKEND))
    url = server.url("/feed.xml")
    fetch(url, tmp_path, DAY1)
    fetch(url, tmp_path, DAY2)
    asked = len(server.seen)
    newest = replay(url, tmp_path, DAY2 + dt.timedelta(days=5))
    assert (newest.data, newest.name, newest.from_cache) == (
        WEEKEND,
        f"{slug(url)}_2024-03-12.xml",
        True,
    )
    assert replay(url, tmp_path, DAY1).data == RSS  # nothing from after "today"
    offline = fetch(url, tmp_path, DAY2, offline=True)
    assert (offline.data, offline.status, offline.problems) == (WEEKEND, None, [])
    assert len(server.seen) == asked  # no network at all


def test_replay_without_a_kept_copy_is_a_problem(tmp_path: Path) -> None:
    result = replay("https://rss.arxiv.org/rss/cs.LG", tmp_path / "nowhere", DAY1)
    assert result.data is None
    [problem] = result.problems
    assert problem.file == "https://rss.arxiv.org/rss/cs.LG"
    assert "no kept copy" in problem.message


def test_slugs_are_stable_readable_and_distinct() -> None:
    a = slug("https://rss.arxiv.org/rss/cs.LG")
    assert a == slug("https://rss.arxiv.org/rss/cs.LG")
    assert a.startswith("rss-arxiv-org-rss-cs-lg-")
    assert a != slug("https://rss.arxiv.org/rss/cs.lg")
    assert slug("https://huggingface.co/api/daily_papers?date=2024-03-11") != slug(
        "https://huggingface.co/api/daily_papers?date=2024-03-12"
    )


def test_a_run_goes_on_past_a_dripping_url(
    server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    from digest.cli import cli
    from digest.sources import fetch as fetch_module

    monkeypatch.setattr(fetch_module, "FETCH_DEADLINE", 1.0)  # 60 s in real runs
    server.routes["/drip"] = sequence(Reply(200, b"x" * 400, drip=0.05))
    server.routes["/rss"] = sequence(Reply(200, RSS, {"Content-Type": "application/rss+xml"}))
    feed = tmp_path / "feed"
    feed.mkdir()
    (feed / "feed.yaml").write_text(
        f"sources:\n  - {server.url('/drip')}\n  - {{url: '{server.url('/rss')}'}}\n"
    )
    runner = CliRunner()
    result = runner.invoke(cli, ["run", str(feed), "--today", "2024-03-12"])
    assert result.exit_code == 3, result.output  # warnings, and everything else done
    assert f"{server.url('/drip')}: no complete answer within the 1 s deadline" in result.output
    export = runner.invoke(cli, ["export", str(feed)]).output
    assert "arxiv:" in export  # the other URL's papers are in
    assert (feed / "site" / "index.html").is_file()


# -- polite fetching (issue 18 item 5): gzip, Retry-After, a minimum interval --------------


def test_a_gzip_body_is_decoded_and_kept_decoded(server: Server, tmp_path: Path) -> None:
    server.routes["/gz"] = sequence(Reply(200, gzip.compress(RSS), {"Content-Encoding": "gzip"}))
    result = fetch(server.url("/gz"), tmp_path, DAY1, sleep=no_retry)
    assert (result.status, result.data, result.problems) == (200, RSS, [])
    assert (tmp_path / result.name).read_bytes() == RSS
    assert len(read_bytes(result.data, result.name, CTX).entries) == 5


@pytest.mark.parametrize(
    ("body", "encoding", "message"),
    [
        (gzip.compress(b"\0" * 5_000_000), "gzip", "decompressed response larger than 100000"),
        (gzip.compress(RSS)[:-20], "gzip", "damaged gzip body: truncated"),
        (b"not gzip at all", "gzip", "damaged gzip body: Error -3"),
        (RSS, "br", "unsupported Content-Encoding 'br'"),
    ],
    ids=["bomb", "truncated", "garbage", "brotli"],
)
def test_a_bad_or_huge_compressed_body_is_a_problem(
    server: Server, tmp_path: Path, body: bytes, encoding: str, message: str
) -> None:
    # 5 MB of zeros are 5 KB compressed: inflated only up to the cap, then refused.
    assert len(body) < 100_000
    server.routes["/bomb"] = sequence(Reply(200, body, {"Content-Encoding": encoding}))
    url = server.url("/bomb")
    result = fetch(url, tmp_path, DAY1, sleep=no_retry, max_bytes=100_000)
    assert result.data is None
    [problem] = result.problems
    assert problem.file == url and problem.message.startswith(message), problem.message
    assert list(tmp_path.iterdir()) == []  # nothing kept


@pytest.mark.parametrize("form", ["seconds", "http-date"])
def test_retry_after_is_waited_for(server: Server, tmp_path: Path, form: str) -> None:
    later = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=8)
    value = "7" if form == "seconds" else later.strftime("%a, %d %b %Y %H:%M:%S GMT")
    server.routes["/busy"] = sequence(
        Reply(429, b"slow down", {"Retry-After": value}), Reply(200, RSS)
    )
    sleeps: list[float] = []
    result = fetch(server.url("/busy"), tmp_path, DAY1, sleep=sleeps.append)
    assert (result.status, result.data) == (200, RSS)
    [wait] = sleeps  # the server's wait, not the 1 s backoff
    assert 6 <= wait <= 8


def test_a_retry_after_past_the_deadline_gives_up_at_once(server: Server, tmp_path: Path) -> None:
    server.routes["/busy"] = sequence(Reply(503, b"busy", {"Retry-After": "3600"}))
    url = server.url("/busy")
    result = fetch(url, tmp_path, DAY1, sleep=no_retry, deadline=30)
    assert [p.message for p in result.problems] == [
        "HTTP 503 Service Unavailable (1 attempt; the server asked to retry after 3600 s; "
        "no time left for another within the 30 s deadline for one URL)"
    ]
    assert len(server.requests("/busy")) == 1


def test_retry_after_forms() -> None:
    now = dt.datetime(2026, 11, 25, 6, 0, tzinfo=dt.UTC)
    assert retry_after("120", now) == 120
    assert retry_after("Wed, 25 Nov 2026 06:01:30 GMT", now) == 90
    assert retry_after("Wed, 25 Nov 2026 05:00:00 GMT", now) == 0  # in the past
    for junk in (None, "", "soon", "-5", "1.5e9"):
        assert retry_after(junk, now) == 0


def test_no_refetch_within_the_interval(server: Server, tmp_path: Path) -> None:
    server.routes["/feed"] = sequence(Reply(200, RSS), Reply(200, WEEKEND), Reply(200, RSS))
    url = server.url("/feed")
    t0 = dt.datetime(2026, 11, 25, 6, 0, tzinfo=dt.UTC)
    first = fetch(url, tmp_path, DAY1, min_interval=3600, now=t0)
    # 59 minutes later, even for a later --today: the kept body, no request.
    again = fetch(url, tmp_path, DAY2, min_interval=3600, now=t0 + dt.timedelta(minutes=59))
    assert (again.data, again.name, again.from_cache, again.status) == (RSS, first.name, True, None)
    assert len(server.requests("/feed")) == 1
    # A --today before the kept body's day is never answered with it: fetched.
    past = fetch(url, tmp_path, DAY1 - dt.timedelta(days=1), min_interval=3600, now=t0)
    assert past.status == 200 and len(server.requests("/feed")) == 2
    # An hour after the last answer: asked again.
    later = fetch(url, tmp_path, DAY2, min_interval=3600, now=t0 + dt.timedelta(minutes=61))
    assert (later.status, later.data, later.name) == (200, RSS, f"{slug(url)}_2024-03-12.txt")
    assert len(server.requests("/feed")) == 3


def test_a_304_restarts_the_interval(server: Server, tmp_path: Path) -> None:
    server.routes["/rss"] = conditional(RSS, '"v1"', "Mon, 11 Mar 2024 04:30:12 GMT")
    url = server.url("/rss")
    t0 = dt.datetime(2026, 11, 25, 6, 0, tzinfo=dt.UTC)
    fetch(url, tmp_path, DAY1, min_interval=600, now=t0)
    assert (
        fetch(url, tmp_path, DAY2, min_interval=600, now=t0 + dt.timedelta(minutes=11)).status
        == 304
    )
    replayed = fetch(url, tmp_path, DAY2, min_interval=600, now=t0 + dt.timedelta(minutes=20))
    assert (replayed.from_cache, replayed.data) == (True, RSS)
    assert len(server.requests("/rss")) == 2
