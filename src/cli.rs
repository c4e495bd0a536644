//! The command line: argument parsing, the non-interactive commands (the "CLI contract" in
//! DESIGN.md) and the launch of the TUI. Errors leave here as one line and an exit status:
//! 0 done, 1 the provider or network failed, 2 bad usage, config or input.

use std::io::{self, IsTerminal, Read, Write};
use std::ops::ControlFlow;
use std::path::PathBuf;

use clap::{Parser, Subcommand};
use ratatui::crossterm::event::{KeyCode, KeyEvent};
use ratatui::crossterm::style::Stylize;
use serde::Serialize;
use tokio::sync::mpsc;

use crate::app::Msg;
use crate::app::filter::Filter;
use crate::app::{AccountTab, App};
use crate::config::{AccountConfig, Config, ConfigError};
use crate::demo::FakeServer;
use crate::fetch::{Fetcher, filter_customers, paginate};
use crate::model::{
    Customer, CustomerQuery, NewNote, Note, NoteKind, NotePatch, NoteQuery, ProviderKind,
};
use crate::outbox::{OutboxAccount, OutboxReport, OutboxWorker};
use crate::providers::{ProviderError, SharedProvider};
use crate::secrets::{self, Secret, SecretError, Source};
use crate::store::{Store, StoreThread};
use crate::tui::Services;

#[derive(Debug, Parser)]
#[command(
    name = "crm-notes",
    version,
    about = "Customer notes and call logs from ChartMogul, Peoplevine and ActivePlatform, in your terminal",
    after_help = "Without a command, opens the terminal UI. Try `crm-notes --demo`."
)]
pub struct Cli {
    /// Config file (default: $CRM_NOTES_CONFIG, else <config dir>/crm-notes/config.toml)
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Account to use (default: the first in the config)
    #[arg(long, global = true, value_name = "NAME")]
    pub account: Option<String>,
    /// Use the built-in demo data: fake servers on loopback, no account or key needed
    #[arg(long, global = true)]
    pub demo: bool,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// List the configured accounts
    Accounts {
        #[arg(long)]
        json: bool,
    },
    /// List customers
    Customers {
        /// An email uses the provider's email search; other text matches name, email, company
        #[arg(long)]
        search: Option<String>,
        #[arg(long, value_name = "N")]
        limit: Option<usize>,
        /// One JSON object per line
        #[arg(long)]
        json: bool,
    },
    /// List notes and call logs, newest first (the whole account without --customer)
    Notes {
        #[arg(long, value_name = "ID")]
        customer: Option<String>,
        /// note, call, or a type of the provider's own (Peoplevine's are free text)
        #[arg(long = "type", value_name = "TYPE")]
        kind: Option<String>,
        /// Author name or email (substring; an email is also filtered by the server)
        #[arg(long, value_name = "TEXT")]
        author: Option<String>,
        /// Text the note contains (the timeline filter's free-text matching)
        #[arg(long, value_name = "TEXT")]
        search: Option<String>,
        /// Notes from this time on, as `since:` takes it in the filter bar: 2026-10-01, 7d…
        #[arg(long, value_name = "DATE", allow_hyphen_values = true)]
        since: Option<String>,
        /// Notes up to this time, as `until:` takes it in the filter bar
        #[arg(long, value_name = "DATE", allow_hyphen_values = true)]
        until: Option<String>,
        /// At most N notes (default: every note)
        #[arg(long, value_name = "N")]
        limit: Option<usize>,
        /// One JSON object per line
        #[arg(long, conflicts_with = "csv")]
        json: bool,
        /// CSV (RFC 4180) with a header line: the JSON output's core fields
        #[arg(long)]
        csv: bool,
    },
    /// Add a note, or log a call with --call
    Add {
        #[arg(long, value_name = "ID")]
        customer: String,
        /// Log a call of this length: 15m, 1h30m, 1:30, 90s, or minutes
        #[arg(long, value_name = "DURATION", allow_hyphen_values = true)]
        call: Option<String>,
        /// When it happened: now, -2h, 30m ago, yesterday 14:00, 14:30, RFC 3339 (default now)
        #[arg(long, value_name = "TIME", allow_hyphen_values = true)]
        at: Option<String>,
        /// Author (default: the account's author_email)
        #[arg(long, value_name = "EMAIL")]
        author: Option<String>,
        /// Print the created note as one JSON line
        #[arg(long)]
        json: bool,
        /// The text; read from stdin when absent or "-"
        text: Option<String>,
    },
    /// Change a note's text, call duration or time
    Edit {
        note_id: String,
        #[arg(long)]
        text: Option<String>,
        #[arg(long, value_name = "DURATION", allow_hyphen_values = true)]
        call: Option<String>,
        #[arg(long, value_name = "TIME", allow_hyphen_values = true)]
        at: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Delete a note
    Delete { note_id: String },
    /// Store, check or remove an account's API key in the OS keyring
    Auth {
        #[command(subcommand)]
        action: AuthAction,
    },
    /// Run the fake provider APIs with demo data, for trying things out
    DemoServer {
        #[arg(long, default_value_t = 0)]
        port: u16,
        #[arg(long, default_value_t = DEMO_NOTES)]
        notes: usize,
        #[arg(long, default_value_t = DEMO_CUSTOMERS)]
        customers: usize,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuthAction {
    /// Store the key (read from stdin when it is not a terminal, else prompted without echo)
    Set { name: String },
    /// Say where the key comes from and check it against the provider
    Status { name: String },
    /// Remove the key from the keyring
    Remove { name: String },
}

const DEMO_CUSTOMERS: usize = 1204;
const DEMO_NOTES: usize = 12_000;
const DEMO_SEED: u64 = 42;

/// A failure of a command: one line for stderr and the exit status.
#[derive(Debug)]
pub struct Failure {
    pub code: u8,
    pub message: String,
}

impl Failure {
    fn usage(message: impl Into<String>) -> Failure {
        Failure {
            code: 2,
            message: message.into(),
        }
    }
}

impl From<ConfigError> for Failure {
    fn from(e: ConfigError) -> Self {
        Failure::usage(e.to_string())
    }
}

impl From<SecretError> for Failure {
    fn from(e: SecretError) -> Self {
        Failure::usage(e.to_string())
    }
}

impl From<ProviderError> for Failure {
    fn from(e: ProviderError) -> Self {
        let code = match e {
            ProviderError::Refused(_) | ProviderError::Unsupported(_) => 2,
            _ => 1,
        };
        Failure {
            code,
            message: e.to_string(),
        }
    }
}

impl From<io::Error> for Failure {
    fn from(e: io::Error) -> Self {
        Failure {
            code: 1,
            message: e.to_string(),
        }
    }
}

/// Parses the arguments and runs; returns the process exit status.
pub fn main() -> u8 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            use clap::error::ErrorKind;
            if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
                let _ = e.print();
                return 0;
            }
            // clap's usage errors are several lines; the contract is one.
            let text = e.to_string();
            let first = text.lines().next().unwrap_or("invalid arguments");
            let first = first.strip_prefix("error: ").unwrap_or(first);
            eprintln!("crm-notes: {first} (see --help)");
            return 2;
        }
    };
    let _log = init_logging();
    match run(cli) {
        Ok(()) => 0,
        Err(failure) => {
            tracing::error!(code = failure.code, message = %failure.message, "command failed");
            eprintln!(
                "crm-notes: {}",
                crate::text::sanitize_line(&failure.message)
            );
            failure.code
        }
    }
}

