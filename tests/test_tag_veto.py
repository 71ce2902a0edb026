"""The ``none`` veto on the common tagging path, by example.

A tag of ``any`` terms of weight 1 (and no ``all``, ``min_score`` or weights) is decided
by counting its found terms (``RuleSet._decide``'s counted path), where a ``none`` term
removes it; until now only a property test covered that path.
"""

from __future__ import annotations

import textwrap

from digest.config.rules import parse_rules
from digest.rules import RuleSet
from digest.yamlsrc import load

RULES = """\
catch_all: Other papers
tags:
  serving:
    any: [latency, throughput]
    none: [survey]
  survey:
    any: [benchmark]
themes:
  - name: Serving
    tags: [serving]
  - name: Surveys
    tags: [survey]
"""


def rules() -> RuleSet:
    data, source, problems = load(textwrap.dedent(RULES), "feed.yaml")
    assert not problems
    ruleset, problems = parse_rules(data, source)
    assert ruleset is not None, [str(p) for p in problems]
    return ruleset


def test_the_any_term_alone_gives_the_tag_and_its_theme() -> None:
    tagging = rules().tag("Low latency decoding", "")
    assert tagging.tags == ("serving",)
    assert tagging.theme == "Serving"
    assert tagging.scores == {"serving": 1.0}


def test_a_none_term_vetoes_the_tag_and_the_theme_falls_back_to_the_catch_all() -> None:
    tagging = rules().tag("Low latency decoding", "A survey of decoders.")
    assert tagging.tags == ()
    assert tagging.theme == "Other papers"
    assert tagging.scores == {}


def test_a_none_term_vetoes_a_tag_with_several_any_terms_found() -> None:
    # Two 'any' terms found: the counted score (2) must not bring the tag back.
    tagging = rules().tag("Latency and throughput: a survey", "")
    assert tagging.tags == ()
    assert tagging.theme == "Other papers"


def test_a_vetoed_tag_leaves_the_theme_to_the_other_tags() -> None:
    tagging = rules().tag("A survey of latency", "We benchmark decoders.")
    assert tagging.tags == ("survey",)
    assert tagging.theme == "Surveys"
    assert tagging.scores == {"survey": 1.0}


def test_the_veto_is_per_tag() -> None:
    # 'survey' vetoes 'serving' only; a paper with no 'any' term of a tag is not tagged by a
    # 'none' term alone either.
    assert rules().tag("A survey", "").tags == ()
    assert rules().tag("Throughput", "").tags == ("serving",)
