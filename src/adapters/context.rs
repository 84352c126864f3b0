//! The run's context as the runner hands it over: `GITHUB_*`, `RUNNER_*` and `ACTIONS_*`
//! variables and the event payload file.
//!
//! Turns them into plain values ([`RunEnv`]) and, when there is no OIDC token to read claims
//! from, into a [`BuildContext`]. Reads the environment it is given, never `std::env`.
//!
//! **What the snapshot keeps:** only variables named `GITHUB_*`, `RUNNER_*`, `ACTIONS_*` or
//! `SLSA_PROVENANCE_*` (our knobs), minus secrets: `INPUT_*` (inputs are `RawInputs`' job, with
//! secret inputs as `Secret`), `GITHUB_TOKEN`, `ACTIONS_RUNTIME_TOKEN`, and any name ending in
//! `_TOKEN`, `_SECRET`, `_PASSWORD`, `_KEY` or `_PAT`. The OIDC request token is held as a
//! [`Secret`] in [`OidcRequest`]; the rest is dropped. A kept variable whose value is not UTF-8 is
//! `missing_context` naming it (the runner never sets one); other non-UTF-8 variables are
//! ignored. `ACTIONS_ID_TOKEN_REQUEST_URL` must be `https://` unless it is loopback
//! (`domain::transport`), or the run fails `missing_context` before any token is sent.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::io::Read;
use std::path::PathBuf;

use serde_json::Value;

use crate::domain::statement::{BuildContext, ContextSource};
use crate::domain::transport;
use crate::error::{Failure, FailureReason, Result};
use crate::secret::Secret;

/// Where to ask the runner for an OIDC token.
#[derive(Debug, Clone)]
pub struct OidcRequest {
    /// `https://`, or `http://` to a loopback host.
    pub url: url::Url,
    pub bearer: Secret,
}

/// The run's environment, secrets removed (see the module doc). `Debug` shows no secret.
#[derive(Debug, Clone)]
pub struct RunEnv {
    vars: BTreeMap<String, String>,
    pub workspace: PathBuf,
    pub event_name: Option<String>,
    pub event: Option<Value>,
    pub oidc: Option<OidcRequest>,
}

const OIDC_URL: &str = "ACTIONS_ID_TOKEN_REQUEST_URL";
const OIDC_TOKEN: &str = "ACTIONS_ID_TOKEN_REQUEST_TOKEN";
/// The largest event payload read: GitHub caps webhook payloads at 25 MB, so a larger file is
/// not one the runner wrote, and is refused before it is read into memory.
pub const MAX_EVENT_BYTES: u64 = 25 * 1024 * 1024;

/// Whether the snapshot keeps variable `name` (see the module doc).
fn kept(name: &str) -> bool {
    const PREFIXES: &[&str] = &["GITHUB_", "RUNNER_", "ACTIONS_", "SLSA_PROVENANCE_"];
    const SECRET_SUFFIXES: &[&str] = &["_TOKEN", "_SECRET", "_PASSWORD", "_KEY", "_PAT"];
    PREFIXES.iter().any(|p| name.starts_with(p))
        && !SECRET_SUFFIXES.iter().any(|s| name.ends_with(s))
}

/// The runner's OIDC endpoint: the request token is sent to it, so TLS unless loopback.
fn oidc_url(value: &str) -> Result<url::Url> {
    let bad =
        |why: String| Failure::new(FailureReason::MissingContext, format!("{OIDC_URL} {why}"));
    let u = url::Url::parse(value).map_err(|e| bad(format!("is not a URL ({e})")))?;
    transport::check_token_url(&u)
        .map_err(|why| bad(format!("{why}, got {}", transport::shown(&u))))?;
    Ok(u)
}

impl RunEnv {
    /// From the process environment as the OS gave it (`main` passes `vars_os`).
    pub fn from_os(
        vars: impl IntoIterator<Item = (OsString, OsString)>,
        cwd: PathBuf,
    ) -> Result<Self> {
        let mut map = BTreeMap::new();
        for (k, v) in vars {
            // Every name we read is ASCII: a name that is not UTF-8 is none of ours.
            let Ok(k) = k.into_string() else { continue };
            if !(kept(&k) || k == OIDC_TOKEN) {
                continue;
            }
            let v = v.into_string().map_err(|_| {
                Failure::new(
                    FailureReason::MissingContext,
                    format!("the environment variable {k} is not valid UTF-8"),
                )
            })?;
            map.insert(k, v);
        }
        Self::from_vars(map, cwd)
    }

