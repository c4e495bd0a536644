//! All UI state and its one update function (the Elm architecture): `update` turns a `Msg`
//! into state changes and `Effect`s; it never does I/O, never awaits and never reads the clock.

mod compose;
pub mod composer;
pub mod customers;
pub mod editor;
pub mod filter;
mod filtering;
pub mod keys;
pub mod line_input;
pub mod list;
pub mod note;
pub mod timeline;
pub mod writes;

use jiff::Timestamp;
use jiff::tz::TimeZone;
use std::collections::HashMap;

use ratatui::crossterm::event::{KeyEvent, KeyEventKind, MouseButton, MouseEvent, MouseEventKind};
use ratatui::layout::{Position, Rect};

use crate::model::{
    Capabilities, Contact, Customer, CustomerQuery, Note, NoteKind, NoteQuery, ProviderKind,
};
use crate::ui;
use customers::{CustomerList, Selection};
use keys::Action;
use list::ListCursor;
use note::{ContactList, NotePane};
use timeline::Timeline;

pub use composer::MessageSent;
pub use filtering::{AuthorPicker, BarTarget, FilterBar, FilterState, PICKER_ROWS};

/// Everything that can happen to the app: input, and results from the fetch layer.
#[derive(Debug, Clone)]
pub enum Msg {
    Key(KeyEvent),
    Mouse(MouseEvent),
    Resize {
        width: u16,
        height: u16,
    },
    /// Periodic tick (spinner, clearing old messages).
    Tick,
    /// The wall clock, sent with every tick: `update` never reads the clock itself.
    Now(jiff::Timestamp),
    Fetched(Fetched),
    /// From the outbox worker: drafts found, writes confirmed, queued or refused.
    Outbox(Box<crate::outbox::OutboxReport>),
    /// Text pasted into the terminal (bracketed paste): it goes into the open editor.
    Paste(String),
    /// The provider's answer to `Effect::AddMessage` (boxed: it is rare, and would make
    /// every message as big as itself).
    MessageSent(Box<MessageSent>),
    /// A problem outside any request (the cache file is unusable): one line, shown as an
    /// error.
    Error(String),
    /// The store's copy of a list, answering `Effect::LoadCached`.
    Cached(Box<Cached>),
    /// The store's full-text ranking for `Effect::Search`: note ids, best first.
    Searched {
        account: usize,
        generation: u64,
        ids: Vec<String>,
    },
}

/// What the store had saved for a list; `generation` is the request it answers.
#[derive(Debug, Clone)]
pub struct Cached {
    pub account: usize,
    pub generation: u64,
    pub data: CachedData,
    /// When this list was last complete from the server.
    pub synced_at: Option<Timestamp>,
}

#[derive(Debug, Clone)]
pub enum CachedData {
    Customers(Vec<Customer>),
    Authors(Vec<filter::AuthorCount>),
    Notes(Vec<Note>),
}

/// A result from the fetch layer. `generation` is the number of the request it answers; a
/// result whose generation is no longer the current one for its view is dropped.
#[derive(Debug, Clone)]
pub struct Fetched {
    pub account: usize,
    pub generation: u64,
    pub event: FetchEvent,
}

#[derive(Debug, Clone)]
pub enum FetchEvent {
    /// One more page; `done` is true on the last one. `pages` counts pages received so far.
    CustomersPage {
        customers: Vec<Customer>,
        pages: u32,
        done: bool,
    },
    NotesPage {
        notes: Vec<Note>,
        pages: u32,
        done: bool,
    },
    ContactsPage {
        contacts: Vec<Contact>,
        done: bool,
    },
    /// The request failed; `error` is one line, ready for the status line. `offline`: the
    /// server could not be reached at all.
    Failed {
        error: String,
        offline: bool,
    },
}

/// What `update` asks the outside world to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Start a fetch; a newer request for the same slot cancels the older one.
    Fetch(FetchRequest),
    /// Open a web link in the user's browser.
    OpenUrl(String),
    /// Put text on the clipboard (the terminal does it, via OSC 52).
    Copy(String),
    /// Autosave the editor's draft (the store thread writes it; the latest one wins).
    SaveDraft(crate::store::Draft),
    /// The agent threw a draft away.
    DeleteDraft {
        account: String,
        customer_id: String,
        note_id: Option<String>,
    },
    /// Send a write through the outbox. `local_id` names the optimistic timeline entry until
    /// the worker reports back.
    Submit {
        account: usize,
        local_id: String,
        op: crate::store::WriteOp,
    },
    /// Try every unsent write now (`r`).
    RetryOutbox,
    /// Drop a refused write from the outbox: its content went back to the agent.
    DiscardOutbox {
        outbox_id: i64,
    },
    /// Add a message to a note's thread (Peoplevine). Not queued in the outbox: the agent
    /// sees it "sending…" and gets the text back if it fails. The answer is
    /// `Msg::MessageSent` with the same `local_id`.
    AddMessage {
        account: usize,
        note_id: String,
        local_id: String,
        text: String,
    },
    /// Read the store's copy of a list (answered by `Msg::Cached`).
    LoadCached(CacheRead),
    /// Save what the server sent in the store.
    Cache(CacheWrite),
    /// Rank the account's cached notes for the filter's free text (answered by
    /// `Msg::Searched`).
    Search {
        account: usize,
        generation: u64,
        query: crate::cache::SearchQuery,
    },
    Quit,
}

