"""The output folder's guard: config, folder -> nothing, or an :class:`OutputError`.

Pages are written there and temporary files swept, so a mistaken ``--out`` must stop
the run before anything is read or touched.
"""

from __future__ import annotations

from pathlib import Path

from digest.config import FeedConfig
from digest.errors import OutputError
from digest.sources.gather import CACHE_DIR


def check_output_dir(cfg: FeedConfig, out: Path, store: Path | None = None) -> None:
    """Refuse an output folder that holds the feed's own files: ``/``, the feed folder,
    or a folder equal to or holding the store (``store``, default the configured one),
    the feed folder, a source's folder or the fetch cache."""
    where = out.resolve()
    if where == Path(where.anchor):
        raise OutputError(f"the output folder {out} is the root of the file system")
    held = {
        "the feed folder": cfg.root,
        "the store": store or cfg.store,
        "the fetch cache": cfg.root / CACHE_DIR,
    }
    for source in cfg.sources:
        if source.path is not None:
            held[f"the source {source.path}"] = _glob_base(cfg.root / source.path)
    for what, path in held.items():
        path = path.resolve()
        if where == path or where in path.parents:
            verb = "is" if where == path else "holds"
            raise OutputError(
                f"the output folder {out} {verb} {what} ({path})",
                hint="write the outputs to a folder of their own (output.dir or --out)",
            )


def _glob_base(pattern: Path) -> Path:
    """The folder a glob pattern starts from (its longest part without wildcards)."""
    base = Path(pattern.anchor)
    for part in pattern.parts[len(base.parts) :]:
        if any(char in part for char in "*?["):
            break
        base /= part
    return base
