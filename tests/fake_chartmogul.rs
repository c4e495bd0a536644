//! The fake ChartMogul server driven over loopback with plain reqwest: the behaviour the real
//! client's contract tests, the demo and the benchmarks rely on.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use crm_notes::demo::FakeServer;
use crm_notes::demo::chartmogul::{self, ChartMogulData, ChartMogulOptions};
use crm_notes::demo::data::{self, HOSTILE_NOTE};
use jiff::Timestamp;
use serde_json::{Value, json};

fn now() -> Timestamp {
    "2026-03-01T12:00:00Z".parse().unwrap()
}

async fn start(data: ChartMogulData, opts: ChartMogulOptions) -> FakeServer {
    chartmogul::start(data, opts)
        .await
        .expect("fake server starts")
}

async fn start_demo(customers: usize, notes: usize) -> FakeServer {
    start(
        data::chartmogul_demo(now(), customers, notes, 42),
        ChartMogulOptions::default(),
    )
    .await
}

/// GET with the server's key; `query` is URL-encoded by reqwest.
async fn get(server: &FakeServer, path: &str, query: &[(&str, &str)]) -> (u16, Value) {
    let reply = reqwest::Client::new()
        .get(format!("{}{path}", server.base_url))
        .basic_auth(&server.api_key, Some(""))
        .query(query)
        .send()
        .await
        .expect("request");
    let status = reply.status().as_u16();
    let body = reply.json().await.expect("JSON body");
    (status, body)
}

/// Follows cursors to the end, checking the envelope on the way; returns the pages.
async fn all_pages(server: &FakeServer, path: &str, query: &[(&str, &str)]) -> Vec<Value> {
    let mut pages = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut q = query.to_vec();
        if let Some(c) = &cursor {
            q.push(("cursor", c));
        }
        let (status, page) = get(server, path, &q).await;
        assert_eq!(status, 200, "{page}");
        let has_more = page["has_more"].as_bool().expect("has_more");
        let next = page["cursor"].as_str().map(str::to_string);
        pages.push(page);
        if !has_more {
            assert_eq!(next, None);
            return pages;
        }
        let next = next.expect("a cursor when has_more");
        assert!(next.ends_with('='), "cursor {next} is not padded");
        cursor = Some(next);
        assert!(pages.len() < 1_000, "pagination does not end");
    }
}

fn uuids(pages: &[Value]) -> Vec<String> {
    pages
        .iter()
        .flat_map(|p| p["entries"].as_array().unwrap().iter())
        .map(|e| e["uuid"].as_str().unwrap().to_string())
        .collect()
}

fn error_body(code: u16, message: &str, param: Option<&str>) -> Value {
    json!({"code": code, "message": message, "param": param})
}

#[tokio::test]
async fn requests_without_the_key_get_401_and_are_recorded() {
    let server = start_demo(3, 5).await;
    let client = reqwest::Client::new();
    let url = format!("{}/v1/ping", server.base_url);

    let anonymous = client.get(&url).send().await.unwrap();
    assert_eq!(anonymous.status().as_u16(), 401);
    let body: Value = anonymous.json().await.unwrap();
    assert_eq!(body, error_body(401, "No valid API key provided", None));

    let wrong = client.get(&url).basic_auth("nope", Some("")).send().await;
    assert_eq!(wrong.unwrap().status().as_u16(), 401);
    let bearer = client.get(&url).bearer_auth("demo-key").send().await;
    assert_eq!(bearer.unwrap().status().as_u16(), 401);

    let (status, body) = get(&server, "/v1/ping", &[]).await;
    assert_eq!((status, body), (200, json!({"data": "pong!"})));

    let log = server.requests();
    let authorized: Vec<bool> = log.iter().map(|r| r.authorized).collect();
    assert_eq!(authorized, [false, false, false, true]);
    assert!(
        log.iter()
            .all(|r| r.method == "GET" && r.path == "/v1/ping")
    );
    server.clear_requests();
    assert!(server.requests().is_empty());
}

#[tokio::test]
async fn customers_paginate_once_each_with_padded_cursors() {
    let data = data::chartmogul_demo(now(), 52, 0, 1);
    let expected: Vec<String> = data
        .customers
        .iter()
        .map(|c| c["uuid"].as_str().unwrap().to_string())
        .collect();
    let server = start(data, ChartMogulOptions::default()).await;

    let pages = all_pages(&server, "/v1/customers", &[("per_page", "7")]).await;
    assert_eq!(pages.len(), 8);
    assert_eq!(
        uuids(&pages),
        expected,
        "every customer once, in list order"
    );

    let first = &pages[0];
    assert_eq!(first["per_page"], 7);
    assert_eq!(first["page"], 1);
    assert_eq!(first["current_page"], 1);
    assert_eq!(first["total_pages"], 8);
    for later in &pages[1..] {
        assert!(later.get("total_pages").is_none() && later.get("page").is_none());
    }
    let last = pages.last().unwrap();
    assert_eq!(last["entries"].as_array().unwrap().len(), 3);
    assert_eq!(
        last.get("cursor"),
        Some(&Value::Null),
        "cursor: null by default"
    );

    // What the server received is the cursor it handed out, decoded again.
    let log = server.requests();
    assert_eq!(log[1].param("cursor"), pages[0]["cursor"].as_str());
}

