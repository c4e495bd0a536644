//! Drawing only: `draw` renders an `App` into a frame and never changes it. `layout` is the
//! one place pane rectangles are computed; `App` hit-tests mouse clicks with it too.

pub mod composer;
pub mod customers;
pub mod editor;
pub mod filterbar;
pub mod help;
pub mod note;
pub mod picker;
pub mod statusbar;
pub mod tabs;
pub mod theme;
pub mod timeline;
pub mod welcome;

#[cfg(test)]
mod extras_tests;
#[cfg(test)]
mod filter_tests;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod writing_tests;

use ratatui::Frame;
use ratatui::layout::{Margin, Rect};
use unicode_width::UnicodeWidthChar;

use crate::app::{App, Screen};

/// Where each part of the browser goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Areas {
    pub tabs: Rect,
    pub customers: Rect,
    /// The Timeline pane with its top and side borders; its bottom edge is the Note pane's
    /// top border, which the two share.
    pub timeline: Rect,
    pub note: Rect,
    pub status: Rect,
}

impl Areas {
    /// The customer rows, inside the borders and a column of padding each side.
    pub fn customers_list(&self) -> Rect {
        self.customers.inner(Margin::new(2, 1))
    }

    /// The timeline entries, inside the top and side borders and their padding.
    pub fn timeline_list(&self) -> Rect {
        let t = self.timeline;
        if t.width < 4 || t.height < 1 {
            return Rect::new(t.x, t.y, 0, 0);
        }
        Rect::new(t.x + 2, t.y + 1, t.width - 4, t.height - 1)
    }

    /// The note's text, inside the borders and their padding.
    pub fn note_body(&self) -> Rect {
        self.note.inner(Margin::new(2, 1))
    }
}

/// Lays out the browser: tab bar on top, status line at the bottom, Customers on the left,
/// Timeline over Note on the right. Any size works, down to 0×0; the Customers pane gives up
/// width first on narrow terminals.
pub fn layout(area: Rect) -> Areas {
    let tabs_h = area.height.min(1);
    let status_h = (area.height - tabs_h).min(1);
    let body_h = area.height - tabs_h - status_h;
    let body_y = area.y + tabs_h;
    let width = u32::from(area.width);
    let customers_w = (width * 35 / 100).clamp(14, 56).min(width / 2);
    let customers_w = u16::try_from(customers_w).unwrap_or(area.width);
    let right_w = area.width - customers_w;
    let note_h = body_h / 2;
    let timeline_h = body_h - note_h;
    Areas {
        tabs: Rect::new(area.x, area.y, area.width, tabs_h),
        customers: Rect::new(area.x, body_y, customers_w, body_h),
        timeline: Rect::new(area.x + customers_w, body_y, right_w, timeline_h),
        note: Rect::new(area.x + customers_w, body_y + timeline_h, right_w, note_h),
        status: Rect::new(area.x, body_y + body_h, area.width, status_h),
    }
}

/// Draws the whole screen for `app`.
pub fn draw(app: &App, frame: &mut Frame) {
    let area = frame.area();
    match &app.screen {
        Screen::Welcome { config_path } => welcome::draw(frame, area, config_path),
        Screen::Browser => {
            let areas = layout(area);
            tabs::draw(app, frame, areas.tabs);
            customers::draw(app, frame, &areas);
            timeline::draw(app, frame, &areas);
            note::draw(app, frame, &areas);
            statusbar::draw(app, frame, areas.status);
            filterbar::draw(app, frame, areas.status);
            picker::draw(app, frame, area);
            if app.help_open {
                help::draw(app, frame, area);
            }
        }
    }
}

/// Display width of one character; control characters count as nothing (they are dropped).
fn char_width(c: char) -> usize {
    if c.is_control() {
        0
    } else {
        c.width().unwrap_or(0)
    }
}

/// Display width of a string as `fit` would draw it.
pub(crate) fn text_width(s: &str) -> usize {
    s.chars().map(char_width).sum()
}

/// `s` cut to at most `width` columns, ending in `…` when cut. Control characters are dropped
/// so nothing raw ever reaches the terminal.
pub(crate) fn fit(s: &str, width: usize) -> String {
    if width == 0 {
        return String::new();
    }
    let clean = s.chars().filter(|c| !c.is_control());
    if text_width(s) <= width {
        return clean.collect();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in clean {
        let w = char_width(c);
        if used + w > width - 1 {
            break;
        }
        out.push(c);
        used += w;
    }
    out.push('…');
    out
}

/// `fit`, then padded with spaces to exactly `width` columns.
pub(crate) fn fit_pad(s: &str, width: usize) -> String {
    let mut out = fit(s, width);
    let used = text_width(&out);
    out.extend(std::iter::repeat_n(' ', width.saturating_sub(used)));
    out
}

/// The row `y` of `pane` between its side borders, padding included: a selected row is
/// highlighted across the whole pane.
pub(crate) fn row_between_borders(pane: Rect, y: u16, height: u16) -> Rect {
    Rect::new(pane.x + 1, y, pane.width.saturating_sub(2), height).intersection(pane)
}

/// `1204` → `1,204`.
pub(crate) fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(d);
    }
    out
}
