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
