//! A deliberately small, safe markdown subset for messages and proposals.
//!
//! Supported: paragraphs, line breaks inside them, `**strong**`, `*emphasis*`, `` `code` ``,
//! fenced code blocks, `- ` / `* ` / `1. ` lists, `#` headings (shown as `h4`), and links
//! `[text](url)` whose URL is `http://` or `https://` (anything else, `javascript:`
//! included, is shown as text). No raw HTML: every character of the input is escaped.
//! A hand-written subset rather than a full CommonMark crate because the input comes from
//! rival members and the smallest surface is the easiest to keep inert.

use super::html::{Markup, escape};

/// Longest text rendered in full, in characters; longer text is cut with a note.
pub const MAX_RENDERED: usize = 20_000;

/// Renders `text` as safe HTML.
pub fn render(text: &str) -> Markup {
    let cut = text.chars().count() > MAX_RENDERED;
    let text: String = text.chars().take(MAX_RENDERED).collect();
    let mut out = String::new();
    let mut para: Vec<&str> = Vec::new();
    let mut list: Option<(&str, Vec<&str>)> = None;
    let mut code: Option<Vec<&str>> = None;
    for line in text.lines() {
        if let Some(c) = code.as_mut() {
            if line.trim_start().starts_with("```") {
                out.push_str(&format!(
                    "<pre><code>{}</code></pre>",
                    escape(&c.join("\n"))
                ));
                code = None;
            } else {
                c.push(line);
            }
            continue;
        }
        let trimmed = line.trim();
        if trimmed.starts_with("```") {
            flush(&mut out, &mut para, &mut list);
            code = Some(Vec::new());
        } else if trimmed.is_empty() {
            flush(&mut out, &mut para, &mut list);
        } else if let Some((tag, item)) = list_item(trimmed) {
            flush_para(&mut out, &mut para);
            match list.as_mut() {
                Some((t, items)) if *t == tag => items.push(item),
                _ => {
                    flush_list(&mut out, &mut list);
                    list = Some((tag, vec![item]));
                }
            }
        } else if let Some(h) = trimmed.strip_prefix('#') {
            flush(&mut out, &mut para, &mut list);
            out.push_str(&format!(
                "<h4>{}</h4>",
                inline(h.trim_start_matches('#').trim())
            ));
        } else {
            flush_list(&mut out, &mut list);
            para.push(trimmed);
        }
    }
    if let Some(c) = code {
        out.push_str(&format!(
            "<pre><code>{}</code></pre>",
            escape(&c.join("\n"))
        ));
    }
    flush(&mut out, &mut para, &mut list);
    if cut {
        out.push_str("<p class=\"note\">(The text is longer than the console shows; the full text is on the statement's page.)</p>");
    }
    Markup::from_safe(out)
}

fn list_item(line: &str) -> Option<(&'static str, &str)> {
    if let Some(rest) = line.strip_prefix("- ").or_else(|| line.strip_prefix("* ")) {
        return Some(("ul", rest));
    }
    let digits = line.bytes().take_while(u8::is_ascii_digit).count();
    if digits > 0 && digits < 4 {
        return line[digits..].strip_prefix(". ").map(|rest| ("ol", rest));
    }
    None
}

fn flush(out: &mut String, para: &mut Vec<&str>, list: &mut Option<(&str, Vec<&str>)>) {
    flush_para(out, para);
    flush_list(out, list);
}

fn flush_para(out: &mut String, para: &mut Vec<&str>) {
    if para.is_empty() {
        return;
    }
    let lines: Vec<String> = para.iter().map(|l| inline(l)).collect();
    out.push_str(&format!("<p>{}</p>", lines.join("<br>")));
    para.clear();
}

fn flush_list(out: &mut String, list: &mut Option<(&str, Vec<&str>)>) {
    if let Some((tag, items)) = list.take() {
        out.push_str(&format!("<{tag}>"));
        for i in items {
            out.push_str(&format!("<li>{}</li>", inline(i)));
        }
        out.push_str(&format!("</{tag}>"));
    }
}

