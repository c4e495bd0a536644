//! Screen snapshots of writing: the editor (with an inline error, with its summary, after a
//! refusal), pending and unsent timeline entries, the delete question and the stopwatch.
//! Fixed time zone (UTC) and a fixed clock keep them stable.

use jiff::Timestamp;
use jiff::tz::TimeZone;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::tests::{acme_notes, answer, at, customers, fetches, key, render};
use crate::app::{AccountTab, App, Effect, FetchEvent, Msg};
use crate::model::{Capabilities, NewNote, NoteKind, ProviderKind};
use crate::outbox::OutboxReport;
use crate::store::{OutboxItem, OutboxState, WriteOp};

/// The clock: two days after the newest demo note.
fn now() -> Timestamp {
    at("2026-11-22T09:15:00Z")
}

/// The demo browser on an account that can write, Acme Corp selected, sara the author.
fn writer(width: u16, height: u16) -> App {
    let account = AccountTab {
        name: "acme".to_string(),
        provider: ProviderKind::ChartMogul,
        capabilities: Capabilities {
            create_notes: true,
            log_calls: true,
            edit: true,
            delete: true,
            contacts: true,
            web_link: true,
            // ChartMogul takes a note's time from us.
            sets_time: true,
            ..Capabilities::default()
        },
    };
    let (mut app, effects) = App::new(vec![account], TimeZone::UTC);
    app.update(Msg::Resize { width, height });
    for request in fetches(&effects) {
        let page = FetchEvent::CustomersPage {
            customers: customers(),
            pages: 1,
            done: true,
        };
        for timeline in fetches(&answer(&mut app, &request, page)) {
            let notes = FetchEvent::NotesPage {
                notes: acme_notes(),
                pages: 1,
                done: true,
            };
            answer(&mut app, &timeline, notes);
        }
    }
    app.update(Msg::Now(now()));
    app.set_author_email(0, Some("sara@example.com".to_string()));
    app
}

fn ctrl(c: char) -> Msg {
    Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL))
}

fn type_text(app: &mut App, text: &str) -> Vec<Effect> {
    let mut effects = Vec::new();
    for c in text.chars() {
        let msg = match c {
            '\n' => key(KeyCode::Enter),
            '\t' => key(KeyCode::Tab),
            c => key(KeyCode::Char(c)),
        };
        effects.extend(app.update(msg));
    }
    effects
}

/// The local id and operation of the one write in `effects`.
fn submitted(effects: &[Effect]) -> Option<(String, WriteOp)> {
    effects.iter().find_map(|e| match e {
        Effect::Submit { local_id, op, .. } => Some((local_id.clone(), op.clone())),
        _ => None,
    })
}

#[test]
fn editor_for_a_new_call_with_an_inline_duration_error() {
    let mut app = writer(80, 24);
    app.update(key(KeyCode::Char('c')));
    type_text(&mut app, "1:99");
    let screen = render(&app, 80, 24);
    assert!(screen.contains("New call · Acme Corp"), "{screen}");
    assert!(
        screen.contains("✗ after the colon use 00 to 59"),
        "{screen}"
    );
    assert!(
        screen.contains("call · ? · as sara@example.com · now"),
        "{screen}"
    );
    insta::assert_snapshot!(screen);
}

#[test]
fn editor_summary_line_for_a_call_ready_to_send() {
    let mut app = writer(100, 30);
    app.update(key(KeyCode::Char('c')));
    type_text(&mut app, "15m");
    app.update(key(KeyCode::Tab));
    type_text(&mut app, "Renewal discussed 🎉\nQuote goes out Monday.");
    let screen = render(&app, 100, 30);
    assert!(
        screen.contains("Sends     call · 15m · as sara@example.com · now"),
        "{screen}"
    );
    assert!(
        screen.contains("Ctrl-S save"),
        "the status line hints: {screen}"
    );
    insta::assert_snapshot!(screen);
}

