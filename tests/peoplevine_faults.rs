//! Fault injection for the Peoplevine client over loopback (wiremock): rate limits and server
//! errors (retried on reads, not on a create), malformed and empty bodies, garbled pagination
//! headers, the API's error shape as one line, and the secrets kept out of every error.

use std::time::Duration;

use crm_notes::model::{CustomerQuery, NewNote, NoteKind, NoteQuery};
use crm_notes::providers::http::HttpOptions;
use crm_notes::providers::peoplevine::Peoplevine;
use crm_notes::providers::{Provider, ProviderError};
use jiff::Timestamp;
use serde_json::json;
use wiremock::matchers::{body_partial_json, header, method, path, query_param};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const PASSWORD: &str = "pv-secret-password-31c7";
const USER_ACCESS: &str = "user-access-token-5d0b2e";
const USER_REFRESH: &str = "user-refresh-token-8a1f44";
const COMPANY_ACCESS: &str = "company-access-token-77e3c9";
const COMPANY_REFRESH: &str = "company-refresh-token-0b6d12";

/// Tiny backoffs so retries cost milliseconds; two retries (three requests) at most.
fn options() -> HttpOptions {
    HttpOptions {
        connect_timeout: Duration::from_secs(2),
        request_timeout: Duration::from_secs(5),
        max_retries: 2,
        backoff_base: Duration::from_millis(1),
        backoff_cap: Duration::from_millis(5),
        retry_after_cap: Duration::from_secs(1),
    }
}

fn client(base: &str, region: Option<&str>) -> Peoplevine {
    Peoplevine::new(
        base,
        "sara@club.example".into(),
        PASSWORD.into(),
        1234,
        region.map(str::to_string),
        options(),
    )
    .expect("client")
}

/// A server whose token endpoints answer the documented two-step login.
async fn server_with_login() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/token"))
        .and(body_partial_json(json!({
            "username": "sara@club.example", "password": PASSWORD, "grant_type": "password"
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": USER_ACCESS, "refresh_token": USER_REFRESH,
            "token_type": "bearer", "expires_in": 1800
        })))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/token"))
        .and(body_partial_json(json!({
            "access_token": USER_ACCESS, "refresh_token": USER_REFRESH,
            "company_id": 1234, "grant_type": "access_token"
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": COMPANY_ACCESS, "refresh_token": COMPANY_REFRESH
        })))
        .mount(&server)
        .await;
    server
}

async fn requests_to(server: &MockServer, verb: &str, route: &str) -> Vec<Request> {
    server
        .received_requests()
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|r| r.method.as_str() == verb && r.url.path() == route)
        .collect()
}

fn customers_reply() -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!([
        {"id": 1, "full_name": "Eleanor Vance", "email": "eleanor@members.example"},
        {"id": 2, "first_name": "Oliver", "last_name": "Okafor"}
    ]))
}

fn assert_no_secret(error: &ProviderError) {
    let shown = format!("{error} {error:?}");
    for secret in [
        PASSWORD,
        USER_ACCESS,
        USER_REFRESH,
        COMPANY_ACCESS,
        COMPANY_REFRESH,
    ] {
        assert!(!shown.contains(secret), "secret leaked: {shown}");
    }
    assert!(!error.to_string().contains(['\n', '\r']), "{error}");
}

#[tokio::test]
async fn sends_the_company_token_and_the_region_header() {
    let server = server_with_login().await;
    Mock::given(method("GET"))
        .and(path("/api/customers"))
        .and(header("authorization", format!("Bearer {COMPANY_ACCESS}")))
        .and(header("region", "uk"))
        .and(query_param("page_number", "1"))
        .and(query_param("page_size", "50"))
        .respond_with(customers_reply())
        .mount(&server)
        .await;
    let page = client(&server.uri(), Some("uk"))
        .customers(&CustomerQuery::default(), None)
        .await
        .expect("customers");
    let names: Vec<&str> = page.items.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["Eleanor Vance", "Oliver Okafor"]);
    assert_eq!(page.next, None, "a short page without a header is the last");
    // The token requests carried the region too.
    let logins = requests_to(&server, "POST", "/api/token").await;
    assert_eq!(logins.len(), 2);
    assert!(
        logins
            .iter()
            .all(|r| r.headers.get("region").is_some_and(|v| v == "uk"))
    );
}

#[tokio::test]
async fn a_429_then_success_on_a_read() {
    let server = server_with_login().await;
    Mock::given(path("/api/customers"))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "0"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(path("/api/customers"))
        .respond_with(customers_reply())
        .mount(&server)
        .await;
    let page = client(&server.uri(), None)
        .customers(&CustomerQuery::default(), None)
        .await
        .expect("after 429");
    assert_eq!(page.items.len(), 2);
    assert_eq!(requests_to(&server, "GET", "/api/customers").await.len(), 2);
}

