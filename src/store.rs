//! The local SQLite store: the drafts being typed and the outbox of writes the server has not yet
//! confirmed. It never stores a secret, and never deletes a draft or an unsent note on its own:
//! only the one the caller names, through `delete_draft`, `complete` or `discard`.
//!
//! This is the narrow interface the rest of the app uses; no SQL is built anywhere else. It is
//! used from one thread (the caller owns it), so it holds a plain `Connection`.

use std::fmt;
use std::path::{Path, PathBuf};

use jiff::Timestamp;
use rusqlite::{Connection, ErrorCode, OptionalExtension, Row, params};
use serde::{Deserialize, Serialize};

use crate::model::{NewNote, NoteKind, NotePatch};
use crate::sqlite::{
    self, BUSY_TIMEOUT, DbThread, MEMORY_LABEL, Migration, Stopped, create_private_dir,
    create_private_file, one_line, read_user_version,
};

/// Schema steps, applied in order; step `i` brings the schema to version `i + 1`.
/// A released step must never be edited: databases in the field are already at its version.
const MIGRATIONS: &[&str] = &[
    // 1: drafts. `is_edit` + `note_id` make the key: a new note is (0, ''), an edit is (1, id),
    // so a new-note draft can never collide with an edit draft whatever the note id is.
    "CREATE TABLE drafts (
        account     TEXT NOT NULL,
        customer_id TEXT NOT NULL,
        is_edit     INTEGER NOT NULL CHECK (is_edit IN (0, 1)),
        note_id     TEXT NOT NULL,
        kind        TEXT NOT NULL,
        duration    TEXT NOT NULL,
        when_text   TEXT NOT NULL,
        author      TEXT NOT NULL,
        text        TEXT NOT NULL,
        updated_at  TEXT NOT NULL,
        PRIMARY KEY (account, customer_id, is_edit, note_id)
    );
    CREATE INDEX drafts_by_account_newest ON drafts (account, updated_at);",
    // 2: the outbox. AUTOINCREMENT so an id is never reused: a late `complete(id)` for an item
    // already gone can never remove a newer, unrelated one.
    "CREATE TABLE outbox (
        id              INTEGER PRIMARY KEY AUTOINCREMENT,
        account         TEXT NOT NULL,
        op              TEXT NOT NULL,
        state           TEXT NOT NULL CHECK (state IN ('pending', 'sending', 'unknown', 'rejected')),
        attempts        INTEGER NOT NULL DEFAULT 0,
        next_attempt_at TEXT,
        last_error      TEXT,
        created_at      TEXT NOT NULL
    );
    CREATE INDEX outbox_by_account ON outbox (account, id);",
];

/// The schema version this build writes and understands.
pub const SCHEMA_VERSION: u32 = MIGRATIONS.len() as u32;

/// The columns of an outbox row, in the order `RawItem::read` expects them.
macro_rules! outbox_columns {
    () => {
        "id, account, op, state, attempts, next_attempt_at, last_error, created_at"
    };
}

/// Columns of a draft row, in the order `RawDraft::read` expects them.
macro_rules! draft_columns {
    () => {
        "account, customer_id, is_edit, note_id, kind, duration, when_text, author, text, updated_at"
    };
}

/// What went wrong with the local store, in one line that names the file where one is involved.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot create the folder {} for the local store ({reason}): drafts are not being saved", dir.display())]
    CreateDir { dir: PathBuf, reason: String },
    #[error("the local store {} is unreadable ({reason}): drafts are not being saved", path.display())]
    Unreadable { path: PathBuf, reason: String },
    #[error("the local store {} was written by a newer crm-notes (schema {found}, this one knows up to {known}): it was left untouched and drafts are not being saved", path.display())]
    TooNew {
        path: PathBuf,
        found: u32,
        known: u32,
    },
    #[error("the local store {} failed ({reason})", path.display())]
    Sqlite { path: PathBuf, reason: String },
    #[error("the local store {} holds an unreadable {what} ({reason})", path.display())]
    Corrupt {
        path: PathBuf,
        what: String,
        reason: String,
    },
    #[error("outbox item {id} is not in the local store {}", path.display())]
    NoSuchItem { path: PathBuf, id: i64 },
    #[error("outbox item {id} cannot go from {from} to {to}: it stays {from}")]
    InvalidTransition {
        id: i64,
        from: OutboxState,
        to: OutboxState,
    },
    #[error("outbox item {id} cannot be {action} while it is {state}")]
    NotAllowed {
        id: i64,
        state: OutboxState,
        action: &'static str,
    },
    #[error("the local store has stopped")]
    Stopped,
}

