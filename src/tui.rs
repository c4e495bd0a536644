//! The terminal: setup and guaranteed restore, and the event loop that feeds input, fetch
//! results and ticks into `App::update` and carries out the effects it returns.
//! All I/O of the interactive app happens here or in the fetch layer, never in `App`.

use std::io::Write;
use std::time::Duration;

use base64::Engine;
use ratatui::crossterm::event::{
    self, DisableBracketedPaste, DisableMouseCapture, EnableBracketedPaste, EnableMouseCapture,
    Event,
};
use ratatui::crossterm::execute;
use tokio::sync::mpsc;

use crate::app::{App, CacheRead, CacheScope, CacheWrite, Cached, CachedData, Effect, Msg};
use crate::cache::{Cache, CacheError, CacheThread};
use crate::fetch::Fetcher;
use crate::outbox::OutboxWorker;
use crate::store::StoreThread;

/// How often the spinner and clocks move.
const TICK: Duration = Duration::from_millis(200);

/// What reaches the loop: a message for the app, or a request to stop (SIGTERM, SIGHUP).
#[derive(Debug)]
enum LoopEvent {
    Msg(Msg),
    Terminate,
}

/// Restores the terminal when dropped: on return, on error and during a panic's unwinding.
struct TerminalGuard;

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        let _ = execute!(
            std::io::stdout(),
            DisableMouseCapture,
            DisableBracketedPaste
        );
        ratatui::restore();
    }
}

/// What carries out the app's effects: fetches, the outbox of writes, the draft store and
/// the cache of what the servers sent.
pub struct Services {
    pub fetcher: Fetcher,
    pub outbox: Option<OutboxWorker>,
    pub store: Option<StoreThread>,
    pub cache: Option<CacheConnections>,
    /// The accounts' names by index: the cache keys its rows by name.
    pub accounts: Vec<String>,
    /// Where answers from the cache go.
    pub tx: mpsc::UnboundedSender<Msg>,
}

/// The cache file through two connections on two threads: what the servers send is written
/// on one while reads and searches answer on the other (WAL lets them run together), so a
/// long sync never makes the agent's search wait.
#[derive(Clone)]
pub struct CacheConnections {
    pub writer: CacheThread,
    pub reader: CacheThread,
    /// The newest search asked for: older ones still queued are skipped, not run.
    latest_search: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

/// Free text shorter than this is matched in memory only: one or two letters match nearly
/// every note, and ranking them all in the store costs more than it tells.
const MIN_SEARCH_CHARS: usize = 3;

/// Authors offered for completion: enough for any support team.
const MAX_AUTHORS: usize = 1_000;

/// Reads the list `read` asks for from the cache: shared by the start (before the first
/// frame) and the event loop.
pub fn read_cached(cache: &Cache, account: &str, read: &CacheRead) -> Result<Cached, CacheError> {
    let (data, synced_at) = match &read.what {
        CacheScope::Customers => {
            let (customers, at) = cache.customers(account)?;
            (CachedData::Customers(customers), at)
        }
        CacheScope::Notes { customer } => {
            let (notes, at) = cache.notes(account, customer.as_deref(), None)?;
            (CachedData::Notes(notes), at)
        }
        CacheScope::Authors => (
            CachedData::Authors(cache.authors(account, MAX_AUTHORS)?),
            None,
        ),
    };
    Ok(Cached {
        account: read.account,
        generation: read.generation,
        data,
        synced_at,
    })
}

/// Opens the cache and draws from it before the first frame: the effects asking for the
/// store's copy of a list are answered here, synchronously, so the first frame shows the
/// last-seen customers and timeline. Returns the cache thread (none if the file can't be
/// used: the app says so in one line and runs without it) and the effects left to perform.
pub fn open_cache(
    path: &std::path::Path,
    app: &mut App,
    effects: Vec<Effect>,
    accounts: &[String],
) -> (Option<CacheConnections>, Vec<Effect>) {
    let cache = match Cache::open(path) {
        Ok(cache) => cache,
        Err(e) => {
            tracing::error!(error = %e, "opening the cache");
            let mut effects = effects;
            effects.extend(app.update(Msg::Error(e.to_string())));
            return (None, effects);
        }
    };
    // A second connection for reads; without it, reads share the writer's thread.
    let reader = match Cache::open(path) {
        Ok(reader) => Some(reader),
        Err(e) => {
            tracing::warn!(error = %e, "opening a second connection to the cache");
            None
        }
    };
    let mut pending = effects;
    let mut rest = Vec::new();
    // Customers, then the selected customer's notes: two rounds; the bound only guards
    // against a loop.
    for _ in 0..4 {
        // What the first frame shows is read now; the authors (for Tab) can come later.
        let (reads, others): (Vec<Effect>, Vec<Effect>) =
            std::mem::take(&mut pending).into_iter().partition(
                |e| matches!(e, Effect::LoadCached(read) if read.what != CacheScope::Authors),
            );
        rest.extend(others);
        if reads.is_empty() {
            break;
        }
        for effect in reads {
            let Effect::LoadCached(read) = effect else {
                continue;
            };
            let Some(name) = accounts.get(read.account) else {
                continue;
            };
            match read_cached(&cache, name, &read) {
                Ok(cached) => pending.extend(app.update(Msg::Cached(Box::new(cached)))),
                Err(e) => tracing::warn!(error = %e, "reading the cache failed"),
            }
        }
    }
    rest.extend(pending);
    let writer = CacheThread::spawn("crm-notes-cache", cache);
    let reader = reader.map_or_else(
        || writer.clone(),
        |r| CacheThread::spawn("crm-notes-cache-reader", r),
    );
    let connections = CacheConnections {
        writer,
        reader,
        latest_search: Default::default(),
    };
    (Some(connections), rest)
}

impl Services {
    fn cache_and_name(&self, account: usize) -> Option<(CacheConnections, String)> {
        Some((self.cache.clone()?, self.accounts.get(account)?.clone()))
    }

