//! The local store through its public interface: drafts, the outbox state machine, crash
//! recovery, migrations from an older schema, and files it must refuse without touching.

use std::path::{Path, PathBuf};

use crm_notes::model::{NewNote, NoteKind, NotePatch};
use crm_notes::store::{Draft, OutboxState, SCHEMA_VERSION, Store, StoreError, WriteOp};
use jiff::Timestamp;

fn at(s: &str) -> Timestamp {
    s.parse().expect("test time")
}

fn draft(customer: &str, note_id: Option<&str>, text: &str, updated_at: &str) -> Draft {
    Draft {
        account: "acme".into(),
        customer_id: customer.into(),
        note_id: note_id.map(str::to_string),
        kind: "call".into(),
        duration: "1h3".into(),
        when: "yesterday 14:".into(),
        author: "sara@example.com".into(),
        text: text.into(),
        updated_at: at(updated_at),
    }
}

fn new_call(text: &str) -> NewNote {
    NewNote {
        customer_id: "cus_1".into(),
        kind: NoteKind::Call,
        author_email: Some("sara@example.com".into()),
        text: text.into(),
        call_duration_s: Some(900),
        created_at: at("2026-11-20T14:02:00.123456789Z"),
    }
}

fn create(text: &str) -> WriteOp {
    WriteOp::Create(new_call(text))
}

fn temp_db() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("crm-notes.db");
    (dir, path)
}

fn is_one_line_naming(message: &str, path: &Path) -> bool {
    !message.contains('\n') && message.contains(&path.display().to_string())
}

#[test]
fn a_saved_draft_comes_back_exactly_after_reopening() {
    let (_dir, path) = temp_db();
    let saved = draft("cus_1", None, "Renewal discussed", "2026-11-20T14:02:03.5Z");
    Store::open(&path)
        .expect("open")
        .save_draft(&saved)
        .expect("save");

    let store = Store::open(&path).expect("reopen");
    assert_eq!(
        store.draft("acme", "cus_1", None).expect("read"),
        Some(saved)
    );
    assert_eq!(store.path(), Some(path.as_path()));
}

#[test]
fn saving_a_draft_again_replaces_it_instead_of_adding_another() {
    let store = Store::open_in_memory().expect("open");
    store
        .save_draft(&draft("cus_1", None, "Renew", "2026-11-20T14:00:00Z"))
        .expect("save");
    let newer = draft("cus_1", None, "Renewal discussed", "2026-11-20T14:00:01Z");
    store.save_draft(&newer).expect("save again");

    assert_eq!(store.drafts("acme").expect("list"), vec![newer]);
}

#[test]
fn a_new_note_draft_and_edit_drafts_for_the_same_customer_are_kept_apart() {
    let store = Store::open_in_memory().expect("open");
    let new_note = draft("cus_1", None, "new", "2026-11-20T14:00:00Z");
    let edit = draft("cus_1", Some("note_9"), "edit", "2026-11-20T14:00:01Z");
    // An empty note id is still an edit, not the new-note draft.
    let odd_edit = draft("cus_1", Some(""), "odd edit", "2026-11-20T14:00:02Z");
    for d in [&new_note, &edit, &odd_edit] {
        store.save_draft(d).expect("save");
    }

    assert_eq!(
        store.draft("acme", "cus_1", None).expect("read"),
        Some(new_note)
    );
    assert_eq!(
        store.draft("acme", "cus_1", Some("note_9")).expect("read"),
        Some(edit)
    );
    assert_eq!(
        store.draft("acme", "cus_1", Some("")).expect("read"),
        Some(odd_edit)
    );
    assert_eq!(store.draft("acme", "cus_2", None).expect("read"), None);
}

