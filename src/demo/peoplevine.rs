//! A fake Peoplevine API on loopback: the two-step token flow with expiring tokens and refresh,
//! customers, customer notes (list per customer, list all, get, create, PATCH; no delete) and
//! note message threads. Faithful to the reference page and `NOTES.md`: JSON bodies, bare JSON
//! arrays with a `pagination` response header, `page_size` 1–50 (else 422), 204 with an empty
//! body for an empty list, errors as `{"error","error_description","error_details"}`, 401 for
//! a bad or expired token, 403 for writes by a read-only user.

use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use serde_json::{Map, Value, json};

use super::{Body, FakeServer, RecordedRequest, RequestLog};

pub mod data;
pub use data::demo_data;

/// Largest `page_size` the API accepts.
pub const MAX_PAGE_SIZE: u64 = 50;

/// Entities in the API's wire format (JSON objects exactly as the API returns them), so tests
/// can inject any quirk (missing ids, `""` enums, odd types).
#[derive(Debug, Clone, Default)]
pub struct PeoplevineData {
    pub customers: Vec<Value>,
    pub notes: Vec<Value>,
}

/// Lets a test expire tokens on demand, without waiting for a TTL. Clones share the state:
/// keep one and put a clone in [`PeoplevineOptions::tokens`].
#[derive(Debug, Clone, Default)]
pub struct TokenControl {
    access_epoch: Arc<AtomicU64>,
    refresh_epoch: Arc<AtomicU64>,
    revoked: Arc<AtomicBool>,
}

impl TokenControl {
    /// Every access token issued so far stops working (401), as after its 30 minutes.
    pub fn expire_access_tokens(&self) {
        self.access_epoch.fetch_add(1, Ordering::SeqCst);
    }

    /// Every refresh token issued so far stops working, so the next renewal must log in.
    pub fn expire_refresh_tokens(&self) {
        self.refresh_epoch.fetch_add(1, Ordering::SeqCst);
    }

    /// While set, every API request is refused (401) although the token endpoints still issue
    /// tokens, as for a user whose API access was withdrawn: renewal cannot help.
    pub fn refuse_api_requests(&self, refuse: bool) {
        self.revoked.store(refuse, Ordering::SeqCst);
    }

    fn access(&self) -> u64 {
        self.access_epoch.load(Ordering::SeqCst)
    }

    fn refresh(&self) -> u64 {
        self.refresh_epoch.load(Ordering::SeqCst)
    }
}

#[derive(Debug, Clone)]
pub struct PeoplevineOptions {
    pub username: String,
    pub password: String,
    /// The company the user may get a company token for.
    pub company_id: i64,
    /// Shown as the author (`user`) of notes and messages written through the API.
    pub user_first_name: String,
    pub user_last_name: String,
    /// How long an access token works (the API's is 30 minutes).
    pub access_ttl: Duration,
    /// How long a refresh token works (24 hours, or 7 days with `remember_me`).
    pub refresh_ttl: Duration,
    /// Expire tokens on demand.
    pub tokens: TokenControl,
    /// When set, requests must carry this `Region` header, or their token is not known (401).
    pub region: Option<String>,
    /// The user may read but not write: writes get 403.
    pub read_only: bool,
    /// Added to every reply, so the demo visibly streams pages.
    pub latency: Duration,
    /// `page_size` when a list request has none.
    pub default_page_size: u64,
    /// Quirk off: lists come without the `pagination` header.
    pub pagination_header: bool,
    /// Quirk: create answers with a one-element list, as the reference's example shows.
    pub create_reply_as_list: bool,
}

impl Default for PeoplevineOptions {
    fn default() -> Self {
        PeoplevineOptions {
            username: "sara@club.example".into(),
            password: "demo-password".into(),
            company_id: 1234,
            user_first_name: "Sara".into(),
            user_last_name: "Lee".into(),
            access_ttl: Duration::from_secs(30 * 60),
            refresh_ttl: Duration::from_secs(24 * 60 * 60),
            tokens: TokenControl::default(),
            region: None,
            read_only: false,
            latency: Duration::ZERO,
            default_page_size: 20,
            pagination_header: true,
            create_reply_as_list: false,
        }
    }
}

/// Starts the server on `127.0.0.1:0` on the current tokio runtime; dropping the returned
/// [`FakeServer`] stops it. Its `api_key` is the password the server accepts.
pub async fn start(data: PeoplevineData, opts: PeoplevineOptions) -> std::io::Result<FakeServer> {
    let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
    let log = RequestLog::default();
    let password = opts.password.clone();
    let app = router(data, opts, Some(log.clone()));
    FakeServer::spawn(listener, app, password, log, "Peoplevine")
}

