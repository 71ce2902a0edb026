"""The rule language: syntax, scoring and themes, validation with positions, regex hazards,
the fingerprint, ``check``/``explain`` output, and the fast matcher against a naive
reference (hypothesis)."""

from __future__ import annotations

import re
import shutil
import sys
import textwrap
import unicodedata
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from digest.cli import cli
from digest.config import load_config, parse_config
from digest.config.rules import parse_rules
from digest.errors import ConfigError
from digest.latex import to_unicode
from digest.matcher import _word_text
from digest.regex import UserPattern, compile_user
from digest.rules import RuleSet
from digest.terms import FIELDS, fold, hazard
from digest.yamlsrc import Source, load

EXAMPLE = Path(__file__).resolve().parent.parent / "feeds" / "example"


def rules_of(text: str) -> RuleSet:
    data, source, problems = load(textwrap.dedent(text), "feed.yaml")
    assert not problems
    ruleset, problems = parse_rules(data, source)
    assert ruleset is not None, [str(p) for p in problems]
    return ruleset


def problems_of(text: str) -> list[str]:
    data, source, problems = load(textwrap.dedent(text), "feed.yaml")
    ruleset, more = parse_rules(data, source)
    assert ruleset is None
    return [str(p) for p in problems + more]


def one_term(term: Any) -> RuleSet:
    ruleset, problems = parse_rules({"tags": {"t": {"any": [term]}}}, Source("x"))
    assert ruleset is not None, [str(p) for p in problems]
    return ruleset


# -- syntax --------------------------------------------------------------------------------

MATCHES = [
    # term, title, abstract, matched?
    ("diffusion", "Latent Diffusion Models", "", True),
    ("diffusion", "Diffusions everywhere", "", False),  # word boundaries
    ("diffusion", "", "non-diffusion baselines", True),  # hyphen is a boundary
    ("language model", "Large language-models", "", False),
    ("language model", "A language-model", "", True),
    ("language model", "A Language  Model", "", True),
    ("language model", "A language—model", "", True),  # em dash
    ("language-model", "a language model", "", True),
    ("text-to-image", "Text to image synthesis", "", True),
    ("text-to-image", "text_to/image", "", True),
    ("quantiz*", "Quantized LLMs", "", True),
    ("quantiz*", "Quantization", "", True),
    ("quantiz*", "Dequantize", "", False),
    ("kv-cache*", "KV caches", "", True),
    ("low bit* model", "a low bitwidth model", "", True),
    ("low bit* model", "low bit models", "", False),
    ("case:MoE", "Sparse MoE layers", "", True),
    ("case:MoE", "sparse moe layers", "", False),
    ("case:MoE", "MoEs", "", False),
    ("case:MoE", "Homoeopathy", "", False),
    ("case:MoE*", "MoEs", "", True),
    ("title:survey", "A Survey of LLMs", "", True),
    ("title:survey", "LLMs", "We survey LLMs.", False),
    ("abstract:survey", "A Survey", "", False),
    ("abstract:survey", "", "We survey LLMs.", True),
    ("re:gpt ?4o?\\b", "GPT 4o is here", "", True),
    ("re:gpt ?4o?\\b", "gpt4", "", True),
    ("case:re:\\bRL\\b", "rl", "", False),
    ("re:mod\\w+", "Modèle", "", True),  # \w is Unicode, as in Python (re2's is ASCII)
    ("re:\\d+d\\b", "3dι", "", True),  # \b is re2's: next to an ASCII word character
    ("re:\\d+ème", "٣ème", "", True),  # \d is Unicode, as in Python (an Arabic-Indic 3)
    ("c++", "Written in C++.", "", True),
    ("pixart-α", "PixArt-$\\alpha$: Fast Training", "", True),  # LaTeX read as Unicode
    ("naïve bayes", "nai\u0308ve Bayes", "", True),  # NFKC
    ("llm", "ＬＬＭ", "", True),  # full-width letters
    ("straße", "STRASSE", "", True),  # case folding
    ({"term": "MoE", "case": True, "field": "title"}, "MoE", "", True),
    ({"term": "MoE", "case": True, "field": "title"}, "", "MoE", False),
    ({"term": "title:x"}, "a title:x here", "", True),  # the mapping form is literal
    ({"regex": "mixture[ ]of[ ]experts?"}, "Mixture-of-Expert", "", True),
]


@pytest.mark.parametrize(("term", "title", "abstract", "expected"), MATCHES)
def test_term_syntax(term: Any, title: str, abstract: str, expected: bool) -> None:
    assert bool(one_term(term).tag(title, abstract).tags) is expected


