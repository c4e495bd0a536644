//! The ChartMogul client's writes (create, update, delete notes and call logs): against the fake
//! server for the semantics, and against wiremock for the faults where a write must not be
//! repeated (500, timeouts) or may be (429 on any write, 5xx on DELETE).

use std::time::Duration;

use crm_notes::demo::chartmogul::{self, ChartMogulData, ChartMogulOptions};
use crm_notes::demo::{FakeServer, RecordedRequest, data};
use crm_notes::model::{NewNote, Note, NoteKind, NotePatch, NoteQuery};
use crm_notes::providers::chartmogul::ChartMogul;
use crm_notes::providers::http::HttpOptions;
use crm_notes::providers::{Provider, ProviderError};
use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};
use wiremock::matchers::{body_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const KEY: &str = "sk-test-9d1e77c0a4b34f21";
const READ_ONLY_KEY: &str = "sk-read-only-5be0c2d97a61";
const NOTE_UUID: &str = "note_39351ba6-dea0-11ee-ac96-37b2b3de29af";
const CUSTOMER_UUID: &str = "cus_52eb54c2-dea0-11ed-ac96-ef735d89fca0";

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

/// Options whose request timeout is far below the server's delay in the timeout tests.
fn impatient() -> HttpOptions {
    HttpOptions {
        request_timeout: Duration::from_millis(300),
        ..options()
    }
}

fn client(base: &str, key: &str, options: HttpOptions) -> ChartMogul {
    ChartMogul::new(base, key.to_string(), options).expect("client")
}

/// Demo data around the real clock, so the server's "now" comes after every generated note.
fn demo() -> ChartMogulData {
    data::chartmogul_demo(Timestamp::now(), 4, 60, 11)
}

fn fake_options() -> ChartMogulOptions {
    ChartMogulOptions {
        api_key: KEY.into(),
        read_only_keys: vec![READ_ONLY_KEY.into()],
        ..ChartMogulOptions::default()
    }
}

async fn fake(opts: ChartMogulOptions) -> (FakeServer, ChartMogul, String) {
    let d = demo();
    let acme = d.customers[0]["uuid"].as_str().expect("uuid").to_string();
    let server = chartmogul::start(d, opts).await.expect("fake server");
    let cm = client(&server.base_url, KEY, options());
    (server, cm, acme)
}

fn new_note(customer: &str, kind: NoteKind, text: &str) -> NewNote {
    NewNote {
        customer_id: customer.to_string(),
        kind,
        author_email: Some("sara@example.com".into()),
        text: text.to_string(),
        call_duration_s: None,
        created_at: Timestamp::now() - SignedDuration::from_secs(5),
    }
}

/// What the server keeps of a time: whole milliseconds.
fn millis(at: Timestamp) -> Timestamp {
    Timestamp::from_millisecond(at.as_millisecond()).expect("in range")
}

async fn timeline(cm: &ChartMogul, customer: &str) -> Vec<Note> {
    let query = NoteQuery {
        customer_id: Some(customer.to_string()),
        ..NoteQuery::default()
    };
    let mut notes = Vec::new();
    let mut next: Option<String> = None;
    for _ in 0..100 {
        let page = cm.notes(&query, next.as_deref()).await.expect("notes page");
        notes.extend(page.items);
        match page.next {
            Some(cursor) => next = Some(cursor),
            None => return notes,
        }
    }
    panic!("pagination did not terminate");
}

fn writes(server: &FakeServer, verb: &str) -> Vec<RecordedRequest> {
    server
        .requests()
        .into_iter()
        .filter(|r| r.method == verb)
        .collect()
}

/// An error as the user sees it: one line, without the key.
fn assert_one_clean_line(error: &ProviderError) {
    let shown = format!("{error} {error:?}");
    assert!(!shown.contains(KEY), "secret leaked: {shown}");
    assert!(!error.to_string().contains(['\n', '\r']), "{error}");
}

async fn request_count(server: &MockServer) -> usize {
    server.received_requests().await.map_or(0, |r| r.len())
}

/// The create-note reference reply.
fn created_reply() -> Value {
    json!({
        "uuid": NOTE_UUID,
        "customer_uuid": CUSTOMER_UUID,
        "type": "note",
        "text": "Trial extended by two weeks.<br>Key contact on leave until May.",
        "call_duration": 0,
        "author": "Adam (adam@example.com)",
        "created_at": "2023-11-01T00:00:00.000Z",
        "updated_at": "2023-12-21T10:53:50.082Z"
    })
}

// ---------------------------------------------------------------------------------------------
// Against the fake server.

#[tokio::test]
async fn creates_a_note_and_calls_which_are_then_listed_first() {
    let (server, cm, acme) = fake(fake_options()).await;

    let typed = "Renewal discussed.\nThey asked about the <Enterprise> plan & SSO.";
    let note = new_note(&acme, NoteKind::Note, typed);
    let created = cm.create_note(&note).await.expect("note created");
    assert!(created.id.starts_with("note_"), "{}", created.id);
    assert_eq!(created.customer_id.as_deref(), Some(acme.as_str()));
    assert_eq!(created.kind, NoteKind::Note);
    assert_eq!(created.text, typed, "the text reads back exactly as typed");
    assert_eq!(created.author_name.as_deref(), Some("Sara Lee"));
    assert_eq!(created.author_email.as_deref(), Some("sara@example.com"));
    assert_eq!(created.call_duration_s, None);
    assert_eq!(created.created_at, millis(note.created_at));

    let mut call = new_note(&acme, NoteKind::Call, "Quarterly check-in");
    call.call_duration_s = Some(900);
    call.author_email = None;
    let logged = cm.create_note(&call).await.expect("call created");
    assert_eq!(logged.kind, NoteKind::Call);
    assert_eq!(logged.call_duration_s, Some(900), "the duration is kept");

    let mut quick = new_note(&acme, NoteKind::Call, "Missed call");
    quick.call_duration_s = None;
    quick.created_at = Timestamp::now();
    let quick = cm.create_note(&quick).await.expect("call without duration");
    assert_eq!(quick.call_duration_s, Some(60), "the API's default minute");

    let listed = timeline(&cm, &acme).await;
    assert_eq!(listed[0], quick, "the newest write is listed first");
    assert_eq!(listed.iter().filter(|n| n.id == created.id).count(), 1);
    assert!(listed.contains(&logged));

    // What went over the wire: the documented body, a call's duration only on calls.
    let posts = writes(&server, "POST");
    assert_eq!(posts.len(), 3, "each create sent exactly once");
    let body = posts[0].body.clone().expect("a JSON body");
    assert_eq!(body["customer_uuid"], acme.as_str());
    assert_eq!(body["type"], "note");
    assert_eq!(body["author_email"], "sara@example.com");
    assert!(body.get("call_duration").is_none(), "{body}");
    let sent_at = body["created_at"].as_str().expect("created_at is sent");
    assert!(sent_at.ends_with('Z') && sent_at.len() == 24, "{sent_at}");
    let call_body = posts[1].body.clone().expect("a JSON body");
    assert_eq!(call_body["call_duration"], 900);
    assert!(call_body.get("author_email").is_none(), "{call_body}");
    assert!(
        posts[2]
            .body
            .as_ref()
            .is_some_and(|b| b.get("call_duration").is_none())
    );
}

#[tokio::test]
async fn updates_send_only_the_changed_fields() {
    let (server, cm, acme) = fake(fake_options()).await;
    let mut call = new_note(&acme, NoteKind::Call, "first draft");
    call.call_duration_s = Some(300);
    let created = cm.create_note(&call).await.expect("created");

    let patch = NotePatch {
        text: Some("final text".into()),
        ..NotePatch::default()
    };
    let edited = cm.update_note(&created.id, &patch).await.expect("text");
    assert_eq!(edited.text, "final text");
    assert_eq!(edited.call_duration_s, Some(300));
    assert_eq!(edited.created_at, created.created_at);
    let patches = writes(&server, "PATCH");
    assert_eq!(
        patches[0].path,
        format!("/v1/customer_notes/{}", created.id)
    );
    assert_eq!(patches[0].body, Some(json!({"text": "final text"})));

    let earlier: Timestamp = "2024-05-06T07:08:09.123Z".parse().expect("ts");
    let patch = NotePatch {
        call_duration_s: Some(1_800),
        created_at: Some(earlier),
        ..NotePatch::default()
    };
    let moved = cm.update_note(&created.id, &patch).await.expect("time");
    assert_eq!(moved.call_duration_s, Some(1_800));
    assert_eq!(moved.created_at, earlier);
    assert_eq!(moved.text, "final text");
    assert_eq!(
        writes(&server, "PATCH")[1].body,
        Some(json!({"call_duration": 1800, "created_at": "2024-05-06T07:08:09.123Z"}))
    );
    let listed = timeline(&cm, &acme).await;
    assert_ne!(listed[0].id, created.id, "an older time moves it down");
    assert!(listed.contains(&moved));

    let missing = cm
        .update_note("note_missing", &patch)
        .await
        .expect_err("404");
    assert!(matches!(missing, ProviderError::NotFound(_)), "{missing:?}");
}

#[tokio::test]
async fn deletes_and_a_second_delete_is_still_success() {
    let (server, cm, acme) = fake(fake_options()).await;
    let created = cm
        .create_note(&new_note(&acme, NoteKind::Note, "to delete"))
        .await
        .expect("created");
    cm.delete_note(&created.id).await.expect("deleted");
    assert!(matches!(
        cm.note(&created.id).await,
        Err(ProviderError::NotFound(_))
    ));
    assert!(
        !timeline(&cm, &acme)
            .await
            .iter()
            .any(|n| n.id == created.id)
    );
    // The server answers 404 now; the note is gone, which is what a delete asks for.
    cm.delete_note(&created.id).await.expect("already gone");
    let deletes = writes(&server, "DELETE");
    assert_eq!(deletes.len(), 2, "a 404 is not retried");
    assert!(deletes.iter().all(|r| r.body.is_none()));
}

#[tokio::test]
async fn refused_writes_carry_the_servers_message_on_one_line() {
    let (server, cm, acme) = fake(fake_options()).await;
    let before = timeline(&cm, &acme).await;

    let mut future = new_note(&acme, NoteKind::Note, "from the future");
    future.created_at = Timestamp::now() + SignedDuration::from_hours(1);
    let err = cm.create_note(&future).await.expect_err("422");
    assert_eq!(
        err,
        ProviderError::Status {
            provider: "ChartMogul",
            status: 422,
            message: "created_at must be in the past".into()
        }
    );
    assert_eq!(
        err.to_string(),
        "ChartMogul answered 422: created_at must be in the past"
    );
    assert!(!err.is_transient(), "a validation error is not retried");
    assert_one_clean_line(&err);

    let err = cm
        .create_note(&new_note("cus_nobody", NoteKind::Note, "lost"))
        .await
        .expect_err("404");
    assert_eq!(err, ProviderError::NotFound("Customer not found".into()));
    assert_eq!(writes(&server, "POST").len(), 2, "neither was repeated");

    let err = cm
        .create_note(&new_note(&acme, NoteKind::Other("meeting".into()), "x"))
        .await
        .expect_err("not a ChartMogul type");
    assert!(matches!(err, ProviderError::Unsupported(_)), "{err:?}");
    assert_eq!(writes(&server, "POST").len(), 2, "refused before sending");
    assert_eq!(timeline(&cm, &acme).await, before, "nothing was written");
}

#[tokio::test]
async fn a_read_only_key_reads_but_every_write_is_forbidden() {
    let (server, rw, acme) = fake(fake_options()).await;
    let existing = timeline(&rw, &acme).await[0].clone();
    let ro = client(&server.base_url, READ_ONLY_KEY, options());
    assert_eq!(timeline(&ro, &acme).await[0], existing, "reads work");

    let forbidden = ProviderError::Forbidden {
        provider: "ChartMogul",
        status: 403,
        message: "This API key is read-only".into(),
    };
    let create = ro
        .create_note(&new_note(&acme, NoteKind::Note, "nope"))
        .await
        .expect_err("403");
    assert_eq!(create, forbidden);
    assert_eq!(
        create.to_string(),
        "ChartMogul does not allow this (403): This API key is read-only"
    );
    let patch = NotePatch {
        text: Some("nope".into()),
        ..NotePatch::default()
    };
    assert_eq!(
        ro.update_note(&existing.id, &patch).await,
        Err(forbidden.clone())
    );
    assert_eq!(ro.delete_note(&existing.id).await, Err(forbidden));
    assert_eq!(timeline(&rw, &acme).await[0], existing, "nothing changed");
    assert!(create.to_string().lines().count() == 1);
    assert!(!create.to_string().contains(READ_ONLY_KEY));
}

#[tokio::test]
async fn a_create_that_times_out_after_arriving_exists_exactly_once() {
    let opts = ChartMogulOptions {
        // Far beyond the client's 300 ms: the reply never arrives in time.
        write_latency: Duration::from_secs(30),
        ..fake_options()
    };
    let (server, reader, acme) = fake(opts).await;
    let writer = client(&server.base_url, KEY, impatient());
    let note = new_note(&acme, NoteKind::Call, "timed out but saved");

    let err = writer.create_note(&note).await.expect_err("timeout");
    assert!(
        matches!(err, ProviderError::Timeout { .. }),
        "outcome unknown is a timeout: {err:?}"
    );
    assert!(err.is_transient());
    assert_eq!(writes(&server, "POST").len(), 1, "never sent twice");

    // What the outbox's reconciliation will find: the note, once, with the time we sent.
    let matches: Vec<Note> = timeline(&reader, &acme)
        .await
        .into_iter()
        .filter(|n| n.text == note.text)
        .collect();
    assert_eq!(matches.len(), 1);
    assert_eq!(matches[0].created_at, millis(note.created_at));
    assert_eq!(matches[0].kind, NoteKind::Call);
}

// ---------------------------------------------------------------------------------------------
// Against wiremock: faults.

#[tokio::test]
async fn sends_the_documented_body_and_accepts_200_or_201() {
    let server = MockServer::start().await;
    let at: Timestamp = "2023-11-01T00:00:00Z".parse().expect("ts");
    Mock::given(method("POST"))
        .and(path("/v1/customer_notes"))
        // base64("sk-test-9d1e77c0a4b34f21:")
        .and(header(
            "authorization",
            "Basic c2stdGVzdC05ZDFlNzdjMGE0YjM0ZjIxOg==",
        ))
        .and(header("content-type", "application/json"))
        .and(body_json(json!({
            "customer_uuid": CUSTOMER_UUID,
            "type": "note",
            "author_email": "adam@example.com",
            "text": "Trial extended by two weeks.",
            "created_at": "2023-11-01T00:00:00.000Z"
        })))
        .respond_with(ResponseTemplate::new(201).set_body_json(created_reply()))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(created_reply()))
        .mount(&server)
        .await;
    let cm = client(&server.uri(), KEY, options());
    let note = NewNote {
        customer_id: CUSTOMER_UUID.into(),
        kind: NoteKind::Note,
        author_email: Some("adam@example.com".into()),
        text: "Trial extended by two weeks.".into(),
        // A call duration on a note is not sent.
        call_duration_s: Some(120),
        created_at: at,
    };
    let created = cm.create_note(&note).await.expect("201");
    assert_eq!(created.id, NOTE_UUID);
    assert_eq!(created.author_name.as_deref(), Some("Adam"));
    assert_eq!(created.created_at, at);
    let again = cm.create_note(&note).await.expect("200 is fine too");
    assert_eq!(again, created);
    assert_eq!(request_count(&server).await, 2);
}