#[test]
fn drafts_are_listed_newest_first_and_only_for_their_account() {
    let store = Store::open_in_memory().expect("open");
    let old = draft("cus_1", None, "old", "2026-11-20T14:00:00Z");
    // Half a second later: variable-width fractions would sort this before `old`.
    let newest = draft("cus_2", None, "newest", "2026-11-20T14:00:00.5Z");
    let middle = draft("cus_3", Some("n1"), "middle", "2026-11-20T14:00:00.25Z");
    let mut other_account = draft("cus_1", None, "elsewhere", "2026-11-21T00:00:00Z");
    other_account.account = "club".into();
    for d in [&old, &newest, &middle, &other_account] {
        store.save_draft(d).expect("save");
    }

    assert_eq!(
        store.drafts("acme").expect("list"),
        vec![newest, middle, old]
    );
    assert_eq!(store.drafts("club").expect("list"), vec![other_account]);
}

#[test]
fn deleting_a_draft_removes_only_that_draft() {
    let store = Store::open_in_memory().expect("open");
    let new_note = draft("cus_1", None, "new", "2026-11-20T14:00:00Z");
    let edit = draft("cus_1", Some("note_9"), "edit", "2026-11-20T14:00:01Z");
    store.save_draft(&new_note).expect("save");
    store.save_draft(&edit).expect("save");

    store.delete_draft("acme", "cus_1", None).expect("delete");
    // Deleting it again is harmless: the outcome is the same.
    store
        .delete_draft("acme", "cus_1", None)
        .expect("delete again");

    assert_eq!(store.drafts("acme").expect("list"), vec![edit]);
}

#[test]
fn unicode_emoji_newlines_and_nuls_round_trip_byte_exactly() {
    let (_dir, path) = temp_db();
    let text = "Grüße 👋🏽 — 東京\nline two\r\n\ttabbed\0after a NUL\u{202e}bidi\u{feff}";
    let mut typed = draft("cus_ü\0x", Some("nøte\n1"), text, "2026-11-20T14:00:00Z");
    typed.author = "zoë@example.com\0".into();
    let op = create(text);
    let id = {
        let store = Store::open(&path).expect("open");
        store.save_draft(&typed).expect("save");
        store
            .enqueue("acme", &op, at("2026-11-20T14:00:00Z"))
            .expect("enqueue")
            .id
    };

    let store = Store::open(&path).expect("reopen");
    let back = store
        .draft("acme", "cus_ü\0x", Some("nøte\n1"))
        .expect("read")
        .expect("draft present");
    assert_eq!(back.text.as_bytes(), text.as_bytes());
    assert_eq!(back, typed);
    assert_eq!(store.outbox_item(id).expect("read").expect("item").op, op);
}

#[test]
fn every_kind_of_write_round_trips_through_the_outbox() {
    let (_dir, path) = temp_db();
    let ops = vec![
        create("a call"),
        WriteOp::Create(NewNote {
            customer_id: "cus_2".into(),
            kind: NoteKind::Other("Meeting".into()),
            author_email: None,
            text: String::new(),
            call_duration_s: None,
            created_at: at("2026-11-20T14:02:00Z"),
        }),
        WriteOp::Create(NewNote {
            kind: NoteKind::Note,
            call_duration_s: None,
            ..new_call("plain note")
        }),
        WriteOp::Update {
            note_id: "note_9".into(),
            customer_id: "cus_1".into(),
            patch: NotePatch {
                text: Some("fixed typo".into()),
                call_duration_s: Some(60),
                created_at: Some(at("2026-11-19T08:00:00.000000001Z")),
                author_email: None,
            },
        },
        WriteOp::Update {
            note_id: "note_9".into(),
            customer_id: "cus_1".into(),
            patch: NotePatch::default(),
        },
        WriteOp::Delete {
            note_id: "note_8".into(),
            customer_id: "cus_1".into(),
        },
    ];
    {
        let store = Store::open(&path).expect("open");
        for op in &ops {
            store
                .enqueue("acme", op, at("2026-11-20T14:00:00Z"))
                .expect("enqueue");
        }
    }

    let store = Store::open(&path).expect("reopen");
    let back: Vec<WriteOp> = store
        .outbox("acme")
        .expect("list")
        .into_iter()
        .map(|i| i.op)
        .collect();
    assert_eq!(back, ops);
}

