"""Link detection in listing text (``render.linkify``): the same links as the
bracket-counting rule it replaced, in work linear in the text's length (issue 15).

Timing lives in ``benchmarks/bench_hostile.py``; these tests hold the structure."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from digest import filters, render


def reference_trim(url: str) -> str:
    """The former quadratic rule, kept as the specification of :func:`filters._trim_url`."""
    pairs = {")": "(", "]": "["}
    while url and (
        url[-1] in filters._TRAILING
        or (url[-1] in pairs and url.count(pairs[url[-1]]) < url.count(url[-1]))
    ):
        url = url[:-1]
    return url


_URL_BITS = st.lists(st.sampled_from([*"()[]a/.,;:!?*", "x.org", "))", "(("]), max_size=40)


@given(_URL_BITS.map("".join))
def test_trim_matches_the_bracket_counting_rule(tail: str) -> None:
    url = "https://" + tail
    assert filters._trim_url(url) == reference_trim(url)


def test_many_closing_brackets_make_one_link() -> None:
    # The reported input: a URL followed by a run of ")" (47 s at 200 KB before).
    out = str(render.linkify("see https://x.org/a" + ")" * 20_000 + "."))
    assert re.findall(r'href="([^"]*)"', out) == ["https://x.org/a"]
    assert out.endswith(")" * 20_000 + ".")


def test_balanced_brackets_stay_in_the_link() -> None:
    out = str(render.linkify("(https://x.org/a_(b)[c]))."))
    assert re.findall(r'href="([^"]*)"', out) == ["https://x.org/a_(b)[c]"]
