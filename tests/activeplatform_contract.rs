//! The ActivePlatform client against the fake ActivePlatform server over loopback: media types
//! and token on every request, pagination along the JSON:API links (in either list order),
//! accounts and notes mapping, the email filter, creating notes and calls, the 5000-character
//! limit, delete, no update, a wrong token and a read-only role.

use std::collections::HashSet;
use std::time::Duration;

use crm_notes::demo::activeplatform::data::{self, Target};
use crm_notes::demo::activeplatform::{self, ActivePlatformData, ActivePlatformOptions};
use crm_notes::demo::{FakeServer, RecordedRequest};
use crm_notes::model::{CustomerQuery, NewNote, Note, NoteKind, NotePatch, NoteQuery};
use crm_notes::providers::activeplatform::{ActivePlatform, MAX_CONTENT_CHARS};
use crm_notes::providers::http::HttpOptions;
use crm_notes::providers::{Provider, ProviderError};
use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};

const TOKEN: &str = "ap-test-token-7c41e9b2d0";
/// Enough pages for any test here; reaching it means the client failed to stop.
const PAGE_GUARD: usize = 1_000;

fn options() -> HttpOptions {
    HttpOptions {
        max_retries: 1,
        backoff_base: Duration::from_millis(1),
        backoff_cap: Duration::from_millis(5),
        ..HttpOptions::default()
    }
}

fn fake_options() -> ActivePlatformOptions {
    ActivePlatformOptions {
        token: TOKEN.into(),
        reseller_id: "1".into(),
        ..ActivePlatformOptions::default()
    }
}

fn client(server: &FakeServer, token: &str) -> ActivePlatform {
    ActivePlatform::new(&server.base_url, "1".into(), token.into(), options()).expect("client")
}

async fn serve(
    data: ActivePlatformData,
    opts: ActivePlatformOptions,
) -> (FakeServer, ActivePlatform) {
    let server = activeplatform::start(data, opts)
        .await
        .expect("fake server");
    let ap = client(&server, TOKEN);
    (server, ap)
}

fn ago(minutes: i64) -> Timestamp {
    Timestamp::now() - SignedDuration::from_mins(minutes)
}

/// Three accounts (ids as a string, an integer, a string) and notes small enough to count by
/// hand: on Northwind's account, subscription and order, by managers and by System, with
/// attachments sized by a number and by a string, a call and some HTML.
fn small() -> ActivePlatformData {
    ActivePlatformData {
        accounts: vec![
            data::account(
                json!("29"),
                "Northwind Traders",
                Some("Northwind Traders Ltd."),
                ("Laura", "Chen"),
                "it@northwind.example",
                "Active",
            ),
            data::account(
                json!(32),
                "Blue Harbor Dental",
                Some("Blue Harbor Dental Group LLC"),
                ("Marcus", "Reid"),
                "office@blueharbor.example",
                "Suspended",
            ),
            data::account(
                json!("35"),
                "Ana Lima",
                None,
                ("Ana", "Lima"),
                "ana@mail.example",
                "Trial",
            ),
        ],
        notes: vec![
            data::note(
                5,
                "29",
                Target::Account,
                "Bill Smith",
                "Migrated",
                ago(5 * 1440),
                Some(data::attachment(5, "Logo", json!(3439))),
            ),
            data::note(
                12,
                "29",
                Target::Subscription("114"),
                "System",
                "Subscription suspended: invoice overdue by 14 days.",
                ago(4 * 1440),
                None,
            ),
            data::note(
                14,
                "29",
                Target::Order("5001"),
                "Angela Grand",
                "Order placed by phone.",
                ago(3 * 1440),
                Some(data::attachment(14, "purchase-order.pdf", json!("48213"))),
            ),
            data::note(
                15,
                "29",
                Target::Account,
                "Sara Lee",
                "Call (15m): Renewal discussed",
                ago(2 * 1440),
                None,
            ),
            data::note(
                16,
                "32",
                Target::Account,
                "Sara Lee",
                "Other account",
                ago(1440),
                None,
            ),
            data::note(
                17,
                "29",
                Target::Account,
                "Priya Patel",
                "<p>Backup <b>policy</b> changed</p>",
                ago(60),
                None,
            ),
        ],
    }
}

