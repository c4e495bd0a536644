//! Peoplevine client: customers and their notes over `/api/`, writing notes and call logs
//! (`POST` per customer, `PATCH` per note, no delete) and adding to a note's message thread.
//!
//! Auth is a two-step token flow: a user token from the user name and password, then a company
//! token from that token and the company id. Tokens live in memory only; an access token the
//! server rejects (401) is renewed (refresh token, else a new login) and the request sent once
//! more. The password and every token stay out of errors and Debug output.
//!
//! A call is a note of type `call` whose `details` start with the line `Call duration: 15m`,
//! written and read back by this client (Peoplevine has no duration field).

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use jiff::Timestamp;
use reqwest::{Method, StatusCode, Url};
use serde::Serialize;
use serde_json::{Map, Value, json};

use super::http::{
    ApiRequest, ApiResponse, Auth, HttpClient, HttpOptions, check_base_url, decode_json, endpoint,
};
use super::{Provider, ProviderError, Result};
use crate::duration::{format_duration, format_duration_input, parse_duration};
use crate::model::{
    Capabilities, Contact, Customer, CustomerQuery, NewNote, Note, NoteExtras, NoteKind,
    NoteMessage, NotePatch, NoteQuery, Page, ProviderKind,
};
use crate::text::{note_text, sanitize_line};

pub const DEFAULT_BASE_URL: &str = "https://api.peoplevine.com";
/// The API refuses (422) a `page_size` over 50.
pub const MAX_PAGE_SIZE: u32 = 50;
/// Longest subject we derive from the first line of a note.
pub const MAX_SUBJECT_CHARS: usize = 80;
/// The first line of a call's `details`, followed by the duration ("15m", "1h05m").
pub const CALL_DURATION_PREFIX: &str = "Call duration:";
const PROVIDER: &str = "Peoplevine";

/// A Peoplevine account. Clones share the tokens, so they log in once between them.
#[derive(Clone)]
pub struct Peoplevine {
    http: HttpClient,
    base: Url,
    username: String,
    password: String,
    company_id: i64,
    region: Option<String>,
    tokens: Arc<tokio::sync::Mutex<TokenState>>,
}

impl fmt::Debug for Peoplevine {
    // The password and tokens are secrets; the user name and company are configuration.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Peoplevine")
            .field("base", &self.base.as_str())
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .field("company_id", &self.company_id)
            .field("region", &self.region)
            .finish_non_exhaustive()
    }
}

/// The company token pair in use.
#[derive(Clone)]
struct Tokens {
    access: String,
    refresh: Option<String>,
}

impl fmt::Debug for Tokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Tokens(<redacted>)")
    }
}

/// The tokens and how many times they were replaced: a request that saw a 401 with tokens of
/// an older generation knows another request has already renewed them.
#[derive(Default, Debug)]
struct TokenState {
    tokens: Option<Tokens>,
    generation: u64,
}

impl TokenState {
    fn install(&mut self, tokens: Tokens) -> (Auth, u64) {
        self.generation += 1;
        let auth = Auth::Bearer(tokens.access.clone());
        self.tokens = Some(tokens);
        (auth, self.generation)
    }
}

/// A partial update with everything Peoplevine can change on a note. `NotePatch` carries the
/// text and duration; status and priority come through [`Peoplevine::update`].
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PeoplevinePatch {
    pub text: Option<String>,
    /// Calls only: rewrites the duration line of `details`.
    pub call_duration_s: Option<u32>,
    /// `open` or `closed`.
    pub status: Option<String>,
    pub priority: Option<bool>,
}

impl Peoplevine {
    /// `base_url` is usually [`DEFAULT_BASE_URL`]; plain http is accepted only for loopback.
    /// Nothing is sent until the first request, which logs in.
    pub fn new(
        base_url: &str,
        username: String,
        password: String,
        company_id: i64,
        region: Option<String>,
        options: HttpOptions,
    ) -> Result<Self> {
        let base = check_base_url(base_url)?;
        if username.trim().is_empty() {
            return Err(ProviderError::Refused(
                "Peoplevine needs a user name (`username` in the account's config)".into(),
            ));
        }
        if password.is_empty() {
            return Err(ProviderError::Refused(
                "Peoplevine needs the account's password".into(),
            ));
        }
        if company_id <= 0 {
            return Err(ProviderError::Refused(format!(
                "Peoplevine company_id must be a positive number, not {company_id}"
            )));
        }
        let region = region
            .map(|r| r.trim().to_string())
            .filter(|r| !r.is_empty());
        if let Some(r) = &region {
            // Checked now so a typo shows at start-up rather than as every request failing.
            if !r.bytes().all(|b| b.is_ascii_graphic()) {
                return Err(ProviderError::Refused(format!(
                    "invalid Peoplevine region {:?}",
                    sanitize_line(r)
                )));
            }
        }
        Ok(Peoplevine {
            http: HttpClient::new(PROVIDER, options)?,
            base,
            username: username.trim().to_string(),
            password,
            company_id,
            region,
            tokens: Arc::default(),
        })
    }

    /// A request to `/api/<segments>` with the region header; auth is added when it is sent.
    fn request(&self, method: Method, segments: &[&str]) -> Result<ApiRequest> {
        let mut path = vec!["api"];
        path.extend_from_slice(segments);
        let req = ApiRequest::new(method, endpoint(&self.base, &path)?);
        Ok(match &self.region {
            Some(region) => req.header("Region", region),
            None => req,
        })
    }

    fn get(&self, segments: &[&str]) -> Result<ApiRequest> {
        self.request(Method::GET, segments)
    }

    /// Sends `req` with the company token, logging in first if there is none. A 401 means the
    /// access token expired or was revoked: the tokens are renewed and the request sent once
    /// more; a second 401 is the answer. Safe for writes too: a 401 is refused before any work.
    async fn send(&self, req: ApiRequest) -> Result<ApiResponse> {
        let (auth, generation) = self.token().await?;
        match self.http.send(req.clone().auth(&auth)).await {
            Err(ProviderError::Auth { status: 401, .. }) => {
                tracing::debug!(provider = PROVIDER, "access token refused; renewing");
                let (auth, _) = self.renew(generation).await?;
                self.http.send(req.auth(&auth)).await
            }
            other => other,
        }
    }

    /// The current access token, logging in when there is none. The lock is held during the
    /// login, so concurrent first requests wait for one login instead of each starting one.
    async fn token(&self) -> Result<(Auth, u64)> {
        let mut state = self.tokens.lock().await;
        match &state.tokens {
            Some(tokens) => Ok((Auth::Bearer(tokens.access.clone()), state.generation)),
            None => {
                let tokens = self.login().await?;
                Ok(state.install(tokens))
            }
        }
    }

    /// Replaces tokens of generation `stale` that the server refused. If another request has
    /// replaced them meanwhile, its tokens are used as they are.
    async fn renew(&self, stale: u64) -> Result<(Auth, u64)> {
        let mut state = self.tokens.lock().await;
        if state.generation != stale {
            if let Some(tokens) = &state.tokens {
                return Ok((Auth::Bearer(tokens.access.clone()), state.generation));
            }
        }
        let old = state.tokens.take();
        let pair = old
            .as_ref()
            .and_then(|t| Some((t.access.clone(), t.refresh.clone()?)));
        let refreshed = match pair {
            Some((access, refresh)) => match self.refresh(&access, &refresh).await {
                Ok(tokens) => Some(tokens),
                // The server or network is in trouble: a login would fail the same way, and
                // the refresh token may still be good next time.
                Err(e) if e.is_transient() => {
                    state.tokens = old;
                    return Err(e);
                }
                Err(e) => {
                    tracing::debug!(provider = PROVIDER, error = %e, "refresh refused; logging in");
                    None
                }
            },
            None => None,
        };
        let tokens = match refreshed {
            Some(tokens) => tokens,
            None => self.login().await?,
        };
        Ok(state.install(tokens))
    }

