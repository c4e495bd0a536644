//! The customers/notes cache through its public interface: round trips, listing cleanup (also
//! with two listings running at once), full-text search, migrations, files it must refuse
//! without touching, a 100,000-note cache, and the cache thread.

use std::path::{Path, PathBuf};

use crm_notes::cache::{
    APPLICATION_ID, Cache, CacheError, CacheThread, SCHEMA_VERSION, SearchQuery,
};
use crm_notes::model::{Attachment, Customer, Note, NoteExtras, NoteKind, NoteMessage};
use jiff::Timestamp;

fn at(s: &str) -> Timestamp {
    s.parse().expect("test time")
}

/// Minutes after a fixed start, so tests can order notes by a small number.
fn minute(m: i64) -> Timestamp {
    Timestamp::from_second(1_790_000_000 + m * 60).expect("test time")
}

fn note(id: &str, customer: &str, text: &str, created_minute: i64) -> Note {
    Note {
        id: id.into(),
        customer_id: Some(customer.into()),
        kind: NoteKind::Note,
        author_name: Some("Sara Lee".into()),
        author_email: Some("sara@example.com".into()),
        text: text.into(),
        call_duration_s: None,
        created_at: minute(created_minute),
        updated_at: None,
        subject: None,
        web_url: None,
        extras: NoteExtras::default(),
    }
}

fn customer(id: &str, name: &str) -> Customer {
    Customer {
        id: id.into(),
        name: name.into(),
        ..Customer::default()
    }
}

fn ids(notes: &[Note]) -> Vec<&str> {
    notes.iter().map(|n| n.id.as_str()).collect()
}

fn customer_ids(customers: &[Customer]) -> Vec<&str> {
    customers.iter().map(|c| c.id.as_str()).collect()
}

fn temp_cache() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("cache.db");
    (dir, path)
}

fn is_one_line_naming(message: &str, path: &Path) -> bool {
    !message.contains('\n') && message.contains(&path.display().to_string())
}

fn search(cache: &Cache, text: &str) -> Vec<String> {
    let query = SearchQuery {
        text: text.into(),
        ..SearchQuery::default()
    };
    let found = cache.search("acme", &query).expect("search");
    found.into_iter().map(|n| n.id).collect()
}

fn all_notes(cache: &Cache, account: &str, customer: Option<&str>) -> Vec<String> {
    let (notes, _) = cache.notes(account, customer, None).expect("notes");
    notes.into_iter().map(|n| n.id).collect()
}

// ---------------------------------------------------------------- round trips and ordering

#[test]
fn customers_come_back_in_the_providers_order_with_their_sync_time_after_reopening() {
    let (_dir, path) = temp_cache();
    let full = Customer {
        id: "cus_b".into(),
        name: "Globex".into(),
        email: Some("ap@globex.example".into()),
        company: Some("Globex Corporation".into()),
        status: Some("Past Due".into()),
        web_url: Some("https://app.example/customers/cus_b".into()),
    };
    {
        let cache = Cache::open(&path).expect("open");
        // Not alphabetical, and the first page longer than the second: the listed order wins.
        let page1 = [
            customer("cus_z", "Zeta"),
            full.clone(),
            customer("cus_m", "Mu"),
        ];
        cache
            .put_customers("acme", 1, &page1, false, minute(0))
            .expect("page 1");
        cache
            .put_customers("acme", 2, &[customer("cus_a", "Alpha")], true, minute(5))
            .expect("page 2");
    }

    let cache = Cache::open(&path).expect("reopen");
    let (customers, synced) = cache.customers("acme").expect("customers");
    assert_eq!(
        customer_ids(&customers),
        ["cus_z", "cus_b", "cus_m", "cus_a"]
    );
    assert_eq!(customers[1], full);
    assert_eq!(synced, Some(minute(5)));
    assert_eq!(cache.path(), Some(path.as_path()));
    assert_eq!(
        cache.customers("club").expect("other account"),
        (vec![], None)
    );
}

#[test]
fn a_note_with_every_field_set_round_trips_exactly() {
    let (_dir, path) = temp_cache();
    let full = Note {
        id: "n1".into(),
        customer_id: Some("cus_1".into()),
        kind: NoteKind::Other("Meeting".into()),
        author_name: Some("Sara Lee".into()),
        author_email: Some("sara@example.com".into()),
        text: "Renewal discussed.\nSending the quote on Monday — 100 € «ok» 🎉".into(),
        call_duration_s: Some(900),
        created_at: at("2026-11-20T14:02:03.123456789Z"),
        updated_at: Some(at("2026-11-21T09:00:00.5Z")),
        subject: Some("Renewal".into()),
        web_url: Some("https://app.example/notes/n1".into()),
        extras: NoteExtras {
            status: Some("open".into()),
            priority: true,
            confidential: true,
            tags: vec!["vip".into(), "renewal".into()],
            reminder: Some("2026-12-01".into()),
            assignees: vec!["Adam".into(), "Eve".into()],
            messages: vec![
                NoteMessage {
                    author: Some("Adam".into()),
                    text: "Called back".into(),
                    created_at: Some(at("2026-11-20T15:00:00Z")),
                },
                NoteMessage {
                    author: None,
                    text: String::new(),
                    created_at: None,
                },
            ],
            original_type: Some("Subscription".into()),
            original_id: Some("sub_9".into()),
            attachment: Some(Attachment {
                name: "quote.pdf".into(),
                size: Some(12_345),
                url: None,
            }),
        },
    };
    let call = Note {
        kind: NoteKind::Call,
        ..note("n2", "cus_1", "short call", 0)
    };
    Cache::open(&path)
        .expect("open")
        .put_notes(
            "acme",
            Some("cus_1"),
            1,
            &[full.clone(), call.clone()],
            true,
            minute(1),
        )
        .expect("put");

    let cache = Cache::open(&path).expect("reopen");
    let (notes, synced) = cache.notes("acme", Some("cus_1"), None).expect("notes");
    assert_eq!(notes, vec![full, call]);
    assert_eq!(synced, Some(minute(1)));
}

