//! The CLI, run as the real binary against the fake servers on loopback: JSON and CSV output,
//! filters reaching the server where it has them and applied on our side where it has not,
//! exit statuses and one-line errors.

use std::path::Path;
use std::process::{Command, Output, Stdio};

use crm_notes::demo::FakeServer;
use crm_notes::demo::chartmogul::{self, ChartMogulData, ChartMogulOptions};
use crm_notes::demo::data;
use crm_notes::demo::peoplevine::{self, PeoplevineData, PeoplevineOptions};
use serde_json::{Value, json};

const KEY: &str = "cm-test-key-5f2b9e";

struct Env {
    server: FakeServer,
    home: tempfile::TempDir,
    config: std::path::PathBuf,
}

fn ts(s: &str) -> jiff::Timestamp {
    s.parse().expect("timestamp")
}

fn sample() -> ChartMogulData {
    let customers = vec![
        data::customer("cus_1", "Acme Corp", "ops@acme.test", "Acme", "Active"),
        data::customer("cus_2", "Globex", "it@globex.test", "", "Past Due"),
        data::customer(
            "cus_3",
            "Initech",
            "bill@initech.test",
            "Initech LLC",
            "Cancelled",
        ),
    ];
    let mut notes = Vec::new();
    for i in 0..25u32 {
        let customer = if i % 5 == 0 { "cus_2" } else { "cus_1" };
        let (kind, author, duration) = if i % 3 == 0 {
            ("call", "Sara Lee (sara@example.com)", 60 * (i + 1))
        } else {
            ("note", "Adam Smith[staff-1] (adam@example.com)", 0)
        };
        let created = ts("2026-10-01T09:00:00Z")
            .checked_add(jiff::SignedDuration::from_hours(i64::from(i) * 7))
            .expect("in range");
        notes.push(data::note(
            &format!("note_{i:02}"),
            customer,
            kind,
            author,
            &format!("Entry {i}<br>second line &amp; more"),
            created,
            duration,
        ));
    }
    notes.push(data::note(
        "note_evil",
        "cus_3",
        "note",
        "Mallory (m@example.com)",
        "before\u{1b}]52;c;ZXZpbA==\u{7}\u{1b}[31mred\u{202e}after",
        ts("2026-09-01T00:00:00Z"),
        0,
    ));
    ChartMogulData {
        customers,
        contacts: Vec::new(),
        notes,
    }
}

fn setup(runtime: &tokio::runtime::Runtime) -> Env {
    setup_with(runtime, sample(), |_| {})
}

fn setup_with(
    runtime: &tokio::runtime::Runtime,
    data: ChartMogulData,
    tweak: impl FnOnce(&mut ChartMogulOptions),
) -> Env {
    let mut options = ChartMogulOptions {
        api_key: KEY.into(),
        default_per_page: 200,
        ..Default::default()
    };
    tweak(&mut options);
    let server = runtime
        .block_on(chartmogul::start(data, options))
        .expect("fake server");
    env_for(
        server,
        "provider = \"chartmogul\"\nauthor_email = \"sara@example.com\"",
    )
}

/// A home with a config whose account "acme" (so the helpers' key variable applies) is
/// `account` (the provider's own settings) served by `server`.
fn env_for(server: FakeServer, account: &str) -> Env {
    let home = tempfile::tempdir().expect("tempdir");
    let config = home.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[accounts.acme]\n{account}\nbase_url = \"{}\"\n",
            server.base_url
        ),
    )
    .expect("config");
    Env {
        server,
        home,
        config,
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

fn crm(env: &Env, args: &[&str]) -> Output {
    crm_with(env.home.path(), &env.config, args, Some(KEY), None)
}

fn crm_with(
    home: &Path,
    config: &Path,
    args: &[&str],
    key: Option<&str>,
    stdin: Option<&str>,
) -> Output {
    let keys: Vec<(String, String)> = key
        .map(|k| ("CRM_NOTES_API_KEY_ACME".to_string(), k.to_string()))
        .into_iter()
        .collect();
    crm_env(home, config, args, &keys, stdin)
}

/// The binary in a clean environment (its own HOME and XDG dirs, UTC), with `env` added.
fn crm_env(
    home: &Path,
    config: &Path,
    args: &[&str],
    env: &[(String, String)],
    stdin: Option<&str>,
) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_crm-notes"));
    command
        .arg("--config")
        .arg(config)
        .args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_STATE_HOME", home.join("state"))
        .env("XDG_DATA_HOME", home.join("data"))
        .env("TZ", "UTC")
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (name, value) in env {
        command.env(name, value);
    }
    let mut child = command.spawn().expect("run crm-notes");
    if let Some(input) = stdin {
        use std::io::Write;
        let mut pipe = child.stdin.take().expect("stdin");
        pipe.write_all(input.as_bytes()).expect("write stdin");
    }
    child.wait_with_output().expect("wait")
}

fn json_lines(output: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).expect("each line is one JSON object"))
        .collect()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn assert_one_line_error(output: &Output, code: i32) -> String {
    let err = stderr(output);
    assert_eq!(output.status.code(), Some(code), "stderr: {err}");
    assert_eq!(err.lines().count(), 1, "one line: {err:?}");
    assert!(err.starts_with("crm-notes: "), "{err}");
    assert!(!err.contains(KEY), "the key leaked: {err}");
    err
}

