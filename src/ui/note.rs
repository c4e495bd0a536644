//! The Note pane: the selected note in full (header, the provider's extras, the text wrapped
//! to the pane, the message thread), the message composer, or the selected customer's
//! contacts. `content_height` lets `App` clamp the scroll to what
//! `draw` will show, using the same wrapping.

use jiff::tz::TimeZone;
use ratatui::Frame;
use ratatui::style::Style;
use ratatui::symbols::border;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

use crate::app::filter::highlight;

use crate::app::composer::PendingMessage;
use crate::app::note::ContactList;
use crate::app::writes::{EntryMark, LocalWrite};
use crate::app::{App, Pane};
use crate::model::{Note, ProviderKind};
use crate::store::WriteOp;
use crate::ui::timeline::{
    CLIP, LOCK, SYSTEM_LABEL, is_system, kind_label, kind_style, short_time,
};
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
    if let Some(composer) = app.composer().filter(|c| c.account == app.active_account()) {
        let block = Block::bordered()
            .border_set(JOINED_TOP)
            .title(crate::ui::composer::title(composer))
            .title_style(theme::title(true))
            .border_style(theme::border(true));
        frame.render_widget(block, areas.note);
        crate::ui::composer::draw(app, composer, frame, areas.note_body());
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
pub(crate) fn content(app: &App, width: u16) -> Vec<Line<'static>> {
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
        let provider = app.account().map(|a| a.provider);
        if let Some(write) = view.writes.about(&note.id) {
            let name = provider.map_or("the server", ProviderKind::display_name);
            let (text, style) = write_state(write, name);
            push_wrapped(&mut out, &text, style, width);
        }
        let context = NoteContext {
            tz: &app.tz,
            provider,
            threads: app.account().is_some_and(|a| a.capabilities.messages),
            pending: view
                .pending_messages
                .iter()
                .filter(|m| m.note_id == note.id)
                .collect(),
            highlight: view.timeline.filter().text.as_str(),
            customer: note
                .customer_id
                .as_deref()
                .filter(|_| view.timeline.all)
                .and_then(|id| view.customers.name_of(id)),
        };
        note_lines(note, &context, width, &mut out);
    }
    out
}

/// What drawing a note needs besides the note.
struct NoteContext<'a> {
    tz: &'a TimeZone,
    provider: Option<ProviderKind>,
    /// The account's notes have message threads (so an empty one is worth a line).
    threads: bool,
    /// Messages to this note still on their way.
    pending: Vec<&'a PendingMessage>,
    /// The filter's free text, highlighted where it matches.
    highlight: &'a str,
    /// Whose note it is, on the account-wide feed.
    customer: Option<&'a str>,
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

/// The header (when, what, who), the provider's extras, the text, then the message thread.
fn note_lines(note: &Note, context: &NoteContext, width: usize, out: &mut Vec<Line<'static>>) {
    let tz = context.tz;
    let when = note
        .created_at
        .to_zoned(tz.clone())
        .strftime("%a %Y-%m-%d %H:%M %Z")
        .to_string();
    let kind = kind_label(note);
    push_spans(
        out,
        vec![
            Span::styled(when, theme::strong()),
            Span::raw("  "),
            Span::styled(kind, kind_style(note)),
        ],
        width,
    );
    if let Some(customer) = context.customer {
        push_wrapped(out, customer, theme::strong(), width);
    }
    if is_system(note) {
        push_wrapped(out, SYSTEM_LABEL, theme::system(), width);
    } else {
        let author = match (note.author_name.as_deref(), note.author_email.as_deref()) {
            (Some(name), Some(email)) if !name.is_empty() && !email.is_empty() => {
                format!("{name} <{email}>")
            }
            _ => note.author_label().to_string(),
        };
        push_wrapped(out, &author, Style::new(), width);
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
    extras_lines(note, context, width, out);
    out.push(Line::default());
    if context.highlight.trim().is_empty() {
        push_wrapped(out, &note.text, Style::new(), width);
    } else {
        push_highlighted(out, &note.text, context.highlight, width);
    }
    thread_lines(note, context, width, out);
}

/// What only some providers have, each line only when there is something to say: the
/// subject as a title, status, priority and confidentiality, tags, reminder, assignees
/// (Peoplevine); what the note is on and its attachment (ActivePlatform).
fn extras_lines(note: &Note, context: &NoteContext, width: usize, out: &mut Vec<Line<'static>>) {
    let extras = &note.extras;
    if let Some(subject) = note.subject.as_deref().filter(|s| !s.trim().is_empty()) {
        push_wrapped(out, subject.trim(), theme::strong(), width);
    }
    let mut flags = Vec::new();
    if let Some(status) = extras.status.as_deref().filter(|s| !s.trim().is_empty()) {
        flags.push(Span::styled(
            status.trim().to_string(),
            theme::note_status(status),
        ));
    }
    if extras.priority {
        flags.push(Span::styled("! priority", theme::priority()));
    }
    if extras.confidential {
        flags.push(Span::styled(
            format!("{LOCK} confidential"),
            theme::confidential(),
        ));
    }
    let flags: Vec<Span<'static>> = flags
        .into_iter()
        .enumerate()
        .flat_map(|(i, span)| [(i > 0).then(|| Span::raw("  ")), Some(span)])
        .flatten()
        .collect();
    if !flags.is_empty() {
        push_spans(out, flags, width);
    }
    let tags: Vec<String> = extras
        .tags
        .iter()
        .map(|t| t.trim())
        .filter(|t| !t.is_empty())
        .map(|t| format!("#{t}"))
        .collect();
    if !tags.is_empty() {
        push_wrapped(out, &tags.join(" "), theme::tag(), width);
    }
    if let Some(reminder) = extras.reminder.as_deref().filter(|r| !r.trim().is_empty()) {
        // A time reads in the app's time zone like every other; anything else as given.
        let when = match reminder.trim().parse::<jiff::Timestamp>() {
            Ok(at) => short_time(at, context.tz),
            Err(_) => reminder.trim().to_string(),
        };
        push_wrapped(out, &format!("reminder: {when}"), theme::info(), width);
    }
    if !extras.assignees.is_empty() {
        let names = extras.assignees.join(", ");
        push_wrapped(out, &format!("assigned: {names}"), Style::new(), width);
    }
    if let Some(on) = attached_to(note, context.provider) {
        push_wrapped(out, &on, theme::dim(), width);
    }
    if let Some(file) = &extras.attachment {
        let mut label = format!("{CLIP} {}", file.name);
        if let Some(size) = file.size {
            label.push_str(&format!(" · {}", human_size(size)));
        }
        let mut spans = vec![Span::raw(label)];
        if file.url.as_deref().is_some_and(|u| !u.trim().is_empty()) {
            spans.push(Span::styled("  o opens it", theme::dim()));
        }
        push_spans(out, spans, width);
    }
}

/// "on Subscription #1234": what an ActivePlatform note belongs to. A note without an
/// `original_type` is on the account itself, which ActivePlatform notes say; other
/// providers' notes are always on the customer and say nothing.
fn attached_to(note: &Note, provider: Option<ProviderKind>) -> Option<String> {
    let kind = note
        .extras
        .original_type
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty());
    let id = note
        .extras
        .original_id
        .as_deref()
        .map(str::trim)
        .filter(|i| !i.is_empty());
    let kind = match kind {
        Some(kind) => kind,
        None if provider == Some(ProviderKind::ActivePlatform) || id.is_some() => "Account",
        None => return None,
    };
    Some(match id {
        Some(id) => format!("on {kind} #{id}"),
        None => format!("on {kind}"),
    })
}

