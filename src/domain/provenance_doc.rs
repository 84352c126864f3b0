//! Provenance documents: tell the formats apart and read what a statement says.
//!
//! Pure parsing over bytes, and the entry points a fuzzer calls: [`parse_document`] (a file:
//! one Sigstore bundle, one DSSE envelope, one bare statement, or JSON lines of those),
//! [`parse_envelope`] (an old-format DSSE envelope) and [`read_statement`] (an in-toto
//! statement, SLSA v1 or v0.2). None of them may panic, whatever the input.
//!
//! Formats are told apart by their top-level keys, never by file names: `mediaType` is a
//! Sigstore bundle (v0.1-v0.3), `payloadType` + `signatures` is a bare DSSE envelope
//! (slsa-github-generator's old `.intoto.jsonl`), `_type` + `subject` is a bare statement.
//!
//! What this module does NOT do: verify anything. A bundle is handed back as its JSON text for
//! the Sigstore adapter; the facts [`read_statement`] returns are claims until a signature over
//! exactly those bytes has been verified.

use base64::Engine;
use serde_json::Value;

/// The largest document we read: far above any real provenance (a few hundred KiB for
/// thousands of subjects), low enough that a hostile file cannot exhaust memory.
pub const MAX_DOCUMENT_BYTES: usize = 64 * 1024 * 1024;

/// What kind of provenance a JSON object is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DocumentKind {
    /// A Sigstore bundle, any version.
    Bundle,
    /// An old-format DSSE envelope: Fulcio certificate inside, no transparency-log entry.
    DsseEnvelope,
    /// An unsigned in-toto statement.
    Statement,
}

impl DocumentKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Bundle => "bundle",
            Self::DsseEnvelope => "dsse_envelope",
            Self::Statement => "statement",
        }
    }
}

/// One provenance object from a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    pub kind: DocumentKind,
    /// The object's JSON text, as it was in the file.
    pub json: String,
    /// 1-based line for JSON-lines files; `None` when the file is one JSON value.
    pub line: Option<usize>,
}

/// Why bytes are not provenance. `line` is 1-based, for JSON-lines files.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{detail}", line.map(|l| format!("line {l}: ")).unwrap_or_default())]
pub struct MalformedError {
    pub line: Option<usize>,
    pub detail: String,
}

impl MalformedError {
    fn new(line: Option<usize>, detail: impl Into<String>) -> Self {
        Self {
            line,
            detail: detail.into(),
        }
    }
}

/// Split a provenance file into its documents: one JSON object, or JSON lines of objects.
pub fn parse_document(bytes: &[u8]) -> Result<Vec<Document>, MalformedError> {
    if bytes.len() > MAX_DOCUMENT_BYTES {
        return Err(MalformedError::new(
            None,
            format!("larger than {MAX_DOCUMENT_BYTES} bytes"),
        ));
    }
    let text = std::str::from_utf8(bytes)
        .map_err(|e| MalformedError::new(None, format!("not UTF-8 text: {e}")))?;
    let text = text.trim_start_matches('\u{feff}').trim();
    if text.is_empty() {
        return Err(MalformedError::new(None, "the file is empty"));
    }
    // One value (pretty-printed or not) first; JSON lines only when that fails and the first
    // line is a value of its own, so a broken pretty bundle reports its real error.
    let whole = serde_json::from_str::<Value>(text);
    match whole {
        Ok(value) => Ok(vec![classify(value, text.to_string(), None)?]),
        Err(whole_err) => {
            let first = text.lines().next().unwrap_or_default();
            if first.len() == text.len() || serde_json::from_str::<Value>(first).is_err() {
                return Err(MalformedError::new(None, format!("not JSON: {whole_err}")));
            }
            let mut docs = Vec::new();
            for (i, line) in text.lines().enumerate() {
                let line_no = Some(i + 1);
                let line = line.trim();
                if line.is_empty() {
                    continue;
                }
                let value = serde_json::from_str::<Value>(line)
                    .map_err(|e| MalformedError::new(line_no, format!("not JSON: {e}")))?;
                docs.push(classify(value, line.to_string(), line_no)?);
            }
            Ok(docs)
        }
    }
}

