//! The Peoplevine client against the fake Peoplevine server over loopback: the two-step login,
//! token expiry and transparent renewal, header pagination, 204s, the customer and note mapping,
//! the whole-account feed, writes (notes, calls, updates, messages) and what is refused.

use std::collections::HashSet;
use std::time::Duration;

use crm_notes::demo::peoplevine::{self, PeoplevineData, PeoplevineOptions, TokenControl};
use crm_notes::demo::{FakeServer, RecordedRequest};
use crm_notes::model::{CustomerQuery, NewNote, Note, NoteKind, NotePatch, NoteQuery};
use crm_notes::providers::http::HttpOptions;
use crm_notes::providers::peoplevine::{Peoplevine, PeoplevinePatch};
use crm_notes::providers::{Provider, ProviderError};
use jiff::Timestamp;
use serde_json::{Value, json};

/// Enough pages for any test here; reaching it means the client failed to stop.
const PAGE_GUARD: usize = 1_000;
const PASSWORD: &str = "club-password-7f3a91";
const ELEANOR: &str = "20001";

fn options() -> HttpOptions {
    HttpOptions {
        max_retries: 1,
        backoff_base: Duration::from_millis(1),
        backoff_cap: Duration::from_millis(5),
        ..HttpOptions::default()
    }
}

fn demo() -> PeoplevineData {
    peoplevine::demo_data(Timestamp::now(), 7)
}

fn fake_options() -> PeoplevineOptions {
    PeoplevineOptions {
        password: PASSWORD.into(),
        ..PeoplevineOptions::default()
    }
}

fn client_for(server: &FakeServer, password: &str, region: Option<&str>) -> Peoplevine {
    let defaults = PeoplevineOptions::default();
    Peoplevine::new(
        &server.base_url,
        defaults.username,
        password.to_string(),
        defaults.company_id,
        region.map(str::to_string),
        options(),
    )
    .expect("client")
}

async fn serve(data: PeoplevineData, opts: PeoplevineOptions) -> (FakeServer, Peoplevine) {
    let server = peoplevine::start(data, opts).await.expect("fake server");
    let client = client_for(&server, PASSWORD, None);
    (server, client)
}

fn requests_to(server: &FakeServer, method: &str, path: &str) -> Vec<RecordedRequest> {
    server
        .requests()
        .into_iter()
        .filter(|r| r.method == method && r.path == path)
        .collect()
}

fn logins(server: &FakeServer) -> usize {
    requests_to(server, "POST", "/api/token").len()
}

fn refreshes(server: &FakeServer) -> usize {
    requests_to(server, "POST", "/api/token/refresh").len()
}

async fn all_notes(pv: &Peoplevine, query: &NoteQuery) -> Vec<Note> {
    let mut notes = Vec::new();
    let mut next: Option<String> = None;
    for _ in 0..PAGE_GUARD {
        let page = pv.notes(query, next.as_deref()).await.expect("notes page");
        notes.extend(page.items);
        match page.next {
            Some(token) => next = Some(token),
            None => return notes,
        }
    }
    panic!("pagination did not terminate");
}

async fn all_customer_ids(pv: &Peoplevine, per_page: u32) -> Vec<String> {
    let query = CustomerQuery {
        per_page: Some(per_page),
        ..CustomerQuery::default()
    };
    let mut ids = Vec::new();
    let mut next: Option<String> = None;
    for _ in 0..PAGE_GUARD {
        let page = pv.customers(&query, next.as_deref()).await.expect("page");
        ids.extend(page.items.into_iter().map(|c| c.id));
        match page.next {
            Some(token) => next = Some(token),
            None => return ids,
        }
    }
    panic!("pagination did not terminate");
}

fn timeline_query(customer: &str) -> NoteQuery {
    NoteQuery {
        customer_id: Some(customer.to_string()),
        ..NoteQuery::default()
    }
}

