"""The feeds a site publishes, as its pages link to them.

Input: the config. Output: :class:`SiteLinks` (the site's and each theme's feed
documents, with their paths, media types and titles).
"""

from __future__ import annotations

from dataclasses import dataclass

from digest import feeds, search
from digest.config import FeedConfig
from digest.grouping import theme_slugs


@dataclass(frozen=True, slots=True)
class FeedLink:
    """One feed document as pages link to it."""

    href: str
    """Path relative to the site root (``rss.xml``, ``themes/inference.atom``)."""
    type: str
    """Media type (``application/rss+xml`` or ``application/atom+xml``)."""
    label: str
    """``RSS`` or ``Atom``."""
    title: str
    """Feed title, for ``<link rel=alternate title=...>``."""


@dataclass(frozen=True, slots=True)
class SiteLinks:
    """Every feed of the site, for the pages' links."""

    site: tuple[FeedLink, ...]
    """The weekly-issue feeds."""
    themes: dict[str, tuple[FeedLink, ...]]
    """Section slug -> that theme's feeds (empty without ``theme_feeds``)."""
    theme_names: dict[str, str]
    """Section slug -> theme name, in configured order."""
    search: bool = False
    """Whether the site has its search page (``search.html``, :mod:`digest.search`)."""
    pages: bool = False
    """Whether the site has theme and tag pages (``themes/SLUG.html``, ``tags/SLUG.html``:
    with the ``html`` format)."""

    @property
    def theme_slugs(self) -> dict[str, str]:
        """Theme name -> its slug (the inverse of :attr:`theme_names`)."""
        return {name: slug for slug, name in self.theme_names.items()}

    @property
    def all(self) -> list[FeedLink]:
        """Site feeds first, then every theme feed."""
        return [*self.site, *(link for links in self.themes.values() for link in links)]


def site_links(cfg: FeedConfig) -> SiteLinks:
    """The feeds this configuration publishes, as pages link to them."""
    kinds = set(cfg.output.formats)
    site: list[FeedLink] = []
    if "rss" in kinds:
        site.append(FeedLink("rss.xml", feeds.RSS_TYPE, "RSS", cfg.title))
    if "atom" in kinds:
        site.append(FeedLink("atom.xml", feeds.ATOM_TYPE, "Atom", cfg.title))
    themes: dict[str, tuple[FeedLink, ...]] = {}
    slugs = theme_slugs(cfg.rules.section_names)
    if "theme_feeds" in kinds:
        # Theme feeds follow the site's choice of formats; asked for alone, both are written.
        rss, atom = "rss" in kinds or "atom" not in kinds, "atom" in kinds or "rss" not in kinds
        for name, slug in slugs.items():
            title = f"{cfg.title}: {name}"
            themes[slug] = tuple(
                link
                for link, wanted in (
                    (FeedLink(f"themes/{slug}.xml", feeds.RSS_TYPE, "RSS", title), rss),
                    (FeedLink(f"themes/{slug}.atom", feeds.ATOM_TYPE, "Atom", title), atom),
                )
                if wanted
            )
    return SiteLinks(
        site=tuple(site),
        themes=themes,
        theme_names={slug: n for n, slug in slugs.items()},
        pages="html" in kinds,
        search=search.enabled(cfg),
    )
