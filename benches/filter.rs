//! Filter budget (DESIGN.md): filtering 1,000,000 notes by author, type and free text takes
//! ≤ 16 ms per keystroke on 2 cores. The notes are synthetic but shaped like a CRM's: ~200
//! authors of uneven activity, ~40% calls, 60–600 characters of English-like text, subjects on
//! some, generated from a fixed seed.
//!
//! Measured: (1) typing `author:sara type:call renewal` one keystroke at a time through one
//! index (criterion's figure is the mean per keystroke; the worst keystroke is printed);
//! (2) the whole query run cold, with nothing remembered from a previous keystroke; (3) the
//! worst single keystroke found for free text alone, typing words from an empty bar. A
//! summary line with all the figures is printed at the end.

use std::cell::RefCell;
use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use crm_notes::app::filter::{Filter, FilterIndex};
use crm_notes::model::{Note, NoteExtras, NoteKind};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};

const NOTES: usize = 1_000_000;
const AUTHORS: usize = 200;
const QUERY: &str = "author:sara type:call renewal";
/// Words typed into an empty bar, looking for the slowest free-text keystroke: common and
/// rare words, words whose prefixes are common but whose whole is rare, and a typo.
const FREE_TEXT_PROBES: &[&str] = &[
    "renewal",
    "renwal",
    "because",
    "quarterly",
    "the",
    "procurement",
    "xylophone",
    "auth",
    "seats",
    "integration",
    "ing",
    "zq",
];

const FIRST_NAMES: &[&str] = &[
    "Sara", "Sarah", "Adam", "Maria", "James", "Li", "Priya", "Tom", "Anna", "Omar", "Julia",
    "David", "Elena", "Kofi", "Yuki", "Lucas", "Emma", "Noah", "Olivia", "Liam", "Ava", "Ethan",
    "Mia", "Mateo", "Zoe", "Hugo", "Ines", "Raj", "Chen", "Fatima", "Ivan", "Nora", "Pablo",
    "Grace", "Leo", "Rosa", "Sam", "Tara", "Victor", "Wei",
];
const LAST_NAMES: &[&str] = &[
    "Lee", "Smith", "Garcia", "Kim", "Patel", "Nguyen", "Brown", "Müller", "Rossi", "Silva",
    "Khan", "Cohen", "Novak", "Jones", "Taylor", "Wilson", "Martin", "Lopez", "Clark", "Lewis",
    "Walker", "Hall", "Young", "King", "Wright", "Scott", "Green", "Baker", "Adams", "Nelson",
];