/// An unsent note or edit, saved as typed: the fields hold the raw text so a half-typed
/// duration like "1h3" comes back exactly as it was left.
#[derive(Debug, Clone, PartialEq)]
pub struct Draft {
    pub account: String,
    pub customer_id: String,
    /// `None` for a new note, `Some(id)` while editing that note.
    pub note_id: Option<String>,
    /// "note", "call" or a provider's own type.
    pub kind: String,
    pub duration: String,
    pub when: String,
    pub author: String,
    pub text: String,
    pub updated_at: Timestamp,
}

/// A write to send to the provider.
#[derive(Debug, Clone, PartialEq)]
pub enum WriteOp {
    Create(NewNote),
    Update {
        note_id: String,
        customer_id: String,
        patch: NotePatch,
    },
    Delete {
        note_id: String,
        customer_id: String,
    },
}

/// Where an outbox item is in its life; see [`allowed`] for the moves between states.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutboxState {
    /// Waiting to be sent (first time, or again after a transient failure).
    Pending,
    /// Being sent right now.
    Sending,
    /// Sent, but the reply never came: the server may or may not have acted on it.
    Unknown,
    /// Refused by the server (4xx): kept with its error until the user edits, retries or drops it.
    Rejected,
}

impl OutboxState {
    pub fn as_str(self) -> &'static str {
        match self {
            OutboxState::Pending => "pending",
            OutboxState::Sending => "sending",
            OutboxState::Unknown => "unknown",
            OutboxState::Rejected => "rejected",
        }
    }

    fn parse(s: &str) -> Option<OutboxState> {
        match s {
            "pending" => Some(OutboxState::Pending),
            "sending" => Some(OutboxState::Sending),
            "unknown" => Some(OutboxState::Unknown),
            "rejected" => Some(OutboxState::Rejected),
            _ => None,
        }
    }
}

impl fmt::Display for OutboxState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether an outbox item may move from `from` to `to`.
///
/// The one rule that matters most: an `Unknown` item never goes straight back to `Sending`.
/// It must first be reconciled against the server (found: `complete`; absent: `Pending`),
/// otherwise a note whose first send did arrive would be created twice.
pub fn allowed(from: OutboxState, to: OutboxState) -> bool {
    use OutboxState::{Pending, Rejected, Sending, Unknown};
    matches!(
        (from, to),
        (Pending, Sending)
            | (Sending, Pending)
            | (Sending, Unknown)
            | (Sending, Rejected)
            | (Unknown, Pending)
            | (Rejected, Pending)
    )
}

/// One write waiting for the server's confirmation.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxItem {
    pub id: i64,
    pub account: String,
    pub op: WriteOp,
    pub state: OutboxState,
    /// How many times it was handed to `Sending`.
    pub attempts: u32,
    pub next_attempt_at: Option<Timestamp>,
    pub last_error: Option<String>,
    pub created_at: Timestamp,
}

/// The local store: one SQLite connection and where its file is.
pub struct Store {
    conn: Connection,
    path: Option<PathBuf>,
}

impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish()
    }
}

