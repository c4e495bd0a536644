//! The editor's state: one note or call being written (or a saved one being edited), field by
//! field, and what saving it would send. Pure like the rest of `app`: the time comes in as an
//! argument, and nothing here does I/O; `App` turns its answers into effects.

use jiff::Timestamp;
use jiff::tz::TimeZone;
use ratatui::crossterm::event::{KeyCode, KeyEvent};
use ratatui::style::{Modifier, Style};
use ratatui_textarea::{CursorMove, Input, Key, TextArea, WrapMode};

use crate::app::keys::{EditorAction, editor_action_for};
use crate::duration::{format_duration, format_duration_input, parse_duration};
use crate::model::{NewNote, Note, NoteKind, NotePatch};
use crate::store::{Draft, WriteOp};
use crate::text::sanitize_line;
use crate::when::{describe_when, parse_when};

/// The editor's fields, in tab order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Type,
    Duration,
    Text,
    When,
    Author,
}

impl Field {
    /// Text comes straight after Duration, so logging a call is `c`, the duration, `Tab`,
    /// the text, `Ctrl-S`; When and Author, which rarely change, come after Text (and
    /// `Shift-Tab` from Type wraps round to them).
    pub const ORDER: [Field; 5] = [
        Field::Type,
        Field::Duration,
        Field::Text,
        Field::When,
        Field::Author,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Field::Type => "Type",
            Field::Duration => "Duration",
            Field::Text => "Text",
            Field::When => "When",
            Field::Author => "Author",
        }
    }

    fn index(self) -> usize {
        Field::ORDER.iter().position(|f| *f == self).unwrap_or(0)
    }
}

/// What the editor writes.
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    /// A new note or call.
    New,
    /// Changes to a saved note, as the server last sent it (the patch is what differs).
    Edit(Box<Note>),
}

/// What a key did in the editor; `App` acts on the ones that leave the editor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EditorEvent {
    /// Nothing happened (a key with no meaning here).
    Ignored,
    /// The cursor or the field changed, not the content.
    Moved,
    /// The content changed: time to save the draft.
    Changed,
    Save,
    Close,
    Discard,
    Quit,
    /// The type cannot change: a saved note keeps its type, and some accounts have no calls.
    TypeLocked,
}

/// The outcome of `Ctrl-S`.
#[derive(Debug, Clone, PartialEq)]
pub enum Saved {
    /// A field is wrong: nothing may be sent. The field and its message.
    Invalid(Field, String),
    /// An edit that changes nothing.
    NoChanges,
    Send(WriteOp),
}

/// Every field checked: the values to send, or the message for under the field.
#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    /// `None` for anything but a call.
    pub duration_s: Result<Option<u32>, String>,
    pub created_at: Result<Timestamp, String>,
    pub author: Result<Option<String>, String>,
    /// Sanitised, otherwise exactly as typed.
    pub text: Result<String, String>,
}

impl Check {
    /// The error of `field`, if it has one.
    pub fn error(&self, field: Field) -> Option<&str> {
        let error = match field {
            Field::Type => None,
            Field::Duration => self.duration_s.as_ref().err(),
            Field::When => self.created_at.as_ref().err(),
            Field::Author => self.author.as_ref().err(),
            Field::Text => self.text.as_ref().err(),
        };
        error.map(String::as_str)
    }

    /// The first wrong field in tab order.
    pub fn first_error(&self) -> Option<(Field, &str)> {
        Field::ORDER
            .iter()
            .find_map(|f| self.error(*f).map(|e| (*f, e)))
    }
}

/// The When field's default: saving takes the time of the save.
pub const NOW: &str = "now";

