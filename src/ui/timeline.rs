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

/// A confidential note (Peoplevine).
pub(crate) const LOCK: &str = "🔒";
/// A note with a file attached (ActivePlatform).
pub(crate) const CLIP: &str = "📎";
/// How an author that is the provider itself is shown: not a person to ask.
pub(crate) const SYSTEM_LABEL: &str = "System (automatic)";

/// Whether the note was written by the provider itself (ActivePlatform's creator
/// "System") rather than a person.
pub(crate) fn is_system(note: &Note) -> bool {
    note.author_email.is_none()
        && note
            .author_name
            .as_deref()
            .is_some_and(|n| n.trim().eq_ignore_ascii_case("system"))
}

/// The small marks between the kind and the author: priority, confidential, what the note
/// is on when that isn't the customer itself, an attachment. Only what is present.
fn marks(note: &Note) -> Vec<Span<'static>> {
    let extras = &note.extras;
    let mut marks = Vec::new();
    if extras.priority {
        marks.push(Span::styled("!", theme::priority()));
    }
    if extras.confidential {
        marks.push(Span::styled(LOCK, theme::confidential()));
    }
    let on = extras
        .original_type
        .as_deref()
        .map(|t| t.trim().to_ascii_lowercase());
    match on.as_deref() {
        None | Some("" | "account") => {}
        Some("subscription") => marks.push(Span::styled("[sub]", theme::dim())),
        Some(other) => marks.push(Span::styled(format!("[{}]", fit(other, 8)), theme::dim())),
    }
    if extras.attachment.is_some() {
        marks.push(Span::raw(CLIP));
    }
    marks
}

/// The second line of an entry: "subject — first line of the text", or whichever of them
/// there is.
fn summary(note: &Note) -> String {
    let first = note.text.lines().map(str::trim).find(|l| !l.is_empty());
    let subject = note
        .subject
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty());
    match (subject, first) {
        (Some(subject), Some(first)) if first != subject => format!("{subject} — {first}"),
        (Some(subject), _) => subject.to_string(),
        (None, Some(first)) => first.to_string(),
        (None, None) => String::new(),
    }
}

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

/// The Timeline's title: whose notes, how many (of how many, under a filter), the filter.
fn title(app: &App) -> Line<'static> {
    let Some(view) = app.view() else {
        return Line::from(" Timeline ");
    };
    let t = &view.timeline;
    if !t.is_open() {
        return Line::from(" Timeline ");
    }
    let count = if t.filtered() {
        format!("{} of {}", thousands(t.len()), thousands(t.notes.len()))
    } else {
        thousands(t.notes.len())
    };
    let mut spans = vec![Span::raw(format!(
        " Timeline · {} · {count} ",
        fit(&t.customer_name, 40)
    ))];
    let typed = view.filter.input.trim();
    if !typed.is_empty() {
        spans.push(Span::styled(
            format!("· {} ", fit(typed, 60)),
            theme::filter(),
        ));
    }
    Line::from(spans)
}

pub fn draw(app: &App, frame: &mut Frame, areas: &Areas) {
    let focused = app.focus == Pane::Timeline;
    let timeline = app.view().map(|v| &v.timeline);
    let block = Block::new()
        .borders(Borders::TOP | Borders::LEFT | Borders::RIGHT)
        .border_set(border::PLAIN)
        .title(title(app))
        .title_style(theme::title(focused))
        .border_style(theme::border(focused));
    frame.render_widget(block, areas.timeline);
    let inner = areas.timeline_list();
    let Some(timeline) = timeline.filter(|t| t.is_open()) else {
        return;
    };
    if timeline.is_empty() {
        let text = if timeline.loading && timeline.notes.is_empty() {
            "Loading…".to_string()
        } else if timeline.filtered() {
            "No notes match the filter (Esc clears it)".to_string()
        } else if timeline.all {
            "No notes or calls in this account yet".to_string()
        } else {
            format!("No notes or calls for {} yet", timeline.customer_name)
        };
        let text = fit(&text, usize::from(inner.width));
        frame.render_widget(Paragraph::new(Span::styled(text, theme::dim())), inner);
        return;
    }
    let entries = entries_fitting(inner.height);
    let window = timeline.cursor.window(timeline.len(), entries);
    let start = window.start;
    let width = usize::from(inner.width);
    let mut lines = Vec::with_capacity(window.len() * ENTRY_HEIGHT);
    let view = app.view();
    let writes = view.map(|v| &v.writes);
    for row in window {
        let Some(note) = timeline.row(row) else {
            continue;
        };
        // Only the rows on screen look their write up, and there are only a few writes.
        let mark = writes.and_then(|w| w.about(&note.id)).map(|w| w.mark());
        // On the account-wide feed each row says whose customer it is.
        let customer = if timeline.all {
            note.customer_id
                .as_deref()
                .and_then(|id| view.and_then(|v| v.customers.name_of(id)))
        } else {
            None
        };
        entry_lines(note, mark, customer, &app.tz, width, &mut lines);
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

/// `2026-11-20 14:02  ☎ call 15m  ! 🔒 Sara Lee`, then the subject and the first line of the
/// text, indented. An entry with a write under way ends its first line with the mark
/// (`⋯ sending`), which the author gives way to.
fn entry_lines(
    note: &Note,
    mark: Option<EntryMark>,
    customer: Option<&str>,
    tz: &TimeZone,
    width: usize,
    out: &mut Vec<Line<'static>>,
) {
    let when = short_time(note.created_at, tz);
    let kind = kind_label(note);
    let kind_pad = " ".repeat(KIND_W.saturating_sub(text_width(&kind)));
    let mark_w = mark.map_or(0, |m| text_width(m.label()) + 2);
    let marks = marks(note);
    let marks_w: usize = marks.iter().map(|m| text_width(&m.content) + 1).sum();
    let used = text_width(&when) + 2 + text_width(&kind) + kind_pad.len() + 2 + mark_w;
    let mut spans = vec![
        Span::styled(when, theme::dim()),
        Span::raw("  "),
        Span::styled(kind, kind_style(note)),
        Span::raw(kind_pad),
        Span::raw("  "),
    ];
    // The marks go only where they fit whole: half a lock would be a broken glyph.
    if used + marks_w < width {
        for m in marks {
            spans.push(m);
            spans.push(Span::raw(" "));
        }
    }
    let used = used + if used + marks_w < width { marks_w } else { 0 };
    let room = width.saturating_sub(used);
    let room = match customer {
        Some(name) if room > 12 => {
            let name = fit(name, (room / 2).min(30));
            let used = text_width(&name) + 3;
            spans.push(Span::styled(name, theme::strong()));
            spans.push(Span::styled(" · ", theme::dim()));
            room.saturating_sub(used)
        }
        _ => room,
    };
    if is_system(note) {
        spans.push(Span::styled(fit(SYSTEM_LABEL, room), theme::system()));
    } else {
        spans.push(Span::raw(fit(note.author_label(), room)));
    }
    if let Some(mark) = mark {
        spans.push(Span::raw("  "));
        spans.push(Span::styled(mark.label(), theme::write_mark(mark)));
    }
    out.push(Line::from(spans));
    out.push(Line::from(format!(
        "  {}",
        fit(&summary(note), width.saturating_sub(2))
    )));
}
