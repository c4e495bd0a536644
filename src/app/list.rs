//! Selection and scroll position of a list pane. The window arithmetic lives here once, so
//! key handling, mouse hit-testing and drawing always agree on which rows are on screen.

use std::ops::Range;

/// The selected row and the first row on screen.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ListCursor {
    pub selected: usize,
    pub offset: usize,
}

impl ListCursor {
    /// The first row to draw for `len` rows in a pane showing `rows` of them: the stored
    /// offset, pulled back so the selection is on screen and no space is left empty at the end.
    pub fn window_start(&self, len: usize, rows: usize) -> usize {
        if rows == 0 || len == 0 {
            return 0;
        }
        let selected = self.selected.min(len - 1);
        let start = self.offset.min(len.saturating_sub(rows));
        if selected < start {
            selected
        } else if selected >= start + rows {
            selected + 1 - rows
        } else {
            start
        }
    }

    /// The rows on screen.
    pub fn window(&self, len: usize, rows: usize) -> Range<usize> {
        let start = self.window_start(len, rows);
        start..(start + rows).min(len)
    }

    /// Selects `index` (clamped to the list) and scrolls just enough to show it.
    /// Returns whether the selection changed.
    pub fn select(&mut self, index: usize, len: usize, rows: usize) -> bool {
        let before = self.selected;
        self.selected = index.min(len.saturating_sub(1));
        self.offset = self.window_start(len, rows);
        self.selected != before
    }

    /// Moves the selection by `delta` rows, stopping at either end.
    pub fn move_by(&mut self, delta: isize, len: usize, rows: usize) -> bool {
        let target = if delta < 0 {
            self.selected.saturating_sub(delta.unsigned_abs())
        } else {
            self.selected.saturating_add(delta.unsigned_abs())
        };
        self.select(target, len, rows)
    }

    /// Re-fits the cursor after the list or the pane changed size.
    pub fn clamp(&mut self, len: usize, rows: usize) {
        self.selected = self.selected.min(len.saturating_sub(1));
        self.offset = self.window_start(len, rows);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moving_past_the_window_scrolls_by_one_row() {
        let mut c = ListCursor::default();
        for _ in 0..5 {
            c.move_by(1, 100, 5);
        }
        assert_eq!(c.selected, 5);
        assert_eq!(c.window(100, 5), 1..6);
    }

    #[test]
    fn selection_stops_at_both_ends() {
        let mut c = ListCursor::default();
        assert!(!c.move_by(-3, 10, 4));
        c.move_by(50, 10, 4);
        assert_eq!(c.selected, 9);
        assert_eq!(c.window(10, 4), 6..10);
    }

    #[test]
    fn a_taller_pane_pulls_the_window_back_so_no_rows_are_wasted() {
        let mut c = ListCursor::default();
        c.select(9, 10, 3);
        assert_eq!(c.offset, 7);
        c.clamp(10, 8);
        assert_eq!(c.window(10, 8), 2..10);
    }

    #[test]
    fn empty_lists_and_zero_height_panes_show_nothing() {
        let c = ListCursor {
            selected: 4,
            offset: 9,
        };
        assert_eq!(c.window(0, 10), 0..0);
        assert_eq!(c.window(10, 0), 0..0);
    }
}