/// One note or call being written. Each text field is a `TextArea` so editing works as in
/// any editor (cursor keys, Home/End, undo); only Text is multi-line.
#[derive(Debug, Clone)]
pub struct Editor {
    pub account: usize,
    pub customer_id: String,
    pub customer_name: String,
    pub target: Target,
    pub kind: NoteKind,
    pub focus: Field,
    pub duration: TextArea<'static>,
    pub text: TextArea<'static>,
    pub when: TextArea<'static>,
    pub author: TextArea<'static>,
    /// Whether the account can log calls (the type toggle refuses otherwise).
    pub can_call: bool,
    /// Set by a refused `Ctrl-S`: from then on every error shows, even under untouched fields.
    pub tried_to_save: bool,
    /// The server's message when it refused this note (4xx), shown until the next save.
    pub server_error: Option<String>,
    /// The provider that dates notes itself (`Capabilities.sets_time` off): When is then
    /// shown as its doing and skipped by Tab, and saving sends the time of the save.
    pub time_set_by: Option<&'static str>,
}

impl Editor {
    /// An empty note or call for a customer, When "now", Author the account's default.
    pub fn new_entry(
        account: usize,
        customer_id: &str,
        customer_name: &str,
        kind: NoteKind,
        author: Option<&str>,
        can_call: bool,
    ) -> Editor {
        let focus = if kind == NoteKind::Call {
            Field::Duration
        } else {
            Field::Text
        };
        let mut editor = Editor {
            account,
            customer_id: customer_id.to_string(),
            customer_name: customer_name.to_string(),
            target: Target::New,
            kind,
            focus,
            duration: field_area("", false, DURATION_HINT),
            text: field_area("", true, TEXT_HINT),
            when: field_area(NOW, false, WHEN_HINT),
            author: field_area(author.unwrap_or(""), false, AUTHOR_HINT),
            can_call,
            tried_to_save: false,
            server_error: None,
            time_set_by: None,
        };
        editor.focus_on(focus);
        editor
    }

    /// A draft brought back as it was left. `original` is the note a draft of an edit
    /// changes (its key has a note id); without it the draft is a new entry.
    pub fn from_draft(
        account: usize,
        customer_name: &str,
        draft: &Draft,
        original: Option<Note>,
        can_call: bool,
    ) -> Editor {
        let target = match original {
            Some(note) if draft.note_id.is_some() => Target::Edit(Box::new(note)),
            _ => Target::New,
        };
        let kind = match NoteKind::parse(&draft.kind) {
            NoteKind::Call if !can_call && target == Target::New => NoteKind::Note,
            kind => kind,
        };
        let mut editor = Editor {
            account,
            customer_id: draft.customer_id.clone(),
            customer_name: customer_name.to_string(),
            target,
            kind,
            focus: Field::Text,
            // Drafts come from the store: cleaned like anything else before it is drawn.
            duration: field_area(&sanitize_line(&draft.duration), false, DURATION_HINT),
            text: field_area(&crate::text::sanitize(&draft.text), true, TEXT_HINT),
            when: field_area(&sanitize_line(&draft.when), false, WHEN_HINT),
            author: field_area(&sanitize_line(&draft.author), false, AUTHOR_HINT),
            can_call,
            tried_to_save: false,
            server_error: None,
            time_set_by: None,
        };
        editor.focus_on(Field::Text);
        editor
    }

    /// A saved note of `customer_id`, prefilled with its text, duration, time and author.
    pub fn edit(
        account: usize,
        customer_id: &str,
        customer_name: &str,
        note: &Note,
        tz: &TimeZone,
    ) -> Editor {
        let duration = match (&note.kind, note.call_duration_s) {
            (NoteKind::Call, Some(seconds)) => format_duration_input(seconds),
            _ => String::new(),
        };
        let mut editor = Editor {
            account,
            customer_id: customer_id.to_string(),
            customer_name: customer_name.to_string(),
            target: Target::Edit(Box::new(note.clone())),
            kind: note.kind.clone(),
            focus: Field::Text,
            duration: field_area(&duration, false, DURATION_HINT),
            text: field_area(&note.text, true, TEXT_HINT),
            when: field_area(&when_input(note.created_at, tz), false, WHEN_HINT),
            author: field_area(
                note.author_email.as_deref().unwrap_or(""),
                false,
                AUTHOR_HINT,
            ),
            can_call: true,
            tried_to_save: false,
            server_error: None,
            time_set_by: None,
        };
        editor.focus_on(Field::Text);
        editor
    }