#[tokio::test]
async fn validation_errors_of_every_shape_become_one_line_after_one_request() {
    let cases = [
        (
            json!({"code": 422, "message": "created_at must be in the past", "param": "created_at"}),
            "created_at must be in the past",
        ),
        (
            json!({"errors": {"created_at": "must be in the past"}}),
            "created_at: must be in the past",
        ),
        (
            json!({"created_at": ["must be in the past", "is invalid"]}),
            "created_at: must be in the past; is invalid",
        ),
        (
            json!({"error": "Validation failed", "error_details": {"text": ["is too long"]}}),
            "Validation failed (text: is too long)",
        ),
        (
            json!({"message": "text is\ninvalid\u{1b}[31m", "code": 422}),
            "text is invalid",
        ),
    ];
    for (body, message) in cases {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(422).set_body_json(body.clone()))
            .mount(&server)
            .await;
        let cm = client(&server.uri(), KEY, options());
        let err = cm
            .create_note(&new_note(CUSTOMER_UUID, NoteKind::Note, "x"))
            .await
            .expect_err("422");
        assert_eq!(
            err.to_string(),
            format!("ChartMogul answered 422: {message}"),
            "{body}"
        );
        assert_one_clean_line(&err);
        assert_eq!(request_count(&server).await, 1, "{body}");
    }
}

