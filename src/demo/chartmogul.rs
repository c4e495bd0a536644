//! A fake ChartMogul API on loopback: customers, contacts and customer notes, with note writes
//! (POST, PATCH, DELETE on `/v1/customer_notes`). Faithful to the quirks in `NOTES.md`: Basic
//! auth, read-only keys (403 on writes), opaque padded cursors, 404 on empty search, 422 for a
//! `created_at` in the future, `DELETE` answering 200 with `{}`.

use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::data::{staff_author, wire_time};
use super::{Body, FakeServer, RecordedRequest, RequestLog};

/// Entities are stored in the API's own wire format (JSON objects exactly as the API returns them),
/// so tests can inject any quirk (nulls, hyphenated/unknown keys, odd timestamps).
#[derive(Debug, Clone, Default)]
pub struct ChartMogulData {
    pub customers: Vec<Value>,
    pub contacts: Vec<Value>,
    pub notes: Vec<Value>,
}

#[derive(Debug, Clone)]
pub struct ChartMogulOptions {
    /// Basic auth user name of a read-write key; the password is ignored, as the API does.
    pub api_key: String,
    /// Keys that may read but not write: a write with one gets 403, as the API answers.
    pub read_only_keys: Vec<String>,
    /// Author email of notes created without `author_email` (the real API uses the key's
    /// owner).
    pub default_author: String,
    /// Added to every reply, so the demo visibly streams pages.
    pub latency: Duration,
    /// Page size when the request has no `per_page` (the API uses 200).
    pub default_per_page: u32,
    /// Quirk: the last real page says `has_more: true` with a cursor, and that cursor returns
    /// `entries: []` with `has_more: true` (and the same cursor again).
    pub trailing_empty_page: bool,
    /// Quirk: the last page omits `"cursor"` instead of sending `"cursor": null`.
    pub omit_last_cursor: bool,
    /// Delay after a write has been processed (and applied, when valid) and before its reply:
    /// a client whose timeout is shorter gives up although the note was written, which is the
    /// "outcome unknown" case the app must reconcile.
    pub write_latency: Duration,
}

impl Default for ChartMogulOptions {
    fn default() -> Self {
        ChartMogulOptions {
            api_key: "demo-key".to_string(),
            read_only_keys: Vec::new(),
            default_author: "sara@example.com".to_string(),
            latency: Duration::ZERO,
            default_per_page: MAX_PER_PAGE,
            trailing_empty_page: false,
            omit_last_cursor: false,
            write_latency: Duration::ZERO,
        }
    }
}

const MAX_PER_PAGE: u32 = 200;

/// Starts the server on `127.0.0.1:0` on the current tokio runtime; dropping the returned
/// [`FakeServer`] stops it.
pub async fn start(data: ChartMogulData, opts: ChartMogulOptions) -> std::io::Result<FakeServer> {
    let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
    let log = RequestLog::default();
    let api_key = opts.api_key.clone();
    let app = router(data, opts, Some(log.clone()));
    FakeServer::spawn(listener, app, api_key, log, "ChartMogul")
}

/// Like [`start`] but on a given port, running until the process ends (for
/// `crm-notes demo-server --port N`). Requests are not recorded, so memory stays flat.
pub async fn serve(
    data: ChartMogulData,
    opts: ChartMogulOptions,
    port: u16,
) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, port)).await?;
    axum::serve(listener, router(data, opts, None)).await
}

fn router(data: ChartMogulData, opts: ChartMogulOptions, log: Option<RequestLog>) -> Router {
    let server = Arc::new(Server {
        store: RwLock::new(Store::new(data)),
        opts,
        log,
    });
    Router::new().fallback(handle).with_state(server)
}

struct Server {
    // Reads share the lock; a write holds it only while it is applied, never across an await.
    store: RwLock<Store>,
    opts: ChartMogulOptions,
    log: Option<RequestLog>,
}

async fn handle(
    State(server): State<Arc<Server>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    // A query that cannot be form-decoded counts as empty: the fake must never fail on input.
    let query = Query::<Vec<(String, String)>>::try_from_uri(&uri)
        .map(|q| q.0)
        .unwrap_or_default();
    let access = access(&headers, &server.opts);
    let body = Body::parse(&body);
    if let Some(log) = &server.log {
        log.push(RecordedRequest {
            method: method.to_string(),
            path: uri.path().to_string(),
            query: query.clone(),
            authorized: access != Access::Denied,
            body: body.recorded(),
        });
    }
    if !server.opts.latency.is_zero() {
        tokio::time::sleep(server.opts.latency).await;
    }
    let write = is_write(&method);
    let reply = match access {
        Access::Denied => {
            Reply::api_error(StatusCode::UNAUTHORIZED, "No valid API key provided", None)
        }
        Access::ReadOnly if write => {
            Reply::api_error(StatusCode::FORBIDDEN, "This API key is read-only", None)
        }
        _ if write => {
            let mut store = server.store.write().unwrap_or_else(|e| e.into_inner());
            route_write(
                &mut store,
                &server.opts,
                &method,
                uri.path(),
                &body,
                Timestamp::now(),
            )
        }
        _ => {
            let store = server.store.read().unwrap_or_else(|e| e.into_inner());
            route(&store, &server.opts, &method, uri.path(), &Params(&query))
        }
    };
    // Only after the write was applied (and the lock released): the reply is what is late.
    if write && access == Access::ReadWrite && !server.opts.write_latency.is_zero() {
        tokio::time::sleep(server.opts.write_latency).await;
    }
    reply.into_response()
}

