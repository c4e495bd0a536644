//! `App::update` for writing: the editor, drafts, the stopwatch, edit and delete, and the
//! outbox worker's reports, driven message by message.

use jiff::Timestamp;
use jiff::tz::TimeZone;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::editor::{Field, when_input};
use super::tests::{browser_with, ch, fetched, key, note, note_ids, notes_page, selected_note};
use super::writes::EntryMark;
use super::*;
use crate::model::{Capabilities, NewNote, NoteKind, NotePatch, ProviderKind};
use crate::outbox::OutboxReport;
use crate::store::{Draft, OutboxItem, OutboxState, WriteOp};

/// The clock of these tests: ten minutes after the newest note of `note()`.
fn now() -> Timestamp {
    Timestamp::from_second(1_700_000_600).unwrap_or(Timestamp::UNIX_EPOCH)
}

fn later(seconds: i64) -> Timestamp {
    Timestamp::from_second(1_700_000_600 + seconds).unwrap_or(Timestamp::UNIX_EPOCH)
}

fn caps(create: bool, calls: bool, edit: bool, delete: bool) -> Capabilities {
    Capabilities {
        create_notes: create,
        log_calls: calls,
        edit,
        delete,
        contacts: true,
        web_link: true,
        // ChartMogul takes a note's time from us.
        sets_time: true,
        ..Capabilities::default()
    }
}

fn tab(capabilities: Capabilities) -> AccountTab {
    AccountTab {
        name: "acme".to_string(),
        provider: ProviderKind::ChartMogul,
        capabilities,
    }
}

/// A ChartMogul account that can do everything, customer c0 selected with `n` notes, the
/// clock at `now()` and sara as the default author.
fn writer_with(capabilities: Capabilities, n: usize) -> App {
    let (mut app, timeline) = browser_with(vec![tab(capabilities)], 5);
    let notes = (0..n)
        .map(|i| note(&format!("n{i}"), "c0", -(i as i64) * 60))
        .collect();
    app.update(fetched(0, timeline.generation, notes_page(notes, 1, true)));
    app.update(Msg::Now(now()));
    app.set_author_email(0, Some("sara@example.com".to_string()));
    app
}

fn writer(n: usize) -> App {
    writer_with(caps(true, true, true, true), n)
}

fn ctrl(c: char) -> Msg {
    Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL))
}

fn back_tab() -> Msg {
    Msg::Key(KeyEvent::new(KeyCode::BackTab, KeyModifiers::SHIFT))
}

/// Types `text` key by key (a newline is Enter); returns every effect.
fn type_text(app: &mut App, text: &str) -> Vec<Effect> {
    let mut effects = Vec::new();
    for c in text.chars() {
        let msg = if c == '\n' {
            key(KeyCode::Enter)
        } else {
            ch(c)
        };
        effects.extend(app.update(msg));
    }
    effects
}

fn submits(effects: &[Effect]) -> Vec<(String, WriteOp)> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Submit { local_id, op, .. } => Some((local_id.clone(), op.clone())),
            _ => None,
        })
        .collect()
}

fn saved_drafts(effects: &[Effect]) -> Vec<Draft> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::SaveDraft(d) => Some(d.clone()),
            _ => None,
        })
        .collect()
}

fn outbox(app: &mut App, report: OutboxReport) -> Vec<Effect> {
    app.update(Msg::Outbox(Box::new(report)))
}

fn editor_value(app: &App, field: Field) -> Option<String> {
    app.editor().map(|e| e.value(field))
}

fn focus(app: &App) -> Option<Field> {
    app.editor().map(|e| e.focus)
}

fn status_text(app: &App) -> String {
    app.status().map(|s| s.text.clone()).unwrap_or_default()
}

fn mark_of(app: &App, id: &str) -> Option<EntryMark> {
    app.view()
        .and_then(|v| v.writes.about(id))
        .map(|w| w.mark())
}

/// Logs a 15-minute call with `text`; returns its local id and operation.
fn log_call(app: &mut App, text: &str) -> (String, WriteOp) {
    let mut effects = app.update(ch('c'));
    effects.extend(type_text(app, "15m"));
    effects.extend(app.update(key(KeyCode::Tab)));
    effects.extend(type_text(app, text));
    effects.extend(app.update(ctrl('s')));
    let mut sent = submits(&effects);
    assert_eq!(sent.len(), 1, "{effects:?}");
    sent.remove(0)
}

