"""digest: weekly reading digests from paper listings.

The library API lives in :mod:`digest.pipeline`; :mod:`digest.cli` is a thin
click layer over it.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("digest")
except PackageNotFoundError:  # running from a source checkout that is not installed
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
