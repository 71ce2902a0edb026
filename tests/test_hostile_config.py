"""Hostile and unlucky configuration and command-line values (issue 15): each gives one
clear message and the documented exit code, never a traceback."""

from __future__ import annotations

import errno
import json
import sqlite3
import tempfile
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from digest import mail
from digest.cli import cli
from digest.commands import run as run_command
from digest.config import TOP_KEYS, parse_config
from digest.config.email import EMAIL_KEYS, SMTP_KEYS
from digest.errors import ConfigError, Problem, printable
from digest.yamlsrc import ALIAS_LIMIT

EXAMPLE = Path(__file__).parent.parent / "feeds" / "example"
TODAY = ["--today", "2026-11-25"]
MINIMAL = "title: T\ntags:\n  a: {any: [x]}\n"


def clean(result: Result, code: int) -> str:
    """The run's stderr, after checking its exit code and that no traceback escaped."""
    assert result.exit_code == code, (result.exit_code, result.output, result.exception)
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    return result.stderr


def check(runner: CliRunner, tmp_path: Path, text: str | bytes) -> str:
    root = tmp_path / "f"
    root.mkdir(exist_ok=True)
    data = text.encode() if isinstance(text, str) else text
    (root / "feed.yaml").write_bytes(data)
    return clean(runner.invoke(cli, ["check", str(root)]), 1)


# -- 1. feed.yaml as YAML ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("title: !!python/name:os.system x\n", "1:8: title: unsupported tag '!!python/name:os"),
        ("title: !!python/object/apply:os.system [ls]\n", "1:8: title: unsupported tag"),
        ("title: !foo {a: 1}\n", "1:8: title: unsupported tag '!foo'"),
        ("title: !!binary aGk=\n", "1:8: title: unsupported tag '!!binary'"),
        ("title: !!set {a}\n", "1:8: title: unsupported tag '!!set'"),
        ("title: T\ntags: &a\n  a: {any: [*a]}\n", "2:7: tags.a.any[0]: recursive alias"),
        ("a: &m {<<: *m}\n", "1:4: a: recursive alias: this mapping merges itself"),
        ("<<: &m {<<: *m}\n", "recursive alias"),
        ("title: {<<: [x]}\n", "1:14: title: '<<' merges a mapping (or a list of mappings)"),
        ("title: 2025-02-30\n", "1:8: title: cannot read '2025-02-30'"),
        ("year: " + "9" * 5000 + "\n", "1:7: year: cannot read"),
        ("? [a]\n: b\n", "1:3: (top level): a key must be plain text"),
        ("a: " + "[" * 200 + "]" * 200 + "\n", "nested"),
        ("title: a\n\x00\n", "feed.yaml:2: invalid YAML: character U+0000"),
        ("titel: T\n", "1:1: titel: unknown key (did you mean 'title'?"),
        ('title: "a\\x1b[31m"\n', "1:8: title: the text holds the character U+001B"),
        ('author: "\\ud800"\n', "invalid Unicode character escape"),
        ('tags: {"\\uffff": [x]}\n', "1:8: tags: the text holds the character U+FFFF"),
        ('base_url: "https://x.org/a b"\n', "base_url: expected an absolute http(s) URL"),
    ],
)
def test_feed_yaml_constructs_become_located_problems(
    runner: CliRunner, tmp_path: Path, text: str, expected: str
) -> None:
    assert expected in check(runner, tmp_path, text)


def alias_bomb(levels: int = 9, fanout: int = 9) -> str:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, levels + 1):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * fanout) + "]")
    return "\n".join(lines) + "\n"


def merge_bomb(levels: int = 12) -> str:
    lines = ["a0: &a0 {k: 1}"]
    for i in range(1, levels + 1):
        lines.append(f"a{i}: &a{i} {{<<: [" + ", ".join([f"*a{i - 1}"] * 9) + "]}")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("text", [alias_bomb(), merge_bomb()], ids=["aliases", "merges"])
def test_an_alias_bomb_is_refused_with_its_line(
    runner: CliRunner, tmp_path: Path, text: str
) -> None:
    err = check(runner, tmp_path, text)
    assert f"expand to more than {ALIAS_LIMIT:,} values" in err
    assert "feed.yaml:1:" in err  # where the exploding anchor was written


