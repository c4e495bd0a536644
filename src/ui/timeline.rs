//! The Timeline pane: two lines per note or call (when, what, who; then the text's first
//! line). Only the entries on screen are formatted, whatever the length of the timeline.

use jiff::tz::TimeZone;
use ratatui::Frame;
use ratatui::style::Style;
use ratatui::symbols::border;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use crate::app::writes::EntryMark;
use crate::app::{App, Pane};
use crate::duration::format_duration;
use crate::model::{Note, NoteKind};
use crate::ui::{Areas, fit, row_between_borders, text_width, theme, thousands};

/// Screen lines per timeline entry.
pub const ENTRY_HEIGHT: usize = 2;

/// Width of the kind column ("☎ call 15m").
const KIND_W: usize = 10;

/// How many entries a list of `height` lines shows. A single line still shows one entry's
/// first line, so a very short pane is not blank.
pub fn entries_fitting(height: u16) -> usize {
    let height = usize::from(height);
    (height / ENTRY_HEIGHT).max(height.min(1))
}

/// `☎ call 15m`, `✎ note`, or the provider's own type.
pub(crate) fn kind_label(note: &Note) -> String {
    match &note.kind {
        NoteKind::Call => match note.call_duration_s {
            Some(seconds) => format!("☎ call {}", format_duration(seconds)),
            None => "☎ call".to_string(),
        },
        NoteKind::Note => "✎ note".to_string(),
        NoteKind::Other(kind) => format!("• {kind}"),
    }
}

pub(crate) fn kind_style(note: &Note) -> Style {
    match note.kind {
        NoteKind::Call => theme::call(),
        _ => theme::note(),
    }
}

/// A time as the timeline shows it, in the app's time zone.
pub(crate) fn short_time(ts: jiff::Timestamp, tz: &TimeZone) -> String {
    ts.to_zoned(tz.clone())
        .strftime("%Y-%m-%d %H:%M")
        .to_string()
}

pub fn draw(app: &App, frame: &mut Frame, areas: &Areas) {
    let focused = app.focus == Pane::Timeline;
    let timeline = app.view().map(|v| &v.timeline);
    let title = match timeline {
        Some(t) if t.customer_id.is_some() => format!(
            " Timeline · {} · {} ",
            fit(&t.customer_name, 40),
            thousands(t.notes.len())
        ),
        _ => " Timeline ".to_string(),
    };
    let block = Block::new()
        .borders(Borders::TOP | Borders::LEFT | Borders::RIGHT)
        .border_set(border::PLAIN)
        .title(title)
        .title_style(theme::title(focused))
        .border_style(theme::border(focused));
    frame.render_widget(block, areas.timeline);
    let inner = areas.timeline_list();
    let Some(timeline) = timeline.filter(|t| t.customer_id.is_some()) else {
        return;
    };
    if timeline.notes.is_empty() {
        let text = if timeline.loading {
            "Loading…".to_string()
        } else {
            format!("No notes or calls for {} yet", timeline.customer_name)
        };
        let text = fit(&text, usize::from(inner.width));
        frame.render_widget(Paragraph::new(Span::styled(text, theme::dim())), inner);
        return;
    }
    let entries = entries_fitting(inner.height);
    let window = timeline.cursor.window(timeline.notes.len(), entries);
    let start = window.start;
    let width = usize::from(inner.width);
    let mut lines = Vec::with_capacity(window.len() * ENTRY_HEIGHT);
    let writes = app.view().map(|v| &v.writes);
    for note in timeline.notes.get(window).unwrap_or_default() {
        // Only the rows on screen look their write up, and there are only a few writes.
        let mark = writes.and_then(|w| w.about(&note.id)).map(|w| w.mark());
        entry_lines(note, mark, &app.tz, width, &mut lines);
    }
    frame.render_widget(Paragraph::new(lines), inner);
    let selected = timeline.cursor.selected;
    if let Some(offset) = selected.checked_sub(start).filter(|o| *o < entries) {
        let top = offset * ENTRY_HEIGHT;
        let height = ENTRY_HEIGHT.min(usize::from(inner.height).saturating_sub(top));
        let rect = row_between_borders(
            areas.timeline,
            inner.y + u16::try_from(top).unwrap_or(0),
            u16::try_from(height).unwrap_or(0),
        );
        frame.buffer_mut().set_style(rect, theme::selected(focused));
    }
}

/// `2026-11-20 14:02  ☎ call 15m  Sara Lee`, then the first line of the text, indented.
/// An entry with a write under way ends its first line with the mark (`⋯ sending`), which
/// the author gives way to.
fn entry_lines(
    note: &Note,
    mark: Option<EntryMark>,
    tz: &TimeZone,
    width: usize,
    out: &mut Vec<Line<'static>>,
) {
    let when = short_time(note.created_at, tz);
    let kind = kind_label(note);
    let kind_pad = " ".repeat(KIND_W.saturating_sub(text_width(&kind)));
    let mark_w = mark.map_or(0, |m| text_width(m.label()) + 2);
    let used = text_width(&when) + 2 + text_width(&kind) + kind_pad.len() + 2 + mark_w;
    let author = fit(note.author_label(), width.saturating_sub(used));
    let mut spans = vec![
        Span::styled(when, theme::dim()),
        Span::raw("  "),
        Span::styled(kind, kind_style(note)),
        Span::raw(kind_pad),
        Span::raw("  "),
        Span::raw(author),
    ];
    if let Some(mark) = mark {
        spans.push(Span::raw("  "));
        spans.push(Span::styled(mark.label(), theme::write_mark(mark)));
    }
    out.push(Line::from(spans));
    let first = note
        .text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .or(note.subject.as_deref())
        .unwrap_or("");
    out.push(Line::from(format!(
        "  {}",
        fit(first, width.saturating_sub(2))
    )));
}
