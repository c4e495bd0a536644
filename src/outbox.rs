//! Sending the agent's writes so that none is lost and none is made twice. Every write is in
//! the store's outbox before it is sent; a failure keeps it there; a create whose outcome is
//! unknown (sent, then the connection dropped or timed out) is looked for on the server before
//! it is ever sent again. Nothing here touches UI state: results go back as `OutboxReport`s.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use jiff::Timestamp;
use tokio::sync::{Mutex, Notify, mpsc};

use crate::model::{NewNote, Note, NoteKind, NoteQuery};
use crate::providers::{Provider, ProviderError, SharedProvider};
use crate::store::{Draft, OutboxItem, OutboxState, StoreError, StoreThread, WriteOp};

/// How far back in a customer's timeline reconciliation looks for a note we may have created.
const RECONCILE_PAGES: u32 = 3;
/// Retry delays for writes that failed transiently: 5 s doubling up to 5 min.
const RETRY_BASE: Duration = Duration::from_secs(5);
const RETRY_CAP: Duration = Duration::from_secs(300);
/// Even with nothing due, look at the outbox this often (another instance may have queued).
const IDLE_PASS: Duration = Duration::from_secs(60);

/// What a single attempt at a write came to.
#[derive(Debug, Clone, PartialEq)]
#[expect(
    clippy::large_enum_variant,
    reason = "one short-lived value per write attempt; boxing buys nothing"
)]
pub enum Outcome {
    /// The server did it. The note is the server's version (for a create or an update).
    Confirmed(Option<Note>),
    /// It did not happen (refused connection, 429, a 5xx on a request safe to repeat): try later.
    Retry(String),
    /// It may have happened: reconcile before sending again.
    Unknown(String),
    /// The server refused it (validation, permissions): the agent must act; never retried.
    Rejected(String),
}

/// Sorts a provider error by what it means for a write. `repeatable` writes (update,
/// delete) can simply be sent again; a create cannot.
pub fn classify(error: &ProviderError, repeatable: bool) -> Outcome {
    let message = error.to_string();
    match error {
        // A 429 is refused before any work is done.
        ProviderError::RateLimited { .. } => Outcome::Retry(message),
        ProviderError::Network { .. } | ProviderError::Timeout { .. } => {
            if repeatable {
                Outcome::Retry(message)
            } else {
                Outcome::Unknown(message)
            }
        }
        ProviderError::Status { status, .. } if *status >= 500 => {
            if repeatable {
                Outcome::Retry(message)
            } else {
                Outcome::Unknown(message)
            }
        }
        // A success status with a reply we could not read: the write probably happened.
        ProviderError::Malformed { .. } if !repeatable => Outcome::Unknown(message),
        ProviderError::Malformed { .. } => Outcome::Retry(message),
        ProviderError::Auth { .. }
        | ProviderError::Forbidden { .. }
        | ProviderError::NotFound(_)
        | ProviderError::Status { .. }
        | ProviderError::Refused(_)
        | ProviderError::Unsupported(_) => Outcome::Rejected(message),
    }
}

/// One attempt at a write.
pub async fn send(provider: &dyn Provider, op: &WriteOp) -> Outcome {
    match op {
        WriteOp::Create(note) => match provider.create_note(note).await {
            Ok(created) => Outcome::Confirmed(Some(created)),
            Err(e) => classify(&e, false),
        },
        WriteOp::Update { note_id, patch, .. } => {
            match provider.update_note(note_id, patch).await {
                Ok(updated) => Outcome::Confirmed(Some(updated)),
                Err(e) => classify(&e, true),
            }
        }
        WriteOp::Delete { note_id, .. } => match provider.delete_note(note_id).await {
            // Already gone is what we wanted.
            Ok(()) | Err(ProviderError::NotFound(_)) => Outcome::Confirmed(None),
            Err(e) => classify(&e, true),
        },
    }
}