#[tokio::test]
async fn cursors_must_be_url_encoded_and_intact() {
    let server = start_demo(20, 0).await;
    let (_, first) = get(&server, "/v1/customers", &[("per_page", "5")]).await;
    let cursor = first["cursor"].as_str().unwrap();
    let invalid = error_body(400, "Invalid cursor", Some("cursor"));

    // Sent raw, its `+` arrive as spaces.
    let raw = reqwest::Client::new()
        .get(format!(
            "{}/v1/customers?per_page=5&cursor={cursor}",
            server.base_url
        ))
        .basic_auth(&server.api_key, Some(""))
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status().as_u16(), 400);
    assert_eq!(raw.json::<Value>().await.unwrap(), invalid);

    for garbled in ["abc=", "eyJvZmZzZXQiOjV9", &cursor[..cursor.len() - 2]] {
        let (status, body) = get(&server, "/v1/customers", &[("cursor", garbled)]).await;
        assert_eq!((status, body), (400, invalid.clone()), "{garbled}");
    }
    // A cursor from one list is not valid for another.
    let (status, _) = get(&server, "/v1/customer_notes", &[("cursor", cursor)]).await;
    assert_eq!(status, 400);
    // The deprecated page parameter changes nothing.
    let (_, paged) = get(
        &server,
        "/v1/customers",
        &[("per_page", "5"), ("page", "3")],
    )
    .await;
    assert_eq!(paged, first);
}

#[tokio::test]
async fn per_page_and_type_are_validated() {
    let server = start_demo(3, 20).await;
    for bad in ["500", "201", "0", "-1", "ten", ""] {
        for path in ["/v1/customers", "/v1/customer_notes"] {
            let (status, body) = get(&server, path, &[("per_page", bad)]).await;
            assert_eq!(status, 422, "{path} per_page={bad}");
            assert_eq!(body["code"], 422);
            assert_eq!(body["param"], "per_page");
            assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));
        }
    }
    let (status, page) = get(&server, "/v1/customer_notes", &[("per_page", "200")]).await;
    assert_eq!(status, 200);
    assert_eq!(page["entries"].as_array().unwrap().len(), 20);

    let (status, body) = get(&server, "/v1/customer_notes", &[("type", "email")]).await;
    assert_eq!(status, 422);
    assert_eq!(body["param"], "type");
}