/// A list to read from the store.
#[derive(Debug, Clone, PartialEq)]
pub struct CacheRead {
    pub account: usize,
    pub generation: u64,
    pub what: CacheScope,
}

#[derive(Debug, Clone, PartialEq)]
pub enum CacheScope {
    Customers,
    /// Everyone who wrote a cached note of the account (what Tab completes).
    Authors,
    /// One customer's notes, or the whole account's (`None`).
    Notes {
        customer: Option<String>,
    },
}

/// Something the server sent, to keep for the next start and for offline use.
#[derive(Debug, Clone, PartialEq)]
pub enum CacheWrite {
    /// One page of the account's customers listing (`page` counts from 1; `done` ends it).
    Customers {
        account: usize,
        page: u32,
        customers: Vec<Customer>,
        done: bool,
    },
    /// One page of a notes listing: one customer's or the account's (`None`).
    Notes {
        account: usize,
        customer: Option<String>,
        page: u32,
        notes: Vec<Note>,
        done: bool,
    },
    /// Notes known to exist (a filtered listing, a confirmed write): kept, nothing removed.
    Upsert { account: usize, notes: Vec<Note> },
    /// A note deleted on the server.
    Remove { account: usize, id: String },
}

#[derive(Debug, Clone, PartialEq)]
pub struct FetchRequest {
    pub account: usize,
    pub generation: u64,
    pub kind: FetchKind,
}

#[derive(Debug, Clone, PartialEq)]
pub enum FetchKind {
    Customers(CustomerQuery),
    Notes(NoteQuery),
    Contacts {
        customer_id: String,
    },
    /// The Timeline's notes as the server filters them (merged into the timeline).
    FilteredNotes(NoteQuery),
    /// A provider-side customer search (an email), merged into the list.
    CustomerSearch(CustomerQuery),
}

/// The views whose fetches replace each other ("latest request wins" per account and slot).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FetchSlot {
    Customers,
    Timeline,
    Contacts,
    TimelineFilter,
    CustomerSearch,
}

impl FetchKind {
    pub fn slot(&self) -> FetchSlot {
        match self {
            FetchKind::Customers(_) => FetchSlot::Customers,
            FetchKind::Notes(_) => FetchSlot::Timeline,
            FetchKind::Contacts { .. } => FetchSlot::Contacts,
            FetchKind::FilteredNotes(_) => FetchSlot::TimelineFilter,
            FetchKind::CustomerSearch(_) => FetchSlot::CustomerSearch,
        }
    }
}

/// Which pane has the keyboard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Pane {
    #[default]
    Customers,
    Timeline,
    Note,
}

impl Pane {
    const ORDER: [Pane; 3] = [Pane::Customers, Pane::Timeline, Pane::Note];

    fn index(self) -> usize {
        match self {
            Pane::Customers => 0,
            Pane::Timeline => 1,
            Pane::Note => 2,
        }
    }

    /// The next pane, wrapping around (`Tab`).
    fn cycled(self, forward: bool) -> Pane {
        let step = if forward { 1 } else { Pane::ORDER.len() - 1 };
        Pane::ORDER[(self.index() + step) % Pane::ORDER.len()]
    }

    /// The neighbouring pane, stopping at the ends (`h`/`l`).
    fn stepped(self, forward: bool) -> Pane {
        let index = if forward {
            (self.index() + 1).min(Pane::ORDER.len() - 1)
        } else {
            self.index().saturating_sub(1)
        };
        Pane::ORDER[index]
    }
}

/// One account as the tab bar shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct AccountTab {
    pub name: String,
    pub provider: ProviderKind,
    pub capabilities: Capabilities,
}

/// Everything one account shows, kept while another account's tab is active.
#[derive(Debug, Clone, Default)]
pub struct AccountView {
    pub customers: CustomerList,
    pub timeline: Timeline,
    pub note: NotePane,
    /// Writes the server has not confirmed (optimistic, unsent, refused).
    pub writes: writes::Writes,
    /// The account's drafts by (customer, edited note): what the editor reopens.
    pub drafts: HashMap<(String, Option<String>), crate::store::Draft>,
    /// The author of new notes unless the agent types another (`set_author_email`).
    pub author_email: Option<String>,
    /// Messages handed to the provider and not answered yet, oldest first.
    pub pending_messages: Vec<composer::PendingMessage>,
    /// Messages begun and closed with Esc, or given back after a failed send, by note id.
    pub message_drafts: HashMap<String, String>,
    /// The Timeline filter as typed (kept while other accounts are shown).
    pub filter: FilterState,
    pub sync: SyncState,
    /// Which pane had the keyboard when another account's tab was opened.
    pub focus: Pane,
    /// Authors of the account's saved notes, most notes first: Tab completes them.
    pub authors: Vec<filter::AuthorCount>,
}