#[test]
fn enqueued_writes_are_pending_and_listed_oldest_first_per_account() {
    let store = Store::open_in_memory().expect("open");
    let created = at("2026-11-20T14:00:00.000000007Z");
    let first = store
        .enqueue("acme", &create("first"), created)
        .expect("enqueue");
    let other = store
        .enqueue("club", &create("other"), created)
        .expect("enqueue");
    let second = store
        .enqueue("acme", &create("second"), created)
        .expect("enqueue");

    assert_eq!(first.state, OutboxState::Pending);
    assert_eq!(first.attempts, 0);
    assert_eq!(first.created_at, created);
    assert_eq!(
        (first.next_attempt_at, first.last_error.as_deref()),
        (None, None)
    );
    assert_eq!(store.outbox("acme").expect("list"), vec![first, second]);
    assert_eq!(store.outbox("club").expect("list"), vec![other]);
}

#[test]
fn sending_counts_an_attempt_and_a_transient_failure_returns_it_to_pending_with_its_error() {
    let store = Store::open_in_memory().expect("open");
    let id = store
        .enqueue("acme", &create("x"), at("2026-11-20T14:00:00Z"))
        .expect("enqueue")
        .id;

    let sending = store
        .transition(id, OutboxState::Sending, None, None)
        .expect("send");
    assert_eq!((sending.state, sending.attempts), (OutboxState::Sending, 1));

    let retry_at = at("2026-11-20T14:00:30.250000001Z");
    let pending = store
        .transition(
            id,
            OutboxState::Pending,
            Some("HTTP 503 from ChartMogul"),
            Some(retry_at),
        )
        .expect("back to pending");
    assert_eq!(pending.state, OutboxState::Pending);
    assert_eq!(pending.attempts, 1);
    assert_eq!(
        pending.last_error.as_deref(),
        Some("HTTP 503 from ChartMogul")
    );
    assert_eq!(pending.next_attempt_at, Some(retry_at));
    assert_eq!(store.outbox_item(id).expect("read"), Some(pending));

    let again = store
        .transition(id, OutboxState::Sending, None, None)
        .expect("send again");
    assert_eq!(again.attempts, 2);
}

#[test]
fn an_unknown_item_cannot_be_resent_until_reconciled() {
    let store = Store::open_in_memory().expect("open");
    let id = store
        .enqueue("acme", &create("x"), at("2026-11-20T14:00:00Z"))
        .expect("enqueue")
        .id;
    store
        .transition(id, OutboxState::Sending, None, None)
        .expect("send");
    let unknown = store
        .transition(
            id,
            OutboxState::Unknown,
            Some("timed out after sending"),
            None,
        )
        .expect("unknown");

    let err = store
        .transition(id, OutboxState::Sending, None, None)
        .expect_err("re-sending an unknown write must be refused");
    assert!(matches!(
        err,
        StoreError::InvalidTransition {
            from: OutboxState::Unknown,
            to: OutboxState::Sending,
            ..
        }
    ));
    assert_eq!(store.outbox_item(id).expect("read"), Some(unknown));

    // Reconciliation found nothing on the server: it may be sent again.
    store
        .transition(id, OutboxState::Pending, None, None)
        .expect("reconciled");
    let resent = store
        .transition(id, OutboxState::Sending, None, None)
        .expect("send");
    assert_eq!(resent.attempts, 2);
}

#[test]
fn an_invalid_transition_is_an_error_and_leaves_the_item_unchanged() {
    let store = Store::open_in_memory().expect("open");
    let item = store
        .enqueue("acme", &create("x"), at("2026-11-20T14:00:00Z"))
        .expect("enqueue");

    for to in [
        OutboxState::Pending,
        OutboxState::Unknown,
        OutboxState::Rejected,
    ] {
        let err = store
            .transition(item.id, to, Some("nope"), Some(at("2026-11-21T00:00:00Z")))
            .expect_err("not allowed from pending");
        assert!(!err.to_string().contains('\n'));
        assert!(err.to_string().contains("pending"), "{err}");
    }
    assert_eq!(store.outbox_item(item.id).expect("read"), Some(item));
}

