//! Builders for ChartMogul objects in wire format, and the deterministic demo account that
//! `--demo`, `demo-server` and the benchmarks serve.

use std::collections::HashSet;

use jiff::Timestamp;
use jiff::tz::{Offset, TimeZone};
use serde_json::{Value, json};

use super::chartmogul::ChartMogulData;

const DATA_SOURCE_UUID: &str = "ds_35542640-d9f1-11ed-9c30-7727168c74a5";
const DAY_MS: i64 = 86_400_000;
const LEAD_STATUSES: [&str; 4] = [
    "New Lead",
    "Working Lead",
    "Qualified Lead",
    "Unqualified Lead",
];

/// A customer object as `GET /v1/customers` returns it. Fields the arguments do not fix (id,
/// location, MRR, currency…) are derived from `uuid`, so the same arguments give the same
/// object. An empty `email` becomes `null`, as the API sends for customers without one.
pub fn customer(uuid: &str, name: &str, email: &str, company: &str, status: &str) -> Value {
    let mut rng = fastrand::Rng::with_seed(fnv1a(uuid));
    let id = 10_000 + rng.u64(..90_000_000);
    let external_id = format!("cus_{}", alnum(&mut rng, 14));
    let place = &PLACES[rng.usize(..PLACES.len())];
    let is_lead = LEAD_STATUSES.contains(&status);
    let mrr: u64 = match status {
        "Active" | "Past Due" => rng.u64(29..=12_500) * 100,
        _ => 0,
    };
    // A fixed reference day keeps the builder deterministic; the demo set overrides these with
    // times relative to "now".
    let base_ms = 1_704_067_200_000; // 2024-01-01T00:00:00Z
    let since = ts_from_ms(base_ms - rng.i64(30..1_500) * DAY_MS - rng.i64(0..DAY_MS));
    let (customer_since, lead_created_at) = if is_lead {
        (Value::Null, json!(wire_time(since)))
    } else {
        (json!(offset_time(since, Offset::UTC, false)), Value::Null)
    };
    let tags: Vec<&str> = TAGS
        .iter()
        .copied()
        .filter(|_| rng.u8(..100) < 15)
        .collect();
    let seats = rng.u32(1..=250);
    let slug = slug(name);
    json!({
        "id": id,
        "uuid": uuid,
        "external_id": external_id,
        "name": name,
        "email": non_empty(email),
        "status": status,
        "customer-since": customer_since,
        "attributes": {
            "tags": tags,
            "stripe": {},
            "clearbit": {},
            "custom": {"seats": seats, "channel": CHANNELS[rng.usize(..CHANNELS.len())]},
        },
        "address": {
            "address_zip": place.zip,
            "city": place.city,
            "state": place.state,
            "country": place.country,
        },
        "data_source_uuid": DATA_SOURCE_UUID,
        "data_source_uuids": [DATA_SOURCE_UUID],
        "external_ids": [external_id],
        "company": company,
        "country": place.country,
        "state": place.state,
        "city": place.city,
        "zip": place.zip,
        "lead_created_at": lead_created_at,
        "free_trial_started_at": Value::Null,
        "mrr": mrr,
        "arr": mrr * 12,
        "billing-system-url": if is_lead {
            Value::Null
        } else {
            json!(format!("https://dashboard.stripe.com/customers/{external_id}"))
        },
        "chartmogul-url": format!("https://app.chartmogul.com/#/customers/{id}-{slug}"),
        "billing-system-type": if is_lead { Value::Null } else { json!("Stripe") },
        "currency": place.currency,
        "currency-sign": place.currency_sign,
        "owner": Value::Null,
        "website_url": Value::Null,
    })
}

/// A contact object as `GET /v1/customers/{uuid}/contacts` returns it, with the optional
/// fields `null` (the demo fills some in). An empty `email` becomes `null`.
pub fn contact(uuid: &str, customer_uuid: &str, first: &str, last: &str, email: &str) -> Value {
    json!({
        "uuid": uuid,
        "customer_uuid": customer_uuid,
        "customer_external_id": Value::Null,
        "data_source_uuid": DATA_SOURCE_UUID,
        "position": 1,
        "first_name": first,
        "last_name": last,
        "title": Value::Null,
        "email": non_empty(email),
        "phone": Value::Null,
        "linked_in": Value::Null,
        "twitter": Value::Null,
        "notes": Value::Null,
        "custom": {},
    })
}

/// A note or call log object as `GET /v1/customer_notes` returns it; `updated_at` equals
/// `created_at`, both like `2023-12-15T12:45:12.548Z`.
pub fn note(
    uuid: &str,
    customer_uuid: &str,
    kind: &str,
    author: &str,
    text: &str,
    created_at: Timestamp,
    call_duration_s: u32,
) -> Value {
    let at = wire_time(created_at);
    json!({
        "uuid": uuid,
        "customer_uuid": customer_uuid,
        "type": kind,
        "text": text,
        "call_duration": call_duration_s,
        "author": author,
        "created_at": at,
        "updated_at": at,
    })
}

