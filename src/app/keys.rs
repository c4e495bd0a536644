//! The keymap: every key the app understands, as data (key → `Action`). Key handling and the
//! `?` help overlay both read this one table, so help can never disagree with the keys.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

/// Everything a user can ask the browser to do from the keyboard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Down,
    Up,
    PageDown,
    PageUp,
    Top,
    Bottom,
    NextPane,
    PrevPane,
    PaneLeft,
    PaneRight,
    Open,
    Back,
    Contacts,
    Refresh,
    Copy,
    OpenInBrowser,
    Help,
    Quit,
    /// Zero-based account index (the key `1` is account 0).
    SwitchAccount(u8),
    NewNote,
    LogCall,
    Stopwatch,
    Edit,
    Delete,
    /// Write a message to the selected note's thread (accounts with `Capabilities.messages`).
    AddMessage,
    /// Open the filter bar over the focused list.
    Filter,
    /// Pick an author to filter the timeline on.
    Author,
    /// Cycle the timeline's type filter: all, notes, calls.
    KindFilter,
}

impl Action {
    /// The help overlay's description. Bindings whose actions share a description are shown
    /// on one help row.
    pub fn description(self) -> &'static str {
        match self {
            Action::Down => "move down (or scroll the note)",
            Action::Up => "move up (or scroll the note)",
            Action::PageDown => "page down",
            Action::PageUp => "page up",
            Action::Top => "go to the first row",
            Action::Bottom => "go to the last row",
            Action::NextPane => "next pane",
            Action::PrevPane => "previous pane",
            Action::PaneLeft => "pane to the left (towards Customers)",
            Action::PaneRight => "pane to the right (towards Note)",
            Action::Open => "open: customer → timeline → note",
            Action::Back => "close contacts, dismiss the message, then clear the filter",
            Action::Contacts => "show the customer's contacts (people)",
            Action::Refresh => "refresh customers and timeline, retry unsent notes",
            Action::Copy => "copy the note's text",
            Action::OpenInBrowser => "open the attachment, the note or the customer",
            Action::Help => "this help",
            Action::Quit => "quit",
            Action::SwitchAccount(_) => "switch account",
            Action::NewNote => "write a note for the selected customer",
            Action::LogCall => "log a call (type the duration, Tab, the text)",
            Action::Stopwatch => "start / stop the call stopwatch",
            Action::Edit => "edit the selected note",
            Action::Delete => "delete the selected note (asks first)",
            Action::AddMessage => "add a message to the note's thread (Ctrl-S sends)",
            Action::Filter => "filter: author:sara type:call since:7d text (Esc clears)",
            Action::Author => "pick an author to filter on",
            Action::KindFilter => "cycle the type shown: all, notes, calls",
        }
    }
}

/// One key: a key code, with or without Ctrl. Shift is part of the character (`G`, `?`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Chord {
    pub code: KeyCode,
    pub ctrl: bool,
}

impl Chord {
    const fn key(code: KeyCode) -> Chord {
        Chord { code, ctrl: false }
    }

    const fn ch(c: char) -> Chord {
        Chord::key(KeyCode::Char(c))
    }

    const fn ctrl(c: char) -> Chord {
        Chord {
            code: KeyCode::Char(c),
            ctrl: true,
        }
    }

    /// How the key is written in help and hints.
    pub fn label(self) -> String {
        let base = match self.code {
            KeyCode::Up => "↑".to_string(),
            KeyCode::Down => "↓".to_string(),
            KeyCode::Left => "←".to_string(),
            KeyCode::Right => "→".to_string(),
            KeyCode::PageUp => "PgUp".to_string(),
            KeyCode::PageDown => "PgDn".to_string(),
            KeyCode::Home => "Home".to_string(),
            KeyCode::End => "End".to_string(),
            KeyCode::Tab => "Tab".to_string(),
            KeyCode::BackTab => "Shift-Tab".to_string(),
            KeyCode::Enter => "Enter".to_string(),
            KeyCode::Esc => "Esc".to_string(),
            KeyCode::Char(' ') => "Space".to_string(),
            KeyCode::Char(c) if self.ctrl => c.to_ascii_uppercase().to_string(),
            KeyCode::Char(c) => c.to_string(),
            other => format!("{other:?}"),
        };
        if self.ctrl {
            format!("Ctrl-{base}")
        } else {
            base
        }
    }
}

