//! The agent's writes that the server has not confirmed, as the app shows them: optimistic
//! timeline entries (sending), unsent ones waiting in the outbox, refused ones. This is only
//! the app's picture, rebuilt from the outbox worker's reports; the outbox itself is in the
//! store, and nothing here may drop a write the store still holds.

use std::collections::HashSet;

use crate::app::timeline::Timeline;
use crate::model::{Note, NotePatch};
use crate::store::{OutboxItem, OutboxState, WriteOp};

/// Where a write is, as far as the app knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WriteStatus {
    /// Handed to the outbox worker, no answer yet.
    Sending,
    /// Kept in the outbox after a failure that may pass; retried with backoff and on `r`.
    Unsent { error: Option<String> },
    /// Refused by the server (4xx): never retried on its own.
    Refused { error: String },
}

/// How a timeline entry is marked while a write about it is under way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryMark {
    /// A new note on its way.
    Sending,
    /// An edit on its way.
    Saving,
    /// A delete on its way.
    Deleting,
    Unsent,
    Refused,
}

impl EntryMark {
    pub fn label(self) -> &'static str {
        match self {
            EntryMark::Sending => "⋯ sending",
            EntryMark::Saving => "⋯ saving",
            EntryMark::Deleting => "⋯ deleting",
            EntryMark::Unsent => "⚠ unsent",
            EntryMark::Refused => "✗ refused",
        }
    }
}

/// One write the server has not confirmed.
#[derive(Debug, Clone, PartialEq)]
pub struct LocalWrite {
    /// The app's id for a write submitted in this session ("local-3").
    pub local_id: Option<String>,
    /// The store's id once the worker has reported the write in the outbox.
    pub outbox_id: Option<i64>,
    pub op: WriteOp,
    pub status: WriteStatus,
    /// For an edit: the note as it was, put back if the edit is refused.
    pub before: Option<Note>,
}

impl LocalWrite {
    /// Whether this write is about the timeline entry `id`: a create shows as its own
    /// entry (its local id, or `outbox-N` after a restart); an edit or delete as its note.
    pub fn shows_as(&self, id: &str) -> bool {
        match &self.op {
            WriteOp::Create(_) => match (&self.local_id, self.outbox_id) {
                (Some(local), _) => local == id,
                (None, Some(outbox)) => id
                    .strip_prefix(OUTBOX_PREFIX)
                    .is_some_and(|n| n == outbox.to_string()),
                (None, None) => false,
            },
            WriteOp::Update { note_id, .. } | WriteOp::Delete { note_id, .. } => note_id == id,
        }
    }

    /// The id of the timeline entry this write is about.
    pub fn entry_id(&self) -> String {
        match &self.op {
            WriteOp::Create(_) => match (&self.local_id, self.outbox_id) {
                (Some(local), _) => local.clone(),
                (None, Some(outbox)) => format!("{OUTBOX_PREFIX}{outbox}"),
                (None, None) => String::new(),
            },
            WriteOp::Update { note_id, .. } | WriteOp::Delete { note_id, .. } => note_id.clone(),
        }
    }

    pub fn customer_id(&self) -> &str {
        match &self.op {
            WriteOp::Create(note) => &note.customer_id,
            WriteOp::Update { customer_id, .. } | WriteOp::Delete { customer_id, .. } => {
                customer_id
            }
        }
    }

    /// The timeline entry a create shows as until the server's note replaces it.
    pub fn entry(&self) -> Option<Note> {
        let WriteOp::Create(new) = &self.op else {
            return None;
        };
        Some(Note {
            id: self.entry_id(),
            customer_id: Some(new.customer_id.clone()),
            kind: new.kind.clone(),
            author_name: None,
            author_email: new.author_email.clone(),
            text: new.text.clone(),
            call_duration_s: new.call_duration_s,
            created_at: new.created_at,
            updated_at: None,
            subject: None,
            web_url: None,
            extras: Default::default(),
        })
    }

    pub fn mark(&self) -> EntryMark {
        match (&self.status, &self.op) {
            (WriteStatus::Sending, WriteOp::Create(_)) => EntryMark::Sending,
            (WriteStatus::Sending, WriteOp::Update { .. }) => EntryMark::Saving,
            (WriteStatus::Sending, WriteOp::Delete { .. }) => EntryMark::Deleting,
            (WriteStatus::Unsent { .. }, _) => EntryMark::Unsent,
            (WriteStatus::Refused { .. }, _) => EntryMark::Refused,
        }
    }

