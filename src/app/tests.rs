//! `App::update` driven message by message: every behaviour of the browser without a terminal.

use jiff::Timestamp;
use jiff::tz::TimeZone;
use ratatui::crossterm::event::{
    KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind,
};

use super::*;
use crate::model::{Capabilities, Contact, Customer, Note, NoteKind, ProviderKind};
use crate::ui;

pub(super) fn account(name: &str) -> AccountTab {
    AccountTab {
        name: name.to_string(),
        provider: ProviderKind::ChartMogul,
        capabilities: Capabilities {
            contacts: true,
            web_link: true,
            ..Capabilities::default()
        },
    }
}

pub(super) fn customer(i: usize) -> Customer {
    Customer {
        id: format!("c{i}"),
        name: format!("Customer {i}"),
        web_url: Some(format!("https://app.example.com/customers/c{i}")),
        ..Customer::default()
    }
}

pub(super) fn customers(range: std::ops::Range<usize>) -> Vec<Customer> {
    range.map(customer).collect()
}

pub(super) fn note(id: &str, customer_id: &str, second: i64) -> Note {
    Note {
        id: id.to_string(),
        customer_id: Some(customer_id.to_string()),
        kind: NoteKind::Note,
        author_name: Some("Sara Lee".to_string()),
        author_email: None,
        text: format!("text of {id}"),
        call_duration_s: None,
        created_at: Timestamp::from_second(1_700_000_000 + second).unwrap_or(Timestamp::UNIX_EPOCH),
        updated_at: None,
        subject: None,
        web_url: None,
        extras: Default::default(),
    }
}

pub(super) fn key(code: KeyCode) -> Msg {
    Msg::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

pub(super) fn ch(c: char) -> Msg {
    key(KeyCode::Char(c))
}

pub(super) fn fetched(account: usize, generation: u64, event: FetchEvent) -> Msg {
    Msg::Fetched(Fetched {
        account,
        generation,
        event,
    })
}

pub(super) fn customers_page(list: Vec<Customer>, pages: u32, done: bool) -> FetchEvent {
    FetchEvent::CustomersPage {
        customers: list,
        pages,
        done,
    }
}

pub(super) fn notes_page(notes: Vec<Note>, pages: u32, done: bool) -> FetchEvent {
    FetchEvent::NotesPage { notes, pages, done }
}

pub(super) fn requests(effects: &[Effect]) -> Vec<&FetchRequest> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Fetch(r) => Some(r),
            _ => None,
        })
        .collect()
}

/// The one fetch in `effects`, which must be for `slot`.
pub(super) fn only_fetch(effects: &[Effect], slot: FetchSlot) -> FetchRequest {
    let found = requests(effects);
    assert_eq!(found.len(), 1, "expected one fetch in {effects:?}");
    let request = found[0].clone();
    assert_eq!(request.kind.slot(), slot);
    request
}

fn notes_customer(request: &FetchRequest) -> Option<&str> {
    match &request.kind {
        FetchKind::Notes(q) => q.customer_id.as_deref(),
        _ => None,
    }
}

/// A browser on an 80×24 terminal with `n` customers loaded in one page; returns the app and
/// the timeline request for the first customer.
pub(super) fn browser_with(accounts: Vec<AccountTab>, n: usize) -> (App, FetchRequest) {
    let (mut app, effects) = App::new(accounts, TimeZone::UTC);
    app.update(Msg::Resize {
        width: 80,
        height: 24,
    });
    let first = only_fetch(&effects, FetchSlot::Customers);
    let effects = app.update(fetched(
        0,
        first.generation,
        customers_page(customers(0..n), 1, true),
    ));
    let timeline = only_fetch(&effects, FetchSlot::Timeline);
    (app, timeline)
}

pub(super) fn browser(n: usize) -> (App, FetchRequest) {
    browser_with(vec![account("acme")], n)
}

/// A browser whose first customer's timeline holds `n` notes, newest first.
pub(super) fn browser_with_notes(n: usize) -> App {
    let (mut app, timeline) = browser(5);
    let notes = (0..n)
        .map(|i| note(&format!("n{i}"), "c0", -(i as i64) * 60))
        .collect();
    app.update(fetched(0, timeline.generation, notes_page(notes, 1, true)));
    app
}