    fn load_cached(&self, read: CacheRead, runtime: &tokio::runtime::Handle) {
        let Some((cache, name)) = self.cache_and_name(read.account) else {
            return;
        };
        let tx = self.tx.clone();
        runtime.spawn(async move {
            match cache
                .reader
                .call(move |c| read_cached(c, &name, &read))
                .await
            {
                Ok(cached) => {
                    let _ = tx.send(Msg::Cached(Box::new(cached)));
                }
                Err(e) => tracing::warn!(error = %e, "reading the cache failed"),
            }
        });
    }

    fn write_cache(&self, write: CacheWrite) {
        let account = match &write {
            CacheWrite::Customers { account, .. }
            | CacheWrite::Notes { account, .. }
            | CacheWrite::Upsert { account, .. }
            | CacheWrite::Remove { account, .. } => *account,
        };
        let Some((cache, name)) = self.cache_and_name(account) else {
            return;
        };
        cache.writer.post(move |cache| {
            let at = jiff::Timestamp::now();
            let result = match &write {
                CacheWrite::Customers {
                    page,
                    customers,
                    done,
                    ..
                } => cache.put_customers(&name, *page, customers, *done, at),
                CacheWrite::Notes {
                    customer,
                    page,
                    notes,
                    done,
                    ..
                } => cache.put_notes(&name, customer.as_deref(), *page, notes, *done, at),
                CacheWrite::Upsert { notes, .. } => notes
                    .iter()
                    .try_for_each(|note| cache.put_note(&name, note)),
                CacheWrite::Remove { id, .. } => cache.remove_note(&name, id),
            };
            if let Err(e) = result {
                tracing::warn!(error = %e, "writing to the cache failed");
            }
        });
    }