fn assert_newest_first_each_once(notes: &[Note]) {
    let ids: HashSet<&str> = notes.iter().map(|n| n.id.as_str()).collect();
    assert_eq!(ids.len(), notes.len(), "a note came twice");
    assert!(
        notes.windows(2).all(|w| w[0].created_at >= w[1].created_at),
        "not newest first"
    );
}

fn new_note(kind: NoteKind, text: &str, duration: Option<u32>) -> NewNote {
    NewNote {
        customer_id: ELEANOR.into(),
        kind,
        author_email: None,
        text: text.into(),
        call_duration_s: duration,
        created_at: Timestamp::now(),
    }
}

/// An error as the user sees it: one line, without the password.
fn assert_one_clean_line(error: &ProviderError) {
    let shown = format!("{error} {error:?}");
    assert!(!shown.contains(PASSWORD), "secret leaked: {shown}");
    assert!(!error.to_string().contains(['\n', '\r']), "{error}");
}

// ---------------------------------------------------------------------------------------------
// Auth.

#[tokio::test]
async fn logs_in_with_a_user_token_then_a_company_token() {
    let (server, pv) = serve(demo(), fake_options()).await;
    pv.ping().await.expect("ping");
    let requests = server.requests();
    let paths: Vec<(&str, &str)> = requests
        .iter()
        .map(|r| (r.method.as_str(), r.path.as_str()))
        .collect();
    assert_eq!(
        paths,
        [
            ("POST", "/api/token"),
            ("POST", "/api/token"),
            ("GET", "/api/customers")
        ]
    );
    let user = requests[0].body.clone().expect("user token body");
    assert_eq!(
        user,
        json!({"username": "sara@club.example", "password": PASSWORD, "grant_type": "password"})
    );
    let company = requests[1].body.clone().expect("company token body");
    assert_eq!(company["grant_type"], "access_token");
    assert_eq!(company["company_id"], 1234);
    assert!(
        company["access_token"]
            .as_str()
            .is_some_and(|t| !t.is_empty())
    );
    assert!(
        company["refresh_token"]
            .as_str()
            .is_some_and(|t| !t.is_empty())
    );
    assert!(requests.iter().all(|r| r.authorized), "{requests:?}");

    // The tokens are kept: later requests log in no more.
    pv.customers(&CustomerQuery::default(), None)
        .await
        .expect("customers");
    pv.note("101").await.expect("note");
    assert_eq!(logins(&server), 2);
}

#[tokio::test]
async fn wrong_password_is_an_auth_error_without_the_password() {
    let (server, _) = serve(demo(), fake_options()).await;
    let wrong = "wrong-password-9c1e55";
    let pv = client_for(&server, wrong, None);
    let err = pv
        .customers(&CustomerQuery::default(), None)
        .await
        .expect_err("refused");
    match &err {
        ProviderError::Auth {
            provider, status, ..
        } => assert_eq!((*provider, *status), ("Peoplevine", 401)),
        other => panic!("expected Auth, got {other:?}"),
    }
    let shown = format!("{err} {err:?}");
    assert!(!shown.contains(wrong), "secret leaked: {shown}");
    assert!(
        err.to_string()
            .contains("user name or password is incorrect"),
        "{err}"
    );
    assert_one_clean_line(&err);
    // Refused at the login: nothing else was asked.
    let paths: Vec<String> = server.requests().into_iter().map(|r| r.path).collect();
    assert_eq!(paths, ["/api/token"]);
}

#[tokio::test]
async fn a_company_the_user_cannot_access_is_refused_at_login() {
    let (server, _) = serve(demo(), fake_options()).await;
    let pv = Peoplevine::new(
        &server.base_url,
        "sara@club.example".into(),
        PASSWORD.into(),
        999,
        None,
        options(),
    )
    .expect("client");
    let err = pv.ping().await.expect_err("no access");
    assert_eq!(
        err.to_string(),
        "Peoplevine does not allow this (403): This user has no access to that company."
    );
    assert_one_clean_line(&err);
    assert_eq!(
        logins(&server),
        2,
        "user token, then the refused company token"
    );
    assert!(requests_to(&server, "GET", "/api/customers").is_empty());
}

