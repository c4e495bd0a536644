//! Builders for Peoplevine objects in wire format, and the deterministic demo account of a
//! members' club that `--demo`, `demo-server` and the tests serve.

use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};

use super::{PeoplevineData, wire_time};

/// Club staff: id, first name, last name, email, role. They write the notes, are assigned to
/// them and post in their threads.
const STAFF: [(i64, &str, &str, &str, &str); 5] = [
    (
        511,
        "Maya",
        "Patel",
        "maya.patel@harbourclub.example",
        "Membership Director",
    ),
    (
        512,
        "Tom",
        "Becker",
        "tom.becker@harbourclub.example",
        "Head Concierge",
    ),
    (
        513,
        "Inès",
        "Moreau",
        "ines.moreau@harbourclub.example",
        "Events Manager",
    ),
    (
        514,
        "Kwame",
        "Mensah",
        "kwame.mensah@harbourclub.example",
        "Member Relations",
    ),
    (515, "Sara", "Lee", "sara@club.example", "Member Services"),
];

/// A `User` object as the API embeds it (`user`, `posted_by`, assignees).
pub fn staff_user(first: &str, last: &str, email: &str, role: &str) -> Value {
    json!({
        "status": "active",
        "first_name": first,
        "last_name": last,
        "full_name": format!("{first} {last}").trim(),
        "email": email,
        "username": email,
        "profile_photo": null,
        "employee_id": null,
        "mobile_number": null,
        "business_location_id": null,
        "enable2_fa": "false",
        "modified_on": "2025-09-01T08:00:00.000Z",
        "created_by": "admin",
        "role": role,
    })
}

/// The user object of a staff member by id (for `assignees` in writes).
pub fn staff_by_id(id: i64) -> Option<Value> {
    STAFF
        .iter()
        .find(|s| s.0 == id)
        .map(|&(_, first, last, email, role)| staff_user(first, last, email, role))
}

fn staff(i: usize) -> Value {
    let (_, first, last, email, role) = STAFF[i % STAFF.len()];
    staff_user(first, last, email, role)
}

/// A customer as `GET /api/customers` returns it; an empty email or company becomes `null`.
#[expect(
    clippy::too_many_arguments,
    reason = "a builder of wire objects: every argument is a field"
)]
pub fn customer(
    id: i64,
    first: &str,
    last: &str,
    email: &str,
    company: &str,
    category: &str,
    status: &str,
    created_on: Timestamp,
) -> Value {
    let mut rng = fastrand::Rng::with_seed(id as u64);
    let number = format!("7700 9{:05}", rng.u32(..100_000));
    json!({
        "id": id,
        "full_name": format!("{first} {last}").trim(),
        "first_name": first,
        "last_name": last,
        "company_name": non_empty(company),
        "company_title": null,
        "email": non_empty(email),
        "mobile": {"country_code": "+44", "number": number, "full": format!("+44 {number}")},
        "phone": null,
        "category": category,
        "status": status,
        "type": if category == "Applicant" { "lead" } else { "member" },
        "is_member": category != "Applicant",
        "vip": category == "Founding Member",
        "flag": "",
        "locale": "en-GB",
        "created_on": wire_time(created_on),
        "modified_on": wire_time(created_on),
    })
}

/// The `CustomerSummary` a note embeds, from a customer object.
pub fn customer_summary(customer: &Value) -> Value {
    let field = |key: &str| customer.get(key).cloned().unwrap_or(Value::Null);
    json!({
        "company_name": field("company_name"),
        "company_title": field("company_title"),
        "first_name": field("first_name"),
        "middle_name": null,
        "last_name": field("last_name"),
        "full_name": field("full_name"),
        "locale": field("locale"),
        "is_member": field("is_member"),
        "was_member": false,
        "has_applied": true,
        "flag": field("flag"),
        "email": field("email"),
        "mobile": field("mobile"),
        "phone": field("phone"),
        "profile_photo": null,
        "vip": field("vip"),
        "home_house_id": null,
        "birthdate": null,
        "anniversary_date": null,
        "created_on": field("created_on"),
    })
}