/// How fresh the account's data is, for the status line.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SyncState {
    /// When a listing last completed from the server (or the store's record of it).
    pub updated: Option<Timestamp>,
    /// The last request could not reach the server.
    pub offline: bool,
}

/// The status line's message: an error (red, stays until replaced or dismissed) or a piece
/// of information (fades after a few ticks).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusMessage {
    pub text: String,
    pub error: bool,
    /// The tick count when it arrived (information fades by ticks).
    pub since_tick: u64,
    /// The wall-clock time it arrived, once `Msg::Now` has told the app the time.
    pub at: Option<Timestamp>,
}

/// How many ticks an information message stays.
pub const INFO_TICKS: u64 = 20;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Screen {
    /// No config yet: how to write one (the path to show).
    Welcome {
        config_path: String,
    },
    Browser,
}

/// All UI state. `ui::draw` reads it; only `update` changes it.
#[derive(Debug, Clone)]
pub struct App {
    pub(crate) screen: Screen,
    pub(crate) accounts: Vec<AccountTab>,
    /// One per account, same order.
    pub(crate) views: Vec<AccountView>,
    pub(crate) active: usize,
    pub(crate) focus: Pane,
    pub(crate) help_open: bool,
    pub(crate) help_scroll: usize,
    pub(crate) status: Option<StatusMessage>,
    pub(crate) tz: TimeZone,
    /// The terminal size, from `Msg::Resize`; mouse hit-testing lays it out like drawing does.
    pub(crate) size: Rect,
    pub(crate) tick: u64,
    /// The latest wall-clock time from `Msg::Now`.
    pub(crate) now: Option<Timestamp>,
    /// The note or call being written; while it is open it has the keyboard.
    pub(crate) editor: Option<editor::Editor>,
    /// A message being written to the selected note's thread; it has the keyboard too.
    pub(crate) composer: Option<composer::Composer>,
    /// A y/n question in the status line; the next key answers it.
    pub(crate) confirm: Option<compose::Confirm>,
    pub(crate) stopwatch: Option<compose::Stopwatch>,
    /// The filter bar, while it has the keyboard.
    pub(crate) bar: Option<FilterBar>,
    /// The author picker, while it has the keyboard.
    pub(crate) picker: Option<AuthorPicker>,
    /// Numbers the optimistic entries ("local-1", "local-2", …).
    next_local: u64,
    next_gen: u64,
    quit: bool,
}

impl App {
    /// The browser. Returns the app and its first effects (fetch the first account's customers).
    pub fn new(accounts: Vec<AccountTab>, tz: TimeZone) -> (App, Vec<Effect>) {
        let views = accounts.iter().map(|_| AccountView::default()).collect();
        let mut app = App {
            screen: Screen::Browser,
            accounts,
            views,
            active: 0,
            focus: Pane::Customers,
            help_open: false,
            help_scroll: 0,
            status: None,
            tz,
            size: Rect::default(),
            tick: 0,
            now: None,
            editor: None,
            composer: None,
            confirm: None,
            stopwatch: None,
            bar: None,
            picker: None,
            next_local: 1,
            next_gen: 1,
            quit: false,
        };
        let mut effects = Vec::new();
        app.load_customers(0, &mut effects);
        (app, effects)
    }

    /// No config file and no --demo: the welcome screen (config path to show).
    pub fn welcome(config_path: String) -> App {
        let (mut app, _) = App::new(Vec::new(), TimeZone::UTC);
        app.screen = Screen::Welcome { config_path };
        app
    }

    pub fn should_quit(&self) -> bool {
        self.quit
    }

    pub fn focus(&self) -> Pane {
        self.focus
    }

    pub fn active_account(&self) -> usize {
        self.active
    }

    pub fn help_open(&self) -> bool {
        self.help_open
    }

    pub fn status(&self) -> Option<&StatusMessage> {
        self.status.as_ref()
    }

    /// The active account's panes, if there is an account.
    pub fn view(&self) -> Option<&AccountView> {
        self.views.get(self.active)
    }

    /// The active account's tab.
    pub fn account(&self) -> Option<&AccountTab> {
        self.accounts.get(self.active)
    }

    pub fn update(&mut self, msg: Msg) -> Vec<Effect> {
        let mut effects = Vec::new();
        match msg {
            Msg::Key(key) => self.on_key(&key, &mut effects),
            Msg::Mouse(mouse) => self.on_mouse(&mouse, &mut effects),
            Msg::Resize { width, height } => self.on_resize(width, height),
            Msg::Tick => self.on_tick(),
            Msg::Fetched(fetched) => self.on_fetched(fetched, &mut effects),
            Msg::Now(now) => self.now = Some(now),
            Msg::Outbox(report) => self.on_outbox(*report, &mut effects),
            Msg::Paste(text) => self.on_paste(&text, &mut effects),
            Msg::MessageSent(sent) => self.on_message_sent(*sent),
            Msg::Error(text) => {
                self.status = Some(StatusMessage {
                    text,
                    error: true,
                    since_tick: self.tick,
                    at: self.now,
                });
            }
            Msg::Cached(cached) => self.on_cached(*cached, &mut effects),
            Msg::Searched {
                account,
                generation,
                ids,
            } => self.on_searched(account, generation, ids),
        }
        effects
    }