/// What the request's key may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Access {
    Denied,
    ReadOnly,
    ReadWrite,
}

fn access(headers: &HeaderMap, opts: &ChartMogulOptions) -> Access {
    match basic_user(headers) {
        Some(user) if user == opts.api_key => Access::ReadWrite,
        Some(user) if opts.read_only_keys.contains(&user) => Access::ReadOnly,
        _ => Access::Denied,
    }
}

/// The user name of a Basic `Authorization` header (where ChartMogul takes the key).
fn basic_user(headers: &HeaderMap) -> Option<String> {
    let value = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())?;
    let (scheme, encoded) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = String::from_utf8(BASE64.decode(encoded.trim()).ok()?).ok()?;
    let user = decoded.split_once(':').map_or(decoded.as_str(), |(u, _)| u);
    Some(user.to_string())
}

fn is_write(method: &Method) -> bool {
    matches!(
        *method,
        Method::POST | Method::PUT | Method::PATCH | Method::DELETE
    )
}

/// The JSON object a write needs, or the 400 the API gives for anything else.
fn object(body: &Body) -> Result<&Map<String, Value>, Reply> {
    body.json_object().ok_or_else(|| {
        Reply::api_error(
            StatusCode::BAD_REQUEST,
            "The request body must be a JSON object",
            None,
        )
    })
}

fn route(
    store: &Store,
    opts: &ChartMogulOptions,
    method: &Method,
    path: &str,
    q: &Params,
) -> Reply {
    let Some(rest) = path.strip_prefix("/v1/") else {
        return Reply::not_found();
    };
    if method != Method::GET {
        return Reply::not_found();
    }
    let segments: Vec<&str> = rest.split('/').collect();
    let result = match segments.as_slice() {
        ["ping"] => Ok(Reply::json(StatusCode::OK, &json!({"data": "pong!"}))),
        ["customers"] => list_customers(store, opts, q),
        ["customers", "search"] => search_customers(store, opts, q),
        ["customers", uuid] if !uuid.is_empty() => match store.customer(uuid) {
            Some(c) => Ok(Reply::json(StatusCode::OK, c)),
            None => Err(customer_not_found()),
        },
        ["customers", uuid, "contacts"] if !uuid.is_empty() => {
            list_contacts(store, opts, q, Some(uuid))
        }
        ["contacts"] => list_contacts(store, opts, q, q.get("customer_uuid")),
        ["customer_notes"] => list_notes(store, opts, q),
        ["customer_notes", uuid] if !uuid.is_empty() => match store.note(uuid) {
            Some(n) => Ok(Reply::json(StatusCode::OK, n)),
            None => Err(Reply::api_error(
                StatusCode::NOT_FOUND,
                "Note not found",
                None,
            )),
        },
        _ => Err(Reply::not_found()),
    };
    result.unwrap_or_else(|e| e)
}

fn customer_not_found() -> Reply {
    Reply::api_error(StatusCode::NOT_FOUND, "Customer not found", None)
}

fn note_not_found() -> Reply {
    Reply::api_error(StatusCode::NOT_FOUND, "Note not found", None)
}

fn invalid(message: &str, param: &str) -> Reply {
    Reply::api_error(StatusCode::UNPROCESSABLE_ENTITY, message, Some(param))
}

/// The write endpoints; `now` is passed in so one request sees one time.
fn route_write(
    store: &mut Store,
    opts: &ChartMogulOptions,
    method: &Method,
    path: &str,
    body: &Body,
    now: Timestamp,
) -> Reply {
    let Some(rest) = path.strip_prefix("/v1/") else {
        return Reply::not_found();
    };
    let segments: Vec<&str> = rest.split('/').collect();
    let result = match (method, segments.as_slice()) {
        (&Method::POST, ["customer_notes"]) => create_note(store, opts, body, now),
        (&Method::PATCH, ["customer_notes", uuid]) if !uuid.is_empty() => {
            update_note(store, uuid, body, now)
        }
        (&Method::DELETE, ["customer_notes", uuid]) if !uuid.is_empty() => {
            match store.note_by_uuid.get(*uuid).copied() {
                Some(slot) => {
                    store.remove_note(slot);
                    Ok(Reply::json(StatusCode::OK, &json!({})))
                }
                None => Err(note_not_found()),
            }
        }
        _ => Err(Reply::not_found()),
    };
    result.unwrap_or_else(|e| e)
}