/// Roughly the most frequent English words, then a CRM's vocabulary. Earlier words are drawn
/// far more often (see `Gen::word`).
const WORDS: &[&str] = &[
    "the",
    "to",
    "and",
    "a",
    "of",
    "we",
    "in",
    "for",
    "on",
    "is",
    "they",
    "that",
    "it",
    "with",
    "will",
    "be",
    "this",
    "about",
    "their",
    "at",
    "have",
    "are",
    "as",
    "our",
    "not",
    "but",
    "from",
    "or",
    "by",
    "an",
    "was",
    "he",
    "she",
    "would",
    "all",
    "can",
    "there",
    "what",
    "so",
    "if",
    "up",
    "out",
    "some",
    "them",
    "when",
    "which",
    "do",
    "next",
    "more",
    "said",
    "asked",
    "call",
    "week",
    "customer",
    "team",
    "need",
    "also",
    "just",
    "still",
    "because",
    "after",
    "before",
    "again",
    "other",
    "into",
    "over",
    "than",
    "then",
    "now",
    "only",
    "very",
    "new",
    "back",
    "any",
    "these",
    "two",
    "may",
    "first",
    "well",
    "way",
    "even",
    "want",
    "how",
    "most",
    "plan",
    "meeting",
    "follow",
    "sent",
    "quote",
    "pricing",
    "renewal",
    "contract",
    "invoice",
    "billing",
    "seats",
    "users",
    "trial",
    "demo",
    "onboarding",
    "support",
    "ticket",
    "issue",
    "feature",
    "request",
    "roadmap",
    "budget",
    "approval",
    "legal",
    "review",
    "signed",
    "discount",
    "annual",
    "monthly",
    "upgrade",
    "downgrade",
    "cancel",
    "churn",
    "risk",
    "happy",
    "concerned",
    "decision",
    "maker",
    "champion",
    "procurement",
    "security",
    "questionnaire",
    "integration",
    "api",
    "export",
    "report",
    "dashboard",
    "usage",
    "growth",
    "expansion",
    "payment",
    "overdue",
    "reminder",
    "schedule",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "morning",
    "afternoon",
    "email",
    "phone",
    "voicemail",
    "left",
    "message",
    "discussed",
    "agreed",
    "confirmed",
    "waiting",
    "feedback",
    "product",
    "migration",
    "data",
    "account",
    "manager",
    "finance",
    "director",
    "ceo",
    "cto",
    "sales",
    "marketing",
    "office",
    "current",
    "different",
    "parent",
    "company",
    "subsidiary",
    "region",
    "europe",
    "pilot",
    "rollout",
    "training",
    "session",
    "webinar",
    "documentation",
    "bug",
    "fix",
    "release",
    "version",
    "mobile",
    "app",
    "login",
    "sso",
    "permissions",
    "admin",
    "workspace",
    "license",
    "terms",
    "net",
    "days",
    "quarter",
    "quarterly",
    "end",
    "start",
    "date",
    "deadline",
    "priority",
    "high",
    "low",
    "competitor",
    "evaluation",
    "shortlist",
    "reference",
    "case",
    "study",
    "price",
    "increase",
    "volume",
    "tier",
    "enterprise",
    "starter",
    "pro",
    "credit",
    "refund",
    "tax",
    "vat",
    "address",
    "change",
    "contact",
    "details",
    "updated",
    "notes",
    "later",
    "soon",
    "probably",
    "maybe",
    "definitely",
    "wants",
    "could",
    "should",
    "less",
    "already",
    "each",
    "every",
    "another",
    "same",
    "last",
    "few",
    "many",
    "good",
    "great",
    "bad",
    "slow",
    "fast",
    "easy",
    "hard",
    "clear",
    "open",
    "closed",
    "pending",
    "interested",
    "excited",
    "frustrated",
    "busy",
    "away",
    "holiday",
    "travel",
    "conference",
    "visit",
    "onsite",
    "remote",
    "hiring",
    "headcount",
    "merger",
    "acquisition",
    "funding",
    "round",
    "board",
    "investor",
    "strategy",
    "goals",
    "metrics",
    "retention",
    "adoption",
    "engagement",
    "health",
    "score",
    "survey",
    "results",
    "august",
    "audit",
    "author",
    "automatic",
    "thought",
    "through",
    "though",
    "quickly",
    "question",
    "answer",
    "explained",
    "understand",
    "asked",
    "working",
    "looking",
    "planning",
    "thinking",
    "everything",
    "something",
    "nothing",
];
const SUBJECTS: &[&str] = &[
    "Renewal call",
    "Q4 pricing",
    "Onboarding kickoff",
    "Invoice question",
    "Security review",
    "Quarterly business review",
    "Seat expansion",
    "Support escalation",
];

struct Gen {
    rng: fastrand::Rng,
}

impl Gen {
    /// Squaring a uniform draw favours the start of the list, giving a Zipf-like spread.
    fn pick<'a>(&mut self, list: &[&'a str]) -> &'a str {
        let u = self.rng.f64();
        list[((u * u * list.len() as f64) as usize).min(list.len() - 1)]
    }

    fn text(&mut self) -> String {
        let target = self.rng.usize(60..=600);
        let mut out = String::with_capacity(target + 16);
        let mut capital = true;
        while out.len() < target {
            if !out.is_empty() {
                out.push(' ');
            }
            let word = self.pick(WORDS);
            if capital {
                let mut chars = word.chars();
                out.extend(chars.next().map(|c| c.to_ascii_uppercase()));
                out.push_str(chars.as_str());
                capital = false;
            } else {
                out.push_str(word);
            }
            match self.rng.u8(0..20) {
                0 | 1 => {
                    out.push('.');
                    capital = true;
                }
                2 => out.push(','),
                _ => {}
            }
        }
        out.push('.');
        out
    }
}

