//! The review page in a real browser: headless Chromium driven over WebDriver (chromedriver,
//! plain HTTP with reqwest). A reviewer signs in, filters the queue, opens a break, reads its
//! evidence, resolves it, sees it leave the queue and appear in the audit trail; a viewer
//! finds no form, and a forged POST is refused.
//!
//! Without `chromium` and `chromedriver` on the PATH the test prints `SKIPPED [chromium]` and
//! passes, unless `CORRIDOR_REQUIRE_CHROMIUM=1`. Screenshots go to
//! `$CORRIDOR_SCREENSHOTS_DIR` when set (the README's come from `docs/screenshots`).

mod common;

use common::statements::{insert_statement, StatementRow};
use common::world::{Options, World};
use common::{event_json, TestDb};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const VIEWER: &str = "viewer-token-for-browser";
const REVIEWER: &str = "reviewer-token-for-browser";

fn on_path(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join(name))
            .find(|p| p.is_file())
    })
}

/// chromium and chromedriver, or None after saying why (failing when they are required).
fn browser() -> Option<(PathBuf, PathBuf)> {
    let chromium = on_path("chromium").or_else(|| on_path("chromium-browser"));
    let driver = on_path("chromedriver");
    match (chromium, driver) {
        (Some(c), Some(d)) => Some((c, d)),
        _ => {
            let why = "chromium and chromedriver are not both on the PATH (Debian: apt-get install chromium chromium-driver)";
            if std::env::var("CORRIDOR_REQUIRE_CHROMIUM").as_deref() == Ok("1") {
                panic!("CORRIDOR_REQUIRE_CHROMIUM=1 but {why}");
            }
            use std::io::Write;
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED [chromium] review_browser: {why}"
            );
            None
        }
    }
}