/// Like [`start`] but on a given port, running until the process ends (for
/// `crm-notes demo-server --port N`). Requests are not recorded, so memory stays flat.
pub async fn serve(
    data: PeoplevineData,
    opts: PeoplevineOptions,
    port: u16,
) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, port)).await?;
    axum::serve(listener, router(data, opts, None)).await
}

fn router(data: PeoplevineData, opts: PeoplevineOptions, log: Option<RequestLog>) -> Router {
    let server = Arc::new(Server {
        store: RwLock::new(Store::new(data)),
        sessions: Mutex::new(Sessions::default()),
        opts,
        log,
    });
    Router::new().fallback(handle).with_state(server)
}

struct Server {
    // Locks are held only while a request is handled, never across an await.
    store: RwLock<Store>,
    sessions: Mutex<Sessions>,
    opts: PeoplevineOptions,
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
    let body = Body::parse(&body);
    let path = uri.path().trim_end_matches('/');
    let segments: Vec<&str> = path
        .strip_prefix("/api/")
        .map(|rest| rest.split('/').collect())
        .unwrap_or_default();
    let now = Instant::now();
    let (authorized, reply) = match segments.as_slice() {
        ["token"] if method == Method::POST => {
            let mut sessions = server.sessions.lock().unwrap_or_else(|e| e.into_inner());
            let reply = grant(&mut sessions, &server.opts, &headers, &body, now);
            (reply.status.is_success(), reply)
        }
        ["token", "refresh"] if method == Method::POST => {
            let mut sessions = server.sessions.lock().unwrap_or_else(|e| e.into_inner());
            let reply = refresh(&mut sessions, &server.opts, &headers, &body, now);
            (reply.status.is_success(), reply)
        }
        _ => {
            let access = {
                let sessions = server.sessions.lock().unwrap_or_else(|e| e.into_inner());
                sessions.check(&headers, &server.opts, now)
            };
            let authorized = access.is_ok();
            let reply = match access {
                Err(reply) => reply,
                Ok(()) if is_write(&method) && server.opts.read_only => Reply::error(
                    StatusCode::FORBIDDEN,
                    "forbidden",
                    "This user may read but not change customer records.",
                ),
                Ok(()) if is_write(&method) => {
                    let mut store = server.store.write().unwrap_or_else(|e| e.into_inner());
                    route_write(&mut store, &server.opts, &method, &segments, &body)
                }
                Ok(()) => {
                    let store = server.store.read().unwrap_or_else(|e| e.into_inner());
                    let params = Params {
                        query: &query,
                        headers: &headers,
                    };
                    route_read(&store, &server.opts, &method, &segments, &params)
                }
            };
            (authorized, reply)
        }
    };
    if let Some(log) = &server.log {
        log.push(RecordedRequest {
            method: method.to_string(),
            path: uri.path().to_string(),
            query,
            authorized,
            body: body.recorded(),
        });
    }
    if !server.opts.latency.is_zero() {
        tokio::time::sleep(server.opts.latency).await;
    }
    reply.into_response()
}

fn is_write(method: &Method) -> bool {
    matches!(
        *method,
        Method::POST | Method::PUT | Method::PATCH | Method::DELETE
    )
}

// ---------------------------------------------------------------------------------------------
// Tokens.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TokenKind {
    User,
    Company,
}

/// One issued access token.
struct Session {
    kind: TokenKind,
    refresh: String,
    issued: Instant,
    epoch: u64,
}

/// One issued refresh token, for the access tokens of one login.
struct RefreshGrant {
    kind: TokenKind,
    issued: Instant,
    epoch: u64,
}

#[derive(Default)]
struct Sessions {
    access: HashMap<String, Session>,
    refresh: HashMap<String, RefreshGrant>,
}

impl Sessions {
    fn issue(
        &mut self,
        kind: TokenKind,
        refresh: Option<String>,
        opts: &PeoplevineOptions,
        now: Instant,
    ) -> Reply {
        let access = new_token("eyJhbGciOiJSUzI1NiJ9.", 48);
        let refresh = match refresh {
            Some(existing) => existing,
            None => {
                let token = new_token("", 64);
                self.refresh.insert(
                    token.clone(),
                    RefreshGrant {
                        kind,
                        issued: now,
                        epoch: opts.tokens.refresh(),
                    },
                );
                token
            }
        };
        self.access.insert(
            access.clone(),
            Session {
                kind,
                refresh: refresh.clone(),
                issued: now,
                epoch: opts.tokens.access(),
            },
        );
        Reply::json(
            StatusCode::OK,
            &json!({
                "access_token": access,
                "refresh_token": refresh,
                "token_type": "bearer",
                "expires_in": opts.access_ttl.as_secs(),
            }),
        )
    }