#[tokio::test]
async fn an_expired_access_token_is_refreshed_and_the_request_sent_once_more() {
    let control = TokenControl::default();
    let opts = PeoplevineOptions {
        tokens: control.clone(),
        ..fake_options()
    };
    let (server, pv) = serve(demo(), opts).await;
    pv.ping().await.expect("logged in");
    server.clear_requests();

    control.expire_access_tokens();
    let customer = pv.customer(ELEANOR).await.expect("renewed transparently");
    assert_eq!(customer.name, "Eleanor Vance");
    let seen: Vec<(String, bool)> = server
        .requests()
        .into_iter()
        .map(|r| (r.path, r.authorized))
        .collect();
    assert_eq!(
        seen,
        [
            (format!("/api/customers/{ELEANOR}"), false),
            ("/api/token/refresh".to_string(), true),
            (format!("/api/customers/{ELEANOR}"), true),
        ]
    );
    let refresh = requests_to(&server, "POST", "/api/token/refresh");
    let body = refresh[0].body.clone().expect("refresh body");
    assert!(body["access_token"].is_string() && body["refresh_token"].is_string());
    assert_eq!(logins(&server), 0, "a refresh, not a new login");

    // Once the refresh token has expired too, renewal logs in again.
    server.clear_requests();
    control.expire_access_tokens();
    control.expire_refresh_tokens();
    pv.customer(ELEANOR).await.expect("logged in again");
    assert_eq!((refreshes(&server), logins(&server)), (1, 2));
    assert_eq!(
        requests_to(&server, "GET", &format!("/api/customers/{ELEANOR}")).len(),
        2
    );
}

#[tokio::test]
async fn writes_are_renewed_too_and_sent_exactly_once_more() {
    let control = TokenControl::default();
    let opts = PeoplevineOptions {
        tokens: control.clone(),
        ..fake_options()
    };
    let (server, pv) = serve(demo(), opts).await;
    pv.ping().await.expect("logged in");
    control.expire_access_tokens();
    let created = pv
        .create_note(&new_note(NoteKind::Note, "After the token expired", None))
        .await
        .expect("created after renewal");
    let posts = requests_to(&server, "POST", &format!("/api/customers/{ELEANOR}/notes"));
    let outcome: Vec<bool> = posts.iter().map(|r| r.authorized).collect();
    // The refused POST did nothing, so sending it again cannot make a duplicate.
    assert_eq!(outcome, [false, true]);
    let timeline = all_notes(&pv, &timeline_query(ELEANOR)).await;
    assert_eq!(timeline.iter().filter(|n| n.id == created.id).count(), 1);
    assert_eq!(
        timeline
            .iter()
            .filter(|n| n.text == "After the token expired")
            .count(),
        1
    );
}

#[tokio::test]
async fn a_second_401_is_the_answer() {
    // Login and refresh work, API requests never: renewing cannot help.
    let control = TokenControl::default();
    let opts = PeoplevineOptions {
        tokens: control.clone(),
        ..fake_options()
    };
    let (server, pv) = serve(demo(), opts).await;
    control.refuse_api_requests(true);
    let err = pv.customer(ELEANOR).await.expect_err("always 401");
    assert!(
        matches!(err, ProviderError::Auth { status: 401, .. }),
        "{err:?}"
    );
    assert_one_clean_line(&err);
    assert_eq!(
        requests_to(&server, "GET", &format!("/api/customers/{ELEANOR}")).len(),
        2,
        "retried once, not more"
    );
    assert_eq!((logins(&server), refreshes(&server)), (2, 1));
}

