//! The message composer: one text field for adding a message to the selected note's thread
//! (accounts with `Capabilities.messages`, Peoplevine), and the messages on their way. Pure
//! like the rest of `app`: a message leaves as `Effect::AddMessage`, and the provider's
//! answer comes back as `Msg::MessageSent`.

use ratatui::crossterm::event::KeyEvent;
use ratatui::style::{Modifier, Style};
use ratatui_textarea::{CursorMove, TextArea};

use super::editor::{field_area, type_key};
use super::keys::{EditorAction, editor_action_for};
use super::{App, Effect, Pane};
use crate::model::{Note, NoteMessage};
use crate::store::WriteOp;

const HINT: &str = "your message";

/// A message being written to one note's thread.
#[derive(Debug, Clone)]
pub struct Composer {
    pub account: usize,
    pub note_id: String,
    /// What the pane's title calls the note (`note_title`).
    pub note_title: String,
    pub text: TextArea<'static>,
    /// Why the last send of this text failed, shown above it until it is sent again.
    pub error: Option<String>,
}

impl Composer {
    fn new(account: usize, note: &Note, text: &str) -> Composer {
        let mut area = field_area(text, true, HINT);
        // The composer always has the keyboard: its cursor always shows.
        area.set_cursor_style(Style::new().add_modifier(Modifier::REVERSED));
        area.move_cursor(CursorMove::Bottom);
        area.move_cursor(CursorMove::End);
        Composer {
            account,
            note_id: note.id.clone(),
            note_title: note_title(note),
            text: area,
            error: None,
        }
    }

    /// The text as typed, lines joined with `\n`.
    pub fn value(&self) -> String {
        self.text.lines().join("\n")
    }

    /// Appends `text` after what is typed (a failed message given back to an open composer).
    fn append(&mut self, text: &str) {
        let typed = self.value();
        let joined = if typed.trim().is_empty() {
            text.to_string()
        } else {
            format!("{typed}\n\n{text}")
        };
        let style = self.text.cursor_style();
        self.text = field_area(&joined, true, HINT);
        self.text.set_cursor_style(style);
        self.text.move_cursor(CursorMove::Bottom);
        self.text.move_cursor(CursorMove::End);
    }
}

/// What a note is called in a title: its subject, else the first line of its text.
pub fn note_title(note: &Note) -> String {
    note.subject
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .or_else(|| note.text.lines().map(str::trim).find(|l| !l.is_empty()))
        .unwrap_or("the note")
        .to_string()
}

/// A message handed to the provider, shown at the end of its note's thread as "sending…"
/// until the answer comes.
#[derive(Debug, Clone, PartialEq)]
pub struct PendingMessage {
    pub local_id: String,
    pub note_id: String,
    pub text: String,
}

/// The provider's answer to `Effect::AddMessage`: the message as stored, or the error in
/// one line.
#[derive(Debug, Clone)]
pub struct MessageSent {
    pub account: usize,
    pub note_id: String,
    pub local_id: String,
    pub result: Result<NoteMessage, String>,
}

impl App {
    /// The open message composer, if any.
    pub fn composer(&self) -> Option<&Composer> {
        self.composer.as_ref()
    }

    /// `m`: the composer for the selected note, with the message left unsent there before.
    pub(super) fn open_composer(&mut self) {
        let Some(tab) = self.account() else {
            return;
        };
        if !tab.capabilities.messages {
            let provider = tab.provider.display_name();
            self.inform(format!("{provider} does not let us add messages to notes"));
            return;
        }
        let Some(view) = self.view() else {
            return;
        };
        let Some(note) = view.timeline.selected().cloned() else {
            self.inform("Select a note first: m adds a message to its thread".to_string());
            return;
        };
        // A note still on its way has no id on the server to add a message to.
        let unsaved = view
            .writes
            .about(&note.id)
            .is_some_and(|w| matches!(w.op, WriteOp::Create(_)));
        if unsaved {
            let why = self.busy_reason(&note.id);
            self.inform(format!("{why}: messages can be added once it is saved"));
            return;
        }
        let draft = view.message_drafts.get(&note.id).cloned();
        if draft.is_some() {
            self.inform("Continuing your message".to_string());
        }
        let text = draft.unwrap_or_default();
        self.composer = Some(Composer::new(self.active, &note, &text));
        self.focus = Pane::Note;
    }

    /// A key while the composer is open: Ctrl-S sends, Esc closes (the text is kept),
    /// Ctrl-C quits; the editor's field keys mean nothing here; the rest is typed.
    pub(super) fn on_composer_key(&mut self, key: &KeyEvent, effects: &mut Vec<Effect>) {
        match editor_action_for(key) {
            Some(EditorAction::Save) => self.send_message(effects),
            Some(EditorAction::Close) => self.close_composer(),
            Some(EditorAction::Quit) => {
                self.close_composer();
                self.quit(effects);
            }
            Some(EditorAction::NextField | EditorAction::PrevField | EditorAction::Discard) => {}
            Some(EditorAction::ToggleType) | None => {
                if let Some(composer) = self.composer.as_mut() {
                    type_key(&mut composer.text, key);
                }
            }
        }
    }

