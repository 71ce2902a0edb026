"""The labelled identity set: real seed papers, their perturbed versions and invented siblings.

Input: the seed listings in ``feeds/example/listings``. Output (only when run as a
script: ``python tests/identity_set.py``) ``tests/data/identity_pairs.jsonl``, one
record per line::

    {"id": "r0042", "paper": "s017", "of": "r0017", "same": true, "kind": "retitled",
     "title": "...", "abstract": "..."}

``paper`` is the true cluster. ``of``/``same`` state the labelled pair the record was
made from (``null`` for a seed paper); every two records with different ``paper``
are a negative pair too, so all distinct seed papers are mutual negatives.

Positives (``same: true``): the title changed within the normal form (case,
whitespace, line breaks, dashes, quotes, entities, LaTeX, a trailing period) with the
abstract revised or untouched; the title changed beyond it (word added or removed,
subtitle dropped, a renamed or re-marked method) with a near-identical abstract; the
title respelled (hyphenation, British spelling, plural, a typo) with the abstract
revised; a version without abstract; a third version of a revised one.

Negatives (``same: false``): siblings made by editing the real title (``X 2``,
``X-2``, ``X++``, ``v2``, ``Part II``, a Greek letter, a model, size or dataset swap,
``A Survey of X``, ``Revisiting X``, ``Video-X``), each with an abstract that is a
collage of other papers' sentences with the name swapped in, a heavy rewrite of the
paper's own, or a sibling's (the same problem statement and project URL, another
method and other results).

:func:`simulate` ingests the records in file order as the store does (exact title
key, then :func:`digest.identity.keys.block_keys` candidates and
:func:`digest.identity.matching.decide`); :func:`pairwise` scores its clusters.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import random
import re
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

from digest.identity.keys import block_keys  # noqa: E402
from digest.identity.matching import Candidate, Decision, decide  # noqa: E402
from digest.normalize import title_key  # noqa: E402
from digest.sources import ReadContext, read_file  # noqa: E402

SEED = 20261125
TODAY = dt.date(2026, 11, 25)
LISTINGS = ROOT / "feeds" / "example" / "listings"
DATA = ROOT / "tests" / "data" / "identity_pairs.jsonl"


@dataclass(frozen=True, slots=True)
class Record:
    """One sighting in the labelled set."""

    id: str
    """Record id (``r0001``), in ingestion order."""
    paper: str
    """True cluster: ``s…`` for a seed paper and its versions, ``n…`` for an invented sibling."""
    title: str
    abstract: str
    of: str | None = None
    """The record this one was made from (``None`` for seed papers)."""
    same: bool | None = None
    """Whether it is the same paper as ``of``."""
    kind: str = "seed"
    """How it was made."""


# --- seed -----------------------------------------------------------------------------


def seed_papers() -> list[tuple[str, str]]:
    """Distinct (title, abstract) of the seed listings, first sighting of each title key."""
    ctx = ReadContext(today=TODAY)
    seen: dict[str, tuple[str, str]] = {}
    for path in sorted(LISTINGS.glob("*.txt")):
        for entry in read_file(path, ctx).entries:
            seen.setdefault(title_key(entry.title), (entry.title, entry.abstract))
    return list(seen.values())


_SENTENCE = re.compile(r"(?<=[.!?])(?:\s+|(?=[A-Z][a-z]))")
_CODE = re.compile(r"https?://|github|\b(?:code|project page)\b.*\bavailable\b", re.I)


def sentences(text: str) -> list[str]:
    """Sentences of an abstract (a simple split, good enough to edit them)."""
    return [s for s in _SENTENCE.split(text) if s]


def name_of(title: str) -> str | None:
    """The method's name: a short head before a colon, or a first word like ``LLMCad``."""
    head, colon, _ = title.partition(":")
    if colon and 1 <= len(head.split()) <= 2:
        return head.strip()
    first = title.split()[0]
    if re.search(r"[a-z][A-Z]|[A-Z]{2}|\d", first):
        return first
    return None


# --- abstract revisions -----------------------------------------------------------------

