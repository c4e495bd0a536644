//! The writing side of `App`: opening the editor (`n`, `c`, `e`, the stopwatch), its keys,
//! saving and discarding, y/n questions, and the outbox worker's reports. Like all of
//! `update` it does no I/O: drafts and writes leave as effects, and time comes from `Msg::Now`.

use jiff::Timestamp;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::editor::{Editor, EditorEvent, Field, Saved, when_input};
use super::writes::{self, LocalWrite, WriteStatus};
use super::{App, CacheWrite, Effect, Pane, StatusMessage};
use crate::duration::format_duration_input;
use crate::model::{Note, NoteKind};
use crate::outbox::OutboxReport;
use crate::store::{Draft, WriteOp};

/// A question in the status line; `y` says yes, any other key no.
#[derive(Debug, Clone, PartialEq)]
pub enum Confirm {
    Delete {
        account: usize,
        note_id: String,
        customer_id: String,
    },
    /// Throw away the open editor's draft.
    DiscardDraft,
}

impl Confirm {
    pub fn prompt(&self) -> &'static str {
        match self {
            Confirm::Delete { .. } => "Delete this note? y/n",
            Confirm::DiscardDraft => "Discard this draft? Its text will be gone. y/n",
        }
    }
}

/// A call being timed (`C` starts it, `C` again stops it and opens the call editor).
#[derive(Debug, Clone, PartialEq)]
pub struct Stopwatch {
    pub account: usize,
    pub customer_id: String,
    pub customer_name: String,
    pub started_at: Timestamp,
}

impl Stopwatch {
    /// Whole seconds since the start (never negative, even if the clock stepped back).
    pub fn elapsed_s(&self, now: Option<Timestamp>) -> i64 {
        now.map_or(0, |now| {
            (now.as_second() - self.started_at.as_second()).max(0)
        })
    }

    /// The call's length for the editor: whole minutes rounded up, at least one (a call
    /// that was picked up took a minute of someone's time).
    pub fn rounded_s(&self, now: Option<Timestamp>) -> u32 {
        let minutes = (self.elapsed_s(now) + 59) / 60;
        let seconds = minutes.max(1).saturating_mul(60);
        u32::try_from(seconds).unwrap_or(u32::MAX)
    }

    /// "04:12", or "1:04:12" from an hour on.
    pub fn clock(&self, now: Option<Timestamp>) -> String {
        let s = self.elapsed_s(now);
        let (hours, minutes, seconds) = (s / 3600, s % 3600 / 60, s % 60);
        if hours > 0 {
            format!("{hours}:{minutes:02}:{seconds:02}")
        } else {
            format!("{minutes:02}:{seconds:02}")
        }
    }
}

/// What the agent asked to write, for the capability check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Write {
    Note,
    Call,
    Edit,
    Delete,
}

/// The key of a draft: the customer, and the note it edits (`None` for a new one).
type DraftKey = (String, Option<String>);

impl App {
    /// Lets new notes of `account` default to this author (the config's `author_email`).
    pub fn set_author_email(&mut self, account: usize, email: Option<String>) {
        if let Some(view) = self.views.get_mut(account) {
            view.author_email = email;
        }
    }

    /// The open editor, if any.
    pub fn editor(&self) -> Option<&Editor> {
        self.editor.as_ref()
    }

    pub fn confirm(&self) -> Option<&Confirm> {
        self.confirm.as_ref()
    }

    pub fn stopwatch(&self) -> Option<&Stopwatch> {
        self.stopwatch.as_ref()
    }

    /// The time for drafts: the latest `Msg::Now` (the epoch before the first one, which only
    /// makes such a draft sort as the oldest).
    pub(super) fn clock(&self) -> Timestamp {
        self.now.unwrap_or(Timestamp::UNIX_EPOCH)
    }

    pub(super) fn error(&mut self, text: String) {
        self.status = Some(StatusMessage {
            text,
            error: true,
            since_tick: self.tick,
            at: self.now,
        });
    }