/// What a note says, apart from who and when.
#[derive(Clone, Copy)]
struct Content {
    kind: Option<&'static str>,
    subject: &'static str,
    /// HTML; `{first}` is the member's first name. A call's duration line is added on top.
    details: &'static str,
    tags: &'static [&'static str],
    priority: bool,
    confidential: bool,
    /// Messages of the thread: (staff index, text), oldest first.
    thread: &'static [(usize, &'static str)],
}

const fn note_of(subject: &'static str, details: &'static str) -> Content {
    Content {
        kind: Some("note"),
        subject,
        details,
        tags: &[],
        priority: false,
        confidential: false,
        thread: &[],
    }
}

const fn call_of(subject: &'static str, details: &'static str) -> Content {
    Content {
        kind: Some("call"),
        ..note_of(subject, details)
    }
}

/// A note as the API returns it. `call_minutes` puts the duration line first on a call.
#[expect(
    clippy::too_many_arguments,
    reason = "a builder of wire objects: every argument is a field"
)]
fn note(
    id: i64,
    customer: &Value,
    content: &Content,
    first_name: &str,
    author: usize,
    created_on: Timestamp,
    call_minutes: u32,
    status: &str,
    reminder: Option<Timestamp>,
    assignees: &[usize],
) -> Value {
    let mut details = content.details.replace("{first}", first_name);
    if content.kind == Some("call") && call_minutes > 0 {
        details = format!("Call duration: {call_minutes}m<br>{details}");
    }
    let messages: Vec<Value> = content
        .thread
        .iter()
        .enumerate()
        .map(|(i, (who, text))| {
            let at = created_on + SignedDuration::from_mins(45 * (i as i64 + 1));
            json!({
                "id": id * 10 + i as i64,
                "message": text.replace("{first}", first_name),
                "attachment": null,
                "posted_by": staff(*who),
                "created_on": wire_time(at),
            })
        })
        .collect();
    json!({
        "id": id,
        "reference_type": "customer",
        "reference_id": customer["id"],
        "type": content.kind,
        "details": details,
        "created_on": wire_time(created_on),
        "status": status,
        "reminder": reminder.map(wire_time),
        "user_id": STAFF[author % STAFF.len()].0,
        "company_id": 1234,
        "customer_id": customer["id"],
        "confidential": content.confidential,
        "priority": content.priority,
        "tags": if content.tags.is_empty() { Value::Null } else { json!(content.tags) },
        "subject": content.subject,
        "customer": customer_summary(customer),
        "user": staff(author),
        "assignees": assignees.iter().map(|&i| staff(i)).collect::<Vec<_>>(),
        "messages": messages,
    })
}

/// Terminal escapes (OSC 52 clipboard write, colours, clear screen), a carriage return and a
/// bidi override, in the subject, the details and a message: none may take effect on screen.
pub const HOSTILE_DETAILS: &str = "Pasted from the member's email:<br>\u{1b}[31mURGENT\u{1b}[0m card declined\u{1b}]52;c;ZXZpbA==\u{7} see attached \u{202E}fdp.exe\u{202C}\u{1b}[2J\rthanks!";

