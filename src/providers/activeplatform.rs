//! ActivePlatform client: a reseller's accounts (the customers) and the notes on them, on their
//! subscriptions and on their orders, over the JSON:API under `/api/v3/resellers/{id}/`; creating
//! and deleting notes (the API has no update). The API has no call logs: a call is written as a
//! note whose content starts `Call (15m): ` and is read back as a call with that duration.
//!
//! Every request carries `X-Api-Token` (the manager token, never logged: `Auth` redacts it) and
//! `Accept`/`Content-Type` `application/vnd.api+json`, GETs included, as the reference requires.
//! Pages are walked with the `links` the server sends, which are followed only while they stay on
//! the configured origin and on the list that was asked for.

use async_trait::async_trait;
use jiff::Timestamp;
use reqwest::header::HeaderValue;
use reqwest::{Method, Url};
use serde_json::{Map, Value, json};

use super::chartmogul::text_for_wire;
use super::http::{ApiRequest, Auth, HttpClient, HttpOptions, check_base_url, endpoint};
use super::{Provider, ProviderError, Result};
use crate::duration::{format_duration_input, parse_duration};
use crate::model::{
    Attachment, Capabilities, Contact, Customer, CustomerQuery, NewNote, Note, NoteExtras,
    NoteKind, NoteQuery, Page, ProviderKind,
};
use crate::text::{note_text, sanitize_line};

/// The JSON:API media type, required in `Accept` and `Content-Type` on every request.
pub const MEDIA_TYPE: &str = "application/vnd.api+json";
/// The longest note `content` the API accepts, in characters.
pub const MAX_CONTENT_CHARS: usize = 5000;
/// The API's default page size; also our largest, since no maximum is documented.
pub const PAGE_SIZE: u32 = 50;
const PROVIDER: &str = "ActivePlatform";
const TOKEN_HEADER: &str = "X-Api-Token";
/// Prefix of a page token that walks `prev` links instead of `next` (see [`ActivePlatform`]'s
/// `notes`). A space cannot occur in a URL, so the two kinds of token never mix.
const BACKWARD: &str = "prev ";
const ACCOUNT_FILTER: &str = "filter[account_id]";
const EMAIL_FILTER: &str = "filter[email]";

/// One ActivePlatform installation, seen through one reseller and one manager's token.
/// Debug output shows no token: `Auth` redacts it.
#[derive(Debug, Clone)]
pub struct ActivePlatform {
    http: HttpClient,
    /// The configured base URL: the API lives below it, and panel links (`original_link`) are
    /// relative to it.
    site: Url,
    reseller_id: String,
    auth: Auth,
}

impl ActivePlatform {
    /// `base_url` is the installation's panel (`https://panel.example.com`); plain http is
    /// accepted only for loopback. `token` is the manager's API token.
    pub fn new(
        base_url: &str,
        reseller_id: String,
        token: String,
        options: HttpOptions,
    ) -> Result<Self> {
        let site = check_base_url(base_url)?;
        let reseller_id = reseller_id.trim().to_string();
        if reseller_id.is_empty() {
            return Err(ProviderError::Refused(
                "ActivePlatform needs the reseller id (`reseller_id` in the config)".into(),
            ));
        }
        // Checked now, so a bad id or token fails when the account is opened rather than on
        // every request; the messages never echo the token.
        endpoint(&site, &["api", "v3", "resellers", &reseller_id])?;
        let token = token.trim().to_string();
        if token.is_empty() {
            return Err(ProviderError::Refused(
                "the ActivePlatform manager token is empty".into(),
            ));
        }
        if HeaderValue::from_str(&token).is_err() {
            return Err(ProviderError::Refused(
                "the ActivePlatform manager token holds characters a header cannot carry".into(),
            ));
        }
        Ok(ActivePlatform {
            http: HttpClient::new(PROVIDER, options)?,
            site,
            reseller_id,
            auth: Auth::Header {
                name: TOKEN_HEADER.into(),
                value: token,
            },
        })
    }

    /// `…/api/v3/resellers/{reseller_id}/<segments>`, each segment percent-encoded.
    fn url(&self, segments: &[&str]) -> Result<Url> {
        let mut path = vec!["api", "v3", "resellers", self.reseller_id.as_str()];
        path.extend_from_slice(segments);
        endpoint(&self.site, &path)
    }

    /// A request with the token and both media types. Its idempotency follows the method, so
    /// the HTTP client never repeats a POST that may have reached the server.
    fn request(&self, method: Method, url: Url) -> ApiRequest {
        ApiRequest::new(method, url)
            .auth(&self.auth)
            .header("Accept", MEDIA_TYPE)
            .header("Content-Type", MEDIA_TYPE)
    }

    /// Sends `req` and checks that the reply is a JSON:API document (an object).
    async fn document(&self, req: ApiRequest) -> Result<Value> {
        let doc: Value = self.http.send_json(req).await?;
        if doc.is_object() {
            Ok(doc)
        } else {
            Err(malformed("the reply is not a JSON:API document"))
        }
    }

