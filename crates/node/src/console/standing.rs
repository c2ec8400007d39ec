//! Standing: the per-member table and three SVG charts — time to answer per member,
//! requests answered on time vs late vs never, and communication-check receipts over
//! time. The charts are drawn server-side (no script) and the table carries the same
//! numbers for screen readers.

use axum::extract::State;
use axum::response::Response;
use statement::group::Standing;

use super::auth::Session;
use super::error::ConsoleError;
use super::html::{Markup, duration, when};
use super::{Console, layout};
use crate::Node;

const WIDTH: u32 = 640;
const LABEL: u32 = 140;
const ROW: u32 = 26;

fn table(rows: &[Standing]) -> Markup {
    let mut m = Markup::new();
    m.push(&Markup::from_safe("<table id=\"standing\"><caption>What each member did, from the log alone</caption><thead><tr>\
        <th scope=\"col\">Member</th><th scope=\"col\">Requests received</th><th scope=\"col\">Answered</th><th scope=\"col\">On time</th>\
        <th scope=\"col\">Overdue</th><th scope=\"col\">Median time to answer</th><th scope=\"col\">Checks received</th>\
        <th scope=\"col\">Receipts sent</th><th scope=\"col\">Agreements signed</th><th scope=\"col\">Evidence against it</th></tr></thead><tbody>".into()));
    for r in rows {
        crate::h!(
            m,
            "<tr><th scope=\"row\">{}</th><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"{}\">{}</td></tr>",
            r.member,
            r.requests_received,
            r.answered,
            r.answered_on_time,
            r.overdue,
            r.median_answer_seconds.map_or("—".to_owned(), duration),
            r.checks_received,
            r.receipts_given,
            r.agreements_signed,
            if r.evidence_against > 0 { "late" } else { "" },
            r.evidence_against
        );
    }
    m.push(&Markup::from_safe("</tbody></table>".into()));
    m
}

fn svg_open(m: &mut Markup, height: u32, label: &str) {
    crate::h!(
        m,
        "<svg width=\"{}\" height=\"{}\" viewBox=\"0 0 {} {}\" role=\"img\" aria-label=\"{}\"><title>{}</title>",
        WIDTH,
        height,
        WIDTH,
        height,
        label,
        label
    );
}

fn median_chart(rows: &[Standing]) -> Markup {
    let mut m = Markup::new();
    let max = rows
        .iter()
        .filter_map(|r| r.median_answer_seconds)
        .max()
        .unwrap_or(0)
        .max(1);
    let label = "Median time to answer a request, per member";
    crate::h!(m, "<h2>{}</h2>", label);
    svg_open(&mut m, ROW * rows.len() as u32 + 10, label);
    for (i, r) in rows.iter().enumerate() {
        let y = ROW * i as u32 + 4;
        crate::h!(m, "<text x=\"0\" y=\"{}\">{}</text>", y + 14, r.member);
        if let Some(s) = r.median_answer_seconds {
            let w = ((s.max(0) as f64 / max as f64) * f64::from(WIDTH - LABEL - 90)) as u32;
            crate::h!(
                m,
                "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"18\" fill=\"#0b5394\"></rect><text x=\"{}\" y=\"{}\">{}</text>",
                LABEL,
                y,
                w.max(1),
                LABEL + w + 6,
                y + 14,
                duration(s)
            );
        } else {
            crate::h!(
                m,
                "<text x=\"{}\" y=\"{}\" fill=\"#57606a\">no answers yet</text>",
                LABEL,
                y + 14
            );
        }
    }
    m.push(&Markup::from_safe("</svg>".into()));
    m
}

fn outcome_chart(rows: &[Standing]) -> Markup {
    let mut m = Markup::new();
    let label = "Requests answered on time, late, or not at all (overdue), per member";
    crate::h!(
        m,
        "<h2>{}</h2><p class=\"meta\">Green: on time · orange: late · red: overdue without answer</p>",
        label
    );
    svg_open(&mut m, ROW * rows.len() as u32 + 10, label);
    let max = rows
        .iter()
        .map(|r| r.answered + r.overdue)
        .max()
        .unwrap_or(0)
        .max(1);
    let unit = f64::from(WIDTH - LABEL - 60) / f64::from(max);
    for (i, r) in rows.iter().enumerate() {
        let y = ROW * i as u32 + 4;
        crate::h!(m, "<text x=\"0\" y=\"{}\">{}</text>", y + 14, r.member);
        let mut x = f64::from(LABEL);
        let late = r.answered.saturating_sub(r.answered_on_time);
        for (n, colour) in [
            (r.answered_on_time, "#166534"),
            (late, "#c2410c"),
            (r.overdue, "#b91c1c"),
        ] {
            let w = f64::from(n) * unit;
            if n > 0 {
                crate::h!(
                    m,
                    "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"18\" fill=\"{}\"></rect>",
                    x as u32,
                    y,
                    w as u32,
                    colour
                );
            }
            x += w;
        }
        crate::h!(
            m,
            "<text x=\"{}\" y=\"{}\">{} / {} / {}</text>",
            x as u32 + 6,
            y + 14,
            r.answered_on_time,
            late,
            r.overdue
        );
    }
    m.push(&Markup::from_safe("</svg>".into()));
    m
}

fn receipts_chart(node: &Node) -> Result<Markup, ConsoleError> {
    let mut m = Markup::new();
    let label = "Communication checks over time: share of members who confirmed receipt";
    crate::h!(m, "<h2>{}</h2>", label);
    let checks: Vec<_> = node
        .group()?
        .requests()
        .values()
        .filter(|r| r.check && !r.recipients.is_empty())
        .collect();
    if checks.is_empty() {
        m.push(&Markup::from_safe(
            "<p>No communication checks yet.</p>".into(),
        ));
        return Ok(m);
    }
    let mut checks = checks;
    checks.sort_by_key(|r| r.said.index);
    let height = 180;
    svg_open(&mut m, height + 40, label);
    let step = (WIDTH - 40) / checks.len().max(1) as u32;
    let bar = step.clamp(4, 60) - 2;
    for (i, r) in checks.iter().enumerate() {
        let share = r.receipts.len() as f64 / r.recipients.len() as f64;
        let h = (share * f64::from(height)) as u32;
        let x = 40 + step * i as u32;
        crate::h!(
            m,
            "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"#0b5394\"><title>{}: {} of {}</title></rect>",
            x,
            height - h + 10,
            bar,
            h.max(1),
            when(&r.said.time),
            r.receipts.len(),
            r.recipients.len()
        );
        if i == 0 || i + 1 == checks.len() {
            crate::h!(
                m,
                "<text x=\"{}\" y=\"{}\">{}</text>",
                x,
                height + 30,
                r.said.time.as_str().get(..10).unwrap_or("")
            );
        }
    }
    crate::h!(
        m,
        "<text x=\"0\" y=\"20\">100%</text><text x=\"0\" y=\"{}\">0%</text></svg>",
        height + 10
    );
    Ok(m)
}

/// `GET /standing`.
pub async fn page(State(c): State<Console>, session: Session) -> Result<Response, ConsoleError> {
    let node = c.shared().node().await;
    let rows = node.standing(&crate::now())?;
    let mut b = Markup::new();
    b.push(&Markup::from_safe("<h1>Standing</h1><p>How each member has kept up its part: computed by this node from the log alone, with times bounded by the witnesses where they cosigned.</p>".into()));
    b.push(&table(&rows));
    b.push(&median_chart(&rows));
    b.push(&outcome_chart(&rows));
    b.push(&receipts_chart(&node)?);
    Ok(layout::page("Standing", &session, "/standing", &b))
}
