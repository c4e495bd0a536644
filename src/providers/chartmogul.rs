//! ChartMogul client: customers, contacts, notes and call logs over `/v1/`, and writing notes
//! and call logs (`POST`/`PATCH`/`DELETE` on `/v1/customer_notes`). It tolerates every wire
//! quirk we know of, and the API key never leaves the Basic auth header.

use async_trait::async_trait;
use jiff::Timestamp;
use reqwest::{Method, Url};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::http::{ApiRequest, Auth, HttpClient, HttpOptions, check_base_url, endpoint};
use super::{Provider, ProviderError, Result};
use crate::model::{
    Capabilities, Contact, Customer, CustomerQuery, NewNote, Note, NoteKind, NotePatch, NoteQuery,
    Page, ProviderKind,
};
use crate::text::{note_text, sanitize_line};

pub const DEFAULT_BASE_URL: &str = "https://api.chartmogul.com";
/// The API's maximum (and default) page size for customers and notes.
pub const MAX_PER_PAGE: u32 = 200;
const PROVIDER: &str = "ChartMogul";

/// A ChartMogul account. Debug output shows no key: `Auth` redacts it.
#[derive(Debug, Clone)]
pub struct ChartMogul {
    http: HttpClient,
    base: Url,
    auth: Auth,
}

impl ChartMogul {
    /// `base_url` is usually [`DEFAULT_BASE_URL`]; plain http is accepted only for loopback.
    pub fn new(base_url: &str, api_key: String, options: HttpOptions) -> Result<Self> {
        let base = check_base_url(base_url)?;
        let http = HttpClient::new(PROVIDER, options)?;
        Ok(ChartMogul {
            http,
            base,
            // ChartMogul takes the key as the Basic user name with an empty password.
            auth: Auth::Basic {
                user: api_key,
                password: String::new(),
            },
        })
    }

    fn get(&self, segments: &[&str]) -> Result<ApiRequest> {
        self.request(Method::GET, segments)
    }

    /// A request to `/v1/<segments>`; its idempotency follows the method (POST and PATCH are
    /// not, so the HTTP client never repeats them once they may have reached the server).
    fn request(&self, method: Method, segments: &[&str]) -> Result<ApiRequest> {
        let mut path = vec!["v1"];
        path.extend_from_slice(segments);
        Ok(ApiRequest::new(method, endpoint(&self.base, &path)?).auth(&self.auth))
    }

    /// Sends a write whose reply is the note, and maps it as reads do.
    async fn write_note(&self, req: ApiRequest) -> Result<Note> {
        let wire: WireNote = self.fetch(req).await?;
        note_from_wire(wire).map_err(|why| malformed(why.to_string()))
    }

    async fn fetch<T: DeserializeOwned>(&self, req: ApiRequest) -> Result<T> {
        self.http.send_json(req).await
    }

    async fn customer_page(&self, req: ApiRequest, page: Option<&str>) -> Result<Page<Customer>> {
        let list: WireList<WireCustomer> = self.fetch(req).await?;
        let next = list.next_cursor(page);
        let items = list
            .entries
            .items
            .into_iter()
            .filter_map(|wire| match customer_from_wire(wire) {
                Ok(customer) => Some(customer),
                Err(why) => {
                    tracing::warn!(provider = PROVIDER, reason = why, "skipping a customer");
                    None
                }
            })
            .collect();
        Ok(Page { items, next })
    }
}

fn per_page(requested: Option<u32>) -> String {
    requested
        .unwrap_or(MAX_PER_PAGE)
        .clamp(1, MAX_PER_PAGE)
        .to_string()
}

/// An empty cursor means "first page", not "the page whose cursor is empty".
fn cursor(page: Option<&str>) -> Option<&str> {
    page.filter(|c| !c.is_empty())
}

fn with_cursor(req: ApiRequest, page: Option<&str>) -> ApiRequest {
    match cursor(page) {
        Some(c) => req.query("cursor", c),
        None => req,
    }
}