impl Store {
    /// Opens (creating if needed) the store at `path` and brings its schema up to date.
    /// A file that is not a database, or that a newer crm-notes wrote, is refused and left as is.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            create_private_dir(dir).map_err(|e| StoreError::CreateDir {
                dir: dir.to_path_buf(),
                reason: one_line(&e.to_string()),
            })?;
        }
        let unreadable = |e: String| StoreError::Unreadable {
            path: path.to_path_buf(),
            reason: one_line(&e),
        };
        // Drafts hold customers' notes: the file is its owner's alone, like its folder.
        create_private_file(path).map_err(|e| unreadable(e.to_string()))?;
        let conn = Connection::open(path).map_err(|e| unreadable(e.to_string()))?;
        Store::init(conn, Some(path.to_path_buf()))
    }

    /// A store that lives only as long as this value: for tests and `--demo`.
    pub fn open_in_memory() -> Result<Store, StoreError> {
        let conn = Connection::open_in_memory().map_err(|e| StoreError::Unreadable {
            path: PathBuf::from(MEMORY_LABEL),
            reason: one_line(&e.to_string()),
        })?;
        Store::init(conn, None)
    }

    fn init(mut conn: Connection, path: Option<PathBuf>) -> Result<Store, StoreError> {
        let label = path.clone().unwrap_or_else(|| PathBuf::from(MEMORY_LABEL));
        // Any failure while opening means the store is unusable, whatever SQLite calls it.
        let unreadable = |e: rusqlite::Error| StoreError::Unreadable {
            path: label.clone(),
            reason: one_line(&e.to_string()),
        };
        conn.busy_timeout(BUSY_TIMEOUT).map_err(unreadable)?;
        // Read the version before anything that writes (switching to WAL rewrites the header),
        // so garbage or a newer schema is refused with the file byte-for-byte as it was.
        let found = read_user_version(&conn).map_err(unreadable)?;
        if found > SCHEMA_VERSION {
            return Err(StoreError::TooNew {
                path: label,
                found,
                known: SCHEMA_VERSION,
            });
        }
        // WAL + synchronous=NORMAL: a draft is saved on every keystroke, so a commit must not
        // wait for an fsync; committed data still survives the process being killed.
        // The mode actually granted is not checked: a filesystem without WAL still works.
        conn.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get::<_, String>(0))
            .map_err(unreadable)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(unreadable)?;
        conn.pragma_update(None, "foreign_keys", true)
            .map_err(unreadable)?;
        migrate(&mut conn, &label)?;
        // The process that left an item `Sending` died mid-send: the server may have it.
        conn.execute(
            "UPDATE outbox SET state = 'unknown' WHERE state = 'sending'",
            [],
        )
        .map_err(unreadable)?;
        Ok(Store { conn, path })
    }

    /// The file behind the store; `None` in memory.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// The schema version recorded in the file (`PRAGMA user_version`).
    pub fn schema_version(&self) -> Result<u32, StoreError> {
        read_user_version(&self.conn).map_err(|e| self.db_error(e))
    }

    /// Saves a draft, replacing the one for the same account, customer and note.
    pub fn save_draft(&self, draft: &Draft) -> Result<(), StoreError> {
        let (is_edit, note_id) = draft_key(draft.note_id.as_deref());
        let mut stmt = self
            .conn
            .prepare_cached(concat!(
                "INSERT INTO drafts (",
                draft_columns!(),
                ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
                 ON CONFLICT (account, customer_id, is_edit, note_id) DO UPDATE SET
                   kind = excluded.kind, duration = excluded.duration,
                   when_text = excluded.when_text, author = excluded.author,
                   text = excluded.text, updated_at = excluded.updated_at"
            ))
            .map_err(|e| self.db_error(e))?;
        stmt.execute(params![
            draft.account,
            draft.customer_id,
            is_edit,
            note_id,
            draft.kind,
            draft.duration,
            draft.when,
            draft.author,
            draft.text,
            sortable_time(draft.updated_at),
        ])
        .map_err(|e| self.db_error(e))?;
        Ok(())
    }

    /// The draft for a new note (`note_id` `None`) or for an edit of that note.
    pub fn draft(
        &self,
        account: &str,
        customer_id: &str,
        note_id: Option<&str>,
    ) -> Result<Option<Draft>, StoreError> {
        let (is_edit, note_id) = draft_key(note_id);
        let mut stmt = self
            .conn
            .prepare_cached(concat!(
                "SELECT ",
                draft_columns!(),
                " FROM drafts WHERE account = ?1 AND customer_id = ?2 AND is_edit = ?3 AND note_id = ?4"
            ))
            .map_err(|e| self.db_error(e))?;
        let raw = stmt
            .query_row(
                params![account, customer_id, is_edit, note_id],
                RawDraft::read,
            )
            .optional()
            .map_err(|e| self.db_error(e))?;
        raw.map(|raw| raw.into_draft(self.label())).transpose()
    }

    /// Every draft of an account, the most recently saved first.
    pub fn drafts(&self, account: &str) -> Result<Vec<Draft>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(concat!(
                "SELECT ",
                draft_columns!(),
                " FROM drafts WHERE account = ?1 ORDER BY updated_at DESC, rowid DESC"
            ))
            .map_err(|e| self.db_error(e))?;
        let raws = stmt
            .query_map([account], RawDraft::read)
            .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
            .map_err(|e| self.db_error(e))?;
        raws.into_iter()
            .map(|raw| raw.into_draft(self.label()))
            .collect()
    }

    /// Removes that one draft (after it was sent or queued, or the user threw it away).
    /// Removing a draft that does not exist is not an error: the outcome is the same.
    pub fn delete_draft(
        &self,
        account: &str,
        customer_id: &str,
        note_id: Option<&str>,
    ) -> Result<(), StoreError> {
        let (is_edit, note_id) = draft_key(note_id);
        let mut stmt = self
            .conn
            .prepare_cached(
                "DELETE FROM drafts WHERE account = ?1 AND customer_id = ?2 AND is_edit = ?3 AND note_id = ?4",
            )
            .map_err(|e| self.db_error(e))?;
        stmt.execute(params![account, customer_id, is_edit, note_id])
            .map_err(|e| self.db_error(e))?;
        Ok(())
    }

    /// Puts a write in the outbox, `Pending`, before it is first sent.
    pub fn enqueue(
        &self,
        account: &str,
        op: &WriteOp,
        now: Timestamp,
    ) -> Result<OutboxItem, StoreError> {
        let json = op_to_json(op).map_err(|e| StoreError::Sqlite {
            path: self.label().to_path_buf(),
            reason: one_line(&format!("cannot encode the write: {e}")),
        })?;
        let mut stmt = self
            .conn
            .prepare_cached(concat!(
                "INSERT INTO outbox (account, op, state, attempts, created_at)
                 VALUES (?1, ?2, 'pending', 0, ?3) RETURNING ",
                outbox_columns!()
            ))
            .map_err(|e| self.db_error(e))?;
        let raw = stmt
            .query_row(params![account, json, sortable_time(now)], RawItem::read)
            .map_err(|e| self.db_error(e))?;
        raw.into_item(self.label())
    }

    /// Queues a write and removes the draft it came from in one transaction, so a crash
    /// leaves either the draft or the queued write: never both (it could be sent twice) and
    /// never neither (the text would be lost).
    pub fn enqueue_from_draft(
        &self,
        account: &str,
        op: &WriteOp,
        now: Timestamp,
        customer_id: &str,
        note_id: Option<&str>,
    ) -> Result<OutboxItem, StoreError> {
        let tx = self
            .conn
            .unchecked_transaction()
            .map_err(|e| self.db_error(e))?;
        self.delete_draft(account, customer_id, note_id)?;
        let item = self.enqueue(account, op, now)?;
        tx.commit().map_err(|e| self.db_error(e))?;
        Ok(item)
    }

    /// Every outbox item of an account in every state, the oldest first (the order to send in).
    pub fn outbox(&self, account: &str) -> Result<Vec<OutboxItem>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(concat!(
                "SELECT ",
                outbox_columns!(),
                " FROM outbox WHERE account = ?1 ORDER BY id"
            ))
            .map_err(|e| self.db_error(e))?;
        let raws = stmt
            .query_map([account], RawItem::read)
            .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
            .map_err(|e| self.db_error(e))?;
        // One unreadable item fails the whole listing rather than being skipped: skipping would
        // hide an unsent note from the user.
        raws.into_iter()
            .map(|raw| raw.into_item(self.label()))
            .collect()
    }

    /// One outbox item, whatever its account.
    pub fn outbox_item(&self, id: i64) -> Result<Option<OutboxItem>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(concat!(
                "SELECT ",
                outbox_columns!(),
                " FROM outbox WHERE id = ?1"
            ))
            .map_err(|e| self.db_error(e))?;
        let raw = stmt
            .query_row([id], RawItem::read)
            .optional()
            .map_err(|e| self.db_error(e))?;
        raw.map(|raw| raw.into_item(self.label())).transpose()
    }

    /// Moves an item to `to` if [`allowed`]; otherwise an error and the item is unchanged.
    /// `last_error` and `next_attempt_at` are set to exactly what is passed (`None` clears them);
    /// moving to `Sending` counts one more attempt.
    pub fn transition(
        &self,
        id: i64,
        to: OutboxState,
        error: Option<&str>,
        next_attempt_at: Option<Timestamp>,
    ) -> Result<OutboxItem, StoreError> {
        let from = self.require_item(id)?.state;
        if !allowed(from, to) {
            return Err(StoreError::InvalidTransition { id, from, to });
        }
        let mut stmt = self
            .conn
            .prepare_cached(concat!(
                "UPDATE outbox SET state = ?2, attempts = attempts + ?3, last_error = ?4,
                   next_attempt_at = ?5
                 WHERE id = ?1 AND state = ?6 RETURNING ",
                outbox_columns!()
            ))
            .map_err(|e| self.db_error(e))?;
        let raw = stmt
            .query_row(
                params![
                    id,
                    to.as_str(),
                    i64::from(to == OutboxState::Sending),
                    error,
                    next_attempt_at.map(sortable_time),
                    from.as_str(),
                ],
                RawItem::read,
            )
            .optional()
            .map_err(|e| self.db_error(e))?;
        match raw {
            Some(raw) => raw.into_item(self.label()),
            // Another crm-notes process moved it between our read and our update (its `open`
            // turns `Sending` into `Unknown`): report the state it is really in now.
            None => Err(StoreError::InvalidTransition {
                id,
                from: self.require_item(id)?.state,
                to,
            }),
        }
    }

    /// The server confirmed the write (sent, or found by reconciliation): the item is removed.
    /// Only a `Sending` or `Unknown` item can be confirmed; anything else was never sent.
    pub fn complete(&self, id: i64) -> Result<(), StoreError> {
        self.remove_if(
            id,
            "DELETE FROM outbox WHERE id = ?1 AND state IN ('sending', 'unknown')",
            "marked sent",
        )
    }

    /// The user chose to drop the write. Only a `Rejected` or `Pending` item can be dropped:
    /// one that is being sent or whose outcome is unknown may already be on the server.
    pub fn discard(&self, id: i64) -> Result<(), StoreError> {
        self.remove_if(
            id,
            "DELETE FROM outbox WHERE id = ?1 AND state IN ('rejected', 'pending')",
            "discarded",
        )
    }

    /// Replaces the write of a `Rejected` or `Pending` item (the user edited it before
    /// retrying), keeping its place in the queue. Refused once it may be on the server.
    pub fn replace_op(&self, id: i64, op: &WriteOp) -> Result<OutboxItem, StoreError> {
        let json = op_to_json(op).map_err(|e| StoreError::Sqlite {
            path: self.label().to_path_buf(),
            reason: one_line(&format!("cannot encode the write: {e}")),
        })?;
        let mut stmt = self
            .conn
            .prepare_cached(concat!(
                "UPDATE outbox SET op = ?2 WHERE id = ?1 AND state IN ('rejected', 'pending')
                 RETURNING ",
                outbox_columns!()
            ))
            .map_err(|e| self.db_error(e))?;
        let raw = stmt
            .query_row(params![id, json], RawItem::read)
            .optional()
            .map_err(|e| self.db_error(e))?;
        match raw {
            Some(raw) => raw.into_item(self.label()),
            None => Err(self.refusal(id, "edited")),
        }
    }

    /// Runs a guarded DELETE and explains why nothing was removed.
    fn remove_if(&self, id: i64, sql: &str, action: &'static str) -> Result<(), StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(sql)
            .map_err(|e| self.db_error(e))?;
        let removed = stmt.execute([id]).map_err(|e| self.db_error(e))?;
        if removed == 0 {
            return Err(self.refusal(id, action));
        }
        Ok(())
    }

    /// The error for an action the item's state does not allow (or a missing item).
    fn refusal(&self, id: i64, action: &'static str) -> StoreError {
        match self.require_item(id) {
            Ok(item) => StoreError::NotAllowed {
                id,
                state: item.state,
                action,
            },
            Err(e) => e,
        }
    }

    fn require_item(&self, id: i64) -> Result<OutboxItem, StoreError> {
        self.outbox_item(id)?.ok_or_else(|| StoreError::NoSuchItem {
            path: self.label().to_path_buf(),
            id,
        })
    }

    /// The name used for the store in errors.
    fn label(&self) -> &Path {
        self.path
            .as_deref()
            .unwrap_or_else(|| Path::new(MEMORY_LABEL))
    }

    fn db_error(&self, e: rusqlite::Error) -> StoreError {
        let path = self.label().to_path_buf();
        let reason = one_line(&e.to_string());
        // A file damaged after opening is the same trouble as one damaged before.
        match e.sqlite_error_code() {
            Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt) => {
                StoreError::Unreadable { path, reason }
            }
            _ => StoreError::Sqlite { path, reason },
        }
    }
}