    fn on_key(&mut self, key: &KeyEvent, effects: &mut Vec<Effect>) {
        // A question waiting for y/n, then the open editor, get keys before the keymap.
        if self.screen == Screen::Browser && !self.help_open && key.kind != KeyEventKind::Release {
            if self.confirm.is_some() {
                self.on_confirm_key(key, effects);
                return;
            }
            if self.editor.is_some() {
                self.on_editor_key(key, effects);
                return;
            }
            if self.composer.is_some() {
                self.on_composer_key(key, effects);
                return;
            }
            if self.picker.is_some() {
                self.on_picker_key(key, effects);
                return;
            }
            if self.bar.is_some() {
                self.on_bar_key(key, effects);
                return;
            }
        }
        let Some(action) = keys::action_for(key) else {
            return;
        };
        if let Screen::Welcome { .. } = self.screen {
            if matches!(action, Action::Quit | Action::Back) {
                self.quit(effects);
            }
            return;
        }
        if self.help_open {
            self.on_help_key(action, effects);
            return;
        }
        match action {
            Action::Quit => self.quit(effects),
            Action::Help => {
                self.help_open = true;
                self.help_scroll = 0;
            }
            Action::Back => match self.views.get_mut(self.active) {
                Some(view) if view.note.show_contacts => {
                    view.note.show_contacts = false;
                    view.note.scroll = 0;
                }
                // Esc peels one layer at a time: an error, then the focused filter (an
                // information message fades by itself and goes with it).
                _ if self.status.as_ref().is_some_and(|s| s.error) => self.status = None,
                _ => {
                    self.status = None;
                    self.clear_focused_filter(effects);
                }
            },
            Action::Down => self.move_in_focus(Step::By(1), effects),
            Action::Up => self.move_in_focus(Step::By(-1), effects),
            Action::PageDown => self.move_in_focus(Step::Page(1), effects),
            Action::PageUp => self.move_in_focus(Step::Page(-1), effects),
            Action::Top => self.move_in_focus(Step::Top, effects),
            Action::Bottom => self.move_in_focus(Step::Bottom, effects),
            Action::NextPane => self.focus = self.focus.cycled(true),
            Action::PrevPane => self.focus = self.focus.cycled(false),
            Action::PaneLeft => self.focus = self.focus.stepped(false),
            Action::PaneRight => self.focus = self.focus.stepped(true),
            Action::Open => self.open(),
            Action::Contacts => self.toggle_contacts(effects),
            Action::Refresh => self.refresh(effects),
            Action::Copy => self.copy(effects),
            Action::OpenInBrowser => self.open_in_browser(effects),
            Action::SwitchAccount(index) => self.switch_account(usize::from(index), effects),
            Action::Filter => self.open_bar(),
            Action::Author => self.open_author_picker(),
            Action::KindFilter => self.cycle_kind(effects),
            Action::NewNote => self.open_new(NoteKind::Note, effects),
            Action::LogCall => self.open_new(NoteKind::Call, effects),
            Action::Stopwatch => self.toggle_stopwatch(effects),
            Action::Edit => self.edit_selected(effects),
            Action::Delete => self.ask_delete(),
            Action::AddMessage => self.open_composer(),
        }
    }

    fn on_help_key(&mut self, action: Action, effects: &mut Vec<Effect>) {
        let rows = keys::help_rows().len();
        match action {
            Action::Quit => self.quit(effects),
            Action::Help | Action::Back => self.help_open = false,
            Action::Down | Action::PageDown => self.help_scroll = (self.help_scroll + 1).min(rows),
            Action::Up | Action::PageUp => self.help_scroll = self.help_scroll.saturating_sub(1),
            Action::Top => self.help_scroll = 0,
            Action::Bottom => self.help_scroll = rows,
            _ => {}
        }
    }

    fn quit(&mut self, effects: &mut Vec<Effect>) {
        self.quit = true;
        effects.push(Effect::Quit);
    }

