//! The local cache of customers and notes (SQLite, FTS5): what the app draws on start before the
//! servers answer, and what it browses and searches offline.
//!
//! It is a file of its own, apart from the drafts/outbox store, so a damaged or outdated cache
//! can never endanger unsent text. Everything in it can be fetched again, which shapes the
//! choices below: `synchronous=NORMAL`, rows that no longer decode are skipped rather than
//! failing a whole listing, and a file that is not ours or is damaged is refused untouched (the
//! app then runs without a cache). It never holds a secret: it only ever receives customers and
//! notes, and drops the one credential-like value a note carries (a signed attachment link).

use std::fmt;
use std::path::{Path, PathBuf};

use jiff::Timestamp;
use rusqlite::{
    Connection, ErrorCode, OptionalExtension, Transaction, TransactionBehavior, params,
};

use crate::app::filter::AuthorCount;
use crate::model::{Customer, Note};
use crate::sqlite::{
    self, BUSY_TIMEOUT, DbThread, MEMORY_LABEL, Migration, Stopped, create_private_dir,
    create_private_file, one_line, read_user_version,
};

/// Schema steps, applied in order; step `i` brings the schema to version `i + 1`.
/// A released step must never be edited: caches in the field are already at its version.
/// As the cache can be refetched, a later step may simply drop and recreate tables.
const MIGRATIONS: &[&str] = &[
    // 1. `data` holds the whole value as JSON; the other columns are what queries filter and
    // sort on. `listing` is the newest listing that saw the row (see `put_notes`).
    // Times are integer nanoseconds since 1970 (saturated), so they sort and compare as numbers.
    "CREATE TABLE customers (
        account  TEXT NOT NULL,
        id       TEXT NOT NULL,
        position INTEGER NOT NULL,
        listing  INTEGER NOT NULL,
        data     TEXT NOT NULL,
        PRIMARY KEY (account, id)
    ) WITHOUT ROWID;
    CREATE INDEX customers_in_order ON customers (account, position, id);

    CREATE TABLE notes (
        seq          INTEGER PRIMARY KEY,
        account      TEXT NOT NULL,
        id           TEXT NOT NULL,
        customer_id  TEXT NOT NULL,
        created_at   INTEGER NOT NULL,
        kind         TEXT NOT NULL,
        author_name  TEXT NOT NULL,
        author_email TEXT NOT NULL,
        listing      INTEGER NOT NULL,
        data         TEXT NOT NULL,
        UNIQUE (account, id)
    );
    CREATE INDEX notes_by_customer ON notes (account, customer_id, created_at, id);
    CREATE INDEX notes_by_account ON notes (account, created_at, id);

    -- Contentless: the text already lives in `notes.data`, so it is not stored twice.
    -- `contentless_delete` lets a row be removed by rowid alone (rowid = notes.seq).
    -- No prefix index: measured on 100,000 notes it made the file a quarter bigger and
    -- writes slower for no clear gain in prefix searches.
    CREATE VIRTUAL TABLE notes_fts USING fts5 (
        subject, text, author,
        content = '', contentless_delete = 1,
        tokenize = 'unicode61 remove_diacritics 2'
    );
    -- Bulk cleanups delete many notes at once; the trigger keeps the index in step with them.
    CREATE TRIGGER notes_fts_delete AFTER DELETE ON notes BEGIN
        DELETE FROM notes_fts WHERE rowid = old.seq;
    END;

    -- One row per scope: the account's customers, its notes (customer ''), or one customer's
    -- notes. `pages` counts the pages of the current listing received in order: 0 once it is
    -- finished, -1 once one went missing (then its end must not delete anything).
    CREATE TABLE listings (
        account   TEXT NOT NULL,
        what      TEXT NOT NULL CHECK (what IN ('customers', 'notes')),
        customer  TEXT NOT NULL,
        listing   INTEGER NOT NULL,
        pages     INTEGER NOT NULL,
        synced_at INTEGER,
        PRIMARY KEY (account, what, customer)
    ) WITHOUT ROWID;",
];

/// The schema version this build writes and understands.
pub const SCHEMA_VERSION: u32 = MIGRATIONS.len() as u32;

/// Written into the file header (`PRAGMA application_id`, "CRMc") so a cache path that points at
/// some other database (the drafts store, say) is refused instead of being migrated into.
pub const APPLICATION_ID: i32 = 0x4352_4d63;