    /// The access token of a request, if it is a live company token.
    fn check(
        &self,
        headers: &HeaderMap,
        opts: &PeoplevineOptions,
        now: Instant,
    ) -> Result<(), Reply> {
        let token = bearer(headers).ok_or_else(|| {
            Reply::error(
                StatusCode::UNAUTHORIZED,
                "invalid_token",
                "Authorization has been denied for this request.",
            )
        })?;
        if !region_matches(headers, opts) || opts.tokens.revoked.load(Ordering::SeqCst) {
            return Err(expired_token());
        }
        match self.access.get(token) {
            Some(s) if s.live(opts, now) && s.kind == TokenKind::Company => Ok(()),
            Some(s) if s.live(opts, now) => Err(Reply::error(
                StatusCode::FORBIDDEN,
                "forbidden",
                "This endpoint needs a company token.",
            )),
            _ => Err(expired_token()),
        }
    }
}

impl Session {
    fn live(&self, opts: &PeoplevineOptions, now: Instant) -> bool {
        self.epoch == opts.tokens.access() && now.duration_since(self.issued) < opts.access_ttl
    }
}

impl RefreshGrant {
    fn live(&self, opts: &PeoplevineOptions, now: Instant) -> bool {
        self.epoch == opts.tokens.refresh() && now.duration_since(self.issued) < opts.refresh_ttl
    }
}

fn expired_token() -> Reply {
    Reply::error(
        StatusCode::UNAUTHORIZED,
        "invalid_token",
        "The access token is invalid or has expired.",
    )
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// Tokens are per region: one issued elsewhere is unknown here.
fn region_matches(headers: &HeaderMap, opts: &PeoplevineOptions) -> bool {
    match &opts.region {
        None => true,
        Some(region) => headers
            .get("region")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim().eq_ignore_ascii_case(region)),
    }
}

/// `POST /api/token`: `grant_type=password` (user token) or `grant_type=access_token`
/// (company token from a user token pair and `company_id`).
fn grant(
    sessions: &mut Sessions,
    opts: &PeoplevineOptions,
    headers: &HeaderMap,
    body: &Body,
    now: Instant,
) -> Reply {
    let fields = match object(body) {
        Ok(fields) => fields,
        Err(reply) => return reply,
    };
    if !region_matches(headers, opts) {
        return bad_credentials();
    }
    let field = |key: &str| fields.get(key).and_then(Value::as_str).unwrap_or_default();
    match field("grant_type") {
        "password" => {
            if field("username").is_empty() || field("password").is_empty() {
                return validation("username and password are required", "username");
            }
            if !field("username").eq_ignore_ascii_case(&opts.username)
                || field("password") != opts.password
            {
                return bad_credentials();
            }
            sessions.issue(TokenKind::User, None, opts, now)
        }
        "access_token" => {
            let user_token = sessions
                .access
                .get(field("access_token"))
                .filter(|s| s.kind == TokenKind::User && s.live(opts, now));
            let Some(session) = user_token else {
                return expired_token();
            };
            if session.refresh != field("refresh_token") {
                return bad_credentials();
            }
            let company = match fields.get("company_id") {
                Some(Value::Number(n)) => n.as_i64(),
                Some(Value::String(s)) => s.trim().parse().ok(),
                _ => None,
            };
            match company {
                None => validation("company_id is required", "company_id"),
                Some(id) if id != opts.company_id => Reply::error(
                    StatusCode::FORBIDDEN,
                    "forbidden",
                    "This user has no access to that company.",
                ),
                Some(_) => sessions.issue(TokenKind::Company, None, opts, now),
            }
        }
        "" => validation("grant_type is required", "grant_type"),
        _ => Reply::error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "The grant type is not supported.",
        ),
    }
}

/// `POST /api/token/refresh` with the pair from one login: a new access token, same refresh
/// token (which keeps its own lifetime). The access token may have expired; that is the point.
fn refresh(
    sessions: &mut Sessions,
    opts: &PeoplevineOptions,
    headers: &HeaderMap,
    body: &Body,
    now: Instant,
) -> Reply {
    let fields = match object(body) {
        Ok(fields) => fields,
        Err(reply) => return reply,
    };
    let field = |key: &str| fields.get(key).and_then(Value::as_str).unwrap_or_default();
    let (access, refresh) = (field("access_token"), field("refresh_token"));
    if access.is_empty() || refresh.is_empty() {
        return validation(
            "access_token and refresh_token are required",
            "refresh_token",
        );
    }
    if !region_matches(headers, opts) {
        return expired_token();
    }
    let paired = sessions
        .access
        .get(access)
        .is_some_and(|s| s.refresh == refresh);
    let grant = sessions.refresh.get(refresh).filter(|g| g.live(opts, now));
    match grant {
        Some(grant) if paired => {
            let kind = grant.kind;
            // The old access token is replaced, not kept alive next to the new one.
            sessions.access.remove(access);
            sessions.issue(kind, Some(refresh.to_string()), opts, now)
        }
        _ => Reply::error(
            StatusCode::UNAUTHORIZED,
            "invalid_grant",
            "The refresh token is invalid or has expired.",
        ),
    }
}