    fn on_mouse(&mut self, mouse: &MouseEvent, effects: &mut Vec<Effect>) {
        // While writing, the keyboard owns the editor; a click elsewhere would leave the
        // keys typing into a pane that no longer looks focused.
        if self.screen != Screen::Browser
            || self.help_open
            || self.editor.is_some()
            || self.composer.is_some()
            || self.confirm.is_some()
            || self.picker.is_some()
        {
            return;
        }
        let areas = ui::layout(self.size);
        let at = Position::new(mouse.column, mouse.row);
        match mouse.kind {
            MouseEventKind::Down(MouseButton::Left) => {
                if areas.tabs.contains(at) {
                    if let Some(index) = ui::tabs::tab_at(&self.accounts, mouse.column) {
                        self.switch_account(index, effects);
                    }
                } else if areas.customers.contains(at) {
                    self.focus = Pane::Customers;
                    let list = areas.customers_list();
                    if list.contains(at) {
                        let row = usize::from(at.y - list.y);
                        self.click_customer(row, effects);
                    }
                } else if areas.timeline.contains(at) {
                    self.focus = Pane::Timeline;
                    let list = areas.timeline_list();
                    if list.contains(at) {
                        let row = usize::from(at.y - list.y) / ui::timeline::ENTRY_HEIGHT;
                        self.click_note(row);
                    }
                } else if areas.note.contains(at) {
                    self.focus = Pane::Note;
                }
            }
            MouseEventKind::ScrollDown | MouseEventKind::ScrollUp => {
                let down = mouse.kind == MouseEventKind::ScrollDown;
                let pane = if areas.customers.contains(at) {
                    Pane::Customers
                } else if areas.timeline.contains(at) {
                    Pane::Timeline
                } else if areas.note.contains(at) {
                    Pane::Note
                } else {
                    return;
                };
                let step = match (pane, down) {
                    (Pane::Note, true) => Step::By(WHEEL_LINES),
                    (Pane::Note, false) => Step::By(-WHEEL_LINES),
                    (_, true) => Step::By(1),
                    (_, false) => Step::By(-1),
                };
                self.move_in(pane, step, effects);
            }
            _ => {}
        }
    }

    fn click_customer(&mut self, row: usize, effects: &mut Vec<Effect>) {
        let rows = self.customer_rows();
        let Some(view) = self.views.get_mut(self.active) else {
            return;
        };
        let len = view.customers.rows();
        let index = view.customers.cursor.window_start(len, rows) + row;
        if index < len && view.customers.cursor.select(index, len, rows) {
            self.load_timeline(self.active, effects);
        }
    }

    fn click_note(&mut self, row: usize) {
        let rows = self.timeline_rows();
        let Some(view) = self.views.get_mut(self.active) else {
            return;
        };
        let len = view.timeline.len();
        let index = view.timeline.cursor.window_start(len, rows) + row;
        if index < len && view.timeline.cursor.select(index, len, rows) {
            view.note.scroll = 0;
        }
    }

    fn on_resize(&mut self, width: u16, height: u16) {
        self.size = Rect::new(0, 0, width, height);
        let customer_rows = self.customer_rows();
        let timeline_rows = self.timeline_rows();
        for view in &mut self.views {
            let len = view.customers.rows();
            view.customers.cursor.clamp(len, customer_rows);
            let len = view.timeline.len();
            view.timeline.cursor.clamp(len, timeline_rows);
        }
        self.clamp_note_scroll();
    }

    fn on_tick(&mut self) {
        self.tick = self.tick.wrapping_add(1);
        let expired = self
            .status
            .as_ref()
            .is_some_and(|s| !s.error && self.tick.saturating_sub(s.since_tick) >= INFO_TICKS);
        if expired {
            self.status = None;
        }
    }

    fn on_fetched(&mut self, fetched: Fetched, effects: &mut Vec<Effect>) {
        let account = fetched.account;
        let customer_rows = self.customer_rows();
        let timeline_rows = self.timeline_rows();
        let now = self.now;
        let Some(view) = self.views.get_mut(account) else {
            return;
        };
        let generation = fetched.generation;
        match fetched.event {
            FetchEvent::CustomersPage {
                customers,
                pages,
                done,
            } => {
                if generation != 0 && generation == view.customers.search_generation {
                    view.sync.offline = false;
                    if view.customers.merge(customers, customer_rows) {
                        self.load_timeline(account, effects);
                    }
                    return;
                }
                if generation != view.customers.generation || !view.customers.loading {
                    return;
                }
                view.sync.offline = false;
                effects.push(Effect::Cache(CacheWrite::Customers {
                    account,
                    page: pages,
                    customers: customers.clone(),
                    done,
                }));
                if done {
                    view.sync.updated = now.or(view.sync.updated);
                }
                let changed = view
                    .customers
                    .receive(customers, pages, done, customer_rows);
                if changed {
                    self.load_timeline(account, effects);
                }
            }
            FetchEvent::NotesPage { notes, pages, done } => {
                if generation != 0 && generation == view.timeline.filter_generation {
                    view.sync.offline = false;
                    effects.push(Effect::Cache(CacheWrite::Upsert {
                        account,
                        notes: notes.clone(),
                    }));
                    view.timeline.merge(notes, timeline_rows);
                    writes::overlay(&mut view.timeline, &view.writes, timeline_rows);
                    return;
                }
                if generation != view.timeline.generation || !view.timeline.loading {
                    return;
                }
                view.sync.offline = false;
                effects.push(Effect::Cache(CacheWrite::Notes {
                    account,
                    customer: view.timeline.customer_id.clone(),
                    page: pages,
                    notes: notes.clone(),
                    done,
                }));
                if done {
                    view.sync.updated = now.or(view.sync.updated);
                }
                if view.timeline.receive(notes, pages, done, timeline_rows) {
                    view.note.scroll = 0;
                }
                writes::overlay(&mut view.timeline, &view.writes, timeline_rows);
            }
            FetchEvent::ContactsPage { contacts, done } => {
                let Some((pending_gen, customer_id)) = view.note.pending.clone() else {
                    return;
                };
                if generation != pending_gen {
                    return;
                }
                let list = view.note.contacts.entry(customer_id).or_default();
                list.items.extend(contacts);
                if done {
                    list.done = true;
                    view.note.pending = None;
                }
            }
            FetchEvent::Failed { error, offline } => {
                if view.customers.loading && generation == view.customers.generation {
                    view.customers.fail();
                } else if view.timeline.loading && generation == view.timeline.generation {
                    view.timeline.fail();
                } else if generation != 0
                    && (generation == view.timeline.filter_generation
                        || generation == view.customers.search_generation)
                {
                    // The local filter still shows what is loaded; say what the server
                    // could not add.
                } else if let Some((pending_gen, customer_id)) = view.note.pending.clone() {
                    if generation != pending_gen {
                        return;
                    }
                    // Forget the half-loaded entry so showing contacts again retries.
                    view.note.contacts.remove(&customer_id);
                    view.note.pending = None;
                } else {
                    return;
                }
                let text = if offline {
                    view.sync.offline = true;
                    let saved = view.customers.from_cache || view.timeline.from_cache;
                    if saved {
                        format!("Offline, showing what was saved: {error}")
                    } else {
                        format!("Offline: {error}")
                    }
                } else {
                    error
                };
                self.status = Some(StatusMessage {
                    text,
                    error: true,
                    since_tick: self.tick,
                    at: self.now,
                });
            }
        }
    }

