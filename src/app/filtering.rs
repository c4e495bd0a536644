//! Finding things: the filter bar (`/`) over the Timeline or the Customers, the author picker
//! (`a`), the type cycle (`t`), the store's full-text ranking and the server-side filters.
//! The account's filter is the text typed in the bar; `a` and `t` edit that text, so the bar,
//! the Timeline's title and the rows shown can never disagree.

use nucleo_matcher::pattern::{CaseMatching, Normalization, Pattern};
use nucleo_matcher::{Config, Matcher, Utf32Str};
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::filter::{self, AuthorCount, Filter};
use super::line_input::{Edit, LineInput};
use super::list::ListCursor;
use super::{App, Effect, FetchKind, Pane};
use crate::cache::SearchQuery;
use crate::model::{CustomerQuery, NoteKind, NoteQuery};

/// How many ranked hits the store is asked for: more than a screen, fewer than would make
/// a search on a big account slow.
pub const SEARCH_LIMIT: usize = 500;

/// One account's Timeline filter as typed, and the one-line problem with it, if any.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FilterState {
    pub input: String,
    pub error: Option<String>,
    /// The newest full-text search asked of the store (its answer carries this number).
    pub search_generation: u64,
}

/// Which list the bar filters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BarTarget {
    Timeline,
    Customers,
}

/// The filter bar while it has the keyboard.
#[derive(Debug, Clone, PartialEq)]
pub struct FilterBar {
    pub target: BarTarget,
    pub input: LineInput,
    /// Tab completion in progress: the text before it, the candidates, and which one is in
    /// the text now.
    completion: Option<(String, Vec<String>, usize)>,
}

/// The author picker (`a`): every author of the timeline with their count, filterable.
#[derive(Debug, Clone, PartialEq)]
pub struct AuthorPicker {
    pub input: LineInput,
    pub authors: Vec<AuthorCount>,
    /// Rows: "any author", then indices into `authors` matching the input, best first.
    pub shown: Vec<usize>,
    pub cursor: ListCursor,
}

/// Rows the picker shows at once (it scrolls beyond).
pub const PICKER_ROWS: usize = 12;

impl AuthorPicker {
    fn new(authors: Vec<AuthorCount>, current: Option<&str>) -> AuthorPicker {
        let mut picker = AuthorPicker {
            input: LineInput::default(),
            shown: (0..authors.len()).collect(),
            authors,
            cursor: ListCursor::default(),
        };
        // Open on the author already filtered on, so Enter keeps it and j/k move from it.
        if let Some(current) = current {
            if let Some(i) = picker
                .authors
                .iter()
                .position(|a| a.token_value().eq_ignore_ascii_case(current))
            {
                picker.cursor.select(i + 1, picker.rows(), PICKER_ROWS);
            }
        }
        picker
    }

    /// "Any author" plus the matching authors.
    pub fn rows(&self) -> usize {
        self.shown.len() + 1
    }

    /// The author on row `row` (`None` for row 0, "any author").
    pub fn author_at(&self, row: usize) -> Option<&AuthorCount> {
        self.authors.get(*self.shown.get(row.checked_sub(1)?)?)
    }

    fn refilter(&mut self) {
        let query = self.input.text().trim();
        self.shown = if query.is_empty() {
            (0..self.authors.len()).collect()
        } else {
            let pattern = Pattern::parse(query, CaseMatching::Ignore, Normalization::Smart);
            let mut matcher = Matcher::new(Config::DEFAULT);
            let mut buf = Vec::new();
            let mut scored: Vec<(u32, usize)> = self
                .authors
                .iter()
                .enumerate()
                .filter_map(|(i, a)| {
                    let label = a.label();
                    let score = pattern.score(Utf32Str::new(&label, &mut buf), &mut matcher)?;
                    Some((score, i))
                })
                .collect();
            scored.sort_by_key(|(score, i)| (std::cmp::Reverse(*score), *i));
            scored.into_iter().map(|(_, i)| i).collect()
        };
        // The best match is what Enter should take.
        let first = if self.shown.is_empty() || query.is_empty() {
            0
        } else {
            1
        };
        self.cursor = ListCursor::default();
        self.cursor.select(first, self.rows(), PICKER_ROWS);
    }
}

/// `text` split before its last word (on a char boundary): `("author:x ", "sar")`; the last
/// word is empty when the text ends in a space.
fn split_last_word(text: &str) -> (&str, &str) {
    let start = text
        .char_indices()
        .rfind(|(_, c)| c.is_whitespace())
        .map_or(0, |(i, c)| i + c.len_utf8());
    text.split_at(start)
}

