//! Listing budget (DESIGN.md): `notes --json` over an account of 100,000 notes, from a loopback
//! fake ChartMogul through the real HTTP client with HTML rendered, takes ≤ 1.2× the bare
//! fetch-and-parse of the same pages, and holds ≤ 2× the JSON size of the notes it holds (one
//! page: the listing streams).
//!
//! The bare side is what any client must do: GET every page (same auth, `per_page=200`,
//! following cursors) and parse each body into owned fields. The listing side is
//! `cli::write_notes` into a sink, exactly as the command runs it minus the terminal.
//!
//! Memory is counted by a global allocator that leaves out the fake server's threads, so the
//! peak is the client's own.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::hint::black_box;
use std::io::{self, BufWriter};
use std::ops::ControlFlow;
use std::sync::atomic::{AtomicIsize, Ordering};
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use crm_notes::app::filter::Filter;
use crm_notes::cli::{NoteFormat, write_notes};
use crm_notes::config::AccountConfig;
use crm_notes::demo::FakeServer;
use crm_notes::demo::chartmogul::{self, ChartMogulOptions};
use crm_notes::fetch::paginate;
use crm_notes::model::{NoteQuery, ProviderKind};
use crm_notes::providers::SharedProvider;
use crm_notes::secrets::Secret;
use serde::Deserialize;

/// Full size under `cargo bench`; see `bench_size`.
fn note_count() -> usize {
    crm_notes::demo::bench_size(100_000)
}
/// Full size under `cargo bench`; see `bench_size`.
fn customer_count() -> usize {
    crm_notes::demo::bench_size(1_204)
}
const PER_PAGE: &str = "200";

/// Live bytes allocated by counted threads, and the highest it reached since the last reset.
static LIVE: AtomicIsize = AtomicIsize::new(0);
static PEAK: AtomicIsize = AtomicIsize::new(0);

thread_local! {
    // `const` so reading it never allocates (this runs inside the allocator).
    static UNCOUNTED: Cell<bool> = const { Cell::new(false) };
}

struct Counting;

fn counted() -> bool {
    // During thread teardown the flag may be gone; such frees are not the client's.
    UNCOUNTED.try_with(|c| !c.get()).unwrap_or(false)
}

fn grow(bytes: usize) {
    if counted() {
        let live = LIVE.fetch_add(bytes as isize, Ordering::Relaxed) + bytes as isize;
        PEAK.fetch_max(live, Ordering::Relaxed);
    }
}

fn shrink(bytes: usize) {
    if counted() {
        LIVE.fetch_sub(bytes as isize, Ordering::Relaxed);
    }
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded unchanged to the system allocator.
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            grow(layout.size());
        }
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded unchanged to the system allocator.
        let ptr = unsafe { System.alloc_zeroed(layout) };
        if !ptr.is_null() {
            grow(layout.size());
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `alloc` above with this layout.
        unsafe { System.dealloc(ptr, layout) };
        shrink(layout.size());
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded unchanged to the system allocator.
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            // Counted as the allocator sees it: both blocks exist at the moment of the copy.
            grow(new_size);
            shrink(layout.size());
        }
        new
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Peak live bytes (above the level at the start) while `run` runs.
fn peak_during<T>(run: impl FnOnce() -> T) -> (T, usize) {
    let start = LIVE.load(Ordering::Relaxed);
    PEAK.store(start, Ordering::Relaxed);
    let value = run();
    let peak = PEAK.load(Ordering::Relaxed) - start;
    (value, usize::try_from(peak).unwrap_or(0))
}

/// The fake server on its own runtime, whose threads the allocator leaves out.
struct Fixture {
    _server_runtime: tokio::runtime::Runtime,
    server: FakeServer,
    client_runtime: tokio::runtime::Runtime,
    provider: SharedProvider,
    account: AccountConfig,
    http: reqwest::Client,
}

fn fixture() -> Fixture {
    let server_runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .on_thread_start(|| UNCOUNTED.with(|c| c.set(true)))
        .enable_all()
        .build()
        .expect("server runtime");
    let data = crm_notes::demo::data::chartmogul_demo(
        jiff::Timestamp::now(),
        customer_count(),
        note_count(),
        7,
    );
    let html = data
        .notes
        .iter()
        .filter(|n| n["text"].as_str().is_some_and(|t| t.contains('<')))
        .count();
    assert!(
        html > note_count() / 20,
        "the notes exercise HTML rendering"
    );
    let options = ChartMogulOptions {
        api_key: "bench-key".into(),
        ..ChartMogulOptions::default()
    };
    let server = server_runtime
        .block_on(chartmogul::start(data, options))
        .expect("fake ChartMogul");
    // As the command runs: two worker threads.
    let client_runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("client runtime");
    let account = AccountConfig {
        base_url: Some(server.base_url.clone()),
        ..AccountConfig::new("acme", ProviderKind::ChartMogul)
    };
    let provider = crm_notes::providers::connect(&account, Secret::new(server.api_key.clone()))
        .expect("provider");
    Fixture {
        _server_runtime: server_runtime,
        server,
        client_runtime,
        provider,
        account,
        http: reqwest::Client::new(),
    }
}