    /// The store's copy of a list: shown at once if the server's has not arrived yet.
    fn on_cached(&mut self, cached: Cached, effects: &mut Vec<Effect>) {
        let customer_rows = self.customer_rows();
        let timeline_rows = self.timeline_rows();
        let Some(view) = self.views.get_mut(cached.account) else {
            return;
        };
        if view.sync.updated.is_none() {
            view.sync.updated = cached.synced_at;
        }
        match cached.data {
            CachedData::Customers(customers) => {
                if cached.generation != view.customers.generation {
                    return;
                }
                if view.customers.receive_cached(customers, customer_rows) {
                    self.load_timeline(cached.account, effects);
                }
            }
            CachedData::Authors(authors) => view.authors = authors,
            CachedData::Notes(notes) => {
                if cached.generation != view.timeline.generation {
                    return;
                }
                if view.timeline.receive_cached(notes, timeline_rows) {
                    view.note.scroll = 0;
                    writes::overlay(&mut view.timeline, &view.writes, timeline_rows);
                }
            }
        }
    }

    fn on_searched(&mut self, account: usize, generation: u64, ids: Vec<String>) {
        let rows = self.timeline_rows();
        let Some(view) = self.views.get_mut(account) else {
            return;
        };
        if generation != view.filter.search_generation {
            return;
        }
        view.timeline.set_ranking(generation, ids, rows);
    }

    fn next_gen(&mut self) -> u64 {
        let generation = self.next_gen;
        self.next_gen += 1;
        generation
    }

    fn fetch(&mut self, account: usize, kind: FetchKind, effects: &mut Vec<Effect>) -> u64 {
        let generation = self.next_gen();
        effects.push(Effect::Fetch(FetchRequest {
            account,
            generation,
            kind,
        }));
        generation
    }

    /// Asks for `account`'s customers (first load, or refresh keeping the old list meanwhile);
    /// the first time, the store's copy too, which shows until the server's arrives.
    fn load_customers(&mut self, account: usize, effects: &mut Vec<Effect>) {
        if account >= self.views.len() {
            return;
        }
        let first = self
            .views
            .get(account)
            .is_some_and(|v| !v.customers.requested);
        let generation = self.fetch(
            account,
            FetchKind::Customers(CustomerQuery::default()),
            effects,
        );
        if first {
            for what in [CacheScope::Customers, CacheScope::Authors] {
                effects.push(Effect::LoadCached(CacheRead {
                    account,
                    generation,
                    what,
                }));
            }
        }
        if let Some(view) = self.views.get_mut(account) {
            view.customers.start(generation);
        }
    }

    /// Replaces `account`'s timeline with the selected customer's (or the account-wide
    /// feed), emptied at once so nothing of the previous one shows under the new name, and
    /// asks for its notes: the store's copy and the server's.
    fn load_timeline(&mut self, account: usize, effects: &mut Vec<Effect>) {
        let selection = match self
            .views
            .get(account)
            .and_then(|v| v.customers.selection())
        {
            Some(Selection::All) => Some(None),
            Some(Selection::Customer(c)) => Some(Some(c.clone())),
            None => None,
        };
        let Some(customer) = selection else {
            if let Some(view) = self.views.get_mut(account) {
                view.timeline = Timeline::default();
                view.note.scroll = 0;
            }
            return;
        };
        let query = NoteQuery {
            customer_id: customer.as_ref().map(|c| c.id.clone()),
            ..NoteQuery::default()
        };
        let generation = self.fetch(account, FetchKind::Notes(query), effects);
        effects.push(Effect::LoadCached(CacheRead {
            account,
            generation,
            what: CacheScope::Notes {
                customer: customer.as_ref().map(|c| c.id.clone()),
            },
        }));
        let rows = self.timeline_rows();
        let show_contacts = match self.views.get_mut(account) {
            Some(view) => {
                view.timeline = match &customer {
                    Some(customer) => Timeline::for_customer(customer, generation),
                    None => Timeline::for_account(generation),
                };
                writes::overlay(&mut view.timeline, &view.writes, rows);
                view.note.scroll = 0;
                view.note.show_contacts && customer.is_some()
            }
            None => false,
        };
        // The account's filter carries over to the new timeline: applied here, ranked by
        // the store for the new scope, and sent to the server where it can filter.
        self.apply_filter(account, true, effects);
        if show_contacts {
            self.ensure_contacts(account, effects);
        }
    }