fn demo() -> ActivePlatformData {
    activeplatform::demo_data(Timestamp::now(), 7)
}

/// Follows `next` until the last page; returns the notes and the page tokens handed out.
async fn all_notes(ap: &ActivePlatform, query: &NoteQuery) -> (Vec<Note>, Vec<String>) {
    let mut notes = Vec::new();
    let mut tokens = Vec::new();
    let mut next: Option<String> = None;
    for _ in 0..PAGE_GUARD {
        let page = ap.notes(query, next.as_deref()).await.expect("notes page");
        notes.extend(page.items);
        match page.next {
            Some(token) => {
                tokens.push(token.clone());
                next = Some(token);
            }
            None => return (notes, tokens),
        }
    }
    panic!("pagination did not terminate");
}

fn requests_to(server: &FakeServer, list: &str) -> Vec<RecordedRequest> {
    let path = format!("/api/v3/resellers/1/{list}");
    server
        .requests()
        .into_iter()
        .filter(|r| r.path == path)
        .collect()
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

/// An error as the user sees it: one line, without the token.
fn assert_one_clean_line(error: &ProviderError) {
    let shown = format!("{error} {error:?}");
    assert!(!shown.contains(TOKEN), "token leaked: {shown}");
    assert!(!error.to_string().contains(['\n', '\r']), "{error}");
}

fn new_note(customer: &str, kind: NoteKind, text: &str) -> NewNote {
    NewNote {
        customer_id: customer.into(),
        kind,
        author_email: Some("sara@example.com".into()),
        text: text.into(),
        call_duration_s: None,
        created_at: Timestamp::now(),
    }
}

// ---------------------------------------------------------------------------------------------
// Media types and the token.

#[tokio::test]
async fn the_fake_insists_on_the_media_types_and_the_token() {
    let (server, _) = serve(small(), fake_options()).await;
    let url = format!("{}/api/v3/resellers/1/notes", server.base_url);
    let http = reqwest::Client::new();
    let send = |accept: Option<&str>, content_type: Option<&str>, token: Option<&str>| {
        let mut req = http.get(&url);
        if let Some(v) = accept {
            req = req.header("Accept", v);
        }
        if let Some(v) = content_type {
            req = req.header("Content-Type", v);
        }
        if let Some(v) = token {
            req = req.header("X-Api-Token", v);
        }
        req.send()
    };
    let ja = Some(activeplatform::MEDIA_TYPE);
    let status = |r: reqwest::Result<reqwest::Response>| r.expect("reply").status().as_u16();
    assert_eq!(status(send(ja, ja, Some(TOKEN)).await), 200);
    assert_eq!(status(send(None, ja, Some(TOKEN)).await), 406);
    assert_eq!(
        status(send(Some("application/json"), ja, Some(TOKEN)).await),
        406
    );
    assert_eq!(status(send(ja, None, Some(TOKEN)).await), 415);
    assert_eq!(status(send(ja, ja, None).await), 401);
    assert_eq!(status(send(ja, ja, Some("wrong")).await), 401);

    let reply = send(ja, ja, None).await.expect("reply");
    assert_eq!(
        reply
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some(activeplatform::MEDIA_TYPE)
    );
    let body: Value = reply.json().await.expect("json");
    assert_eq!(body["errors"][0]["status"], "401", "{body}");
}

#[tokio::test]
async fn every_kind_of_request_is_accepted_so_each_carried_token_and_media_types() {
    // The fake answers 406, 415 or 401 to a request missing a media type or the token, so a
    // success of every kind of request proves the client sent them all (GET, POST, DELETE).
    let (server, ap) = serve(small(), fake_options()).await;
    ap.ping().await.expect("ping");
    ap.customers(&CustomerQuery::default(), None)
        .await
        .expect("accounts");
    ap.customer("29").await.expect("account");
    ap.notes(&NoteQuery::default(), None).await.expect("notes");
    ap.note("5").await.expect("note");
    let created = ap
        .create_note(&new_note("29", NoteKind::Note, "hello"))
        .await
        .expect("create");
    ap.delete_note(&created.id).await.expect("delete");
    let requests = server.requests();
    let methods: HashSet<&str> = requests.iter().map(|r| r.method.as_str()).collect();
    assert_eq!(methods, HashSet::from(["GET", "POST", "DELETE"]));
    assert!(requests.iter().all(|r| r.authorized), "{requests:?}");
    assert_eq!(requests.len(), 7, "one request each, none repeated");
}

// ---------------------------------------------------------------------------------------------
// Pagination.

#[tokio::test]
async fn whole_account_pages_back_from_the_last_page_newest_first() {
    let data = demo();
    let total = data.notes.len();
    let (server, ap) = serve(data, fake_options()).await;
    let query = NoteQuery {
        per_page: Some(17),
        ..NoteQuery::default()
    };
    let (notes, tokens) = all_notes(&ap, &query).await;
    assert_each_once_newest_first(&notes, total);

    // The server lists oldest first: page 1, then the last page, and back along `prev`.
    let pages = total.div_ceil(17);
    let requests = requests_to(&server, "notes");
    assert_eq!(
        requests.len(),
        pages + 1,
        "one extra request to learn the order"
    );
    let numbers: Vec<usize> = requests
        .iter()
        .map(|r| {
            r.param("page[number]")
                .expect("page number")
                .parse()
                .expect("number")
        })
        .collect();
    let mut expected = vec![1];
    expected.extend((1..=pages).rev());
    assert_eq!(numbers, expected);
    assert!(requests.iter().all(|r| r.param("page[size]") == Some("17")));
    assert!(
        requests
            .iter()
            .all(|r| r.param("filter[account_id]").is_none())
    );
    assert_eq!(tokens.len(), pages - 1);
}

#[tokio::test]
async fn a_server_listing_newest_first_is_walked_forward() {
    let data = demo();
    let total = data.notes.len();
    let opts = ActivePlatformOptions {
        newest_first: true,
        ..fake_options()
    };
    let (server, ap) = serve(data, opts).await;
    let query = NoteQuery {
        per_page: Some(40),
        ..NoteQuery::default()
    };
    let (notes, tokens) = all_notes(&ap, &query).await;
    assert_each_once_newest_first(&notes, total);
    let pages = total.div_ceil(40);
    let requests = requests_to(&server, "notes");
    assert_eq!(requests.len(), pages, "no extra request");
    let numbers: Vec<Option<&str>> = requests.iter().map(|r| r.param("page[number]")).collect();
    let expected: Vec<String> = (1..=pages).map(|n| n.to_string()).collect();
    assert_eq!(
        numbers,
        expected
            .iter()
            .map(|s| Some(s.as_str()))
            .collect::<Vec<_>>()
    );
    // The tokens are the server's own `next` links.
    assert!(
        tokens.iter().all(|t| t.starts_with(&server.base_url)),
        "{tokens:?}"
    );
}

#[tokio::test]
async fn an_accounts_notes_include_its_subscriptions_and_orders_across_pages() {
    let data = demo();
    let expected = data
        .notes
        .iter()
        .filter(|n| n["meta"]["account_id"] == "29")
        .count();
    let (server, ap) = serve(data, fake_options()).await;
    let query = NoteQuery {
        customer_id: Some("29".into()),
        ..NoteQuery::default()
    };
    let (notes, _) = all_notes(&ap, &query).await;
    assert!(
        expected > 50,
        "the demo's first account has more than a page"
    );
    assert_each_once_newest_first(&notes, expected);
    assert!(notes.iter().all(|n| n.customer_id.as_deref() == Some("29")));
    let types: HashSet<Option<&str>> = notes
        .iter()
        .map(|n| n.extras.original_type.as_deref())
        .collect();
    for t in [None, Some("Subscription"), Some("Order")] {
        assert!(types.contains(&t), "{t:?} in {types:?}");
    }
    let requests = requests_to(&server, "notes");
    assert!(
        requests
            .iter()
            .all(|r| r.param("filter[account_id]") == Some("29")),
        "the filter survives every link"
    );
    assert!(requests.iter().all(|r| r.param("page[size]") == Some("50")));
}

#[tokio::test]
async fn accounts_page_through_to_the_end() {
    let data = demo();
    let total = data.accounts.len();
    let (server, ap) = serve(data, fake_options()).await;
    let query = CustomerQuery {
        per_page: Some(5),
        ..CustomerQuery::default()
    };
    let mut customers = Vec::new();
    let mut next: Option<String> = None;
    for _ in 0..PAGE_GUARD {
        let page = ap.customers(&query, next.as_deref()).await.expect("page");
        customers.extend(page.items);
        next = page.next;
        if next.is_none() {
            break;
        }
    }
    assert_eq!(customers.len(), total);
    let ids: HashSet<&str> = customers.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids.len(), total);
    assert!(ids.contains("38"), "an integer id becomes text");
    let requests = requests_to(&server, "accounts");
    assert_eq!(requests.len(), total.div_ceil(5));
    let numbers: Vec<&str> = requests
        .iter()
        .filter_map(|r| r.param("page[number]"))
        .collect();
    assert_eq!(numbers, ["1", "2", "3", "4", "5"]);
}

