//! `App::update` for finding things: the filter bar, the author picker, the type cycle, the
//! account-wide feed, the store's copy and its ranking, and being offline.

use jiff::Timestamp;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::tests::{
    account, browser, ch, customers, customers_page, fetched, key, note, notes_page, only_fetch,
    requests, selected_customer, selected_note,
};
use super::*;
use crate::model::{Capabilities, Note, NoteKind, ProviderKind};

fn ctrl(c: char) -> Msg {
    Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL))
}

fn type_text(app: &mut App, text: &str) -> Vec<Effect> {
    let mut effects = Vec::new();
    for c in text.chars() {
        effects.extend(app.update(ch(c)));
    }
    effects
}

fn now() -> Timestamp {
    Timestamp::from_second(1_700_000_000).unwrap_or(Timestamp::UNIX_EPOCH)
}

fn by(id: &str, name: &str, email: &str, kind: NoteKind, text: &str, second: i64) -> Note {
    let mut n = note(id, "c0", second);
    n.author_name = Some(name.to_string());
    n.author_email = Some(email.to_string());
    n.kind = kind;
    n.text = text.to_string();
    n
}

/// Sara: two calls and a note; Adam: a call and a note. Newest first.
fn mixed() -> Vec<Note> {
    vec![
        by(
            "s1",
            "Sara Lee",
            "sara@acme.test",
            NoteKind::Call,
            "Renewal discussed, quote Monday",
            -60,
        ),
        by(
            "a1",
            "Adam Smith",
            "adam@acme.test",
            NoteKind::Note,
            "Trial extended by two weeks",
            -120,
        ),
        by(
            "s2",
            "Sara Lee",
            "sara@acme.test",
            NoteKind::Note,
            "Sent the renewal quote",
            -180,
        ),
        by(
            "a2",
            "Adam Smith",
            "adam@acme.test",
            NoteKind::Call,
            "Billing question about VAT",
            -240,
        ),
        by(
            "s3",
            "Sara Lee",
            "sara@acme.test",
            NoteKind::Call,
            "Left a voicemail",
            -300,
        ),
    ]
}

/// A ChartMogul-like account (server-side author and type filters) with `mixed()` loaded
/// for the first customer, the timeline focused.
fn chartmogul_app() -> App {
    let tab = AccountTab {
        capabilities: Capabilities {
            server_author_filter: true,
            server_type_filter: true,
            email_search: true,
            ..Capabilities::default()
        },
        ..account("acme")
    };
    let (mut app, timeline) = super::tests::browser_with(vec![tab], 3);
    app.update(Msg::Now(now()));
    app.update(fetched(
        0,
        timeline.generation,
        notes_page(mixed(), 1, true),
    ));
    app.update(key(KeyCode::Tab));
    app
}

fn shown(app: &App) -> Vec<String> {
    let Some(view) = app.view() else {
        return Vec::new();
    };
    (0..view.timeline.len())
        .filter_map(|r| view.timeline.row(r).map(|n| n.id.clone()))
        .collect()
}

fn filtered_fetch(effects: &[Effect]) -> Option<NoteQuery> {
    requests(effects).into_iter().find_map(|r| match &r.kind {
        FetchKind::FilteredNotes(q) => Some(q.clone()),
        _ => None,
    })
}

#[test]
fn the_filter_bar_filters_on_every_keystroke_and_enter_sends_the_server_part() {
    let mut app = chartmogul_app();
    app.update(ch('/'));
    assert!(app.filter_bar().is_some());
    let effects = type_text(&mut app, "type:call");
    assert_eq!(shown(&app), ["s1", "a2", "s3"]);
    // Per keystroke nothing goes to the server.
    assert_eq!(filtered_fetch(&effects), None);
    type_text(&mut app, " author:sara");
    assert_eq!(shown(&app), ["s1", "s3"]);
    let effects = app.update(key(KeyCode::Enter));
    assert!(app.filter_bar().is_none());
    let query = filtered_fetch(&effects).expect("the server filters type and author");
    assert_eq!(query.kind, Some(NoteKind::Call));
    // `sara` is not an email: only the type can be sent.
    assert_eq!(query.author_email, None);
    assert_eq!(query.customer_id.as_deref(), Some("c0"));
    assert_eq!(shown(&app), ["s1", "s3"], "Enter keeps the filter");
}