/// A key and what it does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Binding {
    pub chord: Chord,
    pub action: Action,
}

const fn bind(chord: Chord, action: Action) -> Binding {
    Binding { chord, action }
}

/// The keymap, in the order help lists it.
pub const KEYMAP: &[Binding] = &[
    bind(Chord::ch('j'), Action::Down),
    bind(Chord::key(KeyCode::Down), Action::Down),
    bind(Chord::ch('k'), Action::Up),
    bind(Chord::key(KeyCode::Up), Action::Up),
    bind(Chord::key(KeyCode::PageDown), Action::PageDown),
    bind(Chord::key(KeyCode::PageUp), Action::PageUp),
    bind(Chord::ch('g'), Action::Top),
    bind(Chord::key(KeyCode::Home), Action::Top),
    bind(Chord::ch('G'), Action::Bottom),
    bind(Chord::key(KeyCode::End), Action::Bottom),
    bind(Chord::key(KeyCode::Tab), Action::NextPane),
    bind(Chord::key(KeyCode::BackTab), Action::PrevPane),
    bind(Chord::ch('h'), Action::PaneLeft),
    bind(Chord::key(KeyCode::Left), Action::PaneLeft),
    bind(Chord::ch('l'), Action::PaneRight),
    bind(Chord::key(KeyCode::Right), Action::PaneRight),
    bind(Chord::key(KeyCode::Enter), Action::Open),
    bind(Chord::key(KeyCode::Esc), Action::Back),
    bind(Chord::ch('p'), Action::Contacts),
    bind(Chord::ch('r'), Action::Refresh),
    bind(Chord::ch('y'), Action::Copy),
    bind(Chord::ch('o'), Action::OpenInBrowser),
    bind(Chord::ch('1'), Action::SwitchAccount(0)),
    bind(Chord::ch('2'), Action::SwitchAccount(1)),
    bind(Chord::ch('3'), Action::SwitchAccount(2)),
    bind(Chord::ch('4'), Action::SwitchAccount(3)),
    bind(Chord::ch('5'), Action::SwitchAccount(4)),
    bind(Chord::ch('6'), Action::SwitchAccount(5)),
    bind(Chord::ch('7'), Action::SwitchAccount(6)),
    bind(Chord::ch('8'), Action::SwitchAccount(7)),
    bind(Chord::ch('9'), Action::SwitchAccount(8)),
    bind(Chord::ch('?'), Action::Help),
    bind(Chord::ch('q'), Action::Quit),
    bind(Chord::ctrl('c'), Action::Quit),
    bind(Chord::ch('n'), Action::NewNote),
    bind(Chord::ch('c'), Action::LogCall),
    bind(Chord::ch('C'), Action::Stopwatch),
    bind(Chord::ch('e'), Action::Edit),
    bind(Chord::ch('d'), Action::Delete),
    bind(Chord::ch('m'), Action::AddMessage),
    bind(Chord::ch('/'), Action::Filter),
    bind(Chord::ch('a'), Action::Author),
    bind(Chord::ch('t'), Action::KindFilter),
];

/// What a key does while the editor is open; every other key is typed into the field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EditorAction {
    Save,
    Close,
    NextField,
    PrevField,
    /// Only on the Type field; elsewhere the key is typed (a space, a cursor move).
    ToggleType,
    Discard,
    Quit,
}

impl EditorAction {
    pub fn description(self) -> &'static str {
        match self {
            EditorAction::Save => "save and send",
            EditorAction::Close => "close the editor (the draft is kept)",
            EditorAction::NextField => "next field (Duration goes straight to Text)",
            EditorAction::PrevField => "previous field (When and Author are before Type)",
            EditorAction::ToggleType => "note or call (on the Type field)",
            EditorAction::Discard => "discard the draft (asks first)",
            EditorAction::Quit => "quit (the draft is kept)",
        }
    }
}

/// A key and what it does in the editor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EditorBinding {
    pub chord: Chord,
    pub action: EditorAction,
}

const fn edit(chord: Chord, action: EditorAction) -> EditorBinding {
    EditorBinding { chord, action }
}

