//! Fault injection for the HTTP client and the ChartMogul provider over loopback: rate limits,
//! server errors, odd error bodies, bad JSON, slow and dropped connections, the HTTPS policy.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use crm_notes::model::NoteQuery;
use crm_notes::providers::chartmogul::ChartMogul;
use crm_notes::providers::http::{ApiRequest, HttpClient, HttpOptions, check_base_url};
use crm_notes::providers::{Provider, ProviderError};
use serde_json::json;
use tokio::io::AsyncReadExt;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const KEY: &str = "sk-test-4f9c2a7be1d04e55";

/// Tiny backoffs so retries cost milliseconds; two retries (three requests) at most.
fn options() -> HttpOptions {
    HttpOptions {
        connect_timeout: Duration::from_secs(2),
        request_timeout: Duration::from_secs(5),
        max_retries: 2,
        backoff_base: Duration::from_millis(1),
        backoff_cap: Duration::from_millis(5),
        retry_after_cap: Duration::from_secs(2),
    }
}

fn client(base: &str) -> ChartMogul {
    ChartMogul::new(base, KEY.to_string(), options()).expect("client")
}

async fn requests(server: &MockServer) -> usize {
    server.received_requests().await.map_or(0, |r| r.len())
}

fn pong() -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({"data": "pong!"}))
}

fn assert_no_secret(error: &ProviderError) {
    let shown = format!("{error} {error:?}");
    assert!(!shown.contains(KEY), "secret leaked: {shown}");
}

#[tokio::test]
async fn sends_basic_auth_with_the_key_as_user_and_our_user_agent() {
    let server = MockServer::start().await;
    // base64("sk-test-4f9c2a7be1d04e55:")
    Mock::given(method("GET"))
        .and(path("/v1/ping"))
        .and(header(
            "authorization",
            "Basic c2stdGVzdC00ZjljMmE3YmUxZDA0ZTU1Og==",
        ))
        .and(header(
            "user-agent",
            concat!("crm-notes/", env!("CARGO_PKG_VERSION")),
        ))
        .respond_with(pong())
        .mount(&server)
        .await;
    client(&server.uri()).ping().await.expect("ping");
}

#[tokio::test]
async fn honours_retry_after_then_succeeds_with_exactly_two_requests() {
    let server = MockServer::start().await;
    Mock::given(path("/v1/ping"))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "1"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(path("/v1/ping"))
        .respond_with(pong())
        .mount(&server)
        .await;
    client(&server.uri()).ping().await.expect("ping after 429");
    assert_eq!(requests(&server).await, 2);
}

#[tokio::test]
async fn rate_limited_after_the_retries_run_out() {
    let server = MockServer::start().await;
    Mock::given(path("/v1/ping"))
        .respond_with(
            ResponseTemplate::new(429).set_body_json(json!({"code":429,"message":"slow down"})),
        )
        .mount(&server)
        .await;
    let err = client(&server.uri()).ping().await.expect_err("429 forever");
    assert_eq!(
        err,
        ProviderError::RateLimited {
            provider: "ChartMogul"
        }
    );
    assert_eq!(requests(&server).await, options().max_retries as usize + 1);
    assert!(err.is_transient());
}

#[tokio::test]
async fn plain_text_502_becomes_its_one_line() {
    let server = MockServer::start().await;
    Mock::given(path("/v1/ping"))
        .respond_with(ResponseTemplate::new(502).set_body_raw("502 Bad Gateway\n", "text/plain"))
        .mount(&server)
        .await;
    let err = client(&server.uri()).ping().await.expect_err("502");
    assert_eq!(
        err,
        ProviderError::Status {
            provider: "ChartMogul",
            status: 502,
            message: "502 Bad Gateway".into()
        }
    );
    assert_eq!(err.to_string(), "ChartMogul answered 502: 502 Bad Gateway");
    // 502 is retried like the other gateway errors.
    assert_eq!(requests(&server).await, 3);
}