fn server_note(id: &str, op: &WriteOp) -> Note {
    let WriteOp::Create(new) = op else {
        return note(id, "c0", 0);
    };
    Note {
        id: id.to_string(),
        customer_id: Some(new.customer_id.clone()),
        kind: new.kind.clone(),
        author_name: Some("Sara Lee".to_string()),
        author_email: new.author_email.clone(),
        text: new.text.clone(),
        call_duration_s: new.call_duration_s,
        created_at: new.created_at,
        updated_at: None,
        subject: None,
        web_url: None,
        extras: Default::default(),
    }
}

fn outbox_item(id: i64, op: WriteOp, state: OutboxState, error: Option<&str>) -> OutboxItem {
    OutboxItem {
        id,
        account: "acme".to_string(),
        op,
        state,
        attempts: 1,
        next_attempt_at: None,
        last_error: error.map(str::to_string),
        created_at: now(),
    }
}

#[test]
fn logging_a_15_minute_call_takes_c_15m_tab_the_text_and_ctrl_s() {
    let mut app = writer(3);
    let mut effects = app.update(ch('c'));
    assert_eq!(focus(&app), Some(Field::Duration));
    effects.extend(type_text(&mut app, "15m"));
    effects.extend(app.update(key(KeyCode::Tab)));
    assert_eq!(focus(&app), Some(Field::Text));
    effects.extend(type_text(&mut app, "Renewal discussed"));
    effects.extend(app.update(ctrl('s')));

    let sent = submits(&effects);
    assert_eq!(sent.len(), 1, "{effects:?}");
    let (local_id, op) = &sent[0];
    assert_eq!(
        op,
        &WriteOp::Create(NewNote {
            customer_id: "c0".to_string(),
            kind: NoteKind::Call,
            author_email: Some("sara@example.com".to_string()),
            text: "Renewal discussed".to_string(),
            call_duration_s: Some(900),
            created_at: now(),
        })
    );
    assert!(app.editor().is_none(), "saving closes the editor");
    // The call is in the timeline at once, selected, marked as sending.
    assert_eq!(selected_note(&app), Some(local_id.as_str()));
    assert_eq!(note_ids(&app).first().copied(), Some(local_id.as_str()));
    assert_eq!(mark_of(&app, local_id), Some(EntryMark::Sending));
}

#[test]
fn created_at_is_sent_in_whole_seconds() {
    let mut app = writer(1);
    let with_fraction = Timestamp::new(1_700_000_600, 700_000_000).unwrap_or(now());
    app.update(Msg::Now(with_fraction));
    let (_, op) = log_call(&mut app, "x");
    let WriteOp::Create(new) = op else {
        panic!("expected a create, got {op:?}");
    };
    assert_eq!(new.created_at, now());
}

#[test]
fn tab_and_shift_tab_go_through_the_shown_fields_in_order() {
    let mut app = writer(1);
    app.update(ch('c'));
    let mut order = vec![focus(&app)];
    for _ in 0..5 {
        app.update(key(KeyCode::Tab));
        order.push(focus(&app));
    }
    use Field::*;
    let expected = [Duration, Text, When, Author, Type, Duration];
    assert_eq!(order, expected.map(Some).to_vec());
    app.update(back_tab());
    assert_eq!(focus(&app), Some(Type));
    // A note has no duration: Type goes straight to Text, and back.
    app.update(ch(' '));
    assert_eq!(app.editor().map(|e| e.kind.clone()), Some(NoteKind::Note));
    app.update(key(KeyCode::Tab));
    assert_eq!(focus(&app), Some(Text));
    app.update(back_tab());
    assert_eq!(focus(&app), Some(Type));
}

#[test]
fn while_the_editor_is_open_browser_keys_are_typed() {
    let mut app = writer(2);
    app.update(ch('n'));
    let effects = type_text(&mut app, "qjk?1 r");
    assert!(!app.should_quit());
    assert!(!app.help_open());
    assert!(submits(&effects).is_empty());
    assert_eq!(editor_value(&app, Field::Text).as_deref(), Some("qjk?1 r"));
    // A tab never reaches the text: Tab moves on to the next field.
    app.update(key(KeyCode::Tab));
    assert_eq!(focus(&app), Some(Field::When));
    assert_eq!(editor_value(&app, Field::Text).as_deref(), Some("qjk?1 r"));
}