#[tokio::test]
async fn a_500_then_success_on_a_read() {
    let server = server_with_login().await;
    Mock::given(path("/api/customers/notes"))
        .respond_with(ResponseTemplate::new(500).set_body_json(json!({
            "error": "server_error", "error_description": "Something went wrong.",
            "error_details": null
        })))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(path("/api/customers/notes"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([
            {"id": 5, "customer_id": 1, "type": "call", "created_on": "2026-01-02T10:00:00Z",
             "details": "Call duration: 5m<br>Quick check-in", "subject": "Check-in"}
        ])))
        .mount(&server)
        .await;
    let page = client(&server.uri(), None)
        .notes(&NoteQuery::default(), None)
        .await
        .expect("after 500");
    assert_eq!(page.items.len(), 1);
    assert_eq!(page.items[0].call_duration_s, Some(300));
    assert_eq!(page.items[0].text, "Quick check-in");
    assert_eq!(
        requests_to(&server, "GET", "/api/customers/notes")
            .await
            .len(),
        2
    );
}

#[tokio::test]
async fn a_create_is_not_repeated_after_a_500() {
    let server = server_with_login().await;
    Mock::given(method("POST"))
        .and(path("/api/customers/1/notes"))
        .respond_with(ResponseTemplate::new(500).set_body_string("500 Internal Server Error"))
        .mount(&server)
        .await;
    let note = NewNote {
        customer_id: "1".into(),
        kind: NoteKind::Note,
        author_email: None,
        text: "Spa booking".into(),
        call_duration_s: None,
        created_at: Timestamp::now(),
    };
    let err = client(&server.uri(), None)
        .create_note(&note)
        .await
        .expect_err("500");
    assert_eq!(
        err,
        ProviderError::Status {
            provider: "Peoplevine",
            status: 500,
            message: "500 Internal Server Error".into()
        }
    );
    assert_eq!(
        requests_to(&server, "POST", "/api/customers/1/notes")
            .await
            .len(),
        1,
        "the note may exist now: the caller reconciles before sending again"
    );
}

