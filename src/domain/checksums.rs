//! `sha256sum` output as subjects: `<64 hex><space><space|*><name>`, with GNU coreutils'
//! backslash escaping (a line starting with `\` has `\\` and `\n` escaped in its name).
//!
//! Pure parsing; reading the file is the mode's job. Blank lines are skipped. What this does NOT
//! accept: BSD-style `SHA256 (name) = hex` lines, other digest lengths.

use super::subjects::Subject;

/// The subjects listed in `text`; none for a text with no lines (the mode decides what zero
/// subjects means). A malformed line is reported by its number and what is wrong with it,
/// never by its content: the "checksums file" may be anything (`/proc/self/environ`, a
/// file of secrets), and an error message ends up in public logs.
pub fn parse(text: &str) -> Result<Vec<Subject>, String> {
    let mut out = Vec::new();
    for (i, raw_line) in text.lines().enumerate() {
        let line = raw_line.trim_end_matches('\r');
        if line.trim().is_empty() {
            continue;
        }
        let (escaped, line) = match line.strip_prefix('\\') {
            Some(rest) => (true, rest),
            None => (false, line),
        };
        let bad = |why: &str| {
            format!(
                "line {} is not sha256sum format ('<64 hex digits>  <name>'): {why}",
                i + 1
            )
        };
        let hex = line
            .get(..64)
            .filter(|h| h.bytes().all(|b| b.is_ascii_hexdigit()))
            .ok_or_else(|| bad("it does not start with 64 hex digits"))?;
        let rest = &line[64..];
        let name = rest
            .strip_prefix("  ")
            .or_else(|| rest.strip_prefix(" *"))
            .ok_or_else(|| bad("the digest is not followed by two spaces or ' *'"))?;
        let name = if escaped {
            unescape(name)
        } else {
            name.to_string()
        };
        if name.is_empty() {
            return Err(bad("the file name is empty"));
        }
        out.push(Subject {
            name,
            sha256: hex.to_ascii_lowercase(),
        });
    }
    Ok(out)
}

fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n') => out.push('\n'),
                Some('r') => out.push('\r'),
                Some('\\') => out.push('\\'),
                Some(other) => {
                    out.push('\\');
                    out.push(other);
                }
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Inline text rather than a file name: it has a newline or starts with a digest.
pub fn looks_inline(value: &str) -> bool {
    value.contains('\n')
        || (value.len() >= 66 && value.as_bytes()[..64].iter().all(u8::is_ascii_hexdigit))
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    #[test]
    fn text_and_binary_markers() {
        let s = parse(&format!("{H}  a.tar.gz\n{H} *b.zip\n\n")).expect("ok");
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].name, "a.tar.gz");
        assert_eq!(s[1].name, "b.zip");
        assert_eq!(s[1].sha256, H);
    }

    #[test]
    fn uppercase_hex_is_normalized_and_escapes_decoded() {
        let s = parse(&format!("\\{}  a\\\\b\\nc", H.to_uppercase())).expect("ok");
        assert_eq!(s[0].sha256, H);
        assert_eq!(s[0].name, "a\\b\nc");
    }

    #[test]
    fn malformed_lines_name_the_line() {
        let e = parse(&format!("{H}  ok\nnot a checksum\n")).expect_err("bad");
        assert!(e.contains("line 2"), "{e}");
        assert!(parse(&format!("{}  x", &H[..63])).is_err());
        assert!(parse(&format!("{H} x")).is_err(), "one space and no marker");
        assert!(parse(&format!("{H}  ")).is_err(), "no name");
        assert!(
            parse(&format!("{}é  x", &H[..63])).is_err(),
            "not a char boundary"
        );
    }

    #[test]
    fn malformed_line_error_never_echoes_the_line() {
        // Regression: the error quoted the line, so `subject-checksums: /proc/self/environ`
        // printed an environment variable (a secret) into the public log.
        for line in [
            "GITHUB_TOKEN=ghp_s3cretS3cretS3cretS3cretS3cretS3cret0000".to_string(),
            format!("{H}  ok\n{H}\tAWS_SECRET=wJalrXUtnFEMI/K7MDENG"),
        ] {
            let e = parse(&line).expect_err("malformed");
            assert!(e.starts_with("line "), "{e}");
            for secret in ["ghp_s3cret", "wJalrXUtnFEMI", "GITHUB_TOKEN", "AWS_SECRET"] {
                assert!(!e.contains(secret), "{e}");
            }
        }
    }

    #[test]
    fn empty_text_is_zero_subjects_not_an_error() {
        assert_eq!(parse("").expect("empty"), vec![]);
        assert_eq!(parse("\n\r\n").expect("blank"), vec![]);
    }

    #[test]
    fn inline_detection() {
        assert!(looks_inline(&format!("{H}  a")));
        assert!(!looks_inline("dist/SHA256SUMS"));
    }
}