#[tokio::test]
async fn concurrent_requests_share_one_login_and_one_refresh() {
    let control = TokenControl::default();
    let opts = PeoplevineOptions {
        tokens: control.clone(),
        ..fake_options()
    };
    let (server, pv) = serve(demo(), opts).await;
    let run = |pv: Peoplevine| async move {
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let pv = pv.clone();
                tokio::spawn(async move { pv.customer(ELEANOR).await })
            })
            .collect();
        for task in tasks {
            task.await.expect("task").expect("customer");
        }
    };
    run(pv.clone()).await;
    assert_eq!(logins(&server), 2, "one login: user token + company token");

    control.expire_access_tokens();
    run(pv.clone()).await;
    assert_eq!(refreshes(&server), 1, "one refresh for all eight");
    assert_eq!(logins(&server), 2);
}

#[tokio::test]
async fn the_region_header_is_sent_when_configured() {
    let opts = PeoplevineOptions {
        region: Some("uk".into()),
        ..fake_options()
    };
    let (server, without) = serve(demo(), opts).await;
    let err = without.ping().await.expect_err("no region");
    assert!(matches!(err, ProviderError::Auth { .. }), "{err:?}");
    let with = client_for(&server, PASSWORD, Some("uk"));
    with.ping().await.expect("with the region");
}

// ---------------------------------------------------------------------------------------------
// Reading.

#[tokio::test]
async fn pages_through_customers_with_the_pagination_header() {
    let data = demo();
    let expected: Vec<String> = data.customers.iter().map(|c| c["id"].to_string()).collect();
    let (server, pv) = serve(data, fake_options()).await;
    let ids = all_customer_ids(&pv, 10).await;
    assert_eq!(ids, expected, "every customer once, in the server's order");
    let requests = requests_to(&server, "GET", "/api/customers");
    let pages: Vec<(Option<&str>, Option<&str>)> = requests
        .iter()
        .map(|r| (r.param("page_number"), r.param("page_size")))
        .collect();
    assert_eq!(
        pages,
        [
            (Some("1"), Some("10")),
            (Some("2"), Some("10")),
            (Some("3"), Some("10")),
            (Some("4"), Some("10"))
        ],
        "the header's has_next_page ends it: no request for an empty fifth page"
    );
}

#[tokio::test]
async fn without_the_header_a_short_or_empty_page_ends_the_listing() {
    let mut data = demo();
    data.customers.truncate(30);
    let opts = PeoplevineOptions {
        pagination_header: false,
        ..fake_options()
    };
    let (server, pv) = serve(data, opts).await;
    assert_eq!(all_customer_ids(&pv, 10).await.len(), 30);
    // Three full pages, then the fourth is empty (204).
    assert_eq!(requests_to(&server, "GET", "/api/customers").len(), 4);
    server.clear_requests();
    assert_eq!(all_customer_ids(&pv, 7).await.len(), 30);
    assert_eq!(requests_to(&server, "GET", "/api/customers").len(), 5);
}

#[tokio::test]
async fn page_size_is_capped_at_50() {
    let (server, pv) = serve(demo(), fake_options()).await;
    for asked in [None, Some(50), Some(500)] {
        let query = CustomerQuery {
            per_page: asked,
            ..CustomerQuery::default()
        };
        pv.customers(&query, None).await.expect("page");
    }
    let sizes: Vec<Option<String>> = requests_to(&server, "GET", "/api/customers")
        .iter()
        .map(|r| r.param("page_size").map(str::to_string))
        .collect();
    assert_eq!(
        sizes,
        [Some("50".into()), Some("50".into()), Some("50".into())]
    );
    let notes = NoteQuery {
        per_page: Some(200),
        ..NoteQuery::default()
    };
    pv.notes(&notes, None).await.expect("notes");
    let feed = requests_to(&server, "GET", "/api/customers/notes");
    assert_eq!(feed[0].param("page_size"), Some("50"));
}