pub(super) fn selected_customer(app: &App) -> Option<&str> {
    app.view()
        .and_then(|v| v.customers.selected())
        .map(|c| c.id.as_str())
}

pub(super) fn selected_note(app: &App) -> Option<&str> {
    app.view()
        .and_then(|v| v.timeline.selected())
        .map(|n| n.id.as_str())
}

pub(super) fn note_ids(app: &App) -> Vec<&str> {
    app.view()
        .map(|v| v.timeline.notes.iter().map(|n| n.id.as_str()).collect())
        .unwrap_or_default()
}

fn click(column: u16, row: u16) -> Msg {
    Msg::Mouse(MouseEvent {
        kind: MouseEventKind::Down(MouseButton::Left),
        column,
        row,
        modifiers: KeyModifiers::NONE,
    })
}

fn wheel(down: bool, column: u16, row: u16) -> Msg {
    Msg::Mouse(MouseEvent {
        kind: if down {
            MouseEventKind::ScrollDown
        } else {
            MouseEventKind::ScrollUp
        },
        column,
        row,
        modifiers: KeyModifiers::NONE,
    })
}

#[test]
fn starting_asks_for_the_first_accounts_customers() {
    let (_, effects) = App::new(vec![account("acme"), account("club")], TimeZone::UTC);
    let request = only_fetch(&effects, FetchSlot::Customers);
    assert_eq!(request.account, 0);
    assert_eq!(request.kind, FetchKind::Customers(CustomerQuery::default()));
}

#[test]
fn the_first_customers_page_selects_row_0_and_asks_for_its_timeline() {
    let (app, timeline) = browser(3);
    assert_eq!(selected_customer(&app), Some("c0"));
    assert_eq!(notes_customer(&timeline), Some("c0"));
    assert!(app.view().is_some_and(|v| v.timeline.loading));
}

#[test]
fn later_customer_pages_append_without_moving_the_selection() {
    let (mut app, effects) = App::new(vec![account("acme")], TimeZone::UTC);
    let request = only_fetch(&effects, FetchSlot::Customers);
    app.update(fetched(
        0,
        request.generation,
        customers_page(customers(0..2), 1, false),
    ));
    app.update(ch('j'));
    let effects = app.update(fetched(
        0,
        request.generation,
        customers_page(customers(2..4), 2, true),
    ));
    assert!(requests(&effects).is_empty());
    assert_eq!(selected_customer(&app), Some("c1"));
    assert_eq!(app.view().map(|v| v.customers.items.len()), Some(4));
    assert!(app.view().is_some_and(|v| !v.customers.loading));
}

#[test]
fn moving_to_another_customer_clears_the_timeline_and_asks_with_a_new_generation() {
    let mut app = browser_with_notes(3);
    let first_generation = app.view().map_or(0, |v| v.timeline.generation);
    let effects = app.update(ch('j'));
    let request = only_fetch(&effects, FetchSlot::Timeline);
    assert_eq!(notes_customer(&request), Some("c1"));
    assert!(request.generation > first_generation);
    assert!(
        note_ids(&app).is_empty(),
        "the old timeline must be gone at once"
    );
    let timeline = app.view().map(|v| &v.timeline);
    assert_eq!(
        timeline.map(|t| t.customer_name.as_str()),
        Some("Customer 1")
    );
}

#[test]
fn answers_for_customers_scrolled_past_are_dropped() {
    let (mut app, first) = browser(5);
    let mut last = None;
    for _ in 0..3 {
        last = Some(only_fetch(&app.update(ch('j')), FetchSlot::Timeline));
    }
    let last = last.expect("three moves made three requests");
    // The first customer's notes arrive late: they must not show under customer 3.
    app.update(fetched(
        0,
        first.generation,
        notes_page(vec![note("old", "c0", 0)], 1, true),
    ));
    assert!(note_ids(&app).is_empty());
    assert!(app.view().is_some_and(|v| v.timeline.loading));
    app.update(fetched(
        0,
        last.generation,
        notes_page(vec![note("new", "c3", 0)], 1, true),
    ));
    assert_eq!(note_ids(&app), vec!["new"]);
    assert_eq!(selected_customer(&app), Some("c3"));
}