fn authors(rng: &mut fastrand::Rng) -> Vec<(String, Option<String>)> {
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    // The first two are sure to exist, so that `author:sara` finds someone.
    for (first, last) in [("Sara", "Lee"), ("Sarah", "Kim")] {
        seen.insert((first, last));
        out.push((first, last));
    }
    while out.len() < AUTHORS {
        let pair = (
            FIRST_NAMES[rng.usize(..FIRST_NAMES.len())],
            LAST_NAMES[rng.usize(..LAST_NAMES.len())],
        );
        if seen.insert(pair) {
            out.push(pair);
        }
    }
    out.into_iter()
        .map(|(first, last)| {
            let email = (rng.u8(..10) != 0)
                .then(|| format!("{}.{}@acme.test", first.to_lowercase(), last.to_lowercase()));
            (format!("{first} {last}"), email)
        })
        .collect()
}

fn notes() -> Vec<Note> {
    let mut g = Gen {
        rng: fastrand::Rng::with_seed(0xf117e5),
    };
    let authors = authors(&mut g.rng);
    let newest = Timestamp::from_second(1_800_000_000).expect("a valid timestamp");
    (0..NOTES)
        .map(|i| {
            // A few authors write most notes.
            let u = g.rng.f64();
            let (name, email) = &authors[((u * u * u) * AUTHORS as f64) as usize % AUTHORS];
            let kind = match g.rng.u8(..100) {
                0..40 => NoteKind::Call,
                40..95 => NoteKind::Note,
                _ => NoteKind::Other("Meeting".to_string()),
            };
            Note {
                id: format!("note_{i}"),
                customer_id: Some("cus_1".to_string()),
                call_duration_s: (kind == NoteKind::Call).then_some(900),
                kind,
                author_name: Some(name.clone()),
                author_email: email.clone(),
                text: g.text(),
                created_at: newest - SignedDuration::from_secs(i as i64 * 37),
                updated_at: None,
                subject: (g.rng.u8(..4) == 0).then(|| g.pick(SUBJECTS).to_string()),
                web_url: None,
                extras: NoteExtras::default(),
            }
        })
        .collect()
}

/// The bar's contents after each keystroke of `query`.
fn keystrokes(query: &str) -> Vec<&str> {
    query
        .char_indices()
        .map(|(i, c)| &query[..i + c.len_utf8()])
        .collect()
}

fn now() -> Timestamp {
    Timestamp::from_second(1_800_000_600).expect("a valid timestamp")
}