/// `POST /v1/customer_notes`: validates like the API, then stores the note and answers 201.
fn create_note(
    store: &mut Store,
    opts: &ChartMogulOptions,
    body: &Body,
    now: Timestamp,
) -> Result<Reply, Reply> {
    let fields = object(body)?;
    let customer = match fields.get("customer_uuid") {
        Some(Value::String(s)) if !s.trim().is_empty() => s.as_str(),
        _ => return Err(invalid("customer_uuid is required", "customer_uuid")),
    };
    let kind = match fields.get("type") {
        None | Some(Value::Null) => return Err(invalid("type is required", "type")),
        Some(Value::String(k)) if k == "note" || k == "call" => k.as_str(),
        Some(_) => return Err(invalid("type must be one of: note, call", "type")),
    };
    let author_email =
        author_email_field(fields.get("author_email"))?.unwrap_or(opts.default_author.as_str());
    let text = text_field(fields.get("text"))?.unwrap_or_default();
    let duration = duration_field(fields.get("call_duration"))?;
    let created_at = created_at_field(fields.get("created_at"), now)?.unwrap_or(now);
    if !store.customer_known(customer) {
        return Err(customer_not_found());
    }
    // Calls without a duration get a minute, as the API documents; notes never have one.
    let call_duration = match kind {
        "call" => duration.unwrap_or(60),
        _ => 0,
    };
    let uuid = loop {
        let candidate = new_note_uuid();
        if !store.note_by_uuid.contains_key(&candidate) {
            break candidate;
        }
    };
    let mut note = super::data::note(
        &uuid,
        customer,
        kind,
        &author_for(author_email),
        text,
        created_at,
        call_duration,
    );
    note["updated_at"] = json!(wire_time(now));
    let reply = Reply::json(StatusCode::CREATED, &note);
    store.insert_note(note);
    Ok(reply)
}

/// `PATCH /v1/customer_notes/{uuid}`: a partial update with the same validation as a create.
/// Fields outside the documented four (`type`, `customer_uuid`…) are ignored, as they cannot
/// be changed. A note's duration stays 0: only calls have one.
fn update_note(store: &mut Store, uuid: &str, body: &Body, now: Timestamp) -> Result<Reply, Reply> {
    let fields = object(body)?;
    let slot = *store.note_by_uuid.get(uuid).ok_or_else(note_not_found)?;
    let author_email = author_email_field(fields.get("author_email"))?;
    let text = text_field(fields.get("text"))?;
    let duration = duration_field(fields.get("call_duration"))?;
    let created_at = created_at_field(fields.get("created_at"), now)?;
    // Validated first, so a refused update leaves the note exactly as it was.
    let mut note = store.remove_note(slot).ok_or_else(note_not_found)?;
    if let Some(map) = note.as_object_mut() {
        if let Some(text) = text {
            map.insert("text".into(), json!(text));
        }
        if let Some(duration) = duration {
            if map.get("type").and_then(Value::as_str) == Some("call") {
                map.insert("call_duration".into(), json!(duration));
            }
        }
        if let Some(at) = created_at {
            map.insert("created_at".into(), json!(wire_time(at)));
        }
        if let Some(email) = author_email {
            map.insert("author".into(), json!(author_for(email)));
        }
        map.insert("updated_at".into(), json!(wire_time(now)));
    }
    let reply = Reply::json(StatusCode::OK, &note);
    // Re-inserted rather than edited in place, so a new `created_at` moves it in the lists.
    store.insert_note(note);
    Ok(reply)
}

/// `author_email`: absent or null is `None`; anything but an email address is refused.
fn author_email_field(value: Option<&Value>) -> Result<Option<&str>, Reply> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(email)) if email.trim().contains('@') => Ok(Some(email.trim())),
        Some(_) => Err(invalid(
            "author_email must be the email of a team member",
            "author_email",
        )),
    }
}

fn text_field(value: Option<&Value>) -> Result<Option<&str>, Reply> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text)),
        Some(_) => Err(invalid("text must be a string", "text")),
    }
}

/// `call_duration`: whole, non-negative seconds that fit the API's 32-bit field.
fn duration_field(value: Option<&Value>) -> Result<Option<u32>, Reply> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_u64()
            .and_then(|d| u32::try_from(d).ok())
            .map(Some)
            .ok_or_else(|| {
                invalid(
                    "call_duration must be a whole number of seconds",
                    "call_duration",
                )
            }),
    }
}

/// `created_at`: ISO 8601 (a time without an offset is UTC, as documented), not in the future.
fn created_at_field(value: Option<&Value>, now: Timestamp) -> Result<Option<Timestamp>, Reply> {
    let raw = match value {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::String(raw)) => raw.trim(),
        Some(_) => "",
    };
    let at = raw
        .parse::<Timestamp>()
        .ok()
        .or_else(|| {
            raw.parse::<jiff::civil::DateTime>()
                .ok()?
                .to_zoned(jiff::tz::TimeZone::UTC)
                .ok()
                .map(|z| z.timestamp())
        })
        .ok_or_else(|| invalid("created_at must be an ISO 8601 date and time", "created_at"))?;
    if at > now {
        return Err(invalid("created_at must be in the past", "created_at"));
    }
    Ok(Some(at))
}

/// `"Name (email)"` as the API writes authors: demo staff by their names, anyone else by the
/// local part of their email.
fn author_for(email: &str) -> String {
    match staff_author(email) {
        Some(author) => author.to_string(),
        None => {
            let name = email.split('@').next().unwrap_or(email);
            format!("{name} ({email})")
        }
    }
}

/// `note_` and a random UUID-shaped hex id, like the API's.
fn new_note_uuid() -> String {
    format!(
        "note_{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        fastrand::u32(..),
        fastrand::u16(..),
        fastrand::u16(..),
        fastrand::u16(..),
        fastrand::u64(..(1 << 48)),
    )
}