/// The demo account: deterministic for a seed, times relative to `now` (so it looks recent).
/// Customers come in name order with "Acme Corp" first (a rich timeline, including one hostile
/// note full of escape sequences); exactly `notes` notes are generated.
pub fn chartmogul_demo(
    now: Timestamp,
    customers: usize,
    notes: usize,
    seed: u64,
) -> ChartMogulData {
    let mut rng = fastrand::Rng::with_seed(seed);
    let now_ms = now.as_millisecond();
    let mut data = ChartMogulData::default();
    if customers == 0 {
        return data;
    }

    let names = customer_names(&mut rng, customers);
    // Per customer: uuid, contact first names (for note texts), domain, note weight.
    let mut people: Vec<DemoCustomer> = Vec::with_capacity(customers);
    for (i, (name, is_person)) in names.iter().enumerate() {
        let uuid = uuid_like(&mut rng, "cus", "11ed", i as u64);
        let acme = i == 0;
        let status = if acme {
            "Active"
        } else {
            weighted(&mut rng, &STATUSES)
        };
        let domain = if acme {
            "acme.example.com".to_string()
        } else if *is_person {
            "mail.example".to_string()
        } else {
            format!("{}.example.com", slug(name))
        };
        let email = if acme {
            "billing@acme.example.com".to_string()
        } else if rng.u8(..100) < 6 {
            String::new()
        } else if *is_person {
            format!("{}@{domain}", slug(name).replace('-', "."))
        } else {
            let local = ["billing", "accounts", "finance", "hello", "ops", "admin"];
            format!("{}@{domain}", local[rng.usize(..local.len())])
        };
        let company = if *is_person { "" } else { name.as_str() };
        let mut c = customer(&uuid, name, &email, company, status);
        let since = ts_from_ms(now_ms - rng.i64(20..1_800) * DAY_MS - rng.i64(0..DAY_MS));
        if c["customer-since"].is_string() {
            c["customer-since"] = json!(offset_time(since, Offset::UTC, false));
        } else {
            c["lead_created_at"] = json!(wire_time(since));
        }
        if acme {
            c["mrr"] = json!(249_900);
            c["arr"] = json!(249_900 * 12);
            c["attributes"]["tags"] = json!(["enterprise", "priority-support"]);
        }

        // A few customers (by position, so there always are some) have no contacts or notes.
        let no_contacts = i % 13 == 6;
        let no_notes = i % 19 == 9;
        let external_id = c["external_id"].clone();
        let mut contact_names = Vec::new();
        let contact_count = if acme {
            ACME_CONTACTS.len()
        } else if no_contacts {
            0
        } else {
            1 + rng.usize(..4)
        };
        for position in 0..contact_count {
            let (first, last, title, local) = match ACME_CONTACTS.get(position) {
                Some(&(first, last, title, local)) if acme => (first, last, title, local.into()),
                _ => {
                    let first = FIRST_NAMES[rng.usize(..FIRST_NAMES.len())];
                    let last = LAST_NAMES[rng.usize(..LAST_NAMES.len())];
                    let title = TITLES[rng.usize(..TITLES.len())];
                    (
                        first,
                        last,
                        title,
                        format!("{}.{}", slug(first), slug(last)),
                    )
                }
            };
            let contact_uuid = uuid_like(&mut rng, "con", "11ed", data.contacts.len() as u64);
            let email = if rng.u8(..100) < 8 && !acme {
                String::new()
            } else {
                format!("{local}@{domain}")
            };
            let mut ct = contact(&contact_uuid, &uuid, first, last, &email);
            ct["customer_external_id"] = external_id.clone();
            ct["position"] = json!(position + 1);
            if acme || rng.u8(..100) < 70 {
                ct["title"] = json!(title);
            }
            if rng.u8(..100) < 60 {
                ct["phone"] = json!(format!("+1 555 01{:02}", rng.u8(..100)));
            }
            if rng.u8(..100) < 30 {
                ct["linked_in"] = json!(format!("https://linkedin.com/in/{}", slug(first)));
            }
            if rng.u8(..100) < 15 {
                ct["notes"] = json!("Prefers email.\nOut of office on Fridays.");
            }
            if rng.u8(..100) < 20 {
                ct["custom"] = json!({"timezone": "Europe/Berlin", "date_of_birth": Value::Null});
            }
            data.contacts.push(ct);
            contact_names.push(first);
        }

        let weight = if acme {
            6
        } else if no_notes {
            0
        } else {
            weighted(&mut rng, &[(1, 55), (3, 25), (8, 15), (25, 5)])
        };
        people.push(DemoCustomer {
            uuid,
            contacts: contact_names,
            domain,
            weight,
        });
        data.customers.push(c);
    }

    let mut generated: Vec<(i64, Value)> = Vec::with_capacity(notes);
    for (n, fixed) in ACME_TIMELINE.iter().take(notes).enumerate() {
        let at_ms = now_ms - (fixed.days_ago * DAY_MS as f64) as i64 - 47_913;
        let at = ts_from_ms(at_ms);
        let uuid = uuid_like(&mut rng, "note", "11ee", n as u64);
        let mut v = note(
            &uuid,
            &people[0].uuid,
            if fixed.call_minutes > 0 {
                "call"
            } else {
                "note"
            },
            STAFF[fixed.author].0,
            fixed.text,
            at,
            fixed.call_minutes * 60 + fixed.call_minutes % 7 * 9,
        );
        if let Some(hours) = fixed.offset_hours {
            let stamp = offset_time(at, Offset::constant(hours), true);
            v["created_at"] = json!(stamp);
            v["updated_at"] = json!(stamp);
        }
        generated.push((at_ms, v));
    }

    let mut cumulative = Vec::with_capacity(people.len());
    let mut total = 0u64;
    for p in &people {
        total += p.weight;
        cumulative.push(total);
    }
    let random_notes = notes.saturating_sub(generated.len());
    for k in 0..random_notes {
        let pick = rng.u64(..total.max(1));
        let who = &people[cumulative
            .partition_point(|&c| c <= pick)
            .min(people.len() - 1)];
        let n = generated.len() as u64;
        generated.push(random_note(&mut rng, now_ms, who, n, k));
    }

    // Newest first, as the API lists them; stable so equal times keep generation order.
    generated.sort_by_key(|(ms, _)| std::cmp::Reverse(*ms));
    data.notes = generated.into_iter().map(|(_, v)| v).collect();
    data
}

