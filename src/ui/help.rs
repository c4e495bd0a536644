//! The `?` overlay: every key and what it does, generated from the keymap in `app::keys`.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};

use crate::app::App;
use crate::app::keys::help_rows;
use crate::ui::{fit, fit_pad, text_width, theme};

/// Widest the keys column gets before labels are cut.
const KEYS_MAX_W: usize = 16;

pub fn draw(app: &App, frame: &mut Frame, area: Rect) {
    let rows = help_rows();
    let keys_w = rows
        .iter()
        .map(|r| text_width(&r.keys))
        .max()
        .unwrap_or(0)
        .min(KEYS_MAX_W);
    let desc_w = rows
        .iter()
        .map(|r| text_width(r.description))
        .max()
        .unwrap_or(0);
    let want_w = u16::try_from(keys_w + 2 + desc_w + 4).unwrap_or(u16::MAX);
    let want_h = u16::try_from(rows.len() + 2).unwrap_or(u16::MAX);
    let popup = centred(area, want_w, want_h);
    let block = Block::bordered()
        .title(" Keys ")
        .title_bottom(" Esc or ? closes ")
        .title_style(theme::title(true))
        .border_style(theme::border(true));
    let inner = block.inner(popup);
    frame.render_widget(Clear, popup);
    frame.render_widget(block, popup);
    let visible = usize::from(inner.height);
    let scroll = app.help_scroll.min(rows.len().saturating_sub(visible));
    let text_w = usize::from(inner.width).saturating_sub(1);
    let lines: Vec<Line> = rows
        .iter()
        .skip(scroll)
        .take(visible)
        .map(|row| {
            if row.heading {
                return Line::from(vec![
                    Span::raw(" "),
                    Span::styled(fit(row.description, text_w), theme::strong()),
                ]);
            }
            let keys = fit_pad(&row.keys, keys_w.min(text_w));
            let desc_w = text_w.saturating_sub(keys_w + 2);
            Line::from(vec![
                Span::raw(" "),
                Span::styled(keys, theme::key()),
                Span::raw("  "),
                Span::raw(fit(row.description, desc_w)),
            ])
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), inner);
}

/// A `width`×`height` rectangle centred in `area`, shrunk to fit it.
pub(crate) fn centred(area: Rect, width: u16, height: u16) -> Rect {
    let width = width.min(area.width);
    let height = height.min(area.height);
    Rect::new(
        area.x + (area.width - width) / 2,
        area.y + (area.height - height) / 2,
        width,
        height,
    )
}
