//! Provider-neutral types shared by the UI, the CLI and every provider client.
//! Every string in these types has already been sanitised by `text` when a provider built it,
//! so nothing here needs escaping again before it is drawn or printed.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// Which API an account speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProviderKind {
    #[serde(rename = "chartmogul")]
    ChartMogul,
    #[serde(rename = "peoplevine")]
    Peoplevine,
    #[serde(rename = "activeplatform")]
    ActivePlatform,
}

impl ProviderKind {
    /// The name used in the config file and in JSON output.
    pub fn id(self) -> &'static str {
        match self {
            ProviderKind::ChartMogul => "chartmogul",
            ProviderKind::Peoplevine => "peoplevine",
            ProviderKind::ActivePlatform => "activeplatform",
        }
    }

    /// The name shown to people.
    pub fn display_name(self) -> &'static str {
        match self {
            ProviderKind::ChartMogul => "ChartMogul",
            ProviderKind::Peoplevine => "Peoplevine",
            ProviderKind::ActivePlatform => "ActivePlatform",
        }
    }
}

/// A customer (ChartMogul customer, Peoplevine customer, ActivePlatform account).
/// Serialized into the local cache; `default` lets rows written before a field existed load.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Customer {
    pub id: String,
    pub name: String,
    pub email: Option<String>,
    pub company: Option<String>,
    pub status: Option<String>,
    /// Link to the customer in the provider's web app, where it has one.
    pub web_url: Option<String>,
}

impl Customer {
    /// Client-side search used where a provider has no name search: a case-insensitive
    /// substring of the name, the email or the company.
    pub fn matches(&self, needle: &str) -> bool {
        let needle = needle.trim().to_lowercase();
        if needle.is_empty() {
            return true;
        }
        [Some(&self.name), self.email.as_ref(), self.company.as_ref()]
            .into_iter()
            .flatten()
            .any(|field| field.to_lowercase().contains(&needle))
    }

    /// The secondary line shown next to the name: the company if there is one, else the email.
    pub fn company_or_email(&self) -> Option<&str> {
        self.company
            .as_deref()
            .filter(|c| !c.is_empty())
            .or(self.email.as_deref().filter(|e| !e.is_empty()))
    }
}

/// A person attached to a customer (ChartMogul contacts).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Contact {
    pub id: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub title: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub linked_in: Option<String>,
    pub twitter: Option<String>,
    /// Free-text notes about the contact, already rendered to plain text.
    pub notes: Option<String>,
}

impl Contact {
    pub fn full_name(&self) -> String {
        let parts: Vec<&str> = [self.first_name.as_deref(), self.last_name.as_deref()]
            .into_iter()
            .flatten()
            .filter(|s| !s.is_empty())
            .collect();
        if parts.is_empty() {
            self.email.clone().unwrap_or_else(|| "(no name)".into())
        } else {
            parts.join(" ")
        }
    }
}

/// Whether a timeline entry is a note or a call log (or a provider's own type).
/// Serialized as the bare string of [`NoteKind::as_str`], like the provider sent it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum NoteKind {
    #[serde(rename = "note")]
    Note,
    #[serde(rename = "call")]
    Call,
    #[serde(untagged)]
    Other(String),
}

impl NoteKind {
    pub fn parse(s: &str) -> NoteKind {
        match s.trim().to_ascii_lowercase().as_str() {
            "" | "note" => NoteKind::Note,
            "call" => NoteKind::Call,
            _ => NoteKind::Other(s.trim().to_string()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            NoteKind::Note => "note",
            NoteKind::Call => "call",
            NoteKind::Other(s) => s,
        }
    }
}

/// One entry of a customer's timeline.
/// Serialized into the local cache: every field but `id`, `kind` and `created_at` may be
/// missing from an older row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Note {
    pub id: String,
    #[serde(default)]
    pub customer_id: Option<String>,
    pub kind: NoteKind,
    #[serde(default)]
    pub author_name: Option<String>,
    #[serde(default)]
    pub author_email: Option<String>,
    /// Plain text: the server's HTML rendered by `text::note_text` (sanitised, unwrapped).
    #[serde(default)]
    pub text: String,
    #[serde(default)]
    pub call_duration_s: Option<u32>,
    pub created_at: Timestamp,
    #[serde(default)]
    pub updated_at: Option<Timestamp>,
    #[serde(default)]
    pub subject: Option<String>,
    #[serde(default)]
    pub web_url: Option<String>,
    /// What only some providers have (Peoplevine's status and thread, ActivePlatform's
    /// attachment); empty elsewhere.
    #[serde(default)]
    pub extras: NoteExtras,
}