    /// The id of the note being edited; `None` for a new one.
    pub fn note_id(&self) -> Option<&str> {
        match &self.target {
            Target::New => None,
            Target::Edit(note) => Some(&note.id),
        }
    }

    pub fn is_edit(&self) -> bool {
        self.note_id().is_some()
    }

    /// Whether the field is on screen and in the tab order: Duration only for calls, Type
    /// only while it can change (a saved note keeps its type).
    pub fn shows(&self, field: Field) -> bool {
        match field {
            Field::Duration => self.kind == NoteKind::Call,
            Field::Type => !self.is_edit(),
            _ => true,
        }
    }

    /// Whether Tab stops at `field`: shown, and not When where the provider sets the time.
    pub fn focusable(&self, field: Field) -> bool {
        self.shows(field) && !(field == Field::When && self.time_set_by.is_some())
    }

    /// Makes When the provider's to set (see `time_set_by`); leaves it if it had the cursor.
    pub fn lock_time(&mut self, provider: &'static str) {
        self.time_set_by = Some(provider);
        if self.focus == Field::When {
            self.focus_on(Field::Text);
        }
    }

    /// Puts the cursor in `field` (at the end of what it holds).
    pub fn focus_on(&mut self, field: Field) {
        self.focus = field;
        let focused = Style::new().add_modifier(Modifier::REVERSED);
        for f in [Field::Duration, Field::Text, Field::When, Field::Author] {
            let style = if f == field { focused } else { Style::new() };
            if let Some(area) = self.area_mut(f) {
                area.set_cursor_style(style);
            }
        }
        if let Some(area) = self.area_mut(field) {
            area.move_cursor(CursorMove::Bottom);
            area.move_cursor(CursorMove::End);
        }
    }

    /// The next (or previous) shown field, wrapping around.
    pub fn step_focus(&mut self, forward: bool) {
        let len = Field::ORDER.len();
        let mut index = self.focus.index();
        for _ in 0..len {
            index = if forward {
                (index + 1) % len
            } else {
                (index + len - 1) % len
            };
            let field = Field::ORDER[index];
            if self.focusable(field) {
                self.focus_on(field);
                return;
            }
        }
    }