#[test]
fn a_rejected_write_is_kept_until_the_user_edits_and_retries_it() {
    let store = Store::open_in_memory().expect("open");
    let id = store
        .enqueue("acme", &create("x"), at("2026-11-20T14:00:00Z"))
        .expect("enqueue")
        .id;
    store
        .transition(id, OutboxState::Sending, None, None)
        .expect("send");
    let rejected = store
        .transition(
            id,
            OutboxState::Rejected,
            Some("422: created_at is in the future"),
            None,
        )
        .expect("rejected");
    assert_eq!(
        rejected.last_error.as_deref(),
        Some("422: created_at is in the future")
    );
    // Never retried automatically: only Pending leads back to Sending.
    assert!(
        store
            .transition(id, OutboxState::Sending, None, None)
            .is_err()
    );

    let edited = create("x, with the time fixed");
    let replaced = store.replace_op(id, &edited).expect("edit");
    assert_eq!(
        (replaced.op, replaced.state),
        (edited, OutboxState::Rejected)
    );
    let retried = store
        .transition(id, OutboxState::Pending, None, None)
        .expect("retry");
    assert_eq!(retried.last_error, None);
}

#[test]
fn a_write_that_may_be_on_the_server_cannot_be_edited_or_discarded() {
    let store = Store::open_in_memory().expect("open");
    let original = create("x");
    let id = store
        .enqueue("acme", &original, at("2026-11-20T14:00:00Z"))
        .expect("enqueue")
        .id;
    store
        .transition(id, OutboxState::Sending, None, None)
        .expect("send");
    for state in [OutboxState::Sending, OutboxState::Unknown] {
        if state == OutboxState::Unknown {
            store.transition(id, state, None, None).expect("unknown");
        }
        let err = store
            .replace_op(id, &create("changed"))
            .expect_err("edit refused");
        assert!(
            matches!(err, StoreError::NotAllowed { state: s, .. } if s == state),
            "{err}"
        );
        let err = store.discard(id).expect_err("discard refused");
        assert!(
            matches!(err, StoreError::NotAllowed { state: s, .. } if s == state),
            "{err}"
        );
    }
    assert_eq!(
        store
            .outbox_item(id)
            .expect("read")
            .expect("still there")
            .op,
        original
    );
}

#[test]
fn complete_removes_a_sending_or_unknown_write_but_refuses_one_never_sent() {
    let store = Store::open_in_memory().expect("open");
    let now = at("2026-11-20T14:00:00Z");
    let sent = store
        .enqueue("acme", &create("a"), now)
        .expect("enqueue")
        .id;
    let unknown = store
        .enqueue("acme", &create("b"), now)
        .expect("enqueue")
        .id;
    let pending = store
        .enqueue("acme", &create("c"), now)
        .expect("enqueue")
        .id;
    store
        .transition(sent, OutboxState::Sending, None, None)
        .expect("send");
    store
        .transition(unknown, OutboxState::Sending, None, None)
        .expect("send");
    store
        .transition(unknown, OutboxState::Unknown, None, None)
        .expect("unknown");

    store.complete(sent).expect("confirmed");
    store.complete(unknown).expect("found by reconciliation");
    let err = store.complete(pending).expect_err("never sent");
    assert!(
        matches!(
            err,
            StoreError::NotAllowed {
                state: OutboxState::Pending,
                ..
            }
        ),
        "{err}"
    );

    let left: Vec<i64> = store
        .outbox("acme")
        .expect("list")
        .iter()
        .map(|i| i.id)
        .collect();
    assert_eq!(left, vec![pending]);
}