    /// The last error, for the Note pane.
    pub fn error(&self) -> Option<&str> {
        match &self.status {
            WriteStatus::Sending => None,
            WriteStatus::Unsent { error } => error.as_deref(),
            WriteStatus::Refused { error } => Some(error),
        }
    }
}

/// Entries of creates reported by the outbox after a restart are named `outbox-<id>`.
const OUTBOX_PREFIX: &str = "outbox-";

/// One account's unconfirmed writes.
#[derive(Debug, Clone, Default)]
pub struct Writes {
    pub items: Vec<LocalWrite>,
    /// Refused outbox items whose content went back to the editor or a draft: the report
    /// that still lists them must not bring them back as a second copy.
    pub reopened: HashSet<i64>,
}

impl Writes {
    /// The latest write about timeline entry `id`.
    pub fn about(&self, id: &str) -> Option<&LocalWrite> {
        self.items.iter().rev().find(|w| w.shows_as(id))
    }

    /// Whether the entry `id` exists only here (a create the server has not confirmed).
    pub fn is_local_entry(&self, id: &str) -> bool {
        self.items
            .iter()
            .any(|w| matches!(w.op, WriteOp::Create(_)) && w.shows_as(id))
    }

    pub fn unsent(&self) -> usize {
        self.count(|s| matches!(s, WriteStatus::Unsent { .. }))
    }

    pub fn refused(&self) -> usize {
        self.count(|s| matches!(s, WriteStatus::Refused { .. }))
    }

    fn count(&self, wanted: impl Fn(&WriteStatus) -> bool) -> usize {
        self.items.iter().filter(|w| wanted(&w.status)).count()
    }

    /// Takes out the write a report is about: by the app's id, else the store's, else the
    /// identical operation (a report from a retry after a restart carries no local id).
    pub fn take(
        &mut self,
        local_id: Option<&str>,
        outbox_id: Option<i64>,
        op: &WriteOp,
    ) -> Option<LocalWrite> {
        let by_local = local_id.and_then(|id| {
            self.items
                .iter()
                .position(|w| w.local_id.as_deref() == Some(id))
        });
        let by_outbox =
            || outbox_id.and_then(|id| self.items.iter().position(|w| w.outbox_id == Some(id)));
        let by_op = || self.items.iter().position(|w| w.op == *op);
        let index = by_local.or_else(by_outbox).or_else(by_op)?;
        Some(self.items.remove(index))
    }

    /// Rebuilds the picture from the outbox's list of every unconfirmed write. Writes
    /// submitted here that the list doesn't hold yet stay (the worker may not have queued
    /// them when it listed); ones it held before and no longer does are returned.
    pub fn reconcile(&mut self, items: Vec<OutboxItem>) -> Vec<LocalWrite> {
        let mut old = std::mem::take(&mut self.items);
        for item in items {
            if self.reopened.contains(&item.id) {
                continue;
            }
            let status = status_of(&item);
            let known = old
                .iter()
                .position(|w| w.outbox_id == Some(item.id))
                .or_else(|| {
                    old.iter()
                        .position(|w| w.outbox_id.is_none() && w.op == item.op)
                });
            let write = match known {
                Some(index) => {
                    let mut write = old.remove(index);
                    write.outbox_id = Some(item.id);
                    write.status = status;
                    write
                }
                None => LocalWrite {
                    local_id: None,
                    outbox_id: Some(item.id),
                    op: item.op,
                    status,
                    before: None,
                },
            };
            self.items.push(write);
        }
        let (waiting, gone): (Vec<_>, Vec<_>) =
            old.into_iter().partition(|w| w.outbox_id.is_none());
        self.items.extend(waiting);
        gone
    }
}

/// What an outbox item's state means for the agent.
fn status_of(item: &OutboxItem) -> WriteStatus {
    match item.state {
        // Queued and not yet tried, or being sent now.
        OutboxState::Pending | OutboxState::Sending if item.last_error.is_none() => {
            WriteStatus::Sending
        }
        OutboxState::Pending | OutboxState::Sending | OutboxState::Unknown => WriteStatus::Unsent {
            error: item.last_error.clone(),
        },
        OutboxState::Rejected => WriteStatus::Refused {
            error: item
                .last_error
                .clone()
                .unwrap_or_else(|| "refused by the server".to_string()),
        },
    }
}

