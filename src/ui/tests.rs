//! Screen snapshots: the app built through its public messages, drawn on a `TestBackend`,
//! compared as text with insta. Fixed time zone and timestamps keep them stable.

use jiff::Timestamp;
use jiff::tz::TimeZone;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::app::{AccountTab, App, Effect, FetchEvent, FetchKind, FetchRequest, Fetched, Msg};
use crate::model::{Capabilities, Contact, Customer, Note, NoteKind, ProviderKind};

pub(super) fn at(rfc3339: &str) -> Timestamp {
    rfc3339.parse().unwrap_or(Timestamp::UNIX_EPOCH)
}

pub(super) fn chartmogul(name: &str) -> AccountTab {
    AccountTab {
        name: name.to_string(),
        provider: ProviderKind::ChartMogul,
        capabilities: Capabilities {
            contacts: true,
            web_link: true,
            ..Capabilities::default()
        },
    }
}

fn customer(id: &str, name: &str, status: &str, company: Option<&str>, email: &str) -> Customer {
    Customer {
        id: id.to_string(),
        name: name.to_string(),
        email: Some(email.to_string()),
        company: company.map(str::to_string),
        status: Some(status.to_string()),
        web_url: None,
    }
}

pub(super) fn customers() -> Vec<Customer> {
    vec![
        customer(
            "acme",
            "Acme Corp",
            "Active",
            Some("Acme Corporation"),
            "ops@acme.test",
        ),
        customer("globex", "Globex", "Past Due", None, "billing@globex.test"),
        customer(
            "initech",
            "Initech",
            "New Lead",
            Some("Initech LLC"),
            "bill@initech.test",
        ),
        customer(
            "umbrella",
            "Umbrella",
            "Cancelled",
            None,
            "it@umbrella.test",
        ),
        customer(
            "hooli",
            "Hooli",
            "Active",
            Some("Hooli XYZ"),
            "gavin@hooli.test",
        ),
    ]
}

pub(super) fn entry(
    id: &str,
    kind: NoteKind,
    when: &str,
    author: (&str, &str),
    text: &str,
) -> Note {
    Note {
        id: id.to_string(),
        customer_id: Some("acme".to_string()),
        call_duration_s: (kind == NoteKind::Call).then_some(900),
        kind,
        author_name: Some(author.0.to_string()),
        author_email: Some(author.1.to_string()),
        text: text.to_string(),
        created_at: at(when),
        updated_at: None,
        subject: None,
        web_url: None,
        extras: Default::default(),
    }
}

pub(super) fn acme_notes() -> Vec<Note> {
    let sara = ("Sara Lee", "sara@example.com");
    let adam = ("Adam Smith", "adam@example.com");
    vec![
        entry(
            "n1",
            NoteKind::Call,
            "2026-11-20T14:02:00Z",
            sara,
            "Renewal discussed, sending quote Monday. They want to move from the monthly plan \
             to yearly billing and asked whether the discount still applies to the extra seats \
             they added in October.\n\nFollow up with finance before sending.",
        ),
        entry(
            "n2",
            NoteKind::Note,
            "2026-11-18T09:40:00Z",
            adam,
            "Trial extended by two weeks.",
        ),
        entry(
            "n3",
            NoteKind::Note,
            "2026-10-02T16:15:00Z",
            sara,
            "\nOnboarding call booked; their admin is Priya (priya@acme.test) who will invite \
             the rest of the support team once SSO works.",
        ),
        entry(
            "n4",
            NoteKind::Other("meeting".to_string()),
            "2026-09-12T11:00:00Z",
            adam,
            "Kick-off",
        ),
    ]
}

pub(super) fn key(code: KeyCode) -> Msg {
    Msg::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

pub(super) fn fetches(effects: &[Effect]) -> Vec<FetchRequest> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Fetch(r) => Some(r.clone()),
            _ => None,
        })
        .collect()
}

pub(super) fn answer(app: &mut App, request: &FetchRequest, event: FetchEvent) -> Vec<Effect> {
    app.update(Msg::Fetched(Fetched {
        account: request.account,
        generation: request.generation,
        event,
    }))
}

