//! Fake provider servers (axum, loopback only) and the demo data they serve: used by `--demo`,
//! `crm-notes demo-server`, the provider contract tests, the CLI tests and the benchmarks.

pub mod activeplatform;
pub mod chartmogul;
pub mod data;
pub mod peoplevine;

use std::sync::{Arc, Mutex, MutexGuard};

/// A running fake server; dropping it shuts the server down.
pub struct FakeServer {
    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub base_url: String,
    /// The credential the server accepts (for ChartMogul: the Basic auth user name).
    pub api_key: String,
    log: RequestLog,
    // Dropping the sender is the shutdown signal, so `Drop` needs no code of its own.
    _shutdown: tokio::sync::oneshot::Sender<()>,
}

impl std::fmt::Debug for FakeServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeServer")
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

impl FakeServer {
    /// Every request received so far, in arrival order (authorized or not).
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.log.lock().clone()
    }

    pub fn clear_requests(&self) {
        self.log.lock().clear();
    }
}

/// One request as the server saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedRequest {
    pub method: String,
    pub path: String,
    /// Percent-decoded (form rules: `+` is a space), in the order sent.
    pub query: Vec<(String, String)>,
    /// Whether the key was accepted (read-only keys count: they may read).
    pub authorized: bool,
    /// `None` when the request had no body; else the parsed JSON, or the raw text as a JSON
    /// string when it was not JSON, so a test can see exactly what a client sent.
    pub body: Option<serde_json::Value>,
}

impl RecordedRequest {
    /// The value of the first query parameter called `name`.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// The shared request log. A poisoned lock only means a test thread panicked while holding it;
/// the log itself is still usable, so recover instead of propagating the panic.
#[derive(Clone, Default)]
pub(crate) struct RequestLog(Arc<Mutex<Vec<RecordedRequest>>>);

impl RequestLog {
    pub(crate) fn lock(&self) -> MutexGuard<'_, Vec<RecordedRequest>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn push(&self, request: RecordedRequest) {
        self.lock().push(request);
    }
}

impl FakeServer {
    pub(crate) fn new(
        base_url: String,
        api_key: String,
        log: RequestLog,
        shutdown: tokio::sync::oneshot::Sender<()>,
    ) -> Self {
        FakeServer {
            base_url,
            api_key,
            log,
            _shutdown: shutdown,
        }
    }
}