#[async_trait]
impl Provider for ChartMogul {
    fn kind(&self) -> ProviderKind {
        ProviderKind::ChartMogul
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            create_notes: true,
            log_calls: true,
            edit: true,
            delete: true,
            server_author_filter: true,
            server_type_filter: true,
            contacts: true,
            web_link: true,
            email_search: true,
            messages: false,
            sets_time: true,
        }
    }

    async fn ping(&self) -> Result<()> {
        // Any JSON will do: the point is that the key was accepted.
        let _: serde::de::IgnoredAny = self.fetch(self.get(&["ping"])?).await?;
        Ok(())
    }

    async fn customers(&self, query: &CustomerQuery, page: Option<&str>) -> Result<Page<Customer>> {
        let per_page = per_page(query.per_page);
        if let Some(email) = query.email_search() {
            let req = self
                .get(&["customers", "search"])?
                .query("email", email)
                .query("per_page", &per_page);
            return match self.customer_page(with_cursor(req, page), page).await {
                // The search answers 404 rather than an empty list when nothing matches.
                Err(ProviderError::NotFound(_)) => Ok(Page::last(Vec::new())),
                other => other,
            };
        }
        let req = self.get(&["customers"])?.query("per_page", &per_page);
        self.customer_page(with_cursor(req, page), page).await
    }

    async fn customer(&self, id: &str) -> Result<Customer> {
        let wire: WireCustomer = self.fetch(self.get(&["customers", id])?).await?;
        customer_from_wire(wire).map_err(|why| malformed(why.to_string()))
    }

    async fn contacts(&self, customer_id: &str, page: Option<&str>) -> Result<Page<Contact>> {
        let req = self.get(&["customers", customer_id, "contacts"])?;
        let list: WireList<WireContact> = self.fetch(with_cursor(req, page)).await?;
        let next = list.next_cursor(page);
        let items = list
            .entries
            .items
            .into_iter()
            .filter_map(|wire| match contact_from_wire(wire) {
                Ok(contact) => Some(contact),
                Err(why) => {
                    tracing::warn!(provider = PROVIDER, reason = why, "skipping a contact");
                    None
                }
            })
            .collect();
        Ok(Page { items, next })
    }

    async fn notes(&self, query: &NoteQuery, page: Option<&str>) -> Result<Page<Note>> {
        let mut req = self.get(&["customer_notes"])?;
        let present = |s: &Option<String>| {
            s.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        if let Some(customer) = present(&query.customer_id) {
            req = req.query("customer_uuid", &customer);
        }
        if let Some(kind) = &query.kind {
            req = req.query("type", kind.as_str());
        }
        if let Some(author) = present(&query.author_email) {
            req = req.query("author_email", &author);
        }
        req = req.query("per_page", &per_page(query.per_page));
        let list: WireList<WireNote> = self.fetch(with_cursor(req, page)).await?;
        let next = list.next_cursor(page);
        let items = list
            .entries
            .items
            .into_iter()
            .filter_map(|wire| {
                let id = wire.uuid.clone();
                match note_from_wire(wire) {
                    Ok(note) => Some(note),
                    Err(why) => {
                        tracing::warn!(
                            provider = PROVIDER,
                            note = id.as_deref().map(sanitize_line).unwrap_or_default(),
                            reason = why,
                            "skipping a note"
                        );
                        None
                    }
                }
            })
            .collect();
        Ok(Page { items, next })
    }

    async fn note(&self, id: &str) -> Result<Note> {
        let wire: WireNote = self.fetch(self.get(&["customer_notes", id])?).await?;
        note_from_wire(wire).map_err(|why| malformed(why.to_string()))
    }

    /// `POST /v1/customer_notes` → 201 with the note. Sent once: a failure after the request
    /// may have arrived (timeout, dropped connection, 5xx) is returned as it is, for the caller
    /// to reconcile against the customer's notes before sending again.
    fn rendered_text(&self, typed: &str) -> String {
        crate::text::note_text(&text_for_wire(typed))
    }

    async fn create_note(&self, note: &NewNote) -> Result<Note> {
        let body = wire_new_note(note)?;
        let req = self
            .request(Method::POST, &["customer_notes"])?
            .json(&body)?;
        self.write_note(req).await
    }

    /// `PATCH /v1/customer_notes/{uuid}` with only the fields that change → 200 with the note.
    async fn update_note(&self, id: &str, patch: &NotePatch) -> Result<Note> {
        let body = wire_patch(patch);
        let req = self
            .request(Method::PATCH, &["customer_notes", id])?
            .json(&body)?;
        self.write_note(req).await
    }

    /// `DELETE /v1/customer_notes/{uuid}` → 200 with `{}` (or 204). The body is not read, so
    /// either reply works.
    async fn delete_note(&self, id: &str) -> Result<()> {
        let req = self.request(Method::DELETE, &["customer_notes", id])?;
        match self.http.send(req).await {
            Ok(_) => Ok(()),
            // A DELETE is retried after a timeout or a 5xx, and an earlier attempt may have
            // deleted the note already; either way the note is gone, which is what was asked.
            Err(ProviderError::NotFound(_)) => Ok(()),
            Err(e) => Err(e),
        }
    }
}

/// The body of `POST /v1/customer_notes`.
#[derive(Serialize, Debug)]
struct WireNewNote<'a> {
    customer_uuid: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    author_email: Option<&'a str>,
    text: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    call_duration: Option<u32>,
    created_at: String,
}

/// The body of `PATCH /v1/customer_notes/{uuid}`: absent fields are left as they are.
#[derive(Serialize, Debug, Default)]
struct WirePatch<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    text: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    call_duration: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    created_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    author_email: Option<&'a str>,
}

fn wire_new_note(note: &NewNote) -> Result<WireNewNote<'_>> {
    let customer_uuid = note.customer_id.trim();
    if customer_uuid.is_empty() {
        return Err(ProviderError::Refused(
            "a note needs the customer it belongs to".into(),
        ));
    }
    let kind = match note.kind {
        NoteKind::Note => "note",
        NoteKind::Call => "call",
        NoteKind::Other(ref other) => {
            return Err(ProviderError::Unsupported(format!(
                "ChartMogul notes are notes or calls, not {:?}",
                sanitize_line(other)
            )));
        }
    };
    Ok(WireNewNote {
        customer_uuid,
        kind,
        author_email: present(note.author_email.as_deref()),
        text: text_for_wire(&note.text),
        // Only calls have a duration; a call without one gets the API's default minute.
        call_duration: match note.kind {
            NoteKind::Call => note.call_duration_s,
            _ => None,
        },
        created_at: wire_time(note.created_at),
    })
}

fn wire_patch(patch: &NotePatch) -> WirePatch<'_> {
    WirePatch {
        text: patch.text.as_deref().map(text_for_wire),
        call_duration: patch.call_duration_s,
        created_at: patch.created_at.map(wire_time),
        author_email: present(patch.author_email.as_deref()),
    }
}

fn present(s: Option<&str>) -> Option<&str> {
    s.map(str::trim).filter(|s| !s.is_empty())
}

/// RFC 3339 in UTC with milliseconds, the precision ChartMogul keeps. Truncated, not rounded:
/// rounding up could put "now" in the future, which the API refuses; and sending exactly what
/// the server will store lets a reconciling caller compare times for equality.
pub fn wire_time(at: Timestamp) -> String {
    let millis = at.as_millisecond();
    let truncated = Timestamp::from_millisecond(millis).unwrap_or(at);
    format!("{truncated:.3}")
}

/// The agent's plain text as ChartMogul's `text`, which may hold HTML and is read back through
/// the HTML renderer when it looks like markup. Text that does not is sent unchanged (newlines
/// included); text that does (a `<tag`, `&copy;`) is escaped as a whole, so "the <Enterprise>
/// plan" reads back as typed instead of losing the "tag". Escaping everything, not just the
/// offending sequence, matters: once rendered as HTML, a bare `&copy` would be decoded too.
pub fn text_for_wire(text: &str) -> String {
    if !reads_as_markup(text) {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            _ => out.push(c),
        }
    }
    out
}

