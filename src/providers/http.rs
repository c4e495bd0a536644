//! The one HTTP client every provider uses: auth, timeouts, bounded retries with backoff,
//! error-body decoding and the HTTPS policy. It must never log or report a secret, a request
//! header or a body.

use std::fmt;
use std::net::IpAddr;
use std::time::Duration;

use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue, RETRY_AFTER};
use reqwest::{Method, StatusCode, Url};
use serde::de::DeserializeOwned;

use super::{ProviderError, Result};
use crate::text::sanitize_line;

/// Largest reply body we accept; a bigger one is refused rather than buffered.
pub const MAX_BODY_BYTES: usize = 32 * 1024 * 1024;
/// Error bodies only feed a one-line message, so reading more is wasted memory.
const MAX_ERROR_BODY_BYTES: usize = 64 * 1024;
/// Longest server message we put into an error line.
pub const MAX_MESSAGE_CHARS: usize = 200;
const USER_AGENT: &str = concat!("crm-notes/", env!("CARGO_PKG_VERSION"));
const MAX_REDIRECTS: usize = 5;

/// Timeouts and retry tuning. The defaults suit real APIs; tests shrink them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpOptions {
    pub connect_timeout: Duration,
    /// Whole request, from sending until the last byte of the reply.
    pub request_timeout: Duration,
    /// Retries after the first attempt, so at most `max_retries + 1` requests.
    pub max_retries: u32,
    pub backoff_base: Duration,
    pub backoff_cap: Duration,
    /// Longest `Retry-After` we are willing to sleep for.
    pub retry_after_cap: Duration,
}

impl Default for HttpOptions {
    fn default() -> Self {
        HttpOptions {
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(20),
            max_retries: 4,
            backoff_base: Duration::from_millis(250),
            backoff_cap: Duration::from_secs(8),
            retry_after_cap: Duration::from_secs(30),
        }
    }
}

/// How a request authenticates. Debug output never shows the secret parts.
#[derive(Clone, PartialEq, Eq)]
pub enum Auth {
    None,
    /// HTTP Basic. ChartMogul puts the API key in `user`, so both parts are secret.
    Basic {
        user: String,
        password: String,
    },
    Bearer(String),
    /// A custom header such as `X-Api-Token`.
    Header {
        name: String,
        value: String,
    },
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Auth::None => f.write_str("None"),
            Auth::Basic { .. } => f.write_str("Basic(<redacted>)"),
            Auth::Bearer(_) => f.write_str("Bearer(<redacted>)"),
            Auth::Header { name, .. } => write!(f, "Header({name}: <redacted>)"),
        }
    }
}

/// One request to send through [`HttpClient::send`].
#[derive(Clone)]
pub struct ApiRequest {
    method: Method,
    url: Url,
    auth: Auth,
    headers: Vec<(String, String)>,
    body: Option<Vec<u8>>,
    idempotent: bool,
}

impl fmt::Debug for ApiRequest {
    // Header values and bodies may hold secrets or personal data: names and sizes only.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let header_names: Vec<&str> = self.headers.iter().map(|(n, _)| n.as_str()).collect();
        f.debug_struct("ApiRequest")
            .field("method", &self.method)
            .field("path", &self.url.path())
            .field("auth", &self.auth)
            .field("headers", &header_names)
            .field("body_bytes", &self.body.as_ref().map(Vec::len))
            .field("idempotent", &self.idempotent)
            .finish()
    }
}

impl ApiRequest {
    /// A request whose idempotency follows its method (GET, HEAD, PUT, DELETE, OPTIONS are).
    pub fn new(method: Method, url: Url) -> Self {
        let idempotent = matches!(
            method,
            Method::GET | Method::HEAD | Method::PUT | Method::DELETE | Method::OPTIONS
        );
        ApiRequest {
            method,
            url,
            auth: Auth::None,
            headers: Vec::new(),
            body: None,
            idempotent,
        }
    }

    pub fn get(url: Url) -> Self {
        Self::new(Method::GET, url)
    }

    pub fn post(url: Url) -> Self {
        Self::new(Method::POST, url)
    }

    pub fn patch(url: Url) -> Self {
        Self::new(Method::PATCH, url)
    }

    pub fn put(url: Url) -> Self {
        Self::new(Method::PUT, url)
    }

    pub fn delete(url: Url) -> Self {
        Self::new(Method::DELETE, url)
    }

    pub fn auth(mut self, auth: &Auth) -> Self {
        self.auth = auth.clone();
        self
    }

    /// Appends a query parameter, percent-encoded.
    pub fn query(mut self, key: &str, value: &str) -> Self {
        self.url.query_pairs_mut().append_pair(key, value);
        self
    }