    /// The two-step login: a user token from the password, then the company token from it.
    async fn login(&self) -> Result<Tokens> {
        let user = self
            .grant(
                &["token"],
                &json!({
                    "username": self.username,
                    "password": self.password,
                    "grant_type": "password",
                }),
            )
            .await?;
        let Some(user_refresh) = user.refresh else {
            return Err(malformed(
                "the user token reply had no refresh_token".into(),
            ));
        };
        let company = self
            .grant(
                &["token"],
                &json!({
                    "access_token": user.access,
                    "refresh_token": user_refresh,
                    "company_id": self.company_id,
                    "grant_type": "access_token",
                }),
            )
            .await?;
        Ok(company)
    }

    /// `POST /api/token/refresh`; a reply without a new refresh token keeps the old one.
    async fn refresh(&self, access: &str, refresh: &str) -> Result<Tokens> {
        let mut tokens = self
            .grant(
                &["token", "refresh"],
                &json!({"access_token": access, "refresh_token": refresh}),
            )
            .await?;
        tokens.refresh = tokens.refresh.or_else(|| Some(refresh.to_string()));
        Ok(tokens)
    }

    /// One token request. Asking for a token twice is harmless, so it may be retried like a
    /// GET. The body carries secrets: they are blanked out of any error, and a 400 (the usual
    /// OAuth answer to a bad grant) counts as refused credentials.
    async fn grant(&self, segments: &[&str], body: &Value) -> Result<Tokens> {
        let secrets: Vec<&str> = body
            .as_object()
            .into_iter()
            .flat_map(|m| {
                ["password", "access_token", "refresh_token"]
                    .into_iter()
                    .filter_map(|k| m.get(k)?.as_str())
            })
            .collect();
        let req = self
            .request(Method::POST, segments)?
            .json(body)?
            .idempotent(true);
        let result = match self.http.send(req).await {
            Ok(resp) => tokens_from_reply(&resp.body),
            Err(ProviderError::Status {
                provider,
                status: 400,
                message,
            }) => Err(ProviderError::Auth {
                provider,
                status: 400,
                message,
            }),
            Err(e) => Err(e),
        };
        // A token endpoint may echo what it was sent.
        result.map_err(|e| super::http::redact(e, &secrets))
    }

    /// One page of a list endpoint: `page_number`/`page_size` in the query, the `pagination`
    /// header (or, without one, the page's size) for what comes next.
    async fn list_page(
        &self,
        req: ApiRequest,
        page: Option<&str>,
        per_page: Option<u32>,
    ) -> Result<(Vec<Value>, Option<String>)> {
        let token = PageToken::parse(page)?;
        let size = page_size(per_page);
        let req = req
            .query("page_number", &token.number.to_string())
            .query("page_size", &size.to_string());
        let resp = self.send(req).await?;
        let items = list_items(&resp)?;
        let pagination = resp.header("pagination").and_then(Pagination::parse);
        let next = next_page(&token, size, &items, pagination.as_ref());
        Ok((items, next.map(|t| t.to_string())))
    }

    /// The note as the server has it, in wire format.
    async fn note_wire(&self, id: &str) -> Result<Value> {
        let resp = self.send(self.get(&["customers", "notes", id])?).await?;
        one_object(&resp).ok_or_else(|| malformed("the note reply held no note".into()))
    }

    /// Sends a write whose reply is the note and maps it as reads do. A success without a
    /// usable note (the API's docs show create replying with a list) takes the first one.
    async fn write_note(&self, req: ApiRequest) -> Result<Note> {
        let resp = self.send(req).await?;
        let wire = one_object(&resp)
            .ok_or_else(|| malformed("the write succeeded but the reply held no note".into()))?;
        note_from_wire(&wire, None).map_err(|why| malformed(why.to_string()))
    }

    /// Updates what Peoplevine lets us change: text (`details` and `subject`), a call's
    /// duration, `status` and `priority`. Changing text or duration reads the note first, since
    /// `details` holds both and the API replaces it whole.
    pub async fn update(&self, id: &str, patch: &PeoplevinePatch) -> Result<Note> {
        let status = match patch.status.as_deref().map(str::trim) {
            None => None,
            Some(s) if s.eq_ignore_ascii_case("open") => Some("open"),
            Some(s) if s.eq_ignore_ascii_case("closed") => Some("closed"),
            Some(other) => {
                return Err(ProviderError::Refused(format!(
                    "a Peoplevine note is open or closed, not {:?}",
                    sanitize_line(other)
                )));
            }
        };
        let mut body = WirePatch {
            status,
            priority: patch.priority.map(|p| p.to_string()),
            ..WirePatch::default()
        };
        if patch.text.is_some() || patch.call_duration_s.is_some() {
            let current = self.note_wire(id).await?;
            let (details, subject) = patched_details(&current, patch)?;
            body.details = Some(details);
            body.subject = subject;
        }
        if body.is_empty() {
            // Nothing Peoplevine stores changes (a duration on a plain note): the note as it is.
            return self.note(id).await;
        }
        // Every field is set to a value, not changed relative to it, so sending the PATCH
        // again after a failure cannot apply it twice.
        let req = self
            .request(Method::PATCH, &["customers", "notes", id])?
            .json(&body)?
            .idempotent(true);
        self.write_note(req).await
    }
}

fn malformed(message: String) -> ProviderError {
    ProviderError::Malformed {
        provider: PROVIDER,
        message,
    }
}

