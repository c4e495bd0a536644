//! The fetch layer against the fake ChartMogul server over loopback: pages stream as
//! messages, and a newer request for the same view cancels the older one.

use std::time::Duration;

use crm_notes::app::{FetchEvent, FetchKind, FetchRequest, Msg};
use crm_notes::config::AccountConfig;
use crm_notes::demo::chartmogul::{self, ChartMogulData, ChartMogulOptions};
use crm_notes::demo::data;
use crm_notes::fetch::Fetcher;
use crm_notes::model::{CustomerQuery, NoteQuery, ProviderKind};
use crm_notes::secrets::Secret;
use tokio::sync::mpsc;

fn account(base_url: &str) -> AccountConfig {
    AccountConfig {
        name: "acme".into(),
        provider: ProviderKind::ChartMogul,
        base_url: Some(base_url.into()),
        author_email: None,
        username: None,
        company_id: None,
        region: None,
        reseller_id: None,
    }
}

fn data_set() -> ChartMogulData {
    let now: jiff::Timestamp = "2026-11-01T12:00:00Z".parse().unwrap();
    let customers = (0..450)
        .map(|i| {
            data::customer(
                &format!("cus_{i:03}"),
                &format!("Customer {i:03}"),
                &format!("c{i}@example.com"),
                "",
                "Active",
            )
        })
        .collect();
    let notes = (0..30)
        .map(|i| {
            data::note(
                &format!("note_{i}"),
                if i % 2 == 0 { "cus_000" } else { "cus_001" },
                "note",
                "Sara (sara@example.com)",
                "text",
                now,
                0,
            )
        })
        .collect();
    ChartMogulData {
        customers,
        contacts: Vec::new(),
        notes,
    }
}

async fn next(rx: &mut mpsc::UnboundedReceiver<Msg>) -> Option<crm_notes::app::Fetched> {
    match tokio::time::timeout(Duration::from_secs(20), rx.recv()).await {
        Ok(Some(Msg::Fetched(fetched))) => Some(fetched),
        _ => None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn customer_pages_stream_in_one_message_per_page() {
    let server = chartmogul::start(data_set(), ChartMogulOptions::default())
        .await
        .unwrap();
    let provider = crm_notes::providers::connect(
        &account(&server.base_url),
        Secret::new(server.api_key.clone()),
    )
    .unwrap();
    let (tx, mut rx) = mpsc::unbounded_channel();
    let mut fetcher = Fetcher::new(vec![provider], tx, tokio::runtime::Handle::current());
    fetcher.run(FetchRequest {
        account: 0,
        generation: 1,
        kind: FetchKind::Customers(CustomerQuery::default()),
    });
    let mut seen = 0;
    let mut pages = Vec::new();
    loop {
        let fetched = next(&mut rx).await.expect("a message");
        assert_eq!(fetched.generation, 1);
        match fetched.event {
            FetchEvent::CustomersPage {
                customers,
                pages: n,
                done,
            } => {
                seen += customers.len();
                pages.push(n);
                if done {
                    break;
                }
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(seen, 450);
    assert_eq!(pages, [1, 2, 3], "450 customers in pages of 200");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_newer_timeline_request_cancels_the_older_one() {
    let options = ChartMogulOptions {
        // Slow enough that the first request is still in flight when the second comes.
        latency: Duration::from_millis(300),
        ..Default::default()
    };
    let server = chartmogul::start(data_set(), options).await.unwrap();
    let provider = crm_notes::providers::connect(
        &account(&server.base_url),
        Secret::new(server.api_key.clone()),
    )
    .unwrap();
    let (tx, mut rx) = mpsc::unbounded_channel();
    let mut fetcher = Fetcher::new(vec![provider], tx, tokio::runtime::Handle::current());
    for (generation, customer) in [(1, "cus_000"), (2, "cus_001")] {
        fetcher.run(FetchRequest {
            account: 0,
            generation,
            kind: FetchKind::Notes(NoteQuery {
                customer_id: Some(customer.into()),
                ..Default::default()
            }),
        });
    }
    let fetched = next(&mut rx).await.expect("the newer request's page");
    assert_eq!(fetched.generation, 2, "the older request was cancelled");
    match fetched.event {
        FetchEvent::NotesPage { notes, done, .. } => {
            assert!(done);
            assert_eq!(notes.len(), 15);
            assert!(
                notes
                    .iter()
                    .all(|n| n.customer_id.as_deref() == Some("cus_001"))
            );
        }
        other => panic!("unexpected {other:?}"),
    }
    // Nothing from the cancelled request arrives later either.
    let late = tokio::time::timeout(Duration::from_millis(800), rx.recv()).await;
    assert!(late.is_err(), "a late message arrived: {late:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failure_arrives_as_one_line_and_other_views_keep_working() {
    let server = chartmogul::start(data_set(), ChartMogulOptions::default())
        .await
        .unwrap();
    let provider = crm_notes::providers::connect(
        &account(&server.base_url),
        Secret::new("wrong-key".to_string()),
    )
    .unwrap();
    let (tx, mut rx) = mpsc::unbounded_channel();
    let mut fetcher = Fetcher::new(vec![provider], tx, tokio::runtime::Handle::current());
    fetcher.run(FetchRequest {
        account: 0,
        generation: 7,
        kind: FetchKind::Contacts {
            customer_id: "cus_000".into(),
        },
    });
    let fetched = next(&mut rx).await.expect("a message");
    assert_eq!(fetched.generation, 7);
    match fetched.event {
        FetchEvent::Failed { error, offline } => {
            // A refused key is an answer from the server, not a network outage.
            assert!(!offline);
            assert!(error.contains("401"), "{error}");
            assert!(!error.contains('\n'));
            assert!(!error.contains("wrong-key"));
        }
        other => panic!("unexpected {other:?}"),
    }
}
