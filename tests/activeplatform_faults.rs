//! Fault injection for the ActivePlatform client with wiremock: the headers on the wire, rate
//! limits and server errors (retried on reads, a POST never repeated after a 5xx), malformed
//! bodies, JSON:API and non-JSON error bodies, and page links that lead elsewhere or nowhere.

use std::time::Duration;

use crm_notes::model::{CustomerQuery, NewNote, NoteKind, NoteQuery};
use crm_notes::providers::activeplatform::{ActivePlatform, MEDIA_TYPE};
use crm_notes::providers::http::HttpOptions;
use crm_notes::providers::{Provider, ProviderError};
use jiff::Timestamp;
use serde_json::{Value, json};
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

const TOKEN: &str = "ap-fault-token-3e8f61c0b2";
const NOTES: &str = "/api/v3/resellers/1/notes";
const ACCOUNTS: &str = "/api/v3/resellers/1/accounts";

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

fn client(server: &MockServer) -> ActivePlatform {
    ActivePlatform::new(&server.uri(), "1".into(), TOKEN.into(), options()).expect("client")
}

async fn requests(server: &MockServer) -> usize {
    server.received_requests().await.map_or(0, |r| r.len())
}

/// A JSON:API reply with the API's media type.
fn json_api(status: u16, body: Value) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_raw(body.to_string(), MEDIA_TYPE)
}

fn one_note(id: &str) -> Value {
    json!({"id": id, "type": "notes", "attributes": {
        "created_at": "2023-03-27T11:35:12.509+03:00",
        "updated_at": "2023-03-27T11:35:12.509+03:00",
        "content": "Migrated", "creator": "Bill Smith",
        "original_link": format!("/admin/accounts/29/notes/{id}"),
        "original_id": null, "original_type": null, "attachment": null}})
}

fn notes_page(ids: &[&str], next: Option<String>) -> Value {
    let data: Vec<Value> = ids.iter().map(|id| one_note(id)).collect();
    json!({"data": data, "links": {"self": null, "first": null, "prev": null, "next": next, "last": null}})
}

fn new_note() -> NewNote {
    NewNote {
        customer_id: "29".into(),
        kind: NoteKind::Note,
        author_email: None,
        text: "hello".into(),
        call_duration_s: None,
        created_at: Timestamp::now(),
    }
}

fn assert_one_clean_line(error: &ProviderError) {
    let shown = format!("{error} {error:?}");
    assert!(!shown.contains(TOKEN), "token leaked: {shown}");
    assert!(!error.to_string().contains(['\n', '\r']), "{error}");
}

#[tokio::test]
async fn token_and_both_media_types_go_with_get_post_and_delete() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(NOTES))
        .respond_with(json_api(200, notes_page(&["5"], None)))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(NOTES))
        .respond_with(json_api(201, json!({"data": one_note("6")})))
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path(format!("{NOTES}/6")))
        .respond_with(ResponseTemplate::new(204))
        .mount(&server)
        .await;
    let ap = client(&server);
    ap.notes(&NoteQuery::default(), None).await.expect("list");
    ap.create_note(&new_note()).await.expect("create");
    ap.delete_note("6").await.expect("delete");

    let received = server.received_requests().await.expect("recorded");
    assert_eq!(received.len(), 3);
    for request in &received {
        let header = |name: &str| {
            let values: Vec<&str> = request
                .headers
                .get_all(name)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .collect();
            values
        };
        assert_eq!(header("x-api-token"), [TOKEN], "{}", request.method);
        assert_eq!(header("accept"), [MEDIA_TYPE], "{}", request.method);
        assert_eq!(
            header("content-type"),
            [MEDIA_TYPE],
            "exactly one Content-Type on {}",
            request.method
        );
    }
    let body: Value = serde_json::from_slice(&received[1].body).expect("JSON body");
    assert_eq!(
        body,
        json!({"data": {"attributes": {"id": 29, "type": "account", "content": "hello"}}})
    );
}

#[tokio::test]
async fn rate_limited_then_served() {
    let server = MockServer::start().await;
    Mock::given(path(NOTES))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "0"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(path(NOTES))
        .respond_with(json_api(200, notes_page(&["5", "12"], None)))
        .mount(&server)
        .await;
    let page = client(&server)
        .notes(&NoteQuery::default(), None)
        .await
        .expect("served after the 429");
    assert_eq!(page.items.len(), 2);
    assert_eq!(requests(&server).await, 2);
}