fn list_customers(store: &Store, opts: &ChartMogulOptions, q: &Params) -> Result<Reply, Reply> {
    let page = PageRequest::parse(q, opts, ListKind::Customers, store.customers.len())?;
    let status = q.get("status");
    let external_id = q.get("external_id");
    let matches = |c: &Value| {
        status.is_none_or(|s| str_field(c, "status") == Some(s))
            && external_id.is_none_or(|id| str_field(c, "external_id") == Some(id))
    };
    let all: Vec<usize> = (0..store.customers.len()).collect();
    Ok(customer_page(store, opts, &page, &all, matches))
}

fn search_customers(store: &Store, opts: &ChartMogulOptions, q: &Params) -> Result<Reply, Reply> {
    let Some(email) = q.get("email") else {
        return Err(Reply::api_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "email is required",
            Some("email"),
        ));
    };
    let email = email.to_lowercase();
    let hits: Vec<usize> = (0..store.customers.len())
        .filter(|&i| {
            str_field(&store.customers[i], "email").is_some_and(|e| e.to_lowercase() == email)
        })
        .collect();
    if hits.is_empty() {
        return Err(customer_not_found());
    }
    let page = PageRequest::parse(q, opts, ListKind::Search, hits.len())?;
    Ok(customer_page(store, opts, &page, &hits, |_| true))
}

/// One page of customers out of `base` (indices into the customer list), with the deprecated
/// page-number keys on the first page as the API still sends them.
fn customer_page(
    store: &Store,
    opts: &ChartMogulOptions,
    page: &PageRequest,
    base: &[usize],
    matches: impl Fn(&Value) -> bool,
) -> Reply {
    let pick = |i: usize| Some(&store.customers[base[i]]).filter(|c| matches(c));
    let (entries, next) = collect_page(base.len(), page, pick);
    let mut envelope = Envelope::new(entries, next, page, base.len(), opts);
    if page.first {
        let total = base
            .iter()
            .filter(|&&i| matches(&store.customers[i]))
            .count();
        let per_page = page.per_page as u64;
        envelope.per_page = Some(per_page);
        envelope.page = Some(1);
        envelope.current_page = Some(1);
        envelope.total_pages = Some((total as u64).div_ceil(per_page).max(1));
    }
    Reply::json(StatusCode::OK, &envelope)
}

fn list_contacts(
    store: &Store,
    opts: &ChartMogulOptions,
    q: &Params,
    customer_uuid: Option<&str>,
) -> Result<Reply, Reply> {
    let all;
    let base: &[usize] = match customer_uuid {
        Some(uuid) => {
            if !store.customer_known(uuid) {
                return Err(customer_not_found());
            }
            store
                .contacts_by_customer
                .get(uuid)
                .map_or(&[], Vec::as_slice)
        }
        None => {
            all = (0..store.contacts.len()).collect::<Vec<_>>();
            &all
        }
    };
    let page = PageRequest::parse(q, opts, ListKind::Contacts, base.len())?;
    let (entries, next) = collect_page(base.len(), &page, |i| Some(&store.contacts[base[i]]));
    let envelope = Envelope::new(entries, next, &page, base.len(), opts);
    Ok(Reply::json(StatusCode::OK, &envelope))
}

fn list_notes(store: &Store, opts: &ChartMogulOptions, q: &Params) -> Result<Reply, Reply> {
    let kind = q.get("type");
    if kind.is_some_and(|k| k != "note" && k != "call") {
        return Err(Reply::api_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "type must be one of: note, call",
            Some("type"),
        ));
    }
    let author = q.get("author_email").map(str::to_lowercase);
    let base: &[usize] = match q.get("customer_uuid") {
        Some(uuid) => {
            if !store.customer_known(uuid) {
                return Err(customer_not_found());
            }
            store.notes_by_customer.get(uuid).map_or(&[], Vec::as_slice)
        }
        None => &store.order,
    };
    let base_len = base.len();
    let page = PageRequest::parse(q, opts, ListKind::Notes, base_len)?;
    let pick = |pos: usize| {
        let stored = store.slots[base[pos]].as_ref()?;
        let meta = &stored.meta;
        let keep = kind.is_none_or(|k| meta.kind.as_deref() == Some(k))
            && author
                .as_deref()
                .is_none_or(|a| meta.author_email.as_deref() == Some(a));
        keep.then_some(&stored.value)
    };
    let (entries, next) = collect_page(base_len, &page, pick);
    let envelope = Envelope::new(entries, next, &page, base_len, opts);
    Ok(Reply::json(StatusCode::OK, &envelope))
}

/// Scans the base list from the cursor position until a page is full; the position of the next
/// match (if any) becomes the next cursor, so `has_more` is exact and a page costs O(page) when
/// nothing is filtered out.
fn collect_page<'a>(
    base_len: usize,
    page: &PageRequest,
    mut pick: impl FnMut(usize) -> Option<&'a Value>,
) -> (Vec<&'a Value>, Option<usize>) {
    let mut entries = Vec::with_capacity(page.per_page.min(base_len));
    for pos in page.start..base_len {
        if let Some(entry) = pick(pos) {
            if entries.len() == page.per_page {
                return (entries, Some(pos));
            }
            entries.push(entry);
        }
    }
    (entries, None)
}