/// The next type in the `t` cycle: all → notes → calls → all.
fn next_kind(kind: Option<&NoteKind>) -> Option<&'static str> {
    match kind {
        None | Some(NoteKind::Other(_)) => Some("note"),
        Some(NoteKind::Note) => Some("call"),
        Some(NoteKind::Call) => None,
    }
}

impl App {
    pub fn filter_bar(&self) -> Option<&FilterBar> {
        self.bar.as_ref()
    }

    pub fn author_picker(&self) -> Option<&AuthorPicker> {
        self.picker.as_ref()
    }

    /// `/`: the bar for the focused list (the Customers pane filters customers; the Timeline
    /// and Note panes filter the timeline), holding the filter as it stands.
    pub(super) fn open_bar(&mut self) {
        let Some(view) = self.views.get(self.active) else {
            return;
        };
        let (target, text) = match self.focus {
            Pane::Customers => (BarTarget::Customers, view.customers.query().to_string()),
            Pane::Timeline | Pane::Note => {
                if !view.timeline.is_open() {
                    self.inform("Select a customer (or All customers) to filter its timeline");
                    return;
                }
                self.focus = Pane::Timeline;
                (BarTarget::Timeline, view.filter.input.clone())
            }
        };
        self.bar = Some(FilterBar {
            target,
            input: LineInput::new(&text),
            completion: None,
        });
    }

    pub(super) fn on_bar_key(&mut self, key: &KeyEvent, effects: &mut Vec<Effect>) {
        let Some(bar) = self.bar.as_mut() else {
            return;
        };
        let target = bar.target;
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        match key.code {
            // Enter keeps the filter; the server gets its part now (not per keystroke).
            KeyCode::Enter => {
                self.bar = None;
                if target == BarTarget::Timeline {
                    self.apply_filter(self.active, true, effects);
                } else {
                    self.search_customers(effects);
                }
            }
            // Esc clears the filter: the bar is where it was typed, so that is where it goes.
            KeyCode::Esc => {
                self.bar = None;
                match target {
                    BarTarget::Timeline => self.set_filter_text(String::new(), effects),
                    BarTarget::Customers => self.set_customer_query("", effects),
                }
            }
            KeyCode::Tab if target == BarTarget::Timeline => self.complete_author(effects),
            KeyCode::Char('c') if ctrl => {
                self.bar = None;
                self.quit(effects);
            }
            // The list moves under the bar, as in a picker; typing goes on.
            KeyCode::Down | KeyCode::Up => {
                let pane = match target {
                    BarTarget::Timeline => Pane::Timeline,
                    BarTarget::Customers => Pane::Customers,
                };
                let step = if key.code == KeyCode::Down { 1 } else { -1 };
                self.move_in(pane, super::Step::By(step), effects);
            }
            KeyCode::Char('n' | 'p') if ctrl => {
                let step = if key.code == KeyCode::Char('n') {
                    1
                } else {
                    -1
                };
                let pane = match target {
                    BarTarget::Timeline => Pane::Timeline,
                    BarTarget::Customers => Pane::Customers,
                };
                self.move_in(pane, super::Step::By(step), effects);
            }
            _ => {
                if bar.input.on_key(key) == Edit::Changed {
                    bar.completion = None;
                    self.bar_changed(effects);
                }
            }
        }
    }

    /// Text pasted while the bar is open goes into it.
    pub(super) fn paste_into_bar(&mut self, text: &str, effects: &mut Vec<Effect>) {
        if let Some(bar) = self.bar.as_mut() {
            if bar.input.insert(text) == Edit::Changed {
                bar.completion = None;
                self.bar_changed(effects);
            }
        }
    }

    /// Every keystroke re-filters at once (in memory; the store ranks in the background).
    fn bar_changed(&mut self, effects: &mut Vec<Effect>) {
        let Some(bar) = self.bar.as_ref() else {
            return;
        };
        let text = bar.input.text().to_string();
        match bar.target {
            BarTarget::Timeline => {
                if let Some(view) = self.views.get_mut(self.active) {
                    view.filter.input = text;
                }
                self.apply_filter(self.active, false, effects);
            }
            BarTarget::Customers => self.set_customer_query(&text, effects),
        }
    }

