//! A fake ChartMogul API (read endpoints of customers, contacts and customer notes) on loopback,
//! faithful to the quirks in `NOTES.md`: Basic auth, opaque padded cursors, 404 on empty search.

use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{FakeServer, RecordedRequest, RequestLog};

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
    /// Basic auth user name; the password is ignored, as the API does.
    pub api_key: String,
    /// Added to every reply, so the demo visibly streams pages.
    pub latency: Duration,
    /// Page size when the request has no `per_page` (the API uses 200).
    pub default_per_page: u32,
    /// Quirk: the last real page says `has_more: true` with a cursor, and that cursor returns
    /// `entries: []` with `has_more: true` (and the same cursor again).
    pub trailing_empty_page: bool,
    /// Quirk: the last page omits `"cursor"` instead of sending `"cursor": null`.
    pub omit_last_cursor: bool,
}

impl Default for ChartMogulOptions {
    fn default() -> Self {
        ChartMogulOptions {
            api_key: "demo-key".to_string(),
            latency: Duration::ZERO,
            default_per_page: MAX_PER_PAGE,
            trailing_empty_page: false,
            omit_last_cursor: false,
        }
    }
}

const MAX_PER_PAGE: u32 = 200;

/// Starts the server on `127.0.0.1:0` on the current tokio runtime; dropping the returned
/// [`FakeServer`] stops it.
pub async fn start(data: ChartMogulData, opts: ChartMogulOptions) -> std::io::Result<FakeServer> {
    let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
    let addr = listener.local_addr()?;
    let log = RequestLog::default();
    let api_key = opts.api_key.clone();
    let app = router(data, opts, Some(log.clone()));
    let (shutdown_tx, shutdown_rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        // The sender is never used: its drop (with the FakeServer) resolves the receiver.
        let signal = async move {
            let _ = shutdown_rx.await;
        };
        if let Err(e) = axum::serve(listener, app)
            .with_graceful_shutdown(signal)
            .await
        {
            tracing::warn!("fake ChartMogul server stopped: {e}");
        }
    });
    Ok(FakeServer::new(
        format!("http://{addr}"),
        api_key,
        log,
        shutdown_tx,
    ))
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
    // Behind a lock (not just an Arc) so that writes can be added later without restructuring.
    store: RwLock<Store>,
    opts: ChartMogulOptions,
    log: Option<RequestLog>,
}

async fn handle(
    State(server): State<Arc<Server>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    // A query that cannot be form-decoded counts as empty: the fake must never fail on input.
    let query = Query::<Vec<(String, String)>>::try_from_uri(&uri)
        .map(|q| q.0)
        .unwrap_or_default();
    let authorized = is_authorized(&headers, &server.opts.api_key);
    if let Some(log) = &server.log {
        log.push(RecordedRequest {
            method: method.to_string(),
            path: uri.path().to_string(),
            query: query.clone(),
            authorized,
        });
    }
    if !server.opts.latency.is_zero() {
        tokio::time::sleep(server.opts.latency).await;
    }
    let reply = if !authorized {
        Reply::api_error(StatusCode::UNAUTHORIZED, "No valid API key provided", None)
    } else {
        let store = server.store.read().unwrap_or_else(|e| e.into_inner());
        route(&store, &server.opts, &method, uri.path(), &Params(&query))
    };
    reply.into_response()
}

fn is_authorized(headers: &HeaderMap, api_key: &str) -> bool {
    let Some(value) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let Some((scheme, encoded)) = value.trim().split_once(' ') else {
        return false;
    };
    if !scheme.eq_ignore_ascii_case("basic") {
        return false;
    }
    let Ok(decoded) = BASE64.decode(encoded.trim()) else {
        return false;
    };
    let Ok(decoded) = String::from_utf8(decoded) else {
        return false;
    };
    let user = decoded.split_once(':').map_or(decoded.as_str(), |(u, _)| u);
    user == api_key
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
    // The account-wide list is every note in order, so its position is the note's own index
    // and needs no index vector.
    let base: Option<&[usize]> = match q.get("customer_uuid") {
        Some(uuid) => {
            if !store.customer_known(uuid) {
                return Err(customer_not_found());
            }
            Some(store.notes_by_customer.get(uuid).map_or(&[], Vec::as_slice))
        }
        None => None,
    };
    let base_len = base.map_or(store.notes.len(), <[usize]>::len);
    let page = PageRequest::parse(q, opts, ListKind::Notes, base_len)?;
    let pick = |pos: usize| {
        let i = base.map_or(pos, |b| b[pos]);
        let meta = &store.note_meta[i];
        let keep = kind.is_none_or(|k| meta.kind.as_deref() == Some(k))
            && author
                .as_deref()
                .is_none_or(|a| meta.author_email.as_deref() == Some(a));
        keep.then_some(&store.notes[i])
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

/// The data with the indexes the endpoints need, built once at start.
struct Store {
    customers: Vec<Value>,
    customer_by_uuid: HashMap<String, usize>,
    contacts: Vec<Value>,
    contacts_by_customer: HashMap<String, Vec<usize>>,
    /// Newest `created_at` first; notes whose time does not parse come last.
    notes: Vec<Value>,
    note_meta: Vec<NoteMeta>,
    note_by_uuid: HashMap<String, usize>,
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
        let mut notes = Vec::with_capacity(keyed.len());
        let mut note_meta = Vec::with_capacity(keyed.len());
        let mut note_by_uuid = HashMap::with_capacity(keyed.len());
        let mut notes_by_customer: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, (keys, note)) in keyed.into_iter().enumerate() {
            if let Some(uuid) = keys.uuid {
                note_by_uuid.entry(uuid).or_insert(i);
            }
            if let Some(customer) = keys.customer_uuid {
                notes_by_customer.entry(customer).or_default().push(i);
            }
            notes.push(note);
            note_meta.push(keys.meta);
        }
        Store {
            customers,
            customer_by_uuid,
            contacts,
            contacts_by_customer,
            notes,
            note_meta,
            note_by_uuid,
            notes_by_customer,
        }
    }

    fn customer(&self, uuid: &str) -> Option<&Value> {
        self.customer_by_uuid.get(uuid).map(|&i| &self.customers[i])
    }

    fn note(&self, uuid: &str) -> Option<&Value> {
        self.note_by_uuid.get(uuid).map(|&i| &self.notes[i])
    }

    /// A customer exists if it is listed, or if a contact or note refers to it: tests often
    /// inject notes alone, and should not have to invent the customer object too.
    fn customer_known(&self, uuid: &str) -> bool {
        self.customer_by_uuid.contains_key(uuid)
            || self.contacts_by_customer.contains_key(uuid)
            || self.notes_by_customer.contains_key(uuid)
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
        let order: Vec<_> = store
            .notes
            .iter()
            .map(|n| str_field(n, "uuid").unwrap_or_default())
            .collect();
        assert_eq!(order, ["offset", "z", "old", "bad"]);
        assert_eq!(store.notes_by_customer["c"], [0, 1, 2, 3]);
        assert!(store.customer_known("c"));
        assert!(!store.customer_known("nobody"));
    }
}