struct DemoCustomer {
    uuid: String,
    contacts: Vec<&'static str>,
    domain: String,
    weight: u64,
}

fn random_note(
    rng: &mut fastrand::Rng,
    now_ms: i64,
    who: &DemoCustomer,
    counter: u64,
    k: usize,
) -> (i64, Value) {
    // The power biases ages towards the present: many notes from the last few weeks, the
    // oldest about eight months back.
    let age_ms = (rng.f64().powf(1.5) * 240.0 * DAY_MS as f64) as i64 + rng.i64(300_000..3_600_000);
    let at_ms = now_ms - age_ms;
    let at = ts_from_ms(at_ms);
    let author = STAFF[weighted(rng, &STAFF_WEIGHTS)].0;
    let is_call = rng.u8(..100) < 35;
    let contact = if who.contacts.is_empty() {
        "the customer"
    } else {
        who.contacts[rng.usize(..who.contacts.len())]
    };
    let template = if is_call {
        CALL_TEMPLATES[rng.usize(..CALL_TEMPLATES.len())]
    } else if k % 211 == 100 {
        LONG_NOTE
    } else {
        NOTE_TEMPLATES[rng.usize(..NOTE_TEMPLATES.len())]
    };
    let text = fill(rng, template, contact, &who.domain);
    let duration = if is_call { rng.u32(120..=4_500) } else { 0 };
    let uuid = uuid_like(rng, "note", "11ee", counter);
    let mut v = note(
        &uuid,
        &who.uuid,
        if is_call { "call" } else { "note" },
        author,
        &text,
        at,
        duration,
    );
    let style = rng.u8(..100);
    if style < 12 {
        let hours = [-4, -5, 2, 9][rng.usize(..4)];
        v["created_at"] = json!(offset_time(at, Offset::constant(hours), false));
    } else if style < 16 {
        v["created_at"] = json!(offset_time(at, Offset::UTC, true));
    }
    if rng.u8(..100) < 15 {
        let edited = ts_from_ms((at_ms + rng.i64(60_000..3 * DAY_MS)).min(now_ms));
        v["updated_at"] = json!(wire_time(edited));
    } else if style < 16 {
        v["updated_at"] = v["created_at"].clone();
    }
    (at_ms, v)
}