// ---------------------------------------------------------------------------------------------
// Mapping and search.

#[tokio::test]
async fn accounts_and_notes_map_with_their_extras() {
    let (server, ap) = serve(small(), fake_options()).await;
    let page = ap
        .customers(&CustomerQuery::default(), None)
        .await
        .expect("accounts");
    assert_eq!(page.next, None);
    let northwind = &page.items[0];
    assert_eq!(northwind.id, "29");
    assert_eq!(northwind.name, "Northwind Traders");
    assert_eq!(northwind.company.as_deref(), Some("Northwind Traders Ltd."));
    assert_eq!(northwind.email.as_deref(), Some("it@northwind.example"));
    assert_eq!(northwind.status.as_deref(), Some("Active"));
    assert_eq!(page.items[1].id, "32");
    assert_eq!(page.items[2].company, None, "an individual has no company");
    assert_eq!(
        ap.customer("32").await.expect("by id").name,
        "Blue Harbor Dental"
    );

    let query = NoteQuery {
        customer_id: Some("29".into()),
        ..NoteQuery::default()
    };
    let page = ap.notes(&query, None).await.expect("notes");
    assert_eq!(page.next, None);
    let ids: Vec<&str> = page.items.iter().map(|n| n.id.as_str()).collect();
    assert_eq!(
        ids,
        ["17", "15", "14", "12", "5"],
        "newest first, only account 29"
    );
    let by_id = |id: &str| page.items.iter().find(|n| n.id == id).expect("note");

    let html = by_id("17");
    assert_eq!(html.text, "Backup policy changed");
    assert_eq!(html.kind, NoteKind::Note);

    let call = by_id("15");
    assert_eq!(call.kind, NoteKind::Call);
    assert_eq!(call.call_duration_s, Some(900));
    assert_eq!(call.text, "Renewal discussed");
    assert_eq!(call.author_name.as_deref(), Some("Sara Lee"));
    assert_eq!(call.author_email, None);

    let order = by_id("14");
    assert_eq!(order.extras.original_type.as_deref(), Some("Order"));
    assert_eq!(order.extras.original_id.as_deref(), Some("5001"));
    let file = order.extras.attachment.as_ref().expect("attachment");
    assert_eq!(file.name, "purchase-order.pdf");
    assert_eq!(file.size, Some(48_213), "size sent as a string");
    assert!(
        file.url
            .as_deref()
            .is_some_and(|u| u.starts_with("https://"))
    );
    assert_eq!(
        order.web_url.as_deref(),
        Some(format!("{}/admin/orders/5001/notes/14", server.base_url).as_str())
    );

    let system = by_id("12");
    assert_eq!(system.author_name.as_deref(), Some("System"));
    assert_eq!(system.extras.original_type.as_deref(), Some("Subscription"));
    assert_eq!(system.extras.original_id.as_deref(), Some("114"));

    let migrated = by_id("5");
    assert_eq!(migrated.extras.original_type, None);
    assert_eq!(migrated.extras.original_id, None);
    assert_eq!(
        migrated.extras.attachment.as_ref().and_then(|a| a.size),
        Some(3439),
        "size sent as a number"
    );
    assert_eq!(
        migrated.web_url.as_deref(),
        Some(format!("{}/admin/accounts/29/notes/5", server.base_url).as_str())
    );

    // By id, outside any listing: the account is known from an account note's panel link.
    let single = ap.note("5").await.expect("note by id");
    assert_eq!(single.customer_id.as_deref(), Some("29"));
    assert_eq!(single.text, "Migrated");
    assert!(matches!(
        ap.note("999").await,
        Err(ProviderError::NotFound(_))
    ));
    assert!(matches!(
        ap.contacts("29", None).await,
        Err(ProviderError::Unsupported(_))
    ));
}