    /// The URL a page token stands for: a `links` URL from an earlier page (absolute, or
    /// relative to the base URL). It must stay on our origin, so the token never travels to
    /// another host, and on `list`, so a token cannot turn one listing into another. A filter
    /// the link dropped is put back; a link for another filter value is refused.
    fn page_url(&self, token: &str, list: &Url, filter: Option<(&str, &str)>) -> Result<Url> {
        let mut url = Url::parse(token)
            .or_else(|_| self.site.join(token))
            .map_err(|_| ProviderError::Refused("invalid ActivePlatform page link".into()))?;
        // A panel behind a TLS-terminating proxy may write its own links with http://. The same
        // host over https is the same server, and the token still never travels in the clear.
        if url.scheme() == "http"
            && list.scheme() == "https"
            && url.port().is_none()
            && url.host() == list.host()
        {
            url.set_scheme("https").ok();
        }
        if url.origin() != list.origin() {
            return Err(ProviderError::Refused(format!(
                "refusing to follow an ActivePlatform page link to {}",
                sanitize_line(&url.origin().ascii_serialization())
            )));
        }
        if url.path().trim_end_matches('/') != list.path().trim_end_matches('/') {
            return Err(ProviderError::Refused(
                "refusing to follow an ActivePlatform page link outside the list it belongs to"
                    .into(),
            ));
        }
        url.set_fragment(None);
        if let Some((name, wanted)) = filter {
            let sent: Vec<String> = url
                .query_pairs()
                .filter(|(k, _)| k == name)
                .map(|(_, v)| v.into_owned())
                .collect();
            if sent.is_empty() {
                url.query_pairs_mut().append_pair(name, wanted);
            } else if sent.iter().any(|v| v != wanted) {
                return Err(ProviderError::Refused(
                    "the ActivePlatform page link belongs to another search".into(),
                ));
            }
        }
        Ok(url)
    }

    /// The first page of `list`: `page[number]=1`, the page size and the filter.
    fn first_page(&self, list: &Url, per_page: Option<u32>, filter: Option<(&str, &str)>) -> Url {
        let mut url = list.clone();
        {
            let mut q = url.query_pairs_mut();
            if let Some((name, value)) = filter {
                q.append_pair(name, value);
            }
            q.append_pair("page[number]", "1");
            q.append_pair("page[size]", &page_size(per_page));
        }
        url
    }

    /// One page of notes as the server orders it, and its links.
    async fn note_page(&self, url: Url, account: Option<&str>) -> Result<(Vec<Note>, Links)> {
        let doc = self.document(self.request(Method::GET, url)).await?;
        let links = Links::of(&doc);
        let notes = resources(&doc)?
            .iter()
            .filter_map(|r| match note_from_resource(r, &self.site, account) {
                Ok(note) => Some(note),
                Err(why) => {
                    tracing::warn!(provider = PROVIDER, reason = why, "skipping a note");
                    None
                }
            })
            .collect();
        Ok((notes, links))
    }
}

/// The page size to ask for: the caller's, within 1 ..= [`PAGE_SIZE`].
fn page_size(requested: Option<u32>) -> String {
    requested
        .unwrap_or(PAGE_SIZE)
        .clamp(1, PAGE_SIZE)
        .to_string()
}

fn present(s: Option<&str>) -> Option<&str> {
    s.map(str::trim).filter(|s| !s.is_empty())
}

/// The next page's link, unless following it could loop: an empty page, or a link back to the
/// page just read, ends the walk.
fn next_link(link: Option<String>, current: &Url, items: usize) -> Option<String> {
    let link = link?;
    if items == 0 || current.join(&link).is_ok_and(|u| u == *current) {
        return None;
    }
    Some(link)
}

/// Whether a page lists its notes oldest first (the order of the reference example, where ids
/// and times rise together). Equal times say nothing, so that counts as no.
fn oldest_first(notes: &[Note]) -> bool {
    match (notes.first(), notes.last()) {
        (Some(first), Some(last)) => first.created_at < last.created_at,
        _ => false,
    }
}

fn newest_first(mut notes: Vec<Note>) -> Vec<Note> {
    // A page listed oldest first is turned round before the stable sort, so notes written in
    // the same instant still come newest (listed last) first.
    if oldest_first(&notes) {
        notes.reverse();
    }
    notes.sort_by_key(|n| std::cmp::Reverse(n.created_at));
    notes
}