/// Looks for a note we may have created: same customer, type, time and text. `queued_at`
/// is when the write entered the outbox: a server that stamps notes itself dates it after.
pub async fn reconcile(
    provider: &dyn Provider,
    wanted: &NewNote,
    queued_at: Timestamp,
) -> Result<Option<Note>, ProviderError> {
    let caps = provider.capabilities();
    let when = if caps.sets_time {
        When::Exactly(wanted.created_at)
    } else {
        When::NotBefore(queued_at)
    };
    let query = NoteQuery {
        customer_id: Some(wanted.customer_id.clone()),
        kind: Some(wanted.kind.clone()).filter(|_| caps.server_type_filter),
        ..Default::default()
    };
    let text = provider.rendered_text(&wanted.text);
    let mut cursor: Option<String> = None;
    for _ in 0..RECONCILE_PAGES {
        let page = provider.notes(&query, cursor.as_deref()).await?;
        if let Some(found) = page
            .items
            .into_iter()
            .find(|n| is_same_note(wanted, &text, when, n))
        {
            return Ok(Some(found));
        }
        // Newest first: once past the time we wrote, it isn't further back.
        match page.next {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    Ok(None)
}

/// When a note we wrote must have been created.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum When {
    /// We sent its time (to the second; servers may drop the fraction).
    Exactly(Timestamp),
    /// The server stamped it on arrival, so after we queued it (give or take clock skew).
    NotBefore(Timestamp),
}

/// Allowed difference between our clock and a server's.
const CLOCK_SKEW: jiff::SignedDuration = jiff::SignedDuration::from_mins(10);

/// Whether `note` (from the server) is `wanted` (as we sent it); `text` is how the
/// provider renders the wanted text (`Provider::rendered_text`).
pub fn is_same_note(wanted: &NewNote, text: &str, when: When, note: &Note) -> bool {
    let kind_matches = match (&wanted.kind, &note.kind) {
        (NoteKind::Call, NoteKind::Call) => true,
        (NoteKind::Call, _) | (_, NoteKind::Call) => false,
        _ => true,
    };
    let close_in_time = match when {
        When::Exactly(at) => (note.created_at.as_second() - at.as_second()).abs() <= 1,
        When::NotBefore(at) => at
            .checked_sub(CLOCK_SKEW)
            .is_ok_and(|earliest| note.created_at >= earliest),
    };
    kind_matches
        && close_in_time
        && note
            .customer_id
            .as_deref()
            .is_none_or(|c| c == wanted.customer_id)
        && text.trim() == note.text.trim()
}

/// The delay before the next automatic attempt after `attempts` failures, with jitter.
pub fn retry_delay(attempts: u32) -> Duration {
    let exp = RETRY_BASE.saturating_mul(1u32 << attempts.min(10));
    let capped = exp.min(RETRY_CAP);
    let jitter = capped.mul_f64(fastrand::f64() * 0.25);
    capped.saturating_sub(jitter)
}

/// What the worker tells the app.
#[derive(Debug, Clone, PartialEq)]
#[expect(
    clippy::large_enum_variant,
    reason = "a handful per write, and boxed inside `Msg`"
)]
pub enum OutboxReport {
    /// The drafts found in the store for an account (at start).
    Drafts { account: usize, drafts: Vec<Draft> },
    /// Every write of the account not yet confirmed, after any change.
    Unsent {
        account: usize,
        items: Vec<OutboxItem>,
    },
    /// The server confirmed a write. `local_id` is the app's id for a write just submitted.
    Confirmed {
        account: usize,
        local_id: Option<String>,
        op: WriteOp,
        note: Option<Note>,
    },
    /// A submitted write could not be sent now and waits in the outbox.
    Queued {
        account: usize,
        local_id: Option<String>,
        error: String,
    },
    /// The server refused a write: the app reopens it for the agent with the message.
    Rejected {
        account: usize,
        local_id: Option<String>,
        outbox_id: i64,
        op: WriteOp,
        error: String,
    },
    /// The store could not be used: one line naming the file.
    StoreFailed { error: String },
}

/// One account as the worker sees it.
#[derive(Clone)]
pub struct OutboxAccount {
    pub name: String,
    pub provider: SharedProvider,
}

/// Runs the outbox: writes the app submits, and retries of what is left, in the background.
/// One write at a time, in order: agents write at human speed, and order matters (an edit
/// after its create).
#[derive(Clone)]
pub struct OutboxWorker {
    accounts: Arc<Vec<OutboxAccount>>,
    store: StoreThread,
    report: mpsc::UnboundedSender<OutboxReport>,
    turn: Arc<Mutex<()>>,
    wake: Arc<Notify>,
    /// Set by `retry_now`: the next pass ignores the backoff schedule.
    force: Arc<AtomicBool>,
}

