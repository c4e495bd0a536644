//! `App::update` for what the providers differ in: adding a message to a note's thread, keys
//! a provider cannot honour, what `o` opens, a When the provider sets itself, and several
//! accounts side by side.

use jiff::Timestamp;
use ratatui::crossterm::event::{
    KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind,
};

use super::editor::Field;
use super::tests::{
    browser_with, ch, customers, customers_page, fetched, key, note, notes_page, only_fetch,
    selected_customer, selected_note,
};
use super::*;
use crate::model::{Attachment, Capabilities, NoteMessage, ProviderKind};
use crate::store::WriteOp;

/// The clock of these tests: ten minutes after the newest note of `note()`.
fn now() -> Timestamp {
    Timestamp::from_second(1_700_000_600).unwrap_or(Timestamp::UNIX_EPOCH)
}

/// Capabilities as each provider's client declares them.
fn tab(name: &str, provider: ProviderKind) -> AccountTab {
    let capabilities = match provider {
        ProviderKind::ChartMogul => Capabilities {
            create_notes: true,
            log_calls: true,
            edit: true,
            delete: true,
            contacts: true,
            web_link: true,
            sets_time: true,
            ..Capabilities::default()
        },
        ProviderKind::Peoplevine => Capabilities {
            create_notes: true,
            log_calls: true,
            edit: true,
            messages: true,
            ..Capabilities::default()
        },
        ProviderKind::ActivePlatform => Capabilities {
            create_notes: true,
            log_calls: true,
            delete: true,
            web_link: true,
            email_search: true,
            ..Capabilities::default()
        },
    };
    AccountTab {
        name: name.to_string(),
        provider,
        capabilities,
    }
}

/// One account of `provider`, customer c0 selected with notes n0 (newest) … n2, the clock
/// at `now()`.
fn browsing(provider: ProviderKind) -> App {
    let (mut app, timeline) = browser_with(vec![tab("one", provider)], 3);
    let notes = (0..3)
        .map(|i| note(&format!("n{i}"), "c0", -i * 60))
        .collect();
    app.update(fetched(0, timeline.generation, notes_page(notes, 1, true)));
    app.update(Msg::Now(now()));
    app
}

fn ctrl(c: char) -> Msg {
    Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL))
}

fn type_text(app: &mut App, text: &str) -> Vec<Effect> {
    text.chars().flat_map(|c| app.update(ch(c))).collect()
}

fn status_text(app: &App) -> String {
    app.status().map(|s| s.text.clone()).unwrap_or_default()
}

fn composer_text(app: &App) -> Option<String> {
    app.composer().map(|c| c.value())
}

fn thread(app: &App, id: &str) -> Vec<String> {
    app.view()
        .and_then(|v| v.timeline.notes.iter().find(|n| n.id == id))
        .map(|n| n.extras.messages.iter().map(|m| m.text.clone()).collect())
        .unwrap_or_default()
}

fn pending(app: &App) -> Vec<String> {
    app.view()
        .map(|v| v.pending_messages.iter().map(|m| m.text.clone()).collect())
        .unwrap_or_default()
}

/// Writes `text` to the selected note and sends it; returns the local id of the message.
fn send_message(app: &mut App, text: &str) -> String {
    app.update(ch('m'));
    type_text(app, text);
    let effects = app.update(ctrl('s'));
    match effects.as_slice() {
        [Effect::AddMessage { local_id, .. }] => local_id.clone(),
        other => panic!("expected one AddMessage, got {other:?}"),
    }
}

fn answer(note_id: &str, local_id: &str, result: Result<NoteMessage, String>) -> Msg {
    Msg::MessageSent(Box::new(MessageSent {
        account: 0,
        note_id: note_id.to_string(),
        local_id: local_id.to_string(),
        result,
    }))
}

