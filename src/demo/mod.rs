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
    /// Serves `app` on `listener` (bound to loopback by the caller) on the current tokio
    /// runtime until the returned `FakeServer` is dropped.
    pub(crate) fn spawn(
        listener: tokio::net::TcpListener,
        app: axum::Router,
        api_key: String,
        log: RequestLog,
        name: &'static str,
    ) -> std::io::Result<FakeServer> {
        let base_url = format!("http://{}", listener.local_addr()?);
        let (shutdown, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            // The sender is never used: its drop (with the FakeServer) resolves the receiver.
            let signal = async move {
                let _ = stopped.await;
            };
            if let Err(e) = axum::serve(listener, app)
                .with_graceful_shutdown(signal)
                .await
            {
                tracing::warn!("fake {name} server stopped: {e}");
            }
        });
        Ok(FakeServer {
            base_url,
            api_key,
            log,
            _shutdown: shutdown,
        })
    }
}

/// A request body as the fake servers see it.
pub(crate) enum Body {
    Empty,
    Json(serde_json::Value),
    /// Not JSON; kept as text for the request log.
    Invalid(String),
}

impl Body {
    pub(crate) fn parse(bytes: &[u8]) -> Body {
        if bytes.trim_ascii().is_empty() {
            return Body::Empty;
        }
        match serde_json::from_slice(bytes) {
            Ok(value) => Body::Json(value),
            Err(_) => Body::Invalid(String::from_utf8_lossy(bytes).into_owned()),
        }
    }

    /// What the request log keeps: the JSON, or the raw text as a JSON string.
    pub(crate) fn recorded(&self) -> Option<serde_json::Value> {
        match self {
            Body::Empty => None,
            Body::Json(value) => Some(value.clone()),
            Body::Invalid(text) => Some(serde_json::Value::String(text.clone())),
        }
    }

    /// The JSON object a write needs, if that is what was sent.
    pub(crate) fn json_object(&self) -> Option<&serde_json::Map<String, serde_json::Value>> {
        match self {
            Body::Json(serde_json::Value::Object(map)) => Some(map),
            _ => None,
        }
    }
}

/// The size a benchmark runs at: `full` under `cargo bench`, a hundredth (at least 1) when
/// `cargo test --all-targets` runs the bench targets once as a smoke test, so CI checks they
/// work without spending minutes building a million notes in a debug build.
pub fn bench_size(full: usize) -> usize {
    if std::env::args().any(|arg| arg == "--bench") {
        full
    } else {
        (full / 100).max(1)
    }
}