fn run(cli: Cli) -> Result<(), Failure> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    match &cli.command {
        None => run_tui(&cli, &runtime),
        Some(Command::Accounts { json }) => accounts(&cli, *json),
        Some(Command::Customers {
            search,
            limit,
            json,
        }) => {
            let session = Session::open(&cli, &runtime)?;
            let query = CustomerQuery {
                search: search.clone(),
                ..Default::default()
            };
            runtime.block_on(customers(&session, query, *limit, *json))
        }
        Some(Command::Notes {
            customer,
            kind,
            author,
            search,
            since,
            until,
            limit,
            json,
            csv,
        }) => {
            // Flags are checked before any key is looked up or anything is sent.
            let filter = note_filter(
                kind.as_deref(),
                author.as_deref(),
                search.as_deref(),
                since.as_deref(),
                until.as_deref(),
            )?;
            let session = Session::open(&cli, &runtime)?;
            let format = if *json {
                NoteFormat::Json
            } else if *csv {
                NoteFormat::Csv
            } else {
                NoteFormat::Plain {
                    color: Output::color(),
                    tz: jiff::tz::TimeZone::system(),
                }
            };
            let mut out = io::BufWriter::new(io::stdout());
            runtime.block_on(write_notes(
                &session.provider,
                &session.account,
                &filter,
                customer.as_deref(),
                *limit,
                &format,
                &mut out,
            ))?;
            Ok(())
        }
        Some(Command::Add {
            customer,
            call,
            at,
            author,
            json,
            text,
        }) => {
            // Input is checked before anything is sent (or any key looked up).
            let text = read_text(text.as_deref())?;
            let call = call.as_deref().map(parse_call).transpose()?;
            let created_at = parse_at(at.as_deref())?;
            if text.trim().is_empty() && call.is_none() {
                return Err(Failure::usage("nothing to add: the note is empty"));
            }
            let session = Session::open(&cli, &runtime)?;
            if at.is_some() && !session.provider.capabilities().sets_time {
                return Err(Failure::usage(format!(
                    "{} dates notes itself when they arrive: --at cannot be used",
                    session.provider.kind().display_name()
                )));
            }
            let note = NewNote {
                customer_id: customer.clone(),
                kind: if call.is_some() {
                    NoteKind::Call
                } else {
                    NoteKind::Note
                },
                author_email: author.clone().or(session.account.author_email.clone()),
                text,
                call_duration_s: call,
                created_at,
            };
            runtime.block_on(add(&session, note, *json))
        }
        Some(Command::Edit {
            note_id,
            text,
            call,
            at,
            json,
        }) => {
            let patch = NotePatch {
                text: text.as_deref().map(crate::text::sanitize),
                call_duration_s: call.as_deref().map(parse_call).transpose()?,
                created_at: at.as_deref().map(|a| parse_at(Some(a))).transpose()?,
                author_email: None,
            };
            if patch.is_empty() {
                return Err(Failure::usage(
                    "nothing to change: give --text, --call or --at",
                ));
            }
            let session = Session::open(&cli, &runtime)?;
            let note = runtime.block_on(session.provider.update_note(note_id, &patch))?;
            print_written(&session, &note, *json)
        }
        Some(Command::Delete { note_id }) => {
            let session = Session::open(&cli, &runtime)?;
            runtime.block_on(session.provider.delete_note(note_id))?;
            println!("deleted {}", crate::text::sanitize_line(note_id));
            Ok(())
        }
        Some(Command::Auth { action }) => auth(&cli, action, &runtime),
        Some(Command::DemoServer {
            port,
            notes,
            customers,
        }) => runtime.block_on(demo_server(*port, *customers, *notes)),
    }
}

/// The account a command works on, connected.
struct Session {
    account: AccountConfig,
    provider: SharedProvider,
    /// Keeps the demo's fake servers running for as long as the session.
    _demo: Vec<FakeServer>,
}