fn bad_credentials() -> Reply {
    Reply::error(
        StatusCode::UNAUTHORIZED,
        "invalid_grant",
        "The user name or password is incorrect.",
    )
}

/// Random token text; `fastrand` is plenty for a loopback fake.
fn new_token(prefix: &str, len: usize) -> String {
    let mut out = String::with_capacity(prefix.len() + len);
    out.push_str(prefix);
    out.extend((0..len).map(|_| fastrand::alphanumeric()));
    out
}

// ---------------------------------------------------------------------------------------------
// Requests.

/// The JSON object a write needs, or the 400 the API gives for anything else.
fn object(body: &Body) -> Result<&Map<String, Value>, Reply> {
    body.json_object().ok_or_else(|| {
        Reply::error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "The request body must be a JSON object.",
        )
    })
}

/// Query parameters, and the headers that may stand in for them (`page_number`, `page_size`).
struct Params<'a> {
    query: &'a [(String, String)],
    headers: &'a HeaderMap,
}

impl Params<'_> {
    fn get(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .or_else(|| self.headers.get(name).and_then(|v| v.to_str().ok()))
    }
}

fn route_read(
    store: &Store,
    opts: &PeoplevineOptions,
    method: &Method,
    segments: &[&str],
    params: &Params,
) -> Reply {
    if method != Method::GET {
        return Reply::not_found();
    }
    let result = match segments {
        ["customers"] => list(params, opts, store.customers.len(), |i| {
            store.customers.get(i)
        }),
        ["customers", "notes"] => list(params, opts, store.order.len(), |i| {
            store.order.get(i).and_then(|&slot| store.notes.get(slot))
        }),
        ["customers", "notes", id] => store
            .note(id)
            .map(|n| Reply::json(StatusCode::OK, n))
            .ok_or_else(note_not_found),
        ["customers", "notes", id, "messages"] => match store.note(id) {
            None => Err(note_not_found()),
            Some(note) => Ok(match note.get("messages").and_then(Value::as_array) {
                Some(messages) if !messages.is_empty() => Reply::json(StatusCode::OK, messages),
                _ => Reply::no_content(),
            }),
        },
        ["customers", id] => store
            .customer(id)
            .map(|c| Reply::json(StatusCode::OK, c))
            .ok_or_else(customer_not_found),
        ["customers", id, "notes"] => {
            if store.customer(id).is_none() {
                Err(customer_not_found())
            } else {
                let group = store.by_customer.get(*id).map_or(&[][..], Vec::as_slice);
                list(params, opts, group.len(), |i| {
                    group.get(i).and_then(|&slot| store.notes.get(slot))
                })
            }
        }
        _ => Err(Reply::not_found()),
    };
    result.unwrap_or_else(|e| e)
}

/// One page of a list: `page_number` from 1, `page_size` 1–50; 204 with an empty body when
/// the page is empty; the `pagination` header otherwise.
fn list<'a>(
    params: &Params,
    opts: &PeoplevineOptions,
    len: usize,
    item: impl Fn(usize) -> Option<&'a Value>,
) -> Result<Reply, Reply> {
    let number = |name: &str, default: u64, max: u64| -> Result<u64, Reply> {
        match params.get(name) {
            None => Ok(default),
            Some(raw) => match raw.trim().parse::<u64>() {
                Ok(n) if (1..=max).contains(&n) => Ok(n),
                _ => Err(validation(
                    &format!("{name} must be a whole number from 1 to {max}"),
                    name,
                )),
            },
        }
    };
    let page_size = number(
        "page_size",
        opts.default_page_size.clamp(1, MAX_PAGE_SIZE),
        MAX_PAGE_SIZE,
    )?;
    let page_number = number("page_number", 1, u64::from(u32::MAX))?;
    let start = usize::try_from((page_number - 1).saturating_mul(page_size)).unwrap_or(usize::MAX);
    let end = start.saturating_add(page_size as usize).min(len);
    let items: Vec<&Value> = (start..end).filter_map(&item).collect();
    if items.is_empty() {
        return Ok(Reply::no_content());
    }
    let total_count = len as u64;
    let total_pages = total_count.div_ceil(page_size);
    let mut reply = Reply::json(StatusCode::OK, &items);
    if opts.pagination_header {
        let pagination = json!({
            "page_number": page_number,
            "page_size": page_size,
            "total_pages": total_pages,
            "total_count": total_count,
            "has_previous_page": page_number > 1,
            "has_next_page": page_number < total_pages,
        });
        reply.pagination = Some(pagination.to_string());
    }
    Ok(reply)
}