#[tokio::test]
async fn malformed_bodies_are_one_line_errors_not_panics() {
    let server = server_with_login().await;
    Mock::given(path("/api/customers/1/notes"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_raw(r#"[{"id":5,"details":"trunc"#, "application/json"),
        )
        .mount(&server)
        .await;
    Mock::given(path("/api/customers"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_raw("<html><body>Maintenance</body></html>", "text/html"),
        )
        .mount(&server)
        .await;
    Mock::given(path("/api/customers/notes/5"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!("just a string")))
        .mount(&server)
        .await;
    let pv = client(&server.uri(), None);
    let query = NoteQuery {
        customer_id: Some("1".into()),
        ..NoteQuery::default()
    };
    let errors = [
        pv.notes(&query, None).await.expect_err("truncated JSON"),
        pv.customers(&CustomerQuery::default(), None)
            .await
            .expect_err("HTML"),
        pv.note("5").await.expect_err("not a note"),
    ];
    for err in &errors {
        assert!(
            matches!(
                err,
                ProviderError::Malformed {
                    provider: "Peoplevine",
                    ..
                }
            ),
            "{err:?}"
        );
        assert_no_secret(err);
    }
    assert_eq!(
        errors[1].to_string(),
        "unexpected reply from Peoplevine: an HTML page where JSON was expected"
    );
}

#[tokio::test]
async fn empty_bodies_and_204s_are_empty_last_pages() {
    let server = server_with_login().await;
    Mock::given(path("/api/customers"))
        .respond_with(ResponseTemplate::new(204))
        .mount(&server)
        .await;
    Mock::given(path("/api/customers/1/notes"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    let pv = client(&server.uri(), None);
    let customers = pv
        .customers(&CustomerQuery::default(), None)
        .await
        .expect("204");
    assert!(customers.items.is_empty() && customers.next.is_none());
    let query = NoteQuery {
        customer_id: Some("1".into()),
        ..NoteQuery::default()
    };
    let notes = pv.notes(&query, None).await.expect("empty 200");
    assert!(notes.items.is_empty() && notes.next.is_none());
}

#[tokio::test]
async fn a_garbled_pagination_header_falls_back_to_the_page_size() {
    let server = server_with_login().await;
    let full: Vec<_> = (1..=3)
        .map(|i| json!({"id": i, "full_name": format!("Member {i}")}))
        .collect();
    Mock::given(path("/api/customers"))
        .and(query_param("page_number", "1"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(&full)
                .insert_header("pagination", "{not json"),
        )
        .mount(&server)
        .await;
    Mock::given(path("/api/customers"))
        .and(query_param("page_number", "2"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!([{"id": 4, "full_name": "Member 4"}]))
                .insert_header("pagination", "{not json either"),
        )
        .mount(&server)
        .await;
    let pv = client(&server.uri(), None);
    let query = CustomerQuery {
        per_page: Some(3),
        ..CustomerQuery::default()
    };
    let first = pv.customers(&query, None).await.expect("page 1");
    assert_eq!(first.items.len(), 3);
    let token = first.next.expect("a full page may have more");
    let second = pv.customers(&query, Some(&token)).await.expect("page 2");
    assert_eq!(second.items.len(), 1);
    assert_eq!(second.next, None, "a short page is the last");
}

#[tokio::test]
async fn a_server_that_ignores_page_number_does_not_loop() {
    let server = server_with_login().await;
    let same: Vec<_> = (1..=2)
        .map(|i| json!({"id": i, "full_name": format!("Member {i}")}))
        .collect();
    Mock::given(path("/api/customers"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(&same)
                .insert_header(
                    "pagination",
                    r#"{"page_number":1,"page_size":2,"has_next_page":true}"#,
                ),
        )
        .mount(&server)
        .await;
    let pv = client(&server.uri(), None);
    let query = CustomerQuery {
        per_page: Some(2),
        ..CustomerQuery::default()
    };
    let mut next: Option<String> = None;
    let mut pages = 0;
    loop {
        let page = pv.customers(&query, next.as_deref()).await.expect("page");
        pages += 1;
        assert!(pages <= 3, "pagination did not terminate");
        match page.next {
            Some(token) => next = Some(token),
            None => break,
        }
    }
    assert_eq!(pages, 2, "the repeat of page 1 ends the listing");
}

#[tokio::test]
async fn the_error_shape_becomes_one_line() {
    let server = server_with_login().await;
    Mock::given(path("/api/customers"))
        .respond_with(ResponseTemplate::new(422).set_body_json(json!({
            "error": "validation_error",
            "error_description": "The request is invalid.",
            "error_details": {"page_size": ["must be between 1 and 50"]}
        })))
        .mount(&server)
        .await;
    Mock::given(path("/api/customers/notes/9"))
        .respond_with(ResponseTemplate::new(403).set_body_json(json!({
            "error": "forbidden",
            "error_description": "This user may not\nread confidential notes.",
            "error_details": null
        })))
        .mount(&server)
        .await;
    let pv = client(&server.uri(), None);
    let err = pv
        .customers(&CustomerQuery::default(), None)
        .await
        .expect_err("422");
    assert_eq!(
        err.to_string(),
        "Peoplevine answered 422: The request is invalid. (page_size: must be between 1 and 50)"
    );
    assert_eq!(requests_to(&server, "GET", "/api/customers").await.len(), 1);
    let err = pv.note("9").await.expect_err("403");
    assert_eq!(
        err.to_string(),
        "Peoplevine does not allow this (403): This user may not read confidential notes."
    );
    assert_no_secret(&err);
}

#[tokio::test]
async fn a_token_endpoint_echoing_the_password_cannot_leak_it() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/token"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({
            "error": "invalid_grant",
            "error_description": format!("Login failed for sara@club.example / {PASSWORD}"),
            "error_details": null
        })))
        .mount(&server)
        .await;
    let err = client(&server.uri(), None)
        .ping()
        .await
        .expect_err("refused");
    assert!(
        matches!(err, ProviderError::Auth { status: 400, .. }),
        "{err:?}"
    );
    assert_no_secret(&err);
    assert!(err.to_string().contains("<redacted>"), "{err}");
}

#[tokio::test]
async fn a_login_reply_without_tokens_is_malformed() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"token_type": "bearer"})))
        .mount(&server)
        .await;
    let err = client(&server.uri(), None)
        .ping()
        .await
        .expect_err("no token");
    assert_eq!(
        err.to_string(),
        "unexpected reply from Peoplevine: the token reply had no access_token"
    );
    assert_eq!(requests_to(&server, "GET", "/api/customers").await.len(), 0);
}

#[tokio::test]
async fn a_rejected_token_is_refreshed_once_with_the_company_pair() {
    let server = server_with_login().await;
    Mock::given(method("POST"))
        .and(path("/api/token/refresh"))
        .and(body_partial_json(json!({
            "access_token": COMPANY_ACCESS, "refresh_token": COMPANY_REFRESH
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "company-access-token-2"
        })))
        .mount(&server)
        .await;
    Mock::given(path("/api/customers/1"))
        .and(header("authorization", format!("Bearer {COMPANY_ACCESS}")))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({
            "error": "invalid_token", "error_description": "Token expired.", "error_details": null
        })))
        .mount(&server)
        .await;
    Mock::given(path("/api/customers/1"))
        .and(header("authorization", "Bearer company-access-token-2"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"id": 1, "full_name": "Eleanor"})),
        )
        .mount(&server)
        .await;
    let customer = client(&server.uri(), None)
        .customer("1")
        .await
        .expect("renewed");
    assert_eq!(customer.name, "Eleanor");
    assert_eq!(
        requests_to(&server, "POST", "/api/token/refresh")
            .await
            .len(),
        1
    );
    assert_eq!(
        requests_to(&server, "GET", "/api/customers/1").await.len(),
        2
    );
}