    /// Adds a header; an invalid name or value fails the request when it is sent.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    /// Sets a JSON body (and its content type).
    pub fn json<B: serde::Serialize + ?Sized>(mut self, body: &B) -> Result<Self> {
        let bytes = serde_json::to_vec(body)
            .map_err(|e| ProviderError::Refused(format!("could not encode the request: {e}")))?;
        self.body = Some(bytes);
        self.headers
            .push((CONTENT_TYPE.as_str().to_string(), "application/json".into()));
        Ok(self)
    }

    /// Sets a raw body; the caller adds its content type with [`ApiRequest::header`].
    pub fn body(mut self, bytes: Vec<u8>) -> Self {
        self.body = Some(bytes);
        self
    }

    /// Overrides whether the request may be repeated safely. Only mark a write idempotent
    /// when repeating it cannot create a duplicate (e.g. it carries an idempotency key).
    pub fn idempotent(mut self, yes: bool) -> Self {
        self.idempotent = yes;
        self
    }

    pub fn is_idempotent(&self) -> bool {
        self.idempotent
    }

    pub fn method(&self) -> &Method {
        &self.method
    }

    pub fn url(&self) -> &Url {
        &self.url
    }
}

/// A successful reply, body fully read (and capped).
#[derive(Clone)]
pub struct ApiResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
    provider: &'static str,
}

impl fmt::Debug for ApiResponse {
    // Bodies hold customer data and headers may hold cookies: status and size only.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiResponse")
            .field("status", &self.status)
            .field("body_bytes", &self.body.len())
            .finish_non_exhaustive()
    }
}

impl ApiResponse {
    /// Decodes the body, or says in one line why it is not what we expected.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T> {
        decode_json(self.provider, &self.body)
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// Decodes a JSON body into `T`, mapping failures to a short [`ProviderError::Malformed`].
pub fn decode_json<T: DeserializeOwned>(provider: &'static str, body: &[u8]) -> Result<T> {
    serde_json::from_slice(body).map_err(|e| {
        let trimmed = body.trim_ascii_start();
        let message = if trimmed.is_empty() {
            "empty reply where JSON was expected".to_string()
        } else if trimmed.starts_with(b"<") {
            "an HTML page where JSON was expected".to_string()
        } else {
            one_line(&e.to_string())
        };
        ProviderError::Malformed { provider, message }
    })
}

/// The shared client: cheap to clone, one connection pool.
#[derive(Debug, Clone)]
pub struct HttpClient {
    client: reqwest::Client,
    provider: &'static str,
    options: HttpOptions,
}

/// Why one attempt did not produce a usable reply.
enum Failure {
    Status {
        status: StatusCode,
        headers: HeaderMap,
        body: Vec<u8>,
    },
    /// `sent` is false when the connection failed, so the server never saw the request.
    Transport { error: ProviderError, sent: bool },
    /// Not worth repeating (e.g. a reply over the size cap).
    Fatal(ProviderError),
}

impl HttpClient {
    /// `provider` is the name used in error lines, e.g. "ChartMogul".
    pub fn new(provider: &'static str, options: HttpOptions) -> Result<Self> {
        let client = reqwest::Client::builder()
            .user_agent(USER_AGENT)
            .connect_timeout(options.connect_timeout)
            .timeout(options.request_timeout)
            .redirect(redirect_policy())
            .build()
            .map_err(|e| ProviderError::Network {
                provider,
                message: format!("could not set up the HTTP client: {}", describe_error(&e)),
            })?;
        Ok(HttpClient {
            client,
            provider,
            options,
        })
    }

    pub fn provider(&self) -> &'static str {
        self.provider
    }

    pub fn options(&self) -> &HttpOptions {
        &self.options
    }

    /// GETs `url` and decodes the JSON reply.
    pub async fn get_json<T: DeserializeOwned>(&self, url: Url, auth: &Auth) -> Result<T> {
        self.send_json(ApiRequest::get(url).auth(auth)).await
    }

    /// Sends `req` and decodes the JSON reply.
    pub async fn send_json<T: DeserializeOwned>(&self, req: ApiRequest) -> Result<T> {
        let auth = req.auth.clone();
        self.send(req)
            .await?
            .json()
            .map_err(|e| scrub_secrets(e, &auth))
    }

