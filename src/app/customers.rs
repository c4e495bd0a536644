//! The Customers pane's state: one account's customers as their pages stream in, the
//! "All customers" row above them, the pane's own filter, and the selection. It knows
//! nothing of fetching; `App` decides when to ask for more.

use std::collections::HashMap;

use nucleo_matcher::pattern::{CaseMatching, Normalization, Pattern};
use nucleo_matcher::{Config, Matcher, Utf32Str};

use crate::app::list::ListCursor;
use crate::model::Customer;

/// The row of the account-wide feed, above the customers.
pub const ALL_ROW: usize = 0;

#[derive(Debug, Clone, Default)]
pub struct CustomerList {
    pub items: Vec<Customer>,
    /// Selection and scroll over the rows: row 0 is "All customers", then the shown customers.
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
    /// The list on screen is the store's copy; the server's replaces it when complete.
    pub from_cache: bool,
    /// The pane's filter text (fuzzy over name, email and company).
    query: String,
    /// The customers shown under the filter, best match first; `None`: all, in order.
    shown: Option<Vec<u32>>,
    /// Customer id → index in `items`, for the names on the account-wide feed.
    by_id: HashMap<String, usize>,
    /// The generation of a provider-side search whose results are merged in (0: none).
    pub search_generation: u64,
}

/// What the Customers pane has selected.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Selection<'a> {
    All,
    Customer(&'a Customer),
}

impl CustomerList {
    /// Rows on screen: "All customers" (once there are customers) and the shown customers.
    pub fn rows(&self) -> usize {
        if self.items.is_empty() {
            return 0;
        }
        1 + self.shown.as_ref().map_or(self.items.len(), Vec::len)
    }

    /// The customer on row `row` (row 0 is the feed, not a customer).
    pub fn customer_at(&self, row: usize) -> Option<&Customer> {
        let index = row.checked_sub(1)?;
        match &self.shown {
            Some(shown) => self.items.get(*shown.get(index)? as usize),
            None => self.items.get(index),
        }
    }

    pub fn selection(&self) -> Option<Selection<'_>> {
        if self.items.is_empty() {
            return None;
        }
        match self.cursor.selected {
            ALL_ROW => Some(Selection::All),
            row => self.customer_at(row).map(Selection::Customer),
        }
    }

    /// The selected customer; `None` on the feed row or an empty list.
    pub fn selected(&self) -> Option<&Customer> {
        match self.selection() {
            Some(Selection::Customer(c)) => Some(c),
            _ => None,
        }
    }

    /// A customer's name by id (the feed shows whose note each row is).
    pub fn name_of(&self, id: &str) -> Option<&str> {
        self.by_id
            .get(id)
            .and_then(|i| self.items.get(*i))
            .map(|c| c.name.as_str())
    }

    pub fn query(&self) -> &str {
        &self.query
    }

    /// How many customers the filter shows (all of them without one).
    pub fn shown_count(&self) -> usize {
        self.shown.as_ref().map_or(self.items.len(), Vec::len)
    }

    /// A new request (first load or refresh) with generation `generation` is on its way.
    pub fn start(&mut self, generation: u64) {
        self.requested = true;
        self.generation = generation;
        self.loading = true;
        self.pages = 0;
        self.staging = (!self.items.is_empty()).then(Vec::new);
    }

    /// The store's copy, shown until the server's list is complete. Returns true when the
    /// selection changed (the first customer is now selected).
    pub fn receive_cached(&mut self, customers: Vec<Customer>, rows: usize) -> bool {
        if !self.items.is_empty() || self.pages > 0 || customers.is_empty() {
            return false;
        }
        self.items = customers;
        self.from_cache = true;
        self.staging = self.loading.then(Vec::new);
        self.reindex();
        self.cursor = ListCursor::default();
        self.cursor.select(1, self.rows(), rows);
        true
    }

    /// Takes one page. Returns true when the selected row is now a different customer (or
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
            let before = self.selection_key();
            self.items = self.staging.take().unwrap_or_default();
            self.from_cache = false;
            self.reindex();
            return self.reselect(before, rows);
        }
        let was_empty = self.items.is_empty();
        self.items.extend(page);
        self.reindex();
        if was_empty && !self.items.is_empty() {
            // Open on the first customer: the feed is one `k` away.
            self.cursor = ListCursor::default();
            let len = self.rows();
            self.cursor.select(1, len, rows);
            return true;
        }
        let len = self.rows();
        self.cursor.clamp(len, rows);
        false
    }

    /// Customers a provider-side search found (an email): added if new, and the filter
    /// re-run so they show.
    pub fn merge(&mut self, found: Vec<Customer>, rows: usize) -> bool {
        let before = self.selection_key();
        let mut added = false;
        for customer in found {
            if !self.by_id.contains_key(&customer.id) {
                self.by_id.insert(customer.id.clone(), self.items.len());
                self.items.push(customer);
                added = true;
            }
        }
        if added {
            self.reindex();
        }
        self.reselect(before.clone(), rows);
        self.prefer_best_match(rows);
        self.selection_key() != before
    }

    /// Filters the customers (fuzzy over name, email and company, best first). Returns
    /// whether the selected row now shows a different customer.
    pub fn set_query(&mut self, query: &str, rows: usize) -> bool {
        let before = self.selection_key();
        self.query = query.trim().to_string();
        self.reindex();
        self.reselect(before.clone(), rows);
        self.prefer_best_match(rows);
        self.selection_key() != before
    }

    /// Under a filter, the best match rather than the feed row: what a picker does.
    fn prefer_best_match(&mut self, rows: usize) {
        if self.shown.is_some() && self.cursor.selected == ALL_ROW && self.shown_count() > 0 {
            let len = self.rows();
            self.cursor.select(1, len, rows);
        }
    }

    /// The request failed: stop loading and keep what is shown.
    pub fn fail(&mut self) {
        self.loading = false;
        self.staging = None;
    }

    /// Rebuilds the id map and the filtered rows after the items or the query changed.
    fn reindex(&mut self) {
        self.by_id = self
            .items
            .iter()
            .enumerate()
            .map(|(i, c)| (c.id.clone(), i))
            .collect();
        self.shown = (!self.query.is_empty()).then(|| fuzzy_rank(&self.items, &self.query));
    }

    /// What is selected, by identity: `None` for the feed row (or nothing), else the id.
    fn selection_key(&self) -> Option<Option<String>> {
        match self.selection() {
            None => None,
            Some(Selection::All) => Some(None),
            Some(Selection::Customer(c)) => Some(Some(c.id.clone())),
        }
    }

    /// Selects what was selected before (by identity) if it is still shown, else keeps the
    /// row in range. Returns whether the selection changed.
    fn reselect(&mut self, before: Option<Option<String>>, rows: usize) -> bool {
        let len = self.rows();
        let row = match &before {
            Some(None) => Some(ALL_ROW),
            Some(Some(id)) => (1..len).find(|r| self.customer_at(*r).is_some_and(|c| &c.id == id)),
            None => None,
        };
        match row {
            Some(row) => {
                self.cursor.select(row, len, rows);
            }
            None => self.cursor.clamp(len, rows),
        }
        self.selection_key() != before
    }
}