/// The browser at `width`×`height` with the demo customers and `notes` for the first one;
/// returns the app and the last timeline request (to answer more).
pub(super) fn browser(width: u16, height: u16, notes: Vec<Note>) -> (App, Option<FetchRequest>) {
    let accounts = vec![chartmogul("acme")];
    let (mut app, effects) = App::new(accounts, TimeZone::UTC);
    app.update(Msg::Resize { width, height });
    let mut timeline = None;
    for request in fetches(&effects) {
        let more = answer(
            &mut app,
            &request,
            FetchEvent::CustomersPage {
                customers: customers(),
                pages: 1,
                done: true,
            },
        );
        timeline = fetches(&more).into_iter().next();
    }
    if let Some(request) = &timeline {
        answer(
            &mut app,
            request,
            FetchEvent::NotesPage {
                notes,
                pages: 1,
                done: true,
            },
        );
    }
    (app, timeline)
}

pub(super) fn render(app: &App, width: u16, height: u16) -> String {
    let mut terminal = match Terminal::new(TestBackend::new(width, height)) {
        Ok(terminal) => terminal,
        Err(never) => match never {},
    };
    let drawn = terminal.draw(|frame| crate::ui::draw(app, frame));
    assert!(drawn.is_ok());
    if width == 0 {
        // TestBackend cannot print a zero-width buffer (it chunks rows by width).
        return "\n".repeat(usize::from(height));
    }
    terminal.backend().to_string()
}

#[test]
fn browser_at_80x24() {
    let (app, _) = browser(80, 24, acme_notes());
    insta::assert_snapshot!(render(&app, 80, 24));
}

#[test]
fn browser_at_120x40() {
    let (app, _) = browser(120, 40, acme_notes());
    insta::assert_snapshot!(render(&app, 120, 40));
}

#[test]
fn browser_with_the_timeline_focused_on_the_second_entry() {
    let (mut app, _) = browser(80, 24, acme_notes());
    app.update(key(KeyCode::Enter));
    app.update(key(KeyCode::Char('j')));
    insta::assert_snapshot!(render(&app, 80, 24));
}

#[test]
fn narrow_terminal_at_60x20() {
    let (app, _) = browser(60, 20, acme_notes());
    insta::assert_snapshot!(render(&app, 60, 20));
}

#[test]
fn help_overlay() {
    let (mut app, _) = browser(80, 24, acme_notes());
    app.update(key(KeyCode::Char('?')));
    insta::assert_snapshot!(render(&app, 80, 24));
}

#[test]
fn welcome_screen() {
    let app = App::welcome("/home/sara/.config/crm-notes/config.toml".to_string());
    insta::assert_snapshot!(render(&app, 80, 24));
}

#[test]
fn customer_without_notes() {
    let (app, _) = browser(80, 24, Vec::new());
    let screen = render(&app, 80, 24);
    assert!(screen.contains("No notes or calls for Acme Corp yet"));
    insta::assert_snapshot!(screen);
}

#[test]
fn customers_still_loading() {
    let (mut app, _) = App::new(vec![chartmogul("acme")], TimeZone::UTC);
    app.update(Msg::Resize {
        width: 80,
        height: 24,
    });
    insta::assert_snapshot!(render(&app, 80, 24));
}

#[test]
fn timeline_still_loading_after_three_customer_pages() {
    let (mut app, effects) = App::new(vec![chartmogul("acme")], TimeZone::UTC);
    app.update(Msg::Resize {
        width: 80,
        height: 24,
    });
    for request in fetches(&effects) {
        for page in 1..=3 {
            answer(
                &mut app,
                &request,
                FetchEvent::CustomersPage {
                    customers: customers(),
                    pages: page,
                    done: false,
                },
            );
        }
    }
    let screen = render(&app, 80, 24);
    assert!(screen.contains("⟳ 3 pages"));
    assert!(screen.contains("loading timeline…"));
    insta::assert_snapshot!(screen);
}

#[test]
fn note_with_an_html_list() {
    let mut note = entry(
        "html",
        NoteKind::Note,
        "2026-11-21T08:30:00Z",
        ("Sara Lee", "sara@example.com"),
        "",
    );
    note.text = crate::text::note_text("<ul><li>a</li><li>b</li></ul>");
    note.subject = Some("Checklist".to_string());
    let (app, _) = browser(80, 24, vec![note]);
    insta::assert_snapshot!(render(&app, 80, 24));
}