#[test]
fn an_attachments_signed_link_is_never_stored_but_the_rest_of_it_is() {
    let cache = Cache::open_in_memory().expect("open");
    let mut with_link = note("n1", "cus_1", "see attached", 0);
    with_link.extras.attachment = Some(Attachment {
        name: "quote.pdf".into(),
        size: Some(10),
        url: Some("https://files.example/quote.pdf?X-Amz-Signature=abc123".into()),
    });
    cache.put_note("acme", &with_link).expect("put");

    let (notes, _) = cache.notes("acme", None, None).expect("notes");
    let attachment = notes[0].extras.attachment.clone().expect("attachment kept");
    assert_eq!(
        (attachment.name.as_str(), attachment.size),
        ("quote.pdf", Some(10))
    );
    assert_eq!(attachment.url, None);
    // The caller's note is left as it was.
    assert!(with_link.extras.attachment.is_some_and(|a| a.url.is_some()));
}

#[test]
fn notes_are_newest_first_per_customer_or_account_and_limited() {
    let cache = Cache::open_in_memory().expect("open");
    // Two notes in the same second, a nanosecond apart, must still be ordered.
    let mut a = note("a", "cus_1", "first", 10);
    a.created_at = at("2026-11-20T14:00:00.000000001Z");
    let mut b = note("b", "cus_1", "second", 10);
    b.created_at = at("2026-11-20T14:00:00.000000002Z");
    let c = note("c", "cus_2", "other customer", 0);
    let d = note("d", "cus_1", "oldest", -100);
    cache
        .put_notes("acme", None, 1, &[d, a, c, b], true, minute(1))
        .expect("put");

    assert_eq!(all_notes(&cache, "acme", Some("cus_1")), ["b", "a", "d"]);
    assert_eq!(all_notes(&cache, "acme", Some("cus_2")), ["c"]);
    assert_eq!(all_notes(&cache, "acme", None), ["b", "a", "c", "d"]);
    let (two, _) = cache.notes("acme", Some("cus_1"), Some(2)).expect("limit");
    assert_eq!(ids(&two), ["b", "a"]);
    let (one, _) = cache.notes("acme", None, Some(1)).expect("limit");
    assert_eq!(ids(&one), ["b"]);
    assert!(all_notes(&cache, "club", None).is_empty());
}

#[test]
fn a_note_without_a_customer_is_filed_under_the_listed_customer() {
    let cache = Cache::open_in_memory().expect("open");
    let mut orphan = note("n1", "x", "from an ActivePlatform filter", 0);
    orphan.customer_id = None;
    cache
        .put_notes(
            "panel",
            Some("acc_7"),
            1,
            std::slice::from_ref(&orphan),
            true,
            minute(1),
        )
        .expect("put");

    let (notes, _) = cache.notes("panel", Some("acc_7"), None).expect("notes");
    assert_eq!(notes, vec![orphan]);
}

// ---------------------------------------------------------------- listings and cleanup

#[test]
fn the_end_of_a_customers_listing_removes_only_the_customers_it_did_not_include() {
    let cache = Cache::open_in_memory().expect("open");
    let abc = [customer("a", "A"), customer("b", "B"), customer("c", "C")];
    cache
        .put_customers("acme", 1, &abc, true, minute(0))
        .expect("first listing");
    cache
        .put_customers("club", 1, &[customer("b", "B elsewhere")], true, minute(0))
        .expect("other account");

    cache
        .put_customers("acme", 1, &[customer("c", "C renamed")], false, minute(10))
        .expect("page 1");
    // Mid-listing, the last full listing is still there to browse.
    let (mid, synced) = cache.customers("acme").expect("customers");
    assert_eq!(customer_ids(&mid).len(), 3);
    assert_eq!(synced, Some(minute(0)));
    cache
        .put_customers("acme", 2, &[customer("a", "A")], true, minute(11))
        .expect("page 2");

    let (customers, synced) = cache.customers("acme").expect("customers");
    assert_eq!(customer_ids(&customers), ["c", "a"]);
    assert_eq!(customers[0].name, "C renamed");
    assert_eq!(synced, Some(minute(11)));
    let (other, _) = cache.customers("club").expect("other account");
    assert_eq!(customer_ids(&other), ["b"]);
}