#[test]
fn a_bad_duration_is_refused_inline_and_nothing_is_sent() {
    for bad in ["abc", "0", "-5m", "25h", "1:99"] {
        let mut app = writer(1);
        app.update(ch('c'));
        let mut effects = type_text(&mut app, bad);
        effects.extend(app.update(key(KeyCode::Tab)));
        effects.extend(type_text(&mut app, "text"));
        effects.extend(app.update(ctrl('s')));
        assert!(submits(&effects).is_empty(), "{bad}: {effects:?}");
        let editor = app.editor();
        assert!(editor.is_some(), "{bad}: the editor stays open");
        let check = editor.map(|e| e.check(app.now, &app.tz));
        let shown = editor
            .zip(check.as_ref())
            .and_then(|(e, c)| e.shown_error(Field::Duration, c).map(str::to_string));
        assert!(shown.is_some(), "{bad}: no error under Duration");
        assert!(
            app.status()
                .is_some_and(|s| s.error && s.text.contains("Duration"))
        );
    }
}

#[test]
fn a_time_in_the_future_or_garbage_is_refused() {
    for bad in ["+2h", "tomorrow-ish", "25:00"] {
        let mut app = writer(1);
        app.update(ch('n'));
        let mut effects = type_text(&mut app, "hello");
        effects.extend(app.update(key(KeyCode::Tab)));
        assert_eq!(focus(&app), Some(Field::When));
        for _ in 0.."now".len() {
            effects.extend(app.update(key(KeyCode::Backspace)));
        }
        effects.extend(type_text(&mut app, bad));
        effects.extend(app.update(ctrl('s')));
        assert!(submits(&effects).is_empty(), "{bad}");
        assert!(
            app.status()
                .is_some_and(|s| s.error && s.text.contains("When")),
            "{bad}: {:?}",
            app.status()
        );
    }
}

#[test]
fn an_empty_note_is_refused_but_a_call_needs_no_text() {
    let mut app = writer(1);
    app.update(ch('n'));
    assert!(submits(&app.update(ctrl('s'))).is_empty());
    assert!(app.status().is_some_and(|s| s.text.contains("Text")));
    app.update(key(KeyCode::Esc));

    app.update(ch('c'));
    type_text(&mut app, "5");
    let sent = submits(&app.update(ctrl('s')));
    assert_eq!(sent.len(), 1);
    assert!(matches!(&sent[0].1, WriteOp::Create(n) if n.call_duration_s == Some(300)));
}

#[test]
fn the_summary_says_what_will_be_sent() {
    let mut app = writer(1);
    app.update(ch('c'));
    type_text(&mut app, "15m");
    let summary = app
        .editor()
        .map(|e| e.summary(&e.check(app.now, &app.tz), app.now, &app.tz));
    assert_eq!(
        summary.as_deref(),
        Some("call · 15m · as sara@example.com · now")
    );
}

#[test]
fn every_change_saves_the_draft_with_the_time_of_the_change() {
    let mut app = writer(1);
    app.update(ch('n'));
    let effects = type_text(&mut app, "hi");
    let drafts = saved_drafts(&effects);
    assert_eq!(drafts.len(), 2, "one save per keystroke");
    let last = &drafts[1];
    assert_eq!(last.text, "hi");
    assert_eq!(last.account, "acme");
    assert_eq!(last.customer_id, "c0");
    assert_eq!(last.note_id, None);
    assert_eq!(last.kind, "note");
    assert_eq!(last.when, "now");
    assert_eq!(last.author, "sara@example.com");
    assert_eq!(last.updated_at, now());
    // Moving between fields changes nothing worth saving.
    assert!(saved_drafts(&app.update(key(KeyCode::Tab))).is_empty());
}

#[test]
fn esc_keeps_the_draft_and_reopening_brings_it_back() {
    let mut app = writer(1);
    app.update(ch('c'));
    type_text(&mut app, "1h");
    app.update(key(KeyCode::Tab));
    type_text(&mut app, "half\nway");
    let effects = app.update(key(KeyCode::Esc));
    assert!(app.editor().is_none());
    assert!(
        !effects
            .iter()
            .any(|e| matches!(e, Effect::DeleteDraft { .. })),
        "{effects:?}"
    );
    assert!(status_text(&app).contains("Draft kept"));

    app.update(ch('n'));
    assert_eq!(
        editor_value(&app, Field::Text).as_deref(),
        Some("half\nway")
    );
    assert_eq!(editor_value(&app, Field::Duration).as_deref(), Some("1h"));
    assert_eq!(app.editor().map(|e| e.kind.clone()), Some(NoteKind::Call));
}

