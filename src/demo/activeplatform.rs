//! A fake ActivePlatform API on loopback: a reseller's accounts and the notes on them, on their
//! subscriptions and on their orders, as JSON:API. Faithful to the reference page and `NOTES.md`:
//! `X-Api-Token` (401 without it or with a wrong one), `Accept` and `Content-Type`
//! `application/vnd.api+json` on every request (406 / 415 otherwise), `page[size]` (default 50)
//! and `page[number]` with absolute `links` on the server's own base, `filter[account_id]`,
//! `filter[subscription_id]`, `filter[order_id]` on notes and `filter[email]` on accounts,
//! `POST …/notes` → 201 (`content` ≤ 5000 characters, else 422), `DELETE …/notes/{id}` → 204, no
//! update (405), 403 for writes when the token's role is read-only, and every error as a
//! JSON:API `errors` array. Notes are listed oldest first, like the reference example.

pub mod data;

pub use data::demo_data;

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
use serde_json::{Value, json};

use super::{Body, FakeServer, RecordedRequest, RequestLog};

/// The media type the API requires in `Accept` and `Content-Type`.
pub const MEDIA_TYPE: &str = "application/vnd.api+json";
/// The longest `content` the API accepts, in characters.
pub const MAX_CONTENT_CHARS: usize = 5000;

/// Accounts and notes as JSON:API resource objects, exactly as the API returns them, so tests
/// can inject any quirk (integer ids, `size` as a string, missing attributes).
///
/// One addition the fake needs and the API does not show: which account a note on a
/// subscription or an order belongs to. A note may carry it as `meta.account_id` (the builders
/// in [`data`] do); the fake takes it out when it loads the note, so what it serves has the
/// reference shape. A note on the account itself needs no hint: its `original_link`
/// (`/admin/accounts/29/notes/5`) names the account.
#[derive(Debug, Clone, Default)]
pub struct ActivePlatformData {
    pub accounts: Vec<Value>,
    pub notes: Vec<Value>,
}

#[derive(Debug, Clone)]
pub struct ActivePlatformOptions {
    /// The manager token the server accepts in `X-Api-Token`.
    pub token: String,
    /// The only reseller the token may see: other ids answer 404.
    pub reseller_id: String,
    /// The token's role may read but not write: writes answer 403.
    pub read_only: bool,
    /// Added to every reply, so the demo visibly streams pages.
    pub latency: Duration,
    /// Page size when the request has no `page[size]` (the API's default is 50).
    pub page_size: u32,
    /// List notes newest first instead of oldest first (the other reading of the API; the
    /// client must cope with both).
    pub newest_first: bool,
    /// The `creator` of notes created through the API: the token's manager.
    pub manager: String,
}

impl Default for ActivePlatformOptions {
    fn default() -> Self {
        ActivePlatformOptions {
            token: "demo-token".into(),
            reseller_id: "1".into(),
            read_only: false,
            latency: Duration::ZERO,
            page_size: 50,
            newest_first: false,
            manager: "Sara Lee".into(),
        }
    }
}

/// Starts the server on `127.0.0.1:0` on the current tokio runtime; dropping the returned
/// [`FakeServer`] stops it. Its `api_key` is the token.
pub async fn start(
    data: ActivePlatformData,
    opts: ActivePlatformOptions,
) -> std::io::Result<FakeServer> {
    let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
    let base = format!("http://{}", listener.local_addr()?);
    let log = RequestLog::default();
    let token = opts.token.clone();
    let app = router(data, opts, base, Some(log.clone()));
    FakeServer::spawn(listener, app, token, log, "ActivePlatform")
}

/// Like [`start`] but on a given port, running until the process ends (for
/// `crm-notes demo-server --port N`). Requests are not recorded, so memory stays flat.
pub async fn serve(
    data: ActivePlatformData,
    opts: ActivePlatformOptions,
    port: u16,
) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, port)).await?;
    let base = format!("http://{}", listener.local_addr()?);
    axum::serve(listener, router(data, opts, base, None)).await
}

fn router(
    data: ActivePlatformData,
    opts: ActivePlatformOptions,
    base: String,
    log: Option<RequestLog>,
) -> Router {
    let server = Arc::new(Server {
        store: RwLock::new(Store::new(data)),
        opts,
        base,
        log,
    });
    Router::new().fallback(handle).with_state(server)
}