#[test]
fn a_listing_that_missed_a_page_removes_nothing_and_keeps_the_old_sync_time() {
    let cache = Cache::open_in_memory().expect("open");
    let abc = [customer("a", "A"), customer("b", "B"), customer("c", "C")];
    cache
        .put_customers("acme", 1, &abc, true, minute(0))
        .expect("first listing");

    cache
        .put_customers("acme", 1, &[customer("a", "A")], false, minute(10))
        .expect("page 1");
    // Page 2 (which held "b") never arrived.
    cache
        .put_customers("acme", 3, &[customer("c", "C")], true, minute(11))
        .expect("page 3");

    let (customers, synced) = cache.customers("acme").expect("customers");
    assert_eq!(customer_ids(&customers).len(), 3);
    assert_eq!(synced, Some(minute(0)));

    // The same gap for notes; and a page seen twice (a retry) is not a gap.
    cache
        .put_notes(
            "acme",
            None,
            1,
            &[note("n1", "a", "x", 0), note("n2", "a", "y", 1)],
            true,
            minute(0),
        )
        .expect("notes");
    cache
        .put_notes("acme", None, 1, &[], false, minute(20))
        .expect("p1");
    cache
        .put_notes("acme", None, 3, &[], true, minute(21))
        .expect("p3");
    assert_eq!(all_notes(&cache, "acme", None).len(), 2);
    cache
        .put_notes("acme", None, 1, &[], false, minute(30))
        .expect("p1");
    cache
        .put_notes(
            "acme",
            None,
            2,
            &[note("n1", "a", "x", 0)],
            false,
            minute(30),
        )
        .expect("p2");
    cache
        .put_notes(
            "acme",
            None,
            2,
            &[note("n1", "a", "x", 0)],
            false,
            minute(30),
        )
        .expect("p2 again");
    cache
        .put_notes("acme", None, 3, &[], true, minute(31))
        .expect("p3");
    let (notes, synced) = cache.notes("acme", None, None).expect("notes");
    assert_eq!(ids(&notes), ["n1"]);
    assert_eq!(synced, Some(minute(31)));
}

#[test]
fn the_end_of_a_customers_notes_listing_removes_only_that_customers_missing_notes() {
    let cache = Cache::open_in_memory().expect("open");
    let notes = [
        note("x1", "cus_1", "kept", 0),
        note("x2", "cus_1", "deleted on the server", 1),
        note("y1", "cus_2", "another customer", 2),
    ];
    cache
        .put_notes("acme", None, 1, &notes, true, minute(0))
        .expect("account listing");
    cache
        .put_notes(
            "club",
            Some("cus_1"),
            1,
            &[note("x2", "cus_1", "other account", 0)],
            true,
            minute(0),
        )
        .expect("other account");

    cache
        .put_notes(
            "acme",
            Some("cus_1"),
            1,
            &[note("x1", "cus_1", "kept", 0)],
            true,
            minute(5),
        )
        .expect("customer listing");

    assert_eq!(all_notes(&cache, "acme", None), ["y1", "x1"]);
    assert_eq!(all_notes(&cache, "club", None), ["x2"]);
    assert!(
        search(&cache, "deleted").is_empty(),
        "its text left the index too"
    );
    // The customer's sync time is the later of its own and the account's.
    let (_, synced) = cache.notes("acme", Some("cus_1"), None).expect("notes");
    assert_eq!(synced, Some(minute(5)));
    let (_, synced) = cache.notes("acme", Some("cus_2"), None).expect("notes");
    assert_eq!(synced, Some(minute(0)));
    let (_, synced) = cache.notes("acme", Some("cus_9"), None).expect("notes");
    assert_eq!(synced, Some(minute(0)));
}

#[test]
fn the_end_of_an_account_listing_removes_missing_notes_of_every_customer() {
    let cache = Cache::open_in_memory().expect("open");
    let notes = [
        note("x1", "cus_1", "a", 0),
        note("x2", "cus_1", "b", 1),
        note("y1", "cus_2", "c", 2),
        note("y2", "cus_2", "d", 3),
    ];
    cache
        .put_notes("acme", None, 1, &notes, true, minute(0))
        .expect("first");

    cache
        .put_notes("acme", None, 1, &[notes[0].clone()], false, minute(5))
        .expect("page 1");
    cache
        .put_notes("acme", None, 2, &[notes[3].clone()], true, minute(6))
        .expect("page 2");

    assert_eq!(all_notes(&cache, "acme", None), ["y2", "x1"]);
}

#[test]
fn a_customer_listing_and_an_account_listing_at_once_never_remove_each_others_notes() {
    let cache = Cache::open_in_memory().expect("open");
    let x1 = note("x1", "cus_1", "one", 0);
    let x2 = note("x2", "cus_1", "two", 1);
    let y1 = note("y1", "cus_2", "three", 2);
    let stale = note("z", "cus_2", "gone from the server", 3);
    cache
        .put_notes(
            "acme",
            None,
            1,
            &[x1.clone(), y1.clone(), stale],
            true,
            minute(0),
        )
        .expect("earlier sync");

    // The account listing starts; x2 is created on the server after it passed cus_1's notes.
    cache
        .put_notes(
            "acme",
            None,
            1,
            std::slice::from_ref(&x1),
            false,
            minute(10),
        )
        .expect("account page 1");
    // The customer listing starts later and sees x2.
    cache
        .put_notes(
            "acme",
            Some("cus_1"),
            1,
            &[x1.clone(), x2.clone()],
            false,
            minute(11),
        )
        .expect("customer page 1");
    // The older account listing sees x1 again, then ends: x2 (seen only by the newer customer
    // listing) must survive, and x1 must still count as seen by the customer listing.
    cache
        .put_notes("acme", None, 2, &[y1.clone(), x1.clone()], true, minute(12))
        .expect("account page 2");
    assert_eq!(all_notes(&cache, "acme", None), ["y1", "x2", "x1"]);
    cache
        .put_notes("acme", Some("cus_1"), 2, &[], true, minute(13))
        .expect("customer page 2");

    assert_eq!(all_notes(&cache, "acme", None), ["y1", "x2", "x1"]);
}