#[tokio::test]
async fn server_error_then_success() {
    let server = MockServer::start().await;
    Mock::given(path("/v1/ping"))
        .respond_with(ResponseTemplate::new(500).set_body_string("500 Internal Server Error"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(path("/v1/ping"))
        .respond_with(pong())
        .mount(&server)
        .await;
    client(&server.uri()).ping().await.expect("recovered");
    assert_eq!(requests(&server).await, 2);
}

#[tokio::test]
async fn client_errors_are_not_retried() {
    let server = MockServer::start().await;
    Mock::given(path("/v1/customers/cus_1"))
        .respond_with(
            ResponseTemplate::new(422).set_body_json(json!({"code":422,"message":"bad uuid"})),
        )
        .mount(&server)
        .await;
    let err = client(&server.uri())
        .customer("cus_1")
        .await
        .expect_err("422");
    assert!(matches!(err, ProviderError::Status { status: 422, .. }));
    assert_eq!(requests(&server).await, 1);
}

#[tokio::test]
async fn malformed_json_is_reported_not_panicked() {
    let server = MockServer::start().await;
    Mock::given(path("/v1/customer_notes"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_raw(r#"{"entries":[{"uuid":"n"#, "application/json"),
        )
        .mount(&server)
        .await;
    let err = client(&server.uri())
        .notes(&NoteQuery::default(), None)
        .await
        .expect_err("truncated JSON");
    match &err {
        ProviderError::Malformed { provider, message } => {
            assert_eq!(*provider, "ChartMogul");
            assert!(!message.is_empty() && !message.contains('\n'), "{message}");
        }
        other => panic!("expected Malformed, got {other:?}"),
    }
}

#[tokio::test]
async fn html_bodies_become_a_short_line() {
    let page = "<!DOCTYPE html>\n<html><head><title>503 Service Temporarily Unavailable</title>\
                </head><body><center><h1>503 Service Temporarily Unavailable</h1></center>\
                <hr><center>nginx</center></body></html>";
    let server = MockServer::start().await;
    Mock::given(path("/v1/ping"))
        .respond_with(ResponseTemplate::new(503).set_body_raw(page, "text/html"))
        .mount(&server)
        .await;
    Mock::given(path("/v1/customers/cus_1"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(page, "text/html"))
        .mount(&server)
        .await;
    let cm = client(&server.uri());
    let err = cm.ping().await.expect_err("503");
    assert_eq!(
        err.to_string(),
        "ChartMogul answered 503: 503 Service Temporarily Unavailable"
    );
    // A captive portal or proxy page with 200 is not a customer.
    let err = cm
        .customer("cus_1")
        .await
        .expect_err("HTML instead of JSON");
    assert_eq!(
        err.to_string(),
        "unexpected reply from ChartMogul: an HTML page where JSON was expected"
    );
}

#[tokio::test]
async fn empty_error_body_uses_the_status_reason() {
    let server = MockServer::start().await;
    Mock::given(path("/v1/ping"))
        .respond_with(ResponseTemplate::new(400))
        .mount(&server)
        .await;
    let err = client(&server.uri()).ping().await.expect_err("400");
    assert_eq!(err.to_string(), "ChartMogul answered 400: Bad Request");
}

#[tokio::test]
async fn slow_reply_times_out_and_is_retried() {
    let server = MockServer::start().await;
    Mock::given(path("/v1/ping"))
        .respond_with(pong().set_delay(Duration::from_secs(5)))
        .mount(&server)
        .await;
    let options = HttpOptions {
        request_timeout: Duration::from_millis(200),
        max_retries: 1,
        ..options()
    };
    let cm = ChartMogul::new(&server.uri(), KEY.into(), options).expect("client");
    let err = cm.ping().await.expect_err("timeout");
    assert_eq!(
        err,
        ProviderError::Timeout {
            provider: "ChartMogul",
            seconds: 1
        }
    );
    assert_eq!(requests(&server).await, 2);
}

/// A server that reads each request and hangs up without a reply; counts the connections.
async fn hang_up_server() -> (String, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let accepted = Arc::new(AtomicUsize::new(0));
    let counter = accepted.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            let mut buf = vec![0u8; 8192];
            let mut seen = Vec::new();
            while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
                match socket.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => seen.extend_from_slice(&buf[..n]),
                }
            }
            drop(socket);
        }
    });
    (format!("http://{addr}"), accepted)
}

#[tokio::test]
async fn dropped_connection_is_a_network_error_after_retries() {
    let (base, accepted) = hang_up_server().await;
    let err = client(&base).ping().await.expect_err("dropped");
    assert_eq!(
        err,
        ProviderError::Network {
            provider: "ChartMogul",
            message: "connection closed before the reply".into()
        }
    );
    assert_eq!(err.to_string().lines().count(), 1);
    assert_eq!(accepted.load(Ordering::SeqCst), 3);
    assert!(err.is_transient());
}

#[tokio::test]
async fn refused_connection_is_a_network_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    drop(listener);
    let err = client(&format!("http://{addr}"))
        .ping()
        .await
        .expect_err("refused");
    assert_eq!(
        err,
        ProviderError::Network {
            provider: "ChartMogul",
            message: "connection refused".into()
        }
    );
}