    pub fn from_vars(mut vars: BTreeMap<String, String>, cwd: PathBuf) -> Result<Self> {
        let oidc_token = vars.remove(OIDC_TOKEN).map(Secret::new);
        vars.retain(|k, _| kept(k));
        let get = |k: &str| vars.get(k).filter(|v| !v.trim().is_empty()).cloned();
        let workspace = get("GITHUB_WORKSPACE").map(PathBuf::from).unwrap_or(cwd);
        let event = match get("GITHUB_EVENT_PATH") {
            None => None,
            Some(p) => {
                let unreadable = |e: String| {
                    Failure::new(
                        FailureReason::EventUnreadable,
                        format!("cannot read the event payload GITHUB_EVENT_PATH={p}: {e}"),
                    )
                };
                // Read at most one byte past the bound, so a huge file is refused unread.
                let mut bytes = Vec::new();
                std::fs::File::open(&p)
                    .and_then(|f| f.take(MAX_EVENT_BYTES + 1).read_to_end(&mut bytes))
                    .map_err(|e| unreadable(e.to_string()))?;
                if bytes.len() as u64 > MAX_EVENT_BYTES {
                    return Err(unreadable(format!(
                        "larger than {MAX_EVENT_BYTES} bytes (GitHub sends at most 25 MB)"
                    )));
                }
                let text = String::from_utf8(bytes)
                    .map_err(|_| unreadable("not UTF-8 (a JSON payload is)".into()))?;
                Some(serde_json::from_str(&text).map_err(|e| {
                    Failure::new(
                        FailureReason::EventUnreadable,
                        format!("the event payload {p} is not JSON: {e}"),
                    )
                })?)
            }
        };
        let oidc = match (
            get(OIDC_URL),
            oidc_token.filter(|t| !t.expose().trim().is_empty()),
        ) {
            (Some(url), Some(bearer)) => Some(OidcRequest {
                url: oidc_url(url.trim())?,
                bearer,
            }),
            _ => None,
        };
        Ok(Self {
            event_name: get("GITHUB_EVENT_NAME"),
            workspace,
            event,
            oidc,
            vars,
        })
    }

    pub fn get(&self, k: &str) -> Option<&str> {
        self.vars.get(k).map(|v| v.trim()).filter(|v| !v.is_empty())
    }

    pub fn server_url(&self) -> String {
        self.get("GITHUB_SERVER_URL")
            .unwrap_or("https://github.com")
            .trim_end_matches('/')
            .to_string()
    }

    /// `release.tag_name` from a release event payload.
    pub fn release_tag(&self) -> Option<String> {
        self.event
            .as_ref()?
            .pointer("/release/tag_name")?
            .as_str()
            .map(String::from)
    }

    /// `inputs` of a `workflow_dispatch` payload.
    pub fn dispatch_inputs(&self) -> Option<&serde_json::Map<String, Value>> {
        if self.event_name.as_deref() != Some("workflow_dispatch") {
            return None;
        }
        self.event.as_ref()?.get("inputs")?.as_object()
    }

    /// `GITHUB_REF_NAME` when the run was triggered by a tag.
    pub fn ref_tag(&self) -> Option<String> {
        if self.get("GITHUB_REF_TYPE") == Some("tag") {
            return self.get("GITHUB_REF_NAME").map(String::from);
        }
        None
    }

