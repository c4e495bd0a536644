//! The filter bar (`/`), drawn over the status line while it has the keyboard: what is
//! typed, the match count or the problem with the query, and the keys that matter here.

use ratatui::Frame;
use ratatui::layout::{Position, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

use crate::app::{App, BarTarget};
use crate::ui::{fit, text_width, theme, thousands};

pub fn draw(app: &App, frame: &mut Frame, area: Rect) {
    let Some(bar) = app.filter_bar() else {
        return;
    };
    let Some(view) = app.view() else {
        return;
    };
    let (right, right_style) = match bar.target {
        BarTarget::Timeline => match &view.filter.error {
            Some(error) => (error.clone(), theme::error()),
            None => (
                format!(
                    "{} of {}  Enter keep · Esc clear · Tab author",
                    thousands(view.timeline.len()),
                    thousands(view.timeline.notes.len())
                ),
                theme::dim(),
            ),
        },
        BarTarget::Customers => (
            format!(
                "{} of {}  Enter keep · Esc clear",
                thousands(view.customers.shown_count()),
                thousands(view.customers.items.len())
            ),
            theme::dim(),
        ),
    };
    let width = usize::from(area.width);
    let prompt = " / ";
    let right = fit(&right, width / 2);
    let right_w = text_width(&right);
    let room = width
        .saturating_sub(text_width(prompt) + right_w + 2)
        .max(1);
    // Long queries scroll so the cursor stays in view.
    let text = bar.input.text();
    let cursor = bar.input.cursor();
    let skip = cursor.saturating_sub(room.saturating_sub(1));
    let shown: String = text.chars().skip(skip).collect();
    let shown = fit(&shown, room);
    let used = text_width(prompt) + text_width(&shown);
    let gap = width.saturating_sub(used + right_w + 1);
    frame.render_widget(Clear, area);
    let line = Line::from(vec![
        Span::styled(prompt, theme::key()),
        Span::raw(shown),
        Span::raw(" ".repeat(gap)),
        Span::styled(right, right_style),
    ]);
    frame.render_widget(Paragraph::new(line), area);
    let before: String = text.chars().skip(skip).take(cursor - skip).collect();
    let x = area.x as usize + text_width(prompt) + text_width(&before);
    if let Ok(x) = u16::try_from(x) {
        if x < area.x + area.width {
            frame.set_cursor_position(Position::new(x, area.y));
        }
    }
}