#[test]
fn error_in_the_status_line() {
    let (mut app, timeline) = browser(80, 24, acme_notes());
    app.update(Msg::Now(at("2026-11-22T09:15:00Z")));
    app.update(key(KeyCode::Char('j')));
    let effects = app.update(key(KeyCode::Char('j')));
    for request in fetches(&effects) {
        answer(
            &mut app,
            &request,
            FetchEvent::Failed {
                error: "ChartMogul answered 500 for account 'acme' (try r to refresh)".to_string(),
                offline: false,
            },
        );
    }
    assert!(timeline.is_some());
    let screen = render(&app, 80, 24);
    assert!(screen.contains(" 09:15 ChartMogul answered 500"));
    insta::assert_snapshot!(screen);
}

#[test]
fn contacts_of_the_selected_customer() {
    let (mut app, _) = browser(80, 24, acme_notes());
    let effects = app.update(key(KeyCode::Char('p')));
    let contacts = vec![
        Contact {
            id: "p1".to_string(),
            first_name: Some("Priya".to_string()),
            last_name: Some("Raman".to_string()),
            title: Some("IT admin".to_string()),
            email: Some("priya@acme.test".to_string()),
            phone: Some("+44 20 7946 0000".to_string()),
            linked_in: Some("https://linkedin.com/in/priya".to_string()),
            ..Contact::default()
        },
        Contact {
            id: "p2".to_string(),
            email: Some("ops@acme.test".to_string()),
            ..Contact::default()
        },
    ];
    for request in fetches(&effects) {
        assert!(matches!(request.kind, FetchKind::Contacts { .. }));
        answer(
            &mut app,
            &request,
            FetchEvent::ContactsPage {
                contacts: contacts.clone(),
                done: true,
            },
        );
    }
    insta::assert_snapshot!(render(&app, 80, 24));
}

#[test]
fn a_customer_without_contacts_says_so() {
    let (mut app, _) = browser(80, 24, acme_notes());
    let effects = app.update(key(KeyCode::Char('p')));
    for request in fetches(&effects) {
        answer(
            &mut app,
            &request,
            FetchEvent::ContactsPage {
                contacts: Vec::new(),
                done: true,
            },
        );
    }
    assert!(render(&app, 80, 24).contains("No contacts for Acme Corp"));
}

#[test]
fn several_accounts_in_the_tab_bar() {
    let mut club = chartmogul("club");
    club.provider = ProviderKind::Peoplevine;
    let mut panel = chartmogul("panel");
    panel.provider = ProviderKind::ActivePlatform;
    let (mut app, _) = App::new(vec![chartmogul("acme"), club, panel], TimeZone::UTC);
    app.update(Msg::Resize {
        width: 100,
        height: 6,
    });
    app.update(key(KeyCode::Char('2')));
    let screen = render(&app, 100, 6);
    let top = screen.lines().next().unwrap_or_default();
    assert!(top.contains(
        " crm-notes ─ [1] acme · ChartMogul   [2] club · Peoplevine   [3] panel · ActivePlatform"
    ));
}

#[test]
fn tiny_and_odd_sizes_draw_without_panicking() {
    let sizes = [
        (0, 0),
        (1, 1),
        (10, 3),
        (3, 10),
        (20, 5),
        (30, 8),
        (200, 2),
        (2, 200),
    ];
    for (width, height) in sizes {
        let (mut app, _) = browser(width, height, acme_notes());
        let screen = render(&app, width, height);
        assert_eq!(screen.lines().count(), usize::from(height));
        app.update(key(KeyCode::Char('?')));
        render(&app, width, height);
        app.update(key(KeyCode::Esc));
        app.update(key(KeyCode::Tab));
        app.update(key(KeyCode::Tab));
        app.update(key(KeyCode::End));
        render(&app, width, height);
        let welcome = App::welcome("/etc/crm-notes.toml".to_string());
        render(&welcome, width, height);
    }
}

#[test]
fn timeline_rows_cut_long_text_with_an_ellipsis_at_the_pane_edge() {
    let (app, _) = browser(80, 24, acme_notes());
    let screen = render(&app, 80, 24);
    let second = screen.lines().nth(3).unwrap_or_default();
    assert!(second.contains("Renewal discussed, sending"), "{second}");
    assert!(second.ends_with("… │\""), "{second}");
}
