"""Near-duplicate identity (digest.identity): the labelled set, named hard cases, properties.

The labelled set is tests/data/identity_pairs.jsonl, made by tests/identity_set.py
(regenerate only by running that script).
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from identity_set import Record, load, mistakes, pairwise, seed_papers, simulate

from digest.identity.keys import block_keys
from digest.identity.matching import Candidate, Decision, decide, guard
from digest.normalize import title_key

SEEDS = {title_key(t): (t, a) for t, a in seed_papers()}


def seed(title: str) -> tuple[str, str]:
    """A real seed paper by its title."""
    return SEEDS[title_key(title)]


def one(title: str, abstract: str, other: tuple[str, str]) -> Decision | None:
    return decide(title, abstract, [Candidate("p1", *other)])


@pytest.fixture(scope="module")
def records() -> list[Record]:
    return load()


# --- the labelled set ---------------------------------------------------------------------


def test_labelled_set_precision_and_recall(records: list[Record]) -> None:
    outcome = simulate(records)
    precision, recall = pairwise(records, outcome.predicted)
    rules = Counter(d.rule for d in outcome.decisions.values())
    print(
        f"\nidentity set: {len(records)} records, {len({r.paper for r in records})} papers; "
        f"pairwise precision {precision:.4f}, recall {recall:.4f}; decisions {dict(rules)}"
    )
    for line in mistakes(records, outcome.predicted):
        print(" ", line)
    assert precision == 1.0
    assert recall >= 0.99
    # Both rules carry weight, and blocking keeps the candidate lists short.
    assert rules["fuzzy"] >= 20 and rules["abstract"] >= 100
    assert max(outcome.candidates) <= 20


def test_labelled_set_is_consistent(records: list[Record]) -> None:
    by_id = {r.id: r for r in records}
    assert len(by_id) == len(records)
    seen: set[str] = set()
    key_paper: dict[str, str] = {}
    for r in records:
        # No two papers share a title key (the store would merge them before us).
        assert key_paper.setdefault(title_key(r.title), r.paper) == r.paper, r.id
        if r.of is not None:
            # A version never comes before its origin (a sibling may).
            assert r.of in seen or not r.same, f"{r.id} comes before the record it was made from"
            assert (by_id[r.of].paper == r.paper) is r.same, r.id
        seen.add(r.id)
    kinds = Counter(r.kind.split(":")[0].split("+")[0] for r in records)
    for kind in ("form", "form-same-abstract", "retitled", "retitled-same-abstract",
                 "respelled", "no-abstract", "third-version", "sequel-2", "plusplus",
                 "part", "greek", "model-swap", "survey", "domain"):  # fmt: skip
        assert kinds[kind] >= 3, kind
    styles = Counter(r.kind.rsplit("+", 1)[-1] for r in records if r.same is False)
    assert styles["group"] >= 50 and styles["collage"] >= 30 and styles["rewrite"] >= 30


# --- guard: named hard cases --------------------------------------------------------------

MUST_NOT_MERGE = [
    ("FlashDecoding++: Faster Large Language Model Inference on GPUs",
     "FlashDecoding: Faster Large Language Model Inference on GPUs", "sequel markers"),
    ("Mamba: Linear-Time Sequence Modeling with Selective State Spaces",
     "Mamba 2: Linear-Time Sequence Modeling with Selective State Spaces", "numbers"),
    ("Mamba: Linear-Time Sequence Modeling", "Mamba-2: Linear-Time Sequence Modeling", "numbers"),
    ("Mamba: Linear-Time Sequence Modeling", "Mamba2: Linear-Time Sequence Modeling", "numbers"),
    ("FastSpeech: Fast, Robust and Controllable Text to Speech",
     "FastSpeech v2: Fast, Robust and Controllable Text to Speech", "numbers"),
    ("Predictable Scale: Part I -- Optimal Hyperparameter Scaling Law",
     "Predictable Scale: Part II -- Optimal Hyperparameter Scaling Law", "numbers"),
    ("Predictable Scale -- Optimal Hyperparameter Scaling Law",
     "Predictable Scale: Part II -- Optimal Hyperparameter Scaling Law", "numbers"),
    ("PUMA: Secure Inference of LLaMA-7B in Five Minutes",
     "PUMA: Secure Inference of LLaMA-13B in Five Minutes", "numbers"),
    ("PixArt-$α$: Fast Training of Diffusion Transformer",
     "PixArt-Σ: Fast Training of Diffusion Transformer", "Greek"),
    ("PixArt-$\\alpha$: Fast Training of Diffusion Transformer",
     "PIXART-δ: Fast Training of Diffusion Transformer", "Greek"),
    ("A Survey on Mixture of Experts", "Mixture of Experts", "kind of paper"),
    ("Model Compression and Efficient Inference for Large Language Models: A Survey",
     "Model Compression and Efficient Inference for Large Language Models", "kind of paper"),
    ("Fine-Tuning BERT for Sentiment Analysis", "Fine-Tuning RoBERTa for Sentiment Analysis",
     "names"),
    ("Mixtral of Experts", "Mistral of Experts", "words"),
    ("LLaVA: Visual Instruction Tuning", "LLaMA: Visual Instruction Tuning", "names"),
    ("Vision Mamba: Efficient Visual Representation Learning",
     "Mamba: Efficient Visual Representation Learning", "words"),
    ("GPT-4 Beats Llama-2", "GPT-2 Beats Llama-4", "order"),
    ("Efficient LLM Inference with Quantization", "Efficient LLM Inference without Quantization",
     "words"),
]  # fmt: skip

MAY_MERGE = [
    ("Pre-Trained Models for Optimisation", "Pretrained Model for Optimization"),
    ("Towards Scalable Modelling of Everything", "Scalable Modeling of Everything"),
    ("Scallable Modeling of Everything", "Scalable Modeling of Everything"),
    ("Model Compression: A Survey", "A Survey on Model Compression"),
    ("QMoE: Practical Sub-1-Bit Compression", "QMoE: Practical Sub1-Bit Compression"),
    ("Multi-Modal Colour Labelling", "Multimodal Color Labeling"),
    ("PixArt-$\\alpha$: Fast Training", "PIXART-α: fast training."),
]


@pytest.mark.parametrize(("a", "b", "why"), MUST_NOT_MERGE)
def test_guard_names_the_difference(a: str, b: str, why: str) -> None:
    reason, back = guard(a, b), guard(b, a)
    assert reason is not None and why in reason
    assert back is not None
    what, shown = reason.split(": ", 1)
    assert back == f"{what}: " + " vs ".join(reversed(shown.split(" vs ")))


@pytest.mark.parametrize(("a", "b"), MAY_MERGE)
def test_guard_lets_form_changes_through(a: str, b: str) -> None:
    assert guard(a, b) is None
    assert guard(b, a) is None


# --- decide: named hard cases -------------------------------------------------------------

FLASH = seed("FlashDecoding++: Faster Large Language Model Inference on GPUs")


def _sibling_abstract(abstract: str) -> str:
    """The first third of ``abstract`` (a shared problem statement), then other work."""
    sentences = re.split(r"(?<=\.) ", abstract)
    other = seed("Medusa: Simple LLM Inference Acceleration Framework with Multiple Decoding Heads")
    return " ".join(sentences[: len(sentences) // 3] + re.split(r"(?<=\.) ", other[1])[3:])


def test_sequel_with_a_related_abstract_is_another_paper() -> None:
    abstract = _sibling_abstract(FLASH[1]).replace("FlashDecoding++", "FlashDecoding")
    assert (
        one("FlashDecoding: Faster Large Language Model Inference on GPUs", abstract, FLASH) is None
    )


@pytest.mark.parametrize("new_title", [t for t, _, _ in MUST_NOT_MERGE[:10]])
def test_marked_titles_with_sibling_abstracts_stay_apart(new_title: str) -> None:
    title, abstract = FLASH
    assert one(new_title, _sibling_abstract(abstract), (title + " 2", abstract)) is None


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Compact 3D Gaussian Splatting for Static and Dynamic Radiance Fields",
         "Compact 3D Gaussian Representation for Radiance Field"),
        ("FastSpeech: Fast, Robust and Controllable Text to Speech",
         "FastSpeech 2: Fast and High-Quality End-to-End Text to Speech"),
        ("DPM-Solver: A Fast ODE Solver for Diffusion Probabilistic Model Sampling in Around "
         "10 Steps",
         "DPM-Solver++: Fast Solver for Guided Sampling of Diffusion Probabilistic Models"),
        ("Mamba: Linear-Time Sequence Modeling with Selective State Spaces",
         "MambaMixer: Efficient Selective State Space Models with Dual Token and Channel "
         "Selection"),
    ],
)  # fmt: skip
def test_real_look_alikes_stay_apart(a: str, b: str) -> None:
    # The first pair shares its project page and 76% of its abstract text.
    assert one(*seed(a), seed(b)) is None
    assert one(*seed(b), seed(a)) is None


def test_same_abstract_with_another_title_is_the_same_paper() -> None:
    decision = one("FlashDecoding: Faster LLM Inference on GPUs", FLASH[1], FLASH)
    assert decision is not None
    assert (decision.paper_id, decision.rule, decision.score) == ("p1", "abstract", 1.0)
    assert decision.reason.endswith("though sequel markers differ: none vs ++")


def test_near_identical_abstract_survives_a_code_sentence_and_an_added_one() -> None:
    abstract = FLASH[1].replace("significantly", "substantially") + (
        " We also discuss the limitations of our study and outline future work."
        " Code is available at https://github.com/example/flashdecoding."
    )
    decision = one("FlashDecoding++: Fast LLM Inference on GPUs", abstract, FLASH)
    assert decision is not None and decision.rule == "abstract" and decision.score >= 0.9


def test_respelled_title_with_a_revised_abstract_is_fuzzy() -> None:
    title, abstract = seed("Pre-gated MoE: An Algorithm-System Co-Design for Fast and Scalable "
                           "Mixture-of-Expert Inference")  # fmt: skip
    sentences = re.split(r"(?<=\.) ", abstract)
    revised = " ".join(
        [
            *sentences[:2],
            "Unlike earlier work, our method needs neither extra data nor new training.",
            *sentences[5:],
            "We also discuss the limitations of our study and outline future work.",
        ]
    )
    new_title = title.replace("Co-Design", "Codesign").replace(
        "Mixture-of-Expert", "Mixture-of-Experts"
    )
    decision = one(new_title, revised, (title, abstract))
    assert decision is not None and decision.rule == "fuzzy"
    assert 0.4 <= decision.score < 0.85
    assert decision.reason.startswith("the titles differ only in form")


def test_missing_abstract_merges_only_an_equal_in_form_title() -> None:
    title, abstract = FLASH
    assert one(title.replace("GPUs", "GPU").upper(), "", FLASH) is not None
    assert one("FlashDecoding: Faster Large Language Model Inference on GPUs", "", FLASH) is None
    assert one(title, abstract, ("FlashDecoding 2: " + title.split(": ")[1], "")) is None


def test_unrelated_abstracts_block_even_equal_titles() -> None:
    other = seed("Medusa: Simple LLM Inference Acceleration Framework with Multiple Decoding Heads")
    assert one(FLASH[0] + ".", other[1], FLASH) is None


def test_length_alone_rejects_only_below_the_threshold() -> None:
    # Similarity is at most 2 * shorter / (shorter + longer): 30 words inside 120 reach
    # exactly ABSTRACT_RELATED (0.4), inside 121 they cannot.
    ours = " ".join(f"word{i}" for i in range(30))
    title = "Scalable Modeling of Everything"
    for extra, expected in ((90, 0.4), (91, None)):
        theirs = ours + " " + " ".join(f"other{i}" for i in range(extra))
        for a, b in ((ours, theirs), (theirs, ours)):
            decision = one(title, a + ".", (title, b + "."))
            assert (decision and decision.score) == expected, (extra, decision)


def test_decide_picks_the_best_candidate_and_handles_none() -> None:
    assert decide(*FLASH, []) is None
    medusa = seed(
        "Medusa: Simple LLM Inference Acceleration Framework with Multiple Decoding Heads"
    )
    cands = [
        Candidate("medusa", *medusa),
        Candidate("fuzzy", FLASH[0], _sibling_abstract(FLASH[1])[:-1] + FLASH[1][-400:]),
        Candidate("same", FLASH[0].upper(), FLASH[1]),
    ]
    decision = decide(FLASH[0], FLASH[1], cands)
    assert decision is not None and decision.paper_id == "same"
    assert decide(FLASH[0], FLASH[1], cands[:1]) is None


# --- block_keys ---------------------------------------------------------------------------

KEY = re.compile(r"^[ta][0-9a-f]{12}$")


def test_block_keys_are_short_bounded_and_shared_by_versions(records: list[Record]) -> None:
    by_id = {r.id: r for r in records}
    shared = 0
    positives = [r for r in records if r.same]
    for r in records:
        keys = block_keys(r.title, r.abstract)
        assert 1 <= len(keys) <= 9 and all(KEY.match(k) for k in keys)
        assert keys == sorted(set(keys))
    for r in positives:
        o = by_id[r.of or ""]
        shared += bool(set(block_keys(r.title, r.abstract)) & set(block_keys(o.title, o.abstract)))
    assert shared / len(positives) >= 0.99
    # Unrelated seed papers rarely meet.
    seeds = [r for r in records if r.kind == "seed"]
    index: dict[str, int] = Counter(k for r in seeds for k in block_keys(r.title, r.abstract))
    assert max(index.values()) <= 5
    meeting = sum(n * (n - 1) // 2 for n in index.values())
    assert meeting / (len(seeds) * (len(seeds) - 1) // 2) < 0.001


def _t_key(skeleton: str) -> str:
    return "t" + hashlib.blake2b(skeleton.encode(), digest_size=6).hexdigest()


def test_a_bare_name_before_a_colon_gets_no_key_of_its_own() -> None:
    # A name alone is shared by sequels and namesakes (Mamba, Mamba-2, Mamba: another
    # subtitle): the synthetic corpus's 4096 names made it most of all candidates.
    keys = block_keys("Mamba: Linear-Time Sequence Modeling with Selective State Spaces", "")
    assert _t_key("mamba") not in keys
    assert _t_key("lineartimesequencemodelingselectivestatespace") in keys
    keys = block_keys("Vision Mamba: Efficient Visual Representation Learning", "")
    assert _t_key("visionmamba") in keys


def test_caches_are_bounded() -> None:
    from digest.identity import keys as identity

    for name in ("_abstract_keys", "_abstract_words", "_parse", "_title", "_plain",
                 "_content", "_canon"):  # fmt: skip
        assert getattr(identity, name).cache_info().maxsize, name


def test_stored_texts_are_judged_by_hash_with_a_bounded_memory(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from digest.identity import keys as identity

    monkeypatch.setattr(identity, "COMPARED_TEXTS", 2)
    monkeypatch.setattr(identity, "_stored_ids", identity.OrderedDict())
    title, abstract = FLASH
    plain = decide(title, abstract, [Candidate("p", title.upper(), abstract + " Revised.")])
    stored = [Candidate(f"p{i}", title.upper(), abstract + " Revised.", f"h{i}") for i in range(3)]
    decision = decide(title, abstract, stored)
    # Word ids compare as the words do; the first of equal candidates wins.
    assert plain is not None and decision is not None
    assert (decision.paper_id, decision.rule, decision.score) == ("p0", plain.rule, plain.score)
    assert list(identity._stored_ids) == ["h1", "h2"]  # the least recently used went
    kept = identity._stored_ids["h2"]
    # A stored text is parsed once: the hash stands for the text.
    assert identity.stored_ids("h2", "another abstract entirely") is kept
    # Past VOCABULARY words the ids start over, between two comparisons.
    monkeypatch.setattr(identity, "VOCABULARY", 10)
    again = decide(title, abstract, stored)
    assert again is not None and (again.rule, again.score) == (plain.rule, plain.score)
    assert len(identity._stored_ids) == 2 and identity._stored_ids["h2"] is not kept


# --- properties ---------------------------------------------------------------------------

TITLES = sorted(t for t, _ in SEEDS.values())
ABSTRACTS = [a for _, a in SEEDS.values()]
ALPHABET = st.characters(
    codec="utf-8",
    categories=("Lu", "Ll", "Nd"),
    exclude_characters="ıİſǅǈǋǲẞΐΰ",  # case mappings that change the folded text
) | st.sampled_from(list(" :-+'\"().,&$"))
DASHES = "-–—‐"
QUOTES = {"'": "’", '"': "“", "’": "'", "“": '"', "”": '"', "‘": "'"}


@st.composite
def perturbed(draw: st.DrawFn, title: str) -> str:
    """``title`` changed in case, whitespace, dashes and quotes only (LaTeX command names
    keep their case: ``\\cdot`` and ``\\cdoT`` are different commands)."""
    out: list[str] = []
    in_command = False
    for ch in title:
        in_command = ch.isalpha() and (in_command or (out[-1:] == ["\\"]))
        if in_command:
            pass
        elif ch == " ":
            ch = draw(st.sampled_from([" ", "  ", "\n", " \t", "\r\n"]))
        elif ch in DASHES:
            ch = draw(st.sampled_from(DASHES))
        elif ch in QUOTES:
            ch = draw(st.sampled_from([ch, QUOTES[ch]]))
        elif ch.isalpha():
            ch = draw(st.sampled_from([ch, ch.upper(), ch.lower()]))
        out.append(ch)
    return draw(st.sampled_from(["", " ", "\n"])) + "".join(out) + draw(st.sampled_from(["", " "]))


@st.composite
def title_and_variant(draw: st.DrawFn) -> tuple[str, str]:
    title = draw(st.sampled_from(TITLES) | st.text(ALPHABET, min_size=1, max_size=80))
    return title, draw(perturbed(title))


@settings(max_examples=300, deadline=None)
@given(title_and_variant(), st.sampled_from([*ABSTRACTS[:40], ""]))
def test_block_keys_ignore_case_whitespace_dashes_and_quotes(
    pair: tuple[str, str], abstract: str
) -> None:
    title, variant = pair
    if "$" in title:
        # A line break inside inline math ends it: then the normal form changes too.
        assume(title_key(variant) == title_key(title))
    keys = block_keys(title, abstract)
    assert keys == block_keys(title, abstract)
    assert block_keys(variant, abstract) == keys
    assert block_keys(variant, " ".join(abstract.split()).replace(". ", ".\n")) == keys


@settings(max_examples=300, deadline=None)
@given(st.text(ALPHABET, max_size=80) | st.sampled_from(TITLES))
def test_fast_title_words_agree_with_title_key(title: str) -> None:
    from digest.identity.keys import _title_words

    assert _title_words(title) == title_key(title).split()


def _pairs(records: list[Record]) -> list[tuple[Record, Record]]:
    by_id = {r.id: r for r in records}
    return [(r, by_id[r.of]) for r in records if r.of]


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_decide_and_guard_are_symmetric(records: list[Record], data: st.DataObject) -> None:
    pairs = _pairs(records)
    a, b = data.draw(st.sampled_from(pairs) | st.tuples(*[st.sampled_from(records)] * 2))
    ab = decide(a.title, a.abstract, [Candidate("b", b.title, b.abstract)])
    ba = decide(b.title, b.abstract, [Candidate("a", a.title, a.abstract)])
    assert (ab is None) == (ba is None)
    if ab is not None and ba is not None:
        assert (ab.rule, ab.score) == (ba.rule, ba.score)
    assert (guard(a.title, b.title) is None) == (guard(b.title, a.title) is None)


@settings(max_examples=300, deadline=None)
@given(st.text(st.characters(codec="ascii"), max_size=80) | st.sampled_from(TITLES))
def test_fast_title_word_splits_agree_with_the_patterns(title: str) -> None:
    from digest.identity.keys import _ASCII_CONTROL, _NON_WORD, _WORD, _raw_words, _title_words

    # The fast path is for plain ASCII titles; the others go through title_key.
    if title.isascii() and not any(c in title for c in "&$\\"):
        expected = _NON_WORD.sub(" ", _ASCII_CONTROL.sub("", title).casefold()).split()
        assert _title_words(title) == expected
    assert _raw_words(title) == _WORD.findall(title)


def _content_reference(words: list[str]) -> tuple[str, ...]:
    """digest.identity.keys._content_of without its fast path."""
    from digest.identity.keys import _content_general

    return _content_general(words)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["part", "i", "v", "x", "ii", "the", "of", "alpha", "models",
                                 "pre", "trained", "gpu", "gpus", "2", "v2", "++", "optimisation",
                                 "é", "ǅ"]), max_size=8))  # fmt: skip
def test_content_fast_path_agrees_with_the_loop(words: list[str]) -> None:
    from digest.identity.keys import _content_of

    assert _content_of(words) == _content_reference(words)


ASCII_TEXT = st.lists(
    st.sampled_from([*"aAbBzZ09 .!?,-:\n\t\r\x0b\x1c", "  ", ". ", "!A", "Ab", "http"]),
    max_size=60,
).map("".join)


@settings(max_examples=500, deadline=None)
@given(ASCII_TEXT | st.sampled_from(ABSTRACTS))
def test_ascii_sentences_agree_with_the_pattern(text: str) -> None:
    from digest.identity.keys import _SENTENCE_END, _sentences

    if any(c in text for c in "&$\\"):
        return
    collapsed = text
    if "  " in text or "\n" in text or "\t" in text or "\r" in text:
        collapsed = " ".join(text.split())
    expected = tuple(s.casefold() for s in _SENTENCE_END.split(collapsed) if s)
    assert _sentences(text) == expected


@settings(max_examples=200, deadline=None)
@given(st.text(st.characters(codec="ascii"), max_size=300) | st.sampled_from(ABSTRACTS),
       st.booleans())  # fmt: skip
def test_fast_abstract_words_agree_with_the_word_pattern(text: str, keys_first: bool) -> None:
    from digest.identity.keys import (
        _WORD,
        _abstract_keys,
        _abstract_words,
        _boilerplate,
        _parse,
        _sentences,
    )

    for cached in (_parse, _abstract_keys, _abstract_words):
        cached.cache_clear()
    if keys_first:  # then the words reuse what the keys found out about boilerplate
        _abstract_keys(text)
    kept = " ".join(s for s in _sentences(text) if not _boilerplate(s))
    assert list(_abstract_words(text)) == _WORD.findall(kept)