    /// Sends `req`, retrying where that is safe, and returns the successful reply or the
    /// decoded error. Idempotent requests are retried on 429, 500, 502, 503, 504, timeouts and
    /// connection failures. Any request (a POST too) is retried when the connection could not
    /// be made, and on 429: in both cases the server did not act on it.
    pub async fn send(&self, req: ApiRequest) -> Result<ApiResponse> {
        check_url(&req.url)?;
        let mut attempt: u32 = 0;
        loop {
            let failure = match self.attempt(&req).await {
                Ok(resp) => return Ok(resp),
                Err(failure) => failure,
            };
            let retryable = attempt < self.options.max_retries
                && match &failure {
                    // A 429 is the rate limiter refusing the request before it is handled, so
                    // even a POST can be sent again without creating anything twice. A 5xx
                    // gives no such promise: the write may have happened before it failed.
                    Failure::Status { status, .. } => {
                        *status == StatusCode::TOO_MANY_REQUESTS
                            || (req.idempotent && is_retryable_status(*status))
                    }
                    Failure::Transport { sent, .. } => req.idempotent || !sent,
                    Failure::Fatal(_) => false,
                };
            if !retryable {
                let error = self.failure_error(failure, &req);
                return Err(scrub_secrets(error, &req.auth));
            }
            let (delay, reason) = match &failure {
                Failure::Status {
                    status, headers, ..
                } => {
                    let hinted = headers
                        .get(RETRY_AFTER)
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| parse_retry_after(v, jiff::Timestamp::now()));
                    let delay = match hinted {
                        Some(d) => d.min(self.options.retry_after_cap),
                        None => backoff_delay(&self.options, attempt),
                    };
                    (delay, status.as_u16().to_string())
                }
                Failure::Transport { error, .. } => {
                    (backoff_delay(&self.options, attempt), error.to_string())
                }
                Failure::Fatal(_) => (Duration::ZERO, String::new()),
            };
            tracing::warn!(
                provider = self.provider,
                method = %req.method,
                path = req.url.path(),
                attempt = attempt + 1,
                delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
                reason = %reason,
                "retrying request"
            );
            tokio::time::sleep(delay).await;
            attempt += 1;
        }
    }

    async fn attempt(&self, req: &ApiRequest) -> std::result::Result<ApiResponse, Failure> {
        let builder = self.build(req).map_err(Failure::Fatal)?;
        let mut resp = match builder.send().await {
            Ok(resp) => resp,
            Err(e) => {
                let sent = !e.is_connect();
                return Err(Failure::Transport {
                    error: self.transport_error(&e),
                    sent,
                });
            }
        };
        let status = resp.status();
        if status.is_success() {
            if resp
                .content_length()
                .is_some_and(|n| n > MAX_BODY_BYTES as u64)
            {
                return Err(Failure::Fatal(self.too_large()));
            }
            let body = self.read_body(&mut resp, MAX_BODY_BYTES).await?;
            if body.len() > MAX_BODY_BYTES {
                return Err(Failure::Fatal(self.too_large()));
            }
            Ok(ApiResponse {
                status,
                headers: resp.headers().clone(),
                body,
                provider: self.provider,
            })
        } else {
            let headers = resp.headers().clone();
            // The status alone is enough to report, so a broken error body is not a failure.
            let body = self
                .read_body(&mut resp, MAX_ERROR_BODY_BYTES)
                .await
                .unwrap_or_default();
            Err(Failure::Status {
                status,
                headers,
                body,
            })
        }
    }

    /// Reads at most `cap + 1` bytes so the caller can tell an over-long body apart.
    async fn read_body(
        &self,
        resp: &mut reqwest::Response,
        cap: usize,
    ) -> std::result::Result<Vec<u8>, Failure> {
        // Sized once from Content-Length (bounded by the cap, which a lying header cannot
        // exceed): growing chunk by chunk would hold two copies of a page while it resizes.
        let expected = resp
            .content_length()
            .and_then(|n| usize::try_from(n).ok())
            .map_or(0, |n| n.min(cap + 1));
        let mut body = Vec::with_capacity(expected);
        loop {
            match resp.chunk().await {
                Ok(Some(chunk)) => {
                    let room = (cap + 1).saturating_sub(body.len());
                    body.extend_from_slice(&chunk[..chunk.len().min(room)]);
                    if body.len() > cap {
                        return Ok(body);
                    }
                }
                Ok(None) => return Ok(body),
                Err(e) => {
                    let error = if e.is_timeout() {
                        self.transport_error(&e)
                    } else {
                        ProviderError::Network {
                            provider: self.provider,
                            message: "connection closed before the whole reply arrived".into(),
                        }
                    };
                    return Err(Failure::Transport { error, sent: true });
                }
            }
        }
    }

    fn too_large(&self) -> ProviderError {
        ProviderError::Malformed {
            provider: self.provider,
            message: format!("reply larger than {} MiB", MAX_BODY_BYTES / (1024 * 1024)),
        }
    }

    fn build(&self, req: &ApiRequest) -> Result<reqwest::RequestBuilder> {
        let mut builder = self.client.request(req.method.clone(), req.url.clone());
        builder = match &req.auth {
            Auth::None => builder,
            Auth::Basic { user, password } => builder.basic_auth(user, Some(password)),
            Auth::Bearer(token) => builder.bearer_auth(token),
            Auth::Header { name, value } => {
                let (name, mut value) = header_pair(name, value)?;
                value.set_sensitive(true);
                builder.header(name, value)
            }
        };
        for (name, value) in &req.headers {
            let (name, value) = header_pair(name, value)?;
            builder = builder.header(name, value);
        }
        if let Some(body) = &req.body {
            builder = builder.body(body.clone());
        }
        Ok(builder)
    }

    fn transport_error(&self, e: &reqwest::Error) -> ProviderError {
        if e.is_timeout() {
            let limit = if e.is_connect() {
                self.options.connect_timeout
            } else {
                self.options.request_timeout
            };
            ProviderError::Timeout {
                provider: self.provider,
                seconds: whole_seconds(limit),
            }
        } else {
            ProviderError::Network {
                provider: self.provider,
                message: describe_error(e),
            }
        }
    }

    fn failure_error(&self, failure: Failure, req: &ApiRequest) -> ProviderError {
        match failure {
            Failure::Status {
                status,
                headers,
                body,
            } => {
                let content_type = headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok());
                let mut error = error_for_status(self.provider, status, content_type, &body);
                // An empty 404 says nothing; the path (never the query) says what was missing.
                if let ProviderError::NotFound(message) = &mut error {
                    if error_message(content_type, &body).is_none() {
                        *message = one_line(req.url.path());
                    }
                }
                error
            }
            Failure::Transport { error, .. } | Failure::Fatal(error) => error,
        }
    }
}