/// Shows `writes` in `timeline` (if it is their customer's): creates become entries, edits
/// show their new content. Idempotent, so it runs after every page and every report.
pub fn overlay(timeline: &mut Timeline, writes: &Writes, rows: usize) {
    if writes.items.is_empty() || !timeline.is_open() {
        return;
    }
    for write in &writes.items {
        if !timeline.shows_customer(write.customer_id()) {
            continue;
        }
        match &write.op {
            WriteOp::Create(_) => {
                let id = write.entry_id();
                if !timeline.notes.iter().any(|n| n.id == id) {
                    if let Some(entry) = write.entry() {
                        timeline.insert(entry, rows);
                    }
                }
            }
            // A refused edit shows the note as the server has it: that is what reopening
            // it in the editor compares against.
            WriteOp::Update { .. } if matches!(write.status, WriteStatus::Refused { .. }) => {}
            WriteOp::Update { note_id, patch, .. } => {
                let differs = timeline
                    .notes
                    .iter()
                    .find(|n| n.id == *note_id)
                    .is_some_and(|n| {
                        let mut patched = n.clone();
                        apply_patch(&mut patched, patch);
                        patched != *n
                    });
                if differs {
                    timeline.patch(note_id, |note| apply_patch(note, patch), rows);
                }
            }
            WriteOp::Delete { .. } => {}
        }
    }
}

/// The note as it will be once `patch` is applied.
pub fn apply_patch(note: &mut Note, patch: &NotePatch) {
    if let Some(text) = &patch.text {
        note.text.clone_from(text);
    }
    if let Some(seconds) = patch.call_duration_s {
        note.call_duration_s = Some(seconds);
    }
    if let Some(at) = patch.created_at {
        note.created_at = at;
    }
    if let Some(author) = &patch.author_email {
        note.author_email = Some(author.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{NewNote, NoteKind};
    use jiff::Timestamp;

    fn create(text: &str) -> WriteOp {
        WriteOp::Create(NewNote {
            customer_id: "c0".into(),
            kind: NoteKind::Note,
            author_email: None,
            text: text.into(),
            call_duration_s: None,
            created_at: Timestamp::from_second(1_700_000_000).unwrap_or(Timestamp::UNIX_EPOCH),
        })
    }

    fn item(id: i64, op: WriteOp, state: OutboxState, error: Option<&str>) -> OutboxItem {
        OutboxItem {
            id,
            account: "acme".into(),
            op,
            state,
            attempts: 1,
            next_attempt_at: None,
            last_error: error.map(str::to_string),
            created_at: Timestamp::UNIX_EPOCH,
        }
    }

    #[test]
    fn a_write_submitted_here_is_matched_to_its_outbox_item_by_its_operation() {
        let mut writes = Writes::default();
        writes.items.push(LocalWrite {
            local_id: Some("local-1".into()),
            outbox_id: None,
            op: create("hello"),
            status: WriteStatus::Sending,
            before: None,
        });
        let gone = writes.reconcile(vec![item(
            7,
            create("hello"),
            OutboxState::Pending,
            Some("timed out"),
        )]);
        assert!(gone.is_empty());
        assert_eq!(writes.items.len(), 1, "one write, not two");
        let write = &writes.items[0];
        assert_eq!(write.outbox_id, Some(7));
        assert_eq!(write.local_id.as_deref(), Some("local-1"));
        assert_eq!(write.mark(), EntryMark::Unsent);
        assert_eq!(write.error(), Some("timed out"));
    }

    #[test]
    fn writes_the_outbox_no_longer_holds_are_handed_back_but_unqueued_ones_stay() {
        let mut writes = Writes::default();
        for (local, outbox) in [("local-1", Some(3)), ("local-2", None)] {
            writes.items.push(LocalWrite {
                local_id: Some(local.into()),
                outbox_id: outbox,
                op: create(local),
                status: WriteStatus::Sending,
                before: None,
            });
        }
        let gone = writes.reconcile(Vec::new());
        assert_eq!(gone.len(), 1);
        assert_eq!(gone[0].local_id.as_deref(), Some("local-1"));
        assert_eq!(writes.items.len(), 1);
        assert_eq!(writes.items[0].local_id.as_deref(), Some("local-2"));
    }

    #[test]
    fn reopened_refusals_are_not_shown_again() {
        let mut writes = Writes::default();
        writes.reopened.insert(4);
        writes.reconcile(vec![
            item(4, create("a"), OutboxState::Rejected, Some("422")),
            item(5, create("b"), OutboxState::Rejected, None),
        ]);
        assert_eq!(writes.items.len(), 1);
        assert_eq!(writes.items[0].entry_id(), "outbox-5");
        assert!(writes.is_local_entry("outbox-5"));
        assert_eq!(writes.refused(), 1);
    }
}
