"""Fetching listing URLs into a cache folder: URL -> the bytes of one listing.

Input: an http(s) URL, the cache folder and the run's date. Output: a
:class:`FetchResult` with the body and the listing name to read it under
(parsing is the readers' job: pass ``data`` and ``name`` to
:func:`digest.sources.read_bytes`).

Every 200 body is kept as ``<slug>_<date><ext>`` (the slug names the URL, the
date is the run's ``today``, never the clock; a body of other content fetched the
same day is ``<slug>_<date>-<hash><ext>``: a kept body is never overwritten) next
to ``<slug>.json``, which
holds the ETag and Last-Modified of the newest kept body so the next fetch is
conditional. A 304 answers with that kept body under its own name: the same
listing again, which ingestion recognises. Network errors, timeouts, 429 and
5xx are retried a bounded number of times with exponential backoff; anything
still failing is a :class:`Problem`, never an exception. :func:`replay` (or
``offline=True``) reads the newest kept body without touching the network.

Politeness: bodies are asked for gzip-compressed (``Accept-Encoding: gzip``; one
that would inflate past ``max_bytes`` is refused, so a small "decompression bomb"
never fills memory); a ``Retry-After`` on a 429 or 5xx (seconds or an HTTP date) is
waited for before the next attempt, unless it lies past the deadline; and with
``min_interval`` a URL fetched less than that many seconds ago (real time, UTC,
recorded in the sidecar as ``fetched_at``: the run's ``--today`` says which day's
listing it is, not when the server was last asked) is not asked again: its kept
body is replayed. The User-Agent names digest, its version and the project.

One fetch ends within :data:`FETCH_DEADLINE` seconds, all attempts and waits
included: ``timeout`` bounds each socket operation only, so a server that sends
one byte every few seconds would otherwise hold the run (and the feed's lock)
as long as it likes. When the deadline passes, a watchdog shuts the fetch's
connections down and the URL becomes a problem.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import http.client
import json
import os
import re
import socket
import threading
import time
import urllib.error
import urllib.request
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import Message
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from digest import __version__
from digest.errors import Problem
from digest.normalize import stable_hash

USER_AGENT = f"digest/{__version__} (reading-digest: weekly paper digests; python-urllib)"
FETCH_DEADLINE = 60.0
"""Seconds one URL's fetch may take in all: every attempt, its reading and the waits
between attempts. The default per-operation timeout (20 s) with its retries needs
about as much for an honest slow server; a minute more than covers a large listing."""
MAX_BYTES = 50 * 1024 * 1024
"""Larger bodies are refused: no listing is that big, and memory is finite."""
_EXTENSIONS = (".xml", ".rss", ".atom", ".json", ".jsonl", ".csv", ".txt")
_KEPT = re.compile(r"_(\d{4}-\d{2}-\d{2})(-[0-9a-f]{12})?\.\w+$")


@dataclass(slots=True)
class FetchResult:
    """What fetching one URL gave."""

    url: str
    """The URL asked for."""
    data: bytes | None
    """The listing's bytes; ``None`` when nothing usable was fetched or kept."""
    name: str
    """The listing name to read ``data`` under: the kept file's name."""
    status: int | None = None
    """HTTP status of the last response (200, 304, 404, ...); ``None`` without one."""
    from_cache: bool = False
    """True when ``data`` is a kept body (a 304, or offline replay)."""
    problems: list[Problem] = field(default_factory=list)
    """What went wrong, with the URL as the file."""


def slug(url: str) -> str:
    """A file-name stem for ``url``: readable, and unique through a short hash."""
    parts = urlsplit(url)
    readable = re.sub(r"[^a-z0-9]+", "-", f"{parts.netloc}{parts.path}?{parts.query}".lower())
    return f"{readable.strip('-')[:60].rstrip('-') or 'url'}-{stable_hash(url, length=8)}"


