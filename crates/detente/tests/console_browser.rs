//! The web console in a real browser: headless Chromium driven through ChromeDriver's
//! W3C WebDriver HTTP API. Logs in, reads a thread, replies (through the confirmation
//! page), takes a position on a proposal, reads the standing table, downloads an
//! agreement's evidence bundle and checks it with `detente verify-evidence`, and checks
//! that hostile content in statements runs no script.
//!
//! Needs Debian's `chromium` and `chromium-driver` (`.ci/run` installs them). Without
//! them the test fails, unless `DETENTE_SKIP_BROWSER=1` is set explicitly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../../node/tests/console_fixture/mod.rs"]
mod console_fixture;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use console_fixture::Fixture;
use serde_json::{Value, json};

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

struct Driver {
    child: Child,
    base: String,
    session: String,
    http: reqwest::Client,
}

impl Drop for Driver {
    /// Ends the browser session even when the test panicked (a plain blocking HTTP
    /// request: Drop cannot await), then stops ChromeDriver, so no Chromium is left over.
    fn drop(&mut self) {
        use std::io::{Read as _, Write as _};
        let host = self.base.trim_start_matches("http://");
        if let Ok(mut s) = std::net::TcpStream::connect(host) {
            let _ = s.set_read_timeout(Some(Duration::from_secs(10)));
            let req = format!(
                "DELETE /session/{} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n",
                self.session
            );
            if s.write_all(req.as_bytes()).is_ok() {
                let _ = s.read_to_end(&mut Vec::new());
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Driver {
    async fn start(profile: &Path, downloads: &Path) -> Driver {
        let port = free_port();
        let child = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("cannot start chromedriver");
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .unwrap();
        let base = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(r) = http.get(format!("{base}/status")).send().await
                && r.json::<Value>()
                    .await
                    .is_ok_and(|v| v["value"]["ready"] == json!(true))
            {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "chromedriver did not become ready"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let args = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ];
        let mut args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
        args.push(format!("--user-data-dir={}", profile.display()));
        args.push("--window-size=1280,1600".to_owned());
        let caps = json!({"capabilities": {"alwaysMatch": {"browserName": "chrome", "goog:chromeOptions": {
            "binary": CHROMIUM, "args": args,
            "prefs": {"download.default_directory": downloads, "download.prompt_for_download": false, "download.directory_upgrade": true}
        }}}});
        let r: Value = http
            .post(format!("{base}/session"))
            .json(&caps)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let session = r["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no WebDriver session: {r}"))
            .to_owned();
        let d = Driver {
            child,
            base,
            session,
            http,
        };
        d.cmd("POST", "goog/cdp/execute", json!({"cmd": "Browser.setDownloadBehavior", "params": {"behavior": "allow", "downloadPath": downloads}})).await;
        // Elements are looked for for up to 10 s: pages after a post wait for the host.
        d.cmd("POST", "timeouts", json!({"implicit": 10_000})).await;
        d
    }

    async fn cmd(&self, method: &str, path: &str, body: Value) -> Value {
        let url = format!("{}/session/{}/{path}", self.base, self.session);
        let req = match method {
            "GET" => self.http.get(url),
            _ => self.http.post(url).json(&body),
        };
        req.send().await.unwrap().json::<Value>().await.unwrap()["value"].clone()
    }

    async fn go(&self, url: &str) {
        self.cmd("POST", "url", json!({"url": url})).await;
    }

    async fn find(&self, css: &str) -> String {
        let v = self
            .cmd(
                "POST",
                "element",
                json!({"using": "css selector", "value": css}),
            )
            .await;
        v[ELEMENT]
            .as_str()
            .unwrap_or_else(|| panic!("no element {css}: {v}"))
            .to_owned()
    }

    async fn type_into(&self, css: &str, text: &str) {
        let e = self.find(css).await;
        self.cmd("POST", &format!("element/{e}/value"), json!({"text": text}))
            .await;
    }

    async fn click(&self, css: &str) {
        let e = self.find(css).await;
        self.cmd("POST", &format!("element/{e}/click"), json!({}))
            .await;
    }

    async fn click_link(&self, text: &str) {
        let v = self
            .cmd(
                "POST",
                "element",
                json!({"using": "partial link text", "value": text}),
            )
            .await;
        let e = v[ELEMENT]
            .as_str()
            .unwrap_or_else(|| panic!("no link {text}: {v}"))
            .to_owned();
        self.cmd("POST", &format!("element/{e}/click"), json!({}))
            .await;
    }

    async fn text(&self, css: &str) -> String {
        let e = self.find(css).await;
        self.cmd("GET", &format!("element/{e}/text"), json!({}))
            .await
            .as_str()
            .unwrap_or("")
            .to_owned()
    }

    async fn script(&self, js: &str) -> Value {
        self.cmd("POST", "execute/sync", json!({"script": js, "args": []}))
            .await
    }

    /// Waits (up to 30 s) until the page's URL ends with `suffix`: posting waits for the
    /// host, so the redirect after a confirmation can take a moment.
    async fn wait_url(&self, suffix: &str) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while !self.url().await.ends_with(suffix) {
            assert!(
                Instant::now() < deadline,
                "never reached …{suffix}: at {}",
                self.url().await
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// With `DETENTE_SCREENSHOTS=DIR`, saves a PNG of the page (for people reviewing the
    /// console's look); otherwise does nothing.
    async fn screenshot(&self, name: &str) {
        use base64::Engine as _;
        let Ok(dir) = std::env::var("DETENTE_SCREENSHOTS") else {
            return;
        };
        let png = self.cmd("GET", "screenshot", json!({})).await;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(png.as_str().unwrap_or(""))
            .unwrap();
        let file: String = name
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .take(40)
            .collect();
        std::fs::write(Path::new(&dir).join(format!("{file}.png")), bytes).unwrap();
    }

    async fn url(&self) -> String {
        self.cmd("GET", "url", json!({}))
            .await
            .as_str()
            .unwrap_or("")
            .to_owned()
    }
}

fn browser_available() -> bool {
    if Path::new(CHROMEDRIVER).exists() && Path::new(CHROMIUM).exists() {
        return true;
    }
    if std::env::var("DETENTE_SKIP_BROWSER").as_deref() == Ok("1") {
        eprintln!("SKIPPED: no {CHROMEDRIVER} / {CHROMIUM}, and DETENTE_SKIP_BROWSER=1");
        return false;
    }
    panic!(
        "the browser test needs Debian's chromium and chromium-driver ({CHROMIUM}, {CHROMEDRIVER}): \
         `apt-get install -y chromium chromium-driver`, or set DETENTE_SKIP_BROWSER=1 to skip it explicitly"
    );
}

async fn wait_for_download(dir: &Path) -> PathBuf {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let done = std::fs::read_dir(dir)
            .unwrap()
            .filter_map(Result::ok)
            .map(|e| e.path())
            .find(|p| p.extension().is_some_and(|x| x == "json"));
        if let Some(p) = done {
            return p;
        }
        assert!(
            Instant::now() < deadline,
            "the evidence bundle was not downloaded"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_in_a_real_browser() {
    if !browser_available() {
        return;
    }
    let f = Fixture::start().await;
    let profile = f.dir.path().join("chromium-profile");
    let downloads = f.dir.path().join("downloads");
    std::fs::create_dir_all(&downloads).unwrap();
    let d = Driver::start(&profile, &downloads).await;
    let p = f.posted.clone();

    // Log in: the console sends a stranger to the login form.
    d.go(&format!("{}/", f.url)).await;
    d.wait_url("/login").await;
    let (name, token) = f.writer.split_once(':').unwrap();
    d.type_into("#name", name).await;
    d.type_into("#token", token).await;
    d.click("form[action='/login'] button").await;
    d.wait_url("/").await;
    assert!(d.text("main").await.contains("Needs attention"));

    // Every control on every page has a label (and so a name for screen readers), and
    // every page has its skip link and a level-1 heading.
    let pages = [
        "/".to_owned(),
        "/dialogue".into(),
        format!("/thread/{}", p.thread),
        "/reports".into(),
        format!("/reports/{}", p.report),
        "/requests".into(),
        "/proposals".into(),
        format!("/proposals/{}", p.proposal_v2),
        "/agreements".into(),
        format!("/agreements/{}", p.to_sign),
        "/standing".into(),
        format!("/statement/{}", p.report),
    ];
    for path in pages {
        d.go(&format!("{}{path}", f.url)).await;
        let unlabelled = d
            .script("return Array.from(document.querySelectorAll('input:not([type=hidden]), select, textarea')).filter(e => !(e.labels && e.labels.length)).map(e => e.name);")
            .await;
        assert_eq!(unlabelled, json!([]), "{path}: controls without a label");
        let frame = d.script("return [document.querySelectorAll('a.skip').length, document.querySelectorAll('h1').length];").await;
        assert_eq!(frame, json!([1, 1]), "{path}");
        d.screenshot(&path).await;
    }

    // The keyboard reaches the skip link first, and it leads to the content. Headless
    // Chromium sometimes delivers the first key before the page has focus (the key then
    // focuses nothing and `activeElement` stays `body`); only that case is retried.
    d.go(&format!("{}/dialogue", f.url)).await;
    let mut focused = json!("BODY");
    for _ in 0..5 {
        d.script("window.focus(); document.activeElement.blur(); return null;")
            .await;
        d.cmd(
            "POST",
            "actions",
            json!({"actions": [{"type": "key", "id": "keyboard", "actions": [
            {"type": "keyDown", "value": "\u{E004}"}, {"type": "keyUp", "value": "\u{E004}"}]}]}),
        )
        .await;
        focused = d
            .script("const e = document.activeElement; return e === document.body ? 'BODY' : e.className;")
            .await;
        if focused != json!("BODY") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(focused, json!("skip"), "Tab from the top of the page");

    // Read a thread and reply, confirming what will be signed.
    d.go(&format!("{}/dialogue", f.url)).await;
    d.click_link("Ransomware campaign").await;
    assert!(
        d.text("main")
            .await
            .contains("We see a wave of VPN intrusions")
    );
    d.type_into("#reply-text", "Confirmed from the browser")
        .await;
    d.click("#reply button[type=submit]").await;
    let to_sign = d.text("#to-sign").await;
    assert!(
        to_sign.contains("\"kind\": \"message\"") && to_sign.contains("Confirmed from the browser"),
        "{to_sign}"
    );
    d.click("#confirm").await;
    d.wait_url(&format!("/thread/{}", p.thread)).await;
    assert!(d.text("main").await.contains("Confirmed from the browser"));

    // Take a position on the proposal's latest version.
    d.go(&format!("{}/proposals/{}", f.url, p.proposal_v1))
        .await;
    d.click("#stance-0").await;
    d.type_into("#position-comment", "We can live with 12 hours")
        .await;
    d.click("#position-form button[type=submit]").await;
    assert!(d.text("#to-sign").await.contains("\"stance\": \"support\""));
    d.click("#confirm").await;
    d.wait_url(&format!("/proposals/{}", p.proposal_v1)).await;
    let matrix = d.text("#matrix").await;
    assert!(
        matrix.contains("support: We can live with 12 hours"),
        "{matrix}"
    );

    // The standing table.
    d.go(&format!("{}/standing", f.url)).await;
    let table = d.text("#standing").await;
    assert!(table.contains("bob") && table.contains("carol"), "{table}");

    // Download the agreement's evidence and verify it offline with the CLI.
    d.go(&format!("{}/agreements/{}", f.url, p.agreement)).await;
    d.click("#evidence-download").await;
    let file = wait_for_download(&downloads).await;
    let out = Command::new(env!("CARGO_BIN_EXE_detente"))
        .arg("verify-evidence")
        .arg(&file)
        .arg("--genesis")
        .arg(&f.genesis_path)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "verify-evidence failed: {stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("PROVEN") && stdout.contains("ADOPTED"),
        "{stdout}"
    );

    // A bundle with one statement swapped for another is refused.
    let mut bundle: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    bundle["statements"][0]["leaf"] = bundle["statements"][1]["leaf"].clone();
    let tampered = f.dir.path().join("tampered.json");
    std::fs::write(&tampered, serde_json::to_vec(&bundle).unwrap()).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_detente"))
        .arg("verify-evidence")
        .arg(&tampered)
        .arg("--genesis")
        .arg(&f.genesis_path)
        .output()
        .unwrap();
    assert!(!out.status.success(), "a tampered bundle was accepted");
    assert!(String::from_utf8_lossy(&out.stderr).contains("NOT PROVEN"));

    // Hostile content runs nothing.
    d.go(&format!("{}/thread/{}", f.url, p.hostile)).await;
    assert!(
        d.text("main")
            .await
            .contains("<script>window.__pwned=1</script>")
    );
    assert_eq!(
        d.script("return typeof window.__pwned;").await,
        json!("undefined")
    );
    let js_links = d
        .script("return Array.from(document.querySelectorAll('a')).filter(a => !a.href.startsWith('http')).length;")
        .await;
    assert_eq!(
        js_links,
        json!(0),
        "a link that is not http(s) was rendered"
    );
    assert_eq!(
        d.script("return document.querySelectorAll('main img, main script').length;")
            .await,
        json!(0)
    );

    drop(d);
    f.stop().await;
}