#[derive(Serialize)]
struct Envelope<'a> {
    entries: Vec<&'a Value>,
    has_more: bool,
    // Outer None: key omitted; Some(None): `"cursor": null`.
    #[serde(skip_serializing_if = "Option::is_none")]
    cursor: Option<Option<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    per_page: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    page: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    current_page: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    total_pages: Option<u64>,
}

impl<'a> Envelope<'a> {
    fn new(
        entries: Vec<&'a Value>,
        next: Option<usize>,
        page: &PageRequest,
        base_len: usize,
        opts: &ChartMogulOptions,
    ) -> Self {
        let (has_more, cursor) = match next {
            Some(pos) => (true, Some(Some(encode_cursor(page.kind, pos)))),
            // Pointing at the end makes the follow-up page empty, and that page repeats the
            // same cursor: a client that trusts `has_more` alone would loop forever.
            None if opts.trailing_empty_page => {
                (true, Some(Some(encode_cursor(page.kind, base_len))))
            }
            None if opts.omit_last_cursor => (false, None),
            None => (false, Some(None)),
        };
        Envelope {
            entries,
            has_more,
            cursor,
            per_page: None,
            page: None,
            current_page: None,
            total_pages: None,
        }
    }
}

/// Which list a cursor belongs to, so a cursor from one list is rejected by another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ListKind {
    Customers,
    Search,
    Contacts,
    Notes,
}

impl ListKind {
    fn tag(self) -> &'static str {
        match self {
            ListKind::Customers => "customers",
            ListKind::Search => "search",
            ListKind::Contacts => "contacts",
            ListKind::Notes => "notes",
        }
    }
}

#[derive(Serialize, Deserialize)]
struct CursorBody {
    list: String,
    offset: usize,
}

// Leading bytes chosen so every cursor starts with "++": together with the `=` padding at the
// end, a client that forgets to URL-encode the cursor gets it back garbled (a 400), as it would
// from the real API whenever its base64 happens to contain these characters.
const CURSOR_MAGIC: [u8; 2] = [0xFB, 0xEF];

fn encode_cursor(kind: ListKind, offset: usize) -> String {
    let body = CursorBody {
        list: kind.tag().to_string(),
        offset,
    };
    let mut bytes = CURSOR_MAGIC.to_vec();
    // Serialising a plain struct of a string and an integer cannot fail.
    bytes.extend(serde_json::to_vec(&body).unwrap_or_default());
    // A length that is a multiple of 3 would encode without padding; a trailing space keeps the
    // JSON valid and guarantees the `=` that clients must cope with.
    if bytes.len() % 3 == 0 {
        bytes.push(b' ');
    }
    BASE64.encode(bytes)
}

fn decode_cursor(cursor: &str, kind: ListKind, base_len: usize) -> Option<usize> {
    let bytes = BASE64.decode(cursor).ok()?;
    let json = bytes.strip_prefix(&CURSOR_MAGIC)?;
    let body: CursorBody = serde_json::from_slice(json).ok()?;
    (body.list == kind.tag() && body.offset <= base_len).then_some(body.offset)
}

struct PageRequest {
    kind: ListKind,
    per_page: usize,
    start: usize,
    /// No cursor was sent: the page that carries the deprecated page-number keys.
    first: bool,
}

impl PageRequest {
    fn parse(
        q: &Params,
        opts: &ChartMogulOptions,
        kind: ListKind,
        base_len: usize,
    ) -> Result<Self, Reply> {
        // `get` treats empty values as absent, but an empty per_page is not a number.
        let per_page = match q.raw("per_page") {
            None => opts.default_per_page.clamp(1, MAX_PER_PAGE),
            Some(raw) => match raw.parse::<u32>() {
                Ok(n) if (1..=MAX_PER_PAGE).contains(&n) => n,
                _ => {
                    return Err(Reply::api_error(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "per_page must be an integer between 1 and 200",
                        Some("per_page"),
                    ));
                }
            },
        };
        let (start, first) = match q.get("cursor") {
            None => (0, true),
            Some(cursor) => match decode_cursor(cursor, kind, base_len) {
                Some(offset) => (offset, false),
                None => {
                    return Err(Reply::api_error(
                        StatusCode::BAD_REQUEST,
                        "Invalid cursor",
                        Some("cursor"),
                    ));
                }
            },
        };
        Ok(PageRequest {
            kind,
            per_page: per_page as usize,
            start,
            first,
        })
    }
}

/// Query parameters; the first occurrence of a name wins.
struct Params<'a>(&'a [(String, String)]);

impl Params<'_> {
    fn raw(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Like the API's Rails backend, an empty filter counts as not given.
    fn get(&self, name: &str) -> Option<&str> {
        self.raw(name).filter(|v| !v.is_empty())
    }
}

struct Reply {
    status: StatusCode,
    body: Vec<u8>,
}

impl Reply {
    fn json(status: StatusCode, body: &impl Serialize) -> Reply {
        match serde_json::to_vec(body) {
            Ok(body) => Reply { status, body },
            Err(e) => Reply {
                status: StatusCode::INTERNAL_SERVER_ERROR,
                body: json!({"error": e.to_string()}).to_string().into_bytes(),
            },
        }
    }

