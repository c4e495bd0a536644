//! The Note pane: the selected note in full (header, then the text wrapped to the pane), or
//! the selected customer's contacts. `content_height` lets `App` clamp the scroll to what
//! `draw` will show, using the same wrapping.

use jiff::tz::TimeZone;
use ratatui::Frame;
use ratatui::style::Style;
use ratatui::symbols::border;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

use crate::app::note::ContactList;
use crate::app::writes::{EntryMark, LocalWrite};
use crate::app::{App, Pane};
use crate::model::Note;
use crate::store::WriteOp;
use crate::ui::timeline::{kind_label, kind_style};
use crate::ui::{Areas, char_width, fit, layout, text_width, theme};

/// The Note pane's top border doubles as the line under the Timeline pane.
const JOINED_TOP: border::Set = border::Set {
    top_left: "├",
    top_right: "┤",
    ..border::PLAIN
};

pub fn draw(app: &App, frame: &mut Frame, areas: &Areas) {
    if let Some(editor) = app.editor().filter(|e| e.account == app.active_account()) {
        // The editor has the keyboard, so its pane always looks focused.
        let block = Block::bordered()
            .border_set(JOINED_TOP)
            .title(crate::ui::editor::title(editor))
            .title_style(theme::title(true))
            .border_style(theme::border(true));
        frame.render_widget(block, areas.note);
        crate::ui::editor::draw(app, editor, frame, areas.note_body());
        return;
    }
    let focused = app.focus == Pane::Note;
    let title = match app.view() {
        Some(view) if view.note.show_contacts => match view.customers.selected() {
            Some(customer) => format!(" Contacts · {} ", fit(&customer.name, 40)),
            None => " Contacts ".to_string(),
        },
        _ => " Note ".to_string(),
    };
    let block = Block::bordered()
        .border_set(JOINED_TOP)
        .title(title)
        .title_style(theme::title(focused))
        .border_style(theme::border(focused));
    frame.render_widget(block, areas.note);
    let body = areas.note_body();
    let lines = content(app, body.width);
    let rows = usize::from(body.height);
    let scroll = app
        .view()
        .map_or(0, |v| v.note.scroll)
        .min(lines.len().saturating_sub(rows));
    let visible: Vec<Line> = lines.into_iter().skip(scroll).take(rows).collect();
    frame.render_widget(Paragraph::new(visible), body);
}

/// How many lines the Note pane's content takes at the current terminal size.
pub fn content_height(app: &App) -> usize {
    content(app, layout(app.size).note_body().width).len()
}

/// Everything the pane would show, wrapped to `width`.
fn content(app: &App, width: u16) -> Vec<Line<'static>> {
    let width = usize::from(width);
    let mut out = Vec::new();
    let Some(view) = app.view() else {
        return out;
    };
    if view.note.show_contacts {
        let Some(customer) = view.customers.selected() else {
            return out;
        };
        match view.note.contacts.get(&customer.id) {
            Some(list) => contact_lines(list, &customer.name, width, &mut out),
            None => push_wrapped(&mut out, "Loading contacts…", theme::dim(), width),
        }
    } else if let Some(note) = view.timeline.selected() {
        if let Some(write) = view.writes.about(&note.id) {
            let provider = app
                .account()
                .map_or("the server", |a| a.provider.display_name());
            let (text, style) = write_state(write, provider);
            push_wrapped(&mut out, &text, style, width);
        }
        note_lines(note, &app.tz, width, &mut out);
    }
    out
}

/// The line above a note that a write is about: where that write is.
fn write_state(write: &LocalWrite, provider: &str) -> (String, Style) {
    let error = write.error().unwrap_or("no answer yet");
    match write.mark() {
        EntryMark::Sending => (format!("⋯ Sending to {provider}…"), theme::info()),
        EntryMark::Saving => (format!("⋯ Saving the change on {provider}…"), theme::info()),
        EntryMark::Deleting => (format!("⋯ Deleting on {provider}…"), theme::info()),
        EntryMark::Unsent => (
            format!("⚠ Not sent yet: saved here and retried on its own (r retries now). {error}"),
            theme::info(),
        ),
        EntryMark::Refused if matches!(write.op, WriteOp::Delete { .. }) => (
            format!("✗ {provider} refused to delete it: {error}"),
            theme::error(),
        ),
        EntryMark::Refused => (
            format!("✗ {provider} refused it: {error} — e reopens it in the editor"),
            theme::error(),
        ),
    }
}

