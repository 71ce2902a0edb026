"""Configuration: ``feed.yaml`` -> a frozen :class:`FeedConfig`, every problem at once.

Input: a feed folder or feed.yaml text. Output: :class:`FeedConfig` or a
:class:`~digest.errors.ConfigError`. The sections are read by their own modules,
all with the option types of :mod:`digest.options`:

- :mod:`digest.config.feed`: the top level, ``sources`` and ``output``;
- :mod:`digest.config.rules`: ``tags``, ``themes`` and ``catch_all`` -> a RuleSet;
- :mod:`digest.config.email`: ``email`` -> ``EmailConfig`` (imported only when present);
- :func:`digest.identity.overrides.parse`: ``identity``.
"""

from __future__ import annotations

from digest.config.feed import (
    CONFIG_NAME,
    DEFAULT_OUTPUT,
    DEFAULT_STORE,
    OUTPUT_KINDS,
    TOP_KEYS,
    FeedConfig,
    OutputConfig,
    SourceConfig,
    load_config,
    parse_config,
)

__all__ = [
    "CONFIG_NAME",
    "DEFAULT_OUTPUT",
    "DEFAULT_STORE",
    "OUTPUT_KINDS",
    "TOP_KEYS",
    "FeedConfig",
    "OutputConfig",
    "SourceConfig",
    "load_config",
    "parse_config",
]
