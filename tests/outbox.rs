//! The outbox end to end: real store file, real HTTP to the fake ChartMogul server. Writes
//! are confirmed, queued when the server can't be reached, refused with the server's message,
//! and reconciled (never created twice) when their outcome is unknown — also across restarts.

use std::sync::Arc;
use std::time::Duration;

use crm_notes::demo::FakeServer;
use crm_notes::demo::chartmogul::{self, ChartMogulData, ChartMogulOptions};
use crm_notes::demo::data;
use crm_notes::model::{NewNote, NoteKind, NoteQuery};
use crm_notes::outbox::{OutboxAccount, OutboxReport, OutboxWorker};
use crm_notes::providers::SharedProvider;
use crm_notes::providers::chartmogul::ChartMogul;
use crm_notes::providers::http::HttpOptions;
use crm_notes::store::{OutboxState, Store, StoreThread, WriteOp};
use tokio::sync::mpsc;

const ACCOUNT: &str = "acme";

fn data_set() -> ChartMogulData {
    ChartMogulData {
        customers: vec![data::customer(
            "cus_1",
            "Acme Corp",
            "ops@acme.test",
            "Acme",
            "Active",
        )],
        contacts: Vec::new(),
        notes: Vec::new(),
    }
}

fn quick() -> HttpOptions {
    HttpOptions {
        request_timeout: Duration::from_millis(400),
        connect_timeout: Duration::from_millis(400),
        max_retries: 1,
        backoff_base: Duration::from_millis(10),
        backoff_cap: Duration::from_millis(20),
        ..HttpOptions::default()
    }
}

fn client(base_url: &str, key: &str) -> SharedProvider {
    Arc::new(ChartMogul::new(base_url, key.to_string(), quick()).expect("client"))
}

fn call(text: &str) -> NewNote {
    NewNote {
        customer_id: "cus_1".into(),
        kind: NoteKind::Call,
        author_email: Some("sara@example.com".into()),
        text: text.into(),
        call_duration_s: Some(900),
        created_at: jiff::Timestamp::now()
            .round(jiff::Unit::Second)
            .expect("round")
            .checked_sub(jiff::SignedDuration::from_secs(5))
            .expect("in range"),
    }
}

struct Rig {
    worker: OutboxWorker,
    reports: mpsc::UnboundedReceiver<OutboxReport>,
    store: StoreThread,
}

fn rig(provider: SharedProvider, path: &std::path::Path) -> Rig {
    let store = StoreThread::spawn("store", Store::open(path).expect("store"));
    let (tx, reports) = mpsc::unbounded_channel();
    let worker = OutboxWorker::new(
        vec![OutboxAccount {
            name: ACCOUNT.into(),
            provider,
        }],
        store.clone(),
        tx,
    );
    Rig {
        worker,
        reports,
        store,
    }
}

impl Rig {
    /// The next report that is not a plain listing of drafts or unsent items.
    async fn outcome(&mut self) -> OutboxReport {
        loop {
            let report = tokio::time::timeout(Duration::from_secs(20), self.reports.recv())
                .await
                .expect("a report in time")
                .expect("the worker is alive");
            match report {
                OutboxReport::Drafts { .. } | OutboxReport::Unsent { .. } => continue,
                other => return other,
            }
        }
    }

    async fn unsent(&self) -> Vec<crm_notes::store::OutboxItem> {
        self.store
            .call(|store| store.outbox(ACCOUNT))
            .await
            .expect("outbox")
    }
}