/// Whether the reader would take `text` for HTML: a `<` opening a tag, closing tag, comment or
/// declaration, or an `&` starting a character reference (`&#…`, `&name;`). Errs on the side
/// of yes: escaping plain text costs nothing but a little markup on the wire.
fn reads_as_markup(text: &str) -> bool {
    let b = text.as_bytes();
    b.iter().enumerate().any(|(i, &c)| match c {
        b'<' => b
            .get(i + 1)
            .is_some_and(|&n| n.is_ascii_alphabetic() || matches!(n, b'/' | b'!' | b'?')),
        b'&' => starts_char_ref(&b[i + 1..]),
        _ => false,
    })
}

/// Whether the text after an `&` reads as a character reference (`#…` or `name;`).
fn starts_char_ref(after: &[u8]) -> bool {
    if after.first() == Some(&b'#') {
        return true;
    }
    let name_len = after
        .iter()
        .take(32)
        .take_while(|c| c.is_ascii_alphanumeric())
        .count();
    name_len > 0 && after.get(name_len) == Some(&b';')
}

fn malformed(message: String) -> ProviderError {
    ProviderError::Malformed {
        provider: PROVIDER,
        message,
    }
}

// ---------------------------------------------------------------------------------------------
// Wire format. Every field is optional and accepts whatever type the server sends, so one odd
// value costs that value (or that entry), never the whole page.

/// A cursor-paginated list: `{"entries":[…],"cursor":"…","has_more":bool}`.
#[derive(Deserialize)]
#[serde(bound = "T: Deserialize<'de>")]
struct WireList<T> {
    #[serde(default = "Entries::empty")]
    entries: Entries<T>,
    #[serde(default, deserialize_with = "lenient::string")]
    cursor: Option<String>,
    #[serde(default, deserialize_with = "lenient::boolean")]
    has_more: Option<bool>,
}

impl<T> WireList<T> {
    /// A next page exists only when the server says so, gives a usable cursor, and this page
    /// was not empty; an empty "has_more" page or a repeated cursor would otherwise loop forever.
    fn next_cursor(&self, previous: Option<&str>) -> Option<String> {
        next_cursor(
            self.has_more,
            self.cursor.as_deref(),
            self.entries.raw,
            previous,
        )
    }
}

fn next_cursor(
    has_more: Option<bool>,
    cursor: Option<&str>,
    raw_entries: usize,
    previous: Option<&str>,
) -> Option<String> {
    let cursor = cursor.map(str::trim).filter(|c| !c.is_empty())?;
    if has_more != Some(true) || raw_entries == 0 {
        return None;
    }
    if previous == Some(cursor) {
        tracing::warn!(
            provider = PROVIDER,
            "the server repeated the previous cursor; stopping"
        );
        return None;
    }
    Some(cursor.to_string())
}

/// The entries of a page, without those that are not objects; `raw` counts them all.
struct Entries<T> {
    items: Vec<T>,
    raw: usize,
}