    /// Pasted text goes into the composer, sanitised like anything typed.
    pub(super) fn paste_into_composer(&mut self, text: &str) {
        let clean = crate::text::sanitize(text);
        if let Some(composer) = self.composer.as_mut() {
            composer.text.insert_str(&clean);
        }
    }

    /// Esc: the composer closes; what was typed waits for the next `m` on that note.
    fn close_composer(&mut self) {
        let Some(composer) = self.composer.take() else {
            return;
        };
        let text = composer.value();
        let Some(view) = self.views.get_mut(composer.account) else {
            return;
        };
        if text.trim().is_empty() {
            view.message_drafts.remove(&composer.note_id);
            self.status = None;
        } else {
            view.message_drafts.insert(composer.note_id, text);
            self.inform("Message kept: m on the note continues it".to_string());
        }
    }

    /// Ctrl-S: sends the message and shows it in the thread at once, marked "sending…".
    fn send_message(&mut self, effects: &mut Vec<Effect>) {
        let Some(composer) = self.composer.as_ref() else {
            return;
        };
        let text = crate::text::sanitize(&composer.value());
        if text.trim().is_empty() {
            self.error("Not sent: write something first".to_string());
            return;
        }
        let Some(composer) = self.composer.take() else {
            return;
        };
        let local_id = format!("local-{}", self.next_local);
        self.next_local += 1;
        let provider = self.provider_name(composer.account);
        effects.push(Effect::AddMessage {
            account: composer.account,
            note_id: composer.note_id.clone(),
            local_id: local_id.clone(),
            text: text.clone(),
        });
        if let Some(view) = self.views.get_mut(composer.account) {
            view.message_drafts.remove(&composer.note_id);
            view.pending_messages.push(PendingMessage {
                local_id,
                note_id: composer.note_id,
                text,
            });
            // The thread ends with the new message: show that end.
            view.note.scroll = usize::MAX;
        }
        self.focus = Pane::Note;
        self.clamp_note_scroll();
        self.inform(format!("Sending the message to {provider}…"));
    }

    /// The provider's answer: the message joins its note's thread, or its text goes back to
    /// the agent (into the composer when nothing else is open, else kept for `m`).
    pub(super) fn on_message_sent(&mut self, sent: MessageSent) {
        let MessageSent {
            account,
            note_id,
            local_id,
            result,
        } = sent;
        let now = self.now;
        let active = self.active;
        let provider = self.provider_name(account);
        let Some(view) = self.views.get_mut(account) else {
            return;
        };
        let pending = view
            .pending_messages
            .iter()
            .position(|m| m.local_id == local_id)
            .map(|i| view.pending_messages.remove(i));
        let error = match result {
            Ok(mut message) => {
                // What the answer leaves out is known here: the message is ours, and new.
                if message.author.is_none() {
                    message.author = Some(view.author_email.clone().unwrap_or("you".into()));
                }
                if message.created_at.is_none() {
                    message.created_at = now;
                }
                // A refresh streaming in holds the note too, possibly without the message.
                let staging = view.timeline.staging.iter_mut().flatten();
                for note in view.timeline.notes.iter_mut().chain(staging) {
                    if note.id == note_id && !note.extras.messages.contains(&message) {
                        note.extras.messages.push(message.clone());
                    }
                }
                if account == active {
                    self.inform(format!("Message added on {provider}"));
                    self.clamp_note_scroll();
                }
                return;
            }
            Err(error) => error,
        };
        let Some(pending) = pending else {
            self.error(format!("{provider} did not take a message: {error}"));
            return;
        };
        let on_this_note = |c: &Composer| c.account == account && c.note_id == note_id;
        if let Some(composer) = self.composer.as_mut().filter(|c| on_this_note(c)) {
            composer.append(&pending.text);
            composer.error = Some(error.clone());
            self.error(format!("{provider} did not take the message: {error}"));
            return;
        }
        let shown = view
            .timeline
            .selected()
            .filter(|n| n.id == note_id)
            .cloned();
        let free = self.editor.is_none() && self.composer.is_none() && self.confirm.is_none();
        match shown {
            Some(note) if free && account == active => {
                let mut composer = Composer::new(account, &note, &pending.text);
                composer.error = Some(error.clone());
                self.composer = Some(composer);
                self.focus = Pane::Note;
                self.error(format!("{provider} did not take the message: {error}"));
            }
            _ => {
                let draft = view.message_drafts.entry(note_id).or_default();
                if !draft.trim().is_empty() {
                    draft.push_str("\n\n");
                }
                draft.push_str(&pending.text);
                self.error(format!(
                    "{provider} did not take the message: {error} — m on the note brings it back"
                ));
            }
        }
    }
}