/// What went wrong with the cache, in one line that names the file where one is involved.
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    #[error("cannot create the folder {} for the cache ({reason}); running without it", dir.display())]
    CreateDir { dir: PathBuf, reason: String },
    #[error("the cache {} is unreadable ({reason}); running without it", path.display())]
    Unreadable { path: PathBuf, reason: String },
    #[error("the cache {} was written by a newer crm-notes (schema {found}, this one knows up to {known}); it was left untouched, running without it", path.display())]
    TooNew {
        path: PathBuf,
        found: u32,
        known: u32,
    },
    #[error("the file {} is not a crm-notes cache; it was left untouched, running without the cache", path.display())]
    NotACache { path: PathBuf },
    #[error("the cache {} failed ({reason})", path.display())]
    Sqlite { path: PathBuf, reason: String },
    #[error("cannot write {what} to the cache {} ({reason})", path.display())]
    Encode {
        path: PathBuf,
        what: String,
        reason: String,
    },
    #[error("the cache has stopped")]
    Stopped,
}

/// A full-text search of the cached notes, with the filter bar's other conditions.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SearchQuery {
    /// The free text, as typed: every word must occur (as a word prefix, so a half-typed word
    /// already matches). Text with no word in it finds nothing.
    pub text: String,
    pub customer: Option<String>,
    /// [`crate::model::NoteKind::as_str`], case-insensitive; empty means any.
    pub kind: Option<String>,
    /// Any of these, each a case-insensitive substring of the author's name or email;
    /// empty means any author (as [`Note::author_matches`]).
    pub authors: Vec<String>,
    /// Notes created at or after this time.
    pub since: Option<Timestamp>,
    /// Notes created at or before this time.
    pub until: Option<Timestamp>,
    /// At most this many results; 0 means no limit.
    pub limit: usize,
}

/// Which listing a page belongs to.
#[derive(Clone, Copy)]
enum Scope<'a> {
    Customers,
    /// One customer's notes, or the whole account's (`None`).
    Notes(Option<&'a str>),
}

impl Scope<'_> {
    /// The key columns of the scope's `listings` row.
    fn key(self) -> (&'static str, String) {
        match self {
            Scope::Customers => ("customers", String::new()),
            Scope::Notes(customer) => ("notes", customer.unwrap_or_default().to_string()),
        }
    }
}

/// Where a listing stands after a page was recorded.
struct Listing {
    id: i64,
    /// Every page so far arrived, in order.
    intact: bool,
}

/// The cache: one SQLite connection and where its file is.
pub struct Cache {
    conn: Connection,
    path: Option<PathBuf>,
}

impl fmt::Debug for Cache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cache").field("path", &self.path).finish()
    }
}