impl OutboxWorker {
    pub fn new(
        accounts: Vec<OutboxAccount>,
        store: StoreThread,
        report: mpsc::UnboundedSender<OutboxReport>,
    ) -> OutboxWorker {
        OutboxWorker {
            accounts: Arc::new(accounts),
            store,
            report,
            turn: Arc::new(Mutex::new(())),
            wake: Arc::new(Notify::new()),
            force: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Starts the retry loop on the runtime: loads drafts, tries everything left from the
    /// last run at once, then passes over the outbox when woken (`retry_now`), when an item
    /// is due, and every minute.
    pub fn start(&self, runtime: &tokio::runtime::Handle) {
        let worker = self.clone();
        worker.force.store(true, Ordering::SeqCst);
        runtime.spawn(async move {
            worker.load_drafts().await;
            loop {
                let force = worker.force.swap(false, Ordering::SeqCst);
                let next_due = worker.pass(force).await;
                let wait = next_due.unwrap_or(IDLE_PASS).min(IDLE_PASS);
                tokio::select! {
                    _ = worker.wake.notified() => {}
                    _ = tokio::time::sleep(wait) => {}
                }
            }
        });
    }

    /// `r` in the app: try everything waiting, now, whatever its backoff says.
    pub fn retry_now(&self) {
        self.force.store(true, Ordering::SeqCst);
        self.wake.notify_one();
    }

    /// A write the agent just saved: into the outbox (replacing its draft), then sent.
    pub fn submit(
        &self,
        runtime: &tokio::runtime::Handle,
        account: usize,
        local_id: String,
        op: WriteOp,
    ) {
        let worker = self.clone();
        runtime.spawn(async move { worker.submit_now(account, local_id, op).await });
    }

    async fn submit_now(&self, account: usize, local_id: String, op: WriteOp) {
        let Some(acct) = self.accounts.get(account).cloned() else {
            return;
        };
        let _turn = self.turn.lock().await;
        let (customer_id, note_id) = draft_key(&op);
        let queued = {
            let (name, op) = (acct.name.clone(), op.clone());
            self.store
                .call(move |store| {
                    store.enqueue_from_draft(
                        &name,
                        &op,
                        Timestamp::now(),
                        &customer_id,
                        note_id.as_deref(),
                    )
                })
                .await
        };
        match queued {
            Ok(item) => self.attempt(account, &acct, item, Some(local_id)).await,
            Err(e) => {
                // Without the store we still try to send; if that fails the app keeps the
                // text in the editor (it has not been saved anywhere else).
                self.store_failed(&e);
                match send(acct.provider.as_ref(), &op).await {
                    Outcome::Confirmed(note) => self.tell(OutboxReport::Confirmed {
                        account,
                        local_id: Some(local_id),
                        op,
                        note,
                    }),
                    Outcome::Retry(error) | Outcome::Unknown(error) | Outcome::Rejected(error) => {
                        self.tell(OutboxReport::Rejected {
                            account,
                            local_id: Some(local_id),
                            outbox_id: 0,
                            op,
                            error,
                        })
                    }
                }
            }
        }
        self.publish(account, &acct).await;
    }

    async fn load_drafts(&self) {
        for (account, acct) in self.accounts.iter().enumerate() {
            let name = acct.name.clone();
            match self.store.call(move |store| store.drafts(&name)).await {
                Ok(drafts) => self.tell(OutboxReport::Drafts { account, drafts }),
                Err(e) => self.store_failed(&e),
            }
            self.publish(account, acct).await;
        }
    }

    /// One pass over every account's outbox (`force`: every item is due); returns how long
    /// until the next item is due.
    async fn pass(&self, force: bool) -> Option<Duration> {
        let _turn = self.turn.lock().await;
        let now = Timestamp::now();
        let mut next_due: Option<Duration> = None;
        for (account, acct) in self.accounts.iter().enumerate() {
            let name = acct.name.clone();
            let items = match self.store.call(move |store| store.outbox(&name)).await {
                Ok(items) => items,
                Err(e) => {
                    self.store_failed(&e);
                    continue;
                }
            };
            let mut changed = false;
            for item in items {
                let due = force || item.next_attempt_at.is_none_or(|at| at <= now);
                match item.state {
                    OutboxState::Pending | OutboxState::Unknown if due => {
                        self.attempt(account, acct, item, None).await;
                        changed = true;
                    }
                    OutboxState::Pending | OutboxState::Unknown => {
                        if let Some(at) = item.next_attempt_at {
                            let wait = Duration::try_from(at.duration_since(now))
                                .unwrap_or(Duration::ZERO);
                            next_due = Some(next_due.map_or(wait, |d| d.min(wait)));
                        }
                    }
                    OutboxState::Sending | OutboxState::Rejected => {}
                }
            }
            if changed {
                self.publish(account, acct).await;
            }
        }
        next_due
    }

    /// Sends one item (reconciling first when its outcome is unknown) and records the result.
    async fn attempt(
        &self,
        account: usize,
        acct: &OutboxAccount,
        item: OutboxItem,
        local_id: Option<String>,
    ) {
        let provider = acct.provider.as_ref();
        let id = item.id;
        if item.state == OutboxState::Unknown {
            let WriteOp::Create(wanted) = &item.op else {
                // Only creates can be unknown; anything else is safe to send again.
                self.set_state(id, OutboxState::Pending, None, None).await;
                return;
            };
            match reconcile(provider, wanted, item.created_at).await {
                Ok(Some(note)) => {
                    tracing::info!(id, "reconciled: the note was created before");
                    self.complete(id).await;
                    self.tell(OutboxReport::Confirmed {
                        account,
                        local_id,
                        op: item.op.clone(),
                        note: Some(note),
                    });
                    return;
                }
                Ok(None) => {
                    self.set_state(id, OutboxState::Pending, None, None).await;
                }
                Err(e) => {
                    // Still can't see the server: stays unknown, looked at again later.
                    let at = later(retry_delay(item.attempts));
                    self.set_state(id, OutboxState::Unknown, Some(e.to_string()), Some(at))
                        .await;
                    self.tell(OutboxReport::Queued {
                        account,
                        local_id,
                        error: e.to_string(),
                    });
                    return;
                }
            }
        }
        if !self.set_state(id, OutboxState::Sending, None, None).await {
            return;
        }
        match send(provider, &item.op).await {
            Outcome::Confirmed(note) => {
                self.complete(id).await;
                self.tell(OutboxReport::Confirmed {
                    account,
                    local_id,
                    op: item.op,
                    note,
                });
            }
            Outcome::Retry(error) => {
                let at = later(retry_delay(item.attempts));
                self.set_state(id, OutboxState::Pending, Some(error.clone()), Some(at))
                    .await;
                self.tell(OutboxReport::Queued {
                    account,
                    local_id,
                    error,
                });
            }
            Outcome::Unknown(error) => {
                let at = later(retry_delay(item.attempts));
                self.set_state(id, OutboxState::Unknown, Some(error.clone()), Some(at))
                    .await;
                self.tell(OutboxReport::Queued {
                    account,
                    local_id,
                    error,
                });
            }
            Outcome::Rejected(error) => {
                self.set_state(id, OutboxState::Rejected, Some(error.clone()), None)
                    .await;
                self.tell(OutboxReport::Rejected {
                    account,
                    local_id,
                    outbox_id: id,
                    op: item.op,
                    error,
                });
            }
        }
    }

    async fn set_state(
        &self,
        id: i64,
        to: OutboxState,
        error: Option<String>,
        at: Option<Timestamp>,
    ) -> bool {
        let result = self
            .store
            .call(move |store| store.transition(id, to, error.as_deref(), at))
            .await;
        match result {
            Ok(_) => true,
            Err(e) => {
                self.store_failed(&e);
                false
            }
        }
    }

    async fn complete(&self, id: i64) {
        if let Err(e) = self.store.call(move |store| store.complete(id)).await {
            self.store_failed(&e);
        }
    }

    async fn publish(&self, account: usize, acct: &OutboxAccount) {
        let name = acct.name.clone();
        if let Ok(items) = self.store.call(move |store| store.outbox(&name)).await {
            self.tell(OutboxReport::Unsent { account, items });
        }
    }

    fn store_failed(&self, e: &StoreError) {
        tracing::error!(error = %e, "store");
        self.tell(OutboxReport::StoreFailed {
            error: e.to_string(),
        });
    }

    fn tell(&self, report: OutboxReport) {
        let _ = self.report.send(report);
    }
}

/// The draft a write came from: (customer, the edited note or none for a new one).
fn draft_key(op: &WriteOp) -> (String, Option<String>) {
    match op {
        WriteOp::Create(note) => (note.customer_id.clone(), None),
        WriteOp::Update {
            note_id,
            customer_id,
            ..
        }
        | WriteOp::Delete {
            note_id,
            customer_id,
        } => (customer_id.clone(), Some(note_id.clone())),
    }
}

fn later(delay: Duration) -> Timestamp {
    let now = Timestamp::now();
    jiff::SignedDuration::try_from(delay)
        .ok()
        .and_then(|d| now.checked_add(d).ok())
        .unwrap_or(now)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new_note(text: &str, at: &str) -> NewNote {
        NewNote {
            customer_id: "cus_1".into(),
            kind: NoteKind::Call,
            author_email: None,
            text: text.into(),
            call_duration_s: Some(900),
            created_at: at.parse().unwrap(),
        }
    }

    fn server_note(text: &str, at: &str, kind: NoteKind) -> Note {
        Note {
            id: "note_x".into(),
            customer_id: Some("cus_1".into()),
            kind,
            author_name: None,
            author_email: None,
            text: text.into(),
            call_duration_s: Some(900),
            created_at: at.parse().unwrap(),
            updated_at: None,
            subject: None,
            web_url: None,
            extras: Default::default(),
        }
    }

    #[test]
    fn a_create_that_may_have_reached_the_server_is_unknown_not_retried() {
        let timeout = ProviderError::Timeout {
            provider: "ChartMogul",
            seconds: 20,
        };
        assert!(matches!(classify(&timeout, false), Outcome::Unknown(_)));
        assert!(matches!(classify(&timeout, true), Outcome::Retry(_)));
        let bad_gateway = ProviderError::Status {
            provider: "ChartMogul",
            status: 502,
            message: "Bad Gateway".into(),
        };
        assert!(matches!(classify(&bad_gateway, false), Outcome::Unknown(_)));
        let limited = ProviderError::RateLimited {
            provider: "ChartMogul",
        };
        assert!(matches!(classify(&limited, false), Outcome::Retry(_)));
    }

    #[test]
    fn validation_and_permission_errors_are_rejected_for_the_agent_to_fix() {
        for error in [
            ProviderError::Status {
                provider: "ChartMogul",
                status: 422,
                message: "created_at must be in the past".into(),
            },
            ProviderError::Forbidden {
                provider: "ChartMogul",
                status: 403,
                message: "read-only".into(),
            },
        ] {
            match classify(&error, false) {
                Outcome::Rejected(message) => assert!(message.contains(&error.to_string())),
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn the_same_note_is_recognised_by_type_time_and_rendered_text() {
        let wanted = new_note("Renewal discussed\nquote Monday", "2026-11-20T14:02:00Z");
        let text = crate::text::note_text(&wanted.text);
        let when = When::Exactly(wanted.created_at);
        let same = server_note(
            "Renewal discussed\nquote Monday",
            "2026-11-20T14:02:00.4Z",
            NoteKind::Call,
        );
        assert!(is_same_note(&wanted, &text, when, &same));
        let other_text = server_note("Renewal discussed", "2026-11-20T14:02:00Z", NoteKind::Call);
        assert!(!is_same_note(&wanted, &text, when, &other_text));
        let other_time = server_note(
            "Renewal discussed\nquote Monday",
            "2026-11-20T14:05:00Z",
            NoteKind::Call,
        );
        assert!(!is_same_note(&wanted, &text, when, &other_time));
        let a_note = server_note(
            "Renewal discussed\nquote Monday",
            "2026-11-20T14:02:00Z",
            NoteKind::Note,
        );
        assert!(!is_same_note(&wanted, &text, when, &a_note));

        // A server that stamps notes itself: any time after we queued it (less skew) matches.
        let queued: Timestamp = "2026-11-20T14:00:00Z".parse().unwrap();
        let stamped_later = server_note(
            "Renewal discussed\nquote Monday",
            "2026-11-20T15:30:00Z",
            NoteKind::Call,
        );
        assert!(is_same_note(
            &wanted,
            &text,
            When::NotBefore(queued),
            &stamped_later
        ));
        let long_before = server_note(
            "Renewal discussed\nquote Monday",
            "2026-11-19T10:00:00Z",
            NoteKind::Call,
        );
        assert!(!is_same_note(
            &wanted,
            &text,
            When::NotBefore(queued),
            &long_before
        ));
    }

    #[test]
    fn retry_delays_grow_and_stay_capped() {
        assert!(retry_delay(0) <= RETRY_BASE);
        assert!(retry_delay(0) >= RETRY_BASE.mul_f64(0.75));
        assert!(retry_delay(3) >= Duration::from_secs(30));
        assert!(retry_delay(60) <= RETRY_CAP);
    }
}
