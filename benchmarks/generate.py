"""Synthetic listings in the seed format, for benchmarks at any scale.

Input: the seed listings (``feeds/example/listings/*.txt``, for a realistic vocabulary
and phrasing), a size, a number of keyword rules and a seed. Output: a feed folder

    OUT_DIR/feed.yaml                 K tags over the vocabulary, in ~20 themes, year: 2025
    OUT_DIR/listings/listing-NNNNNN.txt   text dumps of 300-500 entries each

Deterministic: the same arguments give byte-identical files on any machine (every
paper's text is a pure function of ``(seed, file, position)``, computed with
``hashlib.shake_128``; the vocabulary and the rules come from ``random.Random(seed)``).
Streaming: one listing is built and written at a time, so memory stays flat at any N.

The corpus:

- text: sentences made of word n-grams sampled from the seed abstracts (so keyword
  phrases such as ``speculative decoding`` occur as they do in real text); titles of
  ~10 words (at most 150 characters), about half of them ``Name: subtitle``;
  abstracts of 1,300-2,000 characters;
- about 20% of the entries repeat an earlier paper (70% of those from the last seven
  listings, the rest from anywhere before); half of the repeats are verbatim, half
  perturbed in case, punctuation, Unicode dashes and quotes, and whitespace (line
  wrapping included), all of which keep the exact title key;
- dates: consecutive days from 2025-01-01, one listing a day; beyond 357 listings
  several listings share a day, so every date stays in 2025 (``year: 2025`` in
  feed.yaml makes the year-less ``Mon DD`` lines unambiguous). So weeks hold about
  N/52 papers at 1M but one day's listing (~400) a day at 10k.

``--append-listing SIZE`` writes only the next listing (SIZE entries) into an existing
folder: what the incremental benchmark adds. ``--append-index I`` picks the I-th such
listing (0, 1 or 2): they are dated on the Monday after the corpus's last day and the
two days after it, always within 2025, so the incremental work is the same at every N.

``--shape realistic`` writes the realistic shape instead (``benchmarks/realistic.py``:
repeats only the near-duplicate rules can join, near-miss distinct papers, shared stock
phrasing) and its ground truth, ``OUT_DIR/truth/listing-NNNNNN.tsv``; the default,
``friendly``, is byte for byte what it was. ``--themes N`` spreads the tags over N themes
(default 20).

Run: ``python benchmarks/generate.py OUT_DIR --entries N --rules K --seed S
[--shape realistic] [--themes N]``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import random
import re
import sys
import time
from collections import Counter
from collections.abc import Iterator
from functools import lru_cache
from itertools import pairwise
from operator import add
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SEED_LISTINGS = ROOT / "feeds" / "example" / "listings"
BOILERPLATE = (
    "new\n\nGet trending papers in your email inbox!\n\nSubscribe\n\n"
    "byAK and the research community\n\n"
)
START = dt.date(2025, 1, 1)
YEAR = START.year
MAX_DAYS = 357
"""Corpus days (to 2025-12-23); the last ISO week of 2025 is left for appended listings."""
MAX_APPENDED = 3
TODAY = "2025-12-31"
"""The run date the benchmarks use (after every generated date)."""
MIN_FILE, MAX_FILE = 300, 500
REPEAT_SHARE = 51
"""Out of 256: about 20% of the slots repeat an earlier paper."""
RECENT_FILES = 7
POOL = 1 << 16
"""Abstract n-grams (indexed by one uint16)."""
TITLE_POOL = 1 << 14
NAME_PARTS = 64
ABSTRACT_MIN, ABSTRACT_SPAN = 1300, 700
TITLE_MAX = 150
THEMES = 20


def _words(text: str) -> list[str]:
    return text.split()


FUNCTION_WORDS = frozenset(
    _words("a an the of for in on at to with and or via by from into is are as its their our")
)
STOP_WORDS = FUNCTION_WORDS | frozenset(
    _words(
        "that which this these those while however such can will would could should be been "
        "being has have had was were it they them than also both each more most other only not "
        "but then there here when where what who whose how why all any some many much very "
        "well even just through thus therefore although though because since once true false "
        "often first second third over under between within without across among about above "
        "below after before during upon whether either neither"
    )
)
NAME_HEADS = _words(
    "Flash Spec Quant Sparse Turbo Lite Fast Deep Meta Omni Hydra Neuro Auto Hyper Mega "
    "Micro Nano Open Uni Poly Mono Dyna Evo Gen Vision Token Prompt Agent Reason Chain "
    "Graph Cross Multi Long Tiny Swift Echo Astra Nova Orion Atlas Aether Zephyr Helix "
    "Pixel Voxel Motion Sound Code Math Chem Bio Geo Mamba Llama Falcon Phoenix Griffin "
    "Kestrel Lynx Otter Panda Koala"
)
NAME_TAILS = _words(
    "Former LM GPT MoE Diff Net Attn KV Bench Mix Rank Tune Distill Prune Cache Serve Spec "
    "Align Bridge Fusion Gen Flow Search Mind Coder Math Vid Sketch Edit Splat NeRF Mamba "
    "RL Agent Planner Judge Eval Guard Shield Scope Lens Map Walk Step Hop Loop Stack Pipe "
    "Shard Sync Scale Boost Lift Spark Wave Pulse Drift Forge Smith Craft Weave Ops"
)
DASHES = ("‐", "–", "—")
TOKEN = re.compile(r"[^\s]+")
SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")
DATE_LINE = re.compile(r"^[A-Z][a-z]{2} \d{1,2}$")


# --- the vocabulary, from the seed listings ---------------------------------------------


def seed_texts(folder: Path = SEED_LISTINGS) -> tuple[list[str], list[str]]:
    """Titles and abstracts of the seed listings (paragraphs after the date line)."""
    titles: list[str] = []
    abstracts: list[str] = []
    for path in sorted(folder.glob("*.txt")):
        paras = [" ".join(p.split()) for p in path.read_text("utf-8").split("\n\n")]
        paras = [p for p in paras if p]
        starts = [i for i, p in enumerate(paras) if DATE_LINE.match(p)]
        if not starts:
            continue
        for para in paras[starts[0] + 1 :]:
            if DATE_LINE.match(para):
                continue
            (abstracts if len(para) > 300 else titles).append(para)
    if not abstracts:
        sys.exit(f"generate.py: no seed listings in {folder}")
    return titles, abstracts


def _lower_start(word: str) -> str:
    """Sentence-initial ``The`` -> ``the``; acronyms and names (``LLMs``) stay."""
    return word.lower() if word[1:] == word[1:].lower() else word


def _title_case(word: str, first: bool) -> str:
    if not first and word.lower() in FUNCTION_WORDS:
        return word.lower()
    return word[:1].upper() + word[1:]


class Vocabulary:
    """Pools of text pieces indexed by uint16 values (so a paper is a byte string)."""

    def __init__(self, rng: random.Random) -> None:
        titles, abstracts = seed_texts()
        sentences = [
            [_lower_start(w) if i == 0 else w for i, w in enumerate(TOKEN.findall(s))]
            for a in abstracts
            for s in SENTENCE.split(a)
        ]
        # Drop URLs and the sentence-final period (sentences get their own).
        sentences = [
            [w.rstrip(".") for w in s if "://" not in w and "github" not in w.lower()]
            for s in sentences
        ]
        sentences = [s for s in sentences if len(s) >= 4]
        self.chunks = [self._ngram(rng, sentences) for _ in range(POOL)]
        caps = [c[:1].upper() + c[1:] for c in self.chunks]
        ends = [c.rstrip(",;:(") + "." for c in self.chunks]
        self.pieces = self.chunks + caps + ends
        """n-gram i as is, i + POOL capitalised (a sentence's first), i + 2 * POOL with a
        period (a sentence's last)."""
        self.mean_chunk = sum(map(len, self.chunks)) / POOL + 1
        self.layouts = [self._layout(rng) for _ in range(LAYOUTS)]
        title_words = [TOKEN.findall(t.replace(":", " ")) for t in titles]
        title_words = [[w.strip(",.?!") for w in t if w.strip(",.?!")] for t in title_words]
        title_words = [t for t in title_words if len(t) >= 4]
        pieces: list[list[str]] = []
        for i in range(TITLE_POOL):
            source = title_words if i % 2 else sentences
            words = [w.strip(",;()") or w for w in self._ngram(rng, source, 2).split()]
            while len(words) > 1 and words[-1].lower() in FUNCTION_WORDS:
                words.pop()
            pieces.append(words)
        self.title_first = [
            " ".join(_title_case(w, j == 0) for j, w in enumerate(p)) for p in pieces
        ]
        self.title_mid = [" ".join(_title_case(w, False) for w in p) for p in pieces]
        self.names = [h + t for h in NAME_HEADS[:NAME_PARTS] for t in NAME_TAILS[:NAME_PARTS]]
        self.words = Counter(w for s in sentences for w in s)
        self.sentences = sentences

    @staticmethod
    def _layout(rng: random.Random) -> list[int]:
        """Offsets into ``pieces`` for sentences of 5-9 n-grams."""
        offsets: list[int] = []
        while len(offsets) < MAX_CHUNKS:
            offsets += [POOL] + [0] * rng.randint(3, 7) + [2 * POOL]
        return offsets

    @staticmethod
    def _ngram(rng: random.Random, sentences: list[list[str]], least: int = 1) -> str:
        sentence = sentences[rng.randrange(len(sentences))]
        size = max(least, rng.choice((1, 2, 2, 3, 3, 3, 4)))
        start = rng.randrange(max(1, len(sentence) - size + 1))
        return " ".join(sentence[start : start + size])


# --- papers: pure functions of (seed, file, position) ------------------------------------


VALUES = 192
"""uint16 values per paper: [0:16] title and layout, [16:] abstract n-grams."""
MAX_CHUNKS = VALUES - 16
LAYOUTS = 1024


def _values(seed: int, kind: bytes, *ids: int, count: int = VALUES) -> memoryview:
    key = b"/".join([str(seed).encode(), kind, *(str(i).encode() for i in ids)])
    return memoryview(hashlib.shake_128(key).digest(2 * count)).cast("H")


def paper(vocab: Vocabulary, seed: int, file: int, pos: int) -> tuple[str, str]:
    """The original (unperturbed) title and abstract of the paper first listed at
    ``(file, pos)``."""
    v = _values(seed, b"paper", file, pos)
    # Title: ~10 words, half of them "Name: subtitle".
    if v[0] & 1:
        name = vocab.names[v[1] % len(vocab.names)]
        if v[0] & 6 == 0:
            name += "-" + str(2 + v[0] % 5)
        parts = [vocab.title_first[v[2] % TITLE_POOL]]
        parts += [vocab.title_mid[v[i] % TITLE_POOL] for i in range(3, 5 + (v[0] >> 3 & 1))]
        title = f"{name}: {' '.join(parts)}"
    else:
        parts = [vocab.title_first[v[2] % TITLE_POOL]]
        parts += [vocab.title_mid[v[i] % TITLE_POOL] for i in range(3, 6 + (v[0] >> 3 & 1))]
        title = " ".join(parts)
    if len(title) > TITLE_MAX:
        title = title[:TITLE_MAX].rsplit(" ", 1)[0]
    # Abstract: sentences of 5-9 n-grams up to a length of 1,300-2,000 characters.
    # One join over pool indices shifted by a precomputed sentence layout (capitalised
    # first n-gram, period after the last): no Python loop per sentence.
    chunks = min(int((ABSTRACT_MIN + v[6] % ABSTRACT_SPAN) / vocab.mean_chunk), MAX_CHUNKS)
    layout = vocab.layouts[v[7] % LAYOUTS]
    pieces = list(map(add, v[16 : 15 + chunks], layout))
    pieces.append(v[15 + chunks] + 2 * POOL)
    return title, " ".join(map(vocab.pieces.__getitem__, pieces))


def perturb(title: str, abstract: str, v: memoryview) -> tuple[str, str]:
    """The same paper as another listing prints it: case, punctuation, Unicode dashes and
    quotes, whitespace. Every change keeps the title key (the exact identity rule)."""
    ops = v[0]
    if ops & 1:
        title = title.lower() if v[1] & 1 else title.upper()
    if ops & 2:
        title = (
            title.replace(": ", " - " if v[1] & 2 else " — ", 1) if ": " in title else title + "."
        )
    if ops & 4:
        dash = DASHES[v[2] % 3]
        title, abstract = title.replace("-", dash), abstract.replace("-", dash)
    if ops & 8:
        words = title.split(" ")
        k = v[3] % len(words)
        words[k] = f"“{words[k]}”"
        title = " ".join(words)
        abstract = abstract.replace("'", "’")
    if ops & 16 or not ops & 31:
        words = title.split(" ")
        k = 1 + v[4] % max(1, len(words) - 1)
        title = "  ".join(words[:k]) + ("\n" if v[4] & 1 else " ") + " ".join(words[k:]) + "  "
        abstract = _wrap(abstract, 72 + v[5] % 20)
    return title, abstract


def _wrap(text: str, width: int) -> str:
    lines, line = [], ""
    for word in text.split(" "):
        if line and len(line) + len(word) >= width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    return "\n".join([*lines, line]) + " "


# --- the corpus plan: sizes, repeats, dates -----------------------------------------------


class Plan:
    """Which listing holds how many entries, on which day, and which slots are repeats."""

    def __init__(self, seed: int, entries: int) -> None:
        self.seed = seed
        self.sizes: list[int] = []
        total = 0
        while total < entries:
            size = MIN_FILE + _values(seed, b"size", len(self.sizes), count=1)[0] % (
                MAX_FILE - MIN_FILE + 1
            )
            size = min(size, entries - total)
            self.sizes.append(size)
            total += size
        self.days = min(len(self.sizes), MAX_DAYS)

    def date(self, file: int) -> dt.date:
        """Listing ``file``'s date. Appended listings start a new ISO week (the Monday
        after the corpus's last day, then one day each), so at every N the incremental
        run adds the same work: a week of its own that grows by one listing a run."""
        files = len(self.sizes)
        if file < files:
            return START + dt.timedelta(days=file * self.days // files)
        last = START + dt.timedelta(days=self.days - 1)
        monday = last + dt.timedelta(days=7 - last.weekday())
        return monday + dt.timedelta(days=file - files)

    def size(self, file: int) -> int:
        """Entries in listing ``file`` (appended listings are not planned here)."""
        return self.sizes[file]

    @lru_cache(maxsize=4096)  # noqa: B019 (one Plan per process)
    def repeats(self, file: int) -> bytes:
        """One byte per slot of listing ``file``: below REPEAT_SHARE = a repeat."""
        if file == 0:
            return bytes([255]) * MAX_FILE
        return hashlib.shake_128(b"%d/flags/%d" % (self.seed, file)).digest(4 * MAX_FILE)

    def source(
        self, file: int, pos: int, v: memoryview, least: int = REPEAT_SHARE
    ) -> tuple[int, int]:
        """The earlier original slot a repeat at ``(file, pos)`` reprints (one whose flag
        is at least ``least``: the realistic shape's near-miss papers take no near-miss
        paper as their model)."""
        before = min(file, len(self.sizes))
        for i in range(1, 37, 3):
            if v[i] % 10 < 7:
                k = before - 1 - v[i + 1] % min(before, RECENT_FILES)
            else:
                k = v[i + 1] % before
            p = v[i + 2] % self.sizes[k]
            if self.repeats(k)[p] >= least:
                return k, p
        return 0, v[0] % self.sizes[0]


def entries(vocab: Vocabulary, plan: Plan, file: int, size: int) -> Iterator[tuple[str, str]]:
    """The (title, abstract) pairs of listing ``file``, in order."""
    flags = plan.repeats(file)
    for pos in range(size):
        if flags[pos] >= REPEAT_SHARE:
            yield paper(vocab, plan.seed, file, pos)
            continue
        v = _values(plan.seed, b"repeat", file, pos, count=64)
        title, abstract = paper(vocab, plan.seed, *plan.source(file, pos, v))
        if v[63] & 1:
            title, abstract = perturb(title, abstract, v[40:])
        yield title, abstract


def listing_text(date: dt.date, pairs: Iterator[tuple[str, str]]) -> str:
    """One text dump in the seed format."""
    parts = [BOILERPLATE, date.strftime("%b ") + str(date.day), "\n\n"]
    for title, abstract in pairs:
        parts += [title, "\n\n", abstract, "\n\n"]
    return "".join(parts)


def listing_path(out: Path, file: int) -> Path:
    """Where listing ``file`` goes (names sort in listing order)."""
    return out / "listings" / f"listing-{file:06d}.txt"


# --- the rules ---------------------------------------------------------------------------


def feed_yaml(vocab: Vocabulary, rules: int, seed: int, themes: int = THEMES) -> str:
    """feed.yaml with ``rules`` tags over the vocabulary, grouped into ``themes`` themes
    (20 by default; tag i goes to theme i mod themes)."""
    rng = random.Random(seed)
    doc_freq: Counter[str] = Counter()
    for sentence in vocab.sentences:
        doc_freq.update({w.lower().strip(",;:()") for w in sentence})
    total = len(vocab.sentences)
    # Words in 2 to 0.15% of the seed sentences: specific enough that with 100 rules a
    # paper gets a few tags, as with hand-written rules.
    words = sorted(
        w
        for w, n in doc_freq.items()
        if 2 <= n <= 0.0015 * total and w.isalpha() and len(w) >= 4 and w not in STOP_WORDS
    )
    acronyms = sorted(w for w in vocab.words if w.isupper() and w.isalpha() and 2 <= len(w) <= 5)
    bigrams = sorted(
        {
            f"{a} {b}".lower()
            for s in vocab.sentences[:4000]
            for a, b in pairwise(s)
            if a.isalpha()
            and b.isalpha()
            and len(a) > 3
            and len(b) > 3
            and a.lower() not in STOP_WORDS
            and b.lower() not in STOP_WORDS
        }
    )
    lines = [
        "# Generated by benchmarks/generate.py: synthetic benchmark feed.",
        "title: Synthetic benchmark digest",
        "base_url: https://example.org/bench/",
        "timezone: UTC",
        f"year: {YEAR}",
        "sources:",
        "  - path: listings/*.txt",
        "    format: auto",
        "store: digest.sqlite",
        "catch_all: Other papers",
        "tags:",
    ]
    names = []
    for i in range(rules):
        terms = []
        for _ in range(rng.randint(2, 6)):
            kind = rng.random()
            if kind < 0.45:
                terms.append(rng.choice(words))
            elif kind < 0.7:
                terms.append(rng.choice(bigrams))
            elif kind < 0.85:
                word = rng.choice(words)
                terms.append((word[:-1] if len(word) >= 7 else word) + "*")
            elif kind < 0.93 and acronyms:
                terms.append("case:" + rng.choice(acronyms))
            else:
                terms.append("title:" + rng.choice(words))
        terms = list({t if t.startswith("case:") else t.lower(): t for t in terms}.values())
        name = f"t{i:03d}-{terms[0].split(':')[-1].rstrip('*').replace(' ', '-').lower()}"
        names.append(name)
        lines.append(f"  {name}:")
        lines.append(f"    any: [{', '.join(_quote(t) for t in terms)}]")
        used = {t.lower().rstrip("*").split(":")[-1] for t in terms}
        if rng.random() < 0.1:
            word = rng.choice(words)
            if word not in used:
                used.add(word)
                lines.append(f"    all: [{_quote(word)}]")
        if rng.random() < 0.1:
            word = rng.choice(words)
            if word not in used:
                lines.append(f"    none: [{_quote('title:' + word)}]")
    lines.append("themes:")
    themes = min(themes, rules)
    for t in range(themes):
        lines.append(f"  - name: Theme {t + 1:02d}")
        lines.append(f"    tags: [{', '.join(names[t::themes])}]")
        lines.append(f"    priority: {1 + (t % 4 == 0) + (t % 7 == 0)}")
    return "\n".join(lines) + "\n"


def _quote(term: str) -> str:
    return '"' + term.replace("\\", "\\\\").replace('"', '\\"') + '"'


# --- command line ------------------------------------------------------------------------


SHAPES = ("friendly", "realistic")


def listing_entries(
    vocab: Vocabulary, plan: Plan, file: int, size: int, shape: str
) -> tuple[Iterator[tuple[str, str]], list[str]]:
    """The (title, abstract) pairs of listing ``file`` in ``shape``, and the list its
    ground-truth lines fill as the pairs are consumed (realistic shape only)."""
    truth: list[str] = []
    if shape == "friendly":
        return entries(vocab, plan, file, size), truth
    import realistic  # the sibling module (it imports this one)

    def pairs() -> Iterator[tuple[str, str]]:
        for pos, (title, abstract, line) in enumerate(realistic.entries(vocab, plan, file, size)):
            truth.append(f"{pos}\t{line}\n")
            yield title, abstract

    return pairs(), truth


def write_listing(
    out: Path, vocab: Vocabulary, plan: Plan, file: int, size: int, shape: str
) -> Path:
    """Write listing ``file`` (and, in the realistic shape, its ground truth
    ``truth/listing-NNNNNN.tsv``); returns the listing's path."""
    pairs, truth = listing_entries(vocab, plan, file, size, shape)
    path = listing_path(out, file)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(listing_text(plan.date(file), pairs), "utf-8")
    if truth:
        (out / "truth").mkdir(exist_ok=True)
        truth_path(out, file).write_text("".join(truth), "utf-8")
    return path


def truth_path(out: Path, file: int) -> Path:
    """Where listing ``file``'s ground truth goes (realistic shape)."""
    return out / "truth" / f"listing-{file:06d}.tsv"


def generate(
    out: Path, n: int, rules: int, seed: int, shape: str = "friendly", themes: int = THEMES
) -> int:
    """Write feed.yaml and every listing; returns the number of listings."""
    vocab = Vocabulary(random.Random(seed))
    plan = Plan(seed, n)
    (out / "listings").mkdir(parents=True, exist_ok=True)
    (out / "feed.yaml").write_text(feed_yaml(vocab, rules, seed, themes), "utf-8")
    for file, size in enumerate(plan.sizes):
        write_listing(out, vocab, plan, file, size, shape)
    return len(plan.sizes)


def append_listing(
    out: Path, n: int, seed: int, size: int, index: int, shape: str = "friendly"
) -> Path:
    """Write the ``index``-th listing after an ``n``-entry corpus; returns its path."""
    vocab = Vocabulary(random.Random(seed))
    plan = Plan(seed, n)
    file = len(plan.sizes) + index
    if size > 4 * MAX_FILE or not 0 <= index < MAX_APPENDED:
        sys.exit("generate.py: --append-listing takes at most 2000 entries, index 0-2")
    return write_listing(out, vocab, plan, file, size, shape)


def main(argv: list[str] | None = None) -> None:
    """Command line: see the module docstring."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, metavar="OUT_DIR")
    parser.add_argument("--entries", type=int, default=10_000, help="corpus size N")
    parser.add_argument("--rules", type=int, default=100, help="number of tags K")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--append-listing",
        type=int,
        metavar="SIZE",
        help="only write the next listing (SIZE entries) after an N-entry corpus",
    )
    parser.add_argument("--append-index", type=int, default=0, metavar="I")
    parser.add_argument(
        "--shape",
        choices=SHAPES,
        default="friendly",
        help="friendly (repeats keep the title key) or realistic (see realistic.py)",
    )
    parser.add_argument("--themes", type=int, default=THEMES, help="themes the tags go into")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    if args.append_listing:
        path = append_listing(
            args.out, args.entries, args.seed, args.append_listing, args.append_index, args.shape
        )
        print(f"wrote {path} in {time.perf_counter() - start:.2f} s", file=sys.stderr)
        return
    files = generate(args.out, args.entries, args.rules, args.seed, args.shape, args.themes)
    print(
        f"wrote {args.entries} {args.shape} entries in {files} listings and {args.rules} "
        f"rules in {min(args.themes, args.rules)} themes to "
        f"{args.out} in {time.perf_counter() - start:.1f} s",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
