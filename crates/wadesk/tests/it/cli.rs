//! The command line, as an operator uses it.

use std::process::Command;

fn wadesk() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_wadesk"));
    let dir = std::env::temp_dir();
    c.current_dir(dir)
        .env_remove("WHATSAPP_APP_SECRET")
        .env("RUST_LOG", "warn");
    c
}

#[test]
fn serve_refuses_to_start_without_the_app_secret_and_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let out = wadesk()
        .args(["serve", "--bind", "127.0.0.1:0"])
        .env(
            "DATABASE_URL",
            format!("sqlite://{}/w.db", dir.path().display()),
        )
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("WHATSAPP_APP_SECRET"), "{err}");
    assert!(err.contains("--insecure-no-signature"), "{err}");
}

#[test]
fn token_create_prints_the_token_on_its_last_line() {
    let dir = tempfile::tempdir().unwrap();
    let out = wadesk()
        .args(["token", "create", "--name", "helpdesk", "--admin"])
        .env(
            "DATABASE_URL",
            format!("sqlite://{}/w.db", dir.path().display()),
        )
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let token = stdout.lines().last().unwrap();
    assert!(
        token.starts_with("wdk_") && token.len() == 4 + 64,
        "{stdout}"
    );
}

/// Kills the child when dropped, so a failed assertion leaves no demo running.
struct Running(std::process::Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn demo_prints_curl_commands_that_work_when_pasted_into_a_shell() {
    use std::{
        io::{BufRead, BufReader},
        process::Stdio,
        sync::mpsc,
        time::Duration,
    };
    let dir = tempfile::tempdir().unwrap();
    let mut child = wadesk()
        .args(["demo", "--bind", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let _demo = Running(child);
    let (lines_tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if lines_tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut printed = Vec::new();
    while !printed.iter().any(|l: &String| l.starts_with("wdk_")) {
        let line = lines
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|_| panic!("the demo printed no token:\n{}", printed.join("\n")));
        printed.push(line);
    }
    // The commands under "Try:", each joined over its `\` continuation lines.
    let block: Vec<&String> = printed
        .iter()
        .skip_while(|l| l.trim() != "Try:")
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .collect();
    let mut commands = vec![String::new()];
    for line in block {
        let last = commands.last_mut().unwrap();
        last.push_str(line);
        last.push('\n');
        if !line.ends_with('\\') {
            commands.push(String::new());
        }
    }
    commands.retain(|c| !c.trim().is_empty());
    assert_eq!(commands.len(), 2, "{}", printed.join("\n"));
    let run = |command: &str| -> serde_json::Value {
        let out = Command::new("sh").args(["-c", command]).output().unwrap();
        assert!(out.status.success(), "{command}: {out:?}");
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{command}: {e}: {out:?}"))
    };
    let listed = run(&commands[0]);
    assert!(listed["conversations"].is_array(), "{listed}");
    let sent = run(&commands[1]);
    assert!(sent["id"].is_string(), "{sent}");
    assert_eq!(sent["direction"], "outbound", "{sent}");
}