#[test]
fn m_opens_the_composer_and_ctrl_s_sends_the_message_for_the_selected_note() {
    let mut app = browsing(ProviderKind::Peoplevine);
    app.update(key(KeyCode::Tab));
    app.update(ch('j'));
    assert!(app.update(ch('m')).is_empty());
    assert_eq!(app.focus(), Pane::Note);
    assert_eq!(app.composer().map(|c| c.note_id.as_str()), Some("n1"));
    // Typing is text, not browser keys: `q` doesn't quit, `j` doesn't move.
    assert!(type_text(&mut app, "q j ok").is_empty());
    assert!(!app.should_quit());
    let effects = app.update(ctrl('s'));
    assert_eq!(
        effects,
        vec![Effect::AddMessage {
            account: 0,
            note_id: "n1".to_string(),
            local_id: "local-1".to_string(),
            text: "q j ok".to_string(),
        }]
    );
    assert!(app.composer().is_none());
    assert_eq!(status_text(&app), "Sending the message to Peoplevine…");
}

#[test]
fn a_sent_message_shows_as_sending_then_joins_the_thread_when_confirmed() {
    let mut app = browsing(ProviderKind::Peoplevine);
    let local = send_message(&mut app, "Called back");
    assert_eq!(pending(&app), ["Called back"]);
    assert!(thread(&app, "n0").is_empty());

    let stored = NoteMessage {
        author: Some("Sara Lee".to_string()),
        text: "Called back".to_string(),
        created_at: Some(now()),
    };
    app.update(answer("n0", &local, Ok(stored.clone())));
    assert!(pending(&app).is_empty());
    let messages = app
        .view()
        .and_then(|v| v.timeline.selected())
        .map(|n| n.extras.messages.clone());
    assert_eq!(messages, Some(vec![stored]));
    assert_eq!(status_text(&app), "Message added on Peoplevine");
}

#[test]
fn a_confirmed_message_without_author_or_time_gets_ours() {
    let mut app = browsing(ProviderKind::Peoplevine);
    app.set_author_email(0, Some("sara@example.com".to_string()));
    let local = send_message(&mut app, "Noted");
    let bare = NoteMessage {
        author: None,
        text: "Noted".to_string(),
        created_at: None,
    };
    app.update(answer("n0", &local, Ok(bare)));
    let message = app
        .view()
        .and_then(|v| v.timeline.selected())
        .and_then(|n| n.extras.messages.first().cloned());
    assert_eq!(
        message.as_ref().and_then(|m| m.author.as_deref()),
        Some("sara@example.com")
    );
    assert_eq!(message.and_then(|m| m.created_at), Some(now()));
}

#[test]
fn a_failed_message_comes_back_into_the_composer_with_its_error() {
    let mut app = browsing(ProviderKind::Peoplevine);
    let local = send_message(&mut app, "Refund approved");
    app.update(answer(
        "n0",
        &local,
        Err("Peoplevine answered 500: database busy".to_string()),
    ));
    assert!(pending(&app).is_empty());
    assert!(thread(&app, "n0").is_empty());
    assert_eq!(composer_text(&app).as_deref(), Some("Refund approved"));
    assert_eq!(
        app.composer().and_then(|c| c.error.as_deref()),
        Some("Peoplevine answered 500: database busy")
    );
    let status = app.status().cloned();
    assert!(status.as_ref().is_some_and(|s| s.error), "{status:?}");
    assert!(status_text(&app).contains("database busy"));
    // Sending again goes out with the same text.
    let effects = app.update(ctrl('s'));
    assert!(
        matches!(effects.as_slice(), [Effect::AddMessage { text, .. }] if text == "Refund approved"),
        "{effects:?}"
    );
}

#[test]
fn a_message_failing_while_another_note_is_shown_is_kept_for_m_on_its_note() {
    let mut app = browsing(ProviderKind::Peoplevine);
    let local = send_message(&mut app, "First try");
    // From the Note pane round to the Timeline.
    app.update(key(KeyCode::Tab));
    app.update(key(KeyCode::Tab));
    app.update(ch('j'));
    assert_eq!(selected_note(&app), Some("n1"));
    app.update(answer("n0", &local, Err("timed out".to_string())));
    assert!(app.composer().is_none(), "n1 is shown: nothing pops up");
    assert!(status_text(&app).contains("m on the note brings it back"));
    app.update(ch('k'));
    app.update(ch('m'));
    assert_eq!(composer_text(&app).as_deref(), Some("First try"));
}