def _extension(url: str, content_type: str) -> str:
    suffix = Path(urlsplit(url).path).suffix.lower()
    if suffix in _EXTENSIONS:
        return suffix
    for marker, ext in (("xml", ".xml"), ("json", ".json"), ("csv", ".csv")):
        if marker in content_type.lower():
            return ext
    return ".txt"


def _meta_path(url: str, cache_dir: Path) -> Path:
    return cache_dir / f"{slug(url)}.json"


def _load_meta(url: str, cache_dir: Path) -> dict[str, str]:
    """The sidecar of ``url``; a missing or damaged one means "fetch unconditionally"."""
    try:
        meta = json.loads(_meta_path(url, cache_dir).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(meta, dict) or meta.get("url") != url:
        return {}
    return {k: v for k, v in meta.items() if isinstance(v, str)}


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    tmp.replace(path)


def _keep(
    url: str, cache_dir: Path, name: str, body: bytes, headers: Message, clock: dt.datetime
) -> None:
    """Write the body, then the sidecar that points at it (in that order: a crash in
    between leaves an unconditional next fetch, never a sidecar without its body)."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    _write_atomic(cache_dir / name, body)
    meta = {"url": url, "file": name}
    for header, key in (("ETag", "etag"), ("Last-Modified", "last_modified")):
        value = headers.get(header)
        if value:
            meta[key] = value
    _write_meta(url, cache_dir, meta, clock)


def _write_meta(url: str, cache_dir: Path, meta: dict[str, str], clock: dt.datetime) -> None:
    """The sidecar, with ``fetched_at``: when the server last answered (UTC)."""
    meta = {**meta, "fetched_at": clock.astimezone(dt.UTC).isoformat(timespec="seconds")}
    text = json.dumps(meta, indent=2, sort_keys=True) + "\n"
    _write_atomic(_meta_path(url, cache_dir), text.encode("utf-8"))


def _recent(
    url: str, cache_dir: Path, meta: dict[str, str], today: dt.date, clock: dt.datetime,
    min_interval: float,
) -> FetchResult | None:  # fmt: skip
    """The kept body, when the server answered less than ``min_interval`` seconds before
    ``clock`` and the body is of ``today`` or before; else None (fetch)."""
    try:
        age = (clock - dt.datetime.fromisoformat(meta["fetched_at"])).total_seconds()
    except (KeyError, ValueError, TypeError):  # never fetched, damaged, or naive
        return None
    m = _KEPT.search(meta.get("file", ""))
    if not 0 <= age < min_interval or not m or m[1] > today.isoformat():
        return None
    result = _not_modified(url, cache_dir, meta)
    result.status = None
    return None if result.problems else result


def replay(url: str, cache_dir: Path, today: dt.date) -> FetchResult:
    """The newest body kept for ``url`` on or before ``today``, without network."""
    stem = slug(url)
    kept: list[tuple[str, int, Path]] = []
    if cache_dir.is_dir():
        for path in cache_dir.glob(f"{stem}_*"):
            m = _KEPT.search(path.name)
            exact = path.name == f"{stem}_{m[1]}{m[2] or ''}{path.suffix}" if m else False
            if m and exact and m[1] <= today.isoformat():
                kept.append((m[1], _mtime(path), path))
    if not kept:
        msg = f"no kept copy in {cache_dir} (fetch it once online first)"
        return FetchResult(url, None, f"{stem}_{today.isoformat()}.txt", problems=[_p(url, msg)])
    *_, path = max(kept)
    try:
        return FetchResult(url, path.read_bytes(), path.name, from_cache=True)
    except OSError as err:
        msg = f"cannot read kept copy {path.name}: {err.strerror or err}"
        return FetchResult(url, None, path.name, problems=[_p(url, msg)])


def _unused_name(cache_dir: Path, stem: str, ext: str, body: bytes) -> str:
    """The name to keep ``body`` under: ``<stem><ext>``, unless a kept body of another
    content has it already (a second fetch on the same day, when the list changed
    meanwhile): then ``<stem>-<SHA-256 prefix><ext>``. A kept body is never overwritten,
    and the store reads each body as a listing of its own."""
    path = cache_dir / f"{stem}{ext}"
    try:
        if not path.exists() or path.read_bytes() == body:
            return path.name
    except OSError:
        pass
    return f"{stem}-{hashlib.sha256(body).hexdigest()[:12]}{ext}"


def _mtime(path: Path) -> int:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return 0


def _p(url: str, message: str) -> Problem:
    return Problem(url, None, message)


def _not_modified(url: str, cache_dir: Path, meta: dict[str, str]) -> FetchResult:
    name = meta.get("file", "")
    try:
        data = (cache_dir / name).read_bytes()
    except OSError as err:
        msg = f"server says not modified, but the kept copy {name} is unreadable: {err}"
        return FetchResult(url, None, name, 304, problems=[_p(url, msg)])
    return FetchResult(url, data, name, 304, from_cache=True)


def fetch(
    url: str,
    cache_dir: Path,
    today: dt.date,
    *,
    timeout: float = 20.0,
    retries: int = 2,
    backoff: float = 1.0,
    sleep: Callable[[float], None] = time.sleep,
    offline: bool = False,
    max_bytes: int = MAX_BYTES,
    deadline: float | None = None,
    min_interval: float = 0.0,
    now: dt.datetime | None = None,
) -> FetchResult:
    """Fetch ``url`` (conditionally when a body is kept) and keep a 200 body; never raises.

    Up to ``retries`` more attempts follow a network error, timeout, 429 or
    5xx, after ``sleep(backoff * 2**n)`` seconds, or the ``Retry-After`` the server
    asked for if longer. Other HTTP errors are final. The whole fetch ends within
    ``deadline`` seconds (default :data:`FETCH_DEADLINE`); past it, the URL is a
    problem saying so. Within ``min_interval`` seconds of the server's last answer
    (``now``: default, the real time) the kept body is replayed instead.
    """
    if offline:
        return replay(url, cache_dir, today)
    stem = f"{slug(url)}_{today.isoformat()}"  # the name of today's body, sans extension
    if urlsplit(url).scheme.lower() not in ("http", "https"):
        return FetchResult(url, None, stem, problems=[_p(url, "only http(s) URLs can be fetched")])
    meta = _load_meta(url, cache_dir)
    clock = now or dt.datetime.now(dt.UTC)
    if min_interval > 0 and (recent := _recent(url, cache_dir, meta, today, clock, min_interval)):
        return recent
    headers = {"User-Agent": USER_AGENT, "Accept": "*/*", "Accept-Encoding": "gzip"}
    if meta.get("file") and (cache_dir / meta["file"]).is_file():
        if "etag" in meta:
            headers["If-None-Match"] = meta["etag"]
        if "last_modified" in meta:
            headers["If-Modified-Since"] = meta["last_modified"]
    limit = FETCH_DEADLINE if deadline is None else deadline
    with _Deadline(limit) as watchdog:
        return _attempts(url, cache_dir, stem, meta, headers, timeout, retries, backoff,
                         sleep, max_bytes, watchdog, clock)  # fmt: skip


def _attempts(
    url: str, cache_dir: Path, stem: str, meta: dict[str, str], headers: dict[str, str],
    timeout: float, retries: int, backoff: float, sleep: Callable[[float], None],
    max_bytes: int, watchdog: _Deadline, clock: dt.datetime,
) -> FetchResult:  # fmt: skip
    """The attempts of :func:`fetch`, each through an opener whose connections
    ``watchdog`` shuts down when the deadline passes."""
    opener = urllib.request.build_opener(_HTTPHandler(watchdog), _HTTPSHandler(watchdog))
    failure = ""
    status: int | None = None
    asked = 0.0  # the server's Retry-After, in seconds
    retries = max(0, retries)
    for attempt in range(retries + 1):
        if attempt:
            wait = max(backoff * 2 ** (attempt - 1), asked)
            if wait >= watchdog.remaining():
                attempts = f"{attempt} attempt{'s' if attempt > 1 else ''}"
                why = f"; the server asked to retry after {asked:g} s" if asked else ""
                msg = f"{failure} ({attempts}{why}; no time left for another {watchdog.late()})"
                return FetchResult(url, None, stem, status, problems=[_p(url, msg)])
            sleep(wait)
        try:
            request = urllib.request.Request(url, headers=headers)
            # Never wait on one operation past the deadline (the watchdog ends it anyway).
            per_operation = max(0.001, min(timeout, watchdog.remaining()))
            with opener.open(request, timeout=per_operation) as response:
                status = response.status
                body = response.read(max_bytes + 1)
                reply = response.headers
            if watchdog.expired:  # a body that ends at a closed connection may be cut short
                raise TimeoutError("deadline")
        except urllib.error.HTTPError as err:
            err.close()
            status = err.code
            if err.code == 304 and meta.get("file"):
                return _answered(url, cache_dir, meta, clock)
            failure = f"HTTP {err.code} {err.reason}"
            if err.code == 429 or err.code >= 500:
                asked = retry_after(err.headers.get("Retry-After"))
                continue
            return FetchResult(url, None, stem, status, problems=[_p(url, failure)])
        except ValueError as err:  # a malformed URL: retrying cannot help
            return FetchResult(url, None, stem, problems=[_p(url, f"bad URL: {err}")])
        except (OSError, http.client.HTTPException) as err:
            if watchdog.expired:
                msg = f"no complete answer {watchdog.late()}: skipped, the run goes on without it"
                return FetchResult(url, None, stem, status, problems=[_p(url, msg)])
            failure = _network_message(err, timeout)
            continue
        decoded = _decoded(body, reply.get("Content-Encoding", ""), max_bytes)
        if isinstance(decoded, str):
            return FetchResult(url, None, stem, status, problems=[_p(url, decoded)])
        body = decoded
        kept = cache_dir / str(meta.get("file", ""))
        if meta.get("file") and kept.is_file() and kept.read_bytes() == body:
            # The same content again (a server without conditional requests): it is the
            # same listing, under the same name, so it adds no sightings.
            return _answered(url, cache_dir, meta, clock)
        name = _unused_name(cache_dir, stem, _extension(url, reply.get("Content-Type", "")), body)
        result = FetchResult(url, body, name, status)
        try:
            _keep(url, cache_dir, name, body, reply, clock)
        except OSError as err:
            msg = f"fetched, but could not keep a copy in {cache_dir}: {err.strerror or err}"
            result.problems.append(_p(url, msg))
        return result
    attempts = f"{retries + 1} attempt{'s' if retries else ''}"
    return FetchResult(url, None, stem, status, problems=[_p(url, f"{failure} ({attempts})")])


def _answered(url: str, cache_dir: Path, meta: dict[str, str], clock: dt.datetime) -> FetchResult:
    """The kept body, the server having said it is current: noted in the sidecar."""
    result = _not_modified(url, cache_dir, meta)
    if not result.problems:
        with contextlib.suppress(OSError):  # only the interval's clock is lost
            _write_meta(url, cache_dir, meta, clock)
    return result


def _decoded(body: bytes, encoding: str, max_bytes: int) -> bytes | str:
    """The body with its Content-Encoding (gzip, or none) undone, or what is wrong: a
    body (compressed or not) over ``max_bytes`` is refused, and gzip is inflated only
    up to ``max_bytes + 1`` bytes, however small the compressed body."""
    too_large = f"response larger than {max_bytes} bytes (skipped)"
    if len(body) > max_bytes:
        return too_large
    encoding = encoding.strip().lower()
    if encoding in ("", "identity"):
        return body
    if encoding not in ("gzip", "x-gzip"):
        return f"unsupported Content-Encoding {encoding!r} (asked for gzip or none; skipped)"
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)  # gzip framing
    try:
        data = inflater.decompress(body, max_bytes + 1)
    except zlib.error as err:
        return f"damaged gzip body: {err} (skipped)"
    if len(data) > max_bytes or inflater.unconsumed_tail:
        return too_large.replace("response", "decompressed response")
    if not inflater.eof or inflater.unused_data:
        return "damaged gzip body: truncated, or followed by other data (skipped)"
    return data


def retry_after(value: str | None, now: dt.datetime | None = None) -> float:
    """Seconds a ``Retry-After`` header asks to wait (a number of seconds, or an HTTP
    date, against ``now``: default, the real time); 0 when absent or unreadable."""
    text = (value or "").strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return 0.0
    if when.tzinfo is None:  # an HTTP date is GMT
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - (now or dt.datetime.now(dt.UTC))).total_seconds())


def _network_message(err: BaseException, timeout: float) -> str:
    reason = err.reason if isinstance(err, urllib.error.URLError) else err
    if isinstance(reason, TimeoutError):
        return f"no answer within {timeout:g} s"
    if isinstance(reason, OSError) and reason.strerror:
        return f"network error: {reason.strerror}"
    return f"network error: {reason or type(reason).__name__}"


class _Deadline:
    """The end of one fetch: a watchdog thread shuts down the fetch's connections when it
    passes, which ends a read that the per-operation timeout never would."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.end = time.monotonic() + seconds
        self.expired = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def __enter__(self) -> _Deadline:
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()

    def remaining(self) -> float:
        """Seconds left before the deadline (0 once passed)."""
        return max(0.0, self.end - time.monotonic())

    def late(self) -> str:
        """How the problem names the deadline."""
        return f"within the {self.seconds:g} s deadline for one URL"

    def track(self, sock: socket.socket) -> None:
        """Shut ``sock`` down when the deadline passes (at once if it has)."""
        with self._lock:
            self._sockets.append(sock)
            if self.expired:
                _shut(sock)

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            for sock in self._sockets:
                _shut(sock)


def _shut(sock: socket.socket) -> None:
    # The plain socket's shutdown, also for an SSL socket: SSLSocket.shutdown would drop
    # its SSL object under the thread still reading from it.
    with contextlib.suppress(OSError):  # closed already: nothing left to end
        socket.socket.shutdown(sock, socket.SHUT_RDWR)


def _tracked(base: type[http.client.HTTPConnection], watchdog: _Deadline) -> Any:
    """``base`` with every socket it opens handed to ``watchdog`` (the raw one as soon
    as it is connected, so a proxy's tunnel is covered, and the SSL one)."""

    class Tracked(base):  # type: ignore[valid-type,misc]  # a class made per fetch
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            # Set by http.client's __init__; its stubs do not declare it.
            create: Callable[..., socket.socket] = getattr(self, "_create_connection")  # noqa: B009

            def created(*a: Any, **k: Any) -> socket.socket:
                sock: socket.socket = create(*a, **k)
                watchdog.track(sock)
                return sock

            self._create_connection = created

        def connect(self) -> None:
            super().connect()
            watchdog.track(self.sock)

    return Tracked


class _HTTPHandler(urllib.request.HTTPHandler):
    def __init__(self, watchdog: _Deadline) -> None:
        super().__init__()
        self.watchdog = watchdog

    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(_tracked(http.client.HTTPConnection, self.watchdog), req)


class _HTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self, watchdog: _Deadline) -> None:
        super().__init__()
        self.watchdog = watchdog

    def do_open(
        self, http_class: Any, req: urllib.request.Request, **kwargs: Any
    ) -> http.client.HTTPResponse:
        return super().do_open(_tracked(http_class, self.watchdog), req, **kwargs)