impl<T> Entries<T> {
    fn empty() -> Self {
        Entries {
            items: Vec::new(),
            raw: 0,
        }
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Entries<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct Visit<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> serde::de::Visitor<'de> for Visit<T> {
            type Value = Entries<T>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a list of entries")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> std::result::Result<Self::Value, A::Error> {
                let mut out = Entries::empty();
                while let Some(entry) = seq.next_element::<lenient::ObjectOrSkip<T>>()? {
                    out.raw += 1;
                    out.items.extend(entry.0);
                }
                Ok(out)
            }
            fn visit_unit<E>(self) -> std::result::Result<Self::Value, E> {
                Ok(Entries::empty())
            }
            fn visit_none<E>(self) -> std::result::Result<Self::Value, E> {
                Ok(Entries::empty())
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                map: A,
            ) -> std::result::Result<Self::Value, A::Error> {
                lenient::drain_map(map)?;
                Ok(Entries::empty())
            }
            fn visit_bool<E>(self, _: bool) -> std::result::Result<Self::Value, E> {
                Ok(Entries::empty())
            }
            fn visit_i64<E>(self, _: i64) -> std::result::Result<Self::Value, E> {
                Ok(Entries::empty())
            }
            fn visit_u64<E>(self, _: u64) -> std::result::Result<Self::Value, E> {
                Ok(Entries::empty())
            }
            fn visit_f64<E>(self, _: f64) -> std::result::Result<Self::Value, E> {
                Ok(Entries::empty())
            }
            fn visit_str<E>(self, _: &str) -> std::result::Result<Self::Value, E> {
                Ok(Entries::empty())
            }
        }
        d.deserialize_any(Visit(std::marker::PhantomData))
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct WireNote {
    #[serde(deserialize_with = "lenient::string")]
    uuid: Option<String>,
    #[serde(deserialize_with = "lenient::string")]
    customer_uuid: Option<String>,
    #[serde(rename = "type", deserialize_with = "lenient::string")]
    kind: Option<String>,
    #[serde(deserialize_with = "lenient::string")]
    text: Option<String>,
    #[serde(deserialize_with = "lenient::uint")]
    call_duration: Option<u64>,
    #[serde(deserialize_with = "lenient::string")]
    author: Option<String>,
    /// Not in the documented note, but sent by write endpoints: used when `author` has none.
    #[serde(deserialize_with = "lenient::string")]
    author_email: Option<String>,
    #[serde(deserialize_with = "lenient::string")]
    created_at: Option<String>,
    #[serde(deserialize_with = "lenient::string")]
    updated_at: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct WireCustomer {
    #[serde(deserialize_with = "lenient::string")]
    uuid: Option<String>,
    #[serde(deserialize_with = "lenient::string")]
    name: Option<String>,
    #[serde(deserialize_with = "lenient::string")]
    email: Option<String>,
    #[serde(deserialize_with = "lenient::string")]
    company: Option<String>,
    #[serde(deserialize_with = "lenient::string")]
    status: Option<String>,
    // Separate fields rather than an alias: a reply carrying both spellings must not fail
    // as a duplicate field.
    #[serde(rename = "chartmogul-url", deserialize_with = "lenient::string")]
    chartmogul_url_hyphen: Option<String>,
    #[serde(rename = "chartmogul_url", deserialize_with = "lenient::string")]
    chartmogul_url: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct WireContact {
    #[serde(deserialize_with = "lenient::string")]
    uuid: Option<String>,
    #[serde(deserialize_with = "lenient::string")]
    first_name: Option<String>,
    #[serde(deserialize_with = "lenient::string")]
    last_name: Option<String>,
    #[serde(deserialize_with = "lenient::string")]
    title: Option<String>,
    #[serde(deserialize_with = "lenient::string")]
    email: Option<String>,
    #[serde(deserialize_with = "lenient::string")]
    phone: Option<String>,
    #[serde(deserialize_with = "lenient::string")]
    linked_in: Option<String>,
    #[serde(deserialize_with = "lenient::string")]
    twitter: Option<String>,
    #[serde(deserialize_with = "lenient::string")]
    notes: Option<String>,
}

/// Deserialisers that take any JSON value and keep what makes sense for the field.
mod lenient {
    use serde::Deserialize;
    use serde::de::{self, IgnoredAny, MapAccess, SeqAccess, Visitor};

    enum Scalar {
        Text(String),
        Int(i64),
        UInt(u64),
        Float(f64),
        Bool(bool),
        Nothing,
    }

    struct ScalarVisitor;

    impl<'de> Visitor<'de> for ScalarVisitor {
        type Value = Scalar;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("any JSON value")
        }
        fn visit_str<E>(self, v: &str) -> Result<Scalar, E> {
            Ok(Scalar::Text(v.to_string()))
        }
        fn visit_string<E>(self, v: String) -> Result<Scalar, E> {
            Ok(Scalar::Text(v))
        }
        fn visit_i64<E>(self, v: i64) -> Result<Scalar, E> {
            Ok(Scalar::Int(v))
        }
        fn visit_u64<E>(self, v: u64) -> Result<Scalar, E> {
            Ok(Scalar::UInt(v))
        }
        fn visit_f64<E>(self, v: f64) -> Result<Scalar, E> {
            Ok(Scalar::Float(v))
        }
        fn visit_bool<E>(self, v: bool) -> Result<Scalar, E> {
            Ok(Scalar::Bool(v))
        }
        fn visit_unit<E>(self) -> Result<Scalar, E> {
            Ok(Scalar::Nothing)
        }
        fn visit_none<E>(self) -> Result<Scalar, E> {
            Ok(Scalar::Nothing)
        }
        fn visit_some<D: de::Deserializer<'de>>(self, d: D) -> Result<Scalar, D::Error> {
            d.deserialize_any(ScalarVisitor)
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Scalar, A::Error> {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            Ok(Scalar::Nothing)
        }
        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Scalar, A::Error> {
            drain_map(map)?;
            Ok(Scalar::Nothing)
        }
    }

    pub fn drain_map<'de, A: MapAccess<'de>>(mut map: A) -> Result<(), A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(())
    }

    /// Strings as they are; numbers and booleans as text (ids come as either); else `None`.
    pub fn string<'de, D: de::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
        Ok(match d.deserialize_any(ScalarVisitor)? {
            Scalar::Text(s) => Some(s),
            Scalar::Int(i) => Some(i.to_string()),
            Scalar::UInt(u) => Some(u.to_string()),
            Scalar::Float(f) => Some(f.to_string()),
            Scalar::Bool(b) => Some(b.to_string()),
            Scalar::Nothing => None,
        })
    }

    /// Non-negative whole numbers, also from floats and numeric strings; else `None`.
    pub fn uint<'de, D: de::Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
        Ok(match d.deserialize_any(ScalarVisitor)? {
            Scalar::UInt(u) => Some(u),
            Scalar::Int(i) => u64::try_from(i).ok(),
            Scalar::Float(f) if f.is_finite() && f >= 0.0 => Some(f as u64),
            Scalar::Text(s) => s
                .trim()
                .parse::<f64>()
                .ok()
                .and_then(|f| (f.is_finite() && f >= 0.0).then_some(f as u64)),
            _ => None,
        })
    }

    /// Booleans, also from `"true"`/`"false"` and 0/1.
    pub fn boolean<'de, D: de::Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
        Ok(match d.deserialize_any(ScalarVisitor)? {
            Scalar::Bool(b) => Some(b),
            Scalar::UInt(u) => Some(u != 0),
            Scalar::Int(i) => Some(i != 0),
            Scalar::Text(s) => match s.trim().to_ascii_lowercase().as_str() {
                "true" | "1" => Some(true),
                "false" | "0" => Some(false),
                _ => None,
            },
            _ => None,
        })
    }

    /// An object decoded as `T`; anything else (null, a number, a list) is skipped.
    pub struct ObjectOrSkip<T>(pub Option<T>);

    impl<'de, T: Deserialize<'de>> Deserialize<'de> for ObjectOrSkip<T> {
        fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct Visit<T>(std::marker::PhantomData<T>);
            impl<'de, T: Deserialize<'de>> Visitor<'de> for Visit<T> {
                type Value = ObjectOrSkip<T>;
                fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                    f.write_str("an object")
                }
                fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                    T::deserialize(de::value::MapAccessDeserializer::new(map))
                        .map(|t| ObjectOrSkip(Some(t)))
                }
                fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                    while seq.next_element::<IgnoredAny>()?.is_some() {}
                    Ok(ObjectOrSkip(None))
                }
                fn visit_unit<E>(self) -> Result<Self::Value, E> {
                    Ok(ObjectOrSkip(None))
                }
                fn visit_none<E>(self) -> Result<Self::Value, E> {
                    Ok(ObjectOrSkip(None))
                }
                fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
                    Ok(ObjectOrSkip(None))
                }
                fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
                    Ok(ObjectOrSkip(None))
                }
                fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
                    Ok(ObjectOrSkip(None))
                }
                fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
                    Ok(ObjectOrSkip(None))
                }
                fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
                    Ok(ObjectOrSkip(None))
                }
            }
            d.deserialize_any(Visit(std::marker::PhantomData))
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Mapping to the model.

