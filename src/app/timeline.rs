//! The Timeline pane's state: the notes and calls of one customer, or of the whole account
//! ("All customers"), newest first; the account's filter applied to them; the selected row.
//! It belongs to exactly one scope, so nothing stale can show under a name.

use std::collections::{HashMap, HashSet};

use crate::app::filter::{Filter, FilterIndex};
use crate::app::list::ListCursor;
use crate::model::{Customer, Note};

/// The name the All customers feed goes by.
pub const ALL_CUSTOMERS: &str = "All customers";

#[derive(Debug, Clone, Default)]
pub struct Timeline {
    /// The customer these notes belong to; `None` for the account-wide feed or no selection.
    pub customer_id: Option<String>,
    /// The account-wide feed: every customer's notes.
    pub all: bool,
    pub customer_name: String,
    /// Every note known for the scope, newest first (the filter picks rows out of it).
    pub notes: Vec<Note>,
    /// The rows on screen under the filter, as indices into `notes`; `None` when no filter is
    /// applied (every note, in order).
    shown: Option<Vec<u32>>,
    /// Selection and scroll over the shown rows.
    pub cursor: ListCursor,
    /// The generation of the request whose pages are accepted; 0 when none was made.
    pub generation: u64,
    pub loading: bool,
    pub pages: u32,
    /// A refreshed timeline while it streams in (the old one stays until it is complete).
    pub staging: Option<Vec<Note>>,
    /// The generation of the server-filtered request whose pages are merged in (0: none).
    pub filter_generation: u64,
    /// Shown while nothing came from the server yet: the store's copy.
    pub from_cache: bool,
    /// The filter applied to the rows.
    filter: Filter,
    index: IndexCell,
    /// The store's full-text ranking for the filter's free text (note ids, best first) and
    /// the generation of the search that produced it.
    fts: Option<(u64, Vec<String>)>,
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

    /// The account-wide feed, waiting for the request with generation `generation`.
    pub fn for_account(generation: u64) -> Timeline {
        Timeline {
            all: true,
            customer_name: ALL_CUSTOMERS.to_string(),
            generation,
            loading: true,
            ..Timeline::default()
        }
    }

    /// Whether a customer or the account feed is open (as opposed to nothing selected).
    pub fn is_open(&self) -> bool {
        self.all || self.customer_id.is_some()
    }

    /// Whether a note of `customer_id` belongs on this timeline.
    pub fn shows_customer(&self, customer_id: &str) -> bool {
        self.all || self.customer_id.as_deref() == Some(customer_id)
    }

    pub fn filter(&self) -> &Filter {
        &self.filter
    }

    /// Whether a filter hides some notes.
    pub fn filtered(&self) -> bool {
        self.shown.is_some()
    }