    /// Asks for the selected customer's contacts unless they are known or on their way.
    fn ensure_contacts(&mut self, account: usize, effects: &mut Vec<Effect>) {
        let has_contacts = self
            .accounts
            .get(account)
            .is_some_and(|a| a.capabilities.contacts);
        let Some(customer_id) = self
            .views
            .get(account)
            .and_then(|v| v.customers.selected())
            .map(|c| c.id.clone())
        else {
            return;
        };
        let known = self
            .views
            .get(account)
            .is_some_and(|v| v.note.contacts.contains_key(&customer_id));
        if !has_contacts || known {
            return;
        }
        let kind = FetchKind::Contacts {
            customer_id: customer_id.clone(),
        };
        let generation = self.fetch(account, kind, effects);
        if let Some(view) = self.views.get_mut(account) {
            // The new request cancels the one in flight: forget its half-loaded entry so that
            // customer's contacts are asked for again when shown.
            if let Some((_, cancelled)) = view.note.pending.take() {
                if view.note.contacts.get(&cancelled).is_some_and(|c| !c.done) {
                    view.note.contacts.remove(&cancelled);
                }
            }
            view.note
                .contacts
                .insert(customer_id.clone(), ContactList::default());
            view.note.pending = Some((generation, customer_id));
        }
    }

    fn move_in_focus(&mut self, step: Step, effects: &mut Vec<Effect>) {
        self.move_in(self.focus, step, effects);
    }

    fn move_in(&mut self, pane: Pane, step: Step, effects: &mut Vec<Effect>) {
        let customer_rows = self.customer_rows();
        let timeline_rows = self.timeline_rows();
        let note_rows = self.note_rows();
        let Some(view) = self.views.get_mut(self.active) else {
            return;
        };
        match pane {
            Pane::Customers => {
                let len = view.customers.rows();
                if step.apply(&mut view.customers.cursor, len, customer_rows) {
                    self.load_timeline(self.active, effects);
                }
            }
            Pane::Timeline => {
                let len = view.timeline.len();
                if step.apply(&mut view.timeline.cursor, len, timeline_rows) {
                    view.note.scroll = 0;
                }
            }
            Pane::Note => {
                let page = note_rows.saturating_sub(1).max(1);
                let scroll = view.note.scroll;
                view.note.scroll = match step {
                    Step::By(delta) => add_signed(scroll, delta),
                    Step::Page(pages) => add_signed(scroll, pages.saturating_mul(page as isize)),
                    Step::Top => 0,
                    Step::Bottom => usize::MAX,
                };
                self.clamp_note_scroll();
            }
        }
    }

    fn clamp_note_scroll(&mut self) {
        let max = ui::note::content_height(self).saturating_sub(self.note_rows());
        if let Some(view) = self.views.get_mut(self.active) {
            view.note.scroll = view.note.scroll.min(max);
        }
    }

    fn open(&mut self) {
        match self.focus {
            Pane::Customers => self.focus = Pane::Timeline,
            Pane::Timeline => {
                if self.view().and_then(|v| v.timeline.selected()).is_some() {
                    self.focus = Pane::Note;
                }
            }
            Pane::Note => {}
        }
    }

    fn toggle_contacts(&mut self, effects: &mut Vec<Effect>) {
        let Some(account) = self.accounts.get(self.active) else {
            return;
        };
        if !account.capabilities.contacts {
            let text = format!(
                "{} ({}) has no contacts to show",
                account.name,
                account.provider.display_name()
            );
            self.inform(text);
            return;
        }
        let showing = match self.views.get_mut(self.active) {
            Some(view) => {
                view.note.show_contacts = !view.note.show_contacts;
                view.note.scroll = 0;
                view.note.show_contacts
            }
            None => return,
        };
        if showing {
            self.ensure_contacts(self.active, effects);
        }
    }

