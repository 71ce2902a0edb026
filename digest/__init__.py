"""digest: weekly reading digests from paper listings.

The library API: one use case per command in :mod:`digest.commands` (``run``, ``send``,
``ingest``, ``check``/``export``/``explain``) over the stages (:mod:`digest.ingest`,
:mod:`digest.tag`, :mod:`digest.site`, :mod:`digest.delivery`, ...); :mod:`digest.cli`
is a thin click layer over the use cases.
"""

__version__ = "0.1.0"
"""The one place the version is written (pyproject.toml reads it from here): no package
metadata lookup at start-up, which every cron run pays."""

__all__ = ["__version__"]