impl Session {
    /// The account named by `--account`, else the first.
    fn open(cli: &Cli, runtime: &tokio::runtime::Runtime) -> Result<Session, Failure> {
        if cli.demo {
            let (accounts, servers) = demo_accounts(runtime)?;
            let wanted = cli.account.as_deref();
            let Some((account, provider)) = accounts
                .into_iter()
                .find(|(a, _)| wanted.is_none_or(|w| a.name == w))
            else {
                return Err(Failure::usage(format!(
                    "no demo account named '{}' (demo accounts: {})",
                    wanted.unwrap_or_default(),
                    DEMO_ACCOUNTS.map(|(name, _)| name).join(", ")
                )));
            };
            return Ok(Session {
                account,
                provider,
                _demo: servers,
            });
        }
        let config = Config::load(&crate::config::config_path(cli.config.as_deref()))?;
        let account = config.account(cli.account.as_deref())?.clone();
        // Keyring calls may block on D-Bus: made here, outside async code.
        let (secret, _) = secrets::lookup(&account.name)?;
        let provider = crate::providers::connect(&account, secret)?;
        Ok(Session {
            account,
            provider,
            _demo: Vec::new(),
        })
    }
}

/// Accounts with their providers, in tab order.
type Connected = Vec<(AccountConfig, SharedProvider)>;

/// The demo accounts, in tab order.
const DEMO_ACCOUNTS: [(&str, ProviderKind); 3] = [
    ("acme", ProviderKind::ChartMogul),
    ("club", ProviderKind::Peoplevine),
    ("panel", ProviderKind::ActivePlatform),
];

/// Starts the fake servers on loopback and connects one account to each, through the same
/// HTTP client a real account uses.
fn demo_accounts(
    runtime: &tokio::runtime::Runtime,
) -> Result<(Connected, Vec<FakeServer>), Failure> {
    let now = jiff::Timestamp::now();
    // Enough delay that pages visibly stream in, as they do from the real APIs.
    let latency = std::time::Duration::from_millis(40);
    let mut accounts = Vec::new();
    let mut servers = Vec::new();

    let mut connect = |account: AccountConfig, server: FakeServer| -> Result<(), Failure> {
        let secret = Secret::new(server.api_key.clone());
        let provider = crate::providers::connect(&account, secret)?;
        accounts.push((account, provider));
        servers.push(server);
        Ok(())
    };

    let (name, kind) = DEMO_ACCOUNTS[0];
    let data = crate::demo::data::chartmogul_demo(now, DEMO_CUSTOMERS, DEMO_NOTES, DEMO_SEED);
    let options = crate::demo::chartmogul::ChartMogulOptions {
        latency,
        ..Default::default()
    };
    let author = options.default_author.clone();
    let server = runtime.block_on(crate::demo::chartmogul::start(data, options))?;
    let account = AccountConfig {
        base_url: Some(server.base_url.clone()),
        author_email: Some(author),
        ..AccountConfig::new(name, kind)
    };
    connect(account, server)?;

    let (name, kind) = DEMO_ACCOUNTS[1];
    let options = crate::demo::peoplevine::PeoplevineOptions {
        latency,
        ..Default::default()
    };
    let (username, company_id) = (options.username.clone(), options.company_id);
    let data = crate::demo::peoplevine::data::demo_data(now, DEMO_SEED);
    let server = runtime.block_on(crate::demo::peoplevine::start(data, options))?;
    let account = AccountConfig {
        base_url: Some(server.base_url.clone()),
        username: Some(username),
        company_id: Some(company_id),
        ..AccountConfig::new(name, kind)
    };
    connect(account, server)?;

    let (name, kind) = DEMO_ACCOUNTS[2];
    let options = crate::demo::activeplatform::ActivePlatformOptions {
        latency,
        ..Default::default()
    };
    let reseller_id = options.reseller_id.clone();
    let data = crate::demo::activeplatform::data::demo_data(now, DEMO_SEED);
    let server = runtime.block_on(crate::demo::activeplatform::start(data, options))?;
    let account = AccountConfig {
        base_url: Some(server.base_url.clone()),
        reseller_id: Some(toml::Value::String(reseller_id)),
        ..AccountConfig::new(name, kind)
    };
    connect(account, server)?;

    Ok((accounts, servers))
}

/// Every account of the config (or the demo), each connected; an account that cannot be
/// (no key, a provider refusal) still gets its tab, where it explains what is wrong.
fn all_accounts(
    cli: &Cli,
    runtime: &tokio::runtime::Runtime,
) -> Result<(Connected, Vec<FakeServer>), Failure> {
    if cli.demo {
        return demo_accounts(runtime);
    }
    let config = Config::load(&crate::config::config_path(cli.config.as_deref()))?;
    if let Some(name) = cli.account.as_deref() {
        config.account(Some(name))?;
    }
    if config.accounts.is_empty() {
        return Err(ConfigError::NoAccounts { path: config.path }.into());
    }
    let accounts = config
        .accounts
        .into_iter()
        .map(|account| {
            let provider = secrets::lookup(&account.name)
                .map_err(|e| ProviderError::Unsupported(e.to_string()))
                .and_then(|(secret, _)| crate::providers::connect(&account, secret))
                .unwrap_or_else(|error| crate::providers::unavailable(account.provider, error));
            (account, provider)
        })
        .collect();
    Ok((accounts, Vec::new()))
}

