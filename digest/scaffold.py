"""``digest init``: a new feed folder with a working feed.yaml.

Input: a folder path. Output: ``feed.yaml`` (from the packaged template
``init/feed.yaml``) and an empty ``listings/`` folder. An existing
feed.yaml is never overwritten unless asked.
"""

from __future__ import annotations

from pathlib import Path

from digest.errors import DigestError
from digest.render import default_template_dir

TEMPLATE = "init/feed.yaml"


def init_feed(directory: Path, *, force: bool = False) -> Path:
    """Create ``directory/feed.yaml`` and ``directory/listings/``; return the feed.yaml path."""
    target = directory / "feed.yaml"
    if target.exists() and not force:
        raise DigestError(f"{target} already exists", hint="use --force to overwrite it")
    try:
        (directory / "listings").mkdir(parents=True, exist_ok=True)
        text = (default_template_dir() / TEMPLATE).read_text(encoding="utf-8")
        target.write_text(text, encoding="utf-8")
    except OSError as err:
        raise DigestError(f"cannot create the feed in {directory}: {err.strerror}") from None
    return target