#[tokio::test]
async fn email_search_uses_the_server_filter() {
    let (server, ap) = serve(small(), fake_options()).await;
    let query = CustomerQuery {
        search: Some(" IT@Northwind.example ".into()),
        ..CustomerQuery::default()
    };
    let page = ap.customers(&query, None).await.expect("search");
    let ids: Vec<&str> = page.items.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, ["29"]);
    let sent = requests_to(&server, "accounts");
    assert_eq!(sent[0].param("filter[email]"), Some("IT@Northwind.example"));

    let nobody = CustomerQuery {
        search: Some("nobody@nowhere.example".into()),
        ..CustomerQuery::default()
    };
    let page = ap
        .customers(&nobody, None)
        .await
        .expect("no match is not an error");
    assert!(page.items.is_empty() && page.next.is_none());

    // A name is searched by the caller: no filter goes to the server.
    let name = CustomerQuery {
        search: Some("Northwind".into()),
        ..CustomerQuery::default()
    };
    server.clear_requests();
    let page = ap.customers(&name, None).await.expect("all accounts");
    assert_eq!(page.items.len(), 3);
    assert_eq!(
        requests_to(&server, "accounts")[0].param("filter[email]"),
        None
    );
}

// ---------------------------------------------------------------------------------------------
// Writes.