/// `{"access_token": …, "refresh_token": …}`, at the top level or under `data`.
fn tokens_from_reply(body: &[u8]) -> Result<Tokens> {
    let value: Value = decode_json(PROVIDER, body)?;
    let fields = value
        .get("data")
        .filter(|d| d.is_object())
        .unwrap_or(&value);
    let text = |key: &str| {
        fields
            .get(key)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let access = text("access_token")
        .ok_or_else(|| malformed("the token reply had no access_token".into()))?;
    Ok(Tokens {
        access,
        refresh: text("refresh_token"),
    })
}

#[async_trait]
impl Provider for Peoplevine {
    fn kind(&self) -> ProviderKind {
        ProviderKind::Peoplevine
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            create_notes: true,
            log_calls: true,
            edit: true,
            delete: false,
            server_author_filter: false,
            server_type_filter: false,
            contacts: false,
            web_link: false,
            // No documented customer filter: search is client-side.
            email_search: false,
            messages: true,
            sets_time: false,
        }
    }

    async fn ping(&self) -> Result<()> {
        // Logs in if needed, and proves the company token can read.
        let req = self
            .get(&["customers"])?
            .query("page_number", "1")
            .query("page_size", "1");
        self.send(req).await.map(|_| ())
    }

    async fn customers(&self, query: &CustomerQuery, page: Option<&str>) -> Result<Page<Customer>> {
        let (items, next) = self
            .list_page(self.get(&["customers"])?, page, query.per_page)
            .await?;
        let items = items
            .iter()
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

    async fn customer(&self, id: &str) -> Result<Customer> {
        let resp = self.send(self.get(&["customers", id])?).await?;
        let wire = one_object(&resp)
            .ok_or_else(|| ProviderError::NotFound(format!("customer {}", sanitize_line(id))))?;
        customer_from_wire(&wire).map_err(|why| malformed(why.to_string()))
    }

    async fn contacts(&self, customer_id: &str, page: Option<&str>) -> Result<Page<Contact>> {
        let _ = (customer_id, page);
        Err(self.unsupported("list contacts"))
    }

    async fn notes(&self, query: &NoteQuery, page: Option<&str>) -> Result<Page<Note>> {
        let customer = query
            .customer_id
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty());
        let req = match customer {
            Some(id) => self.get(&["customers", id, "notes"])?,
            None => self.get(&["customers", "notes"])?,
        };
        let (items, next) = self.list_page(req, page, query.per_page).await?;
        let mut notes: Vec<Note> = items
            .iter()
            .filter_map(|wire| match note_from_wire(wire, customer) {
                Ok(note) => Some(note),
                Err(why) => {
                    tracing::warn!(provider = PROVIDER, reason = why, "skipping a note");
                    None
                }
            })
            .collect();
        // The API documents no order; the timeline wants the newest first.
        notes.sort_by_key(|n| std::cmp::Reverse(n.created_at));
        Ok(Page { items: notes, next })
    }

    async fn note(&self, id: &str) -> Result<Note> {
        let wire = self.note_wire(id).await?;
        note_from_wire(&wire, None).map_err(|why| malformed(why.to_string()))
    }

    /// `POST /api/customers/{id}/notes`. Sent once: a failure after the request may have
    /// arrived is returned as it is, for the caller to reconcile. The API takes no creation
    /// time, so the server's clock dates the note.
    async fn create_note(&self, note: &NewNote) -> Result<Note> {
        let customer = note.customer_id.trim();
        if customer.is_empty() {
            return Err(ProviderError::Refused(
                "a note needs the customer it belongs to".into(),
            ));
        }
        let body = wire_new_note(note)?;
        let req = self
            .request(Method::POST, &["customers", customer, "notes"])?
            .json(&body)?;
        self.write_note(req).await
    }

    async fn update_note(&self, id: &str, patch: &NotePatch) -> Result<Note> {
        if patch.created_at.is_some() {
            return Err(ProviderError::Unsupported(
                "Peoplevine does not let us change when a note was written".into(),
            ));
        }
        if patch.author_email.is_some() {
            return Err(ProviderError::Unsupported(
                "Peoplevine does not let us change a note's author".into(),
            ));
        }
        let patch = PeoplevinePatch {
            text: patch.text.clone(),
            call_duration_s: patch.call_duration_s,
            ..PeoplevinePatch::default()
        };
        self.update(id, &patch).await
    }

    /// `POST /api/customers/notes/{id}/messages` → the message. Not retried blindly, like a
    /// create; a success without a readable message stands for what we sent.
    async fn add_message(&self, note_id: &str, text: &str) -> Result<NoteMessage> {
        if text.trim().is_empty() {
            return Err(ProviderError::Refused("the message is empty".into()));
        }
        let req = self
            .request(Method::POST, &["customers", "notes", note_id, "messages"])?
            .json(&json!({"message": details_for_wire(text)}))?;
        let resp = self.send(req).await?;
        let sent = || NoteMessage {
            author: None,
            text: note_text(&details_for_wire(text)),
            created_at: None,
        };
        Ok(one_object(&resp)
            .and_then(|wire| message_from_wire(&wire))
            .unwrap_or_else(sent))
    }

    /// A note's text reads back as `details` rendered, without a call's duration line.
    fn rendered_text(&self, typed: &str) -> String {
        note_text(&details_for_wire(typed))
    }
}

// ---------------------------------------------------------------------------------------------
// Pagination.

/// The page a token asks for. The token is the page number, plus (after `:`) the id that
/// opened the page before it: a server that ignores `page_number` sends that page again,
/// and the repeat ends the listing instead of looping over it forever.
#[derive(Debug, Clone, PartialEq, Eq)]
struct PageToken {
    number: u32,
    previous_first: Option<String>,
}

impl PageToken {
    fn parse(page: Option<&str>) -> Result<PageToken> {
        let Some(raw) = page.map(str::trim).filter(|p| !p.is_empty()) else {
            return Ok(PageToken {
                number: 1,
                previous_first: None,
            });
        };
        let (number, first) = match raw.split_once(':') {
            Some((n, first)) => (n, Some(first.to_string()).filter(|f| !f.is_empty())),
            None => (raw, None),
        };
        match number.parse::<u32>() {
            Ok(number) if number >= 1 => Ok(PageToken {
                number,
                previous_first: first,
            }),
            _ => Err(ProviderError::Refused(format!(
                "invalid Peoplevine page token {:?}",
                sanitize_line(raw)
            ))),
        }
    }
}

impl fmt::Display for PageToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.previous_first {
            Some(first) => write!(f, "{}:{first}", self.number),
            None => write!(f, "{}", self.number),
        }
    }
}

fn page_size(requested: Option<u32>) -> u32 {
    requested.unwrap_or(MAX_PAGE_SIZE).clamp(1, MAX_PAGE_SIZE)
}

/// The `pagination` response header: JSON with `page_number`, `page_size`, `total_pages`,
/// `total_count`, `has_previous_page`, `has_next_page`.
#[derive(Debug, Clone, PartialEq, Default)]
struct Pagination {
    page_number: Option<u64>,
    total_pages: Option<u64>,
    has_next_page: Option<bool>,
}

impl Pagination {
    /// `None` when the header is not a JSON object; odd fields count as absent.
    fn parse(header: &str) -> Option<Pagination> {
        let value: Value = serde_json::from_str(header.trim()).ok()?;
        let map = value.as_object()?;
        let pagination = Pagination {
            page_number: map.get("page_number").and_then(uint),
            total_pages: map.get("total_pages").and_then(uint),
            has_next_page: map.get("has_next_page").and_then(boolish),
        };
        (pagination != Pagination::default()).then_some(pagination)
    }
}

/// What follows the page just read. The header decides when it says; without it, a full
/// page means there may be more and a short one is the last. An empty page always ends the
/// listing, and so does a page that repeats the one before.
fn next_page(
    token: &PageToken,
    size: u32,
    items: &[Value],
    pagination: Option<&Pagination>,
) -> Option<PageToken> {
    let first_id = items.first().and_then(|v| text(v.get("id")));
    if items.is_empty() {
        return None;
    }
    if token.previous_first.is_some() && token.previous_first == first_id {
        tracing::warn!(
            provider = PROVIDER,
            page = token.number,
            "the server sent the previous page again; stopping"
        );
        return None;
    }
    let more = match pagination {
        Some(p) => match (p.has_next_page, p.total_pages) {
            (Some(more), _) => more,
            (None, Some(total)) => u64::from(token.number) < total,
            (None, None) => items.len() >= size as usize,
        },
        None => items.len() >= size as usize,
    };
    // A server that ignored `page_size` sent everything it had.
    if !more || items.len() > size as usize {
        return None;
    }
    let current = pagination
        .and_then(|p| p.page_number)
        .and_then(|n| u32::try_from(n).ok())
        .filter(|&n| n >= token.number)
        .unwrap_or(token.number);
    Some(PageToken {
        number: current.checked_add(1)?,
        previous_first: first_id,
    })
}

/// The entries of a list reply: a bare JSON array; 204 or an empty body is an empty page.
/// Entries that are not objects are dropped here (they cannot be customers or notes).
fn list_items(resp: &ApiResponse) -> Result<Vec<Value>> {
    if resp.status == StatusCode::NO_CONTENT || resp.body.trim_ascii().is_empty() {
        return Ok(Vec::new());
    }
    let value: Value = resp.json()?;
    let list = match value {
        Value::Array(items) => items,
        // Not documented, but a wrapped list is still a list.
        Value::Object(mut map) => {
            match ["data", "items", "results"]
                .into_iter()
                .find_map(|k| match map.remove(k) {
                    Some(Value::Array(items)) => Some(items),
                    _ => None,
                }) {
                Some(items) => items,
                None => return Err(malformed("expected a list, got an object".into())),
            }
        }
        Value::Null => Vec::new(),
        _ => return Err(malformed("expected a list".into())),
    };
    Ok(list.into_iter().filter(Value::is_object).collect())
}