/// A server may echo what we sent (a key in an error message): blank out the secrets of the
/// request's auth so no error line can carry them.
fn scrub_secrets(error: ProviderError, auth: &Auth) -> ProviderError {
    let secrets: Vec<&str> = match auth {
        Auth::None => Vec::new(),
        Auth::Basic { user, password } => vec![user.as_str(), password.as_str()],
        Auth::Bearer(token) => vec![token.as_str()],
        Auth::Header { value, .. } => vec![value.as_str()],
    };
    redact(error, &secrets)
}

/// Blanks `secrets` out of an error's message. Very short values are left alone, since
/// replacing them would mangle ordinary words.
pub fn redact(error: ProviderError, secrets: &[&str]) -> ProviderError {
    let secrets: Vec<&str> = secrets
        .iter()
        .copied()
        .filter(|s| s.chars().count() >= 4)
        .collect();
    if secrets.is_empty() {
        return error;
    }
    let clean = |message: String| {
        secrets
            .iter()
            .fold(message, |m, secret| m.replace(secret, "<redacted>"))
    };
    match error {
        ProviderError::Auth {
            provider,
            status,
            message,
        } => ProviderError::Auth {
            provider,
            status,
            message: clean(message),
        },
        ProviderError::Forbidden {
            provider,
            status,
            message,
        } => ProviderError::Forbidden {
            provider,
            status,
            message: clean(message),
        },
        ProviderError::Status {
            provider,
            status,
            message,
        } => ProviderError::Status {
            provider,
            status,
            message: clean(message),
        },
        ProviderError::Network { provider, message } => ProviderError::Network {
            provider,
            message: clean(message),
        },
        ProviderError::Malformed { provider, message } => ProviderError::Malformed {
            provider,
            message: clean(message),
        },
        ProviderError::NotFound(message) => ProviderError::NotFound(clean(message)),
        ProviderError::Refused(message) => ProviderError::Refused(clean(message)),
        ProviderError::Unsupported(message) => ProviderError::Unsupported(clean(message)),
        other @ (ProviderError::RateLimited { .. } | ProviderError::Timeout { .. }) => other,
    }
}

fn header_pair(name: &str, value: &str) -> Result<(HeaderName, HeaderValue)> {
    let name = HeaderName::from_bytes(name.as_bytes())
        .map_err(|_| ProviderError::Refused(format!("invalid header name {name:?}")))?;
    // The value may be a secret: never echo it.
    let value = HeaderValue::from_str(value)
        .map_err(|_| ProviderError::Refused(format!("invalid value for header {name}")))?;
    Ok((name, value))
}

/// Only same-origin redirects are followed: a custom auth header (unlike `Authorization`)
/// would otherwise travel to another host, and a downgrade to plain http would expose it.
fn redirect_policy() -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(|attempt| {
        let same_origin = attempt
            .previous()
            .first()
            .is_some_and(|first| first.origin() == attempt.url().origin());
        if attempt.previous().len() > MAX_REDIRECTS || !same_origin {
            attempt.stop()
        } else {
            attempt.follow()
        }
    })
}