    fn api_error(status: StatusCode, message: &str, param: Option<&str>) -> Reply {
        Reply::json(
            status,
            &json!({"code": status.as_u16(), "message": message, "param": param}),
        )
    }

    fn not_found() -> Reply {
        Reply::json(StatusCode::NOT_FOUND, &json!({"error": "Not found"}))
    }
}

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        let content_type = HeaderValue::from_static("application/json; charset=utf-8");
        (
            self.status,
            [(header::CONTENT_TYPE, content_type)],
            self.body,
        )
            .into_response()
    }
}

fn str_field<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

/// What filtering needs from a note, extracted once so a page does not re-parse every note.
#[derive(Default)]
struct NoteMeta {
    kind: Option<String>,
    /// Lower-cased email from the author's last parenthesised group.
    author_email: Option<String>,
}

/// Everything the store needs from a note, read in one pass over its fields: with 100,000 notes
/// scattered over memory, separate lookups per key cost more than the rest of the start-up.
#[derive(Default)]
struct NoteKeys {
    created_at: Option<jiff::Timestamp>,
    uuid: Option<String>,
    customer_uuid: Option<String>,
    meta: NoteMeta,
}

impl NoteKeys {
    fn of(note: &Value) -> NoteKeys {
        let mut keys = NoteKeys::default();
        for (key, value) in note.as_object().into_iter().flatten() {
            let Some(value) = value.as_str() else {
                continue;
            };
            match key.as_str() {
                "created_at" => keys.created_at = value.parse().ok(),
                "uuid" => keys.uuid = Some(value.to_string()),
                "customer_uuid" => keys.customer_uuid = Some(value.to_string()),
                "type" => keys.meta.kind = Some(value.to_string()),
                "author" => keys.meta.author_email = author_email(value),
                _ => {}
            }
        }
        keys
    }
}

/// One note as stored: its wire object and what ordering and filtering need from it.
struct StoredNote {
    value: Value,
    created_at: Option<Timestamp>,
    meta: NoteMeta,
}

/// Where a note sorts: newest `created_at` first, notes whose time does not parse last
/// (`Reverse(None)` is greater than any `Reverse(Some(_))`).
type SortKey = std::cmp::Reverse<Option<Timestamp>>;

/// The data with the indexes the endpoints need, built once at start and kept in step by
/// every write. Notes live in slots that never move, so a write costs a binary search and one
/// shift of a `Vec<usize>` per index, and a page still costs O(page).
struct Store {
    customers: Vec<Value>,
    customer_by_uuid: HashMap<String, usize>,
    contacts: Vec<Value>,
    contacts_by_customer: HashMap<String, Vec<usize>>,
    /// Every note by slot; a deleted note leaves `None`, so the indexes' slots stay valid.
    slots: Vec<Option<StoredNote>>,
    /// Slots of the live notes, in list order (see [`SortKey`]).
    order: Vec<usize>,
    note_by_uuid: HashMap<String, usize>,
    /// Slots per customer, in list order. A customer keeps its (maybe empty) entry after its
    /// last note is deleted, so it stays known.
    notes_by_customer: HashMap<String, Vec<usize>>,
}

impl Store {
    fn new(data: ChartMogulData) -> Store {
        let ChartMogulData {
            customers,
            contacts,
            notes,
        } = data;
        let customer_by_uuid = index_by(&customers, "uuid");
        let mut contacts_by_customer: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, c) in contacts.iter().enumerate() {
            push_to_group(&mut contacts_by_customer, str_field(c, "customer_uuid"), i);
        }