/// The object of a single-item reply; a list (as the docs show for create) gives its first.
fn one_object(resp: &ApiResponse) -> Option<Value> {
    if resp.body.trim_ascii().is_empty() {
        return None;
    }
    match resp.json::<Value>().ok()? {
        obj @ Value::Object(_) => Some(obj),
        Value::Array(items) => items.into_iter().find(Value::is_object),
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------------
// Writing.

/// The body of `POST /api/customers/{id}/notes`.
#[derive(Serialize, Debug, PartialEq)]
struct WireNewNote {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    subject: Option<String>,
    details: String,
}

/// The body of `PATCH /api/customers/notes/{id}`: absent fields are left as they are. The
/// reference types `priority` as a string, so it goes as `"true"`/`"false"`.
#[derive(Serialize, Debug, Default, PartialEq)]
struct WirePatch {
    #[serde(skip_serializing_if = "Option::is_none")]
    subject: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    details: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    priority: Option<String>,
}

impl WirePatch {
    fn is_empty(&self) -> bool {
        self == &WirePatch::default()
    }
}

fn wire_new_note(note: &NewNote) -> Result<WireNewNote> {
    let kind = match note.kind {
        NoteKind::Note => "note",
        NoteKind::Call => "call",
        NoteKind::Other(ref other) => {
            return Err(ProviderError::Unsupported(format!(
                "we write Peoplevine notes and calls, not {:?}",
                sanitize_line(other)
            )));
        }
    };
    let duration = match note.kind {
        NoteKind::Call => note.call_duration_s.filter(|&d| d > 0),
        _ => None,
    };
    Ok(WireNewNote {
        kind,
        subject: subject_for(&note.text, duration),
        details: call_details(duration, &details_for_wire(&note.text)),
    })
}

/// `details` and `subject` for a PATCH of `current` (the note in wire format).
fn patched_details(current: &Value, patch: &PeoplevinePatch) -> Result<(String, Option<String>)> {
    let is_call =
        NoteKind::parse(text(current.get("type")).as_deref().unwrap_or_default()) == NoteKind::Call;
    let raw = text(current.get("details")).unwrap_or_default();
    let (old_duration, old_body) = if is_call {
        split_call_details(&raw)
    } else {
        (None, Some(raw.as_str()))
    };
    // A duration only means something on a call; on a note it is ignored, as it is on create.
    let duration = if is_call {
        patch.call_duration_s.filter(|&d| d > 0).or(old_duration)
    } else {
        None
    };
    let (body, subject) = match &patch.text {
        Some(typed) => (details_for_wire(typed), subject_for(typed, duration)),
        None => {
            let body = match old_body {
                Some(body) => body.to_string(),
                // The duration line was not in our own form: keep the text as it reads.
                None => details_for_wire(&split_rendered_call(&note_text(&raw)).1),
            };
            (body, None)
        }
    };
    Ok((call_details(duration, &body), subject))
}

/// `Call duration: 15m` on its own line, then the (already encoded) text.
fn call_details(duration: Option<u32>, body: &str) -> String {
    match duration {
        Some(d) if body.trim().is_empty() => {
            format!("{CALL_DURATION_PREFIX} {}", format_duration_input(d))
        }
        Some(d) => format!(
            "{CALL_DURATION_PREFIX} {}<br>{body}",
            format_duration_input(d)
        ),
        None => body.to_string(),
    }
}

/// The agent's plain text as `details`, which Peoplevine holds as HTML: `&`, `<` and `>`
/// escaped and line breaks as `<br>`, so it shows as typed in Peoplevine's web app and reads
/// back through the HTML renderer as typed (runs of spaces aside, which HTML collapses).
pub fn details_for_wire(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\r' => {
                if chars.peek() != Some(&'\n') {
                    out.push_str("<br>");
                }
            }
            '\n' => out.push_str("<br>"),
            _ => out.push(c),
        }
    }
    out
}

/// The first non-blank line of the text, cut to [`MAX_SUBJECT_CHARS`]; a call without text
/// is titled by its duration.
fn subject_for(typed: &str, duration: Option<u32>) -> Option<String> {
    let line = typed
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .map(sanitize_line);
    match line {
        Some(line) if line.chars().count() > MAX_SUBJECT_CHARS => {
            let mut cut: String = line.chars().take(MAX_SUBJECT_CHARS - 1).collect();
            cut.truncate(cut.trim_end().len());
            cut.push('…');
            Some(cut)
        }
        Some(line) => Some(line),
        None => duration.map(|d| format!("Call ({})", format_duration(d))),
    }
}

// ---------------------------------------------------------------------------------------------
// Reading calls back.

/// Splits `details` as this client writes a call: `Call duration: 15m<br>…`. Returns the
/// duration and the rest; `(None, None)` when the details do not start that way.
fn split_call_details(details: &str) -> (Option<u32>, Option<&str>) {
    let trimmed = details.trim_start();
    let Some(after) = strip_prefix_ignore_case(trimmed, CALL_DURATION_PREFIX) else {
        return (None, None);
    };
    let lower = after.to_ascii_lowercase();
    let breaks = ["<br>", "<br/>", "<br />", "\r\n", "\n"];
    let (end, rest) = breaks
        .iter()
        .filter_map(|b| lower.find(b).map(|i| (i, i + b.len())))
        .min()
        .unwrap_or((after.len(), after.len()));
    let value = after.get(..end).unwrap_or_default();
    // A duration is short; anything long here is text that happens to start this way.
    if value.len() > 40 || value.contains('<') {
        return (None, None);
    }
    match parse_duration(value) {
        Ok(d) => (Some(d), Some(after.get(rest..).unwrap_or_default())),
        Err(_) => (None, None),
    }
}

/// The same on rendered text, for calls written elsewhere (`<p>Call duration: 15m</p>…`).
fn split_rendered_call(rendered: &str) -> (Option<u32>, String) {
    let (first, rest) = rendered.split_once('\n').unwrap_or((rendered, ""));
    let duration = strip_prefix_ignore_case(first.trim(), CALL_DURATION_PREFIX)
        .and_then(|v| parse_duration(v).ok());
    match duration {
        Some(d) => (Some(d), rest.trim_start_matches('\n').to_string()),
        None => (None, rendered.to_string()),
    }
}

fn strip_prefix_ignore_case<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| s.get(prefix.len()..))
        .flatten()
}

// ---------------------------------------------------------------------------------------------
// Mapping to the model. The wire objects are read as JSON values: every field is optional
// and may have any type, so one odd value costs that value (or that entry), never the page.

/// A scalar as text (ids come as numbers or strings); anything else is absent.
fn text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A one-line field, sanitised; empty means absent.
fn clean(v: Option<&Value>) -> Option<String> {
    text(v)
        .map(|s| sanitize_line(&s).trim().to_string())
        .filter(|s| !s.is_empty())
}

