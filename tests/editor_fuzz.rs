//! A property test over the editor's input path: thousands of random key presses and pastes
//! (escape sequences, control characters, unicode, huge and odd input) through `App::update`
//! and a draw after each. Nothing may panic, and whatever is submitted must be clean: no
//! escape or control characters besides newlines, a call's duration within a day, a time that
//! is not in the future.

use crm_notes::app::{AccountTab, App, Effect, FetchEvent, FetchKind, Fetched, Msg};
use crm_notes::model::{Capabilities, Customer, NoteKind, ProviderKind};
use crm_notes::store::WriteOp;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

fn app(now: jiff::Timestamp) -> App {
    let tab = AccountTab {
        name: "acme".into(),
        provider: ProviderKind::ChartMogul,
        capabilities: Capabilities {
            create_notes: true,
            log_calls: true,
            edit: true,
            delete: true,
            sets_time: true,
            ..Capabilities::default()
        },
    };
    let (mut app, effects) = App::new(vec![tab], jiff::tz::TimeZone::UTC);
    app.update(Msg::Now(now));
    app.update(Msg::Resize {
        width: 100,
        height: 30,
    });
    let generation = effects
        .iter()
        .find_map(|e| match e {
            Effect::Fetch(request) if matches!(request.kind, FetchKind::Customers(_)) => {
                Some(request.generation)
            }
            _ => None,
        })
        .expect("a customers fetch at start");
    app.update(Msg::Fetched(Fetched {
        account: 0,
        generation,
        event: FetchEvent::CustomersPage {
            customers: vec![Customer {
                id: "cus_1".into(),
                name: "Acme Corp".into(),
                ..Customer::default()
            }],
            pages: 1,
            done: true,
        },
    }));
    app
}

const ALPHABET: &[char] = &[
    'a', 'q', 'j', 'k', 'n', 'c', 'C', 'e', 'd', 'y', 'r', '?', '1', '5', 'm', 'h', 's', ':', '-',
    ' ', '0', '9', 'é', '📞', '日', '\u{1b}', '\u{7}', '\u{202e}', '\u{0}', '\t', '\r', '\u{9b}',
    '[', ']', ';',
];

fn random_key(rng: &mut fastrand::Rng) -> KeyEvent {
    let code = match rng.u8(0..20) {
        0 => KeyCode::Tab,
        1 => KeyCode::BackTab,
        2 => KeyCode::Enter,
        3 => KeyCode::Backspace,
        4 => KeyCode::Left,
        5 => KeyCode::Right,
        6 => KeyCode::Up,
        7 => KeyCode::Down,
        8 => KeyCode::Esc,
        9 => KeyCode::Home,
        10 => KeyCode::End,
        11 => KeyCode::Delete,
        _ => KeyCode::Char(ALPHABET[rng.usize(..ALPHABET.len())]),
    };
    let modifiers = match rng.u8(0..12) {
        0 => KeyModifiers::CONTROL,
        1 => KeyModifiers::ALT,
        2 => KeyModifiers::SHIFT,
        _ => KeyModifiers::NONE,
    };
    // Ctrl-C quits; the test wants to stay in the app.
    if modifiers == KeyModifiers::CONTROL && code == KeyCode::Char('c') {
        return KeyEvent::new(KeyCode::Char('c'), KeyModifiers::NONE);
    }
    KeyEvent::new(code, modifiers)
}

fn random_paste(rng: &mut fastrand::Rng) -> String {
    let len = match rng.u8(0..10) {
        0 => rng.usize(1000..5000),
        _ => rng.usize(0..40),
    };
    (0..len)
        .map(|_| ALPHABET[rng.usize(..ALPHABET.len())])
        .collect()
}

fn check_submit(op: &WriteOp, now: jiff::Timestamp) {
    let (text, kind, duration, at) = match op {
        WriteOp::Create(note) => (
            Some(&note.text),
            Some(&note.kind),
            note.call_duration_s,
            Some(note.created_at),
        ),
        WriteOp::Update { patch, .. } => (
            patch.text.as_ref(),
            None,
            patch.call_duration_s,
            patch.created_at,
        ),
        WriteOp::Delete { .. } => (None, None, None, None),
    };
    if let Some(text) = text {
        assert!(
            !text
                .chars()
                .any(|c| (c.is_control() && c != '\n') || ('\u{202a}'..='\u{202e}').contains(&c)),
            "unclean text submitted: {text:?}"
        );
    }
    if let Some(seconds) = duration {
        assert!((1..=86_400).contains(&seconds), "duration {seconds}");
    }
    if kind == Some(&NoteKind::Call) {
        assert!(duration.is_some(), "a call without a duration");
    }
    if let Some(at) = at {
        assert!(at <= now, "a time in the future: {at}");
    }
}

#[test]
fn random_typing_and_pasting_never_panics_and_submits_only_clean_input() {
    let now: jiff::Timestamp = "2026-11-20T15:00:00Z".parse().unwrap();
    let mut rng = fastrand::Rng::with_seed(0x5eed);
    let mut terminal = Terminal::new(TestBackend::new(100, 30)).expect("terminal");
    let mut submitted = 0;
    for round in 0..40 {
        let mut app = app(now);
        for step in 0..400 {
            let msg = match rng.u8(0..30) {
                0 => Msg::Paste(random_paste(&mut rng)),
                1 => Msg::Resize {
                    width: rng.u16(0..160),
                    height: rng.u16(0..50),
                },
                // Open the editors often, so most keys land in them.
                2 | 3 => Msg::Key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::NONE)),
                4 => Msg::Key(KeyEvent::new(KeyCode::Char('n'), KeyModifiers::NONE)),
                5 => Msg::Key(KeyEvent::new(KeyCode::Char('s'), KeyModifiers::CONTROL)),
                _ => Msg::Key(random_key(&mut rng)),
            };
            for effect in app.update(msg) {
                if let Effect::Submit { op, .. } = &effect {
                    check_submit(op, now);
                    submitted += 1;
                }
            }
            if step % 7 == 0 {
                let _ = app.update(Msg::Resize {
                    width: 100,
                    height: 30,
                });
                terminal
                    .draw(|frame| crm_notes::ui::draw(&app, frame))
                    .unwrap_or_else(|e| panic!("round {round} step {step}: {e}"));
            }
            if app.should_quit() {
                break;
            }
        }
    }
    assert!(
        submitted > 0,
        "the random input should get some notes through"
    );
}