#[test]
fn closing_an_editor_where_nothing_was_typed_leaves_no_draft() {
    let mut app = writer(1);
    app.update(ch('n'));
    type_text(&mut app, "x");
    app.update(key(KeyCode::Backspace));
    let effects = app.update(key(KeyCode::Esc));
    assert!(
        effects
            .iter()
            .any(|e| matches!(e, Effect::DeleteDraft { customer_id, .. } if customer_id == "c0")),
        "{effects:?}"
    );
    app.update(ch('c'));
    assert_eq!(editor_value(&app, Field::Text).as_deref(), Some(""));
}

#[test]
fn drafts_found_at_start_are_announced_and_n_continues_them() {
    let mut app = writer(1);
    let draft = |customer: &str, kind: &str, text: &str| Draft {
        account: "acme".to_string(),
        customer_id: customer.to_string(),
        note_id: None,
        kind: kind.to_string(),
        duration: "1h3".to_string(),
        when: "yesterday 14:00".to_string(),
        author: "adam@example.com".to_string(),
        text: text.to_string(),
        updated_at: now(),
    };
    outbox(
        &mut app,
        OutboxReport::Drafts {
            account: 0,
            drafts: vec![
                draft("c0", "call", "left at 1h3"),
                draft("c1", "note", "other"),
            ],
        },
    );
    assert!(
        status_text(&app).contains("2 drafts restored"),
        "{:?}",
        app.status()
    );
    let effects = app.update(ch('n'));
    assert!(effects.is_empty(), "restoring is synchronous: {effects:?}");
    let editor = app.editor();
    assert_eq!(editor.map(|e| e.kind.clone()), Some(NoteKind::Call));
    assert_eq!(
        editor_value(&app, Field::Text).as_deref(),
        Some("left at 1h3")
    );
    assert_eq!(editor_value(&app, Field::Duration).as_deref(), Some("1h3"));
    assert_eq!(
        editor_value(&app, Field::When).as_deref(),
        Some("yesterday 14:00")
    );
    assert_eq!(
        editor_value(&app, Field::Author).as_deref(),
        Some("adam@example.com")
    );
}

#[test]
fn c_on_a_note_draft_makes_it_a_call_and_keeps_the_text() {
    let mut app = writer(1);
    app.update(ch('n'));
    type_text(&mut app, "started as a note");
    app.update(key(KeyCode::Esc));
    let effects = app.update(ch('c'));
    assert_eq!(app.editor().map(|e| e.kind.clone()), Some(NoteKind::Call));
    assert_eq!(focus(&app), Some(Field::Duration));
    assert_eq!(
        editor_value(&app, Field::Text).as_deref(),
        Some("started as a note")
    );
    let drafts = saved_drafts(&effects);
    assert_eq!(drafts.first().map(|d| d.kind.as_str()), Some("call"));
}

#[test]
fn submitting_forgets_the_draft_so_n_starts_afresh() {
    let mut app = writer(1);
    log_call(&mut app, "done");
    app.update(ch('n'));
    assert_eq!(editor_value(&app, Field::Text).as_deref(), Some(""));
    assert_eq!(app.editor().map(|e| e.kind.clone()), Some(NoteKind::Note));
}

#[test]
fn ctrl_d_asks_first_then_y_discards_the_draft() {
    let mut app = writer(1);
    app.update(ch('n'));
    type_text(&mut app, "never mind");
    let effects = app.update(ctrl('d'));
    assert!(effects.is_empty());
    assert_eq!(app.confirm(), Some(&compose::Confirm::DiscardDraft));
    // Any key but y keeps it.
    app.update(ch('n'));
    assert!(app.confirm().is_none());
    assert_eq!(
        editor_value(&app, Field::Text).as_deref(),
        Some("never mind")
    );

    app.update(ctrl('d'));
    let effects = app.update(ch('y'));
    assert_eq!(
        effects,
        vec![Effect::DeleteDraft {
            account: "acme".to_string(),
            customer_id: "c0".to_string(),
            note_id: None,
        }]
    );
    assert!(app.editor().is_none());
    app.update(ch('n'));
    assert_eq!(editor_value(&app, Field::Text).as_deref(), Some(""));
}

#[test]
fn a_confirmed_note_replaces_the_optimistic_entry_in_place() {
    let mut app = writer(3);
    let (local_id, op) = log_call(&mut app, "Renewal");
    assert_eq!(note_ids(&app), vec![local_id.as_str(), "n0", "n1", "n2"]);
    outbox(
        &mut app,
        OutboxReport::Confirmed {
            account: 0,
            local_id: Some(local_id.clone()),
            op: op.clone(),
            note: Some(server_note("note_1", &op)),
        },
    );
    assert_eq!(note_ids(&app), vec!["note_1", "n0", "n1", "n2"]);
    assert_eq!(selected_note(&app), Some("note_1"));
    assert_eq!(mark_of(&app, "note_1"), None);
    assert!(app.view().is_some_and(|v| v.writes.items.is_empty()));
}