/// A page as any client must parse it: every field, owned.
#[derive(Deserialize)]
struct BarePage {
    entries: Vec<BareNote>,
    cursor: Option<String>,
    has_more: bool,
}

#[derive(Deserialize)]
#[allow(dead_code)] // Parsed to be paid for, never read.
struct BareNote {
    uuid: String,
    customer_uuid: String,
    #[serde(rename = "type")]
    kind: String,
    text: String,
    call_duration: Option<u32>,
    author: String,
    created_at: String,
    updated_at: Option<String>,
}

/// Pages and notes fetched, and the largest page body in bytes.
struct Bare {
    notes: usize,
    largest_page: usize,
}

async fn bare(fx: &Fixture) -> Bare {
    let url = format!("{}/v1/customer_notes", fx.server.base_url);
    let mut cursor: Option<String> = None;
    let mut result = Bare {
        notes: 0,
        largest_page: 0,
    };
    loop {
        let mut request = fx
            .http
            .get(&url)
            .basic_auth(&fx.server.api_key, Some(""))
            .query(&[("per_page", PER_PAGE)]);
        if let Some(cursor) = &cursor {
            request = request.query(&[("cursor", cursor)]);
        }
        let body = request
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .expect("a page")
            .bytes()
            .await
            .expect("a body");
        result.largest_page = result.largest_page.max(body.len());
        let page: BarePage = serde_json::from_slice(&body).expect("a page of notes");
        result.notes += black_box(page.entries).len();
        match page.cursor {
            Some(next) if page.has_more => cursor = Some(next),
            _ => return result,
        }
    }
}

/// The provider's pages and nothing else: the floor for any listing through it.
async fn provider_pages(fx: &Fixture) -> usize {
    let mut notes = 0;
    paginate(
        |cursor| {
            let provider = fx.provider.clone();
            async move {
                provider
                    .notes(&NoteQuery::default(), cursor.as_deref())
                    .await
            }
        },
        |page, _| {
            notes += black_box(page).len();
            ControlFlow::Continue(())
        },
    )
    .await
    .unwrap_or_else(|e| panic!("paging failed: {e}"));
    notes
}

async fn listing(fx: &Fixture) -> usize {
    let mut out = BufWriter::new(io::sink());
    let filter = Filter::default();
    write_notes(
        &fx.provider,
        &fx.account,
        &filter,
        None,
        None,
        &NoteFormat::Json,
        &mut out,
    )
    .await
    .unwrap_or_else(|failure| panic!("listing failed: {}", failure.message))
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort_unstable();
    times[times.len() / 2]
}

fn listing_bench(c: &mut Criterion) {
    let fx = fixture();
    let rt = &fx.client_runtime;

    // Warm both paths (connections, lazily built state), and check they see every note.
    let warm = rt.block_on(bare(&fx));
    assert_eq!(warm.notes, note_count());
    assert_eq!(rt.block_on(listing(&fx)), note_count());

    // Interleaved, so drift on a shared machine hits every side alike.
    let mut times = [Vec::new(), Vec::new(), Vec::new()];
    for _ in 0..5 {
        let start = Instant::now();
        black_box(rt.block_on(bare(&fx)));
        times[0].push(start.elapsed());
        let start = Instant::now();
        black_box(rt.block_on(provider_pages(&fx)));
        times[1].push(start.elapsed());
        let start = Instant::now();
        black_box(rt.block_on(listing(&fx)));
        times[2].push(start.elapsed());
    }
    let [bare_time, provider_time, listing_time] = times.map(median);
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let ratio = |d: Duration| d.as_secs_f64() / bare_time.as_secs_f64();
    let total = note_count();
    println!(
        "time, {total} notes: bare fetch+parse {:.0} ms; provider pages alone (fetch, decode, render) {:.0} ms = {:.2}×; notes --json {:.0} ms = {:.2}× (budget 1.20)",
        ms(bare_time),
        ms(provider_time),
        ratio(provider_time),
        ms(listing_time),
        ratio(listing_time),
    );

    let (bare_run, bare_peak) = peak_during(|| rt.block_on(bare(&fx)));
    let (provider_run, provider_peak) = peak_during(|| rt.block_on(provider_pages(&fx)));
    let (listed, listing_peak) = peak_during(|| rt.block_on(listing(&fx)));
    assert_eq!(
        (bare_run.notes, provider_run, listed),
        (note_count(), note_count(), note_count())
    );
    let page = bare_run.largest_page;
    let times_page = |bytes: usize| bytes as f64 / page as f64;
    println!(
        "memory peak over one page of JSON ({page} B): bare fetch+parse {bare_peak} B = {:.2}×; provider pages alone {provider_peak} B = {:.2}×; notes --json {listing_peak} B = {:.2}× (budget 2.00)",
        times_page(bare_peak),
        times_page(provider_peak),
        times_page(listing_peak),
    );

    let mut group = c.benchmark_group("listing 100k notes");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(30));
    group.bench_function("bare fetch and parse", |b| {
        b.iter(|| black_box(rt.block_on(bare(&fx)).notes))
    });
    group.bench_function("notes --json", |b| {
        b.iter(|| black_box(rt.block_on(listing(&fx))))
    });
    group.finish();
}

criterion_group!(benches, listing_bench);
criterion_main!(benches);