#[async_trait]
impl Provider for ActivePlatform {
    fn kind(&self) -> ProviderKind {
        ProviderKind::ActivePlatform
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            create_notes: true,
            log_calls: true,
            edit: false,
            delete: true,
            server_author_filter: false,
            server_type_filter: false,
            contacts: false,
            web_link: true,
            email_search: true,
            messages: false,
            sets_time: false,
        }
    }

    async fn ping(&self) -> Result<()> {
        // The smallest authenticated read there is: one account.
        let url = self.first_page(&self.url(&["accounts"])?, Some(1), None);
        self.document(self.request(Method::GET, url)).await?;
        Ok(())
    }

    /// `GET …/accounts`, by email with `filter[email]`; names are matched by the caller.
    async fn customers(&self, query: &CustomerQuery, page: Option<&str>) -> Result<Page<Customer>> {
        let list = self.url(&["accounts"])?;
        let filter = query.email_search().map(|email| (EMAIL_FILTER, email));
        let url = match present(page) {
            Some(token) => self.page_url(token, &list, filter)?,
            None => self.first_page(&list, query.per_page, filter),
        };
        let doc = self
            .document(self.request(Method::GET, url.clone()))
            .await?;
        let raw = resources(&doc)?;
        let items: Vec<Customer> = raw
            .iter()
            .filter_map(|r| match customer_from_resource(r) {
                Ok(customer) => Some(customer),
                Err(why) => {
                    tracing::warn!(provider = PROVIDER, reason = why, "skipping an account");
                    None
                }
            })
            .collect();
        let next = next_link(Links::of(&doc).next, &url, raw.len());
        Ok(Page { items, next })
    }

    async fn customer(&self, id: &str) -> Result<Customer> {
        let url = self.url(&["accounts", id.trim()])?;
        let doc = self.document(self.request(Method::GET, url)).await?;
        customer_from_resource(single(&doc)?).map_err(malformed)
    }

    async fn contacts(&self, customer_id: &str, page: Option<&str>) -> Result<Page<Contact>> {
        let _ = (customer_id, page);
        Err(self.unsupported("list contacts"))
    }

    /// `GET …/notes?filter[account_id]=ID` (the whole reseller without a customer): the
    /// account's own notes and those on its subscriptions and orders.
    ///
    /// The trait wants newest first; the reference example lists oldest first. So the first
    /// call looks at page 1: when it runs oldest first and there are more pages, the walk jumps
    /// to `links.last` and goes back along `prev` (the token is then marked [`BACKWARD`]),
    /// which costs one extra request and puts the newest notes on screen first. A server that
    /// already lists newest first is walked forward along `next`. Each page is sorted newest
    /// first either way.
    async fn notes(&self, query: &NoteQuery, page: Option<&str>) -> Result<Page<Note>> {
        let list = self.url(&["notes"])?;
        let account = present(query.customer_id.as_deref());
        let filter = account.map(|id| (ACCOUNT_FILTER, id));
        if let Some(token) = present(page) {
            let (backward, link) = match token.strip_prefix(BACKWARD) {
                Some(link) => (true, link),
                None => (false, token),
            };
            let url = self.page_url(link, &list, filter)?;
            let (notes, links) = self.note_page(url.clone(), account).await?;
            let next = if backward {
                next_link(links.prev, &url, notes.len()).map(|l| format!("{BACKWARD}{l}"))
            } else {
                next_link(links.next, &url, notes.len())
            };
            return Ok(Page {
                items: newest_first(notes),
                next,
            });
        }

        let first = self.first_page(&list, query.per_page, filter);
        let (notes, links) = self.note_page(first.clone(), account).await?;
        let Some(next) = next_link(links.next, &first, notes.len()) else {
            return Ok(Page::last(newest_first(notes)));
        };
        // An unusable `last` link only costs the order: the forward walk below still works.
        let last = links
            .last
            .filter(|_| oldest_first(&notes))
            .and_then(|l| self.page_url(&l, &list, filter).ok())
            .filter(|last| *last != first);
        if let Some(last) = last {
            let (tail, tail_links) = self.note_page(last.clone(), account).await?;
            // An empty last page would end the backward walk at once; the forward walk still
            // reaches every note.
            if !tail.is_empty() {
                let prev = next_link(tail_links.prev, &last, tail.len());
                return Ok(Page {
                    items: newest_first(tail),
                    next: prev.map(|l| format!("{BACKWARD}{l}")),
                });
            }
        }
        Ok(Page {
            items: newest_first(notes),
            next: Some(next),
        })
    }

    async fn note(&self, id: &str) -> Result<Note> {
        let url = self.url(&["notes", id.trim()])?;
        let doc = self.document(self.request(Method::GET, url)).await?;
        note_from_resource(single(&doc)?, &self.site, None).map_err(malformed)
    }

    /// The text of a note as it reads back: escaped where it would read as HTML (see
    /// `create_note`), rendered like every note's `content`. A call's `Call (15m): ` prefix is
    /// taken off again when it is read, so calls and notes read back alike.
    fn rendered_text(&self, typed: &str) -> String {
        note_text(&text_for_wire(typed))
    }

    /// `POST …/notes` → 201 with the note, on the account. Sent once: a failure after the
    /// request may have arrived is returned as it is, for the caller to reconcile. The panel
    /// stamps its own `created_at` (the API takes no time), and notes have no author email:
    /// the manager whose token this is becomes the `creator`.
    async fn create_note(&self, note: &NewNote) -> Result<Note> {
        let account = present(Some(note.customer_id.as_str())).ok_or_else(|| {
            ProviderError::Refused("a note needs the account it belongs to".into())
        })?;
        let content = wire_content(note)?;
        let body = json!({"data": {"attributes": {
            "id": wire_id(account),
            "type": "account",
            "content": content,
        }}});
        let bytes = serde_json::to_vec(&body)
            .map_err(|e| ProviderError::Refused(format!("could not encode the note: {e}")))?;
        let req = self
            .request(Method::POST, self.url(&["notes"])?)
            .body(bytes);
        let doc = self.document(req).await?;
        note_from_resource(single(&doc)?, &self.site, Some(account)).map_err(malformed)
    }

    /// `DELETE …/notes/{id}` → 204. A DELETE is retried after a timeout or a 5xx, and an
    /// earlier attempt may already have deleted the note: a 404 means it is gone, as asked.
    async fn delete_note(&self, id: &str) -> Result<()> {
        let req = self.request(Method::DELETE, self.url(&["notes", id.trim()])?);
        match self.http.send(req).await {
            Ok(_) | Err(ProviderError::NotFound(_)) => Ok(()),
            Err(e) => Err(e),
        }
    }
}

/// The `content` to send for a new note or call, checked against the API's limit before
/// anything is sent. Text that would read as HTML is escaped (as for ChartMogul) because
/// `content` is rendered as HTML when read, so it reads back exactly as typed.
fn wire_content(note: &NewNote) -> Result<String> {
    let text = text_for_wire(&note.text);
    let content = match &note.kind {
        NoteKind::Note => text,
        NoteKind::Call => format!("{}{text}", call_prefix(note.call_duration_s)?),
        NoteKind::Other(other) => {
            return Err(ProviderError::Unsupported(format!(
                "ActivePlatform notes are notes or calls, not {:?}",
                sanitize_line(other)
            )));
        }
    };
    let chars = content.chars().count();
    if chars > MAX_CONTENT_CHARS {
        return Err(ProviderError::Refused(format!(
            "too long for ActivePlatform: {chars} characters where at most \
             {MAX_CONTENT_CHARS} are allowed"
        )));
    }
    Ok(content)
}

/// `Call (15m): `, in a form [`split_call`] reads back as exactly that duration. A call needs
/// one: without it the note would read back as a plain note.
fn call_prefix(duration_s: Option<u32>) -> Result<String> {
    let seconds = duration_s.ok_or_else(|| {
        ProviderError::Refused("a call on ActivePlatform needs its duration, like 15m".into())
    })?;
    let written = format_duration_input(seconds);
    if parse_duration(&written) != Ok(seconds) {
        return Err(ProviderError::Refused(format!(
            "a call lasts from 1 second to 24 hours, not {}",
            crate::duration::format_duration(seconds)
        )));
    }
    Ok(format!("Call ({written}): "))
}