#[test]
fn note_pages_append_and_stay_newest_first_even_when_a_page_is_out_of_order() {
    let (mut app, timeline) = browser(1);
    app.update(fetched(
        0,
        timeline.generation,
        notes_page(vec![note("b", "c0", 50), note("d", "c0", 10)], 1, false),
    ));
    assert_eq!(selected_note(&app), Some("b"));
    app.update(fetched(
        0,
        timeline.generation,
        notes_page(vec![note("c", "c0", 30), note("a", "c0", 90)], 2, true),
    ));
    assert_eq!(note_ids(&app), vec!["a", "b", "c", "d"]);
    assert_eq!(
        selected_note(&app),
        Some("b"),
        "the selection follows its note through the re-sort"
    );
    assert!(app.view().is_some_and(|v| !v.timeline.loading));
}

#[test]
fn a_failed_fetch_shows_the_error_stops_loading_and_keeps_the_rest() {
    let (mut app, timeline) = browser(3);
    app.update(fetched(
        0,
        timeline.generation,
        FetchEvent::Failed {
            error: "ChartMogul is not answering (timeout after 30s)".to_string(),
            offline: false,
        },
    ));
    let status = app.status().cloned();
    assert_eq!(
        status.as_ref().map(|s| s.text.as_str()),
        Some("ChartMogul is not answering (timeout after 30s)")
    );
    assert!(status.is_some_and(|s| s.error));
    assert!(app.view().is_some_and(|v| !v.timeline.loading));
    assert_eq!(app.view().map(|v| v.customers.items.len()), Some(3));
    // The app keeps working: moving on asks for the next timeline.
    let effects = app.update(ch('j'));
    assert_eq!(
        notes_customer(&only_fetch(&effects, FetchSlot::Timeline)),
        Some("c1")
    );
}

#[test]
fn a_failure_for_a_request_already_replaced_is_ignored() {
    let (mut app, first) = browser(3);
    app.update(ch('j'));
    app.update(fetched(
        0,
        first.generation,
        FetchEvent::Failed {
            error: "cancelled".to_string(),
            offline: false,
        },
    ));
    assert_eq!(app.status(), None);
    assert!(app.view().is_some_and(|v| v.timeline.loading));
}

#[test]
fn tab_and_shift_tab_cycle_the_panes_and_h_l_stop_at_the_ends() {
    let (mut app, _) = browser(1);
    assert_eq!(app.focus(), Pane::Customers);
    app.update(key(KeyCode::Tab));
    assert_eq!(app.focus(), Pane::Timeline);
    app.update(key(KeyCode::Tab));
    assert_eq!(app.focus(), Pane::Note);
    app.update(key(KeyCode::Tab));
    assert_eq!(app.focus(), Pane::Customers);
    app.update(Msg::Key(KeyEvent::new(
        KeyCode::BackTab,
        KeyModifiers::SHIFT,
    )));
    assert_eq!(app.focus(), Pane::Note);
    app.update(ch('l'));
    assert_eq!(app.focus(), Pane::Note, "l does not wrap around");
    app.update(ch('h'));
    app.update(ch('h'));
    app.update(ch('h'));
    assert_eq!(app.focus(), Pane::Customers);
}

#[test]
fn enter_opens_the_customers_timeline_then_the_selected_note() {
    let mut app = browser_with_notes(2);
    app.update(key(KeyCode::Enter));
    assert_eq!(app.focus(), Pane::Timeline);
    app.update(ch('j'));
    assert_eq!(selected_note(&app), Some("n1"));
    app.update(key(KeyCode::Enter));
    assert_eq!(app.focus(), Pane::Note);
}

#[test]
fn enter_on_an_empty_timeline_stays_there() {
    let (mut app, _) = browser(1);
    app.update(key(KeyCode::Enter));
    app.update(key(KeyCode::Enter));
    assert_eq!(app.focus(), Pane::Timeline);
}

#[test]
fn help_opens_with_question_mark_and_closes_with_esc_or_question_mark() {
    let (mut app, _) = browser(2);
    app.update(ch('?'));
    assert!(app.help_open());
    let effects = app.update(ch('j'));
    assert!(
        effects.is_empty(),
        "keys under the help do not reach the panes"
    );
    assert_eq!(selected_customer(&app), Some("c0"));
    app.update(key(KeyCode::Esc));
    assert!(!app.help_open());
    app.update(ch('?'));
    app.update(ch('?'));
    assert!(!app.help_open());
}