#[test]
fn discard_drops_only_rejected_or_pending_writes() {
    let store = Store::open_in_memory().expect("open");
    let now = at("2026-11-20T14:00:00Z");
    let pending = store
        .enqueue("acme", &create("a"), now)
        .expect("enqueue")
        .id;
    let rejected = store
        .enqueue("acme", &create("b"), now)
        .expect("enqueue")
        .id;
    store
        .transition(rejected, OutboxState::Sending, None, None)
        .expect("send");
    store
        .transition(rejected, OutboxState::Rejected, Some("403"), None)
        .expect("reject");

    store.discard(pending).expect("discard pending");
    store.discard(rejected).expect("discard rejected");

    assert_eq!(store.outbox("acme").expect("list"), vec![]);
}

#[test]
fn acting_on_a_missing_outbox_item_is_an_error_naming_the_file() {
    let (_dir, path) = temp_db();
    let store = Store::open(&path).expect("open");
    let id = store
        .enqueue("acme", &create("a"), at("2026-11-20T14:00:00Z"))
        .expect("enqueue")
        .id;
    store.discard(id).expect("discard");

    assert_eq!(store.outbox_item(id).expect("read"), None);
    let errors = [
        store
            .transition(id, OutboxState::Sending, None, None)
            .expect_err("gone"),
        store.complete(id).expect_err("gone"),
        store.discard(id).expect_err("gone"),
        store.replace_op(id, &create("a")).expect_err("gone"),
    ];
    for err in errors {
        assert!(matches!(err, StoreError::NoSuchItem { .. }), "{err}");
        assert!(is_one_line_naming(&err.to_string(), &path), "{err}");
    }
}

#[test]
fn an_item_left_sending_by_a_crash_is_unknown_after_reopening() {
    let (_dir, path) = temp_db();
    let (sending, pending) = {
        let store = Store::open(&path).expect("open");
        let now = at("2026-11-20T14:00:00Z");
        let sending = store
            .enqueue("acme", &create("a"), now)
            .expect("enqueue")
            .id;
        let pending = store
            .enqueue("acme", &create("b"), now)
            .expect("enqueue")
            .id;
        store
            .transition(sending, OutboxState::Sending, None, None)
            .expect("send");
        (sending, pending)
        // Dropped without completing: the process died mid-send.
    };

    let store = Store::open(&path).expect("reopen");
    let item = store.outbox_item(sending).expect("read").expect("kept");
    assert_eq!((item.state, item.attempts), (OutboxState::Unknown, 1));
    let other = store.outbox_item(pending).expect("read").expect("kept");
    assert_eq!(other.state, OutboxState::Pending);
}

/// Schema version 1 exactly as released: a copy on purpose, so editing the released
/// migration (which databases in the field already ran) makes this test fail.
const V1_SQL: &str = "CREATE TABLE drafts (
        account     TEXT NOT NULL,
        customer_id TEXT NOT NULL,
        is_edit     INTEGER NOT NULL CHECK (is_edit IN (0, 1)),
        note_id     TEXT NOT NULL,
        kind        TEXT NOT NULL,
        duration    TEXT NOT NULL,
        when_text   TEXT NOT NULL,
        author      TEXT NOT NULL,
        text        TEXT NOT NULL,
        updated_at  TEXT NOT NULL,
        PRIMARY KEY (account, customer_id, is_edit, note_id)
    );
    CREATE INDEX drafts_by_account_newest ON drafts (account, updated_at);";

#[test]
fn a_version_1_database_is_migrated_to_version_2_keeping_its_drafts() {
    let (_dir, path) = temp_db();
    {
        let conn = rusqlite::Connection::open(&path).expect("create v1");
        conn.execute_batch(V1_SQL).expect("v1 schema");
        conn.pragma_update(None, "user_version", 1)
            .expect("version");
        conn.execute(
            "INSERT INTO drafts VALUES ('acme', 'cus_1', 0, '', 'call', '15m', 'now',
             'sara@example.com', 'typed before the upgrade', '2026-11-20T14:00:00.000000000Z')",
            [],
        )
        .expect("v1 draft");
    }

    let store = Store::open(&path).expect("migrate");
    assert_eq!(store.schema_version().expect("version"), 2);
    assert_eq!(SCHEMA_VERSION, 2);
    let kept = store
        .draft("acme", "cus_1", None)
        .expect("read")
        .expect("draft kept");
    assert_eq!(kept.text, "typed before the upgrade");
    assert_eq!(kept.updated_at, at("2026-11-20T14:00:00Z"));
    let item = store
        .enqueue(
            "acme",
            &create("after the upgrade"),
            at("2026-11-20T15:00:00Z"),
        )
        .expect("outbox works");
    assert_eq!(store.outbox("acme").expect("list"), vec![item]);
}