/// The target id as the API types it (an integer), or as sent when it is not a number.
fn wire_id(id: &str) -> Value {
    match id.parse::<u64>() {
        Ok(n) => json!(n),
        Err(_) => json!(id),
    }
}

/// `Call (15m): rest` → `(900, "rest")`. `None` unless the content starts with `Call`, a
/// duration in brackets that parses, and a colon, so an ordinary note is never taken for a
/// call by accident.
pub fn split_call(content: &str) -> Option<(u32, &str)> {
    let s = content.trim_start();
    if !s.get(..4)?.eq_ignore_ascii_case("call") {
        return None;
    }
    let rest = s[4..].trim_start_matches(' ').strip_prefix('(')?;
    // A duration is short ("1h30m15s"); a bracket further on is part of a sentence.
    let close = rest.get(..24.min(rest.len())).unwrap_or(rest).find(')')?;
    let seconds = parse_duration(&rest[..close]).ok()?;
    let after = rest[close + 1..].strip_prefix(':')?;
    Some((seconds, after.strip_prefix(' ').unwrap_or(after)))
}

/// A note's `content` as the timeline shows it: the duration of a call, and the text.
fn read_content(content: &str) -> (Option<u32>, String) {
    if let Some((seconds, rest)) = split_call(content) {
        return (Some(seconds), note_text(rest));
    }
    let text = note_text(content);
    // Markup around the prefix (`<p>Call (15m): …</p>`), as a web editor may save it.
    if let Some((seconds, rest)) = split_call(&text) {
        return (Some(seconds), rest.to_string());
    }
    (None, text)
}

fn malformed(message: impl Into<String>) -> ProviderError {
    ProviderError::Malformed {
        provider: PROVIDER,
        message: message.into(),
    }
}

// ---------------------------------------------------------------------------------------------
// JSON:API documents. Read from `Value`s so that any odd type costs that field (or that
// resource), never the whole page.

/// The `data` list of a collection document; `null` is an empty page.
fn resources(doc: &Value) -> Result<&[Value]> {
    match doc.get("data") {
        Some(Value::Array(items)) => Ok(items),
        Some(Value::Null) => Ok(&[]),
        Some(_) => Err(malformed("`data` is not a list")),
        None => Err(malformed("no `data` in the reply")),
    }
}

/// The `data` object of a single-resource document.
fn single(doc: &Value) -> Result<&Value> {
    match doc.get("data") {
        Some(data @ Value::Object(_)) => Ok(data),
        _ => Err(malformed("no resource in the reply")),
    }
}

/// A document's pagination links. JSON:API allows a link to be a string or `{"href": …}`.
#[derive(Debug, Default, PartialEq)]
struct Links {
    next: Option<String>,
    prev: Option<String>,
    last: Option<String>,
}

impl Links {
    fn of(doc: &Value) -> Links {
        let link = |name: &str| {
            let value = doc.get("links")?.get(name)?;
            let href = value
                .as_str()
                .or_else(|| value.get("href").and_then(Value::as_str))?;
            Some(href.trim().to_string()).filter(|h| !h.is_empty())
        };
        Links {
            next: link("next"),
            prev: link("prev"),
            last: link("last"),
        }
    }
}

/// Text from a string, or a number or boolean written out (ids come as either).
fn scalar(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A one-line field, sanitised; empty means absent.
fn field(attrs: &Map<String, Value>, key: &str) -> Option<String> {
    clean(scalar(attrs.get(key)).as_deref())
}

fn clean(s: Option<&str>) -> Option<String> {
    Some(sanitize_line(s?)).filter(|s| !s.is_empty())
}

/// A resource's id and attributes (an empty map when they are missing or not an object).
fn parts<'a>(
    resource: &'a Value,
    empty: &'a Map<String, Value>,
) -> std::result::Result<(String, &'a Map<String, Value>), &'static str> {
    let obj = resource
        .as_object()
        .ok_or("a resource that is not an object")?;
    let id = clean(scalar(obj.get("id")).as_deref()).ok_or("a resource without an id")?;
    let attrs = obj
        .get("attributes")
        .and_then(Value::as_object)
        .unwrap_or(empty);
    Ok((id, attrs))
}

/// An account as a customer. The name is the account's `name`, else its `primary_name`, else
/// the person's first and last name, else the email, else the id; `primary_name` is shown as
/// the company when it says something the name does not.
fn customer_from_resource(resource: &Value) -> std::result::Result<Customer, &'static str> {
    let empty = Map::new();
    let (id, a) = parts(resource, &empty)?;
    let email = field(a, "email");
    let primary = field(a, "primary_name");
    let person = [field(a, "first_name"), field(a, "last_name")]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    let name = field(a, "name")
        .or_else(|| primary.clone())
        .or_else(|| Some(person).filter(|p| !p.is_empty()))
        .or_else(|| email.clone())
        .unwrap_or_else(|| id.clone());
    Ok(Customer {
        company: primary.filter(|p| *p != name),
        id,
        name,
        email,
        status: field(a, "status"),
        web_url: None,
    })
}