    fn refresh(&mut self, effects: &mut Vec<Effect>) {
        let account = self.active;
        if account >= self.views.len() {
            return;
        }
        // `r` is also "try the unsent notes now" (the worker retries with backoff anyway).
        effects.push(Effect::RetryOutbox);
        self.load_customers(account, effects);
        let scope = self
            .view()
            .filter(|v| v.timeline.is_open())
            .map(|v| v.timeline.customer_id.clone());
        if let Some(customer_id) = scope {
            let query = NoteQuery {
                customer_id,
                ..NoteQuery::default()
            };
            let generation = self.fetch(account, FetchKind::Notes(query), effects);
            if let Some(view) = self.views.get_mut(account) {
                view.timeline.refresh(generation);
            }
            self.apply_filter(account, true, effects);
        }
        let show_contacts = match self.views.get_mut(account) {
            Some(view) => {
                view.note.contacts.clear();
                view.note.pending = None;
                view.note.show_contacts
            }
            None => false,
        };
        if show_contacts {
            self.ensure_contacts(account, effects);
        }
    }

    fn copy(&mut self, effects: &mut Vec<Effect>) {
        match self.view().and_then(|v| v.timeline.selected()) {
            Some(note) => {
                effects.push(Effect::Copy(note.text.clone()));
                self.inform("Copied the note's text".to_string());
            }
            None => self.inform("No note selected to copy".to_string()),
        }
    }

    /// `o`: the most specific link there is — the selected note's attachment, else the note
    /// itself in the provider's web app, else the selected customer — or why there is none.
    fn open_in_browser(&mut self, effects: &mut Vec<Effect>) {
        let provider = self
            .account()
            .map_or("this provider", |a| a.provider.display_name());
        let view = self.view();
        let note = view.and_then(|v| v.timeline.selected());
        let customer = view.and_then(|v| v.customers.selected());
        let link = |url: &Option<String>| url.clone().filter(|u| !u.trim().is_empty());
        let attachment = note
            .and_then(|n| n.extras.attachment.as_ref())
            .and_then(|a| Some((a.name.clone(), link(&a.url)?)));
        let (url, text) = if let Some((name, url)) = attachment {
            (
                Some(url),
                format!("Opening the attachment {name} in the browser"),
            )
        } else if let Some(url) = note.and_then(|n| link(&n.web_url)) {
            (Some(url), format!("Opening the note in {provider}"))
        } else {
            match customer {
                Some(customer) => match link(&customer.web_url) {
                    Some(url) => (
                        Some(url),
                        format!("Opening {} in the browser", customer.name),
                    ),
                    None if note.is_some() => (
                        None,
                        format!(
                            "Nothing to open: neither this note nor {} has a web link in {provider}",
                            customer.name
                        ),
                    ),
                    None => (
                        None,
                        format!("{} has no web link in {provider}", customer.name),
                    ),
                },
                None => (None, "No customer selected".to_string()),
            }
        };
        if let Some(url) = url {
            effects.push(Effect::OpenUrl(url));
        }
        self.inform(text);
    }

    fn switch_account(&mut self, index: usize, effects: &mut Vec<Effect>) {
        if index >= self.accounts.len() {
            let text = match self.accounts.len() {
                1 => format!("There is no account {}: only 1 is set up", index + 1),
                n => format!("There is no account {}: {n} are set up", index + 1),
            };
            self.inform(text);
            return;
        }
        // Each account keeps the pane the agent was working in.
        if let Some(view) = self.views.get_mut(self.active) {
            view.focus = self.focus;
        }
        self.active = index;
        self.bar = None;
        self.picker = None;
        self.focus = self.view().map_or(Pane::Customers, |v| v.focus);
        let requested = self.view().is_some_and(|v| v.customers.requested);
        if !requested {
            self.load_customers(index, effects);
        }
        self.clamp_note_scroll();
    }

    fn inform(&mut self, text: impl Into<String>) {
        self.status = Some(StatusMessage {
            text: text.into(),
            error: false,
            since_tick: self.tick,
            at: self.now,
        });
    }

    fn customer_rows(&self) -> usize {
        usize::from(ui::layout(self.size).customers_list().height)
    }

    fn timeline_rows(&self) -> usize {
        ui::timeline::entries_fitting(ui::layout(self.size).timeline_list().height)
    }

    fn note_rows(&self) -> usize {
        usize::from(ui::layout(self.size).note_body().height)
    }
}

/// Lines the note scrolls per wheel notch.
const WHEEL_LINES: isize = 3;

/// A movement of the selection (or of the note's scroll).
#[derive(Debug, Clone, Copy)]
enum Step {
    By(isize),
    Page(isize),
    Top,
    Bottom,
}

impl Step {
    /// Applies the step to a list cursor; returns whether the selection changed.
    fn apply(self, cursor: &mut ListCursor, len: usize, rows: usize) -> bool {
        match self {
            Step::By(delta) => cursor.move_by(delta, len, rows),
            Step::Page(pages) => {
                let page = rows.saturating_sub(1).max(1) as isize;
                cursor.move_by(pages.saturating_mul(page), len, rows)
            }
            Step::Top => cursor.select(0, len, rows),
            Step::Bottom => cursor.select(len.saturating_sub(1), len, rows),
        }
    }
}

fn add_signed(value: usize, delta: isize) -> usize {
    if delta < 0 {
        value.saturating_sub(delta.unsigned_abs())
    } else {
        value.saturating_add(delta.unsigned_abs())
    }
}

#[cfg(test)]
mod extras_tests;
#[cfg(test)]
mod filter_tests;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod writing_tests;