#[test]
fn editor_reopened_with_the_servers_refusal() {
    let mut app = writer(100, 30);
    app.update(key(KeyCode::Char('n')));
    type_text(&mut app, "Trial extended");
    let Some((local_id, op)) = submitted(&app.update(ctrl('s'))) else {
        panic!("nothing was submitted");
    };
    app.update(Msg::Outbox(Box::new(OutboxReport::Rejected {
        account: 0,
        local_id: Some(local_id),
        outbox_id: 3,
        op,
        error: "ChartMogul refused the write for account 'acme' (403): read-only API key"
            .to_string(),
    })));
    let screen = render(&app, 100, 30);
    assert!(screen.contains("✗ ChartMogul refused it"), "{screen}");
    assert!(screen.contains("Trial extended"), "{screen}");
    insta::assert_snapshot!(screen);
}

#[test]
fn timeline_with_pending_and_unsent_entries() {
    let mut app = writer(100, 30);
    // One call still on its way, one that failed and waits in the outbox.
    app.update(key(KeyCode::Char('c')));
    type_text(&mut app, "15m\tRenewal discussed");
    let Some((sending, _)) = submitted(&app.update(ctrl('s'))) else {
        panic!("nothing was submitted");
    };
    let unsent = WriteOp::Create(NewNote {
        customer_id: "acme".to_string(),
        kind: NoteKind::Note,
        author_email: Some("sara@example.com".to_string()),
        text: "Sent the quote by email.".to_string(),
        call_duration_s: None,
        created_at: at("2026-11-21T17:30:00Z"),
    });
    app.update(Msg::Outbox(Box::new(OutboxReport::Unsent {
        account: 0,
        items: vec![OutboxItem {
            id: 8,
            account: "acme".to_string(),
            op: unsent,
            state: OutboxState::Pending,
            attempts: 2,
            next_attempt_at: None,
            last_error: Some("ChartMogul did not answer in 20 s".to_string()),
            created_at: at("2026-11-21T17:30:00Z"),
        }],
    })));
    // The unsent one selected: the Note pane says what happened to it.
    app.update(key(KeyCode::Char('j')));
    let screen = render(&app, 100, 30);
    assert!(!sending.is_empty());
    assert!(screen.contains("⋯ sending"), "{screen}");
    assert!(screen.contains("⚠ unsent"), "{screen}");
    assert!(screen.contains("1 unsent · r retries"), "{screen}");
    assert!(
        screen.contains("ChartMogul did not answer in 20 s"),
        "{screen}"
    );
    insta::assert_snapshot!(screen);
}

#[test]
fn delete_confirmation_in_the_status_line() {
    let mut app = writer(80, 24);
    app.update(key(KeyCode::Tab));
    app.update(key(KeyCode::Char('d')));
    let screen = render(&app, 80, 24);
    assert!(screen.contains("Delete this note? y/n"), "{screen}");
    insta::assert_snapshot!(screen);
}

#[test]
fn stopwatch_in_the_status_line() {
    let mut app = writer(80, 24);
    app.update(key(KeyCode::Char('C')));
    app.update(Msg::Now(at("2026-11-22T09:19:12Z")));
    // Let the "timing the call" message fade so the hints show beside the clock.
    for _ in 0..crate::app::INFO_TICKS {
        app.update(Msg::Tick);
    }
    let screen = render(&app, 80, 24);
    assert!(screen.contains("☎ Acme Corp 04:12"), "{screen}");
    insta::assert_snapshot!(screen);
}

#[test]
fn help_lists_the_editor_keys_at_its_end() {
    let mut app = writer(80, 24);
    app.update(key(KeyCode::Char('?')));
    app.update(key(KeyCode::Char('G')));
    let screen = render(&app, 80, 24);
    assert!(screen.contains("In the editor"), "{screen}");
    assert!(screen.contains("Ctrl-S"), "{screen}");
    insta::assert_snapshot!(screen);
}