/// The message thread under the text, oldest first, then the messages still on their way.
fn thread_lines(note: &Note, context: &NoteContext, width: usize, out: &mut Vec<Line<'static>>) {
    let messages = &note.extras.messages;
    let count = messages.len() + context.pending.len();
    if count == 0 && !context.threads {
        return;
    }
    out.push(Line::default());
    let title = match count {
        0 => "─ no messages ".to_string(),
        1 => "─ 1 message ".to_string(),
        n => format!("─ {n} messages "),
    };
    let rule = "─".repeat(width.saturating_sub(text_width(&title)));
    out.push(Line::styled(
        fit(&format!("{title}{rule}"), width),
        theme::dim(),
    ));
    if count == 0 {
        if context.threads {
            push_wrapped(out, "m adds the first one", theme::dim(), width);
        }
        return;
    }
    for message in messages {
        let mut spans = vec![Span::styled(
            message.author.clone().unwrap_or_else(|| "—".to_string()),
            theme::strong(),
        )];
        if let Some(at) = message.created_at {
            spans.push(Span::raw("  "));
            spans.push(Span::styled(short_time(at, context.tz), theme::dim()));
        }
        push_spans(out, spans, width);
        push_indented(out, &message.text, Style::new(), width);
    }
    for pending in &context.pending {
        push_spans(
            out,
            vec![
                Span::styled("you", theme::strong()),
                Span::raw("  "),
                Span::styled("⋯ sending…", theme::info()),
            ],
            width,
        );
        push_indented(out, &pending.text, Style::new(), width);
    }
}

/// `120 KB`, `1.5 MB`: a file's size as people read it (1 KB = 1024 bytes, like file
/// managers).
pub(crate) fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KB", "MB", "GB", "TB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    let unit = UNITS.get(unit).copied().unwrap_or("TB");
    // Whole numbers from 10 up: "120 KB" says enough; "1.5 MB" needs its decimal.
    if value >= 10.0 {
        format!("{value:.0} {unit}")
    } else {
        format!("{value:.1} {unit}")
    }
}

/// The spans on one line when they fit; otherwise each span wrapped on lines of its own,
/// so nothing is cut at the pane's edge.
fn push_spans(out: &mut Vec<Line<'static>>, spans: Vec<Span<'static>>, width: usize) {
    let total: usize = spans.iter().map(|s| text_width(&s.content)).sum();
    if total <= width {
        out.push(Line::from(spans));
        return;
    }
    for span in spans.into_iter().filter(|s| !s.content.trim().is_empty()) {
        push_wrapped(out, span.content.trim(), span.style, width);
    }
}

/// `push_wrapped`, two columns in: a message's text under its author.
fn push_indented(out: &mut Vec<Line<'static>>, text: &str, style: Style, width: usize) {
    if width <= 2 {
        push_wrapped(out, text, style, width);
        return;
    }
    for line in wrap(text, width - 2) {
        out.push(Line::styled(format!("  {line}"), style));
    }
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
/// Wrapped text with what matches the filter's free text highlighted.
fn push_highlighted(out: &mut Vec<Line<'static>>, text: &str, query: &str, width: usize) {
    for line in wrap(text, width) {
        let mut spans = Vec::new();
        let mut at = 0;
        for range in highlight(query, &line) {
            let (Some(before), Some(hit)) = (line.get(at..range.start), line.get(range.clone()))
            else {
                continue;
            };
            if !before.is_empty() {
                spans.push(Span::raw(before.to_string()));
            }
            spans.push(Span::styled(hit.to_string(), theme::matched()));
            at = range.end;
        }
        if let Some(rest) = line.get(at..).filter(|r| !r.is_empty()) {
            spans.push(Span::raw(rest.to_string()));
        }
        out.push(Line::from(spans));
    }
}

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