/// Replaces `{placeholder}`s in one pass (the demo builds 100,000 of these); unknown
/// placeholders are kept as written.
fn fill(rng: &mut fastrand::Rng, template: &str, contact: &str, domain: &str) -> String {
    const PLANS: [&str; 4] = ["Starter", "Growth", "Scale", "Enterprise"];
    const WEEKDAYS: [&str; 5] = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"];
    const MONTHS: [&str; 5] = ["March", "April", "May", "June", "September"];
    let mut out = String::with_capacity(template.len() + 24);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else {
            rest = &rest[open..];
            break;
        };
        let number = |n: u32| n.to_string();
        match &after[..close] {
            "contact" => out.push_str(contact),
            "domain" => out.push_str(domain),
            "plan" => out.push_str(PLANS[rng.usize(..PLANS.len())]),
            "weekday" => out.push_str(WEEKDAYS[rng.usize(..WEEKDAYS.len())]),
            "month" => out.push_str(MONTHS[rng.usize(..MONTHS.len())]),
            "ticket" => out.push_str(&number(rng.u32(1_000..99_999))),
            "amount" => out.push_str(&number(rng.u32(19..2_400))),
            "pct" => out.push_str(&number(rng.u32(10..60))),
            "seats" => out.push_str(&number(rng.u32(3..400))),
            "days" => out.push_str(&number(rng.u32(7..90))),
            "last4" => out.push_str(&format!("{:04}", rng.u32(..10_000))),
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

/// `count` distinct names in case-insensitive name order, "Acme Corp" first; the flag marks
/// people (customers without a company).
fn customer_names(rng: &mut fastrand::Rng, count: usize) -> Vec<(String, bool)> {
    let first = "acme corp";
    let mut seen: HashSet<String> = HashSet::with_capacity(count);
    seen.insert(first.to_string());
    let mut names = Vec::with_capacity(count);
    while names.len() + 1 < count {
        let is_person = rng.u8(..100) < 8;
        for attempt in 0u32.. {
            let base = if is_person {
                format!(
                    "{} {}",
                    FIRST_NAMES[rng.usize(..FIRST_NAMES.len())],
                    LAST_NAMES[rng.usize(..LAST_NAMES.len())]
                )
            } else {
                format!(
                    "{} {}",
                    COMPANY_WORDS[rng.usize(..COMPANY_WORDS.len())],
                    COMPANY_KINDS[rng.usize(..COMPANY_KINDS.len())]
                )
            };
            // Once the plain combinations are used up, regional and numbered variants keep
            // the names unique however many customers are asked for.
            let name = match attempt {
                0..=9 => base,
                10..=19 => format!("{base} ({})", REGIONS[rng.usize(..REGIONS.len())]),
                _ => format!("{base} {attempt}"),
            };
            let key = name.to_lowercase();
            if key.as_str() > first && seen.insert(key) {
                names.push((name, is_person));
                break;
            }
        }
    }
    names.sort_by_cached_key(|(name, _)| name.to_lowercase());
    names.insert(0, ("Acme Corp".to_string(), false));
    names
}

/// A ChartMogul-looking id (`cus_…`, `note_…`) whose last hex digits encode `counter`, so ids
/// are unique without bookkeeping. Multiplying by an odd constant is a bijection on `u32`: still
/// unique, but no longer a visible run of zeros.
fn uuid_like(rng: &mut fastrand::Rng, prefix: &str, version: &str, counter: u64) -> String {
    format!(
        "{prefix}_{:08x}-{:04x}-{version}-{:04x}-{:04x}{:08x}",
        rng.u32(..),
        rng.u16(..),
        rng.u16(0x8000..),
        rng.u16(..),
        (counter as u32).wrapping_mul(0x9E37_79B1)
    )
}

fn weighted<T: Copy>(rng: &mut fastrand::Rng, choices: &[(T, u32)]) -> T {
    let total: u32 = choices.iter().map(|(_, w)| w).sum();
    let mut pick = rng.u32(..total.max(1));
    for &(value, weight) in choices {
        if pick < weight {
            return value;
        }
        pick -= weight;
    }
    choices[0].0
}

/// `2023-12-15T12:45:12.548Z`, the API's usual form. Written by hand because `strftime` is the
/// slowest step of building the 100,000-note benchmark set.
pub(crate) fn wire_time(ts: Timestamp) -> String {
    let dt = TimeZone::UTC.to_datetime(ts);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        dt.year(),
        dt.month(),
        dt.day(),
        dt.hour(),
        dt.minute(),
        dt.second(),
        dt.subsec_nanosecond() / 1_000_000
    )
}

/// The same instant written with an explicit offset, e.g. `2023-12-15T08:45:12-04:00`.
fn offset_time(ts: Timestamp, offset: Offset, millis: bool) -> String {
    let format = if millis {
        "%Y-%m-%dT%H:%M:%S%.3f%:z"
    } else {
        "%Y-%m-%dT%H:%M:%S%:z"
    };
    ts.to_zoned(TimeZone::fixed(offset))
        .strftime(format)
        .to_string()
}

fn ts_from_ms(ms: i64) -> Timestamp {
    Timestamp::from_millisecond(ms).unwrap_or(Timestamp::UNIX_EPOCH)
}

fn non_empty(s: &str) -> Value {
    if s.is_empty() { Value::Null } else { json!(s) }
}

/// Lower-case ASCII words joined by `-`, for domains and URLs.
fn slug(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for ch in name.chars().flat_map(char::to_lowercase) {
        let mapped = match ch {
            'a'..='z' | '0'..='9' => Some(ch.to_string()),
            'ä' => Some("ae".into()),
            'ö' | 'ø' => Some("oe".into()),
            'ü' => Some("ue".into()),
            'ß' => Some("ss".into()),
            'à' | 'á' | 'â' | 'ã' | 'å' => Some("a".into()),
            'è' | 'é' | 'ê' | 'ë' => Some("e".into()),
            'ì' | 'í' | 'î' | 'ï' => Some("i".into()),
            'ò' | 'ó' | 'ô' | 'õ' | 'ō' => Some("o".into()),
            'ù' | 'ú' | 'û' => Some("u".into()),
            'ñ' => Some("n".into()),
            'ç' => Some("c".into()),
            // "O'Brien" is "obrien", not "o-brien".
            '\'' => Some(String::new()),
            _ => None,
        };
        match mapped {
            Some(s) => out.push_str(&s),
            None if !out.is_empty() && !out.ends_with('-') => out.push('-'),
            None => {}
        }
    }
    let trimmed = out.trim_end_matches('-');
    if trimmed.is_empty() {
        "customer".to_string()
    } else {
        trimmed.to_string()
    }
}

fn alnum(rng: &mut fastrand::Rng, len: usize) -> String {
    (0..len).map(|_| rng.alphanumeric()).collect()
}

fn fnv1a(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

struct Place {
    country: Option<&'static str>,
    state: Option<&'static str>,
    city: Option<&'static str>,
    zip: Option<&'static str>,
    currency: &'static str,
    currency_sign: &'static str,
}

const fn place(
    country: &'static str,
    state: Option<&'static str>,
    city: &'static str,
    zip: Option<&'static str>,
    currency: &'static str,
    currency_sign: &'static str,
) -> Place {
    Place {
        country: Some(country),
        state,
        city: Some(city),
        zip,
        currency,
        currency_sign,
    }
}

const PLACES: [Place; 14] = [
    place("US", Some("NY"), "New York", Some("10001"), "USD", "$"),
    place("US", Some("TX"), "Austin", Some("73301"), "USD", "$"),
    place("US", Some("CA"), "San Francisco", None, "USD", "$"),
    place("GB", None, "London", Some("EC1A 1BB"), "GBP", "£"),
    place("DE", None, "Berlin", Some("10115"), "EUR", "€"),
    place("FR", None, "Lyon", None, "EUR", "€"),
    place("CH", None, "Zürich", Some("8001"), "CHF", "CHF"),
    place("JP", None, "Tokyo", None, "JPY", "¥"),
    place("KR", None, "Seoul", None, "KRW", "₩"),
    place("BR", Some("SP"), "São Paulo", None, "BRL", "R$"),
    place("CA", Some("ON"), "Toronto", Some("M5H 2N2"), "CAD", "$"),
    place("IE", None, "Dublin", None, "EUR", "€"),
    place("AU", Some("NSW"), "Sydney", Some("2000"), "AUD", "$"),
    // Billing systems often know nothing about where a customer is.
    Place {
        country: None,
        state: None,
        city: None,
        zip: None,
        currency: "USD",
        currency_sign: "$",
    },
];

const STATUSES: [(&str, u32); 7] = [
    ("Active", 62),
    ("Past Due", 8),
    ("Cancelled", 10),
    ("New Lead", 6),
    ("Working Lead", 5),
    ("Qualified Lead", 5),
    ("Unqualified Lead", 4),
];

const TAGS: [&str; 6] = ["enterprise", "smb", "trial", "partner", "annual", "vip"];
const CHANNELS: [&str; 4] = ["Referral", "Paid search", "Partner", "Outbound"];
const REGIONS: [&str; 5] = ["EU", "US", "UK", "APAC", "LATAM"];

// Every word sorts after "Acme Corp", which must stay first in name order.
const COMPANY_WORDS: [&str; 44] = [
    "Globex",
    "Initech",
    "Umbrella",
    "Stark",
    "Wayne",
    "Hooli",
    "Vandelay",
    "Soylent",
    "Tyrell",
    "Cyberdyne",
    "Wonka",
    "Oscorp",
    "Pied Piper",
    "Dunder Mifflin",
    "Massive Dynamic",
    "Aperture",
    "Black Mesa",
    "Nakatomi",
    "Gekko",
    "Sirius",
    "Oceanic",
    "Virtucon",
    "Blue Sun",
    "Weyland",
    "Bluth",
    "Kramerica",
    "Sterling Cooper",
    "Los Pollos",
    "Duff",
    "Rekall",
    "Omni",
    "Spacely",
    "Cogswell",
    "Monarch",
    "Prestige",
    "Brawndo",
    "Gringotts",
    "Krusty",
    "Nordwind",
    "Café Müller",
    "Søndergaard",
    "Sakura 桜",
    "Zenith",
    "Ōkami",
];

const COMPANY_KINDS: [&str; 20] = [
    "Corp",
    "Inc",
    "Health",
    "Logistics",
    "Labs",
    "Systems",
    "Analytics",
    "Foods",
    "Travel",
    "Energy",
    "Media",
    "Robotics",
    "Finance",
    "Studios",
    "GmbH",
    "Consulting",
    "Retail",
    "Security",
    "Bio",
    "Cloud",
];

const FIRST_NAMES: [&str; 24] = [
    "Adam", "Beatriz", "Chen", "Dana", "Élodie", "Farid", "Grace", "Hiro", "Ines", "Jonas", "Kai",
    "Lena", "Mateo", "Nia", "Olga", "Priya", "Quentin", "Rosa", "Sven", "Tomás", "Uma", "Viktor",
    "Wen", "Zoë",
];

const LAST_NAMES: [&str; 20] = [
    "Smith",
    "Müller",
    "García",
    "Nguyen",
    "Okafor",
    "Kowalski",
    "Tanaka",
    "Rossi",
    "Johansson",
    "Dubois",
    "O'Brien",
    "Kim",
    "Silva",
    "Novak",
    "Haddad",
    "Patel",
    "Larsen",
    "Ivanova",
    "Brown",
    "Yilmaz",
];

const TITLES: [&str; 8] = [
    "CEO",
    "CTO",
    "Head of Finance",
    "Office Manager",
    "Support Lead",
    "Procurement",
    "VP Operations",
    "Accounts Payable",
];

/// First name, last name, title, email local part.
const ACME_CONTACTS: [(&str, &str, &str, &str); 3] = [
    ("Wile E.", "Coyote", "CTO", "wile"),
    ("Marta", "Núñez", "Head of Finance", "marta.nunez"),
    ("娜", "李", "Support Lead", "li.na"),
];

/// Support staff as the API writes authors; Soeun's form is copied from recorded traffic.
const STAFF: [(&str, u32); 5] = [
    ("Sara Lee (sara@example.com)", 30),
    ("Adam Smith (adam@example.com)", 25),
    ("Soeun Lee[staff-user-2] (soeun+staff@example.com)", 20),
    ("Jürgen Weiß (juergen@example.com)", 15),
    ("Priya Natarajan (priya.n@example.com)", 10),
];
/// The `author` the API writes for a demo staff member's email (case-insensitive), so notes the
/// fake server creates look like the generated ones; `None` for anyone else.
pub fn staff_author(email: &str) -> Option<&'static str> {
    let email = email.trim();
    STAFF.iter().map(|(author, _)| *author).find(|author| {
        author
            .rsplit_once('(')
            .and_then(|(_, rest)| rest.strip_suffix(')'))
            .is_some_and(|e| e.eq_ignore_ascii_case(email))
    })
}

const STAFF_WEIGHTS: [(usize, u32); 5] = [
    (0, STAFF[0].1),
    (1, STAFF[1].1),
    (2, STAFF[2].1),
    (3, STAFF[3].1),
    (4, STAFF[4].1),
];

struct FixedNote {
    days_ago: f64,
    /// 0 for a note.
    call_minutes: u32,
    author: usize,
    text: &'static str,
    offset_hours: Option<i8>,
}

/// Terminal escapes (OSC 52 clipboard write, colours, clear screen), a carriage return and a
/// bidi override: the app must show this note without any of them taking effect.
pub const HOSTILE_NOTE: &str = "Pasted from the customer's ticket:\n\u{1b}[31mURGENT\u{1b}[0m invoice missing\u{1b}]52;c;ZXZpbA==\u{7} see attachment \u{202E}fdp.exe\u{202C}\u{1b}[2J\rthanks!";

const LONG_NOTE: &str = "Account review ahead of the renewal.\n\nUsage: they have grown from 12 to 40 support agents since last year, mostly in the EU team. Ticket volume doubled after their spring launch, and they now rely on the SLA reports every Monday.\n\nBilling: two invoices were disputed in Q1 (duplicate charge, since refunded). Finance would like consolidated invoicing across their three entities &amp; a PO number on every invoice.\n\nRisks: their new VP Operations is evaluating a competitor. Champion is still positive but wants the roadmap for the reporting API.\n\nNext steps:\n1. Send the roadmap deck.\n2. Offer an annual plan with a 10% discount.\n3. Book an executive sponsor call before the end of the month.";

const ACME_TIMELINE: [FixedNote; 11] = [
    FixedNote {
        days_ago: 0.1,
        call_minutes: 15,
        author: 0,
        text: "Renewal discussed, sending quote Monday.",
        offset_hours: None,
    },
    FixedNote {
        days_ago: 1.5,
        call_minutes: 0,
        author: 1,
        text: HOSTILE_NOTE,
        offset_hours: None,
    },
    FixedNote {
        days_ago: 3.2,
        call_minutes: 0,
        author: 2,
        text: "<p>Onboarding checklist for Acme:</p><ul><li>SSO via Okta ✅</li><li>Import two years of invoices</li><li>Train support &amp; finance teams</li></ul>",
        offset_hours: None,
    },
    FixedNote {
        days_ago: 6.0,
        call_minutes: 42,
        author: 3,
        text: "Quarterly business review with Wile E. Coyote (CTO).\nTopics: rocket-skate reliability, two disputed invoices.\nNext QBR in three months.",
        offset_hours: Some(-4),
    },
    FixedNote {
        days_ago: 9.3,
        call_minutes: 0,
        author: 4,
        text: "Shared the migration guide: <a href=\"https://help.example.com/articles/migrate\">help.example.com/articles/migrate</a><br>They plan to switch over next sprint.",
        offset_hours: None,
    },
    FixedNote {
        days_ago: 14.7,
        call_minutes: 3,
        author: 0,
        text: "📞 Left voicemail for Marta about the failed card payment.",
        offset_hours: None,
    },
    FixedNote {
        days_ago: 21.4,
        call_minutes: 0,
        author: 3,
        text: "Réunion à Zürich: invoices needed in EUR &amp; CHF from now on.\n李娜 asked for a Chinese copy: 请同时发送中文版发票。\nÜberprüfung nächste Woche.",
        offset_hours: Some(2),
    },
    FixedNote {
        days_ago: 30.2,
        call_minutes: 0,
        author: 1,
        text: LONG_NOTE,
        offset_hours: None,
    },
    FixedNote {
        days_ago: 45.6,
        call_minutes: 0,
        author: 1,
        text: "Trial extended by two weeks.<br>Key contact on leave until May.",
        offset_hours: None,
    },
    FixedNote {
        days_ago: 60.1,
        call_minutes: 28,
        author: 2,
        text: "Discovery call: 40 agents on spreadsheets today.\nInterested in the Scale plan &amp; SSO.",
        offset_hours: None,
    },
    FixedNote {
        days_ago: 75.9,
        call_minutes: 0,
        author: 0,
        text: "They are a world leader in specialized software.\nThey are in SaaS business.",
        offset_hours: Some(-4),
    },
];

const NOTE_TEMPLATES: [&str; 20] = [
    "Trial extended by two weeks.<br>Key contact on leave until {month}.",
    "Customer asked for a copy of invoice #{ticket}. Sent from the billing portal.",
    "Upgraded to the {plan} plan, effective next billing cycle.",
    "Card declined twice (Visa ending {last4}). Dunning email sent; will retry on {weekday}.",
    "<p>Feature request from {contact}: CSV export with custom columns.</p><p>Logged as FR-{ticket}.</p>",
    "Churn risk: usage dropped {pct}% over the last 30 days.\nAsked {contact} for a check-in call.",
    "Refunded {amount}.00 for the duplicate charge &amp; apologised.",
    "<ul><li>SSO enabled</li><li>{seats} seats provisioned</li><li>Admin training booked for {weekday}</li></ul>",
    "Sent the webhook guide: <a href=\"https://help.example.com/articles/{ticket}\">Setting up webhooks</a>",
    "Contract renewal due in {days} days. {contact} wants a multi-year discount.",
    "Billing contact is now {contact} (billing@{domain}).",
    "Bug report: dashboard shows MRR twice for {month}. Escalated to engineering (ENG-{ticket}).",
    "Merci pour l'échange — {contact} confirme la migration vers le plan annuel. 🎉",
    "Kunde wünscht Rechnungen auf Deutsch; Umstellung erledigt ✅",
    "顧客から請求書の再送依頼あり。対応済み。",
    "VAT ID updated.\nInvoices from next month will show the reverse charge.",
    "Customer&#39;s finance team asked for a W-9; sent via secure link.",
    "Onboarding call moved to {weekday} — {contact} is travelling.",
    "<b>Escalation</b>: checkout outage of ~{days} min on their side.<br>Credited one week of service.",
    "They are a world leader in specialized software.\nThey are in SaaS business.",
];

const CALL_TEMPLATES: [&str; 10] = [
    "Renewal discussed, sending quote {weekday}.",
    "📞 Left voicemail for {contact} about the failed payment.",
    "Quarterly business review with {contact}.\nTopics: adoption, seat count ({seats}), roadmap.\nNext QBR in three months.",
    "Discovery call: {seats} support agents, currently on spreadsheets. Interested in {plan}.",
    "Walked {contact} through API keys &amp; webhook setup. Follow-up email sent.",
    "Cancellation call. Reason: budget cuts. Offered {pct}% off for 6 months; they will think about it.",
    "Support call: password reset loop in Safari; workaround given, ticket #{ticket}.",
    "<p>Call with {contact} and their CFO.</p><ul><li>Wants annual invoicing</li><li>PO number required on invoices</li></ul>",
    "Onboarding kickoff ☎️ go-live planned for {month}.",
    "Payment plan agreed: 3 instalments of {amount}.00.",
];

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> Timestamp {
        "2026-03-01T12:00:00Z".parse().unwrap()
    }

    #[test]
    fn wire_times_have_millis_and_offsets_convert() {
        let ts: Timestamp = "2023-12-15T12:45:12.548Z".parse().unwrap();
        assert_eq!(wire_time(ts), "2023-12-15T12:45:12.548Z");
        assert_eq!(
            offset_time(ts, Offset::constant(-4), false),
            "2023-12-15T08:45:12-04:00"
        );
        let n = note("note_1", "cus_1", "call", "A (a@x)", "hi", ts, 90);
        assert_eq!(n["created_at"], "2023-12-15T12:45:12.548Z");
        assert_eq!(n["call_duration"], 90);
    }

    #[test]
    fn customer_builder_has_hyphenated_keys_and_nulls() {
        let c = customer("cus_1", "Globex", "", "", "New Lead");
        for key in [
            "customer-since",
            "chartmogul-url",
            "billing-system-url",
            "billing-system-type",
            "currency-sign",
        ] {
            assert!(c.get(key).is_some(), "missing {key}");
        }
        assert!(c["email"].is_null());
        assert!(
            c["customer-since"].is_null(),
            "a lead is not a customer yet"
        );
        assert_eq!(c["mrr"], 0);
        assert!(c["id"].is_u64());
        let active = customer("cus_1", "Globex", "a@b.c", "Globex", "Active");
        let since: Timestamp = active["customer-since"].as_str().unwrap().parse().unwrap();
        let range =
            "2019-01-01T00:00:00Z".parse().unwrap().."2024-01-01T00:00:00Z".parse().unwrap();
        assert!(range.contains(&since), "{since}");
        assert_eq!(
            active["arr"].as_u64(),
            active["mrr"].as_u64().map(|m| m * 12)
        );
        // Derived fields come from the uuid, so rebuilding gives the same object.
        assert_eq!(
            active,
            customer("cus_1", "Globex", "a@b.c", "Globex", "Active")
        );
    }

    #[test]
    fn demo_has_the_promised_shape() {
        let d = chartmogul_demo(now(), 200, 3000, 42);
        assert_eq!(d.customers.len(), 200);
        assert_eq!(d.notes.len(), 3000);
        let names: Vec<String> = d
            .customers
            .iter()
            .map(|c| c["name"].as_str().unwrap().to_lowercase())
            .collect();
        assert_eq!(names[0], "acme corp");
        assert!(names.windows(2).all(|w| w[0] < w[1]), "not in name order");

        let acme = d.customers[0]["uuid"].as_str().unwrap();
        let acme_notes: Vec<&Value> = d
            .notes
            .iter()
            .filter(|n| n["customer_uuid"] == acme)
            .collect();
        assert!(acme_notes.len() >= 8);
        assert!(acme_notes.iter().any(|n| n["text"] == HOSTILE_NOTE));
        assert!(acme_notes.iter().any(|n| n["type"] == "call"));
        assert!(d.contacts.iter().any(|c| c["customer_uuid"] == acme));

        let calls = d.notes.iter().filter(|n| n["type"] == "call").count();
        assert!((800..1300).contains(&calls), "{calls} calls of 3000");
        assert!(d.notes.iter().all(|n| {
            let s = n["call_duration"].as_u64().unwrap();
            if n["type"] == "call" {
                (120..=4_500).contains(&s)
            } else {
                s == 0
            }
        }));
        assert!(
            d.notes
                .iter()
                .any(|n| n["author"].as_str().unwrap().contains("[staff-user-2]"))
        );
        assert!(
            d.notes
                .iter()
                .any(|n| n["created_at"].as_str().unwrap().ends_with("-04:00"))
        );
        assert!(d.customers.iter().any(|c| c["email"].is_null()));
        for c in &d.customers {
            let since = c["customer-since"]
                .as_str()
                .or(c["lead_created_at"].as_str());
            let since: Timestamp = since.expect("a start time").parse().unwrap();
            let age_days = now().duration_since(since).as_secs() / 86_400;
            assert!((20..=1_800).contains(&age_days), "{age_days} days: {c}");
        }
        assert!(d.customers.iter().any(|c| c["company"] == ""));

        let with_notes: HashSet<&str> = d
            .notes
            .iter()
            .filter_map(|n| n["customer_uuid"].as_str())
            .collect();
        let with_contacts: HashSet<&str> = d
            .contacts
            .iter()
            .filter_map(|c| c["customer_uuid"].as_str())
            .collect();
        let uuids: Vec<&str> = d
            .customers
            .iter()
            .filter_map(|c| c["uuid"].as_str())
            .collect();
        assert!(uuids.iter().any(|u| !with_notes.contains(u)));
        assert!(uuids.iter().any(|u| !with_contacts.contains(u)));
        assert_eq!(uuids.iter().collect::<HashSet<_>>().len(), uuids.len());

        // Newest first, all in the past, the newest within a day of "now".
        let times: Vec<Timestamp> = d
            .notes
            .iter()
            .map(|n| n["created_at"].as_str().unwrap().parse().unwrap())
            .collect();
        assert!(times.windows(2).all(|w| w[0] >= w[1]));
        assert!(times[0] <= now());
        assert!(now().duration_since(times[0]).as_secs() < 86_400);
    }

    #[test]
    fn demo_handles_tiny_and_empty_sizes() {
        assert!(chartmogul_demo(now(), 0, 10, 1).notes.is_empty());
        let d = chartmogul_demo(now(), 1, 3, 1);
        assert_eq!(d.customers.len(), 1);
        assert_eq!(d.notes.len(), 3);
        assert!(d.notes.iter().any(|n| n["text"] == HOSTILE_NOTE));
        assert_eq!(chartmogul_demo(now(), 3, 0, 1).notes.len(), 0);
    }

    #[test]
    fn demo_names_stay_unique_beyond_the_word_lists() {
        let d = chartmogul_demo(now(), 2_000, 0, 3);
        let names: HashSet<&str> = d
            .customers
            .iter()
            .filter_map(|c| c["name"].as_str())
            .collect();
        assert_eq!(names.len(), 2_000);
    }

    #[test]
    fn fill_replaces_known_placeholders_only() {
        let mut rng = fastrand::Rng::with_seed(1);
        let text = fill(
            &mut rng,
            "Hi {contact} at {domain}: #{ticket} {odd} {",
            "Zoë",
            "x.io",
        );
        assert!(text.starts_with("Hi Zoë at x.io: #"), "{text}");
        assert!(text.ends_with(" {odd} {"), "{text}");
        assert!(!text.contains("{ticket}"));
    }

    #[test]
    fn staff_authors_are_found_by_email_only() {
        assert_eq!(
            staff_author("SOEUN+staff@example.com "),
            Some("Soeun Lee[staff-user-2] (soeun+staff@example.com)")
        );
        assert_eq!(
            staff_author("sara@example.com"),
            Some("Sara Lee (sara@example.com)")
        );
        assert_eq!(staff_author("Sara Lee"), None);
        assert_eq!(staff_author("someone@example.com"), None);
        assert_eq!(staff_author(""), None);
    }

    #[test]
    fn slugs_are_ascii() {
        assert_eq!(slug("Café Müller GmbH"), "cafe-mueller-gmbh");
        assert_eq!(slug("Sakura 桜 Labs"), "sakura-labs");
        assert_eq!(slug("桜"), "customer");
        assert_eq!(slug("Zoë O'Brien"), "zoe-obrien");
        assert_eq!(slug("Ōkami Núñez"), "okami-nunez");
    }
}