/// Provider-specific parts of a note, shown in the Note pane and in JSON output.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct NoteExtras {
    /// Peoplevine: `open` / `closed`.
    pub status: Option<String>,
    pub priority: bool,
    pub confidential: bool,
    pub tags: Vec<String>,
    /// Peoplevine: when to follow up, as the provider gave it.
    pub reminder: Option<String>,
    pub assignees: Vec<String>,
    /// Peoplevine: the note's message thread, oldest first.
    pub messages: Vec<NoteMessage>,
    /// ActivePlatform: what the note is attached to (Account, Subscription, Order, …).
    pub original_type: Option<String>,
    pub original_id: Option<String>,
    pub attachment: Option<Attachment>,
}

/// One message of a note's thread.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NoteMessage {
    #[serde(default)]
    pub author: Option<String>,
    /// Plain text (rendered and sanitised like a note's text).
    #[serde(default)]
    pub text: String,
    #[serde(default)]
    pub created_at: Option<Timestamp>,
}

/// A file attached to a note.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attachment {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub size: Option<u64>,
    /// Signed, expiring download link.
    #[serde(default)]
    pub url: Option<String>,
}

impl Note {
    /// The name shown for the author: the name, else the email, else a dash.
    pub fn author_label(&self) -> &str {
        self.author_name
            .as_deref()
            .filter(|s| !s.is_empty())
            .or(self.author_email.as_deref())
            .unwrap_or("—")
    }
}

/// What notes to list. Fields a provider cannot filter on server-side are ignored by it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct NoteQuery {
    /// `None` lists the whole account.
    pub customer_id: Option<String>,
    pub kind: Option<NoteKind>,
    pub author_email: Option<String>,
    pub per_page: Option<u32>,
}

/// What customers to list.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CustomerQuery {
    /// Search text: an email (contains `@`) uses the provider's email search where it has one;
    /// anything else is matched client-side with [`Customer::matches`].
    pub search: Option<String>,
    pub per_page: Option<u32>,
}

impl CustomerQuery {
    pub fn email_search(&self) -> Option<&str> {
        self.search
            .as_deref()
            .map(str::trim)
            .filter(|s| s.contains('@'))
    }
}

/// One page of a listing, and where the next one starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Opaque token for the next page; `None` when this was the last page.
    pub next: Option<String>,
}

impl<T> Page<T> {
    pub fn last(items: Vec<T>) -> Self {
        Page { items, next: None }
    }
}

/// What an account can do; the UI offers only these and explains the rest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Capabilities {
    pub create_notes: bool,
    pub log_calls: bool,
    pub edit: bool,
    pub delete: bool,
    pub server_author_filter: bool,
    pub server_type_filter: bool,
    pub contacts: bool,
    pub web_link: bool,
    pub email_search: bool,
    /// Notes have a message thread that can be added to (Peoplevine).
    pub messages: bool,
    /// The API takes a note's time from us (ChartMogul's `created_at`); elsewhere the
    /// server stamps notes when it receives them, so "When" cannot be set.
    pub sets_time: bool,
}

impl Note {
    /// Whether the author's name or email contains `needle` (case-insensitive): the same
    /// matching for the CLI's `--author` and the TUI's author filter.
    pub fn author_matches(&self, needle: &str) -> bool {
        let needle = needle.trim().to_lowercase();
        [self.author_name.as_deref(), self.author_email.as_deref()]
            .into_iter()
            .flatten()
            .any(|field| field.to_lowercase().contains(&needle))
    }
}

/// A note or call to create.
#[derive(Debug, Clone, PartialEq)]
pub struct NewNote {
    pub customer_id: String,
    pub kind: NoteKind,
    pub author_email: Option<String>,
    /// The agent's text, exactly as typed (sanitised of escape sequences, nothing else).
    pub text: String,
    /// Calls only.
    pub call_duration_s: Option<u32>,
    /// Always set by us (never left to the server), so a write whose outcome is unknown can
    /// be recognised in the customer's timeline before it is sent again.
    pub created_at: Timestamp,
}

/// A partial update of a note: `None` leaves a field as it is.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct NotePatch {
    pub text: Option<String>,
    pub call_duration_s: Option<u32>,
    pub created_at: Option<Timestamp>,
    pub author_email: Option<String>,
}

impl NotePatch {
    pub fn is_empty(&self) -> bool {
        self == &NotePatch::default()
    }
}