/// A note resource. `account` is the account the listing was filtered by; without it the
/// account is known only for a note on the account itself (from its panel link).
fn note_from_resource(
    resource: &Value,
    site: &Url,
    account: Option<&str>,
) -> std::result::Result<Note, &'static str> {
    let empty = Map::new();
    let (id, a) = parts(resource, &empty)?;
    let updated_at = field(a, "updated_at").as_deref().and_then(parse_time);
    let created_at = field(a, "created_at")
        .as_deref()
        .and_then(parse_time)
        .or(updated_at)
        .ok_or("a note without a usable created_at or updated_at")?;
    let content = match a.get("content") {
        Some(Value::String(s)) => s.as_str(),
        _ => "",
    };
    let (call_duration_s, text) = read_content(content);
    let link = field(a, "original_link");
    let original_type = field(a, "original_type");
    let customer_id = account.map(str::to_string).or_else(|| {
        // Only a note on the account itself names the account in its link.
        original_type
            .is_none()
            .then(|| link.as_deref().and_then(account_in_link))
            .flatten()
    });
    Ok(Note {
        id,
        customer_id,
        kind: if call_duration_s.is_some() {
            NoteKind::Call
        } else {
            NoteKind::Note
        },
        author_name: field(a, "creator"),
        author_email: None,
        text,
        call_duration_s,
        created_at,
        updated_at,
        subject: None,
        web_url: link.as_deref().and_then(|l| panel_url(site, l)),
        extras: NoteExtras {
            original_type,
            original_id: field(a, "original_id"),
            attachment: a.get("attachment").and_then(attachment),
            ..NoteExtras::default()
        },
    })
}

/// `{name, url, size}`; `size` may be a number or a numeric string. Without a name the file
/// is named after the last segment of its link.
fn attachment(v: &Value) -> Option<Attachment> {
    let a = v.as_object()?;
    let url = field(a, "url")
        .filter(|u| check_base_url(u).is_ok())
        .and_then(|u| Url::parse(&u).ok());
    let name = field(a, "name").or_else(|| {
        let segment = url.as_ref()?.path_segments()?.next_back()?.to_string();
        clean(Some(&segment))
    })?;
    let size = match a.get("size") {
        Some(Value::Number(n)) => n.as_u64().or_else(|| {
            n.as_f64()
                .filter(|f| f.is_finite() && *f >= 0.0)
                .map(|f| f as u64)
        }),
        Some(Value::String(s)) => s.trim().parse::<u64>().ok(),
        _ => None,
    };
    Some(Attachment {
        name,
        size,
        url: url.map(String::from),
    })
}

/// The browser link of a panel path: the base URL followed by `original_link`. Only a path
/// on the base URL's own site is accepted, so a server cannot point the `o` key elsewhere.
fn panel_url(site: &Url, link: &str) -> Option<String> {
    let link = link.trim();
    let url = if link.starts_with('/') && !link.starts_with("//") {
        let base = site.as_str().trim_end_matches('/');
        Url::parse(&format!("{base}{link}")).ok()?
    } else {
        Url::parse(link)
            .ok()
            .filter(|u| u.origin() == site.origin())?
    };
    Some(url.into())
}

/// `/admin/accounts/29/notes/5` → `29`.
fn account_in_link(link: &str) -> Option<String> {
    let mut segments = link.split(['/', '?', '#']).filter(|s| !s.is_empty());
    segments.find(|s| *s == "accounts")?;
    clean(segments.next())
}

