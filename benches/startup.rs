//! Start budget (DESIGN.md): from start to the first frame with 100,000 notes in the local
//! store takes ≤ 100 ms. Measured: opening the cache file, the app's first effects answered
//! from it (the customers, then the first customer's timeline), and drawing the first 200×60
//! frame — everything `run_tui` does before the terminal shows something, minus the process
//! start and the terminal's own setup.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use crm_notes::app::{AccountTab, App, Msg};
use crm_notes::cache::Cache;
use crm_notes::model::{Capabilities, Customer, Note, NoteKind, ProviderKind};
use jiff::Timestamp;
use jiff::tz::TimeZone;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

const WIDTH: u16 = 200;
const HEIGHT: u16 = 60;
/// Full size under `cargo bench`; see `bench_size`.
fn customer_count() -> usize {
    crm_notes::demo::bench_size(1_000)
}
/// Full size under `cargo bench`; see `bench_size`.
fn note_count() -> usize {
    crm_notes::demo::bench_size(100_000)
}
const PAGE: usize = 200;

fn customers() -> Vec<Customer> {
    (0..customer_count())
        .map(|i| Customer {
            id: format!("cus_{i:05}"),
            name: format!("Customer {i}"),
            email: Some(format!("billing@customer{i}.test")),
            company: Some(format!("Customer {i} Ltd")),
            status: Some("Active".to_string()),
            web_url: Some(format!("https://app.example.com/customers/cus_{i:05}")),
        })
        .collect()
}

fn notes() -> Vec<Note> {
    let mut rng = fastrand::Rng::with_seed(11);
    let words = [
        "renewal",
        "invoice",
        "quote",
        "seats",
        "discount",
        "onboarding",
        "call",
        "billing",
        "trial",
        "migration",
        "SSO",
        "support",
        "escalation",
        "contract",
        "payment",
    ];
    let start = 1_790_000_000;
    (0..note_count())
        .map(|i| {
            let len = rng.usize(8..80);
            let text: Vec<&str> = (0..len).map(|_| words[rng.usize(..words.len())]).collect();
            let call = rng.u8(..10) < 4;
            Note {
                id: format!("note_{i:07}"),
                customer_id: Some(format!("cus_{:05}", rng.usize(..customer_count()))),
                kind: if call { NoteKind::Call } else { NoteKind::Note },
                author_name: Some(format!("Agent {}", rng.u8(..40))),
                author_email: Some(format!("agent{}@example.com", rng.u8(..40))),
                text: text.join(" "),
                call_duration_s: call.then(|| rng.u32(60..3600)),
                created_at: Timestamp::from_second(start - i as i64 * 97)
                    .unwrap_or(Timestamp::UNIX_EPOCH),
                updated_at: None,
                subject: None,
                web_url: None,
                extras: Default::default(),
            }
        })
        .collect()
}

fn account() -> AccountTab {
    AccountTab {
        name: "acme".to_string(),
        provider: ProviderKind::ChartMogul,
        capabilities: Capabilities {
            server_author_filter: true,
            server_type_filter: true,
            ..Capabilities::default()
        },
    }
}

fn start(path: &std::path::Path) -> App {
    let (mut app, effects) = App::new(vec![account()], TimeZone::UTC);
    app.update(Msg::Resize {
        width: WIDTH,
        height: HEIGHT,
    });
    let names = vec!["acme".to_string()];
    let (cache, rest) = crm_notes::tui::open_cache(path, &mut app, effects, &names);
    assert!(cache.is_some(), "the cache opened");
    black_box(rest);
    let mut terminal = match Terminal::new(TestBackend::new(WIDTH, HEIGHT)) {
        Ok(terminal) => terminal,
        Err(never) => match never {},
    };
    let drawn = terminal.draw(|frame| crm_notes::ui::draw(&app, frame));
    assert!(drawn.is_ok());
    app
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("cache.db");
    {
        let cache = Cache::open(&path).expect("cache");
        let now = Timestamp::now();
        let customers = customers();
        let pages = customers.chunks(PAGE).count();
        for (i, page) in customers.chunks(PAGE).enumerate() {
            cache
                .put_customers("acme", i as u32 + 1, page, i + 1 == pages, now)
                .expect("customers");
        }
        let notes = notes();
        let pages = notes.chunks(PAGE).count();
        for (i, page) in notes.chunks(PAGE).enumerate() {
            cache
                .put_notes("acme", None, i as u32 + 1, page, i + 1 == pages, now)
                .expect("notes");
        }
    }
    // What the first frame shows: the first customer and its notes from the store.
    let app = start(&path);
    let shown = app.view().map_or(0, |v| v.timeline.notes.len());
    let customers = app.view().map_or(0, |v| v.customers.items.len());
    assert_eq!(
        customers,
        customer_count(),
        "the customers came from the store"
    );
    assert!(shown > 0, "the first customer's notes came from the store");

    let mut group = c.benchmark_group("startup");
    group.sample_size(20);
    group.measurement_time(Duration::from_secs(8));
    group.bench_function("to_first_frame_100k_notes_in_store", |b| {
        b.iter(|| black_box(start(&path)));
    });
    group.finish();

    let runs = 10;
    let began = Instant::now();
    for _ in 0..runs {
        black_box(start(&path));
    }
    let (note_count, customer_count) = (note_count(), customer_count());
    println!(
        "start to first frame, {note_count} notes and {customer_count} customers in the store: {:.1} ms \
         (budget 100 ms); first timeline {shown} notes",
        began.elapsed().as_secs_f64() * 1000.0 / f64::from(runs)
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