/// Raw HTTP against the fake: its own contract, which the client's behaviour relies on.
#[tokio::test]
async fn the_fake_refuses_page_sizes_over_50_and_answers_empty_lists_with_204() {
    let (server, _) = serve(demo(), fake_options()).await;
    let http = reqwest::Client::new();
    let token = |body: Value| {
        let http = http.clone();
        let url = format!("{}/api/token", server.base_url);
        async move {
            let reply: Value = http
                .post(url)
                .json(&body)
                .send()
                .await
                .expect("token request")
                .json()
                .await
                .expect("token JSON");
            reply
        }
    };
    let user = token(
        json!({"username": "sara@club.example", "password": PASSWORD,
        "grant_type": "password"}),
    )
    .await;
    let company = token(json!({"access_token": user["access_token"],
        "refresh_token": user["refresh_token"], "company_id": 1234, "grant_type": "access_token"}))
    .await;
    let access = company["access_token"].as_str().expect("company token");
    let get = |path: String| {
        http.get(format!("{}{path}", server.base_url))
            .bearer_auth(access)
            .send()
    };

    for bad in ["51", "0", "ten"] {
        let reply = get(format!("/api/customers?page_size={bad}"))
            .await
            .expect("reply");
        assert_eq!(reply.status().as_u16(), 422, "page_size={bad}");
        let body: Value = reply.json().await.expect("error JSON");
        assert_eq!(body["error"], "validation_error");
        assert!(body["error_description"].is_string() && body.get("error_details").is_some());
    }
    let reply = get("/api/customers?page_size=50".into())
        .await
        .expect("reply");
    assert_eq!(reply.status().as_u16(), 200);
    let pagination: Value = serde_json::from_str(
        reply
            .headers()
            .get("pagination")
            .and_then(|v| v.to_str().ok())
            .expect("pagination header"),
    )
    .expect("header JSON");
    assert_eq!(pagination["page_size"], 50);
    assert_eq!(pagination["has_next_page"], false);

    let empty = get("/api/customers?page_number=99".into())
        .await
        .expect("reply");
    assert_eq!(empty.status().as_u16(), 204);
    assert!(empty.bytes().await.expect("body").is_empty());

    let user_token = user["access_token"].as_str().expect("user token");
    let reply = http
        .get(format!("{}/api/customers", server.base_url))
        .bearer_auth(user_token)
        .send()
        .await
        .expect("reply");
    assert_eq!(reply.status().as_u16(), 403, "a user token is not enough");
}

#[tokio::test]
async fn maps_customers_and_the_rich_timeline() {
    let (_server, pv) = serve(demo(), fake_options()).await;
    let eleanor = pv.customer(ELEANOR).await.expect("customer");
    assert_eq!(eleanor.name, "Eleanor Vance");
    assert_eq!(eleanor.company.as_deref(), Some("Vance & Partners"));
    assert_eq!(
        eleanor.email.as_deref(),
        Some("eleanor.vance@members.example")
    );
    assert_eq!(eleanor.status.as_deref(), Some("active"));

    let notes = all_notes(&pv, &timeline_query(ELEANOR)).await;
    assert_eq!(notes.len(), 10);
    assert_newest_first_each_once(&notes);
    assert!(
        notes
            .iter()
            .all(|n| n.customer_id.as_deref() == Some(ELEANOR))
    );

    let renewal = &notes[0];
    assert_eq!(renewal.kind, NoteKind::Call);
    assert_eq!(renewal.call_duration_s, Some(12 * 60));
    assert_eq!(
        renewal.text,
        "Eleanor would like to move to the annual plan from January.\n\
         Asked whether the founding-member rate still applies."
    );
    assert_eq!(renewal.subject.as_deref(), Some("Renewal: annual plan"));
    assert_eq!(renewal.author_name.as_deref(), Some("Sara Lee"));
    assert_eq!(renewal.author_email.as_deref(), Some("sara@club.example"));
    assert_eq!(renewal.extras.status.as_deref(), Some("open"));
    assert!(renewal.extras.reminder.is_some());
    assert_eq!(renewal.extras.assignees, ["Maya Patel", "Kwame Mensah"]);
    let thread: Vec<&str> = renewal
        .extras
        .messages
        .iter()
        .map(|m| m.text.as_str())
        .collect();
    assert_eq!(
        thread,
        [
            "Approved the founding-member rate.",
            "Sent the renewal form."
        ]
    );

    let gala = notes
        .iter()
        .find(|n| n.subject.as_deref() == Some("Winter gala: dietary needs"))
        .expect("gala note");
    assert_eq!(gala.kind, NoteKind::Note);
    assert!(gala.extras.confidential && !gala.extras.priority);
    assert_eq!(gala.extras.tags, ["events", "dietary"]);
    assert_eq!(gala.extras.messages.len(), 3);
    assert!(gala.text.contains("No gluten"), "{}", gala.text);

    let untyped = notes
        .iter()
        .find(|n| n.subject.as_deref() == Some("Locker reassigned"))
        .expect("note without a type");
    assert_eq!(untyped.kind, NoteKind::Note);
    let welcome = notes.last().expect("oldest");
    assert_eq!(welcome.kind, NoteKind::Other("email".into()));
    assert_eq!(welcome.extras.status, None, "\"\" is no status");

    for note in &notes {
        for text in [
            note.text.as_str(),
            note.subject.as_deref().unwrap_or_default(),
        ] {
            assert!(
                !text.contains(['\u{1b}', '\u{7}', '\u{202e}', '\r']),
                "unsanitised: {text:?}"
            );
        }
    }
    let hostile = notes
        .iter()
        .find(|n| n.subject.as_deref().is_some_and(|s| s.contains("URGENT")))
        .expect("hostile note");
    assert!(hostile.text.contains("card declined"), "{}", hostile.text);
}