    /// Why the active account can't do `what`, in words for the status line.
    fn refusal(&self, what: Write) -> Option<String> {
        let Some(tab) = self.account() else {
            return Some("No account is set up".to_string());
        };
        let caps = tab.capabilities;
        let provider = tab.provider.display_name();
        let read_only = || {
            format!(
                "{provider} account '{}' is read-only here: crm-notes can't write notes to it",
                tab.name
            )
        };
        match what {
            Write::Note if !caps.create_notes => Some(read_only()),
            Write::Call if !caps.create_notes => Some(read_only()),
            Write::Call if !caps.log_calls => Some(format!(
                "{provider} has no call logs: n writes a note instead"
            )),
            Write::Edit if !caps.edit => Some(format!("{provider} does not let us edit notes")),
            Write::Delete if !caps.delete => {
                Some(format!("{provider} does not let us delete notes"))
            }
            _ => None,
        }
    }

    /// `editor` as its account can use it: When left to the provider where it dates notes
    /// itself (`Capabilities.sets_time` off).
    fn fitted(&self, mut editor: Editor) -> Editor {
        if let Some(tab) = self.accounts.get(editor.account) {
            if !tab.capabilities.sets_time {
                editor.lock_time(tab.provider.display_name());
            }
        }
        editor
    }