    fn search(
        &self,
        account: usize,
        generation: u64,
        query: crate::cache::SearchQuery,
        runtime: &tokio::runtime::Handle,
    ) {
        use std::sync::atomic::Ordering;
        let Some((cache, name)) = self.cache_and_name(account) else {
            return;
        };
        if !query
            .text
            .split_whitespace()
            .any(|w| w.chars().count() >= MIN_SEARCH_CHARS)
        {
            return;
        }
        cache.latest_search.store(generation, Ordering::Relaxed);
        let latest = cache.latest_search.clone();
        let tx = self.tx.clone();
        runtime.spawn(async move {
            let found = cache
                .reader
                .call(move |c| {
                    // Typing queues a search per key; only the newest is worth running.
                    if latest.load(Ordering::Relaxed) != generation {
                        return Ok(None);
                    }
                    c.search(&name, &query)
                        .map(|notes| Some(notes.into_iter().map(|n| n.id).collect::<Vec<_>>()))
                })
                .await;
            match found {
                Ok(None) => {}
                Ok(Some(ids)) => {
                    let _ = tx.send(Msg::Searched {
                        account,
                        generation,
                        ids,
                    });
                }
                Err(e) => tracing::warn!(error = %e, "searching the cache failed"),
            }
        });
    }
}

/// Runs the interactive app until it quits. `initial` are the effects `App::new` returned.
pub fn run(
    mut app: App,
    initial: Vec<Effect>,
    mut services: Option<Services>,
    runtime: &tokio::runtime::Runtime,
    tx: mpsc::UnboundedSender<Msg>,
    mut rx: mpsc::UnboundedReceiver<Msg>,
) -> std::io::Result<()> {
    install_panic_hook();
    let mut terminal = ratatui::try_init()?;
    let _guard = TerminalGuard;
    execute!(std::io::stdout(), EnableMouseCapture, EnableBracketedPaste)?;

    let (events_tx, mut events) = mpsc::unbounded_channel::<LoopEvent>();
    spawn_input_reader(events_tx.clone());
    spawn_signal_watch(runtime, events_tx.clone());
    spawn_ticker(runtime, tx.clone());
    // Fetch results arrive on `rx`; forward them into the one queue the loop reads.
    runtime.spawn({
        let events_tx = events_tx.clone();
        async move {
            while let Some(msg) = rx.recv().await {
                if events_tx.send(LoopEvent::Msg(msg)).is_err() {
                    break;
                }
            }
        }
    });

    let size = terminal.size()?;
    let mut effects = initial;
    effects.extend(app.update(Msg::Resize {
        width: size.width,
        height: size.height,
    }));
    if perform(effects, &mut services, runtime.handle()) {
        return Ok(());
    }

    loop {
        terminal.draw(|frame| crate::ui::draw(&app, frame))?;
        crash_if_asked()?;
        let Some(first) = events.blocking_recv() else {
            break;
        };
        // Take everything already queued before drawing again, so a burst of pages or
        // key repeats costs one frame, not one each.
        let mut batch = vec![first];
        while let Ok(more) = events.try_recv() {
            batch.push(more);
        }
        let mut quit = false;
        for event in batch {
            match event {
                LoopEvent::Terminate => quit = true,
                LoopEvent::Msg(msg) => {
                    let effects = app.update(msg);
                    quit |= perform(effects, &mut services, runtime.handle());
                }
            }
        }
        if quit || app.should_quit() {
            break;
        }
    }
    if let Some(services) = services.as_mut() {
        services.fetcher.cancel_all();
    }
    Ok(())
}

/// Carries out effects; returns true when the app asked to quit.
fn perform(
    effects: Vec<Effect>,
    services: &mut Option<Services>,
    runtime: &tokio::runtime::Handle,
) -> bool {
    let mut quit = false;
    for effect in effects {
        match effect {
            Effect::Fetch(request) => {
                if let Some(services) = services.as_mut() {
                    services.fetcher.run(request);
                }
            }
            Effect::SaveDraft(draft) => {
                if let Some(store) = services.as_ref().and_then(|s| s.store.as_ref()) {
                    store.post(move |store| {
                        if let Err(e) = store.save_draft(&draft) {
                            tracing::error!(error = %e, "saving a draft failed");
                        }
                    });
                }
            }
            Effect::DeleteDraft {
                account,
                customer_id,
                note_id,
            } => {
                if let Some(store) = services.as_ref().and_then(|s| s.store.as_ref()) {
                    store.post(move |store| {
                        if let Err(e) =
                            store.delete_draft(&account, &customer_id, note_id.as_deref())
                        {
                            tracing::error!(error = %e, "deleting a draft failed");
                        }
                    });
                }
            }
            Effect::Submit {
                account,
                local_id,
                op,
            } => {
                if let Some(outbox) = services.as_ref().and_then(|s| s.outbox.as_ref()) {
                    outbox.submit(runtime, account, local_id, op);
                }
            }
            Effect::DiscardOutbox { outbox_id } => {
                if let Some(store) = services.as_ref().and_then(|s| s.store.as_ref()) {
                    store.post(move |store| {
                        if let Err(e) = store.discard(outbox_id) {
                            tracing::error!(error = %e, "discarding a refused write failed");
                        }
                    });
                }
            }
            Effect::RetryOutbox => {
                if let Some(outbox) = services.as_ref().and_then(|s| s.outbox.as_ref()) {
                    outbox.retry_now();
                }
            }
            Effect::OpenUrl(url) => {
                // The browser may print to our terminal; detach it and ignore its output.
                if let Err(e) = open::that_detached(&url) {
                    tracing::warn!(%url, error = %e, "could not open a browser");
                }
            }
            Effect::Copy(text) => copy_via_osc52(&text),
            Effect::AddMessage {
                account,
                note_id,
                local_id,
                text,
            } => {
                if let Some(services) = services.as_ref() {
                    services
                        .fetcher
                        .add_message(account, note_id, local_id, text);
                }
            }
            Effect::LoadCached(read) => {
                if let Some(services) = services.as_ref() {
                    services.load_cached(read, runtime);
                }
            }
            Effect::Cache(write) => {
                if let Some(services) = services.as_ref() {
                    services.write_cache(write);
                }
            }
            Effect::Search {
                account,
                generation,
                query,
            } => {
                if let Some(services) = services.as_ref() {
                    services.search(account, generation, query, runtime);
                }
            }
            Effect::Quit => quit = true,
        }
    }
    quit
}

/// OSC 52 asks the terminal itself to set the clipboard: works over SSH and without X.
fn copy_via_osc52(text: &str) {
    let encoded = base64::engine::general_purpose::STANDARD.encode(text.as_bytes());
    let mut out = std::io::stdout();
    let _ = write!(out, "\x1b]52;c;{encoded}\x07");
    let _ = out.flush();
}

/// Crossterm's reads block, so they get a thread of their own.
fn spawn_input_reader(tx: mpsc::UnboundedSender<LoopEvent>) {
    std::thread::spawn(move || {
        loop {
            let msg = match event::read() {
                Ok(Event::Key(key)) => Msg::Key(key),
                Ok(Event::Mouse(mouse)) => Msg::Mouse(mouse),
                Ok(Event::Resize(width, height)) => Msg::Resize { width, height },
                Ok(Event::Paste(text)) => Msg::Paste(text),
                Ok(_) => continue,
                Err(e) => {
                    tracing::error!(error = %e, "reading terminal input failed");
                    let _ = tx.send(LoopEvent::Terminate);
                    return;
                }
            };
            if tx.send(LoopEvent::Msg(msg)).is_err() {
                return;
            }
        }
    });
}

fn spawn_ticker(runtime: &tokio::runtime::Runtime, tx: mpsc::UnboundedSender<Msg>) {
    runtime.spawn(async move {
        let mut interval = tokio::time::interval(TICK);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            interval.tick().await;
            if tx.send(Msg::Now(jiff::Timestamp::now())).is_err() || tx.send(Msg::Tick).is_err() {
                return;
            }
        }
    });
}