/// Brings the schema up to date (see `sqlite::migrate`).
fn migrate(conn: &mut Connection, label: &Path) -> Result<(), StoreError> {
    let outcome = sqlite::migrate(conn, MIGRATIONS, None).map_err(|e| StoreError::Unreadable {
        path: label.to_path_buf(),
        reason: one_line(&format!("schema migration failed: {e}")),
    })?;
    match outcome {
        Migration::Current => Ok(()),
        Migration::TooNew(found) => Err(StoreError::TooNew {
            path: label.to_path_buf(),
            found,
            known: SCHEMA_VERSION,
        }),
    }
}

/// The key columns of a draft: (0, "") for a new note, (1, id) for an edit.
fn draft_key(note_id: Option<&str>) -> (i64, &str) {
    match note_id {
        Some(id) => (1, id),
        None => (0, ""),
    }
}

/// RFC 3339 in UTC with all nine fractional digits: fixed width, so the text sorts in time
/// order in SQL, and nanoseconds survive the round trip.
fn sortable_time(t: Timestamp) -> String {
    format!("{t:.9}")
}

fn parse_time(s: &str) -> Result<Timestamp, String> {
    s.parse::<Timestamp>()
        .map_err(|e| format!("bad time {s:?}: {e}"))
}

/// A draft row as SQLite returns it, checked separately so bad data becomes an error, not a panic.
struct RawDraft {
    account: String,
    customer_id: String,
    is_edit: i64,
    note_id: String,
    kind: String,
    duration: String,
    when: String,
    author: String,
    text: String,
    updated_at: String,
}