#[tokio::test]
async fn a_customer_without_notes_gets_a_204_and_an_empty_last_page() {
    let data = demo();
    let counts = |id: &Value| {
        data.notes
            .iter()
            .filter(|n| &n["customer_id"] == id)
            .count()
    };
    let quiet = data
        .customers
        .iter()
        .map(|c| c["id"].clone())
        .find(|id| counts(id) == 0)
        .expect("a member without notes")
        .to_string();
    let (server, pv) = serve(data, fake_options()).await;
    let page = pv
        .notes(&timeline_query(&quiet), None)
        .await
        .expect("empty page");
    assert!(page.items.is_empty() && page.next.is_none());
    let asked = requests_to(&server, "GET", &format!("/api/customers/{quiet}/notes"));
    assert_eq!(asked.len(), 1);

    let missing = pv
        .notes(&timeline_query("999999"), None)
        .await
        .expect_err("no such customer");
    assert!(matches!(missing, ProviderError::NotFound(_)), "{missing:?}");
}

#[tokio::test]
async fn the_whole_account_feed_pages_through_every_note() {
    let data = demo();
    let total = data.notes.len();
    let (server, pv) = serve(data, fake_options()).await;
    let query = NoteQuery {
        per_page: Some(25),
        ..NoteQuery::default()
    };
    let notes = all_notes(&pv, &query).await;
    assert_eq!(notes.len(), total);
    assert_newest_first_each_once(&notes);
    let feed = requests_to(&server, "GET", "/api/customers/notes");
    assert_eq!(feed.len(), total.div_ceil(25));
    let customers: HashSet<&str> = notes
        .iter()
        .filter_map(|n| n.customer_id.as_deref())
        .collect();
    assert!(customers.len() > 20, "notes of many members");
}

// ---------------------------------------------------------------------------------------------
// Writing.