    /// The number of rows shown.
    pub fn len(&self) -> usize {
        self.shown.as_ref().map_or(self.notes.len(), Vec::len)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The note on row `row`.
    pub fn row(&self, row: usize) -> Option<&Note> {
        match &self.shown {
            Some(shown) => self.notes.get(usize::try_from(*shown.get(row)?).ok()?),
            None => self.notes.get(row),
        }
    }

    pub fn selected(&self) -> Option<&Note> {
        self.row(self.cursor.selected)
    }

    /// The row showing note `id`, if it is shown.
    pub fn row_of(&self, id: &str) -> Option<usize> {
        let index = self.notes.iter().position(|n| n.id == id)?;
        self.row_of_index(index)
    }

    fn row_of_index(&self, index: usize) -> Option<usize> {
        match &self.shown {
            None => Some(index),
            Some(shown) => {
                let index = u32::try_from(index).ok()?;
                shown.iter().position(|i| *i == index)
            }
        }
    }

    /// Selects the row showing note `id`; false when it is not shown.
    pub fn select_id(&mut self, id: &str, rows: usize) -> bool {
        match self.row_of(id) {
            Some(row) => {
                let len = self.len();
                self.cursor.select(row, len, rows);
                true
            }
            None => false,
        }
    }

    /// Applies `filter`, keeping the selected note selected when it still matches (else the
    /// first row). The free-text ranking from the store only applies to the text it was for.
    pub fn set_filter(&mut self, filter: Filter, rows: usize) {
        if filter.text != self.filter.text {
            self.fts = None;
        }
        self.filter = filter;
        self.refilter(rows);
    }

    /// The store's full-text ranking for the current free text (`generation` is the search
    /// that produced it, so a slow answer to an older query is dropped by the caller).
    pub fn set_ranking(&mut self, generation: u64, ids: Vec<String>, rows: usize) {
        self.fts = Some((generation, ids));
        self.refilter(rows);
    }

    /// A refresh with generation `generation` is on its way.
    pub fn refresh(&mut self, generation: u64) {
        self.generation = generation;
        self.loading = true;
        self.pages = 0;
        self.staging = (!self.notes.is_empty()).then(Vec::new);
    }

    /// The store's copy, shown until the server's arrives (then replaced as a refresh is).
    /// Returns whether it was taken (only into a timeline the server hasn't filled yet).
    pub fn receive_cached(&mut self, notes: Vec<Note>, rows: usize) -> bool {
        let untouched = self.notes.is_empty() && self.pages == 0;
        // A big account's saved copy can take longer to read than the server's first page:
        // the pages that came first wait in staging with the rest of the listing.
        let overtaken = self.loading && self.staging.is_none() && notes.len() > self.notes.len();
        if notes.is_empty() || !(untouched || overtaken) {
            return false;
        }
        let before = self.selected().map(|n| n.id.clone());
        let arrived = std::mem::replace(&mut self.notes, notes);
        self.from_cache = true;
        // The server's pages now replace the saved copy when complete, as a refresh does.
        self.staging = self.loading.then_some(arrived);
        self.index.indexed = None;
        self.cursor = ListCursor::default();
        self.refilter_keeping(before.as_deref(), rows);
        true
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
            self.from_cache = false;
            self.index.indexed = None;
        } else {
            let was_empty = self.notes.is_empty();
            let resorted = append_newest_first(&mut self.notes, page);
            if resorted {
                self.index.indexed = None;
            }
            if was_empty {
                self.cursor = ListCursor::default();
                self.refilter(rows);
                return self.selected().is_some();
            }
        }
        self.reselect(before.as_deref(), rows);
        self.selected().map(|n| n.id.as_str()) != before.as_deref()
    }

    /// Merges notes the server found for the filter (they may be beyond the pages loaded so
    /// far); notes already known are kept as they are.
    pub fn merge(&mut self, page: Vec<Note>, rows: usize) {
        let known: HashSet<&str> = self.notes.iter().map(|n| n.id.as_str()).collect();
        let new: Vec<Note> = page
            .into_iter()
            .filter(|n| !known.contains(n.id.as_str()))
            .collect();
        if new.is_empty() {
            return;
        }
        let before = self.selected().map(|n| n.id.clone());
        self.notes.extend(new);
        self.notes.sort_by_key(|n| std::cmp::Reverse(n.created_at));
        self.index.indexed = None;
        self.reselect(before.as_deref(), rows);
    }

    pub fn fail(&mut self) {
        self.loading = false;
        self.staging = None;
    }

    /// Inserts `note` where its time puts it (newest first), keeping the same entry selected.
    pub fn insert(&mut self, note: Note, rows: usize) {
        let index = self
            .notes
            .iter()
            .position(|n| n.created_at <= note.created_at)
            .unwrap_or(self.notes.len());
        let was_empty = self.notes.is_empty();
        let before = self.selected().map(|n| n.id.clone());
        self.notes.insert(index, note);
        self.index.indexed = None;
        if was_empty {
            self.cursor = ListCursor::default();
            self.refilter(rows);
        } else {
            self.reselect(before.as_deref(), rows);
        }
    }

    /// Removes note `id`, keeping the same entry selected where it is still there (else the
    /// row that took its place).
    pub fn remove(&mut self, id: &str, rows: usize) -> bool {
        let Some(index) = self.notes.iter().position(|n| n.id == id) else {
            return false;
        };
        let before = self.selected().map(|n| n.id.clone());
        let row = self.cursor.selected;
        self.notes.remove(index);
        self.index.indexed = None;
        if before.as_deref() == Some(id) {
            self.refilter_keeping(None, rows);
            let len = self.len();
            self.cursor.select(row, len, rows);
        } else {
            self.reselect(before.as_deref(), rows);
        }
        true
    }