struct Server {
    // Reads share the lock; a write holds it only while it is applied, never across an await.
    store: RwLock<Store>,
    opts: ActivePlatformOptions,
    /// `http://127.0.0.1:PORT`: the links are absolute URLs on it, as the API's are on its host.
    base: String,
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
    let authorized = headers
        .get("x-api-token")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t == server.opts.token);
    let body = Body::parse(&body);
    if let Some(log) = &server.log {
        log.push(RecordedRequest {
            method: method.to_string(),
            path: uri.path().to_string(),
            query: query.clone(),
            authorized,
            body: body.recorded(),
        });
    }
    if !server.opts.latency.is_zero() {
        tokio::time::sleep(server.opts.latency).await;
    }
    let write = matches!(
        method,
        Method::POST | Method::PUT | Method::PATCH | Method::DELETE
    );
    let reply = if !accepts_json_api(&headers) {
        Reply::error(
            StatusCode::NOT_ACCEPTABLE,
            "Not Acceptable",
            "The Accept header must include application/vnd.api+json",
        )
    } else if !authorized {
        Reply::error(
            StatusCode::UNAUTHORIZED,
            "Unauthorized",
            "The API token is missing or invalid",
        )
    } else if !sends_json_api(&headers) {
        // The reference marks Content-Type as required on every request, GET included.
        Reply::error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Unsupported Media Type",
            "The Content-Type header must be application/vnd.api+json",
        )
    } else {
        match reseller_path(uri.path(), &server.opts.reseller_id) {
            Err(reply) => reply,
            Ok(_) if write && server.opts.read_only => Reply::error(
                StatusCode::FORBIDDEN,
                "Forbidden",
                "The manager's role does not allow changing notes",
            ),
            Ok(rest) if write => {
                let mut store = server.store.write().unwrap_or_else(|e| e.into_inner());
                route_write(&mut store, &server.opts, &method, &rest, &body)
            }
            Ok(rest) => {
                let store = server.store.read().unwrap_or_else(|e| e.into_inner());
                route_read(&store, &server, &method, &rest, &Params(&query))
            }
        }
    };
    reply.into_response()
}

/// Whether `Accept` lists the JSON:API media type (without parameters, which JSON:API forbids).
fn accepts_json_api(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| t.trim().eq_ignore_ascii_case(MEDIA_TYPE))
}

fn sends_json_api(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.trim().eq_ignore_ascii_case(MEDIA_TYPE))
}

/// The segments after `/api/v3/resellers/{id}/`; another reseller is not found.
fn reseller_path(path: &str, reseller_id: &str) -> Result<Vec<String>, Reply> {
    let rest = path
        .strip_prefix("/api/v3/resellers/")
        .ok_or_else(Reply::not_found)?;
    let mut segments = rest.split('/');
    let reseller = segments.next().unwrap_or_default();
    if reseller != reseller_id {
        return Err(Reply::error(
            StatusCode::NOT_FOUND,
            "Not Found",
            "Reseller not found",
        ));
    }
    Ok(segments.map(percent_decode).collect())
}