#[tokio::test]
async fn server_error_then_served_on_a_read() {
    let server = MockServer::start().await;
    Mock::given(path(ACCOUNTS))
        .respond_with(ResponseTemplate::new(500).set_body_string("500 Internal Server Error"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(path(ACCOUNTS))
        .respond_with(json_api(
            200,
            json!({"data": [{"id": 29, "type": "accounts", "attributes": {"name": "Northwind"}}],
                   "links": {"next": null}}),
        ))
        .mount(&server)
        .await;
    let page = client(&server)
        .customers(&CustomerQuery::default(), None)
        .await
        .expect("served after the 500");
    assert_eq!(page.items[0].id, "29");
    assert_eq!(requests(&server).await, 2);
}

#[tokio::test]
async fn a_create_is_not_repeated_after_a_server_error() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(NOTES))
        .respond_with(ResponseTemplate::new(502).set_body_raw(
            "<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>",
            "text/html",
        ))
        .mount(&server)
        .await;
    let err = client(&server)
        .create_note(&new_note())
        .await
        .expect_err("502");
    assert_eq!(
        err.to_string(),
        "ActivePlatform answered 502: 502 Bad Gateway"
    );
    assert_eq!(
        requests(&server).await,
        1,
        "the note may exist: never sent twice"
    );
}

#[tokio::test]
async fn a_create_refused_by_the_rate_limiter_is_sent_again() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(NOTES))
        .respond_with(ResponseTemplate::new(429))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(NOTES))
        .respond_with(json_api(201, json!({"data": one_note("6")})))
        .mount(&server)
        .await;
    let created = client(&server)
        .create_note(&new_note())
        .await
        .expect("created");
    assert_eq!(created.id, "6");
    assert_eq!(requests(&server).await, 2);
}

#[tokio::test]
async fn malformed_bodies_are_one_line_errors() {
    let cases: &[(&str, &str, &str)] = &[
        (r#"{"data": [{"id": "5""#, MEDIA_TYPE, "EOF"),
        (
            "<html><body>Login</body></html>",
            "text/html",
            "an HTML page where JSON was expected",
        ),
        (r#"{"data": 5}"#, MEDIA_TYPE, "`data` is not a list"),
        (r#"{"meta": {}}"#, MEDIA_TYPE, "no `data` in the reply"),
        ("[1, 2]", MEDIA_TYPE, "not a JSON:API document"),
        ("", MEDIA_TYPE, "empty reply"),
    ];
    for (body, content_type, expected) in cases {
        let server = MockServer::start().await;
        Mock::given(path(NOTES))
            .respond_with(ResponseTemplate::new(200).set_body_raw(*body, content_type))
            .mount(&server)
            .await;
        let err = client(&server)
            .notes(&NoteQuery::default(), None)
            .await
            .expect_err("malformed");
        assert!(
            matches!(err, ProviderError::Malformed { .. }),
            "{body}: {err:?}"
        );
        assert!(err.to_string().contains(expected), "{body}: {err}");
        assert_one_clean_line(&err);
        assert_eq!(requests(&server).await, 1, "a bad body is not retried");
    }
}

#[tokio::test]
async fn a_201_without_the_note_is_malformed_so_the_outbox_reconciles() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(NOTES))
        .respond_with(ResponseTemplate::new(201))
        .mount(&server)
        .await;
    let err = client(&server)
        .create_note(&new_note())
        .await
        .expect_err("no body");
    assert!(matches!(err, ProviderError::Malformed { .. }), "{err:?}");
}

#[tokio::test]
async fn json_api_errors_become_one_line() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(NOTES))
        .respond_with(json_api(
            422,
            json!({"errors": [
                {"status": "422", "title": "Invalid Attribute",
                 "detail": "Content is too long (maximum is 5000 characters)",
                 "source": {"pointer": "/data/attributes/content"}},
                {"status": "422", "title": "Invalid Attribute", "detail": "Id\nis invalid"}
            ]}),
        ))
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .respond_with(json_api(
            403,
            json!({"errors": [{"status": "403", "title": "Forbidden",
                "detail": format!("Token {TOKEN} may not delete notes")}]}),
        ))
        .mount(&server)
        .await;
    let ap = client(&server);
    let err = ap.create_note(&new_note()).await.expect_err("422");
    assert_eq!(
        err.to_string(),
        "ActivePlatform answered 422: Invalid Attribute: Content is too long (maximum is 5000 \
         characters); Invalid Attribute: Id is invalid"
    );
    assert_one_clean_line(&err);

    let err = ap.delete_note("5").await.expect_err("403");
    assert!(
        matches!(err, ProviderError::Forbidden { status: 403, .. }),
        "{err:?}"
    );
    assert_one_clean_line(&err);
    assert!(err.to_string().contains("<redacted>"), "{err}");
}