        let mut keyed: Vec<(NoteKeys, Value)> =
            notes.into_iter().map(|n| (NoteKeys::of(&n), n)).collect();
        // Stable, so notes with equal times keep the order they were given in.
        keyed.sort_by_key(|(keys, _)| std::cmp::Reverse(keys.created_at));
        // Slots start out in list order, so the account-wide order is simply 0..n.
        let mut slots = Vec::with_capacity(keyed.len());
        let mut note_by_uuid = HashMap::with_capacity(keyed.len());
        let mut notes_by_customer: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, (keys, note)) in keyed.into_iter().enumerate() {
            if let Some(uuid) = keys.uuid {
                note_by_uuid.entry(uuid).or_insert(i);
            }
            if let Some(customer) = keys.customer_uuid {
                notes_by_customer.entry(customer).or_default().push(i);
            }
            slots.push(Some(StoredNote {
                value: note,
                created_at: keys.created_at,
                meta: keys.meta,
            }));
        }
        Store {
            customers,
            customer_by_uuid,
            contacts,
            contacts_by_customer,
            order: (0..slots.len()).collect(),
            slots,
            note_by_uuid,
            notes_by_customer,
        }
    }

    /// Adds a note where the lists expect it, before any note with the same time (it is the
    /// newest write). Returns its slot.
    fn insert_note(&mut self, value: Value) -> usize {
        let keys = NoteKeys::of(&value);
        let slot = self.slots.len();
        let key = std::cmp::Reverse(keys.created_at);
        let at = self
            .order
            .partition_point(|&s| sort_key(&self.slots, s) < key);
        self.order.insert(at, slot);
        if let Some(uuid) = keys.uuid {
            self.note_by_uuid.entry(uuid).or_insert(slot);
        }
        if let Some(customer) = keys.customer_uuid {
            let group = self.notes_by_customer.entry(customer).or_default();
            let at = group.partition_point(|&s| sort_key(&self.slots, s) < key);
            group.insert(at, slot);
        }
        self.slots.push(Some(StoredNote {
            value,
            created_at: keys.created_at,
            meta: keys.meta,
        }));
        slot
    }

    /// Takes a note out of the slots and every index.
    fn remove_note(&mut self, slot: usize) -> Option<Value> {
        let stored = self.slots.get_mut(slot)?.take()?;
        let key = std::cmp::Reverse(stored.created_at);
        remove_slot(&mut self.order, &self.slots, slot, key);
        if let Some(uuid) = str_field(&stored.value, "uuid") {
            if self.note_by_uuid.get(uuid) == Some(&slot) {
                self.note_by_uuid.remove(uuid);
            }
        }
        if let Some(group) = str_field(&stored.value, "customer_uuid")
            .and_then(|customer| self.notes_by_customer.get_mut(customer))
        {
            remove_slot(group, &self.slots, slot, key);
        }
        Some(stored.value)
    }

    fn customer(&self, uuid: &str) -> Option<&Value> {
        self.customer_by_uuid.get(uuid).map(|&i| &self.customers[i])
    }

    fn note(&self, uuid: &str) -> Option<&Value> {
        let slot = *self.note_by_uuid.get(uuid)?;
        self.slots.get(slot)?.as_ref().map(|n| &n.value)
    }

    /// A customer exists if it is listed, or if a contact or note refers to it: tests often
    /// inject notes alone, and should not have to invent the customer object too.
    fn customer_known(&self, uuid: &str) -> bool {
        self.customer_by_uuid.contains_key(uuid)
            || self.contacts_by_customer.contains_key(uuid)
            || self.notes_by_customer.contains_key(uuid)
    }
}

fn sort_key(slots: &[Option<StoredNote>], slot: usize) -> SortKey {
    std::cmp::Reverse(slots.get(slot).and_then(|n| n.as_ref()?.created_at))
}

/// Removes `slot` from an index in list order. The slot's own entry is already gone from
/// `slots`, so its `key` is passed in; the search covers the run of equal keys, with a full
/// scan as the fallback should the index ever disagree.
fn remove_slot(list: &mut Vec<usize>, slots: &[Option<StoredNote>], slot: usize, key: SortKey) {
    let start = list.partition_point(|&s| s != slot && sort_key(slots, s) < key);
    let found = list[start..]
        .iter()
        .position(|&s| s == slot)
        .map(|i| start + i)
        .or_else(|| list.iter().position(|&s| s == slot));
    if let Some(at) = found {
        list.remove(at);
    }
}

/// Looks up before inserting: `entry()` would allocate the key for each of 100,000 notes.
fn push_to_group(groups: &mut HashMap<String, Vec<usize>>, key: Option<&str>, i: usize) {
    let Some(key) = key else { return };
    match groups.get_mut(key) {
        Some(group) => group.push(i),
        None => {
            groups.insert(key.to_string(), vec![i]);
        }
    }
}

/// First occurrence wins, like the lists, so a duplicated uuid behaves predictably.
fn index_by(items: &[Value], key: &str) -> HashMap<String, usize> {
    let mut index = HashMap::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        if let Some(k) = str_field(item, key) {
            index.entry(k.to_string()).or_insert(i);
        }
    }
    index
}