#[test]
fn a_queued_note_is_marked_unsent_counted_and_r_retries() {
    let mut app = writer(2);
    let (local_id, op) = log_call(&mut app, "Renewal");
    outbox(
        &mut app,
        OutboxReport::Queued {
            account: 0,
            local_id: Some(local_id.clone()),
            error: "ChartMogul did not answer in 20 s".to_string(),
        },
    );
    assert_eq!(mark_of(&app, &local_id), Some(EntryMark::Unsent));
    assert!(status_text(&app).starts_with("Saved locally, will retry: ChartMogul did not"));
    // The worker's list of unsent writes names the same write: still one entry.
    outbox(
        &mut app,
        OutboxReport::Unsent {
            account: 0,
            items: vec![outbox_item(9, op, OutboxState::Pending, Some("timeout"))],
        },
    );
    assert_eq!(note_ids(&app).len(), 3);
    assert_eq!(app.view().map(|v| v.writes.unsent()), Some(1));
    assert_eq!(mark_of(&app, &local_id), Some(EntryMark::Unsent));
    assert!(app.update(ch('r')).contains(&Effect::RetryOutbox));
}

#[test]
fn unsent_notes_from_before_a_restart_show_in_their_customers_timeline() {
    let mut app = writer(1);
    let op = WriteOp::Create(NewNote {
        customer_id: "c0".to_string(),
        kind: NoteKind::Note,
        author_email: None,
        text: "typed yesterday".to_string(),
        call_duration_s: None,
        created_at: later(-30),
    });
    outbox(
        &mut app,
        OutboxReport::Unsent {
            account: 0,
            items: vec![outbox_item(
                4,
                op.clone(),
                OutboxState::Unknown,
                Some("reset"),
            )],
        },
    );
    assert_eq!(note_ids(&app), vec!["outbox-4", "n0"]);
    assert_eq!(mark_of(&app, "outbox-4"), Some(EntryMark::Unsent));
    // Pending entries can't be edited or deleted yet, and the status line says why.
    app.update(key(KeyCode::Tab));
    assert_eq!(selected_note(&app), Some("n0"));
    app.update(ch('k'));
    assert_eq!(selected_note(&app), Some("outbox-4"));
    assert!(app.update(ch('e')).is_empty());
    assert!(app.editor().is_none());
    assert!(
        status_text(&app).contains("isn't on ChartMogul yet"),
        "{:?}",
        app.status()
    );
    assert!(app.update(ch('d')).is_empty());
    assert!(app.confirm().is_none());
    // Confirmed by a later retry (no local id): the server's note takes its place.
    outbox(
        &mut app,
        OutboxReport::Confirmed {
            account: 0,
            local_id: None,
            op: op.clone(),
            note: Some(server_note("note_9", &op)),
        },
    );
    assert_eq!(note_ids(&app), vec!["note_9", "n0"]);
}

#[test]
fn a_rejected_note_reopens_the_editor_with_its_text_and_the_servers_message() {
    let mut app = writer(2);
    let (local_id, op) = log_call(&mut app, "Renewal 🎉\nquote Monday");
    let effects = outbox(
        &mut app,
        OutboxReport::Rejected {
            account: 0,
            local_id: Some(local_id.clone()),
            outbox_id: 5,
            op: op.clone(),
            error: "ChartMogul refused it (422): created_at must be in the past".to_string(),
        },
    );
    assert!(submits(&effects).is_empty(), "no blind retry");
    let editor = app.editor();
    assert_eq!(
        editor.and_then(|e| e.server_error.clone()).as_deref(),
        Some("ChartMogul refused it (422): created_at must be in the past")
    );
    assert_eq!(
        editor_value(&app, Field::Text).as_deref(),
        Some("Renewal 🎉\nquote Monday")
    );
    assert_eq!(editor_value(&app, Field::Duration).as_deref(), Some("15m"));
    assert_eq!(
        editor_value(&app, Field::When),
        Some(when_input(now(), &TimeZone::UTC))
    );
    // The text is a draft again, and the optimistic entry is gone.
    assert_eq!(saved_drafts(&effects).len(), 1);
    // The refused copy leaves the outbox, after the draft is saved, so a restart cannot
    // bring it back as a second copy.
    let draft_at = effects
        .iter()
        .position(|e| matches!(e, Effect::SaveDraft(_)));
    let discard_at = effects
        .iter()
        .position(|e| *e == Effect::DiscardOutbox { outbox_id: 5 });
    assert!(
        matches!((draft_at, discard_at), (Some(d), Some(x)) if d < x),
        "{effects:?}"
    );
    assert_eq!(note_ids(&app), vec!["n0", "n1"]);
    // The outbox still lists the refused write: it must not come back as a second copy.
    outbox(
        &mut app,
        OutboxReport::Unsent {
            account: 0,
            items: vec![outbox_item(5, op, OutboxState::Rejected, Some("422"))],
        },
    );
    assert_eq!(note_ids(&app), vec!["n0", "n1"]);
    // Sending it again works like any save.
    let sent = submits(&app.update(ctrl('s')));
    assert_eq!(sent.len(), 1);
}