#[tokio::test]
async fn creates_a_note_and_a_call_that_read_back_as_typed() {
    let (server, pv) = serve(demo(), fake_options()).await;
    let typed = "Booked the <Blue Room> for 14 & wine pairing.\nVegetarian option for two.";
    let note = pv
        .create_note(&new_note(NoteKind::Note, typed, None))
        .await
        .expect("note created");
    assert_eq!(note.kind, NoteKind::Note);
    assert_eq!(note.text, typed);
    assert_eq!(note.text, pv.rendered_text(typed));
    assert_eq!(
        note.subject.as_deref(),
        Some("Booked the <Blue Room> for 14 & wine pairing.")
    );
    assert_eq!(note.customer_id.as_deref(), Some(ELEANOR));
    assert_eq!(note.author_name.as_deref(), Some("Sara Lee"));
    assert_eq!(note.extras.status.as_deref(), Some("open"));
    assert_eq!(note.call_duration_s, None);

    let call_text = "Renewal questions\nWalked through the family add-on.";
    let call = pv
        .create_note(&new_note(NoteKind::Call, call_text, Some(15 * 60)))
        .await
        .expect("call created");
    assert_eq!(call.kind, NoteKind::Call);
    assert_eq!(call.call_duration_s, Some(900), "the duration round-trips");
    assert_eq!(call.text, call_text, "without the duration line");
    assert_eq!(call.text, pv.rendered_text(call_text));

    let posts = requests_to(&server, "POST", &format!("/api/customers/{ELEANOR}/notes"));
    assert_eq!(posts.len(), 2, "each create sent exactly once");
    assert_eq!(
        posts[1].body,
        Some(json!({
            "type": "call",
            "subject": "Renewal questions",
            "details": "Call duration: 15m<br>Renewal questions<br>Walked through the family add-on.",
        }))
    );
    assert_eq!(
        posts[0].body.as_ref().map(|b| b["type"].clone()),
        Some(json!("note"))
    );

    // Both are in the timeline, newest first, as written.
    let timeline = all_notes(&pv, &timeline_query(ELEANOR)).await;
    assert_eq!(timeline[0], call);
    assert_eq!(timeline[1], note);
    assert_eq!(pv.note(&call.id).await.expect("get"), call);
}

#[tokio::test]
async fn a_create_answered_with_a_list_still_gives_the_note() {
    let opts = PeoplevineOptions {
        create_reply_as_list: true,
        ..fake_options()
    };
    let (_server, pv) = serve(demo(), opts).await;
    let note = pv
        .create_note(&new_note(NoteKind::Note, "Spa booking for Saturday", None))
        .await
        .expect("created");
    assert_eq!(note.text, "Spa booking for Saturday");
}

#[tokio::test]
async fn updates_status_priority_and_text_keeping_a_calls_duration() {
    let (server, pv) = serve(demo(), fake_options()).await;
    let call = pv
        .create_note(&new_note(NoteKind::Call, "first draft", Some(300)))
        .await
        .expect("created");

    let closed = pv
        .update(
            &call.id,
            &PeoplevinePatch {
                status: Some("closed".into()),
                priority: Some(true),
                ..PeoplevinePatch::default()
            },
        )
        .await
        .expect("closed");
    assert_eq!(closed.extras.status.as_deref(), Some("closed"));
    assert!(closed.extras.priority);
    assert_eq!(
        (closed.text.as_str(), closed.call_duration_s),
        ("first draft", Some(300))
    );
    let path = format!("/api/customers/notes/{}", call.id);
    assert_eq!(
        requests_to(&server, "PATCH", &path)[0].body,
        Some(json!({"status": "closed", "priority": "true"})),
        "the reference types the flags as strings"
    );

    let patch = NotePatch {
        text: Some("Final text\nwith a second line".into()),
        ..NotePatch::default()
    };
    let edited = pv.update_note(&call.id, &patch).await.expect("text");
    assert_eq!(edited.text, "Final text\nwith a second line");
    assert_eq!(
        edited.call_duration_s,
        Some(300),
        "the duration line is kept"
    );
    assert_eq!(edited.subject.as_deref(), Some("Final text"));
    assert_eq!(edited.extras.status.as_deref(), Some("closed"));

    let patch = NotePatch {
        call_duration_s: Some(1_800),
        ..NotePatch::default()
    };
    let longer = pv.update_note(&call.id, &patch).await.expect("duration");
    assert_eq!(longer.call_duration_s, Some(1_800));
    assert_eq!(longer.text, "Final text\nwith a second line");
    let patches = requests_to(&server, "PATCH", &path);
    assert_eq!(
        patches[2].body,
        Some(json!({"details": "Call duration: 30m<br>Final text<br>with a second line"})),
        "no subject: the text did not change"
    );

    let err = pv
        .update(
            &call.id,
            &PeoplevinePatch {
                status: Some("done".into()),
                ..PeoplevinePatch::default()
            },
        )
        .await
        .expect_err("not a status");
    assert!(matches!(err, ProviderError::Refused(_)), "{err:?}");
    let missing = pv.update_note("999999", &patch).await.expect_err("404");
    assert!(matches!(missing, ProviderError::NotFound(_)), "{missing:?}");
}