fn run_tui(cli: &Cli, runtime: &tokio::runtime::Runtime) -> Result<(), Failure> {
    let tz = jiff::tz::TimeZone::system();
    let (tx, rx) = mpsc::unbounded_channel();
    if !cli.demo {
        let path = crate::config::config_path(cli.config.as_deref());
        if let Err(ConfigError::Missing(_)) = Config::load(&path) {
            let app = App::welcome(path.display().to_string());
            return Ok(crate::tui::run(app, Vec::new(), None, runtime, tx, rx)?);
        }
    }
    let (accounts, _servers) = all_accounts(cli, runtime)?;
    let tabs = accounts
        .iter()
        .map(|(account, provider)| AccountTab {
            name: account.name.clone(),
            provider: provider.kind(),
            capabilities: provider.capabilities(),
        })
        .collect();
    let fetcher = Fetcher::new(
        accounts.iter().map(|(_, p)| p.clone()).collect(),
        tx.clone(),
        runtime.handle().clone(),
    );
    let (mut app, mut effects) = App::new(tabs, tz);
    for (index, (account, _)) in accounts.iter().enumerate() {
        app.set_author_email(index, account.author_email.clone());
    }
    // `--account NAME` opens on that account's tab.
    if let Some(index) = cli
        .account
        .as_deref()
        .and_then(|name| accounts.iter().position(|(a, _)| a.name == name))
        .filter(|i| (1..9).contains(i))
    {
        let digit = char::from(b'1' + index as u8);
        effects.extend(app.update(Msg::Key(KeyEvent::from(KeyCode::Char(digit)))));
    }

    // The demo keeps its drafts apart from real accounts' (same names, different data).
    let file = if cli.demo { "demo.db" } else { "crm-notes.db" };
    let path = crate::config::data_dir().join(file);
    let (store, outbox) = match Store::open(&path) {
        Ok(store) => {
            let store = StoreThread::spawn("crm-notes-store", store);
            let (report_tx, mut reports) = mpsc::unbounded_channel();
            let worker = OutboxWorker::new(
                accounts
                    .iter()
                    .map(|(account, provider)| OutboxAccount {
                        name: account.name.clone(),
                        provider: provider.clone(),
                    })
                    .collect(),
                store.clone(),
                report_tx,
            );
            let forward = tx.clone();
            runtime.spawn(async move {
                while let Some(report) = reports.recv().await {
                    if forward.send(Msg::Outbox(Box::new(report))).is_err() {
                        break;
                    }
                }
            });
            worker.start(runtime.handle());
            (Some(store), Some(worker))
        }
        Err(e) => {
            // Browsing works without the store; the app says drafts are not being kept.
            tracing::error!(error = %e, "opening the local store");
            effects.extend(app.update(Msg::Outbox(Box::new(OutboxReport::StoreFailed {
                error: e.to_string(),
            }))));
            (None, None)
        }
    };
    let cache_file = if cli.demo {
        "demo-cache.db"
    } else {
        "cache.db"
    };
    let names: Vec<String> = accounts.iter().map(|(a, _)| a.name.clone()).collect();
    let cache_path = crate::config::data_dir().join(cache_file);
    let (cache, effects) = crate::tui::open_cache(&cache_path, &mut app, effects, &names);
    let services = Services {
        fetcher,
        outbox,
        store,
        cache,
        accounts: names,
        tx: tx.clone(),
    };
    crate::tui::run(app, effects, Some(services), runtime, tx, rx)?;
    Ok(())
}

fn accounts(cli: &Cli, json: bool) -> Result<(), Failure> {
    let accounts: Vec<(String, ProviderKind, Option<String>, &str)> = if cli.demo {
        DEMO_ACCOUNTS
            .iter()
            .map(|(name, kind)| (name.to_string(), *kind, None, "demo"))
            .collect()
    } else {
        let config = Config::load(&crate::config::config_path(cli.config.as_deref()))?;
        config
            .accounts
            .iter()
            .map(|a| {
                let key = match secrets::lookup(&a.name) {
                    Ok((_, Source::Env)) => "env",
                    Ok((_, Source::Keyring)) => "keyring",
                    Err(_) => "missing",
                };
                (
                    a.name.clone(),
                    a.provider,
                    a.base_url().map(str::to_string),
                    key,
                )
            })
            .collect()
    };
    let mut out = Output::new();
    for (name, provider, base_url, key) in accounts {
        if json {
            out.json(&serde_json::json!({
                "name": name, "provider": provider.id(), "base_url": base_url, "key": key,
            }))?;
        } else {
            let line = format!(
                "{:<16} {:<15} {:<8} {}",
                name,
                provider.display_name(),
                key,
                base_url.unwrap_or_default()
            );
            out.line(&line)?;
        }
    }
    out.flush()
}

async fn customers(
    session: &Session,
    query: CustomerQuery,
    limit: Option<usize>,
    json: bool,
) -> Result<(), Failure> {
    let provider = &session.provider;
    let caps = provider.capabilities();
    let mut out = Output::new();
    let mut remaining = limit.unwrap_or(usize::MAX);
    let mut failure = None;
    paginate(
        |cursor| {
            let (provider, query) = (provider.clone(), query.clone());
            async move { provider.customers(&query, cursor.as_deref()).await }
        },
        |page, _| {
            for customer in filter_customers(page, &query, caps) {
                if remaining == 0 {
                    return ControlFlow::Break(());
                }
                remaining -= 1;
                let written = if json {
                    out.json(&CustomerJson::new(&session.account, &customer))
                } else {
                    out.line(&customer_line(&customer, out.color))
                };
                if let Err(e) = written {
                    failure = Some(e);
                    return ControlFlow::Break(());
                }
            }
            out.page_done(remaining)
        },
    )
    .await?;
    failure.map_or(Ok(()), Err)?;
    out.flush()
}