#[test]
fn the_stopwatch_times_the_call_and_prefills_its_log() {
    let mut app = writer(1);
    app.update(ch('C'));
    assert!(app.editor().is_none());
    let started = app
        .stopwatch()
        .map(|s| (s.customer_id.clone(), s.started_at));
    assert_eq!(started, Some(("c0".to_string(), now())));
    app.update(Msg::Now(later(252)));
    assert_eq!(
        app.stopwatch().map(|s| s.clock(app.now)).as_deref(),
        Some("04:12")
    );
    // Moving to another customer doesn't change whose call it is.
    app.update(ch('j'));
    let effects = app.update(ch('C'));
    assert!(app.stopwatch().is_none());
    let editor = app.editor();
    assert_eq!(editor.map(|e| e.customer_id.as_str()), Some("c0"));
    assert_eq!(editor.map(|e| e.kind.clone()), Some(NoteKind::Call));
    assert_eq!(focus(&app), Some(Field::Text));
    assert_eq!(editor_value(&app, Field::Duration).as_deref(), Some("5m"));
    assert_eq!(
        editor_value(&app, Field::When),
        Some(when_input(now(), &TimeZone::UTC))
    );
    assert_eq!(
        saved_drafts(&effects).len(),
        1,
        "the measured time is kept at once"
    );
    type_text(&mut app, "Quick check-in");
    let sent = submits(&app.update(ctrl('s')));
    assert_eq!(sent.len(), 1);
    let WriteOp::Create(new) = &sent[0].1 else {
        panic!("expected a create: {sent:?}");
    };
    assert_eq!(new.call_duration_s, Some(300));
    assert_eq!(new.created_at, now());
    assert_eq!(new.customer_id, "c0");
}

#[test]
fn a_short_call_counts_as_one_minute() {
    let mut app = writer(1);
    app.update(ch('C'));
    app.update(Msg::Now(later(10)));
    app.update(ch('C'));
    assert_eq!(editor_value(&app, Field::Duration).as_deref(), Some("1m"));
}

#[test]
fn editing_sends_only_the_changed_fields_and_shows_the_new_text_at_once() {
    let mut app = writer(2);
    app.update(key(KeyCode::Tab));
    assert_eq!(selected_note(&app), Some("n0"));
    app.update(ch('e'));
    assert_eq!(
        editor_value(&app, Field::Text).as_deref(),
        Some("text of n0")
    );
    assert_eq!(focus(&app), Some(Field::Text));
    type_text(&mut app, " and more");
    let sent = submits(&app.update(ctrl('s')));
    assert_eq!(
        sent.iter().map(|(_, op)| op.clone()).collect::<Vec<_>>(),
        vec![WriteOp::Update {
            note_id: "n0".to_string(),
            customer_id: "c0".to_string(),
            patch: NotePatch {
                text: Some("text of n0 and more".to_string()),
                ..NotePatch::default()
            },
        }]
    );
    let shown = app.view().and_then(|v| v.timeline.notes.first().cloned());
    assert_eq!(
        shown.map(|n| n.text).as_deref(),
        Some("text of n0 and more")
    );
    assert_eq!(mark_of(&app, "n0"), Some(EntryMark::Saving));
}

#[test]
fn an_edit_that_changes_nothing_sends_nothing() {
    let mut app = writer(1);
    app.update(key(KeyCode::Tab));
    app.update(ch('e'));
    let effects = app.update(ctrl('s'));
    assert!(submits(&effects).is_empty());
    assert!(app.editor().is_none());
    assert!(status_text(&app).contains("No changes"));
}

