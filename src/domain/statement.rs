//! The in-toto Statement v1 with a SLSA v1 provenance predicate, GitHub Actions workflow build
//! type: the same fields, with the same values, that `actions/attest-build-provenance` emits for
//! the same run, plus what a verifier of a *release* needs (dispatch inputs, start/finish times,
//! the tag and where it came from).
//!
//! Pure: [`BuildContext`] is built from OIDC claims or `GITHUB_*` values by the caller; `now` is
//! an argument. Serialization is deterministic: struct fields in a fixed order, maps sorted,
//! subjects sorted by name. What this does NOT do: sign, or check that the claims are genuine
//! (the token came from the runner over TLS; the signature step binds them).

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use super::subjects::Subject;
use super::tag::ResolvedTag;

pub const STATEMENT_TYPE: &str = "https://in-toto.io/Statement/v1";
pub const SLSA_PREDICATE_TYPE: &str = "https://slsa.dev/provenance/v1";
pub const GITHUB_BUILD_TYPE: &str = "https://actions.github.io/buildtypes/workflow/v1";

/// Where the build facts were read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContextSource {
    OidcClaims,
    Environment,
}

/// The facts about the run a statement records, whatever their source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildContext {
    pub source: ContextSource,
    pub server_url: String,
    /// `owner/repo`.
    pub repository: String,
    pub repository_id: String,
    pub repository_owner_id: String,
    pub event_name: String,
    /// The ref the workflow ran on (`refs/tags/v1`, `refs/heads/main`).
    pub git_ref: String,
    pub sha: String,
    /// `owner/repo/.github/workflows/x.yml@ref`: the caller workflow.
    pub workflow_ref: String,
    /// The workflow that actually ran this job (differs for reusable workflows).
    pub job_workflow_ref: String,
    pub runner_environment: Option<String>,
    pub run_id: String,
    pub run_attempt: String,
    pub actor: String,
}

impl BuildContext {
    /// From the claims of a GitHub Actions OIDC token (all values are strings there).
    pub fn from_claims(claims: &Value, server_url: &str) -> Result<Self, String> {
        let s = |k: &str| -> Result<String, String> {
            match claims.get(k) {
                Some(Value::String(v)) => Ok(v.clone()),
                Some(Value::Number(n)) => Ok(n.to_string()),
                _ => Err(format!("OIDC token has no '{k}' claim")),
            }
        };
        let opt = |k: &str| claims.get(k).and_then(Value::as_str).map(String::from);
        Ok(Self {
            source: ContextSource::OidcClaims,
            server_url: server_url.trim_end_matches('/').to_string(),
            repository: s("repository")?,
            repository_id: s("repository_id")?,
            repository_owner_id: s("repository_owner_id")?,
            event_name: s("event_name")?,
            git_ref: s("ref")?,
            sha: s("sha")?,
            workflow_ref: s("workflow_ref")?,
            job_workflow_ref: s("job_workflow_ref")?,
            runner_environment: opt("runner_environment"),
            run_id: s("run_id")?,
            run_attempt: s("run_attempt")?,
            actor: opt("actor").unwrap_or_default(),
        })
    }

    /// The workflow file path inside the repository (`.github/workflows/x.yml`).
    pub fn workflow_path(&self) -> String {
        let without_repo = self
            .workflow_ref
            .strip_prefix(&format!("{}/", self.repository))
            .unwrap_or(&self.workflow_ref);
        without_repo
            .split('@')
            .next()
            .unwrap_or(without_repo)
            .to_string()
    }

    pub fn repository_url(&self) -> String {
        format!("{}/{}", self.server_url, self.repository)
    }

    pub fn run_url(&self) -> String {
        format!("{}/actions/runs/{}", self.repository_url(), self.run_id)
    }

    pub fn invocation_id(&self) -> String {
        format!("{}/attempts/{}", self.run_url(), self.run_attempt)
    }

    pub fn builder_id(&self) -> String {
        format!("{}/{}", self.server_url, self.job_workflow_ref)
    }
}

/// Everything a statement is built from.
#[derive(Debug, Clone)]
pub struct StatementInput<'a> {
    pub context: &'a BuildContext,
    pub subjects: &'a [Subject],
    pub tag: &'a ResolvedTag,
    /// The commit the tag points at, when it could be resolved.
    pub tag_commit: Option<&'a str>,
    /// `workflow_dispatch` inputs from the event payload.
    pub dispatch_inputs: Option<&'a serde_json::Map<String, Value>>,
    pub started_on: chrono::DateTime<chrono::Utc>,
    pub finished_on: chrono::DateTime<chrono::Utc>,
}

#[derive(Debug, Serialize)]
pub struct Statement {
    #[serde(rename = "_type")]
    pub type_: &'static str,
    pub subject: Vec<StatementSubject>,
    #[serde(rename = "predicateType")]
    pub predicate_type: &'static str,
    pub predicate: Predicate,
}