#[test]
fn a_message_failing_while_its_composer_is_open_again_is_added_to_what_is_typed() {
    let mut app = browsing(ProviderKind::Peoplevine);
    let local = send_message(&mut app, "One");
    app.update(ch('m'));
    type_text(&mut app, "Two");
    app.update(answer("n0", &local, Err("refused".to_string())));
    assert_eq!(composer_text(&app).as_deref(), Some("Two\n\nOne"));
}

#[test]
fn an_empty_message_is_not_sent_and_the_composer_stays() {
    let mut app = browsing(ProviderKind::Peoplevine);
    app.update(ch('m'));
    type_text(&mut app, "   ");
    assert!(app.update(ctrl('s')).is_empty());
    assert!(app.composer().is_some());
    assert!(app.status().is_some_and(|s| s.error));
}

#[test]
fn esc_closes_the_composer_and_m_brings_the_text_back() {
    let mut app = browsing(ProviderKind::Peoplevine);
    app.update(ch('m'));
    type_text(&mut app, "half a thought");
    assert!(app.update(key(KeyCode::Esc)).is_empty());
    assert!(app.composer().is_none());
    assert!(status_text(&app).contains("m on the note continues it"));
    app.update(ch('m'));
    assert_eq!(composer_text(&app).as_deref(), Some("half a thought"));
}

#[test]
fn pasted_text_goes_into_the_composer_cleaned() {
    let mut app = browsing(ProviderKind::Peoplevine);
    app.update(ch('m'));
    app.update(Msg::Paste("pasted\u{1b}[31m red".to_string()));
    assert_eq!(composer_text(&app).as_deref(), Some("pasted red"));
}

#[test]
fn m_on_a_note_still_being_sent_waits_for_it() {
    let mut app = browsing(ProviderKind::Peoplevine);
    app.update(ch('n'));
    type_text(&mut app, "brand new");
    app.update(ctrl('s'));
    assert_eq!(selected_note(&app), Some("local-1"));
    app.update(ch('m'));
    assert!(app.composer().is_none());
    assert!(status_text(&app).contains("messages can be added once it is saved"));
}

#[test]
fn keys_a_provider_cannot_honour_say_so_and_do_nothing() {
    let cases = [
        (
            ProviderKind::Peoplevine,
            'd',
            "Peoplevine does not let us delete notes",
        ),
        (
            ProviderKind::ActivePlatform,
            'e',
            "ActivePlatform does not let us edit notes",
        ),
        (
            ProviderKind::ActivePlatform,
            'm',
            "ActivePlatform does not let us add messages to notes",
        ),
        (
            ProviderKind::ChartMogul,
            'm',
            "ChartMogul does not let us add messages to notes",
        ),
    ];
    for (provider, c, expected) in cases {
        let mut app = browsing(provider);
        assert!(app.update(ch(c)).is_empty(), "{provider:?} {c}");
        assert_eq!(status_text(&app), expected);
        assert!(app.editor().is_none() && app.composer().is_none());
        assert!(app.confirm().is_none());
    }
    // And what each can do still works.
    let mut app = browsing(ProviderKind::Peoplevine);
    app.update(ch('e'));
    assert!(app.editor().is_some());
    let mut app = browsing(ProviderKind::ActivePlatform);
    app.update(ch('d'));
    assert!(app.confirm().is_some());
}

/// An ActivePlatform account whose customer c0 has a web link, with one note set up by `f`.
fn one_note(f: impl FnOnce(&mut Note)) -> App {
    let (mut app, timeline) = browser_with(vec![tab("panel", ProviderKind::ActivePlatform)], 1);
    let mut n = note("n0", "c0", 0);
    f(&mut n);
    app.update(fetched(
        0,
        timeline.generation,
        notes_page(vec![n], 1, true),
    ));
    app
}

fn opened(app: &mut App) -> Option<String> {
    match app.update(ch('o')).as_slice() {
        [Effect::OpenUrl(url)] => Some(url.clone()),
        [] => None,
        other => panic!("unexpected effects {other:?}"),
    }
}