/// The editor's keys, in the order help lists them. Ctrl-S and Esc work from every field;
/// plain letters never appear here, so everything else is text.
pub const EDITOR_KEYMAP: &[EditorBinding] = &[
    edit(Chord::ctrl('s'), EditorAction::Save),
    edit(Chord::key(KeyCode::Esc), EditorAction::Close),
    edit(Chord::key(KeyCode::Tab), EditorAction::NextField),
    edit(Chord::key(KeyCode::BackTab), EditorAction::PrevField),
    edit(Chord::ch(' '), EditorAction::ToggleType),
    edit(Chord::key(KeyCode::Left), EditorAction::ToggleType),
    edit(Chord::key(KeyCode::Right), EditorAction::ToggleType),
    edit(Chord::ctrl('d'), EditorAction::Discard),
    edit(Chord::ctrl('c'), EditorAction::Quit),
];

/// The key as a chord, or `None` for releases and Alt combinations (which the keymaps
/// leave to the text field or ignore).
fn chord_of(key: &KeyEvent) -> Option<Chord> {
    if key.kind == KeyEventKind::Release || key.modifiers.contains(KeyModifiers::ALT) {
        return None;
    }
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    // Some terminals (kitty protocol) report Shift-g as `g` + SHIFT rather than `G`.
    let code = match key.code {
        KeyCode::Char(c) if key.modifiers.contains(KeyModifiers::SHIFT) && !ctrl => {
            KeyCode::Char(c.to_ascii_uppercase())
        }
        // Ctrl-Shift-S is still Ctrl-S.
        KeyCode::Char(c) if ctrl => KeyCode::Char(c.to_ascii_lowercase()),
        other => other,
    };
    Some(Chord { code, ctrl })
}

/// The action bound to a key event, if any. Key releases are ignored (Windows reports them).
pub fn action_for(key: &KeyEvent) -> Option<Action> {
    let chord = chord_of(key)?;
    KEYMAP.iter().find(|b| b.chord == chord).map(|b| b.action)
}

/// The editor's action for a key event, if it has one.
pub fn editor_action_for(key: &KeyEvent) -> Option<EditorAction> {
    let chord = chord_of(key)?;
    EDITOR_KEYMAP
        .iter()
        .find(|b| b.chord == chord)
        .map(|b| b.action)
}

/// The label of the first editor key bound to `action` (for the status-line hints).
pub fn first_editor_key(action: EditorAction) -> Option<String> {
    EDITOR_KEYMAP
        .iter()
        .find(|b| b.action == action)
        .map(|b| b.chord.label())
}

/// The label of the first key bound to `action` (for the status-line hints).
pub fn first_key(action: Action) -> Option<String> {
    KEYMAP
        .iter()
        .find(|b| b.action == action)
        .map(|b| b.chord.label())
}

/// One row of the help overlay: the keys and what they do, or a section heading (no keys).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HelpRow {
    pub keys: String,
    pub description: &'static str,
    pub heading: bool,
}

/// The heading of the editor's keys in help.
pub const EDITOR_HEADING: &str = "In the editor";

/// The help overlay's rows, built from `KEYMAP` then `EDITOR_KEYMAP` under a heading:
/// bindings with the same description are merged, and a run of digit keys is written as a
/// range ("1–9").
pub fn help_rows() -> Vec<HelpRow> {
    let browser = KEYMAP.iter().map(|b| (b.action.description(), b.chord));
    let mut rows = grouped(browser);
    rows.push(HelpRow {
        keys: String::new(),
        description: EDITOR_HEADING,
        heading: true,
    });
    rows.extend(grouped(
        EDITOR_KEYMAP
            .iter()
            .map(|b| (b.action.description(), b.chord)),
    ));
    rows
}