const FIXED: [(f64, u32, usize, &str, Content); 10] = [
    (
        0.08,
        12,
        4,
        "open",
        Content {
            thread: &[
                (0, "Approved the founding-member rate."),
                (4, "Sent the renewal form."),
            ],
            tags: &["renewal"],
            ..call_of(
                "Renewal: annual plan",
                "{first} would like to move to the <b>annual</b> plan from January.<br>Asked whether the founding-member rate still applies.",
            )
        },
    ),
    (
        0.9,
        0,
        2,
        "open",
        Content {
            tags: &["events", "dietary"],
            confidential: true,
            thread: &[
                (2, "Chef is aware; gluten-free menu for table 4."),
                (1, "Seating card printed."),
                (4, "{first} confirmed by email, thank you!"),
            ],
            ..note_of(
                "Winter gala: dietary needs",
                "<p>{first} is coeliac.</p><ul><li>No gluten</li><li>Seat away from the band</li></ul>",
            )
        },
    ),
    (
        2.5,
        0,
        3,
        "closed",
        Content {
            tags: &["complaint"],
            priority: true,
            thread: &[(3, "Apologised in person; drinks voucher sent.")],
            ..note_of(
                "Complaint: noise in the library",
                "<p>A private dinner next to the library ran late on Thursday.</p><p>{first} could not work; asked us to check the events calendar &amp; room bookings.</p>",
            )
        },
    ),
    (
        4.0,
        0,
        0,
        "open",
        Content {
            tags: &["billing"],
            priority: true,
            confidential: true,
            thread: &[
                (0, "Finance: POS receipts requested."),
                (0, "Finance: one charge is a duplicate, refund approved."),
            ],
            ..note_of(
                "Bar tab dispute (October)",
                "Disputes two charges on the October bar tab (&pound;46.50 and &pound;18.00).<br>Finance to check the receipts.",
            )
        },
    ),
    (
        6.0,
        0,
        1,
        "closed",
        note_of(
            "Pasted from ticket \u{1b}[31mURGENT\u{1b}[0m",
            HOSTILE_DETAILS,
        ),
    ),
    (
        9.0,
        25,
        2,
        "closed",
        call_of(
            "Private dinner for 14",
            "Discussed a private dinner in the Blue Room on the 14th.<br>Menu B, wine pairing, vegetarian option for two guests.",
        ),
    ),
    (
        15.0,
        0,
        1,
        "closed",
        note_of(
            "Reciprocal club access",
            "Travelling to New York next month; asked for a letter of introduction to our reciprocal club.",
        ),
    ),
    (
        23.0,
        0,
        4,
        "closed",
        Content {
            kind: None,
            ..note_of(
                "Locker reassigned",
                "Locker 14 → 22 (ground floor). Key handed over at reception.",
            )
        },
    ),
    (
        40.0,
        5,
        3,
        "closed",
        call_of("Missed call", "Left a voicemail about the summer party."),
    ),
    (
        75.0,
        0,
        0,
        "",
        Content {
            kind: Some("email"),
            tags: &["welcome"],
            ..note_of(
                "Welcome pack sent",
                "<p>Welcome pack and house rules sent by email.</p><p>Induction booked with Tom.</p>",
            )
        },
    ),
];

const TEMPLATES: [Content; 14] = [
    Content {
        tags: &["renewal"],
        ..note_of(
            "Membership renewal",
            "Renewal due at the end of the month.<br>{first} asked about paying quarterly.",
        )
    },
    Content {
        tags: &["dietary"],
        confidential: true,
        thread: &[(2, "Kitchen informed.")],
        ..note_of(
            "Dietary requirements",
            "<p>{first} is vegetarian and allergic to nuts.</p><p>Added to the profile for events.</p>",
        )
    },
    note_of(
        "Guest policy question",
        "Asked how many guests can be brought at weekends.<br>Sent the house rules (three guests, Sundays only for the pool).",
    ),
    Content {
        tags: &["complaint"],
        priority: true,
        thread: &[(3, "Called {first} back; happy with the outcome.")],
        ..note_of(
            "Complaint: slow service at brunch",
            "<p>Waited 40 minutes for brunch on Sunday.</p><p>Offered brunch for two on the house.</p>",
        )
    },
    Content {
        tags: &["events"],
        ..note_of(
            "Event RSVP",
            "Confirmed two seats for the wine tasting; partner's name on file.",
        )
    },
    Content {
        tags: &["billing"],
        confidential: true,
        thread: &[(0, "Card updated, payment retried successfully.")],
        ..note_of(
            "Payment failed",
            "Monthly dues payment was declined.<br>{first} will update the card this week.",
        )
    },
    note_of(
        "Spa booking",
        "Booked a massage for Saturday 10:00; asked for Anja if available.",
    ),
    Content {
        thread: &[(1, "Card re-encoded at reception.")],
        ..note_of(
            "Card not working at the door",
            "Membership card rejected at the side entrance twice this week.",
        )
    },
    Content {
        tags: &["applications"],
        ..note_of(
            "Proposing a new member",
            "{first} is proposing a colleague for membership; application form sent &amp; seconder needed.",
        )
    },
    note_of(
        "Change of address",
        "New billing address received by email; profile updated.",
    ),
    call_of(
        "Renewal questions",
        "Walked through the annual plan and the family add-on.",
    ),
    call_of(
        "Event catering",
        "Catering for a birthday lunch for 20 in the garden room.<br>Quote to follow.",
    ),
    Content {
        thread: &[(1, "Booking restored for Friday 19:30.")],
        ..call_of(
            "Lost booking",
            "{first} called about a dinner booking that was not on the system.",
        )
    },
    call_of(
        "Feedback on the new menu",
        "Very happy with the new menu; would like more vegetarian mains.",
    ),
];

