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
    /// A key reserved for a feature that later versions build.
    NotYet(Planned),
}

/// Features that have a key but are not built yet; pressing the key explains that.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Planned {
    NewNote,
    LogCall,
    Stopwatch,
    Edit,
    Delete,
    Filter,
    Author,
    KindFilter,
}

impl Planned {
    /// The friendly status-line text for the key.
    pub fn message(self) -> &'static str {
        match self {
            Planned::NewNote => {
                "Writing notes is coming in a later version (n isn't available yet)"
            }
            Planned::LogCall => {
                "Logging calls is coming in a later version (c isn't available yet)"
            }
            Planned::Stopwatch => {
                "The call stopwatch is coming in a later version (C isn't available yet)"
            }
            Planned::Edit => "Editing notes is coming in a later version (e isn't available yet)",
            Planned::Delete => {
                "Deleting notes is coming in a later version (d isn't available yet)"
            }
            Planned::Filter => {
                "The filter bar is coming in a later version (/ isn't available yet)"
            }
            Planned::Author => {
                "Picking an author is coming in a later version (a isn't available yet)"
            }
            Planned::KindFilter => {
                "Filtering by type is coming in a later version (t isn't available yet)"
            }
        }
    }
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
            Action::Back => "close contacts, dismiss the message",
            Action::Contacts => "show the customer's contacts (people)",
            Action::Refresh => "refresh customers and timeline",
            Action::Copy => "copy the note's text",
            Action::OpenInBrowser => "open the customer in the browser",
            Action::Help => "this help",
            Action::Quit => "quit",
            Action::SwitchAccount(_) => "switch account",
            Action::NotYet(_) => "not available yet",
        }
    }

    /// Only built features are listed in help; planned keys just explain themselves.
    pub fn in_help(self) -> bool {
        !matches!(self, Action::NotYet(_))
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
    bind(Chord::ch('n'), Action::NotYet(Planned::NewNote)),
    bind(Chord::ch('c'), Action::NotYet(Planned::LogCall)),
    bind(Chord::ch('C'), Action::NotYet(Planned::Stopwatch)),
    bind(Chord::ch('e'), Action::NotYet(Planned::Edit)),
    bind(Chord::ch('d'), Action::NotYet(Planned::Delete)),
    bind(Chord::ch('/'), Action::NotYet(Planned::Filter)),
    bind(Chord::ch('a'), Action::NotYet(Planned::Author)),
    bind(Chord::ch('t'), Action::NotYet(Planned::KindFilter)),
];

/// The action bound to a key event, if any. Key releases are ignored (Windows reports them).
pub fn action_for(key: &KeyEvent) -> Option<Action> {
    if key.kind == KeyEventKind::Release || key.modifiers.contains(KeyModifiers::ALT) {
        return None;
    }
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    // Some terminals (kitty protocol) report Shift-g as `g` + SHIFT rather than `G`.
    let code = match key.code {
        KeyCode::Char(c) if key.modifiers.contains(KeyModifiers::SHIFT) && !ctrl => {
            KeyCode::Char(c.to_ascii_uppercase())
        }
        other => other,
    };
    KEYMAP
        .iter()
        .find(|b| b.chord.code == code && b.chord.ctrl == ctrl)
        .map(|b| b.action)
}

/// The label of the first key bound to `action` (for the status-line hints).
pub fn first_key(action: Action) -> Option<String> {
    KEYMAP
        .iter()
        .find(|b| b.action == action)
        .map(|b| b.chord.label())
}

/// One row of the help overlay: the keys and what they do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HelpRow {
    pub keys: String,
    pub description: &'static str,
}

/// The help overlay's rows, built from `KEYMAP`: bindings with the same description are merged,
/// and a run of digit keys is written as a range ("1–9").
pub fn help_rows() -> Vec<HelpRow> {
    let mut groups: Vec<(&'static str, Vec<Chord>)> = Vec::new();
    for binding in KEYMAP.iter().filter(|b| b.action.in_help()) {
        let description = binding.action.description();
        match groups.iter_mut().find(|(d, _)| *d == description) {
            Some((_, chords)) => chords.push(binding.chord),
            None => groups.push((description, vec![binding.chord])),
        }
    }
    groups
        .into_iter()
        .map(|(description, chords)| HelpRow {
            keys: keys_label(&chords),
            description,
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
    fn ctrl_c_quits_but_plain_c_is_the_planned_call_key() {
        assert_eq!(
            action_for(&key(KeyCode::Char('c'), KeyModifiers::CONTROL)),
            Some(Action::Quit)
        );
        assert_eq!(
            action_for(&key(KeyCode::Char('c'), KeyModifiers::NONE)),
            Some(Action::NotYet(Planned::LogCall))
        );
    }

    #[test]
    fn key_releases_do_nothing() {
        let mut release = key(KeyCode::Char('q'), KeyModifiers::NONE);
        release.kind = KeyEventKind::Release;
        assert_eq!(action_for(&release), None);
    }

    #[test]
    fn help_lists_every_built_action_and_hides_planned_ones() {
        let rows = help_rows();
        for binding in KEYMAP {
            let listed = rows
                .iter()
                .any(|r| r.description == binding.action.description());
            assert_eq!(listed, binding.action.in_help(), "{binding:?}");
        }
        let quit = rows.iter().find(|r| r.description == "quit");
        assert_eq!(quit.map(|r| r.keys.as_str()), Some("q Ctrl-C"));
        let accounts = rows.iter().find(|r| r.description == "switch account");
        assert_eq!(accounts.map(|r| r.keys.as_str()), Some("1–9"));
    }
}