def test_all_none_min_score_and_weights() -> None:
    rules = rules_of(
        """\
        tags:
          moe-llm:
            any: [mixture of experts, case:MoE]
            all: [language model*]
            none: [title:survey]
          strong:
            any: [diffusion, denoising, {term: score, weight: 2}]
            min_score: 2
          scaled:
            any: [diffusion]
            weight: 3
          titles:
            field: title
            any: [diffusion, abstract:denoising]
        """
    )
    tag = rules.tag
    assert tag("MoE for language models", "").tags == ("moe-llm",)
    assert tag("MoE", "").tags == ()  # 'all' missing
    assert tag("A survey of MoE language models", "").tags == ()  # 'none'
    assert "strong" not in tag("", "diffusion").tags  # score 1 < 2
    assert "strong" in tag("", "diffusion and denoising").tags
    assert "strong" in tag("", "score matching").tags  # a term of weight 2
    assert tag("", "diffusion").scores == {"scaled": 3.0}
    assert "titles" in tag("Diffusion", "").tags
    assert "titles" not in tag("", "diffusion").tags  # the tag's field: title
    assert "titles" in tag("", "denoising").tags  # a term's prefix overrides it
    tagging = tag("MoE language models with diffusion", "denoising")
    assert tagging.matches["moe-llm"] == ("case:MoE", "language model*")


def test_primary_theme_by_priority_then_score_then_order() -> None:
    rules = rules_of(
        """\
        catch_all: Elsewhere
        tags:
          a: [alpha]
          b: [beta, gamma]
          c: [gamma]
          loose: [delta]
        themes:
          - {name: A, tags: [a]}
          - {name: B, tags: [b]}
          - {name: C, tags: [c], priority: 1}
        """
    )
    assert rules.tag("alpha beta", "").theme == "A"  # equal priority and score: first
    assert rules.tag("alpha beta gamma", "").theme == "C"  # priority wins over score
    assert rules.tag("alpha beta", "gamma").ranking[1].name == "B"  # B scores 2, A 1
    assert rules.tag("delta", "").tags == ("loose",)  # a tag in no theme...
    assert rules.tag("delta", "").theme == "Elsewhere"  # ...leaves the paper untagged
    assert rules.section_names == ["A", "B", "C", "Elsewhere"]
    assert [t.name for t in rules.themes] == ["A", "B", "C"]
    assert rules.tag_many([("alpha", ""), ("", "")]) == [
        rules.tag("alpha", ""),
        rules.tag("", ""),
    ]


def test_example_feed_loads_and_tags() -> None:
    rules = load_config(EXAMPLE).rules
    tagging = rules.tag("Speculative decoding with a draft model", "We cut latency.")
    assert tagging.tags == ("speculative-decoding", "serving")
    assert tagging.theme == "Inference and serving"


@given(st.text(), st.text())
@settings(max_examples=200, deadline=None)
def test_tagging_never_raises(title: str, abstract: str) -> None:
    rules = load_config(EXAMPLE).rules
    tagging = rules.tag(title, abstract)
    assert tagging.theme in rules.section_names


def test_tagging_details_are_worked_out_on_demand_and_compared() -> None:
    rules = rules_of(
        """\
        tags:
          a: [alpha]
          b: [beta, {term: gamma, weight: 2}]
        themes:
          - {name: A, tags: [a, b]}
          - {name: B, tags: [b], priority: 1}
        """
    )
    tagging = rules.tag("alpha gamma", "beta")
    assert tagging.matches == {"a": ("alpha",), "b": ("beta", "gamma")}
    assert [(r.name, r.score, r.tags) for r in tagging.ranking] == [
        ("B", 3.0, ("b",)),
        ("A", 4.0, ("a", "b")),
    ]
    in_title, in_abstract = rules.scan("alpha gamma", "beta")
    assert rules.decide(in_title | in_abstract) == tagging
    assert rules.tag("alpha", "") != tagging
    assert "matches={'a': ('alpha',)" in repr(rules.tag("alpha", ""))
    with pytest.raises(ValueError, match="tag names must be unique"):
        RuleSet((rules.tags[0], rules.tags[0]), ())


# -- the folded text -----------------------------------------------------------------------

_SEPARATORS = "-_/‐‑‒–—―−"


def first_fold(text: str, *, keep_case: bool = False) -> str:
    """:func:`fold` as first written (one translate, one split): the fast paths of the
    matcher's fold must give the very same text."""
    text = to_unicode(text)
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
    if not keep_case:
        text = text.casefold()
    return (
        " " + " ".join(text.translate(str.maketrans(dict.fromkeys(_SEPARATORS, " "))).split()) + " "
    )