const FIRST_NAMES: [&str; 24] = [
    "Eleanor", "Oliver", "Amara", "James", "Sofia", "Henry", "Priya", "Lucas", "Chloé", "Daniel",
    "Aisha", "Thomas", "Mei", "Samuel", "Freya", "Rafael", "Hannah", "Kenji", "Isla", "Mateo",
    "Zara", "William", "Lena", "Omar",
];
const LAST_NAMES: [&str; 20] = [
    "Vance",
    "Okafor",
    "Hughes",
    "Lindqvist",
    "Castillo",
    "Nakamura",
    "Whitaker",
    "Brennan",
    "Rossi",
    "Adeyemi",
    "Fischer",
    "O'Connell",
    "Sharma",
    "Duarte",
    "Kowalski",
    "Achterberg",
    "Moreno",
    "Campbell",
    "Haddad",
    "Ellison",
];
const COMPANIES: [&str; 12] = [
    "Vance & Partners",
    "Northlight Studio",
    "Harbour Capital",
    "Okafor Architects",
    "Bluefin Media",
    "Castillo Wines",
    "Meridian Health",
    "Foundry Ventures",
    "Kestrel Legal",
    "Atlas Shipping",
    "Greenway Foods",
    "Lumen Design",
];
const CATEGORIES: [&str; 5] = [
    "Founding Member",
    "Full Member",
    "Full Member",
    "Junior Member",
    "Applicant",
];

/// How many members the demo has.
pub const DEMO_CUSTOMERS: usize = 36;

