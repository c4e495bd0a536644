//! The ChartMogul client against the fake ChartMogul server over loopback: pagination and its
//! quirks, server-side filters, search, contacts, lookups by id, auth failure, hostile text.

use std::collections::HashSet;

use crm_notes::demo::chartmogul::{self, ChartMogulData, ChartMogulOptions};
use crm_notes::demo::data;
use crm_notes::demo::{FakeServer, RecordedRequest};
use crm_notes::model::{Contact, CustomerQuery, Note, NoteKind, NoteQuery};
use crm_notes::providers::chartmogul::ChartMogul;
use crm_notes::providers::http::HttpOptions;
use crm_notes::providers::{Provider, ProviderError};
use jiff::Timestamp;

/// Enough pages for any test here; reaching it means the client failed to stop.
const PAGE_GUARD: usize = 1_000;

fn now() -> Timestamp {
    "2026-11-20T14:02:00Z".parse().expect("now")
}

fn options() -> HttpOptions {
    HttpOptions {
        max_retries: 1,
        backoff_base: std::time::Duration::from_millis(1),
        backoff_cap: std::time::Duration::from_millis(5),
        ..HttpOptions::default()
    }
}

async fn serve(data: ChartMogulData, opts: ChartMogulOptions) -> (FakeServer, ChartMogul) {
    let server = chartmogul::start(data, opts).await.expect("fake server");
    let client =
        ChartMogul::new(&server.base_url, server.api_key.clone(), options()).expect("client");
    (server, client)
}

/// Follows `next` until the last page; returns the notes and the cursors handed out.
async fn all_notes(cm: &ChartMogul, query: &NoteQuery) -> (Vec<Note>, Vec<String>) {
    let mut notes = Vec::new();
    let mut cursors = Vec::new();
    let mut next: Option<String> = None;
    for _ in 0..PAGE_GUARD {
        let page = cm.notes(query, next.as_deref()).await.expect("notes page");
        notes.extend(page.items);
        match page.next {
            Some(cursor) => {
                cursors.push(cursor.clone());
                next = Some(cursor);
            }
            None => return (notes, cursors),
        }
    }
    panic!("pagination did not terminate");
}

fn note_requests(server: &FakeServer) -> Vec<RecordedRequest> {
    server
        .requests()
        .into_iter()
        .filter(|r| r.path == "/v1/customer_notes")
        .collect()
}

fn demo() -> ChartMogulData {
    data::chartmogul_demo(now(), 25, 400, 7)
}

fn assert_each_once_newest_first(notes: &[Note], expected: usize) {
    assert_eq!(notes.len(), expected);
    let ids: HashSet<&str> = notes.iter().map(|n| n.id.as_str()).collect();
    assert_eq!(ids.len(), expected, "a note came twice");
    assert!(
        notes.windows(2).all(|w| w[0].created_at >= w[1].created_at),
        "not newest first"
    );
}

#[tokio::test]
async fn pages_through_every_note_once_newest_first() {
    let data = demo();
    let total = data.notes.len();
    let (server, cm) = serve(data, ChartMogulOptions::default()).await;
    let query = NoteQuery {
        per_page: Some(17),
        ..NoteQuery::default()
    };
    let (notes, cursors) = all_notes(&cm, &query).await;
    assert_each_once_newest_first(&notes, total);

    let requests = note_requests(&server);
    assert_eq!(requests.len(), total.div_ceil(17));
    assert!(requests.iter().all(|r| r.authorized));
    assert!(requests.iter().all(|r| r.param("per_page") == Some("17")));
    assert!(requests.iter().all(|r| r.param("page").is_none()));
    assert_eq!(requests[0].param("cursor"), None);
    // The server saw exactly the cursors it handed out: `+`, `/` and `=` survived encoding.
    let sent: Vec<&str> = requests[1..]
        .iter()
        .map(|r| r.param("cursor").expect("cursor sent"))
        .collect();
    assert_eq!(sent, cursors);
    assert!(cursors.iter().any(|c| c.ends_with('=')), "{cursors:?}");
}

#[tokio::test]
async fn trailing_empty_page_terminates() {
    let data = demo();
    let total = data.notes.len();
    let opts = ChartMogulOptions {
        trailing_empty_page: true,
        ..ChartMogulOptions::default()
    };
    let (server, cm) = serve(data, opts).await;
    let query = NoteQuery {
        per_page: Some(50),
        ..NoteQuery::default()
    };
    let (notes, _) = all_notes(&cm, &query).await;
    assert_each_once_newest_first(&notes, total);
    // One extra request for the empty page, and no more.
    assert_eq!(note_requests(&server).len(), total.div_ceil(50) + 1);
}