fn classify(value: Value, json: String, line: Option<usize>) -> Result<Document, MalformedError> {
    let Value::Object(map) = &value else {
        return Err(MalformedError::new(line, "not a JSON object"));
    };
    let kind = if let Some(media_type) = map.get("mediaType") {
        match media_type.as_str() {
            Some(m) if m.starts_with("application/vnd.dev.sigstore.bundle") => DocumentKind::Bundle,
            _ => {
                return Err(MalformedError::new(
                    line,
                    format!("mediaType {media_type} is not a Sigstore bundle"),
                ))
            }
        }
    } else if map.contains_key("payloadType") && map.contains_key("signatures") {
        DocumentKind::DsseEnvelope
    } else if map.contains_key("_type") && map.contains_key("subject") {
        DocumentKind::Statement
    } else {
        let keys: Vec<&str> = map.keys().map(String::as_str).take(8).collect();
        return Err(MalformedError::new(
            line,
            format!(
                "neither a Sigstore bundle (mediaType), a DSSE envelope (payloadType, \
                 signatures) nor an in-toto statement (_type, subject); keys: {}",
                keys.join(", ")
            ),
        ));
    };
    Ok(Document { kind, json, line })
}

/// One signature of an old-format envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvelopeSignature {
    pub sig: Vec<u8>,
    /// The signer's certificate, PEM, when the envelope carries it (slsa-github-generator).
    pub cert_pem: Option<String>,
}

/// An old-format DSSE envelope, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegacyEnvelope {
    pub payload_type: String,
    pub payload: Vec<u8>,
    pub signatures: Vec<EnvelopeSignature>,
}

/// Base64 as DSSE writers produce it: standard, URL-safe, padded or not.
fn decode_base64(s: &str) -> Option<Vec<u8>> {
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    [STANDARD, URL_SAFE, STANDARD_NO_PAD, URL_SAFE_NO_PAD]
        .iter()
        .find_map(|engine| engine.decode(s.trim()).ok())
}

/// Read an old-format DSSE envelope: `{payloadType, payload, signatures: [{keyid, sig, cert}]}`.
pub fn parse_envelope(json: &str) -> Result<LegacyEnvelope, MalformedError> {
    let value: Value =
        serde_json::from_str(json).map_err(|e| MalformedError::new(None, format!("{e}")))?;
    let text = |key: &str| value.get(key).and_then(Value::as_str);
    let payload_type = text("payloadType")
        .ok_or_else(|| MalformedError::new(None, "the envelope has no payloadType string"))?;
    let payload = text("payload")
        .and_then(decode_base64)
        .ok_or_else(|| MalformedError::new(None, "the envelope's payload is not base64"))?;
    let signatures = value
        .get("signatures")
        .and_then(Value::as_array)
        .ok_or_else(|| MalformedError::new(None, "the envelope has no signatures array"))?
        .iter()
        .map(|s| {
            let sig = s
                .get("sig")
                .and_then(Value::as_str)
                .and_then(decode_base64)
                .filter(|b| !b.is_empty())
                .ok_or_else(|| MalformedError::new(None, "a signature's sig is not base64"))?;
            let cert_pem = s
                .get("cert")
                .and_then(Value::as_str)
                .filter(|c| !c.trim().is_empty())
                .map(String::from);
            Ok(EnvelopeSignature { sig, cert_pem })
        })
        .collect::<Result<Vec<_>, MalformedError>>()?;
    if signatures.is_empty() {
        return Err(MalformedError::new(None, "the envelope has no signature"));
    }
    Ok(LegacyEnvelope {
        payload_type: payload_type.to_string(),
        payload,
        signatures,
    })
}

pub const SLSA_V1: &str = "https://slsa.dev/provenance/v1";
pub const SLSA_V02: &str = "https://slsa.dev/provenance/v0.2";

/// One subject of a statement.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct StatementSubject {
    pub name: String,
    /// Lower-case hex, when the subject has a SHA-256 digest.
    pub sha256: Option<String>,
}

/// What a statement claims, read the same way for SLSA v1 (ours, attest-build-provenance)
/// and v0.2 (slsa-github-generator).
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub struct StatementFacts {
    pub statement_type: String,
    pub predicate_type: String,
    pub subjects: Vec<StatementSubject>,
    pub builder_id: Option<String>,
    /// The source repository as the statement writes it (URL or `owner/repo`).
    pub source_repository: Option<String>,
    /// Every tag the statement records: our `tag`, a `refs/tags/*` ref, a dispatch
    /// `inputs.tag` (in that order, without duplicates).
    pub tags: Vec<String>,
    /// The git ref the build ran on, when recorded.
    pub git_ref: Option<String>,
    /// The source commit (lower-case hex), when recorded.
    pub commit: Option<String>,
}

impl StatementFacts {
    pub fn has_subject(&self, sha256_hex: &str) -> bool {
        self.subjects
            .iter()
            .any(|s| s.sha256.as_deref() == Some(sha256_hex))
    }
}