/// Booleans, also from `"true"`/`"false"` and 0/1.
fn boolish(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::Number(n) => n.as_f64().map(|f| f != 0.0),
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" => Some(true),
            "false" | "0" | "no" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

fn uint(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Any RFC 3339 time; a time without an offset is read as UTC.
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

/// A person's display name from a user or customer object: `full_name`, else first and last
/// name, else `username`.
fn person_name(map: &Map<String, Value>) -> Option<String> {
    clean(map.get("full_name"))
        .or_else(|| {
            let parts: Vec<String> = [map.get("first_name"), map.get("last_name")]
                .into_iter()
                .filter_map(clean)
                .collect();
            (!parts.is_empty()).then(|| parts.join(" "))
        })
        .or_else(|| clean(map.get("username")))
}

fn customer_from_wire(wire: &Value) -> std::result::Result<Customer, &'static str> {
    let map = wire.as_object().ok_or("a customer that is not an object")?;
    let id = clean(map.get("id")).ok_or("a customer without an id")?;
    let email = clean(map.get("email"));
    let company = clean(map.get("company_name"));
    let name = person_name(map)
        .or_else(|| company.clone())
        .or_else(|| email.clone())
        .unwrap_or_else(|| id.clone());
    Ok(Customer {
        id,
        name,
        email,
        company,
        status: clean(map.get("status")),
        web_url: None,
    })
}

fn note_from_wire(wire: &Value, customer: Option<&str>) -> std::result::Result<Note, &'static str> {
    let map = wire.as_object().ok_or("a note that is not an object")?;
    let id = clean(map.get("id")).ok_or("a note without an id")?;
    let created_at = text(map.get("created_on"))
        .as_deref()
        .and_then(parse_time)
        .ok_or("a note without a usable created_on")?;
    let kind = NoteKind::parse(text(map.get("type")).as_deref().unwrap_or_default());
    let details = text(map.get("details")).unwrap_or_default();
    let (call_duration_s, text_out) = if kind == NoteKind::Call {
        match split_call_details(&details) {
            (Some(d), Some(rest)) => (Some(d), note_text(rest)),
            _ => split_rendered_call(&note_text(&details)),
        }
    } else {
        (None, note_text(&details))
    };
    let user = map.get("user").and_then(Value::as_object);
    Ok(Note {
        id,
        customer_id: clean(map.get("customer_id"))
            .or_else(|| customer.map(|c| sanitize_line(c).trim().to_string())),
        kind,
        author_name: user.and_then(person_name),
        author_email: user.and_then(|u| clean(u.get("email"))),
        text: text_out,
        call_duration_s,
        created_at,
        updated_at: None,
        subject: clean(map.get("subject")),
        web_url: None,
        extras: extras_from_wire(map),
    })
}

fn extras_from_wire(map: &Map<String, Value>) -> NoteExtras {
    let flag = |key: &str| map.get(key).and_then(boolish).unwrap_or(false);
    let mut messages: Vec<NoteMessage> = match map.get("messages") {
        Some(Value::Array(items)) => items.iter().filter_map(message_from_wire).collect(),
        _ => Vec::new(),
    };
    // Oldest first, as a thread reads; stable, so undated messages keep the server's order.
    messages.sort_by_key(|m| m.created_at.unwrap_or(Timestamp::MIN));
    NoteExtras {
        // The reference's examples send "" for enums: that is no status.
        status: clean(map.get("status")).map(|s| s.to_lowercase()),
        priority: flag("priority"),
        confidential: flag("confidential"),
        tags: names(map.get("tags"), &["name", "tag", "title", "label"]),
        reminder: clean(map.get("reminder")),
        assignees: names(map.get("assignees"), &[]),
        messages,
        ..NoteExtras::default()
    }
}

/// Names from a list of strings, of person objects, or of objects keyed by one of `keys`; a
/// comma-separated string works too.
fn names(v: Option<&Value>, keys: &[&str]) -> Vec<String> {
    let items: Vec<Value> = match v {
        Some(Value::Array(items)) => items.clone(),
        Some(Value::String(s)) => s.split(',').map(|t| Value::String(t.into())).collect(),
        _ => Vec::new(),
    };
    let mut out: Vec<String> = Vec::new();
    for item in &items {
        let name = match item {
            Value::Object(obj) => keys
                .iter()
                .find_map(|k| clean(obj.get(*k)))
                .or_else(|| person_name(obj))
                .or_else(|| clean(obj.get("email"))),
            other => clean(Some(other)),
        };
        if let Some(name) = name {
            if !out.contains(&name) {
                out.push(name);
            }
        }
    }
    out
}

