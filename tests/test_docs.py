"""The documentation (README.md and docs/*.md) against the code.

- every feed.yaml example validates with ``digest check`` (the one example of a broken
  file gives exactly the documented messages), every key the code knows is documented
  and every documented key is one the code knows;
- every ``digest`` command line in an example is a real command with real options, and
  every command and option is documented in docs/commands.md;
- the scheduling examples (crontab, systemd units, GitHub Actions) parse;
- the exit codes documented are the code's;
- every relative link resolves to an existing file and heading;
- the README stays a short page with the commands a newcomer types.

The code's keys are learnt from its own "unknown key (known: ...)" messages, through
the command line, so these tests hold whatever module the validation lives in.
"""

from __future__ import annotations

import configparser
import re
import shlex
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote

import click
import pytest
import yaml

from digest import errors
from digest.cli import cli

ROOT = Path(__file__).parent.parent
README_PATH = ROOT / "README.md"
DOCS = ROOT / "docs"
README = README_PATH.read_text(encoding="utf-8")
PAGES = [README_PATH, *sorted(DOCS.glob("*.md"))]
FENCE = re.compile(r"^```([\w-]*)\n(.*?)\n```$", flags=re.S | re.M)

INSTALL_AND_RUN = (
    "python3 -m venv .venv && . .venv/bin/activate && pip install . && digest run feeds/example"
)
TEST_COMMAND = (
    "python3 -m venv .venv && . .venv/bin/activate && pip install -e '.[test]' && python -m pytest"
)
README_MAX_BYTES = 10_240
"""The README is what a newcomer reads first (and PyPI shows); the reference is in docs/."""


def read(page: Path) -> str:
    return page.read_text(encoding="utf-8")


def blocks(lang: str, pages: list[Path] = PAGES) -> list[str]:
    """Fenced code blocks of language ``lang`` ('' for unmarked ones) in ``pages``."""
    return [code for page in pages for kind, code in FENCE.findall(read(page)) if kind == lang]


def doc(name: str) -> str:
    return read(DOCS / name)


def check_digest_command(command: str) -> None:
    """Parse a shell command line; every digest invocation must parse with our click CLI."""
    for part in re.split(r"&&|;|\|", command):
        argv = shlex.split(part, comments=True)
        if not argv or not argv[0].endswith("digest"):
            continue
        # click resolves options and arguments exactly as a real invocation would.
        ctx = cli.make_context("digest", argv[1:], resilient_parsing=False)
        # click 8 keeps the subcommand apart from the rest ("protected" args).
        rest = [*getattr(ctx, "_protected_args", []), *ctx.args]
        assert rest and rest[0] in cli.commands, argv  # type: ignore[attr-defined]
        command_obj = cli.commands[rest[0]]  # type: ignore[attr-defined]
        command_obj.make_context(rest[0], rest[1:], parent=ctx)


def digest_check(tmp_path: Path, name: str, feed_yaml: str) -> subprocess.CompletedProcess[str]:
    """``digest check NAME`` run in ``tmp_path`` on a feed folder holding ``feed_yaml``."""
    feed = tmp_path / name
    feed.mkdir()
    (feed / "feed.yaml").write_text(feed_yaml, encoding="utf-8")
    return subprocess.run(
        [sys.executable, "-m", "digest", "check", name],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )


# -- scheduling examples --------------------------------------------------------------------


def test_crontab_lines() -> None:
    found = blocks("cron")
    assert blocks("cron", [README_PATH]) and blocks("cron", [DOCS / "operations.md"])
    for block in found:
        lines = [line for line in block.splitlines() if line.strip() and not line.startswith("#")]
        assert lines
        for line in lines:
            fields = line.split(None, 5)
            assert len(fields) == 6
            ranges = [(0, 59), (0, 23), (1, 31), (1, 12), (0, 7)]
            for value, (low, high) in zip(fields[:5], ranges, strict=True):
                for item in value.split(","):
                    if item == "*":
                        continue
                    assert low <= int(item.split("/")[0]) <= high
            check_digest_command(fields[5])


