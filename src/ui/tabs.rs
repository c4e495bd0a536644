//! The tab bar of accounts. `tab_at` hit-tests clicks with the same positions `draw` uses.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::app::{AccountTab, App};
use crate::ui::{fit, text_width, theme};

const BRAND: &str = " crm-notes ─ ";
const GAP: usize = 3;

/// Each tab's label and the columns it covers.
fn tabs(accounts: &[AccountTab]) -> Vec<(usize, String)> {
    let mut x = text_width(BRAND);
    accounts
        .iter()
        .enumerate()
        .map(|(i, account)| {
            let label = format!(
                "[{}] {} · {}",
                i + 1,
                fit(&account.name, 24),
                account.provider.display_name()
            );
            let start = x;
            x += text_width(&label) + GAP;
            (start, label)
        })
        .collect()
}

/// The account whose tab covers column `x`.
pub fn tab_at(accounts: &[AccountTab], x: u16) -> Option<usize> {
    let x = usize::from(x);
    tabs(accounts)
        .iter()
        .position(|(start, label)| x >= *start && x < start + text_width(label))
}

pub fn draw(app: &App, frame: &mut Frame, area: Rect) {
    let mut spans = vec![Span::styled(BRAND, theme::strong())];
    for (i, (_, label)) in tabs(&app.accounts).into_iter().enumerate() {
        if i > 0 {
            spans.push(Span::raw(" ".repeat(GAP)));
        }
        let style = if i == app.active {
            theme::active_tab()
        } else {
            theme::dim()
        };
        spans.push(Span::styled(label, style));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}