    /// The build facts from `GITHUB_*` alone (no OIDC token). `sha` is passed in because it
    /// may come from git when `GITHUB_SHA` is unset (local runs).
    ///
    /// Differences from the OIDC claims: `job_workflow_ref` is not in the environment, so the
    /// builder id falls back to `GITHUB_WORKFLOW_REF` (the caller workflow, not a reusable one).
    pub fn build_context(&self, sha: String) -> Result<BuildContext> {
        let need = |k: &str| {
            self.get(k).map(String::from).ok_or_else(|| {
                Failure::new(
                    FailureReason::MissingContext,
                    format!("{k} is not set; run inside GitHub Actions or export it"),
                )
            })
        };
        let repository = need("GITHUB_REPOSITORY")?;
        let git_ref = need("GITHUB_REF")?;
        let workflow_ref = need("GITHUB_WORKFLOW_REF")?;
        let run_id = need("GITHUB_RUN_ID")?;
        if run_id.parse::<u64>().is_err() {
            return Err(Failure::new(
                FailureReason::MissingContext,
                format!("GITHUB_RUN_ID must be a number, got {run_id:?}"),
            ));
        }
        Ok(BuildContext {
            source: ContextSource::Environment,
            server_url: self.server_url(),
            repository_id: self.get("GITHUB_REPOSITORY_ID").unwrap_or("").to_string(),
            repository_owner_id: self
                .get("GITHUB_REPOSITORY_OWNER_ID")
                .unwrap_or("")
                .to_string(),
            event_name: self.event_name.clone().unwrap_or_default(),
            git_ref,
            sha,
            job_workflow_ref: workflow_ref.clone(),
            workflow_ref,
            runner_environment: self.get("RUNNER_ENVIRONMENT").map(String::from),
            run_id,
            run_attempt: self.get("GITHUB_RUN_ATTEMPT").unwrap_or("1").to_string(),
            actor: self
                .get("GITHUB_TRIGGERING_ACTOR")
                .or(self.get("GITHUB_ACTOR"))
                .unwrap_or("")
                .to_string(),
            repository,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    const SECRETS: &[(&str, &str)] = &[
        (
            "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
            "SENTINEL-ID-TOKEN-REQUEST",
        ),
        ("ACTIONS_RUNTIME_TOKEN", "SENTINEL-RUNTIME"),
        ("GITHUB_TOKEN", "SENTINEL-GITHUB-TOKEN"),
        ("INPUT_GITHUB-TOKEN", "SENTINEL-INPUT-TOKEN"),
        ("INPUT_SIGNING-KEY", "SENTINEL-INPUT-KEY"),
        ("INPUT_SIGNING-KEY-PASSWORD", "SENTINEL-INPUT-PASSWORD"),
        ("GITHUB_APP_PRIVATE_KEY", "SENTINEL-APP-KEY"),
        ("AWS_SECRET_ACCESS_KEY", "SENTINEL-AWS"),
        ("GITHUB_PAT", "SENTINEL-PAT"),
        ("RUNNER_SIGNING_SECRET", "SENTINEL-RUNNER-SECRET"),
    ];

    #[test]
    fn debug_of_run_env_shows_no_secret() {
        let mut v = vars(SECRETS);
        v.extend(vars(&[
            (
                "ACTIONS_ID_TOKEN_REQUEST_URL",
                "https://token.example/x?a=1",
            ),
            ("GITHUB_REPOSITORY", "octo/app"),
        ]));
        let env = RunEnv::from_vars(v, ".".into()).expect("env");
        let shown = format!("{env:?} {env:#?}");
        for (name, secret) in SECRETS {
            assert!(!shown.contains(secret), "{name}'s value in {shown}");
            assert_eq!(
                env.get(name),
                None,
                "{name} is not readable from the snapshot"
            );
        }
        assert_eq!(env.get("GITHUB_REPOSITORY"), Some("octo/app"));
        let oidc = env.oidc.expect("oidc request");
        assert_eq!(oidc.bearer.expose(), "SENTINEL-ID-TOKEN-REQUEST");
        assert_eq!(oidc.url.as_str(), "https://token.example/x?a=1");
    }

    #[test]
    fn oidc_request_url_in_clear_text_to_a_remote_host_is_missing_context() {
        let e = RunEnv::from_vars(
            vars(&[
                (
                    "ACTIONS_ID_TOKEN_REQUEST_URL",
                    "http://token.example/x?sig=abc",
                ),
                ("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "t"),
            ]),
            ".".into(),
        )
        .expect_err("clear text");
        assert_eq!(e.reason, FailureReason::MissingContext);
        assert!(
            e.message.contains("ACTIONS_ID_TOKEN_REQUEST_URL"),
            "{}",
            e.message
        );
        assert!(!e.message.contains("sig=abc"), "{}", e.message);

        let ok = RunEnv::from_vars(
            vars(&[
                ("ACTIONS_ID_TOKEN_REQUEST_URL", "http://[::1]:8080/token"),
                ("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "t"),
            ]),
            ".".into(),
        )
        .expect("loopback");
        assert!(ok.oidc.is_some());
    }

    #[cfg(unix)]
    #[test]
    fn non_utf8_context_variable_is_missing_context_and_others_are_ignored() {
        use std::os::unix::ffi::OsStringExt;
        let bad = OsString::from_vec(vec![b'x', 0xff]);
        let e = RunEnv::from_os([(OsString::from("GITHUB_REF"), bad.clone())], ".".into())
            .expect_err("not UTF-8");
        assert_eq!(e.reason, FailureReason::MissingContext);
        assert!(e.message.contains("GITHUB_REF"), "{}", e.message);

        let env = RunEnv::from_os(
            [
                (OsString::from("LS_COLORS"), bad.clone()),
                (OsString::from("INPUT_TAG"), bad),
                (OsString::from("GITHUB_REF"), OsString::from("refs/tags/v1")),
            ],
            ".".into(),
        )
        .expect("env");
        assert_eq!(env.get("GITHUB_REF"), Some("refs/tags/v1"));
        assert_eq!(env.get("LS_COLORS"), None);
    }
}