/// The listing's filter from the `notes` flags, built as the filter bar builds it: `--type`,
/// `--since` and `--until` take what `type:`, `since:` and `until:` take there (dates in the
/// system time zone). A value that does not parse is a usage error.
fn note_filter(
    kind: Option<&str>,
    author: Option<&str>,
    search: Option<&str>,
    since: Option<&str>,
    until: Option<&str>,
) -> Result<Filter, Failure> {
    let now = jiff::Timestamp::now();
    let tz = jiff::tz::TimeZone::system();
    // One token of the filter bar's syntax, quoted so a value with spaces stays one token.
    let token = |key: &str, value: &str| -> Result<Filter, Failure> {
        let value = value.replace('"', "");
        let invalid = |why: &str| {
            Failure::usage(format!(
                "invalid --{key} '{}': {why}",
                crate::text::sanitize_line(&value)
            ))
        };
        if value.trim().is_empty() {
            return Err(invalid("it is empty"));
        }
        let parsed = Filter::parse(&format!("{key}:\"{value}\""), now, &tz);
        match parsed.error {
            Some(error) => {
                let why = error.strip_prefix(&format!("{key}: ")).unwrap_or(&error);
                Err(invalid(why))
            }
            None => Ok(parsed.filter),
        }
    };
    let mut filter = Filter::default();
    if let Some(kind) = kind {
        filter.kind = token("type", kind)?.kind;
    }
    if let Some(since) = since {
        filter.since = token("since", since)?.since;
    }
    if let Some(until) = until {
        filter.until = token("until", until)?.until;
    }
    filter.authors = author
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .map(str::to_string)
        .into_iter()
        .collect();
    filter.text = search.unwrap_or_default().trim().to_string();
    Ok(filter)
}

/// How `write_notes` prints each note.
#[derive(Debug, Clone)]
pub enum NoteFormat {
    /// A header line and the text indented under it, for people.
    Plain { color: bool, tz: jiff::tz::TimeZone },
    /// One JSON object per line (the CLI contract).
    Json,
    /// RFC 4180 with a header line: the JSON contract's core fields.
    Csv,
}

/// The JSON contract's core fields, in order: the CSV columns.
pub const CSV_COLUMNS: [&str; 11] = [
    "account",
    "provider",
    "id",
    "customer_id",
    "type",
    "author_name",
    "author_email",
    "text",
    "call_duration_s",
    "created_at",
    "updated_at",
];

/// Lists the notes `filter` keeps (of one customer, or the whole account) to `out` in the
/// provider's order, and returns how many were written. Pages are written and flushed as they arrive and
/// dropped before the next is fetched, so memory stays at one page however large the account;
/// with `limit`, paging stops as soon as enough notes are out. A reader that goes away
/// (`| head`) ends the listing without an error.
pub async fn write_notes(
    provider: &SharedProvider,
    account: &AccountConfig,
    filter: &Filter,
    customer: Option<&str>,
    limit: Option<usize>,
    format: &NoteFormat,
    out: &mut impl Write,
) -> Result<usize, Failure> {
    let limit = limit.unwrap_or(usize::MAX);
    let base = NoteQuery {
        customer_id: customer.map(str::to_string),
        ..NoteQuery::default()
    };
    let query = filter.server_query(&provider.capabilities(), base);
    let mut matcher = filter.matcher();
    let mut written = 0;
    let mut failure: Option<io::Error> = None;
    if let NoteFormat::Csv = format {
        if let Err(e) = write_csv_header(out) {
            return finish_writing(written, Some(e));
        }
    }
    if limit == 0 {
        return finish_writing(written, out.flush().err());
    }
    paginate(
        |cursor| {
            let (provider, query) = (provider.clone(), query.clone());
            async move { provider.notes(&query, cursor.as_deref()).await }
        },
        |page, _| {
            for note in page.iter().filter(|note| matcher.matches(note)) {
                if let Err(e) = write_note(out, account, note, format) {
                    failure = Some(e);
                    return ControlFlow::Break(());
                }
                written += 1;
                if written == limit {
                    break;
                }
            }
            if let Err(e) = out.flush() {
                failure = Some(e);
                return ControlFlow::Break(());
            }
            if written == limit {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        },
    )
    .await?;
    finish_writing(written, failure)
}

fn finish_writing(written: usize, failure: Option<io::Error>) -> Result<usize, Failure> {
    match failure {
        None => Ok(written),
        // The reader has all it wanted.
        Some(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(written),
        Some(e) => Err(Failure {
            code: 1,
            message: format!("cannot write the listing: {e}"),
        }),
    }
}

fn write_note(
    out: &mut impl Write,
    account: &AccountConfig,
    note: &Note,
    format: &NoteFormat,
) -> io::Result<()> {
    match format {
        NoteFormat::Plain { color, tz } => writeln!(out, "{}", note_block(note, tz, *color)),
        NoteFormat::Json => {
            serde_json::to_writer(&mut *out, &NoteJson::new(account, note))?;
            out.write_all(b"\n")
        }
        NoteFormat::Csv => write_csv_row(out, account, note),
    }
}

fn write_csv_header(out: &mut impl Write) -> io::Result<()> {
    out.write_all(CSV_COLUMNS.join(",").as_bytes())?;
    out.write_all(b"\r\n")
}

/// One record in `CSV_COLUMNS` order; absent values are empty fields.
fn write_csv_row(out: &mut impl Write, account: &AccountConfig, note: &Note) -> io::Result<()> {
    let duration = note.call_duration_s.map(|s| s.to_string());
    let created = note.created_at.to_string();
    let updated = note.updated_at.map(|t| t.to_string());
    let fields: [&str; 11] = [
        &account.name,
        account.provider.id(),
        &note.id,
        note.customer_id.as_deref().unwrap_or_default(),
        note.kind.as_str(),
        note.author_name.as_deref().unwrap_or_default(),
        note.author_email.as_deref().unwrap_or_default(),
        &note.text,
        duration.as_deref().unwrap_or_default(),
        &created,
        updated.as_deref().unwrap_or_default(),
    ];
    for (i, field) in fields.into_iter().enumerate() {
        if i > 0 {
            out.write_all(b",")?;
        }
        write_csv_field(out, field)?;
    }
    out.write_all(b"\r\n")
}

/// RFC 4180: a field holding a comma, a quote or a line break is quoted, its quotes doubled.
fn write_csv_field(out: &mut impl Write, field: &str) -> io::Result<()> {
    if !field.contains([',', '"', '\r', '\n']) {
        return out.write_all(field.as_bytes());
    }
    out.write_all(b"\"")?;
    for (i, part) in field.split('"').enumerate() {
        if i > 0 {
            out.write_all(b"\"\"")?;
        }
        out.write_all(part.as_bytes())?;
    }
    out.write_all(b"\"")
}

/// One note in the JSON-lines contract.
#[derive(Serialize)]
pub struct NoteJson<'a> {
    account: &'a str,
    provider: &'static str,
    id: &'a str,
    customer_id: Option<&'a str>,
    #[serde(rename = "type")]
    kind: &'a str,
    author_name: Option<&'a str>,
    author_email: Option<&'a str>,
    text: &'a str,
    call_duration_s: Option<u32>,
    created_at: String,
    updated_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    subject: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    web_url: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    priority: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    confidential: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tags: Option<&'a Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    attachment: Option<AttachmentJson<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    original_type: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    original_id: Option<&'a str>,
}

#[derive(Serialize)]
struct AttachmentJson<'a> {
    name: &'a str,
    size: Option<u64>,
    url: Option<&'a str>,
}