impl Cache {
    /// Opens (creating if needed) the cache at `path` and brings its schema up to date.
    /// A file that is damaged, not a crm-notes cache, or from a newer crm-notes is refused and
    /// left exactly as it was.
    pub fn open(path: &Path) -> Result<Cache, CacheError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            create_private_dir(dir).map_err(|e| CacheError::CreateDir {
                dir: dir.to_path_buf(),
                reason: one_line(&e.to_string()),
            })?;
        }
        let unreadable = |reason: String| CacheError::Unreadable {
            path: path.to_path_buf(),
            reason: one_line(&reason),
        };
        create_private_file(path).map_err(|e| unreadable(e.to_string()))?;
        let conn = Connection::open(path).map_err(|e| unreadable(e.to_string()))?;
        Cache::init(conn, Some(path.to_path_buf()))
    }

    /// A cache that lives only as long as this value: for tests and `--demo`.
    pub fn open_in_memory() -> Result<Cache, CacheError> {
        let conn = Connection::open_in_memory().map_err(|e| CacheError::Unreadable {
            path: PathBuf::from(MEMORY_LABEL),
            reason: one_line(&e.to_string()),
        })?;
        Cache::init(conn, None)
    }

    fn init(mut conn: Connection, path: Option<PathBuf>) -> Result<Cache, CacheError> {
        let label = path.clone().unwrap_or_else(|| PathBuf::from(MEMORY_LABEL));
        let unreadable = |e: rusqlite::Error| CacheError::Unreadable {
            path: label.clone(),
            reason: one_line(&e.to_string()),
        };
        conn.busy_timeout(BUSY_TIMEOUT).map_err(unreadable)?;
        // Everything up to the journal-mode switch only reads, so a file refused here is left
        // byte-for-byte as it was.
        let found = read_user_version(&conn).map_err(unreadable)?;
        let app_id: i32 = conn
            .pragma_query_value(None, "application_id", |row| row.get(0))
            .map_err(unreadable)?;
        let not_ours = if found == 0 {
            // Version 0 is a new, empty file, unless something else already put tables in it.
            let objects: i64 = conn
                .query_row("SELECT count(*) FROM sqlite_schema", [], |row| row.get(0))
                .map_err(unreadable)?;
            objects > 0 || (app_id != 0 && app_id != APPLICATION_ID)
        } else {
            app_id != APPLICATION_ID
        };
        if not_ours {
            return Err(CacheError::NotACache { path: label });
        }
        if found > SCHEMA_VERSION {
            return Err(CacheError::TooNew {
                path: label,
                found,
                known: SCHEMA_VERSION,
            });
        }
        if found == SCHEMA_VERSION {
            probe_tables(&conn).map_err(unreadable)?;
        }
        // WAL + synchronous=NORMAL: sync writes many pages in a row and must not wait for an
        // fsync each time; a commit lost in a power cut is simply fetched again.
        // The mode actually granted is not checked: a filesystem without WAL still works.
        conn.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get::<_, String>(0))
            .map_err(unreadable)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(unreadable)?;
        conn.set_prepared_statement_cache_capacity(64);
        migrate(&mut conn, &label)?;
        Ok(Cache { conn, path })
    }

    /// The file behind the cache; `None` in memory.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// The schema version recorded in the file (`PRAGMA user_version`).
    pub fn schema_version(&self) -> Result<u32, CacheError> {
        read_user_version(&self.conn).map_err(|e| self.db_error(e))
    }

    /// Records one page of the account's full customers listing (never a search's results:
    /// its end would remove every customer the search left out).
    ///
    /// `page` is 1-based, counted as the pages arrive: page 1 starts a new listing. With `done`
    /// the listing is complete: the account's customers it did not include are removed and its
    /// sync time becomes `at`. If a page went missing in between, nothing is removed and the
    /// sync time is kept, as the listing cannot tell who is gone.
    pub fn put_customers(
        &self,
        account: &str,
        page: u32,
        customers: &[Customer],
        done: bool,
        at: Timestamp,
    ) -> Result<(), CacheError> {
        self.write(|tx| {
            let listing = self.advance(tx, account, Scope::Customers, page)?;
            let mut upsert = tx
                .prepare_cached(
                    "INSERT INTO customers (account, id, position, listing, data)
                     VALUES (?1, ?2, ?3, ?4, ?5)
                     ON CONFLICT (account, id) DO UPDATE SET
                       position = excluded.position,
                       listing = max(listing, excluded.listing),
                       data = excluded.data",
                )
                .map_err(|e| self.db_error(e))?;
            for (index, customer) in customers.iter().enumerate() {
                let json = serde_json::to_string(customer).map_err(|e| CacheError::Encode {
                    path: self.label().to_path_buf(),
                    what: format!("customer {}", customer.id),
                    reason: one_line(&e.to_string()),
                })?;
                // Page first, then place on the page: the provider's order, whatever the page size.
                let position = (i64::from(page) << 32) | i64::try_from(index).unwrap_or(i64::MAX);
                upsert
                    .execute(params![account, customer.id, position, listing.id, json])
                    .map_err(|e| self.db_error(e))?;
            }
            if done {
                self.finish(tx, account, Scope::Customers, &listing, at, |tx| {
                    tx.prepare_cached("DELETE FROM customers WHERE account = ?1 AND listing < ?2")
                        .and_then(|mut stmt| stmt.execute(params![account, listing.id]))
                })?;
            }
            Ok(())
        })
    }

    /// The account's cached customers in the order the provider listed them, and when they
    /// were last fully synced.
    pub fn customers(
        &self,
        account: &str,
    ) -> Result<(Vec<Customer>, Option<Timestamp>), CacheError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT id, data FROM customers WHERE account = ?1 ORDER BY position, id",
            )
            .map_err(|e| self.db_error(e))?;
        let rows = stmt
            .query_map([account], |row| {
                Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?))
            })
            .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
            .map_err(|e| self.db_error(e))?;
        let customers = rows
            .into_iter()
            .filter_map(|(id, json)| self.decode::<Customer>(account, "customer", &id, &json))
            .collect();
        let synced = self.synced_at(account, Scope::Customers)?;
        Ok((customers, synced))
    }

    /// Records one page of a full notes listing of one customer (`Some(id)`) or of the whole
    /// account (`None`); never a filtered one (its end would remove the notes it left out).
    ///
    /// Same page/`done` rules as [`Cache::put_customers`]; at `done` the notes of that scope
    /// the listing did not include were deleted on the server and are removed here.
    /// Each listing takes the next number of an account-wide counter and every note remembers
    /// the newest listing that saw it, so a customer listing and an account listing running
    /// at the same time never remove each other's notes. A note with no customer of its own
    /// is filed under the listed customer.
    pub fn put_notes(
        &self,
        account: &str,
        customer: Option<&str>,
        page: u32,
        notes: &[Note],
        done: bool,
        at: Timestamp,
    ) -> Result<(), CacheError> {
        self.write(|tx| {
            let scope = Scope::Notes(customer);
            let listing = self.advance(tx, account, scope, page)?;
            for note in notes {
                self.upsert_note(tx, account, customer, note, listing.id)?;
            }
            if done {
                self.finish(tx, account, scope, &listing, at, |tx| match customer {
                    Some(customer) => tx
                        .prepare_cached(
                            "DELETE FROM notes
                             WHERE account = ?1 AND customer_id = ?2 AND listing < ?3",
                        )
                        .and_then(|mut stmt| stmt.execute(params![account, customer, listing.id])),
                    None => tx
                        .prepare_cached("DELETE FROM notes WHERE account = ?1 AND listing < ?2")
                        .and_then(|mut stmt| stmt.execute(params![account, listing.id])),
                })?;
            }
            Ok(())
        })
    }

    /// A write the server confirmed: inserts or replaces that one note. It survives the end of
    /// any listing already running, since that listing may have passed it before it existed.
    pub fn put_note(&self, account: &str, note: &Note) -> Result<(), CacheError> {
        self.write(|tx| {
            let newest = self.newest_listing(tx, account)?;
            self.upsert_note(tx, account, None, note, newest)
        })
    }

    /// A delete the server confirmed. Removing a note that is not cached is not an error.
    pub fn remove_note(&self, account: &str, id: &str) -> Result<(), CacheError> {
        self.write(|tx| {
            tx.prepare_cached("DELETE FROM notes WHERE account = ?1 AND id = ?2")
                .and_then(|mut stmt| stmt.execute(params![account, id]))
                .map_err(|e| self.db_error(e))?;
            Ok(())
        })
    }

    /// Everything cached for an account (when it is removed from the config).
    pub fn forget(&self, account: &str) -> Result<(), CacheError> {
        self.write(|tx| {
            for sql in [
                "DELETE FROM notes WHERE account = ?1",
                "DELETE FROM customers WHERE account = ?1",
                "DELETE FROM listings WHERE account = ?1",
            ] {
                tx.prepare_cached(sql)
                    .and_then(|mut stmt| stmt.execute([account]))
                    .map_err(|e| self.db_error(e))?;
            }
            Ok(())
        })
    }

    /// Cached notes, newest first, of one customer or the whole account, at most `limit`; and
    /// when that scope was last fully synced. A customer's notes count as synced by a complete
    /// listing of the whole account too.
    pub fn notes(
        &self,
        account: &str,
        customer: Option<&str>,
        limit: Option<usize>,
    ) -> Result<(Vec<Note>, Option<Timestamp>), CacheError> {
        let limit = sql_limit(limit.unwrap_or(0));
        let rows = match customer {
            Some(customer) => self.query_notes(
                "SELECT id, data FROM notes WHERE account = ?1 AND customer_id = ?2
                 ORDER BY created_at DESC, id DESC LIMIT ?3",
                params![account, customer, limit],
            )?,
            None => self.query_notes(
                "SELECT id, data FROM notes WHERE account = ?1
                 ORDER BY created_at DESC, id DESC LIMIT ?2",
                params![account, limit],
            )?,
        };
        let notes = self.decode_notes(account, rows);
        let account_synced = self.synced_at(account, Scope::Notes(None))?;
        let synced = match customer {
            Some(_) => self
                .synced_at(account, Scope::Notes(customer))?
                .max(account_synced),
            None => account_synced,
        };
        Ok((notes, synced))
    }

    /// Everyone who wrote a cached note of the account, with how many, most first: the
    /// authors the filter bar completes. Names and emails as the notes have them (the
    /// lowercased columns only group them).
    pub fn authors(&self, account: &str, limit: usize) -> Result<Vec<AuthorCount>, CacheError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT max(json_extract(data, '$.author_name')),
                        max(json_extract(data, '$.author_email')),
                        count(*) AS n
                 FROM notes WHERE account = ?1
                 GROUP BY author_email, CASE WHEN author_email = '' THEN author_name END
                 ORDER BY n DESC, 1, 2 LIMIT ?2",
            )
            .map_err(|e| self.db_error(e))?;
        let rows = stmt
            .query_map(params![account, sql_limit(limit)], |row| {
                Ok(AuthorCount {
                    name: row.get::<_, Option<String>>(0)?.filter(|s| !s.is_empty()),
                    email: row.get::<_, Option<String>>(1)?.filter(|s| !s.is_empty()),
                    count: usize::try_from(row.get::<_, i64>(2)?).unwrap_or(0),
                })
            })
            .map_err(|e| self.db_error(e))?;
        let mut out = Vec::new();
        for row in rows {
            let author = row.map_err(|e| self.db_error(e))?;
            if author.name.is_some() || author.email.is_some() {
                out.push(author);
            }
        }
        Ok(out)
    }

    /// Full-text search over the subject, text and author of the account's cached notes, with
    /// the query's other conditions; best match first (bm25; ties newest first).
    /// Any text is safe: each word is matched literally, never as FTS5 syntax.
    pub fn search(&self, account: &str, query: &SearchQuery) -> Result<Vec<Note>, CacheError> {
        let Some(matching) = fts_query(&query.text) else {
            return Ok(Vec::new());
        };
        let kind = query
            .kind
            .as_deref()
            .map(|k| k.trim().to_lowercase())
            .filter(|k| !k.is_empty());
        let authors: Vec<String> = query
            .authors
            .iter()
            .map(|a| a.trim().to_lowercase())
            .filter(|a| !a.is_empty())
            .collect();
        // Passed as one JSON array so the statement stays the same, and cached, for any count.
        let authors = if authors.is_empty() {
            None
        } else {
            Some(
                serde_json::to_string(&authors).map_err(|e| CacheError::Sqlite {
                    path: self.label().to_path_buf(),
                    reason: one_line(&format!("cannot encode the author filter: {e}")),
                })?,
            )
        };
        // Subject words weigh double: a subject says what the note is about.
        // The ranking runs on the narrow columns and only the winners' JSON is read: a common
        // word can match most of the account, and sorting all of that JSON would dominate.
        let rows = self.query_notes(
            "SELECT n.id, n.data FROM (
                SELECT m.seq AS seq, bm25(notes_fts, 2.0, 1.0, 1.0) AS score,
                       m.created_at AS created_at, m.id AS id
                FROM notes_fts JOIN notes m ON m.seq = notes_fts.rowid
                WHERE notes_fts MATCH ?1 AND m.account = ?2
                  AND (?3 IS NULL OR m.customer_id = ?3)
                  AND (?4 IS NULL OR m.kind = ?4)
                  AND (?5 IS NULL OR EXISTS (
                        SELECT 1 FROM json_each(?5) AS a
                        WHERE instr(m.author_name, a.value) > 0 OR instr(m.author_email, a.value) > 0))
                  AND (?6 IS NULL OR m.created_at >= ?6)
                  AND (?7 IS NULL OR m.created_at <= ?7)
                ORDER BY score, created_at DESC, id DESC
                LIMIT ?8
             ) AS best JOIN notes n ON n.seq = best.seq
             ORDER BY best.score, best.created_at DESC, best.id DESC",
            params![
                matching,
                account,
                query.customer,
                kind,
                authors,
                query.since.map(nanos),
                query.until.map(nanos),
                sql_limit(query.limit),
            ],
        )?;
        Ok(self.decode_notes(account, rows))
    }

    /// Runs `f` in one IMMEDIATE transaction: a page is stored whole or not at all.
    fn write<R>(
        &self,
        f: impl FnOnce(&Transaction<'_>) -> Result<R, CacheError>,
    ) -> Result<R, CacheError> {
        let tx = Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)
            .map_err(|e| self.db_error(e))?;
        let result = f(&tx)?;
        tx.commit().map_err(|e| self.db_error(e))?;
        Ok(result)
    }

    /// Records that `page` of the scope's listing arrived, starting a new listing at page 1.
    fn advance(
        &self,
        tx: &Transaction<'_>,
        account: &str,
        scope: Scope<'_>,
        page: u32,
    ) -> Result<Listing, CacheError> {
        let (what, customer) = scope.key();
        let current: Option<(i64, i64)> = tx
            .prepare_cached(
                "SELECT listing, pages FROM listings
                 WHERE account = ?1 AND what = ?2 AND customer = ?3",
            )
            .and_then(|mut stmt| {
                stmt.query_row(params![account, what, customer], |row| {
                    Ok((row.get(0)?, row.get(1)?))
                })
                .optional()
            })
            .map_err(|e| self.db_error(e))?;
        let page = i64::from(page);
        let (id, pages) = match current {
            Some((id, pages)) if page > 1 => {
                // A page seen again (a retry) is harmless; one skipped means rows were missed.
                if pages > 0 && page <= pages + 1 {
                    (id, pages.max(page))
                } else {
                    if pages >= 0 {
                        tracing::warn!(
                            account,
                            what,
                            customer,
                            page,
                            pages,
                            "cache listing missed a page"
                        );
                    }
                    (id, -1)
                }
            }
            _ if page > 1 => (self.newest_listing(tx, account)? + 1, -1),
            _ => (self.newest_listing(tx, account)? + 1, 1),
        };
        tx.prepare_cached(
            "INSERT INTO listings (account, what, customer, listing, pages) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (account, what, customer) DO UPDATE SET
               listing = excluded.listing, pages = excluded.pages",
        )
        .and_then(|mut stmt| stmt.execute(params![account, what, customer, id, pages]))
        .map_err(|e| self.db_error(e))?;
        Ok(Listing {
            id,
            intact: pages > 0,
        })
    }

    /// Ends a listing: when it is whole, `remove_stale` drops what it did not see and the scope
    /// is marked synced at `at`.
    fn finish(
        &self,
        tx: &Transaction<'_>,
        account: &str,
        scope: Scope<'_>,
        listing: &Listing,
        at: Timestamp,
        remove_stale: impl FnOnce(&Transaction<'_>) -> rusqlite::Result<usize>,
    ) -> Result<(), CacheError> {
        let (what, customer) = scope.key();
        if listing.intact {
            remove_stale(tx).map_err(|e| self.db_error(e))?;
            tx.prepare_cached(
                "UPDATE listings SET pages = 0, synced_at = ?4
                 WHERE account = ?1 AND what = ?2 AND customer = ?3",
            )
            .and_then(|mut stmt| stmt.execute(params![account, what, customer, nanos(at)]))
            .map_err(|e| self.db_error(e))?;
        } else {
            tracing::warn!(
                account,
                what,
                customer,
                "cache listing ended incomplete: nothing removed"
            );
        }
        Ok(())
    }

    /// The number of the account's newest listing (0 before the first).
    fn newest_listing(&self, tx: &Transaction<'_>, account: &str) -> Result<i64, CacheError> {
        tx.prepare_cached("SELECT coalesce(max(listing), 0) FROM listings WHERE account = ?1")
            .and_then(|mut stmt| stmt.query_row([account], |row| row.get(0)))
            .map_err(|e| self.db_error(e))
    }

    /// When the scope's last complete listing ended.
    fn synced_at(&self, account: &str, scope: Scope<'_>) -> Result<Option<Timestamp>, CacheError> {
        let (what, customer) = scope.key();
        let nanos: Option<i64> = self
            .conn
            .prepare_cached(
                "SELECT synced_at FROM listings WHERE account = ?1 AND what = ?2 AND customer = ?3",
            )
            .and_then(|mut stmt| {
                stmt.query_row(params![account, what, customer], |row| row.get(0))
                    .optional()
            })
            .map_err(|e| self.db_error(e))?
            .flatten();
        // A value no timestamp can hold was not written by us: as good as never synced.
        Ok(nanos.and_then(|n| Timestamp::from_nanosecond(i128::from(n)).ok()))
    }

    /// Inserts or replaces one note and its full-text entry, and marks it seen by `listing`.
    fn upsert_note(
        &self,
        tx: &Transaction<'_>,
        account: &str,
        listed_customer: Option<&str>,
        note: &Note,
        listing: i64,
    ) -> Result<(), CacheError> {
        let json = note_json(note).map_err(|e| CacheError::Encode {
            path: self.label().to_path_buf(),
            what: format!("note {}", note.id),
            reason: one_line(&e.to_string()),
        })?;
        let customer = note
            .customer_id
            .as_deref()
            .or(listed_customer)
            .unwrap_or_default();
        let existing: Option<(i64, String, String)> = tx
            .prepare_cached(
                "SELECT seq, customer_id, data FROM notes WHERE account = ?1 AND id = ?2",
            )
            .and_then(|mut stmt| {
                stmt.query_row(params![account, note.id], |row| {
                    Ok((row.get(0)?, row.get(1)?, row.get(2)?))
                })
                .optional()
            })
            .map_err(|e| self.db_error(e))?;
        let kind = note.kind.as_str().trim().to_lowercase();
        let author_name = note
            .author_name
            .as_deref()
            .unwrap_or_default()
            .to_lowercase();
        let author_email = note
            .author_email
            .as_deref()
            .unwrap_or_default()
            .to_lowercase();
        let seq = match existing {
            // A refresh mostly sees notes unchanged: leave the text index alone then, so a
            // full sync does not rewrite (and fragment) it.
            Some((seq, old_customer, old_json)) if old_customer == customer && old_json == json => {
                tx.prepare_cached("UPDATE notes SET listing = max(listing, ?2) WHERE seq = ?1")
                    .and_then(|mut stmt| stmt.execute(params![seq, listing]))
                    .map_err(|e| self.db_error(e))?;
                return Ok(());
            }
            Some((seq, _, _)) => {
                tx.prepare_cached(
                    "UPDATE notes SET customer_id = ?2, created_at = ?3, kind = ?4,
                       author_name = ?5, author_email = ?6, listing = max(listing, ?7), data = ?8
                     WHERE seq = ?1",
                )
                .and_then(|mut stmt| {
                    stmt.execute(params![
                        seq,
                        customer,
                        nanos(note.created_at),
                        kind,
                        author_name,
                        author_email,
                        listing,
                        json
                    ])
                })
                .map_err(|e| self.db_error(e))?;
                tx.prepare_cached("DELETE FROM notes_fts WHERE rowid = ?1")
                    .and_then(|mut stmt| stmt.execute([seq]))
                    .map_err(|e| self.db_error(e))?;
                seq
            }
            None => tx
                .prepare_cached(
                    "INSERT INTO notes (account, id, customer_id, created_at, kind,
                       author_name, author_email, listing, data)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) RETURNING seq",
                )
                .and_then(|mut stmt| {
                    stmt.query_row(
                        params![
                            account,
                            note.id,
                            customer,
                            nanos(note.created_at),
                            kind,
                            author_name,
                            author_email,
                            listing,
                            json
                        ],
                        |row| row.get::<_, i64>(0),
                    )
                })
                .map_err(|e| self.db_error(e))?,
        };
        let author = [note.author_name.as_deref(), note.author_email.as_deref()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        tx.prepare_cached(
            "INSERT INTO notes_fts (rowid, subject, text, author) VALUES (?1, ?2, ?3, ?4)",
        )
        .and_then(|mut stmt| {
            stmt.execute(params![
                seq,
                note.subject.as_deref().unwrap_or_default(),
                note.text,
                author
            ])
        })
        .map_err(|e| self.db_error(e))?;
        Ok(())
    }

    /// Runs a query returning (id, data) rows.
    fn query_notes(
        &self,
        sql: &str,
        params: &[&dyn rusqlite::ToSql],
    ) -> Result<Vec<(String, String)>, CacheError> {
        let mut stmt = self
            .conn
            .prepare_cached(sql)
            .map_err(|e| self.db_error(e))?;
        stmt.query_map(params, |row| Ok((row.get(0)?, row.get(1)?)))
            .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
            .map_err(|e| self.db_error(e))
    }

    fn decode_notes(&self, account: &str, rows: Vec<(String, String)>) -> Vec<Note> {
        rows.into_iter()
            .filter_map(|(id, json)| self.decode::<Note>(account, "note", &id, &json))
            .collect()
    }

    /// A row that no longer decodes (a model change broke it) is left out, not fatal: the next
    /// sync writes it afresh, and one bad row should not hide the rest of the cache.
    fn decode<T: serde::de::DeserializeOwned>(
        &self,
        account: &str,
        what: &str,
        id: &str,
        json: &str,
    ) -> Option<T> {
        serde_json::from_str(json)
            .map_err(|e| {
                tracing::warn!(cache = %self.label().display(), account, what, id, error = %e,
                    "skipping an unreadable cache row");
            })
            .ok()
    }

    /// The name used for the cache in errors.
    fn label(&self) -> &Path {
        self.path
            .as_deref()
            .unwrap_or_else(|| Path::new(MEMORY_LABEL))
    }

    fn db_error(&self, e: rusqlite::Error) -> CacheError {
        let path = self.label().to_path_buf();
        let reason = one_line(&e.to_string());
        // A file damaged after opening is the same trouble as one damaged before.
        match e.sqlite_error_code() {
            Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt) => {
                CacheError::Unreadable { path, reason }
            }
            _ => CacheError::Sqlite { path, reason },
        }
    }
}