_SYNONYMS = [
    ("significantly", "substantially"), ("propose", "introduce"), ("method", "approach"),
    ("demonstrate", "show"), ("novel", "new"), ("improves", "enhances"),
    ("achieves", "attains"), ("however", "nevertheless"), ("efficient", "effective"),
    ("existing", "prior"), ("framework", "system"), ("results", "findings"),
    ("large", "big"), ("performance", "accuracy"), ("challenging", "difficult"),
    ("outperforms", "surpasses"), ("we present", "this paper presents"),
]  # fmt: skip
_ADDED = [
    "We further provide an ablation study that isolates the contribution of each component.",
    "Our analysis also sheds light on the failure modes of previous approaches.",
    "In addition, we release a detailed evaluation protocol to ease future comparisons.",
    "We also discuss the limitations of our study and outline directions for future work.",
    "Experiments on two additional benchmarks confirm that the gains carry over.",
    "This version adds experiments at larger scale and corrects an error in the appendix.",
    "A theoretical analysis explains why the proposed design converges faster.",
    "We additionally report wall-clock measurements on commodity hardware.",
]
_REWRITTEN = [
    "Compared with strong baselines, {name} reduces the cost substantially at equal quality.",
    "We evaluate {name} on a broad set of tasks and report consistent improvements.",
    "The key idea of {name} is simple: reuse what is already computed instead of recomputing it.",
    "Unlike earlier work, {name} needs neither extra data nor changes to the training recipe.",
    "Extensive experiments show that {name} scales gracefully with model and data size.",
]
_ADVERBS = ["further", "also", "moreover", "consistently", "notably", "empirically"]


def _edit_sentence(sentence: str, rng: random.Random) -> str:
    """Change a few words of one sentence (synonyms, a number, an adverb)."""
    hits = [(a, b) for a, b in _SYNONYMS if re.search(rf"\b{a}\b", sentence, re.I)]
    hits += [(b, a) for a, b in _SYNONYMS if re.search(rf"\b{b}\b", sentence, re.I)]
    if hits:
        for old, new in rng.sample(hits, min(len(hits), rng.randint(1, 3))):
            sentence = re.sub(rf"\b{old}\b", new, sentence, count=1, flags=re.I)
        return sentence
    numbers = re.findall(r"\d+(?:\.\d+)?", sentence)
    if numbers:
        old = rng.choice(numbers)
        new = f"{float(old) * rng.uniform(1.02, 1.2):.2f}" if "." in old else str(int(old) + 1)
        return sentence.replace(old, new, 1)
    words = sentence.split()
    words.insert(rng.randint(1, max(1, len(words) - 1)), rng.choice(_ADVERBS))
    return " ".join(words)


