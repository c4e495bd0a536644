//! The seam between the UI and the APIs: the `Provider` trait, its one error type, and the
//! construction of a provider from an account's config. Each method fetches one page; the
//! fetch layer and the CLI drive pagination. Nothing here knows about the terminal.

pub mod activeplatform;
pub mod chartmogul;
pub mod http;
pub mod peoplevine;

use std::sync::Arc;

use async_trait::async_trait;

use crate::model::{
    Capabilities, Contact, Customer, CustomerQuery, NewNote, Note, NotePatch, NoteQuery, Page,
    ProviderKind,
};

/// Everything that can go wrong talking to a provider, each shown as one line.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ProviderError {
    /// 401: the key or password was refused.
    #[error("{provider} refused the credentials ({status}): {message}")]
    Auth {
        provider: &'static str,
        status: u16,
        message: String,
    },
    /// 403: the key may not do this (a read-only key, a restricted role).
    #[error("{provider} does not allow this ({status}): {message}")]
    Forbidden {
        provider: &'static str,
        status: u16,
        message: String,
    },
    #[error("not found: {0}")]
    NotFound(String),
    /// 429 after the retries ran out.
    #[error("{provider} is rate limiting us (429), try again shortly")]
    RateLimited { provider: &'static str },
    /// Any other non-success status, with the server's message decoded to one line.
    #[error("{provider} answered {status}: {message}")]
    Status {
        provider: &'static str,
        status: u16,
        message: String,
    },
    /// The request did not complete: connection refused or dropped, DNS, TLS.
    #[error("network error talking to {provider}: {message}")]
    Network {
        provider: &'static str,
        message: String,
    },
    #[error("{provider} did not answer within {seconds}s")]
    Timeout {
        provider: &'static str,
        seconds: u64,
    },
    /// The reply was not what the API documents.
    #[error("unexpected reply from {provider}: {message}")]
    Malformed {
        provider: &'static str,
        message: String,
    },
    /// Our own policy refused the request before sending it (e.g. plain http to a remote host).
    #[error("{0}")]
    Refused(String),
    /// The account cannot do this at all (see `Capabilities`).
    #[error("{0}")]
    Unsupported(String),
}

impl ProviderError {
    /// Failures worth trying again later (network, timeouts, 429, 5xx).
    pub fn is_transient(&self) -> bool {
        match self {
            ProviderError::Network { .. }
            | ProviderError::Timeout { .. }
            | ProviderError::RateLimited { .. } => true,
            ProviderError::Status { status, .. } => *status >= 500,
            _ => false,
        }
    }
}

impl ProviderError {
    /// The server could not be reached at all (as opposed to answering with an error): the
    /// app says it is offline and keeps working from the store.
    pub fn is_offline(&self) -> bool {
        matches!(
            self,
            ProviderError::Network { .. } | ProviderError::Timeout { .. }
        )
    }
}

pub type Result<T> = std::result::Result<T, ProviderError>;

/// One provider's API, one page per call.
#[async_trait]
pub trait Provider: Send + Sync {
    fn kind(&self) -> ProviderKind;
    fn capabilities(&self) -> Capabilities;
    /// Checks the credentials with the cheapest authenticated request.
    async fn ping(&self) -> Result<()>;
    /// One page of customers. An email search is answered by the provider where it can;
    /// name search is client-side (the caller filters with `Customer::matches`).
    async fn customers(&self, query: &CustomerQuery, page: Option<&str>) -> Result<Page<Customer>>;
    async fn customer(&self, id: &str) -> Result<Customer>;
    async fn contacts(&self, customer_id: &str, page: Option<&str>) -> Result<Page<Contact>>;
    /// One page of notes, newest first.
    async fn notes(&self, query: &NoteQuery, page: Option<&str>) -> Result<Page<Note>>;
    async fn note(&self, id: &str) -> Result<Note>;
    /// Creates a note. Never retried blindly: a failure whose outcome is unknown is
    /// reconciled by the caller (see `outbox`).
    async fn create_note(&self, note: &NewNote) -> Result<Note> {
        let _ = note;
        Err(self.unsupported("create notes"))
    }
    async fn update_note(&self, id: &str, patch: &NotePatch) -> Result<Note> {
        let _ = (id, patch);
        Err(self.unsupported("edit notes"))
    }
    async fn delete_note(&self, id: &str) -> Result<()> {
        let _ = id;
        Err(self.unsupported("delete notes"))
    }
    /// Adds a message to a note's thread (Peoplevine).
    async fn add_message(&self, note_id: &str, text: &str) -> Result<crate::model::NoteMessage> {
        let _ = (note_id, text);
        Err(self.unsupported("add messages to notes"))
    }
    /// How text the agent typed reads back once this provider has stored it (the same
    /// rendering as `Note::text`): lets the outbox recognise a note it may have created.
    fn rendered_text(&self, typed: &str) -> String {
        crate::text::note_text(typed)
    }
    /// The error for something this provider's API cannot do.
    fn unsupported(&self, what: &str) -> ProviderError {
        ProviderError::Unsupported(format!(
            "{} does not let us {what}",
            self.kind().display_name()
        ))
    }
}