def test_aliases_within_the_limit_still_work(tmp_path: Path) -> None:
    terms = ", ".join(f"term{i}" for i in range(200))
    tags = "\n".join(f"  tag{i}: {{any: *terms}}" for i in range(1, 50))
    text = f"tags:\n  tag0: {{any: &terms [{terms}]}}\n{tags}\n"
    cfg = parse_config(text, tmp_path)  # 9,800 values through aliases
    assert [len(rule.any) for rule in cfg.rules.tags] == [200] * 50


def test_merge_key_merges_mappings(tmp_path: Path) -> None:
    text = """\
tags:
  base: &base {any: [alpha], weight: 2, min_score: 1}
  derived:
    <<: *base
    weight: 3
  both:
    <<: [{any: [gamma], weight: 4}, *base]
themes:
  - &theme {name: One, tags: [base], priority: 2}
  - {<<: *theme, name: Two}
"""
    cfg = parse_config(text, tmp_path)
    tags = {rule.name: rule for rule in cfg.rules.tags}
    assert (tags["derived"].weight, tags["derived"].min_score) == (3.0, 1.0)
    assert [t.source for t in tags["derived"].any] == ["alpha"]
    # Earlier merges win over later ones; written keys over both.
    assert (tags["both"].weight, [t.source for t in tags["both"].any]) == (4.0, ["gamma"])
    assert [(t.name, t.priority) for t in cfg.rules.themes] == [("One", 2.0), ("Two", 2.0)]


def test_merged_keys_are_checked_like_written_ones(tmp_path: Path) -> None:
    text = "x: &bad {any: [a], wieght: 2}\ntags:\n  t: {<<: *bad}\n"
    with pytest.raises(ConfigError) as info:
        parse_config(text, tmp_path, display="feed.yaml")
    got = [str(p) for p in info.value.problems]
    assert any("tags.t.wieght: unknown key (did you mean 'weight'?" in p for p in got), got


# -- 2. numbers ----------------------------------------------------------------------------

HUGE = "1" + "0" * 50


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"output: {{theme_feed_items: {HUGE}}}", "output.theme_feed_items: expected a whole "
         "number from 1 to 10,000, got 10000000... (51 digits)"),
        ("output: {feed_items: .inf}", "output.feed_items: expected a whole number"),
        ("output: {feed_items: 0}", "output.feed_items: expected a whole number from 1"),
        ("tags: {a: {any: [x], weight: .nan}}", "tags.a.weight: expected a number above 0 to "
         "1000, got nan"),
        ("tags: {a: {any: [x], weight: .inf}}", "tags.a.weight: expected a number above 0"),
        (f"tags: {{a: {{any: [x], weight: {HUGE}}}}}", "tags.a.weight: expected a number above"),
        ("tags: {a: {any: [x], min_score: .nan}}", "tags.a.min_score: expected a number from 0"),
        ("tags: {a: {any: [x], min_score: -.inf}}", "tags.a.min_score: expected a number from 0"),
        ("tags: {a: {any: [{term: x, weight: .nan}]}}", "tags.a.any[0].weight: expected a number"),
        ("tags: {a: {any: [x]}}\nthemes: [{name: A, tags: [a], priority: .nan}]",
         "themes[0].priority: expected a number from -1e+06 to 1e+06, got nan"),
        (f"tags: {{a: {{any: [x]}}}}\nthemes: [{{name: A, tags: [a], priority: -{HUGE}}}]",
         "themes[0].priority: expected a number from -1e+06"),
    ],
)  # fmt: skip
def test_every_number_has_a_finite_range(
    runner: CliRunner, tmp_path: Path, text: str, expected: str
) -> None:
    assert expected in check(runner, tmp_path, "title: T\n" + text + "\n")


EMAIL = """\
title: T
tags: {a: {any: [x]}}
email:
  from: "Digest <d@example.org>"
  to: [r@example.org]
  list_id: t.example.org
  unsubscribe: "mailto:u@example.org"
"""


@pytest.mark.parametrize(
    ("smtp", "expected"),
    [
        ("{timeout: .nan}", "email.smtp.timeout: expected a number of seconds from 1 to 600, "
         "got nan"),
        ("{timeout: .inf}", "email.smtp.timeout: expected a number of seconds"),
        ("{timeout: 0}", "email.smtp.timeout: expected a number of seconds"),
        ("{backoff: .nan}", "email.smtp.backoff: expected a number of seconds from 0 to 300"),
        ("{retries: 2.5}", "email.smtp.retries: expected a whole number from 0 to 8, got 2.5"),
        (f"{{retries: {HUGE}}}", "email.smtp.retries: expected a whole number"),
        (f"{{port: {HUGE}}}", "email.smtp.port: expected a port number"),
    ],
)  # fmt: skip
def test_smtp_numbers_have_finite_ranges(
    runner: CliRunner, tmp_path: Path, smtp: str, expected: str
) -> None:
    assert expected in check(runner, tmp_path, EMAIL + f"  smtp: {smtp}\n")