#[tokio::test]
async fn forbidden_writes_are_not_retried() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(403).set_body_json(
            json!({"code": 403, "message": "This API key is read-only", "param": null}),
        ))
        .mount(&server)
        .await;
    let cm = client(&server.uri(), KEY, options());
    let err = cm
        .create_note(&new_note(CUSTOMER_UUID, NoteKind::Note, "x"))
        .await
        .expect_err("403");
    assert!(
        matches!(err, ProviderError::Forbidden { status: 403, ref message, .. } if message == "This API key is read-only"),
        "{err:?}"
    );
    assert_one_clean_line(&err);
    assert_eq!(request_count(&server).await, 1);
}

#[tokio::test]
async fn a_500_on_create_or_update_is_returned_not_retried() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(500).set_body_string("500 Internal Server Error"))
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .respond_with(ResponseTemplate::new(502))
        .mount(&server)
        .await;
    let cm = client(&server.uri(), KEY, options());
    let err = cm
        .create_note(&new_note(CUSTOMER_UUID, NoteKind::Note, "x"))
        .await
        .expect_err("500");
    assert_eq!(
        err,
        ProviderError::Status {
            provider: "ChartMogul",
            status: 500,
            message: "500 Internal Server Error".into()
        }
    );
    assert!(err.is_transient(), "the caller reconciles, then retries");
    assert_eq!(request_count(&server).await, 1, "a POST is never repeated");

    let patch = NotePatch {
        text: Some("y".into()),
        ..NotePatch::default()
    };
    let err = cm.update_note(NOTE_UUID, &patch).await.expect_err("502");
    assert!(
        matches!(err, ProviderError::Status { status: 502, .. }),
        "{err:?}"
    );
    assert_eq!(request_count(&server).await, 2, "nor is a PATCH");
}