impl RawDraft {
    fn read(row: &Row<'_>) -> rusqlite::Result<RawDraft> {
        Ok(RawDraft {
            account: row.get(0)?,
            customer_id: row.get(1)?,
            is_edit: row.get(2)?,
            note_id: row.get(3)?,
            kind: row.get(4)?,
            duration: row.get(5)?,
            when: row.get(6)?,
            author: row.get(7)?,
            text: row.get(8)?,
            updated_at: row.get(9)?,
        })
    }

    fn into_draft(self, label: &Path) -> Result<Draft, StoreError> {
        let updated_at = parse_time(&self.updated_at).map_err(|reason| StoreError::Corrupt {
            path: label.to_path_buf(),
            what: format!("draft for customer {}", self.customer_id),
            reason,
        })?;
        Ok(Draft {
            account: self.account,
            customer_id: self.customer_id,
            note_id: (self.is_edit != 0).then_some(self.note_id),
            kind: self.kind,
            duration: self.duration,
            when: self.when,
            author: self.author,
            text: self.text,
            updated_at,
        })
    }
}

/// An outbox row as SQLite returns it.
struct RawItem {
    id: i64,
    account: String,
    op: String,
    state: String,
    attempts: i64,
    next_attempt_at: Option<String>,
    last_error: Option<String>,
    created_at: String,
}