def test_max_html_bytes_has_a_range(runner: CliRunner, tmp_path: Path) -> None:
    err = check(runner, tmp_path, EMAIL + f"  max_html_bytes: {HUGE}\n")
    assert "email.max_html_bytes: expected a whole number from 10000 to 10,000,000" in err


# -- 3. email addresses --------------------------------------------------------------------

INJECTION = "=?utf-8?q?a=0D=0ABcc:_evil@x?= <a@b.org>"


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        (INJECTION, "hides a control character or line break"),
        ("=?utf-8?q?=1B[31mred?= <a@b.org>", "expected exactly one address"),
        ("a@example.org\r\nBcc: evil@example.org", "control character or line break"),
        ("ä@example.org", "needs SMTPUTF8, which digest does not use"),
        ("a@straße.de", "write it in its xn-- form"),
        ("a@" + "ä" * 70 + ".org", "not a valid international domain name"),
        ("a@b.org, c@d.org", "expected exactly one address"),
    ],
)
def test_bad_addresses_are_refused_with_a_reason(
    runner: CliRunner, tmp_path: Path, address: str, expected: str
) -> None:
    assert expected in (mail.address_problem(address) or "")
    # In feed.yaml: both 'from' and 'to' are checked.
    quoted = json.dumps(address)
    err = check(runner, tmp_path, EMAIL.replace('"Digest <d@example.org>"', quoted))
    assert "email.from: not one valid email address" in err and expected in err
    err = check(runner, tmp_path, EMAIL.replace("[r@example.org]", f"[{quoted}]"))
    assert "email.to[0]: not one valid email address" in err and expected in err


def test_send_refuses_an_injected_recipient(runner: CliRunner, feed: Path) -> None:
    result = runner.invoke(cli, ["send", str(feed), "--to", INJECTION, "--dry-run", *TODAY])
    err = clean(result, 1)
    assert "not one valid email address (it hides a control character" in err
    assert result.stdout == "" and "\r" not in err


def test_an_international_domain_is_sent_idna_encoded(runner: CliRunner, feed: Path) -> None:
    clean(runner.invoke(cli, ["run", str(feed), "-j", "1", *TODAY]), 0)
    args = ["send", str(feed), "--to", "Zoë <zoe@exämple.org>", "--dry-run", *TODAY]
    result = runner.invoke(cli, args)
    clean(result, 0)
    msg = message_from_bytes(result.stdout_bytes, policy=policy.default)
    head = result.stdout_bytes.split(b"\n\n", 1)[0]
    assert b"xn--exmple-cua.org" in head and head.isascii()
    (address,) = msg["To"].addresses
    assert (address.display_name, address.addr_spec) == ("Zoë", "zoe@xn--exmple-cua.org")


def test_headers_are_checked_as_built(monkeypatch: pytest.MonkeyPatch) -> None:
    from email.message import EmailMessage

    msg = EmailMessage(policy=mail.POLICY)
    msg["From"] = "d@example.org"
    msg["To"] = "a@example.org"
    mail._check_headers(msg)
    msg.replace_header("To", "a@example.org, b@example.org")
    with pytest.raises(mail.MailError, match="To header is not one address"):
        mail._check_headers(msg)