#[test]
fn a_confirmed_write_during_a_listing_survives_its_end() {
    let cache = Cache::open_in_memory().expect("open");
    cache
        .put_notes(
            "acme",
            Some("cus_1"),
            1,
            &[note("x1", "cus_1", "old", 0)],
            false,
            minute(0),
        )
        .expect("page 1");
    // Created after the listing passed the newest notes.
    cache
        .put_note("acme", &note("new", "cus_1", "just written", 9))
        .expect("put_note");
    cache
        .put_notes("acme", Some("cus_1"), 2, &[], true, minute(1))
        .expect("page 2");

    assert_eq!(all_notes(&cache, "acme", Some("cus_1")), ["new", "x1"]);

    // A later listing that does not include it means it was deleted on the server.
    cache
        .put_notes(
            "acme",
            Some("cus_1"),
            1,
            &[note("x1", "cus_1", "old", 0)],
            true,
            minute(2),
        )
        .expect("next listing");
    assert_eq!(all_notes(&cache, "acme", Some("cus_1")), ["x1"]);
}

#[test]
fn put_note_replaces_a_note_and_remove_note_deletes_it() {
    let cache = Cache::open_in_memory().expect("open");
    cache
        .put_note("acme", &note("n1", "cus_1", "first text", 0))
        .expect("put");
    cache
        .put_note("club", &note("n1", "cus_1", "same id, other account", 0))
        .expect("put");
    let mut edited = note("n1", "cus_1", "edited text", 0);
    edited.kind = NoteKind::Call;
    edited.call_duration_s = Some(60);
    cache.put_note("acme", &edited).expect("replace");

    let (notes, _) = cache.notes("acme", None, None).expect("notes");
    assert_eq!(notes, vec![edited]);

    cache.remove_note("acme", "n1").expect("remove");
    cache
        .remove_note("acme", "never-cached")
        .expect("removing nothing is fine");
    assert!(all_notes(&cache, "acme", None).is_empty());
    assert!(search(&cache, "text").is_empty());
    assert_eq!(all_notes(&cache, "club", None), ["n1"]);
}

#[test]
fn forget_drops_one_account_only() {
    let cache = Cache::open_in_memory().expect("open");
    for account in ["acme", "club"] {
        cache
            .put_customers(account, 1, &[customer("c", "C")], true, minute(0))
            .expect("customers");
        cache
            .put_notes(
                account,
                None,
                1,
                &[note("n", "c", "renewal", 0)],
                true,
                minute(0),
            )
            .expect("notes");
    }

    cache.forget("acme").expect("forget");

    assert_eq!(cache.customers("acme").expect("customers"), (vec![], None));
    assert!(search(&cache, "renewal").is_empty());
    assert_eq!(cache.customers("club").expect("customers").0.len(), 1);
    assert_eq!(all_notes(&cache, "club", None), ["n"]);
}

// ---------------------------------------------------------------- full-text search

#[test]
fn search_ranks_a_note_mentioning_the_word_more_often_first() {
    let cache = Cache::open_in_memory().expect("open");
    // Same length, so only how often the word occurs differs; the once-note is the newer,
    // so a newest-first order would put it first.
    let notes = [
        note(
            "thrice",
            "cus_1",
            "renewal call about renewal and the renewal quote",
            0,
        ),
        note(
            "once",
            "cus_1",
            "renewal call about pricing and the support quote",
            5,
        ),
        note("never", "cus_1", "nothing to see here at all today", 9),
    ];
    cache
        .put_notes("acme", None, 1, &notes, true, minute(0))
        .expect("put");

    assert_eq!(search(&cache, "renewal"), ["thrice", "once"]);
}

#[test]
fn equally_good_matches_come_newest_first() {
    let cache = Cache::open_in_memory().expect("open");
    let notes = [
        note("old", "cus_1", "renewal", 0),
        note("new", "cus_1", "renewal", 5),
        note("mid", "cus_1", "renewal", 3),
    ];
    cache
        .put_notes("acme", None, 1, &notes, true, minute(0))
        .expect("put");

    assert_eq!(search(&cache, "renewal"), ["new", "mid", "old"]);
}