def test_systemd_units() -> None:
    service, timer = blocks("ini", [DOCS / "operations.md"])
    unit = configparser.ConfigParser(strict=True, interpolation=None)
    unit.optionxform = str  # type: ignore[assignment,method-assign]
    unit.read_string(service)
    assert unit["Service"]["Type"] == "oneshot"
    check_digest_command(unit["Service"]["ExecStart"])
    tim = configparser.ConfigParser(strict=True, interpolation=None)
    tim.optionxform = str  # type: ignore[assignment,method-assign]
    tim.read_string(timer)
    assert tim["Timer"]["OnCalendar"] and tim["Install"]["WantedBy"] == "timers.target"


def test_github_actions_workflow() -> None:
    (workflow,) = [b for b in blocks("yaml", [DOCS / "operations.md"]) if "jobs:" in b]
    data = yaml.safe_load(workflow)
    assert data[True]["schedule"][0]["cron"]  # YAML 1.1 reads the key "on" as True
    steps = data["jobs"]["build"]["steps"]
    runs = [s["run"] for s in steps if "run" in s]
    assert any("digest" in r for r in runs)
    for command in runs:
        check_digest_command(command)


# -- commands -------------------------------------------------------------------------------


def test_readme_holds_the_two_commands_verbatim() -> None:
    """Both commands work from the README alone (PyPI shows it without docs/)."""
    sh = blocks("sh", [README_PATH])
    assert INSTALL_AND_RUN in sh and TEST_COMMAND in sh
    check_digest_command(INSTALL_AND_RUN)


def example_command_lines() -> list[str]:
    """Every digest command line in an example: each line of a sh block, and each
    ``$ digest ...`` line of a console or plain block."""
    lines = [line for block in blocks("sh") for line in block.splitlines()]
    for lang in ("console", ""):
        for block in blocks(lang):
            lines += [line[2:] for line in block.splitlines() if line.startswith("$ ")]
    return [line for line in lines if "digest " in line]


def test_examples_are_found() -> None:
    lines = example_command_lines()
    assert any(line.startswith("digest send") for line in lines)
    assert any(line.startswith("digest explain") for line in lines)


@pytest.mark.parametrize("line", example_command_lines())
def test_every_example_command_is_real(line: str) -> None:
    check_digest_command(line)


def command_section(name: str) -> str:
    text = doc("commands.md")
    start = text.index(f"## `digest {name}")
    end = text.find("\n## ", start + 1)
    return text[start : end if end > 0 else len(text)]


@pytest.mark.parametrize("name", sorted(cli.commands))  # type: ignore[attr-defined]
def test_every_command_and_option_is_documented(name: str) -> None:
    assert f"`digest {name}" in README  # the README's commands table
    section = command_section(name)
    command = cli.commands[name]  # type: ignore[attr-defined]
    for param in command.params:
        if isinstance(param, click.Option):
            for opt in param.opts:
                if opt.startswith("--"):
                    assert f"`{opt}" in section, (name, opt)


def test_global_options_are_documented() -> None:
    text = doc("commands.md")
    for param in cli.params:
        if isinstance(param, click.Option) and param.name != "help":
            assert any(f"`{opt}" in text for opt in param.opts), param.opts


def test_exit_codes_match_the_code() -> None:
    codes = {
        errors.EXIT_OK,
        errors.EXIT_FAILURE,
        errors.EXIT_USAGE,
        errors.EXIT_WARNINGS,
        errors.EXIT_LOCKED,
    }
    for text in (README.split("## Exit codes", 1)[1], doc("operations.md")):
        table = re.findall(r"^\| (\d+) \|", text, flags=re.M)
        assert {int(code) for code in table[: len(codes)]} == codes


@pytest.mark.parametrize("bad", ["digest run", "digest run x --no-such-option", "digest fly x"])
def test_the_checker_itself_rejects_bad_commands(bad: str) -> None:
    with pytest.raises((click.UsageError, AssertionError)):
        check_digest_command(bad)