#[tokio::test]
async fn every_error_body_shape_decodes_to_one_line() {
    let cases = [
        (
            400,
            json!({"code": 400, "message": "Invalid per_page", "param": "per_page"}),
            "Invalid per_page",
        ),
        (
            400,
            json!({"error": "Cursor is not valid"}),
            "Cursor is not valid",
        ),
        (
            400,
            json!({"error": "invalid_request", "error_description": "The page size must be 1-50.",
                   "error_details": null}),
            "The page size must be 1-50.",
        ),
        (
            422,
            json!({"errors": {"customer_uuid": "Customer not found"}}),
            "customer_uuid: Customer not found",
        ),
        (
            422,
            json!({"created_at": ["must be in the past"], "error_details": {"created_at": ["must be in the past"]}}),
            "created_at: must be in the past",
        ),
        (
            422,
            json!({"errors": [{"title": "Invalid Attribute", "detail": "Content is too long",
                               "status": "422"}]}),
            "Invalid Attribute: Content is too long",
        ),
        (
            402,
            json!({"code": 402, "message": "Your plan does not include this\nfeature."}),
            "Your plan does not include this feature.",
        ),
    ];
    let server = MockServer::start().await;
    let cm = client(&server.uri());
    for (status, body, expected) in cases {
        server.reset().await;
        Mock::given(path("/v1/ping"))
            .respond_with(ResponseTemplate::new(status).set_body_json(&body))
            .mount(&server)
            .await;
        let err = cm.ping().await.expect_err("error status");
        assert_eq!(
            err,
            ProviderError::Status {
                provider: "ChartMogul",
                status,
                message: expected.to_string()
            },
            "body {body}"
        );
    }
}

#[tokio::test]
async fn auth_forbidden_and_not_found_have_their_own_errors() {
    let server = MockServer::start().await;
    Mock::given(path("/v1/ping"))
        .respond_with(ResponseTemplate::new(401).set_body_json(
            json!({"code": 401, "message": "No valid API key provided", "param": null}),
        ))
        .mount(&server)
        .await;
    Mock::given(path("/v1/customer_notes/note_1"))
        .respond_with(
            ResponseTemplate::new(403).set_body_json(json!({"error": "Read-only API key"})),
        )
        .mount(&server)
        .await;
    Mock::given(path("/v1/customers/cus_gone"))
        .respond_with(ResponseTemplate::new(404))
        .mount(&server)
        .await;
    let cm = client(&server.uri());
    assert_eq!(
        cm.ping().await.expect_err("401"),
        ProviderError::Auth {
            provider: "ChartMogul",
            status: 401,
            message: "No valid API key provided".into()
        }
    );
    assert_eq!(
        cm.note("note_1").await.expect_err("403"),
        ProviderError::Forbidden {
            provider: "ChartMogul",
            status: 403,
            message: "Read-only API key".into()
        }
    );
    assert_eq!(
        cm.customer("cus_gone").await.expect_err("404"),
        ProviderError::NotFound("/v1/customers/cus_gone".into())
    );
    // None of these is worth retrying.
    assert_eq!(requests(&server).await, 3);
}

#[tokio::test]
async fn post_is_not_retried_on_500_but_put_is() {
    let server = MockServer::start().await;
    Mock::given(path("/v1/customer_notes"))
        .respond_with(ResponseTemplate::new(500))
        .mount(&server)
        .await;
    let http = HttpClient::new("ChartMogul", options()).expect("http");
    let url = reqwest::Url::parse(&format!("{}/v1/customer_notes", server.uri())).expect("url");
    let body = json!({"customer_uuid": "cus_1", "type": "note", "text": "hi"});

    let err = http
        .send(ApiRequest::post(url.clone()).json(&body).expect("body"))
        .await
        .expect_err("500");
    assert!(matches!(err, ProviderError::Status { status: 500, .. }));
    assert_eq!(requests(&server).await, 1, "a POST must not be repeated");

    server.reset().await;
    Mock::given(path("/v1/customer_notes"))
        .respond_with(ResponseTemplate::new(500))
        .mount(&server)
        .await;
    http.send(ApiRequest::put(url.clone()).json(&body).expect("body"))
        .await
        .expect_err("500");
    assert_eq!(requests(&server).await, 3, "a PUT is idempotent");

    server.reset().await;
    Mock::given(path("/v1/customer_notes"))
        .respond_with(ResponseTemplate::new(500))
        .mount(&server)
        .await;
    http.send(
        ApiRequest::post(url)
            .json(&body)
            .expect("body")
            .idempotent(true),
    )
    .await
    .expect_err("500");
    assert_eq!(
        requests(&server).await,
        3,
        "marked idempotent by the caller"
    );
}