/// Indices of the customers matching `query` (fuzzy over name, email and company), best
/// first; equal scores keep the provider's order.
pub fn fuzzy_rank(items: &[Customer], query: &str) -> Vec<u32> {
    let pattern = Pattern::parse(query, CaseMatching::Ignore, Normalization::Smart);
    let mut matcher = Matcher::new(Config::DEFAULT);
    let mut buf = Vec::new();
    let mut haystack = String::new();
    let mut scored: Vec<(u32, u32)> = items
        .iter()
        .enumerate()
        .filter_map(|(i, c)| {
            haystack.clear();
            haystack.push_str(&c.name);
            for field in [c.email.as_deref(), c.company.as_deref()]
                .into_iter()
                .flatten()
            {
                haystack.push(' ');
                haystack.push_str(field);
            }
            let score = pattern.score(Utf32Str::new(&haystack, &mut buf), &mut matcher)?;
            Some((score, u32::try_from(i).ok()?))
        })
        .collect();
    scored.sort_by_key(|(score, i)| (std::cmp::Reverse(*score), *i));
    scored.into_iter().map(|(_, i)| i).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn customer(id: &str, name: &str, email: &str, company: &str) -> Customer {
        Customer {
            id: id.into(),
            name: name.into(),
            email: Some(email.into()),
            company: Some(company.into()),
            ..Customer::default()
        }
    }

    fn list() -> CustomerList {
        let mut list = CustomerList::default();
        list.start(1);
        list.receive(
            vec![
                customer("1", "Acme Corp", "ops@acme.test", "Acme"),
                customer("2", "Globex", "hank@globex.test", "Globex Corporation"),
                customer("3", "Initech", "bill@initech.test", "Initech"),
            ],
            1,
            true,
            10,
        );
        list
    }

    #[test]
    fn the_feed_row_is_first_and_the_first_customer_is_selected() {
        let list = list();
        assert_eq!(list.rows(), 4);
        assert_eq!(list.selected().map(|c| c.id.as_str()), Some("1"));
        assert_eq!(list.customer_at(ALL_ROW), None);
        assert_eq!(list.name_of("3"), Some("Initech"));
    }

    #[test]
    fn the_filter_ranks_by_name_email_and_company_and_keeps_the_feed_row() {
        let mut list = list();
        list.set_query("globx", 10);
        assert_eq!(list.rows(), 2);
        assert_eq!(list.selected().map(|c| c.id.as_str()), Some("2"));
        list.set_query("bill@", 10);
        assert_eq!(list.selected().map(|c| c.id.as_str()), Some("3"));
        list.set_query("zzzz", 10);
        assert_eq!(list.rows(), 1);
        assert_eq!(list.selection(), Some(Selection::All));
        list.set_query("", 10);
        assert_eq!(list.rows(), 4);
    }

    #[test]
    fn a_selection_that_still_matches_is_kept() {
        let mut list = list();
        list.cursor.select(3, 4, 10);
        list.set_query("i", 10);
        assert_eq!(list.selected().map(|c| c.id.as_str()), Some("3"));
    }

    #[test]
    fn merged_search_results_are_added_once() {
        let mut list = list();
        list.merge(
            vec![customer("9", "Hooli", "gavin@hooli.test", "Hooli")],
            10,
        );
        list.merge(
            vec![customer("9", "Hooli", "gavin@hooli.test", "Hooli")],
            10,
        );
        assert_eq!(list.items.len(), 4);
        list.set_query("gavin@hooli", 10);
        assert_eq!(list.selected().map(|c| c.id.as_str()), Some("9"));
    }
}