/// Any RFC 3339 time (the API sends offsets, `+03:00`); a time without one is read as UTC.
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

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().expect("timestamp")
    }

    fn site() -> Url {
        Url::parse("https://test.activeplatform.com").expect("url")
    }

    fn client() -> ActivePlatform {
        ActivePlatform::new(
            "https://test.activeplatform.com",
            "1".into(),
            "vY5fwetestK3gJXZH5uHCw".into(),
            HttpOptions::default(),
        )
        .expect("client")
    }

    /// The response example of the "Get list of notes" reference page, verbatim.
    const REFERENCE: &str = r#"{
    "data": [
        {
            "id": "5",
            "type": "notes",
            "attributes": {
                "created_at": "2023-03-27T11:35:12.509+03:00",
                "updated_at": "2023-03-27T11:35:12.509+03:00",
                "content": "Migrated",
                "creator": "Bill Smith",
                "original_link": "/admin/accounts/29/notes/5",
                "original_id": null,
                "original_type": null,
                "attachment": {
                    "name": "Logo",
                    "url": "https://storage.test.activeplatform.com/private/uploads/note/attachment/5/Logo?expires=1680009898&hash=DStusb6w",
                    "size": 3439
                }
            }
        },
        {
            "id": "12",
            "type": "notes",
            "attributes": {
                "created_at": "2023-03-27T13:33:00.320+03:00",
                "updated_at": "2023-03-27T13:33:00.320+03:00",
                "content": "Migrated subscription",
                "creator": "Angela Grand",
                "original_link": "/admin/subscriptions/114/notes/12",
                "original_id": 114,
                "original_type": "Subscription",
                "attachment": {
                    "name": "google114.png",
                    "url": "https://storage.test.activeplatform.com/private/uploads/note/attachment/12/google114.png?expires=1680009898&hash=9gwX6Thg",
                    "size": 3428
                }
            }
        }
    ],
    "links": {
        "self": "https://test.activeplatform.com/api/v3/resellers/1/notes?page%5Bnumber%5D=1&page%5Bsize%5D=50",
        "first": "https://test.activeplatform.com/api/v3/resellers/1/notes?page%5Bnumber%5D=1&page%5Bsize%5D=50",
        "prev": null,
        "next": null,
        "last": "https://test.activeplatform.com/api/v3/resellers/1/notes?page%5Bnumber%5D=1&page%5Bsize%5D=50"
    }
}"#;

    fn notes_of(doc: &Value, account: Option<&str>) -> Vec<Note> {
        resources(doc)
            .expect("data")
            .iter()
            .map(|r| note_from_resource(r, &site(), account).expect("note"))
            .collect()
    }

    #[test]
    fn maps_the_reference_example_verbatim() {
        let doc: Value = serde_json::from_str(REFERENCE).expect("json");
        let links = Links::of(&doc);
        assert_eq!(links.next, None);
        assert_eq!(links.prev, None);
        assert!(
            links
                .last
                .as_deref()
                .is_some_and(|l| l.contains("page%5Bsize%5D=50"))
        );

        let notes = notes_of(&doc, None);
        assert_eq!(notes.len(), 2);
        let account_note = &notes[0];
        assert_eq!(
            account_note,
            &Note {
                id: "5".into(),
                customer_id: Some("29".into()),
                kind: NoteKind::Note,
                author_name: Some("Bill Smith".into()),
                author_email: None,
                text: "Migrated".into(),
                call_duration_s: None,
                created_at: ts("2023-03-27T08:35:12.509Z"),
                updated_at: Some(ts("2023-03-27T08:35:12.509Z")),
                subject: None,
                web_url: Some("https://test.activeplatform.com/admin/accounts/29/notes/5".into()),
                extras: NoteExtras {
                    original_type: None,
                    original_id: None,
                    attachment: Some(Attachment {
                        name: "Logo".into(),
                        size: Some(3439),
                        url: Some("https://storage.test.activeplatform.com/private/uploads/note/attachment/5/Logo?expires=1680009898&hash=DStusb6w".into()),
                    }),
                    ..NoteExtras::default()
                },
            }
        );
        let sub = &notes[1];
        assert_eq!(sub.id, "12");
        assert_eq!(
            sub.customer_id, None,
            "a subscription's link names no account"
        );
        assert_eq!(sub.author_name.as_deref(), Some("Angela Grand"));
        assert_eq!(sub.text, "Migrated subscription");
        assert_eq!(sub.extras.original_type.as_deref(), Some("Subscription"));
        assert_eq!(sub.extras.original_id.as_deref(), Some("114"));
        assert_eq!(
            sub.web_url.as_deref(),
            Some("https://test.activeplatform.com/admin/subscriptions/114/notes/12")
        );
        let file = sub.extras.attachment.as_ref().expect("attachment");
        assert_eq!(
            (file.name.as_str(), file.size),
            ("google114.png", Some(3428))
        );
        // The reference lists oldest first.
        assert!(oldest_first(&notes));

        // Two notes written in the same instant, listed oldest first: the one listed last is
        // the newer and comes first.
        let mut page = notes.clone();
        let mut twin = page[page.len() - 1].clone();
        twin.id = "twin".into();
        page.push(twin);
        let sorted = newest_first(page);
        assert_eq!(sorted[0].id, "twin");
        assert_eq!(sorted[1].id, notes[notes.len() - 1].id);

        // Filtered by account, every note belongs to it, subscription notes included.
        let filtered = notes_of(&doc, Some("29"));
        assert!(
            filtered
                .iter()
                .all(|n| n.customer_id.as_deref() == Some("29"))
        );
    }

    #[test]
    fn calls_are_read_from_the_content_prefix() {
        let cases: &[(&str, Option<u32>, &str)] = &[
            (
                "Call (15m): Renewal discussed",
                Some(900),
                "Renewal discussed",
            ),
            ("Call (1h05m): long one", Some(3900), "long one"),
            ("call(45s):quick", Some(45), "quick"),
            ("  Call (25m): <b>DNS</b> moved", Some(1500), "DNS moved"),
            ("<p>Call (2m): wrapped</p>", Some(120), "wrapped"),
            (
                "Call (soon): not a duration",
                None,
                "Call (soon): not a duration",
            ),
            ("Call (0m): zero", None, "Call (0m): zero"),
            ("Call (15m) without colon", None, "Call (15m) without colon"),
            ("Called (15m): no", None, "Called (15m): no"),
            (
                "Call me (maybe this is a sentence that runs long): x",
                None,
                "Call me (maybe this is a sentence that runs long): x",
            ),
            ("Migrated", None, "Migrated"),
            ("Cal", None, "Cal"),
            ("Çall (1m): unicode head", None, "Çall (1m): unicode head"),
        ];
        for (content, duration, text) in cases {
            let (d, t) = read_content(content);
            assert_eq!((d, t.as_str()), (*duration, *text), "{content:?}");
        }
    }

    #[test]
    fn calls_round_trip_through_the_wire_content() {
        let at = ts("2026-01-02T03:04:05Z");
        for seconds in [1, 45, 60, 90, 900, 3600, 3605, 86_400] {
            let call = NewNote {
                customer_id: "29".into(),
                kind: NoteKind::Call,
                author_email: None,
                text: "Quarterly <check-in> & review".into(),
                call_duration_s: Some(seconds),
                created_at: at,
            };
            let content = wire_content(&call).expect("content");
            assert!(content.starts_with("Call ("), "{content}");
            let (d, text) = read_content(&content);
            assert_eq!(d, Some(seconds), "{content}");
            assert_eq!(text, call.text);
            assert_eq!(text, client().rendered_text(&call.text));
        }
        let mut call = NewNote {
            customer_id: "29".into(),
            kind: NoteKind::Call,
            author_email: None,
            text: "x".into(),
            call_duration_s: None,
            created_at: at,
        };
        assert!(matches!(
            wire_content(&call),
            Err(ProviderError::Refused(_))
        ));
        for bad in [0, 86_401] {
            call.call_duration_s = Some(bad);
            assert!(
                matches!(wire_content(&call), Err(ProviderError::Refused(_))),
                "{bad}"
            );
        }
        call.kind = NoteKind::Other("meeting".into());
        assert!(matches!(
            wire_content(&call),
            Err(ProviderError::Unsupported(_))
        ));
    }

    #[test]
    fn content_length_is_checked_in_characters_after_the_prefix() {
        let at = ts("2026-01-02T03:04:05Z");
        let mut note = NewNote {
            customer_id: "29".into(),
            kind: NoteKind::Note,
            author_email: None,
            // Multi-byte characters: the limit counts characters, not bytes.
            text: "é".repeat(MAX_CONTENT_CHARS),
            call_duration_s: None,
            created_at: at,
        };
        assert_eq!(
            wire_content(&note).expect("at the limit").chars().count(),
            5000
        );
        note.text.push('x');
        let err = wire_content(&note).expect_err("over the limit");
        assert!(matches!(err, ProviderError::Refused(_)));
        assert!(
            err.to_string().contains("5001") && !err.to_string().contains('\n'),
            "{err}"
        );
        // The call prefix counts too.
        note.text = "x".repeat(MAX_CONTENT_CHARS - 5);
        note.kind = NoteKind::Call;
        note.call_duration_s = Some(900);
        assert!(wire_content(&note).is_err());
    }

    #[test]
    fn accounts_map_names_ids_and_companies() {
        let doc = json!({"data": [
            {"id": 29, "type": "accounts", "attributes": {"name": "Northwind Traders",
                "primary_name": "Northwind Traders Ltd.", "email": "it@northwind.example",
                "status": "active", "balance": "12.50", "unknown": {"x": [1]}}},
            {"id": "30", "type": "accounts", "attributes": {"name": null, "primary_name": null,
                "first_name": "Ana", "last_name": "Lima", "email": "ana@mail.example"}},
            {"id": "31", "attributes": {"name": "Same", "primary_name": "Same"}},
            {"id": "32", "attributes": null},
            {"id": "33", "attributes": {"name": "Eve\u{1b}[31m\u{202e}", "email": 5}},
            {"attributes": {"name": "no id"}},
            "not an object"
        ]});
        let mapped: Vec<_> = resources(&doc)
            .expect("data")
            .iter()
            .map(customer_from_resource)
            .collect();
        assert_eq!(
            mapped[0],
            Ok(Customer {
                id: "29".into(),
                name: "Northwind Traders".into(),
                email: Some("it@northwind.example".into()),
                company: Some("Northwind Traders Ltd.".into()),
                status: Some("active".into()),
                web_url: None,
            })
        );
        let ana = mapped[1].as_ref().expect("ana");
        assert_eq!(
            (ana.name.as_str(), ana.company.as_deref()),
            ("Ana Lima", None)
        );
        assert_eq!(mapped[2].as_ref().expect("same").company, None);
        assert_eq!(mapped[3].as_ref().expect("bare").name, "32");
        let eve = mapped[4].as_ref().expect("eve");
        assert!(!eve.name.contains(['\u{1b}', '\u{202e}']), "{:?}", eve.name);
        assert_eq!(eve.email.as_deref(), Some("5"));
        assert!(mapped[5].is_err() && mapped[6].is_err());
    }

    #[test]
    fn odd_note_fields_are_tolerated() {
        let doc = json!({"data": [
            {"id": 7, "attributes": {"created_at": "garbage", "updated_at": "2024-01-02T03:04:05Z",
                "content": null, "creator": "System", "original_link": "//evil.example/x",
                "original_id": "55", "original_type": "Order",
                "attachment": {"name": "invoice.pdf", "url": "http://evil.example/f", "size": "48213"}}},
            {"id": "8", "attributes": {"created_at": "2024-01-01T00:00:00", "content": 42,
                "original_link": "https://evil.example/admin/accounts/1/notes/8",
                "attachment": {"url": "https://s.example/x/report%20q1.pdf?sig=1", "size": 1.5e3}}},
            {"id": "9", "attributes": {"created_at": "2024-01-01T00:00:00Z",
                "attachment": {"name": "a", "size": "big"}}},
            {"id": "10", "attributes": {"created_at": "2024-01-01T00:00:00Z",
                "attachment": "nope"}},
            {"id": "11", "attributes": {"created_at": null}}
        ]});
        let site = site();
        let items = resources(&doc).expect("data");
        let n7 = note_from_resource(&items[0], &site, None).expect("7");
        assert_eq!(n7.created_at, ts("2024-01-02T03:04:05Z"));
        assert_eq!(n7.author_name.as_deref(), Some("System"));
        assert_eq!(n7.text, "");
        assert_eq!(n7.web_url, None, "a protocol-relative link leaves the site");
        assert_eq!(n7.customer_id, None);
        let file = n7.extras.attachment.expect("attachment");
        assert_eq!(file.size, Some(48_213), "size as a string");
        assert_eq!(file.url, None, "plain http to a remote host is dropped");

        let n8 = note_from_resource(&items[1], &site, None).expect("8");
        assert_eq!(n8.created_at, ts("2024-01-01T00:00:00Z"));
        assert_eq!(n8.web_url, None, "an absolute link to another host");
        let file = n8.extras.attachment.expect("attachment");
        assert_eq!(file.name, "report%20q1.pdf");
        assert_eq!(file.size, Some(1500));

        let n9 = note_from_resource(&items[2], &site, None).expect("9");
        assert_eq!(n9.extras.attachment.map(|a| a.size), Some(None));
        let n10 = note_from_resource(&items[3], &site, None).expect("10");
        assert_eq!(n10.extras.attachment, None);
        assert!(note_from_resource(&items[4], &site, None).is_err());
    }

    #[test]
    fn hostile_content_is_sanitised() {
        let doc = json!({"data": [{"id": "n\u{1b}[2J", "attributes": {
            "created_at": "2024-01-01T00:00:00Z",
            "creator": "Mallory\u{1b}]0;pwned\u{7}",
            "content": "hi\u{1b}]0;pwned\u{7} there\u{202e}"}}]});
        let note = notes_of(&doc, None).remove(0);
        for s in [
            &note.id,
            &note.text,
            note.author_name.as_ref().expect("creator"),
        ] {
            assert!(!s.contains(['\u{1b}', '\u{7}', '\u{202e}']), "{s:?}");
        }
    }

    #[test]
    fn documents_without_data_are_malformed_and_null_is_empty() {
        assert!(matches!(
            resources(&json!({})),
            Err(ProviderError::Malformed { .. })
        ));
        assert!(matches!(
            resources(&json!({"data": 3})),
            Err(ProviderError::Malformed { .. })
        ));
        assert_eq!(resources(&json!({"data": null})).map(<[Value]>::len), Ok(0));
        assert!(single(&json!({"data": []})).is_err());
        let links =
            Links::of(&json!({"links": {"next": {"href": " /x?page=2 "}, "prev": "", "last": 4}}));
        assert_eq!(
            links,
            Links {
                next: Some("/x?page=2".into()),
                prev: None,
                last: None
            }
        );
    }

    #[test]
    fn page_links_stay_on_our_origin_and_list() {
        let ap = client();
        let list = ap.url(&["notes"]).expect("url");
        assert_eq!(list.path(), "/api/v3/resellers/1/notes");
        let good = "https://test.activeplatform.com/api/v3/resellers/1/notes?filter%5Baccount_id%5D=29&page%5Bnumber%5D=2&page%5Bsize%5D=50";
        let url = ap
            .page_url(good, &list, Some((ACCOUNT_FILTER, "29")))
            .expect("same origin");
        assert_eq!(url.as_str(), good);
        let relative = ap
            .page_url("/api/v3/resellers/1/notes?page%5Bnumber%5D=3", &list, None)
            .expect("relative");
        assert_eq!(relative.host_str(), Some("test.activeplatform.com"));
        // Our own host written with http:// (a TLS-terminating proxy) is fetched over https.
        let upgraded = ap
            .page_url(
                "http://test.activeplatform.com/api/v3/resellers/1/notes?page%5Bnumber%5D=2",
                &list,
                None,
            )
            .expect("same host");
        assert_eq!(upgraded.scheme(), "https");
        // A link without the filter gets it back; one for another account is refused.
        let dropped = ap
            .page_url(
                "/api/v3/resellers/1/notes?page%5Bnumber%5D=2",
                &list,
                Some((ACCOUNT_FILTER, "29")),
            )
            .expect("filter restored");
        assert!(
            dropped
                .query_pairs()
                .any(|(k, v)| k == ACCOUNT_FILTER && v == "29")
        );
        for bad in [
            "https://evil.example/api/v3/resellers/1/notes?page%5Bnumber%5D=2",
            "http://test.activeplatform.com:8080/api/v3/resellers/1/notes?page%5Bnumber%5D=2",
            "https://test.activeplatform.com:8443/api/v3/resellers/1/notes",
            "https://test.activeplatform.com/api/v3/resellers/2/notes?page%5Bnumber%5D=2",
            "https://test.activeplatform.com/api/v3/resellers/1/accounts?page%5Bnumber%5D=2",
            "https://test.activeplatform.com/api/v3/resellers/1/notes?filter%5Baccount_id%5D=30",
            "not a link at all ::",
        ] {
            assert!(
                matches!(
                    ap.page_url(bad, &list, Some((ACCOUNT_FILTER, "29"))),
                    Err(ProviderError::Refused(_))
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn pagination_guards_end_loops() {
        let here = Url::parse("https://a.example/notes?page%5Bnumber%5D=2").expect("url");
        assert_eq!(
            next_link(Some(here.to_string()), &here, 5),
            None,
            "a link to itself"
        );
        assert_eq!(
            next_link(Some("https://a.example/n?p=3".into()), &here, 0),
            None,
            "empty page"
        );
        assert_eq!(
            next_link(Some("https://a.example/n?p=3".into()), &here, 5).as_deref(),
            Some("https://a.example/n?p=3")
        );
        assert_eq!(next_link(None, &here, 5), None);
    }

    #[test]
    fn panel_links_join_the_base_url() {
        let with_path = Url::parse("https://host.example/panel/").expect("url");
        assert_eq!(
            panel_url(&with_path, "/admin/orders/9/notes/3").as_deref(),
            Some("https://host.example/panel/admin/orders/9/notes/3")
        );
        assert_eq!(
            panel_url(&site(), "https://test.activeplatform.com/admin/x").as_deref(),
            Some("https://test.activeplatform.com/admin/x")
        );
        assert_eq!(panel_url(&site(), "javascript:alert(1)"), None);
        assert_eq!(panel_url(&site(), "admin/relative"), None);
        assert_eq!(
            account_in_link("/admin/accounts/29/notes/5").as_deref(),
            Some("29")
        );
        assert_eq!(account_in_link("/admin/subscriptions/114/notes/12"), None);
        assert_eq!(account_in_link("/admin/accounts"), None);
    }

    #[test]
    fn construction_checks_its_inputs_and_hides_the_token() {
        let options = HttpOptions::default();
        let ap = ActivePlatform::new(
            "http://127.0.0.1:1",
            " 7 ".into(),
            " tok-secret-123\n".into(),
            options,
        )
        .expect("loopback http is fine");
        assert!(!format!("{ap:?}").contains("tok-secret-123"));
        assert_eq!(ap.reseller_id, "7");
        for (base, reseller, token) in [
            ("http://panel.example.com", "1", "t"),
            ("https://panel.example.com", " ", "t"),
            ("https://panel.example.com", "..", "t"),
            ("https://panel.example.com", "1", "  "),
            ("https://panel.example.com", "1", "a\u{7}b"),
        ] {
            let err = ActivePlatform::new(base, reseller.into(), token.into(), options)
                .expect_err("refused");
            assert!(
                matches!(err, ProviderError::Refused(_)),
                "{base} {reseller:?}"
            );
        }
        let caps = ap.capabilities();
        assert!(caps.create_notes && caps.log_calls && caps.delete && caps.web_link);
        assert!(caps.email_search);
        assert!(!caps.edit && !caps.contacts && !caps.messages);
        assert!(!caps.server_author_filter && !caps.server_type_filter);
        assert_eq!(ap.kind(), ProviderKind::ActivePlatform);
    }

    #[test]
    fn create_bodies_target_the_account_by_integer_id() {
        assert_eq!(wire_id("29"), json!(29));
        assert_eq!(wire_id("acc-29"), json!("acc-29"));
        assert_eq!(page_size(None), "50");
        assert_eq!(page_size(Some(0)), "1");
        assert_eq!(page_size(Some(500)), "50");
    }
}
