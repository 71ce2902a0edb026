"""feed.yaml validation: every problem at once, located by file, line, column and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from digest.config import load_config, parse_config
from digest.errors import ConfigError

EXAMPLE = Path(__file__).parent.parent / "feeds" / "example"


def problems_of(text: str, root: Path) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_config(text, root, display="feed.yaml")
    return [str(p) for p in info.value.problems]


def test_example_and_init_configs_are_valid() -> None:
    cfg = load_config(EXAMPLE)
    assert cfg.rules.section_names[-1] == "Other papers"
    assert cfg.base_url.endswith("/")


def test_every_problem_reported_at_once(tmp_path: Path) -> None:
    text = """\
title: 42
base_url: example.org
timezone: Mars/Olympus
year: nineteen
colour: blue
sources:
  - path: a/*.txt
    format: pdf
  - {path: x, url: "http://a"}
output:
  feed_items: many
  formats: [html, pdf]
tags:
  llm:
    any: ["re:(unclosed"]
    sometimes: [x]
  LLM:
    any: [x]
  empty: {}
themes:
  - name: A
    tags: [llm, nope]
  - name: a
    tags: [LLM]
"""
    got = problems_of(text, tmp_path)
    expected = [
        "feed.yaml:1:8: title: expected text",
        "feed.yaml:2:11: base_url: expected an absolute http(s) URL",
        "feed.yaml:3:11: timezone: unknown time zone",
        "feed.yaml:4:7: year: expected a year",
        "feed.yaml:5:1: colour: unknown key",
        "feed.yaml:8:13: sources[0].format: unknown format 'pdf'",
        "feed.yaml:9:5: sources[1]: give exactly one of 'path'",
        "feed.yaml:11:15: output.feed_items: expected a whole number",
        "feed.yaml:12:12: output.formats: expected a list",
        "feed.yaml:15:11: tags.llm.any[0]: invalid regular expression",
        "feed.yaml:16:5: tags.llm.sometimes: unknown key",
        "feed.yaml:17:3: tags.LLM: tag name collides with 'llm'",
        "feed.yaml:19:3: tags.empty: empty rule",
        "feed.yaml:22:17: themes[0].tags[1]: unknown tag 'nope'",
        "feed.yaml:23:11: themes[1].name: theme name collides with 'A'",
    ]
    for want in expected:
        assert any(line.startswith(want) for line in got), (want, got)


def test_duplicate_keys_are_an_error(tmp_path: Path) -> None:
    got = problems_of("title: a\ntitle: b\n", tmp_path)
    assert got == ["feed.yaml:2:1: title: duplicate key"]


def test_empty_and_non_mapping(tmp_path: Path) -> None:
    assert problems_of("", tmp_path) == ["feed.yaml: the file is empty"]
    assert "expected a mapping" in problems_of("- a\n- b\n", tmp_path)[0]


def test_relative_paths_resolve_against_the_feed_folder(tmp_path: Path) -> None:
    cfg = parse_config("store: state/x.sqlite\noutput: {dir: public}\n", tmp_path)
    assert cfg.store == tmp_path / "state" / "x.sqlite"
    assert cfg.output.dir == tmp_path / "public"
