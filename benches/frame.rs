//! Frame budget (DESIGN.md): drawing one 200×60 frame takes ≤ 2 ms whatever the number of
//! notes. The app is built through its public messages with 10,000 customers and 1,000,000
//! notes on the selected customer's timeline.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use crm_notes::app::{AccountTab, App, Effect, FetchEvent, FetchRequest, Fetched, Msg};
use crm_notes::model::{Capabilities, Customer, Note, NoteKind, ProviderKind};
use jiff::Timestamp;
use jiff::tz::TimeZone;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

const WIDTH: u16 = 200;
const HEIGHT: u16 = 60;
/// Full size under `cargo bench`; see `bench_size`.
fn customer_count() -> usize {
    crm_notes::demo::bench_size(10_000)
}
/// Full size under `cargo bench`; see `bench_size`.
fn note_count() -> usize {
    crm_notes::demo::bench_size(1_000_000)
}

fn first_fetch(effects: &[Effect]) -> Option<FetchRequest> {
    effects.iter().find_map(|e| match e {
        Effect::Fetch(request) => Some(request.clone()),
        _ => None,
    })
}

fn answer(app: &mut App, request: &FetchRequest, event: FetchEvent) -> Vec<Effect> {
    app.update(Msg::Fetched(Fetched {
        account: request.account,
        generation: request.generation,
        event,
    }))
}

fn loaded_app() -> App {
    let account = AccountTab {
        name: "acme".to_string(),
        provider: ProviderKind::ChartMogul,
        capabilities: Capabilities {
            contacts: true,
            web_link: true,
            ..Capabilities::default()
        },
    };
    let (mut app, effects) = App::new(vec![account], TimeZone::UTC);
    app.update(Msg::Resize {
        width: WIDTH,
        height: HEIGHT,
    });
    let customers = (0..customer_count())
        .map(|i| Customer {
            id: format!("cus_{i}"),
            name: format!("Customer {i}"),
            email: Some(format!("billing@customer{i}.test")),
            company: Some(format!("Customer {i} Ltd")),
            status: Some(if i % 3 == 0 { "Past Due" } else { "Active" }.to_string()),
            web_url: None,
        })
        .collect();
    let customers_request = first_fetch(&effects).expect("App::new asks for customers");
    let effects = answer(
        &mut app,
        &customers_request,
        FetchEvent::CustomersPage {
            customers,
            pages: 1,
            done: true,
        },
    );
    let timeline_request = first_fetch(&effects).expect("the first customer's timeline");
    let newest = Timestamp::from_second(1_800_000_000).expect("a valid timestamp");
    let notes = (0..note_count())
        .map(|i| Note {
            id: format!("note_{i}"),
            customer_id: Some("cus_0".to_string()),
            kind: if i % 4 == 0 {
                NoteKind::Call
            } else {
                NoteKind::Note
            },
            author_name: Some("Sara Lee".to_string()),
            author_email: Some("sara@example.com".to_string()),
            text: format!(
                "Note {i}: renewal discussed, sending the quote on Monday; they asked about \
                 yearly billing and the extra seats.\nSecond line."
            ),
            call_duration_s: (i % 4 == 0).then_some(900),
            created_at: newest - jiff::SignedDuration::from_secs(i as i64 * 60),
            updated_at: None,
            subject: None,
            web_url: None,
            extras: Default::default(),
        })
        .collect();
    answer(
        &mut app,
        &timeline_request,
        FetchEvent::NotesPage {
            notes,
            pages: 1,
            done: true,
        },
    );
    app
}

fn key(code: KeyCode) -> Msg {
    Msg::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

fn frame(c: &mut Criterion) {
    let mut app = loaded_app();
    let mut terminal = match Terminal::new(TestBackend::new(WIDTH, HEIGHT)) {
        Ok(terminal) => terminal,
        Err(never) => match never {},
    };
    // Deep in the timeline, so the window arithmetic is not the trivial top-of-list case.
    app.update(key(KeyCode::Tab));
    app.update(key(KeyCode::End));
    for _ in 0..1_000 {
        app.update(key(KeyCode::Char('k')));
    }

    c.bench_function("draw 200x60 with 1M notes", |b| {
        b.iter(|| {
            let drawn = terminal.draw(|f| crm_notes::ui::draw(black_box(&app), f));
            black_box(drawn.is_ok())
        })
    });

    // Moving the selection changes the Note pane, so every frame has real cells to send.
    let mut down = true;
    c.bench_function("move and draw 200x60 with 1M notes", |b| {
        b.iter(|| {
            let step = if down { 'j' } else { 'k' };
            down = !down;
            app.update(key(KeyCode::Char(step)));
            let drawn = terminal.draw(|f| crm_notes::ui::draw(black_box(&app), f));
            black_box(drawn.is_ok())
        })
    });
}

criterion_group!(benches, frame);
criterion_main!(benches);