/// One keystroke as the app does it: parse the bar, run the filter.
fn keystroke(index: &mut FilterIndex, notes: &[Note], typed: &str) -> (Duration, usize) {
    let start = Instant::now();
    let filter = Filter::parse(typed, now(), &TimeZone::UTC).filter;
    let found = index.run(&filter, notes).len();
    (start.elapsed(), black_box(found))
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

/// The notes' own memory: the structs and their strings' buffers.
fn note_bytes(notes: &[Note]) -> usize {
    let strings = |note: &Note| {
        [
            Some(&note.id),
            note.customer_id.as_ref(),
            note.author_name.as_ref(),
            note.author_email.as_ref(),
            Some(&note.text),
            note.subject.as_ref(),
        ]
        .into_iter()
        .flatten()
        .map(String::capacity)
        .sum::<usize>()
    };
    notes
        .iter()
        .map(|n| std::mem::size_of::<Note>() + strings(n))
        .sum()
}

/// An estimate of the notes' size as the CLI's JSON lines, for the memory budget.
fn json_bytes(notes: &[Note]) -> usize {
    let sample = notes.iter().step_by(1_000);
    let (count, bytes) = sample.fold((0usize, 0usize), |(count, bytes), note| {
        let line = serde_json::json!({
            "account": "acme", "provider": "chartmogul", "id": note.id,
            "customer_id": note.customer_id, "type": note.kind.as_str(),
            "author_name": note.author_name, "author_email": note.author_email,
            "text": note.text, "call_duration_s": note.call_duration_s,
            "created_at": note.created_at.to_string(), "updated_at": null,
            "subject": note.subject,
        });
        (count + 1, bytes + line.to_string().len() + 1)
    });
    bytes / count.max(1) * notes.len()
}

#[derive(Default)]
struct Summary {
    typing_worst: (Duration, String),
    /// The worst keystroke once `author:sara` is complete (the budget's case).
    typing_worst_with_author: (Duration, String),
    typing_total: Duration,
    typing_keys: u32,
    cold: Vec<Duration>,
    free_worst: (Duration, String),
}

fn filter(c: &mut Criterion) {
    let notes = notes();
    let mut index = FilterIndex::new();
    let started = Instant::now();
    index.rebuild(&notes);
    let built = started.elapsed();
    let summary = RefCell::new(Summary::default());
    let typed = keystrokes(QUERY);
    // One pass printed keystroke by keystroke, to see where the time goes.
    index.forget_previous();
    let profile: Vec<String> = typed
        .iter()
        .map(|t| {
            let (took, found) = keystroke(&mut index, &notes, t);
            format!("{t:?} {:.1}ms/{found}", took.as_secs_f64() * 1e3)
        })
        .collect();
    println!("keystrokes (time/matches): {}", profile.join(", "));
    c.bench_function(
        "filter 1M: type `author:sara type:call renewal` (mean per keystroke)",
        |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                let mut s = summary.borrow_mut();
                for _ in 0..iters {
                    // The bar opens empty: nothing to narrow from.
                    index.forget_previous();
                    for &t in &typed {
                        let (took, _) = keystroke(&mut index, &notes, t);
                        total += took;
                        s.typing_total += took;
                        s.typing_keys += 1;
                        if took > s.typing_worst.0 {
                            s.typing_worst = (took, t.to_string());
                        }
                        if t.starts_with("author:sara") && took > s.typing_worst_with_author.0 {
                            s.typing_worst_with_author = (took, t.to_string());
                        }
                    }
                }
                total / typed.len() as u32
            })
        },
    );

    c.bench_function("filter 1M: `author:sara type:call renewal` cold", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                index.forget_previous();
                let (took, _) = keystroke(&mut index, &notes, QUERY);
                summary.borrow_mut().cold.push(took);
                total += took;
            }
            total
        })
    });

    // Find the slowest free-text keystroke, then measure it properly.
    let mut probes = Vec::new();
    for word in FREE_TEXT_PROBES {
        index.forget_previous();
        for t in keystrokes(word) {
            let (took, found) = keystroke(&mut index, &notes, t);
            probes.push(format!("{t:?} {:.1}ms/{found}", took.as_secs_f64() * 1e3));
            let mut s = summary.borrow_mut();
            if took > s.free_worst.0 {
                s.free_worst = (took, t.to_string());
            }
        }
    }
    println!("free text (time/matches): {}", probes.join(", "));
    let worst_typed = summary.borrow().free_worst.1.clone();
    let before: String = {
        let mut chars = worst_typed.chars();
        chars.next_back();
        chars.as_str().to_string()
    };
    c.bench_function(
        &format!("filter 1M: free text, worst keystroke `{before}` → `{worst_typed}`"),
        |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    index.forget_previous();
                    keystroke(&mut index, &notes, &before);
                    total += keystroke(&mut index, &notes, &worst_typed).0;
                }
                total
            })
        },
    );
    let mut free_worst_runs: Vec<Duration> = (0..10)
        .map(|_| {
            index.forget_previous();
            keystroke(&mut index, &notes, &before);
            keystroke(&mut index, &notes, &worst_typed).0
        })
        .collect();
    free_worst_runs.sort();

    let s = summary.borrow();
    let mut cold = s.cold.clone();
    cold.sort();
    let median = |v: &[Duration]| v.get(v.len() / 2).copied().unwrap_or_default();
    let json = json_bytes(&notes);
    println!(
        "filter summary (1M notes, {} threads): typing `{QUERY}`: mean {} per keystroke, worst {} \
         (`{}`), worst once `author:sara` is typed {} (`{}`); cold full query: median {}; free \
         text alone, worst keystroke `{worst_typed}`: median {} (first found {}); index build {}; \
         memory per note: notes {} B + index {} B, JSON ~{} B",
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        ms(s.typing_total / s.typing_keys.max(1)),
        ms(s.typing_worst.0),
        s.typing_worst.1,
        ms(s.typing_worst_with_author.0),
        s.typing_worst_with_author.1,
        ms(median(&cold)),
        ms(median(&free_worst_runs)),
        ms(s.free_worst.0),
        ms(built),
        note_bytes(&notes) / NOTES,
        index.heap_bytes() / NOTES,
        json / NOTES,
    );
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10);
    targets = filter
}
criterion_main!(benches);
