//! The message composer, drawn in the Note pane: the note and its thread on top (scrolled to
//! the newest message, the one being answered), then a rule saying how to send, the last
//! failure if there was one, and the text being written. Drawing only.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::app::App;
use crate::app::composer::Composer;
use crate::ui::{fit, text_width, theme};

/// At least this many lines for the text, however short the pane.
const MIN_TEXT_H: u16 = 3;

/// The Note pane's title while the composer is open: " Message · Renewal: annual plan ".
pub fn title(composer: &Composer) -> String {
    format!(" Message · {} ", fit(&composer.note_title, 40))
}

pub fn draw(app: &App, composer: &Composer, frame: &mut Frame, body: Rect) {
    if body.width == 0 || body.height == 0 {
        return;
    }
    let error_h = u16::from(composer.error.is_some());
    // Half the pane for writing (the rule, the error and the text), the rest for the thread.
    let below = (body.height / 2)
        .max(1 + error_h + MIN_TEXT_H)
        .min(body.height);
    let above = body.height - below;
    let width = usize::from(body.width);

    let lines = crate::ui::note::content(app, body.width);
    let skip = lines.len().saturating_sub(usize::from(above));
    let thread: Vec<Line> = lines.into_iter().skip(skip).collect();
    let top = Rect::new(body.x, body.y, body.width, above);
    frame.render_widget(Paragraph::new(thread), top);

    let mut y = body.y + above;
    let bottom = body.y + body.height;
    let label = "─ new message · Ctrl-S sends · Esc keeps it for later ";
    let rule = "─".repeat(width.saturating_sub(text_width(label)));
    let line = Line::styled(fit(&format!("{label}{rule}"), width), theme::dim());
    frame.render_widget(Paragraph::new(line), Rect::new(body.x, y, body.width, 1));
    y += 1;
    if let Some(error) = &composer.error {
        if y < bottom {
            let text = fit(&format!("✗ Not sent: {error}"), width);
            let span = Span::styled(text, theme::error());
            frame.render_widget(Paragraph::new(span), Rect::new(body.x, y, body.width, 1));
            y += 1;
        }
    }
    if y < bottom {
        frame.render_widget(&composer.text, Rect::new(body.x, y, body.width, bottom - y));
    }
}