fn route_write(
    store: &mut Store,
    opts: &PeoplevineOptions,
    method: &Method,
    segments: &[&str],
    body: &Body,
) -> Reply {
    let now = Timestamp::now();
    let result = match (method, segments) {
        (&Method::POST, ["customers", "notes", id, "messages"]) => {
            add_message(store, opts, id, body, now)
        }
        (&Method::PATCH, ["customers", "notes", id]) => update_note(store, id, body),
        (&Method::DELETE, ["customers", "notes", _]) => Err(Reply::error(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "Notes cannot be deleted.",
        )),
        (&Method::POST, ["customers", id, "notes"]) if *id != "notes" => {
            create_note(store, opts, id, body, now)
        }
        _ => Err(Reply::not_found()),
    };
    result.unwrap_or_else(|e| e)
}

/// `POST /api/customers/{id}/notes`: validates like the API, stores the note, answers with it.
fn create_note(
    store: &mut Store,
    opts: &PeoplevineOptions,
    customer_id: &str,
    body: &Body,
    now: Timestamp,
) -> Result<Reply, Reply> {
    let fields = object(body)?;
    let customer = store
        .customer(customer_id)
        .ok_or_else(customer_not_found)?
        .clone();
    let mut note = Map::new();
    note.insert("id".into(), json!(store.next_note_id()));
    note.insert("reference_type".into(), json!("customer"));
    note.insert(
        "reference_id".into(),
        customer.get("id").cloned().unwrap_or(Value::Null),
    );
    note.insert(
        "type".into(),
        optional_string(fields, "type")?.map_or(Value::Null, Value::from),
    );
    note.insert(
        "details".into(),
        optional_string(fields, "details")?.map_or(Value::Null, Value::from),
    );
    note.insert("created_on".into(), json!(wire_time(now)));
    note.insert(
        "status".into(),
        json!(status_field(fields)?.unwrap_or("open")),
    );
    note.insert(
        "reminder".into(),
        optional_string(fields, "reminder")?.map_or(Value::Null, Value::from),
    );
    note.insert("user_id".into(), json!(API_USER_ID));
    note.insert("company_id".into(), json!(opts.company_id));
    note.insert(
        "customer_id".into(),
        customer.get("id").cloned().unwrap_or(Value::Null),
    );
    note.insert(
        "confidential".into(),
        json!(bool_field(fields, "confidential")?.unwrap_or(false)),
    );
    note.insert(
        "priority".into(),
        json!(bool_field(fields, "priority")?.unwrap_or(false)),
    );
    note.insert("tags".into(), tags_field(fields)?.unwrap_or(Value::Null));
    note.insert(
        "subject".into(),
        optional_string(fields, "subject")?.map_or(Value::Null, Value::from),
    );
    note.insert("customer".into(), data::customer_summary(&customer));
    note.insert("user".into(), api_user(opts));
    note.insert("assignees".into(), assignees_field(fields)?);
    note.insert("messages".into(), json!([]));
    let note = Value::Object(note);
    let reply = if opts.create_reply_as_list {
        Reply::json(StatusCode::OK, &[&note])
    } else {
        Reply::json(StatusCode::OK, &note)
    };
    store.insert_note(note);
    Ok(reply)
}

/// `PATCH /api/customers/notes/{id}`: every field is optional and, per the reference, a
/// string (`"true"` for a flag); real booleans are taken too. Validated before anything
/// changes, so a refused update leaves the note as it was.
fn update_note(store: &mut Store, id: &str, body: &Body) -> Result<Reply, Reply> {
    let fields = object(body)?;
    let slot = *store.note_by_id.get(id).ok_or_else(note_not_found)?;
    let mut changes: Vec<(&str, Value)> = Vec::new();
    for key in ["type", "reminder", "subject", "details"] {
        if let Some(value) = optional_string(fields, key)? {
            changes.push((key, json!(value)));
        }
    }
    if let Some(status) = status_field(fields)? {
        changes.push(("status", json!(status)));
    }
    for key in ["confidential", "priority"] {
        if let Some(flag) = bool_field(fields, key)? {
            changes.push((key, json!(flag)));
        }
    }
    if let Some(tags) = tags_field(fields)? {
        changes.push(("tags", tags));
    }
    let new_customer = match optional_string(fields, "customer_id")? {
        Some(customer) => Some(
            store
                .customer(&customer)
                .ok_or_else(customer_not_found)?
                .clone(),
        ),
        None => None,
    };
    let old_customer = store
        .notes
        .get(slot)
        .and_then(|n| key_of(n.get("customer_id")));
    let Some(Value::Object(note)) = store.notes.get_mut(slot) else {
        return Err(note_not_found());
    };
    for (key, value) in changes {
        note.insert(key.to_string(), value);
    }
    if let Some(customer) = &new_customer {
        note.insert(
            "customer_id".into(),
            customer.get("id").cloned().unwrap_or(Value::Null),
        );
        note.insert("customer".into(), data::customer_summary(customer));
    }
    let reply = Reply::json(StatusCode::OK, &*note);
    if let Some(customer) = new_customer.as_ref().and_then(|c| key_of(c.get("id"))) {
        if old_customer.as_deref() != Some(customer.as_str()) {
            store.move_note(slot, old_customer.as_deref(), &customer);
        }
    }
    Ok(reply)
}