# -- 4. command-line values ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["run", "--today", "0001-01-01"], "expected a date in the years 1900-2999"),
        (["run", "--today", "9999-12-31"], "expected a date in the years 1900-2999"),
        (["run", "--today", "2026-02-30"], "expected YYYY-MM-DD"),
        (["run", "--lock-timeout", "nan"], "expected a finite number of seconds"),
        (["run", "--lock-timeout", "inf"], "not in the range 0<=x<=86400"),
        (["run", "--lock-timeout", "-1"], "not in the range"),
        (["run", "--lock-timeout", "1e309"], "not in the range"),
        (["ingest", "--jobs", "100000000000000000000", "x"], "not in the range 0<=x<=256"),
        (["run", "--jobs", "-1"], "not in the range"),
        (["send", "--week", "2025-W99", "--dry-run"], "the year 2025 has no week 99"),
        (["send", "--week", "2025-W53", "--dry-run"], "the year 2025 has no week 53"),
        (["send", "--week", "0000-W01", "--dry-run"], "expected a week in the years 1900-2999"),
        (["send", "--week", "9999-W52", "--dry-run"], "expected a week in the years 1900-2999"),
        (["send", "--week", "2025-w1\x1b[31m", "--dry-run"], "got '2025-w1\\x1b[31m'"),
        (["export", "--format", "csv"], "'csv' is not 'jsonl'"),
        (["explain", "x" * 100_000], "at most 2000 characters"),
        (["ingest", "--format", "pdf", "x.txt"], "'pdf' is not one of 'auto', 'arxiv-rss'"),
    ],
)
def test_bad_command_line_values_are_usage_errors(
    runner: CliRunner, feed: Path, args: list[str], expected: str
) -> None:
    command, *rest = args
    err = clean(runner.invoke(cli, [command, str(feed), *rest]), 2)
    assert expected in err


def test_feed_dir_variants(runner: CliRunner, tmp_path: Path) -> None:
    a_file = tmp_path / "file"
    a_file.write_text("x")
    err = clean(runner.invoke(cli, ["run", str(tmp_path / "missing")]), 1)
    assert "does not exist" in err
    err = clean(runner.invoke(cli, ["export", str(a_file)]), 1)
    assert f"feed folder {a_file} is a file, not a folder" in err
    evil = tmp_path / "x\x1b[2J"
    evil.write_text("x")
    err = clean(runner.invoke(cli, ["check", str(evil)]), 1)
    assert "x\\x1b[2J is a file, not a folder" in err and "\x1b" not in err


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"title: T\nauthor: \xff\xfe\n", "feed.yaml:2: not UTF-8 text (byte 0xff)"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "not UTF-8 text"),
        (b"", "the file is empty"),
        (b"- a\n- b\n", "expected a mapping of settings at the top level"),
        (b"just text\n", "expected a mapping of settings at the top level"),
    ],
)
def test_feed_yaml_that_is_not_a_config(
    runner: CliRunner, tmp_path: Path, data: bytes, expected: str
) -> None:
    assert expected in check(runner, tmp_path, data)


def test_a_feed_yaml_that_is_too_large(runner: CliRunner, tmp_path: Path) -> None:
    assert "larger than 10 MB" in check(runner, tmp_path, b"# " + b"x" * 10_000_001)


# -- 5. the last net: the environment, and what reaches the terminal -------------------------


def test_path_arguments_are_reported_escaped(runner: CliRunner, feed: Path) -> None:
    evil = feed / "listings" / "x\x1b[2J.txt"
    evil.mkdir()
    args = ["ingest", str(feed), str(evil), "-j", "1", *TODAY]
    err = clean(runner.invoke(cli, args), 3)
    assert "x\\x1b[2J.txt: no such file" in err and "\x1b" not in err
    args = ["run", str(feed), "--out", str(feed / "feed.yaml"), "-j", "1", *TODAY]
    err = clean(runner.invoke(cli, args), 1)
    assert "cannot write" in err and "feed.yaml/2026-W11.md" in err


def test_a_real_os_error_names_its_path(runner: CliRunner, feed: Path) -> None:
    out = feed / "feed.yaml" / "site"  # a folder under a file: ENOTDIR
    err = clean(runner.invoke(cli, ["run", str(feed), "--out", str(out), "-j", "1", *TODAY]), 1)
    assert f"cannot write {out}/" in err and "Not a directory" in err


@pytest.mark.parametrize(
    ("error", "expected", "hint"),
    [
        (OSError(errno.ENOSPC, "No space left on device", "/o/week.html"),
         "cannot write /o/week.html: No space left on device", "free some space"),
        (OSError(errno.EROFS, "Read-only file system", "/o/a.tmp", None, "/o/a.html"),
         "cannot write /o/a.tmp -> /o/a.html: Read-only file system", "read-only"),
        (PermissionError(errno.EACCES, "Permission denied", "/o/rss.xml"),
         "cannot use /o/rss.xml: Permission denied", "may read and write there"),
        (sqlite3.OperationalError("database or disk is full"),
         "the store failed: database or disk is full", "restore it from a backup"),
        (sqlite3.DatabaseError("database disk image is malformed"),
         "the store failed: database disk image is malformed", "restore it from a backup"),
    ],
)  # fmt: skip
def test_environment_failures_become_one_message(
    runner: CliRunner,
    feed: Path,
    monkeypatch: pytest.MonkeyPatch,
    error: Exception,
    expected: str,
    hint: str,
) -> None:
    def fail(*args: object, **kwargs: object) -> None:
        raise error

    monkeypatch.setattr(run_command, "run", fail)
    err = clean(runner.invoke(cli, ["run", str(feed), *TODAY]), 1)
    assert f"digest: error: {expected} (during 'digest run')" in err
    assert f"digest: hint: {hint}" in err or hint in err


