//! The web console over HTTP: every page, logging in, the anti-forgery and origin checks,
//! read-only users, the confirm-then-sign flow, hostile content rendered inert, and the
//! evidence bundle verified offline.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "console_http/actions.rs"]
mod actions;
mod console_fixture;

use actions::{alerts_come_first, every_action_posts};

use console_fixture::{Fixture, HOSTILE_SUBJECT};
use reqwest::StatusCode;
use reqwest::header::HeaderMap;

/// `application/x-www-form-urlencoded` (reqwest's `form` feature is not enabled).
fn urlencoded(pairs: &[(&str, &str)]) -> String {
    let enc = |s: &str| {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                    (b as char).to_string()
                }
                b' ' => "+".into(),
                _ => format!("%{b:02X}"),
            })
            .collect::<String>()
    };
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

trait Form {
    fn form_pairs(self, pairs: &[(&str, &str)]) -> Self;
}

impl Form for reqwest::RequestBuilder {
    fn form_pairs(self, pairs: &[(&str, &str)]) -> Self {
        self.header("content-type", "application/x-www-form-urlencoded")
            .body(urlencoded(pairs))
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Logs in through the form; returns the session cookie header value.
async fn login(f: &Fixture, creds: &str) -> String {
    let (name, token) = creds.split_once(':').unwrap();
    let r = client()
        .post(format!("{}/login", f.url))
        .header("origin", &f.url)
        .form_pairs(&[("name", name), ("token", token)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let cookie = r.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(
        cookie.contains("HttpOnly")
            && cookie.contains("SameSite=Strict")
            && cookie.contains("Path=/"),
        "{cookie}"
    );
    cookie.split(';').next().unwrap().to_owned()
}

async fn get(f: &Fixture, cookie: &str, path: &str) -> (StatusCode, HeaderMap, String) {
    let r = client()
        .get(format!("{}{path}", f.url))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    let (s, h) = (r.status(), r.headers().clone());
    (s, h, r.text().await.unwrap())
}

fn csrf_of(html: &str) -> String {
    let at = html.find("name=\"csrf\" value=\"").expect("a csrf field") + 19;
    html[at..at + 64].to_owned()
}

async fn post(
    f: &Fixture,
    cookie: &str,
    path: &str,
    origin: Option<&str>,
    form: &[(&str, &str)],
) -> (StatusCode, HeaderMap, String) {
    let mut req = client()
        .post(format!("{}{path}", f.url))
        .header("cookie", cookie)
        .form_pairs(form);
    if let Some(o) = origin {
        req = req.header("origin", o);
    }
    let r = req.send().await.unwrap();
    let (s, h) = (r.status(), r.headers().clone());
    (s, h, r.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_over_http() {
    let f = Fixture::start().await;
    every_page_renders(&f).await;
    logging_in_and_out(&f).await;
    forged_posts_are_refused(&f).await;
    read_only_users_cannot_post(&f).await;
    confirm_then_sign(&f).await;
    every_action_posts(&f).await;
    hostile_content_is_inert(&f).await;
    evidence_bundle_verifies(&f).await;
    let mut f = f;
    alerts_come_first(&mut f).await;
    f.stop().await;
}

async fn every_page_renders(f: &Fixture) {
    let c = login(f, &f.writer).await;
    let p = &f.posted;
    let pages = [
        ("/".to_owned(), "Needs attention"),
        ("/".to_owned(), "awaits our receipt"),
        ("/".to_owned(), "duty@bob.example"),
        ("/".to_owned(), "w0.console.example/witness (at "),
        ("/".to_owned(), "w1.console.example/witness (at "),
        ("/dialogue".to_owned(), "Ransomware campaign"),
        (format!("/thread/{}", p.thread), "<strong>VPN</strong>"),
        ("/reports".to_owned(), "TLP:GREEN"),
        (
            format!("/reports/{}", p.report),
            "[ipv4-addr:value = &#39;198.51.100.7&#39;]",
        ),
        (format!("/reports/{}", p.report), "T1110"),
        (
            format!("/reports/{}", p.report),
            "<strong>indicates</strong>",
        ),
        ("/requests".to_owned(), "Loader sample"),
        ("/proposals".to_owned(), "Notification norm"),
        (format!("/proposals/{}", p.proposal_v1), "within 12 hours"),
        (format!("/proposals/{}", p.proposal_v2), "diff-del"),
        ("/agreements".to_owned(), "Adopted"),
        (
            format!("/agreements/{}", p.agreement),
            "Signed, signature valid",
        ),
        ("/standing".to_owned(), "<svg"),
        (format!("/statement/{}", p.report), "Verified"),
        ("/static/console.css".to_owned(), "--accent"),
        ("/static/console.js".to_owned(), "data-due"),
    ];
    for (path, needle) in pages {
        let (s, h, body) = get(f, &c, &path).await;
        assert_eq!(s, StatusCode::OK, "{path}: {body}");
        assert!(body.contains(needle), "{path} lacks {needle:?}");
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(
            csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
            "{csp}"
        );
        assert!(
            !body.contains("<script>") && !body.contains(" style="),
            "{path} has inline script or style"
        );
    }
    let (s, _, _) = get(f, &c, &format!("/statement/{}", "0".repeat(64))).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _, _) = get(f, &c, "/statement/nonsense").await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
}

async fn logging_in_and_out(f: &Fixture) {
    let (s, h, _) = get(f, "", "/").await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert_eq!(h["location"], "/login");
    let (s, _, body) = get(f, "", "/login").await;
    assert_eq!(s, StatusCode::OK);
    assert!(body.contains("<label for=\"token\">"));
    let r = client()
        .post(format!("{}/login", f.url))
        .header("origin", &f.url)
        .form_pairs(&[("name", "analyst"), ("token", "wrong")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = client()
        .post(format!("{}/login", f.url))
        .header("origin", "http://evil.example")
        .form_pairs(&[("name", "analyst"), ("token", "wrong")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let c = login(f, &f.writer).await;
    let (_, _, page) = get(f, &c, "/").await;
    let (s, h, _) = post(f, &c, "/logout", Some(&f.url), &[("csrf", &csrf_of(&page))]).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert!(h["set-cookie"].to_str().unwrap().contains("Max-Age=0"));
}

async fn forged_posts_are_refused(f: &Fixture) {
    let c = login(f, &f.writer).await;
    let (_, _, page) = get(f, &c, "/dialogue").await;
    let csrf = csrf_of(&page);
    let form = |csrf: &'static str| vec![("subject", "Hi"), ("text", "Hello"), ("csrf", csrf)];
    let (s, _, _) = post(f, &c, "/act/thread", Some(&f.url), &form("")).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "no token");
    let (s, _, _) = post(
        f,
        &c,
        "/act/thread",
        Some(&f.url),
        &form("00000000000000000000000000000000"),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "wrong token");
    let good = [
        ("subject", "Hi"),
        ("text", "Hello"),
        ("csrf", csrf.as_str()),
    ];
    let (s, _, _) = post(f, &c, "/act/thread", Some("http://evil.example"), &good).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "another origin");
    let (s, _, _) = post(f, &c, "/act/thread", None, &good).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "no origin nor referer");
    let (s, _, _) = post(f, "", "/act/thread", Some(&f.url), &good).await;
    assert_eq!(s, StatusCode::SEE_OTHER, "no session: to the login page");
    // Another session's token does not work either.
    let other = login(f, &f.reader).await;
    let (_, _, page) = get(f, &other, "/").await;
    let foreign = csrf_of(&page);
    assert_ne!(foreign, csrf);
    let (s, _, _) = post(
        f,
        &c,
        "/act/thread",
        Some(&f.url),
        &[("subject", "Hi"), ("text", "x"), ("csrf", &foreign)],
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "a token of another session");
}

async fn read_only_users_cannot_post(f: &Fixture) {
    let c = login(f, &f.reader).await;
    for path in [
        "/dialogue".to_owned(),
        format!("/thread/{}", f.posted.thread),
        format!("/proposals/{}", f.posted.proposal_v2),
        "/reports".into(),
        "/requests".into(),
    ] {
        let (s, _, body) = get(f, &c, &path).await;
        assert_eq!(s, StatusCode::OK);
        assert!(
            !body.contains("action=\"/act/"),
            "{path} shows a posting form to a read-only user"
        );
        assert!(body.contains("(read only)"));
    }
    let (_, _, page) = get(f, &c, "/").await;
    let (s, _, body) = post(
        f,
        &c,
        "/act/thread",
        Some(&f.url),
        &[("subject", "Hi"), ("text", "x"), ("csrf", &csrf_of(&page))],
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{body}");
    assert!(body.contains("may read but not post"));
}

async fn confirm_then_sign(f: &Fixture) {
    let c = login(f, &f.writer).await;
    let (_, _, page) = get(f, &c, &format!("/thread/{}", f.posted.thread)).await;
    let csrf = csrf_of(&page);
    let reply_to = f.posted.thread.to_string();
    let back = format!("/thread/{}", f.posted.thread);
    let form = [
        ("reply_to", reply_to.as_str()),
        ("text", "Confirmed from the console <b>now</b>"),
        ("back", back.as_str()),
        ("csrf", csrf.as_str()),
    ];
    let (s, _, preview) = post(f, &c, "/act/reply", Some(&f.url), &form).await;
    assert_eq!(s, StatusCode::OK);
    assert!(preview.contains("Check and confirm"));
    assert!(
        preview.contains("&quot;kind&quot;: &quot;message&quot;"),
        "{preview}"
    );
    assert!(preview.contains("&quot;author&quot;: &quot;alice&quot;"));
    assert!(preview.contains("Confirmed from the console &lt;b&gt;now&lt;/b&gt;"));
    let mut confirmed = form.to_vec();
    confirmed.push(("confirm", "yes"));
    let (s, h, body) = post(f, &c, "/act/reply", Some(&f.url), &confirmed).await;
    assert_eq!(s, StatusCode::SEE_OTHER, "{body}");
    assert_eq!(h["location"].to_str().unwrap(), back);
    let (_, _, thread) = get(f, &c, &back).await;
    assert!(thread.contains("Confirmed from the console &lt;b&gt;now&lt;/b&gt;"));
    // A position on the proposal, through the same flow.
    let target = f.posted.proposal_v2.to_string();
    let (s, _, _) = post(
        f,
        &c,
        "/act/position",
        Some(&f.url),
        &[
            ("target", target.as_str()),
            ("stance", "oppose"),
            ("comment", "Too short"),
            ("csrf", &csrf),
            ("confirm", "yes"),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let (_, _, p) = get(f, &c, &format!("/proposals/{}", f.posted.proposal_v2)).await;
    assert!(p.contains("oppose: Too short"), "{p}");
    // A stance that makes no sense on a proposal is refused before anything is signed.
    let (s, _, _) = post(
        f,
        &c,
        "/act/position",
        Some(&f.url),
        &[
            ("target", target.as_str()),
            ("stance", "agree"),
            ("csrf", &csrf),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
}

async fn hostile_content_is_inert(f: &Fixture) {
    let c = login(f, &f.writer).await;
    for path in [
        "/dialogue".to_owned(),
        format!("/thread/{}", f.posted.hostile),
        format!("/statement/{}", f.posted.hostile),
        "/".into(),
    ] {
        let (s, _, body) = get(f, &c, &path).await;
        assert_eq!(s, StatusCode::OK);
        let lower = body.to_ascii_lowercase();
        assert!(
            !lower.contains("<script>window"),
            "{path}: a script tag got through"
        );
        assert!(
            !lower.contains("href=\"javascript"),
            "{path}: a javascript: link got through"
        );
        assert!(!lower.contains("<img"), "{path}: an image got through");
        assert!(
            !lower.contains(" onerror=\""),
            "{path}: a handler got through"
        );
    }
    let (_, _, thread) = get(f, &c, &format!("/thread/{}", f.posted.hostile)).await;
    assert!(thread.contains("&lt;script&gt;window.__pwned=1&lt;/script&gt;"));
    assert!(thread.contains(&HOSTILE_SUBJECT.replace('<', "&lt;").replace('>', "&gt;")));
    assert!(
        thread.contains("longer than the console shows"),
        "oversized text is cut"
    );
    assert!(
        thread.len() < 60_000,
        "the thread page is {} bytes",
        thread.len()
    );
}

async fn evidence_bundle_verifies(f: &Fixture) {
    let c = login(f, &f.writer).await;
    let (s, h, body) = get(
        f,
        &c,
        &format!("/agreements/{}/evidence.json", f.posted.agreement),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        h["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment")
    );
    let bundle: serde_json::Value = serde_json::from_str(&body).unwrap();
    let genesis = statement::Signed::from_json(&std::fs::read(&f.genesis_path).unwrap()).unwrap();
    let mut group = statement::Group::new();
    group.apply(&genesis).unwrap();
    let proven = node::console::bundle::verify(&bundle, &group).unwrap();
    assert!(proven.adopted);
    assert_eq!(proven.signed.len(), 2);
    // Without the witnesses' cosignatures the checkpoint does not meet the group's policy.
    let mut bare = bundle.clone();
    let note = bundle["checkpoint"].as_str().unwrap();
    assert!(note.contains("w0.console.example/witness"));
    let stripped: String = note
        .lines()
        .filter(|l| !l.contains("console.example/witness"))
        .map(|l| format!("{l}\n"))
        .collect();
    bare["checkpoint"] = serde_json::json!(stripped);
    assert!(matches!(
        node::console::bundle::verify(&bare, &group),
        Err(node::console::bundle::BundleError::Unwitnessed {
            got: 0,
            required: 2
        })
    ));
    // Tampering with a leaf breaks its proof.
    let mut bad = bundle.clone();
    bad["statements"][0]["leaf"] = serde_json::json!(bundle["statements"][1]["leaf"]);
    assert!(node::console::bundle::verify(&bad, &group).is_err());
}
