"""LaTeX in titles and abstracts reads as text in every output, quietly (digest.latex)."""

from __future__ import annotations

import logging
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from digest.latex import readable, to_unicode
from tests.conftest import FeedMaker, paper

# Residue seen in real listings, and how outputs show it.
READINGS = [
    ("PIXART-{δ}: fast", "PIXART-δ: fast"),
    ("PixArt-$\\delta$", "PixArt-δ"),
    ("\\hiformer enjoys fast inference", "hiformer enjoys fast inference"),
    ("a pretrained backbone, called {\\SST}, for", "a pretrained backbone, called SST, for"),
    ("M^3ViT: Mixture-of-Experts", "M³ViT: Mixture-of-Experts"),
    ("M$^3$ViT", "M³ViT"),
    ("M^{3}ViT", "M³ViT"),
    ("H_2O", "H₂O"),
    ("H$_2$O", "H₂O"),
    ("$\\mathcal{O}(n^2)$ time", "𝒪(n²) time"),
    ("\\textbf{X} and \\emph{y}", "X and y"),
    ("$\\frac{a}{b}$", "a/b"),
    ("\\frac{a}{b}", "a/b"),
    ("$\\frac12$", "1/2"),
    ("50\\% fewer", "50% fewer"),
    ("$x_{ij}$", "xᵢⱼ"),
    ("$x_{ab}$", "x_ab"),  # no subscript b in Unicode: plain
    ("$10^{-3}$", "10⁻³"),
    ("$W^\\top x$", "Wᵀ x"),
    ("$\\ell_1$ norm", "ℓ₁ norm"),
    ('Sch\\"olkopf', "Schölkopf"),
    ("{\\em new} and {\\bf bold}", "new and bold"),
    ("a\\,b", "a b"),
    ("we present (\\romannumeral2) four", "we present (ii) four"),
    ("$\\{a,b\\}$", "{a,b}"),  # braces of a set in math are text
    ("{a, b} stays", "{a, b} stays"),
    ("snake_case and x^y stay", "snake_case and x^y stay"),
    ("prices $5 and $10", "prices $5 and $10"),
    ("20% of it", "20% of it"),
]


@pytest.mark.parametrize(("source", "shown"), READINGS)
def test_latex_reads_as_text(source: str, shown: str) -> None:
    assert readable(source) == shown


_COMMAND_LEFT = re.compile(r"\\[A-Za-z]")
_BRACE_GROUP_LEFT = re.compile(r"\{[^{}\s]*\}")


@pytest.mark.parametrize("source", [s for s, shown in READINGS if "{" not in shown])
def test_no_brace_group_or_command_is_left(source: str) -> None:
    shown = readable(source)
    assert not _COMMAND_LEFT.search(shown) and not _BRACE_GROUP_LEFT.search(shown)


# Fragments pylatexenc cannot convert (a \frac without its arguments made it log a
# warning and leave "%s/%s" in the text), and ones it stumbles over.
BROKEN = ["\\frac{a}", "$\\frac{a}$ b", "\\frac", "$\\sqrt$", "$\\binom{n}$", "\\textbf"]
BROKEN += ["$\\dfrac{1}$"]


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.mark.parametrize("source", BROKEN)
def test_failed_conversions_are_plain_and_quiet(
    source: str, capfd: pytest.CaptureFixture[str]
) -> None:
    """Nothing on the terminal, nothing for the root logger's handlers (a JSON log)."""
    root, seen = logging.getLogger(), _Records()
    root.addHandler(seen)
    level = root.level
    root.setLevel(logging.DEBUG)
    try:
        for convert in (readable, to_unicode):
            out = convert(source + " ")  # not a cached conversion
            assert "%s" not in out and "\\" not in out
    finally:
        root.removeHandler(seen)
        root.setLevel(level)
    assert capfd.readouterr() == ("", "")
    assert seen.records == []


def test_the_library_logger_is_silenced_here_only() -> None:
    """The wrapper stops pylatexenc's logger, not logging as a whole."""
    assert logging.getLogger("pylatexenc").propagate is False
    assert logging.root.manager.disable == logging.NOTSET  # no logging.disable()
    assert logging.getLogger("digest").propagate and logging.getLogger("other").propagate


_latexish = st.lists(
    st.one_of(
        st.text(max_size=6),
        st.sampled_from(["$", "\\", "{", "}", "^", "_", "\\frac", "\\%", "%s", "{\\em "]),
        st.sampled_from(["\\alpha", "x^{", "$a$", "$\\frac{a}$", "\\hiformer"]),
    ),
    max_size=20,
).map("".join)


@settings(max_examples=300)
@given(_latexish)
def test_any_text_converts_quietly_without_placeholders(text: str) -> None:
    shown = readable(text)
    assert isinstance(shown, str) and isinstance(to_unicode(text), str)
    assert shown.count("%s") <= text.count("%s")


def test_a_run_over_bad_latex_prints_nothing_and_leaves_no_placeholder(
    make_feed: Callable[..., FeedMaker],
) -> None:
    """The real command line (``digest -q run``) on a listing with the LaTeX that made
    pylatexenc print warnings: nothing on stdout or stderr, no ``%s`` in any output."""
    feed = make_feed().listing(
        "a.jsonl",
        [
            paper(
                "PIXART-{δ}: $\\frac{a}$ fast \\frac diffusion",
                "2026-03-09",
                "We propose \\hiformer, called {\\SST}, with $\\mathcal{O}(n^2)$ cost, "
                "M^3ViT and H_2O, \\frac{x} and $\\sqrt$ and 50\\% fewer steps. " * 3,
            ),
            paper("\\textbf{Quantized} $x_{ij}$ models", "2026-03-10"),
        ],
    )
    out = subprocess.run(
        [sys.executable, "-m", "digest", "-q", "run", str(feed.root), "--today", "2026-03-16"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert (out.returncode, out.stdout, out.stderr) == (0, "", "")
    files = [p for p in (feed.root / "site").rglob("*") if p.is_file()]
    assert any(p.suffix == ".html" for p in files)
    for path in files:
        if path.suffix in {".html", ".md", ".xml", ".atom", ".txt", ".json"}:
            text = path.read_text(encoding="utf-8")
            assert "%s" not in text, path
            assert "\\hiformer" not in text and "{\\SST}" not in text, path
            if path.suffix != ".md":  # Markdown keeps $...$ math as math, by design
                assert "\\frac" not in text, path


def test_outputs_show_the_reading(make_feed: Callable[..., FeedMaker]) -> None:
    built = make_feed().listing("a.jsonl", [paper("M^3ViT and H_2O", "2026-03-09")]).run()
    page = (built.site / "2026-W11.html").read_text(encoding="utf-8")
    assert "M³ViT and H₂O" in page
    assert all(
        "M^3ViT" not in p.read_text(encoding="utf-8") for p in Path(built.site).rglob("*.xml")
    )