#[tokio::test]
async fn creates_a_note_and_a_call_that_read_back_as_typed() {
    let (server, ap) = serve(small(), fake_options()).await;

    let typed = "Renewal discussed.\nThey asked about the <Enterprise> plan & SSO.";
    let created = ap
        .create_note(&new_note("29", NoteKind::Note, typed))
        .await
        .expect("note created");
    assert_eq!(created.customer_id.as_deref(), Some("29"));
    assert_eq!(created.kind, NoteKind::Note);
    assert_eq!(created.text, typed, "the text reads back exactly as typed");
    assert_eq!(created.text, ap.rendered_text(typed));
    assert_eq!(
        created.author_name.as_deref(),
        Some("Sara Lee"),
        "the token's manager"
    );
    assert_eq!(created.extras.original_type, None);
    assert!(created.web_url.is_some());

    let mut call = new_note("29", NoteKind::Call, "Quarterly check-in");
    call.call_duration_s = Some(15 * 60 + 30);
    let logged = ap.create_note(&call).await.expect("call created");
    assert_eq!(logged.kind, NoteKind::Call);
    assert_eq!(
        logged.call_duration_s,
        Some(930),
        "the duration round-trips"
    );
    assert_eq!(logged.text, "Quarterly check-in");
    assert_eq!(logged.text, ap.rendered_text(&call.text));

    let query = NoteQuery {
        customer_id: Some("29".into()),
        ..NoteQuery::default()
    };
    let listed = ap.notes(&query, None).await.expect("notes").items;
    assert_eq!(listed[0], logged, "the newest write is listed first");
    assert!(listed.contains(&created));

    // What went over the wire: the documented body, the call's prefix in its content.
    let posts: Vec<RecordedRequest> = server
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST")
        .collect();
    assert_eq!(posts.len(), 2, "each create sent exactly once");
    assert_eq!(posts[0].path, "/api/v3/resellers/1/notes");
    assert_eq!(
        posts[0].body,
        Some(json!({"data": {"attributes": {
            "id": 29,
            "type": "account",
            "content": "Renewal discussed.\nThey asked about the &lt;Enterprise&gt; plan &amp; SSO.",
        }}}))
    );
    assert_eq!(
        posts[1]
            .body
            .as_ref()
            .map(|b| b["data"]["attributes"]["content"].clone()),
        Some(json!("Call (15m30s): Quarterly check-in"))
    );
}