/// A chromedriver process and one browser session, ended when dropped.
struct Driver {
    http: reqwest::Client,
    base: String,
    session: String,
    process: Child,
    _profile: tempfile::TempDir,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

impl Driver {
    async fn start(chromium: &std::path::Path, chromedriver: &std::path::Path) -> Driver {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let process = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let http = reqwest::Client::new();
        let base = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let ready = http.get(format!("{base}/status")).send().await.ok();
            if let Some(r) = ready {
                let v: Value = r.json().await.unwrap_or(Value::Null);
                if v["value"]["ready"] == true {
                    break;
                }
            }
            assert!(
                Instant::now() < deadline,
                "chromedriver did not become ready"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let profile = tempfile::tempdir().unwrap();
        let args = vec![
            "--headless".to_string(),
            "--no-sandbox".into(),
            "--disable-gpu".into(),
            "--disable-quic".into(),
            "--no-first-run".into(),
            "--disable-background-networking".into(),
            "--disable-component-update".into(),
            "--disable-sync".into(),
            "--window-size=1440,1000".into(),
            format!("--user-data-dir={}", profile.path().display()),
        ];
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": chromium.display().to_string(), "args": args}
        }}});
        let res: Value = http
            .post(format!("{base}/session"))
            .json(&caps)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let session = res["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("new session: {res}"))
            .to_string();
        Driver {
            http,
            base,
            session,
            process,
            _profile: profile,
        }
    }

    async fn cmd(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}/session/{}{path}", self.base, self.session);
        let req = self.http.request(method.parse().unwrap(), url);
        let req = match body {
            Some(b) => req.json(&b),
            None => req,
        };
        let v: Value = req.send().await.unwrap().json().await.unwrap();
        if v["value"].get("error").is_some() {
            panic!("WebDriver {method} {path}: {v}");
        }
        v["value"].clone()
    }

    async fn go(&self, url: &str) {
        self.cmd("POST", "/url", Some(json!({"url": url}))).await;
    }

    async fn url(&self) -> String {
        self.cmd("GET", "/url", None)
            .await
            .as_str()
            .unwrap()
            .to_string()
    }

    async fn all(&self, css: &str) -> Vec<String> {
        let v = self
            .cmd(
                "POST",
                "/elements",
                Some(json!({"using": "css selector", "value": css})),
            )
            .await;
        v.as_array()
            .unwrap()
            .iter()
            .map(|e| {
                e.as_object()
                    .unwrap()
                    .values()
                    .next()
                    .unwrap()
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect()
    }

    async fn one(&self, css: &str) -> String {
        let found = self.all(css).await;
        assert_eq!(
            found.len(),
            1,
            "{css}: {} elements on {}",
            found.len(),
            self.url().await
        );
        found[0].clone()
    }

    async fn click(&self, css: &str) {
        let e = self.one(css).await;
        self.cmd("POST", &format!("/element/{e}/click"), Some(json!({})))
            .await;
    }

    /// Clicks something that loads a new page (a link, a form's submit), and waits until the
    /// new document has replaced the old one: a marker set on the old window is gone and the
    /// new one has finished loading. (A submit that redirects back to the same URL changes no
    /// URL to watch.)
    async fn click_nav(&self, css: &str) {
        self.script("window.__corridor_old_page = true; return true;")
            .await;
        self.click(css).await;
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let done = self
                .script("return window.__corridor_old_page === undefined && document.readyState === 'complete';")
                .await;
            if done == Value::Bool(true) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{css}: the next page did not load"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn script(&self, js: &str) -> Value {
        let url = format!("{}/session/{}/execute/sync", self.base, self.session);
        let v: Value = self
            .http
            .post(url)
            .json(&json!({"script": js, "args": []}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        // While the page changes the script may fail; that reads as "not yet".
        v["value"].clone()
    }

    async fn type_into(&self, css: &str, text: &str) {
        let e = self.one(css).await;
        self.cmd(
            "POST",
            &format!("/element/{e}/value"),
            Some(json!({"text": text})),
        )
        .await;
    }

    async fn text(&self, css: &str) -> String {
        let e = self.one(css).await;
        self.cmd("GET", &format!("/element/{e}/text"), None)
            .await
            .as_str()
            .unwrap()
            .to_string()
    }

    async fn screenshot(&self, name: &str) {
        let Some(dir) = std::env::var_os("CORRIDOR_SCREENSHOTS_DIR") else {
            return;
        };
        let png = base64_decode(self.cmd("GET", "/screenshot", None).await.as_str().unwrap());
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(PathBuf::from(dir).join(name), png).unwrap();
    }

    async fn sign_in(&self, world: &World, token: &str) {
        self.cmd("DELETE", "/cookie", None).await;
        self.go(&world.url("/review")).await;
        assert!(
            self.url().await.ends_with("/review/login"),
            "not signed in: sent to the login form"
        );
        self.type_into("#token", token).await;
        self.click_nav("main form button[type=submit]").await;
        assert!(
            self.url().await.ends_with("/review"),
            "{}",
            self.url().await
        );
    }

    async fn cookie(&self, name: &str) -> String {
        self.cmd("GET", &format!("/cookie/{name}"), None).await["value"]
            .as_str()
            .unwrap()
            .to_string()
    }

    async fn end(self) {
        self.cmd("DELETE", "", None).await;
    }
}

/// Standard base64 (the screenshot), without a dependency for it.
fn base64_decode(text: &str) -> Vec<u8> {
    let value = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        _ => 63,
    };
    let bytes: Vec<u8> = text
        .bytes()
        .filter(|c| !c.is_ascii_whitespace() && *c != b'=')
        .collect();
    let mut out = Vec::with_capacity(bytes.len() * 3 / 4);
    for chunk in bytes.chunks(4) {
        let n = chunk.iter().enumerate().fold(0u32, |acc, (i, &c)| {
            acc | (u32::from(value(c)) << (18 - 6 * i))
        });
        let take = chunk.len() - 1;
        out.extend_from_slice(&n.to_be_bytes()[1..1 + take]);
    }
    out
}

#[tokio::test]
async fn reviewer_resolves_in_the_browser_and_a_viewer_cannot() {
    let Some((chromium, chromedriver)) = browser() else {
        return;
    };
    let tokens = format!(
        r#"[{{token = "{VIEWER}", role = "viewer", name = "vera"}}, {{token = "{REVIEWER}", role = "reviewer", name = "rita"}}]"#
    );
    let options = Options {
        workers: false,
        extra_env: vec![
            ("CORRIDOR__SERVER__API_TOKENS", tokens),
            ("CORRIDOR__RECON__INTERVAL_MS", "0".into()),
        ],
        ..Options::default()
    };
    let world = World::start(TestDb::sqlite().await, options).await;
    let store = world.db.store.clone();
    for (event, amount) in [
        ("evt-paid", "120.00"),
        ("evt-unbooked", "345.67"),
        ("evt-unbooked-2", "89.10"),
    ] {
        let (status, body) = world
            .post(&event_json(event, amount, "Invoice <b>bold</b> & co"))
            .await;
        assert_eq!(status, 201, "{body}");
    }
    world
        .gateway
        .as_ref()
        .unwrap()
        .dispatcher
        .drain("test-step", 100)
        .await
        .unwrap();
    insert_statement(
        &store,
        "STMT-B",
        (0, 0, true),
        &[StatementRow {
            amount_minor: 4_200,
            reference: Some("<script>alert(1)</script>"),
            ..Default::default()
        }],
    )
    .await;
    let ahead = (time::OffsetDateTime::now_utc() + time::Duration::days(10))
        .date()
        .to_string();
    let as_of = corridor::recon::run::as_of_from_date(&ahead).unwrap();
    let report = corridor::recon::run::run(&store, &world.config, as_of, false, "recon")
        .await
        .unwrap();
    assert_eq!(
        report.breaks_by_kind.get("missing_on_statement"),
        Some(&3),
        "{:?}",
        report.breaks_by_kind
    );
    assert_eq!(report.breaks_by_kind.get("unexpected_entry"), Some(&1));

    let d = Driver::start(&chromium, &chromedriver).await;

    // The reviewer: the queue, a filter, a break and its evidence, the resolution.
    d.sign_in(&world, REVIEWER).await;
    assert_eq!(d.all("#queue tbody tr").await.len(), 4);
    assert!(d.text("header").await.contains("rita"));
    d.screenshot("review-queue.png").await;
    d.click("#filter-kind option[value=missing_on_statement]")
        .await;
    d.click_nav("#filter-apply").await;
    assert!(
        d.url().await.contains("kind=missing_on_statement"),
        "{}",
        d.url().await
    );
    let rows = d.all("#queue tbody tr").await;
    assert_eq!(rows.len(), 3);
    let first = d.all("#queue tbody tr a").await;
    let href = d
        .cmd(
            "GET",
            &format!("/element/{}/attribute/href", first[0]),
            None,
        )
        .await;
    let id: i64 = href
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    d.click_nav(&format!("#queue a[href='/review/breaks/{id}']"))
        .await;
    assert!(d.url().await.ends_with(&format!("/review/breaks/{id}")));
    let evidence = d.text("#evidence").await;
    for part in [
        "Ledger event",
        "Message sent",
        "Answers",
        "Statement lines",
        "pacs.008",
        "UETR",
    ] {
        assert!(
            evidence.contains(part),
            "evidence lacks {part:?}: {evidence}"
        );
    }
    assert!(
        evidence.contains("Invoice <b>bold</b> & co"),
        "ledger text shown as text, not markup"
    );
    assert!(d.text("#detail").await.contains("no statement entry"));
    d.screenshot("review-break.png").await;
    d.click("#resolution option[value=matched_manually]").await;
    d.type_into("#resolve-comment", "booked under another reference")
        .await;
    d.click_nav("#resolve-button").await;
    assert_eq!(d.text("#state").await, "resolved");
    let audit = d.text("#audit").await;
    assert!(
        audit.contains("rita")
            && audit.contains("resolved")
            && audit.contains("booked under another reference"),
        "{audit}"
    );
    d.go(&world.url("/review")).await;
    assert!(
        d.all(&format!("#queue tr[data-break='{id}']"))
            .await
            .is_empty(),
        "the resolved break left the queue"
    );
    assert_eq!(d.all("#queue tbody tr").await.len(), 3);
    // The planted markup in the statement's reference is shown as text, never run.
    let unexpected = sqlx::query("SELECT id FROM breaks WHERE kind = 'unexpected_entry'")
        .fetch_one(store.pool())
        .await
        .map(|r| sqlx::Row::get::<i64, _>(&r, "id"))
        .unwrap();
    d.go(&world.url(&format!("/review/breaks/{unexpected}")))
        .await;
    assert!(d
        .text("#evidence")
        .await
        .contains("ref <script>alert(1)</script>"));
    assert!(d.text("#detail").await.contains("42.00 EUR"));
    // A reviewer's session without the form's CSRF token is refused.
    let reviewer_cookie = d.cookie("corridor_review").await;
    let no_csrf = world
        .http
        .post(world.url(&format!("/review/breaks/{unexpected}/resolve")))
        .header("cookie", format!("corridor_review={reviewer_cookie}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("resolution=written_off&csrf=guess")
        .send()
        .await
        .unwrap();
    assert_eq!(no_csrf.status().as_u16(), 403);

    // The viewer: reads, finds no form, and a forged POST is refused.
    d.sign_in(&world, VIEWER).await;
    d.click_nav("#queue tbody tr:first-child a").await;
    assert!(d.url().await.contains("/review/breaks/"));
    assert!(d.all("main form").await.is_empty(), "a viewer sees no form");
    assert_eq!(d.all("#read-only").await.len(), 1);
    let viewer_cookie = d.cookie("corridor_review").await;
    let target = d.url().await;
    let forged = world
        .http
        .post(format!("{target}/resolve"))
        .header("cookie", format!("corridor_review={viewer_cookie}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("resolution=written_off&csrf=guess")
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status().as_u16(), 403);
    // Without a session: refused as well.
    let anonymous = world
        .http
        .post(format!("{target}/resolve"))
        .body("resolution=written_off")
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status().as_u16(), 401);
    let open = sqlx::query("SELECT COUNT(*) AS n FROM breaks WHERE state = 'resolved'")
        .fetch_one(store.pool())
        .await
        .map(|r| sqlx::Row::get::<i64, _>(&r, "n"))
        .unwrap();
    assert_eq!(open, 1, "only the reviewer's resolution happened");
    d.end().await;
    world.finish().await.finish().await;
}