#[tokio::test]
async fn omitted_last_cursor_terminates() {
    let data = demo();
    let total = data.notes.len();
    let opts = ChartMogulOptions {
        omit_last_cursor: true,
        ..ChartMogulOptions::default()
    };
    let (server, cm) = serve(data, opts).await;
    let query = NoteQuery {
        per_page: Some(64),
        ..NoteQuery::default()
    };
    let (notes, _) = all_notes(&cm, &query).await;
    assert_each_once_newest_first(&notes, total);
    assert_eq!(note_requests(&server).len(), total.div_ceil(64));
}

#[tokio::test]
async fn default_page_size_is_the_api_maximum() {
    let data = demo();
    let (server, cm) = serve(data, ChartMogulOptions::default()).await;
    let page = cm
        .notes(&NoteQuery::default(), None)
        .await
        .expect("first page");
    assert_eq!(page.items.len(), 200);
    assert!(page.next.is_some());
    assert_eq!(note_requests(&server)[0].param("per_page"), Some("200"));
}

/// Customers and notes small enough to count by hand.
fn filter_data() -> ChartMogulData {
    let at = |minutes: i64| {
        now()
            .checked_sub(jiff::SignedDuration::from_mins(minutes))
            .expect("time")
    };
    let sara = "Sara Lee (sara@example.com)";
    let adam = "Adam Smith[staff-user-1] (adam@example.com)";
    ChartMogulData {
        customers: vec![
            data::customer(
                "cus_a",
                "Acme Corp",
                "billing@acme.test",
                "Acme Corp",
                "Active",
            ),
            data::customer("cus_b", "Bea Jones", "bea@mail.test", "", "New Lead"),
        ],
        contacts: vec![
            data::contact("con_1", "cus_a", "Wile", "Coyote", "wile@acme.test"),
            data::contact("con_2", "cus_a", "Road", "Runner", ""),
        ],
        notes: vec![
            data::note("note_1", "cus_a", "call", sara, "Renewal call", at(1), 900),
            data::note(
                "note_2",
                "cus_a",
                "note",
                adam,
                "Trial<br>extended",
                at(2),
                0,
            ),
            data::note("note_3", "cus_b", "call", adam, "Intro call", at(3), 300),
            data::note("note_4", "cus_a", "note", sara, "Sent quote", at(4), 0),
            data::note(
                "note_5",
                "cus_b",
                "note",
                sara,
                "Lead from webinar",
                at(5),
                0,
            ),
            data::note("note_6", "cus_a", "call", adam, "Escalation", at(6), 61),
        ],
    }
}

fn ids(notes: &[Note]) -> Vec<&str> {
    notes.iter().map(|n| n.id.as_str()).collect()
}

#[tokio::test]
async fn server_side_filters_reach_the_server_and_shape_the_results() {
    let (server, cm) = serve(filter_data(), ChartMogulOptions::default()).await;

    let calls = NoteQuery {
        kind: Some(NoteKind::Call),
        per_page: Some(2),
        ..NoteQuery::default()
    };
    let (notes, _) = all_notes(&cm, &calls).await;
    assert_eq!(ids(&notes), ["note_1", "note_3", "note_6"]);
    assert!(notes.iter().all(|n| n.kind == NoteKind::Call));
    assert_eq!(
        notes.iter().map(|n| n.call_duration_s).collect::<Vec<_>>(),
        [Some(900), Some(300), Some(61)]
    );
    assert!(
        note_requests(&server)
            .iter()
            .all(|r| r.param("type") == Some("call"))
    );

    server.clear_requests();
    let by_adam = NoteQuery {
        author_email: Some("adam@example.com".into()),
        ..NoteQuery::default()
    };
    let (notes, _) = all_notes(&cm, &by_adam).await;
    assert_eq!(ids(&notes), ["note_2", "note_3", "note_6"]);
    assert!(notes.iter().all(|n| {
        n.author_email.as_deref() == Some("adam@example.com")
            && n.author_name.as_deref() == Some("Adam Smith")
    }));
    let requests = note_requests(&server);
    assert_eq!(requests[0].param("author_email"), Some("adam@example.com"));
    assert_eq!(requests[0].param("type"), None);
    assert_eq!(requests[0].param("customer_uuid"), None);

    server.clear_requests();
    let for_b_notes = NoteQuery {
        customer_id: Some("cus_b".into()),
        kind: Some(NoteKind::Note),
        author_email: Some("sara@example.com".into()),
        per_page: Some(10),
    };
    let (notes, _) = all_notes(&cm, &for_b_notes).await;
    assert_eq!(ids(&notes), ["note_5"]);
    assert_eq!(notes[0].customer_id.as_deref(), Some("cus_b"));
    assert_eq!(notes[0].call_duration_s, None);
    let requests = note_requests(&server);
    assert_eq!(requests.len(), 1);
    let r = &requests[0];
    assert_eq!(r.param("customer_uuid"), Some("cus_b"));
    assert_eq!(r.param("type"), Some("note"));
    assert_eq!(r.param("author_email"), Some("sara@example.com"));
    assert_eq!(r.param("per_page"), Some("10"));
}

