//! The author picker (`a`): a box over the panes listing the timeline's authors with their
//! note counts, filtered as the agent types.

use ratatui::Frame;
use ratatui::layout::{Position, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};

use crate::app::{App, PICKER_ROWS};
use crate::ui::{fit, fit_pad, text_width, theme, thousands};

const WIDTH: u16 = 56;

pub fn draw(app: &App, frame: &mut Frame, area: Rect) {
    let Some(picker) = app.author_picker() else {
        return;
    };
    let width = WIDTH.min(area.width);
    let height = (PICKER_ROWS as u16 + 4).min(area.height);
    if width < 8 || height < 4 {
        return;
    }
    let popup = Rect::new(
        area.x + (area.width - width) / 2,
        area.y + (area.height - height) / 2,
        width,
        height,
    );
    frame.render_widget(Clear, popup);
    let block = Block::bordered()
        .title(" Author · Enter picks · Esc closes ")
        .title_style(theme::title(true))
        .border_style(theme::border(true));
    let inner = block.inner(popup);
    frame.render_widget(block, popup);
    let inner_w = usize::from(inner.width);
    let prompt = "Search: ";
    let input = fit(picker.input.text(), inner_w.saturating_sub(3));
    frame.render_widget(
        Paragraph::new(Line::from(vec![
            Span::styled(prompt, theme::dim()),
            Span::raw(input.clone()),
        ])),
        Rect::new(inner.x, inner.y, inner.width, 1),
    );
    let x = inner.x as usize + text_width(prompt) + text_width(&input);
    if let Ok(x) = u16::try_from(x) {
        frame.set_cursor_position(Position::new(x.min(inner.x + inner.width - 1), inner.y));
    }
    let list = Rect::new(
        inner.x,
        inner.y + 1,
        inner.width,
        inner.height.saturating_sub(1),
    );
    let rows = usize::from(list.height);
    let window = picker.cursor.window(picker.rows(), rows);
    let start = window.start;
    let lines: Vec<Line> = window
        .map(|row| {
            let marker = if row == picker.cursor.selected {
                "> "
            } else {
                "  "
            };
            match picker.author_at(row) {
                None => Line::from(vec![
                    Span::raw(marker),
                    Span::styled("Any author", theme::strong()),
                ]),
                Some(author) => {
                    let count = thousands(author.count);
                    let label_w = inner_w.saturating_sub(2 + text_width(&count) + 2);
                    Line::from(vec![
                        Span::raw(marker),
                        Span::raw(fit_pad(&author.label(), label_w)),
                        Span::raw(" "),
                        Span::styled(count, theme::dim()),
                        Span::raw(" "),
                    ])
                }
            }
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), list);
    if let Some(offset) = picker
        .cursor
        .selected
        .checked_sub(start)
        .filter(|o| *o < rows)
    {
        let y = list.y + u16::try_from(offset).unwrap_or(0);
        frame
            .buffer_mut()
            .set_style(Rect::new(list.x, y, list.width, 1), theme::selected(true));
    }
}