#[tokio::test]
async fn search_is_exact_case_insensitive_and_404s_when_empty() {
    let server = start_demo(30, 0).await;
    let (status, page) = get(
        &server,
        "/v1/customers/search",
        &[("email", "BILLING@Acme.example.com")],
    )
    .await;
    assert_eq!(status, 200);
    let entries = page["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["name"], "Acme Corp");
    assert_eq!(page["has_more"], false);

    for miss in ["billing@acme.example", "nobody@example.com"] {
        let (status, body) = get(&server, "/v1/customers/search", &[("email", miss)]).await;
        assert_eq!(
            (status, body),
            (404, error_body(404, "Customer not found", None))
        );
    }
}

#[tokio::test]
async fn single_objects_and_unknown_routes() {
    let d = data::chartmogul_demo(now(), 5, 30, 9);
    let customer = d.customers[1].clone();
    let note = d.notes[4].clone();
    let server = start(d, ChartMogulOptions::default()).await;

    let uuid = customer["uuid"].as_str().unwrap();
    let (status, body) = get(&server, &format!("/v1/customers/{uuid}"), &[]).await;
    assert_eq!((status, body), (200, customer));
    let (status, body) = get(&server, "/v1/customers/cus_missing", &[]).await;
    assert_eq!(
        (status, body),
        (404, error_body(404, "Customer not found", None))
    );

    let uuid = note["uuid"].as_str().unwrap();
    let (status, body) = get(&server, &format!("/v1/customer_notes/{uuid}"), &[]).await;
    assert_eq!((status, body), (200, note));
    let (status, body) = get(&server, "/v1/customer_notes/note_missing", &[]).await;
    assert_eq!((status, body["code"].clone()), (404, json!(404)));

    let not_found = json!({"error": "Not found"});
    for path in [
        "/v1/invoices",
        "/v2/ping",
        "/",
        "/v1/customers/",
        "/v1/ping/x",
    ] {
        let (status, body) = get(&server, path, &[]).await;
        assert_eq!((status, body), (404, not_found.clone()), "{path}");
    }
    // Writes are not implemented yet: they must not look like successes.
    let post = reqwest::Client::new()
        .post(format!("{}/v1/customer_notes", server.base_url))
        .basic_auth(&server.api_key, Some(""))
        .json(&json!({"customer_uuid": "x", "type": "note"}))
        .send()
        .await
        .unwrap();
    assert_eq!(post.status().as_u16(), 404);
}

#[tokio::test]
async fn contacts_page_per_customer_and_account_wide() {
    let d = data::chartmogul_demo(now(), 15, 0, 4);
    let acme = d.customers[0]["uuid"].as_str().unwrap().to_string();
    let acme_contacts: Vec<String> = d
        .contacts
        .iter()
        .filter(|c| c["customer_uuid"] == acme.as_str())
        .map(|c| c["uuid"].as_str().unwrap().to_string())
        .collect();
    let all_contacts = d.contacts.len();
    assert_eq!(acme_contacts.len(), 3);
    let server = start(d, ChartMogulOptions::default()).await;

    let path = format!("/v1/customers/{acme}/contacts");
    let pages = all_pages(&server, &path, &[("per_page", "1")]).await;
    assert_eq!(pages.len(), 3);
    assert_eq!(uuids(&pages), acme_contacts);
    assert_eq!(pages[0]["entries"][0]["first_name"], "Wile E.");

    let by_param = all_pages(&server, "/v1/contacts", &[("customer_uuid", &acme)]).await;
    assert_eq!(uuids(&by_param), acme_contacts);
    let everyone = all_pages(&server, "/v1/contacts", &[("per_page", "4")]).await;
    assert_eq!(uuids(&everyone).len(), all_contacts);

    let (status, body) = get(&server, "/v1/customers/cus_missing/contacts", &[]).await;
    assert_eq!(
        (status, body),
        (404, error_body(404, "Customer not found", None))
    );
    let (status, _) = get(&server, "/v1/contacts", &[("customer_uuid", "cus_missing")]).await;
    assert_eq!(status, 404);
}

/// What the server should return for a filter: the matching notes, newest first.
fn expected_notes(d: &ChartMogulData, keep: impl Fn(&Value) -> bool) -> Vec<String> {
    let mut hits: Vec<(Timestamp, String)> = d
        .notes
        .iter()
        .filter(|n| keep(n))
        .map(|n| {
            let at = n["created_at"].as_str().unwrap().parse().unwrap();
            (at, n["uuid"].as_str().unwrap().to_string())
        })
        .collect();
    hits.sort_by_key(|(at, _)| std::cmp::Reverse(*at));
    hits.into_iter().map(|(_, uuid)| uuid).collect()
}

#[tokio::test]
async fn notes_filters_combine_and_pages_stay_newest_first() {
    let mut d = data::chartmogul_demo(now(), 12, 400, 5);
    // Shuffled input: the server, not the generator, must establish the order.
    fastrand::Rng::with_seed(1).shuffle(&mut d.notes);
    let acme = d.customers[0]["uuid"].as_str().unwrap().to_string();
    let server = start(d.clone(), ChartMogulOptions::default()).await;

    let everything = all_pages(&server, "/v1/customer_notes", &[("per_page", "37")]).await;
    assert_eq!(uuids(&everything), expected_notes(&d, |_| true));
    assert_eq!(everything.len(), 11);

    let calls = all_pages(
        &server,
        "/v1/customer_notes",
        &[("type", "call"), ("per_page", "25")],
    )
    .await;
    let expected = expected_notes(&d, |n| n["type"] == "call");
    assert!(expected.len() > 50);
    assert_eq!(uuids(&calls), expected);

    // Matched on the email in the last parenthesised group, case-insensitively.
    let soeun = all_pages(
        &server,
        "/v1/customer_notes",
        &[
            ("author_email", "Soeun+Staff@example.com"),
            ("per_page", "9"),
        ],
    )
    .await;
    let expected = expected_notes(&d, |n| {
        n["author"] == "Soeun Lee[staff-user-2] (soeun+staff@example.com)"
    });
    assert!(!expected.is_empty());
    assert_eq!(uuids(&soeun), expected);

    let acme_calls = all_pages(
        &server,
        "/v1/customer_notes",
        &[
            ("customer_uuid", &acme),
            ("type", "call"),
            ("per_page", "2"),
        ],
    )
    .await;
    let expected = expected_notes(&d, |n| {
        n["customer_uuid"] == acme.as_str() && n["type"] == "call"
    });
    assert!(expected.len() >= 3);
    assert_eq!(uuids(&acme_calls), expected);

    let (status, page) = get(
        &server,
        "/v1/customer_notes",
        &[("author_email", "nobody@example.com")],
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(page["entries"], json!([]));
    assert_eq!(page["has_more"], false);
    let (status, _) = get(
        &server,
        "/v1/customer_notes",
        &[("customer_uuid", "cus_missing")],
    )
    .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn notes_for_a_customer_known_only_from_its_notes() {
    // Tests inject notes without customers; the filter must still work.
    let at = |s: &str| s.parse::<Timestamp>().unwrap();
    let notes = vec![
        data::note(
            "note_a",
            "cus_x",
            "note",
            "A (a@x.io)",
            "old",
            at("2024-01-01T00:00:00Z"),
            0,
        ),
        data::note(
            "note_b",
            "cus_y",
            "call",
            "B (b@x.io)",
            "other",
            at("2024-02-01T00:00:00Z"),
            60,
        ),
        data::note(
            "note_c",
            "cus_x",
            "call",
            "A (a@x.io)",
            "new",
            at("2024-03-01T00:00:00Z"),
            90,
        ),
    ];
    let server = start(
        ChartMogulData {
            notes,
            ..Default::default()
        },
        ChartMogulOptions::default(),
    )
    .await;
    let pages = all_pages(&server, "/v1/customer_notes", &[("customer_uuid", "cus_x")]).await;
    assert_eq!(uuids(&pages), ["note_c", "note_a"]);
}

#[tokio::test]
async fn trailing_empty_page_quirk() {
    let opts = ChartMogulOptions {
        trailing_empty_page: true,
        ..Default::default()
    };
    let server = start(data::chartmogul_demo(now(), 5, 0, 2), opts).await;
    let (_, last_real) = get(&server, "/v1/customers", &[("per_page", "5")]).await;
    assert_eq!(last_real["entries"].as_array().unwrap().len(), 5);
    assert_eq!(last_real["has_more"], true);
    let cursor = last_real["cursor"].as_str().unwrap();
    assert!(cursor.ends_with('='));

    let (status, trailing) = get(&server, "/v1/customers", &[("cursor", cursor)]).await;
    assert_eq!(status, 200);
    assert_eq!(trailing["entries"], json!([]));
    assert_eq!(trailing["has_more"], true);
    assert_eq!(
        trailing["cursor"].as_str(),
        Some(cursor),
        "the same cursor again"
    );
}

#[tokio::test]
async fn last_cursor_is_null_or_omitted() {
    let d = data::chartmogul_demo(now(), 4, 6, 2);
    let plain = start(d.clone(), ChartMogulOptions::default()).await;
    let (_, page) = get(&plain, "/v1/customer_notes", &[]).await;
    assert_eq!(page["has_more"], false);
    assert_eq!(page.get("cursor"), Some(&Value::Null));

    let opts = ChartMogulOptions {
        omit_last_cursor: true,
        ..Default::default()
    };
    let quirky = start(d, opts).await;
    let (_, page) = get(&quirky, "/v1/customer_notes", &[("per_page", "4")]).await;
    assert_eq!(page["has_more"], true);
    assert!(page["cursor"].is_string());
    let cursor = page["cursor"].as_str().unwrap().to_string();
    let (_, last) = get(&quirky, "/v1/customer_notes", &[("cursor", &cursor)]).await;
    assert_eq!(last["entries"].as_array().unwrap().len(), 2);
    assert_eq!(last["has_more"], false);
    assert!(last.get("cursor").is_none(), "{last}");
}

#[tokio::test]
async fn demo_data_is_deterministic_and_carries_the_hostile_note() {
    let a = data::chartmogul_demo(now(), 60, 500, 42);
    let b = data::chartmogul_demo(now(), 60, 500, 42);
    let c = data::chartmogul_demo(now(), 60, 500, 43);
    assert_eq!(
        (&a.customers, &a.contacts, &a.notes),
        (&b.customers, &b.contacts, &b.notes)
    );
    assert_ne!(a.notes, c.notes);
    assert!(HOSTILE_NOTE.contains("\u{1b}]52;c;ZXZpbA==\u{7}"));
    assert!(HOSTILE_NOTE.contains("\u{1b}[31m") && HOSTILE_NOTE.contains('\u{202E}'));

    // Served byte-exact through JSON, on the first customer's timeline.
    let acme = a.customers[0]["uuid"].as_str().unwrap().to_string();
    let server = start(a, ChartMogulOptions::default()).await;
    let pages = all_pages(&server, "/v1/customer_notes", &[("customer_uuid", &acme)]).await;
    let texts: Vec<&str> = pages
        .iter()
        .flat_map(|p| p["entries"].as_array().unwrap())
        .filter_map(|n| n["text"].as_str())
        .collect();
    assert!(texts.len() >= 8);
    assert!(texts.contains(&HOSTILE_NOTE));
    assert!(texts.iter().any(|t| t.contains("<ul><li>")));
}

#[tokio::test]
async fn deep_cursor_into_a_large_account_is_served() {
    let d = data::chartmogul_demo(now(), 100, 20_000, 7);
    let expected: Vec<String> = expected_notes(&d, |_| true);
    let server = start(d, ChartMogulOptions::default()).await;
    let mut cursor: Option<String> = None;
    let mut seen = Vec::new();
    for _ in 0..100 {
        let mut q = vec![];
        if let Some(c) = &cursor {
            q.push(("cursor", c.as_str()));
        }
        let (status, page) = get(&server, "/v1/customer_notes", &q).await;
        assert_eq!(status, 200);
        assert!(page["entries"].as_array().unwrap().len() == 200);
        seen.extend(uuids(std::slice::from_ref(&page)));
        match page["cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    assert_eq!(seen.len(), 20_000);
    assert_eq!(seen, expected);
    assert_eq!(seen.iter().collect::<HashSet<_>>().len(), 20_000);
}

#[tokio::test]
async fn latency_is_added_to_every_reply() {
    let opts = ChartMogulOptions {
        latency: Duration::from_millis(120),
        ..Default::default()
    };
    let server = start(ChartMogulData::default(), opts).await;
    let started = Instant::now();
    let (status, _) = get(&server, "/v1/ping", &[]).await;
    assert_eq!(status, 200);
    assert!(started.elapsed() >= Duration::from_millis(120));
}

#[tokio::test]
async fn dropping_the_server_stops_it() {
    let server = start_demo(1, 1).await;
    let url = format!("{}/v1/ping", server.base_url);
    drop(server);
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        if client.get(&url).send().await.is_err() {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "server still answering after drop"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

// ---------------------------------------------------------------------------------------------
// Writes: POST, PATCH and DELETE on /v1/customer_notes.

/// Demo data around the real clock, so "now" on the server is after every generated note.
fn live_demo(customers: usize, notes: usize) -> ChartMogulData {
    data::chartmogul_demo(Timestamp::now(), customers, notes, 42)
}

fn first_customer(d: &ChartMogulData) -> String {
    d.customers[0]["uuid"].as_str().unwrap().to_string()
}

/// Any request with `key`; a body is sent as JSON. Every reply of the fake is JSON.
async fn send(
    server: &FakeServer,
    method: reqwest::Method,
    path: &str,
    key: &str,
    body: Option<&Value>,
) -> (u16, Value) {
    let mut req = reqwest::Client::new()
        .request(method, format!("{}{path}", server.base_url))
        .basic_auth(key, Some(""));
    if let Some(body) = body {
        req = req.json(body);
    }
    let reply = req.send().await.expect("request");
    let status = reply.status().as_u16();
    let text = reply.text().await.expect("body");
    let body = serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text:?}"));
    (status, body)
}

async fn post(server: &FakeServer, body: &Value) -> (u16, Value) {
    let key = server.api_key.clone();
    send(
        server,
        reqwest::Method::POST,
        "/v1/customer_notes",
        &key,
        Some(body),
    )
    .await
}

async fn patch(server: &FakeServer, uuid: &str, body: &Value) -> (u16, Value) {
    let key = server.api_key.clone();
    let path = format!("/v1/customer_notes/{uuid}");
    send(server, reqwest::Method::PATCH, &path, &key, Some(body)).await
}

async fn delete(server: &FakeServer, uuid: &str) -> (u16, Value) {
    let key = server.api_key.clone();
    let path = format!("/v1/customer_notes/{uuid}");
    send(server, reqwest::Method::DELETE, &path, &key, None).await
}

fn time(v: &Value) -> Timestamp {
    v.as_str()
        .expect("a time string")
        .parse()
        .expect("RFC 3339")
}

fn entries(pages: &[Value]) -> Vec<Value> {
    pages
        .iter()
        .flat_map(|p| p["entries"].as_array().unwrap().iter().cloned())
        .collect()
}

#[tokio::test]
async fn a_created_note_is_answered_with_201_and_listed_first() {
    let d = live_demo(4, 60);
    let acme = first_customer(&d);
    let server = start(d, ChartMogulOptions::default()).await;
    let before = Timestamp::now();
    let (status, note) = post(
        &server,
        &json!({"customer_uuid": acme, "type": "note", "author_email": "adam@example.com",
                "text": "Trial extended by two weeks.<br>Key contact on leave."}),
    )
    .await;
    let after = Timestamp::now();
    assert_eq!(status, 201, "{note}");
    let uuid = note["uuid"].as_str().expect("uuid").to_string();
    assert!(uuid.starts_with("note_") && uuid.len() == 41, "{uuid}");
    assert_eq!(note["customer_uuid"], acme.as_str());
    assert_eq!(note["type"], "note");
    assert_eq!(note["call_duration"], 0);
    assert_eq!(note["author"], "Adam Smith (adam@example.com)");
    assert_eq!(
        note["text"],
        "Trial extended by two weeks.<br>Key contact on leave."
    );
    // No created_at sent: the server's now, at millisecond precision like the API's.
    let created = time(&note["created_at"]);
    // The server truncates to milliseconds, so it may read up to 1 ms before `before`.
    assert!(created >= before - jiff::SignedDuration::from_millis(1));
    assert!(created <= after);
    assert_eq!(time(&note["updated_at"]), created);

    let timeline = all_pages(&server, "/v1/customer_notes", &[("customer_uuid", &acme)]).await;
    assert_eq!(entries(&timeline)[0], note, "newest first");
    let account = all_pages(&server, "/v1/customer_notes", &[]).await;
    assert_eq!(entries(&account)[0], note);
    assert_eq!(entries(&account).len(), 61);
    let (status, fetched) = get(&server, &format!("/v1/customer_notes/{uuid}"), &[]).await;
    assert_eq!((status, &fetched), (200, &note));

    let posts: Vec<_> = server
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST")
        .collect();
    assert_eq!(posts.len(), 1);
    assert_eq!(posts[0].path, "/v1/customer_notes");
    assert!(posts[0].authorized);
    assert_eq!(
        posts[0].body.as_ref().and_then(|b| b.get("author_email")),
        Some(&json!("adam@example.com"))
    );
    assert!(
        server
            .requests()
            .iter()
            .all(|r| r.method != "GET" || r.body.is_none())
    );
}

#[tokio::test]
async fn calls_default_to_a_minute_and_authors_are_built_from_emails() {
    let d = live_demo(3, 20);
    let acme = first_customer(&d);
    let opts = ChartMogulOptions {
        default_author: "priya.n@example.com".into(),
        ..Default::default()
    };
    let server = start(d, opts).await;

    let (status, call) = post(&server, &json!({"customer_uuid": acme, "type": "call"})).await;
    assert_eq!(status, 201, "{call}");
    assert_eq!(
        call["call_duration"], 60,
        "a call without a duration gets 60 s"
    );
    assert_eq!(call["author"], "Priya Natarajan (priya.n@example.com)");
    assert_eq!(call["text"], "");

    let (_, long) = post(
        &server,
        &json!({"customer_uuid": acme, "type": "call", "call_duration": 900,
                "author_email": "new.hire@example.com"}),
    )
    .await;
    assert_eq!(long["call_duration"], 900);
    assert_eq!(long["author"], "new.hire (new.hire@example.com)");

    let (_, note) = post(
        &server,
        &json!({"customer_uuid": acme, "type": "note", "call_duration": 300}),
    )
    .await;
    assert_eq!(note["call_duration"], 0, "notes never have a duration");

    // An explicit time with an offset is stored in UTC with milliseconds, at its place.
    let (status, old) = post(
        &server,
        &json!({"customer_uuid": acme, "type": "note", "created_at": "2020-01-01T02:00:00+02:00"}),
    )
    .await;
    assert_eq!(status, 201);
    assert_eq!(old["created_at"], "2020-01-01T00:00:00.000Z");
    let timeline =
        entries(&all_pages(&server, "/v1/customer_notes", &[("customer_uuid", &acme)]).await);
    assert_eq!(timeline.last(), Some(&old), "the oldest note comes last");
    let calls = entries(
        &all_pages(
            &server,
            "/v1/customer_notes",
            &[
                ("customer_uuid", &acme),
                ("type", "call"),
                ("author_email", "new.hire@example.com"),
            ],
        )
        .await,
    );
    assert_eq!(calls, [long], "written notes are found by the filters too");
}

#[tokio::test]
async fn invalid_writes_get_the_apis_errors_and_change_nothing() {
    let d = live_demo(3, 20);
    let acme = first_customer(&d);
    let server = start(d, ChartMogulOptions::default()).await;
    let future = (Timestamp::now() + jiff::SignedDuration::from_hours(1)).to_string();
    let cases = [
        (
            json!({"customer_uuid": acme, "type": "note", "created_at": future}),
            422,
            error_body(422, "created_at must be in the past", Some("created_at")),
        ),
        (
            json!({"customer_uuid": acme, "type": "note", "created_at": "last tuesday"}),
            422,
            error_body(
                422,
                "created_at must be an ISO 8601 date and time",
                Some("created_at"),
            ),
        ),
        (
            json!({"customer_uuid": acme, "text": "no type"}),
            422,
            error_body(422, "type is required", Some("type")),
        ),
        (
            json!({"customer_uuid": acme, "type": "meeting"}),
            422,
            error_body(422, "type must be one of: note, call", Some("type")),
        ),
        (
            json!({"type": "note", "text": "whose?"}),
            422,
            error_body(422, "customer_uuid is required", Some("customer_uuid")),
        ),
        (
            json!({"customer_uuid": acme, "type": "call", "call_duration": -5}),
            422,
            error_body(
                422,
                "call_duration must be a whole number of seconds",
                Some("call_duration"),
            ),
        ),
        (
            json!({"customer_uuid": "cus_nobody", "type": "note"}),
            404,
            error_body(404, "Customer not found", None),
        ),
        (
            json!(["customer_uuid", acme]),
            400,
            error_body(400, "The request body must be a JSON object", None),
        ),
    ];
    for (body, status, expected) in cases {
        assert_eq!(post(&server, &body).await, (status, expected), "{body}");
    }
    let raw = reqwest::Client::new()
        .post(format!("{}/v1/customer_notes", server.base_url))
        .basic_auth(&server.api_key, Some(""))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status().as_u16(), 400);
    let logged = server.requests().last().and_then(|r| r.body.clone());
    assert_eq!(logged, Some(json!("{not json")), "the raw text is logged");

    let all = entries(&all_pages(&server, "/v1/customer_notes", &[]).await);
    assert_eq!(all.len(), 20, "no refused write left a note behind");
}

#[tokio::test]
async fn patch_changes_only_the_given_fields_and_reorders() {
    let d = live_demo(3, 30);
    let acme = first_customer(&d);
    let server = start(d, ChartMogulOptions::default()).await;
    let (_, call) = post(
        &server,
        &json!({"customer_uuid": acme, "type": "call", "call_duration": 120, "text": "first"}),
    )
    .await;
    let uuid = call["uuid"].as_str().unwrap().to_string();

    let (status, edited) = patch(&server, &uuid, &json!({"text": "second"})).await;
    assert_eq!(status, 200, "{edited}");
    assert_eq!(edited["text"], "second");
    for kept in [
        "uuid",
        "customer_uuid",
        "type",
        "call_duration",
        "author",
        "created_at",
    ] {
        assert_eq!(edited[kept], call[kept], "{kept} must not change");
    }
    assert!(time(&edited["updated_at"]) >= time(&call["updated_at"]));

    let (_, edited) = patch(
        &server,
        &uuid,
        &json!({"call_duration": 1800, "created_at": "2021-06-01T09:30:00Z",
                "author_email": "juergen@example.com", "type": "note"}),
    )
    .await;
    assert_eq!(edited["call_duration"], 1800);
    assert_eq!(edited["created_at"], "2021-06-01T09:30:00.000Z");
    assert_eq!(edited["author"], "Jürgen Weiß (juergen@example.com)");
    assert_eq!(edited["type"], "call", "the type cannot be changed");
    assert_eq!(edited["text"], "second");
    let timeline =
        entries(&all_pages(&server, "/v1/customer_notes", &[("customer_uuid", &acme)]).await);
    assert_ne!(
        timeline[0]["uuid"],
        uuid.as_str(),
        "moved away from the top"
    );
    assert!(timeline.contains(&edited));
    assert_eq!(
        timeline
            .iter()
            .filter(|n| n["uuid"] == uuid.as_str())
            .count(),
        1
    );

    let future = (Timestamp::now() + jiff::SignedDuration::from_hours(2)).to_string();
    assert_eq!(
        patch(
            &server,
            &uuid,
            &json!({"created_at": future, "text": "third"})
        )
        .await,
        (
            422,
            error_body(422, "created_at must be in the past", Some("created_at"))
        )
    );
    let (_, unchanged) = get(&server, &format!("/v1/customer_notes/{uuid}"), &[]).await;
    assert_eq!(unchanged, edited, "a refused PATCH changes nothing");
    assert_eq!(
        patch(&server, "note_missing", &json!({"text": "x"})).await,
        (404, error_body(404, "Note not found", None))
    );
}

#[tokio::test]
async fn delete_answers_an_empty_object_then_404() {
    let d = live_demo(3, 30);
    let acme = first_customer(&d);
    let server = start(d, ChartMogulOptions::default()).await;
    let timeline =
        entries(&all_pages(&server, "/v1/customer_notes", &[("customer_uuid", &acme)]).await);
    let victim = timeline[1]["uuid"].as_str().unwrap().to_string();

    assert_eq!(delete(&server, &victim).await, (200, json!({})));
    assert_eq!(
        delete(&server, &victim).await,
        (404, error_body(404, "Note not found", None))
    );
    let (status, _) = get(&server, &format!("/v1/customer_notes/{victim}"), &[]).await;
    assert_eq!(status, 404);
    let after =
        entries(&all_pages(&server, "/v1/customer_notes", &[("customer_uuid", &acme)]).await);
    let mut expected = timeline.clone();
    expected.remove(1);
    assert_eq!(after, expected);
    let deletes = server
        .requests()
        .into_iter()
        .filter(|r| r.method == "DELETE")
        .count();
    assert_eq!(deletes, 2);
}

#[tokio::test]
async fn read_only_keys_read_but_get_403_on_every_write() {
    let d = live_demo(3, 10);
    let acme = first_customer(&d);
    let opts = ChartMogulOptions {
        read_only_keys: vec!["ro-key".into()],
        ..Default::default()
    };
    let server = start(d, opts).await;
    let some_note = {
        let page = entries(&all_pages(&server, "/v1/customer_notes", &[]).await);
        page[0]["uuid"].as_str().unwrap().to_string()
    };
    let forbidden = error_body(403, "This API key is read-only", None);
    let note_path = format!("/v1/customer_notes/{some_note}");
    let body = json!({"customer_uuid": acme, "type": "note", "text": "nope"});
    use reqwest::Method;
    assert_eq!(
        send(&server, Method::GET, "/v1/customer_notes", "ro-key", None)
            .await
            .0,
        200
    );
    assert_eq!(
        send(&server, Method::GET, &note_path, "ro-key", None)
            .await
            .0,
        200
    );
    assert_eq!(
        send(
            &server,
            Method::POST,
            "/v1/customer_notes",
            "ro-key",
            Some(&body)
        )
        .await,
        (403, forbidden.clone())
    );
    assert_eq!(
        send(
            &server,
            Method::PATCH,
            &note_path,
            "ro-key",
            Some(&json!({"text": "x"}))
        )
        .await,
        (403, forbidden.clone())
    );
    assert_eq!(
        send(&server, Method::DELETE, &note_path, "ro-key", None).await,
        (403, forbidden)
    );
    assert_eq!(
        send(
            &server,
            Method::POST,
            "/v1/customer_notes",
            "wrong-key",
            Some(&body)
        )
        .await
        .0,
        401
    );
    assert_eq!(
        entries(&all_pages(&server, "/v1/customer_notes", &[]).await).len(),
        10
    );
    let log = server.requests();
    let ro: Vec<bool> = log.iter().take(6).map(|r| r.authorized).collect();
    assert_eq!(
        ro,
        [true, true, true, true, true, true],
        "read-only keys are accepted keys"
    );
    assert!(!log[6].authorized);
    // The read-write key still writes.
    assert_eq!(post(&server, &body).await.0, 201);
}

#[tokio::test]
async fn a_write_whose_reply_is_late_has_happened_already() {
    let d = live_demo(2, 5);
    let acme = first_customer(&d);
    let opts = ChartMogulOptions {
        write_latency: Duration::from_secs(30),
        ..Default::default()
    };
    let server = start(d, opts).await;
    let impatient = reqwest::Client::builder()
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let err = impatient
        .post(format!("{}/v1/customer_notes", server.base_url))
        .basic_auth(&server.api_key, Some(""))
        .json(&json!({"customer_uuid": acme, "type": "call", "text": "late reply"}))
        .send()
        .await
        .expect_err("gives up before the reply");
    assert!(err.is_timeout(), "{err}");
    // Reads are not delayed, and the call is there, once.
    let timeline =
        entries(&all_pages(&server, "/v1/customer_notes", &[("customer_uuid", &acme)]).await);
    let late: Vec<_> = timeline
        .iter()
        .filter(|n| n["text"] == "late reply")
        .collect();
    assert_eq!(late.len(), 1);
    assert_eq!(timeline[0]["text"], "late reply");
}

#[tokio::test]
async fn paging_stays_exact_after_many_writes() {
    let d = live_demo(6, 300);
    let customers: Vec<String> = d
        .customers
        .iter()
        .map(|c| c["uuid"].as_str().unwrap().to_string())
        .collect();
    let server = start(d, ChartMogulOptions::default()).await;
    let initial = entries(&all_pages(&server, "/v1/customer_notes", &[]).await);
    let mut expected: HashSet<String> = initial
        .iter()
        .map(|n| n["uuid"].as_str().unwrap().to_string())
        .collect();
    // Creates spread over the timeline (and a tie with an existing time), deletes, moves.
    for (i, source) in initial.iter().step_by(37).enumerate() {
        let (status, created) = post(
            &server,
            &json!({"customer_uuid": customers[i % customers.len()], "type": "note",
                    "text": format!("written {i}"), "created_at": source["created_at"]}),
        )
        .await;
        assert_eq!(status, 201, "{created}");
        expected.insert(created["uuid"].as_str().unwrap().to_string());
    }
    for victim in initial.iter().skip(5).step_by(41) {
        let uuid = victim["uuid"].as_str().unwrap();
        assert_eq!(delete(&server, uuid).await.0, 200);
        expected.remove(uuid);
    }
    for (i, moved) in initial.iter().skip(3).step_by(29).enumerate() {
        let uuid = moved["uuid"].as_str().unwrap();
        if !expected.contains(uuid) {
            continue;
        }
        let at = format!("2024-0{}-15T10:00:00Z", 1 + i % 9);
        assert_eq!(
            patch(&server, uuid, &json!({"created_at": at})).await.0,
            200
        );
    }

    let account = entries(&all_pages(&server, "/v1/customer_notes", &[("per_page", "7")]).await);
    let seen: Vec<String> = account
        .iter()
        .map(|n| n["uuid"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(seen.len(), expected.len(), "every note exactly once");
    assert_eq!(seen.iter().cloned().collect::<HashSet<_>>(), expected);
    assert!(
        account
            .windows(2)
            .all(|w| time(&w[0]["created_at"]) >= time(&w[1]["created_at"])),
        "newest first"
    );
    for customer in &customers {
        let timeline = entries(
            &all_pages(
                &server,
                "/v1/customer_notes",
                &[("customer_uuid", customer), ("per_page", "5")],
            )
            .await,
        );
        let from_account: Vec<&Value> = account
            .iter()
            .filter(|n| n["customer_uuid"] == customer.as_str())
            .collect();
        assert_eq!(
            timeline.iter().collect::<Vec<_>>(),
            from_account,
            "{customer}"
        );
    }
}