#[test]
fn search_matches_words_while_they_are_being_typed() {
    let cache = Cache::open_in_memory().expect("open");
    let mut with_subject = note("s", "cus_2", "body text", 1);
    with_subject.subject = Some("Quarterly review".into());
    let notes = [
        note("r", "cus_1", "Renewal discussed, sending quote Monday.", 0),
        note("c", "cus_1", "Café visit with the CFO", 2),
        with_subject,
    ];
    cache
        .put_notes("acme", None, 1, &notes, true, minute(0))
        .expect("put");

    assert_eq!(search(&cache, "renew"), ["r"]);
    assert_eq!(search(&cache, "REN"), ["r"]);
    assert_eq!(search(&cache, "quote ren"), ["r"]);
    assert_eq!(search(&cache, "renewal monday"), ["r"]);
    assert!(
        search(&cache, "renewal tuesday").is_empty(),
        "every word must occur"
    );
    assert_eq!(search(&cache, "cafe"), ["c"], "accents are ignored");
    assert_eq!(search(&cache, "quarterl"), ["s"], "the subject is searched");
    let mut by_author = search(&cache, "sara@exam");
    by_author.sort();
    assert_eq!(by_author, ["c", "r", "s"], "the author is searched");
    assert!(search(&cache, "").is_empty());
    assert!(search(&cache, "   ").is_empty());
}

#[test]
fn search_applies_kind_author_time_and_customer_conditions_together() {
    let cache = Cache::open_in_memory().expect("open");
    let make = |id: &str, customer: &str, kind: NoteKind, author: (&str, &str), m: i64| Note {
        kind,
        author_name: Some(author.0.into()),
        author_email: Some(author.1.into()),
        ..note(id, customer, "renewal talk", m)
    };
    let sara = ("Sara Lee", "sara@example.com");
    let adam = ("Adam Smith", "adam@example.com");
    let eve = ("Eve Ng", "eve@corp.example");
    let notes = [
        make("call-sara-1", "cus_1", NoteKind::Call, sara, 10),
        make("call-sara-2", "cus_2", NoteKind::Call, sara, 20),
        make("note-sara", "cus_1", NoteKind::Note, sara, 30),
        make("call-adam", "cus_1", NoteKind::Call, adam, 40),
        make("call-eve", "cus_1", NoteKind::Call, eve, 50),
        make(
            "meeting-eve",
            "cus_1",
            NoteKind::Other("Meeting".into()),
            eve,
            60,
        ),
    ];
    cache
        .put_notes("acme", None, 1, &notes, true, minute(0))
        .expect("put");
    let run = |query: SearchQuery| -> Vec<String> {
        let query = SearchQuery {
            text: "renewal".into(),
            ..query
        };
        let mut found: Vec<String> = cache
            .search("acme", &query)
            .expect("search")
            .into_iter()
            .map(|n| n.id)
            .collect();
        found.sort();
        found
    };

    assert_eq!(
        run(SearchQuery {
            kind: Some("CALL".into()),
            authors: vec!["SARA".into()],
            customer: Some("cus_1".into()),
            ..SearchQuery::default()
        }),
        ["call-sara-1"]
    );
    assert_eq!(
        run(SearchQuery {
            kind: Some("call".into()),
            // Any of the authors, by a piece of the name or of the email.
            authors: vec!["smith".into(), "corp.exa".into()],
            ..SearchQuery::default()
        }),
        ["call-adam", "call-eve"]
    );
    assert_eq!(
        run(SearchQuery {
            kind: Some("meeting".into()),
            ..SearchQuery::default()
        }),
        ["meeting-eve"]
    );
    // Both ends inclusive.
    assert_eq!(
        run(SearchQuery {
            since: Some(minute(20)),
            until: Some(minute(40)),
            ..SearchQuery::default()
        }),
        ["call-adam", "call-sara-2", "note-sara"]
    );
    assert_eq!(
        run(SearchQuery {
            since: Some(minute(20)),
            authors: vec!["sara".into()],
            kind: Some("call".into()),
            ..SearchQuery::default()
        }),
        ["call-sara-2"]
    );
    assert_eq!(
        run(SearchQuery {
            authors: vec!["  ".into()],
            until: Some(minute(10)),
            ..SearchQuery::default()
        }),
        ["call-sara-1"],
        "a blank author matches anyone"
    );
    assert_eq!(
        run(SearchQuery {
            limit: 2,
            ..SearchQuery::default()
        })
        .len(),
        2
    );
    assert_eq!(run(SearchQuery::default()).len(), 6, "limit 0 is no limit");
    assert!(
        cache
            .search(
                "club",
                &SearchQuery {
                    text: "renewal".into(),
                    ..SearchQuery::default()
                }
            )
            .expect("other account")
            .is_empty()
    );
}

#[test]
fn no_user_text_is_ever_an_fts_syntax_error() {
    let cache = Cache::open_in_memory().expect("open");
    let notes = [
        note(
            "r",
            "cus_1",
            "Renewal: near term; quote AND discount - \"final\" offer",
            0,
        ),
        note("u", "cus_1", "日本語のメモ and naïve emoji 🎉", 1),
    ];
    cache
        .put_notes("acme", None, 1, &notes, true, minute(0))
        .expect("put");
    let hostile = [
        "\"",
        "\"\"",
        "\"renewal",
        "*",
        "renewal*",
        "**",
        "AND",
        "OR",
        "NOT",
        "a AND",
        "NEAR(",
        "NEAR(renewal quote",
        "NEAR(a b, 3)",
        "-",
        "-renewal",
        "renewal -quote",
        ":",
        "text:",
        "subject:renewal",
        "^renewal",
        "(",
        ")",
        "()",
        "{",
        "}",
        "{subject}: x",
        "+",
        "'",
        "''",
        "\\",
        "%",
        "_",
        "a\0b",
        "\u{202e}evil",
        "🎉",
        "日本",
        "naïve",
        "\t\n",
        "",
        "   ",
        "renewal OR",
        "'; DROP TABLE notes; --",
        "x\"y\"z",
        "\u{0301}",
        "a:b:c",
    ];
    for text in hostile {
        let query = SearchQuery {
            text: text.into(),
            ..SearchQuery::default()
        };
        if let Err(e) = cache.search("acme", &query) {
            panic!("{text:?} failed: {e}");
        }
    }
    // Operators and punctuation are plain words (or ignored), never syntax.
    assert_eq!(search(&cache, "renewal -"), ["r"]);
    assert_eq!(search(&cache, "\"final\""), ["r"]);
    assert_eq!(search(&cache, "quote AND"), ["r"]);
    assert_eq!(search(&cache, "NEAR("), ["r"]);
    assert_eq!(search(&cache, "renewal:"), ["r"]);
    assert_eq!(search(&cache, "日本"), ["u"]);
    assert_eq!(search(&cache, "naive"), ["u"]);
    assert!(search(&cache, "-").is_empty());
    assert_eq!(all_notes(&cache, "acme", None).len(), 2);
}