/// Inline markup of one line: code spans first (their content is literal), then links,
/// strong and emphasis. The result is safe HTML.
fn inline(line: &str) -> String {
    let mut out = String::new();
    let mut rest = line;
    while let Some(start) = rest.find('`') {
        let Some(len) = rest[start + 1..].find('`') else {
            break;
        };
        out.push_str(&links(&rest[..start]));
        out.push_str(&format!(
            "<code>{}</code>",
            escape(&rest[start + 1..start + 1 + len])
        ));
        rest = &rest[start + 2 + len..];
    }
    out.push_str(&links(rest));
    out
}

fn links(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(open) = rest.find('[') {
        let Some((label, url, used)) = link_at(&rest[open..]) else {
            out.push_str(&emphasis(&rest[..=open]));
            rest = &rest[open + 1..];
            continue;
        };
        out.push_str(&emphasis(&rest[..open]));
        if safe_url(url) {
            out.push_str(&format!(
                "<a href=\"{}\" rel=\"noopener noreferrer nofollow\">{}</a>",
                escape(url),
                emphasis(label)
            ));
        } else {
            out.push_str(&escape(&rest[open..open + used]));
        }
        rest = &rest[open + used..];
    }
    out.push_str(&emphasis(rest));
    out
}

/// `[label](url)` at the start of `s`: the label, the URL and the bytes used.
fn link_at(s: &str) -> Option<(&str, &str, usize)> {
    let close = s.find("](")?;
    let end = s[close + 2..].find(')')?;
    Some((
        &s[1..close],
        &s[close + 2..close + 2 + end],
        close + 3 + end,
    ))
}

/// Only absolute http(s) URLs without spaces or quotes become links.
pub fn safe_url(url: &str) -> bool {
    let lower = url.to_ascii_lowercase();
    (lower.starts_with("https://") || lower.starts_with("http://"))
        && !url.chars().any(|c| {
            c.is_whitespace() || c.is_control() || c == '"' || c == '\'' || c == '<' || c == '>'
        })
}

fn emphasis(text: &str) -> String {
    let text = escape(text);
    let text = pairs(&text, "**", "strong");
    pairs(&text, "*", "em")
}

/// Replaces balanced `marker … marker` with `<tag>…</tag>` in already escaped text.
fn pairs(text: &str, marker: &str, tag: &str) -> String {
    let parts: Vec<&str> = text.split(marker).collect();
    if parts.len() < 3 {
        return text.to_owned();
    }
    let mut out = String::new();
    let pairs_n = (parts.len() - 1) / 2 * 2;
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            if i <= pairs_n {
                out.push_str(&format!("<{}{tag}>", if i % 2 == 1 { "" } else { "/" }));
            } else {
                out.push_str(marker);
            }
        }
        out.push_str(p);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_input_is_inert() {
        let m = render(
            "<script>alert(1)</script> [x](javascript:alert(1)) <img src=x onerror=alert(1)>",
        );
        let s = m.as_str();
        assert!(!s.contains("<script"), "{s}");
        assert!(!s.contains("<img"), "{s}");
        assert!(!s.contains("href=\"javascript"), "{s}");
        assert!(s.contains("&lt;script&gt;"), "{s}");
    }

    #[test]
    fn the_subset_renders() {
        let m = render(
            "# Title\n\nHello **world** and *you*, see [site](https://example.org/a?b=1&c=2).\n\n- one\n- `two<`\n\n```\n<b>code</b>\n```",
        );
        let s = m.as_str();
        assert!(s.contains("<h4>Title</h4>"), "{s}");
        assert!(s.contains("<strong>world</strong>"), "{s}");
        assert!(s.contains("<em>you</em>"), "{s}");
        assert!(
            s.contains("<a href=\"https://example.org/a?b=1&amp;c=2\""),
            "{s}"
        );
        assert!(
            s.contains("<ul><li>one</li><li><code>two&lt;</code></li></ul>"),
            "{s}"
        );
        assert!(
            s.contains("<pre><code>&lt;b&gt;code&lt;/b&gt;</code></pre>"),
            "{s}"
        );
    }

    #[test]
    fn oversized_text_is_cut() {
        let long = "a".repeat(MAX_RENDERED + 10);
        assert!(
            render(&long)
                .as_str()
                .contains("longer than the console shows")
        );
    }
}