    /// The text area of a text field; `None` for Type.
    pub fn area(&self, field: Field) -> Option<&TextArea<'static>> {
        match field {
            Field::Type => None,
            Field::Duration => Some(&self.duration),
            Field::Text => Some(&self.text),
            Field::When => Some(&self.when),
            Field::Author => Some(&self.author),
        }
    }

    fn area_mut(&mut self, field: Field) -> Option<&mut TextArea<'static>> {
        match field {
            Field::Type => None,
            Field::Duration => Some(&mut self.duration),
            Field::Text => Some(&mut self.text),
            Field::When => Some(&mut self.when),
            Field::Author => Some(&mut self.author),
        }
    }

    /// What a field holds, lines joined with `\n`.
    pub fn value(&self, field: Field) -> String {
        match self.area(field) {
            Some(area) => area.lines().join("\n"),
            None => self.kind.as_str().to_string(),
        }
    }

    /// One key. Ctrl-S, Esc, Tab, Shift-Tab, Ctrl-D and Ctrl-C act from every field; on
    /// Type, Space and the arrows switch note/call; everything else is typed.
    pub fn on_key(&mut self, key: &KeyEvent) -> EditorEvent {
        match editor_action_for(key) {
            Some(EditorAction::Save) => return EditorEvent::Save,
            Some(EditorAction::Close) => return EditorEvent::Close,
            Some(EditorAction::Discard) => return EditorEvent::Discard,
            Some(EditorAction::Quit) => return EditorEvent::Quit,
            Some(EditorAction::NextField) => {
                self.step_focus(true);
                return EditorEvent::Moved;
            }
            Some(EditorAction::PrevField) => {
                self.step_focus(false);
                return EditorEvent::Moved;
            }
            Some(EditorAction::ToggleType) if self.focus == Field::Type => {
                return self.toggle_kind();
            }
            // Elsewhere Space and the arrows are text and cursor moves.
            Some(EditorAction::ToggleType) | None => {}
        }
        match self.focus {
            Field::Type => match key.code {
                KeyCode::Enter | KeyCode::Down => {
                    self.step_focus(true);
                    EditorEvent::Moved
                }
                _ => EditorEvent::Ignored,
            },
            Field::Text => self.type_into(Field::Text, key),
            single => match key.code {
                // One line only: Enter and the vertical arrows move between fields instead.
                KeyCode::Enter | KeyCode::Down => {
                    self.step_focus(true);
                    EditorEvent::Moved
                }
                KeyCode::Up => {
                    self.step_focus(false);
                    EditorEvent::Moved
                }
                _ => self.type_into(single, key),
            },
        }
    }

    /// Switches between note and call (new entries only, calls only where the account has
    /// them).
    pub fn toggle_kind(&mut self) -> EditorEvent {
        if self.is_edit() || !self.can_call {
            return EditorEvent::TypeLocked;
        }
        self.kind = if self.kind == NoteKind::Call {
            NoteKind::Note
        } else {
            NoteKind::Call
        };
        EditorEvent::Changed
    }

    /// Makes the entry a call (the `c` key on a draft that was a note).
    pub fn make_call(&mut self) -> bool {
        if self.is_edit() || !self.can_call || self.kind == NoteKind::Call {
            return false;
        }
        self.kind = NoteKind::Call;
        true
    }

    fn type_into(&mut self, field: Field, key: &KeyEvent) -> EditorEvent {
        let Some(area) = self.area_mut(field) else {
            return EditorEvent::Ignored;
        };
        let Some(mut changed) = type_key(area, key) else {
            return EditorEvent::Ignored;
        };
        if field != Field::Text {
            // Keys like Ctrl-M or a yank can still add a line break: fold it back.
            changed |= keep_one_line(area);
        }
        if changed {
            EditorEvent::Changed
        } else {
            EditorEvent::Moved
        }
    }

    /// Pasted text, sanitised like server text (escape sequences and control characters go;
    /// unicode, emoji and, in Text, line breaks stay). Pasting on Type goes to Text.
    /// Returns whether anything was inserted.
    pub fn paste(&mut self, pasted: &str) -> bool {
        if self.focus == Field::Type {
            self.focus_on(Field::Text);
        }
        let field = self.focus;
        let clean = if field == Field::Text {
            crate::text::sanitize(pasted)
        } else {
            sanitize_line(pasted)
        };
        if clean.is_empty() {
            return false;
        }
        match self.area_mut(field) {
            Some(area) => area.insert_str(&clean),
            None => false,
        }
    }

    /// Checks every field against `now` (the latest `Msg::Now`; without it nothing can be
    /// timed, so When is refused until the clock arrives).
    pub fn check(&self, now: Option<Timestamp>, tz: &TimeZone) -> Check {
        let duration_s = if self.kind == NoteKind::Call {
            parse_duration(&self.value(Field::Duration))
                .map(Some)
                .map_err(|e| e.to_string())
        } else {
            Ok(None)
        };
        let when = self.value(Field::When);
        let locked = self.time_set_by.is_some();
        let created_at = match (&self.target, now) {
            // An edit that leaves the time alone keeps it, however old the note is; where the
            // provider dates notes, an edit cannot move it at all.
            (Target::Edit(note), _) if locked || when == when_input(note.created_at, tz) => {
                Ok(note.created_at)
            }
            // The provider stamps it on arrival; the time of the save is our best guess,
            // and what the outbox matches against if the outcome is unknown.
            (Target::New, Some(now)) if locked => Ok(crate::when::whole_seconds(now)),
            (_, Some(now)) => parse_when(&when, now, tz)
                .map(crate::when::whole_seconds)
                .map_err(|e| e.to_string()),
            (_, None) => Err("waiting for the clock — try again in a moment".to_string()),
        };
        let author = check_author(&self.value(Field::Author));
        let text = crate::text::sanitize(&self.value(Field::Text));
        let text = if text.trim().is_empty() && self.kind != NoteKind::Call {
            Err("write something: an empty note can't be saved".to_string())
        } else {
            Ok(text)
        };
        Check {
            duration_s,
            created_at,
            author,
            text,
        }
    }

    /// The message to show under `field`: errors show once the field holds something or a
    /// save was refused, so a fresh editor is not a wall of red.
    pub fn shown_error<'c>(&self, field: Field, check: &'c Check) -> Option<&'c str> {
        let error = check.error(field)?;
        let typed = !self.value(field).trim().is_empty();
        let show = self.tried_to_save || (typed && field != Field::Text);
        show.then_some(error)
    }

    /// `Ctrl-S`: the write to send, or why not. A refusal makes every error show.
    pub fn save(&mut self, now: Option<Timestamp>, tz: &TimeZone) -> Saved {
        let check = self.check(now, tz);
        if let Some((field, error)) = check.first_error() {
            self.tried_to_save = true;
            return Saved::Invalid(field, error.to_string());
        }
        // Every field is Ok past `first_error`; the fallbacks are never used.
        let duration_s = check.duration_s.clone().unwrap_or(None);
        let created_at = check.created_at.clone().unwrap_or(Timestamp::UNIX_EPOCH);
        let author = check.author.clone().unwrap_or(None);
        let text = check.text.clone().unwrap_or_default();
        match &self.target {
            Target::New => Saved::Send(WriteOp::Create(NewNote {
                customer_id: self.customer_id.clone(),
                kind: self.kind.clone(),
                author_email: author,
                text,
                call_duration_s: duration_s,
                created_at,
            })),
            Target::Edit(note) => {
                let patch = NotePatch {
                    text: (text != note.text).then_some(text),
                    call_duration_s: duration_s.filter(|d| Some(*d) != note.call_duration_s),
                    // The field holds whole seconds; the server's time may have a fraction.
                    created_at: (created_at.as_second() != note.created_at.as_second())
                        .then_some(created_at),
                    author_email: author.filter(|a| Some(a) != note.author_email.as_ref()),
                };
                if patch.is_empty() {
                    Saved::NoChanges
                } else {
                    Saved::Send(WriteOp::Update {
                        note_id: note.id.clone(),
                        customer_id: self.customer_id.clone(),
                        patch,
                    })
                }
            }
        }
    }

    /// The draft as the store keeps it: every field as typed.
    pub fn draft(&self, account_name: &str, now: Timestamp) -> Draft {
        Draft {
            account: account_name.to_string(),
            customer_id: self.customer_id.clone(),
            note_id: self.note_id().map(str::to_string),
            kind: self.kind.as_str().to_string(),
            duration: self.value(Field::Duration),
            when: self.value(Field::When),
            author: self.value(Field::Author),
            text: self.value(Field::Text),
            updated_at: now,
        }
    }

    /// Whether nothing was typed yet (such a draft is not worth keeping).
    pub fn is_blank(&self) -> bool {
        !self.is_edit()
            && self.value(Field::Text).trim().is_empty()
            && self.value(Field::Duration).trim().is_empty()
    }

    /// Sets a field's content (prefills: a stopwatch's duration and start time).
    pub fn set_value(&mut self, field: Field, value: &str) {
        let multi_line = field == Field::Text;
        if let Some(area) = self.area_mut(field) {
            let hint = area.placeholder_text().to_string();
            *area = field_area(value, multi_line, &hint);
        }
        self.focus_on(self.focus);
    }

    /// What saving would send, in one line: "call · 15m · as sara@example.com · now".
    /// Parts that don't parse show as `?`; an edit adds what it changes.
    pub fn summary(&self, check: &Check, now: Option<Timestamp>, tz: &TimeZone) -> String {
        let mut parts = vec![self.kind.as_str().to_string()];
        if self.kind == NoteKind::Call {
            parts.push(match &check.duration_s {
                Ok(Some(seconds)) => format_duration(*seconds),
                _ => "?".to_string(),
            });
        }
        match &check.author {
            Ok(Some(author)) => parts.push(format!("as {author}")),
            Ok(None) => {}
            Err(_) => parts.push("as ?".to_string()),
        }
        parts.push(match (&check.created_at, now, self.time_set_by) {
            (Ok(_), _, Some(provider)) if !self.is_edit() => format!("dated by {provider}"),
            (Ok(at), Some(now), _) => describe_when(*at, now, tz),
            _ => "?".to_string(),
        });
        if let Target::Edit(note) = &self.target {
            parts.push(edit_changes(note, check));
        }
        parts.join(" · ")
    }
}