FOLD_PIECES = [
    "a", "MoE", " ", "  ", "\t", "\n", "\r\n", "\x0b", "\x1c", "\x1f", "\x85", "\xa0", "\u2028",
    "\u3000", "-", " - ", "--", "–", "—", "_", "/", "ß", "İ", "ﬁ", "Ｌ", "e\u0301", "\x00", "\x7f",
    "$\\alpha$", "\\textbf{x}", "\\%", "$5", "\u0345",
]  # fmt: skip


@given(st.lists(st.sampled_from(FOLD_PIECES)).map("".join) | st.text())
@settings(max_examples=500, deadline=None)
def test_fold_gives_the_text_of_its_first_definition(text: str) -> None:
    assert fold(text) == first_fold(text)
    assert fold(text, keep_case=True) == first_fold(text, keep_case=True)


def test_the_unicode_facts_fold_relies_on() -> None:
    """fold folds the case last and collapses spaces without splitting when the text is
    printable; the matcher lines up folded and kept text by their lengths."""

    def separator(char: str) -> bool:
        return char.isspace() or char in _SEPARATORS

    chars = [chr(i) for i in range(sys.maxunicode + 1)]
    for char in chars:
        folded = char.casefold()
        assert folded, f"{char!r} folds to nothing"
        if separator(char):
            assert folded == char, f"{char!r} is a separator that case folding changes"
        else:
            assert not any(map(separator, folded)), f"{char!r} folds to a separator"
    assert [c for c in chars if c.isspace() and c.isprintable()] == [" "]


# -- validation ----------------------------------------------------------------------------

BROKEN = """\
catch_all: 7
tags:
  llm:
    any: ["re:(unclosed", "re:(a)\\\\1", "titel:survey", "", "kv*cache", 3, "re:x*"]
    sometimes: [x]
    weight: -1
  LLM:
    any: [x, x]
    field: everywhere
  empty: {}
  mapped:
    any: [{term: a, regex: b}, {term: MoE, case: "yes", weight: zero}, {tem: x}]
    none: [{term: y, weight: 2}]
  dashes:
    any: ["re:gpt-4", "title:abstract:x"]
themes:
  - name: A
    tags: [llm, nope, llm]
  - name: a
    tags: LLM
  - {name: X, tags: [], colour: red}
  - name: Other papers
    tags: [llm]
"""


def test_every_rule_problem_is_reported_with_its_position() -> None:
    got = problems_of(BROKEN)
    expected = [
        "feed.yaml:1:12: catch_all: expected a non-empty section name, got a number",
        "feed.yaml:4:11: tags.llm.any[0]: invalid regular expression: missing ), unterminated",
        "feed.yaml:4:27: tags.llm.any[1]: re2, the linear-time engine user patterns run in, cannot",
        "feed.yaml:4:40: tags.llm.any[2]: unknown prefix 'titel:' (did you mean 'title:'?)",
        "feed.yaml:4:56: tags.llm.any[3]: empty term",
        "feed.yaml:4:60: tags.llm.any[4]: '*' may only end a word",
        "feed.yaml:4:72: tags.llm.any[5]: expected a term (text or a mapping), got a number",
        "feed.yaml:4:75: tags.llm.any[6]: the regular expression matches an empty text",
        "feed.yaml:5:5: tags.llm.sometimes: unknown key",
        "feed.yaml:6:13: tags.llm.weight: expected a number above 0 to 1000, got -1",
        "feed.yaml:7:3: tags.LLM: tag name collides with 'llm'",
        "feed.yaml:8:14: tags.LLM.any[1]: the same term as any[0]",
        "feed.yaml:9:12: tags.LLM.field: expected title, abstract or both, got the text",
        "feed.yaml:10:3: tags.empty: empty rule",
        "feed.yaml:12:11: tags.mapped.any[0]: give exactly one of 'term' (words) or 'regex'",
        "feed.yaml:12:50: tags.mapped.any[1].case: expected true or false",
        "feed.yaml:12:65: tags.mapped.any[1].weight: expected a number, got the text 'zero'",
        "feed.yaml:12:73: tags.mapped.any[2].tem: unknown key (did you mean 'term'?",
        "feed.yaml:12:72: tags.mapped.any[2]: give exactly one of 'term' (words) or 'regex'",
        "feed.yaml:13:30: tags.mapped.none[0].weight: a 'none' term has no weight",
        "feed.yaml:15:11: tags.dashes.any[0]: the regular expression looks for '-'",
        "feed.yaml:15:23: tags.dashes.any[1]: conflicting prefixes",
        "feed.yaml:18:17: themes[0].tags[1]: unknown tag 'nope'",
        "feed.yaml:18:23: themes[0].tags[2]: tag 'llm' is listed twice",
        "feed.yaml:19:11: themes[1].name: theme name collides with 'A' (another theme)",
        "feed.yaml:21:21: themes[2].tags: expected a non-empty list of tag names",
        "feed.yaml:21:25: themes[2].colour: unknown key",
        "feed.yaml:22:11: themes[3].name: theme name collides with 'Other papers' (the catch_all",
    ]
    for want in expected:
        assert any(line.startswith(want) for line in got), (want, got)
    assert len(got) == len(expected), got