#[test]
fn q_and_ctrl_c_quit() {
    let (mut app, _) = browser(1);
    assert!(!app.should_quit());
    assert_eq!(app.update(ch('q')), vec![Effect::Quit]);
    assert!(app.should_quit());

    let (mut app, _) = browser(1);
    let ctrl_c = Msg::Key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL));
    assert_eq!(app.update(ctrl_c), vec![Effect::Quit]);
    assert!(app.should_quit());
}

#[test]
fn clicking_a_customer_row_selects_that_customer() {
    let (mut app, _) = browser(10);
    let list = ui::layout(Rect::new(0, 0, 80, 24)).customers_list();
    // Row 0 is the account-wide feed; row 5 is the fifth customer.
    let effects = app.update(click(list.x + 2, list.y + 5));
    assert_eq!(selected_customer(&app), Some("c4"));
    assert_eq!(
        notes_customer(&only_fetch(&effects, FetchSlot::Timeline)),
        Some("c4")
    );
    assert_eq!(app.focus(), Pane::Customers);
    // Below the last customer there is nothing to select.
    let effects = app.update(click(list.x + 2, list.y + 15));
    assert!(effects.is_empty());
    assert_eq!(selected_customer(&app), Some("c4"));
}

#[test]
fn clicking_a_timeline_entry_focuses_the_timeline_and_selects_the_entry() {
    let mut app = browser_with_notes(6);
    let list = ui::layout(Rect::new(0, 0, 80, 24)).timeline_list();
    // Entries take two lines: the second line of the third entry is row 5.
    app.update(click(list.x + 5, list.y + 5));
    assert_eq!(app.focus(), Pane::Timeline);
    assert_eq!(selected_note(&app), Some("n2"));
}

#[test]
fn clicking_the_note_pane_focuses_it() {
    let mut app = browser_with_notes(1);
    let body = ui::layout(Rect::new(0, 0, 80, 24)).note_body();
    app.update(click(body.x, body.y));
    assert_eq!(app.focus(), Pane::Note);
}

#[test]
fn the_wheel_moves_the_list_under_the_pointer_not_the_focused_one() {
    let mut app = browser_with_notes(4);
    let areas = ui::layout(Rect::new(0, 0, 80, 24));
    app.update(wheel(
        true,
        areas.timeline_list().x,
        areas.timeline_list().y,
    ));
    app.update(wheel(
        true,
        areas.timeline_list().x,
        areas.timeline_list().y,
    ));
    assert_eq!(selected_note(&app), Some("n2"));
    assert_eq!(app.focus(), Pane::Customers);
    let effects = app.update(wheel(
        true,
        areas.customers_list().x,
        areas.customers_list().y,
    ));
    assert_eq!(selected_customer(&app), Some("c1"));
    assert_eq!(
        notes_customer(&only_fetch(&effects, FetchSlot::Timeline)),
        Some("c1")
    );
}

#[test]
fn the_wheel_scrolls_a_long_note_and_stops_at_its_end() {
    let (mut app, timeline) = browser(1);
    let mut long = note("long", "c0", 0);
    long.text = (0..40)
        .map(|i| format!("line {i}"))
        .collect::<Vec<_>>()
        .join("\n");
    app.update(fetched(
        0,
        timeline.generation,
        notes_page(vec![long], 1, true),
    ));
    let body = ui::layout(Rect::new(0, 0, 80, 24)).note_body();
    app.update(wheel(true, body.x, body.y));
    assert_eq!(app.view().map(|v| v.note.scroll), Some(3));
    for _ in 0..50 {
        app.update(wheel(true, body.x, body.y));
    }
    let content = ui::note::content_height(&app);
    let max = content - usize::from(body.height);
    assert_eq!(app.view().map(|v| v.note.scroll), Some(max));
    app.update(wheel(false, body.x, body.y));
    assert_eq!(app.view().map(|v| v.note.scroll), Some(max - 3));
}

