//! What the two SQLite files (the drafts store and the cache) share: files only their owner
//! can read, `user_version` migrations applied under a lock, one-line errors, and a thread of
//! their own so disk I/O never runs on the UI thread or a tokio worker.

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, TransactionBehavior};

/// How long a connection waits for another process's lock before giving up.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// What an in-memory database is called in errors.
pub const MEMORY_LABEL: &str = ":memory:";

pub fn read_user_version(conn: &Connection) -> rusqlite::Result<u32> {
    let version: i64 = conn.pragma_query_value(None, "user_version", |row| row.get(0))?;
    // A negative user_version is not ours to interpret; treat it as "newer than we know".
    Ok(u32::try_from(version).unwrap_or(u32::MAX))
}

/// How a migration ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Migration {
    /// The schema is current (now, or already was).
    Current,
    /// The file was written by a newer crm-notes (this `user_version`); nothing was changed.
    TooNew(u32),
}

/// Applies the missing steps of `migrations` (step N brings `user_version` to N + 1) in one
/// IMMEDIATE transaction, so two crm-notes processes starting together cannot both migrate,
/// and a failure leaves the old schema intact. `application_id` is stamped on a file that is
/// being migrated, so a file of ours can be told from any other SQLite file.
pub fn migrate(
    conn: &mut Connection,
    migrations: &[&str],
    application_id: Option<i32>,
) -> rusqlite::Result<Migration> {
    let current = u32::try_from(migrations.len()).unwrap_or(u32::MAX);
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    // Read again inside the lock: another process may have migrated since we first looked.
    let found = read_user_version(&tx)?;
    if found > current {
        return Ok(Migration::TooNew(found));
    }
    if found == current {
        return Ok(Migration::Current);
    }
    if let Some(id) = application_id {
        tx.pragma_update(None, "application_id", id)?;
    }
    for (step, sql) in migrations.iter().enumerate().skip(found as usize) {
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", step as i64 + 1)?;
    }
    tx.commit()?;
    Ok(Migration::Current)
}

/// Creates a data folder; on Unix only the owner may enter it, as it holds customer notes.
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// Creates the file readable by its owner only, before SQLite creates it with the umask's
/// looser mode (its -wal and -shm files copy the mode). An existing file is opened for
/// appending and closed untouched.
pub fn create_private_file(path: &Path) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.append(true).create(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path).map(drop)
}

/// Collapses any line breaks in a message so every error stays one line.
pub fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The database's thread is gone (the app is shutting down, or it could not start).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stopped;

/// Work for a database thread.
type Job<T> = Box<dyn FnOnce(&T) + Send>;

/// `T` (a `Store` or a `Cache`) on a thread of its own. Calls are closures run in order on
/// that thread; the thread ends when every handle is dropped.
pub struct DbThread<T> {
    jobs: std::sync::mpsc::Sender<Job<T>>,
}

impl<T> Clone for DbThread<T> {
    fn clone(&self) -> Self {
        DbThread {
            jobs: self.jobs.clone(),
        }
    }
}

impl<T> std::fmt::Debug for DbThread<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DbThread").finish_non_exhaustive()
    }
}

impl<T: Send + 'static> DbThread<T> {
    /// Moves `db` to a new thread called `name`.
    pub fn spawn(name: &str, db: T) -> DbThread<T> {
        let (jobs, queue) = std::sync::mpsc::channel::<Job<T>>();
        std::thread::Builder::new()
            .name(name.into())
            .spawn(move || {
                for job in queue {
                    job(&db);
                }
            })
            .map(drop)
            // Without the thread every call answers `Stopped`: the app runs without it.
            .unwrap_or_else(|e| tracing::error!(error = %e, name, "could not start a thread"));
        DbThread { jobs }
    }

    /// Runs `f` on the thread and waits (asynchronously) for its result.
    pub async fn call<R: Send + 'static, E: From<Stopped> + Send + 'static>(
        &self,
        f: impl FnOnce(&T) -> Result<R, E> + Send + 'static,
    ) -> Result<R, E> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        self.jobs
            .send(Box::new(move |db| {
                let _ = reply.send(f(db));
            }))
            .map_err(|_| E::from(Stopped))?;
        answer.await.map_err(|_| E::from(Stopped))?
    }

    /// Runs `f` on the thread and blocks until it is done. Never from inside a job (it would
    /// wait for itself) nor on a tokio worker.
    pub fn call_blocking<R: Send + 'static, E: From<Stopped> + Send + 'static>(
        &self,
        f: impl FnOnce(&T) -> Result<R, E> + Send + 'static,
    ) -> Result<R, E> {
        let (reply, answer) = std::sync::mpsc::sync_channel(1);
        self.jobs
            .send(Box::new(move |db| {
                let _ = reply.send(f(db));
            }))
            .map_err(|_| E::from(Stopped))?;
        answer.recv().map_err(|_| E::from(Stopped))?
    }

    /// Runs `f` on the thread without waiting.
    pub fn post(&self, f: impl FnOnce(&T) + Send + 'static) {
        let _ = self.jobs.send(Box::new(f));
    }
}