/// A one-line field, sanitised; empty means absent.
fn clean(s: Option<String>) -> Option<String> {
    s.map(|s| sanitize_line(&s).trim().to_string())
        .filter(|s| !s.is_empty())
}

fn customer_from_wire(w: WireCustomer) -> std::result::Result<Customer, &'static str> {
    let id = clean(w.uuid).ok_or("a customer without a uuid")?;
    let email = clean(w.email);
    let name = clean(w.name)
        .or_else(|| email.clone())
        .unwrap_or_else(|| id.clone());
    Ok(Customer {
        id,
        name,
        email,
        company: clean(w.company),
        status: clean(w.status),
        web_url: clean(w.chartmogul_url_hyphen).or_else(|| clean(w.chartmogul_url)),
    })
}

fn contact_from_wire(w: WireContact) -> std::result::Result<Contact, &'static str> {
    Ok(Contact {
        id: clean(w.uuid).ok_or("a contact without a uuid")?,
        first_name: clean(w.first_name),
        last_name: clean(w.last_name),
        title: clean(w.title),
        email: clean(w.email),
        phone: clean(w.phone),
        linked_in: clean(w.linked_in),
        twitter: clean(w.twitter),
        notes: w
            .notes
            .map(|n| note_text(&n))
            .filter(|n| !n.trim().is_empty()),
    })
}

fn note_from_wire(w: WireNote) -> std::result::Result<Note, &'static str> {
    let id = clean(w.uuid).ok_or("a note without a uuid")?;
    let updated_at = w.updated_at.as_deref().and_then(parse_time);
    let created_at = w
        .created_at
        .as_deref()
        .and_then(parse_time)
        .or(updated_at)
        .ok_or("a note without a usable created_at or updated_at")?;
    let kind = NoteKind::parse(w.kind.as_deref().unwrap_or_default());
    let (author_name, author_email) = parse_author(w.author.as_deref().unwrap_or_default());
    let call_duration_s = match kind {
        NoteKind::Call => w
            .call_duration
            .map(|d| u32::try_from(d).unwrap_or(u32::MAX)),
        _ => None,
    };
    Ok(Note {
        id,
        customer_id: clean(w.customer_uuid),
        kind,
        author_name,
        author_email: author_email.or_else(|| clean(w.author_email)),
        text: note_text(w.text.as_deref().unwrap_or_default()),
        call_duration_s,
        created_at,
        updated_at,
        subject: None,
        web_url: None,
        extras: Default::default(),
    })
}

/// Any RFC 3339 time; a time without an offset is read as UTC, as ChartMogul documents.
fn parse_time(s: &str) -> Option<Timestamp> {
    let s = s.trim();
    if let Ok(ts) = s.parse::<Timestamp>() {
        return Some(ts);
    }
    let civil = s.parse::<jiff::civil::DateTime>().ok()?;
    civil
        .to_zoned(jiff::tz::TimeZone::UTC)
        .ok()
        .map(|z| z.timestamp())
}

/// Splits ChartMogul's `author` ("Name (email)") into name and email. The email is the last
/// bracketed group; a `[tag]` after the name (staff markers in recorded data) is dropped. An
/// author that is only an email or only a name works too.
fn parse_author(author: &str) -> (Option<String>, Option<String>) {
    let author = author.trim();
    let (name, email) = match split_last_group(author) {
        Some((name, group)) => (name, group.contains('@').then_some(group)),
        None if author.contains('@') && !author.contains(char::is_whitespace) => ("", Some(author)),
        None => (author, None),
    };
    let mut name = name.trim();
    // "Soeun Lee[staff-user-2]" → "Soeun Lee"; tags may repeat.
    while name.ends_with(']') {
        match name.rfind('[') {
            Some(open) => name = name[..open].trim_end(),
            None => break,
        }
    }
    (
        clean(Some(name.to_string())),
        clean(email.map(str::to_string)),
    )
}