#[test]
fn moving_to_another_note_scrolls_the_note_pane_back_to_the_top() {
    let (mut app, timeline) = browser(1);
    let mut long = note("long", "c0", 0);
    long.text = "word ".repeat(2000);
    app.update(fetched(
        0,
        timeline.generation,
        notes_page(vec![long, note("short", "c0", -60)], 1, true),
    ));
    app.update(key(KeyCode::Tab));
    app.update(key(KeyCode::Tab));
    app.update(key(KeyCode::PageDown));
    assert!(app.view().is_some_and(|v| v.note.scroll > 0));
    app.update(key(KeyCode::BackTab));
    app.update(ch('j'));
    assert_eq!(selected_note(&app), Some("short"));
    assert_eq!(app.view().map(|v| v.note.scroll), Some(0));
}

#[test]
fn switching_accounts_keeps_each_accounts_state_and_fetches_customers_once() {
    let (mut app, _) = browser_with(vec![account("acme"), account("club")], 5);
    app.update(ch('j'));
    app.update(ch('j'));
    let effects = app.update(ch('2'));
    let request = only_fetch(&effects, FetchSlot::Customers);
    assert_eq!(request.account, 1);
    assert_eq!(app.active_account(), 1);
    assert!(app.view().is_some_and(|v| v.customers.loading));
    app.update(fetched(
        1,
        request.generation,
        customers_page(customers(10..12), 1, true),
    ));
    assert_eq!(selected_customer(&app), Some("c10"));

    let effects = app.update(ch('1'));
    assert!(effects.is_empty(), "acme's customers are already loaded");
    assert_eq!(selected_customer(&app), Some("c2"));
    let effects = app.update(ch('2'));
    assert!(effects.is_empty(), "club's customers are already loaded");
    assert_eq!(selected_customer(&app), Some("c10"));
}

#[test]
fn a_page_for_an_inactive_account_lands_in_that_account() {
    let (mut app, _) = browser_with(vec![account("acme"), account("club")], 2);
    let request = only_fetch(&app.update(ch('2')), FetchSlot::Customers);
    app.update(ch('1'));
    app.update(fetched(
        1,
        request.generation,
        customers_page(customers(7..9), 1, true),
    ));
    assert_eq!(selected_customer(&app), Some("c0"));
    app.update(ch('2'));
    assert_eq!(selected_customer(&app), Some("c7"));
}

#[test]
fn a_missing_account_number_says_so() {
    let (mut app, _) = browser(1);
    let effects = app.update(ch('4'));
    assert!(effects.is_empty());
    assert_eq!(app.active_account(), 0);
    assert!(
        app.status()
            .is_some_and(|s| s.text.contains("no account 4"))
    );
}

#[test]
fn clicking_a_tab_switches_account() {
    let (mut app, _) = browser_with(vec![account("acme"), account("club")], 2);
    // " crm-notes ─ [1] acme · ChartMogul   [2] club · ChartMogul"
    let effects = app.update(click(40, 0));
    assert_eq!(app.active_account(), 1);
    assert_eq!(only_fetch(&effects, FetchSlot::Customers).account, 1);
}

#[test]
fn contacts_are_fetched_once_per_customer_and_kept() {
    let (mut app, _) = browser(2);
    let effects = app.update(ch('p'));
    let request = only_fetch(&effects, FetchSlot::Contacts);
    assert_eq!(
        request.kind,
        FetchKind::Contacts {
            customer_id: "c0".to_string()
        }
    );
    let contact = Contact {
        id: "p1".to_string(),
        first_name: Some("Ada".to_string()),
        ..Contact::default()
    };
    app.update(fetched(
        0,
        request.generation,
        FetchEvent::ContactsPage {
            contacts: vec![contact.clone()],
            done: true,
        },
    ));
    app.update(ch('p'));
    let effects = app.update(ch('p'));
    assert!(
        effects.is_empty(),
        "contacts already known are not asked for again"
    );
    let kept = app.view().and_then(|v| v.note.contacts.get("c0")).cloned();
    assert_eq!(kept.map(|c| c.items), Some(vec![contact]));
}

