//! The status line: key hints (or a y/n question, or the latest message, errors in red) on
//! the left; on the right a running call stopwatch, unsent notes and what is loading.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::app::App;
use crate::app::editor::Field;
use crate::app::keys::{Action, EditorAction, first_editor_key, first_key};
use crate::ui::{fit, text_width, theme};

const SPINNER: [&str; 10] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

/// The hints in display order, each with its rank: a narrow terminal keeps the lowest ranks.
const HINTS: &[(Action, &str, u8)] = &[
    (Action::Down, "move", 0),
    (Action::NextPane, "pane", 1),
    (Action::Open, "open", 2),
    (Action::Filter, "filter", 5),
    (Action::NewNote, "note", 6),
    (Action::LogCall, "log call", 7),
    (Action::Author, "author", 8),
    (Action::KindFilter, "type", 9),
    (Action::Edit, "edit", 10),
    (Action::Delete, "delete", 11),
    (Action::AddMessage, "message", 12),
    (Action::Contacts, "contacts", 13),
    (Action::Refresh, "refresh", 14),
    (Action::Copy, "copy", 15),
    (Action::OpenInBrowser, "web", 16),
    (Action::Help, "help", 3),
    (Action::Quit, "quit", 4),
];

/// The message composer's hints, same scheme.
const COMPOSER_HINTS: &[(EditorAction, &str, u8)] = &[
    (EditorAction::Save, "send", 0),
    (EditorAction::Close, "close (text kept)", 1),
];

/// The editor's hints, same scheme.
const EDITOR_HINTS: &[(EditorAction, &str, u8)] = &[
    (EditorAction::Save, "save", 0),
    (EditorAction::Close, "close (draft kept)", 1),
    (EditorAction::NextField, "next field", 2),
    (EditorAction::ToggleType, "note/call", 3),
    (EditorAction::Discard, "discard", 4),
];

const HINT_GAP: usize = 2;

/// Widest a customer's name gets next to the stopwatch.
const STOPWATCH_NAME_W: usize = 24;

