"""Paper identity, the stage between parsing and storing: which paper a sighting is.

Input: an entry and the store (read only). Output: a :class:`~.resolve.Resolution`
(which paper, by which rule), which the ingest stage stores.

- :mod:`.keys`: the keys an entry is looked up by (title key, blocking keys, text hash)
  and a new paper's id (pure functions: workers compute them);
- :mod:`.matching`: the guarded near-duplicate decision (pure functions);
- :mod:`.overrides`: the user's forced and forbidden merges (feed.yaml ``identity``);
- :mod:`.resolve`: the rules in order against the store, and papers found by what a
  user calls them.

Nothing is imported here: a caller imports the module it needs (``matching`` loads
rapidfuzz, for instance).
"""