/// Rows for `(description, chord)` pairs, one per description, in first-seen order.
fn grouped(bindings: impl Iterator<Item = (&'static str, Chord)>) -> Vec<HelpRow> {
    let mut groups: Vec<(&'static str, Vec<Chord>)> = Vec::new();
    for (description, chord) in bindings {
        match groups.iter_mut().find(|(d, _)| *d == description) {
            Some((_, chords)) => chords.push(chord),
            None => groups.push((description, vec![chord])),
        }
    }
    groups
        .into_iter()
        .map(|(description, chords)| HelpRow {
            keys: keys_label(&chords),
            description,
            heading: false,
        })
        .collect()
}

fn keys_label(chords: &[Chord]) -> String {
    let digits: Vec<char> = chords
        .iter()
        .filter_map(|c| match c.code {
            KeyCode::Char(d) if d.is_ascii_digit() && !c.ctrl => Some(d),
            _ => None,
        })
        .collect();
    if digits.len() == chords.len() && digits.len() > 2 {
        if let (Some(first), Some(last)) = (digits.first(), digits.last()) {
            return format!("{first}–{last}");
        }
    }
    chords
        .iter()
        .map(|c| c.label())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode, modifiers: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, modifiers)
    }

    #[test]
    fn every_key_maps_to_one_action_only() {
        for (i, a) in KEYMAP.iter().enumerate() {
            for b in KEYMAP.iter().skip(i + 1) {
                assert_ne!(a.chord, b.chord, "{:?} is bound twice", a.chord);
            }
        }
    }

    #[test]
    fn shift_letters_match_both_ways_terminals_report_them() {
        let plain = key(KeyCode::Char('G'), KeyModifiers::SHIFT);
        let kitty = key(KeyCode::Char('g'), KeyModifiers::SHIFT);
        assert_eq!(action_for(&plain), Some(Action::Bottom));
        assert_eq!(action_for(&kitty), Some(Action::Bottom));
        assert_eq!(
            action_for(&key(KeyCode::Char('g'), KeyModifiers::NONE)),
            Some(Action::Top)
        );
    }

    #[test]
    fn ctrl_c_quits_plain_c_logs_a_call_and_shift_c_is_the_stopwatch() {
        assert_eq!(
            action_for(&key(KeyCode::Char('c'), KeyModifiers::CONTROL)),
            Some(Action::Quit)
        );
        assert_eq!(
            action_for(&key(KeyCode::Char('c'), KeyModifiers::NONE)),
            Some(Action::LogCall)
        );
        assert_eq!(
            action_for(&key(KeyCode::Char('c'), KeyModifiers::SHIFT)),
            Some(Action::Stopwatch)
        );
    }

    #[test]
    fn in_the_editor_only_control_keys_and_navigation_have_actions() {
        let ctrl_s = key(KeyCode::Char('s'), KeyModifiers::CONTROL);
        assert_eq!(editor_action_for(&ctrl_s), Some(EditorAction::Save));
        let ctrl_shift_s = key(
            KeyCode::Char('S'),
            KeyModifiers::CONTROL | KeyModifiers::SHIFT,
        );
        assert_eq!(editor_action_for(&ctrl_shift_s), Some(EditorAction::Save));
        assert_eq!(
            editor_action_for(&key(KeyCode::BackTab, KeyModifiers::SHIFT)),
            Some(EditorAction::PrevField)
        );
        for c in ['q', 'j', 'k', 's', 'n', 'c', '?', '1'] {
            let typed = key(KeyCode::Char(c), KeyModifiers::NONE);
            assert_eq!(editor_action_for(&typed), None, "{c}");
        }
        for (i, a) in EDITOR_KEYMAP.iter().enumerate() {
            for b in EDITOR_KEYMAP.iter().skip(i + 1) {
                assert_ne!(a.chord, b.chord, "{:?} is bound twice", a.chord);
            }
        }
    }

    #[test]
    fn help_has_an_editor_section_after_the_browser_keys() {
        let rows = help_rows();
        let heading = rows.iter().position(|r| r.heading);
        assert_eq!(
            heading.and_then(|i| rows.get(i)).map(|r| r.description),
            Some(EDITOR_HEADING)
        );
        let save = rows.iter().position(|r| r.keys == "Ctrl-S");
        assert!(save > heading, "{rows:?}");
        let write = rows.iter().position(|r| r.keys == "n");
        assert!(write < heading, "{rows:?}");
        let toggle = rows
            .iter()
            .find(|r| r.description == EditorAction::ToggleType.description());
        assert_eq!(toggle.map(|r| r.keys.as_str()), Some("Space ← →"));
    }

    #[test]
    fn key_releases_do_nothing() {
        let mut release = key(KeyCode::Char('q'), KeyModifiers::NONE);
        release.kind = KeyEventKind::Release;
        assert_eq!(action_for(&release), None);
    }

    #[test]
    fn help_lists_every_action() {
        let rows = help_rows();
        for binding in KEYMAP {
            let listed = rows
                .iter()
                .any(|r| r.description == binding.action.description());
            assert!(listed, "{binding:?}");
        }
        let quit = rows.iter().find(|r| r.description == "quit");
        assert_eq!(quit.map(|r| r.keys.as_str()), Some("q Ctrl-C"));
        let accounts = rows.iter().find(|r| r.description == "switch account");
        assert_eq!(accounts.map(|r| r.keys.as_str()), Some("1–9"));
    }
}
