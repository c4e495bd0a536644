//! The Customers pane's state: one account's customers as their pages stream in, and the
//! selection. It knows nothing of fetching; `App` decides when to ask for more.

use crate::app::list::ListCursor;
use crate::model::Customer;

#[derive(Debug, Clone, Default)]
pub struct CustomerList {
    pub items: Vec<Customer>,
    pub cursor: ListCursor,
    /// The generation of the request whose pages are accepted; 0 before the first request.
    pub generation: u64,
    pub loading: bool,
    /// Whether this account's customers were ever asked for (the first tab switch asks).
    pub requested: bool,
    /// Pages received for the current request.
    pub pages: u32,
    /// A refreshed list while it streams in: the old list stays on screen, and browsable,
    /// until the new one is complete, so a refresh never loses the user's place.
    pub staging: Option<Vec<Customer>>,
}

impl CustomerList {
    pub fn selected(&self) -> Option<&Customer> {
        self.items.get(self.cursor.selected)
    }

    /// A new request (first load or refresh) with generation `generation` is on its way.
    pub fn start(&mut self, generation: u64) {
        self.requested = true;
        self.generation = generation;
        self.loading = true;
        self.pages = 0;
        self.staging = (!self.items.is_empty()).then(Vec::new);
    }

    /// Takes one page. Returns true when the selected customer is now a different one (or
    /// none), so the caller loads the matching timeline.
    pub fn receive(&mut self, page: Vec<Customer>, pages: u32, done: bool, rows: usize) -> bool {
        self.pages = pages;
        if done {
            self.loading = false;
        }
        if let Some(staging) = self.staging.as_mut() {
            staging.extend(page);
            if !done {
                return false;
            }
            let before = self.selected().map(|c| c.id.clone());
            self.items = self.staging.take().unwrap_or_default();
            let found = before
                .as_deref()
                .and_then(|id| self.items.iter().position(|c| c.id == id));
            match found {
                Some(index) => {
                    self.cursor.select(index, self.items.len(), rows);
                }
                None => self.cursor.clamp(self.items.len(), rows),
            }
            return self.selected().map(|c| c.id.as_str()) != before.as_deref();
        }
        let was_empty = self.items.is_empty();
        self.items.extend(page);
        if was_empty && !self.items.is_empty() {
            self.cursor = ListCursor::default();
            return true;
        }
        false
    }

    /// The request failed: stop loading and keep what is shown.
    pub fn fail(&mut self) {
        self.loading = false;
        self.staging = None;
    }
}