#[test]
fn notes_of_a_customer_come_back_as_json_lines_with_every_contract_field() {
    let rt = runtime();
    let env = setup(&rt);
    let out = crm(
        &env,
        &[
            "notes",
            "--account",
            "acme",
            "--customer",
            "cus_1",
            "--json",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let notes = json_lines(&out);
    assert_eq!(notes.len(), 20, "the 20 notes of cus_1");
    let first = &notes[0];
    for field in [
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
    ] {
        assert!(first.get(field).is_some(), "missing {field}: {first}");
    }
    assert_eq!(first["account"], "acme");
    assert_eq!(first["provider"], "chartmogul");
    assert_eq!(first["customer_id"], "cus_1");
    // Newest first.
    let times: Vec<&str> = notes
        .iter()
        .map(|n| n["created_at"].as_str().unwrap())
        .collect();
    let mut sorted = times.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(times, sorted);
    assert!(times[0].ends_with('Z'), "UTC RFC 3339: {}", times[0]);
    // HTML rendered to text, authors parsed.
    let note = notes
        .iter()
        .find(|n| n["id"] == "note_01")
        .expect("note_01");
    assert_eq!(note["text"], "Entry 1\nsecond line & more");
    assert_eq!(note["author_name"], "Adam Smith");
    assert_eq!(note["author_email"], "adam@example.com");
    assert_eq!(note["call_duration_s"], Value::Null);
    let call = notes
        .iter()
        .find(|n| n["id"] == "note_03")
        .expect("note_03");
    assert_eq!(call["type"], "call");
    assert_eq!(call["call_duration_s"], 240);
    // The filter went to the server.
    let sent = env.server.requests();
    assert!(sent.iter().any(|r| r.path == "/v1/customer_notes"
        && r.query.contains(&("customer_uuid".into(), "cus_1".into()))));
}

#[test]
fn notes_without_a_customer_list_the_whole_account_through_every_page() {
    let rt = runtime();
    let mut data = sample();
    let start = ts("2025-01-01T00:00:00Z");
    for i in 0..430u32 {
        let created = start
            .checked_add(jiff::SignedDuration::from_mins(i64::from(i)))
            .expect("in range");
        data.notes.push(data::note(
            &format!("note_bulk_{i:03}"),
            "cus_3",
            "note",
            "Sara (sara@example.com)",
            "bulk",
            created,
            0,
        ));
    }
    let env = setup_with(&rt, data, |_| {});
    let out = crm(&env, &["notes", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let notes = json_lines(&out);
    assert_eq!(notes.len(), 456);
    let mut ids: Vec<&str> = notes.iter().map(|n| n["id"].as_str().unwrap()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 456, "every note exactly once");
    let pages = env
        .server
        .requests()
        .iter()
        .filter(|r| r.path == "/v1/customer_notes")
        .count();
    assert_eq!(pages, 3, "456 notes in pages of 200");
    assert!(
        env.server
            .requests()
            .iter()
            .all(|r| !r.query.iter().any(|(k, _)| k == "customer_uuid")),
        "no customer filter for the whole account"
    );
}

#[test]
fn server_text_is_sanitised_in_json_and_plain_output() {
    let rt = runtime();
    let env = setup(&rt);
    for args in [
        &["notes", "--customer", "cus_3", "--json"][..],
        &["notes", "--customer", "cus_3"][..],
    ] {
        let out = crm(&env, args);
        assert!(out.status.success(), "{}", stderr(&out));
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(stdout.contains("before"), "{stdout}");
        assert!(stdout.contains("after"), "{stdout}");
        for bad in ['\u{1b}', '\u{7}', '\u{202e}'] {
            assert!(
                !stdout.contains(bad),
                "{bad:?} reached the output: {stdout:?}"
            );
        }
        assert!(
            !stdout.contains("52;c"),
            "the OSC payload survived: {stdout:?}"
        );
    }
}

#[test]
fn type_and_author_filters_are_sent_to_the_server_and_applied() {
    let rt = runtime();
    let env = setup(&rt);
    let out = crm(
        &env,
        &[
            "notes",
            "--type",
            "call",
            "--author",
            "sara@example.com",
            "--json",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let notes = json_lines(&out);
    assert_eq!(notes.len(), 9, "calls are every third entry of 25");
    assert!(notes.iter().all(|n| n["type"] == "call"));
    let sent = env.server.requests();
    let list = sent
        .iter()
        .find(|r| r.path == "/v1/customer_notes")
        .expect("a notes request");
    assert!(
        list.query.contains(&("type".into(), "call".into())),
        "{list:?}"
    );
    assert!(
        list.query
            .contains(&("author_email".into(), "sara@example.com".into())),
        "{list:?}"
    );

    // A name is matched on our side.
    let out = crm(
        &env,
        &["notes", "--author", "adam", "--limit", "3", "--json"],
    );
    let notes = json_lines(&out);
    assert_eq!(notes.len(), 3, "--limit");
    assert!(notes.iter().all(|n| n["author_name"] == "Adam Smith"));
}

#[test]
fn customers_are_listed_and_searched_by_name_or_by_email() {
    let rt = runtime();
    let env = setup(&rt);
    let out = crm(&env, &["customers", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let all = json_lines(&out);
    assert_eq!(all.len(), 3);
    for field in [
        "account", "provider", "id", "name", "email", "company", "status",
    ] {
        assert!(all[0].get(field).is_some(), "missing {field}");
    }
    let globex = all.iter().find(|c| c["id"] == "cus_2").expect("globex");
    assert_eq!(globex["company"], Value::Null, "an empty company is absent");

    let out = crm(&env, &["customers", "--search", "initech", "--json"]);
    let found = json_lines(&out);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0]["name"], "Initech");

    env.server.clear_requests();
    let out = crm(&env, &["customers", "--search", "IT@globex.test", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let found = json_lines(&out);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0]["id"], "cus_2");
    assert!(
        env.server
            .requests()
            .iter()
            .any(|r| r.path == "/v1/customers/search"),
        "an email uses the search endpoint"
    );

    let out = crm(
        &env,
        &["customers", "--search", "nobody@nowhere.test", "--json"],
    );
    assert!(
        out.status.success(),
        "a 404 from search means no match: {}",
        stderr(&out)
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn plain_output_has_no_colour_when_piped() {
    let rt = runtime();
    let env = setup(&rt);
    let out = crm(&env, &["customers"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("Acme Corp") && stdout.contains("Past Due"),
        "{stdout}"
    );
    assert!(!stdout.contains('\u{1b}'), "{stdout:?}");
    let out = crm(&env, &["notes", "--customer", "cus_1", "--limit", "2"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("Sara Lee <sara@example.com>") || stdout.contains("Adam Smith"));
    assert!(!stdout.contains('\u{1b}'));
}

#[test]
fn a_missing_key_is_a_usage_error_that_says_how_to_fix_it() {
    let rt = runtime();
    let env = setup(&rt);
    let out = crm_with(env.home.path(), &env.config, &["notes"], None, None);
    let err = assert_one_line_error(&out, 2);
    assert!(
        err.contains(
            "no API key for account 'acme': run 'crm-notes auth set acme' or set CRM_NOTES_API_KEY_ACME"
        ),
        "{err}"
    );
}

#[test]
fn a_refused_key_fails_with_status_1_without_echoing_the_key() {
    let rt = runtime();
    let env = setup(&rt);
    let out = crm_with(
        env.home.path(),
        &env.config,
        &["notes", "--json"],
        Some("wrong-key-1234"),
        None,
    );
    let err = assert_one_line_error(&out, 1);
    assert!(err.contains("401"), "{err}");
    assert!(!err.contains("wrong-key-1234"), "{err}");
}

#[test]
fn usage_and_config_errors_exit_2_with_one_line() {
    let rt = runtime();
    let env = setup(&rt);
    let err = assert_one_line_error(&crm(&env, &["notes", "--bogus"]), 2);
    assert!(err.contains("--bogus"), "{err}");
    let err = assert_one_line_error(&crm(&env, &["notes", "--account", "nope"]), 2);
    assert!(err.contains("'nope'") && err.contains("acme"), "{err}");

    let remote = env.home.path().join("remote.toml");
    std::fs::write(
        &remote,
        "[accounts.acme]\nprovider = \"chartmogul\"\nbase_url = \"http://example.com\"\n",
    )
    .unwrap();
    let out = crm_with(env.home.path(), &remote, &["notes"], Some(KEY), None);
    let err = assert_one_line_error(&out, 2);
    assert!(err.contains("http://"), "{err}");

    let broken = env.home.path().join("broken.toml");
    std::fs::write(&broken, "[accounts.acme\nprovider = 1\n").unwrap();
    let out = crm_with(env.home.path(), &broken, &["notes"], Some(KEY), None);
    let err = assert_one_line_error(&out, 2);
    assert!(err.contains("broken.toml"), "{err}");
}

#[test]
fn an_unreachable_server_is_a_provider_failure() {
    let home = tempfile::tempdir().unwrap();
    // Bind then drop a listener, so the port is closed.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = home.path().join("c.toml");
    std::fs::write(
        &config,
        format!(
            "[accounts.acme]\nprovider = \"chartmogul\"\nbase_url = \"http://127.0.0.1:{port}\"\n"
        ),
    )
    .unwrap();
    let out = crm_with(home.path(), &config, &["customers"], Some(KEY), None);
    assert_one_line_error(&out, 1);
}

#[test]
fn accounts_are_listed_with_where_their_key_comes_from() {
    let rt = runtime();
    let env = setup(&rt);
    let out = crm(&env, &["accounts", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let accounts = json_lines(&out);
    assert_eq!(accounts.len(), 1);
    assert_eq!(accounts[0]["name"], "acme");
    assert_eq!(accounts[0]["provider"], "chartmogul");
    assert_eq!(accounts[0]["key"], "env");
    assert!(!String::from_utf8_lossy(&out.stdout).contains(KEY));
}

#[test]
fn auth_status_checks_the_key_against_the_provider_without_printing_it() {
    let rt = runtime();
    let env = setup(&rt);
    let out = crm(&env, &["auth", "status", "acme"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("accepted"), "{stdout}");
    assert!(stdout.contains("CRM_NOTES_API_KEY_ACME"), "{stdout}");
    assert!(!stdout.contains(KEY));
    assert!(env.server.requests().iter().any(|r| r.path == "/v1/ping"));

    let out = crm_with(
        env.home.path(),
        &env.config,
        &["auth", "status", "acme"],
        Some("bad-key-77"),
        None,
    );
    let err = assert_one_line_error(&out, 1);
    assert!(!err.contains("bad-key-77"));
}

#[test]
fn auth_set_never_writes_the_key_to_a_file() {
    let rt = runtime();
    let env = setup(&rt);
    let secret = "sk-never-on-disk-31337";
    let out = crm_with(
        env.home.path(),
        &env.config,
        &["auth", "set", "acme"],
        None,
        Some(&format!("{secret}\n")),
    );
    let err = stderr(&out);
    if out.status.success() {
        // A real keyring was there: clean up after ourselves.
        let _ = crm_with(
            env.home.path(),
            &env.config,
            &["auth", "remove", "acme"],
            None,
            None,
        );
    } else {
        // No keyring on this machine: one line pointing at the environment variable.
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains("CRM_NOTES_API_KEY_ACME"), "{err}");
    }
    assert!(!err.contains(secret));
    assert_no_file_contains(env.home.path(), secret);
}

#[test]
fn keys_never_reach_the_log_file() {
    let rt = runtime();
    let env = setup(&rt);
    let _ = crm(&env, &["notes", "--json"]);
    let _ = crm_with(
        env.home.path(),
        &env.config,
        &["notes"],
        Some("wrong-key-abc"),
        None,
    );
    let log = env
        .home
        .path()
        .join("state")
        .join("crm-notes")
        .join("crm-notes.log");
    assert!(log.exists(), "commands log to the state directory");
    assert_no_file_contains(env.home.path(), KEY);
    assert_no_file_contains(env.home.path(), "wrong-key-abc");
}

fn assert_no_file_contains(dir: &Path, needle: &str) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            assert_no_file_contains(&path, needle);
        } else if let Ok(bytes) = std::fs::read(&path) {
            let text = String::from_utf8_lossy(&bytes);
            assert!(
                !text.contains(needle),
                "{} contains the secret",
                path.display()
            );
        }
    }
}

#[test]
fn add_logs_a_call_with_its_duration_and_prints_the_created_note() {
    let rt = runtime();
    let env = setup(&rt);
    let out = crm(
        &env,
        &[
            "add",
            "--customer",
            "cus_1",
            "--call",
            "15m",
            "--at",
            "-2h",
            "--json",
            "Renewal discussed 📞",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let created = json_lines(&out);
    assert_eq!(created.len(), 1);
    assert_eq!(created[0]["type"], "call");
    assert_eq!(created[0]["call_duration_s"], 900);
    assert_eq!(created[0]["text"], "Renewal discussed 📞");
    assert_eq!(
        created[0]["author_email"], "sara@example.com",
        "the account's author"
    );
    let post = env
        .server
        .requests()
        .into_iter()
        .find(|r| r.method == "POST")
        .expect("a POST");
    let body = post.body.expect("a JSON body");
    assert_eq!(body["customer_uuid"], "cus_1");
    assert_eq!(body["call_duration"], 900);
    let sent_at: jiff::Timestamp = body["created_at"].as_str().unwrap().parse().unwrap();
    let two_hours_ago = jiff::Timestamp::now() - jiff::SignedDuration::from_hours(2);
    assert!((sent_at.as_second() - two_hours_ago.as_second()).abs() < 120);

    // It is now the newest entry of the customer.
    let out = crm(
        &env,
        &["notes", "--customer", "cus_1", "--json", "--limit", "40"],
    );
    let notes = json_lines(&out);
    assert!(notes.iter().any(|n| n["text"] == "Renewal discussed 📞"));
}

#[test]
fn add_reads_the_text_from_stdin_and_keeps_it_exactly_but_without_escapes() {
    let rt = runtime();
    let env = setup(&rt);
    let text = "Line one — ünïcødé 🎉\nLine <two> & three\u{1b}[31m\n";
    let out = crm_with(
        env.home.path(),
        &env.config,
        &["add", "--customer", "cus_1", "--json", "-"],
        Some(KEY),
        Some(text),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let created = json_lines(&out);
    assert_eq!(created[0]["type"], "note");
    assert_eq!(
        created[0]["text"],
        "Line one — ünïcødé 🎉\nLine <two> & three"
    );
}

#[test]
fn add_refuses_invalid_input_and_sends_nothing() {
    let rt = runtime();
    let env = setup(&rt);
    for (args, needle) in [
        (
            &["add", "--customer", "cus_1", "--call", "0", "x"][..],
            "--call",
        ),
        (
            &["add", "--customer", "cus_1", "--call", "-5m", "x"][..],
            "--call",
        ),
        (
            &["add", "--customer", "cus_1", "--call", "99999h", "x"][..],
            "--call",
        ),
        (
            &["add", "--customer", "cus_1", "--at", "tomorrow", "x"][..],
            "--at",
        ),
        (
            &["add", "--customer", "cus_1", "--at", "+2h", "x"][..],
            "--at",
        ),
        (&["add", "--customer", "cus_1", ""][..], "empty"),
    ] {
        let out = crm(&env, args);
        let err = assert_one_line_error(&out, 2);
        assert!(err.contains(needle), "{args:?}: {err}");
    }
    assert!(
        env.server.requests().iter().all(|r| r.method == "GET"),
        "nothing was sent"
    );
}

#[test]
fn a_refused_write_fails_with_the_servers_message() {
    let rt = runtime();
    let env = setup_with(&rt, sample(), |o| {
        o.read_only_keys = vec!["read-only-key".into()];
    });
    let out = crm_with(
        env.home.path(),
        &env.config,
        &["add", "--customer", "cus_1", "hello"],
        Some("read-only-key"),
        None,
    );
    let err = assert_one_line_error(&out, 1);
    assert!(err.contains("403") && err.contains("read-only"), "{err}");

    let out = crm(&env, &["add", "--customer", "cus_nope", "hello"]);
    let err = assert_one_line_error(&out, 1);
    assert!(err.to_lowercase().contains("not found"), "{err}");
}

#[test]
fn edit_and_delete_change_the_note_on_the_server() {
    let rt = runtime();
    let env = setup(&rt);
    let out = crm(
        &env,
        &[
            "edit",
            "note_03",
            "--text",
            "Rewritten",
            "--call",
            "1h05m",
            "--json",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let edited = json_lines(&out);
    assert_eq!(edited[0]["text"], "Rewritten");
    assert_eq!(edited[0]["call_duration_s"], 3900);
    let patch = env
        .server
        .requests()
        .into_iter()
        .find(|r| r.method == "PATCH")
        .expect("a PATCH");
    let body = patch.body.expect("body");
    assert!(
        body.get("created_at").is_none(),
        "only changed fields: {body}"
    );

    let err = assert_one_line_error(&crm(&env, &["edit", "note_03"]), 2);
    assert!(err.contains("nothing to change"), "{err}");

    let out = crm(&env, &["delete", "note_03"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = crm(&env, &["notes", "--customer", "cus_1", "--json"]);
    assert!(json_lines(&out).iter().all(|n| n["id"] != "note_03"));
}

/// `crm-notes demo-server` runs the three fake APIs; the printed config works as is, and
/// every CLI command speaks each provider with the same JSON contract.
#[test]
fn every_provider_answers_the_same_cli_contract() {
    use std::io::BufRead;
    let home = tempfile::tempdir().unwrap();
    let mut server = Command::new(env!("CARGO_BIN_EXE_crm-notes"))
        .args(["demo-server", "--notes", "300", "--customers", "20"])
        .env("HOME", home.path())
        .env("XDG_STATE_HOME", home.path().join("state"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("demo-server");
    let mut printed = String::new();
    let mut lines = std::io::BufReader::new(server.stdout.take().unwrap()).lines();
    for line in lines.by_ref() {
        let line = line.unwrap();
        if line.starts_with("with ") {
            printed.push_str(&line);
            break;
        }
        printed.push_str(&line);
        printed.push('\n');
    }
    let (config_text, keys) = printed.split_once("with ").expect("the key line");
    let config = home.path().join("demo.toml");
    std::fs::write(&config, config_text).unwrap();
    let keys: Vec<(String, String)> = keys
        .split_whitespace()
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let run =
        |args: &[&str], stdin: Option<&str>| crm_env(home.path(), &config, args, &keys, stdin);

    for (account, provider) in [
        ("acme", "chartmogul"),
        ("club", "peoplevine"),
        ("panel", "activeplatform"),
    ] {
        let out = run(&["customers", "--account", account, "--json"], None);
        assert!(out.status.success(), "{account}: {}", stderr(&out));
        let customers = json_lines(&out);
        assert!(!customers.is_empty(), "{account}");
        assert!(customers.iter().all(|c| c["provider"] == provider));
        let customer = customers[0]["id"].as_str().unwrap().to_string();

        let out = run(
            &[
                "add",
                "--account",
                account,
                "--customer",
                &customer,
                "--call",
                "15m",
                "--json",
            ],
            Some("Called about the renewal ☎\nAll good."),
        );
        assert!(out.status.success(), "{account}: {}", stderr(&out));
        let created = json_lines(&out);
        assert_eq!(created[0]["type"], "call", "{account}: {}", created[0]);
        assert_eq!(
            created[0]["call_duration_s"], 900,
            "{account}: {}",
            created[0]
        );

        let out = run(
            &[
                "notes",
                "--account",
                account,
                "--customer",
                &customer,
                "--json",
            ],
            None,
        );
        assert!(out.status.success(), "{account}: {}", stderr(&out));
        let notes = json_lines(&out);
        for field in ["account", "provider", "id", "type", "text", "created_at"] {
            assert!(
                notes.iter().all(|n| n.get(field).is_some()),
                "{account} {field}"
            );
        }
        let ours = notes
            .iter()
            .find(|n| {
                n["text"]
                    .as_str()
                    .is_some_and(|t| t.contains("Called about the renewal"))
            })
            .unwrap_or_else(|| panic!("{account}: the new call is listed"));
        assert_eq!(ours["call_duration_s"], 900, "{account}: {ours}");
        assert_eq!(
            ours["text"], "Called about the renewal ☎\nAll good.",
            "{account}"
        );
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            !text.contains('\u{1b}'),
            "{account}: escape sequences reached the output"
        );
    }

    // Provider extras appear where the provider has them.
    let out = run(&["notes", "--account", "club", "--json"], None);
    let notes = json_lines(&out);
    assert!(
        notes.iter().any(|n| n.get("subject").is_some()),
        "Peoplevine subjects"
    );
    assert!(
        notes.iter().any(|n| n.get("status").is_some()),
        "Peoplevine status"
    );
    let out = run(&["notes", "--account", "panel", "--json"], None);
    let notes = json_lines(&out);
    assert!(
        notes.iter().any(|n| n.get("attachment").is_some()),
        "ActivePlatform attachments"
    );
    assert!(notes.iter().any(|n| n.get("original_type").is_some()));

    // What a provider cannot do is said in one line.
    let some_note = notes[0]["id"].as_str().unwrap().to_string();
    let out = run(
        &["edit", "--account", "panel", &some_note, "--text", "x"],
        None,
    );
    let err = assert_one_line_error(&out, 2);
    assert!(err.contains("ActivePlatform"), "{err}");

    let _ = server.kill();
    let _ = server.wait();
}

/// The `notes` requests the server received.
fn note_requests(env: &Env) -> Vec<crm_notes::demo::RecordedRequest> {
    env.server
        .requests()
        .into_iter()
        .filter(|r| r.path == "/v1/customer_notes" || r.path.ends_with("/notes"))
        .collect()
}

fn ids(notes: &[Value]) -> Vec<String> {
    let mut ids: Vec<String> = notes
        .iter()
        .map(|n| n["id"].as_str().expect("an id").to_string())
        .collect();
    ids.sort_unstable();
    ids
}

/// `note_NN` for each `i` of the sample `keep` picks.
fn sample_ids(keep: impl Fn(u32) -> bool) -> Vec<String> {
    let mut ids: Vec<String> = (0..25u32)
        .filter(|&i| keep(i))
        .map(|i| format!("note_{i:02}"))
        .collect();
    ids.sort_unstable();
    ids
}

#[test]
fn a_type_and_an_author_email_go_to_chartmogul_and_a_name_stays_on_our_side() {
    let rt = runtime();
    let env = setup(&rt);
    let out = crm(
        &env,
        &[
            "notes",
            "--type",
            "note",
            "--author",
            "adam@example.com",
            "--json",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(ids(&json_lines(&out)), sample_ids(|i| i % 3 != 0));
    let sent = note_requests(&env);
    assert!(!sent.is_empty());
    for request in &sent {
        assert_eq!(request.param("type"), Some("note"), "{request:?}");
        assert_eq!(
            request.param("author_email"),
            Some("adam@example.com"),
            "{request:?}"
        );
    }

    // ChartMogul knows only notes and calls: another type matches nothing, and is not sent.
    env.server.clear_requests();
    let out = crm(&env, &["notes", "--type", "memo", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(out.stdout.is_empty());
    assert!(
        note_requests(&env)
            .iter()
            .all(|r| r.param("type").is_none())
    );

    env.server.clear_requests();
    let out = crm(&env, &["notes", "--author", "Sara", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(ids(&json_lines(&out)), sample_ids(|i| i % 3 == 0));
    assert!(
        note_requests(&env)
            .iter()
            .all(|r| r.param("author_email").is_none() && r.param("type").is_none()),
        "a name is not an email the server could filter on"
    );
}

#[test]
fn search_since_and_until_filter_chartmogul_notes_on_our_side() {
    let rt = runtime();
    let env = setup(&rt);
    // Entries are 7 hours apart from 2026-10-01 09:00 UTC: entry 6 is the first on Oct 3,
    // entry 12 the last on Oct 4.
    let out = crm(
        &env,
        &[
            "notes",
            "--since",
            "2026-10-03",
            "--until",
            "2026-10-04",
            "--json",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        ids(&json_lines(&out)),
        sample_ids(|i| (6..=12).contains(&i))
    );

    // Every word must match, as in the filter bar; case does not matter.
    let out = crm(&env, &["notes", "--search", "entry 17", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(ids(&json_lines(&out)), sample_ids(|i| i == 17));

    // Every filter at once, the server's and ours.
    env.server.clear_requests();
    let out = crm(
        &env,
        &[
            "notes",
            "--type",
            "call",
            "--author",
            "sara@example.com",
            "--since",
            "2026-10-03",
            "--until",
            "2026-10-04",
            "--search",
            "second line",
            "--json",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        ids(&json_lines(&out)),
        sample_ids(|i| i == 6 || i == 9 || i == 12)
    );
    let sent = note_requests(&env);
    assert!(sent.iter().all(|r| r.param("type") == Some("call")));
    assert!(
        sent.iter()
            .all(|r| r.query.iter().all(|(k, _)| k != "since" && k != "until")),
        "ChartMogul has no date filter: {sent:?}"
    );
}

#[test]
fn a_bad_date_or_two_formats_are_usage_errors_and_nothing_is_sent() {
    let rt = runtime();
    let env = setup(&rt);
    for (args, needle) in [
        (&["notes", "--since", "someday"][..], "--since"),
        (&["notes", "--until", "2026-13-45"][..], "--until"),
        (&["notes", "--json", "--csv"][..], "--csv"),
        (&["notes", "--type", ""][..], "--type"),
    ] {
        let err = assert_one_line_error(&crm(&env, args), 2);
        assert!(err.contains(needle), "{args:?}: {err}");
    }
    assert!(env.server.requests().is_empty(), "nothing was sent");
}

/// The sample with 430 more notes: 456 in all, three pages of 200.
fn bulk_sample() -> ChartMogulData {
    let mut data = sample();
    let start = ts("2025-01-01T00:00:00Z");
    for i in 0..430u32 {
        let created = start
            .checked_add(jiff::SignedDuration::from_mins(i64::from(i)))
            .expect("in range");
        data.notes.push(data::note(
            &format!("note_bulk_{i:03}"),
            "cus_3",
            "note",
            "Sara (sara@example.com)",
            "bulk",
            created,
            0,
        ));
    }
    data
}

#[test]
fn limit_stops_paging_as_soon_as_enough_notes_are_out() {
    let rt = runtime();
    let env = setup_with(&rt, bulk_sample(), |_| {});
    let out = crm(&env, &["notes", "--limit", "5", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(json_lines(&out).len(), 5);
    assert_eq!(note_requests(&env).len(), 1, "one page was enough");

    // The bulk notes are the oldest: reaching 30 of them takes the last page.
    env.server.clear_requests();
    let out = crm(
        &env,
        &["notes", "--search", "bulk", "--limit", "230", "--json"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let notes = json_lines(&out);
    assert_eq!(notes.len(), 230);
    assert!(notes.iter().all(|n| n["text"] == "bulk"));
    assert_eq!(note_requests(&env).len(), 2, "filtered pages count no more");

    env.server.clear_requests();
    let out = crm(&env, &["notes", "--limit", "0", "--csv"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(parse_csv(&String::from_utf8_lossy(&out.stdout)).len(), 1);
    assert!(note_requests(&env).is_empty(), "nothing to fetch for none");
}

/// RFC 4180: records end with CRLF; a field is quoted when it holds a comma, a quote or a
/// line break, its quotes doubled. Panics on anything else, so the test sees bad output.
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut records = Vec::new();
    let mut record = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut was_quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => quoted = false,
                _ => field.push(c),
            }
            continue;
        }
        match c {
            '"' if field.is_empty() && !was_quoted => {
                quoted = true;
                was_quoted = true;
            }
            '"' => panic!("a stray quote in {text:?}"),
            ',' => {
                record.push(std::mem::take(&mut field));
                was_quoted = false;
            }
            '\r' => {
                assert_eq!(chars.next(), Some('\n'), "CR without LF in {text:?}");
                record.push(std::mem::take(&mut field));
                records.push(std::mem::take(&mut record));
                was_quoted = false;
            }
            '\n' => panic!("a record ends with LF, not CRLF, in {text:?}"),
            _ if was_quoted => panic!("text after a closing quote in {text:?}"),
            _ => field.push(c),
        }
    }
    assert!(!quoted, "an unterminated quote in {text:?}");
    assert!(
        field.is_empty() && record.is_empty(),
        "the last record has no CRLF"
    );
    records
}

#[test]
fn csv_has_a_header_and_the_json_fields_and_round_trips_awkward_text() {
    let rt = runtime();
    let mut data = sample();
    data.notes.push(data::note(
        "note_csv",
        "cus_3",
        "note",
        "Quinn Jones (q@example.com)",
        "Price: 1,200 \"net\", said <b>\"no\"</b>,<br>then ,,\"\"<br><br>\"",
        ts("2026-09-02T00:00:00Z"),
        0,
    ));
    let env = setup_with(&rt, data, |_| {});
    let json = crm(&env, &["notes", "--customer", "cus_3", "--json"]);
    assert!(json.status.success(), "{}", stderr(&json));
    let csv = crm(&env, &["notes", "--customer", "cus_3", "--csv"]);
    assert!(csv.status.success(), "{}", stderr(&csv));
    let records = parse_csv(&String::from_utf8_lossy(&csv.stdout));
    let header = &records[0];
    assert_eq!(
        header,
        &[
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
        ]
    );
    let notes = json_lines(&json);
    assert_eq!(records.len() - 1, notes.len());
    for (record, note) in records[1..].iter().zip(&notes) {
        assert_eq!(record.len(), header.len(), "{record:?}");
        for (column, value) in header.iter().zip(record) {
            let expected = match &note[column.as_str()] {
                Value::Null => String::new(),
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            assert_eq!(value, &expected, "{column} of {}", note["id"]);
        }
    }
    let awkward = notes
        .iter()
        .position(|n| n["id"] == "note_csv")
        .expect("the awkward note");
    let text = &records[awkward + 1][7];
    assert!(
        text.contains("1,200 \"net\"") && text.contains('\n') && text.contains(",,\"\""),
        "{text:?}"
    );

    let out = crm(
        &env,
        &["notes", "--customer", "cus_2", "--csv", "--limit", "2"],
    );
    let records = parse_csv(&String::from_utf8_lossy(&out.stdout));
    assert_eq!(records.len(), 3, "a header and two notes");
    assert!(records[1..].iter().all(|r| r[3] == "cus_2"));
}

const CLUB_NOTES: i64 = 120;
const CLUB_MAYA: (&str, &str) = ("Maya Patel", "maya@club.test");
const CLUB_TOM: (&str, &str) = ("Tom Becker", "tom@club.test");

/// 120 Peoplevine notes of one member (three pages of 50), two days apart from 2026-03-01
/// noon: types cycle call, note and the club's own "email"; Maya writes the even ones, Tom
/// the odd ones; every fifth mentions the pool heater.
fn club_sample() -> PeoplevineData {
    let demo = peoplevine::demo_data(ts("2026-11-20T12:00:00Z"), 7);
    let template = demo.notes[0].clone();
    let member = demo.customers[0].clone();
    let start = ts("2026-03-01T12:00:00Z");
    let notes = (0..CLUB_NOTES)
        .map(|i| {
            let (name, email) = if i % 2 == 0 { CLUB_MAYA } else { CLUB_TOM };
            let (first, last) = name.split_once(' ').expect("two names");
            let mut note = template.clone();
            note["id"] = json!(9_000 + i);
            note["type"] = json!(["call", "note", "email"][(i % 3) as usize]);
            note["user"] = peoplevine::data::staff_user(first, last, email, "Staff");
            note["subject"] = json!(format!("Subject {i}"));
            let heater = if i % 5 == 0 {
                "<br>Pool heater broken"
            } else {
                ""
            };
            note["details"] = json!(format!("Entry {i}{heater}"));
            note["created_on"] = json!(peoplevine::wire_time(
                start + jiff::SignedDuration::from_hours(48 * i)
            ));
            note["messages"] = json!([]);
            note["customer_id"] = member["id"].clone();
            note["reference_id"] = member["id"].clone();
            note
        })
        .collect();
    PeoplevineData {
        customers: vec![member],
        notes,
    }
}

fn setup_club(runtime: &tokio::runtime::Runtime) -> Env {
    let options = PeoplevineOptions {
        password: KEY.into(),
        ..PeoplevineOptions::default()
    };
    let (username, company_id) = (options.username.clone(), options.company_id);
    let server = runtime
        .block_on(peoplevine::start(club_sample(), options))
        .expect("fake server");
    env_for(
        server,
        &format!("provider = \"peoplevine\"\nusername = \"{username}\"\ncompany_id = {company_id}"),
    )
}

fn club_ids(keep: impl Fn(i64) -> bool) -> Vec<String> {
    let mut ids: Vec<String> = (0..CLUB_NOTES)
        .filter(|&i| keep(i))
        .map(|i| (9_000 + i).to_string())
        .collect();
    ids.sort_unstable();
    ids
}

/// Flags, and which of the club's notes they keep.
type ClubCase = (&'static [&'static str], fn(i64) -> bool);

#[test]
fn peoplevine_has_no_server_filters_so_every_flag_is_applied_on_our_side() {
    let rt = runtime();
    let env = setup_club(&rt);
    let out = crm(&env, &["notes", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        ids(&json_lines(&out)),
        club_ids(|_| true),
        "every note of every page"
    );
    assert_eq!(note_requests(&env).len(), 3, "three pages of 50");

    let cases: [ClubCase; 7] = [
        (&["--type", "call"], |i| i % 3 == 0),
        (&["--type", "note"], |i| i % 3 == 1),
        (&["--type", "email"], |i| i % 3 == 2),
        (&["--author", "maya"], |i| i % 2 == 0),
        (&["--author", CLUB_TOM.1], |i| i % 2 == 1),
        (&["--search", "pool heater"], |i| i % 5 == 0),
        // Notes fall on odd days of March: Mar 21 (entry 10) to Apr 8 (entry 19).
        (&["--since", "2026-03-20", "--until", "2026-04-09"], |i| {
            (10..=19).contains(&i)
        }),
    ];
    for (flags, keep) in cases {
        env.server.clear_requests();
        let mut args = vec!["notes", "--json"];
        args.extend_from_slice(flags);
        let out = crm(&env, &args);
        assert!(out.status.success(), "{flags:?}: {}", stderr(&out));
        assert_eq!(ids(&json_lines(&out)), club_ids(keep), "{flags:?}");
        assert!(
            note_requests(&env)
                .iter()
                .all(|r| r.query.iter().all(|(k, _)| ![
                    "type",
                    "author",
                    "author_email",
                    "search"
                ]
                .contains(&k.as_str()))),
            "{flags:?}: nothing for the server to filter on"
        );
    }

    let out = crm(
        &env,
        &[
            "notes", "--type", "call", "--author", "maya", "--search", "heater", "--json",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let notes = json_lines(&out);
    assert_eq!(ids(&notes), club_ids(|i| i % 30 == 0));
    assert!(notes.iter().all(|n| n["provider"] == "peoplevine"));

    let out = crm(&env, &["notes", "--type", "email", "--limit", "4", "--csv"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let records = parse_csv(&String::from_utf8_lossy(&out.stdout));
    assert_eq!(records.len(), 5);
    assert!(records[1..].iter().all(|r| r[4] == "email"), "{records:?}");
}