#[tokio::test]
async fn content_over_the_limit_is_refused_before_anything_is_sent() {
    let (server, ap) = serve(small(), fake_options()).await;
    let at_limit = "x".repeat(MAX_CONTENT_CHARS);
    let too_long = format!("{at_limit}!");
    server.clear_requests();
    let err = ap
        .create_note(&new_note("29", NoteKind::Note, &too_long))
        .await
        .expect_err("too long");
    assert!(matches!(err, ProviderError::Refused(_)), "{err:?}");
    assert_one_clean_line(&err);
    assert!(err.to_string().contains("5000"), "{err}");

    // A call's prefix counts: text at the limit is too long once it is a call.
    let mut call = new_note("29", NoteKind::Call, &at_limit);
    call.call_duration_s = Some(600);
    assert!(matches!(
        ap.create_note(&call).await,
        Err(ProviderError::Refused(_))
    ));
    assert!(server.requests().is_empty(), "nothing was sent");

    // Exactly at the limit goes through.
    let created = ap
        .create_note(&new_note("29", NoteKind::Note, &at_limit))
        .await
        .expect("at the limit");
    assert_eq!(created.text.chars().count(), MAX_CONTENT_CHARS);
}

#[tokio::test]
async fn the_fake_refuses_long_content_with_a_json_api_422() {
    let (server, _) = serve(small(), fake_options()).await;
    let body = json!({"data": {"attributes": {"id": 29, "type": "account",
        "content": "y".repeat(MAX_CONTENT_CHARS + 1)}}});
    let reply = reqwest::Client::new()
        .post(format!("{}/api/v3/resellers/1/notes", server.base_url))
        .header("Accept", activeplatform::MEDIA_TYPE)
        .header("Content-Type", activeplatform::MEDIA_TYPE)
        .header("X-Api-Token", TOKEN)
        .body(body.to_string())
        .send()
        .await
        .expect("reply");
    assert_eq!(reply.status().as_u16(), 422);
    let errors: Value = reply.json().await.expect("json");
    assert_eq!(
        errors["errors"][0]["source"]["pointer"],
        "/data/attributes/content"
    );
}