fn note_lines(note: &Note, tz: &TimeZone, width: usize, out: &mut Vec<Line<'static>>) {
    let when = note
        .created_at
        .to_zoned(tz.clone())
        .strftime("%a %Y-%m-%d %H:%M %Z")
        .to_string();
    let kind = kind_label(note);
    if text_width(&when) + 2 + text_width(&kind) <= width {
        out.push(Line::from(vec![
            Span::styled(when, theme::strong()),
            Span::raw("  "),
            Span::styled(kind, kind_style(note)),
        ]));
    } else {
        push_wrapped(out, &when, theme::strong(), width);
        push_wrapped(out, &kind, kind_style(note), width);
    }
    let author = match (note.author_name.as_deref(), note.author_email.as_deref()) {
        (Some(name), Some(email)) if !name.is_empty() && !email.is_empty() => {
            format!("{name} <{email}>")
        }
        _ => note.author_label().to_string(),
    };
    push_wrapped(out, &author, Style::new(), width);
    if let Some(subject) = note.subject.as_deref().filter(|s| !s.trim().is_empty()) {
        push_wrapped(out, &format!("Subject: {subject}"), theme::strong(), width);
    }
    // An edit within a minute of writing is the same sitting, not worth a line.
    if let Some(updated) = note.updated_at {
        if updated.as_second() - note.created_at.as_second() > 60 {
            let edited = updated
                .to_zoned(tz.clone())
                .strftime("edited %Y-%m-%d %H:%M")
                .to_string();
            push_wrapped(out, &edited, theme::dim(), width);
        }
    }
    out.push(Line::default());
    push_wrapped(out, &note.text, Style::new(), width);
}

fn contact_lines(list: &ContactList, customer: &str, width: usize, out: &mut Vec<Line<'static>>) {
    if list.items.is_empty() {
        let text = if list.done {
            format!("No contacts for {customer}")
        } else {
            "Loading contacts…".to_string()
        };
        push_wrapped(out, &text, theme::dim(), width);
        return;
    }
    for (i, contact) in list.items.iter().enumerate() {
        if i > 0 {
            out.push(Line::default());
        }
        let name = match contact.title.as_deref().filter(|t| !t.is_empty()) {
            Some(title) => format!("{} — {title}", contact.full_name()),
            None => contact.full_name(),
        };
        push_wrapped(out, &name, theme::strong(), width);
        let fields = [
            ("email", &contact.email),
            ("phone", &contact.phone),
            ("LinkedIn", &contact.linked_in),
            ("Twitter", &contact.twitter),
            ("notes", &contact.notes),
        ];
        for (label, value) in fields {
            if let Some(value) = value.as_deref().filter(|v| !v.trim().is_empty()) {
                push_wrapped(out, &format!("  {label}: {value}"), Style::new(), width);
            }
        }
    }
}

/// Appends `text` word-wrapped to `width`, every line in `style`.
fn push_wrapped(out: &mut Vec<Line<'static>>, text: &str, style: Style, width: usize) {
    for line in wrap(text, width) {
        out.push(Line::styled(line, style));
    }
}

/// Greedy word wrap by display width. Leading indentation is kept (lists stay lists); a word
/// longer than the line is broken; control characters are dropped.
pub(crate) fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut out = Vec::new();
    if width == 0 {
        return out;
    }
    for source in text.split('\n') {
        wrap_line(source, width, &mut out);
    }
    out
}

fn wrap_line(line: &str, width: usize, out: &mut Vec<String>) {
    let mut current = String::new();
    let mut used = 0;
    let mut pushed = false;
    for word in line.split_inclusive(' ') {
        let word_w: usize = word.chars().map(char_width).sum();
        let bare_w = word_w - (word.len() - word.trim_end_matches(' ').len());
        if used + bare_w <= width {
            current.extend(word.chars().filter(|c| !c.is_control()));
            used += word_w;
            continue;
        }
        if used > 0 {
            out.push(current.trim_end().to_string());
            pushed = true;
            current.clear();
            used = 0;
        }
        for c in word.chars().filter(|c| !c.is_control()) {
            let w = char_width(c);
            if used + w > width && c == ' ' {
                // A space at the break would start the next line indented; drop it.
                continue;
            }
            if used + w > width && used > 0 {
                out.push(current.trim_end().to_string());
                pushed = true;
                current.clear();
                used = 0;
            }
            current.push(c);
            used += w;
        }
    }
    if !current.is_empty() || !pushed {
        out.push(current.trim_end().to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::wrap;

    #[test]
    fn words_wrap_at_the_width_without_trailing_spaces() {
        assert_eq!(
            wrap("the quick brown fox", 10),
            vec!["the quick", "brown fox"]
        );
    }

    #[test]
    fn indentation_and_blank_lines_are_kept() {
        assert_eq!(wrap("  * a\n\nb", 10), vec!["  * a", "", "b"]);
    }

    #[test]
    fn a_word_longer_than_the_line_is_broken() {
        assert_eq!(wrap("abcdefghij", 4), vec!["abcd", "efgh", "ij"]);
    }

    #[test]
    fn wide_characters_count_double() {
        assert_eq!(wrap("日本語テキスト", 6), vec!["日本語", "テキス", "ト"]);
    }

    #[test]
    fn zero_width_yields_nothing_rather_than_looping() {
        assert!(wrap("text", 0).is_empty());
    }
}
