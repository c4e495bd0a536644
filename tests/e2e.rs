//! End to end: the real binary in a real pseudo-terminal (portable-pty), its screen read back
//! through a terminal emulator (vt100), against the built-in demo (fake servers on loopback).

use std::io::{Read, Write};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use portable_pty::{CommandBuilder, PtySize, native_pty_system};

const ROWS: u16 = 40;
const COLS: u16 = 120;
/// Generous: a debug build on a loaded 2-core CI machine. Only a ceiling for waiting,
/// never a timing assertion.
const PATIENCE: Duration = Duration::from_secs(60);

struct Session {
    parser: Arc<Mutex<vt100::Parser>>,
    writer: Box<dyn Write + Send>,
    child: Box<dyn portable_pty::Child + Send + Sync>,
    _home: tempfile::TempDir,
}

impl Session {
    fn start(args: &[&str], home: tempfile::TempDir) -> Session {
        Session::start_with(args, home, &[])
    }

    fn start_with(args: &[&str], home: tempfile::TempDir, env: &[(&str, &str)]) -> Session {
        let pty = native_pty_system()
            .openpty(PtySize {
                rows: ROWS,
                cols: COLS,
                pixel_width: 0,
                pixel_height: 0,
            })
            .expect("open a pty");
        let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_crm-notes"));
        cmd.args(args);
        cmd.env_clear();
        cmd.env("PATH", std::env::var_os("PATH").unwrap_or_default());
        cmd.env("TERM", "xterm-256color");
        cmd.env("TZ", "UTC");
        set_home(&mut cmd, home.path());
        for (key, value) in env {
            cmd.env(key, value);
        }
        let child = pty.slave.spawn_command(cmd).expect("spawn crm-notes");
        drop(pty.slave);
        let mut reader = pty.master.try_clone_reader().expect("reader");
        let writer = pty.master.take_writer().expect("writer");
        let parser = Arc::new(Mutex::new(vt100::Parser::new(ROWS, COLS, 0)));
        let sink = parser.clone();
        std::thread::spawn(move || {
            let _master = pty.master;
            let mut buf = [0u8; 8192];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                if let Ok(mut parser) = sink.lock() {
                    parser.process(&buf[..n]);
                }
            }
        });
        Session {
            parser,
            writer,
            child,
            _home: home,
        }
    }

    /// The session's home, for a second start on the same files.
    fn into_home(self) -> tempfile::TempDir {
        self._home
    }

    fn screen(&self) -> String {
        self.parser
            .lock()
            .map(|p| p.screen().contents())
            .unwrap_or_default()
    }

    fn wait_for(&self, what: &str, ok: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let screen = self.screen();
            if ok(&screen) {
                return screen;
            }
            if start.elapsed() > PATIENCE {
                panic!("timed out waiting for {what}; screen:\n{screen}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn keys(&mut self, keys: &str) {
        self.writer.write_all(keys.as_bytes()).expect("type");
        self.writer.flush().expect("flush");
    }

    fn wait_exit(&mut self) -> portable_pty::ExitStatus {
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return status;
            }
            if start.elapsed() > PATIENCE {
                let _ = self.child.kill();
                panic!("crm-notes did not exit; screen:\n{}", self.screen());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// After exit, the emulator must be back on the main screen with a visible cursor and
    /// mouse reporting off: the terminal was restored.
    fn assert_restored(&self) {
        // Let the reader thread drain the last bytes.
        std::thread::sleep(Duration::from_millis(200));
        let parser = self.parser.lock().expect("parser");
        let screen = parser.screen();
        assert!(!screen.alternate_screen(), "still on the alternate screen");
        assert!(!screen.hide_cursor(), "cursor still hidden");
        assert_eq!(
            screen.mouse_protocol_mode(),
            vt100::MouseProtocolMode::None,
            "mouse reporting still on"
        );
    }
}

fn set_home(cmd: &mut CommandBuilder, home: &Path) {
    cmd.env("HOME", home);
    cmd.env("XDG_CONFIG_HOME", home.join("config"));
    cmd.env("XDG_STATE_HOME", home.join("state"));
    cmd.env("XDG_DATA_HOME", home.join("data"));
}

#[test]
fn the_demo_browses_customers_notes_and_help_then_quits_cleanly() {
    let home = tempfile::tempdir().expect("tempdir");
    let mut s = Session::start(&["--demo"], home);

    let screen = s.wait_for("the three panes filled", |screen| {
        screen.contains("Customers")
            && screen.contains("Timeline")
            && screen.contains("Note")
            && screen.contains("Acme Corp")
            && (screen.contains("☎") || screen.contains("✎"))
    });
    assert!(screen.contains("ChartMogul"), "tab bar: {screen}");
    let first_timeline = screen.clone();

    // Move to the next customer: the timeline follows it.
    s.keys("j");
    let screen = s.wait_for("the second customer's timeline", |screen| {
        screen != first_timeline
            && screen.contains("Timeline ·")
            && !screen.contains("Timeline · Acme Corp")
    });
    assert!(screen.contains("Customers"));

    // Into the timeline and open a note in the Note pane.
    s.keys("k\t");
    s.wait_for("Acme's timeline again", |screen| {
        screen.contains("Timeline · Acme Corp")
    });
    s.keys("j\r");
    s.wait_for("the second note's author in the Note pane", |screen| {
        let mut rows = screen.lines().skip_while(|line| !line.contains("Note ─"));
        rows.any(|line| line.contains('<') && line.contains('@'))
    });

    // Help lists keys, Esc closes it.
    s.keys("?");
    let help = s.wait_for("the help overlay", |screen| screen.contains("this help"));
    for key_text in ["quit", "refresh", "next pane", "contacts"] {
        assert!(help.contains(key_text), "help lacks {key_text}: {help}");
    }
    s.keys("\x1b");
    s.wait_for("help closed", |screen| !screen.contains("this help"));

    s.keys("q");
    let status = s.wait_exit();
    assert!(status.success(), "exit status {status:?}");
    s.assert_restored();
}

#[test]
fn ctrl_c_quits_and_restores_the_terminal() {
    let home = tempfile::tempdir().expect("tempdir");
    let mut s = Session::start(&["--demo"], home);
    s.wait_for("the customers", |screen| screen.contains("Acme Corp"));
    s.keys("\x03");
    let status = s.wait_exit();
    assert!(status.success(), "exit status {status:?}");
    s.assert_restored();
}

#[test]
fn without_a_config_the_welcome_screen_explains_how_to_start() {
    let home = tempfile::tempdir().expect("tempdir");
    let mut s = Session::start(&[], home);
    let screen = s.wait_for("the welcome screen", |screen| {
        screen.contains("auth set") && screen.contains("--demo")
    });
    assert!(screen.contains("config.toml"), "{screen}");
    assert!(screen.contains("chartmogul"), "{screen}");
    s.keys("q");
    assert!(s.wait_exit().success());
    s.assert_restored();
}

#[test]
fn sigterm_quits_and_restores_the_terminal() {
    let home = tempfile::tempdir().expect("tempdir");
    let mut s = Session::start(&["--demo"], home);
    s.wait_for("the customers", |screen| screen.contains("Acme Corp"));
    let pid = s.child.process_id().expect("pid");
    let killed = signal(pid, "TERM");
    assert!(killed.success());
    s.wait_exit();
    s.assert_restored();
}

#[test]
fn a_panic_restores_the_terminal_and_prints_a_readable_message() {
    for (crash, expect_in_output) in [("panic", "crash requested"), ("error", "crash requested")] {
        let home = tempfile::tempdir().expect("tempdir");
        let mut s = Session::start_with(&["--demo"], home, &[("CRM_NOTES_CRASH", crash)]);
        let status = s.wait_exit();
        assert!(!status.success(), "{crash}: should fail");
        s.assert_restored();
        let screen = s.screen();
        assert!(screen.contains(expect_in_output), "{crash}: {screen}");
    }
}

#[test]
fn logging_a_15_minute_call_takes_c_15m_tab_text_ctrl_s() {
    let home = tempfile::tempdir().expect("tempdir");
    let mut s = Session::start(&["--demo"], home);
    s.wait_for("Acme's timeline", |screen| {
        screen.contains("Timeline · Acme Corp") && screen.contains("☎")
    });
    // Exactly the keys the issue names, nothing else.
    s.keys("c");
    s.keys("15m");
    s.keys("\t");
    s.keys("Quarterly check-in, all good");
    s.keys("\x13");
    let screen = s.wait_for("the new call at the top of the timeline", |screen| {
        screen
            .lines()
            .any(|line| line.contains("Quarterly check-in, all good"))
    });
    let rows: Vec<&str> = screen.lines().collect();
    let text_row = rows
        .iter()
        .position(|line| line.contains("Quarterly check-in, all good"))
        .expect("the row");
    let header = rows[text_row.saturating_sub(1)];
    assert!(header.contains("15m"), "call header: {header}\n{screen}");
    // Confirmed by the server: no unsent mark, nothing counted as unsent.
    s.wait_for("the server's confirmation", |screen| {
        !screen.contains("unsent")
    });
    s.keys("q");
    assert!(s.wait_exit().success());
    s.assert_restored();
}

#[test]
fn a_draft_survives_sigkill_and_comes_back_on_restart() {
    let home = tempfile::tempdir().expect("tempdir");
    let data_home = home.path().join("data");
    let draft_text = "Half-written note about the renewal, do not lose me";
    let home = {
        let mut s = Session::start(&["--demo"], home);
        s.wait_for("Acme's timeline", |screen| {
            screen.contains("Timeline · Acme Corp")
        });
        s.keys("n");
        s.keys(draft_text);
        s.wait_for("the typed text in the editor", |screen| {
            screen.contains("do not lose me")
        });
        // Wait until the autosave reached the store file, then kill without warning.
        let db = data_home.join("crm-notes").join("demo.db");
        let start = Instant::now();
        loop {
            let saved = crm_notes::store::Store::open(&db)
                .ok()
                .and_then(|store| store.drafts("acme").ok())
                .is_some_and(|drafts| drafts.iter().any(|d| d.text == draft_text));
            if saved {
                break;
            }
            assert!(start.elapsed() < PATIENCE, "the draft was never autosaved");
            std::thread::sleep(Duration::from_millis(100));
        }
        let pid = s.child.process_id().expect("pid");
        let killed = signal(pid, "KILL");
        assert!(killed.success());
        s.wait_exit();
        s._home
    };
    let mut s = Session::start(&["--demo"], home);
    s.wait_for("the restored-drafts notice", |screen| {
        screen.contains("restored")
    });
    s.wait_for("Acme's timeline", |screen| {
        screen.contains("Timeline · Acme Corp")
    });
    s.keys("n");
    s.wait_for("the draft back in the editor", |screen| {
        screen.contains("do not lose me")
    });
    terminate(&mut s);
}

/// Ends a session the way a closing terminal window does (SIGTERM).
fn terminate(s: &mut Session) {
    let pid = s.child.process_id().expect("pid");
    let sent = signal(pid, "TERM");
    assert!(sent.success());
    s.wait_exit();
    s.assert_restored();
}

#[test]
fn switching_between_the_three_demo_accounts_keeps_each_ones_place() {
    let home = tempfile::tempdir().expect("tempdir");
    let mut s = Session::start(&["--demo"], home);
    s.wait_for("Acme's timeline", |screen| {
        screen.contains("Timeline · Acme Corp") && screen.contains("Peoplevine")
    });
    // Move to the second ChartMogul customer and remember whose timeline it is.
    s.keys("j");
    let screen = s.wait_for("the second customer's timeline", |screen| {
        screen.contains("Timeline ·") && !screen.contains("Timeline · Acme Corp")
    });
    let title = timeline_title(&screen);

    s.keys("2");
    let club = s.wait_for("the Peoplevine members and a timeline", |screen| {
        screen.contains("Customers (36)")
            && screen.contains("Timeline ·")
            && (screen.contains("☎") || screen.contains("✎"))
    });

    // A click on the third tab.
    let first_row = club.lines().next().unwrap_or_default();
    let col = first_row
        .chars()
        .collect::<Vec<_>>()
        .windows(3)
        .position(|w| w == ['[', '3', ']'])
        .expect("the third tab");
    s.keys(&format!("\x1b[<0;{};1M\x1b[<0;{};1m", col + 2, col + 2));
    s.wait_for("the ActivePlatform accounts", |screen| {
        screen.contains("Northwind Traders") && screen.contains("System")
    });

    s.keys("1");
    let back = s.wait_for("ChartMogul again", |screen| {
        screen.contains("Customers (1,204)")
    });
    assert_eq!(
        timeline_title(&back),
        title,
        "the selection survived the round trip"
    );
    s.keys("q");
    assert!(s.wait_exit().success());
    s.assert_restored();
}

/// Whose timeline is shown.
fn timeline_title(screen: &str) -> String {
    screen
        .lines()
        .find_map(|line| {
            let start = line.find("Timeline ·")?;
            let rest = &line[start..];
            // "Timeline · NAME · COUNT ─…": the name only, the count depends on loading.
            let title = rest.split('─').next().unwrap_or(rest).trim();
            Some(
                title
                    .rsplit_once(" · ")
                    .map_or(title, |(name, _)| name)
                    .to_string(),
            )
        })
        .unwrap_or_default()
}

/// Sends a signal with the shell's own `kill`, present wherever `sh` is.
fn signal(pid: u32, name: &str) -> std::process::ExitStatus {
    std::process::Command::new("sh")
        .args(["-c", &format!("kill -{name} {pid}")])
        .status()
        .expect("sh")
}

/// The rows of the Timeline pane: everything on the right of the Customers pane above the
/// Note pane's border.
fn timeline_rows(screen: &str) -> Vec<String> {
    screen
        .lines()
        .skip(2)
        .take_while(|line| !line.contains("Note ─"))
        .filter_map(|line| line.split("││").nth(1).map(str::to_string))
        .collect()
}

#[test]
fn one_authors_calls_with_a_then_a_name_enter_t_t() {
    let home = tempfile::tempdir().expect("tempdir");
    let mut s = Session::start(&["--demo"], home);
    s.wait_for("Acme's timeline", |screen| {
        screen.contains("Timeline · Acme Corp") && screen.contains("Jürgen")
    });
    s.keys("\t");
    s.keys("a");
    s.wait_for("the author picker", |screen| screen.contains("Any author"));
    s.keys("sara");
    s.keys("\r");
    s.keys("t");
    s.keys("t");
    let screen = s.wait_for("Sara's calls only", |screen| {
        screen.contains("author:sara@example.com") && screen.contains("type:call")
    });
    let entries: Vec<String> = timeline_rows(&screen)
        .into_iter()
        .filter(|row| row.contains("☎") || row.contains("✎"))
        .collect();
    assert!(entries.len() >= 2, "Sara has two calls with Acme: {screen}");
    for row in &entries {
        assert!(
            row.contains("☎ call") && row.contains("Sara Lee"),
            "{row}\n{screen}"
        );
    }
    let rows = timeline_rows(&screen).join("\n");
    assert!(rows.contains("Renewal discussed"), "{screen}");
    assert!(
        !rows.contains("world leader"),
        "Sara's note is hidden: {screen}"
    );
    assert!(!rows.contains("Quarterly business review"), "{screen}");

    // Esc clears the filter: every note is back.
    s.keys("\x1b");
    s.wait_for("the whole timeline again", |screen| {
        !screen.contains("type:call") && screen.contains("Jürgen")
    });
    s.keys("q");
    assert!(s.wait_exit().success());
    s.assert_restored();
}

#[test]
fn the_next_start_draws_the_saved_data_at_once_and_works_offline() {
    use crm_notes::demo::chartmogul::{self, ChartMogulOptions};
    const KEY: &str = "cm-e2e-key";
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let now = jiff::Timestamp::now();
    let data = crm_notes::demo::data::chartmogul_demo(now, 30, 300, 7);
    let options = ChartMogulOptions {
        api_key: KEY.into(),
        ..Default::default()
    };
    let server = runtime
        .block_on(chartmogul::start(data, options))
        .expect("fake server");
    let home = tempfile::tempdir().expect("tempdir");
    let config = home.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[accounts.acme]\nprovider = \"chartmogul\"\nbase_url = \"{}\"\n",
            server.base_url
        ),
    )
    .expect("config");
    let config = config.display().to_string();
    let env = [("CRM_NOTES_API_KEY_ACME", KEY)];
    let args = ["--config", config.as_str()];

    // Online: browse, which fills the cache.
    let home_path = home.path().to_path_buf();
    let mut s = Session::start_with(&args, home, &env);
    let online = s.wait_for("Acme's timeline", |screen| {
        screen.contains("Timeline · Acme Corp") && screen.contains("updated just now")
    });
    s.keys("q");
    assert!(s.wait_exit().success());
    let home = s.into_home();

    // The network is gone: the same screen comes back from the store, marked offline.
    drop(server);
    drop(runtime);
    let mut s = Session::start_with(&args, home, &env);
    let offline = s.wait_for("the saved timeline, offline", |screen| {
        screen.contains("Timeline · Acme Corp") && screen.contains("offline")
    });
    let first_row = |screen: &str| timeline_rows(screen).into_iter().next();
    assert_eq!(first_row(&offline), first_row(&online), "{offline}");
    // Searching the saved notes still works.
    s.keys("\t/renewal");
    s.wait_for("the filter applied offline", |screen| {
        screen.contains("· renewal") && screen.contains("Renewal discussed")
    });
    // Esc in the bar clears the filter.
    s.keys("\x1b");
    s.wait_for("the filter cleared", |screen| !screen.contains("· renewal"));
    // Writing offline goes to the outbox: the note shows as unsent, nothing is lost.
    s.keys("nWritten on the train");
    s.keys("\x13");
    s.wait_for("the note kept as unsent", |screen| {
        screen.contains("Written on the train") && screen.contains("unsent")
    });
    s.keys("q");
    assert!(s.wait_exit().success());
    s.assert_restored();
    assert!(home_path.exists());
}
