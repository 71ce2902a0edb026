"""The realistic corpus shape of ``benchmarks/generate.py`` (``--shape realistic``).

Input: the friendly generator's vocabulary, plan and papers (``generate.paper``: a pure
function of ``(seed, file, position)``). Output: the (title, abstract) pairs of one
listing and, for each, its ground truth: which paper it is (``FILE:POS`` of the slot
that first listed it) and what kind of sighting it is.

What differs from the friendly shape, as real listings differ:

- common phrasing: a fifth of the titles follow a field template (``Towards ...``,
  ``Rethinking ...``, ``...: A Survey``, ``... for Multi-Agent Optimization``) and every
  abstract holds two to four stock sentences shared across papers (``Extensive
  experiments demonstrate that our method outperforms state-of-the-art baselines.``),
  some with a slot for the task, so blocking keys are shared by many papers;
- near-miss distinct papers (about 5% of the new slots): an earlier paper's title with
  another method name, a number, a version or size marker (``X-2``, ``X++``, ``X v2``,
  ``X-XL``), a Greek letter, ``Part II`` or ``A Survey of``, and an abstract that keeps
  about half of the earlier one's sentences: related text, a different paper, never to
  be merged;
- repeats (about 20% of the slots, as in the friendly shape): a quarter keep the exact
  title key (verbatim or perturbed in form, as in the friendly shape); half change the
  title in form only (hyphenation, British spelling, a plural, a one-letter typo in a
  long word, a function word added or dropped, two words swapped), with the abstract
  as printed or revised (a sentence edited, one added or removed: a v2), which only the
  ``fuzzy`` rule joins; a quarter are retitled (a word added or removed) on the same
  abstract with at most one sentence edited, which only the
  ``abstract`` rule joins.

Ground truth, one line per entry: ``POS<TAB>PAPER<TAB>KIND`` with PAPER the
``FILE:POS`` of the paper's first slot and KIND one of ``new``, ``sibling`` (a near-miss
distinct paper), ``exact``, ``fuzzy``, ``abstract`` (a repeat and the rule it needs).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import generate
from generate import REPEAT_SHARE, Plan, Vocabulary, _values, paper

SIBLING_SHARE = 13
"""Out of 256 (the flag bytes after REPEAT_SHARE): about 5% of the slots are near-miss
distinct papers."""
KINDS = ("new", "sibling", "exact", "fuzzy", "abstract")

STOCK = (
    "Extensive experiments demonstrate that our method outperforms state-of-the-art baselines.",
    "In this paper, we propose a novel framework to address these challenges.",
    "However, existing methods suffer from high computational cost and limited scalability.",
    "Large language models have demonstrated remarkable capabilities across a wide range of tasks.",
    "Despite their success, these models remain difficult to deploy in resource-constrained "
    "settings.",
    "Our results highlight the importance of careful data curation for building robust systems.",
    "We hope this work will serve as a strong baseline and inspire future research in this "
    "direction.",
    "Recent advances in deep learning have led to significant progress in this area.",
    "Our method is simple to implement and can be easily integrated into existing pipelines.",
    "Ablation studies further confirm the contribution of each component of the proposed "
    "framework.",
    "Experimental results on a wide range of benchmarks show that our approach achieves "
    "competitive performance with significantly lower computational cost and memory "
    "footprint than prior work.",
    "To address this issue, we introduce a simple yet effective approach that requires no "
    "additional training data, no architectural changes and no hyperparameter tuning whatsoever.",
    "Furthermore, we provide a thorough theoretical analysis that explains the empirical behavior "
    "we observe and offers practical guidance for practitioners deploying such systems at scale.",
    "Comprehensive evaluations across model families, sizes and domains show consistent "
    "improvements over strong baselines in every setting we consider, often by a large margin.",
)
"""Sentences real abstracts share word for word (the last four as long as the longest
sentences of an abstract, so that they are among those a paper's blocking keys hash)."""
STOCK_TASK = (
    "Extensive experiments on {task} benchmarks demonstrate that our method consistently "
    "outperforms state-of-the-art baselines by a large margin while requiring significantly "
    "less computation.",
    "We evaluate our approach on a diverse suite of {task} tasks and show that it achieves "
    "state-of-the-art results while remaining efficient, robust and easy to integrate into "
    "existing systems.",
    "Recent work on {task} has largely focused on scaling model size and training data, leaving "
    "open the question of how to make such systems efficient and reliable in practice.",
    "We release a new large-scale benchmark for {task}, together with a thorough evaluation of "
    "existing methods that reveals their limitations and points to promising directions.",
)
"""Long stock sentences with a slot, in two thirds of the abstracts: one is shared by
about N / 840 papers (a block that grows with the corpus)."""
STOCK_TASK_METHOD = (
    "Compared with existing {method} methods for {task}, our approach reduces the computational "
    "cost substantially while matching or exceeding their accuracy on every benchmark we "
    "consider.",
    "Unlike prior {method} approaches to {task}, which rely on expensive task-specific tuning, "
    "our method generalizes across settings without any additional supervision or retraining.",
    "Our analysis of {method} for {task} reveals that the main bottleneck lies not in model "
    "capacity but in how training signals are propagated, which motivates the design we propose.",
)
"""Long stock sentences with two slots, in half of the abstracts (one is shared by about
N / 17,000 papers)."""
TASKS = tuple(
    f"{a} {b}"
    for a in generate._words(
        "visual textual multilingual multimodal long-context low-resource open-domain "
        "medical legal scientific mathematical conversational embodied robotic"
    )
    for b in generate._words(
        "question answering, reasoning, retrieval, summarization, generation, "
        "classification, translation, planning, segmentation, captioning".replace(",", "")
    )
)
METHODS = generate._words(
    "transformer diffusion retrieval-augmented reinforcement-learning contrastive "
    "graph-based prompt-based distillation quantization pruning mixture-of-experts "
    "state-space adapter-based curriculum self-training preference-optimization "
    "chain-of-thought tool-augmented memory-augmented token-pruning"
)
ADDED = (
    "We further provide an ablation study that isolates the contribution of each component.",
    "In addition, we release a detailed evaluation protocol to ease future comparisons.",
    "We also discuss the limitations of our study and outline directions for future work.",
    "This version adds experiments at larger scale and corrects an error in the appendix.",
    "Experiments on two additional benchmarks confirm that the gains carry over.",
)
"""Sentences a revised version (a v2) adds."""
TITLE_TERMS = (
    *("Multi-Agent", "Self-Supervised", "Pre-Training", "Fine-Tuning", "Non-Autoregressive"),
    *("Semi-Supervised", "Cross-Lingual", "Long-Context", "Co-Training", "Re-Ranking"),
)
TITLE_NOUNS = (
    *("Optimization", "Modeling", "Generalization", "Regularization", "Tokenization"),
    *("Summarization", "Behavior Cloning", "Color Constancy", "Labeled Data", "Visualization"),
)
BRITISH = (
    ("ization", "isation"), ("izing", "ising"), ("Modeling", "Modelling"),
    ("modeling", "modelling"), ("Behavior", "Behaviour"), ("behavior", "behaviour"),
    ("Color", "Colour"), ("color", "colour"), ("Labeled", "Labelled"), ("labeled", "labelled"),
)  # fmt: skip
FUNCTION_DROPS = (" of the ", " for the ", " with the ", " in the ", " to the ")
FILLERS = ("Efficient", "Scalable", "Simple", "Robust", "Unified", "Practical")
ADVERBS = ("further", "also", "consistently", "notably", "empirically", "substantially")
SYNONYMS = {
    "significantly": "substantially", "propose": "introduce", "method": "approach",
    "demonstrate": "show", "novel": "new", "improves": "enhances", "achieves": "attains",
    "efficient": "effective", "existing": "prior", "framework": "system",
    "results": "findings", "performance": "accuracy",
}  # fmt: skip
MARKERS = (
    *(f"{sep}{d}" for sep in ("-", " v", " ") for d in range(2, 10)),
    *("++", "-XL", "-Mini", "-Pro", "-α", "-β", "-γ", "-δ"),
)
"""What makes a named paper's sibling another paper (a sequel, a size, a Greek letter)."""
HYPHENATED = re.compile(r"\b([A-Z][a-z]+|[a-z]+)-([A-Za-z][a-z]+)\b")
LONG_WORD = re.compile(r"\b[a-z]{9,}\b")
NAMED = re.compile(r"^([A-Z][A-Za-z]+(?:-\d)?): ")


def _lower_first(title: str) -> str:
    return title[:1].lower() + title[1:] if title[1:2].islower() else title


def _sentences(abstract: str) -> list[str]:
    return generate.SENTENCE.split(abstract)


# --- new papers ---------------------------------------------------------------------------


def base(vocab: Vocabulary, seed: int, file: int, pos: int) -> tuple[str, str]:
    """The friendly paper at ``(file, pos)`` in the field's common phrasing: a title
    template for some, stock sentences in every abstract."""
    title, abstract = paper(vocab, seed, file, pos)
    r = _values(seed, b"real", file, pos, count=24)
    named = NAMED.match(title)
    head, body = (title[: named.end()], title[named.end() :]) if named else ("", title)
    form = r[0] % 100
    if form < 6:
        body = "Towards " + _lower_first(body)
    elif form < 9:
        body = "Rethinking " + _lower_first(body)
    elif form < 12 and not named:
        body += ": A Survey"
    elif form < 15:
        body = "A Unified Framework for " + _lower_first(body)
    if r[1] % 10 < 4:
        term, noun = TITLE_TERMS[r[2] % len(TITLE_TERMS)], TITLE_NOUNS[r[3] % len(TITLE_NOUNS)]
        body += f" for {term} {noun}"
    sentences = _sentences(abstract)
    stock = [STOCK[r[4 + i] % len(STOCK)] for i in range(1 + r[8] % 3)]
    task = TASKS[r[10] % len(TASKS)]
    if r[9] % 3:
        stock.append(STOCK_TASK[r[11] % len(STOCK_TASK)].format(task=task))
    if r[9] & 4:
        method = METHODS[r[13] % len(METHODS)]
        template = STOCK_TASK_METHOD[r[14] % len(STOCK_TASK_METHOD)]
        stock.append(template.format(task=task, method=method))
    for i, sentence in enumerate(stock):
        sentences.insert(r[16 + i] % (len(sentences) + 1), sentence)
    return head + body, " ".join(sentences)


def original(vocab: Vocabulary, plan: Plan, file: int, pos: int) -> tuple[str, str]:
    """The text of the paper first listed at ``(file, pos)`` (a new slot)."""
    flag = plan.repeats(file)[pos]
    if REPEAT_SHARE <= flag < REPEAT_SHARE + SIBLING_SHARE:
        return sibling(vocab, plan, file, pos)
    return base(vocab, plan.seed, file, pos)


def sibling(vocab: Vocabulary, plan: Plan, file: int, pos: int) -> tuple[str, str]:
    """A near-miss distinct paper: an earlier paper's title with another name, number or
    marker; half of that paper's sentences, the rest its own."""
    v = _values(plan.seed, b"sibling", file, pos, count=64)
    model = plan.source(file, pos, v, REPEAT_SHARE + SIBLING_SHARE)
    title, abstract = base(vocab, plan.seed, *model)
    _, own = base(vocab, plan.seed, file, pos)
    named = NAMED.match(title)
    choice = v[40] % 16
    if named and choice < 12:
        name = named[1]
        new = (
            vocab.names[v[41] % len(vocab.names)]
            if choice < 3 or name == vocab.names[v[41] % len(vocab.names)]
            else name + MARKERS[v[42] % len(MARKERS)]
        )
        title = new + title[len(name) :]
    else:
        body = title[named.end() :] if named else title
        options = (
            f"{title}, Part {('II', 'III', 'IV')[v[42] % 3]}",
            f"A Survey of {_lower_first(body)}",
            f"Benchmarking {_lower_first(body)}",
        )
        marked = f"{vocab.names[v[41] % len(vocab.names)]}{MARKERS[v[42] % len(MARKERS)]}: {body}"
        title = options[choice % 8] if choice % 8 < len(options) else marked
    theirs, mine = _sentences(abstract), _sentences(own)
    # Keep 30-55% of their sentences (never enough for the abstract rule's 85%).
    kept = len(theirs) * (30 + v[43] % 26) // 100
    order = sorted(range(len(theirs)), key=lambda i: (v[44 + i % 20], i))
    for n, i in enumerate(order[kept:]):
        theirs[i] = mine[n % len(mine)]
    return title, " ".join(theirs)


# --- repeats ------------------------------------------------------------------------------


def form_edit(title: str, v: memoryview) -> str:
    """The title changed in form only (what the ``fuzzy`` rule forgives)."""
    options: list[str] = []
    if m := HYPHENATED.search(title):
        joined = m[1] + (m[2].lower() if v[0] & 1 else " " + m[2])
        options.append(title[: m.start()] + joined + title[m.end() :])
    for us, uk in BRITISH:
        if us in title:
            options.append(title.replace(us, uk, 1))
            break
    words = title.split(" ")
    last = words[-1]
    if last.isalpha() and len(last) >= 5 and last[1:].islower() and not last.endswith("ss"):
        plural = last[:-1] if last.endswith("s") else last + "s"
        options.append(" ".join([*words[:-1], plural]))
    if long := LONG_WORD.findall(title):
        w = long[v[1] % len(long)]
        i = 2 + v[2] % (len(w) - 4)
        typo = w[:i] + w[i] + w[i:] if v[0] & 2 else w[:i] + w[i + 1 :]
        options.append(title.replace(w, typo, 1))
    for fw in FUNCTION_DROPS:
        if fw in title:
            options.append(title.replace(fw, fw[:-4] + " ", 1))
            break
    named = NAMED.match(title)
    cut = named.end() if named else 0
    if title[cut:].startswith("Towards "):
        rest = title[cut + len("Towards ") :]
        options.append(title[:cut] + rest[:1].upper() + rest[1:])
    else:
        options.append(title[:cut] + "Towards " + _lower_first(title[cut:]))
    swappable = [
        i
        for i in range(len(words) - 1)
        if words[i].isalpha() and words[i + 1].isalpha() and words[i][:1].isupper()
        and words[i + 1][:1].isupper() and len(words[i]) > 3 and len(words[i + 1]) > 3
    ]  # fmt: skip
    if swappable:
        i = swappable[v[3] % len(swappable)]
        options.append(" ".join([*words[:i], words[i + 1], words[i], *words[i + 2 :]]))
    return options[v[4] % len(options)]


def retitle(title: str, v: memoryview) -> str:
    """The title changed in content (a version renamed by its authors): a word removed
    or added (never the name dropped: a near-miss paper would get its model's title)."""
    words = title.split(" ")
    if v[0] % 2 and len(words) > 4:
        i = 1 + v[1] % (len(words) - 1)
        return " ".join(words[:i] + words[i + 1 :])
    i = 1 + v[1] % len(words)
    return " ".join([*words[:i], FILLERS[v[2] % len(FILLERS)], *words[i:]])


def edit_sentence(sentence: str, v: memoryview) -> str:
    """A few words of one sentence changed: a synonym, else an adverb inserted."""
    words = sentence.split(" ")
    hits = [i for i, w in enumerate(words) if w.lower() in SYNONYMS]
    if hits:
        i = hits[v[0] % len(hits)]
        words[i] = SYNONYMS[words[i].lower()]
    else:
        words.insert(1 + v[1] % max(1, len(words) - 1), ADVERBS[v[2] % len(ADVERBS)])
    return " ".join(words)


def revise(abstract: str, ops: int, v: memoryview) -> str:
    """A revised abstract: ``ops`` bit 1 edits a sentence, bit 2 adds one, bit 4 drops one
    (never the first)."""
    sentences = _sentences(abstract)
    if ops & 1:
        i = v[0] % len(sentences)
        sentences[i] = edit_sentence(sentences[i], v[1:])
    if ops & 2:
        sentences.insert(1 + v[4] % len(sentences), ADDED[v[5] % len(ADDED)])
    if ops & 4 and len(sentences) > 4:
        del sentences[1 + v[6] % (len(sentences) - 1)]
    return " ".join(sentences)


def entries(vocab: Vocabulary, plan: Plan, file: int, size: int) -> Iterator[tuple[str, str, str]]:
    """The (title, abstract, truth) triples of listing ``file``, in order; truth is the
    ground-truth line without its position: ``PAPER<TAB>KIND``."""
    flags = plan.repeats(file)
    for pos in range(size):
        if flags[pos] >= REPEAT_SHARE:
            kind = "sibling" if flags[pos] < REPEAT_SHARE + SIBLING_SHARE else "new"
            yield (*original(vocab, plan, file, pos), f"{file}:{pos}\t{kind}")
            continue
        v = _values(plan.seed, b"repeat", file, pos, count=64)
        src = plan.source(file, pos, v)
        title, abstract = original(vocab, plan, *src)
        r = _values(plan.seed, b"edit", file, pos, count=24)
        choice = r[0] % 4
        if choice == 0:
            kind = "exact"
            if v[63] & 1:
                ops = bytearray(v[40:])
                if "\\" in title:  # LaTeX commands are case-sensitive: \TIMES is not \times
                    ops[0] &= 0xFE
                title, abstract = generate.perturb(title, abstract, memoryview(ops))
        elif choice < 3:
            kind = "fuzzy"
            title = form_edit(title, r[1:])
            abstract = revise(abstract, r[6] % 8, r[7:])
        else:
            kind = "abstract"
            title = retitle(title, r[1:])
            abstract = revise(abstract, r[6] & 1, r[7:])
        yield title, abstract, f"{src[0]}:{src[1]}\t{kind}"