impl<'a> NoteJson<'a> {
    pub fn new(account: &'a AccountConfig, note: &'a Note) -> NoteJson<'a> {
        NoteJson {
            account: &account.name,
            provider: account.provider.id(),
            id: &note.id,
            customer_id: note.customer_id.as_deref(),
            kind: note.kind.as_str(),
            author_name: note.author_name.as_deref(),
            author_email: note.author_email.as_deref(),
            text: &note.text,
            call_duration_s: note.call_duration_s,
            created_at: note.created_at.to_string(),
            updated_at: note.updated_at.map(|t| t.to_string()),
            subject: note.subject.as_deref(),
            web_url: note.web_url.as_deref(),
            status: note.extras.status.as_deref(),
            priority: note.extras.priority.then_some(true),
            confidential: note.extras.confidential.then_some(true),
            tags: Some(&note.extras.tags).filter(|t| !t.is_empty()),
            attachment: note.extras.attachment.as_ref().map(|a| AttachmentJson {
                name: &a.name,
                size: a.size,
                url: a.url.as_deref(),
            }),
            original_type: note.extras.original_type.as_deref(),
            original_id: note.extras.original_id.as_deref(),
        }
    }
}

/// One customer in the JSON-lines contract.
#[derive(Serialize)]
pub struct CustomerJson<'a> {
    account: &'a str,
    provider: &'static str,
    id: &'a str,
    name: &'a str,
    email: Option<&'a str>,
    company: Option<&'a str>,
    status: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    web_url: Option<&'a str>,
}

impl<'a> CustomerJson<'a> {
    pub fn new(account: &'a AccountConfig, customer: &'a Customer) -> CustomerJson<'a> {
        CustomerJson {
            account: &account.name,
            provider: account.provider.id(),
            id: &customer.id,
            name: &customer.name,
            email: customer.email.as_deref(),
            company: customer.company.as_deref(),
            status: customer.status.as_deref(),
            web_url: customer.web_url.as_deref(),
        }
    }
}

fn customer_line(customer: &Customer, color: bool) -> String {
    let name = pad(&customer.name, 32);
    let status = pad(customer.status.as_deref().unwrap_or("-"), 16);
    let detail = pad(customer.company_or_email().unwrap_or("-"), 32);
    if color {
        format!(
            "{} {} {} {}",
            name.bold(),
            status,
            detail,
            customer.id.as_str().dim()
        )
    } else {
        format!("{name} {status} {detail} {}", customer.id)
    }
}

fn note_block(note: &Note, tz: &jiff::tz::TimeZone, color: bool) -> String {
    let when = note
        .created_at
        .to_zoned(tz.clone())
        .strftime("%Y-%m-%d %H:%M")
        .to_string();
    let kind = match (&note.kind, note.call_duration_s) {
        (NoteKind::Call, Some(s)) => format!("call {}", crate::duration::format_duration(s)),
        (kind, _) => kind.as_str().to_string(),
    };
    let author = match (&note.author_name, &note.author_email) {
        (Some(name), Some(email)) => format!("{name} <{email}>"),
        _ => note.author_label().to_string(),
    };
    let customer = note.customer_id.as_deref().unwrap_or("");
    let header = if color {
        format!(
            "{}  {}  {}  {}",
            when.as_str().dim(),
            kind.as_str().bold(),
            author,
            customer.dim()
        )
    } else {
        format!("{when}  {kind}  {author}  {customer}")
    };
    let mut block = header;
    for line in note.text.lines() {
        block.push_str("\n    ");
        block.push_str(line);
    }
    block.push('\n');
    block
}

/// Left-aligns to `width` columns, cutting with `…` (unicode-width aware).
fn pad(s: &str, width: usize) -> String {
    use unicode_width::UnicodeWidthChar;
    let mut out = String::new();
    let mut used = 0;
    let total: usize = s.chars().filter_map(|c| c.width()).sum();
    for c in s.chars() {
        let w = c.width().unwrap_or(0);
        if total > width && used + w >= width {
            out.push('…');
            used += 1;
            break;
        }
        out.push(c);
        used += w;
    }
    out.extend(std::iter::repeat_n(' ', width.saturating_sub(used)));
    out
}