fn at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter().try_fold(v, |v, k| v.get(*k))
}

fn str_at(v: &Value, path: &[&str]) -> Option<String> {
    at(v, path)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
}

/// `git+https://github.com/o/r@refs/tags/v1` -> (`https://github.com/o/r`, `refs/tags/v1`).
pub fn split_git_uri(uri: &str) -> (String, Option<String>) {
    let uri = uri.strip_prefix("git+").unwrap_or(uri);
    let (scheme, rest) = match uri.split_once("://") {
        Some((scheme, rest)) => (format!("{scheme}://"), rest),
        None => (String::new(), uri),
    };
    match rest.split_once('@') {
        Some((repo, git_ref)) => (
            format!("{scheme}{repo}"),
            Some(git_ref.to_string()).filter(|r| !r.is_empty()),
        ),
        None => (uri.to_string(), None),
    }
}

fn push_unique(tags: &mut Vec<String>, tag: Option<String>) {
    if let Some(t) = tag {
        if !t.is_empty() && !tags.contains(&t) {
            tags.push(t);
        }
    }
}

fn tag_of_ref(git_ref: Option<&str>) -> Option<String> {
    git_ref
        .and_then(|r| r.strip_prefix("refs/tags/"))
        .map(String::from)
}

/// Read an in-toto statement's claims. Fails on what is not a statement; unknown predicate
/// shapes just leave fields empty (the checks then report them as missing).
pub fn read_statement(bytes: &[u8]) -> Result<StatementFacts, MalformedError> {
    let v: Value = serde_json::from_slice(bytes)
        .map_err(|e| MalformedError::new(None, format!("the statement is not JSON: {e}")))?;
    let statement_type = str_at(&v, &["_type"])
        .ok_or_else(|| MalformedError::new(None, "the statement has no _type"))?;
    if !statement_type.starts_with("https://in-toto.io/Statement/") {
        return Err(MalformedError::new(
            None,
            format!("_type {statement_type:?} is not an in-toto statement"),
        ));
    }
    let predicate_type = str_at(&v, &["predicateType"])
        .ok_or_else(|| MalformedError::new(None, "the statement has no predicateType"))?;
    let subjects = v
        .get("subject")
        .and_then(Value::as_array)
        .ok_or_else(|| MalformedError::new(None, "the statement has no subject array"))?
        .iter()
        .map(|s| StatementSubject {
            name: str_at(s, &["name"]).unwrap_or_default(),
            sha256: str_at(s, &["digest", "sha256"])
                .map(|h| h.to_ascii_lowercase())
                .filter(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit())),
        })
        .collect();
    let mut facts = StatementFacts {
        statement_type,
        predicate_type,
        subjects,
        ..Default::default()
    };
    let p = v.get("predicate").cloned().unwrap_or(Value::Null);
    if facts.predicate_type == SLSA_V02 || at(&p, &["invocation"]).is_some() {
        read_v02(&p, &mut facts);
    } else {
        read_v1(&p, &mut facts);
    }
    Ok(facts)
}

fn read_v1(p: &Value, facts: &mut StatementFacts) {
    let bd = at(p, &["buildDefinition"]).cloned().unwrap_or(Value::Null);
    facts.builder_id = str_at(p, &["runDetails", "builder", "id"]);
    let git_dep = at(&bd, &["resolvedDependencies"])
        .and_then(Value::as_array)
        .and_then(|deps| {
            deps.iter().find(|d| {
                str_at(d, &["uri"]).is_some_and(|u| u.starts_with("git+"))
                    || at(d, &["digest", "gitCommit"]).is_some()
            })
        });
    let (dep_repo, dep_ref) = git_dep
        .and_then(|d| str_at(d, &["uri"]))
        .map(|u| split_git_uri(&u))
        .unwrap_or_default();
    facts.source_repository = str_at(&bd, &["externalParameters", "workflow", "repository"])
        .or_else(|| Some(dep_repo).filter(|r| !r.is_empty()));
    facts.git_ref = str_at(&bd, &["externalParameters", "workflow", "ref"]).or(dep_ref);
    facts.commit = git_dep
        .and_then(|d| {
            str_at(d, &["digest", "gitCommit"]).or_else(|| str_at(d, &["digest", "sha1"]))
        })
        .map(|c| c.to_ascii_lowercase());
    push_unique(
        &mut facts.tags,
        str_at(&bd, &["internalParameters", "github", "tag"]),
    );
    push_unique(&mut facts.tags, tag_of_ref(facts.git_ref.as_deref()));
    push_unique(
        &mut facts.tags,
        str_at(&bd, &["externalParameters", "inputs", "tag"]),
    );
}