#[test]
fn replacing_a_notes_text_updates_the_search() {
    let (_dir, path) = temp_cache();
    let cache = Cache::open(&path).expect("open");
    cache
        .put_notes(
            "acme",
            None,
            1,
            &[note("n1", "cus_1", "renewal quote", 0)],
            true,
            minute(0),
        )
        .expect("put");
    // By every path that can replace a note: a confirmed edit and a later listing.
    cache
        .put_note("acme", &note("n1", "cus_1", "pricing discussion", 0))
        .expect("edit");
    assert!(search(&cache, "renewal").is_empty());
    assert_eq!(search(&cache, "pricing"), ["n1"]);
    cache
        .put_notes(
            "acme",
            Some("cus_1"),
            1,
            &[note("n1", "cus_1", "churn risk", 0)],
            true,
            minute(1),
        )
        .expect("listing");
    drop(cache);

    let cache = Cache::open(&path).expect("reopen");
    assert!(search(&cache, "pricing").is_empty());
    assert_eq!(
        search(&cache, "churn"),
        ["n1"],
        "found once, not once per version"
    );
    // An unchanged note seen again keeps exactly one index entry.
    cache
        .put_notes(
            "acme",
            None,
            1,
            &[note("n1", "cus_1", "churn risk", 0)],
            true,
            minute(2),
        )
        .expect("again");
    assert_eq!(search(&cache, "churn"), ["n1"]);
}

// ---------------------------------------------------------------- schema and damaged files

fn raw_version(path: &Path) -> (i64, i64) {
    let conn = rusqlite::Connection::open(path).expect("open raw");
    let version = conn
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .expect("user_version");
    let app = conn
        .pragma_query_value(None, "application_id", |row| row.get(0))
        .expect("application_id");
    (version, app)
}

#[test]
fn a_fresh_cache_is_at_the_current_schema_and_reopening_changes_nothing() {
    let (_dir, path) = temp_cache();
    {
        let cache = Cache::open(&path).expect("create");
        assert_eq!(cache.schema_version().expect("version"), SCHEMA_VERSION);
        cache
            .put_notes(
                "acme",
                None,
                1,
                &[note("n1", "cus_1", "renewal", 0)],
                true,
                minute(0),
            )
            .expect("put");
    }
    assert_eq!(
        raw_version(&path),
        (i64::from(SCHEMA_VERSION), i64::from(APPLICATION_ID))
    );
    let before = std::fs::read(&path).expect("read file");

    let cache = Cache::open(&path).expect("reopen");
    assert_eq!(cache.schema_version().expect("version"), SCHEMA_VERSION);
    assert_eq!(search(&cache, "renewal"), ["n1"]);
    drop(cache);
    assert_eq!(std::fs::read(&path).expect("read file"), before);

    let memory = Cache::open_in_memory().expect("memory");
    assert_eq!(memory.schema_version().expect("version"), SCHEMA_VERSION);
    assert_eq!(memory.path(), None);
}

#[test]
fn a_cache_from_a_newer_version_is_refused_in_one_line_and_left_untouched() {
    let (_dir, path) = temp_cache();
    {
        let conn = rusqlite::Connection::open(&path).expect("create");
        conn.execute_batch("CREATE TABLE future (x TEXT); INSERT INTO future VALUES ('keep me');")
            .expect("schema");
        conn.pragma_update(None, "application_id", APPLICATION_ID)
            .expect("app id");
        conn.pragma_update(None, "user_version", 9)
            .expect("version");
    }
    let before = std::fs::read(&path).expect("read file");

    let err = Cache::open(&path).expect_err("newer schema must be refused");

    let message = err.to_string();
    assert!(
        matches!(err, CacheError::TooNew { found: 9, .. }),
        "{message}"
    );
    assert!(is_one_line_naming(&message, &path), "{message}");
    assert!(
        message.contains("newer") && message.contains("schema 9"),
        "{message}"
    );
    assert_eq!(std::fs::read(&path).expect("read file"), before);
}