pub type SharedProvider = Arc<dyn Provider>;

/// Builds the client for a configured account.
pub fn connect(
    account: &crate::config::AccountConfig,
    secret: crate::secrets::Secret,
) -> Result<SharedProvider> {
    let options = http::HttpOptions::default();
    let missing = |field: &str| {
        ProviderError::Refused(format!(
            "account '{}' needs `{field}` in the config",
            account.name
        ))
    };
    match account.provider {
        ProviderKind::ChartMogul => {
            let base_url = account.base_url().unwrap_or(chartmogul::DEFAULT_BASE_URL);
            let client =
                chartmogul::ChartMogul::new(base_url, secret.expose().to_string(), options)?;
            Ok(Arc::new(client))
        }
        ProviderKind::Peoplevine => {
            let base_url = account.base_url().unwrap_or(peoplevine::DEFAULT_BASE_URL);
            let client = peoplevine::Peoplevine::new(
                base_url,
                account
                    .username
                    .clone()
                    .ok_or_else(|| missing("username"))?,
                secret.expose().to_string(),
                account.company_id.ok_or_else(|| missing("company_id"))?,
                account.region.clone(),
                options,
            )?;
            Ok(Arc::new(client))
        }
        ProviderKind::ActivePlatform => {
            let base_url = account.base_url().ok_or_else(|| missing("base_url"))?;
            let reseller_id = match &account.reseller_id {
                Some(toml::Value::Integer(id)) => id.to_string(),
                Some(toml::Value::String(id)) => id.clone(),
                _ => return Err(missing("reseller_id")),
            };
            let client = activeplatform::ActivePlatform::new(
                base_url,
                reseller_id,
                secret.expose().to_string(),
                options,
            )?;
            Ok(Arc::new(client))
        }
    }
}

/// An account that cannot be used (no key, an unsupported setting): every call answers with
/// the reason, so its tab explains what to do instead of the app refusing to start.
struct Unavailable {
    kind: ProviderKind,
    reason: ProviderError,
}

/// See [`Unavailable`].
pub fn unavailable(kind: ProviderKind, reason: ProviderError) -> SharedProvider {
    Arc::new(Unavailable { kind, reason })
}

#[async_trait]
impl Provider for Unavailable {
    fn kind(&self) -> ProviderKind {
        self.kind
    }
    fn capabilities(&self) -> Capabilities {
        Capabilities::default()
    }
    async fn ping(&self) -> Result<()> {
        Err(self.reason.clone())
    }
    async fn customers(&self, _: &CustomerQuery, _: Option<&str>) -> Result<Page<Customer>> {
        Err(self.reason.clone())
    }
    async fn customer(&self, _: &str) -> Result<Customer> {
        Err(self.reason.clone())
    }
    async fn contacts(&self, _: &str, _: Option<&str>) -> Result<Page<Contact>> {
        Err(self.reason.clone())
    }
    async fn notes(&self, _: &NoteQuery, _: Option<&str>) -> Result<Page<Note>> {
        Err(self.reason.clone())
    }
    async fn note(&self, _: &str) -> Result<Note> {
        Err(self.reason.clone())
    }
}
