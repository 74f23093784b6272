"""A full assembly's entries and uses, spilled to disk a batch of pages at a time.

A full build of a large site judges tens of thousands of entries, and each page's uses.
Held in memory until stored, they made a build's memory grow with the site. The
assembly hands them over here after each batch of pages instead, and storing reads
them back in order (``manifest_rows.replace_spilled``).

The rows live in a private temporary SQLite database (Python's ``sqlite3``, whatever
database the site uses): SQLite deletes it when it is closed, and holds at most its
page cache of it in memory.
"""

import sqlite3

SCHEMA = """
CREATE TABLE entry (
    url TEXT PRIMARY KEY,
    revision TEXT NOT NULL,
    size INTEGER NOT NULL,
    kind TEXT NOT NULL,
    critical INTEGER NOT NULL,
    form_submit_url TEXT NOT NULL
);
-- Where storing put each entry, and whether it marked it critical.
CREATE TABLE placed (
    url TEXT PRIMARY KEY,
    part INTEGER NOT NULL,
    critical INTEGER NOT NULL
);
CREATE TABLE user (
    user TEXT PRIMARY KEY,
    page_id INTEGER,
    critical INTEGER NOT NULL
);
CREATE TABLE use (
    user TEXT NOT NULL,
    url TEXT NOT NULL,
    PRIMARY KEY (user, url)
) WITHOUT ROWID;
CREATE INDEX use_url ON use (url);
"""

# Its page cache, in KiB (SQLite's default is about 2 MiB).
CACHE_KIB = 4096


class SpilledRows:
    """Entries and uses an assembly handed over. A URL judged twice (a batch after
    the one that first used it) keeps its first entry: both judged the same file."""

    def __init__(self):
        # "": a private database on disk, deleted on close.
        self._db = sqlite3.connect("", isolation_level=None)
        self._db.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
        self._db.execute("PRAGMA journal_mode = OFF")
        self._db.execute("PRAGMA synchronous = OFF")
        self._db.executescript(SCHEMA)

    def close(self):
        self._db.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def add(self, entries, uses):
        """``entries``: dicts, as an assembly makes them; ``uses``: user -> (page id,
        critical, URLs), as ``Assembly.uses`` gives them."""
        db = self._db
        db.execute("BEGIN")
        db.executemany(
            "INSERT OR IGNORE INTO entry VALUES (?, ?, ?, ?, ?, ?)",
            (
                (
                    entry["url"],
                    entry["revision"],
                    entry["size"],
                    entry["kind"],
                    entry["critical"],
                    entry.get("formSubmitUrl", ""),
                )
                for entry in entries
            ),
        )
        # A user handed over twice (the settings' URLs) is critical if either was.
        db.executemany(
            "INSERT INTO user VALUES (?, ?, ?) ON CONFLICT (user) DO UPDATE SET "
            "critical = max(critical, excluded.critical), "
            "page_id = coalesce(page_id, excluded.page_id)",
            (
                (user, page_id, critical)
                for user, (page_id, critical, _) in uses.items()
            ),
        )
        db.executemany(
            "INSERT OR IGNORE INTO use VALUES (?, ?)",
            ((user, url) for user, (_, _, urls) in uses.items() for url in urls),
        )
        db.execute("COMMIT")

    def has_entry(self, url):
        return (
            self._db.execute("SELECT 1 FROM entry WHERE url = ?", (url,)).fetchone()
            is not None
        )

    def use_unused_entries(self):
        """An entry nothing uses (the web app manifest) uses itself, as in ``Assembly.uses``."""
        self._db.execute(
            "INSERT INTO user SELECT url, NULL, critical FROM entry "
            "WHERE url NOT IN (SELECT url FROM use) "
            "ON CONFLICT (user) DO NOTHING"
        )
        self._db.execute(
            "INSERT OR IGNORE INTO use SELECT url, url FROM entry "
            "WHERE url NOT IN (SELECT url FROM use)"
        )

    def entry_count(self):
        return self._db.execute("SELECT count(*) FROM entry").fetchone()[0]

    def entries_with_users(self, chunk=1000):
        """Per entry, in URL order: (its entry dict, how many users it has, its first
        user, whether a critical user needs it, the page id of its own use).

        Read a chunk at a time, so that ``place`` may write between chunks.
        """
        after = ""
        while True:
            rows = self._db.execute(
                """
                SELECT e.url, e.revision, e.size, e.kind, e.critical, e.form_submit_url,
                       count(u.user), min(u.user), max(us.critical), own.page_id
                FROM entry e
                LEFT JOIN use u ON u.url = e.url
                LEFT JOIN user us ON us.user = u.user
                LEFT JOIN user own ON own.user = e.url
                WHERE e.url > ?
                GROUP BY e.url
                ORDER BY e.url
                LIMIT ?
                """,
                (after, chunk),
            ).fetchall()
            if not rows:
                return
            for url, *values, users, first_user, critical_user, page_id in rows:
                entry = _entry(url, *values)
                yield entry, users, first_user, bool(critical_user), page_id
            after = rows[-1][0]

    def place(self, placed):
        """Record (URL, part, critical) of entries as storing placed them."""
        self._db.execute("BEGIN")
        self._db.executemany("INSERT INTO placed VALUES (?, ?, ?)", placed)
        self._db.execute("COMMIT")

    def placed_entries(self):
        """(part, entry as placed) of every entry, in part and URL order."""
        rows = self._db.execute(
            "SELECT p.part, e.url, e.revision, e.size, e.kind, p.critical, "
            "e.form_submit_url FROM entry e JOIN placed p ON p.url = e.url "
            "ORDER BY p.part, e.url"
        )
        for part, *values in rows:
            yield part, _entry(*values)

    def use_rows(self):
        """(user, page id, critical, URL) of every use."""
        rows = self._db.execute(
            "SELECT u.user, us.page_id, us.critical, u.url FROM use u "
            "JOIN user us ON us.user = u.user ORDER BY u.user, u.url"
        )
        for user, page_id, critical, url in rows:
            yield user, page_id, bool(critical), url


def _entry(url, revision, size, kind, critical, form_submit_url):
    """An entry dict, as an assembly makes it."""
    entry = {
        "url": url,
        "revision": revision,
        "size": size,
        "kind": kind,
        "critical": bool(critical),
    }
    if form_submit_url:
        entry["formSubmitUrl"] = form_submit_url
    return entry