#[tokio::test]
async fn post_is_not_retried_when_the_connection_drops_after_sending() {
    let (base, accepted) = hang_up_server().await;
    let http = HttpClient::new("ChartMogul", options()).expect("http");
    let url = reqwest::Url::parse(&format!("{base}/v1/customer_notes")).expect("url");
    let err = http
        .send(
            ApiRequest::post(url)
                .json(&json!({"text": "hi"}))
                .expect("body"),
        )
        .await
        .expect_err("dropped");
    assert!(matches!(err, ProviderError::Network { .. }), "{err:?}");
    assert_eq!(accepted.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn redirects_to_another_origin_are_not_followed() {
    let elsewhere = MockServer::start().await;
    Mock::given(path("/v1/ping"))
        .respond_with(pong())
        .mount(&elsewhere)
        .await;
    let server = MockServer::start().await;
    Mock::given(path("/v1/ping"))
        .respond_with(
            ResponseTemplate::new(302)
                .insert_header("Location", format!("{}/v1/ping", elsewhere.uri()).as_str()),
        )
        .mount(&server)
        .await;
    let err = client(&server.uri()).ping().await.expect_err("302");
    assert!(
        matches!(err, ProviderError::Status { status: 302, .. }),
        "{err:?}"
    );
    assert_eq!(requests(&elsewhere).await, 0, "the key must not travel");

    // The same origin is fine (e.g. a trailing-slash redirect).
    server.reset().await;
    Mock::given(path("/v1/ping"))
        .respond_with(ResponseTemplate::new(301).insert_header("Location", "/v1/ping/"))
        .mount(&server)
        .await;
    Mock::given(path("/v1/ping/"))
        .respond_with(pong())
        .mount(&server)
        .await;
    client(&server.uri())
        .ping()
        .await
        .expect("same-origin redirect");
}

#[tokio::test]
async fn the_api_key_never_appears_in_errors() {
    let server = MockServer::start().await;
    // A server that echoes the credential back in its error message.
    Mock::given(path("/v1/ping"))
        .respond_with(ResponseTemplate::new(401).set_body_json(
            json!({"code": 401, "message": format!("Invalid API key {KEY}"), "param": null}),
        ))
        .mount(&server)
        .await;
    Mock::given(path("/v1/customers/cus_1"))
        .respond_with(ResponseTemplate::new(500).set_body_string(format!("boom for key={KEY}:")))
        .mount(&server)
        .await;
    Mock::given(path("/v1/customer_notes/note_1"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"uuid": {"k": KEY}, "text": KEY})),
        )
        .mount(&server)
        .await;
    let cm = client(&server.uri());
    assert!(!format!("{cm:?}").contains(KEY));
    let auth = cm.ping().await.expect_err("401");
    assert!(matches!(auth, ProviderError::Auth { .. }));
    assert_no_secret(&auth);
    assert_no_secret(&cm.customer("cus_1").await.expect_err("500"));
    assert_no_secret(&cm.note("note_1").await.expect_err("no uuid"));

    let (base, _) = hang_up_server().await;
    assert_no_secret(&client(&base).ping().await.expect_err("dropped"));
}

#[test]
fn base_url_policy_table() {
    let allowed = [
        "https://api.chartmogul.com",
        "https://api.chartmogul.com/",
        "https://example.com:8443/prefix",
        "http://127.0.0.1:8080",
        "http://127.4.5.6",
        "http://localhost:3000",
        "http://LOCALHOST",
        "http://[::1]:9000",
    ];
    for url in allowed {
        assert!(check_base_url(url).is_ok(), "{url} should be allowed");
    }
    assert_eq!(
        check_base_url("http://example.com").expect_err("plain http"),
        ProviderError::Refused("refusing plain http:// to example.com: use https://".into())
    );
    let refused = [
        "http://example.com:80/",
        "http://10.0.0.1",
        "http://localhost.example.com",
        "http://[::2]",
        "ftp://127.0.0.1",
        "garbage",
        "",
        "https://",
        "https://user:s3cr3tpw@api.chartmogul.com",
        "localhost:8080",
    ];
    for url in refused {
        let err = check_base_url(url).expect_err(url);
        assert!(matches!(err, ProviderError::Refused(_)), "{url}: {err:?}");
        let line = err.to_string();
        assert!(!line.is_empty() && !line.contains('\n'), "{url}: {line}");
        assert!(!line.contains("s3cr3tpw"), "{url}: {line}");
    }
}
