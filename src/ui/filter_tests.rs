//! Snapshots of finding things: the filter bar, the author picker, the account-wide feed,
//! highlighted matches and the freshness of the data in the status line.

use ratatui::crossterm::event::KeyCode;

use super::tests::{acme_notes, answer, at, browser, fetches, key, render};
use crate::app::{FetchEvent, Msg};

fn typed(app: &mut crate::app::App, text: &str) {
    for c in text.chars() {
        app.update(key(KeyCode::Char(c)));
    }
}

#[test]
fn filter_bar_with_a_query_and_its_count() {
    let (mut app, _) = browser(100, 24, acme_notes());
    app.update(Msg::Now(at("2026-11-22T12:00:00Z")));
    app.update(key(KeyCode::Tab));
    app.update(key(KeyCode::Char('/')));
    typed(&mut app, "author:sara renewal");
    insta::assert_snapshot!(render(&app, 100, 24));
}

#[test]
fn filter_kept_in_the_title_and_matches_highlighted_in_the_note() {
    let (mut app, _) = browser(100, 30, acme_notes());
    app.update(Msg::Now(at("2026-11-22T12:00:00Z")));
    app.update(key(KeyCode::Tab));
    app.update(key(KeyCode::Char('/')));
    typed(&mut app, "type:call quote");
    app.update(key(KeyCode::Enter));
    insta::assert_snapshot!(render(&app, 100, 30));
}

#[test]
fn author_picker_over_the_panes() {
    let (mut app, _) = browser(100, 24, acme_notes());
    app.update(key(KeyCode::Tab));
    app.update(key(KeyCode::Char('a')));
    insta::assert_snapshot!(render(&app, 100, 24));
}

#[test]
fn account_wide_feed_names_each_rows_customer() {
    let (mut app, _) = browser(110, 20, acme_notes());
    let effects = app.update(key(KeyCode::Char('k')));
    let mut notes = acme_notes();
    notes[1].customer_id = Some("globex".into());
    notes[2].customer_id = Some("hooli".into());
    for request in fetches(&effects) {
        answer(
            &mut app,
            &request,
            FetchEvent::NotesPage {
                notes: notes.clone(),
                pages: 1,
                done: true,
            },
        );
    }
    insta::assert_snapshot!(render(&app, 110, 20));
}

#[test]
fn offline_with_the_age_of_the_saved_data() {
    let (mut app, timeline) = browser(100, 20, acme_notes());
    app.update(Msg::Now(at("2026-11-22T12:00:00Z")));
    app.update(key(KeyCode::Char('r')));
    app.update(Msg::Now(at("2026-11-22T12:04:10Z")));
    let generation = app.view().map_or(0, |v| v.timeline.generation);
    if let Some(mut request) = timeline {
        request.generation = generation;
        answer(
            &mut app,
            &request,
            FetchEvent::Failed {
                error: "network error talking to ChartMogul: connection refused".into(),
                offline: true,
            },
        );
    }
    app.update(key(KeyCode::Esc));
    insta::assert_snapshot!(render(&app, 100, 20));
}