def _code_url(title: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", (name_of(title) or title.split()[0]).lower()).strip("-")
    return f"https://github.com/{slug or 'lab'}-lab/{slug or 'code'}"


def revise(
    abstract: str, title: str, rng: random.Random, ops: Sequence[str]
) -> tuple[str, list[str]]:
    """Apply revision operations to an abstract; returns it and what was done."""
    sents = sentences(abstract)
    done: list[str] = []
    for op in ops:
        body = [i for i, s in enumerate(sents) if not _CODE.search(s)]
        if op == "edit" and body:
            i = rng.choice(body)
            sents[i] = _edit_sentence(sents[i], rng)
        elif op == "rewrite" and len(body) > 2:
            i = rng.choice(body[1:])
            sents[i] = rng.choice(_REWRITTEN).format(name=name_of(title) or "our method")
        elif op == "add":
            sents.insert(rng.randint(1, len(sents)), rng.choice(_ADDED))
        elif op == "drop" and len(body) > 4:
            del sents[rng.choice(body[1:])]
        elif op == "code":
            code = [i for i, s in enumerate(sents) if _CODE.search(s)]
            if code:
                del sents[code[-1]]
            else:
                sents.append(f"Code is available at {_code_url(title)}.")
        else:
            continue  # text-level operations come below
        done.append(op)
    text = " ".join(sents)
    if "latex" in ops:
        text = text.replace("%", r"\%")
        text = re.sub(r"(\d)x\b", r"$\1\\times$", text)
        done.append("latex")
    if "entities" in ops:
        text = html.escape(text, quote=True).replace("-", "&#8208;", 1)
        done.append("entities")
    if "breaks" in ops:
        words = text.split(" ")
        for _ in range(3):
            i = rng.randrange(len(words))
            words[i] += rng.choice(["\n", "  ", " \n "])
        text = " ".join(words)
        done.append("breaks")
    return text, done


# --- title perturbations ----------------------------------------------------------------

_DASHES = "–—‐‑"
_GREEK_TEX = {"α": r"$\alpha$", "δ": r"$\delta$", "π": r"$\pi$", "β": r"$\beta$"}


def _form_ops(title: str, rng: random.Random) -> list[Callable[[str], str]]:
    def case(t: str) -> str:
        return rng.choice([t.lower(), t.upper(), t.title(), t.swapcase()])

    def spaces(t: str) -> str:
        words = t.split(" ")
        i = rng.randrange(max(1, len(words) - 1))
        words[i] += rng.choice(["  ", "\n", " \n", "\t"])
        return " ".join(words)

    def dashes(t: str) -> str:
        return re.sub(r"(?<=\w)-(?=\w)", lambda _: rng.choice(_DASHES), t)

    def quotes(t: str) -> str:
        words = t.split(" ")
        i = rng.randrange(len(words))
        words[i] = rng.choice(["“{}”", "‘{}’", '"{}"', "'{}'"]).format(words[i])
        return " ".join(words).replace("'s ", "’s ")

    def entities(t: str) -> str:
        return html.escape(t, quote=True).replace(":", "&#58;").replace(" ", "&#32;", 1)

    def latex(t: str) -> str:
        for ch, tex in _GREEK_TEX.items():
            t = t.replace(ch, tex)
        first = t.split(" ")[0].rstrip(":")
        if first.isalpha():
            t = t.replace(first, rf"\textbf{{{first}}}", 1)
        return t

    def period(t: str) -> str:
        return t.rstrip(".") + "."

    return [case, spaces, dashes, quotes, entities, latex, period]


def same_form_title(title: str, rng: random.Random) -> str:
    """The title changed only within :func:`title_key`'s normal form."""
    ops = _form_ops(title, rng)
    for _ in range(20):
        out = title
        for op in rng.sample(ops, rng.randint(1, 3)):
            out = op(out)
        if out != title and title_key(out) == title_key(title):
            return out
    return title.lower() if title.lower() != title else title.upper()


_HYPHEN_JOIN = re.compile(
    r"\b(Pre|pre|Multi|multi|Non|non|Co|co|Re|re|Semi|semi|Fine|fine|Sub|sub)-(\w+)"
)
_BRITISH = [("ization", "isation"), ("izing", "ising"), ("ize", "ise"), ("modeling", "modelling"),
            ("Modeling", "Modelling"), ("labeled", "labelled"), ("color", "colour"),
            ("behavior", "behaviour")]  # fmt: skip


def _toggle_plural(word: str) -> str | None:
    """``Properties`` <-> ``Property``, ``Models`` <-> ``Model`` (None when unsure)."""
    if not word.isalpha() or len(word) < 5 or not word[1:].islower():
        return None
    if word.endswith("ies"):
        return word[:-3] + "y"
    if word.endswith(("ss", "is", "us", "ys")):
        return None
    if word.endswith("s"):
        return word[:-1]
    if word.endswith("y") and word[-2] not in "aeiou":
        return word[:-1] + "ies"
    return word + "s"


def respelled_title(title: str, rng: random.Random) -> tuple[str, str] | None:
    """The title changed in form beyond the normal form: hyphenation, British spelling,
    a plural, a dropped function word, a typo in a long word."""
    options: list[tuple[str, str]] = []
    if _HYPHEN_JOIN.search(title):
        options.append(("hyphen", _HYPHEN_JOIN.sub(lambda m: m[1] + m[2].lower(), title, count=1)))
    for us, uk in _BRITISH:
        if us in title:
            options.append(("british", title.replace(us, uk, 1)))
            break
    words = title.split(" ")
    plural = _toggle_plural(words[-1])
    if plural:
        options.append(("plural", " ".join([*words[:-1], plural])))
    for fw in ("A ", "The ", "An "):
        if f": {fw}" in title:
            options.append(("function-word", title.replace(f": {fw}", ": ", 1)))
    if name_of(title) and ": " in title and ": Towards" not in title:
        options.append(("function-word", title.replace(": ", ": Towards ", 1)))
    elif not title.startswith("Towards"):
        options.append(("function-word", f"Towards {title[0].lower()}{title[1:]}"))
    long = re.findall(r"\b[a-z]{9,}\b", title)
    if long:
        w = rng.choice(long)
        i = rng.randrange(2, len(w) - 2)
        options.append(("typo", title.replace(w, w[:i] + w[i] + w[i:], 1)))
    options = [(k, t) for k, t in options if title_key(t) != title_key(title)]
    return rng.choice(options) if options else None


_FILLERS = ["Efficient", "Scalable", "Simple", "Robust", "Unified", "Practical"]


def retitled(title: str, rng: random.Random) -> tuple[str, str]:
    """The title changed in content (a version renamed by its authors)."""
    name = name_of(title)
    head, colon, tail = title.partition(": ")
    options: list[tuple[str, str]] = []
    if colon and len(tail.split()) >= 3:
        options.append(("subtitle-dropped", head))
        options.append(("subtitle-dropped", tail[0].upper() + tail[1:]))
        words = tail.split()
        i = rng.randrange(len(words))
        options.append(("word-removed", f"{head}: {' '.join(words[:i] + words[i + 1 :])}"))
    words = title.split()
    if len(words) > 4:
        i = rng.randrange(1, len(words))
        options.append(("word-removed", " ".join(words[:i] + words[i + 1 :])))
    i = rng.randrange(1, len(words) + 1)
    options.append(("word-added", " ".join([*words[:i], rng.choice(_FILLERS).lower(), *words[i:]])))
    if name:
        new = name + rng.choice(["Net", "-X", "Former", "GPT"])
        options.append(("renamed", title.replace(name, new, 1)))
        options.append(("re-marked", title.replace(name, f"{name}-2", 1)))
    return rng.choice(options)


# --- siblings -----------------------------------------------------------------------------

_SWAPS = [
    (r"LLaMA-7B", "LLaMA-13B"), (r"\bLLaMA\b", "Mistral"), (r"\bLlama\b", "Gemma"),
    (r"\bBERT\b", "RoBERTa"), (r"\bGPT-4\b", "GPT-3.5"), (r"\bCLIP\b", "SigLIP"),
    (r"YOLOv(\d)", "YOLOv9"), (r"\bImageNet\b", "CIFAR-10"), (r"\bCOCO\b", "LVIS"),
    (r"\bTransformers?\b", "Mamba"), (r"\bLLMs?\b", "VLMs"), (r"\bMoE\b", "Dense Models"),
    (r"(\d+(?:\.\d+)?)B\b", "70B"), (r"Text-to-Image", "Text-to-Video"),
    (r"\bSpeech\b", "Music"), (r"\bImage\b", "Video"), (r"\bGPUs?\b", "TPUs"),
    (r"\bDiffusion\b", "Flow Matching"), (r"\bMamba\b", "Transformer"),
]  # fmt: skip
_GREEK_SWAP = {"α": "Σ", "δ": "β", "π": "σ", r"\alpha": r"\sigma", "Alpha": "Beta"}


def sibling_title(title: str, rng: random.Random) -> tuple[str, str]:
    """A plausible different paper's title, made by editing ``title``."""
    name = name_of(title)
    body = title
    options: list[tuple[str, str]] = []
    if name:
        options += [
            ("sequel-2", title.replace(name, f"{name} 2", 1)),
            ("sequel-2", title.replace(name, f"{name}-2", 1)),
            ("sequel-2", title.replace(name, f"{name}2", 1)),
            ("sequel-v2", title.replace(name, f"{name} v2", 1)),
            ("sequel-3", title.replace(name, f"{name}-3", 1)),
            ("plusplus", title.replace(name, f"{name}++", 1)),
            ("greek", title.replace(name, f"{name}-{rng.choice('αβγσ')}", 1)),
            ("size", title.replace(name, f"{name}-{rng.choice(['XL', 'Large', 'Mini', 'Pro'])}")),
            ("domain", title.replace(name, f"{rng.choice(['Video', 'Audio', 'Vision'])}-{name}")),
            ("survey", f"{name}: A Survey"),
        ]
    if "Part I " in title or title.endswith("Part I"):
        options.append(("part", re.sub(r"Part I\b", "Part II", title)))
    else:
        options.append(("part", f"{body.rstrip('.')}, Part II"))
    for ch, other in _GREEK_SWAP.items():
        if ch in title:
            options.append(("greek", title.replace(ch, other)))
    for pattern, repl in _SWAPS:
        if re.search(pattern, title):
            options.append(("model-swap", re.sub(pattern, repl, title, count=1)))
    core = title.split(": ", 1)[-1]
    core = core[0].lower() + core[1:] if core[:2].istitle() else core
    options += [
        ("survey", f"A Survey of {core}"),
        ("survey", f"Revisiting {core}"),
        ("survey", f"Benchmarking {core}"),
        ("domain", f"Multilingual {core}" if not name else f"{name}: Multilingual {core}"),
    ]
    options = [(k, t) for k, t in options if title_key(t) != title_key(title)]
    return rng.choice(options)


def _swap_name(text: str, old: str | None, new: str) -> str:
    return text.replace(old, new) if old else text


def collage(
    name: str, seeds: Sequence[tuple[str, str]], skip: int, rng: random.Random, n: int
) -> list[str]:
    """``n`` sentences drawn from three other seed papers, their names swapped for ``name``."""
    pool = [i for i in range(len(seeds)) if i != skip]
    out: list[str] = []
    for j in rng.sample(pool, 3):
        other_title, other_abstract = seeds[j]
        sents = [s for s in sentences(other_abstract) if not _CODE.search(s)]
        take = rng.sample(sents, min(len(sents), max(1, n // 3)))
        out += [_swap_name(s, name_of(other_title), name) for s in take]
    return out[:n]


def sibling_abstract(
    title: str, new_title: str, seeds: Sequence[tuple[str, str]], index: int, rng: random.Random
) -> tuple[str, str]:
    """An abstract for a sibling paper: another text, a heavy rewrite or a group sibling's."""
    abstract = seeds[index][1]
    sents = sentences(abstract)
    body = [s for s in sents if not _CODE.search(s)]
    code = [s for s in sents if _CODE.search(s)]
    old, new = name_of(title), name_of(new_title) or new_title.split(":")[0]
    style = rng.choice(["collage", "rewrite", "group", "group"])
    if style == "collage":
        out = collage(new, seeds, index, rng, max(6, len(body)))
    elif style == "rewrite":
        keep = max(1, len(body) // 4)
        kept = [_edit_sentence(s, rng) for s in rng.sample(body, keep)]
        out = kept + collage(new, seeds, index, rng, len(body) - keep)
        rng.shuffle(out)
    else:
        # Same group: the problem statement (and project page) reused, another method and
        # other results.
        lengths = [len(s.split()) for s in body]
        budget = rng.uniform(0.3, 0.5) * sum(lengths)
        keep = 0
        while keep < len(body) - 1 and sum(lengths[: keep + 1]) <= budget:
            keep += 1
        out = body[:keep] + collage(new, seeds, index, rng, max(3, len(body) - keep)) + code
    text = " ".join(_swap_name(s, old, new) for s in out)
    return style, text


# --- building -----------------------------------------------------------------------------


@dataclass(slots=True)
class _Builder:
    seeds: list[tuple[str, str]]
    rng: random.Random
    records: list[Record] = field(default_factory=list)
    keys: dict[str, str] = field(default_factory=dict)
    """Title key -> paper, so that no two papers share a title key."""
    siblings: int = 0

    def add(self, paper: str, title: str, abstract: str, of: str | None, same: bool | None,
            kind: str) -> Record:  # fmt: skip
        rec = Record(f"r{len(self.records):04d}", paper, title, abstract, of, same, kind)
        self.records.append(rec)
        return rec

    def positive(self, base: Record, index: int) -> None:
        rng = self.rng
        title, abstract = base.title, base.abstract
        kind = rng.choice(["form", "form", "form-same-abstract", "retitled", "retitled",
                           "retitled-same-abstract", "respelled", "respelled", "respelled",
                           "no-abstract"])  # fmt: skip
        light = ["entities", "code", "breaks", "latex"]
        if kind == "form":
            ops = rng.sample(["edit", "add", "drop", "code", "entities", "edit"], rng.randint(1, 4))
            new_abs, done = revise(abstract, title, rng, ops)
            new_title = same_form_title(title, rng)
        elif kind == "form-same-abstract":
            new_title, new_abs, done = same_form_title(title, rng), abstract, []
        elif kind in ("retitled", "retitled-same-abstract"):
            how, new_title = retitled(title, rng)
            if kind == "retitled":
                ops = rng.sample(light, rng.randint(1, 2)) + rng.choice([[], ["edit"], ["add"]])
                new_abs, done = revise(abstract, title, rng, ops)
            else:
                new_abs, done = abstract, []
            kind = f"{kind}:{how}"
            if rng.random() < 0.5:
                new_title = same_form_title(new_title, rng)
        elif kind == "respelled":
            found = respelled_title(title, rng)
            if found is None:
                return
            how, new_title = found
            ops = rng.sample(["edit", "edit", "add", "rewrite", "drop", "code", "entities"],
                             rng.randint(2, 4))  # fmt: skip
            new_abs, done = revise(abstract, title, rng, ops)
            kind = f"respelled:{how}"
        else:
            found = respelled_title(title, rng)
            new_title = found[1] if found and rng.random() < 0.5 else same_form_title(title, rng)
            new_abs, done = "", []
        if done:
            kind += "+" + ",".join(done)
        if self.keys.setdefault(title_key(new_title), base.paper) != base.paper:
            return  # another paper already has that title
        rec = self.add(base.paper, new_title, new_abs, base.id, True, kind)
        if rng.random() < 0.12 and new_abs:
            # A third version, made from the second.
            v3_abs, done = revise(new_abs, title, rng, ["edit", "code"])
            found = respelled_title(new_title, rng) if rng.random() < 0.5 else None
            v3_title = found[1] if found else same_form_title(new_title, rng)
            if self.keys.setdefault(title_key(v3_title), base.paper) == base.paper:
                self.add(base.paper, v3_title, v3_abs, rec.id, True,
                         "third-version+" + ",".join(done))  # fmt: skip

    def negative(self, base: Record, index: int) -> None:
        rng = self.rng
        for _ in range(10):
            how, new_title = sibling_title(base.title, rng)
            if title_key(new_title) not in self.keys:
                break
        else:
            return
        style, new_abs = sibling_abstract(base.title, new_title, self.seeds, index, rng)
        self.siblings += 1
        paper = f"n{self.siblings:03d}"
        self.keys[title_key(new_title)] = paper
        self.add(paper, new_title, new_abs, base.id, False, f"{how}+{style}")


def build(seed: int = SEED) -> list[Record]:
    """The labelled set, deterministic for a given seed, in ingestion order."""
    rng = random.Random(seed)
    seeds = seed_papers()
    bases = [Record(f"r{i:04d}", f"s{i:03d}", t, a) for i, (t, a) in enumerate(seeds)]
    b = _Builder(seeds, rng, records=bases[:], keys={title_key(r.title): r.paper for r in bases})
    for i, base in enumerate(bases):
        if rng.random() < 0.75:
            b.positive(base, i)
        if rng.random() < 0.7:
            b.negative(base, i)
    # Ingestion order: seeds and their versions interleaved, a version never before its
    # origin (a third version follows its second).
    order: list[Record] = []
    pending = b.records[:]
    rng.shuffle(pending)
    placed: set[str] = set()
    while pending:
        rest = []
        for rec in pending:
            if rec.of is None or rec.of in placed or rec.same is False:
                order.append(rec)
                placed.add(rec.id)
            else:
                rest.append(rec)
        pending = rest
    return order


def write(records: Iterable[Record], path: Path = DATA) -> None:
    """One JSON object per line, keys sorted, UTF-8."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="\n") as out:
        for rec in records:
            out.write(json.dumps(asdict(rec), ensure_ascii=False, sort_keys=True) + "\n")


def load(path: Path = DATA) -> list[Record]:
    """The committed labelled set, in ingestion order."""
    with path.open(encoding="utf-8") as f:
        return [Record(**json.loads(line)) for line in f if line.strip()]


# --- scoring ------------------------------------------------------------------------------


@dataclass(slots=True)
class Outcome:
    """Predicted clusters and how they were reached."""

    predicted: dict[str, str] = field(default_factory=dict)
    """Record id -> predicted paper."""
    decisions: dict[str, Decision] = field(default_factory=dict)
    """Record id -> the fuzzy decision that placed it (exact-key matches are absent)."""
    candidates: list[int] = field(default_factory=list)
    """Candidates handed to ``decide``, per record that reached it."""


def simulate(records: Sequence[Record]) -> Outcome:
    """Ingest in order like the store: exact title key, else blocking candidates + decide.

    Every sighting's block keys are indexed under its paper; a candidate carries the
    paper's newest text.
    """
    out = Outcome()
    by_title: dict[str, str] = {}
    blocks: dict[str, list[str]] = {}
    shown: dict[str, tuple[str, str]] = {}
    for rec in records:
        key = title_key(rec.title)
        keys = block_keys(rec.title, rec.abstract)
        paper = by_title.get(key)
        if paper is None:
            ids = list(dict.fromkeys(p for k in keys for p in blocks.get(k, ())))
            out.candidates.append(len(ids))
            decision = decide(rec.title, rec.abstract, [Candidate(p, *shown[p]) for p in ids])
            if decision is not None:
                paper = decision.paper_id
                out.decisions[rec.id] = decision
            else:
                paper = f"P{len(shown):04d}"
        by_title.setdefault(key, paper)
        for k in keys:
            papers = blocks.setdefault(k, [])
            if paper not in papers:
                papers.append(paper)
        shown[paper] = (rec.title, rec.abstract)
        out.predicted[rec.id] = paper
    return out


def _pairs(counts: Iterable[int]) -> int:
    return sum(n * (n - 1) // 2 for n in counts)


def pairwise(records: Sequence[Record], predicted: dict[str, str]) -> tuple[float, float]:
    """Pairwise precision and recall of predicted clusters against the true ones."""
    both = _pairs(Counter((r.paper, predicted[r.id]) for r in records).values())
    pred = _pairs(Counter(predicted[r.id] for r in records).values())
    true = _pairs(Counter(r.paper for r in records).values())
    return (both / pred if pred else 1.0), (both / true if true else 1.0)


def mistakes(records: Sequence[Record], predicted: dict[str, str]) -> list[str]:
    """One line per wrongly merged or missed record (relative to the first of its cluster)."""
    first_true: dict[str, Record] = {}
    first_pred: dict[str, Record] = {}
    lines = []
    for r in records:
        t, p = first_true.setdefault(r.paper, r), first_pred.setdefault(predicted[r.id], r)
        if p.paper != r.paper:
            lines.append(f"merged {r.id} [{r.kind}] {r.title[:60]!r} into {p.title[:60]!r}")
        elif predicted[t.id] != predicted[r.id]:
            lines.append(f"missed {r.id} [{r.kind}] {r.title[:60]!r} vs {t.title[:60]!r}")
    return lines


def main() -> None:
    """Regenerate the committed data and print a summary."""
    records = build()
    write(records)
    kinds = Counter(r.kind.split(":")[0].split("+")[0] for r in records)
    print(f"wrote {len(records)} records to {DATA.relative_to(ROOT)}")
    print("kinds:", dict(sorted(kinds.items())))
    outcome = simulate(records)
    precision, recall = pairwise(records, outcome.predicted)
    print(f"precision {precision:.4f} recall {recall:.4f}")
    for line in mistakes(records, outcome.predicted):
        print(" ", line)


if __name__ == "__main__":
    main()
