//! Screen snapshots of what only some providers have: a Peoplevine note with its extras and
//! message thread, the message composer and a message on its way, an ActivePlatform note on
//! a subscription with an attachment, "System" entries, and When left to the provider.
//! Fixed time zone (UTC), fixed times and a fixed clock keep them stable.

use jiff::Timestamp;
use jiff::tz::TimeZone;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::tests::{answer, at, customers, entry, fetches, key, render};
use crate::app::{AccountTab, App, FetchEvent, Msg};
use crate::model::{Attachment, Capabilities, Note, NoteKind, NoteMessage, ProviderKind};

fn now() -> Timestamp {
    at("2026-11-22T09:15:00Z")
}

fn peoplevine() -> AccountTab {
    AccountTab {
        name: "club".to_string(),
        provider: ProviderKind::Peoplevine,
        capabilities: Capabilities {
            create_notes: true,
            log_calls: true,
            edit: true,
            messages: true,
            ..Capabilities::default()
        },
    }
}

fn activeplatform() -> AccountTab {
    AccountTab {
        name: "panel".to_string(),
        provider: ProviderKind::ActivePlatform,
        capabilities: Capabilities {
            create_notes: true,
            log_calls: true,
            delete: true,
            web_link: true,
            ..Capabilities::default()
        },
    }
}

/// The browser on `account` at `width`×`height`, the demo customers, `notes` for the first.
fn browser(account: AccountTab, width: u16, height: u16, notes: Vec<Note>) -> App {
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
                notes: notes.clone(),
                pages: 1,
                done: true,
            };
            answer(&mut app, &timeline, notes);
        }
    }
    app.update(Msg::Now(now()));
    app
}

fn message(author: &str, when: &str, text: &str) -> NoteMessage {
    NoteMessage {
        author: Some(author.to_string()),
        text: text.to_string(),
        created_at: Some(at(when)),
    }
}

/// A Peoplevine note with every extra it can have and a two-message thread.
fn gala_note() -> Note {
    let mut note = entry(
        "pv1",
        NoteKind::Note,
        "2026-11-21T16:07:00Z",
        ("Inès Moreau", "ines@club.example"),
        "Eleanor is coeliac. The kitchen needs to know before the winter gala menu is \
         printed.",
    );
    note.subject = Some("Winter gala: dietary needs".to_string());
    let extras = &mut note.extras;
    extras.status = Some("open".to_string());
    extras.priority = true;
    extras.confidential = true;
    extras.tags = vec!["events".to_string(), "dietary".to_string()];
    extras.reminder = Some("2026-12-01T09:00:00Z".to_string());
    extras.assignees = vec!["Maya Patel".to_string(), "Tom Becker".to_string()];
    extras.messages = vec![
        message(
            "Maya Patel",
            "2026-11-21T17:30:00Z",
            "Told the kitchen; they will mark her place card.",
        ),
        message(
            "Tom Becker",
            "2026-11-22T08:05:00Z",
            "Confirmed with the chef.",
        ),
    ];
    note
}

fn plain_note() -> Note {
    entry(
        "pv2",
        NoteKind::Call,
        "2026-11-20T10:00:00Z",
        ("Sara Lee", "sara@club.example"),
        "Left a voicemail about the summer party.",
    )
}

fn ctrl(c: char) -> Msg {
    Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL))
}

fn type_text(app: &mut App, text: &str) {
    for c in text.chars() {
        app.update(key(KeyCode::Char(c)));
    }
}

#[test]
fn peoplevine_note_with_its_extras_and_thread() {
    let app = browser(peoplevine(), 100, 40, vec![gala_note(), plain_note()]);
    let screen = render(&app, 100, 40);
    assert!(screen.contains("Winter gala: dietary needs — Eleanor is coeliac."));
    assert!(screen.contains("─ 2 messages ─"));
    assert!(screen.contains("reminder: 2026-12-01 09:00"));
    insta::assert_snapshot!(screen);
}

#[test]
fn message_composer_under_the_thread() {
    let mut app = browser(peoplevine(), 100, 40, vec![gala_note(), plain_note()]);
    app.update(key(KeyCode::Char('m')));
    type_text(&mut app, "Menu card printed with the gluten-free option.");
    let screen = render(&app, 100, 40);
    assert!(screen.contains(" Message · Winter gala: dietary needs "));
    assert!(screen.contains("Ctrl-S send"));
    insta::assert_snapshot!(screen);
}

#[test]
fn a_message_on_its_way_ends_the_thread_marked_sending() {
    let mut app = browser(peoplevine(), 100, 40, vec![gala_note(), plain_note()]);
    app.update(key(KeyCode::Char('m')));
    type_text(&mut app, "On it.");
    app.update(ctrl('s'));
    let screen = render(&app, 100, 40);
    assert!(screen.contains("─ 3 messages ─"));
    assert!(screen.contains("you  ⋯ sending…"));
    insta::assert_snapshot!(screen);
}

