//! The Timeline pane's state: the selected customer's notes and calls, newest first, and the
//! selected entry. It belongs to exactly one customer, so nothing stale can show under a name.

use crate::app::list::ListCursor;
use crate::model::{Customer, Note};

#[derive(Debug, Clone, Default)]
pub struct Timeline {
    /// The customer these notes belong to; `None` when no customer is selected.
    pub customer_id: Option<String>,
    pub customer_name: String,
    pub notes: Vec<Note>,
    pub cursor: ListCursor,
    /// The generation of the request whose pages are accepted; 0 when none was made.
    pub generation: u64,
    pub loading: bool,
    pub pages: u32,
    /// A refreshed timeline while it streams in (the old one stays until it is complete).
    pub staging: Option<Vec<Note>>,
}

impl Timeline {
    /// An empty timeline for `customer`, waiting for the request with generation `generation`.
    pub fn for_customer(customer: &Customer, generation: u64) -> Timeline {
        Timeline {
            customer_id: Some(customer.id.clone()),
            customer_name: customer.name.clone(),
            generation,
            loading: true,
            ..Timeline::default()
        }
    }

    pub fn selected(&self) -> Option<&Note> {
        self.notes.get(self.cursor.selected)
    }

    /// A refresh with generation `generation` is on its way.
    pub fn refresh(&mut self, generation: u64) {
        self.generation = generation;
        self.loading = true;
        self.pages = 0;
        self.staging = (!self.notes.is_empty()).then(Vec::new);
    }

    /// Takes one page. Returns true when the selected note is now a different one (so the
    /// note pane scrolls back to the top).
    pub fn receive(&mut self, page: Vec<Note>, pages: u32, done: bool, rows: usize) -> bool {
        self.pages = pages;
        if done {
            self.loading = false;
        }
        let before = self.selected().map(|n| n.id.clone());
        if let Some(staging) = self.staging.as_mut() {
            append_newest_first(staging, page);
            if !done {
                return false;
            }
            self.notes = self.staging.take().unwrap_or_default();
        } else {
            let was_empty = self.notes.is_empty();
            let resorted = append_newest_first(&mut self.notes, page);
            if was_empty {
                self.cursor = ListCursor::default();
                return !self.notes.is_empty();
            }
            if !resorted {
                return false;
            }
        }
        let found = before
            .as_deref()
            .and_then(|id| self.notes.iter().position(|n| n.id == id));
        match found {
            Some(index) => {
                self.cursor.select(index, self.notes.len(), rows);
            }
            None => self.cursor.clamp(self.notes.len(), rows),
        }
        self.selected().map(|n| n.id.as_str()) != before.as_deref()
    }

    pub fn fail(&mut self) {
        self.loading = false;
        self.staging = None;
    }
}

/// Appends a page keeping the list newest first. Providers already send pages newest first,
/// so only the page itself and its seam are checked (O(page), not O(list)); the whole list is
/// re-sorted only when that check fails. Returns whether it re-sorted.
fn append_newest_first(list: &mut Vec<Note>, page: Vec<Note>) -> bool {
    let seam_in_order = match (list.last(), page.first()) {
        (Some(last), Some(first)) => last.created_at >= first.created_at,
        _ => true,
    };
    let in_order = seam_in_order && page.windows(2).all(|w| w[0].created_at >= w[1].created_at);
    list.extend(page);
    if !in_order {
        list.sort_by_key(|n| std::cmp::Reverse(n.created_at));
    }
    !in_order
}