    pub(super) fn provider_name(&self, account: usize) -> &'static str {
        self.accounts
            .get(account)
            .map_or("The server", |a| a.provider.display_name())
    }

    /// A customer's name as the app knows it (the id when it doesn't).
    fn customer_name(&self, account: usize, customer_id: &str) -> String {
        let Some(view) = self.views.get(account) else {
            return customer_id.to_string();
        };
        if let Some(customer) = view.customers.items.iter().find(|c| c.id == customer_id) {
            return customer.name.clone();
        }
        if view.timeline.customer_id.as_deref() == Some(customer_id) {
            return view.timeline.customer_name.clone();
        }
        customer_id.to_string()
    }

    /// `n` and `c`: the editor for a new note or call for the selected customer.
    pub(super) fn open_new(&mut self, kind: NoteKind, effects: &mut Vec<Effect>) {
        let what = if kind == NoteKind::Call {
            Write::Call
        } else {
            Write::Note
        };
        if let Some(why) = self.refusal(what) {
            self.inform(why);
            return;
        }
        let Some(customer) = self.view().and_then(|v| v.customers.selected()).cloned() else {
            self.inform("Select a customer first".to_string());
            return;
        };
        self.open_editor_for(self.active, &customer.id, &customer.name, kind, effects);
    }

    /// Opens the new-entry editor for a customer, continuing its draft if it has one (a `c`
    /// on a draft that was a note makes it a call, and keeps the text).
    fn open_editor_for(
        &mut self,
        account: usize,
        customer_id: &str,
        customer_name: &str,
        kind: NoteKind,
        effects: &mut Vec<Effect>,
    ) {
        let can_call = self
            .accounts
            .get(account)
            .is_some_and(|a| a.capabilities.log_calls);
        let Some(view) = self.views.get(account) else {
            return;
        };
        let key: DraftKey = (customer_id.to_string(), None);
        let mut changed = false;
        let editor = match view.drafts.get(&key) {
            Some(draft) => {
                let mut editor = Editor::from_draft(account, customer_name, draft, None, can_call);
                if kind == NoteKind::Call {
                    changed = editor.make_call();
                    editor.focus_on(Field::Duration);
                }
                self.inform(format!("Continuing your draft for {customer_name}"));
                editor
            }
            None => Editor::new_entry(
                account,
                customer_id,
                customer_name,
                kind,
                view.author_email.as_deref(),
                can_call,
            ),
        };
        self.editor = Some(self.fitted(editor));
        self.focus = Pane::Note;
        if changed {
            self.save_draft(effects);
        }
    }

    /// `C`: starts timing a call with the selected customer, or stops the running one and
    /// opens its call log.
    pub(super) fn toggle_stopwatch(&mut self, effects: &mut Vec<Effect>) {
        if let Some(stopwatch) = self.stopwatch.take() {
            self.stop_stopwatch(stopwatch, effects);
            return;
        }
        if let Some(why) = self.refusal(Write::Call) {
            self.inform(why);
            return;
        }
        let Some(customer) = self.view().and_then(|v| v.customers.selected()).cloned() else {
            self.inform("Select a customer first".to_string());
            return;
        };
        let Some(now) = self.now else {
            self.inform("The clock hasn't started yet: press C again in a moment".to_string());
            return;
        };
        self.inform(format!(
            "Timing the call with {}: C again stops it and opens the call log",
            customer.name
        ));
        self.stopwatch = Some(Stopwatch {
            account: self.active,
            customer_id: customer.id,
            customer_name: customer.name,
            started_at: now,
        });
    }

    fn stop_stopwatch(&mut self, stopwatch: Stopwatch, effects: &mut Vec<Effect>) {
        let seconds = stopwatch.rounded_s(self.now);
        if stopwatch.account != self.active {
            self.switch_account(stopwatch.account, effects);
        }
        self.open_editor_for(
            stopwatch.account,
            &stopwatch.customer_id,
            &stopwatch.customer_name,
            NoteKind::Call,
            effects,
        );
        let tz = self.tz.clone();
        let Some(editor) = self.editor.as_mut() else {
            return;
        };
        editor.make_call();
        editor.set_value(Field::Duration, &format_duration_input(seconds));
        editor.set_value(Field::When, &when_input(stopwatch.started_at, &tz));
        editor.focus_on(Field::Text);
        // The measured time is worth keeping before a word is typed.
        self.save_draft(effects);
    }

    /// `e`: the selected note in the editor (its draft, if an edit was left unfinished).
    pub(super) fn edit_selected(&mut self, effects: &mut Vec<Effect>) {
        if let Some(why) = self.refusal(Write::Edit) {
            self.inform(why);
            return;
        }
        let Some(view) = self.view() else {
            return;
        };
        let Some(note) = view.timeline.selected().cloned() else {
            self.inform("No note selected to edit".to_string());
            return;
        };
        self.dismiss_refused_delete(&note.id);
        let Some(view) = self.view() else {
            return;
        };
        if let Some(write) = view.writes.about(&note.id) {
            let refused = matches!(write.status, WriteStatus::Refused { .. });
            if refused {
                self.reopen_refused(&note.id, effects);
            } else {
                let why = self.busy_reason(&note.id);
                self.inform(format!("{why}: it can be edited once it is saved"));
            }
            return;
        }
        let Some(customer_id) = view.timeline.customer_id.clone() else {
            return;
        };
        let customer_name = view.timeline.customer_name.clone();
        let key: DraftKey = (customer_id.clone(), Some(note.id.clone()));
        let editor = match view.drafts.get(&key) {
            Some(draft) => {
                Editor::from_draft(self.active, &customer_name, draft, Some(note.clone()), true)
            }
            None => Editor::edit(self.active, &customer_id, &customer_name, &note, &self.tz),
        };
        self.editor = Some(self.fitted(editor));
        self.focus = Pane::Note;
    }

    /// A refused delete of `id` (listed by the outbox after a restart) is done with once the
    /// agent acts on the note again: the note stayed, and `e` or `d` is the next step.
    fn dismiss_refused_delete(&mut self, id: &str) {
        let Some(view) = self.views.get_mut(self.active) else {
            return;
        };
        let refused_delete = |w: &LocalWrite| {
            matches!(w.op, WriteOp::Delete { .. })
                && matches!(w.status, WriteStatus::Refused { .. })
                && w.shows_as(id)
        };
        for write in view.writes.items.iter().filter(|w| refused_delete(w)) {
            if let Some(outbox_id) = write.outbox_id {
                view.writes.reopened.insert(outbox_id);
            }
        }
        view.writes.items.retain(|w| !refused_delete(w));
    }

    /// Why the entry `id` can't be changed right now (a write about it is under way).
    pub(super) fn busy_reason(&self, id: &str) -> String {
        let Some(write) = self.view().and_then(|v| v.writes.about(id)) else {
            return String::new();
        };
        let provider = self.provider_name(self.active);
        match (&write.op, &write.status) {
            (WriteOp::Create(_), WriteStatus::Sending) => {
                format!("This note is still being sent to {provider}")
            }
            (WriteOp::Create(_), _) => {
                format!("This note isn't on {provider} yet (saved here, r retries now)")
            }
            (_, WriteStatus::Unsent { .. }) => {
                "A change to this note is waiting to be sent (r retries now)".to_string()
            }
            _ => "A change to this note is still being sent".to_string(),
        }
    }

    /// `d`: asks before deleting the selected note.
    pub(super) fn ask_delete(&mut self) {
        if let Some(why) = self.refusal(Write::Delete) {
            self.inform(why);
            return;
        }
        let Some(view) = self.view() else {
            return;
        };
        let (Some(note), Some(customer_id)) =
            (view.timeline.selected(), view.timeline.customer_id.clone())
        else {
            self.inform("No note selected to delete".to_string());
            return;
        };
        let note_id = note.id.clone();
        self.dismiss_refused_delete(&note_id);
        let Some(view) = self.view() else {
            return;
        };
        if view.writes.about(&note_id).is_some() {
            let why = self.busy_reason(&note_id);
            self.inform(format!("{why}: it can be deleted once it is saved"));
            return;
        }
        self.confirm = Some(Confirm::Delete {
            account: self.active,
            note_id,
            customer_id,
        });
    }

    /// The answer to the question in the status line: `y` is yes, any other key is no.
    pub(super) fn on_confirm_key(&mut self, key: &KeyEvent, effects: &mut Vec<Effect>) {
        let Some(confirm) = self.confirm.take() else {
            return;
        };
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        if ctrl && key.code == KeyCode::Char('c') {
            self.quit(effects);
            return;
        }
        let yes = !ctrl && matches!(key.code, KeyCode::Char('y' | 'Y'));
        match confirm {
            Confirm::Delete {
                account,
                note_id,
                customer_id,
            } => {
                if yes {
                    // An unfinished edit of a deleted note has nothing left to change.
                    let key: DraftKey = (customer_id.clone(), Some(note_id.clone()));
                    let edit_draft = self
                        .views
                        .get_mut(account)
                        .and_then(|v| v.drafts.remove(&key));
                    if let Some(draft) = edit_draft {
                        effects.push(Effect::DeleteDraft {
                            account: draft.account,
                            customer_id: draft.customer_id,
                            note_id: draft.note_id,
                        });
                    }
                    let op = WriteOp::Delete {
                        note_id,
                        customer_id,
                    };
                    let _ = self.submit(account, op, None, effects);
                    self.inform("Deleting the note…".to_string());
                } else {
                    self.inform("Kept the note".to_string());
                }
            }
            Confirm::DiscardDraft => {
                if yes {
                    self.discard_draft(effects);
                } else {
                    self.inform("Kept the draft".to_string());
                }
            }
        }
    }

    /// A key while the editor is open.
    pub(super) fn on_editor_key(&mut self, key: &KeyEvent, effects: &mut Vec<Effect>) {
        let Some(editor) = self.editor.as_mut() else {
            return;
        };
        match editor.on_key(key) {
            EditorEvent::Ignored | EditorEvent::Moved => {}
            EditorEvent::Changed => self.save_draft(effects),
            EditorEvent::Save => self.save_editor(effects),
            EditorEvent::Close => self.close_editor(effects),
            EditorEvent::Discard => self.confirm = Some(Confirm::DiscardDraft),
            EditorEvent::Quit => self.quit(effects),
            EditorEvent::TypeLocked => {
                let (is_edit, account) = (editor.is_edit(), editor.account);
                let why = if is_edit {
                    "A saved note keeps its type".to_string()
                } else {
                    format!(
                        "{} has no call logs: this can only be a note",
                        self.provider_name(account)
                    )
                };
                self.inform(why);
            }
        }
    }

    /// Pasted text goes into the open editor's field (sanitised there).
    pub(super) fn on_paste(&mut self, text: &str, effects: &mut Vec<Effect>) {
        if self.confirm.is_some() || self.help_open {
            return;
        }
        match self.editor.as_mut() {
            Some(editor) => {
                if editor.paste(text) {
                    self.save_draft(effects);
                }
            }
            None if self.composer.is_some() => self.paste_into_composer(text),
            None if self.picker.is_some() => self.paste_into_picker(text),
            None if self.bar.is_some() => self.paste_into_bar(text, effects),
            None => self.inform("To paste a note, open the editor first (n or c)".to_string()),
        }
    }

    /// Keeps the open editor's draft, in memory (so reopening is instant) and in the store.
    fn save_draft(&mut self, effects: &mut Vec<Effect>) {
        let now = self.clock();
        let Some(editor) = self.editor.as_ref() else {
            return;
        };
        let Some(tab) = self.accounts.get(editor.account) else {
            return;
        };
        let draft = editor.draft(&tab.name, now);
        if let Some(view) = self.views.get_mut(editor.account) {
            let key = (draft.customer_id.clone(), draft.note_id.clone());
            view.drafts.insert(key, draft.clone());
        }
        effects.push(Effect::SaveDraft(draft));
    }

    /// Forgets the draft of `editor` here and in the store.
    fn drop_draft(&mut self, editor: &Editor, effects: &mut Vec<Effect>) {
        let Some(tab) = self.accounts.get(editor.account) else {
            return;
        };
        let key: DraftKey = (
            editor.customer_id.clone(),
            editor.note_id().map(str::to_string),
        );
        let existed = self
            .views
            .get_mut(editor.account)
            .and_then(|v| v.drafts.remove(&key))
            .is_some();
        if existed {
            effects.push(Effect::DeleteDraft {
                account: tab.name.clone(),
                customer_id: key.0,
                note_id: key.1,
            });
        }
    }

    /// Esc: the editor closes and its draft stays, unless nothing was typed in it.
    fn close_editor(&mut self, effects: &mut Vec<Effect>) {
        let Some(editor) = self.editor.take() else {
            return;
        };
        self.focus = Pane::Timeline;
        // Whatever the editor last said (a refused save) is about a closed editor now.
        self.status = None;
        if editor.is_blank() {
            self.drop_draft(&editor, effects);
            return;
        }
        let has_draft = self.views.get(editor.account).is_some_and(|v| {
            v.drafts.contains_key(&(
                editor.customer_id.clone(),
                editor.note_id().map(str::to_string),
            ))
        });
        if has_draft {
            let again = if editor.is_edit() {
                "e on the note"
            } else {
                "n on the customer"
            };
            self.inform(format!(
                "Draft kept for {}: {again} continues it",
                editor.customer_name
            ));
        }
    }

    fn discard_draft(&mut self, effects: &mut Vec<Effect>) {
        let Some(editor) = self.editor.take() else {
            return;
        };
        self.focus = Pane::Timeline;
        self.drop_draft(&editor, effects);
        self.inform("Draft discarded".to_string());
    }

    /// Ctrl-S: sends the write when every field is right; otherwise says what is wrong
    /// (the field shows it too) and sends nothing.
    fn save_editor(&mut self, effects: &mut Vec<Effect>) {
        let now = self.now;
        let tz = self.tz.clone();
        let Some(editor) = self.editor.as_mut() else {
            return;
        };
        editor.server_error = None;
        match editor.save(now, &tz) {
            Saved::Invalid(field, error) => {
                self.error(format!("Not saved: {} — {error}", field.label()));
            }
            Saved::NoChanges => {
                if let Some(editor) = self.editor.take() {
                    self.drop_draft(&editor, effects);
                }
                self.focus = Pane::Timeline;
                self.inform("No changes to save".to_string());
            }
            Saved::Send(op) => {
                let Some(editor) = self.editor.take() else {
                    return;
                };
                // The store drops the draft in the same transaction that queues the write.
                let key: DraftKey = (
                    editor.customer_id.clone(),
                    editor.note_id().map(str::to_string),
                );
                if let Some(view) = self.views.get_mut(editor.account) {
                    view.drafts.remove(&key);
                }
                let before = match editor.target {
                    super::editor::Target::Edit(note) => Some(*note),
                    super::editor::Target::New => None,
                };
                let shown = self.submit(editor.account, op, before, effects);
                self.focus = Pane::Timeline;
                let provider = self.provider_name(editor.account);
                self.inform(if shown {
                    format!("Saved: sending to {provider}…")
                } else {
                    format!("Saved: sending to {provider}… (the filter hides it; Esc clears it)")
                });
            }
        }
    }

    /// Hands a write to the outbox and shows it at once: a new entry (selected), an edit's
    /// new text, or a row marked as being deleted. Returns false when the timeline's filter
    /// hides the entry.
    fn submit(
        &mut self,
        account: usize,
        op: WriteOp,
        before: Option<Note>,
        effects: &mut Vec<Effect>,
    ) -> bool {
        let local_id = format!("local-{}", self.next_local);
        self.next_local += 1;
        effects.push(Effect::Submit {
            account,
            local_id: local_id.clone(),
            op: op.clone(),
        });
        let rows = self.timeline_rows();
        let Some(view) = self.views.get_mut(account) else {
            return true;
        };
        let write = LocalWrite {
            local_id: Some(local_id),
            outbox_id: None,
            op,
            status: WriteStatus::Sending,
            before,
        };
        let ours = view.timeline.shows_customer(write.customer_id());
        let mut shown = true;
        if ours {
            if let Some(entry) = write.entry() {
                let id = entry.id.clone();
                view.timeline.insert(entry, rows);
                shown = view.timeline.select_id(&id, rows);
                view.note.scroll = 0;
            }
        }
        view.writes.items.push(write);
        writes::overlay(&mut view.timeline, &view.writes, rows);
        shown
    }

    /// A report from the outbox worker.
    pub(super) fn on_outbox(&mut self, report: OutboxReport, effects: &mut Vec<Effect>) {
        match report {
            OutboxReport::Drafts { account, drafts } => self.on_drafts(account, drafts),
            OutboxReport::Unsent { account, items } => {
                let rows = self.timeline_rows();
                let Some(view) = self.views.get_mut(account) else {
                    return;
                };
                for gone in view.writes.reconcile(items) {
                    undo_overlay(&mut view.timeline, &gone, rows);
                }
                writes::overlay(&mut view.timeline, &view.writes, rows);
            }
            OutboxReport::Confirmed {
                account,
                local_id,
                op,
                note,
            } => {
                // The store keeps the server's copy for the next start and for offline use.
                match (&op, &note) {
                    (WriteOp::Delete { note_id, .. }, _) => {
                        effects.push(Effect::Cache(CacheWrite::Remove {
                            account,
                            id: note_id.clone(),
                        }));
                    }
                    (_, Some(note)) => effects.push(Effect::Cache(CacheWrite::Upsert {
                        account,
                        notes: vec![note.clone()],
                    })),
                    _ => {}
                }
                self.on_confirmed(account, local_id.as_deref(), &op, note)
            }
            OutboxReport::Queued {
                account,
                local_id,
                error,
            } => {
                let rows = self.timeline_rows();
                let Some(view) = self.views.get_mut(account) else {
                    return;
                };
                let found = view
                    .writes
                    .items
                    .iter_mut()
                    .find(|w| local_id.is_some() && w.local_id == local_id);
                if let Some(write) = found {
                    write.status = WriteStatus::Unsent {
                        error: Some(error.clone()),
                    };
                    writes::overlay(&mut view.timeline, &view.writes, rows);
                    self.inform(format!("Saved locally, will retry: {error}"));
                }
            }
            OutboxReport::Rejected {
                account,
                local_id,
                outbox_id,
                op,
                error,
            } => self.on_rejected(account, local_id, outbox_id, op, error, effects),
            OutboxReport::StoreFailed { error } => self.error(error),
        }
    }

    fn on_drafts(&mut self, account: usize, drafts: Vec<Draft>) {
        let Some(view) = self.views.get_mut(account) else {
            return;
        };
        let count = drafts.len();
        for draft in drafts {
            // A draft typed since the start is newer than the stored one.
            let key = (draft.customer_id.clone(), draft.note_id.clone());
            view.drafts.entry(key).or_insert(draft);
        }
        if count > 0 && account == self.active {
            self.inform(match count {
                1 => "1 draft restored: n on its customer continues it".to_string(),
                n => format!("{n} drafts restored: n on the customer continues one"),
            });
        }
    }

    fn on_confirmed(
        &mut self,
        account: usize,
        local_id: Option<&str>,
        op: &WriteOp,
        note: Option<Note>,
    ) {
        let rows = self.timeline_rows();
        let Some(view) = self.views.get_mut(account) else {
            return;
        };
        let write = view.writes.take(local_id, None, op);
        let timeline = &mut view.timeline;
        let customer_id = match op {
            WriteOp::Create(new) => new.customer_id.as_str(),
            WriteOp::Update { customer_id, .. } | WriteOp::Delete { customer_id, .. } => {
                customer_id.as_str()
            }
        };
        let ours = timeline.shows_customer(customer_id);
        match (op, note) {
            (WriteOp::Create(_), Some(note)) if ours => {
                let entry = write.map(|w| w.entry_id());
                let present = timeline.notes.iter().any(|n| n.id == note.id);
                match entry {
                    // A refresh already brought the server's copy: drop ours.
                    Some(entry) if present => {
                        timeline.remove(&entry, rows);
                    }
                    Some(entry) if timeline.replace(&entry, note.clone(), rows) => {}
                    _ if !present => {
                        timeline.insert(note, rows);
                    }
                    _ => {}
                }
            }
            (WriteOp::Create(_), _) => {
                if let Some(write) = write {
                    timeline.remove(&write.entry_id(), rows);
                }
            }
            (WriteOp::Update { note_id, .. }, Some(note)) if ours => {
                timeline.replace(note_id, note, rows);
            }
            (WriteOp::Update { .. }, _) => {}
            (WriteOp::Delete { note_id, .. }, _) => {
                timeline.remove(note_id, rows);
            }
        }
        // Another write about the same note may still be on its way.
        writes::overlay(&mut view.timeline, &view.writes, rows);
    }

    fn on_rejected(
        &mut self,
        account: usize,
        local_id: Option<String>,
        outbox_id: i64,
        op: WriteOp,
        error: String,
        effects: &mut Vec<Effect>,
    ) {
        let rows = self.timeline_rows();
        // 0: the store failed and the write was never queued; only the editor can keep it.
        let outbox_id = (outbox_id > 0).then_some(outbox_id);
        let Some(view) = self.views.get_mut(account) else {
            return;
        };
        let write = view
            .writes
            .take(local_id.as_deref(), outbox_id, &op)
            .unwrap_or(LocalWrite {
                local_id,
                outbox_id,
                op,
                status: WriteStatus::Sending,
                before: None,
            });
        undo_overlay(&mut view.timeline, &write, rows);
        let write = LocalWrite {
            outbox_id: write.outbox_id.or(outbox_id),
            status: WriteStatus::Refused {
                error: error.clone(),
            },
            ..write
        };
        if let WriteOp::Delete { .. } = write.op {
            let provider = self.provider_name(account);
            // Nothing to reopen: the note simply stays.
            if let (Some(id), Some(view)) = (write.outbox_id, self.views.get_mut(account)) {
                view.writes.reopened.insert(id);
                effects.push(Effect::DiscardOutbox { outbox_id: id });
            }
            self.error(format!("{provider} refused to delete the note: {error}"));
            return;
        }
        self.reopen(account, write, effects);
    }

    /// `e` on an entry marked refused: its content back in the editor.
    fn reopen_refused(&mut self, id: &str, effects: &mut Vec<Effect>) {
        let account = self.active;
        let Some(view) = self.views.get_mut(account) else {
            return;
        };
        let Some(index) = view.writes.items.iter().rposition(|w| w.shows_as(id)) else {
            return;
        };
        let write = view.writes.items.remove(index);
        let rows = self.timeline_rows();
        if let Some(view) = self.views.get_mut(account) {
            undo_overlay(&mut view.timeline, &write, rows);
        }
        self.reopen(account, write, effects);
    }

    /// A refused create or edit goes back to the agent: into the editor when it is free,
    /// else into a draft. When a newer draft holds that place, the write stays in the
    /// outbox, marked refused, rather than overwrite anything typed.
    fn reopen(&mut self, account: usize, write: LocalWrite, effects: &mut Vec<Effect>) {
        let rows = self.timeline_rows();
        let provider = self.provider_name(account);
        let error = write.error().unwrap_or("refused").to_string();
        let customer_id = write.customer_id().to_string();
        let customer_name = self.customer_name(account, &customer_id);
        let name = self
            .accounts
            .get(account)
            .map(|a| a.name.clone())
            .unwrap_or_default();
        let now = self.clock();
        let Some(view) = self.views.get_mut(account) else {
            return;
        };
        let original = match &write.op {
            WriteOp::Update { note_id, .. } => write.before.clone().or_else(|| {
                view.timeline
                    .notes
                    .iter()
                    .find(|n| n.id == *note_id)
                    .cloned()
            }),
            _ => None,
        };
        let draft = draft_of(&write, original.as_ref(), &name, now, &self.tz);
        let key: DraftKey = (
            customer_id.clone(),
            draft.as_ref().and_then(|d| d.note_id.clone()),
        );
        // The place is taken by a draft, or by an editor open on it that would save over it.
        let editor_on_it = self.editor.as_ref().is_some_and(|e| {
            e.account == account
                && e.customer_id == key.0
                && e.note_id().map(str::to_string) == key.1
        });
        let taken = editor_on_it || view.drafts.contains_key(&key);
        let (Some(draft), false) = (draft, taken) else {
            // Keep it visible and refused: `e` on it reopens it once the place is free.
            view.writes.items.push(write);
            writes::overlay(&mut view.timeline, &view.writes, rows);
            self.error(format!(
                "{provider} refused the note for {customer_name}: {error} — e on the entry marked ✗ reopens it"
            ));
            return;
        };
        view.drafts.insert(key, draft.clone());
        effects.push(Effect::SaveDraft(draft.clone()));
        // Its content is a draft again (saved first, on the same store thread), so the
        // refused copy leaves the outbox instead of coming back after a restart.
        if let Some(id) = write.outbox_id {
            view.writes.reopened.insert(id);
            effects.push(Effect::DiscardOutbox { outbox_id: id });
        }
        let editor_free = self.editor.is_none() && self.confirm.is_none() && account == self.active;
        if editor_free {
            let can_call = self
                .accounts
                .get(account)
                .is_some_and(|a| a.capabilities.log_calls);
            let mut editor =
                Editor::from_draft(account, &customer_name, &draft, original, can_call);
            editor.server_error = Some(error.clone());
            self.editor = Some(self.fitted(editor));
            self.focus = Pane::Note;
            self.error(format!("{provider} refused the note: {error}"));
        } else {
            let again = if draft.note_id.is_some() {
                "e on the note"
            } else {
                "n on the customer"
            };
            self.error(format!(
                "{provider} refused the note for {customer_name}: {error} — it is a draft again ({again} continues it)"
            ));
        }
    }
}

