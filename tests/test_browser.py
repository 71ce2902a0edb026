"""The example site in a real browser (Debian's Chromium driven by Playwright).

Proves what only a browser can: the table of contents links land on their sections,
a hostile title renders as text and nothing on the page runs, no request leaves the
page, nothing scrolls sideways on a 390 px phone, in light and dark mode. Screenshots
go to tests/artifacts/ for a person to look at.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import BuiltFeed, copy_example, run_feed

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).parent / "artifacts"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
HOSTILE = (
    "Diffusion <script>window.pwned = 1</script> with "
    '<img src=x onerror="window.pwned = 2; alert(2)"> and PixArt-$\\alpha$'
)

pytestmark = pytest.mark.browser

if not CHROMIUM.exists():
    if os.environ.get("DIGEST_REQUIRE_BROWSER"):
        raise RuntimeError("DIGEST_REQUIRE_BROWSER is set but /usr/bin/chromium is missing")
    pytest.skip("/usr/bin/chromium is missing", allow_module_level=True)

from playwright.sync_api import Browser, Page, Request, Route, sync_playwright  # noqa: E402


@pytest.fixture(scope="module")
def hostile_example(tmp_path_factory: pytest.TempPathFactory) -> BuiltFeed:
    """The example feed plus one listing whose title tries to inject markup."""
    root = copy_example(tmp_path_factory.mktemp("hostile") / "feed")
    (root / "listings" / "999_hostile.txt").write_text(
        f"Mar 12\n\n{HOSTILE}\n\nAn abstract about diffusion, see javascript:alert(3) "
        "and https://example.org/paper.\n",
        encoding="utf-8",
    )
    return run_feed(root)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


class Recorder:
    """Routes every request of a page: file:// under the site is served, anything
    else is aborted and remembered."""

    def __init__(self, site: Path) -> None:
        self.prefix = site.resolve().as_uri()
        self.seen: list[str] = []
        self.blocked: list[str] = []

    def __call__(self, route: Route, request: Request) -> None:
        self.seen.append(request.url)
        if request.url.startswith(self.prefix):
            route.continue_()
        else:
            self.blocked.append(request.url)
            route.abort()


def open_page(
    browser: Browser, path: Path, width: int, height: int, scheme: str = "light"
) -> tuple[Page, Recorder, list[str]]:
    context = browser.new_context(
        viewport={"width": width, "height": height},
        color_scheme=scheme,  # type: ignore[arg-type]
    )
    recorder = Recorder(path.parent)
    context.route("**/*", recorder)
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.on("pageerror", lambda e: dialogs.append(f"error: {e}"))
    page.goto(path.resolve().as_uri())
    page.wait_for_load_state("load")
    return page, recorder, dialogs


def test_table_of_contents_links_land(browser: Browser, built_example: BuiltFeed) -> None:
    page, _, _ = open_page(browser, built_example.site / "2026-W11.html", 1280, 900)
    links = page.locator("nav.toc a")
    assert links.count() >= 5
    for i in range(links.count()):
        link = links.nth(i)
        slug = (link.get_attribute("href") or "")[1:]
        link.click()
        page.wait_for_function(f"location.hash === '#{slug}'")
        top = page.evaluate(f"document.getElementById('{slug}').getBoundingClientRect().top")
        # A section stops just below the sticky theme menu (its scroll-margin-top).
        margin = page.evaluate(
            f"parseFloat(getComputedStyle(document.getElementById('{slug}')).scrollMarginTop)"
        )
        at_bottom = page.evaluate(
            "window.scrollY + innerHeight >= document.documentElement.scrollHeight - 1"
        )
        assert abs(top - margin) <= 2 or at_bottom, (slug, top, margin)
        heading = page.locator(f"#{slug} h2")
        assert heading.is_visible() and heading.inner_text() == link.inner_text()
    page.context.close()


def test_hostile_title_is_text_and_nothing_runs(
    browser: Browser, hostile_example: BuiltFeed
) -> None:
    page, recorder, dialogs = open_page(browser, hostile_example.site / "2026-W11.html", 390, 900)
    titles = page.locator("article h3").all_inner_texts()
    assert any("<script>window.pwned = 1</script>" in t and "PixArt-α" in t for t in titles)
    assert page.evaluate("document.querySelectorAll('script, img, iframe').length") == 0
    assert page.evaluate("typeof window.pwned") == "undefined"
    assert dialogs == []
    assert recorder.blocked == []
    article = page.locator("article", has_text="window.pwned")
    article.scroll_into_view_if_needed()
    ARTIFACTS.mkdir(exist_ok=True)
    article.screenshot(path=str(ARTIFACTS / "hostile-title-phone.png"))
    hrefs = article.locator("a").evaluate_all("els => els.map(e => e.href)")
    # The title links to a title search (the listing gave no URL), the abstract's URL is
    # linked, the theme and tags link to their pages on the site: nothing else, no other
    # scheme.
    assert hrefs[0].startswith("https://arxiv.org/search/?query=Diffusion%20%3Cscript%3E")
    assert "https://example.org/paper" in hrefs
    site = hostile_example.site.resolve().as_uri() + "/"
    own = (page.url.split("#")[0] + "#", site + "themes/", site + "tags/")
    assert all(h.startswith(("https://", *own)) for h in hrefs), hrefs
    page.context.close()


@pytest.mark.parametrize("name", ["2026-W11.html", "2026-W18.html", "index.html"])
def test_no_request_leaves_the_page(browser: Browser, built_example: BuiltFeed, name: str) -> None:
    page, recorder, dialogs = open_page(browser, built_example.site / name, 1280, 900)
    # Open every collapsed abstract too: what they hold must not fetch anything either.
    page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
    page.wait_for_timeout(200)
    assert recorder.blocked == []
    assert recorder.seen == [(built_example.site / name).resolve().as_uri()]
    assert dialogs == []
    page.context.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("name", ["2026-W11.html", "2026-W18.html", "index.html"])
def test_no_horizontal_scroll_on_a_phone(
    browser: Browser, built_example: BuiltFeed, name: str, scheme: str
) -> None:
    page, _, _ = open_page(browser, built_example.site / name, 390, 844, scheme)
    page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
    width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], f"{name} is {width[0]} px wide on a {width[1]} px screen"
    # (The theme menu is a strip that scrolls sideways by itself: the page does not.)
    wide = page.evaluate(
        "[...document.querySelectorAll('main *')]"
        ".filter(e => !e.closest('nav.menu'))"
        ".filter(e => e.getBoundingClientRect().right > innerWidth + 0.5)"
        ".map(e => e.tagName + '.' + e.className).slice(0, 5)"
    )
    assert wide == []
    page.context.close()


def test_dark_mode_follows_the_system(browser: Browser, built_example: BuiltFeed) -> None:
    colors = {}
    for scheme in ("light", "dark"):
        page, _, _ = open_page(browser, built_example.site / "2026-W18.html", 390, 844, scheme)
        colors[scheme] = page.evaluate("getComputedStyle(document.body).backgroundColor")
        page.context.close()
    assert colors == {"light": "rgb(255, 255, 255)", "dark": "rgb(15, 18, 22)"}


def test_screenshots(browser: Browser, built_example: BuiltFeed) -> None:
    """Desktop and phone screenshots for a person to look at (tests/artifacts/)."""
    ARTIFACTS.mkdir(exist_ok=True)
    shots = [
        ("week-desktop.png", "2026-W18.html", 1280, 1000, "light"),
        ("week-phone.png", "2026-W18.html", 390, 844, "light"),
        ("week-phone-dark.png", "2026-W18.html", 390, 844, "dark"),
        ("index-desktop.png", "index.html", 1280, 900, "light"),
        ("index-phone.png", "index.html", 390, 844, "light"),
    ]
    for out, name, width, height, scheme in shots:
        page, _, _ = open_page(browser, built_example.site / name, width, height, scheme)
        page.screenshot(path=str(ARTIFACTS / out))
        page.context.close()
        assert (ARTIFACTS / out).stat().st_size > 10_000
    # One paper with its abstract open, at phone width.
    page, _, _ = open_page(browser, built_example.site / "2026-W18.html", 390, 844)
    first = page.locator("article.paper").first
    first.locator(".abstract summary").click()
    assert first.locator(".abstract details").get_attribute("open") is not None
    first.screenshot(path=str(ARTIFACTS / "paper-open-phone.png"))
    page.context.close()


# --- issue 19: what a reader gets -----------------------------------------------------------

NO_OVERFLOW = "document.documentElement.scrollWidth <= window.innerWidth"
HEADING_LINKS = """(sel) => [...document.querySelectorAll(sel)].map(
    h => { const a = h.querySelector('a[href]'); return a ? a.href : ''; })"""


def email_page(built: BuiltFeed, folder: Path) -> Path:
    """The HTML part of the example's W11 email, as a file a browser can open."""
    import datetime as dt

    from digest import mail
    from digest.config.email import EmailConfig
    from digest.grouping import rank_week
    from digest.store import Store

    cfg = built.cfg
    email = EmailConfig(
        sender="Digest <digest@example.org>",
        to=("ann@example.org",),
        list_id="digest.example.org",
        unsubscribe=("https://example.org/unsubscribe",),
    )
    with Store(cfg.store) as store:
        digest = rank_week("2026-W11", store.papers.load("2026-W11"), cfg.rules, 5)
    msg = mail.compose(
        cfg, email, digest, recipient="ann@example.org", uid="urn:test",
        now=dt.datetime(2026, 3, 16, tzinfo=dt.UTC),
    )  # fmt: skip
    body = msg.get_body(("html",))
    assert body is not None
    path = folder / "email.html"
    path.write_text(body.get_content(), encoding="utf-8")
    return path