#[tokio::test]
async fn note_by_id_renders_its_html() {
    let (_server, cm) = serve(filter_data(), ChartMogulOptions::default()).await;
    let note = cm.note("note_2").await.expect("note");
    assert_eq!(note.id, "note_2");
    assert_eq!(note.kind, NoteKind::Note);
    assert!(
        !note.text.contains("<br>") && note.text.contains("Trial"),
        "{:?}",
        note.text
    );
    assert!(matches!(
        cm.note("note_missing").await,
        Err(ProviderError::NotFound(_))
    ));
}

#[tokio::test]
async fn email_search_hits_and_a_404_is_an_empty_page() {
    let (server, cm) = serve(filter_data(), ChartMogulOptions::default()).await;
    let hit = cm
        .customers(
            &CustomerQuery {
                search: Some(" bea@mail.test ".into()),
                per_page: None,
            },
            None,
        )
        .await
        .expect("search");
    assert_eq!(hit.items.len(), 1);
    assert_eq!(hit.items[0].id, "cus_b");
    assert_eq!(hit.items[0].company, None, "empty company is absent");
    assert_eq!(hit.next, None);

    let miss = cm
        .customers(
            &CustomerQuery {
                search: Some("nobody@nowhere.test".into()),
                per_page: None,
            },
            None,
        )
        .await
        .expect("a miss is not an error");
    assert!(miss.items.is_empty());
    assert_eq!(miss.next, None);

    let searches: Vec<RecordedRequest> = server
        .requests()
        .into_iter()
        .filter(|r| r.path == "/v1/customers/search")
        .collect();
    assert_eq!(searches.len(), 2);
    assert_eq!(searches[0].param("email"), Some("bea@mail.test"));
    assert_eq!(searches[1].param("email"), Some("nobody@nowhere.test"));
}

#[tokio::test]
async fn lists_customers_across_pages_without_a_page_parameter() {
    let data = demo();
    let total = data.customers.len();
    let (server, cm) = serve(data, ChartMogulOptions::default()).await;
    // A name search is the caller's business: the provider lists everything.
    let query = CustomerQuery {
        search: Some("acme".into()),
        per_page: Some(7),
    };
    let mut customers = Vec::new();
    let mut next: Option<String> = None;
    for _ in 0..PAGE_GUARD {
        let page = cm.customers(&query, next.as_deref()).await.expect("page");
        customers.extend(page.items);
        next = page.next;
        if next.is_none() {
            break;
        }
    }
    assert_eq!(customers.len(), total);
    let unique: HashSet<&str> = customers.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(unique.len(), total);
    let acme = customers
        .iter()
        .find(|c| c.name == "Acme Corp")
        .expect("Acme");
    assert_eq!(acme.email.as_deref(), Some("billing@acme.example.com"));
    assert_eq!(acme.status.as_deref(), Some("Active"));
    assert!(
        acme.web_url
            .as_deref()
            .is_some_and(|u| u.starts_with("https://app.chartmogul.com/"))
    );

    let requests: Vec<RecordedRequest> = server
        .requests()
        .into_iter()
        .filter(|r| r.path == "/v1/customers")
        .collect();
    assert_eq!(requests.len(), total.div_ceil(7));
    assert!(requests.iter().all(|r| r.param("page").is_none()));
    assert!(requests.iter().all(|r| r.param("per_page") == Some("7")));
}

