//! Renderings of the report: the Markdown dashboard and the badges. Pure text out.

pub mod badge;
pub mod dashboard;

/// Escape text from a manifest (tags, failure reasons, repository names) for a Markdown table
/// cell: HTML is neutralised as entities, Markdown punctuation is backslash-escaped, line breaks
/// become spaces, so the text can neither close the cell, start a link or an image, nor inject
/// HTML.
pub fn escape_md(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '|' => o.push_str("&#124;"),
            '\n' | '\r' | '\t' => o.push(' '),
            '\\' | '`' | '*' | '_' | '[' | ']' | '(' | ')' | '#' | '!' | '~' | '{' | '}' | ':'
            | '@' | '$' => {
                o.push('\\');
                o.push(c);
            }
            c if c.is_control() => {}
            c => o.push(c),
        }
    }
    o
}

/// Escape text for XML (the SVG badge).
pub fn escape_xml(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&apos;"),
            c if c.is_control() => {}
            c => o.push(c),
        }
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_and_html_cannot_be_injected() {
        let e = escape_md("v1 | <img src=x onerror=alert(1)> [x](javascript:1)\n# h");
        assert!(!e.contains('<') && !e.contains('\n'));
        assert!(!e.contains(" | "), "{e}");
        assert!(e.contains("\\[x\\]\\(javascript\\:1\\)"), "{e}");
        assert_eq!(escape_xml("a<b>&\"'"), "a&lt;b&gt;&amp;&quot;&apos;");
    }
}