#[tokio::test]
async fn deletes_a_note_and_a_second_delete_is_still_done() {
    let (server, ap) = serve(small(), fake_options()).await;
    ap.delete_note("14").await.expect("deleted");
    assert!(matches!(
        ap.note("14").await,
        Err(ProviderError::NotFound(_))
    ));
    let deletes: Vec<RecordedRequest> = server
        .requests()
        .into_iter()
        .filter(|r| r.method == "DELETE")
        .collect();
    assert_eq!(deletes.len(), 1);
    assert_eq!(deletes[0].path, "/api/v3/resellers/1/notes/14");
    assert_eq!(deletes[0].body, None);
    // Gone already (an earlier attempt may have deleted it): that is what was asked.
    ap.delete_note("14").await.expect("gone is done");
    let query = NoteQuery {
        customer_id: Some("29".into()),
        ..NoteQuery::default()
    };
    let listed = ap.notes(&query, None).await.expect("notes").items;
    assert!(listed.iter().all(|n| n.id != "14"));
}

#[tokio::test]
async fn update_is_unsupported_and_nothing_is_sent() {
    let (server, ap) = serve(small(), fake_options()).await;
    assert!(!ap.capabilities().edit);
    let patch = NotePatch {
        text: Some("changed".into()),
        ..NotePatch::default()
    };
    let err = ap.update_note("5", &patch).await.expect_err("no update");
    assert!(matches!(err, ProviderError::Unsupported(_)), "{err:?}");
    assert!(err.to_string().contains("ActivePlatform"), "{err}");
    assert!(server.requests().is_empty());
}

// ---------------------------------------------------------------------------------------------
// Refusals.

#[tokio::test]
async fn a_wrong_token_is_an_auth_error_in_one_clean_line() {
    let server = activeplatform::start(small(), fake_options())
        .await
        .expect("fake server");
    let ap = client(&server, "ap-wrong-token-0000");
    let err = ap
        .notes(&NoteQuery::default(), None)
        .await
        .expect_err("refused");
    assert!(
        matches!(err, ProviderError::Auth { status: 401, .. }),
        "{err:?}"
    );
    assert_one_clean_line(&err);
    assert!(!err.to_string().contains("ap-wrong-token-0000"));
    assert!(err.to_string().contains("missing or invalid"), "{err}");
    let requests = server.requests();
    assert_eq!(requests.len(), 1, "a 401 is not retried");
    assert!(!requests[0].authorized);
}

#[tokio::test]
async fn a_read_only_role_may_read_but_not_write() {
    let opts = ActivePlatformOptions {
        read_only: true,
        ..fake_options()
    };
    let (server, ap) = serve(small(), opts).await;
    let err = ap
        .create_note(&new_note("29", NoteKind::Note, "hello"))
        .await
        .expect_err("read-only");
    assert!(
        matches!(err, ProviderError::Forbidden { status: 403, .. }),
        "{err:?}"
    );
    assert_one_clean_line(&err);
    let err = ap.delete_note("5").await.expect_err("read-only");
    assert!(matches!(err, ProviderError::Forbidden { .. }), "{err:?}");
    // Nothing changed, and reading still works.
    let notes = ap.notes(&NoteQuery::default(), None).await.expect("reads");
    assert_eq!(notes.items.len(), 6);
    let writes = server
        .requests()
        .into_iter()
        .filter(|r| r.method != "GET")
        .count();
    assert_eq!(writes, 2, "each write tried once");
}

#[tokio::test]
async fn another_resellers_notes_are_not_found() {
    let server = activeplatform::start(small(), fake_options())
        .await
        .expect("fake server");
    let ap =
        ActivePlatform::new(&server.base_url, "2".into(), TOKEN.into(), options()).expect("client");
    let err = ap
        .notes(&NoteQuery::default(), None)
        .await
        .expect_err("other reseller");
    assert!(
        matches!(err, ProviderError::NotFound(ref m) if m == "Not Found: Reseller not found"),
        "{err:?}"
    );
}