/// "changes text, duration" or "no changes", judged like `save` judges them.
fn edit_changes(note: &Note, check: &Check) -> String {
    let mut changed = Vec::new();
    if check.text.as_ref().is_ok_and(|t| *t != note.text) {
        changed.push("text");
    }
    if let Ok(Some(seconds)) = check.duration_s {
        if Some(seconds) != note.call_duration_s {
            changed.push("duration");
        }
    }
    if check
        .created_at
        .as_ref()
        .is_ok_and(|at| at.as_second() != note.created_at.as_second())
    {
        changed.push("time");
    }
    if let Ok(Some(author)) = &check.author {
        if Some(author) != note.author_email.as_ref() {
            changed.push("author");
        }
    }
    if changed.is_empty() {
        "no changes".to_string()
    } else {
        format!("changes {}", changed.join(", "))
    }
}

/// A time as the When field holds it: the civil time in `tz`, to the second, which
/// `parse_when` reads back exactly (a relative form would drift as a draft waits).
pub fn when_input(at: Timestamp, tz: &TimeZone) -> String {
    at.to_zoned(tz.clone())
        .strftime("%Y-%m-%d %H:%M:%S")
        .to_string()
}

/// Empty means the account's default author; anything else must look like an email.
fn check_author(value: &str) -> Result<Option<String>, String> {
    let author = value.trim();
    if author.is_empty() {
        return Ok(None);
    }
    let looks_like_email = author
        .split_once('@')
        .is_some_and(|(name, domain)| !name.is_empty() && domain.contains('.'))
        && !author.chars().any(char::is_whitespace);
    if looks_like_email {
        Ok(Some(author.to_string()))
    } else {
        Err("an email address, like sara@example.com".to_string())
    }
}

