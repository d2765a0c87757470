//! A small W3C WebDriver client over reqwest, and the chromedriver it talks to: one driver
//! process (in its own process group, with the headless Chromium it starts) per browser,
//! killed when the `Browser` is dropped.

use std::{
    net::TcpListener,
    os::unix::process::CommandExt,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::Duration,
};

use serde_json::{Value, json};
use tempfile::TempDir;

/// The key W3C uses for element references.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// Keys as WebDriver spells them in `send_keys`.
pub mod keys {
    pub const ENTER: &str = "\u{E007}";
    pub const SHIFT: &str = "\u{E008}";
    pub const ESCAPE: &str = "\u{E00C}";
}

/// Where Chromium and chromedriver are, if installed.
pub fn find_browser() -> Option<(PathBuf, PathBuf)> {
    let pick = |var: &str, candidates: &[&str]| -> Option<PathBuf> {
        match std::env::var_os(var) {
            Some(p) => Some(PathBuf::from(p)).filter(|p| p.exists()),
            None => candidates.iter().map(PathBuf::from).find(|p| p.exists()),
        }
    };
    let chromium = pick(
        "WADESK_CHROMIUM",
        &[
            "/usr/bin/chromium",
            "/usr/bin/chromium-browser",
            "/usr/bin/google-chrome",
        ],
    )?;
    let driver = pick(
        "WADESK_CHROMEDRIVER",
        &["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"],
    )?;
    Some((chromium, driver))
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A headless Chromium session through its own chromedriver.
pub struct Browser {
    http: reqwest::Client,
    session: String,
    driver: Child,
    _profile: TempDir,
}

/// A reference to an element of the page.
#[derive(Debug, Clone)]
pub struct Element(String);

impl Element {
    /// The element as a script argument (`arguments[i]` in [`Browser::execute`]).
    pub fn arg(&self) -> Value {
        json!({ ELEMENT: self.0 })
    }
}

impl Browser {
    /// Starts chromedriver on a free port and opens a browser window of `width`×`height`;
    /// below 720 pixels wide it emulates a phone (touch, no hover).
    pub async fn start(chromium: &Path, chromedriver: &Path, width: u32, height: u32) -> Self {
        let port = free_port();
        let driver = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .expect("chromedriver starts");
        let profile = tempfile::tempdir().expect("profile dir");
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .expect("http client");
        let base = format!("http://127.0.0.1:{port}");
        let mut browser = Self {
            http,
            session: String::new(),
            driver,
            _profile: profile,
        };
        browser.wait_ready(&base).await;
        let args = [
            "--headless".to_owned(),
            "--no-sandbox".to_owned(),
            "--disable-gpu".to_owned(),
            "--disable-dev-shm-usage".to_owned(),
            "--disable-background-networking".to_owned(),
            "--disable-component-update".to_owned(),
            "--disable-sync".to_owned(),
            "--no-first-run".to_owned(),
            // The crash handler would outlive the process group killed on drop.
            "--disable-breakpad".to_owned(),
            "--disable-crash-reporter".to_owned(),
            "--lang=en-US".to_owned(),
            format!("--window-size={width},{height}"),
            format!("--user-data-dir={}", browser._profile.path().display()),
        ];
        let mut options = json!({"binary": chromium, "args": args});
        if width < 720 {
            options["mobileEmulation"] = json!({"deviceMetrics": {
                "width": width, "height": height, "pixelRatio": 1.0, "touch": true,
            }});
        }
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": options,
            "goog:loggingPrefs": {"browser": "ALL"},
        }}});
        let r = browser.call("POST", &format!("{base}/session"), caps).await;
        let id = r["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session id in {r}"));
        browser.session = format!("{base}/session/{id}");
        browser
    }

    async fn wait_ready(&self, base: &str) {
        for _ in 0..200 {
            if let Ok(r) = self.http.get(format!("{base}/status")).send().await
                && let Ok(v) = r.json::<Value>().await
                && v["value"]["ready"] == true
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("chromedriver did not become ready on {base}");
    }

    async fn call(&self, method: &str, url: &str, body: Value) -> Value {
        self.try_call(method, url, body)
            .await
            .unwrap_or_else(|e| panic!("WebDriver {method} {url}: {e}"))
    }

    async fn try_call(&self, method: &str, url: &str, body: Value) -> Result<Value, String> {
        let req = match method {
            "GET" => self.http.get(url),
            "DELETE" => self.http.delete(url),
            _ => self.http.post(url).json(&body),
        };
        let r = req.send().await.map_err(|e| e.to_string())?;
        let status = r.status();
        let v: Value = r.json().await.map_err(|e| e.to_string())?;
        let value = v.get("value").cloned().unwrap_or(Value::Null);
        if status.is_success() {
            Ok(value)
        } else {
            Err(format!("{}: {}", value["error"], value["message"]))
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.session)
    }

    pub async fn goto(&self, url: &str) {
        self.call("POST", &self.url("/url"), json!({ "url": url }))
            .await;
    }

    /// The first element matching `css`, if any.
    pub async fn find(&self, css: &str) -> Option<Element> {
        let body = json!({"using": "css selector", "value": css});
        let v = self
            .try_call("POST", &self.url("/element"), body)
            .await
            .ok()?;
        v[ELEMENT].as_str().map(|id| Element(id.to_owned()))
    }

    pub async fn click(&self, el: &Element) {
        self.call(
            "POST",
            &self.url(&format!("/element/{}/click", el.0)),
            json!({}),
        )
        .await;
    }

    /// Types `text` into the element (WebDriver key codes allowed, see [`keys`]).
    pub async fn send_keys(&self, el: &Element, text: &str) {
        self.call(
            "POST",
            &self.url(&format!("/element/{}/value", el.0)),
            json!({ "text": text }),
        )
        .await;
    }

    /// Moves the mouse over the element (hover styles apply).
    pub async fn hover(&self, el: &Element) {
        let origin = json!({ ELEMENT: el.0 });
        let body = json!({"actions": [{
            "type": "pointer", "id": "mouse", "parameters": {"pointerType": "mouse"},
            "actions": [{"type": "pointerMove", "duration": 0, "origin": origin, "x": 0, "y": 0}],
        }]});
        self.call("POST", &self.url("/actions"), body).await;
    }

    /// Presses keys on whatever has the focus, as a person typing would.
    pub async fn press(&self, text: &str) {
        let strokes: Vec<Value> = text
            .chars()
            .flat_map(|c| {
                let key = c.to_string();
                [
                    json!({"type": "keyDown", "value": key}),
                    json!({"type": "keyUp", "value": key}),
                ]
            })
            .collect();
        let body = json!({"actions": [{"type": "key", "id": "keyboard", "actions": strokes}]});
        self.call("POST", &self.url("/actions"), body).await;
        self.call("DELETE", &self.url("/actions"), Value::Null)
            .await;
    }

    pub async fn text(&self, el: &Element) -> String {
        let v = self
            .call(
                "GET",
                &self.url(&format!("/element/{}/text", el.0)),
                Value::Null,
            )
            .await;
        v.as_str().unwrap_or_default().to_owned()
    }

    /// Runs `script` (a function body; `arguments` holds `args`) and returns its result.
    pub async fn execute(&self, script: &str, args: Value) -> Value {
        self.call(
            "POST",
            &self.url("/execute/sync"),
            json!({"script": script, "args": args}),
        )
        .await
    }

    /// Errors the page logged since the last call: script exceptions, CSP violations, failed
    /// requests.
    pub async fn console_errors(&self) -> Vec<String> {
        let v = self
            .call("POST", &self.url("/se/log"), json!({"type": "browser"}))
            .await;
        v.as_array()
            .into_iter()
            .flatten()
            .filter(|e| e["level"] == "SEVERE")
            .map(|e| e["message"].as_str().unwrap_or_default().to_owned())
            .collect()
    }

    /// A PNG of the viewport.
    pub async fn screenshot(&self) -> Vec<u8> {
        let v = self
            .call("GET", &self.url("/screenshot"), Value::Null)
            .await;
        base64_decode(v.as_str().unwrap_or_default())
    }

    /// Closes the browser (the driver process group is killed on drop in any case).
    pub async fn quit(self) {
        let _ = self.try_call("DELETE", &self.session, Value::Null).await;
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // Chromium runs in chromedriver's process group: end them together.
        let group = format!("-{}", self.driver.id());
        let _ = Command::new("kill")
            .args(["-KILL", "--", &group])
            .stderr(Stdio::null())
            .status();
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// Standard base64 (with padding) to bytes; anything else is skipped.
fn base64_decode(text: &str) -> Vec<u8> {
    let value = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    };
    let sextets: Vec<u32> = text.bytes().filter_map(value).collect();
    let mut out = Vec::with_capacity(sextets.len() * 3 / 4);
    for chunk in sextets.chunks(4) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, v)| n | (v << (18 - 6 * i)));
        let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(&bytes[..chunk.len().saturating_sub(1)]);
    }
    out
}

#[test]
fn base64_decodes_with_and_without_padding() {
    assert_eq!(base64_decode("aGVsbG8="), b"hello");
    assert_eq!(base64_decode("aGk="), b"hi");
    assert_eq!(base64_decode("YWJj"), b"abc");
    assert_eq!(base64_decode("YQ=="), b"a");
}