/// `POST /api/customers/notes/{id}/messages` with `message` (and an optional `attachment`).
fn add_message(
    store: &mut Store,
    opts: &PeoplevineOptions,
    note_id: &str,
    body: &Body,
    now: Timestamp,
) -> Result<Reply, Reply> {
    let fields = object(body)?;
    let message = optional_string(fields, "message")?.unwrap_or_default();
    let attachment = optional_string(fields, "attachment")?;
    if message.trim().is_empty() && attachment.is_none() {
        return Err(validation("message is required", "message"));
    }
    let slot = *store.note_by_id.get(note_id).ok_or_else(note_not_found)?;
    let id = store.next_message_id();
    let entry = json!({
        "id": id,
        "message": message,
        "attachment": attachment,
        "posted_by": api_user(opts),
        "created_on": wire_time(now),
    });
    let Some(Value::Object(note)) = store.notes.get_mut(slot) else {
        return Err(note_not_found());
    };
    match note.get_mut("messages") {
        Some(Value::Array(messages)) => messages.push(entry.clone()),
        _ => {
            note.insert("messages".into(), json!([entry.clone()]));
        }
    }
    Ok(Reply::json(StatusCode::OK, &entry))
}

/// The id the fake gives the API user in notes it writes.
const API_USER_ID: i64 = 501;

/// The `user` object of the logged-in user, as notes and messages written through the API show.
fn api_user(opts: &PeoplevineOptions) -> Value {
    data::staff_user(
        &opts.user_first_name,
        &opts.user_last_name,
        &opts.username,
        "admin",
    )
}

fn optional_string(fields: &Map<String, Value>, key: &str) -> Result<Option<String>, Reply> {
    match fields.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(_) => Err(validation(&format!("{key} must be a string"), key)),
    }
}

/// `status`: `open` or `closed`; `""` (the reference's examples) counts as not given.
fn status_field(fields: &Map<String, Value>) -> Result<Option<&'static str>, Reply> {
    match optional_string(fields, "status")?.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(s) if s.eq_ignore_ascii_case("open") => Ok(Some("open")),
        Some(s) if s.eq_ignore_ascii_case("closed") => Ok(Some("closed")),
        Some(_) => Err(validation("status must be open or closed", "status")),
    }
}

fn bool_field(fields: &Map<String, Value>, key: &str) -> Result<Option<bool>, Reply> {
    match fields.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(Value::String(s)) if s.trim().eq_ignore_ascii_case("true") => Ok(Some(true)),
        Some(Value::String(s)) if s.trim().eq_ignore_ascii_case("false") => Ok(Some(false)),
        Some(_) => Err(validation(&format!("{key} must be true or false"), key)),
    }
}

fn tags_field(fields: &Map<String, Value>) -> Result<Option<Value>, Reply> {
    match fields.get("tags") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(tags)) if tags.iter().all(Value::is_string) => {
            Ok(Some(Value::Array(tags.clone())))
        }
        Some(_) => Err(validation("tags must be a list of strings", "tags")),
    }
}

/// `assignees`: ids of staff users, answered as their user objects.
fn assignees_field(fields: &Map<String, Value>) -> Result<Value, Reply> {
    let ids = match fields.get("assignees") {
        None | Some(Value::Null) => return Ok(json!([])),
        Some(Value::Array(ids)) => ids,
        Some(_) => {
            return Err(validation(
                "assignees must be a list of user ids",
                "assignees",
            ));
        }
    };
    let users: Option<Vec<Value>> = ids
        .iter()
        .map(|id| id.as_i64().and_then(data::staff_by_id))
        .collect();
    users.map(Value::Array).ok_or_else(|| {
        validation(
            "assignees must be ids of users of this company",
            "assignees",
        )
    })
}

fn validation(message: &str, field: &str) -> Reply {
    let mut details = Map::new();
    details.insert(field.to_string(), json!([message]));
    Reply::json(
        StatusCode::UNPROCESSABLE_ENTITY,
        &json!({
            "error": "validation_error",
            "error_description": message,
            "error_details": details,
        }),
    )
}

fn customer_not_found() -> Reply {
    Reply::error(StatusCode::NOT_FOUND, "not_found", "Customer not found.")
}

