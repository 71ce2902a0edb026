"""The store's schema and its append-only migrations.

Input: a :class:`~digest.store.database.Database` at any schema version up to
:data:`SCHEMA_VERSION`. Output: the same store at :data:`SCHEMA_VERSION`, each step in a
transaction of its own. Every sighting keeps the text it carried and the rule (and
score) that tied it to its paper; each distinct title+abstract text is stored once;
sightings are append-only (a listing whose content changed is a new ``listing`` row).
"""

from __future__ import annotations

import sqlite3

from digest.errors import StoreDamagedError, StoreError
from digest.store.database import Database
from digest.store.repairs import REPAIRS

SCHEMA_VERSION = 16

_SCHEMA_V1 = """
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE listing(
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    sha256 TEXT NOT NULL,
    stat TEXT NOT NULL DEFAULT '',
    format TEXT NOT NULL,
    date TEXT,
    entries INTEGER NOT NULL,
    problems INTEGER NOT NULL
);
CREATE TABLE text(
    id INTEGER PRIMARY KEY,
    hash TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    abstract TEXT NOT NULL
);
CREATE TABLE paper(
    id TEXT PRIMARY KEY,
    text_id INTEGER NOT NULL REFERENCES text(id),
    first_seen TEXT NOT NULL,
    shown_date TEXT NOT NULL,
    week TEXT NOT NULL,
    source_id TEXT,
    url TEXT,
    authors TEXT NOT NULL DEFAULT '[]',
    tags TEXT NOT NULL DEFAULT '[]',
    theme TEXT NOT NULL DEFAULT '',
    rules TEXT NOT NULL DEFAULT ''
);
CREATE INDEX paper_week ON paper(week);
CREATE INDEX paper_rules ON paper(rules);
CREATE INDEX paper_theme ON paper(theme, first_seen);
CREATE TABLE sighting(
    listing_id INTEGER NOT NULL REFERENCES listing(id),
    position INTEGER NOT NULL,
    paper_id TEXT NOT NULL REFERENCES paper(id),
    text_id INTEGER NOT NULL REFERENCES text(id),
    date TEXT NOT NULL,
    line INTEGER NOT NULL,
    source_id TEXT,
    version INTEGER,
    announce TEXT,
    rule TEXT NOT NULL,
    score REAL NOT NULL,
    detail TEXT NOT NULL DEFAULT '',
    PRIMARY KEY(listing_id, position)
);
CREATE INDEX sighting_paper ON sighting(paper_id);
CREATE TABLE paper_key(
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    paper_id TEXT NOT NULL REFERENCES paper(id),
    PRIMARY KEY(kind, key, paper_id)
) WITHOUT ROWID;
CREATE INDEX paper_key_paper ON paper_key(paper_id);
CREATE TABLE week(
    week TEXT PRIMARY KEY,
    published TEXT,
    dirty INTEGER NOT NULL DEFAULT 1,
    hash TEXT NOT NULL DEFAULT '',
    summary TEXT NOT NULL DEFAULT '[]',
    item TEXT NOT NULL DEFAULT ''
);
"""