#[test]
fn moving_while_contacts_show_asks_for_the_new_customers_contacts() {
    let (mut app, _) = browser(2);
    app.update(ch('p'));
    let effects = app.update(ch('j'));
    let contacts: Vec<_> = requests(&effects)
        .into_iter()
        .filter(|r| r.kind.slot() == FetchSlot::Contacts)
        .collect();
    assert_eq!(contacts.len(), 1);
    assert_eq!(
        contacts[0].kind,
        FetchKind::Contacts {
            customer_id: "c1".to_string()
        }
    );
    // The request for c0 was cancelled by the one for c1, so going back asks again.
    let effects = app.update(ch('k'));
    let again: Vec<_> = requests(&effects)
        .into_iter()
        .filter(|r| r.kind.slot() == FetchSlot::Contacts)
        .map(|r| r.kind.clone())
        .collect();
    assert_eq!(
        again,
        vec![FetchKind::Contacts {
            customer_id: "c0".to_string()
        }]
    );
}

#[test]
fn a_customer_without_contacts_gets_an_empty_finished_list() {
    let (mut app, _) = browser(1);
    let request = only_fetch(&app.update(ch('p')), FetchSlot::Contacts);
    app.update(fetched(
        0,
        request.generation,
        FetchEvent::ContactsPage {
            contacts: Vec::new(),
            done: true,
        },
    ));
    let list = app.view().and_then(|v| v.note.contacts.get("c0")).cloned();
    assert_eq!(
        list,
        Some(note::ContactList {
            items: Vec::new(),
            done: true
        })
    );
    assert!(app.view().is_some_and(|v| v.note.pending.is_none()));
}

#[test]
fn contacts_on_an_account_without_them_say_so_in_the_status_line() {
    let mut club = account("club");
    club.provider = ProviderKind::Peoplevine;
    club.capabilities.contacts = false;
    let (mut app, _) = browser_with(vec![club], 1);
    let effects = app.update(ch('p'));
    assert!(effects.is_empty());
    assert_eq!(
        app.status().map(|s| s.text.as_str()),
        Some("club (Peoplevine) has no contacts to show")
    );
    assert!(app.view().is_some_and(|v| !v.note.show_contacts));
}

#[test]
fn esc_closes_the_contacts_view() {
    let (mut app, _) = browser(1);
    app.update(ch('p'));
    app.update(key(KeyCode::Esc));
    assert!(app.view().is_some_and(|v| !v.note.show_contacts));
}

#[test]
fn y_copies_the_selected_notes_text() {
    let mut app = browser_with_notes(2);
    app.update(key(KeyCode::Tab));
    app.update(ch('j'));
    assert_eq!(
        app.update(ch('y')),
        vec![Effect::Copy("text of n1".to_string())]
    );
}

#[test]
fn y_without_a_note_says_there_is_nothing_to_copy() {
    let (mut app, _) = browser(1);
    assert!(app.update(ch('y')).is_empty());
    assert!(
        app.status()
            .is_some_and(|s| !s.error && s.text.contains("No note"))
    );
}

#[test]
fn o_opens_the_customers_web_link_or_says_there_is_none() {
    let (mut app, _) = browser(1);
    assert_eq!(
        app.update(ch('o')),
        vec![Effect::OpenUrl(
            "https://app.example.com/customers/c0".to_string()
        )]
    );

    let (mut app, effects) = App::new(vec![account("acme")], TimeZone::UTC);
    let request = only_fetch(&effects, FetchSlot::Customers);
    let bare = Customer {
        id: "x".to_string(),
        name: "Initech".to_string(),
        ..Customer::default()
    };
    app.update(fetched(
        0,
        request.generation,
        customers_page(vec![bare], 1, true),
    ));
    assert!(app.update(ch('o')).is_empty());
    assert_eq!(
        app.status().map(|s| s.text.as_str()),
        Some("Initech has no web link in ChartMogul")
    );
}