fn note_not_found() -> Reply {
    Reply::error(StatusCode::NOT_FOUND, "not_found", "Note not found.")
}

/// `2024-10-06T20:35:16.983Z`, as the API writes times.
pub fn wire_time(at: Timestamp) -> String {
    let millis = Timestamp::from_millisecond(at.as_millisecond()).unwrap_or(at);
    format!("{millis:.3}")
}

// ---------------------------------------------------------------------------------------------
// Replies.

struct Reply {
    status: StatusCode,
    /// `None`: no body at all (204).
    body: Option<Vec<u8>>,
    pagination: Option<String>,
}

impl Reply {
    fn json(status: StatusCode, body: &impl serde::Serialize) -> Reply {
        match serde_json::to_vec(body) {
            Ok(body) => Reply {
                status,
                body: Some(body),
                pagination: None,
            },
            Err(e) => Reply::error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "server_error",
                &e.to_string(),
            ),
        }
    }

    /// The API's error shape.
    fn error(status: StatusCode, error: &str, description: &str) -> Reply {
        Reply::json(
            status,
            &json!({"error": error, "error_description": description, "error_details": null}),
        )
    }

    fn no_content() -> Reply {
        Reply {
            status: StatusCode::NO_CONTENT,
            body: None,
            pagination: None,
        }
    }

    fn not_found() -> Reply {
        Reply::error(StatusCode::NOT_FOUND, "not_found", "No such endpoint.")
    }
}

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        let Some(body) = self.body else {
            return self.status.into_response();
        };
        let mut response = (
            self.status,
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json; charset=utf-8"),
            )],
            body,
        )
            .into_response();
        if let Some(value) = self.pagination.and_then(|p| HeaderValue::from_str(&p).ok()) {
            response
                .headers_mut()
                .insert(HeaderName::from_static("pagination"), value);
        }
        response
    }
}

// ---------------------------------------------------------------------------------------------
// The store.