impl RawItem {
    fn read(row: &Row<'_>) -> rusqlite::Result<RawItem> {
        Ok(RawItem {
            id: row.get(0)?,
            account: row.get(1)?,
            op: row.get(2)?,
            state: row.get(3)?,
            attempts: row.get(4)?,
            next_attempt_at: row.get(5)?,
            last_error: row.get(6)?,
            created_at: row.get(7)?,
        })
    }

    fn into_item(self, label: &Path) -> Result<OutboxItem, StoreError> {
        let id = self.id;
        let corrupt = |reason: String| StoreError::Corrupt {
            path: label.to_path_buf(),
            what: format!("outbox item {id}"),
            reason: one_line(&reason),
        };
        let op = op_from_json(&self.op).map_err(|e| corrupt(format!("bad write: {e}")))?;
        let state = OutboxState::parse(&self.state)
            .ok_or_else(|| corrupt(format!("bad state {:?}", self.state)))?;
        let attempts = u32::try_from(self.attempts)
            .map_err(|_| corrupt(format!("bad attempt count {}", self.attempts)))?;
        let next_attempt_at = self
            .next_attempt_at
            .as_deref()
            .map(parse_time)
            .transpose()
            .map_err(corrupt)?;
        let created_at = parse_time(&self.created_at).map_err(corrupt)?;
        Ok(OutboxItem {
            id,
            account: self.account,
            op,
            state,
            attempts,
            next_attempt_at,
            last_error: self.last_error,
            created_at,
        })
    }
}