async fn notes_on_server(server: &FakeServer) -> Vec<crm_notes::model::Note> {
    let reader = client(&server.base_url, &server.api_key);
    let query = NoteQuery {
        customer_id: Some("cus_1".into()),
        ..Default::default()
    };
    reader.notes(&query, None).await.expect("list").items
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_submitted_call_is_confirmed_with_the_servers_note_and_leaves_the_outbox() {
    let server = chartmogul::start(data_set(), ChartMogulOptions::default())
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut rig = rig(
        client(&server.base_url, &server.api_key),
        &dir.path().join("s.db"),
    );
    let note = call("Renewal discussed 📞\nsending quote Monday");
    rig.worker.submit(
        &tokio::runtime::Handle::current(),
        0,
        "local-1".into(),
        WriteOp::Create(note.clone()),
    );
    match rig.outcome().await {
        OutboxReport::Confirmed {
            local_id,
            note: Some(created),
            ..
        } => {
            assert_eq!(local_id.as_deref(), Some("local-1"));
            assert_eq!(created.kind, NoteKind::Call);
            assert_eq!(created.call_duration_s, Some(900));
            assert_eq!(created.text, "Renewal discussed 📞\nsending quote Monday");
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(rig.unsent().await.is_empty());
    assert_eq!(notes_on_server(&server).await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timeout_after_the_server_wrote_is_reconciled_and_the_note_exists_once() {
    let options = ChartMogulOptions {
        // The server writes, then answers after the client has given up.
        write_latency: Duration::from_millis(1500),
        ..Default::default()
    };
    let server = chartmogul::start(data_set(), options).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut rig = rig(
        client(&server.base_url, &server.api_key),
        &dir.path().join("s.db"),
    );
    rig.worker.start(&tokio::runtime::Handle::current());
    rig.worker.submit(
        &tokio::runtime::Handle::current(),
        0,
        "local-1".into(),
        WriteOp::Create(call("Timed out but written")),
    );
    match rig.outcome().await {
        OutboxReport::Queued {
            local_id, error, ..
        } => {
            assert_eq!(local_id.as_deref(), Some("local-1"));
            assert!(!error.contains('\n'), "{error}");
        }
        other => panic!("unexpected {other:?}"),
    }
    let items = rig.unsent().await;
    assert_eq!(items.len(), 1);
    assert_eq!(
        items[0].state,
        OutboxState::Unknown,
        "never re-sent blindly"
    );

    // `r`: the retry reconciles instead of sending again.
    rig.worker.retry_now();
    match rig.outcome().await {
        OutboxReport::Confirmed { note: Some(n), .. } => {
            assert_eq!(n.text, "Timed out but written");
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(rig.unsent().await.is_empty());
    let notes = notes_on_server(&server).await;
    assert_eq!(notes.len(), 1, "created exactly once: {notes:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_server_queues_the_note_and_a_restart_sends_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let closed_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    {
        let mut rig = rig(
            client(&format!("http://127.0.0.1:{closed_port}"), "demo-key"),
            &path,
        );
        rig.worker.submit(
            &tokio::runtime::Handle::current(),
            0,
            "local-1".into(),
            WriteOp::Create(call("Offline call")),
        );
        assert!(matches!(rig.outcome().await, OutboxReport::Queued { .. }));
        let items = rig.unsent().await;
        assert_eq!(items.len(), 1);
        assert!(matches!(
            items[0].state,
            OutboxState::Pending | OutboxState::Unknown
        ));
    }

    // The app restarts and the network is back.
    let server = chartmogul::start(data_set(), ChartMogulOptions::default())
        .await
        .unwrap();
    let mut rig = rig(client(&server.base_url, &server.api_key), &path);
    rig.worker.start(&tokio::runtime::Handle::current());
    match rig.outcome().await {
        OutboxReport::Confirmed { local_id, note, .. } => {
            assert_eq!(local_id, None, "sent by the retry loop, not a fresh submit");
            assert_eq!(note.map(|n| n.text).as_deref(), Some("Offline call"));
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(rig.unsent().await.is_empty());
    assert_eq!(notes_on_server(&server).await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_write_is_kept_with_the_servers_message_and_not_retried() {
    let options = ChartMogulOptions {
        read_only_keys: vec!["ro-key".into()],
        ..Default::default()
    };
    let server = chartmogul::start(data_set(), options).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut rig = rig(client(&server.base_url, "ro-key"), &dir.path().join("s.db"));
    rig.worker.start(&tokio::runtime::Handle::current());
    rig.worker.submit(
        &tokio::runtime::Handle::current(),
        0,
        "local-9".into(),
        WriteOp::Create(call("Read-only attempt")),
    );
    match rig.outcome().await {
        OutboxReport::Rejected {
            local_id,
            op,
            error,
            ..
        } => {
            assert_eq!(local_id.as_deref(), Some("local-9"));
            assert!(error.contains("403"), "{error}");
            match op {
                WriteOp::Create(n) => assert_eq!(n.text, "Read-only attempt"),
                other => panic!("{other:?}"),
            }
        }
        other => panic!("unexpected {other:?}"),
    }
    let items = rig.unsent().await;
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].state, OutboxState::Rejected);
    let posts_before = server
        .requests()
        .iter()
        .filter(|r| r.method == "POST")
        .count();
    rig.worker.retry_now();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let posts_after = server
        .requests()
        .iter()
        .filter(|r| r.method == "POST")
        .count();
    assert_eq!(
        posts_before, posts_after,
        "a refused write is never retried blindly"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_while_sending_is_reconciled_on_restart() {
    let server = chartmogul::start(data_set(), ChartMogulOptions::default())
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let note = call("Sent just before the crash");
    {
        // The process died after sending: the item is left `Sending`, the note exists.
        let store = Store::open(&path).unwrap();
        let item = store
            .enqueue(
                ACCOUNT,
                &WriteOp::Create(note.clone()),
                jiff::Timestamp::now(),
            )
            .unwrap();
        store
            .transition(item.id, OutboxState::Sending, None, None)
            .unwrap();
        client(&server.base_url, &server.api_key)
            .create_note(&note)
            .await
            .unwrap();
    }
    let mut rig = rig(client(&server.base_url, &server.api_key), &path);
    rig.worker.start(&tokio::runtime::Handle::current());
    assert!(matches!(
        rig.outcome().await,
        OutboxReport::Confirmed { .. }
    ));
    assert!(rig.unsent().await.is_empty());
    assert_eq!(notes_on_server(&server).await.len(), 1, "not created twice");
}

/// A 500 on a create says nothing about whether the note was made: the outbox looks for it
/// before sending again, finds nothing, and the second attempt succeeds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_500_then_success_creates_the_note_once_after_looking_for_it() {
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    let mock = MockServer::start().await;
    let note = call("Server hiccup");
    let created = serde_json::json!({
        "uuid": "note_1", "customer_uuid": "cus_1", "type": "call",
        "text": "Server hiccup", "call_duration": 900,
        "author": "Sara (sara@example.com)",
        "created_at": crm_notes::providers::chartmogul::wire_time(note.created_at),
        "updated_at": crm_notes::providers::chartmogul::wire_time(note.created_at),
    });
    Mock::given(method("POST"))
        .and(path("/v1/customer_notes"))
        .respond_with(ResponseTemplate::new(500).set_body_string("500 Internal Server Error"))
        .up_to_n_times(1)
        .mount(&mock)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/customer_notes"))
        .respond_with(ResponseTemplate::new(201).set_body_json(&created))
        .mount(&mock)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/customer_notes"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "entries": [], "has_more": false, "cursor": null
        })))
        .mount(&mock)
        .await;

    let dir = tempfile::tempdir().unwrap();
    let mut rig = rig(client(&mock.uri(), "key-1234"), &dir.path().join("s.db"));
    rig.worker.start(&tokio::runtime::Handle::current());
    rig.worker.submit(
        &tokio::runtime::Handle::current(),
        0,
        "local-1".into(),
        WriteOp::Create(note),
    );
    assert!(matches!(rig.outcome().await, OutboxReport::Queued { .. }));
    assert_eq!(rig.unsent().await[0].state, OutboxState::Unknown);
    rig.worker.retry_now();
    match rig.outcome().await {
        OutboxReport::Confirmed { note: Some(n), .. } => assert_eq!(n.id, "note_1"),
        other => panic!("unexpected {other:?}"),
    }
    let requests = mock.received_requests().await.unwrap_or_default();
    let posts = requests
        .iter()
        .filter(|r| r.method.as_str() == "POST")
        .count();
    let lists = requests
        .iter()
        .filter(|r| r.method.as_str() == "GET")
        .count();
    assert_eq!(posts, 2, "sent once, then once more after reconciling");
    assert!(lists >= 1, "looked for it before sending again");
    assert!(rig.unsent().await.is_empty());
}