pub fn draw(app: &App, frame: &mut Frame, area: Rect) {
    let progress = progress(app);
    let right_w = text_width(&progress);
    let left_w = usize::from(area.width).saturating_sub(right_w + 3);
    let mut spans = vec![Span::raw(" ")];
    match &app.status {
        // A question waits for its answer, whatever message came since.
        _ if app.confirm().is_some() => {
            let prompt = app.confirm().map_or("", |c| c.prompt());
            spans.push(Span::styled(fit(prompt, left_w), theme::question()));
        }
        Some(message) => {
            let style = if message.error {
                theme::error()
            } else {
                theme::info()
            };
            // An error says when it happened: it stays until dismissed, possibly for long.
            let text = match message.at.filter(|_| message.error) {
                Some(at) => format!("{} {}", short_clock(at, &app.tz), message.text),
                None => message.text.clone(),
            };
            spans.push(Span::styled(fit(&text, left_w), style));
        }
        None => spans.extend(hints(app, left_w)),
    }
    let used: usize = spans.iter().map(|s| text_width(&s.content)).sum();
    let gap = usize::from(area.width).saturating_sub(used + right_w + 1);
    if !progress.is_empty() && gap > 0 {
        spans.push(Span::raw(" ".repeat(gap)));
        spans.push(Span::styled(progress, theme::info()));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// `j/k move  Tab pane  …`: the best-ranked hints that fit in `width`, in display order;
/// only the keys the account can use (contacts, writing). In the editor, the editor's keys.
fn hints(app: &App, width: usize) -> Vec<Span<'static>> {
    let mut candidates: Vec<(u8, usize, String, &str)> = match app.editor() {
        Some(editor) => EDITOR_HINTS
            .iter()
            .enumerate()
            .filter(|(_, (action, _, _))| {
                *action != EditorAction::ToggleType
                    || (editor.focus == Field::Type && editor.can_call)
            })
            .filter_map(|(order, (action, word, rank))| {
                Some((*rank, order, first_editor_key(*action)?, *word))
            })
            .collect(),
        None if app.composer().is_some() => COMPOSER_HINTS
            .iter()
            .enumerate()
            .filter_map(|(order, (action, word, rank))| {
                Some((*rank, order, first_editor_key(*action)?, *word))
            })
            .collect(),
        None => {
            let caps = app.account().map(|a| a.capabilities).unwrap_or_default();
            HINTS
                .iter()
                .enumerate()
                .filter(|(_, (action, _, _))| match action {
                    Action::Contacts => caps.contacts,
                    Action::NewNote => caps.create_notes,
                    Action::LogCall => caps.create_notes && caps.log_calls,
                    Action::Edit => caps.edit,
                    Action::Delete => caps.delete,
                    Action::AddMessage => caps.messages,
                    _ => true,
                })
                .filter_map(|(order, (action, word, rank))| {
                    let key = first_key(*action)?;
                    let key = if *action == Action::Down {
                        format!("{key}/{}", first_key(Action::Up).unwrap_or_default())
                    } else {
                        key
                    };
                    Some((*rank, order, key, *word))
                })
                .collect()
        }
    };
    candidates.sort_by_key(|(rank, ..)| *rank);
    let mut used = 0;
    let mut chosen = Vec::new();
    for (_, order, key, word) in candidates {
        let w =
            text_width(&key) + 1 + text_width(word) + if chosen.is_empty() { 0 } else { HINT_GAP };
        if used + w > width {
            break;
        }
        used += w;
        chosen.push((order, key, word));
    }
    chosen.sort_by_key(|(order, ..)| *order);
    let mut spans = Vec::new();
    for (i, (_, key, word)) in chosen.into_iter().enumerate() {
        if i > 0 {
            spans.push(Span::raw(" ".repeat(HINT_GAP)));
        }
        spans.push(Span::styled(key, theme::key()));
        spans.push(Span::styled(format!(" {word}"), theme::dim()));
    }
    spans
}

fn short_clock(at: jiff::Timestamp, tz: &jiff::tz::TimeZone) -> String {
    at.to_zoned(tz.clone()).strftime("%H:%M").to_string()
}

/// The right side: a running call (`☎ Acme Corp 04:12`), unsent and refused notes, and
/// what is loading for the active account (`⟳ 3 pages`, `⠹ loading timeline…`).
fn progress(app: &App) -> String {
    let mut parts = Vec::new();
    if let Some(stopwatch) = app.stopwatch() {
        parts.push(format!(
            "☎ {} {}",
            fit(&stopwatch.customer_name, STOPWATCH_NAME_W),
            stopwatch.clock(app.now)
        ));
    }
    let Some(view) = app.view() else {
        return parts.join("  ");
    };
    match view.writes.unsent() {
        0 => {}
        n => parts.push(format!("{n} unsent · r retries")),
    }
    match view.writes.refused() {
        0 => {}
        n => parts.push(format!("{n} refused · e reopens")),
    }
    let spinner = SPINNER
        .get((app.tick % SPINNER.len() as u64) as usize)
        .copied()
        .unwrap_or("⟳");
    if view.customers.loading {
        parts.push(match view.customers.pages {
            0 => "⟳ loading customers…".to_string(),
            1 => "⟳ 1 page".to_string(),
            n => format!("⟳ {n} pages"),
        });
    }
    if view.timeline.loading {
        parts.push(format!("{spinner} loading timeline…"));
    }
    if view.note.show_contacts && view.note.pending.is_some() {
        parts.push(format!("{spinner} loading contacts…"));
    }
    let loading = view.customers.loading || view.timeline.loading;
    let updated = view
        .sync
        .updated
        .zip(app.now)
        .map(|(at, now)| format!("updated {}", ago(at, now)));
    match (view.sync.offline, loading, updated) {
        (true, _, Some(updated)) => parts.push(format!("⚠ offline · {updated}")),
        (true, _, None) => parts.push("⚠ offline".to_string()),
        (false, true, _) => parts.push("refreshing".to_string()),
        (false, false, Some(updated)) => parts.push(updated),
        (false, false, None) => {}
    }
    parts.join("  ")
}

/// `just now`, `3m ago`, `2h ago`, `5d ago`: how old the data on screen is.
pub(crate) fn ago(at: jiff::Timestamp, now: jiff::Timestamp) -> String {
    let seconds = now.as_second().saturating_sub(at.as_second()).max(0);
    match seconds {
        0..60 => "just now".to_string(),
        60..3600 => format!("{}m ago", seconds / 60),
        3600..86_400 => format!("{}h ago", seconds / 3600),
        _ => format!("{}d ago", seconds / 86_400),
    }
}