# -- feed.yaml ------------------------------------------------------------------------------

PROBE = """\
zzz: 1
output: {zzz: 1}
sources: [{path: "*.txt", zzz: 1}]
identity: {zzz: 1}
tags: {t: {any: [{term: x, zzz: 1}], zzz: 1}}
themes: [{name: T, tags: [t], zzz: 1}]
email: {zzz: 1, smtp: {zzz: 1}}
"""
SECTIONS = {
    "": "",
    "output.": "output.",
    "sources[0].": "sources.",
    "identity.": "identity.",
    "tags.t.": "tag.",
    "tags.t.any[0].": "term.",
    "themes[0].": "theme.",
    "email.": "email.",
    "email.smtp.": "email.smtp.",
}


@pytest.fixture(scope="module")
def known_keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, set[str]]:
    """Section ('', 'output.', 'tag.', ...) -> the keys the code accepts there, from its
    own messages about an unknown key in every section."""
    result = digest_check(tmp_path_factory.mktemp("probe"), "probe", PROBE)
    assert result.returncode == 1
    found: dict[str, set[str]] = {}
    pattern = (
        r"feed\.yaml:\d+:\d+: (\S*?)zzz: unknown key "
        r"\((?:did you mean .*?\? )?known: ([^)]*)\)"
    )
    for where, known in re.findall(pattern, result.stderr + result.stdout):
        found[SECTIONS[where]] = set(known.split(", "))
    assert set(found) == set(SECTIONS.values()), result.stderr
    return found


def test_every_key_is_documented(known_keys: dict[str, set[str]]) -> None:
    reference, rules = doc("feed-yaml.md"), doc("rules.md")
    for section, keys in known_keys.items():
        for key in keys:
            if section in ("tag.", "theme.", "term."):
                assert f"`{key}`" in rules, (section, key)
            elif section == "sources.":
                assert f"{key}:" in reference, (section, key)  # {path: GLOB}, format: csv
            elif f"{section}{key}." in known_keys:
                # a section: `sources`, or its keys (`output.dir`, `email.smtp.host`)
                name = f"{section}{key}"
                assert f"`{name}`" in reference or f"`{name}." in reference, name
            else:
                assert f"`{section}{key}`" in reference, (section, key)


def test_every_documented_key_exists(known_keys: dict[str, set[str]]) -> None:
    rows = re.findall(r"^\| `([^|]+)` \|", doc("feed-yaml.md"), flags=re.M)
    keys = [k.strip("`") for row in rows for k in row.split("` / `")]
    assert "email.smtp.backoff" in keys and "title" in keys
    for key in keys:
        section, _, name = key.rpartition(".")
        assert name in known_keys[f"{section}." if section else ""], key


def yaml_examples() -> list[str]:
    """Every yaml block that is (part of) a feed.yaml: all but the Actions workflow."""
    return [b for b in blocks("yaml") if "jobs:" not in b]


@pytest.mark.parametrize("example", yaml_examples())
def test_feed_yaml_examples_validate(
    example: str, known_keys: dict[str, set[str]], tmp_path: Path
) -> None:
    data = yaml.safe_load(example)
    assert isinstance(data, dict)
    if not set(data) <= known_keys[""]:
        # A fragment of a tag (its `any` list, say): check it inside a tag.
        assert set(data) <= known_keys["tag."], sorted(data)
        indented = "\n".join("    " + line for line in example.splitlines())
        example = f"tags:\n  example:\n{indented}\n"
    if "nome:" in example:
        return  # the documented broken file: test_documented_problems_are_the_real_ones
    result = digest_check(tmp_path, "feed", example)
    assert result.returncode == 0, result.stderr
    assert "is valid" in result.stdout