MIGRATIONS: dict[int, str] = {
    1: _SCHEMA_V1,
    # -- email: one row per (week, recipient); 'sending' before SMTP, 'sent' after --
    2: """CREATE TABLE sent(
        week TEXT NOT NULL,
        recipient TEXT NOT NULL,
        status TEXT NOT NULL CHECK(status IN ('sending', 'sent')),
        message_id TEXT NOT NULL,
        day TEXT NOT NULL,
        PRIMARY KEY(week, recipient)
    )""",
    # -- near-duplicate blocking keys in a table of their own: one B-tree (no index by
    #    paper, no foreign key to check), since a new paper adds several and nothing
    #    looks them up by paper --
    3: """CREATE TABLE block_key(
        key TEXT NOT NULL,
        paper_id TEXT NOT NULL,
        PRIMARY KEY(key, paper_id)
    ) WITHOUT ROWID;
    INSERT INTO block_key(key, paper_id) SELECT key, paper_id FROM paper_key WHERE kind='block';
    DELETE FROM paper_key WHERE kind='block'""",
    # -- a week's theme counts from the index alone (no table row read per paper), for
    #    published weeks that later sightings touch --
    4: """DROP INDEX paper_week;
    CREATE INDEX paper_week ON paper(week, theme, first_seen, id)""",
    # -- tags computed with a text as it is ingested (by the process that parsed it), so
    #    the tag stage copies them instead of computing them afterwards --
    5: """ALTER TABLE text ADD COLUMN tags TEXT NOT NULL DEFAULT '[]';
    ALTER TABLE text ADD COLUMN theme TEXT NOT NULL DEFAULT '';
    ALTER TABLE text ADD COLUMN rules TEXT NOT NULL DEFAULT ''""",
    # -- version 6 dropped paper_key_paper, and was withdrawn (a paper's keys from listings
    #    replaced earlier went stale without it): stores that took it get it back at 7;
    #    for the others, nothing to do --
    6: "CREATE INDEX IF NOT EXISTS paper_key_paper ON paper_key(paper_id)",
    # -- a theme's newest papers in index order, ties by id included (no sort, and no
    #    lookup by id: see newest_versions) --
    7: """CREATE INDEX IF NOT EXISTS paper_key_paper ON paper_key(paper_id);
    DROP INDEX paper_theme;
    CREATE INDEX paper_theme ON paper(theme, first_seen, id)""",
    # -- sightings are append-only: a listing whose content changed is a new row (a new
    #    version of it) instead of replacing the old one, whose sightings stay; one row
    #    per (name, content). SQLite changes a constraint by copying the table (foreign
    #    keys are off while migrations run, see migrate) --
    8: """CREATE TABLE listing_v8(
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        stat TEXT NOT NULL DEFAULT '',
        format TEXT NOT NULL,
        date TEXT,
        entries INTEGER NOT NULL,
        problems INTEGER NOT NULL,
        UNIQUE(name, sha256)
    );
    INSERT INTO listing_v8(id, name, sha256, stat, format, date, entries, problems)
        SELECT id, name, sha256, stat, format, date, entries, problems FROM listing;
    DROP TABLE listing;
    ALTER TABLE listing_v8 RENAME TO listing""",
    # -- feed state in one place: each feed item's dates (from meta 'feed_item:ID') and
    #    the draft of a week's issue (from week.item) in one row per item (see the
    #    repair; IF NOT EXISTS: a store may be turned back to an older version by hand) --
    9: """CREATE TABLE IF NOT EXISTS feed_item(
        id TEXT PRIMARY KEY,
        fingerprint TEXT,
        published TEXT,
        updated TEXT,
        draft TEXT
    )""",
    # -- a version per theme, moved by every change to a paper that a theme feed shows
    #    (the triggers see every writer), so a build remakes the feeds of the themes that
    #    changed and knows the others are as it left them without reading them
    #    (IF NOT EXISTS: a store may be turned back to an older version by hand) --
    10: """CREATE TABLE IF NOT EXISTS theme_state(
        theme TEXT PRIMARY KEY,
        version INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE TRIGGER IF NOT EXISTS paper_theme_insert AFTER INSERT ON paper BEGIN
        INSERT INTO theme_state(theme, version) VALUES(NEW.theme, 1)
            ON CONFLICT(theme) DO UPDATE SET version=version+1;
    END;
    CREATE TRIGGER IF NOT EXISTS paper_theme_update AFTER UPDATE OF
        text_id, first_seen, shown_date, week, source_id, url, authors, tags, theme ON paper
    BEGIN
        INSERT INTO theme_state(theme, version) VALUES(OLD.theme, 1)
            ON CONFLICT(theme) DO UPDATE SET version=version+1;
        INSERT INTO theme_state(theme, version) VALUES(NEW.theme, 1)
            ON CONFLICT(theme) DO UPDATE SET version=version+1;
    END;
    CREATE TRIGGER IF NOT EXISTS paper_theme_delete AFTER DELETE ON paper BEGIN
        INSERT INTO theme_state(theme, version) VALUES(OLD.theme, 1)
            ON CONFLICT(theme) DO UPDATE SET version=version+1;
    END""",
    # -- what a sighting carries besides its text (links, Hugging Face signals, further
    #    ids) as JSON, read by digest.store.extra; '' for none (sightings stored before).
    #    The column is added by the repair, only when missing: SQLite has no ADD COLUMN
    #    IF NOT EXISTS, and a store may be turned back to an older version by hand --
    11: "",
    # -- each text's and each paper's rule score (the sum of its tags' scores, as tagged),
    #    so that ranking a week reads it instead of tagging every paper again; NULL for
    #    rows tagged before (ranked by tagging them then). Added by the repair, only when
    #    missing (as at 11) --
    12: "",
    # -- a sighting that brings links or signals (what a theme feed's item shows of later
    #    sightings: a code link, the HF page) moves its paper's theme version too --
    13: """CREATE TRIGGER IF NOT EXISTS sighting_extra_theme AFTER INSERT ON sighting
        WHEN NEW.extra != ''
    BEGIN
        INSERT INTO theme_state(theme, version)
            SELECT theme, 1 FROM paper WHERE id = NEW.paper_id
            ON CONFLICT(theme) DO UPDATE SET version=version+1;
    END""",
    # -- each tag's papers (tag, first seen, paper id: a tag page lists them oldest first
    #    without reading every paper's tags) and a version per tag, moved by every change
    #    to one of its papers that a tag page shows, as theme_state is for themes; both
    #    kept by triggers, so every writer keeps them (IF NOT EXISTS: as at 10) --
    14: """CREATE TABLE IF NOT EXISTS paper_tag(
        tag TEXT NOT NULL, first_seen TEXT NOT NULL, paper_id TEXT NOT NULL,
        PRIMARY KEY(tag, first_seen, paper_id)
    ) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS tag_state(tag TEXT PRIMARY KEY, version INTEGER NOT NULL)
        WITHOUT ROWID;
    DELETE FROM paper_tag;
    INSERT OR IGNORE INTO paper_tag SELECT j.value, p.first_seen, p.id FROM paper p,
        json_each(iif(json_valid(p.tags), p.tags, '[]')) j WHERE j.type = 'text';
    INSERT INTO tag_state SELECT DISTINCT tag, 1 FROM paper_tag WHERE true
        ON CONFLICT(tag) DO UPDATE SET version=version+1;
    CREATE TRIGGER IF NOT EXISTS paper_tag_insert AFTER INSERT ON paper BEGIN
        INSERT OR IGNORE INTO paper_tag SELECT value, NEW.first_seen, NEW.id
            FROM json_each(iif(json_valid(NEW.tags), NEW.tags, '[]')) WHERE type = 'text';
        INSERT INTO tag_state SELECT DISTINCT value, 1
            FROM json_each(iif(json_valid(NEW.tags), NEW.tags, '[]')) WHERE type = 'text'
            ON CONFLICT(tag) DO UPDATE SET version=version+1;
    END;
    CREATE TRIGGER IF NOT EXISTS paper_tag_update AFTER UPDATE OF
        text_id, first_seen, shown_date, week, source_id, url, authors, tags, theme ON paper
    BEGIN
        DELETE FROM paper_tag WHERE paper_id = OLD.id AND first_seen = OLD.first_seen AND tag IN
            (SELECT value FROM json_each(iif(json_valid(OLD.tags), OLD.tags, '[]')));
        INSERT OR IGNORE INTO paper_tag SELECT value, NEW.first_seen, NEW.id
            FROM json_each(iif(json_valid(NEW.tags), NEW.tags, '[]')) WHERE type = 'text';
        INSERT INTO tag_state SELECT value, 1 FROM (
            SELECT value FROM json_each(iif(json_valid(OLD.tags), OLD.tags, '[]'))
                WHERE type = 'text'
            UNION SELECT value FROM json_each(iif(json_valid(NEW.tags), NEW.tags, '[]'))
                WHERE type = 'text') WHERE true ON CONFLICT(tag) DO UPDATE SET version=version+1;
    END;
    CREATE TRIGGER IF NOT EXISTS sighting_extra_tags AFTER INSERT ON sighting
        WHEN NEW.extra != ''
    BEGIN
        INSERT INTO tag_state SELECT value, 1 FROM json_each((SELECT iif(json_valid(tags),
            tags, '[]') FROM paper WHERE id = NEW.paper_id)) WHERE type = 'text'
            ON CONFLICT(tag) DO UPDATE SET version=version+1;
    END;
    CREATE TRIGGER IF NOT EXISTS paper_tag_delete AFTER DELETE ON paper BEGIN
        DELETE FROM paper_tag WHERE paper_id = OLD.id AND first_seen = OLD.first_seen AND tag IN
            (SELECT value FROM json_each(iif(json_valid(OLD.tags), OLD.tags, '[]')));
        INSERT INTO tag_state SELECT DISTINCT value, 1
            FROM json_each(iif(json_valid(OLD.tags), OLD.tags, '[]')) WHERE type = 'text'
            ON CONFLICT(tag) DO UPDATE SET version=version+1;
    END""",
    # -- each paper's theme/tag page card, rendered once (stamp = what it came from) --
    15: """CREATE TABLE IF NOT EXISTS topic_card(
        paper_id TEXT PRIMARY KEY, stamp BLOB NOT NULL, html BLOB NOT NULL
    )""",
    # -- paper.seq: moved past every other paper's by each change a theme or tag page
    #    shows (so a build finds what changed since the last one without reading every
    #    paper); the column, its index and triggers come with the repair (as at 11) --
    16: "",
}
"""Version -> the SQL that brings a store from version-1 to it. Append, never edit."""