/// The JSON kept for a note. An attachment's signed link is dropped: it grants access to the
/// file to whoever holds it, and it expires anyway; the next fetch brings a fresh one.
fn note_json(note: &Note) -> serde_json::Result<String> {
    match &note.extras.attachment {
        Some(attachment) if attachment.url.is_some() => {
            let mut note = note.clone();
            if let Some(attachment) = &mut note.extras.attachment {
                attachment.url = None;
            }
            serde_json::to_string(&note)
        }
        _ => serde_json::to_string(note),
    }
}

/// The FTS5 query for free text: every word quoted (so nothing typed is FTS5 syntax) and also
/// matched as a prefix (so a half-typed word matches); all words must occur. A word matched
/// whole scores for both forms, so "4242" ranks a note with 4242 above one with 42420.
/// `None` when nothing is left to search for.
fn fts_query(text: &str) -> Option<String> {
    let words: Vec<String> = text
        // SQLite reads the query up to a NUL, so control characters must not reach it.
        .split(|c: char| c.is_whitespace() || c.is_control())
        // A word of punctuation alone has no token, and an empty phrase would match nothing,
        // making the whole query (all words must occur) match nothing.
        .filter(|word| word.chars().any(char::is_alphanumeric))
        .map(|word| {
            let quoted = format!("\"{}\"", word.replace('"', "\"\""));
            format!("({quoted} OR {quoted}*)")
        })
        .collect();
    (!words.is_empty()).then(|| words.join(" AND "))
}