/// The JSON form of a [`WriteOp`] in the `op` column. Kept here (not as derives on the model)
/// so the model can change freely while this format stays what the files on disk hold.
#[derive(Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
enum OpRow {
    Create {
        customer_id: String,
        kind: String,
        author_email: Option<String>,
        text: String,
        call_duration_s: Option<u32>,
        created_at: Timestamp,
    },
    Update {
        note_id: String,
        customer_id: String,
        patch: PatchRow,
    },
    Delete {
        note_id: String,
        customer_id: String,
    },
}

#[derive(Serialize, Deserialize)]
struct PatchRow {
    text: Option<String>,
    call_duration_s: Option<u32>,
    created_at: Option<Timestamp>,
    author_email: Option<String>,
}

fn op_to_json(op: &WriteOp) -> serde_json::Result<String> {
    let row = match op {
        WriteOp::Create(new) => OpRow::Create {
            customer_id: new.customer_id.clone(),
            kind: new.kind.as_str().to_string(),
            author_email: new.author_email.clone(),
            text: new.text.clone(),
            call_duration_s: new.call_duration_s,
            created_at: new.created_at,
        },
        WriteOp::Update {
            note_id,
            customer_id,
            patch,
        } => OpRow::Update {
            note_id: note_id.clone(),
            customer_id: customer_id.clone(),
            patch: PatchRow {
                text: patch.text.clone(),
                call_duration_s: patch.call_duration_s,
                created_at: patch.created_at,
                author_email: patch.author_email.clone(),
            },
        },
        WriteOp::Delete {
            note_id,
            customer_id,
        } => OpRow::Delete {
            note_id: note_id.clone(),
            customer_id: customer_id.clone(),
        },
    };
    serde_json::to_string(&row)
}