/// A JSON id (number or string) as a map key.
fn key_of(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn created_key(note: &Value) -> std::cmp::Reverse<Option<Timestamp>> {
    std::cmp::Reverse(
        note.get("created_on")
            .and_then(Value::as_str)
            .and_then(|s| s.parse().ok()),
    )
}

/// The data with the indexes the endpoints need. Notes live in slots that never move; lists
/// hold slots newest first (notes whose time does not parse last).
struct Store {
    customers: Vec<Value>,
    customer_by_id: HashMap<String, usize>,
    notes: Vec<Value>,
    order: Vec<usize>,
    by_customer: HashMap<String, Vec<usize>>,
    note_by_id: HashMap<String, usize>,
    next_note_id: i64,
    next_message_id: i64,
}

impl Store {
    fn new(data: PeoplevineData) -> Store {
        let PeoplevineData { customers, notes } = data;
        let mut customer_by_id = HashMap::with_capacity(customers.len());
        for (i, c) in customers.iter().enumerate() {
            if let Some(id) = key_of(c.get("id")) {
                // First occurrence wins, like the list, so a duplicate id is predictable.
                customer_by_id.entry(id).or_insert(i);
            }
        }
        let mut order: Vec<usize> = (0..notes.len()).collect();
        // Stable, so notes with equal times keep the order they were given in.
        order.sort_by_key(|&i| created_key(&notes[i]));
        let mut by_customer: HashMap<String, Vec<usize>> = HashMap::new();
        let mut note_by_id = HashMap::with_capacity(notes.len());
        for &slot in &order {
            if let Some(customer) = key_of(notes[slot].get("customer_id")) {
                by_customer.entry(customer).or_default().push(slot);
            }
            if let Some(id) = key_of(notes[slot].get("id")) {
                note_by_id.entry(id).or_insert(slot);
            }
        }
        let max_id = |items: &mut dyn Iterator<Item = &Value>| {
            items
                .filter_map(|v| v.get("id").and_then(Value::as_i64))
                .max()
                .unwrap_or(0)
        };
        let next_note_id = max_id(&mut notes.iter()).max(1_000) + 1;
        let next_message_id = max_id(
            &mut notes
                .iter()
                .filter_map(|n| n.get("messages").and_then(Value::as_array))
                .flatten(),
        )
        .max(5_000)
            + 1;
        Store {
            customers,
            customer_by_id,
            notes,
            order,
            by_customer,
            note_by_id,
            next_note_id,
            next_message_id,
        }
    }

    fn customer(&self, id: &str) -> Option<&Value> {
        self.customer_by_id
            .get(id)
            .and_then(|&i| self.customers.get(i))
    }

    fn note(&self, id: &str) -> Option<&Value> {
        self.note_by_id.get(id).and_then(|&i| self.notes.get(i))
    }

    fn next_note_id(&mut self) -> i64 {
        let id = self.next_note_id;
        self.next_note_id += 1;
        id
    }

    fn next_message_id(&mut self) -> i64 {
        let id = self.next_message_id;
        self.next_message_id += 1;
        id
    }

    /// Adds a note before any note with the same time (it is the newest write).
    fn insert_note(&mut self, note: Value) {
        let slot = self.notes.len();
        let key = created_key(&note);
        let customer = key_of(note.get("customer_id"));
        if let Some(id) = key_of(note.get("id")) {
            self.note_by_id.entry(id).or_insert(slot);
        }
        self.notes.push(note);
        let notes = &self.notes;
        let at = self
            .order
            .partition_point(|&s| created_key(&notes[s]) < key);
        self.order.insert(at, slot);
        if let Some(customer) = customer {
            let group = self.by_customer.entry(customer).or_default();
            let at = group.partition_point(|&s| created_key(&notes[s]) < key);
            group.insert(at, slot);
        }
    }

    /// Moves a note to another customer's list (a PATCH of `customer_id`).
    fn move_note(&mut self, slot: usize, from: Option<&str>, to: &str) {
        if let Some(group) = from.and_then(|c| self.by_customer.get_mut(c)) {
            group.retain(|&s| s != slot);
        }
        let notes = &self.notes;
        let key = notes.get(slot).map(created_key);
        let group = self.by_customer.entry(to.to_string()).or_default();
        let at = group.partition_point(|&s| Some(created_key(&notes[s])) < key);
        group.insert(at, slot);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn note(id: i64, customer: i64, at: &str) -> Value {
        json!({"id": id, "customer_id": customer, "created_on": at})
    }

    fn ids(store: &Store, slots: &[usize]) -> Vec<i64> {
        slots
            .iter()
            .filter_map(|&s| store.notes[s]["id"].as_i64())
            .collect()
    }

    #[test]
    fn store_keeps_every_list_newest_first() {
        let mut store = Store::new(PeoplevineData {
            customers: vec![json!({"id": 1}), json!({"id": 2})],
            notes: vec![
                note(10, 1, "2024-01-01T00:00:00Z"),
                note(11, 2, "yesterday"),
                // 10:00-04:00 is 14:00Z, after the 12:00Z note.
                note(12, 1, "2024-06-01T10:00:00-04:00"),
                note(13, 1, "2024-06-01T12:00:00.000Z"),
            ],
        });
        assert_eq!(ids(&store, &store.order), [12, 13, 10, 11]);
        assert_eq!(ids(&store, &store.by_customer["1"]), [12, 13, 10]);
        assert_eq!(store.next_note_id, 1_001, "ids continue above the demo's");

        store.insert_note(note(20, 2, "2025-01-01T00:00:00Z"));
        store.insert_note(note(21, 1, "2024-03-01T00:00:00Z"));
        assert_eq!(ids(&store, &store.order), [20, 12, 13, 21, 10, 11]);
        assert_eq!(ids(&store, &store.by_customer["2"]), [20, 11]);

        let slot = store.note_by_id["21"];
        store.move_note(slot, Some("1"), "2");
        assert_eq!(ids(&store, &store.by_customer["1"]), [12, 13, 10]);
        assert_eq!(ids(&store, &store.by_customer["2"]), [20, 21, 11]);
    }

    #[test]
    fn write_fields_are_validated_like_the_api() {
        let fields = |v: Value| v.as_object().cloned().unwrap_or_default();
        let status = |v: Value| status_field(&fields(v)).map_err(|e| e.status.as_u16());
        assert_eq!(status(json!({"status": "Closed"})), Ok(Some("closed")));
        assert_eq!(status(json!({"status": ""})), Ok(None));
        assert_eq!(status(json!({})), Ok(None));
        assert_eq!(status(json!({"status": "done"})), Err(422));
        let flag = |v: Value| bool_field(&fields(v), "priority").map_err(|e| e.status.as_u16());
        assert_eq!(flag(json!({"priority": "true"})), Ok(Some(true)));
        assert_eq!(flag(json!({"priority": false})), Ok(Some(false)));
        assert_eq!(flag(json!({"priority": "yes"})), Err(422));
        assert!(tags_field(&fields(json!({"tags": ["a", 1]}))).is_err());
        assert!(assignees_field(&fields(json!({"assignees": [999_999]}))).is_err());
        assert_eq!(
            assignees_field(&fields(json!({"assignees": []}))).ok(),
            Some(json!([]))
        );
    }

    #[test]
    fn wire_times_look_like_the_api() {
        let at: Timestamp = "2026-01-02T03:04:05.678999Z".parse().expect("ts");
        assert_eq!(wire_time(at), "2026-01-02T03:04:05.678Z");
    }
}
