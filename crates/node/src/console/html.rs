//! HTML building with escaping by default.
//!
//! Everything the console shows from the log was written by a rival member, so every
//! value interpolated into markup goes through [`Esc`]: the [`h!`](crate::h) macro takes a
//! literal format string (our own markup) and escapes each argument. Markup built
//! elsewhere is added with [`Markup::push`], and only [`Markup`] values count as markup.
//! Use positional `{}` only: an inline `{name}` capture would bypass the escaping.

use std::fmt::{self, Display, Write as _};

/// Writes `$fmt` (a string literal of trusted markup) into the [`Markup`] `$out`, each
/// argument HTML-escaped.
#[macro_export]
#[doc(hidden)]
macro_rules! h {
    ($out:expr, $fmt:literal $(, $arg:expr)* $(,)?) => {
        $out.write_fmt(format_args!($fmt $(, $crate::console::html::Esc(&$arg))*))
    };
}

/// A value that is HTML-escaped when displayed (text and attribute values alike).
pub struct Esc<'a, T: Display + ?Sized>(pub &'a T);

impl<T: Display + ?Sized> Display for Esc<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut w = EscWriter(f);
        write!(w, "{}", self.0)
    }
}

struct EscWriter<'a, 'b>(&'a mut fmt::Formatter<'b>);

impl fmt::Write for EscWriter<'_, '_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let mut last = 0;
        for (i, c) in s.char_indices() {
            let rep = match c {
                '&' => "&amp;",
                '<' => "&lt;",
                '>' => "&gt;",
                '"' => "&quot;",
                '\'' => "&#39;",
                _ => continue,
            };
            self.0.write_str(&s[last..i])?;
            self.0.write_str(rep)?;
            last = i + c.len_utf8();
        }
        self.0.write_str(&s[last..])
    }
}

/// Escapes `text` for HTML text or a quoted attribute value.
pub fn escape(text: &str) -> String {
    Esc(text).to_string()
}

/// Trusted markup: built only from literal markup and escaped values.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Markup(String);

impl Markup {
    /// Empty markup.
    pub fn new() -> Markup {
        Markup(String::new())
    }

    /// Appends other markup.
    pub fn push(&mut self, other: &Markup) {
        self.0.push_str(&other.0);
    }

    /// Appends escaped text.
    pub fn text(&mut self, text: &str) {
        let _ = write!(self.0, "{}", Esc(text));
    }

    /// Used by [`h!`](crate::h): writes formatted output whose arguments are already
    /// escaped. Infallible: writing to a `String` cannot fail.
    pub fn write_fmt(&mut self, args: fmt::Arguments<'_>) {
        let _ = self.0.write_fmt(args);
    }

    /// Wraps markup that this module's own functions produced safely.
    pub(crate) fn from_safe(s: String) -> Markup {
        Markup(s)
    }

    /// The HTML text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Consumes it into the HTML text.
    pub fn into_string(self) -> String {
        self.0
    }
}

/// The opening of a data table: a header row of `columns`, then `<tbody>` (the caller
/// closes it with `</tbody></table>`).
pub fn table_head(columns: &[&str]) -> Markup {
    let mut m = Markup::from_safe("<table><thead><tr>".into());
    for c in columns {
        crate::h!(m, "<th scope=\"col\">{}</th>", c);
    }
    m.push(&Markup::from_safe("</tr></thead><tbody>".into()));
    m
}

/// At most `max` characters of `text`, with an ellipsis when cut.
pub fn clip(text: &str, max: usize) -> String {
    if text.chars().count() > max {
        let mut s: String = text.chars().take(max).collect();
        s.push('…');
        s
    } else {
        text.to_owned()
    }
}

/// The first 12 hex digits of a statement id, for links people read.
pub fn short(id: &impl Display) -> String {
    id.to_string().chars().take(12).collect()
}

/// A timestamp as people read it: `2026-11-29 08:15 UTC`.
pub fn when(t: &statement::Timestamp) -> String {
    let s = t.as_str();
    match (s.get(..10), s.get(11..16)) {
        (Some(d), Some(hm)) => format!("{d} {hm} UTC"),
        _ => s.to_owned(),
    }
}

/// A duration in seconds as people read it: `3 h 12 min`, `2 days 4 h`, `45 s`.
pub fn duration(secs: i64) -> String {
    let s = secs.abs();
    match s {
        0..60 => format!("{s} s"),
        60..3600 => format!("{} min", s / 60),
        3600..86_400 => format!("{} h {} min", s / 3600, s / 60 % 60),
        _ => format!("{} days {} h", s / 86_400, s / 3600 % 24),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_argument_is_escaped() {
        let mut m = Markup::new();
        let evil = "<script>alert('x')</script>&\"";
        crate::h!(m, "<p title=\"{}\">{}</p>", evil, evil);
        assert_eq!(
            m.as_str(),
            "<p title=\"&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;&quot;\">&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;&quot;</p>"
        );
    }

    #[test]
    fn clipping_and_durations() {
        assert_eq!(clip("abcdef", 3), "abc…");
        assert_eq!(clip("ab", 3), "ab");
        assert_eq!(duration(59), "59 s");
        assert_eq!(duration(-3700), "1 h 1 min");
        assert_eq!(duration(90_000), "1 days 1 h");
    }
}