#[test]
fn another_database_at_the_cache_path_is_refused_and_left_untouched() {
    // What the drafts store looks like (no application id, version 2), and an unversioned
    // database with tables of its own.
    for version in [2, 0] {
        let (_dir, path) = temp_cache();
        {
            let conn = rusqlite::Connection::open(&path).expect("create");
            conn.execute_batch(
                "CREATE TABLE drafts (text TEXT); INSERT INTO drafts VALUES ('unsent');",
            )
            .expect("schema");
            conn.pragma_update(None, "user_version", version)
                .expect("version");
        }
        let before = std::fs::read(&path).expect("read file");

        let err = Cache::open(&path).expect_err("not a cache");

        let message = err.to_string();
        assert!(matches!(err, CacheError::NotACache { .. }), "{message}");
        assert!(is_one_line_naming(&message, &path), "{message}");
        assert_eq!(std::fs::read(&path).expect("read file"), before);
    }
}

#[test]
fn a_file_of_random_bytes_is_refused_in_one_line_and_left_untouched() {
    let (_dir, path) = temp_cache();
    // A page's worth of garbage and a short one: SQLite treats file sizes differently.
    let long: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(7919) % 251) as u8)
        .collect();
    for garbage in [long, b"this is not a database\n".to_vec()] {
        std::fs::write(&path, &garbage).expect("write garbage");

        let err = Cache::open(&path).expect_err("garbage must be refused");

        let message = err.to_string();
        assert!(matches!(err, CacheError::Unreadable { .. }), "{message}");
        assert!(is_one_line_naming(&message, &path), "{message}");
        assert!(message.contains("not a database"), "{message}");
        assert_eq!(std::fs::read(&path).expect("read file"), garbage);
    }
}

#[test]
fn a_truncated_cache_is_refused_in_one_line_and_left_untouched() {
    let (_dir, path) = temp_cache();
    {
        let cache = Cache::open(&path).expect("create");
        let notes: Vec<Note> = (0..2000)
            .map(|i| {
                note(
                    &format!("n{i}"),
                    &format!("cus_{}", i % 20),
                    "renewal quote and a longer text to fill pages",
                    i,
                )
            })
            .collect();
        cache
            .put_notes("acme", None, 1, &notes, true, minute(0))
            .expect("put");
    }
    let whole = std::fs::read(&path).expect("read file");
    assert!(
        whole.len() > 64 * 1024,
        "big enough to cut: {}",
        whole.len()
    );
    let cut = whole[..whole.len() / 2].to_vec();
    std::fs::write(&path, &cut).expect("truncate");

    let err = Cache::open(&path).expect_err("truncated must be refused");

    let message = err.to_string();
    assert!(matches!(err, CacheError::Unreadable { .. }), "{message}");
    assert!(is_one_line_naming(&message, &path), "{message}");
    assert!(message.contains("malformed"), "{message}");
    assert_eq!(std::fs::read(&path).expect("read file"), cut);
}

#[test]
fn a_row_that_no_longer_decodes_is_skipped_and_an_old_row_gets_defaults() {
    let (_dir, path) = temp_cache();
    {
        let cache = Cache::open(&path).expect("create");
        let notes = [
            note("good", "cus_1", "a", 2),
            note("bad", "cus_1", "b", 1),
            note("old", "cus_1", "c", 0),
        ];
        cache
            .put_notes("acme", None, 1, &notes, true, minute(0))
            .expect("put");
        cache
            .put_customers(
                "acme",
                1,
                &[customer("c1", "One"), customer("c2", "Two")],
                true,
                minute(0),
            )
            .expect("customers");
    }
    {
        let conn = rusqlite::Connection::open(&path).expect("open raw");
        conn.execute("UPDATE notes SET data = '{\"id\": 5}' WHERE id = 'bad'", [])
            .expect("damage a note");
        // Only the fields every version had: the rest must default.
        conn.execute(
            "UPDATE notes SET data = '{\"id\":\"old\",\"kind\":\"call\",\"created_at\":\"2026-01-01T00:00:00Z\"}' WHERE id = 'old'",
            [],
        )
        .expect("old-format note");
        conn.execute("UPDATE customers SET data = 'not json' WHERE id = 'c1'", [])
            .expect("damage a customer");
    }

    let cache = Cache::open(&path).expect("reopen");
    let (notes, _) = cache.notes("acme", Some("cus_1"), None).expect("notes");
    assert_eq!(ids(&notes), ["good", "old"]);
    assert_eq!(notes[1].kind, NoteKind::Call);
    assert_eq!(
        (notes[1].text.as_str(), notes[1].customer_id.as_deref()),
        ("", None)
    );
    assert_eq!(notes[1].extras, NoteExtras::default());
    let (customers, _) = cache.customers("acme").expect("customers");
    assert_eq!(customer_ids(&customers), ["c2"]);
}

#[test]
fn open_creates_missing_folders_and_a_file_only_its_owner_can_read() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("share").join("crm-notes").join("cache.db");

    Cache::open(&path)
        .expect("open")
        .put_customers("acme", 1, &[customer("c", "C")], true, minute(0))
        .expect("write");

    assert!(path.is_file());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path)
            .expect("metadata")
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "mode {mode:o}");
    }
}

// ---------------------------------------------------------------- a big cache