/// One message of a thread: `message` (HTML like `details`), `posted_by`, `created_on`, and an
/// `attachment` we can only mention. `None` for a message with nothing to show.
fn message_from_wire(wire: &Value) -> Option<NoteMessage> {
    let map = wire.as_object()?;
    let mut body = note_text(&text(map.get("message")).unwrap_or_default());
    if let Some(attachment) = clean(map.get("attachment")) {
        if !body.is_empty() {
            body.push('\n');
        }
        // Attachments are base64 on the way in; only a short name or link is worth showing.
        if attachment.chars().count() <= 120 && !attachment.contains(' ') {
            body.push_str(&format!("[attachment: {attachment}]"));
        } else {
            body.push_str("[attachment]");
        }
    }
    if body.trim().is_empty() {
        return None;
    }
    let poster = map.get("posted_by").and_then(Value::as_object);
    Some(NoteMessage {
        author: poster.and_then(|p| person_name(p).or_else(|| clean(p.get("email")))),
        text: body,
        created_at: text(map.get("created_on")).as_deref().and_then(parse_time),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().expect("timestamp")
    }

    fn client() -> Peoplevine {
        Peoplevine::new(
            "http://127.0.0.1:1",
            "sara@example.com".into(),
            "pw-very-secret-1".into(),
            1234,
            Some("uk".into()),
            HttpOptions::default(),
        )
        .expect("client")
    }

    /// The "List Customer Notes" example response from the reference page, verbatim.
    const REFERENCE_NOTES: &str = r#"[
  {
    "reference_type": "",
    "type": "text",
    "details": "text",
    "created_on": "2024-10-06T20:35:16.983Z",
    "status": "",
    "reminder": "text",
    "confidential": false,
    "priority": false,
    "tags": [
      "text"
    ],
    "subject": "text",
    "customer": {
      "company_name": "text",
      "company_title": "text",
      "first_name": "text",
      "middle_name": "text",
      "last_name": "text",
      "full_name": "text",
      "locale": "text",
      "is_member": false,
      "was_member": false,
      "has_applied": false,
      "flag": "",
      "email": "name@gmail.com",
      "mobile": {
        "country_code": "text",
        "number": "text",
        "full": "text"
      },
      "phone": {
        "country_code": "text",
        "number": "text",
        "full": "text"
      },
      "profile_photo": "text",
      "vip": false,
      "home_house_id": "text",
      "birthdate": "text",
      "anniversary_date": "text",
      "created_on": "2024-10-06T20:35:16.983Z"
    },
    "user": {
      "status": "active",
      "first_name": "text",
      "last_name": "text",
      "full_name": "text",
      "email": "text",
      "username": "text",
      "profile_photo": "text",
      "employee_id": "text",
      "mobile_number": "text",
      "business_location_id": "text",
      "enable2_fa": "text",
      "modified_on": "text",
      "created_by": "text",
      "role": "text"
    },
    "assignees": [
      {
        "status": "active",
        "created_on": "2024-10-06T20:35:16.983Z",
        "first_name": "text",
        "last_name": "text",
        "full_name": "text",
        "email": "text",
        "username": "text",
        "profile_photo": "text",
        "employee_id": "text",
        "mobile_number": "text",
        "business_location_id": "text",
        "enable2_fa": "text",
        "modified_on": "text",
        "created_by": "text",
        "role": "text"
      }
    ],
    "messages": [
      {
        "message": "text",
        "attachment": "text",
        "posted_by": {
          "status": "active",
          "first_name": "text",
          "last_name": "text",
          "full_name": "text",
          "email": "text",
          "username": "text",
          "profile_photo": "text",
          "employee_id": "text",
          "mobile_number": "text",
          "business_location_id": "text",
          "enable2_fa": "text",
          "modified_on": "text",
          "created_by": "text",
          "role": "text"
        },
        "created_on": "2024-10-06T20:35:16.983Z"
      }
    ]
  }
]"#;

    /// The "List Note Messages" example response from the reference page, verbatim.
    const REFERENCE_MESSAGES: &str = r#"[
  {
    "message": "text",
    "attachment": "text",
    "posted_by": {
      "status": "active",
      "first_name": "text",
      "last_name": "text",
      "full_name": "text",
      "email": "text",
      "username": "text",
      "profile_photo": "text",
      "employee_id": "text",
      "mobile_number": "text",
      "business_location_id": "text",
      "enable2_fa": "text",
      "modified_on": "text",
      "created_by": "text",
      "role": "text"
    },
    "created_on": "2024-10-06T22:51:38.815Z"
  }
]"#;

    fn reference_note() -> Value {
        let list: Value = serde_json::from_str(REFERENCE_NOTES).expect("reference JSON");
        list[0].clone()
    }

    #[test]
    fn the_reference_example_maps_every_field() {
        // The example leaves out `id` and `customer_id` (both in the schema): such an entry
        // cannot be opened or edited, so it is skipped, not shown with a made-up id.
        let example = reference_note();
        assert_eq!(
            note_from_wire(&example, Some("42")),
            Err("a note without an id")
        );

        let mut wire = example;
        wire["id"] = json!(9001);
        let note = note_from_wire(&wire, Some("42")).expect("note");
        assert_eq!(note.id, "9001");
        assert_eq!(note.customer_id.as_deref(), Some("42"), "from the request");
        assert_eq!(note.kind, NoteKind::Other("text".into()));
        assert_eq!(note.author_name.as_deref(), Some("text"));
        assert_eq!(note.author_email.as_deref(), Some("text"));
        assert_eq!(note.subject.as_deref(), Some("text"));
        assert_eq!(note.text, "text");
        assert_eq!(note.call_duration_s, None);
        assert_eq!(note.created_at, ts("2024-10-06T20:35:16.983Z"));
        assert_eq!(note.updated_at, None);
        let extras = &note.extras;
        assert_eq!(extras.status, None, "an empty enum is no status");
        assert!(!extras.priority && !extras.confidential);
        assert_eq!(extras.tags, ["text"]);
        assert_eq!(extras.reminder.as_deref(), Some("text"));
        assert_eq!(extras.assignees, ["text"]);
        assert_eq!(
            extras.messages,
            [NoteMessage {
                author: Some("text".into()),
                text: "text\n[attachment: text]".into(),
                created_at: Some(ts("2024-10-06T20:35:16.983Z")),
            }]
        );

        wire["customer_id"] = json!(77);
        let note = note_from_wire(&wire, Some("42")).expect("note");
        assert_eq!(
            note.customer_id.as_deref(),
            Some("77"),
            "the note's own wins"
        );
    }

    #[test]
    fn the_reference_message_example_maps() {
        let list: Value = serde_json::from_str(REFERENCE_MESSAGES).expect("reference JSON");
        let message = message_from_wire(&list[0]).expect("message");
        assert_eq!(message.author.as_deref(), Some("text"));
        assert_eq!(message.created_at, Some(ts("2024-10-06T22:51:38.815Z")));
        assert!(message.text.starts_with("text\n"), "{:?}", message.text);
    }

    #[test]
    fn a_realistic_note_with_html_thread_and_lenient_fields() {
        let wire = json!({
            "id": "31", "customer_id": 5, "type": null,
            "subject": "Gala \u{1b}[31mdietary\u{1b}[0m needs",
            "details": "<p>Guest is <b>coeliac</b>.</p><ul><li>No gluten</li><li>No nuts</li></ul>",
            "created_on": "2026-03-01T18:30:00+01:00",
            "status": "Closed", "priority": "true", "confidential": 1,
            "tags": ["events", {"name": "dietary"}, "events", 7, null],
            "reminder": "2026-03-05T09:00:00",
            "user": {"first_name": "Maya", "last_name": "Patel", "email": "maya@club.example"},
            "assignees": [{"full_name": "Tom Becker"}, {"email": "ops@club.example"}, "Ana"],
            "messages": [
                {"message": "Chef confirmed.", "posted_by": {"full_name": "Tom Becker"},
                 "created_on": "2026-03-02T10:00:00Z"},
                {"message": "Asked the chef", "posted_by": {"username": "maya"},
                 "created_on": "2026-03-01T19:00:00Z"},
                {"message": "", "attachment": null},
                "not a message"
            ]
        });
        let note = note_from_wire(&wire, None).expect("note");
        assert_eq!(note.kind, NoteKind::Note, "null type is a note");
        assert_eq!(note.customer_id.as_deref(), Some("5"));
        assert_eq!(note.author_name.as_deref(), Some("Maya Patel"));
        assert_eq!(note.author_email.as_deref(), Some("maya@club.example"));
        assert_eq!(note.subject.as_deref(), Some("Gala dietary needs"));
        assert_eq!(note.text, "Guest is coeliac.\n* No gluten\n* No nuts");
        assert_eq!(note.created_at, ts("2026-03-01T17:30:00Z"));
        let extras = &note.extras;
        assert_eq!(extras.status.as_deref(), Some("closed"));
        assert!(extras.priority && extras.confidential);
        assert_eq!(extras.tags, ["events", "dietary", "7"]);
        assert_eq!(extras.reminder.as_deref(), Some("2026-03-05T09:00:00"));
        assert_eq!(extras.assignees, ["Tom Becker", "ops@club.example", "Ana"]);
        let thread: Vec<(&str, &str)> = extras
            .messages
            .iter()
            .map(|m| (m.author.as_deref().unwrap_or("-"), m.text.as_str()))
            .collect();
        assert_eq!(
            thread,
            [
                ("maya", "Asked the chef"),
                ("Tom Becker", "Chef confirmed.")
            ],
            "oldest first, empty and non-object messages dropped"
        );
    }

    #[test]
    fn notes_without_id_or_time_are_refused_and_odd_values_tolerated() {
        let t = r#""created_on":"2024-01-01T00:00:00Z""#;
        for bad in [
            format!(r#"{{{t}}}"#),
            r#"{"id":1}"#.to_string(),
            r#"{"id":1,"created_on":"yesterday"}"#.to_string(),
            r#"{"id":null,"created_on":"2024-01-01T00:00:00Z"}"#.to_string(),
            "[1]".to_string(),
        ] {
            let wire: Value = serde_json::from_str(&bad).expect("json");
            assert!(note_from_wire(&wire, None).is_err(), "{bad}");
        }
        let wire: Value = serde_json::from_str(&format!(
            r#"{{"id":1,{t},"details":null,"user":"x","tags":{{"a":1}},"assignees":3,
                "messages":{{}},"priority":"maybe","status":7,"subject":""}}"#
        ))
        .expect("json");
        let note = note_from_wire(&wire, None).expect("note");
        assert_eq!(note.text, "");
        assert_eq!((note.author_name, note.author_email), (None, None));
        assert_eq!(note.subject, None);
        assert!(note.extras.tags.is_empty() && note.extras.assignees.is_empty());
        assert!(note.extras.messages.is_empty() && !note.extras.priority);
        assert_eq!(note.extras.status.as_deref(), Some("7"));
    }

    #[test]
    fn customers_map_with_name_fallbacks() {
        let wire = json!({
            "id": 101, "full_name": "Eleanor Vance", "first_name": "Eleanor",
            "last_name": "Vance", "company_name": "Vance & Co", "email": "eleanor@vance.example",
            "mobile": {"country_code": "+44", "number": "7700900123", "full": "+447700900123"},
            "category": "Member", "status": "active", "type": "member", "is_member": true,
            "vip": true, "flag": "", "created_on": "2021-04-01T10:00:00Z"
        });
        assert_eq!(
            customer_from_wire(&wire).expect("customer"),
            Customer {
                id: "101".into(),
                name: "Eleanor Vance".into(),
                email: Some("eleanor@vance.example".into()),
                company: Some("Vance & Co".into()),
                status: Some("active".into()),
                web_url: None,
            }
        );
        let cases = [
            (
                json!({"id": 1, "first_name": "Ada", "last_name": "Byron"}),
                "Ada Byron",
            ),
            (
                json!({"id": 2, "full_name": " ", "last_name": "Byron"}),
                "Byron",
            ),
            (json!({"id": 3, "company_name": "Initech"}), "Initech"),
            (json!({"id": 4, "email": "x@y.example"}), "x@y.example"),
            (json!({"id": "5"}), "5"),
            (
                json!({"id": 6, "full_name": "Eve\u{1b}]0;pwned\u{7}\u{202e} Moneypenny"}),
                "Eve Moneypenny",
            ),
        ];
        for (wire, name) in cases {
            assert_eq!(customer_from_wire(&wire).expect("customer").name, name);
        }
        assert!(customer_from_wire(&json!({"full_name": "No Id"})).is_err());
    }

    #[test]
    fn timestamp_table() {
        let cases = [
            ("2024-10-06T20:35:16.983Z", "2024-10-06T20:35:16.983Z"),
            ("2024-10-06T20:35:16.9830000Z", "2024-10-06T20:35:16.983Z"),
            ("2024-10-06T16:35:16-04:00", "2024-10-06T20:35:16Z"),
            ("2024-10-06T20:35:16", "2024-10-06T20:35:16Z"),
            ("2024-10-06T20:35:16.5", "2024-10-06T20:35:16.5Z"),
        ];
        for (input, expected) in cases {
            assert_eq!(parse_time(input), Some(ts(expected)), "{input}");
        }
        for bad in ["", "text", "2024-13-01T00:00:00Z"] {
            assert_eq!(parse_time(bad), None, "{bad}");
        }
    }

    #[test]
    fn text_reads_back_as_typed() {
        let cases = [
            "Renewal discussed, sending the form Monday.",
            "line one\nline two\n\nnew paragraph",
            "the <Founders> lounge & the <b>terrace</b>",
            "&copy; and &#169; are not symbols here",
            "a < b > c & d",
            "emoji 🎉 ünïcode 李娜 <tag>",
            "<!-- not a comment -->",
            "Call duration: 15m is what they said",
        ];
        let pv = client();
        for typed in cases {
            assert_eq!(note_text(&details_for_wire(typed)), typed, "{typed:?}");
            assert_eq!(pv.rendered_text(typed), typed, "{typed:?}");
        }
        assert_eq!(
            details_for_wire("a & b\r\n<i>c</i>\rd"),
            "a &amp; b<br>&lt;i&gt;c&lt;/i&gt;<br>d"
        );
    }

    fn call_wire(details: &str) -> Value {
        json!({"id": 1, "type": "call", "created_on": "2024-01-01T00:00:00Z", "details": details})
    }

    #[test]
    fn call_durations_are_read_from_the_first_line() {
        let cases: &[(&str, Option<u32>, &str)] = &[
            (
                "Call duration: 15m<br>Talked about the gala",
                Some(900),
                "Talked about the gala",
            ),
            ("Call duration: 1h05m<br>a<br>b", Some(3900), "a\nb"),
            ("call DURATION: 45s<BR/>x", Some(45), "x"),
            ("Call duration: 2m", Some(120), ""),
            ("Call duration: 10m\nplain text", Some(600), "plain text"),
            (
                "<p>Call duration: 20m</p><p>Written in the web app</p>",
                Some(1200),
                "Written in the web app",
            ),
            ("Call duration: soon<br>x", None, "Call duration: soon\nx"),
            ("Call duration: 0s<br>x", None, "Call duration: 0s\nx"),
            ("Left a voicemail", None, "Left a voicemail"),
            ("", None, ""),
        ];
        for (details, duration, text_out) in cases {
            let note = note_from_wire(&call_wire(details), None).expect("note");
            assert_eq!(note.kind, NoteKind::Call);
            assert_eq!(note.call_duration_s, *duration, "{details:?}");
            assert_eq!(note.text, *text_out, "{details:?}");
        }
        let mut plain = call_wire("Call duration: 15m<br>x");
        plain["type"] = json!("note");
        let note = note_from_wire(&plain, None).expect("note");
        assert_eq!(note.call_duration_s, None, "only calls have a duration");
        assert_eq!(note.text, "Call duration: 15m\nx");
    }

    #[test]
    fn create_bodies_round_trip_calls_and_notes() {
        let call = NewNote {
            customer_id: "7".into(),
            kind: NoteKind::Call,
            author_email: None,
            text: "Booked the <private> dining room & wine\nfor 12 guests".into(),
            call_duration_s: Some(900),
            created_at: ts("2026-01-01T00:00:00Z"),
        };
        let body = wire_new_note(&call).expect("call");
        assert_eq!(
            serde_json::to_value(&body).expect("json"),
            json!({
                "type": "call",
                "subject": "Booked the <private> dining room & wine",
                "details": "Call duration: 15m<br>Booked the &lt;private&gt; dining room &amp; wine<br>for 12 guests",
            })
        );
        // What the server stores reads back as what was typed, with the duration.
        let read = note_from_wire(&call_wire(&body.details), None).expect("note");
        assert_eq!(read.call_duration_s, Some(900));
        assert_eq!(read.text, call.text);
        assert_eq!(read.text, client().rendered_text(&call.text));

        for seconds in [45, 60, 90, 3600, 3605, 5400, 86_400] {
            let call = NewNote {
                text: "x".into(),
                call_duration_s: Some(seconds),
                ..call.clone()
            };
            let details = wire_new_note(&call).expect("call").details;
            let read = note_from_wire(&call_wire(&details), None).expect("note");
            assert_eq!(read.call_duration_s, Some(seconds), "{details}");
        }

        let silent = NewNote {
            text: "   ".into(),
            ..call.clone()
        };
        let body = wire_new_note(&silent).expect("call");
        assert_eq!(body.subject.as_deref(), Some("Call (15m)"));
        assert_eq!(body.details, "Call duration: 15m");

        let note = NewNote {
            kind: NoteKind::Note,
            call_duration_s: Some(900),
            text: "\n\n  Locker 14 reassigned  \nsecond".into(),
            ..call.clone()
        };
        let body = wire_new_note(&note).expect("note");
        assert_eq!(body.kind, "note");
        assert_eq!(body.subject.as_deref(), Some("Locker 14 reassigned"));
        assert!(!body.details.contains("Call duration"), "{}", body.details);

        let other = NewNote {
            kind: NoteKind::Other("email".into()),
            ..call
        };
        assert!(matches!(
            wire_new_note(&other),
            Err(ProviderError::Unsupported(_))
        ));
    }

    #[test]
    fn subjects_are_one_line_of_at_most_80_chars() {
        let long = "word ".repeat(40);
        let subject = subject_for(&long, None).expect("subject");
        assert_eq!(subject.chars().count(), MAX_SUBJECT_CHARS, "{subject}");
        assert!(subject.ends_with("word…"), "{subject}");
        let exact = "é".repeat(80);
        assert_eq!(subject_for(&exact, None), Some(exact.clone()));
        assert_eq!(subject_for("", None), None);
        assert_eq!(subject_for("", Some(90)).as_deref(), Some("Call (2m)"));
    }

    #[test]
    fn patching_a_call_keeps_or_replaces_its_duration_line() {
        let current = call_wire("Call duration: 15m<br><b>Kept</b> as written");
        let text_only = PeoplevinePatch {
            text: Some("New text".into()),
            ..PeoplevinePatch::default()
        };
        assert_eq!(
            patched_details(&current, &text_only).expect("patch"),
            (
                "Call duration: 15m<br>New text".to_string(),
                Some("New text".to_string())
            )
        );
        let duration_only = PeoplevinePatch {
            call_duration_s: Some(1800),
            ..PeoplevinePatch::default()
        };
        assert_eq!(
            patched_details(&current, &duration_only).expect("patch"),
            (
                "Call duration: 30m<br><b>Kept</b> as written".to_string(),
                None
            ),
            "the rest of the details is kept byte for byte"
        );
        let foreign = call_wire("<p>Call duration: 20m</p><p>From the web app</p>");
        assert_eq!(
            patched_details(&foreign, &duration_only).expect("patch").0,
            "Call duration: 30m<br>From the web app"
        );
        let mut note = call_wire("Just a note");
        note["type"] = json!("note");
        assert_eq!(
            patched_details(&note, &duration_only).expect("patch").0,
            "Just a note",
            "a duration means nothing on a plain note"
        );
    }

    fn items(ids: &[u32]) -> Vec<Value> {
        ids.iter().map(|id| json!({"id": id})).collect()
    }

    fn first_page() -> PageToken {
        PageToken::parse(None).expect("first")
    }

    #[test]
    fn the_pagination_header_drives_the_next_page() {
        let header = |s: &str| Pagination::parse(s);
        let p = header(
            r#"{"page_number":1,"page_size":2,"total_pages":3,"total_count":5,
                "has_previous_page":false,"has_next_page":true}"#,
        );
        let next = next_page(&first_page(), 2, &items(&[1, 2]), p.as_ref()).expect("more");
        assert_eq!(next.to_string(), "2:1");
        let last = header(r#"{"page_number":3,"page_size":2,"has_next_page":false}"#);
        let third = PageToken::parse(Some("3:3")).expect("token");
        assert_eq!(next_page(&third, 2, &items(&[5]), last.as_ref()), None);
        // The header says more, but a short page is still followed: the header decides.
        let short = header(r#"{"page_number":1,"has_next_page":true}"#);
        assert!(next_page(&first_page(), 50, &items(&[1]), short.as_ref()).is_some());
        // Without has_next_page, total_pages is used.
        let totals = header(r#"{"page_number":"2","total_pages":"2"}"#);
        let second = PageToken::parse(Some("2")).expect("token");
        assert_eq!(
            next_page(&second, 2, &items(&[3, 4]), totals.as_ref()),
            None
        );
    }

    #[test]
    fn without_a_usable_header_a_full_page_means_maybe_more() {
        for garbled in ["", "nope", "[1,2]", "{}", r#"{"has_next_page":"perhaps"}"#] {
            assert_eq!(Pagination::parse(garbled), None, "{garbled}");
        }
        let full = next_page(&first_page(), 2, &items(&[1, 2]), None).expect("full page");
        assert_eq!(full.number, 2);
        assert_eq!(next_page(&first_page(), 2, &items(&[1]), None), None);
        assert_eq!(next_page(&first_page(), 2, &[], None), None);
        // More than asked for: the server ignored page_size, so this is everything.
        assert_eq!(next_page(&first_page(), 2, &items(&[1, 2, 3]), None), None);
    }

    #[test]
    fn pagination_never_loops() {
        let liar = Pagination::parse(r#"{"has_next_page":true}"#);
        assert_eq!(next_page(&first_page(), 2, &[], liar.as_ref()), None);
        // Page 2 opens with the id that opened page 1: the server ignores page_number.
        let second = PageToken::parse(Some("2:1")).expect("token");
        assert_eq!(next_page(&second, 2, &items(&[1, 2]), liar.as_ref()), None);
        assert_eq!(
            next_page(&second, 2, &items(&[3, 4]), None).map(|t| t.number),
            Some(3)
        );
        let max = PageToken::parse(Some(&u32::MAX.to_string())).expect("token");
        assert_eq!(next_page(&max, 2, &items(&[1, 2]), liar.as_ref()), None);
    }

    #[test]
    fn page_tokens_and_sizes() {
        assert_eq!(first_page().number, 1);
        assert_eq!(PageToken::parse(Some(" ")).expect("blank").number, 1);
        assert_eq!(PageToken::parse(Some("7")).expect("7").number, 7);
        for bad in ["0", "-1", "x", "1.5", ":3"] {
            assert!(
                matches!(PageToken::parse(Some(bad)), Err(ProviderError::Refused(_))),
                "{bad}"
            );
        }
        assert_eq!(page_size(None), 50);
        assert_eq!(page_size(Some(0)), 1);
        assert_eq!(page_size(Some(20)), 20);
        assert_eq!(page_size(Some(500)), 50);
    }

    #[test]
    fn token_replies_are_read_leniently() {
        let tokens =
            tokens_from_reply(br#"{"access_token":"a1","refresh_token":"r1","expires_in":1800}"#)
                .expect("tokens");
        assert_eq!(
            (tokens.access.as_str(), tokens.refresh.as_deref()),
            ("a1", Some("r1"))
        );
        let nested = tokens_from_reply(br#"{"data":{"access_token":"a2"}}"#).expect("nested");
        assert_eq!((nested.access.as_str(), nested.refresh), ("a2", None));
        for bad in [&b"{}"[..], b"", b"<html>", br#"{"access_token":""}"#] {
            assert!(
                matches!(tokens_from_reply(bad), Err(ProviderError::Malformed { .. })),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
        assert_eq!(format!("{tokens:?}"), "Tokens(<redacted>)");
    }

    #[test]
    fn redaction_removes_every_secret_from_every_message() {
        let secret = "pw-very-secret-1";
        let errors = [
            ProviderError::Auth {
                provider: PROVIDER,
                status: 401,
                message: format!("bad password {secret}"),
            },
            ProviderError::Status {
                provider: PROVIDER,
                status: 500,
                message: format!("{secret}!"),
            },
            ProviderError::Malformed {
                provider: PROVIDER,
                message: secret.into(),
            },
        ];
        for error in errors {
            let shown = crate::providers::http::redact(error, &[secret, "ab"]).to_string();
            assert!(
                !shown.contains(secret) && shown.contains("<redacted>"),
                "{shown}"
            );
        }
    }

    #[test]
    fn construction_checks_its_inputs_and_hides_the_password() {
        let pv = client();
        let debug = format!("{pv:?}");
        assert!(!debug.contains("pw-very-secret-1"), "{debug}");
        assert!(
            debug.contains("sara@example.com") && debug.contains("1234"),
            "{debug}"
        );
        let make = |base: &str, user: &str, pw: &str, company: i64, region: Option<&str>| {
            Peoplevine::new(
                base,
                user.into(),
                pw.into(),
                company,
                region.map(str::to_string),
                HttpOptions::default(),
            )
        };
        assert!(make(DEFAULT_BASE_URL, "u", "p", 1, None).is_ok());
        for bad in [
            make("http://api.peoplevine.com", "u", "p", 1, None),
            make(DEFAULT_BASE_URL, " ", "p", 1, None),
            make(DEFAULT_BASE_URL, "u", "", 1, None),
            make(DEFAULT_BASE_URL, "u", "p", 0, None),
            make(DEFAULT_BASE_URL, "u", "p", 1, Some("u k")),
        ] {
            assert!(matches!(bad, Err(ProviderError::Refused(_))), "{bad:?}");
        }
        let blank_region = make(DEFAULT_BASE_URL, "u", "p", 1, Some("  ")).expect("blank");
        assert_eq!(blank_region.region, None);
        let caps = pv.capabilities();
        assert!(caps.create_notes && caps.log_calls && caps.edit && caps.messages);
        assert!(!caps.delete && !caps.contacts && !caps.email_search && !caps.web_link);
        assert!(!caps.server_author_filter && !caps.server_type_filter);
        assert_eq!(pv.kind(), ProviderKind::Peoplevine);
    }
}
