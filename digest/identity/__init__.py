"""Paper identity, the stage between parsing and storing: which paper a sighting is.

- :mod:`.keys`: the keys an entry is looked up by (title key, blocking keys, text hash),
  a new paper's id, and papers found by what a user calls them;
- :mod:`.matching`: the guarded near-duplicate decision (pure functions);
- :mod:`.overrides`: the user's forced and forbidden merges (feed.yaml ``identity``);
- :mod:`.resolve`: the rules in order, deciding a :class:`~.resolve.Resolution`.

Nothing is imported here: a caller imports the module it needs (``matching`` loads
rapidfuzz).
"""