/// A time as sortable integer nanoseconds; the few timestamps beyond i64's ±292 years from 1970
/// are clamped, which keeps their order relative to every real note.
fn nanos(t: Timestamp) -> i64 {
    let n = t.as_nanosecond();
    i64::try_from(n).unwrap_or(if n < 0 { i64::MIN } else { i64::MAX })
}

/// SQLite's LIMIT for "at most `limit`, 0 meaning all" (-1 is SQLite's "no limit").
fn sql_limit(limit: usize) -> i64 {
    if limit == 0 {
        -1
    } else {
        i64::try_from(limit).unwrap_or(i64::MAX)
    }
}

/// Reads the first and last row of each table: a few pages whatever the file's size, where an
/// integrity check would read them all. With SQLite's own check on opening (a file shorter
/// than its header says is "malformed"), this finds a damaged schema or table ends before the
/// first frame depends on them; damage deeper inside surfaces as `Unreadable` when it is read.
fn probe_tables(conn: &Connection) -> rusqlite::Result<()> {
    conn.query_row(
        "SELECT (SELECT min(account) FROM customers), (SELECT max(account) FROM customers),
                (SELECT min(seq) FROM notes), (SELECT max(seq) FROM notes),
                (SELECT count(*) FROM (SELECT 1 FROM listings LIMIT 1)),
                (SELECT count(*) FROM (SELECT 1 FROM notes_fts LIMIT 1))",
        [],
        |_| Ok(()),
    )
}

/// Brings the schema up to date (see `sqlite::migrate`).
fn migrate(conn: &mut Connection, label: &Path) -> Result<(), CacheError> {
    let outcome = sqlite::migrate(conn, MIGRATIONS, Some(APPLICATION_ID)).map_err(|e| {
        CacheError::Unreadable {
            path: label.to_path_buf(),
            reason: one_line(&format!("schema migration failed: {e}")),
        }
    })?;
    match outcome {
        Migration::Current => Ok(()),
        Migration::TooNew(found) => Err(CacheError::TooNew {
            path: label.to_path_buf(),
            found,
            known: SCHEMA_VERSION,
        }),
    }
}

/// The cache on a thread of its own (`sqlite::DbThread`).
pub type CacheThread = DbThread<Cache>;

impl From<Stopped> for CacheError {
    fn from(_: Stopped) -> Self {
        CacheError::Stopped
    }
}