#[test]
fn esc_in_the_bar_clears_the_filter_and_keys_move_the_list_under_it() {
    let mut app = chartmogul_app();
    app.update(ch('/'));
    type_text(&mut app, "renewal");
    assert_eq!(shown(&app), ["s1", "s2"]);
    app.update(key(KeyCode::Down));
    assert_eq!(selected_note(&app), Some("s2"));
    assert!(app.filter_bar().is_some(), "moving keeps the bar open");
    app.update(key(KeyCode::Esc));
    assert!(app.filter_bar().is_none());
    assert_eq!(shown(&app).len(), 5);
    assert_eq!(selected_note(&app), Some("s2"), "the selection survives");
}

#[test]
fn ctrl_w_in_the_bar_deletes_a_word_and_refilters() {
    let mut app = chartmogul_app();
    app.update(ch('/'));
    type_text(&mut app, "type:call voicemail");
    assert_eq!(shown(&app), ["s3"]);
    app.update(ctrl('w'));
    assert_eq!(shown(&app), ["s1", "a2", "s3"]);
}

#[test]
fn a_bad_date_is_reported_in_one_line_while_the_rest_still_applies() {
    let mut app = chartmogul_app();
    app.update(ch('/'));
    type_text(&mut app, "type:note since:2026-1");
    let error = app.view().and_then(|v| v.filter.error.clone());
    assert!(
        error.as_deref().is_some_and(|e| e.contains("since")),
        "{error:?}"
    );
    assert_eq!(shown(&app), ["a1", "s2"]);
}

#[test]
fn t_cycles_all_notes_calls_and_the_title_text_follows() {
    let mut app = chartmogul_app();
    let effects = app.update(ch('t'));
    assert_eq!(shown(&app), ["a1", "s2"]);
    assert_eq!(
        filtered_fetch(&effects).and_then(|q| q.kind),
        Some(NoteKind::Note)
    );
    assert_eq!(
        app.view().map(|v| v.filter.input.as_str()),
        Some("type:note")
    );
    app.update(ch('t'));
    assert_eq!(shown(&app), ["s1", "a2", "s3"]);
    let effects = app.update(ch('t'));
    assert_eq!(shown(&app).len(), 5);
    assert_eq!(app.view().map(|v| v.filter.input.as_str()), Some(""));
    assert_eq!(
        filtered_fetch(&effects),
        None,
        "no filter, nothing extra to fetch"
    );
}

#[test]
fn the_author_picker_lists_counts_filters_and_picks_by_email() {
    let mut app = chartmogul_app();
    app.update(ch('a'));
    let picker = app.author_picker().expect("open");
    let listed: Vec<(String, usize)> = (1..picker.rows())
        .filter_map(|r| picker.author_at(r).map(|a| (a.label(), a.count)))
        .collect();
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[0].1, 3, "Sara first, with her three notes");
    assert!(listed[0].0.contains("Sara Lee"));
    type_text(&mut app, "adam");
    let effects = app.update(key(KeyCode::Enter));
    assert!(app.author_picker().is_none());
    assert_eq!(shown(&app), ["a1", "a2"]);
    let query = filtered_fetch(&effects).expect("an email goes to the server");
    assert_eq!(query.author_email.as_deref(), Some("adam@acme.test"));
    // Then `t` narrows to Adam's calls, keeping the author.
    app.update(ch('t'));
    app.update(ch('t'));
    assert_eq!(shown(&app), ["a2"]);
    let typed = app
        .view()
        .map(|v| v.filter.input.clone())
        .unwrap_or_default();
    assert!(
        typed.contains("author:adam@acme.test") && typed.contains("type:call"),
        "{typed}"
    );
}