/// Takes back what the timeline shows for a write that is no longer on its way: a new
/// entry goes, an edited note gets its old content back.
fn undo_overlay(timeline: &mut super::timeline::Timeline, write: &LocalWrite, rows: usize) {
    match &write.op {
        WriteOp::Create(_) => {
            timeline.remove(&write.entry_id(), rows);
        }
        WriteOp::Update { note_id, .. } => {
            if let Some(before) = write.before.clone() {
                timeline.replace(note_id, before, rows);
            }
        }
        WriteOp::Delete { .. } => {}
    }
}

/// The draft a refused write becomes: its fields as the editor shows them. An edit needs
/// the note it changes (`original`); without it there is nothing to compare against.
fn draft_of(
    write: &LocalWrite,
    original: Option<&Note>,
    account_name: &str,
    now: Timestamp,
    tz: &jiff::tz::TimeZone,
) -> Option<Draft> {
    let duration = |seconds: Option<u32>| seconds.map(format_duration_input).unwrap_or_default();
    match &write.op {
        WriteOp::Create(new) => Some(Draft {
            account: account_name.to_string(),
            customer_id: new.customer_id.clone(),
            note_id: None,
            kind: new.kind.as_str().to_string(),
            duration: duration(new.call_duration_s),
            when: when_input(new.created_at, tz),
            author: new.author_email.clone().unwrap_or_default(),
            text: new.text.clone(),
            updated_at: now,
        }),
        WriteOp::Update {
            note_id,
            customer_id,
            patch,
        } => {
            let mut note = original?.clone();
            writes::apply_patch(&mut note, patch);
            Some(Draft {
                account: account_name.to_string(),
                customer_id: customer_id.clone(),
                note_id: Some(note_id.clone()),
                kind: note.kind.as_str().to_string(),
                duration: match note.kind {
                    NoteKind::Call => duration(note.call_duration_s),
                    _ => String::new(),
                },
                when: when_input(note.created_at, tz),
                author: note.author_email.clone().unwrap_or_default(),
                text: note.text,
                updated_at: now,
            })
        }
        WriteOp::Delete { .. } => None,
    }
}