/// Decision: a 429 is retried even for a POST. The rate limiter refuses the request before it
/// is handled, so repeating it cannot create a second note, and the wait (`Retry-After` when
/// given) is what the server asked for. A 5xx makes no such promise and is not retried.
#[tokio::test]
async fn a_429_on_create_is_retried_because_nothing_was_written() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "0"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(201).set_body_json(created_reply()))
        .mount(&server)
        .await;
    let cm = client(&server.uri(), KEY, options());
    let created = cm
        .create_note(&new_note(CUSTOMER_UUID, NoteKind::Note, "x"))
        .await
        .expect("created after the 429");
    assert_eq!(created.id, NOTE_UUID);
    assert_eq!(request_count(&server).await, 2);

    // Still bounded: a 429 that never ends is reported after the retries.
    let limited = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(429))
        .mount(&limited)
        .await;
    let cm = client(&limited.uri(), KEY, options());
    let err = cm
        .create_note(&new_note(CUSTOMER_UUID, NoteKind::Note, "x"))
        .await
        .expect_err("429 forever");
    assert_eq!(
        err,
        ProviderError::RateLimited {
            provider: "ChartMogul"
        }
    );
    assert_eq!(request_count(&limited).await, 3, "max_retries + 1");
}

#[tokio::test]
async fn a_create_slower_than_the_timeout_is_sent_once_and_reported_as_timeout() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(201)
                .set_body_json(created_reply())
                .set_delay(Duration::from_secs(30)),
        )
        .mount(&server)
        .await;
    let cm = client(&server.uri(), KEY, impatient());
    let err = cm
        .create_note(&new_note(CUSTOMER_UUID, NoteKind::Note, "x"))
        .await
        .expect_err("timeout");
    assert_eq!(
        err,
        ProviderError::Timeout {
            provider: "ChartMogul",
            seconds: 1
        }
    );
    assert_one_clean_line(&err);
    assert_eq!(request_count(&server).await, 1, "never re-sent");
}

