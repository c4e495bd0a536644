//! Colours and styles, in one place so panes look alike. Drawing code asks for a style by
//! meaning (focused border, selection, error), never picks a colour itself.

use ratatui::style::{Color, Modifier, Style};

const ACCENT: Color = Color::Cyan;

pub fn border(focused: bool) -> Style {
    if focused {
        Style::new().fg(ACCENT)
    } else {
        Style::new().fg(Color::DarkGray)
    }
}

pub fn title(focused: bool) -> Style {
    if focused {
        Style::new().fg(ACCENT).add_modifier(Modifier::BOLD)
    } else {
        Style::new()
    }
}

/// The selected row: bright where the keyboard is, muted elsewhere so the selection stays
/// visible without competing with the focused pane.
pub fn selected(focused: bool) -> Style {
    if focused {
        Style::new().bg(Color::Blue).fg(Color::White)
    } else {
        Style::new().bg(Color::DarkGray)
    }
}

pub fn dim() -> Style {
    Style::new().fg(Color::DarkGray)
}

pub fn strong() -> Style {
    Style::new().add_modifier(Modifier::BOLD)
}

pub fn error() -> Style {
    Style::new().fg(Color::Red).add_modifier(Modifier::BOLD)
}

pub fn info() -> Style {
    Style::new().fg(Color::Yellow)
}

/// A y/n question waiting in the status line: it must not look like passing information.
pub fn question() -> Style {
    Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD)
}

pub fn key() -> Style {
    Style::new().fg(ACCENT).add_modifier(Modifier::BOLD)
}

pub fn call() -> Style {
    Style::new().fg(Color::Magenta)
}

pub fn note() -> Style {
    Style::new().fg(Color::Blue)
}

pub fn active_tab() -> Style {
    Style::new()
        .fg(Color::Black)
        .bg(ACCENT)
        .add_modifier(Modifier::BOLD)
}

/// A customer's status: healthy green, at risk yellow, gone dim, prospects blue.
pub fn customer_status(status: &str) -> Style {
    match status.trim().to_ascii_lowercase().as_str() {
        "active" | "paying" | "member" => Style::new().fg(Color::Green),
        "past due" | "past_due" | "pastdue" | "overdue" | "suspended" => {
            Style::new().fg(Color::Yellow)
        }
        "cancelled" | "canceled" | "churned" | "inactive" | "closed" => dim(),
        "lead" | "new lead" | "new_lead" | "trial" | "prospect" => Style::new().fg(Color::Blue),
        _ => Style::new(),
    }
}

/// The mark of an entry whose write is under way: waiting is yellow, refused is red.
pub fn write_mark(mark: crate::app::writes::EntryMark) -> Style {
    use crate::app::writes::EntryMark;
    match mark {
        EntryMark::Sending | EntryMark::Saving | EntryMark::Deleting => info(),
        EntryMark::Unsent => Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD),
        EntryMark::Refused => error(),
    }
}

/// An author that is the provider itself (ActivePlatform's "System"): set apart from people.
pub fn system() -> Style {
    dim().add_modifier(Modifier::ITALIC)
}

/// A note marked as priority (`!`).
pub fn priority() -> Style {
    Style::new().fg(Color::Red).add_modifier(Modifier::BOLD)
}

pub fn confidential() -> Style {
    Style::new().fg(Color::Yellow)
}

pub fn tag() -> Style {
    Style::new().fg(ACCENT)
}

/// A note's own status (Peoplevine's open / closed): open needs doing, closed is done.
pub fn note_status(status: &str) -> Style {
    match status.trim().to_ascii_lowercase().as_str() {
        "open" => Style::new().fg(Color::Green).add_modifier(Modifier::BOLD),
        "closed" => dim(),
        _ => Style::new(),
    }
}

/// Text matching the filter's free text, in the Note pane.
pub fn matched() -> Style {
    Style::new()
        .fg(Color::Black)
        .bg(Color::Yellow)
        .add_modifier(Modifier::BOLD)
}

/// The filter shown in a pane's title.
pub fn filter() -> Style {
    Style::new().fg(Color::Yellow)
}