#[test]
fn a_fresh_store_is_at_the_latest_schema_version() {
    let store = Store::open_in_memory().expect("open");
    assert_eq!(store.schema_version().expect("version"), SCHEMA_VERSION);
    assert_eq!(store.path(), None);
}

#[test]
fn a_database_from_a_newer_version_is_refused_and_left_untouched() {
    let (_dir, path) = temp_db();
    {
        let conn = rusqlite::Connection::open(&path).expect("create");
        conn.execute_batch("CREATE TABLE future (x TEXT); INSERT INTO future VALUES ('keep me');")
            .expect("schema");
        conn.pragma_update(None, "user_version", SCHEMA_VERSION + 1)
            .expect("version");
    }
    let before = std::fs::read(&path).expect("read file");

    let err = Store::open(&path).expect_err("newer schema must be refused");

    let message = err.to_string();
    assert!(
        matches!(err, StoreError::TooNew { found: 3, .. }),
        "{message}"
    );
    assert!(is_one_line_naming(&message, &path), "{message}");
    assert!(message.contains("newer"), "{message}");
    assert_eq!(std::fs::read(&path).expect("read file"), before);
}

#[test]
fn a_corrupt_file_is_reported_in_one_line_naming_it_and_left_untouched() {
    let (_dir, path) = temp_db();
    // A page's worth of garbage and a short one: SQLite treats file sizes differently.
    let long: Vec<u8> = (0..4096u32).map(|i| (i * 7 + 13) as u8).collect();
    for garbage in [long, b"this is not a database\n".to_vec()] {
        std::fs::write(&path, &garbage).expect("write garbage");

        let err = Store::open(&path).expect_err("garbage must be refused");

        let message = err.to_string();
        assert!(matches!(err, StoreError::Unreadable { .. }), "{message}");
        assert!(is_one_line_naming(&message, &path), "{message}");
        assert!(message.contains("not a database"), "{message}");
        assert_eq!(std::fs::read(&path).expect("read file"), garbage);
    }
}

#[test]
fn an_unreadable_outbox_row_is_an_error_naming_the_file_not_a_panic() {
    let (_dir, path) = temp_db();
    let id = Store::open(&path)
        .expect("open")
        .enqueue("acme", &create("a"), at("2026-11-20T14:00:00Z"))
        .expect("enqueue")
        .id;
    {
        let conn = rusqlite::Connection::open(&path).expect("open raw");
        conn.execute(
            "UPDATE outbox SET op = '{\"op\":\"teleport\"}' WHERE id = ?1",
            [id],
        )
        .expect("damage the row");
    }

    let store = Store::open(&path).expect("reopen");
    for err in [
        store.outbox("acme").expect_err("bad row"),
        store.outbox_item(id).expect_err("bad row"),
    ] {
        assert!(matches!(err, StoreError::Corrupt { .. }), "{err}");
        assert!(is_one_line_naming(&err.to_string(), &path), "{err}");
    }
}

#[test]
fn open_creates_missing_parent_folders() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir
        .path()
        .join("share")
        .join("crm-notes")
        .join("crm-notes.db");

    let store = Store::open(&path).expect("open");
    store
        .save_draft(&draft("cus_1", None, "x", "2026-11-20T14:00:00Z"))
        .expect("save");

    assert!(path.is_file());
}
