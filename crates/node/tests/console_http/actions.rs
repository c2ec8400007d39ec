//! The console's actions over HTTP (each through the confirm-then-sign path), and the
//! overview's alerts.

use reqwest::StatusCode;

use super::console_fixture::Fixture;
use super::{csrf_of, get, login, post};

/// Posts `form` to `/act/{action}` confirmed; returns the redirect target.
async fn act(f: &Fixture, cookie: &str, csrf: &str, action: &str, form: &[(&str, &str)]) -> String {
    let mut all = form.to_vec();
    all.extend([("csrf", csrf), ("confirm", "yes")]);
    let (s, h, body) = post(f, cookie, &format!("/act/{action}"), Some(&f.url), &all).await;
    assert_eq!(s, StatusCode::SEE_OTHER, "{action}: {body}");
    h["location"].to_str().unwrap().to_owned()
}

async fn refused(
    f: &Fixture,
    cookie: &str,
    csrf: &str,
    action: &str,
    form: &[(&str, &str)],
) -> (StatusCode, String) {
    let mut all = form.to_vec();
    all.push(("csrf", csrf));
    let (s, _, body) = post(f, cookie, &format!("/act/{action}"), Some(&f.url), &all).await;
    (s, body)
}

pub async fn every_action_posts(f: &Fixture) {
    let c = login(f, &f.writer).await;
    let (_, _, page) = get(f, &c, "/").await;
    let csrf = csrf_of(&page);
    let p = &f.posted;

    // A conversation sealed to bob: the preview says so and shows the content apart.
    let sealed = [
        ("subject", "Private"),
        ("text", "For bob only"),
        ("to", "bob"),
    ];
    let (s, preview) = refused(f, &c, &csrf, "thread", &sealed).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        preview.contains("encrypted to the addressees") && preview.contains("For bob only"),
        "{preview}"
    );
    let start = preview.find("id=\"to-sign\">").unwrap();
    let signed_part = &preview[start..start + preview[start..].find("</pre>").unwrap()];
    assert!(
        !signed_part.contains("For bob only"),
        "the sealed text is in the clear body: {signed_part}"
    );
    assert!(signed_part.contains("&quot;to&quot;") && signed_part.contains("&quot;bob&quot;"));
    let at = act(f, &c, &csrf, "thread", &sealed).await;
    let (_, _, thread) = get(f, &c, &at).await;
    assert!(
        thread.contains("For bob only") && thread.contains("Sealed: only bob and alice"),
        "{thread}"
    );

    // A report from the short form, and a sealed one from a pasted bundle.
    let at = act(
        f,
        &c,
        &csrf,
        "report",
        &[
            ("title", "Phishing"),
            ("tlp", "GREEN"),
            ("indicator_name", "Phishing domain"),
            ("pattern", "[domain-name:value = 'evil.example']"),
            ("malware", "Agent X"),
        ],
    )
    .await;
    let (_, _, report) = get(f, &c, &at).await;
    assert!(
        report.contains("Indicator: Phishing domain")
            && report.contains("<strong>indicates</strong>"),
        "{report}"
    );
    let bundle = r#"{"type":"bundle","id":"bundle--6f0a3c52-1a83-4c2b-9a6e-3b8f1d2e4c11","objects":[{"type":"malware","spec_version":"2.1","id":"malware--1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e50","created":"2026-11-01T10:00:00.000Z","modified":"2026-11-01T10:00:00.000Z","name":"Amber thing","is_family":false}]}"#;
    let (s, body) = refused(
        f,
        &c,
        &csrf,
        "report",
        &[("title", "Amber"), ("tlp", "AMBER"), ("bundle", bundle)],
    )
    .await;
    assert_eq!(
        s,
        StatusCode::BAD_REQUEST,
        "AMBER without addressees: {body}"
    );
    let at = act(
        f,
        &c,
        &csrf,
        "report",
        &[
            ("title", "Amber"),
            ("tlp", "AMBER"),
            ("bundle", bundle),
            ("to", "bob"),
        ],
    )
    .await;
    let (_, _, report) = get(f, &c, &at).await;
    assert!(
        report.contains("Malware: Amber thing") && report.contains("TLP:AMBER"),
        "{report}"
    );

    // A position on a report, on the STIX opinion scale.
    let report_id = p.report.to_string();
    act(
        f,
        &c,
        &csrf,
        "position",
        &[
            ("target", &report_id),
            ("stance", "agree"),
            ("comment", "Seen it too"),
        ],
    )
    .await;
    let (_, _, report) = get(f, &c, &format!("/reports/{report_id}")).await;
    assert!(
        report.contains("<td>alice</td><td>agree</td><td>Seen it too</td>"),
        "{report}"
    );

    // Answering bob's request and acknowledging carol's check.
    let request = p.request.to_string();
    act(
        f,
        &c,
        &csrf,
        "answer",
        &[
            ("request", &request),
            ("text", "Here is the sample"),
            ("back", "/requests"),
        ],
    )
    .await;
    let (_, _, requests) = get(f, &c, "/requests").await;
    assert!(
        requests.contains("alice: <span class=\"ok\">answered on time</span>"),
        "{requests}"
    );
    let check = p.check.to_string();
    act(
        f,
        &c,
        &csrf,
        "receipt",
        &[("request", &check), ("back", "/requests")],
    )
    .await;
    let (_, _, overview) = get(f, &c, "/").await;
    assert!(!overview.contains("awaits our receipt"), "{overview}");

    // A new version must amend the latest.
    let (v1, v2) = (p.proposal_v1.to_string(), p.proposal_v2.to_string());
    let (s, _) = refused(
        f,
        &c,
        &csrf,
        "version",
        &[("amends", &v1), ("title", "T"), ("text", "x")],
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    act(
        f,
        &c,
        &csrf,
        "version",
        &[
            ("amends", &v2),
            ("title", "Notification norm"),
            ("text", "Within 6 hours."),
            ("back", "/proposals"),
        ],
    )
    .await;
    let (_, _, proposal) = get(f, &c, &format!("/proposals/{v1}")).await;
    assert!(
        proposal.contains("Version 3") && proposal.contains("Within 6 hours."),
        "{proposal}"
    );

    // Signing an agreement.
    let to_sign = p.to_sign.to_string();
    let (_, _, before) = get(f, &c, &format!("/agreements/{to_sign}")).await;
    assert!(before.contains("action=\"/act/sign\""));
    act(f, &c, &csrf, "sign", &[("agreement", &to_sign)]).await;
    let (_, _, after) = get(f, &c, &format!("/agreements/{to_sign}")).await;
    assert!(
        after.contains("1 of 2 signatures") && !after.contains("action=\"/act/sign\""),
        "{after}"
    );

    let (s, _) = refused(f, &c, &csrf, "nonsense", &[]).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

pub async fn alerts_come_first(f: &mut Fixture) {
    let c = login(f, &f.writer).await;
    let (_, _, overview) = get(f, &c, "/").await;
    let alert = overview
        .find("Evidence of equivocation")
        .expect("the equivocation alert");
    assert!(
        alert < overview.find("<h2>Members").unwrap(),
        "alerts come before the rest"
    );
    assert!(overview.contains("member bob signed two different statements"));
    let (_, _, standing) = get(f, &c, "/standing").await;
    // bob answered carol late, carol answered bob on time: the chart shows both.
    assert!(
        standing.contains("fill=\"#c2410c\"") && standing.contains("fill=\"#166534\""),
        "{standing}"
    );
    assert!(
        standing.contains("<td class=\"late\">1</td>"),
        "bob's evidence counts against him"
    );
    // The host goes away: the next background sync fails and the overview says so.
    f.host.take().unwrap().stop().await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let (_, _, overview) = get(f, &c, "/").await;
        if overview.contains("The last update from the host failed") {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no alert for the failed sync: {overview}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}