#[tokio::test]
async fn a_non_json_error_body_becomes_its_one_line() {
    let server = MockServer::start().await;
    Mock::given(path(NOTES))
        .respond_with(ResponseTemplate::new(400).set_body_raw(
            "Bad request:\r\n\tpage[size] must be a number\n",
            "text/plain",
        ))
        .mount(&server)
        .await;
    let err = client(&server)
        .notes(&NoteQuery::default(), None)
        .await
        .expect_err("400");
    assert_eq!(
        err,
        ProviderError::Status {
            provider: "ActivePlatform",
            status: 400,
            message: "Bad request: page[size] must be a number".into(),
        }
    );
    assert_eq!(requests(&server).await, 1, "a 400 is not retried");
}

#[tokio::test]
async fn a_406_says_what_the_server_wanted() {
    let server = MockServer::start().await;
    Mock::given(path(NOTES))
        .respond_with(json_api(
            406,
            json!({"errors": [{"status": "406", "title": "Not Acceptable",
                "detail": "The Accept header must include application/vnd.api+json"}]}),
        ))
        .mount(&server)
        .await;
    let err = client(&server)
        .notes(&NoteQuery::default(), None)
        .await
        .expect_err("406");
    assert!(
        matches!(err, ProviderError::Status { status: 406, .. }),
        "{err:?}"
    );
    assert!(
        err.to_string().contains("application/vnd.api+json"),
        "{err}"
    );
}

#[tokio::test]
async fn page_links_to_another_host_or_list_are_not_followed() {
    let server = MockServer::start().await;
    let ap = client(&server);
    for next in [
        "https://evil.example/api/v3/resellers/1/notes?page%5Bnumber%5D=2".to_string(),
        "http://evil.example/api/v3/resellers/1/notes?page%5Bnumber%5D=2".to_string(),
        format!(
            "{}/api/v3/resellers/2/notes?page%5Bnumber%5D=2",
            server.uri()
        ),
    ] {
        server.reset().await;
        Mock::given(path(NOTES))
            .respond_with(json_api(200, notes_page(&["5"], Some(next.clone()))))
            .mount(&server)
            .await;
        let page = ap
            .notes(&NoteQuery::default(), None)
            .await
            .expect("first page");
        let token = page.next.expect("a next page is announced");
        let err = ap
            .notes(&NoteQuery::default(), Some(&token))
            .await
            .expect_err("not followed");
        assert!(matches!(err, ProviderError::Refused(_)), "{next}: {err:?}");
        assert_one_clean_line(&err);
        assert_eq!(requests(&server).await, 1, "{next}: nothing sent for it");
    }
}

#[tokio::test]
async fn a_next_link_back_to_the_same_page_ends_the_walk() {
    let server = MockServer::start().await;
    let second = format!(
        "{}{NOTES}?page%5Bnumber%5D=2&page%5Bsize%5D=50",
        server.uri()
    );
    Mock::given(path(NOTES))
        .and(query_param("page[number]", "1"))
        .respond_with(json_api(200, notes_page(&["5"], Some(second.clone()))))
        .mount(&server)
        .await;
    // Page 2 says its next page is itself.
    Mock::given(path(NOTES))
        .and(query_param("page[number]", "2"))
        .respond_with(json_api(200, notes_page(&["6"], Some(second.clone()))))
        .mount(&server)
        .await;
    let ap = client(&server);
    let first = ap.notes(&NoteQuery::default(), None).await.expect("page 1");
    assert_eq!(first.next.as_deref(), Some(second.as_str()));
    let page = ap
        .notes(&NoteQuery::default(), first.next.as_deref())
        .await
        .expect("page 2");
    assert_eq!(page.items[0].id, "6");
    assert_eq!(page.next, None, "a link to itself would loop forever");
}