fn op_from_json(json: &str) -> serde_json::Result<WriteOp> {
    Ok(match serde_json::from_str::<OpRow>(json)? {
        OpRow::Create {
            customer_id,
            kind,
            author_email,
            text,
            call_duration_s,
            created_at,
        } => WriteOp::Create(NewNote {
            customer_id,
            kind: NoteKind::parse(&kind),
            author_email,
            text,
            call_duration_s,
            created_at,
        }),
        OpRow::Update {
            note_id,
            customer_id,
            patch,
        } => WriteOp::Update {
            note_id,
            customer_id,
            patch: NotePatch {
                text: patch.text,
                call_duration_s: patch.call_duration_s,
                created_at: patch.created_at,
                author_email: patch.author_email,
            },
        },
        OpRow::Delete {
            note_id,
            customer_id,
        } => WriteOp::Delete {
            note_id,
            customer_id,
        },
    })
}

/// The store on a thread of its own (`sqlite::DbThread`): drafts are saved from the UI loop
/// without waiting, and the outbox worker awaits its answers.
pub type StoreThread = DbThread<Store>;

impl From<Stopped> for StoreError {
    fn from(_: Stopped) -> Self {
        StoreError::Stopped
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use OutboxState::{Pending, Rejected, Sending, Unknown};

    #[test]
    fn the_outbox_state_machine_allows_exactly_the_documented_moves() {
        // Every (from, to) pair, so a new arrow cannot slip in unnoticed.
        let table = [
            (Pending, Pending, false),
            (Pending, Sending, true),
            (Pending, Unknown, false),
            (Pending, Rejected, false),
            (Sending, Pending, true),
            (Sending, Sending, false),
            (Sending, Unknown, true),
            (Sending, Rejected, true),
            (Unknown, Pending, true),
            (Unknown, Sending, false),
            (Unknown, Unknown, false),
            (Unknown, Rejected, false),
            (Rejected, Pending, true),
            (Rejected, Sending, false),
            (Rejected, Unknown, false),
            (Rejected, Rejected, false),
        ];
        for (from, to, expected) in table {
            assert_eq!(allowed(from, to), expected, "{from} -> {to}");
        }
    }

    #[test]
    fn a_file_store_uses_wal_normal_sync_foreign_keys_and_a_busy_timeout() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::open(&dir.path().join("s.db")).expect("open");
        let pragma = |name: &str| -> String {
            store
                .conn
                .pragma_query_value(None, name, |row| row.get::<_, rusqlite::types::Value>(0))
                .map(|v| format!("{v:?}"))
                .expect("pragma")
        };
        assert_eq!(pragma("journal_mode"), "Text(\"wal\")");
        // 1 = NORMAL
        assert_eq!(pragma("synchronous"), "Integer(1)");
        assert_eq!(pragma("foreign_keys"), "Integer(1)");
        assert_eq!(pragma("busy_timeout"), "Integer(5000)");
    }

    #[test]
    fn stored_times_sort_as_text_in_time_order() {
        // A whole second and a fraction after it: with variable-width fractions "…00Z" would
        // sort after "…00.5Z".
        let whole: Timestamp = "2026-01-01T00:00:00Z".parse().expect("time");
        let later: Timestamp = "2026-01-01T00:00:00.5Z".parse().expect("time");
        assert!(sortable_time(whole) < sortable_time(later));
        assert_eq!(parse_time(&sortable_time(later)), Ok(later));
    }

    #[test]
    fn messages_with_line_breaks_become_one_line() {
        assert_eq!(
            one_line("near \"x\":\nsyntax  error\r\n"),
            "near \"x\": syntax error"
        );
    }
}