/// The email in the last parenthesised group of `"Name[id] (email)"`, lower-cased.
fn author_email(author: &str) -> Option<String> {
    let open = author.rfind('(')?;
    let close = open + author[open..].find(')')?;
    let email = author[open + 1..close].trim();
    (!email.is_empty()).then(|| email.to_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn author_email_takes_the_last_parenthesised_group() {
        assert_eq!(
            author_email("Soeun Lee[staff-user-2] (soeun+staff@example.com)").as_deref(),
            Some("soeun+staff@example.com")
        );
        assert_eq!(
            author_email("Sam (Ops) (Sam@Example.com)").as_deref(),
            Some("sam@example.com")
        );
        assert_eq!(author_email("No email here"), None);
        assert_eq!(author_email("Broken (unclosed"), None);
    }

    #[test]
    fn cursors_round_trip_pad_and_reject_other_lists() {
        for offset in [0, 1, 7, 199, 12_345, 100_000] {
            let c = encode_cursor(ListKind::Notes, offset);
            assert!(c.ends_with('='), "{c}");
            assert!(c.starts_with("++"), "{c}");
            assert_eq!(decode_cursor(&c, ListKind::Notes, 100_000), Some(offset));
            assert_eq!(decode_cursor(&c, ListKind::Customers, 100_000), None);
        }
        let past_end = encode_cursor(ListKind::Notes, 11);
        assert_eq!(decode_cursor(&past_end, ListKind::Notes, 10), None);
        // What an unencoded cursor looks like after form decoding turned `+` into spaces.
        let garbled = encode_cursor(ListKind::Notes, 3).replace('+', " ");
        assert_eq!(decode_cursor(&garbled, ListKind::Notes, 10), None);
        assert_eq!(decode_cursor("", ListKind::Notes, 10), None);
    }

    #[test]
    fn store_sorts_notes_newest_first_with_unparseable_times_last() {
        let note =
            |uuid: &str, at: &str| json!({"uuid": uuid, "customer_uuid": "c", "created_at": at});
        let store = Store::new(ChartMogulData {
            notes: vec![
                note("old", "2023-01-01T00:00:00Z"),
                note("bad", "yesterday"),
                // 10:00-04:00 is 14:00Z: newer than the Z note at 12:00.
                note("offset", "2023-06-01T10:00:00-04:00"),
                note("z", "2023-06-01T12:00:00.000Z"),
            ],
            ..Default::default()
        });
        assert_eq!(uuids(&store, &store.order), ["offset", "z", "old", "bad"]);
        assert_eq!(store.notes_by_customer["c"], [0, 1, 2, 3]);
        assert!(store.customer_known("c"));
        assert!(!store.customer_known("nobody"));
    }

    fn uuids<'a>(store: &'a Store, list: &[usize]) -> Vec<&'a str> {
        list.iter()
            .map(|&slot| {
                let note = store.slots[slot].as_ref().expect("live slot");
                str_field(&note.value, "uuid").unwrap_or_default()
            })
            .collect()
    }

    #[test]
    fn inserts_and_removals_keep_every_index_in_list_order() {
        let note = |uuid: &str, customer: &str, at: &str| json!({"uuid": uuid, "customer_uuid": customer, "created_at": at});
        let mut store = Store::new(ChartMogulData {
            notes: vec![
                note("a3", "a", "2023-03-01T00:00:00Z"),
                note("b2", "b", "2023-02-01T00:00:00Z"),
                note("a1", "a", "2023-01-01T00:00:00Z"),
                note("a-bad", "a", "never"),
            ],
            ..Default::default()
        });
        store.insert_note(note("a2", "a", "2023-02-01T00:00:00Z"));
        store.insert_note(note("new", "b", "2024-01-01T00:00:00Z"));
        store.insert_note(note("b-bad", "b", "garbage"));
        // Equal keys (unparseable times too): the later write comes first, as the newest.
        assert_eq!(
            uuids(&store, &store.order),
            ["new", "a3", "a2", "b2", "a1", "b-bad", "a-bad"]
        );
        assert_eq!(
            uuids(&store, &store.notes_by_customer["a"]),
            ["a3", "a2", "a1", "a-bad"]
        );
        assert_eq!(
            uuids(&store, &store.notes_by_customer["b"]),
            ["new", "b2", "b-bad"]
        );

        for gone in ["a2", "b-bad", "new", "a-bad"] {
            let slot = store.note_by_uuid[gone];
            assert!(store.remove_note(slot).is_some(), "{gone}");
            assert!(store.note(gone).is_none(), "{gone}");
            assert!(store.remove_note(slot).is_none(), "removed twice: {gone}");
        }
        assert_eq!(uuids(&store, &store.order), ["a3", "b2", "a1"]);
        assert_eq!(uuids(&store, &store.notes_by_customer["a"]), ["a3", "a1"]);
        assert_eq!(uuids(&store, &store.notes_by_customer["b"]), ["b2"]);
        let b2 = store.note_by_uuid["b2"];
        store.remove_note(b2);
        assert!(
            store.customer_known("b"),
            "a customer stays known after its last note is deleted"
        );
    }

    #[test]
    fn write_fields_are_validated_like_the_api() {
        let now: Timestamp = "2026-03-01T12:00:00Z".parse().expect("now");
        let status = |r: Result<Option<Timestamp>, Reply>| r.map_err(|e| e.status.as_u16());
        assert_eq!(status(created_at_field(None, now)), Ok(None));
        assert_eq!(
            status(created_at_field(Some(&json!("2026-03-01T11:00:00")), now)),
            Ok(Some("2026-03-01T11:00:00Z".parse().expect("ts")))
        );
        assert_eq!(
            status(created_at_field(
                Some(&json!("2026-03-01T13:00:00+02:00")),
                now
            )),
            Ok(Some("2026-03-01T11:00:00Z".parse().expect("ts")))
        );
        for bad in [json!("2026-03-01T12:00:01Z"), json!("tomorrow"), json!(5)] {
            assert_eq!(status(created_at_field(Some(&bad), now)), Err(422), "{bad}");
        }
        assert_eq!(duration_field(Some(&json!(900))).ok(), Some(Some(900)));
        for bad in [json!(-1), json!(1.5), json!("60"), json!(u64::MAX)] {
            assert!(duration_field(Some(&bad)).is_err(), "{bad}");
        }
        assert!(author_email_field(Some(&json!("not an email"))).is_err());
        assert_eq!(
            author_for("sara@example.com"),
            "Sara Lee (sara@example.com)"
        );
        assert_eq!(
            author_for("new.hire@example.com"),
            "new.hire (new.hire@example.com)"
        );
        let id = new_note_uuid();
        assert!(
            id.starts_with("note_") && id.len() == "note_".len() + 36,
            "{id}"
        );
    }
}
