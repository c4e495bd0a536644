//! The Customers pane: one row per customer (name, status, company or email). Only the rows
//! on screen are built, so the pane costs the same for ten customers or ten thousand.

use ratatui::Frame;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

use crate::app::timeline::ALL_CUSTOMERS;
use crate::app::{App, Pane};
use crate::model::Customer;
use crate::ui::{Areas, fit, fit_pad, row_between_borders, theme, thousands};

/// Width of the status column ("Cancelled").
const STATUS_W: usize = 9;
const MARKER_W: usize = 2;

pub fn draw(app: &App, frame: &mut Frame, areas: &Areas) {
    let focused = app.focus == Pane::Customers;
    let list = app.view().map(|v| &v.customers);
    let count = list.map_or(0, |l| l.items.len());
    let title = match list.filter(|l| !l.query().is_empty()) {
        Some(l) => format!(
            " Customers ({} of {}) · {} ",
            thousands(l.shown_count()),
            thousands(count),
            fit(l.query(), 24)
        ),
        None => format!(" Customers ({}) ", thousands(count)),
    };
    let block = Block::bordered()
        .title(title)
        .title_style(theme::title(focused))
        .border_style(theme::border(focused));
    frame.render_widget(block, areas.customers);
    let inner = areas.customers_list();
    let Some(list) = list else {
        return;
    };
    if list.items.is_empty() {
        let text = if list.loading {
            "Loading…"
        } else {
            "No customers"
        };
        frame.render_widget(Paragraph::new(Span::styled(text, theme::dim())), inner);
        return;
    }
    let rows = usize::from(inner.height);
    let len = list.rows();
    let window = list.cursor.window(len, rows);
    let start = window.start;
    let selected = list.cursor.selected;
    let width = usize::from(inner.width);
    let lines: Vec<Line> = window
        .map(|r| match list.customer_at(r) {
            Some(c) => row(c, r == selected, width),
            None => all_row(r == selected, width),
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), inner);
    if let Some(offset) = selected.checked_sub(start).filter(|o| *o < rows) {
        let y = inner.y + u16::try_from(offset).unwrap_or(0);
        let line = row_between_borders(areas.customers, y, 1);
        frame.buffer_mut().set_style(line, theme::selected(focused));
    }
}

/// The account-wide feed's row, above the customers.
fn all_row(selected: bool, width: usize) -> Line<'static> {
    let marker = if selected { "> " } else { "  " };
    Line::from(vec![
        Span::raw(marker),
        Span::styled(
            fit(ALL_CUSTOMERS, width.saturating_sub(MARKER_W)),
            theme::strong(),
        ),
    ])
}

/// One customer row. The status column appears from 20 columns on, company or email once
/// the name has room to spare.
fn row(customer: &Customer, selected: bool, width: usize) -> Line<'static> {
    let marker = if selected { "> " } else { "  " };
    let status_w = if width >= MARKER_W + 8 + 1 + STATUS_W {
        STATUS_W
    } else {
        0
    };
    let rest = width.saturating_sub(MARKER_W + if status_w > 0 { status_w + 1 } else { 0 });
    let (name_w, company_w) = if rest >= 24 {
        let name_w = rest * 11 / 20;
        (name_w, rest - name_w - 1)
    } else {
        (rest, 0)
    };
    let name = if customer.name.is_empty() {
        "(no name)"
    } else {
        &customer.name
    };
    let mut spans = vec![Span::raw(marker), Span::raw(fit_pad(name, name_w))];
    if status_w > 0 {
        let status = customer.status.as_deref().unwrap_or("");
        spans.push(Span::raw(" "));
        spans.push(Span::styled(
            fit_pad(status, status_w),
            theme::customer_status(status),
        ));
    }
    if company_w > 0 {
        spans.push(Span::raw(" "));
        spans.push(Span::styled(
            fit_pad(customer.company_or_email().unwrap_or(""), company_w),
            theme::dim(),
        ));
    }
    Line::from(spans)
}