#[test]
fn o_opens_the_attachment_then_the_note_then_the_customer() {
    let file = |url: Option<&str>| Attachment {
        name: "invoice.pdf".to_string(),
        size: Some(120 * 1024),
        url: url.map(str::to_string),
    };
    let note_url = "https://panel.example.com/admin/accounts/c0/notes/n0";
    let mut app = one_note(|n| {
        n.extras.attachment = Some(file(Some("https://files.example.com/invoice.pdf")));
        n.web_url = Some(note_url.to_string());
    });
    assert_eq!(
        opened(&mut app).as_deref(),
        Some("https://files.example.com/invoice.pdf")
    );
    assert_eq!(
        status_text(&app),
        "Opening the attachment invoice.pdf in the browser"
    );

    // An attachment without a link can't be opened: the note's panel page is next.
    let mut app = one_note(|n| {
        n.extras.attachment = Some(file(None));
        n.web_url = Some(note_url.to_string());
    });
    assert_eq!(opened(&mut app).as_deref(), Some(note_url));
    assert_eq!(status_text(&app), "Opening the note in ActivePlatform");

    let mut app = one_note(|_| {});
    assert_eq!(
        opened(&mut app).as_deref(),
        Some("https://app.example.com/customers/c0")
    );
}

#[test]
fn o_says_when_there_is_no_link_at_all() {
    let (mut app, effects) = App::new(vec![tab("club", ProviderKind::Peoplevine)], TimeZone::UTC);
    let request = only_fetch(&effects, FetchSlot::Customers);
    let mut bare = customers(0..1);
    for c in &mut bare {
        c.web_url = None;
    }
    let effects = app.update(fetched(
        0,
        request.generation,
        customers_page(bare, 1, true),
    ));
    let timeline = only_fetch(&effects, FetchSlot::Timeline);
    app.update(fetched(
        0,
        timeline.generation,
        notes_page(vec![note("n0", "c0", 0)], 1, true),
    ));
    assert_eq!(opened(&mut app), None);
    assert_eq!(
        status_text(&app),
        "Nothing to open: neither this note nor Customer 0 has a web link in Peoplevine"
    );
}

#[test]
fn where_the_provider_dates_notes_when_is_skipped_and_saving_sends_now() {
    let mut app = browsing(ProviderKind::Peoplevine);
    app.update(ch('n'));
    assert_eq!(app.editor().and_then(|e| e.time_set_by), Some("Peoplevine"));
    type_text(&mut app, "hello");
    app.update(key(KeyCode::Tab));
    assert_eq!(app.editor().map(|e| e.focus), Some(Field::Author));
    app.update(key(KeyCode::Up));
    assert_eq!(app.editor().map(|e| e.focus), Some(Field::Text));
    let effects = app.update(ctrl('s'));
    let sent = effects.iter().find_map(|e| match e {
        Effect::Submit {
            op: WriteOp::Create(new),
            ..
        } => Some(new.created_at),
        _ => None,
    });
    assert_eq!(sent, Some(now()));
}

#[test]
fn a_typed_when_is_ignored_where_the_provider_dates_notes() {
    let mut app = browsing(ProviderKind::ActivePlatform);
    app.update(ch('n'));
    type_text(&mut app, "hello");
    if let Some(editor) = app.editor.as_mut() {
        // As a stopwatch or an old draft could leave it.
        editor.set_value(Field::When, "yesterday 10:00");
    }
    let effects = app.update(ctrl('s'));
    let sent = effects.iter().find_map(|e| match e {
        Effect::Submit {
            op: WriteOp::Create(new),
            ..
        } => Some(new.created_at),
        _ => None,
    });
    assert_eq!(sent, Some(now()));
}