#[test]
fn the_pickers_first_row_clears_the_author() {
    let mut app = chartmogul_app();
    app.update(ch('a'));
    app.update(key(KeyCode::Down));
    app.update(key(KeyCode::Enter));
    assert_eq!(shown(&app).len(), 3);
    app.update(ch('a'));
    app.update(key(KeyCode::Home));
    // Home is typed into the picker's search, so go up instead.
    for _ in 0..5 {
        app.update(key(KeyCode::Up));
    }
    app.update(key(KeyCode::Enter));
    assert_eq!(shown(&app).len(), 5);
}

#[test]
fn tab_completes_author_names_seen_in_the_timeline() {
    let mut app = chartmogul_app();
    app.update(ch('/'));
    type_text(&mut app, "author:ad");
    app.update(key(KeyCode::Tab));
    let typed = app
        .filter_bar()
        .map(|b| b.input.text().to_string())
        .unwrap_or_default();
    assert_eq!(typed, "author:adam@acme.test");
    assert_eq!(shown(&app), ["a1", "a2"]);
}

#[test]
fn the_filter_follows_the_agent_to_other_customers_and_each_account_keeps_its_own() {
    let tabs = vec![account("acme"), {
        let mut t = account("club");
        t.provider = ProviderKind::Peoplevine;
        t
    }];
    let (mut app, timeline) = super::tests::browser_with(tabs, 3);
    app.update(Msg::Now(now()));
    app.update(fetched(
        0,
        timeline.generation,
        notes_page(mixed(), 1, true),
    ));
    app.update(ch('t'));
    app.update(ch('t'));
    assert_eq!(shown(&app).len(), 3);
    // The next customer's timeline is filtered as soon as it arrives.
    let effects = app.update(ch('j'));
    let next = only_fetch(&effects, FetchSlot::Timeline);
    let mut theirs = mixed();
    for n in &mut theirs {
        n.customer_id = Some("c1".into());
    }
    app.update(fetched(0, next.generation, notes_page(theirs, 1, true)));
    assert_eq!(shown(&app).len(), 3);
    // club starts unfiltered; acme's filter is still there when we come back.
    app.update(ch('2'));
    assert_eq!(app.view().map(|v| v.filter.input.as_str()), Some(""));
    app.update(ch('1'));
    assert_eq!(
        app.view().map(|v| v.filter.input.as_str()),
        Some("type:call")
    );
}

#[test]
fn the_customers_bar_filters_fuzzily_and_opens_the_best_match() {
    let (mut app, _) = browser(5);
    app.update(ch('/'));
    let effects = type_text(&mut app, "cust3");
    assert_eq!(selected_customer(&app), Some("c3"));
    assert!(
        requests(&effects).iter().any(
            |r| matches!(&r.kind, FetchKind::Notes(q) if q.customer_id.as_deref() == Some("c3"))
        ),
        "the best match's timeline is asked for"
    );
    app.update(key(KeyCode::Esc));
    assert_eq!(app.view().map(|v| v.customers.rows()), Some(6));
}

#[test]
fn an_email_in_the_customers_bar_is_searched_at_the_provider_on_enter() {
    let mut app = chartmogul_app();
    app.update(key(KeyCode::BackTab));
    app.update(ch('/'));
    type_text(&mut app, "hank@globex.test");
    let effects = app.update(key(KeyCode::Enter));
    let search = requests(&effects)
        .into_iter()
        .find(|r| r.kind.slot() == FetchSlot::CustomerSearch)
        .cloned()
        .expect("a provider search");
    let mut hank = customers(9..10);
    hank[0].email = Some("hank@globex.test".into());
    app.update(fetched(0, search.generation, customers_page(hank, 1, true)));
    assert_eq!(selected_customer(&app), Some("c9"));
}