def test_documented_problems_are_the_real_ones(tmp_path: Path) -> None:
    """rules.md shows a broken feed.yaml and what `digest check rbad` says: exactly that."""
    text = doc("rules.md")
    (broken,) = [b for b in blocks("yaml", [DOCS / "rules.md"]) if "nome:" in b]
    said = text.split("`digest check rbad` says:", 1)[1]
    expected = FENCE.search(said)
    assert expected is not None
    result = digest_check(tmp_path, "rbad", broken)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == expected.group(2).strip().splitlines()


# -- the pages ------------------------------------------------------------------------------


def test_readme_is_short() -> None:
    assert len(README.encode("utf-8")) <= README_MAX_BYTES
    assert "docs/feed-yaml.md" in README and "docs/operations.md" in README


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = heading.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    text = FENCE.sub("", read(page))
    seen: dict[str, int] = {}
    out = set()
    for heading in re.findall(r"^#{1,6} (.+)$", text, flags=re.M):
        base = slug(heading)
        n = seen.get(base, 0)
        seen[base] = n + 1
        out.add(base if n == 0 else f"{base}-{n}")
    return out


def relative_links(page: Path) -> list[str]:
    text = FENCE.sub("", read(page))
    text = re.sub(r"`[^`\n]*`", "", text)  # inline code is no link
    targets = re.findall(r"\]\(([^)\s]+)\)", text)
    return [t for t in targets if not re.match(r"[a-z][a-z0-9+.-]*:", t)]


LINKED_PAGES = [*PAGES, ROOT / "DEVELOPERS.md", ROOT / "benchmarks" / "README.md"]


@pytest.mark.parametrize("page", LINKED_PAGES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_relative_links_resolve(page: Path) -> None:
    for target in relative_links(page):
        path, _, anchor = target.partition("#")
        dest = (page.parent / unquote(path)).resolve() if path else page
        assert dest.exists(), f"{page.name}: {target}"
        if anchor:
            assert dest.suffix == ".md", f"{page.name}: {target}"
            assert anchor in anchors(dest), f"{page.name}: {target}"


def test_every_docs_page_is_linked_from_the_readme() -> None:
    for page in DOCS.glob("*.md"):
        assert f"](docs/{page.name})" in README, page.name


def test_the_link_checker_itself_sees_a_broken_link(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text("# Title\n\n[a](page.md#title) [b](page.md#nope) [c](gone.md)\n")
    assert relative_links(page) == ["page.md#title", "page.md#nope", "gone.md"]
    assert anchors(page) == {"title"}
    assert slug("`digest check`: how the rules fare") == "digest-check-how-the-rules-fare"
    assert slug("`digest run FEED_DIR`") == "digest-run-feed_dir"


def test_the_module_tree_in_development_md_names_every_module() -> None:
    """docs/development.md lists every module of digest/ and nothing that is gone."""
    root = Path(__file__).resolve().parents[1]
    text = (root / "docs" / "development.md").read_text("utf-8")
    listed = set(re.findall(r"^    (digest/\S+\.py) ", text, re.MULTILINE))
    actual = {p.relative_to(root).as_posix() for p in (root / "digest").rglob("*.py")}
    assert listed == actual, (sorted(actual - listed), sorted(listed - actual))


def test_every_option_environment_variable_is_documented() -> None:
    """Each option's DIGEST_* variable (click's auto_envvar_prefix naming, or the option's own
    envvar) is named in docs/commands.md, and every DIGEST_ name there is a real one."""
    names = {
        param.envvar or f"DIGEST_{param.name.upper()}"
        for param in cli.params
        if isinstance(param, click.Option) and param.allow_from_autoenv and param.name != "help"
    }
    for command_name, command in cli.commands.items():  # type: ignore[attr-defined]
        prefix = "DIGEST_" + command_name.upper().replace("-", "_")
        for param in command.params:
            if (
                isinstance(param, click.Option)
                and param.name != "help"
                and (param.allow_from_autoenv or param.envvar)
            ):
                names.add(param.envvar or f"{prefix}_{param.name.upper()}")
    documented = set(re.findall(r"`(DIGEST_[A-Z_]+)`", doc("commands.md")))
    assert names - documented == set()
    assert documented - names == set()