#[test]
fn a_refused_edit_puts_the_old_text_back_and_reopens_the_edit() {
    let mut app = writer(1);
    app.update(key(KeyCode::Tab));
    app.update(ch('e'));
    type_text(&mut app, "!");
    let sent = submits(&app.update(ctrl('s')));
    let (local_id, op) = sent[0].clone();
    outbox(
        &mut app,
        OutboxReport::Rejected {
            account: 0,
            local_id: Some(local_id),
            outbox_id: 2,
            op,
            error: "no".to_string(),
        },
    );
    let shown = app.view().and_then(|v| v.timeline.notes.first().cloned());
    assert_eq!(shown.map(|n| n.text).as_deref(), Some("text of n0"));
    assert!(app.editor().is_some_and(|e| e.is_edit()));
    assert_eq!(
        editor_value(&app, Field::Text).as_deref(),
        Some("text of n0!")
    );
}

#[test]
fn d_then_y_deletes_the_note_and_any_other_key_keeps_it() {
    let mut app = writer(2);
    app.update(key(KeyCode::Tab));
    assert!(app.update(ch('d')).is_empty());
    assert!(app.confirm().is_some());
    assert!(
        app.update(ch('n')).is_empty(),
        "n answers no, it opens nothing"
    );
    assert!(app.confirm().is_none());
    assert!(app.editor().is_none());
    assert_eq!(note_ids(&app), vec!["n0", "n1"]);

    app.update(ch('d'));
    let sent = submits(&app.update(ch('y')));
    assert_eq!(sent.len(), 1);
    let (local_id, op) = sent[0].clone();
    assert_eq!(
        op,
        WriteOp::Delete {
            note_id: "n0".to_string(),
            customer_id: "c0".to_string(),
        }
    );
    assert_eq!(mark_of(&app, "n0"), Some(EntryMark::Deleting));
    outbox(
        &mut app,
        OutboxReport::Confirmed {
            account: 0,
            local_id: Some(local_id),
            op,
            note: None,
        },
    );
    assert_eq!(note_ids(&app), vec!["n1"]);
}

#[test]
fn keys_a_read_only_account_cannot_use_say_why() {
    let mut app = writer_with(caps(false, false, false, false), 1);
    app.update(key(KeyCode::Tab));
    for (c, why) in [
        ('n', "ChartMogul account 'acme' is read-only"),
        ('c', "ChartMogul account 'acme' is read-only"),
        ('C', "ChartMogul account 'acme' is read-only"),
        ('e', "ChartMogul does not let us edit notes"),
        ('d', "ChartMogul does not let us delete notes"),
    ] {
        assert!(app.update(ch(c)).is_empty(), "{c}");
        assert!(app.editor().is_none() && app.confirm().is_none(), "{c}");
        assert!(app.stopwatch().is_none(), "{c}");
        assert!(
            status_text(&app).starts_with(why),
            "{c}: {:?}",
            app.status()
        );
    }
}

#[test]
fn an_account_without_calls_writes_notes_only() {
    let mut app = writer_with(caps(true, false, true, true), 1);
    app.update(ch('c'));
    assert!(app.editor().is_none());
    assert!(status_text(&app).contains("has no call logs"));
    app.update(ch('n'));
    app.update(back_tab());
    assert_eq!(focus(&app), Some(Field::Type));
    app.update(ch(' '));
    assert_eq!(app.editor().map(|e| e.kind.clone()), Some(NoteKind::Note));
    assert!(status_text(&app).contains("has no call logs"));
}

#[test]
fn pasted_text_loses_escape_sequences_but_keeps_emoji_and_newlines() {
    let mut app = writer(1);
    app.update(ch('n'));
    let effects = app.update(Msg::Paste(
        "Hi 👋 \u{1b}[31mred\u{1b}[0m\r\nsecond line\u{7}\u{1b}]52;c;Zm9v\u{7} é".to_string(),
    ));
    let expected = "Hi 👋 red\nsecond line é";
    assert_eq!(editor_value(&app, Field::Text).as_deref(), Some(expected));
    assert_eq!(
        saved_drafts(&effects).first().map(|d| d.text.as_str()),
        Some(expected)
    );
    let sent = submits(&app.update(ctrl('s')));
    assert!(matches!(&sent[0].1, WriteOp::Create(n) if n.text == expected));
}

#[test]
fn a_paste_into_a_one_line_field_stays_on_one_line() {
    let mut app = writer(1);
    app.update(ch('c'));
    app.update(Msg::Paste("1h\n30m".to_string()));
    assert_eq!(
        editor_value(&app, Field::Duration).as_deref(),
        Some("1h 30m")
    );
}

