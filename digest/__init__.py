"""digest: weekly reading digests from paper listings.

The library API lives in :mod:`digest.pipeline`; :mod:`digest.cli` is a thin
click layer over it.
"""

__version__ = "0.1.0"
"""The one place the version is written (pyproject.toml reads it from here): no package
metadata lookup at start-up, which every cron run pays."""

__all__ = ["__version__"]