def test_config_error_lists_every_problem_and_nothing_is_written(tmp_path: Path) -> None:
    feed = tmp_path / "feed"
    shutil.copytree(EXAMPLE, feed, ignore=shutil.ignore_patterns("site", "*.sqlite*"))
    text = (feed / "feed.yaml").read_text(encoding="utf-8")
    text = text.replace('"cache eviction"]', '"re:(?<!x)cache"]')
    text = text.replace('    none: ["title:survey"]', '    nine: ["title:survey"]')
    (feed / "feed.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        parse_config(text, feed, display="feed.yaml")
    assert len(info.value.problems) == 2
    result = CliRunner().invoke(cli, ["run", str(feed), "--today", "2026-11-25"])
    assert result.exit_code == 1
    assert "2 problems in the configuration" in result.output
    assert "tags.kv-cache.any[3]: re2, the linear-time engine" in result.output
    assert "tags.serving.nine: unknown key (did you mean 'none'?" in result.output
    assert not (feed / "digest.sqlite").exists()
    assert not (feed / "site").exists()


# Ambiguous patterns: Python's backtracking took exponential time on each (the first four
# bypassed the former static check: 28 s on a 28-character title, 59 s on one word).
AMBIGUOUS = [
    r"(a|a)*b",
    r"\w+\s?\w+\s?\w+\s?\w+\s?!",
    r"(a|aa)+$",
    r".*.*.*.*.*=",
    r"(a+)+b",
    r"(\w+\s?)*!",
    r"((ab)+)+c",
    r"(ab|\wb)+c",
    r"(a|b|ab)*c",
    r"(a?a)+b",
    r"(.*)*x",
    r"(x+x+)+y",
    r"^(([a-z])+.)+[A-Z]([a-z])+$",
]
ORDINARY = [
    r"(\s\w+)+",
    r"(a+b)+",
    r"(?:foo|bar)+",
    r"\b(?:\w+ ){0,3}transformer",
    r"mixture[ ]of[ ]experts?",
    r"\d+(?:\.\d+)?x",
    r"\bllms?\b",
    r"(?:low|mixed) precision",
    r"(\w|\d)+",
]
EVIL_TEXTS = ("a" * 3000 + "!", "ab" * 1500, "a " * 1500 + "!", "1" * 3000, "a" * 200)


@pytest.mark.parametrize("pattern", AMBIGUOUS + ORDINARY)
def test_user_patterns_run_in_re2(pattern: str) -> None:
    # No timing here (benchmarks/bench_hostile.py measures it): the engine is the bound.
    assert hazard(pattern, case=False) is None
    ruleset = one_term("re:" + pattern)
    (term,) = [t for t in ruleset.terms if t.regex]
    compiled = term.pattern
    assert isinstance(compiled, UserPattern) and compiled.engine == "re2"
    for evil in EVIL_TEXTS:
        ruleset.tag(evil, evil)


REFUSED_BY_RE2 = [r"(a)\1", r"(?=a)b", r"(?!a)b", r"(?<=a)b", r"(?<!a)b", r"(?>a+)b", r"a++b"]


@pytest.mark.parametrize("pattern", REFUSED_BY_RE2)
def test_patterns_re2_cannot_run_are_refused(pattern: str) -> None:
    why = hazard(pattern, case=False)
    assert why is not None and why.startswith("re2, the linear-time engine"), why


def test_user_classes_mean_what_they_mean_in_python() -> None:
    # re2's \w and \d are ASCII; the translation keeps Python's Unicode meaning, on
    # every code point Python's Unicode database knows (re2's may be newer).
    chars = "".join(
        chr(c)
        for c in range(0x110000)
        if not 0xD800 <= c <= 0xDFFF and unicodedata.category(chr(c)) != "Cn"
    )
    for cls in (r"\w", r"\W", r"\d", r"\D", r"[\w]", r"[^\w]", r"[\d.]"):
        compiled = compile_user(cls + "+", case=True)
        assert isinstance(compiled, UserPattern)
        want = "".join(re.findall(cls, chars))
        got = "".join(compiled.compiled.findall(chars))
        assert got == want, cls


_ATOMS = st.sampled_from(["a", "aa", "b", ".", r"\w", r"\s", r"\d", "[ab]", r"\1", "x"])


@st.composite
def ambiguous_patterns(draw: st.DrawFn, depth: int = 3) -> str:
    """Nested groups, alternations and repeats over a few overlapping atoms, sometimes
    with what re2 refuses (backreferences, lookaround, atomic, possessive)."""
    if depth == 0:
        return draw(_ATOMS)
    parts = draw(st.lists(ambiguous_patterns(depth - 1), min_size=1, max_size=3))
    body = "|".join(parts) if draw(st.booleans()) else "".join(parts)
    group = draw(st.sampled_from(["(", "(?:", "(?=", "(?<!a)(", "(?>"]))
    quant = draw(st.sampled_from(["", "*", "+", "?", "{2,}", "*+", "+?", "{,3}"]))
    return f"{group}{body}){quant}" + draw(st.sampled_from(["", "b", "$", "!"]))


@settings(max_examples=300, deadline=None)
@given(ambiguous_patterns())
def test_every_ambiguous_pattern_runs_in_re2_or_is_refused(pattern: str) -> None:
    why = hazard(pattern, case=False)
    if why is not None:
        assert why.startswith(("re2, the linear-time engine", "invalid regular expression")), why
        return
    compiled = compile_user(pattern, case=False)
    assert isinstance(compiled, UserPattern) and compiled.engine == "re2"
    compiled.search("a" * 2000 + "!")  # linear: would take years with backtracking


# -- fingerprint ---------------------------------------------------------------------------

BASE = """\
catch_all: Other
tags:
  a:
    any: [alpha, "title:beta"]
    none: [gamma]
  b:
    any: [delta]
themes:
  - {name: T, tags: [a]}
  - {name: U, tags: [b], priority: 1}
"""
CHANGES = [
    ("alpha", "alpha*"),
    ("alpha", "case:alpha"),
    ('"title:beta"', '"abstract:beta"'),
    ('"title:beta"', "{term: beta, field: title, weight: 2}"),
    ("[gamma]", "[gamma, epsilon]"),
    ("none: [gamma]", "all: [gamma]"),
    ("    any: [delta]", "    any: [delta]\n    weight: 2"),
    ("    any: [delta]", "    any: [delta]\n    min_score: 1"),
    ("    any: [delta]", "    any: [delta]\n    field: title"),
    ("priority: 1", "priority: 2"),
    ("catch_all: Other", "catch_all: Rest"),
    ("{name: T, tags: [a]}", "{name: T, tags: [a, b]}"),
    ("name: T", "name: S"),
]


@pytest.mark.parametrize(("old", "new"), CHANGES)
def test_fingerprint_follows_every_change(old: str, new: str) -> None:
    assert old in BASE
    assert rules_of(BASE.replace(old, new)).fingerprint != rules_of(BASE).fingerprint


def test_fingerprint_follows_order_but_not_formatting() -> None:
    base = rules_of(BASE).fingerprint
    swapped_tags = BASE.replace(
        '  a:\n    any: [alpha, "title:beta"]\n    none: [gamma]\n  b:\n    any: [delta]\n',
        '  b:\n    any: [delta]\n  a:\n    any: [alpha, "title:beta"]\n    none: [gamma]\n',
    )
    swapped_themes = BASE.replace(
        "  - {name: T, tags: [a]}\n  - {name: U, tags: [b], priority: 1}",
        "  - {name: U, tags: [b], priority: 1}\n  - {name: T, tags: [a]}",
    )
    assert rules_of(swapped_tags).fingerprint != base  # tag order is the order of tags
    assert rules_of(swapped_themes).fingerprint != base  # theme order breaks ties
    reformatted = BASE.replace("any: [delta]", "any:\n      - delta  # a comment")
    same_meaning = BASE.replace('"title:beta"', "{term: beta, field: title}")
    assert rules_of(reformatted).fingerprint == base
    assert rules_of(same_meaning).fingerprint == base


# -- check and explain ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def example_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    feed = tmp_path_factory.mktemp("rules") / "feed"
    shutil.copytree(EXAMPLE, feed, ignore=shutil.ignore_patterns("site", "*.sqlite*"))
    result = CliRunner().invoke(cli, ["run", str(feed), "--today", "2026-11-25"])
    assert result.exit_code in (0, 3), result.output
    return feed


def test_check_reports_hits_silent_rules_and_crowded_papers(example_run: Path) -> None:
    result = CliRunner().invoke(cli, ["check", str(example_run)])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "rules over the 453 stored papers (current rules):" in out
    assert re.search(r"^  kv-cache: \d+ papers \(\d+\.\d%\)$", out, re.M)
    assert re.search(r"^    any 'case:MoE\*': \d+$", out, re.M)
    assert "  term kv-cache.any[1] 'key-value cache'" in out  # the text says "key-value (KV)"
    assert re.search(r"^untagged under the current rules: \d+ of 453", out, re.M)
    assert re.search(
        r"^papers by number of matching themes: 0: \d+, 1: \d+, 2: \d+, 3\+: ", out, re.M
    )
    assert "papers matched by 3 or more themes" in out


def test_explain_shows_terms_fields_and_the_theme_choice(example_run: Path) -> None:
    result = CliRunner().invoke(cli, ["explain", str(example_run), "Block Transformer"])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "    kv-cache: tagged, score 2 = 2 terms × weight 1" in out
    assert "      any 'kv-cache*' in abstract: …" in out and "[kv cache]" in out
    assert "  primary theme under the current rules: Inference and serving" in out
    assert "    Inference and serving: priority 2, score 3 (kv-cache 2 + serving 1)" in out


def test_explain_names_the_none_term_that_excluded_a_tag() -> None:
    rules = rules_of(
        """\
        tags:
          serving: {any: [latency], none: [title:survey]}
          survey: [title:survey]
        themes:
          - {name: S, tags: [serving]}
          - {name: V, tags: [survey], priority: 5}
        """
    )
    found = rules.explain("A Survey of Serving", "We compare latency.")
    verdicts = {v.name: v for v in found.tags}
    assert not verdicts["serving"].matched
    assert verdicts["serving"].reason == "excluded by 'none' term 'title:survey'"
    assert [(h.list, h.field) for h in verdicts["serving"].hits] == [
        ("any", "abstract"),
        ("none", "title"),
    ]
    assert found.tagging.theme == "V"


# -- the fast matcher against a naive reference ---------------------------------------------

WORDS = [
    "moe", "MoE", "MOE", "model", "models", "modeling", "straße", "STRASSE", "naïve", "c++",
    "x-ray", "état", "ﬁne", "fine", "α", "kv", "cache", "cached", "low", "bit", "bits", "a",
    "ab", "abc", "3d", "gpt-4", "ＬＬＭ", "llm", "llms", "_x", "über", "İd", "id", "ΣΑ", "σα",
    "x\u0345", "2024", "v2", "model’s", "“moe”", "e\u0301t", "½",
]  # fmt: skip
SEPARATORS = [
    " ", "  ", "-", " - ", "—", "/", "_", ", ", ". ", " (", ") ", "\n", "'", ":", "’", " “",
    "… ", "\t", "×", "\u0345",
]  # fmt: skip
REGEXES = [r"\bmo\w+", r"gpt ?4", r"(?:low|high) bits?", r"\d+d\b", r"c\+\+"]

texts = st.lists(
    st.tuples(st.sampled_from(WORDS), st.sampled_from(SEPARATORS)), min_size=5, max_size=40
).map(lambda parts: "".join(w + s for w, s in parts))


@st.composite
def terms(draw: st.DrawFn) -> dict[str, Any]:
    """A term as a mapping: words (the last maybe starred), or a regex; case; field."""
    spec: dict[str, Any]
    if draw(st.integers(0, 9)) == 0:
        spec = {"regex": draw(st.sampled_from(REGEXES))}
    else:
        size = draw(st.sampled_from([1, 1, 1, 2, 3]))  # mostly words, so that tags fire
        words = draw(st.lists(st.sampled_from(WORDS), min_size=size, max_size=size))
        if draw(st.booleans()):
            i = draw(st.integers(0, len(words) - 1))
            words[i] += "*"
        spec = {"term": draw(st.sampled_from([" ", "-"])).join(words)}
    spec["case"] = draw(st.booleans())
    spec["field"] = draw(st.sampled_from(["title", "abstract", "both"]))
    return spec


@st.composite
def rule_data(draw: st.DrawFn) -> dict[str, Any]:
    tags: dict[str, Any] = {}
    for i in range(draw(st.integers(1, 5))):
        spec: dict[str, Any] = {}
        for key, low, high in (("any", 1, 3), ("all", 0, 1), ("none", 0, 2)):
            items = draw(st.lists(terms(), min_size=low, max_size=high))
            if items:
                spec[key] = items
        if draw(st.booleans()):
            spec["min_score"] = draw(st.sampled_from([1, 2, 2.5]))
            for item in spec["any"]:
                item["weight"] = draw(st.sampled_from([1, 0.5, 2]))
        tags[f"t{i}"] = spec
    names = list(tags)
    themes = [
        {
            "name": f"Theme {j}",
            "tags": draw(st.lists(st.sampled_from(names), min_size=1, max_size=3, unique=True)),
            "priority": draw(st.integers(0, 1)),
        }
        for j in range(draw(st.integers(1, 3)))
    ]
    return {"tags": tags, "themes": themes}


ASCII_BOUNDARY = r"(?:(?<=[A-Za-z0-9_])(?![A-Za-z0-9_])|(?<![A-Za-z0-9_])(?=[A-Za-z0-9_]))"


def reference_pattern(spec: dict[str, Any]) -> re.Pattern[str]:
    """The meaning of a term, written independently of digest.matcher: a phrase of folded
    words joined by single spaces, '*' = any word continuation, on word boundaries."""
    if "regex" in spec:
        # As documented: \w and \d as in Python, \b re2's (next to an ASCII word character).
        body = spec["regex"].replace(r"\b", ASCII_BOUNDARY)
        return re.compile(body, 0 if spec["case"] else re.IGNORECASE)
    parts = []
    for word in re.split(r"[ -]", spec["term"]):
        star = word.endswith("*")
        folded = fold(word.rstrip("*"), keep_case=spec["case"]).strip()
        parts.append(re.escape(folded) + (r"\w*" if star else ""))
    return re.compile(r"(?<!\w)" + " ".join(parts) + r"(?!\w)")


def naive_tagging(data: dict[str, Any], title: str, abstract: str) -> tuple[tuple[str, ...], str]:
    """One regex search per term and field, then the documented scoring and theme choice."""
    fields = dict(zip(FIELDS, (title, abstract), strict=True))

    def found(spec: dict[str, Any]) -> bool:
        where = FIELDS if spec["field"] == "both" else (spec["field"],)
        pattern = reference_pattern(spec)
        return any(pattern.search(fold(fields[f], keep_case=spec["case"])) for f in where)

    scores: dict[str, float] = {}
    for name, rule in data["tags"].items():
        hits = [t.get("weight", 1) for t in rule["any"] if found(t)]
        if not hits or not all(found(t) for t in rule.get("all", [])):
            continue
        if any(found(t) for t in rule.get("none", [])):
            continue
        score = sum(hits) + len(rule.get("all", []))
        if score >= rule.get("min_score", 0) - 1e-9:
            scores[name] = score
    best: tuple[float, float, int] | None = None
    theme = "Other papers"
    for order, th in enumerate(data["themes"]):
        got = [scores[t] for t in th["tags"] if t in scores]
        if got and (best is None or (th["priority"], sum(got), -order) > best):
            best, theme = (th["priority"], sum(got), -order), th["name"]
    return tuple(scores), theme


@given(rule_data(), st.lists(st.tuples(texts, texts), min_size=1, max_size=8))
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_fast_matcher_agrees_with_the_naive_reference(
    data: dict[str, Any], papers: list[tuple[str, str]]
) -> None:
    ruleset, problems = parse_rules(data, Source("hypothesis"))
    assert ruleset is not None, [str(p) for p in problems]
    for title, abstract in papers:
        tagging = ruleset.tag(title, abstract)
        assert (tagging.tags, tagging.theme) == naive_tagging(data, title, abstract)
        # The primary theme is chosen without the ranking; the ranking must agree.
        best = tagging.ranking[0].name if tagging.ranking else ruleset.catch_all
        assert best == tagging.theme
        assert tuple(tagging.matches) == tagging.tags
        in_title, in_abstract = ruleset.scan(title, abstract)
        assert ruleset.decide(in_title | in_abstract) == tagging


@st.composite
def term_texts(draw: st.DrawFn) -> str:
    """A term in the prefix notation: words with '*' at the end of any of them (so in the
    middle of a phrase too), maybe case-sensitive, maybe scoped to one field."""
    size = draw(st.sampled_from([1, 1, 2, 2, 3]))
    words = draw(st.lists(st.sampled_from(WORDS), min_size=size, max_size=size))
    for i in draw(st.sets(st.integers(0, size - 1), max_size=1)):
        stem = words[i].rstrip("*")
        words[i] = stem[: draw(st.integers(1, max(len(stem), 1)))] + "*"
    text = draw(st.sampled_from([" ", "-"])).join(words)
    prefix = draw(st.sampled_from(["", "title:", "abstract:"]))
    return prefix + draw(st.sampled_from(["", "case:"])) + text


def naive_scan(ruleset: RuleSet, title: str, abstract: str) -> tuple[set[int], set[int]]:
    """What each term's reference pattern finds, field by field."""
    found: tuple[set[int], set[int]] = (set(), set())
    for fi, (name, text) in enumerate(zip(FIELDS, (title, abstract), strict=True)):
        for t in ruleset.terms:
            if name in t.fields and t.pattern.search(fold(text, keep_case=t.case)):
                found[fi].add(t.id)
    return found


@given(
    st.lists(term_texts(), min_size=1, max_size=12, unique=True),
    st.lists(st.tuples(texts, texts), min_size=1, max_size=6),
)
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_scan_finds_what_each_terms_pattern_finds(
    items: list[str], papers: list[tuple[str, str]]
) -> None:
    """The word automaton, its checks (phrases, case, wildcards inside a phrase), the
    case-kept scan of unaligned texts and the older scan of terms with other characters
    against one reference search per term and field."""
    ruleset, _ = parse_rules({"tags": {"t": {"any": items}}}, Source("hypothesis"))
    if ruleset is None:  # e.g. a term with nothing but separators
        return
    for title, abstract in papers:
        assert ruleset.scan(title, abstract) == naive_scan(ruleset, title, abstract)


SCANNED = [
    # terms, title, abstract, (found in title, found in abstract) by index of term
    (["model", "model*", "models", "mod*"], "Models", "a model", ({1, 2, 3}, {0, 1, 3})),
    (["low bit", "low bit*", "low bit* model"], "low bits", "low, bit", ({1}, set())),
    (["low bit* model", "a* bit"], "a low bitwidth model", "ab bit", ({0}, {1})),
    (["case:MoE", "case:MoE*", "moe"], "MoEs", "the MOE", ({1}, {2})),
    (["title:gpt 4", "abstract:gpt-4"], "GPT-4", "gpt 4", ({0}, {1})),
    (["2024", "v2*", "½"], "in 2024", "v23 ½", ({0}, {1, 2})),
    (["c++", "x ray", "état*"], "C++ and x-ray", "États-Unis", ({0, 1}, {2})),
    (["case:İd", "id"], "İd", "id", ({0}, {1})),  # İ folds to i and a combining dot
    (["case:ΣΑ", "σα"], "ΣΑ", "x\u0345 σα", ({0, 1}, {1})),
    (["model s"], "model’s", "model s", (set(), {0})),  # ’ is no space
    (["moe"], "“MoE”", "", ({0}, set())),
]


@pytest.mark.parametrize(("items", "title", "abstract", "expected"), SCANNED)
def test_scan_examples(
    items: list[str], title: str, abstract: str, expected: tuple[set[int], set[int]]
) -> None:
    ruleset, problems = parse_rules({"tags": {"t": {"any": items}}}, Source("x"))
    assert ruleset is not None, [str(p) for p in problems]
    assert ruleset.scan(title, abstract) == expected
    assert ruleset.scan(title, abstract) == naive_scan(ruleset, title, abstract)


def test_the_unicode_facts_the_matcher_relies_on() -> None:
    """Case folding a character to one character keeps it a word character (or not), but
    for U+0345: the matcher looks for case-sensitive terms in the folded scan only in
    texts without it (and where no character grows)."""
    changed = [
        char
        for char in map(chr, range(sys.maxunicode + 1))
        if len(char.casefold()) == 1 and char.isalnum() != char.casefold().isalnum()
    ]
    assert changed == ["\u0345"]


@given(st.text() | st.lists(st.sampled_from(WORDS + SEPARATORS)).map("".join))
@settings(max_examples=300, deadline=None)
def test_word_text_keeps_words_and_blanks_the_rest(text: str) -> None:
    words = _word_text(text)
    assert len(words) == len(text)
    for char, kept in zip(text, words, strict=True):
        assert kept == (char if char.isalnum() else " ")


def test_check_names_redundant_terms(tmp_path: Path) -> None:
    feed = tmp_path / "feed"
    (feed / "listings").mkdir(parents=True)
    (feed / "listings" / "a.txt").write_text(
        "Mar 11\n\nLong context models\n\nWe study long-context language models. "
        "They read long documents. We measure recall.\n"
    )
    (feed / "feed.yaml").write_text(
        "sources: [listings/*.txt]\n"
        "tags:\n  long:\n    any: ['long context', 'long-context']\n"
        "themes:\n  - {name: Long, tags: [long]}\n"
    )
    assert CliRunner().invoke(cli, ["run", str(feed), "--today", "2026-11-25"]).exit_code == 0
    out = CliRunner().invoke(cli, ["check", str(feed)]).output
    assert "(same meaning as 'long context': redundant)" in out