def version(db: Database) -> int:
    """The store's schema version (0 for an empty file)."""
    row = db.execute("SELECT name FROM sqlite_master WHERE type='table' AND name='meta'").fetchone()
    if row is None:
        return 0
    got = db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
    try:
        return int(got[0]) if got else 0
    except (TypeError, ValueError):
        raise StoreDamagedError(
            f"{db.path} is damaged: its schema version is {got[0]!r}, not a number"
        ) from None


def migrate(db: Database) -> None:
    """Bring the store to :data:`SCHEMA_VERSION`; refuse a newer one."""
    current = version(db)
    if current > SCHEMA_VERSION:
        raise StoreError(
            f"{db.path} has schema version {current}, newer than this digest "
            f"understands ({SCHEMA_VERSION})",
            hint="upgrade digest",
        )
    if current == SCHEMA_VERSION:
        return
    # A migration may copy a table that others refer to (SQLite's way to change a
    # constraint): foreign keys are off meanwhile (a no-op inside a transaction), and
    # the sightings' references are checked before each commit.
    db.execute("PRAGMA foreign_keys=OFF")
    step = current
    try:
        for step in range(current + 1, SCHEMA_VERSION + 1):
            with db.transaction():
                if version(db) >= step:  # another process migrated it meanwhile
                    continue
                for statement in _statements(MIGRATIONS[step]):
                    db.execute(statement)
                if step in REPAIRS:
                    REPAIRS[step](db)
                if db.execute("PRAGMA foreign_key_check(sighting)").fetchone():
                    raise sqlite3.DatabaseError(f"migration {step}: broken references")
                db.execute(
                    "INSERT INTO meta(key, value) VALUES('schema_version', ?) "
                    "ON CONFLICT(key) DO UPDATE SET value=excluded.value",
                    (str(step),),
                )
    except (sqlite3.IntegrityError, sqlite3.ProgrammingError, sqlite3.DataError) as err:
        # Not damage: this migration met data it did not expect. Its transaction rolled
        # back, so the store is as it was: say so, rather than "move the store away",
        # which would lose the record of mailed weeks.
        raise StoreError(
            f"{db.path}: upgrading the store to schema version {step} failed: {err}; "
            f"the store is unchanged (still version {version(db)})",
            hint="this is a bug in digest: please report it; until it is fixed, keep "
            "running the digest version that wrote this store",
        ) from err
    finally:
        db.execute("PRAGMA foreign_keys=ON")


def _statements(script: str) -> list[str]:
    """The statements of ``script``, split at the semicolons that end one (not those
    inside a trigger's body)."""
    out: list[str] = []
    pending = ""
    for part in script.split(";"):
        pending += part + ";"
        if sqlite3.complete_statement(pending):
            if pending.strip(" \n;"):
                out.append(pending.strip().removesuffix(";").strip())
            pending = ""
    if pending.strip(" \n;"):
        out.append(pending.strip().removesuffix(";").strip())
    return out