fn read_v02(p: &Value, facts: &mut StatementFacts) {
    facts.builder_id = str_at(p, &["builder", "id"]);
    let (repo, config_ref) = str_at(p, &["invocation", "configSource", "uri"])
        .map(|u| split_git_uri(&u))
        .unwrap_or_default();
    let material = at(p, &["materials"])
        .and_then(Value::as_array)
        .and_then(|m| m.first());
    facts.source_repository = Some(repo).filter(|r| !r.is_empty()).or_else(|| {
        material
            .and_then(|m| str_at(m, &["uri"]))
            .map(|u| split_git_uri(&u).0)
    });
    let env = at(p, &["invocation", "environment"])
        .cloned()
        .unwrap_or(Value::Null);
    facts.git_ref = str_at(&env, &["github_ref"]).or(config_ref);
    facts.commit = str_at(p, &["invocation", "configSource", "digest", "sha1"])
        .or_else(|| material.and_then(|m| str_at(m, &["digest", "sha1"])))
        .map(|c| c.to_ascii_lowercase());
    push_unique(&mut facts.tags, tag_of_ref(facts.git_ref.as_deref()));
    push_unique(
        &mut facts.tags,
        str_at(&env, &["github_event_payload", "inputs", "tag"]),
    );
}

/// `https://github.com/Owner/Repo.git`, `github.com/owner/repo`, `git+https://...@ref` and
/// `owner/repo` all become `owner/repo` (lower-case), so a repository compares equal however
/// a statement, a certificate or a user spells it.
pub fn normalize_repository(repo: &str) -> String {
    let (repo, _) = split_git_uri(repo.trim());
    let without_scheme = repo
        .split_once("://")
        .map_or(repo.as_str(), |(_, rest)| rest);
    let segments: Vec<&str> = without_scheme
        .trim_matches('/')
        .split('/')
        .filter(|s| !s.is_empty())
        .collect();
    let path = match segments.len() {
        0..=2 => segments.join("/"),
        // `host/owner/repo` (or a GHE path): the last two segments name the repository.
        n => segments[n - 2..].join("/"),
    };
    path.trim_end_matches(".git").to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_are_told_apart_by_keys() {
        let bundle = br#"{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json"}"#;
        let env = br#"{"payloadType":"x","payload":"","signatures":[]}"#;
        let st = br#"{"_type":"https://in-toto.io/Statement/v1","subject":[]}"#;
        for (bytes, kind) in [
            (&bundle[..], DocumentKind::Bundle),
            (&env[..], DocumentKind::DsseEnvelope),
            (&st[..], DocumentKind::Statement),
        ] {
            let docs = parse_document(bytes).expect("parses");
            assert_eq!(docs.len(), 1);
            assert_eq!(docs[0].kind, kind);
            assert_eq!(docs[0].line, None);
        }
    }

    #[test]
    fn json_lines_mix_formats_and_number_lines() {
        let text = "{\"mediaType\":\"application/vnd.dev.sigstore.bundle+json;version=0.2\"}\n\n{\"payloadType\":\"a\",\"signatures\":[]}\n";
        let docs = parse_document(text.as_bytes()).expect("parses");
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[0].kind, DocumentKind::Bundle);
        assert_eq!(docs[1].kind, DocumentKind::DsseEnvelope);
        assert_eq!(docs[1].line, Some(3));
    }

    #[test]
    fn garbage_is_malformed_not_a_panic() {
        for bytes in [
            &b""[..],
            b"   ",
            b"\xff\xfe",
            b"[]",
            b"42",
            b"{\"hello\":1}",
            b"{\"mediaType\":\"text/plain\"}",
            b"{\n \"mediaType\": !\n}",
            b"{}\n{",
        ] {
            parse_document(bytes).expect_err("malformed");
        }
        let e = parse_document(b"{\"a\":1}\nnot json").expect_err("second line");
        assert!(e.line.is_some() || e.detail.contains("neither"), "{e}");
    }

    #[test]
    fn envelopes_decode_and_reject_missing_parts() {
        let ok = r#"{"payloadType":"application/vnd.in-toto+json","payload":"aGk=","signatures":[{"keyid":"","sig":"c2ln","cert":"-----BEGIN CERTIFICATE-----"}]}"#;
        let env = parse_envelope(ok).expect("envelope");
        assert_eq!(env.payload, b"hi");
        assert_eq!(env.signatures[0].sig, b"sig");
        assert!(env.signatures[0].cert_pem.is_some());
        for bad in [
            r#"{"payloadType":"a","payload":"aGk=","signatures":[]}"#,
            r#"{"payloadType":"a","payload":"%%%","signatures":[{"sig":"c2ln"}]}"#,
            r#"{"payload":"aGk=","signatures":[{"sig":"c2ln"}]}"#,
            r#"{"payloadType":"a","payload":"aGk=","signatures":[{"sig":""}]}"#,
            "[",
        ] {
            parse_envelope(bad).expect_err(bad);
        }
    }

    #[test]
    fn v1_statement_facts() {
        let st = br#"{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"a","digest":{"sha256":"CA978112CA1BBDCAFAC231B39A23DC4DA786EFF8147C4E72B9807785AFEE48BB"}}],
        "predicateType":"https://slsa.dev/provenance/v1","predicate":{"buildDefinition":{
        "externalParameters":{"workflow":{"ref":"refs/tags/v1.2.0","repository":"https://github.com/octo/app","path":".github/workflows/r.yml"},"inputs":{"tag":"v9"}},
        "internalParameters":{"github":{"tag":"v1.2.0"}},
        "resolvedDependencies":[{"uri":"git+https://github.com/octo/app@refs/tags/v1.2.0","digest":{"gitCommit":"ABC123"}}]},
        "runDetails":{"builder":{"id":"https://github.com/octo/app/.github/workflows/r.yml@refs/tags/v1.2.0"}}}}"#;
        let f = read_statement(st).expect("facts");
        assert!(f.has_subject("ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb"));
        assert_eq!(f.tags, vec!["v1.2.0", "v9"]);
        assert_eq!(f.commit.as_deref(), Some("abc123"));
        assert_eq!(
            normalize_repository(f.source_repository.as_deref().unwrap_or_default()),
            "octo/app"
        );
    }

    #[test]
    fn v02_statement_facts() {
        let st = br#"{"_type":"https://in-toto.io/Statement/v0.1","subject":[{"name":"a","digest":{"sha256":"00"}}],
        "predicateType":"https://slsa.dev/provenance/v0.2","predicate":{"builder":{"id":"b"},
        "invocation":{"configSource":{"uri":"git+https://github.com/asraa/slsa-on-github-test@refs/tags/v1.5.0","digest":{"sha1":"f24a"}},
        "environment":{"github_ref":"refs/tags/v1.5.0"}}}}"#;
        let f = read_statement(st).expect("facts");
        assert_eq!(f.builder_id.as_deref(), Some("b"));
        assert_eq!(f.tags, vec!["v1.5.0"]);
        assert_eq!(f.commit.as_deref(), Some("f24a"));
        assert_eq!(
            f.subjects[0].sha256, None,
            "a short digest is not a SHA-256"
        );
        assert_eq!(
            normalize_repository(f.source_repository.as_deref().unwrap_or_default()),
            "asraa/slsa-on-github-test"
        );
    }

    /// Every single-byte corruption of real provenance files (an old DSSE envelope and a
    /// bundle) goes through every parser without a panic.
    #[test]
    fn corrupted_real_provenance_never_panics() {
        let files: [&[u8]; 2] = [
            include_bytes!(
                "../../tests/fixtures/real-world/slsa-github-generator/annotated-tag.intoto.jsonl"
            ),
            include_bytes!(
                "../../tests/fixtures/real-world/github-cli/custom-issuer.sigstore.json"
            ),
        ];
        for original in files {
            let step = (original.len() / 400).max(1);
            for i in (0..original.len()).step_by(step) {
                for replacement in [b'"', b'{', b'\n', 0xff, b'A'] {
                    let mut bytes = original.to_vec();
                    bytes[i] = replacement;
                    let mut truncated = bytes.clone();
                    truncated.truncate(i);
                    for input in [&bytes, &truncated] {
                        let Ok(docs) = parse_document(input) else {
                            continue;
                        };
                        for d in docs {
                            if let Ok(env) = parse_envelope(&d.json) {
                                let _ = read_statement(&env.payload);
                            }
                            let _ = read_statement(d.json.as_bytes());
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn repositories_normalize_however_spelled() {
        for spelling in [
            "octo/app",
            "Octo/App",
            "https://github.com/octo/app",
            "https://github.com/octo/app.git",
            "github.com/octo/app",
            "git+https://github.com/octo/app@refs/heads/main",
        ] {
            assert_eq!(normalize_repository(spelling), "octo/app", "{spelling}");
        }
    }
}