/// Streams lines to stdout, flushed page by page; colour only on a terminal without NO_COLOR.
struct Output {
    out: io::BufWriter<io::Stdout>,
    color: bool,
}

impl Output {
    fn new() -> Output {
        Output {
            out: io::BufWriter::new(io::stdout()),
            color: Output::color(),
        }
    }

    fn color() -> bool {
        io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
    }

    fn line(&mut self, line: &str) -> Result<(), Failure> {
        writeln!(self.out, "{line}").map_err(write_failure)
    }

    fn json(&mut self, value: &impl Serialize) -> Result<(), Failure> {
        serde_json::to_writer(&mut self.out, value).map_err(|e| Failure {
            code: 1,
            message: e.to_string(),
        })?;
        writeln!(self.out).map_err(write_failure)
    }

    /// After each page: flush so output streams, and stop paging once the limit is reached.
    fn page_done(&mut self, remaining: usize) -> ControlFlow<()> {
        if self.out.flush().is_err() || remaining == 0 {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    }

    fn flush(&mut self) -> Result<(), Failure> {
        self.out.flush().map_err(write_failure)
    }
}

/// A reader that went away (`| head`) is not an error worth a message.
fn write_failure(e: io::Error) -> Failure {
    if e.kind() == io::ErrorKind::BrokenPipe {
        std::process::exit(0);
    }
    Failure::from(e)
}

fn auth(cli: &Cli, action: &AuthAction, runtime: &tokio::runtime::Runtime) -> Result<(), Failure> {
    match action {
        AuthAction::Set { name } => {
            let secret = read_secret(name)?;
            secrets::store(name, &secret)?;
            println!("stored the key for '{name}' in the OS keyring");
            Ok(())
        }
        AuthAction::Remove { name } => {
            if secrets::remove(name)? {
                println!("removed the key for '{name}' from the OS keyring");
            } else {
                println!("no key for '{name}' in the OS keyring");
            }
            Ok(())
        }
        AuthAction::Status { name } => {
            let config = Config::load(&crate::config::config_path(cli.config.as_deref()))?;
            let account = config.account(Some(name))?;
            let (secret, source) = secrets::lookup(name)?;
            let provider = crate::providers::connect(account, secret)?;
            let from = match source {
                Source::Env => format!("from {}", secrets::env_var_name(name)),
                Source::Keyring => "from the OS keyring".to_string(),
            };
            runtime.block_on(provider.ping())?;
            println!(
                "{name}: {} accepted the key ({from})",
                account.provider.display_name()
            );
            Ok(())
        }
    }
}

/// A note's text from the argument, or stdin when absent or "-"; sanitised like pasted
/// text (escape sequences out), the agent's own characters kept.
fn read_text(arg: Option<&str>) -> Result<String, Failure> {
    let raw = match arg {
        Some(text) if text != "-" => text.to_string(),
        _ => {
            let mut text = String::new();
            io::stdin()
                .take(crate::text::MAX_NOTE_BYTES as u64 + 1)
                .read_to_string(&mut text)
                .map_err(|e| Failure::usage(format!("cannot read the text from stdin: {e}")))?;
            if text.len() > crate::text::MAX_NOTE_BYTES {
                return Err(Failure::usage(format!(
                    "the text is longer than {} KiB",
                    crate::text::MAX_NOTE_BYTES / 1024
                )));
            }
            // A trailing newline from `echo` or an editor is not part of the note.
            text.trim_end_matches(['\n', '\r']).to_string()
        }
    };
    Ok(crate::text::sanitize(&raw))
}

fn parse_call(input: &str) -> Result<u32, Failure> {
    crate::duration::parse_duration(input).map_err(|e| {
        Failure::usage(format!(
            "invalid --call '{}': {e}",
            crate::text::sanitize_line(input)
        ))
    })
}

fn parse_at(input: Option<&str>) -> Result<jiff::Timestamp, Failure> {
    let input = input.unwrap_or("now");
    let now = jiff::Timestamp::now();
    crate::when::parse_when(input, now, &jiff::tz::TimeZone::system())
        .map(crate::when::whole_seconds)
        .map_err(|e| {
            Failure::usage(format!(
                "invalid --at '{}': {e}",
                crate::text::sanitize_line(input)
            ))
        })
}

/// Creates the note. A create whose outcome is unknown (sent, then the connection dropped)
/// is looked for on the server before it is sent again, so it is never made twice.
async fn add(session: &Session, note: NewNote, json: bool) -> Result<(), Failure> {
    use crate::outbox::{Outcome, reconcile, send};
    let op = crate::store::WriteOp::Create(note.clone());
    let started = jiff::Timestamp::now();
    let mut outcome = send(session.provider.as_ref(), &op).await;
    if let Outcome::Unknown(_) = &outcome {
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        outcome = match reconcile(session.provider.as_ref(), &note, started).await {
            Ok(Some(found)) => Outcome::Confirmed(Some(found)),
            Ok(None) => send(session.provider.as_ref(), &op).await,
            Err(e) => Outcome::Unknown(e.to_string()),
        };
    }
    match outcome {
        Outcome::Confirmed(Some(created)) => print_written(session, &created, json),
        Outcome::Confirmed(None) => Ok(()),
        Outcome::Rejected(error) => Err(Failure {
            code: 1,
            message: format!("not saved: {error}"),
        }),
        Outcome::Retry(error) => Err(Failure {
            code: 1,
            message: format!("not saved, try again: {error}"),
        }),
        Outcome::Unknown(error) => Err(Failure {
            code: 1,
            message: format!(
                "may not have been saved ({error}): check with 'crm-notes notes --customer {}' before adding it again",
                note.customer_id
            ),
        }),
    }
}

fn print_written(session: &Session, note: &Note, json: bool) -> Result<(), Failure> {
    let mut out = Output::new();
    if json {
        out.json(&NoteJson::new(&session.account, note))?;
    } else {
        let color = out.color;
        out.line(&note_block(note, &jiff::tz::TimeZone::system(), color))?;
    }
    out.flush()
}

/// The key from stdin when piped (scripts, password managers), else a prompt without echo.
fn read_secret(name: &str) -> Result<Secret, Failure> {
    let value = if io::stdin().is_terminal() {
        rpassword::prompt_password(format!("API key for '{name}': "))?
    } else {
        let mut value = String::new();
        io::stdin().take(64 * 1024).read_to_string(&mut value)?;
        value
    };
    let value = value.trim();
    if value.is_empty() {
        return Err(Failure::usage("no key given: nothing stored"));
    }
    if value.chars().any(char::is_control) {
        return Err(Failure::usage(
            "the key contains control characters: nothing stored",
        ));
    }
    Ok(Secret::new(value))
}

/// The three fake APIs with demo data, on `port`, `port + 1` and `port + 2` (or any free
/// ports with 0), until Ctrl-C; prints a config that uses them.
async fn demo_server(port: u16, customers: usize, notes: usize) -> Result<(), Failure> {
    use crate::demo::{activeplatform, chartmogul, peoplevine};
    let now = jiff::Timestamp::now();
    let cm_options = chartmogul::ChartMogulOptions::default();
    let pv_options = peoplevine::PeoplevineOptions::default();
    let ap_options = activeplatform::ActivePlatformOptions::default();
    let config = |cm: &str, pv: &str, ap: &str| {
        format!(
            "[accounts.acme]\nprovider = \"chartmogul\"\nbase_url = \"{cm}\"\nauthor_email = \"{}\"\n\n\
             [accounts.club]\nprovider = \"peoplevine\"\nbase_url = \"{pv}\"\nusername = \"{}\"\ncompany_id = {}\n\n\
             [accounts.panel]\nprovider = \"activeplatform\"\nbase_url = \"{ap}\"\nreseller_id = \"{}\"\n\n\
             with CRM_NOTES_API_KEY_ACME={} CRM_NOTES_API_KEY_CLUB={} CRM_NOTES_API_KEY_PANEL={}\n\
             Ctrl-C stops the servers.",
            cm_options.default_author,
            pv_options.username,
            pv_options.company_id,
            ap_options.reseller_id,
            cm_options.api_key,
            pv_options.password,
            ap_options.token,
        )
    };
    let cm_data = crate::demo::data::chartmogul_demo(now, customers, notes, DEMO_SEED);
    let pv_data = peoplevine::data::demo_data(now, DEMO_SEED);
    let ap_data = activeplatform::data::demo_data(now, DEMO_SEED);
    if port == 0 {
        let cm = chartmogul::start(cm_data, cm_options.clone()).await?;
        let pv = peoplevine::start(pv_data, pv_options.clone()).await?;
        let ap = activeplatform::start(ap_data, ap_options.clone()).await?;
        println!("{}", config(&cm.base_url, &pv.base_url, &ap.base_url));
        let _ = tokio::signal::ctrl_c().await;
        Ok(())
    } else {
        let ports = [port, port.saturating_add(1), port.saturating_add(2)];
        let url = |p: u16| format!("http://127.0.0.1:{p}");
        println!("{}", config(&url(ports[0]), &url(ports[1]), &url(ports[2])));
        tokio::try_join!(
            chartmogul::serve(cm_data, cm_options.clone(), ports[0]),
            peoplevine::serve(pv_data, pv_options.clone(), ports[1]),
            activeplatform::serve(ap_data, ap_options.clone(), ports[2]),
        )?;
        Ok(())
    }
}

/// Logs go to a file in the state directory, never to the terminal.
fn init_logging() -> Option<tracing_appender::non_blocking::WorkerGuard> {
    let dir = crate::config::state_dir();
    std::fs::create_dir_all(&dir).ok()?;
    let appender = tracing_appender::rolling::never(&dir, "crm-notes.log");
    let (writer, guard) = tracing_appender::non_blocking(appender);
    let filter = tracing_subscriber::EnvFilter::try_from_env("CRM_NOTES_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,hyper=warn,reqwest=warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_ansi(false)
        .try_init()
        .ok()?;
    Some(guard)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn padding_cuts_long_text_with_an_ellipsis_and_fills_short_text() {
        assert_eq!(pad("Acme", 6), "Acme  ");
        assert_eq!(pad("Acme Corporation", 6), "Acme …");
        assert_eq!(pad("日本語テキスト", 6), "日本… ");
        assert_eq!(pad("", 2), "  ");
    }

    #[test]
    fn the_note_json_has_every_contract_field_with_nulls_for_absent_values() {
        let account = AccountConfig {
            name: "acme".into(),
            provider: ProviderKind::ChartMogul,
            base_url: None,
            author_email: None,
            username: None,
            company_id: None,
            region: None,
            reseller_id: None,
        };
        let note = Note {
            id: "note_1".into(),
            customer_id: Some("cus_1".into()),
            kind: NoteKind::Call,
            author_name: Some("Sara".into()),
            author_email: None,
            text: "Hello".into(),
            call_duration_s: Some(900),
            created_at: "2026-11-20T14:02:00-04:00".parse().unwrap(),
            updated_at: None,
            subject: None,
            web_url: None,
            extras: Default::default(),
        };
        let line = serde_json::to_string(&NoteJson::new(&account, &note)).unwrap();
        assert_eq!(
            line,
            r#"{"account":"acme","provider":"chartmogul","id":"note_1","customer_id":"cus_1","type":"call","author_name":"Sara","author_email":null,"text":"Hello","call_duration_s":900,"created_at":"2026-11-20T18:02:00Z","updated_at":null}"#
        );
    }
}