    /// Tab: completes a trailing `author:` to the next author seen in this timeline.
    fn complete_author(&mut self, effects: &mut Vec<Effect>) {
        let Some(view) = self.views.get(self.active) else {
            return;
        };
        // The timeline's authors first, then everyone else seen in the account.
        let mut authors = filter::authors(&view.timeline.notes);
        for author in &view.authors {
            let known = authors
                .iter()
                .any(|a| a.token_value().eq_ignore_ascii_case(&author.token_value()));
            if !known {
                authors.push(author.clone());
            }
        }
        let Some(bar) = self.bar.as_mut() else {
            return;
        };
        // Repeated Tabs cycle through the candidates of the text as it was before the first.
        let (base, candidates, next) = match bar.completion.take() {
            Some((base, candidates, i)) if !candidates.is_empty() => {
                let next = (i + 1) % candidates.len();
                (base, candidates, next)
            }
            _ => {
                // A bare trailing word counts as the start of an author to complete.
                let typed = bar.input.text().to_string();
                let (head, last) = split_last_word(&typed);
                let base = if last.is_empty() || last.contains(':') {
                    typed.clone()
                } else {
                    format!("{head}author:{last}")
                };
                let candidates = filter::author_completions(&base, &authors);
                if candidates.is_empty() {
                    self.inform("No author to complete: type author: and the start of a name");
                    return;
                }
                (base, candidates, 0)
            }
        };
        let Some(value) = candidates.get(next) else {
            return;
        };
        bar.input.set(&filter::complete_author(&base, value));
        bar.completion = Some((base, candidates, next));
        self.bar_changed(effects);
    }

    /// `a`: the author picker over the timeline's authors.
    pub(super) fn open_author_picker(&mut self) {
        let Some(view) = self.views.get(self.active) else {
            return;
        };
        if !view.timeline.is_open() {
            self.inform("Select a customer (or All customers) to pick one of its authors");
            return;
        }
        let authors = filter::authors(&view.timeline.notes);
        if authors.is_empty() {
            let text = if view.timeline.loading {
                "No authors yet: the timeline is still loading"
            } else {
                "No authors to pick from: this timeline is empty"
            };
            self.inform(text);
            return;
        }
        let current = view.timeline.filter().authors.first().cloned();
        self.picker = Some(AuthorPicker::new(authors, current.as_deref()));
    }

    pub(super) fn on_picker_key(&mut self, key: &KeyEvent, effects: &mut Vec<Effect>) {
        let Some(picker) = self.picker.as_mut() else {
            return;
        };
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        let rows = picker.rows();
        match key.code {
            KeyCode::Esc => self.picker = None,
            KeyCode::Char('c') if ctrl => {
                self.picker = None;
                self.quit(effects);
            }
            KeyCode::Enter => {
                let value = picker
                    .author_at(picker.cursor.selected)
                    .map(|a| a.token_value());
                self.picker = None;
                self.focus = Pane::Timeline;
                let input = self
                    .views
                    .get(self.active)
                    .map(|v| v.filter.input.clone())
                    .unwrap_or_default();
                let text = filter::set_token(&input, "author", value.as_deref());
                self.set_filter_text(text, effects);
            }
            KeyCode::Down => {
                picker.cursor.move_by(1, rows, PICKER_ROWS);
            }
            KeyCode::Char('n' | 'j') if ctrl => {
                picker.cursor.move_by(1, rows, PICKER_ROWS);
            }
            KeyCode::Up => {
                picker.cursor.move_by(-1, rows, PICKER_ROWS);
            }
            KeyCode::Char('p' | 'k') if ctrl => {
                picker.cursor.move_by(-1, rows, PICKER_ROWS);
            }
            KeyCode::PageDown => {
                picker
                    .cursor
                    .move_by(PICKER_ROWS as isize, rows, PICKER_ROWS);
            }
            KeyCode::PageUp => {
                picker
                    .cursor
                    .move_by(-(PICKER_ROWS as isize), rows, PICKER_ROWS);
            }
            _ => {
                if picker.input.on_key(key) == Edit::Changed {
                    picker.refilter();
                }
            }
        }
    }

    pub(super) fn paste_into_picker(&mut self, text: &str) {
        if let Some(picker) = self.picker.as_mut() {
            if picker.input.insert(text) == Edit::Changed {
                picker.refilter();
            }
        }
    }