#[test]
fn an_edit_where_the_provider_dates_notes_never_moves_the_time() {
    let mut app = browsing(ProviderKind::Peoplevine);
    app.update(ch('e'));
    type_text(&mut app, " more");
    let effects = app.update(ctrl('s'));
    let patch = effects.iter().find_map(|e| match e {
        Effect::Submit {
            op: WriteOp::Update { patch, .. },
            ..
        } => Some(patch.clone()),
        _ => None,
    });
    assert_eq!(
        patch.as_ref().and_then(|p| p.text.as_deref()),
        Some("text of n0 more")
    );
    assert_eq!(patch.and_then(|p| p.created_at), None);
}

#[test]
fn where_we_set_the_time_when_stays_a_field() {
    let mut app = browsing(ProviderKind::ChartMogul);
    app.update(ch('n'));
    assert_eq!(app.editor().and_then(|e| e.time_set_by), None);
    app.update(key(KeyCode::Tab));
    assert_eq!(app.editor().map(|e| e.focus), Some(Field::When));
}

fn click(column: u16, row: u16) -> Msg {
    Msg::Mouse(MouseEvent {
        kind: MouseEventKind::Down(MouseButton::Left),
        column,
        row,
        modifiers: KeyModifiers::NONE,
    })
}

#[test]
fn each_account_keeps_its_selection_scroll_pages_and_drafts_across_switches() {
    let accounts = vec![
        tab("acme", ProviderKind::ChartMogul),
        tab("club", ProviderKind::Peoplevine),
        tab("panel", ProviderKind::ActivePlatform),
    ];
    let (mut app, _) = browser_with(accounts, 5);
    app.update(Msg::Now(now()));
    // acme: the third customer, its second note, scrolled into a long text, a draft.
    app.update(ch('j'));
    let effects = app.update(ch('j'));
    let timeline = only_fetch(&effects, FetchSlot::Timeline);
    let mut long = note("long", "c2", -60);
    long.text = (0..60).map(|i| format!("line {i}\n")).collect();
    let notes = vec![note("n0", "c2", 0), long];
    app.update(fetched(0, timeline.generation, notes_page(notes, 1, true)));
    app.update(key(KeyCode::Tab));
    app.update(ch('j'));
    app.update(key(KeyCode::Tab));
    for _ in 0..7 {
        app.update(ch('j'));
    }
    app.update(ch('n'));
    type_text(&mut app, "unfinished");
    app.update(key(KeyCode::Esc));
    let scroll = app.view().map(|v| v.note.scroll);
    assert_eq!(scroll, Some(7));

    // The first visit to club asks for its customers; panel's tab is clicked.
    let effects = app.update(ch('2'));
    let club = only_fetch(&effects, FetchSlot::Customers);
    assert_eq!(club.account, 1);
    let effects = app.update(fetched(
        1,
        club.generation,
        customers_page(customers(10..13), 3, true),
    ));
    assert_eq!(only_fetch(&effects, FetchSlot::Timeline).account, 1);
    // Each account has its own focus: club opens on its Customers.
    assert_eq!(app.focus(), Pane::Customers);
    app.update(ch('j'));
    // " crm-notes ─ [1] acme · ChartMogul   [2] club · Peoplevine   [3] panel · …"
    let effects = app.update(click(62, 0));
    assert_eq!(app.active_account(), 2);
    assert_eq!(only_fetch(&effects, FetchSlot::Customers).account, 2);

    // Back on acme: nothing is fetched again and everything is where it was left.
    let effects = app.update(click(20, 0));
    assert!(effects.is_empty(), "{effects:?}");
    assert_eq!(app.active_account(), 0);
    assert_eq!(app.focus(), Pane::Timeline);
    assert_eq!(selected_customer(&app), Some("c2"));
    assert_eq!(selected_note(&app), Some("long"));
    assert_eq!(app.view().map(|v| v.note.scroll), scroll);
    app.update(ch('n'));
    assert_eq!(
        app.editor().map(|e| e.value(Field::Text)).as_deref(),
        Some("unfinished")
    );
    app.update(key(KeyCode::Esc));

    // And club kept its own: the second customer, all three pages.
    assert!(app.update(ch('2')).is_empty());
    assert_eq!(selected_customer(&app), Some("c11"));
    assert_eq!(app.view().map(|v| v.customers.pages), Some(3));
}