    /// Replaces note `id` in place (same row, same selection); false if absent.
    pub fn replace(&mut self, id: &str, note: Note, rows: usize) -> bool {
        let before = self.selected().map(|n| n.id.clone());
        match self.notes.iter_mut().find(|n| n.id == id) {
            Some(slot) => {
                let new_id = note.id.clone();
                *slot = note;
                self.index.indexed = None;
                let keep = match before {
                    Some(b) if b == id => Some(new_id),
                    other => other,
                };
                self.reselect(keep.as_deref(), rows);
                true
            }
            None => false,
        }
    }

    /// Changes a note in place (an optimistic edit); the filter sees the new content.
    pub fn patch(&mut self, id: &str, f: impl FnOnce(&mut Note), rows: usize) {
        if let Some(note) = self.notes.iter_mut().find(|n| n.id == id) {
            f(note);
            self.index.indexed = None;
            let before = self.selected().map(|n| n.id.clone());
            self.reselect(before.as_deref(), rows);
        }
    }

    /// Re-runs the filter after the notes changed, keeping `before` selected if it is shown.
    fn reselect(&mut self, before: Option<&str>, rows: usize) {
        self.refilter_keeping(before, rows);
    }

    /// Re-runs the filter (after it or the notes changed), keeping the selected note.
    pub fn refilter(&mut self, rows: usize) {
        let before = self.selected().map(|n| n.id.clone());
        self.refilter_keeping(before.as_deref(), rows);
    }

    fn refilter_keeping(&mut self, before: Option<&str>, rows: usize) {
        self.update_index();
        self.shown = if self.filter.is_empty() {
            None
        } else {
            let matches = self.index.index.run(&self.filter, &self.notes);
            Some(self.ranked(matches))
        };
        let len = self.len();
        let found = before.and_then(|id| self.row_of(id));
        match found {
            Some(row) => {
                self.cursor.select(row, len, rows);
            }
            None => {
                self.cursor.select(0, len, rows);
            }
        }
    }

    /// Brings the search index up to date: appended notes are added, anything else rebuilds.
    fn update_index(&mut self) {
        let cell = &mut self.index;
        match cell.indexed {
            Some(n) if n == self.notes.len() => {}
            Some(n) if n < self.notes.len() => {
                cell.index.push(&self.notes[n..]);
            }
            _ => cell.index.rebuild(&self.notes),
        }
        cell.indexed = Some(self.notes.len());
    }

    /// With a ranking from the store, its hits come first (best first), then the fuzzy
    /// matches it did not find (typos, words half typed), newest first.
    fn ranked(&self, matches: Vec<u32>) -> Vec<u32> {
        let Some((_, ids)) = self.fts.as_ref().filter(|_| !self.filter.text.is_empty()) else {
            return matches;
        };
        if ids.is_empty() {
            return matches;
        }
        // The store already applied the tokens in SQL; checking them here as well keeps the
        // two in step when the list holds a newer copy of a note than the store.
        let tokens = Filter {
            text: String::new(),
            ..self.filter.clone()
        };
        let position: HashMap<&str, u32> = self
            .notes
            .iter()
            .enumerate()
            .filter_map(|(i, n)| Some((n.id.as_str(), u32::try_from(i).ok()?)))
            .collect();
        let mut out: Vec<u32> = ids
            .iter()
            .filter_map(|id| position.get(id.as_str()).copied())
            .filter(|i| {
                self.notes
                    .get(*i as usize)
                    .is_some_and(|n| tokens.matches(n))
            })
            .collect();
        let ranked: HashSet<u32> = out.iter().copied().collect();
        out.extend(matches.into_iter().filter(|i| !ranked.contains(i)));
        out
    }
}

/// The search index and how many of `notes` it holds, in order (`None`: rebuild it). A copy
/// of the app starts with an empty index that is rebuilt on first use: the index is derived
/// data, cheap to rebuild and pointless to copy.
#[derive(Default)]
struct IndexCell {
    index: FilterIndex,
    indexed: Option<usize>,
}

impl Clone for IndexCell {
    fn clone(&self) -> Self {
        IndexCell::default()
    }
}

impl std::fmt::Debug for IndexCell {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IndexCell")
            .field("indexed", &self.indexed)
            .finish_non_exhaustive()
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