    /// `t`: all → notes → calls → all.
    pub(super) fn cycle_kind(&mut self, effects: &mut Vec<Effect>) {
        let Some(view) = self.views.get(self.active) else {
            return;
        };
        if !view.timeline.is_open() {
            self.inform("Select a customer (or All customers) to filter its timeline");
            return;
        }
        let next = next_kind(view.timeline.filter().kind.as_ref());
        let text = filter::set_token(&view.filter.input, "type", next);
        self.set_filter_text(text, effects);
        let shown = match next {
            None => "Showing every type",
            Some("note") => "Showing notes only",
            _ => "Showing calls only",
        };
        self.inform(shown);
    }

    /// Replaces the account's filter text and applies it, server part included.
    pub(super) fn set_filter_text(&mut self, text: String, effects: &mut Vec<Effect>) {
        if let Some(view) = self.views.get_mut(self.active) {
            view.filter.input = text;
        }
        self.apply_filter(self.active, true, effects);
    }

    /// Parses the account's filter text and applies it to its timeline. The store is asked
    /// to rank the free text; with `server`, what the API can filter is fetched too, so the
    /// result covers notes beyond the pages loaded so far.
    pub(super) fn apply_filter(&mut self, account: usize, server: bool, effects: &mut Vec<Effect>) {
        let now = self.clock();
        let rows = self.timeline_rows();
        let caps = self
            .accounts
            .get(account)
            .map(|a| a.capabilities)
            .unwrap_or_default();
        let Some(view) = self.views.get_mut(account) else {
            return;
        };
        let parsed = Filter::parse(&view.filter.input, now, &self.tz);
        view.filter.error = parsed.error;
        let filter = parsed.filter;
        let changed = filter != *view.timeline.filter();
        if changed {
            view.timeline.set_filter(filter.clone(), rows);
            view.note.scroll = 0;
        }
        if !view.timeline.is_open() {
            return;
        }
        let scope = view.timeline.customer_id.clone();
        if changed && !filter.text.is_empty() {
            let generation = self.next_gen();
            if let Some(view) = self.views.get_mut(account) {
                view.filter.search_generation = generation;
            }
            effects.push(Effect::Search {
                account,
                generation,
                query: SearchQuery {
                    text: filter.text.clone(),
                    customer: scope.clone(),
                    kind: filter.kind.as_ref().map(|k| k.as_str().to_string()),
                    authors: filter.authors.clone(),
                    since: filter.since,
                    until: filter.until,
                    limit: SEARCH_LIMIT,
                },
            });
        }
        if server {
            let base = NoteQuery {
                customer_id: scope,
                ..NoteQuery::default()
            };
            let query = filter.server_query(&caps, base.clone());
            if query != base {
                let generation = self.fetch(account, FetchKind::FilteredNotes(query), effects);
                if let Some(view) = self.views.get_mut(account) {
                    view.timeline.filter_generation = generation;
                }
            }
        }
    }

    /// The Customers pane's filter; an email is also searched at the provider on Enter.
    fn set_customer_query(&mut self, text: &str, effects: &mut Vec<Effect>) {
        let rows = self.customer_rows();
        let changed = match self.views.get_mut(self.active) {
            Some(view) => view.customers.set_query(text, rows),
            None => false,
        };
        if changed {
            self.load_timeline(self.active, effects);
        }
    }

    /// Enter in the Customers bar: an email goes to the provider's search where it has one,
    /// so a customer beyond the pages loaded (or not listed at all) is found too.
    fn search_customers(&mut self, effects: &mut Vec<Effect>) {
        let has_search = self.account().is_some_and(|a| a.capabilities.email_search);
        let Some(query) = self
            .view()
            .map(|v| v.customers.query().to_string())
            .filter(|q| q.contains('@'))
        else {
            return;
        };
        if !has_search {
            return;
        }
        let request = CustomerQuery {
            search: Some(query),
            ..CustomerQuery::default()
        };
        let generation = self.fetch(self.active, FetchKind::CustomerSearch(request), effects);
        if let Some(view) = self.views.get_mut(self.active) {
            view.customers.search_generation = generation;
        }
    }

    /// Esc outside the bar: clears the focused list's filter, if it has one.
    pub(super) fn clear_focused_filter(&mut self, effects: &mut Vec<Effect>) -> bool {
        let Some(view) = self.views.get(self.active) else {
            return false;
        };
        match self.focus {
            Pane::Customers if !view.customers.query().is_empty() => {
                self.set_customer_query("", effects);
                true
            }
            Pane::Timeline | Pane::Note if !view.filter.input.trim().is_empty() => {
                self.set_filter_text(String::new(), effects);
                self.inform("Filter cleared");
                true
            }
            _ => false,
        }
    }
}