@pytest.mark.parametrize("width", [390, 1280])
def test_week_page_reads_on_phone_and_desktop(
    browser: Browser, built_example: BuiltFeed, width: int
) -> None:
    page, _, errors = open_page(browser, built_example.site / "2026-W11.html", width, 844)
    assert page.evaluate(NO_OVERFLOW), page.evaluate("document.documentElement.scrollWidth")
    assert page.locator("#top-picks li.pick").count() == 5
    hrefs = page.evaluate(HEADING_LINKS, "article.paper h3")
    assert len(hrefs) == 369 and all(h.startswith(("https://", "http://")) for h in hrefs)
    # Far down the page, the theme menu is still on screen and takes you somewhere.
    page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight * 0.6)")
    menu = page.locator("nav.menu")
    box = menu.bounding_box()
    assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= 844
    assert box["height"] < 80 if width < 800 else box["x"] + box["width"] <= 320
    page.locator("nav.menu a[href='#surveys']").click()
    page.wait_for_timeout(300)
    assert page.evaluate("location.hash") == "#surveys"
    top = page.evaluate("document.getElementById('surveys').getBoundingClientRect().top")
    assert 0 <= top <= 60 and (width > 800 or top >= box["height"] - 2)
    page.locator("nav.menu a[href='#page_top']").click()
    page.wait_for_timeout(300)
    assert page.evaluate("window.scrollY") < 200
    page.evaluate("document.querySelector('nav.menu ul').scrollLeft = 0")
    # The theme and the tags link to their pages and read as labels, not slugs.
    tag = page.locator("article.paper .tags li:not(.theme) a").first
    assert (tag.get_attribute("href") or "").startswith("tags/")
    assert "-" not in tag.inner_text()
    ARTIFACTS.mkdir(exist_ok=True)
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(ARTIFACTS / f"reader-W11-{width}.png"))
    assert errors == []
    page.context.close()


@pytest.mark.parametrize("width", [390, 600, 1280])
def test_email_reads_on_phone_and_desktop(
    browser: Browser, built_example: BuiltFeed, tmp_path: Path, width: int
) -> None:
    path = email_page(built_example, tmp_path)
    assert len(path.read_bytes()) < 102_000  # under Gmail's clipping limit
    page, _, errors = open_page(browser, path, width, 844)
    assert page.evaluate(NO_OVERFLOW), page.evaluate("document.documentElement.scrollWidth")
    assert page.locator("#top-picks").count() == 1
    hrefs = page.evaluate(HEADING_LINKS, "h3")
    assert len(hrefs) >= 10 and all(h.startswith(("https://", "http://")) for h in hrefs)
    # Every theme of the week is in the email with papers in full.
    themes = page.evaluate("[...document.querySelectorAll('h2')].map(h => h.innerText)")
    assert len([t for t in themes if t != "Top picks"]) == 10
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"reader-email-{width}.png"))
    assert errors == []
    page.context.close()