#[test]
fn with_100000_notes_cached_the_start_up_reads_are_correct() {
    let (_dir, path) = temp_cache();
    const CUSTOMERS: usize = 1000;
    const NOTES: usize = 100_000;
    {
        let cache = Cache::open(&path).expect("create");
        let customers: Vec<Customer> = (0..CUSTOMERS)
            .map(|i| customer(&format!("cus_{i:04}"), &format!("Customer {i}")))
            .collect();
        for (page, chunk) in customers.chunks(200).enumerate() {
            let page = u32::try_from(page + 1).expect("page");
            cache
                .put_customers("acme", page, chunk, page == 5, minute(0))
                .expect("customers");
        }
        let notes: Vec<Note> = (0..NOTES)
            .map(|i| {
                let customer = format!("cus_{:04}", i % CUSTOMERS);
                let text = format!(
                    "call {i} about the renewal of plan {} and other things",
                    i % 7
                );
                note(
                    &format!("n{i:06}"),
                    &customer,
                    &text,
                    i64::try_from(i).expect("minute"),
                )
            })
            .collect();
        let pages = notes.chunks(1000).count();
        for (page, chunk) in notes.chunks(1000).enumerate() {
            let page = u32::try_from(page + 1).expect("page");
            let done = page as usize == pages;
            cache
                .put_notes("acme", None, page, chunk, done, minute(1))
                .expect("notes");
        }
    }

    let cache = Cache::open(&path).expect("reopen");
    let (customers, synced) = cache.customers("acme").expect("customers");
    assert_eq!(customers.len(), CUSTOMERS);
    assert_eq!(customers[0].id, "cus_0000");
    assert_eq!(customers[CUSTOMERS - 1].id, "cus_0999");
    assert_eq!(synced, Some(minute(0)));

    let (notes, synced) = cache.notes("acme", Some("cus_0042"), None).expect("notes");
    assert_eq!(notes.len(), NOTES / CUSTOMERS);
    assert!(
        notes
            .iter()
            .all(|n| n.customer_id.as_deref() == Some("cus_0042"))
    );
    assert_eq!(notes[0].id, "n099042", "newest first");
    assert_eq!(notes[notes.len() - 1].id, "n000042");
    assert_eq!(synced, Some(minute(1)));

    let found = cache
        .search(
            "acme",
            &SearchQuery {
                text: "call 4242".into(),
                limit: 10,
                ..SearchQuery::default()
            },
        )
        .expect("search");
    // Every word is also a prefix ("4242" finds 42420 to 42429), but the whole word ranks first.
    assert_eq!(found.len(), 10);
    assert_eq!(found[0].id, "n004242");
    assert!(found.iter().all(|n| n.text.starts_with("call 4242")));
}

// ---------------------------------------------------------------- the cache thread

#[test]
fn the_cache_thread_runs_calls_posts_and_blocking_calls_in_order() {
    let thread = CacheThread::spawn("cache", Cache::open_in_memory().expect("open"));

    // A post is not waited for, yet the blocking call queued after it sees its write.
    thread.post(|cache| {
        let _ = cache.put_customers("acme", 1, &[customer("a", "A")], false, minute(0));
    });
    let seen = thread
        .call_blocking(|cache| cache.customers("acme").map(|(c, _)| c.len()))
        .expect("blocking call");
    assert_eq!(seen, 1);

    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let handle = thread.clone();
    let names = runtime.block_on(async move {
        handle.post(|cache| {
            let _ = cache.put_customers("acme", 2, &[customer("b", "B")], true, minute(1));
        });
        handle
            .call(|cache| cache.customers("acme"))
            .await
            .map(|(customers, synced)| (customer_ids(&customers).join(","), synced))
    });
    assert_eq!(
        names.expect("async call"),
        ("a,b".to_string(), Some(minute(1)))
    );

    // A job's error comes back to the caller as it is.
    let err = thread
        .call_blocking(|_| Err::<(), _>(CacheError::Stopped))
        .expect_err("the job's error");
    assert!(matches!(err, CacheError::Stopped), "{err}");
}

#[test]
fn authors_are_counted_per_email_most_notes_first_with_their_names_as_written() {
    let cache = Cache::open_in_memory().expect("cache");
    let mut notes = Vec::new();
    for (i, (name, email)) in [
        ("Sara Lee", Some("sara@example.com")),
        ("Sara Lee", Some("SARA@example.com")),
        ("Adam Smith", Some("adam@example.com")),
        ("System", None),
        ("Sara Lee", Some("sara@example.com")),
    ]
    .into_iter()
    .enumerate()
    {
        let mut n = note(&format!("n{i}"), "c1", "text", i as i64);
        n.author_name = Some(name.to_string());
        n.author_email = email.map(str::to_string);
        notes.push(n);
    }
    cache
        .put_notes("acme", Some("c1"), 1, &notes, true, minute(10))
        .expect("put");
    cache
        .put_notes("other", Some("c9"), 1, &notes[2..3], true, minute(10))
        .expect("put");
    let authors = cache.authors("acme", 10).expect("authors");
    let summary: Vec<(Option<&str>, usize)> = authors
        .iter()
        .map(|a| (a.name.as_deref(), a.count))
        .collect();
    assert_eq!(
        summary,
        [
            (Some("Sara Lee"), 3),
            (Some("Adam Smith"), 1),
            (Some("System"), 1)
        ]
    );
    assert_eq!(cache.authors("acme", 1).expect("limited").len(), 1);
    assert!(cache.authors("nobody", 10).expect("empty").is_empty());
}