#[test]
fn the_top_row_is_the_account_wide_feed_with_the_same_filter() {
    let mut app = chartmogul_app();
    app.update(ch('t'));
    app.update(key(KeyCode::BackTab));
    let effects = app.update(ch('k'));
    assert_eq!(selected_customer(&app), None);
    let feed = requests(&effects)
        .into_iter()
        .find(|r| r.kind.slot() == FetchSlot::Timeline)
        .cloned()
        .expect("the feed is fetched");
    assert_eq!(feed.kind, FetchKind::Notes(NoteQuery::default()));
    assert!(effects.iter().any(|e| matches!(
        e,
        Effect::LoadCached(CacheRead {
            what: CacheScope::Notes { customer: None },
            ..
        })
    )));
    let mut notes = mixed();
    notes[1].customer_id = Some("c2".into());
    app.update(fetched(0, feed.generation, notes_page(notes, 1, true)));
    assert_eq!(app.view().map(|v| v.timeline.all), Some(true));
    assert_eq!(
        shown(&app),
        ["a1", "s2"],
        "the type filter applies to the feed"
    );
}

#[test]
fn the_stores_copy_shows_first_and_the_servers_replaces_it_when_complete() {
    let (mut app, effects) = App::new(vec![account("acme")], jiff::tz::TimeZone::UTC);
    app.update(Msg::Resize {
        width: 80,
        height: 24,
    });
    app.update(Msg::Now(now()));
    let read = effects
        .iter()
        .find_map(|e| match e {
            Effect::LoadCached(read) => Some(read.clone()),
            _ => None,
        })
        .expect("the store is asked for the customers");
    let fetch = only_fetch(&effects, FetchSlot::Customers);
    let synced = Timestamp::from_second(1_700_000_000 - 180).ok();
    let effects = app.update(Msg::Cached(Box::new(Cached {
        account: 0,
        generation: read.generation,
        data: CachedData::Customers(customers(0..3)),
        synced_at: synced,
    })));
    assert_eq!(selected_customer(&app), Some("c0"));
    assert_eq!(app.view().and_then(|v| v.sync.updated), synced);
    let notes_read = effects
        .iter()
        .find_map(|e| match e {
            Effect::LoadCached(read) => Some(read.clone()),
            _ => None,
        })
        .expect("then the first customer's notes");
    app.update(Msg::Cached(Box::new(Cached {
        account: 0,
        generation: notes_read.generation,
        data: CachedData::Notes(mixed()),
        synced_at: synced,
    })));
    assert_eq!(shown(&app).len(), 5);
    // The server's list arrives page by page; the store's stays until it is complete.
    app.update(fetched(
        0,
        fetch.generation,
        customers_page(customers(5..6), 1, false),
    ));
    assert_eq!(app.view().map(|v| v.customers.items.len()), Some(3));
    let effects = app.update(fetched(
        0,
        fetch.generation,
        customers_page(customers(0..2), 2, true),
    ));
    assert_eq!(app.view().map(|v| v.customers.items.len()), Some(3));
    assert_eq!(selected_customer(&app), Some("c0"));
    assert!(effects.iter().any(|e| matches!(
        e,
        Effect::Cache(CacheWrite::Customers {
            page: 2,
            done: true,
            ..
        })
    )));
    assert_eq!(app.view().and_then(|v| v.sync.updated), Some(now()));
}

#[test]
fn offline_keeps_the_saved_data_and_says_so() {
    let mut app = chartmogul_app();
    app.update(ch('r'));
    let generation = app.view().map_or(0, |v| v.timeline.generation);
    app.update(fetched(
        0,
        generation,
        FetchEvent::Failed {
            error: "network error talking to ChartMogul: connection refused".into(),
            offline: true,
        },
    ));
    assert_eq!(app.view().map(|v| v.sync.offline), Some(true));
    assert_eq!(shown(&app).len(), 5, "nothing is lost");
    let status = app.status().map(|s| s.text.clone()).unwrap_or_default();
    assert!(status.starts_with("Offline"), "{status}");
}