#[tokio::test]
async fn a_delete_is_retried_after_a_5xx() {
    let server = MockServer::start().await;
    Mock::given(method("DELETE"))
        .and(path(format!("/v1/customer_notes/{NOTE_UUID}")))
        .respond_with(ResponseTemplate::new(500))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({})))
        .mount(&server)
        .await;
    let cm = client(&server.uri(), KEY, options());
    cm.delete_note(NOTE_UUID)
        .await
        .expect("deleted on the retry");
    assert_eq!(request_count(&server).await, 2);

    // The first attempt deleted it but its reply was lost: the retry's 404 means "gone".
    let server = MockServer::start().await;
    Mock::given(method("DELETE"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .respond_with(
            ResponseTemplate::new(404)
                .set_body_json(json!({"code": 404, "message": "Note not found", "param": null})),
        )
        .mount(&server)
        .await;
    let cm = client(&server.uri(), KEY, options());
    cm.delete_note(NOTE_UUID).await.expect("gone is success");
    assert_eq!(request_count(&server).await, 2);

    // 204 with an empty body is accepted as well.
    let server = MockServer::start().await;
    Mock::given(method("DELETE"))
        .respond_with(ResponseTemplate::new(204))
        .mount(&server)
        .await;
    let cm = client(&server.uri(), KEY, options());
    cm.delete_note(NOTE_UUID).await.expect("204");

    // A delete that keeps failing is reported, after the bounded retries.
    let server = MockServer::start().await;
    Mock::given(method("DELETE"))
        .respond_with(ResponseTemplate::new(500))
        .mount(&server)
        .await;
    let cm = client(&server.uri(), KEY, options());
    let err = cm.delete_note(NOTE_UUID).await.expect_err("500");
    assert!(
        matches!(err, ProviderError::Status { status: 500, .. }),
        "{err:?}"
    );
    assert_eq!(request_count(&server).await, 3);
}

#[tokio::test]
async fn the_key_never_appears_in_a_write_error() {
    let server = MockServer::start().await;
    let echo = format!("API key {KEY} may not write notes");
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(422).set_body_json(json!({"code": 422, "message": echo})),
        )
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .respond_with(ResponseTemplate::new(403).set_body_string(echo.clone()))
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({"error": echo})))
        .mount(&server)
        .await;
    let cm = client(&server.uri(), KEY, options());
    let patch = NotePatch {
        text: Some("y".into()),
        ..NotePatch::default()
    };
    let errors = [
        cm.create_note(&new_note(CUSTOMER_UUID, NoteKind::Note, "x"))
            .await
            .expect_err("422"),
        cm.update_note(NOTE_UUID, &patch).await.expect_err("403"),
        cm.delete_note(NOTE_UUID).await.expect_err("400"),
    ];
    for err in &errors {
        assert_one_clean_line(err);
        assert!(err.to_string().contains("may not write notes"), "{err}");
    }
}

#[tokio::test]
async fn a_malformed_success_reply_to_a_create_is_an_error_not_a_panic() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(201).set_body_string("<html>created</html>"))
        .mount(&server)
        .await;
    let cm = client(&server.uri(), KEY, options());
    let err = cm
        .create_note(&new_note(CUSTOMER_UUID, NoteKind::Note, "x"))
        .await
        .expect_err("not JSON");
    assert!(matches!(err, ProviderError::Malformed { .. }), "{err:?}");
    assert_eq!(request_count(&server).await, 1);
}
