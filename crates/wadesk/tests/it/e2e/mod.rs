//! End-to-end tests of the web inbox: headless Chromium (Debian's `chromium` and
//! `chromium-driver`) over WebDriver, against the real server and the simulator.
//!
//! They run where Chromium is installed and print a note and pass where it is not; with
//! `WADESK_REQUIRE_BROWSER=1` (set by CI) a missing browser fails them instead.
//! `WADESK_CHROMIUM` and `WADESK_CHROMEDRIVER` point at other binaries. One browser
//! runs at a time, so they stay steady on a small machine. Each test saves screenshots under
//! `target/e2e-screens/` (or `$CARGO_TARGET_DIR/e2e-screens/`).

mod admin;
mod inbox;
mod kinds;
mod ticks;
mod webdriver;

use std::{
    path::PathBuf,
    time::{Duration, Instant},
};

use serde_json::{Value, json};
use tokio::sync::{Semaphore, SemaphorePermit};
use wadesk::{
    clock::{Clock, SystemClock},
    config::Config,
    store::{Role, Store},
};
use webdriver::{Browser, Element, find_browser};

use crate::helpers::TestApp;

/// One browser at a time across the test binary.
static TURN: Semaphore = Semaphore::const_new(1);

/// How long a condition in the page may take.
const WAIT: Duration = Duration::from_secs(15);

pub const PASSWORD: &str = "correct horse battery";

fn browser_required() -> bool {
    std::env::var("WADESK_REQUIRE_BROWSER").is_ok_and(|v| v == "1")
}

/// A wadesk with its simulator, a browser pointed at it, and direct access to its database.
pub struct Ui {
    pub app: TestApp,
    pub browser: Browser,
    pub store: Store,
    _turn: SemaphorePermit<'static>,
}

impl Ui {
    /// A desktop-sized window; `None` (after a note) when no browser is installed.
    pub async fn start() -> Option<Self> {
        Self::start_sized(1280, 900, |_| {}).await
    }

    pub async fn start_sized(
        width: u32,
        height: u32,
        tweak: impl FnOnce(&mut Config),
    ) -> Option<Self> {
        let Some((chromium, driver)) = find_browser() else {
            assert!(
                !browser_required(),
                "Chromium and chromedriver are required (WADESK_REQUIRE_BROWSER=1) but were not \
                 found: apt-get install chromium chromium-driver"
            );
            eprintln!("browser tests skipped: chromium/chromedriver not installed");
            return None;
        };
        let turn = TURN.acquire().await.expect("semaphore open");
        let app = TestApp::spawn_with(tweak).await;
        let store = Store::connect(&app.db.url, &Default::default())
            .await
            .expect("store");
        let browser = Browser::start(&chromium, &driver, width, height).await;
        Some(Self {
            app,
            browser,
            store,
            _turn: turn,
        })
    }

    /// Creates an account; returns its password.
    pub async fn user(&self, name: &str, role: Role) -> &'static str {
        wadesk::auth::create_user(&self.store, name, PASSWORD, role, SystemClock.now())
            .await
            .expect("user created");
        PASSWORD
    }

    /// Opens the page and signs in through the form; waits for the inbox.
    pub async fn login(&self, name: &str, password: &str) {
        self.open("/").await;
        self.fill_login(name, password).await;
        self.wait_css(".sidebar").await;
    }

    pub async fn open(&self, path: &str) {
        self.browser.goto(&self.app.url(path)).await;
    }

    pub async fn fill_login(&self, name: &str, password: &str) {
        let user = self.wait_css("#login-username").await;
        self.browser
            .execute(
                "arguments[0].value = ''; document.getElementById('login-password').value = '';",
                json!([user.arg()]),
            )
            .await;
        self.browser.send_keys(&user, name).await;
        let pass = self.wait_css("#login-password").await;
        self.browser.send_keys(&pass, password).await;
        let submit = self.wait_css(".login-form button[type=submit]").await;
        self.browser.click(&submit).await;
    }

    /// Waits until the expression `js` is truthy in the page; returns its value.
    pub async fn wait(&self, what: &str, js: &str) -> Value {
        self.wait_for(what, js, WAIT).await
    }

    pub async fn wait_for(&self, what: &str, js: &str, timeout: Duration) -> Value {
        let script = format!("return ({js});");
        let deadline = Instant::now() + timeout;
        loop {
            let v = self.browser.execute(&script, json!([])).await;
            let truthy =
                !matches!(&v, Value::Null | Value::Bool(false)) && v != json!("") && v != json!(0);
            if truthy {
                return v;
            }
            if Instant::now() > deadline {
                let shot = self.screenshot("timeout").await;
                panic!("timed out waiting until {what} (`{js}`); screen: {shot}");
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// Waits for an element matching `css`.
    pub async fn wait_css(&self, css: &str) -> Element {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(el) = self.browser.find(css).await {
                return el;
            }
            if Instant::now() > deadline {
                let shot = self.screenshot("timeout").await;
                panic!("timed out waiting for `{css}`; screen: {shot}");
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// The text of the first element matching `css` (waits for it).
    pub async fn text(&self, css: &str) -> String {
        let el = self.wait_css(css).await;
        self.browser.text(&el).await
    }

    pub async fn click(&self, css: &str) {
        let el = self.wait_css(css).await;
        self.browser.click(&el).await;
    }

    pub async fn type_into(&self, css: &str, text: &str) {
        let el = self.wait_css(css).await;
        self.browser.send_keys(&el, text).await;
    }

    /// Saves a PNG of the window as `target/e2e-screens/<name>.png`; returns its path.
    pub async fn screenshot(&self, name: &str) -> String {
        let png = self.browser.screenshot().await;
        let dir = screens_dir();
        std::fs::create_dir_all(&dir).expect("screenshot dir");
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png).expect("screenshot written");
        path.display().to_string()
    }

    /// Checks that the page logged no error (failed requests aside: a wrong password is a
    /// 401), then closes the browser; the server stops with the `TestApp`.
    pub async fn finish(self) {
        let errors: Vec<String> = self
            .browser
            .console_errors()
            .await
            .into_iter()
            .filter(|e| !e.contains("Failed to load resource"))
            .collect();
        assert!(errors.is_empty(), "the page logged errors: {errors:#?}");
        self.browser.quit().await;
    }
}

fn screens_dir() -> PathBuf {
    let workspace = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let target = match std::env::var_os("CARGO_TARGET_DIR") {
        Some(t) if PathBuf::from(&t).is_absolute() => PathBuf::from(t),
        Some(t) => workspace.join(t),
        None => workspace.join("target"),
    };
    target.join("e2e-screens")
}

/// A JavaScript string literal for `s`.
pub fn js_str(s: &str) -> String {
    Value::String(s.to_owned()).to_string()
}
