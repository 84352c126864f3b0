//! Escaping, one function per target syntax, shared by every renderer: text a user or a server
//! controls (tag names, file names, failure messages, repository and issue text) goes through
//! exactly one of these on its way into that syntax, so it is shown, never obeyed.
//!
//! - [`markdown`]: GitHub Markdown text (step summaries, the dashboard, issue bodies);
//! - [`markdown_code`]: the inside of a code span in a Markdown table cell;
//! - [`mrkdwn`]: Slack mrkdwn and `plain_text` (Block Kit);
//! - [`slack_url`]: the URL of a Slack link (`<url|label>`);
//! - [`xml`]: XML text and attributes (the SVG badge);
//! - [`command_data`] / [`command_property`]: a workflow command's data and properties;
//! - [`starts_workflow_command`]: whether a plain log line would be obeyed by the runner.
//!
//! Pure: no I/O. What is deliberately not handled: Unicode look-alikes and bidirectional
//! controls in Markdown (GitHub renders them as text; they cannot open syntax).

/// GitHub Markdown text: HTML is neutralised as entities, Markdown punctuation is
/// backslash-escaped, line breaks become spaces, so the text can neither close a table cell,
/// start a link, an image, a heading or a mention, nor inject HTML.
pub fn markdown(s: &str) -> String {
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

/// The inside of a code span (`` `...` ``) in a Markdown table cell. A code span shows its text
/// literally, so only what could end it matters: a backtick becomes `'`, a line break a space,
/// and `|` (which GitHub's table splitter honours even inside code spans) is escaped, as is the
/// backslash that could otherwise un-escape it.
pub fn markdown_code(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => o.push_str("\\\\"),
            '|' => o.push_str("\\|"),
            '`' => o.push('\''),
            '\n' | '\r' | '\t' => o.push(' '),
            c if c.is_control() => {}
            c => o.push(c),
        }
    }
    o
}

/// A fence for a fenced code block holding `body`: backticks, one more than the longest run of
/// backticks in `body` (at least three), so no line of `body` can close it.
pub fn markdown_fence(body: &str) -> String {
    let mut longest = 0;
    let mut run = 0;
    for c in body.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    "`".repeat((longest + 1).max(3))
}

/// Slack mrkdwn and `plain_text`: the text cannot mention (`<!channel>`), link (`<url|x>`) or
/// format (`*b*`, `_i_`, `~s~`, `` `c` ``).
pub fn mrkdwn(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            // A zero-width space after a control character breaks the span it would open.
            '*' | '_' | '~' | '`' => {
                o.push(c);
                o.push('\u{200B}');
            }
            _ => o.push(c),
        }
    }
    o
}

/// A URL inside a Slack link (`<url|label>`): the URL stays clickable as it is (no
/// zero-width spaces: `my_app` must stay `my_app`), and cannot end the link, start a label or
/// break the line: `&` is Slack's `&amp;`, `<`, `>`, `|` and whitespace are percent-encoded.
pub fn slack_url(url: &str) -> String {
    let mut o = String::with_capacity(url.len());
    for c in url.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("%3C"),
            '>' => o.push_str("%3E"),
            '|' => o.push_str("%7C"),
            c if c.is_whitespace() || c.is_control() => {
                let mut buf = [0u8; 4];
                for b in c.encode_utf8(&mut buf).bytes() {
                    o.push_str(&format!("%{b:02X}"));
                }
            }
            c => o.push(c),
        }
    }
    o
}

/// XML text and attribute values (the SVG badge).
pub fn xml(s: &str) -> String {
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

/// A workflow command's data, by the runner's rules (actions/toolkit `escapeData`): the value
/// stays on the command's one line.
pub fn command_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// A workflow command's property value (`escapeProperty`): also `:` and `,`.
pub fn command_property(s: &str) -> String {
    command_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// Whether the runner would obey this log line as a command: `::name ...::` once leading
/// whitespace is trimmed, or the older `##[name ...]` anywhere in the line. Lines are split on
/// `\r` as well as `\n`, as the runner reads them.
pub fn starts_workflow_command(line: &str) -> bool {
    line.trim_start().starts_with("::") || line.contains("##[")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_and_html_cannot_be_injected() {
        let e = markdown("v1 | <img src=x onerror=alert(1)> [x](javascript:1)\n# h");
        assert!(!e.contains('<') && !e.contains('\n'));
        assert!(!e.contains(" | "), "{e}");
        assert!(e.contains("\\[x\\]\\(javascript\\:1\\)"), "{e}");
    }

    #[test]
    fn a_code_span_cannot_be_closed_or_split() {
        assert_eq!(markdown_code("a|b\nc`"), "a\\|b c'");
        // A backslash before a pipe cannot un-escape it.
        assert_eq!(markdown_code("a\\|b"), "a\\\\\\|b");
        assert_eq!(markdown_fence("x"), "```");
        assert_eq!(markdown_fence("a ```` b ``"), "`````");
    }

    #[test]
    fn mrkdwn_cannot_mention_link_or_format() {
        assert_eq!(mrkdwn("<!channel>"), "&lt;!channel&gt;");
        assert_eq!(mrkdwn("<http://e|x>"), "&lt;http://e|x&gt;");
        assert_eq!(mrkdwn("*b*"), "*\u{200B}b*\u{200B}");
    }

    #[test]
    fn xml_and_commands_follow_their_syntax() {
        assert_eq!(xml("a<b>&\"'"), "a&lt;b&gt;&amp;&quot;&apos;");
        assert_eq!(command_data("a%b\r\nc"), "a%25b%0D%0Ac");
        assert_eq!(command_property("a:b,c\n"), "a%3Ab%2Cc%0A");
    }

    #[test]
    fn workflow_command_lines_are_recognised_as_the_runner_reads_them() {
        assert!(starts_workflow_command("::set-output name=a::b"));
        assert!(starts_workflow_command("  \t::warning::x"));
        assert!(starts_workflow_command("Tag: v1 ##[add-mask]x"));
        assert!(!starts_workflow_command("Tag: v1::x"));
        assert!(!starts_workflow_command("a : : b"));
    }
}