#[derive(Debug, Serialize)]
pub struct StatementSubject {
    pub name: String,
    pub digest: BTreeMap<&'static str, String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Predicate {
    pub build_definition: BuildDefinition,
    pub run_details: RunDetails,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BuildDefinition {
    pub build_type: &'static str,
    pub external_parameters: ExternalParameters,
    pub internal_parameters: InternalParameters,
    pub resolved_dependencies: Vec<ResourceDescriptor>,
}

#[derive(Debug, Serialize)]
pub struct ExternalParameters {
    pub workflow: WorkflowParameters,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inputs: Option<BTreeMap<String, Value>>,
}

#[derive(Debug, Serialize)]
pub struct WorkflowParameters {
    #[serde(rename = "ref")]
    pub ref_: String,
    pub repository: String,
    pub path: String,
}

#[derive(Debug, Serialize)]
pub struct InternalParameters {
    pub github: GithubParameters,
}

#[derive(Debug, Serialize)]
pub struct GithubParameters {
    pub event_name: String,
    pub repository_id: String,
    pub repository_owner_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub runner_environment: Option<String>,
    pub tag: String,
    pub tag_source: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tag_commit: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct ResourceDescriptor {
    pub uri: String,
    pub digest: BTreeMap<&'static str, String>,
}

#[derive(Debug, Serialize)]
pub struct RunDetails {
    pub builder: Builder,
    pub metadata: RunMetadata,
}

#[derive(Debug, Serialize)]
pub struct Builder {
    pub id: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RunMetadata {
    pub invocation_id: String,
    pub started_on: String,
    pub finished_on: String,
}

fn rfc3339(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

pub fn build_statement(input: &StatementInput<'_>) -> Statement {
    let c = input.context;
    let mut subjects: Vec<&Subject> = input.subjects.iter().collect();
    subjects.sort();
    Statement {
        type_: STATEMENT_TYPE,
        subject: subjects
            .into_iter()
            .map(|s| StatementSubject {
                name: s.name.clone(),
                digest: BTreeMap::from([("sha256", s.sha256.clone())]),
            })
            .collect(),
        predicate_type: SLSA_PREDICATE_TYPE,
        predicate: Predicate {
            build_definition: BuildDefinition {
                build_type: GITHUB_BUILD_TYPE,
                external_parameters: ExternalParameters {
                    workflow: WorkflowParameters {
                        ref_: c.git_ref.clone(),
                        repository: c.repository_url(),
                        path: c.workflow_path(),
                    },
                    inputs: input
                        .dispatch_inputs
                        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect()),
                },
                internal_parameters: InternalParameters {
                    github: GithubParameters {
                        event_name: c.event_name.clone(),
                        repository_id: c.repository_id.clone(),
                        repository_owner_id: c.repository_owner_id.clone(),
                        runner_environment: c.runner_environment.clone(),
                        tag: input.tag.name.clone(),
                        tag_source: input.tag.source.as_str(),
                        tag_commit: input.tag_commit.map(String::from),
                    },
                },
                resolved_dependencies: vec![ResourceDescriptor {
                    uri: format!("git+{}@{}", c.repository_url(), c.git_ref),
                    digest: BTreeMap::from([("gitCommit", c.sha.clone())]),
                }],
            },
            run_details: RunDetails {
                builder: Builder { id: c.builder_id() },
                metadata: RunMetadata {
                    invocation_id: c.invocation_id(),
                    started_on: rfc3339(input.started_on),
                    finished_on: rfc3339(input.finished_on),
                },
            },
        },
    }
}

/// The exact bytes we hash, store, and sign: pretty JSON, two-space indent, trailing newline.
pub fn to_bytes(statement: &Statement) -> Vec<u8> {
    let mut v = serde_json::to_vec_pretty(statement).unwrap_or_default();
    v.push(b'\n');
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::tag::TagSource;
    use chrono::TimeZone;

    pub(crate) fn claims() -> Value {
        serde_json::json!({
            "ref": "refs/tags/v1.2.0",
            "sha": "95baf27389e83e6a5c48f42e190d48d7abcea19e",
            "repository": "octo/app",
            "repository_id": "804070735",
            "repository_owner_id": "16248153",
            "event_name": "release",
            "workflow_ref": "octo/app/.github/workflows/release.yml@refs/tags/v1.2.0",
            "job_workflow_ref": "octo/app/.github/workflows/release.yml@refs/tags/v1.2.0",
            "runner_environment": "github-hosted",
            "run_id": "9228858953",
            "run_attempt": "2",
            "actor": "octocat"
        })
    }

    fn statement_json(inputs: Option<&serde_json::Map<String, Value>>) -> Value {
        let ctx = BuildContext::from_claims(&claims(), "https://github.com/").expect("claims");
        let subjects = vec![
            Subject {
                name: "b.zip".into(),
                sha256: "bb".repeat(32),
            },
            Subject {
                name: "a.tgz".into(),
                sha256: "aa".repeat(32),
            },
        ];
        let tag = ResolvedTag {
            name: "v1.2.0".into(),
            source: TagSource::ReleaseEvent,
        };
        let t = chrono::Utc
            .with_ymd_and_hms(2026, 11, 21, 10, 0, 0)
            .single()
            .expect("t");
        let s = build_statement(&StatementInput {
            context: &ctx,
            subjects: &subjects,
            tag: &tag,
            tag_commit: Some("95baf27389e83e6a5c48f42e190d48d7abcea19e"),
            dispatch_inputs: inputs,
            started_on: t,
            finished_on: t + chrono::Duration::seconds(3),
        });
        serde_json::from_slice(&to_bytes(&s)).expect("json")
    }

    #[test]
    fn matches_attest_build_provenance_fields() {
        let j = statement_json(None);
        let p = &j["predicate"];
        assert_eq!(j["_type"], STATEMENT_TYPE);
        assert_eq!(j["predicateType"], SLSA_PREDICATE_TYPE);
        assert_eq!(p["buildDefinition"]["buildType"], GITHUB_BUILD_TYPE);
        let w = &p["buildDefinition"]["externalParameters"]["workflow"];
        assert_eq!(w["ref"], "refs/tags/v1.2.0");
        assert_eq!(w["repository"], "https://github.com/octo/app");
        assert_eq!(w["path"], ".github/workflows/release.yml");
        let g = &p["buildDefinition"]["internalParameters"]["github"];
        assert_eq!(g["event_name"], "release");
        assert_eq!(g["repository_id"], "804070735");
        assert_eq!(g["repository_owner_id"], "16248153");
        assert_eq!(g["runner_environment"], "github-hosted");
        assert_eq!(g["tag"], "v1.2.0");
        assert_eq!(g["tag_source"], "release-event");
        let d = &p["buildDefinition"]["resolvedDependencies"][0];
        assert_eq!(d["uri"], "git+https://github.com/octo/app@refs/tags/v1.2.0");
        assert_eq!(
            d["digest"]["gitCommit"],
            "95baf27389e83e6a5c48f42e190d48d7abcea19e"
        );
        assert_eq!(
            p["runDetails"]["builder"]["id"],
            "https://github.com/octo/app/.github/workflows/release.yml@refs/tags/v1.2.0"
        );
        assert_eq!(
            p["runDetails"]["metadata"]["invocationId"],
            "https://github.com/octo/app/actions/runs/9228858953/attempts/2"
        );
        assert_eq!(
            p["runDetails"]["metadata"]["startedOn"],
            "2026-11-21T10:00:00Z"
        );
        assert_eq!(
            p["runDetails"]["metadata"]["finishedOn"],
            "2026-11-21T10:00:03Z"
        );
        assert!(p["buildDefinition"]["externalParameters"]
            .get("inputs")
            .is_none());
    }

    #[test]
    fn subjects_sorted_and_serialization_deterministic() {
        let j = statement_json(None);
        assert_eq!(j["subject"][0]["name"], "a.tgz");
        assert_eq!(j["subject"][1]["name"], "b.zip");
        assert_eq!(statement_json(None), j);
    }

    #[test]
    fn dispatch_inputs_are_recorded() {
        let mut m = serde_json::Map::new();
        m.insert("tag".into(), Value::String("v1.2.0".into()));
        let j = statement_json(Some(&m));
        assert_eq!(
            j["predicate"]["buildDefinition"]["externalParameters"]["inputs"]["tag"],
            "v1.2.0"
        );
    }

    #[test]
    fn statement_snapshot() {
        let ctx = BuildContext::from_claims(&claims(), "https://github.com").expect("claims");
        let subjects = vec![Subject {
            name: "app.tar.gz".into(),
            sha256: "ab".repeat(32),
        }];
        let tag = ResolvedTag {
            name: "v1.2.0".into(),
            source: TagSource::Input,
        };
        let t = chrono::Utc
            .with_ymd_and_hms(2026, 11, 21, 10, 0, 0)
            .single()
            .expect("t");
        let bytes = to_bytes(&build_statement(&StatementInput {
            context: &ctx,
            subjects: &subjects,
            tag: &tag,
            tag_commit: None,
            dispatch_inputs: None,
            started_on: t,
            finished_on: t,
        }));
        insta::assert_snapshot!(String::from_utf8(bytes).expect("utf8"));
    }

    #[test]
    fn missing_claim_is_named() {
        let mut c = claims();
        c.as_object_mut().expect("obj").remove("job_workflow_ref");
        let e = BuildContext::from_claims(&c, "https://github.com").expect_err("missing");
        assert!(e.contains("job_workflow_ref"));
    }
}