/// The demo club: deterministic for a seed, times relative to `now` (so it looks recent).
/// The first member, Eleanor Vance, has a rich timeline: calls with their duration line,
/// threads, open and closed notes, a note without a type, one with the reference's `""`
/// status, and one hostile note full of escape sequences. A few members have no notes.
pub fn demo_data(now: Timestamp, seed: u64) -> PeoplevineData {
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut data = PeoplevineData::default();
    let at = |days_ago: f64| now - SignedDuration::from_secs_f64(days_ago.max(0.0) * 86_400.0);
    let mut note_id = 101;
    for i in 0..DEMO_CUSTOMERS {
        let id = 20_001 + i as i64;
        let (first, last) = if i == 0 {
            ("Eleanor", "Vance")
        } else {
            (
                FIRST_NAMES[rng.usize(..FIRST_NAMES.len())],
                LAST_NAMES[rng.usize(..LAST_NAMES.len())],
            )
        };
        let company = if i == 0 {
            "Vance & Partners"
        } else if rng.u8(..100) < 55 {
            COMPANIES[rng.usize(..COMPANIES.len())]
        } else {
            ""
        };
        let category = if i == 0 {
            "Founding Member"
        } else {
            CATEGORIES[rng.usize(..CATEGORIES.len())]
        };
        let status = if category == "Applicant" {
            "pending"
        } else if rng.u8(..100) < 8 {
            "inactive"
        } else {
            "active"
        };
        let email = if i > 0 && rng.u8(..100) < 5 {
            String::new()
        } else {
            let local = format!("{first}.{last}")
                .to_lowercase()
                .replace(['\'', ' '], "")
                .replace('é', "e");
            format!("{local}@members.example")
        };
        let joined = at(30.0 + rng.f64() * 1_500.0);
        let c = customer(id, first, last, &email, company, category, status, joined);

        if i == 0 {
            for (days_ago, minutes, author, status, content) in &FIXED {
                let created = at(*days_ago);
                let reminder =
                    (*status == "open").then(|| at(-3.0) + SignedDuration::from_hours(2));
                let assignees: &[usize] = if *status == "open" { &[0, 3] } else { &[] };
                data.notes.push(note(
                    note_id, &c, content, first, *author, created, *minutes, status, reminder,
                    assignees,
                ));
                note_id += 1;
            }
        } else if i % 11 != 5 {
            for _ in 0..rng.usize(1..=9) {
                let content = &TEMPLATES[rng.usize(..TEMPLATES.len())];
                let days_ago = rng.f64() * 365.0;
                let open = days_ago < 30.0 && rng.bool();
                let minutes = if content.kind == Some("call") {
                    [3, 5, 8, 12, 15, 20, 30, 45][rng.usize(..8)]
                } else {
                    0
                };
                let reminder = (open && rng.bool())
                    .then(|| at(-(rng.f64() * 10.0)) + SignedDuration::from_hours(1));
                let assignees: Vec<usize> = (0..rng.usize(..=2))
                    .map(|_| rng.usize(..STAFF.len()))
                    .collect();
                data.notes.push(note(
                    note_id,
                    &c,
                    content,
                    first,
                    rng.usize(..STAFF.len()),
                    at(days_ago),
                    minutes,
                    if open { "open" } else { "closed" },
                    reminder,
                    &assignees,
                ));
                note_id += 1;
            }
        }
        data.customers.push(c);
    }
    // Members in name order, as the club's member list shows them, Eleanor first.
    data.customers.sort_by_key(|c| {
        let id = c["id"].as_i64().unwrap_or_default();
        (
            id != 20_001,
            c["full_name"].as_str().unwrap_or_default().to_string(),
        )
    });
    data
}

fn non_empty(s: &str) -> Value {
    if s.is_empty() { Value::Null } else { json!(s) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_data_is_deterministic_and_realistic() {
        let now: Timestamp = "2026-11-20T14:02:00Z".parse().expect("now");
        let data = demo_data(now, 7);
        assert_eq!(
            serde_json::to_string(&data.notes).ok(),
            serde_json::to_string(&demo_data(now, 7).notes).ok()
        );
        assert_eq!(data.customers.len(), DEMO_CUSTOMERS);
        assert_eq!(data.customers[0]["full_name"], "Eleanor Vance");
        assert!(data.notes.len() > 100, "{}", data.notes.len());
        let mut ids: Vec<i64> = data.notes.iter().filter_map(|n| n["id"].as_i64()).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), data.notes.len(), "note ids are unique");
        let calls_with_duration = data
            .notes
            .iter()
            .filter(|n| n["type"] == "call")
            .filter(|n| {
                n["details"]
                    .as_str()
                    .is_some_and(|d| d.starts_with("Call duration: "))
            })
            .count();
        assert!(calls_with_duration > 5, "{calls_with_duration}");
        for key in ["priority", "confidential"] {
            assert!(data.notes.iter().any(|n| n[key] == true), "{key}");
        }
        assert!(data.notes.iter().any(|n| n["status"] == "open"));
        assert!(data.notes.iter().any(|n| n["reminder"].is_string()));
        assert!(
            data.notes
                .iter()
                .any(|n| n["messages"].as_array().is_some_and(|m| m.len() >= 2))
        );
        assert!(
            data.notes
                .iter()
                .any(|n| n["details"].as_str().is_some_and(|d| d.contains('\u{1b}')))
        );
        assert!(data.notes.iter().all(|n| {
            n["created_on"]
                .as_str()
                .is_some_and(|t| t.parse::<Timestamp>().is_ok_and(|t| t <= now))
        }));
    }
}