#[tokio::test]
async fn customer_by_id_and_its_contacts() {
    let (server, cm) = serve(filter_data(), ChartMogulOptions::default()).await;
    let acme = cm.customer("cus_a").await.expect("customer");
    assert_eq!(acme.id, "cus_a");
    assert_eq!(acme.name, "Acme Corp");
    assert_eq!(acme.company.as_deref(), Some("Acme Corp"));
    assert!(matches!(
        cm.customer("cus_nope").await,
        Err(ProviderError::NotFound(_))
    ));

    let page = cm.contacts("cus_a", None).await.expect("contacts");
    assert_eq!(page.next, None);
    assert_eq!(
        page.items,
        [
            Contact {
                id: "con_1".into(),
                first_name: Some("Wile".into()),
                last_name: Some("Coyote".into()),
                email: Some("wile@acme.test".into()),
                ..Contact::default()
            },
            Contact {
                id: "con_2".into(),
                first_name: Some("Road".into()),
                last_name: Some("Runner".into()),
                ..Contact::default()
            },
        ]
    );
    let empty = cm.contacts("cus_b", None).await.expect("no contacts");
    assert!(empty.items.is_empty() && empty.next.is_none());
    assert!(
        server
            .requests()
            .iter()
            .any(|r| r.path == "/v1/customers/cus_a/contacts")
    );
}

#[tokio::test]
async fn contacts_paginate_with_the_server_default_page_size() {
    let data = demo();
    let acme_uuid = data.customers[0]["uuid"]
        .as_str()
        .expect("uuid")
        .to_string();
    let expected = data
        .contacts
        .iter()
        .filter(|c| c["customer_uuid"] == acme_uuid.as_str())
        .count();
    assert!(expected > 1, "the demo's Acme has several contacts");
    let opts = ChartMogulOptions {
        default_per_page: 1,
        ..ChartMogulOptions::default()
    };
    let (_server, cm) = serve(data, opts).await;
    let mut contacts = Vec::new();
    let mut next: Option<String> = None;
    for _ in 0..PAGE_GUARD {
        let page = cm
            .contacts(&acme_uuid, next.as_deref())
            .await
            .expect("page");
        contacts.extend(page.items);
        next = page.next;
        if next.is_none() {
            break;
        }
    }
    assert_eq!(contacts.len(), expected);
}

#[tokio::test]
async fn wrong_key_is_an_auth_error() {
    let server = chartmogul::start(filter_data(), ChartMogulOptions::default())
        .await
        .expect("fake server");
    let wrong = ChartMogul::new(&server.base_url, "not-the-key".into(), options()).expect("client");
    let err = wrong.ping().await.expect_err("wrong key");
    assert!(
        matches!(err, ProviderError::Auth { status: 401, .. }),
        "{err:?}"
    );
    assert!(!err.to_string().contains("not-the-key"));
    assert!(matches!(
        wrong.notes(&NoteQuery::default(), None).await,
        Err(ProviderError::Auth { .. })
    ));
    // Not retried: a 401 will not get better.
    assert_eq!(server.requests().len(), 2);
    assert!(server.requests().iter().all(|r| !r.authorized));

    let right =
        ChartMogul::new(&server.base_url, server.api_key.clone(), options()).expect("client");
    right.ping().await.expect("right key");
}

#[tokio::test]
async fn hostile_note_text_is_defused() {
    let hostile = "Pasted:\n\u{1b}[31mURGENT\u{1b}[0m \u{1b}]52;c;ZXZpbA==\u{7}see \
                   \u{202E}fdp.exe\u{202C}\u{1b}[2J\rthanks!";
    let mut data = filter_data();
    data.notes.push(data::note(
        "note_evil",
        "cus_a",
        "note",
        "Eve\u{1b}[1m (eve@example.com)",
        hostile,
        now()
            .checked_sub(jiff::SignedDuration::from_hours(1))
            .expect("time"),
        0,
    ));
    let (_server, cm) = serve(data, ChartMogulOptions::default()).await;
    let note = cm.note("note_evil").await.expect("note");
    for bad in ['\u{1b}', '\u{7}', '\u{202E}', '\u{202C}', '\r'] {
        assert!(!note.text.contains(bad), "{bad:?} in {:?}", note.text);
        assert!(
            !note
                .author_name
                .as_deref()
                .unwrap_or_default()
                .contains(bad),
            "{bad:?} in the author"
        );
    }
    assert!(note.text.contains("URGENT") && note.text.contains("thanks!"));
    assert_eq!(note.author_email.as_deref(), Some("eve@example.com"));
}