fn is_retryable_status(status: StatusCode) -> bool {
    matches!(status.as_u16(), 429 | 500 | 502 | 503 | 504)
}

fn whole_seconds(d: Duration) -> u64 {
    (d.as_secs() + u64::from(d.subsec_nanos() > 0)).max(1)
}

/// Full jitter: a uniform delay between zero and the capped exponential step, so clients
/// that failed together do not come back together.
pub fn backoff_delay(options: &HttpOptions, attempt: u32) -> Duration {
    let factor = 2u32.saturating_pow(attempt.min(31));
    let step = options
        .backoff_base
        .saturating_mul(factor)
        .min(options.backoff_cap);
    let nanos = u64::try_from(step.as_nanos()).unwrap_or(u64::MAX);
    Duration::from_nanos(fastrand::u64(0..=nanos))
}

/// `Retry-After` as delta-seconds or an HTTP-date; a date in the past means "now".
pub fn parse_retry_after(value: &str, now: jiff::Timestamp) -> Option<Duration> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        return Some(Duration::from_secs(value.parse().unwrap_or(u64::MAX)));
    }
    let at = jiff::fmt::rfc2822::DateTimeParser::new()
        .parse_timestamp(value)
        .ok()?;
    let wait = now.duration_until(at);
    Some(Duration::try_from(wait).unwrap_or(Duration::ZERO))
}

/// The HTTPS policy for base URLs: https always, plain http only to loopback.
pub fn check_base_url(s: &str) -> Result<Url> {
    let url = Url::parse(s.trim())
        .map_err(|e| ProviderError::Refused(format!("invalid base URL: {e}")))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(ProviderError::Refused(
            "the base URL must not contain a user name or password".into(),
        ));
    }
    check_url(&url)?;
    Ok(url)
}

fn check_url(url: &Url) -> Result<()> {
    let host = url.host_str().unwrap_or_default();
    match url.scheme() {
        "https" if !host.is_empty() => Ok(()),
        "https" => Err(ProviderError::Refused("invalid base URL: no host".into())),
        "http" if is_loopback_host(host) => Ok(()),
        "http" => Err(ProviderError::Refused(format!(
            "refusing plain http:// to {}: use https://",
            sanitize_line(host)
        ))),
        other => Err(ProviderError::Refused(format!(
            "unsupported URL scheme {}: use https://",
            sanitize_line(other)
        ))),
    }
}