/// SIGTERM and SIGHUP (terminal closed) end the loop normally, so the terminal is restored.
fn spawn_signal_watch(runtime: &tokio::runtime::Runtime, tx: mpsc::UnboundedSender<LoopEvent>) {
    #[cfg(unix)]
    runtime.spawn(async move {
        use tokio::signal::unix::{SignalKind, signal};
        let (Ok(mut term), Ok(mut hup)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::hangup()),
        ) else {
            return;
        };
        tokio::select! {
            _ = term.recv() => {}
            _ = hup.recv() => {}
        }
        let _ = tx.send(LoopEvent::Terminate);
    });
    #[cfg(not(unix))]
    let _ = (runtime, tx);
}

/// Restores the terminal before the panic message is printed, so it is readable.
fn install_panic_hook() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let _ = execute!(
            std::io::stdout(),
            DisableMouseCapture,
            DisableBracketedPaste
        );
        ratatui::restore();
        previous(info);
    }));
}

/// Debug builds only: `CRM_NOTES_CRASH=panic|error` makes the loop fail after its first frame,
/// so the end-to-end tests can check the terminal is restored on a panic and a fatal error.
fn crash_if_asked() -> std::io::Result<()> {
    #[cfg(debug_assertions)]
    match std::env::var("CRM_NOTES_CRASH").as_deref() {
        Ok("panic") => panic!("crash requested by CRM_NOTES_CRASH"),
        Ok("error") => return Err(std::io::Error::other("crash requested by CRM_NOTES_CRASH")),
        _ => {}
    }
    Ok(())
}