#[tokio::test]
async fn what_peoplevine_cannot_do_is_refused_before_sending() {
    let (server, pv) = serve(demo(), fake_options()).await;
    let caps = pv.capabilities();
    assert!(!caps.delete && !caps.contacts);
    let err = pv.delete_note("101").await.expect_err("no delete");
    assert!(matches!(err, ProviderError::Unsupported(_)), "{err:?}");
    assert_eq!(err.to_string(), "Peoplevine does not let us delete notes");

    let moved = NotePatch {
        text: Some("x".into()),
        created_at: Some("2024-01-01T00:00:00Z".parse().expect("ts")),
        ..NotePatch::default()
    };
    let err = pv
        .update_note("101", &moved)
        .await
        .expect_err("no backdating");
    assert!(matches!(err, ProviderError::Unsupported(_)), "{err:?}");
    let err = pv.contacts(ELEANOR, None).await.expect_err("no contacts");
    assert!(matches!(err, ProviderError::Unsupported(_)), "{err:?}");
    assert!(server.requests().is_empty(), "{:?}", server.requests());
}

#[tokio::test]
async fn adds_a_message_to_a_notes_thread() {
    let (server, pv) = serve(demo(), fake_options()).await;
    let before = pv.note("102").await.expect("gala note");
    let message = pv
        .add_message("102", "Table plan sent to the chef & the <b>band</b>.")
        .await
        .expect("message added");
    assert_eq!(
        message.text,
        "Table plan sent to the chef & the <b>band</b>."
    );
    assert_eq!(message.author.as_deref(), Some("Sara Lee"));
    assert!(message.created_at.is_some());

    let after = pv.note("102").await.expect("gala note");
    assert_eq!(
        after.extras.messages.len(),
        before.extras.messages.len() + 1
    );
    assert_eq!(after.extras.messages.last(), Some(&message));
    let posts = requests_to(&server, "POST", "/api/customers/notes/102/messages");
    assert_eq!(posts.len(), 1);
    assert_eq!(
        posts[0].body,
        Some(json!({"message": "Table plan sent to the chef &amp; the &lt;b&gt;band&lt;/b&gt;."}))
    );

    let err = pv.add_message("102", "  ").await.expect_err("empty");
    assert!(matches!(err, ProviderError::Refused(_)), "{err:?}");
    let err = pv.add_message("999999", "hello").await.expect_err("404");
    assert!(matches!(err, ProviderError::NotFound(_)), "{err:?}");
}

#[tokio::test]
async fn a_read_only_user_may_read_but_not_write() {
    let opts = PeoplevineOptions {
        read_only: true,
        ..fake_options()
    };
    let (_server, pv) = serve(demo(), opts).await;
    pv.note("101").await.expect("reads work");
    let err = pv
        .create_note(&new_note(NoteKind::Note, "nope", None))
        .await
        .expect_err("403");
    assert!(
        matches!(err, ProviderError::Forbidden { status: 403, .. }),
        "{err:?}"
    );
    assert_one_clean_line(&err);
    let err = pv.add_message("101", "nope").await.expect_err("403");
    assert!(matches!(err, ProviderError::Forbidden { .. }), "{err:?}");
}