#[test]
fn a_failed_message_back_in_the_composer_with_the_error() {
    let mut app = browser(peoplevine(), 100, 30, vec![gala_note()]);
    app.update(key(KeyCode::Char('m')));
    type_text(&mut app, "On it.");
    app.update(ctrl('s'));
    app.update(Msg::MessageSent(Box::new(crate::app::MessageSent {
        account: 0,
        note_id: "pv1".to_string(),
        local_id: "local-1".to_string(),
        result: Err("Peoplevine answered 500: try again later".to_string()),
    })));
    let screen = render(&app, 100, 30);
    assert!(screen.contains("✗ Not sent: Peoplevine answered 500"));
    assert!(screen.contains("On it."));
    insta::assert_snapshot!(screen);
}

/// ActivePlatform notes: on a subscription with an invoice attached, an automatic one on an
/// order, one on the account.
fn panel_notes() -> Vec<Note> {
    let mut on_sub = entry(
        "ap1",
        NoteKind::Note,
        "2026-11-21T15:30:00Z",
        ("Sara Lee", "sara@example.com"),
        "Asked for one consolidated invoice covering all subscriptions.",
    );
    on_sub.author_email = None;
    on_sub.extras.original_type = Some("Subscription".to_string());
    on_sub.extras.original_id = Some("1234".to_string());
    on_sub.extras.attachment = Some(Attachment {
        name: "invoice.pdf".to_string(),
        size: Some(120 * 1024),
        url: Some("https://panel.example.com/files/invoice.pdf".to_string()),
    });
    on_sub.web_url = Some("https://panel.example.com/admin/subscriptions/1234".to_string());
    let mut system = entry(
        "ap2",
        NoteKind::Note,
        "2026-11-21T09:03:00Z",
        ("System", ""),
        "Order completed automatically.",
    );
    system.author_email = None;
    system.extras.original_type = Some("Order".to_string());
    system.extras.original_id = Some("5052".to_string());
    let mut on_account = entry(
        "ap3",
        NoteKind::Note,
        "2026-11-16T21:29:00Z",
        ("Bill Smith", ""),
        "Payment method changed to SEPA direct debit.",
    );
    on_account.author_email = None;
    vec![on_sub, system, on_account]
}

#[test]
fn activeplatform_note_on_a_subscription_with_an_attachment() {
    let app = browser(activeplatform(), 100, 30, panel_notes());
    let screen = render(&app, 100, 30);
    assert!(screen.contains("on Subscription #1234"));
    assert!(screen.contains("invoice.pdf · 120 KB"));
    insta::assert_snapshot!(screen);
}

#[test]
fn a_system_note_is_set_apart_in_the_timeline_and_the_note() {
    let mut app = browser(activeplatform(), 100, 30, panel_notes());
    app.update(key(KeyCode::Tab));
    app.update(key(KeyCode::Char('j')));
    let screen = render(&app, 100, 30);
    assert!(screen.contains("[order] System (automatic)"));
    assert!(screen.contains("on Order #5052"));
    insta::assert_snapshot!(screen);
}

#[test]
fn a_note_on_the_account_itself_says_so() {
    let mut app = browser(activeplatform(), 100, 30, panel_notes());
    app.update(key(KeyCode::Tab));
    app.update(key(KeyCode::Char('G')));
    let screen = render(&app, 100, 30);
    assert!(screen.contains("│ on Account "), "{screen}");
}

#[test]
fn editor_where_the_provider_sets_the_time() {
    let mut app = browser(peoplevine(), 100, 30, vec![plain_note()]);
    app.update(key(KeyCode::Char('n')));
    type_text(&mut app, "Booked the Blue Room.");
    let screen = render(&app, 100, 30);
    assert!(screen.contains("set by Peoplevine when saved"));
    assert!(screen.contains("note · dated by Peoplevine"));
    insta::assert_snapshot!(screen);
}

#[test]
fn sizes_read_as_people_read_them() {
    use crate::ui::note::human_size;
    assert_eq!(human_size(0), "0 B");
    assert_eq!(human_size(1023), "1023 B");
    assert_eq!(human_size(1024), "1.0 KB");
    assert_eq!(human_size(120 * 1024), "120 KB");
    assert_eq!(human_size(1536 * 1024), "1.5 MB");
    assert_eq!(human_size(3 * 1024 * 1024 * 1024), "3.0 GB");
    assert_eq!(human_size(u64::MAX), "16777216 TB");
}

#[test]
fn extras_never_break_narrow_or_tiny_panes() {
    let sizes = [(0, 0), (1, 1), (20, 5), (30, 8), (40, 12), (200, 2)];
    for (width, height) in sizes {
        let mut app = browser(peoplevine(), width, height, vec![gala_note()]);
        assert_eq!(
            render(&app, width, height).lines().count(),
            usize::from(height)
        );
        app.update(key(KeyCode::Char('m')));
        type_text(&mut app, "x");
        render(&app, width, height);
        let app = browser(activeplatform(), width, height, panel_notes());
        render(&app, width, height);
    }
}