fn is_loopback_host(host: &str) -> bool {
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    match bare.parse::<IpAddr>() {
        Ok(IpAddr::V4(ip)) => ip.is_loopback(),
        Ok(IpAddr::V6(ip)) => {
            ip.is_loopback() || ip.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
        Err(_) => false,
    }
}

/// `base` plus path segments, each percent-encoded. Segments that would change the path's
/// meaning (empty, `.`, `..`) are refused, since ids can come from the server or the user.
pub fn endpoint(base: &Url, segments: &[&str]) -> Result<Url> {
    if let Some(bad) = segments
        .iter()
        .find(|s| s.is_empty() || **s == "." || **s == "..")
    {
        return Err(ProviderError::Refused(format!(
            "invalid id {:?} in a request path",
            sanitize_line(bad)
        )));
    }
    let mut url = base.clone();
    url.set_query(None);
    url.set_fragment(None);
    url.path_segments_mut()
        .map_err(|_| ProviderError::Refused("invalid base URL: cannot hold a path".into()))?
        .pop_if_empty()
        .extend(segments);
    Ok(url)
}

/// The `ProviderError` for a non-success reply, with the server's message in one line.
pub fn error_for_status(
    provider: &'static str,
    status: StatusCode,
    content_type: Option<&str>,
    body: &[u8],
) -> ProviderError {
    let message = error_message(content_type, body).unwrap_or_else(|| reason(status));
    let code = status.as_u16();
    match code {
        401 => ProviderError::Auth {
            provider,
            status: code,
            message,
        },
        403 => ProviderError::Forbidden {
            provider,
            status: code,
            message,
        },
        404 => ProviderError::NotFound(message),
        429 => ProviderError::RateLimited { provider },
        _ => ProviderError::Status {
            provider,
            status: code,
            message,
        },
    }
}

fn reason(status: StatusCode) -> String {
    status
        .canonical_reason()
        .map(str::to_string)
        .unwrap_or_else(|| format!("HTTP {}", status.as_u16()))
}

/// One short line from an error body, whatever its shape; `None` when it says nothing.
pub fn error_message(content_type: Option<&str>, body: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    let message = if let Ok(json) = serde_json::from_str::<serde_json::Value>(text) {
        json_message(&json)?
    } else if looks_like_html(content_type, text) {
        html_message(text)?
    } else {
        text.to_string()
    };
    let line = one_line(&message);
    (!line.is_empty()).then_some(line)
}

fn looks_like_html(content_type: Option<&str>, text: &str) -> bool {
    content_type.is_some_and(|ct| ct.to_ascii_lowercase().contains("html"))
        || (text.starts_with('<') && {
            let end = text.char_indices().nth(512).map_or(text.len(), |(i, _)| i);
            let head = text[..end].to_ascii_lowercase();
            head.contains("<html") || head.contains("<!doctype") || head.contains("<body")
        })
}

/// Walks the error shapes the three APIs use: `message`, `error` + `error_description`
/// (+ `error_details`), `errors` as an object of fields or a JSON:API array, or an object
/// keyed by field with arrays of messages.
fn json_message(value: &serde_json::Value) -> Option<String> {
    use serde_json::Value;
    match value {
        Value::String(s) => Some(s.trim().to_string()).filter(|s| !s.is_empty()),
        Value::Array(items) => {
            let parts: Vec<String> = items.iter().filter_map(json_message).collect();
            (!parts.is_empty()).then(|| parts.join("; "))
        }
        Value::Object(map) => {
            let text = |key: &str| map.get(key).and_then(json_message);
            let main = text("message")
                .or_else(|| text("error_description"))
                .or_else(|| match (text("title"), text("detail")) {
                    (Some(title), Some(detail)) if !detail.contains(&title) => {
                        Some(format!("{title}: {detail}"))
                    }
                    (title, detail) => detail.or(title),
                })
                .or_else(|| text("error"))
                .or_else(|| text("errors"))
                .or_else(|| text("msg"))
                .or_else(|| text("description"));
            let details = text("error_details");
            match (main, details) {
                (Some(main), Some(details)) if !main.contains(&details) => {
                    Some(format!("{main} ({details})"))
                }
                (Some(main), _) => Some(main),
                (None, Some(details)) => Some(details),
                (None, None) => field_messages(map),
            }
        }
        Value::Number(_) | Value::Bool(_) | Value::Null => None,
    }
}

/// `{"email": ["is invalid"], "name": "is required"}` → `email: is invalid; name: is required`.
fn field_messages(map: &serde_json::Map<String, serde_json::Value>) -> Option<String> {
    use serde_json::Value;
    let parts: Vec<String> = map
        .iter()
        .filter(|(key, _)| !matches!(key.as_str(), "code" | "status" | "param" | "success"))
        .filter_map(|(key, value)| {
            let message = match value {
                Value::String(_) | Value::Array(_) => json_message(value),
                Value::Object(inner) => field_messages(inner),
                _ => None,
            }?;
            Some(format!("{key}: {message}"))
        })
        .collect();
    (!parts.is_empty()).then(|| parts.join("; "))
}

/// The page's title or first heading, else its text.
fn html_message(html: &str) -> Option<String> {
    let lower = html.to_ascii_lowercase();
    for tag in ["title", "h1"] {
        let open = format!("<{tag}");
        let close = format!("</{tag}>");
        let Some(start) = lower.find(&open) else {
            continue;
        };
        let Some(gt) = lower[start..].find('>') else {
            continue;
        };
        let content_start = start + gt + 1;
        if let Some(end) = lower[content_start..].find(&close) {
            let inner = strip_tags(&html[content_start..content_start + end]);
            if !inner.trim().is_empty() {
                return Some(inner);
            }
        }
    }
    let text = crate::text::note_text(html);
    (!text.trim().is_empty()).then_some(text)
}

fn strip_tags(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut in_tag = false;
    for c in s.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.replace("&amp;", "&")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&nbsp;", " ")
}

/// Collapses whitespace, sanitises and caps a message to one short line.
pub fn one_line(s: &str) -> String {
    let collapsed = s.split_whitespace().collect::<Vec<_>>().join(" ");
    let clean = sanitize_line(&collapsed);
    let clean = clean.trim();
    if clean.chars().count() <= MAX_MESSAGE_CHARS {
        clean.to_string()
    } else {
        let mut cut: String = clean.chars().take(MAX_MESSAGE_CHARS - 1).collect();
        cut.truncate(cut.trim_end().len());
        cut.push('…');
        cut
    }
}

/// A concise description of a transport failure. reqwest's chain repeats itself and can
/// carry the URL, so we pick the most telling cause instead of printing the chain.
fn describe_error(e: &reqwest::Error) -> String {
    use std::error::Error as _;
    let mut chain: Vec<&(dyn std::error::Error + 'static)> = Vec::new();
    let mut source = e.source();
    while let Some(err) = source {
        chain.push(err);
        source = err.source();
    }
    for err in &chain {
        if let Some(message) = err
            .downcast_ref::<std::io::Error>()
            .and_then(|io| describe_io(io.kind()))
        {
            return message.to_string();
        }
    }
    for err in &chain {
        let text = err.to_string().to_ascii_lowercase();
        let known = if text.contains("connection closed before message completed") {
            Some("connection closed before the reply")
        } else if text.contains("dns error") || text.contains("failed to lookup address") {
            Some("could not resolve the host name")
        } else if text.contains("certificate") {
            Some("the server's TLS certificate was rejected")
        } else if text.contains("tls") || text.contains("handshake") {
            Some("TLS handshake failed")
        } else if text.contains("incomplete") || text.contains("unexpected eof") {
            Some("connection closed before the whole reply arrived")
        } else {
            None
        };
        if let Some(message) = known {
            return message.to_string();
        }
    }
    if e.is_body() || e.is_decode() {
        return "connection closed before the whole reply arrived".into();
    }
    let innermost = chain
        .last()
        .map(|err| err.to_string())
        .unwrap_or_else(|| "request failed".into());
    one_line(&innermost)
}

fn describe_io(kind: std::io::ErrorKind) -> Option<&'static str> {
    use std::io::ErrorKind;
    Some(match kind {
        ErrorKind::ConnectionRefused => "connection refused",
        ErrorKind::ConnectionReset => "connection reset by the server",
        ErrorKind::ConnectionAborted => "connection aborted",
        ErrorKind::UnexpectedEof => "connection closed before the reply",
        ErrorKind::BrokenPipe => "connection closed while sending the request",
        ErrorKind::NotConnected => "not connected",
        ErrorKind::AddrNotAvailable => "address not available",
        ErrorKind::HostUnreachable => "host unreachable",
        ErrorKind::NetworkUnreachable => "network unreachable",
        ErrorKind::NetworkDown => "network down",
        ErrorKind::PermissionDenied => "connection not permitted",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auth_debug_redacts_every_secret() {
        let cases = [
            Auth::Basic {
                user: "key-123".into(),
                password: "pw-456".into(),
            },
            Auth::Bearer("tok-789".into()),
            Auth::Header {
                name: "X-Api-Token".into(),
                value: "tok-789".into(),
            },
        ];
        for auth in cases {
            let debug = format!("{auth:?}");
            for secret in ["key-123", "pw-456", "tok-789"] {
                assert!(!debug.contains(secret), "{debug}");
            }
        }
        let debug = format!(
            "{:?}",
            ApiRequest::get(Url::parse("https://x.test/a").expect("url"))
                .auth(&Auth::Bearer("tok-789".into()))
                .header("X-Secret", "hdr-000")
        );
        assert!(
            !debug.contains("tok-789") && !debug.contains("hdr-000"),
            "{debug}"
        );
        assert!(debug.contains("X-Secret"), "{debug}");
    }

    #[test]
    fn idempotency_follows_the_method_unless_overridden() {
        let url = Url::parse("https://x.test/").expect("url");
        assert!(ApiRequest::get(url.clone()).is_idempotent());
        assert!(ApiRequest::put(url.clone()).is_idempotent());
        assert!(ApiRequest::delete(url.clone()).is_idempotent());
        assert!(!ApiRequest::post(url.clone()).is_idempotent());
        assert!(!ApiRequest::patch(url.clone()).is_idempotent());
        assert!(ApiRequest::post(url).idempotent(true).is_idempotent());
    }

    #[test]
    fn retry_after_takes_seconds_or_a_date() {
        let now: jiff::Timestamp = "2026-01-01T00:00:00Z".parse().expect("ts");
        assert_eq!(parse_retry_after("1", now), Some(Duration::from_secs(1)));
        assert_eq!(
            parse_retry_after(" 120 ", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            parse_retry_after("Thu, 01 Jan 2026 00:00:07 GMT", now),
            Some(Duration::from_secs(7))
        );
        assert_eq!(
            parse_retry_after("Wed, 31 Dec 2025 23:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("", now), None);
        assert_eq!(parse_retry_after("-3", now), None);
    }

    #[test]
    fn backoff_stays_within_the_capped_exponential_step() {
        let options = HttpOptions {
            backoff_base: Duration::from_millis(100),
            backoff_cap: Duration::from_millis(700),
            ..HttpOptions::default()
        };
        for attempt in 0..40 {
            let step =
                Duration::from_millis(100 * 2u64.pow(attempt.min(10))).min(options.backoff_cap);
            for _ in 0..50 {
                assert!(backoff_delay(&options, attempt) <= step);
            }
        }
    }

    #[test]
    fn endpoint_encodes_segments_and_refuses_path_tricks() {
        let base = Url::parse("http://127.0.0.1:9/prefix/").expect("url");
        let url = endpoint(&base, &["v1", "customers", "a/b c?"]).expect("endpoint");
        assert_eq!(
            url.as_str(),
            "http://127.0.0.1:9/prefix/v1/customers/a%2Fb%20c%3F"
        );
        for bad in ["", ".", ".."] {
            assert!(matches!(
                endpoint(&base, &["v1", bad]),
                Err(ProviderError::Refused(_))
            ));
        }
    }

    #[test]
    fn error_messages_from_every_body_shape() {
        let cases: &[(&str, Option<&str>, &str)] = &[
            (
                r#"{"code":401,"message":"No valid API key provided","param":null}"#,
                None,
                "No valid API key provided",
            ),
            (
                r#"{"error":"Customer not found"}"#,
                None,
                "Customer not found",
            ),
            (
                r#"{"error":"invalid_grant","error_description":"The password is wrong.","error_details":null}"#,
                None,
                "The password is wrong.",
            ),
            (
                r#"{"error":"bad","error_description":"Validation failed","error_details":{"email":["is required"]}}"#,
                None,
                "Validation failed (email: is required)",
            ),
            (
                r#"{"errors":{"external_id":"The external ID already exists."}}"#,
                None,
                "external_id: The external ID already exists.",
            ),
            (
                r#"{"external_id":["has already been taken","is too long"]}"#,
                None,
                "external_id: has already been taken; is too long",
            ),
            (
                r#"{"error_details":{"email":["is invalid"]}}"#,
                None,
                "email: is invalid",
            ),
            (
                r#"{"errors":[{"title":"Invalid Attribute","detail":"Content is too long.","status":"422"}]}"#,
                None,
                "Invalid Attribute: Content is too long.",
            ),
            (
                r#"{"errors":[{"title":"Forbidden","status":"403"},{"detail":"Role may not delete"}]}"#,
                None,
                "Forbidden; Role may not delete",
            ),
            (
                "500 Internal Server Error\n",
                Some("text/plain"),
                "500 Internal Server Error",
            ),
            (
                "<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1><hr>nginx</body></html>",
                Some("text/html"),
                "502 Bad Gateway",
            ),
            (
                "<!DOCTYPE html><html><body><h1>Service <b>Unavailable</b></h1></body></html>",
                None,
                "Service Unavailable",
            ),
            ("line one\r\n\tline two", None, "line one line two"),
        ];
        for (body, content_type, expected) in cases {
            assert_eq!(
                error_message(*content_type, body.as_bytes()).as_deref(),
                Some(*expected),
                "body: {body}"
            );
        }
        for silent in ["", "   ", "{}", r#"{"code":500}"#, "null"] {
            assert_eq!(
                error_message(None, silent.as_bytes()),
                None,
                "body: {silent}"
            );
        }
    }

    #[test]
    fn messages_are_capped_and_one_line() {
        let long = "x ".repeat(1000);
        let line = one_line(&long);
        assert!(line.chars().count() <= MAX_MESSAGE_CHARS);
        assert!(line.ends_with('…'));
        assert!(!one_line("a\nb\u{7}c").contains(['\n', '\u{7}']));
    }

    #[test]
    fn statuses_map_to_their_error_kinds() {
        let body = br#"{"message":"nope"}"#;
        let status = |code: u16| StatusCode::from_u16(code).expect("status");
        assert!(matches!(
            error_for_status("X", status(401), None, body),
            ProviderError::Auth { status: 401, ref message, .. } if message == "nope"
        ));
        assert!(matches!(
            error_for_status("X", status(403), None, body),
            ProviderError::Forbidden { status: 403, .. }
        ));
        assert_eq!(
            error_for_status("X", status(404), None, body),
            ProviderError::NotFound("nope".into())
        );
        assert_eq!(
            error_for_status("X", status(429), None, body),
            ProviderError::RateLimited { provider: "X" }
        );
        assert_eq!(
            error_for_status("X", status(422), None, b"").to_string(),
            "X answered 422: Unprocessable Entity"
        );
    }

    #[test]
    fn decode_json_explains_bad_bodies_briefly() {
        let err = decode_json::<Vec<u32>>("X", b"<html>oops</html>").expect_err("html");
        assert_eq!(
            err.to_string(),
            "unexpected reply from X: an HTML page where JSON was expected"
        );
        let err = decode_json::<Vec<u32>>("X", b"").expect_err("empty");
        assert!(matches!(err, ProviderError::Malformed { .. }));
        let err = decode_json::<Vec<u32>>("X", b"{\"a\":").expect_err("truncated");
        assert!(
            matches!(err, ProviderError::Malformed { ref message, .. } if !message.contains('\n'))
        );
    }
}
