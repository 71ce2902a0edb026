"""URL sources through `digest run`: fetched from a real HTTP server on 127.0.0.1,
a failing URL reported while the rest is still built, and an offline replay."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from click.testing import CliRunner

from digest.cli import cli

FIXTURES = Path(__file__).parent / "fixtures" / "sources"
SEED = Path(__file__).parent.parent / "feeds" / "example" / "listings" / "002_d580ad6230429633.txt"


@pytest.fixture
def server() -> Iterator[tuple[str, list[str]]]:
    seen: list[str] = []
    body = (FIXTURES / "arxiv_rss_cs_lg.xml").read_bytes()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(self.path)
            if self.path == "/rss/cs.LG":
                self.send_response(200)
                self.send_header("Content-Type", "application/rss+xml")
                self.send_header("ETag", '"v1"')
                self.end_headers()
                self.wfile.write(body)
            else:
                self.send_error(404)

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", seen
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_url_sources_in_a_run(tmp_path: Path, server: tuple[str, list[str]]) -> None:
    base, seen = server
    feed = tmp_path / "feed"
    (feed / "listings").mkdir(parents=True)
    shutil.copy(SEED, feed / "listings")
    (feed / "feed.yaml").write_text(
        "sources:\n"
        "  - listings/*.txt\n"
        f"  - {{url: '{base}/rss/cs.LG', format: arxiv-rss}}\n"
        f"  - {base}/gone\n"
    )
    runner = CliRunner()
    result = runner.invoke(cli, ["run", str(feed), "--today", "2026-11-25"])
    # The missing URL is a warning; the file and the working URL are both in the digest.
    assert result.exit_code == 3, result.output
    assert "/gone" in result.output and "404" in result.output
    export = runner.invoke(cli, ["export", str(feed)]).output
    assert '"listing": "002_d580ad6230429633.txt"' in export
    assert "arxiv:" in export  # papers from the feed carry their arXiv ids
    kept = list((feed / "cache").iterdir())
    assert any(p.suffix != ".json" for p in kept)  # the fetched body is kept, dated
    papers = len(export.splitlines())

    # Offline: no request at all, the kept copy is replayed, nothing new is added.
    seen.clear()
    result = runner.invoke(cli, ["run", str(feed), "--today", "2026-11-26", "--offline"])
    assert seen == []
    assert len(runner.invoke(cli, ["export", str(feed)]).output.splitlines()) == papers

    # Online, within the hour after the server answered (min_interval, default 3600 s of
    # real time, whatever --today says): the server is not asked, the kept copy is read.
    sightings = export.count('"listing"')
    result = runner.invoke(cli, ["run", str(feed), "--today", "2026-11-26"])
    assert seen == ["/gone"], result.output  # the 404 left nothing to replay: asked again
    assert "0 new listings, 0 new papers" in result.output

    # Online with min_interval 0: this server ignores conditional requests and sends the
    # same body in full: it is recognised as the same listing, so nothing changes.
    yaml = (feed / "feed.yaml").read_text()
    (feed / "feed.yaml").write_text(
        yaml.replace("format: arxiv-rss}", "format: arxiv-rss, min_interval: 0}")
    )
    result = runner.invoke(cli, ["run", str(feed), "--today", "2026-11-26"])
    assert "/rss/cs.LG" in seen
    assert "0 new listings, 0 new papers" in result.output
    assert runner.invoke(cli, ["export", str(feed)]).output.count('"listing"') == sightings