#[test]
fn refresh_keeps_the_old_lists_until_the_new_ones_arrive_and_keeps_the_selection() {
    let mut app = browser_with_notes(3);
    app.update(key(KeyCode::Tab));
    app.update(ch('j'));
    let effects = app.update(ch('r'));
    let found = requests(&effects);
    assert_eq!(found.len(), 2, "{effects:?}");
    let customers_request = found[0].clone();
    let timeline_request = found[1].clone();
    assert_eq!(customers_request.kind.slot(), FetchSlot::Customers);
    assert_eq!(notes_customer(&timeline_request), Some("c0"));
    assert_eq!(note_ids(&app), vec!["n0", "n1", "n2"]);

    // Customer c0 is now second in the list: the selection follows it, no new timeline.
    let mut reordered = customers(0..5);
    reordered.swap(0, 1);
    app.update(fetched(
        0,
        customers_request.generation,
        customers_page(reordered, 1, false),
    ));
    assert_eq!(
        app.view().map(|v| v.customers.items.len()),
        Some(5),
        "still the old list"
    );
    let effects = app.update(fetched(
        0,
        customers_request.generation,
        customers_page(Vec::new(), 2, true),
    ));
    assert!(requests(&effects).is_empty());
    assert_eq!(selected_customer(&app), Some("c0"));
    // Row 0 is the account-wide feed: c0, second customer, is on row 2.
    assert_eq!(app.view().map(|v| v.customers.cursor.selected), Some(2));

    app.update(fetched(
        0,
        timeline_request.generation,
        notes_page(
            vec![
                note("new", "c0", 600),
                note("n0", "c0", 0),
                note("n1", "c0", -60),
            ],
            1,
            true,
        ),
    ));
    assert_eq!(note_ids(&app), vec!["new", "n0", "n1"]);
    assert_eq!(selected_note(&app), Some("n1"));
}

#[test]
fn information_fades_after_some_ticks_but_errors_stay() {
    let (mut app, timeline) = browser(1);
    app.update(ch('n'));
    for _ in 0..INFO_TICKS {
        app.update(Msg::Tick);
    }
    assert_eq!(app.status(), None);
    app.update(fetched(
        0,
        timeline.generation,
        FetchEvent::Failed {
            error: "boom".to_string(),
            offline: false,
        },
    ));
    for _ in 0..INFO_TICKS * 3 {
        app.update(Msg::Tick);
    }
    assert!(app.status().is_some_and(|s| s.error));
}

#[test]
fn keyboard_scrolling_moves_past_the_window_and_page_keys_jump() {
    let (mut app, _) = browser(100);
    let rows = usize::from(ui::layout(Rect::new(0, 0, 80, 24)).customers_list().height);
    // The first customer is on row 1, under the account-wide feed.
    app.update(key(KeyCode::PageDown));
    assert_eq!(app.view().map(|v| v.customers.cursor.selected), Some(rows));
    app.update(ch('G'));
    assert_eq!(selected_customer(&app), Some("c99"));
    assert_eq!(
        app.view().map(|v| v.customers.cursor.offset),
        Some(101 - rows)
    );
    let effects = app.update(key(KeyCode::Home));
    assert_eq!(selected_customer(&app), None);
    assert_eq!(
        notes_customer(&only_fetch(&effects, FetchSlot::Timeline)),
        None,
        "the top row is the account-wide feed"
    );
    app.update(ch('j'));
    assert_eq!(selected_customer(&app), Some("c0"));
}

#[test]
fn an_empty_customer_list_asks_for_no_timeline() {
    let (mut app, effects) = App::new(vec![account("acme")], TimeZone::UTC);
    let request = only_fetch(&effects, FetchSlot::Customers);
    let effects = app.update(fetched(
        0,
        request.generation,
        customers_page(Vec::new(), 1, true),
    ));
    assert!(requests(&effects).is_empty(), "{effects:?}");
    assert_eq!(selected_customer(&app), None);
    assert!(app.update(ch('j')).is_empty());
}

#[test]
fn the_welcome_screen_quits_on_q_and_ignores_browsing_keys() {
    let mut app = App::welcome("/home/sara/.config/crm-notes/config.toml".to_string());
    assert!(app.update(ch('j')).is_empty());
    assert!(app.update(ch('r')).is_empty());
    assert_eq!(app.update(ch('q')), vec![Effect::Quit]);
    assert!(app.should_quit());
}

#[test]
fn pages_for_an_unknown_account_are_ignored() {
    let (mut app, _) = browser(1);
    let effects = app.update(fetched(7, 1, customers_page(customers(0..3), 1, true)));
    assert!(effects.is_empty());
    assert_eq!(app.view().map(|v| v.customers.items.len()), Some(1));
}