@pytest.mark.parametrize(
    "error", [sqlite3.IntegrityError("UNIQUE constraint failed"), KeyError("bug")]
)
def test_a_bug_keeps_its_traceback(
    runner: CliRunner, feed: Path, monkeypatch: pytest.MonkeyPatch, error: Exception
) -> None:
    def fail(*args: object, **kwargs: object) -> None:
        raise error

    monkeypatch.setattr(run_command, "run", fail)
    result = runner.invoke(cli, ["run", str(feed), *TODAY])
    assert result.exception is error


def test_messages_escape_terminal_controls(runner: CliRunner, tmp_path: Path) -> None:
    evil = tmp_path / "bad\x1b[31m\u202e\rname"
    evil.mkdir()
    err = clean(runner.invoke(cli, ["check", str(evil)]), 1)
    assert "\x1b" not in err and "\r" not in err and "\u202e" not in err
    assert "bad\\x1b[31m\\u202e\\x0dname/feed.yaml: no feed.yaml here" in err
    result = runner.invoke(cli, ["--log-format", "json", "check", str(evil)])
    record = json.loads(clean(result, 1).splitlines()[0])
    assert "bad\x1b[31m" in record["message"]  # JSON escapes it on the wire


def test_printable() -> None:
    assert printable("a\x1b[2Jb\nc\x9b\u2028\udcff é ✓") == "a\\x1b[2Jb\\x0ac\\x9b\\u2028\\xff é ✓"
    problem = Problem("f\x1b.txt", 3, "title \x07 here")
    assert printable(str(problem)) == "f\\x1b.txt:3: title \\x07 here"


# -- property: any feed.yaml-ish text is a config or a list of problems ---------------------

KEYS = sorted(
    TOP_KEYS
    | EMAIL_KEYS
    | SMTP_KEYS
    | {"any", "all", "none", "weight", "min_score", "field", "term", "regex", "case"}
    | {"name", "priority", "merge", "split", "feed_items", "theme_feed_items", "dir", "<<"}
)
ODD_SCALARS = [
    ".nan", ".inf", "-.inf", HUGE, "1e400", "0x1F", "0o17", "2025-02-30", "2025-01-01",
    "2025-01-01 10:00:00", "~", "true", "no", "''", "!!python/name:os.system x",
    "!!binary aGk=", "!foo x", "!!str 3", "!!int x", "!!float y", "*a", "*b", "'x@y.org'",
    '"=?utf-8?q?a=0D=0ABcc:_e@x?= <a@b.org>"', '"a@exämple.org"', '"\\x1b[31m"', '"\\ud800"',
    "re:(a|a)*b", "-1", "0", "3", "2.5", "1e-320",
]  # fmt: skip
scalars = st.one_of(
    st.sampled_from(ODD_SCALARS),
    st.text(max_size=12).map(lambda s: json.dumps(s)),
)


def _mapping(items: list[tuple[str, str]]) -> str:
    return "{" + ", ".join(f"{k}: {v}" for k, v in items) + "}"


values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4).map(lambda xs: "[" + ", ".join(xs) + "]"),
        st.lists(st.tuples(st.sampled_from(KEYS), inner), max_size=4).map(_mapping),
        st.tuples(st.sampled_from(["&a ", "&b ", "!!map ", "!!seq ", ""]), inner).map(
            lambda pair: pair[0] + pair[1]
        ),
    ),
    max_leaves=25,
)
documents = st.lists(st.tuples(st.sampled_from(KEYS), values), max_size=8).map(
    lambda items: "".join(f"{k}: {v}\n" for k, v in items)
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents)
def test_any_feed_yaml_is_a_config_or_located_problems(text: str) -> None:
    root = Path(tempfile.gettempdir())
    try:
        parse_config(text, root, display="feed.yaml")
    except ConfigError as err:
        assert err.problems
        for problem in err.problems:
            assert printable(str(problem)).isprintable()
