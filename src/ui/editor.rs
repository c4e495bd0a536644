//! The editor, drawn in the Note pane: one row per field (label, then the field), its error
//! under it, the text taking the rows left, and a last line saying what saving will send.
//! Drawing only: what is valid is `Editor::check`'s answer, computed again for each frame.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::app::App;
use crate::app::editor::{Check, Editor, Field, Target, when_input};
use crate::model::NoteKind;
use crate::ui::note::wrap;
use crate::ui::{fit, text_width, theme};

/// Columns for the labels: "Duration" and a gap.
const LABEL_W: u16 = 10;

/// At most this many lines of a server's refusal; the status line has it whole too.
const SERVER_ERROR_LINES: usize = 2;

/// The Note pane's title while the editor is open: " New call · Acme Corp ".
pub fn title(editor: &Editor) -> String {
    let what = match (editor.is_edit(), &editor.kind) {
        (false, NoteKind::Call) => "New call",
        (false, _) => "New note",
        (true, NoteKind::Call) => "Edit call",
        (true, _) => "Edit note",
    };
    format!(" {what} · {} ", fit(&editor.customer_name, 40))
}

/// One row of the editor, top to bottom.
enum Row<'a> {
    ServerError(String),
    Field(Field),
    Error(&'a str),
    Summary,
}

pub fn draw(app: &App, editor: &Editor, frame: &mut Frame, body: Rect) {
    if body.width == 0 || body.height == 0 {
        return;
    }
    let check = editor.check(app.now, &app.tz);
    let rows = plan(app, editor, &check, usize::from(body.width));
    // Text takes what the other rows leave, at least one line.
    let fixed = u16::try_from(rows.len().saturating_sub(1)).unwrap_or(u16::MAX);
    let text_h = body.height.saturating_sub(fixed).max(1);
    let bottom = body.y.saturating_add(body.height);
    let mut y = body.y;
    for row in &rows {
        if y >= bottom {
            break;
        }
        let wanted = match row {
            Row::Field(Field::Text) => text_h,
            _ => 1,
        };
        let height = wanted.min(bottom - y);
        let line = Rect::new(body.x, y, body.width, height);
        draw_row(app, editor, &check, row, frame, line);
        y = y.saturating_add(height);
    }
}

fn plan<'c>(app: &App, editor: &Editor, check: &'c Check, width: usize) -> Vec<Row<'c>> {
    let mut rows = Vec::new();
    if let Some(error) = &editor.server_error {
        let provider = app
            .accounts
            .get(editor.account)
            .map_or("The server", |a| a.provider.display_name());
        let text = format!("✗ {provider} refused it: {error}");
        rows.extend(
            wrap(&text, width)
                .into_iter()
                .take(SERVER_ERROR_LINES)
                .map(Row::ServerError),
        );
    }
    for field in Field::ORDER.into_iter().filter(|f| editor.shows(*f)) {
        rows.push(Row::Field(field));
        if let Some(error) = editor.shown_error(field, check) {
            rows.push(Row::Error(error));
        }
    }
    rows.push(Row::Summary);
    rows
}

fn draw_row(app: &App, editor: &Editor, check: &Check, row: &Row, frame: &mut Frame, area: Rect) {
    let width = usize::from(area.width);
    let label_w = LABEL_W.min(area.width);
    let value = Rect::new(area.x + label_w, area.y, area.width - label_w, area.height);
    match row {
        Row::ServerError(line) => {
            let text = fit(line, width);
            frame.render_widget(Paragraph::new(Span::styled(text, theme::error())), area);
        }
        Row::Field(field) => {
            let focused = editor.focus == *field;
            let style = if focused { theme::key() } else { theme::dim() };
            let label = fit(field.label(), usize::from(label_w));
            frame.render_widget(Paragraph::new(Span::styled(label, style)), area);
            match (editor.area(*field), editor.time_set_by) {
                // The provider dates notes itself: nothing to type, so no field to type in.
                (Some(_), Some(provider)) if *field == Field::When => {
                    let text = match &editor.target {
                        Target::Edit(note) => format!(
                            "{} · set by {provider}",
                            when_input(note.created_at, &app.tz)
                        ),
                        Target::New => format!("set by {provider} when saved"),
                    };
                    let text = fit(&text, usize::from(value.width));
                    frame.render_widget(Paragraph::new(Span::styled(text, theme::dim())), value);
                }
                (Some(text_area), _) => frame.render_widget(text_area, value),
                (None, _) => {
                    // The choices are drawn as chips (` note `): start one column early so
                    // their words line up with the other fields' values.
                    let chips = Rect {
                        x: value.x.saturating_sub(1).max(area.x),
                        width: value.width.saturating_add(1).min(area.width),
                        ..value
                    };
                    let kinds = kind_choice(editor, focused, usize::from(chips.width));
                    frame.render_widget(Paragraph::new(kinds), chips);
                }
            }
        }
        Row::Error(error) => {
            let text = fit(&format!("✗ {error}"), usize::from(value.width));
            frame.render_widget(Paragraph::new(Span::styled(text, theme::error())), value);
        }
        Row::Summary => {
            let label = fit("Sends", usize::from(label_w));
            let summary = editor.summary(check, app.now, &app.tz);
            let line = Line::from(vec![
                Span::styled(
                    format!("{label:<w$}", w = usize::from(label_w)),
                    theme::dim(),
                ),
                Span::styled(fit(&summary, usize::from(value.width)), theme::strong()),
            ]);
            frame.render_widget(Paragraph::new(line), area);
        }
    }
}

/// ` note   call ` with the chosen one highlighted, and how to switch when focused.
fn kind_choice(editor: &Editor, focused: bool, width: usize) -> Line<'static> {
    let mut spans = Vec::new();
    let choices: &[NoteKind] = if editor.can_call {
        &[NoteKind::Note, NoteKind::Call]
    } else {
        &[NoteKind::Note]
    };
    for kind in choices {
        let label = format!(" {} ", kind.as_str());
        if *kind == editor.kind {
            spans.push(Span::styled(label, theme::selected(focused)));
        } else {
            spans.push(Span::styled(label, theme::dim()));
        }
        spans.push(Span::raw(" "));
    }
    if focused && editor.can_call {
        spans.push(Span::styled("Space switches", theme::dim()));
    }
    // Cut from the right so the choice itself always shows.
    let mut used = 0;
    spans
        .into_iter()
        .take_while(|s| {
            used += text_width(&s.content);
            used <= width
        })
        .collect::<Vec<_>>()
        .into()
}