#[test]
fn the_stores_ranking_puts_its_hits_first_for_the_text_it_was_for() {
    let mut app = chartmogul_app();
    app.update(ch('/'));
    let effects = type_text(&mut app, "quote");
    let search = effects
        .iter()
        .rev()
        .find_map(|e| match e {
            Effect::Search {
                generation, query, ..
            } => Some((*generation, query.clone())),
            _ => None,
        })
        .expect("the store is asked to rank");
    assert_eq!(search.1.text, "quote");
    assert_eq!(search.1.customer.as_deref(), Some("c0"));
    assert_eq!(shown(&app), ["s1", "s2"]);
    app.update(Msg::Searched {
        account: 0,
        generation: search.0,
        ids: vec!["s2".into(), "s1".into()],
    });
    assert_eq!(shown(&app), ["s2", "s1"]);
    // An answer to an older query is dropped.
    app.update(Msg::Searched {
        account: 0,
        generation: search.0 - 1,
        ids: vec!["a1".into()],
    });
    assert_eq!(shown(&app), ["s2", "s1"]);
}

#[test]
fn tab_completes_a_bare_word_and_cycles_through_quoted_names_safely() {
    let mut app = chartmogul_app();
    app.update(ch('/'));
    type_text(&mut app, "type:call\u{3000}a");
    app.update(key(KeyCode::Tab));
    let first = app
        .filter_bar()
        .map(|b| b.input.text().to_string())
        .unwrap_or_default();
    assert!(
        first.ends_with("author:sara@acme.test"),
        "most notes first: {first}"
    );
    // Both authors contain an `a`: Tab again takes the next, replacing the token whole.
    app.update(key(KeyCode::Tab));
    let second = app
        .filter_bar()
        .map(|b| b.input.text().to_string())
        .unwrap_or_default();
    assert!(second.ends_with("author:adam@acme.test"), "{second}");
    assert_eq!(second.matches("author:").count(), 1, "{second}");
    assert_eq!(shown(&app), ["a2"]);
}

#[test]
fn tab_also_completes_authors_seen_elsewhere_in_the_account() {
    let mut app = chartmogul_app();
    let generation = app.view().map_or(0, |v| v.customers.generation);
    app.update(Msg::Cached(Box::new(Cached {
        account: 0,
        generation,
        data: CachedData::Authors(vec![filter::AuthorCount {
            name: Some("Priya Natarajan".into()),
            email: Some("priya.n@example.com".into()),
            count: 40,
        }]),
        synced_at: None,
    })));
    app.update(ch('/'));
    type_text(&mut app, "author:pri");
    app.update(key(KeyCode::Tab));
    assert_eq!(
        app.filter_bar()
            .map(|b| b.input.text().to_string())
            .as_deref(),
        Some("author:priya.n@example.com")
    );
    assert!(
        shown(&app).is_empty(),
        "she wrote nothing for this customer"
    );
}

#[test]
fn a_big_saved_feed_read_after_the_servers_first_page_still_shows_until_the_listing_ends() {
    let mut app = chartmogul_app();
    app.update(key(KeyCode::BackTab));
    let effects = app.update(ch('k'));
    let feed = requests(&effects)
        .into_iter()
        .find(|r| r.kind.slot() == FetchSlot::Timeline)
        .cloned()
        .expect("the feed is fetched");
    // The server's first page (one note) beats the store's copy (five notes).
    let first = vec![mixed()[0].clone()];
    app.update(fetched(0, feed.generation, notes_page(first, 1, false)));
    app.update(Msg::Cached(Box::new(Cached {
        account: 0,
        generation: feed.generation,
        data: CachedData::Notes(mixed()),
        synced_at: None,
    })));
    assert_eq!(shown(&app).len(), 5, "the saved copy shows");
    let rest = mixed()[1..3].to_vec();
    app.update(fetched(0, feed.generation, notes_page(rest, 2, true)));
    assert_eq!(
        shown(&app),
        ["s1", "a1", "s2"],
        "then the server's complete listing"
    );
}