/// One key typed into a text area (the editor's fields, the message composer). `None` when
/// the key is not text: control characters (a terminal may send one as a key) and bidi
/// overrides never reach a note, since what sanitising would remove is not typed in the first
/// place. Otherwise whether the content changed.
pub(super) fn type_key(area: &mut TextArea<'static>, key: &KeyEvent) -> Option<bool> {
    let input = Input::from(*key);
    match input.key {
        Key::Char(c) if c.is_control() => return None,
        Key::Char(c)
            if !c.is_ascii() && crate::text::sanitize(c.encode_utf8(&mut [0; 4])).is_empty() =>
        {
            return None;
        }
        Key::Null | Key::Esc | Key::F(_) => return None,
        _ => {}
    }
    Some(area.input(input))
}

const DURATION_HINT: &str = "15m, 1h30m, 1:30";
const TEXT_HINT: &str = "what was said or done";
const WHEN_HINT: &str = "now, -2h, yesterday 14:00";
const AUTHOR_HINT: &str = "the account's default author";

/// A text field holding `value`, with no underline on the cursor's line (the focused
/// field shows a block cursor instead).
pub(super) fn field_area(value: &str, multi_line: bool, hint: &str) -> TextArea<'static> {
    let lines: Vec<String> = if multi_line {
        value.split('\n').map(str::to_string).collect()
    } else {
        vec![value.replace('\n', " ")]
    };
    let mut area = TextArea::new(lines);
    area.set_cursor_line_style(Style::new());
    area.set_cursor_style(Style::new());
    area.set_placeholder_text(hint);
    if multi_line {
        area.set_wrap_mode(WrapMode::WordOrGlyph);
    }
    area
}

/// Joins a single-line field that gained a line break; returns whether it did.
fn keep_one_line(area: &mut TextArea<'static>) -> bool {
    if area.lines().len() <= 1 {
        return false;
    }
    let joined = area.lines().join(" ");
    let style = area.cursor_style();
    let hint = area.placeholder_text().to_string();
    *area = field_area(&joined, false, &hint);
    area.set_cursor_style(style);
    area.move_cursor(CursorMove::End);
    true
}
