//! Builders for ActivePlatform resources in wire format, and the deterministic demo reseller that
//! `--demo` and `demo-server` serve: a hosting and cloud reseller's accounts, with notes on the
//! accounts, their subscriptions and their orders, by managers and by "System".

use jiff::Timestamp;
use jiff::tz::{Offset, TimeZone};
use serde_json::{Value, json};

use super::ActivePlatformData;
use crate::demo::data::HOSTILE_NOTE;
use crate::duration::format_duration_input;

const DAY_MS: i64 = 86_400_000;
/// The panel's time zone in the reference example (`+03:00`).
const PANEL_OFFSET_HOURS: i8 = 3;
/// Where signed attachment links point (an object store beside the panel, as in the reference).
const STORAGE: &str = "https://storage.panel.example.com/private/uploads/note/attachment";

/// What a note is attached to; the ids are the entities' own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target<'a> {
    Account,
    Subscription(&'a str),
    Order(&'a str),
    ManualOperation(&'a str),
    Discount(&'a str),
}

impl Target<'_> {
    /// `original_type`, `original_id` and the panel path segment of the entity.
    fn wire(&self) -> (Option<&'static str>, Option<&str>, &'static str) {
        match *self {
            Target::Account => (None, None, "accounts"),
            Target::Subscription(id) => (Some("Subscription"), Some(id), "subscriptions"),
            Target::Order(id) => (Some("Order"), Some(id), "orders"),
            Target::ManualOperation(id) => (Some("ManualOperation"), Some(id), "manual_operations"),
            Target::Discount(id) => (Some("Discount"), Some(id), "discounts"),
        }
    }
}

/// An account resource as `GET …/accounts` returns it. `contact` is the account's person (for
/// an individual, the account itself: pass `primary_name: None`). Phone, place and balance are
/// derived from `name`, so the same arguments give the same object.
pub fn account(
    id: Value,
    name: &str,
    primary_name: Option<&str>,
    contact: (&str, &str),
    email: &str,
    status: &str,
) -> Value {
    let mut rng = fastrand::Rng::with_seed(fnv1a(name));
    let (country, city) = PLACES[rng.usize(..PLACES.len())];
    let balance = rng.i64(-40_000..250_000);
    let created = Timestamp::from_second(1_600_000_000 + rng.i64(..100_000_000))
        .unwrap_or(Timestamp::UNIX_EPOCH);
    json!({
        "id": id,
        "type": "accounts",
        "attributes": {
            "name": name,
            "primary_name": primary_name,
            "first_name": contact.0,
            "last_name": contact.1,
            "email": if email.is_empty() { Value::Null } else { json!(email) },
            "phone": format!("+{} {:03} {:04}", rng.u8(1..99), rng.u16(100..999), rng.u16(..10_000)),
            "country": country,
            "city": city,
            "status": status,
            "balance": format!("{}.{:02}", balance / 100, (balance % 100).abs()),
            "created_at": panel_time(created),
        },
    })
}

/// A note resource as `GET …/notes` returns it, plus the fake's `meta.account_id` hint (see
/// `ActivePlatformData`). `updated_at` equals `created_at`, both like
/// `2023-03-27T11:35:12.509+03:00`.
pub fn note(
    id: u64,
    account_id: &str,
    target: Target<'_>,
    creator: &str,
    content: &str,
    created_at: Timestamp,
    attachment: Option<Value>,
) -> Value {
    let (original_type, original_id, entities) = target.wire();
    let owner = original_id.unwrap_or(account_id);
    let at = panel_time(created_at);
    json!({
        "id": id.to_string(),
        "type": "notes",
        "meta": {"account_id": account_id},
        "attributes": {
            "created_at": at,
            "updated_at": at,
            "content": content,
            "creator": creator,
            "original_link": format!("/admin/{entities}/{owner}/notes/{id}"),
            // An integer, as in the reference; kept as given when it is not a number.
            "original_id": original_id.map(|oid| oid.parse::<u64>().map_or_else(|_| json!(oid), |n| json!(n))),
            "original_type": original_type,
            "attachment": attachment,
        },
    })
}

/// An attachment with a signed, expiring link like the panel's; `size` as given (the API sends
/// a number or a string).
pub fn attachment(note_id: u64, name: &str, size: Value) -> Value {
    let url = reqwest::Url::parse(STORAGE).ok().map(|mut url| {
        if let Ok(mut segments) = url.path_segments_mut() {
            segments.push(&note_id.to_string()).push(name);
        }
        let hash: String = {
            let mut rng = fastrand::Rng::with_seed(fnv1a(name) ^ note_id);
            (0..8).map(|_| rng.alphanumeric()).collect()
        };
        url.query_pairs_mut()
            .append_pair("expires", &(1_900_000_000 + note_id).to_string())
            .append_pair("hash", &hash);
        url.to_string()
    });
    json!({"name": name, "url": url, "size": size})
}

/// A time as the panel writes it: milliseconds and the panel's `+03:00` offset.
pub fn panel_time(at: Timestamp) -> String {
    at.to_zoned(TimeZone::fixed(Offset::constant(PANEL_OFFSET_HOURS)))
        .strftime("%Y-%m-%dT%H:%M:%S%.3f%:z")
        .to_string()
}

/// The demo reseller: deterministic for a seed, times relative to `now`. The first account,
/// Northwind Traders, has a rich timeline (more than one page of notes, a call, HTML, attachments
/// with the size as a string and as a number, "System" notes, one hostile note full of escape
/// sequences); the others have a few notes each, some none.
pub fn demo_data(now: Timestamp, seed: u64) -> ActivePlatformData {
    let mut rng = fastrand::Rng::with_seed(seed);
    let now_ms = now.as_millisecond();
    let mut data = ActivePlatformData::default();
    let mut owned: Vec<Owned> = Vec::with_capacity(ACCOUNTS.len());
    let mut entity_counter = 0u64;
    for (i, spec) in ACCOUNTS.iter().enumerate() {
        let id_number = 29 + 3 * i as u64;
        // Most ids come as strings, some as integers: the API sends either.
        let id = if i % 5 == 3 {
            json!(id_number)
        } else {
            json!(id_number.to_string())
        };
        let status = if i == 0 {
            "Active"
        } else {
            weighted(&mut rng, &STATUSES)
        };
        let email = if i % 11 == 7 {
            String::new()
        } else {
            format!("{}@{}", spec.mailbox, spec.domain)
        };
        data.accounts.push(account(
            id,
            spec.name,
            spec.legal,
            spec.contact,
            &email,
            status,
        ));
        let subscriptions = if i == 0 { 3 } else { 1 + rng.usize(..3) };
        let mut subs = Vec::with_capacity(subscriptions);
        for _ in 0..subscriptions {
            entity_counter += 1;
            let product = PRODUCTS[rng.usize(..PRODUCTS.len())];
            subs.push(((100 + entity_counter * 7).to_string(), product));
        }
        let orders = (0..1 + rng.usize(..2))
            .map(|_| {
                entity_counter += 1;
                (5_000 + entity_counter * 13).to_string()
            })
            .collect();
        owned.push(Owned {
            id: id_number.to_string(),
            contact: spec.contact.0,
            subscriptions: subs,
            orders,
        });
    }

    let mut specs: Vec<Spec> = Vec::new();
    let northwind = &owned[0];
    for fixed in &NORTHWIND {
        let target = match fixed.target {
            'a' => Pick::Account,
            's' => Pick::Subscription(fixed.index),
            'o' => Pick::Order(fixed.index),
            _ => Pick::Discount,
        };
        let content = if fixed.call_minutes > 0 {
            format!(
                "Call ({}): {}",
                format_duration_input(fixed.call_minutes * 60),
                fixed.text
            )
        } else {
            fixed.text.to_string()
        };
        specs.push(Spec {
            at_ms: now_ms - (fixed.days_ago * DAY_MS as f64) as i64 - 41_377,
            account: 0,
            target,
            creator: fixed.creator,
            content,
            attachment: fixed
                .attachment
                .map(|(name, size)| (name.to_string(), size)),
        });
    }
    // Enough more for Northwind that its timeline runs over a page of 50.
    for _ in 0..46 {
        specs.push(random_note(&mut rng, now_ms, 0, northwind));
    }
    for (i, who) in owned.iter().enumerate().skip(1) {
        let count = if i % 7 == 4 {
            0
        } else {
            weighted(&mut rng, &[(1, 30), (3, 35), (6, 25), (10, 10)])
        };
        for _ in 0..count {
            specs.push(random_note(&mut rng, now_ms, i, who));
        }
    }

    // Ids rise with time, as in the reference (5 before 12); the list is oldest first.
    specs.sort_by_key(|s| s.at_ms);
    for (n, spec) in specs.into_iter().enumerate() {
        let id = 1_001 + n as u64;
        let who = &owned[spec.account];
        let target = match spec.target {
            Pick::Account => Target::Account,
            Pick::Subscription(k) => {
                Target::Subscription(&who.subscriptions[k % who.subscriptions.len()].0)
            }
            Pick::Order(k) => Target::Order(&who.orders[k % who.orders.len()]),
            Pick::ManualOperation => Target::ManualOperation("7"),
            Pick::Discount => Target::Discount("3"),
        };
        let attachment = spec.attachment.map(|(name, size)| {
            // Sizes come as numbers or as numeric strings; the demo shows both.
            let size = if id % 2 == 0 {
                json!(size)
            } else {
                json!(size.to_string())
            };
            attachment(id, &name, size)
        });
        let at = Timestamp::from_millisecond(spec.at_ms).unwrap_or(Timestamp::UNIX_EPOCH);
        data.notes.push(note(
            id,
            &who.id,
            target,
            spec.creator,
            &spec.content,
            at,
            attachment,
        ));
    }
    data
}

/// An account's entities, for notes to hang on.
struct Owned {
    id: String,
    contact: &'static str,
    /// `(id, product)`.
    subscriptions: Vec<(String, &'static str)>,
    orders: Vec<String>,
}

/// A note before ids are given out (they follow time order).
struct Spec {
    at_ms: i64,
    account: usize,
    target: Pick,
    creator: &'static str,
    content: String,
    attachment: Option<(String, u64)>,
}

#[derive(Clone, Copy)]
enum Pick {
    Account,
    /// Index into the account's subscriptions (wrapped).
    Subscription(usize),
    Order(usize),
    ManualOperation,
    Discount,
}

fn random_note(rng: &mut fastrand::Rng, now_ms: i64, account: usize, who: &Owned) -> Spec {
    // Biased towards the present: many notes from the last weeks, the oldest about ten months
    // back.
    let age_ms = (rng.f64().powf(1.6) * 300.0 * DAY_MS as f64) as i64 + rng.i64(600_000..7_200_000);
    let manager = MANAGERS[rng.usize(..MANAGERS.len())];
    let sub = rng.usize(..who.subscriptions.len().max(1));
    let product = who
        .subscriptions
        .get(sub)
        .map_or("Microsoft 365 Business Basic", |s| s.1);
    let roll = rng.u8(..100);
    let (target, creator, template, call) = match roll {
        0..=24 => (Pick::Account, manager, pick(rng, &ACCOUNT_NOTES), false),
        25..=34 => (Pick::Account, manager, pick(rng, &CALLS), true),
        35..=54 => (
            Pick::Subscription(sub),
            manager,
            pick(rng, &SUBSCRIPTION_NOTES),
            false,
        ),
        55..=59 => (Pick::Subscription(sub), manager, pick(rng, &CALLS), true),
        60..=71 => (
            Pick::Subscription(sub),
            SYSTEM,
            pick(rng, &SYSTEM_SUBSCRIPTION),
            false,
        ),
        72..=83 => (
            Pick::Order(rng.usize(..4)),
            manager,
            pick(rng, &ORDER_NOTES),
            false,
        ),
        84..=94 => (
            Pick::Order(rng.usize(..4)),
            SYSTEM,
            pick(rng, &SYSTEM_ORDER),
            false,
        ),
        95..=97 => (
            Pick::ManualOperation,
            manager,
            "Manual credit of {amount} EUR for the outage on {date}.",
            false,
        ),
        _ => (
            Pick::Discount,
            manager,
            "Loyalty discount of 10% applied for 12 months.",
            false,
        ),
    };
    let text = fill(rng, template, who.contact, product, now_ms - age_ms);
    let content = if call {
        let seconds = rng.u32(3..=70) * 60;
        format!("Call ({}): {text}", format_duration_input(seconds))
    } else {
        text
    };
    let attachment = (creator != SYSTEM && rng.u8(..100) < 10).then(|| {
        let (name, size) = ATTACHMENTS[rng.usize(..ATTACHMENTS.len())];
        (name.to_string(), size)
    });
    Spec {
        at_ms: now_ms - age_ms,
        account,
        target,
        creator,
        content,
        attachment,
    }
}

fn pick(rng: &mut fastrand::Rng, from: &[&'static str]) -> &'static str {
    from[rng.usize(..from.len())]
}

/// Replaces `{placeholder}`s; unknown ones are kept as written.
fn fill(
    rng: &mut fastrand::Rng,
    template: &str,
    contact: &str,
    product: &str,
    at_ms: i64,
) -> String {
    let mut out = String::with_capacity(template.len() + 24);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else {
            rest = &rest[open..];
            break;
        };
        match &after[..close] {
            "contact" => out.push_str(contact),
            "product" => out.push_str(product),
            "n" => out.push_str(&rng.u32(5..120).to_string()),
            "ticket" => out.push_str(&rng.u32(10_000..99_999).to_string()),
            "amount" => out.push_str(&format!("{}.{:02}", rng.u32(15..900), rng.u32(..100))),
            "date" => {
                let day = Timestamp::from_millisecond(at_ms - rng.i64(1..10) * DAY_MS)
                    .unwrap_or(Timestamp::UNIX_EPOCH);
                out.push_str(&day.to_zoned(TimeZone::UTC).strftime("%-d %B").to_string());
            }
            other => {
                out.push('{');
                out.push_str(other);
                out.push('}');
            }
        }
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    out
}

fn weighted<T: Copy>(rng: &mut fastrand::Rng, choices: &[(T, u32)]) -> T {
    let total: u32 = choices.iter().map(|(_, w)| w).sum();
    let mut roll = rng.u32(..total.max(1));
    for &(value, weight) in choices {
        if roll < weight {
            return value;
        }
        roll -= weight;
    }
    choices[0].0
}

fn fnv1a(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

const SYSTEM: &str = "System";
const MANAGERS: [&str; 5] = [
    "Sara Lee",
    "Adam Smith",
    "Angela Grand",
    "Bill Smith",
    "Priya Patel",
];

const STATUSES: [(&str, u32); 4] = [
    ("Active", 75),
    ("Suspended", 10),
    ("Trial", 10),
    ("Closed", 5),
];

const PLACES: [(&str, &str); 8] = [
    ("GB", "London"),
    ("DE", "Hamburg"),
    ("NL", "Rotterdam"),
    ("IE", "Cork"),
    ("SE", "Malmö"),
    ("ES", "Valencia"),
    ("US", "Austin"),
    ("CA", "Halifax"),
];

struct AccountSpec {
    name: &'static str,
    /// The legal name, for companies; `None` for an individual.
    legal: Option<&'static str>,
    contact: (&'static str, &'static str),
    mailbox: &'static str,
    domain: &'static str,
}

const fn company(
    name: &'static str,
    legal: &'static str,
    contact: (&'static str, &'static str),
    mailbox: &'static str,
    domain: &'static str,
) -> AccountSpec {
    AccountSpec {
        name,
        legal: Some(legal),
        contact,
        mailbox,
        domain,
    }
}

const fn person(
    first: &'static str,
    last: &'static str,
    name: &'static str,
    mailbox: &'static str,
) -> AccountSpec {
    AccountSpec {
        name,
        legal: None,
        contact: (first, last),
        mailbox,
        domain: "mail.example",
    }
}

const ACCOUNTS: [AccountSpec; 22] = [
    company(
        "Northwind Traders",
        "Northwind Traders Ltd.",
        ("Laura", "Chen"),
        "it",
        "northwind.example",
    ),
    company(
        "Blue Harbor Dental",
        "Blue Harbor Dental Group LLC",
        ("Marcus", "Reid"),
        "office",
        "blueharbor.example",
    ),
    company(
        "Copperleaf Architects",
        "Copperleaf Architects LLP",
        ("Ingrid", "Holm"),
        "admin",
        "copperleaf.example",
    ),
    company(
        "Delta Freight",
        "Delta Freight GmbH",
        ("Jürgen", "Weiß"),
        "edv",
        "deltafreight.example",
    ),
    person("Ana", "Lima", "Ana Lima", "ana.lima"),
    company(
        "Evergreen Yoga Studio",
        "Evergreen Yoga Studio",
        ("Maya", "Okafor"),
        "hello",
        "evergreenyoga.example",
    ),
    company(
        "Fjord Analytics",
        "Fjord Analytics AS",
        ("Sigrid", "Berg"),
        "ops",
        "fjordanalytics.example",
    ),
    company(
        "Granite Peak Outfitters",
        "Granite Peak Outfitters Inc.",
        ("Dan", "Walsh"),
        "it",
        "granitepeak.example",
    ),
    company(
        "Helios Solar",
        "Helios Solar Installations Ltd.",
        ("Priya", "Raman"),
        "accounts",
        "heliossolar.example",
    ),
    company(
        "Ironbark Legal",
        "Ironbark Legal LLP",
        ("Oliver", "Grant"),
        "it",
        "ironbark.example",
    ),
    company(
        "Juniper & Sage Bakery",
        "Juniper & Sage Bakery",
        ("Chloé", "Martin"),
        "orders",
        "juniperandsage.example",
    ),
    person("Kenji", "Watanabe", "Kenji Watanabe", "kenji.w"),
    company(
        "Kestrel Aviation",
        "Kestrel Aviation Services Ltd.",
        ("Ruth", "Adeyemi"),
        "it",
        "kestrel.example",
    ),
    company(
        "Lumen Photography",
        "Lumen Photography",
        ("Tomás", "García"),
        "studio",
        "lumenphoto.example",
    ),
    company(
        "Maple Street Veterinary",
        "Maple Street Veterinary Clinic PC",
        ("Hannah", "Cole"),
        "frontdesk",
        "maplevet.example",
    ),
    company(
        "Nimbus Games",
        "Nimbus Games AB",
        ("Elin", "Lund"),
        "devops",
        "nimbusgames.example",
    ),
    company(
        "Orchard Lane Realty",
        "Orchard Lane Realty Co.",
        ("Grace", "Kim"),
        "office",
        "orchardlane.example",
    ),
    company(
        "Pinecrest Academy",
        "Pinecrest Academy Trust",
        ("Samuel", "Osei"),
        "ict",
        "pinecrest.example",
    ),
    company(
        "Quayside Marine",
        "Quayside Marine Services Ltd.",
        ("Fiona", "MacLeod"),
        "admin",
        "quayside.example",
    ),
    company(
        "Saffron Kitchen",
        "Saffron Kitchen Ltd.",
        ("Arjun", "Mehta"),
        "hello",
        "saffronkitchen.example",
    ),
    company(
        "Tidewater Brewing",
        "Tidewater Brewing Co.",
        ("Nora", "Fitzgerald"),
        "it",
        "tidewater.example",
    ),
    person("Zoë", "Müller", "Zoë Müller", "zoe.mueller"),
];

const PRODUCTS: [&str; 12] = [
    "Microsoft 365 Business Standard",
    "Microsoft 365 Business Basic",
    "Google Workspace Business Starter",
    "Plesk Web Pro Edition",
    "cPanel Hosting Business",
    "Managed WordPress",
    "Cloud VPS 4 vCPU / 8 GB",
    "Acronis Cyber Protect Cloud",
    "Kaspersky Endpoint Security Cloud",
    "Wildcard SSL Certificate",
    "Domain registration (.com)",
    "Dedicated IP",
];

const ATTACHMENTS: [(&str, u64); 6] = [
    ("invoice-SO-10234.pdf", 48_213),
    ("dns-zone-export.txt", 1_822),
    ("screenshot-migration-error.png", 3_439),
    ("signed-dpa.pdf", 183_204),
    ("quote 2025 renewal.pdf", 92_117),
    ("mailbox-report.csv", 12_480),
];

const ACCOUNT_NOTES: [&str; 8] = [
    "Customer asked to switch billing to annual; quote sent to {contact}.",
    "<p>Primary contact is now <b>{contact}</b>; the previous admin left the company.</p>",
    "VAT ID verified, invoices now issued with reverse charge.",
    "Asked for one consolidated invoice covering all subscriptions.",
    "Payment method changed to SEPA direct debit.<br>Mandate reference on file.",
    "Came through a partner agency: partner margin applies to all renewals.",
    "{contact} wants MFA enforced for every panel user; sent the how-to.",
    "Credit limit raised to {amount} EUR after a year of on-time payments.",
];

const SUBSCRIPTION_NOTES: [&str; 7] = [
    "{product}: upgraded to {n} seats.",
    "{product}: reduced to {n} seats after their restructuring.",
    "Mailbox migration stuck at 80%; escalated to the vendor (case #{ticket}).",
    "<ul><li>Backup quota raised to 500 GB</li><li>Retention set to 30 days</li></ul>",
    "Slow page loads reported; moved the site to the NVMe cluster.",
    "{product}: renewal term changed to monthly at the customer's request.",
    "Trial of {product} extended by 14 days.",
];

const SYSTEM_SUBSCRIPTION: [&str; 4] = [
    "Subscription suspended: invoice overdue by 14 days.",
    "Subscription resumed after payment.",
    "Auto-renewal completed for another 12 months.",
    "Resource usage exceeded 90% of the plan limit.",
];

const ORDER_NOTES: [&str; 4] = [
    "Order placed by phone; payment by bank transfer, reference SO-{ticket}.",
    "Refund approved for a duplicate order.",
    "Order cancelled at the customer's request before provisioning.",
    "Provisioning failed at first (the DNS zone already existed); retried by hand.",
];

const SYSTEM_ORDER: [&str; 3] = [
    "Order completed automatically.",
    "Payment of {amount} EUR received.",
    "Order is waiting for payment.",
];

const CALLS: [&str; 5] = [
    "Walked {contact} through the DNS changes for the domain transfer.",
    "Confirmed the renewal date and the seat count with {contact}.",
    "Onboarding for the new IT admin: panel tour, user import, MFA.",
    "{contact} called about a bounced invoice email; resent it and fixed the billing address.",
    "Explained the difference between the Basic and Standard plans.",
];

struct FixedNote {
    days_ago: f64,
    /// `a` account, `s` subscription, `o` order, `d` discount.
    target: char,
    index: usize,
    creator: &'static str,
    /// 0 for a note.
    call_minutes: u32,
    text: &'static str,
    attachment: Option<(&'static str, u64)>,
}

const fn fixed(
    days_ago: f64,
    target: char,
    index: usize,
    creator: &'static str,
    call_minutes: u32,
    text: &'static str,
    attachment: Option<(&'static str, u64)>,
) -> FixedNote {
    FixedNote {
        days_ago,
        target,
        index,
        creator,
        call_minutes,
        text,
        attachment,
    }
}

const NORTHWIND: [FixedNote; 14] = [
    fixed(
        0.05,
        's',
        0,
        "Sara Lee",
        25,
        "Walked Laura through moving the MX records to Microsoft 365; mail was flowing again before we hung up.",
        None,
    ),
    fixed(0.3, 'a', 0, "Adam Smith", 0, HOSTILE_NOTE, None),
    fixed(
        1.2,
        'o',
        0,
        SYSTEM,
        0,
        "Order completed automatically.",
        None,
    ),
    fixed(
        1.3,
        'o',
        0,
        "Angela Grand",
        0,
        "Order placed by phone: 15 more Microsoft 365 Business Standard seats. They need their PO number on the invoice.",
        Some(("purchase-order-NW-2291.pdf", 48_213)),
    ),
    fixed(
        3.0,
        's',
        1,
        "Sara Lee",
        0,
        "<p>Backup policy changed after the ransomware scare:</p><ul><li>Daily backups of all 40 mailboxes</li><li>Retention <b>90 days</b></li><li>A restore test every quarter</li></ul>",
        None,
    ),
    fixed(
        6.0,
        'a',
        0,
        "Bill Smith",
        10,
        "Confirmed the renewal date (1 March) and the seat count with Laura.",
        None,
    ),
    fixed(
        9.0,
        's',
        0,
        SYSTEM,
        0,
        "Resource usage exceeded 90% of the plan limit.",
        None,
    ),
    fixed(
        14.0,
        'a',
        0,
        "Priya Patel",
        0,
        "<p>Primary contact changed to <b>Laura Chen</b>; Tom left the company. Panel access for tom@ revoked.</p>",
        None,
    ),
    fixed(
        21.0,
        'a',
        0,
        "Adam Smith",
        0,
        "Screenshot of the failed login attempts attached; asked them to enable MFA for all users.",
        Some(("failed-logins.png", 3_439)),
    ),
    fixed(
        30.0,
        's',
        1,
        SYSTEM,
        0,
        "Subscription resumed after payment.",
        None,
    ),
    fixed(
        31.0,
        's',
        1,
        SYSTEM,
        0,
        "Subscription suspended: invoice overdue by 14 days.",
        None,
    ),
    fixed(
        45.0,
        'd',
        0,
        "Angela Grand",
        0,
        "Loyalty discount of 10% applied for 12 months.",
        None,
    ),
    fixed(
        60.0,
        'a',
        0,
        "Sara Lee",
        0,
        "Account review before the renewal.\n\nUsage: 40 mailboxes, up from 25 last year; the shared drive is close to its quota.\n\nBilling: one disputed invoice in Q1 (duplicate charge, refunded). Finance wants a PO number on every invoice.\n\nNext steps:\n1. Offer the annual plan with the loyalty discount.\n2. Propose the backup add-on.\n3. Book a call with Laura after the renewal.",
        None,
    ),
    fixed(
        90.0,
        'a',
        0,
        "Bill Smith",
        0,
        "Migrated from the old panel; the historic invoices are attached.",
        Some(("invoices-2023.zip", 1_839_204)),
    ),
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::activeplatform::split_call;

    fn now() -> Timestamp {
        "2026-11-20T14:02:00Z".parse().expect("now")
    }

    #[test]
    fn demo_is_deterministic_and_rich() {
        let a = demo_data(now(), 7);
        let b = demo_data(now(), 7);
        assert_eq!(a.accounts, b.accounts);
        assert_eq!(a.notes, b.notes);
        assert_eq!(a.accounts.len(), ACCOUNTS.len());

        let attr = |n: &Value, k: &str| n["attributes"][k].clone();
        let northwind: Vec<&Value> = a
            .notes
            .iter()
            .filter(|n| n["meta"]["account_id"] == "29")
            .collect();
        assert!(
            northwind.len() > 50,
            "more than a page: {}",
            northwind.len()
        );
        for kind in ["Subscription", "Order", "Discount"] {
            assert!(
                northwind.iter().any(|n| attr(n, "original_type") == kind),
                "{kind}"
            );
        }
        assert!(northwind.iter().any(|n| attr(n, "original_type").is_null()));
        assert!(a.notes.iter().any(|n| attr(n, "creator") == SYSTEM));
        let sizes: Vec<Value> = a
            .notes
            .iter()
            .filter_map(|n| n["attributes"]["attachment"].get("size").cloned())
            .collect();
        assert!(sizes.iter().any(Value::is_string) && sizes.iter().any(Value::is_number));
        assert!(a.notes.iter().any(|n| {
            attr(n, "content")
                .as_str()
                .and_then(split_call)
                .is_some_and(|(seconds, _)| seconds == 25 * 60)
        }));
        assert!(a.notes.iter().any(|n| attr(n, "content") == HOSTILE_NOTE));
        assert!(a.accounts.iter().any(|acc| acc["id"].is_number()));
        assert!(a.accounts.iter().any(|acc| acc["id"].is_string()));

        // Ids rise with time, and every time has the panel's offset.
        let times: Vec<Timestamp> = a
            .notes
            .iter()
            .map(|n| {
                attr(n, "created_at")
                    .as_str()
                    .expect("time")
                    .parse()
                    .expect("rfc 3339")
            })
            .collect();
        assert!(times.windows(2).all(|w| w[0] <= w[1]));
        assert!(a.notes.iter().all(|n| {
            attr(n, "created_at")
                .as_str()
                .is_some_and(|t| t.ends_with("+03:00"))
        }));
        assert!(times.iter().all(|t| *t < now()));
    }

    #[test]
    fn builders_write_the_reference_shape() {
        let at: Timestamp = "2023-03-27T08:35:12.509Z".parse().expect("ts");
        let n = note(
            12,
            "29",
            Target::Subscription("114"),
            "Angela Grand",
            "Migrated subscription",
            at,
            Some(attachment(12, "google 114.png", json!(3428))),
        );
        assert_eq!(n["id"], "12");
        assert_eq!(
            n["attributes"]["created_at"],
            "2023-03-27T11:35:12.509+03:00"
        );
        assert_eq!(
            n["attributes"]["original_link"],
            "/admin/subscriptions/114/notes/12"
        );
        assert_eq!(n["attributes"]["original_id"], 114);
        assert_eq!(n["attributes"]["original_type"], "Subscription");
        let url = n["attributes"]["attachment"]["url"].as_str().expect("url");
        assert!(
            url.starts_with(STORAGE) && url.contains("/12/google%20114.png?expires="),
            "{url}"
        );
        let on_account = note(5, "29", Target::Account, "Bill Smith", "Migrated", at, None);
        assert_eq!(
            on_account["attributes"]["original_link"],
            "/admin/accounts/29/notes/5"
        );
        assert!(on_account["attributes"]["original_id"].is_null());
        assert!(on_account["attributes"]["attachment"].is_null());
    }
}