/// Path segments arrive percent-encoded (a client encodes odd ids); compare them decoded.
fn percent_decode(segment: &str) -> String {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = (bytes[i] == b'%')
            .then(|| bytes.get(i + 1..i + 3))
            .flatten()
            .filter(|h| h.iter().all(u8::is_ascii_hexdigit))
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match escaped {
            Some(b) => {
                out.push(b);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn route_read(
    store: &Store,
    server: &Server,
    method: &Method,
    rest: &[String],
    q: &Params,
) -> Reply {
    let segments: Vec<&str> = rest.iter().map(String::as_str).collect();
    let result = match (method, segments.as_slice()) {
        (&Method::GET, ["accounts"]) => list_accounts(store, server, q),
        (&Method::GET, ["accounts", id]) => store
            .account(id)
            .map(|a| Reply::json(StatusCode::OK, &json!({"data": a})))
            .ok_or_else(|| not_found("Account not found")),
        (&Method::GET, ["notes"]) => list_notes(store, server, q),
        (&Method::GET, ["notes", id]) => store
            .note(id)
            .map(|n| Reply::json(StatusCode::OK, &json!({"data": n.value})))
            .ok_or_else(|| not_found("Note not found")),
        (_, ["accounts"] | ["accounts", _] | ["notes"] | ["notes", _]) => Err(Reply::error(
            StatusCode::METHOD_NOT_ALLOWED,
            "Method Not Allowed",
            "This method is not supported here",
        )),
        _ => Err(Reply::not_found()),
    };
    result.unwrap_or_else(|e| e)
}

fn route_write(
    store: &mut Store,
    opts: &ActivePlatformOptions,
    method: &Method,
    rest: &[String],
    body: &Body,
) -> Reply {
    let segments: Vec<&str> = rest.iter().map(String::as_str).collect();
    let result = match (method, segments.as_slice()) {
        (&Method::POST, ["notes"]) => create_note(store, opts, body, Timestamp::now()),
        (&Method::DELETE, ["notes", id]) => store
            .remove_note(id)
            .map(|_| Reply::no_content())
            .ok_or_else(|| not_found("Note not found")),
        // Notes cannot be changed once written: there is no update.
        (_, ["accounts"] | ["accounts", _] | ["notes"] | ["notes", _]) => Err(Reply::error(
            StatusCode::METHOD_NOT_ALLOWED,
            "Method Not Allowed",
            "This method is not supported here",
        )),
        _ => Err(Reply::not_found()),
    };
    result.unwrap_or_else(|e| e)
}

fn not_found(detail: &str) -> Reply {
    Reply::error(StatusCode::NOT_FOUND, "Not Found", detail)
}

/// A 422 about one attribute, with its JSON:API source pointer.
fn invalid(attribute: &str, detail: &str) -> Reply {
    Reply::json(
        StatusCode::UNPROCESSABLE_ENTITY,
        &json!({"errors": [{
            "status": "422",
            "title": "Invalid Attribute",
            "detail": detail,
            "source": {"pointer": format!("/data/attributes/{attribute}")},
        }]}),
    )
}

/// `POST …/notes` with `{"data":{"attributes":{"id":…,"type":"account|subscription|order",
/// "content":"…","attachment":{"name":…,"data":"data:…;base64,…"}}}}` → 201 with the note.
fn create_note(
    store: &mut Store,
    opts: &ActivePlatformOptions,
    body: &Body,
    now: Timestamp,
) -> Result<Reply, Reply> {
    let attrs = match body {
        Body::Json(doc) => doc
            .get("data")
            .and_then(|d| d.get("attributes"))
            .and_then(Value::as_object),
        _ => None,
    }
    .ok_or_else(|| {
        Reply::error(
            StatusCode::BAD_REQUEST,
            "Bad Request",
            "The body must be a JSON:API document with data.attributes",
        )
    })?;
    let target = match attrs.get("id") {
        Some(Value::Number(n)) if n.as_u64().is_some() => n.to_string(),
        Some(Value::String(s)) if !s.trim().is_empty() => s.trim().to_string(),
        _ => return Err(invalid("id", "Id can't be blank")),
    };
    let kind = match attrs.get("type").and_then(Value::as_str) {
        Some(t)
            if ["account", "subscription", "order"].contains(&t.to_ascii_lowercase().as_str()) =>
        {
            t.to_ascii_lowercase()
        }
        _ => {
            return Err(invalid(
                "type",
                "Type must be one of: account, subscription, order",
            ));
        }
    };
    let content = match attrs.get("content") {
        Some(Value::String(s)) if !s.trim().is_empty() => s.as_str(),
        Some(Value::String(_)) | None | Some(Value::Null) => {
            return Err(invalid("content", "Content can't be blank"));
        }
        Some(_) => return Err(invalid("content", "Content must be a string")),
    };
    if content.chars().count() > MAX_CONTENT_CHARS {
        return Err(invalid(
            "content",
            "Content is too long (maximum is 5000 characters)",
        ));
    }
    let (account, original_type, original_id) = match kind.as_str() {
        "account" => {
            if store.account(&target).is_none() {
                return Err(not_found("Account not found"));
            }
            (target.clone(), None, None)
        }
        other => {
            let entity = if other == "subscription" {
                "Subscription"
            } else {
                "Order"
            };
            let owner = store
                .owners
                .get(&(entity.to_string(), target.clone()))
                .cloned()
                .ok_or_else(|| not_found(&format!("{entity} not found")))?;
            (owner, Some(entity), Some(target.clone()))
        }
    };
    let id = store.next_id;
    let attachment = match attrs.get("attachment") {
        None | Some(Value::Null) => None,
        Some(file) => Some(upload(file, id)?),
    };
    let original = match (original_type, original_id.as_deref()) {
        (Some("Subscription"), Some(sid)) => data::Target::Subscription(sid),
        (Some(_), Some(oid)) => data::Target::Order(oid),
        _ => data::Target::Account,
    };
    let mut note = data::note(
        id,
        &account,
        original,
        &opts.manager,
        content,
        now,
        attachment,
    );
    if let Some(map) = note.as_object_mut() {
        map.remove("meta");
    }
    let reply = Reply::json(StatusCode::CREATED, &json!({"data": note}));
    store.insert_note(note, Some(account));
    Ok(reply)
}

/// An uploaded attachment (`{name, data: data-URL}`) as the API lists it: a signed, expiring
/// link and the size in bytes.
fn upload(file: &Value, note_id: u64) -> Result<Value, Reply> {
    let name = file
        .get("name")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .ok_or_else(|| invalid("attachment", "Attachment name can't be blank"))?;
    let bytes = file
        .get("data")
        .and_then(Value::as_str)
        .and_then(|d| d.strip_prefix("data:"))
        .and_then(|d| d.split_once(";base64,"))
        .and_then(|(_, b64)| BASE64.decode(b64.trim()).ok())
        .ok_or_else(|| invalid("attachment", "Attachment data must be a base64 data URL"))?;
    Ok(data::attachment(note_id, name, json!(bytes.len())))
}

fn list_accounts(store: &Store, server: &Server, q: &Params) -> Result<Reply, Reply> {
    let email = q.get("filter[email]").map(str::to_lowercase);
    let hits: Vec<&Value> = store
        .accounts
        .iter()
        .filter(|a| {
            email.as_deref().is_none_or(|e| {
                a.get("attributes")
                    .and_then(|at| at.get("email"))
                    .and_then(Value::as_str)
                    .is_some_and(|ae| ae.to_lowercase() == e)
            })
        })
        .collect();
    let filters = [("filter[email]", q.get("filter[email]"))];
    page_of(server, "accounts", &filters, q, hits)
}

fn list_notes(store: &Store, server: &Server, q: &Params) -> Result<Reply, Reply> {
    let account = q.get("filter[account_id]");
    let subscription = q.get("filter[subscription_id]");
    let order = q.get("filter[order_id]");
    let on = |n: &StoredNote, entity: &str, id: &str| {
        n.original
            .as_ref()
            .is_some_and(|(t, i)| t == entity && i == id)
    };
    let mut hits: Vec<&Value> = store
        .notes
        .iter()
        .filter(|n| account.is_none_or(|a| n.account.as_deref() == Some(a)))
        .filter(|n| subscription.is_none_or(|s| on(n, "Subscription", s)))
        .filter(|n| order.is_none_or(|o| on(n, "Order", o)))
        .map(|n| &n.value)
        .collect();
    if server.opts.newest_first {
        hits.reverse();
    }
    let filters = [
        ("filter[account_id]", account),
        ("filter[subscription_id]", subscription),
        ("filter[order_id]", order),
    ];
    page_of(server, "notes", &filters, q, hits)
}

/// One page of `hits` with the JSON:API `links`: absolute URLs on the server's base, carrying
/// the filters that were given, `page[number]` and `page[size]`, as the reference shows them.
fn page_of(
    server: &Server,
    list: &str,
    filters: &[(&str, Option<&str>)],
    q: &Params,
    hits: Vec<&Value>,
) -> Result<Reply, Reply> {
    let number = page_param(q, "page[number]", 1)?;
    let size = page_param(q, "page[size]", u64::from(server.opts.page_size.max(1)))?;
    let total = hits.len() as u64;
    let last = total.div_ceil(size).max(1);
    let start = usize::try_from((number - 1).saturating_mul(size)).unwrap_or(usize::MAX);
    let data: Vec<&Value> = hits
        .into_iter()
        .skip(start)
        .take(usize::try_from(size).unwrap_or(usize::MAX))
        .collect();
    let link = |n: u64| {
        let mut url = match reqwest::Url::parse(&format!(
            "{}/api/v3/resellers/{}/{list}",
            server.base, server.opts.reseller_id
        )) {
            Ok(url) => url,
            Err(_) => return Value::Null,
        };
        {
            let mut pairs = url.query_pairs_mut();
            for (name, value) in filters {
                if let Some(value) = value {
                    pairs.append_pair(name, value);
                }
            }
            pairs.append_pair("page[number]", &n.to_string());
            pairs.append_pair("page[size]", &size.to_string());
        }
        json!(url.as_str())
    };
    let links = json!({
        "self": link(number),
        "first": link(1),
        "prev": if number > 1 { link((number - 1).min(last)) } else { Value::Null },
        "next": if number < last { link(number + 1) } else { Value::Null },
        "last": link(last),
    });
    Ok(Reply::json(
        StatusCode::OK,
        &json!({"data": data, "links": links}),
    ))
}

/// A positive page parameter, or the 400 a JSON:API server gives for anything else.
fn page_param(q: &Params, name: &str, default: u64) -> Result<u64, Reply> {
    match q.raw(name) {
        None => Ok(default),
        Some(raw) => raw
            .trim()
            .parse::<u64>()
            .ok()
            .filter(|n| *n >= 1)
            .ok_or_else(|| {
                Reply::json(
                    StatusCode::BAD_REQUEST,
                    &json!({"errors": [{
                        "status": "400",
                        "title": "Invalid Page Parameter",
                        "detail": format!("{name} must be a positive integer"),
                        "source": {"parameter": name},
                    }]}),
                )
            }),
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

    /// An empty filter counts as not given.
    fn get(&self, name: &str) -> Option<&str> {
        self.raw(name).filter(|v| !v.is_empty())
    }
}

struct Reply {
    status: StatusCode,
    body: Vec<u8>,
}

impl Reply {
    fn json(status: StatusCode, body: &Value) -> Reply {
        match serde_json::to_vec(body) {
            Ok(body) => Reply { status, body },
            Err(e) => Reply {
                status: StatusCode::INTERNAL_SERVER_ERROR,
                body: json!({"errors": [{"status": "500", "title": e.to_string()}]})
                    .to_string()
                    .into_bytes(),
            },
        }
    }

    /// An error as a JSON:API `errors` array.
    fn error(status: StatusCode, title: &str, detail: &str) -> Reply {
        Reply::json(
            status,
            &json!({"errors": [{
                "status": status.as_u16().to_string(),
                "title": title,
                "detail": detail,
            }]}),
        )
    }

    fn not_found() -> Reply {
        Reply::error(StatusCode::NOT_FOUND, "Not Found", "No such route")
    }

    fn no_content() -> Reply {
        Reply {
            status: StatusCode::NO_CONTENT,
            body: Vec::new(),
        }
    }
}

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        if self.status == StatusCode::NO_CONTENT {
            return self.status.into_response();
        }
        (
            self.status,
            [(header::CONTENT_TYPE, HeaderValue::from_static(MEDIA_TYPE))],
            self.body,
        )
            .into_response()
    }
}

/// One note as stored: its resource object (as served) and what the filters need.
struct StoredNote {
    value: Value,
    id: String,
    account: Option<String>,
    /// `(original_type, original_id)` for a note on a subscription, order, etc.
    original: Option<(String, String)>,
}

/// The data, notes in list order (oldest first). Linear scans are fine at demo sizes.
struct Store {
    accounts: Vec<Value>,
    notes: Vec<StoredNote>,
    /// `(original_type, original_id)` → account, learned from the notes: lets a note be created
    /// on a subscription or order the data knows.
    owners: HashMap<(String, String), String>,
    next_id: u64,
}

impl Store {
    fn new(data: ActivePlatformData) -> Store {
        let mut keyed: Vec<(Option<Timestamp>, Value)> = data
            .notes
            .into_iter()
            .map(|n| {
                let at = n
                    .get("attributes")
                    .and_then(|a| a.get("created_at"))
                    .and_then(Value::as_str)
                    .and_then(|s| s.parse::<Timestamp>().ok());
                (at, n)
            })
            .collect();
        // Oldest first; stable, so equal times keep their order, and unreadable times go last.
        keyed.sort_by_key(|(at, _)| (at.is_none(), *at));
        let mut store = Store {
            accounts: data.accounts,
            notes: Vec::with_capacity(keyed.len()),
            owners: HashMap::new(),
            next_id: 1,
        };
        for (_, mut note) in keyed {
            let hint = take_account_hint(&mut note);
            store.insert_note(note, hint);
        }
        store
    }

    /// Appends a note (the newest), with its account: the hint, else the account its panel
    /// link names when it is on the account itself.
    fn insert_note(&mut self, value: Value, account_hint: Option<String>) {
        let id = id_of(&value).unwrap_or_default();
        if let Ok(n) = id.parse::<u64>() {
            self.next_id = self.next_id.max(n + 1);
        }
        let attrs = value.get("attributes");
        let text = |key: &str| id_of_value(attrs.and_then(|a| a.get(key)));
        let original = text("original_type").zip(text("original_id"));
        let account = account_hint.or_else(|| {
            original
                .is_none()
                .then(|| text("original_link").as_deref().and_then(account_in_link))
                .flatten()
        });
        if let (Some(original), Some(account)) = (&original, &account) {
            self.owners.insert(original.clone(), account.clone());
        }
        self.notes.push(StoredNote {
            value,
            id,
            account,
            original,
        });
    }

    fn remove_note(&mut self, id: &str) -> Option<Value> {
        let at = self.notes.iter().position(|n| n.id == id)?;
        Some(self.notes.remove(at).value)
    }

    fn note(&self, id: &str) -> Option<&StoredNote> {
        self.notes.iter().find(|n| n.id == id)
    }

    fn account(&self, id: &str) -> Option<&Value> {
        self.accounts
            .iter()
            .find(|a| id_of(a).as_deref() == Some(id))
    }
}

/// Takes `meta.account_id` out of a note (see [`ActivePlatformData`]); drops `meta` if that
/// leaves it empty.
fn take_account_hint(note: &mut Value) -> Option<String> {
    let map = note.as_object_mut()?;
    let meta = map.get_mut("meta")?.as_object_mut()?;
    let hint = meta.remove("account_id");
    if meta.is_empty() {
        map.remove("meta");
    }
    id_of_value(hint.as_ref())
}

/// A resource's `id`, string or integer.
fn id_of(resource: &Value) -> Option<String> {
    id_of_value(resource.get("id"))
}

fn id_of_value(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// `/admin/accounts/29/notes/5` → `29`.
fn account_in_link(link: &str) -> Option<String> {
    let mut segments = link.split('/').filter(|s| !s.is_empty());
    segments.find(|s| *s == "accounts")?;
    segments.next().map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_hints_are_taken_out_and_links_name_account_notes() {
        let mut store = Store::new(ActivePlatformData {
            accounts: vec![json!({"id": 29, "type": "accounts", "attributes": {}})],
            notes: vec![
                json!({"id": "12", "type": "notes", "meta": {"account_id": 29},
                       "attributes": {"created_at": "2023-03-27T13:33:00.320+03:00",
                       "original_type": "Subscription", "original_id": 114}}),
                json!({"id": "5", "type": "notes",
                       "attributes": {"created_at": "2023-03-27T11:35:12.509+03:00",
                       "original_link": "/admin/accounts/29/notes/5"}}),
                json!({"id": "7", "attributes": {"created_at": "never"}}),
            ],
        });
        let ids: Vec<&str> = store.notes.iter().map(|n| n.id.as_str()).collect();
        assert_eq!(ids, ["5", "12", "7"], "oldest first, unreadable times last");
        assert!(
            store.notes.iter().all(|n| n.value.get("meta").is_none()),
            "the hint is not served"
        );
        assert_eq!(store.notes[0].account.as_deref(), Some("29"));
        assert_eq!(store.notes[1].account.as_deref(), Some("29"));
        assert_eq!(store.notes[2].account, None);
        assert_eq!(
            store.owners.get(&("Subscription".into(), "114".into())),
            Some(&"29".to_string())
        );
        assert_eq!(store.next_id, 13);
        assert!(store.account("29").is_some());
        assert!(store.remove_note("12").is_some());
        assert!(store.note("12").is_none());
        assert!(store.remove_note("12").is_none());
    }

    #[test]
    fn media_types_are_matched_exactly() {
        let mut headers = HeaderMap::new();
        assert!(!accepts_json_api(&headers));
        headers.insert(
            header::ACCEPT,
            HeaderValue::from_static("text/html, application/vnd.api+json"),
        );
        assert!(accepts_json_api(&headers));
        headers.insert(header::ACCEPT, HeaderValue::from_static("application/json"));
        assert!(!accepts_json_api(&headers));
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/vnd.api+json; charset=utf-8"),
        );
        assert!(
            !sends_json_api(&headers),
            "JSON:API forbids media type parameters"
        );
        assert_eq!(percent_decode("a%2Fb%20c%zz"), "a/b c%zz");
    }
}