#[test]
fn an_unconfirmed_note_stays_in_the_timeline_through_a_refresh() {
    let mut app = writer(1);
    let (local_id, _) = log_call(&mut app, "first");
    // Refreshing the timeline brings the server's list, without our unconfirmed call:
    // it stays shown until the worker says what became of it.
    let effects = app.update(ch('r'));
    let generation = effects.iter().find_map(|e| match e {
        Effect::Fetch(r) if r.kind.slot() == FetchSlot::Timeline => Some(r.generation),
        _ => None,
    });
    let generation = generation.unwrap_or_default();
    app.update(fetched(
        0,
        generation,
        notes_page(vec![note("n0", "c0", 0)], 1, true),
    ));
    assert_eq!(note_ids(&app), vec![local_id.as_str(), "n0"]);
}

#[test]
fn bidi_overrides_and_control_characters_are_not_typed() {
    let mut app = writer(1);
    app.update(ch('n'));
    let effects = type_text(&mut app, "a\u{202e}b\u{7}c");
    assert_eq!(editor_value(&app, Field::Text).as_deref(), Some("abc"));
    assert_eq!(
        saved_drafts(&effects).len(),
        3,
        "only real characters save the draft"
    );
}

#[test]
fn editing_a_note_older_than_when_accepts_keeps_its_time() {
    let mut app = writer(1);
    let old = Timestamp::from_second(1_000_000_000).unwrap_or(Timestamp::UNIX_EPOCH);
    if let Some(note) = app.views[0].timeline.notes.first_mut() {
        note.created_at = old;
    }
    app.update(key(KeyCode::Tab));
    app.update(ch('e'));
    type_text(&mut app, "!");
    let sent = submits(&app.update(ctrl('s')));
    let patch = match sent.first().map(|(_, op)| op) {
        Some(WriteOp::Update { patch, .. }) => Some(patch.clone()),
        _ => None,
    };
    assert_eq!(
        patch,
        Some(NotePatch {
            text: Some("text of n0!".to_string()),
            ..NotePatch::default()
        })
    );
}

#[test]
fn a_refusal_never_overwrites_what_is_being_typed_and_e_reopens_it_later() {
    let mut app = writer(1);
    let (local_id, op) = log_call(&mut app, "the refused call");
    // The agent has started the next note for the same customer.
    app.update(ch('n'));
    type_text(&mut app, "next");
    let effects = outbox(
        &mut app,
        OutboxReport::Rejected {
            account: 0,
            local_id: Some(local_id.clone()),
            outbox_id: 6,
            op,
            error: "422 text too long".to_string(),
        },
    );
    assert!(saved_drafts(&effects).is_empty(), "{effects:?}");
    assert_eq!(editor_value(&app, Field::Text).as_deref(), Some("next"));
    assert!(
        status_text(&app).contains("e on the entry marked ✗"),
        "{:?}",
        app.status()
    );
    assert_eq!(mark_of(&app, &local_id), Some(EntryMark::Refused));

    // Once the agent is done with that note, e on the refused entry brings it back.
    app.update(ctrl('s'));
    let position = note_ids(&app).iter().position(|id| *id == local_id);
    assert!(position.is_some(), "{:?}", note_ids(&app));
    // Saving left the keyboard in the Timeline, on the new note.
    assert_eq!(app.focus(), Pane::Timeline);
    for _ in 0..note_ids(&app).len() {
        if selected_note(&app) != Some(local_id.as_str()) {
            app.update(ch('j'));
        }
    }
    assert_eq!(selected_note(&app), Some(local_id.as_str()));
    let effects = app.update(ch('e'));
    assert_eq!(
        editor_value(&app, Field::Text).as_deref(),
        Some("the refused call")
    );
    assert_eq!(
        app.editor().and_then(|e| e.server_error.clone()).as_deref(),
        Some("422 text too long")
    );
    assert_eq!(saved_drafts(&effects).len(), 1);
    assert!(!note_ids(&app).contains(&local_id.as_str()));
}

#[test]
fn deleting_a_note_also_drops_its_unfinished_edit() {
    let mut app = writer(2);
    app.update(key(KeyCode::Tab));
    app.update(ch('e'));
    type_text(&mut app, " (draft)");
    app.update(key(KeyCode::Esc));
    app.update(ch('d'));
    let effects = app.update(ch('y'));
    assert!(
        effects.contains(&Effect::DeleteDraft {
            account: "acme".to_string(),
            customer_id: "c0".to_string(),
            note_id: Some("n0".to_string()),
        }),
        "{effects:?}"
    );
    assert_eq!(submits(&effects).len(), 1);
}