/// `"Name (inner)"` → `("Name ", "inner")`, matching nested brackets; also `<…>`.
fn split_last_group(s: &str) -> Option<(&str, &str)> {
    let (open, close) = match s.chars().last()? {
        ')' => ('(', ')'),
        '>' => ('<', '>'),
        _ => return None,
    };
    let mut depth = 0usize;
    for (i, c) in s.char_indices().rev() {
        if c == close {
            depth += 1;
        } else if c == open {
            depth -= 1;
            if depth == 0 {
                return Some((&s[..i], s[i + 1..s.len() - 1].trim()));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().expect("timestamp")
    }

    fn note_json(json: &str) -> std::result::Result<Note, &'static str> {
        note_from_wire(serde_json::from_str(json).expect("json"))
    }

    fn list<T: DeserializeOwned>(json: &str) -> WireList<T> {
        serde_json::from_str(json).expect("list")
    }

    #[test]
    fn maps_the_create_note_reference_reply() {
        let note = note_json(
            r#"{
              "uuid": "note_39351ba6-dea0-11ee-ac96-37b2b3de29af",
              "customer_uuid": "cus_52eb54c2-dea0-11ed-ac96-ef735d89fca0",
              "type": "note",
              "text": "Trial extended by two weeks.<br>Key contact on leave until May.",
              "call_duration": 0,
              "author": "Adam (adam@example.com)",
              "created_at": "2023-11-01T00:00:00.000Z",
              "updated_at": "2023-12-21T10:53:50.082Z"
            }"#,
        )
        .expect("note");
        assert_eq!(note.id, "note_39351ba6-dea0-11ee-ac96-37b2b3de29af");
        assert_eq!(
            note.customer_id.as_deref(),
            Some("cus_52eb54c2-dea0-11ed-ac96-ef735d89fca0")
        );
        assert_eq!(note.kind, NoteKind::Note);
        assert_eq!(note.author_name.as_deref(), Some("Adam"));
        assert_eq!(note.author_email.as_deref(), Some("adam@example.com"));
        assert_eq!(
            note.text,
            note_text("Trial extended by two weeks.<br>Key contact on leave until May.")
        );
        assert_eq!(note.call_duration_s, None);
        assert_eq!(note.created_at, ts("2023-11-01T00:00:00Z"));
        assert_eq!(note.updated_at, Some(ts("2023-12-21T10:53:50.082Z")));
    }

    #[test]
    fn maps_the_list_notes_reference_page_verbatim() {
        // As scraped, with the site's e-mail obfuscation in place of the address.
        let page: WireList<WireNote> = list(
            r#"{ "entries": [ { "uuid": "note_39351ba6-dea0-11ee-ac96-37b2b3de29af", "customer_uuid": "cus_52eb54c2-dea0-11ed-ac96-ef735d89fca0", "type": "note", "text": "They are a world leader in specialized software.\nThey are in SaaS business.", "call_duration": 0, "author": "Sara ([email protected])", "created_at": "2023-11-01T00:00:00.000Z", "updated_at": "2023-12-21T10:53:50.082Z" } ], "cursor": "aabbcc...", "has_more": true }"#,
        );
        assert_eq!(page.next_cursor(None).as_deref(), Some("aabbcc..."));
        let notes: Vec<Note> = page
            .entries
            .items
            .into_iter()
            .map(|w| note_from_wire(w).expect("note"))
            .collect();
        assert_eq!(notes.len(), 1);
        assert_eq!(notes[0].author_name.as_deref(), Some("Sara"));
        assert_eq!(notes[0].author_email, None);
        assert!(notes[0].text.contains("world leader"));
        assert!(notes[0].text.contains("SaaS business"));
    }

    #[test]
    fn maps_the_list_contacts_reference_entry() {
        let page: WireList<WireContact> = list(
            r#"{
              "entries": [{
                "uuid": "con_653af916-dea0-11ed-845b-3be1ac0039ac",
                "customer_uuid": "cus_52eb54c2-dea0-11ed-ac96-ef735d89fca0",
                "customer_external_id": "cus_0001",
                "data_source_uuid": "ds_35542640-d9f1-11ed-9c30-7727168c74a5",
                "position": 1,
                "first_name": "Adam",
                "last_name": "Smith",
                "title": "CEO",
                "email": "adam@example.com",
                "phone": "+1234567890",
                "linked_in": "https://linkedin.com/example",
                "twitter": "https://twitter.com/example",
                "notes": "Heading\nBody\nFooter",
                "custom": {"Facebook": "https://www.facebook.com/example/", "date_of_birth": "1985-01-22"}
              }],
              "cursor": "aabbcc...",
              "has_more": true
            }"#,
        );
        assert_eq!(page.next_cursor(None).as_deref(), Some("aabbcc..."));
        let contact = page
            .entries
            .items
            .into_iter()
            .map(|w| contact_from_wire(w).expect("contact"))
            .next()
            .expect("one contact");
        assert_eq!(
            contact,
            Contact {
                id: "con_653af916-dea0-11ed-845b-3be1ac0039ac".into(),
                first_name: Some("Adam".into()),
                last_name: Some("Smith".into()),
                title: Some("CEO".into()),
                email: Some("adam@example.com".into()),
                phone: Some("+1234567890".into()),
                linked_in: Some("https://linkedin.com/example".into()),
                twitter: Some("https://twitter.com/example".into()),
                notes: Some(note_text("Heading\nBody\nFooter")),
            }
        );
    }

    #[test]
    fn maps_a_customer_with_hyphenated_keys_and_extras() {
        let page: WireList<WireCustomer> = list(
            r#"{"entries":[{
                "id": 25647, "uuid": "cus_de305d54-75b4-431b-adb2-eb6b9e546012",
                "external_id": "34916129", "name": "Example Company", "email": "bob@example.com",
                "status": "Active", "customer-since": "2015-06-09T13:16:00-04:00",
                "attributes": {"tags": ["important"], "custom": {"channel": "Facebook"}},
                "address": {"country": "US"}, "mrr": 3000, "arr": 36000,
                "billing-system-url": "https://dashboard.stripe.com/customers/cus_4Z2ZpyJFuQ0XMb",
                "chartmogul-url": "https://app.chartmogul.com/#customers/25647",
                "billing-system-type": "Stripe", "currency": "USD", "currency-sign": "$",
                "company": "", "country": null, "city": null, "owner": null, "clearbit": {}
              },
              {"id": "25648", "uuid": "cus_2", "name": null, "email": "only@example.com",
               "company": "Initech", "chartmogul_url": "https://app.chartmogul.com/#customers/2"}],
              "has_more": false, "per_page": 200, "page": 1, "current_page": 1, "total_pages": 1,
              "cursor": null}"#,
        );
        assert_eq!(page.next_cursor(None), None);
        let customers: Vec<Customer> = page
            .entries
            .items
            .into_iter()
            .map(|w| customer_from_wire(w).expect("customer"))
            .collect();
        assert_eq!(
            customers[0],
            Customer {
                id: "cus_de305d54-75b4-431b-adb2-eb6b9e546012".into(),
                name: "Example Company".into(),
                email: Some("bob@example.com".into()),
                company: None,
                status: Some("Active".into()),
                web_url: Some("https://app.chartmogul.com/#customers/25647".into()),
            }
        );
        assert_eq!(customers[1].name, "only@example.com");
        assert_eq!(customers[1].company.as_deref(), Some("Initech"));
        assert_eq!(
            customers[1].web_url.as_deref(),
            Some("https://app.chartmogul.com/#customers/2")
        );
    }

    #[test]
    fn author_parsing_table() {
        let cases: &[(&str, Option<&str>, Option<&str>)] = &[
            (
                "Sara (sara@example.com)",
                Some("Sara"),
                Some("sara@example.com"),
            ),
            (
                "Soeun Lee[staff-user-2] (soeun+staff@chartmogul.com)",
                Some("Soeun Lee"),
                Some("soeun+staff@chartmogul.com"),
            ),
            (
                "Sara Lee (UK) (sara@example.com)",
                Some("Sara Lee (UK)"),
                Some("sara@example.com"),
            ),
            (
                "Sara <sara@example.com>",
                Some("Sara"),
                Some("sara@example.com"),
            ),
            ("sara@example.com", None, Some("sara@example.com")),
            ("(sara@example.com)", None, Some("sara@example.com")),
            ("Sara Lee", Some("Sara Lee"), None),
            ("Adam ([email protected])", Some("Adam"), None),
            (
                "  Sara  ( sara@example.com ) ",
                Some("Sara"),
                Some("sara@example.com"),
            ),
            ("Bob[a][b] (b@x.io)", Some("Bob"), Some("b@x.io")),
            ("Unbalanced)", Some("Unbalanced)"), None),
            ("", None, None),
        ];
        for (input, name, email) in cases {
            let (got_name, got_email) = parse_author(input);
            assert_eq!(
                (got_name.as_deref(), got_email.as_deref()),
                (*name, *email),
                "author {input:?}"
            );
        }
        let (name, _) = parse_author("Eve\u{1b}[31m\u{202e} (eve@example.com)");
        assert!(
            !name.unwrap_or_default().contains(['\u{1b}', '\u{202e}']),
            "control characters must not survive"
        );
    }

    #[test]
    fn timestamp_table() {
        let cases = [
            ("2023-12-15T12:45:12.548Z", "2023-12-15T12:45:12.548Z"),
            ("2023-11-01T00:00:00Z", "2023-11-01T00:00:00Z"),
            ("2015-06-09T13:16:00-04:00", "2015-06-09T17:16:00Z"),
            ("2023-11-01T00:00:00+00:00", "2023-11-01T00:00:00Z"),
            ("2023-11-01T02:30:00.5+02:30", "2023-11-01T00:00:00.5Z"),
            ("2023-11-01T00:00:00", "2023-11-01T00:00:00Z"),
            (" 2023-11-01T00:00:00Z ", "2023-11-01T00:00:00Z"),
        ];
        for (input, expected) in cases {
            assert_eq!(parse_time(input), Some(ts(expected)), "time {input:?}");
        }
        for bad in ["", "yesterday", "2023-13-01T00:00:00Z", "12:00"] {
            assert_eq!(parse_time(bad), None, "time {bad:?}");
        }
    }

    #[test]
    fn created_at_falls_back_to_updated_at_else_the_entry_is_skipped() {
        let note = note_json(
            r#"{"uuid":"n1","created_at":"garbage","updated_at":"2024-01-02T03:04:05Z"}"#,
        )
        .expect("note");
        assert_eq!(note.created_at, ts("2024-01-02T03:04:05Z"));
        assert!(note_json(r#"{"uuid":"n1","created_at":null}"#).is_err());
        assert!(note_json(r#"{"created_at":"2024-01-02T03:04:05Z"}"#).is_err());

        let page: WireList<WireNote> = list(
            r#"{"entries":[{"uuid":"bad"},{"uuid":"good","created_at":"2024-01-02T03:04:05Z"}],
                "has_more":false}"#,
        );
        let ok: Vec<String> = page
            .entries
            .items
            .into_iter()
            .filter_map(|w| note_from_wire(w).ok())
            .map(|n| n.id)
            .collect();
        assert_eq!(ok, ["good"]);
    }

    #[test]
    fn call_durations_only_for_calls() {
        let t = r#""created_at":"2024-01-01T00:00:00Z""#;
        let cases = [
            (
                format!(r#"{{"uuid":"a","type":"call","call_duration":900,{t}}}"#),
                Some(900),
            ),
            (
                format!(r#"{{"uuid":"a","type":"CALL","call_duration":"60",{t}}}"#),
                Some(60),
            ),
            (
                format!(r#"{{"uuid":"a","type":"call","call_duration":0,{t}}}"#),
                Some(0),
            ),
            (
                format!(r#"{{"uuid":"a","type":"call","call_duration":null,{t}}}"#),
                None,
            ),
            (format!(r#"{{"uuid":"a","type":"call",{t}}}"#), None),
            (
                format!(r#"{{"uuid":"a","type":"call","call_duration":-5,{t}}}"#),
                None,
            ),
            (
                format!(r#"{{"uuid":"a","type":"note","call_duration":60,{t}}}"#),
                None,
            ),
            (format!(r#"{{"uuid":"a","call_duration":60,{t}}}"#), None),
        ];
        for (json, expected) in cases {
            assert_eq!(
                note_json(&json).expect("note").call_duration_s,
                expected,
                "{json}"
            );
        }
        let other = note_json(&format!(r#"{{"uuid":"a","type":"meeting",{t}}}"#)).expect("note");
        assert_eq!(other.kind, NoteKind::Other("meeting".into()));
    }

    #[test]
    fn nulls_wrong_types_and_unknown_keys_are_tolerated() {
        let page: WireList<WireNote> = list(
            r#"{"entries":[null, 42, "x", [1,2],
                {"uuid":7,"customer_uuid":null,"type":null,"text":null,"author":null,
                 "call_duration":{"weird":true},"created_at":"2024-01-01T00:00:00Z",
                 "updated_at":null,"associated_object":{"type":"contact"},"brand_new":[1]}],
                "cursor":null,"has_more":null,"extra":{"a":[{}]}}"#,
        );
        assert_eq!(page.entries.raw, 5);
        assert_eq!(page.next_cursor(None), None);
        let note = page
            .entries
            .items
            .into_iter()
            .next()
            .map(note_from_wire)
            .expect("one object")
            .expect("note");
        assert_eq!(note.id, "7");
        assert_eq!(note.customer_id, None);
        assert_eq!(note.kind, NoteKind::Note);
        assert_eq!(note.text, note_text(""));
        assert_eq!((note.author_name, note.author_email), (None, None));

        for empty in [
            r#"{}"#,
            r#"{"entries":null}"#,
            r#"{"entries":{}}"#,
            r#"{"entries":3}"#,
        ] {
            let page: WireList<WireNote> = list(empty);
            assert!(page.entries.items.is_empty(), "{empty}");
            assert_eq!(page.next_cursor(None), None, "{empty}");
        }
    }

    #[test]
    fn pagination_quirks_terminate() {
        // has_more without entries: stop, or we would ask for the same nothing forever.
        assert_eq!(next_cursor(Some(true), Some("abc="), 0, None), None);
        assert_eq!(next_cursor(Some(true), None, 3, None), None);
        assert_eq!(next_cursor(Some(true), Some(""), 3, None), None);
        assert_eq!(next_cursor(Some(true), Some("  "), 3, None), None);
        assert_eq!(next_cursor(Some(false), Some("abc="), 3, None), None);
        assert_eq!(next_cursor(None, Some("abc="), 3, None), None);
        assert_eq!(next_cursor(Some(true), Some("abc="), 3, Some("abc=")), None);
        assert_eq!(
            next_cursor(Some(true), Some("MjAyNC0wMS0wMQ=="), 3, Some("x")).as_deref(),
            Some("MjAyNC0wMS0wMQ==")
        );
        let page: WireList<WireNote> =
            list(r#"{"entries":[{"uuid":"a"}],"has_more":"true","cursor":"eyJpZCI6MX0="}"#);
        assert_eq!(page.next_cursor(None).as_deref(), Some("eyJpZCI6MX0="));
        let page: WireList<WireNote> = list(r#"{"entries":[{"uuid":"a"}],"has_more":true}"#);
        assert_eq!(page.next_cursor(None), None);
    }

    #[test]
    fn hostile_text_is_sanitised() {
        let note = note_json(
            "{\"uuid\":\"n\\u001b[2J\",\"created_at\":\"2024-01-01T00:00:00Z\",\
              \"text\":\"hi\\u001b]0;pwned\\u0007 there\\u202e\"}",
        )
        .expect("note");
        assert!(!note.id.contains('\u{1b}'));
        assert!(
            !note.text.contains(['\u{1b}', '\u{7}', '\u{202e}']),
            "{:?}",
            note.text
        );
    }

    #[test]
    fn construction_checks_the_url_and_hides_the_key() {
        let options = HttpOptions::default();
        let cm = ChartMogul::new("http://127.0.0.1:1", "sk-secret-123".into(), options)
            .expect("loopback http is fine");
        assert!(!format!("{cm:?}").contains("sk-secret-123"));
        assert!(ChartMogul::new(DEFAULT_BASE_URL, "k".into(), options).is_ok());
        assert!(matches!(
            ChartMogul::new("http://api.chartmogul.com", "k".into(), options),
            Err(ProviderError::Refused(_))
        ));
        let caps = cm.capabilities();
        assert!(caps.email_search && caps.contacts && caps.server_author_filter && caps.log_calls);
        assert_eq!(cm.kind(), ProviderKind::ChartMogul);
    }

    #[test]
    fn wire_times_are_utc_milliseconds_truncated() {
        assert_eq!(
            wire_time(ts("2026-01-02T03:04:05.123999Z")),
            "2026-01-02T03:04:05.123Z"
        );
        assert_eq!(
            wire_time(ts("2026-01-02T05:04:05+02:00")),
            "2026-01-02T03:04:05.000Z"
        );
        let now = Timestamp::now();
        let sent = parse_time(&wire_time(now)).expect("parses back");
        assert!(sent <= now, "never later than the time it stands for");
    }

    #[test]
    fn text_reads_back_as_typed() {
        let cases = [
            "Renewal discussed, sending quote Monday.",
            "line one\nline two\n\nnew paragraph",
            "the <Enterprise> plan",
            "AT&T asked about <b>bold</b> pricing\nsecond line",
            "&copy; and &#169; are not symbols here",
            "a < b > c & d",
            "emoji 🎉 ünïcode 李娜 <tag>",
            "<!-- not a comment -->",
        ];
        for typed in cases {
            assert_eq!(note_text(&text_for_wire(typed)), typed, "{typed:?}");
        }
        // Plain text goes out untouched, so the web app shows exactly what was typed.
        assert_eq!(text_for_wire("a < b & c\n"), "a < b & c\n");
        assert_eq!(
            text_for_wire("x <i>y</i> & z"),
            "x &lt;i&gt;y&lt;/i&gt; &amp; z"
        );
    }

    #[test]
    fn write_bodies_send_only_what_applies() {
        let at = ts("2026-01-02T03:04:05.678Z");
        let call = NewNote {
            customer_id: " cus_1 ".into(),
            kind: NoteKind::Call,
            author_email: Some("  ".into()),
            text: "hi".into(),
            call_duration_s: Some(900),
            created_at: at,
        };
        assert_eq!(
            serde_json::to_value(wire_new_note(&call).expect("call")).expect("json"),
            serde_json::json!({"customer_uuid": "cus_1", "type": "call", "text": "hi",
                "call_duration": 900, "created_at": "2026-01-02T03:04:05.678Z"})
        );
        let note = NewNote {
            kind: NoteKind::Note,
            author_email: Some("sara@example.com".into()),
            ..call.clone()
        };
        let body = serde_json::to_value(wire_new_note(&note).expect("note")).expect("json");
        assert_eq!(body["author_email"], "sara@example.com");
        assert!(body.get("call_duration").is_none(), "{body}");

        let other = NewNote {
            kind: NoteKind::Other("meeting".into()),
            ..call.clone()
        };
        assert!(matches!(
            wire_new_note(&other),
            Err(ProviderError::Unsupported(_))
        ));
        let orphan = NewNote {
            customer_id: " ".into(),
            ..call
        };
        assert!(matches!(
            wire_new_note(&orphan),
            Err(ProviderError::Refused(_))
        ));

        let patch = NotePatch {
            call_duration_s: Some(60),
            ..NotePatch::default()
        };
        assert_eq!(
            serde_json::to_value(wire_patch(&patch)).expect("json"),
            serde_json::json!({"call_duration": 60})
        );
        assert_eq!(
            serde_json::to_value(wire_patch(&NotePatch::default())).expect("json"),
            serde_json::json!({})
        );
    }

    #[test]
    fn per_page_is_clamped_to_the_api_maximum() {
        assert_eq!(per_page(None), "200");
        assert_eq!(per_page(Some(0)), "1");
        assert_eq!(per_page(Some(50)), "50");
        assert_eq!(per_page(Some(5000)), "200");
    }
}
