//! The governance policy file (`policy` input, default `.github/slsa-policy.yml`): its types,
//! its validation (every problem names a line and a field), and the merge "file + inputs ->
//! effective policy" for one run.
//!
//! Pure: the text comes in, typed values or a [`PolicyError`] come out. Reading the file is
//! `adapters::policy_file`; the schema published beside the example is
//! `schemas/policy.schema.json` (a test checks that it and these types agree).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::kpi::Targets;
use super::provenance_doc::{SLSA_V02, SLSA_V1};

/// The published JSON Schema of the policy file.
pub const SCHEMA_TEXT: &str = include_str!("../../schemas/policy.schema.json");

/// The file, as written. Every level rejects unknown keys, so a typo is an error.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct PolicyFile {
    /// Must be 1.
    pub version: u32,
    /// Predicate types validate accepts; must contain SLSA v1. Listing v0.2 allows the v0.2
    /// override (`allow-predicate-v02`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_predicate_types: Option<Vec<String>>,
    /// Expected builder ids and signer workflows, per tag pattern: the first rule whose
    /// `tag-pattern` matches the run's tag applies.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub releases: Vec<ReleaseRule>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<IdentityRule>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runners: Option<RunnerRule>,
    /// Role name -> the modes it runs and the permissions it grants.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub roles: BTreeMap<String, Role>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kpi_targets: Option<KpiTargets>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ReleaseRule {
    /// A glob over tag names (`v*`, `release-*`).
    pub tag_pattern: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub builder_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub builder_id_regexp: Option<String>,
    /// `owner/repo/path[@ref-glob]`, as the `signer-workflow` input.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signer_workflow: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct IdentityRule {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity_regexp: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RunnerRule {
    pub allow_self_hosted: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Role {
    /// The action's modes this role runs.
    pub modes: Vec<String>,
    /// GitHub token scope -> `read` | `write`.
    pub permissions: BTreeMap<String, Access>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Access {
    None,
    Read,
    Write,
}

impl Access {
    fn as_str(self) -> &'static str {
        match self {
            Access::None => "none",
            Access::Read => "read",
            Access::Write => "write",
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct KpiTargets {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub success_rate: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mean_duration_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p95_duration_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_rate: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audit_save_rate: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notification_rate: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub badge_warn_rate: Option<f64>,
}

/// GitHub token scopes a role may name.
pub const SCOPES: &[&str] = &[
    "actions",
    "attestations",
    "checks",
    "contents",
    "deployments",
    "id-token",
    "issues",
    "packages",
    "pages",
    "pull-requests",
    "security-events",
    "statuses",
];

/// The permissions each mode needs to do all of its work (publishing, committing, reading
/// attestations, opening issues). A role that runs a mode must grant at least these.
pub const MODE_PERMISSIONS: &[(&str, &[(&str, Access)])] = &[
    (
        "provenance",
        &[
            ("contents", Access::Write),
            ("id-token", Access::Write),
            ("attestations", Access::Write),
        ],
    ),
    (
        "validate",
        &[
            ("contents", Access::Read),
            ("attestations", Access::Read),
            ("actions", Access::Read),
        ],
    ),
    (
        "notify",
        &[("issues", Access::Write), ("contents", Access::Write)],
    ),
    (
        "recover",
        &[
            ("actions", Access::Write),
            ("issues", Access::Write),
            ("contents", Access::Write),
        ],
    ),
    ("report", &[("contents", Access::Write)]),
];

/// A problem in the file: where, which field, what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyError {
    /// 1-based; `None` when the YAML parser gave no place.
    pub line: Option<usize>,
    /// Dotted path of the field (`releases[0].tag-pattern`), or empty for the document.
    pub field: String,
    pub message: String,
}

impl std::fmt::Display for PolicyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.line {
            Some(l) => write!(f, "line {l}")?,
            None => write!(f, "(no line)")?,
        }
        if !self.field.is_empty() {
            write!(f, ", field '{}'", self.field)?;
        }
        write!(f, ": {}", self.message)
    }
}

/// Parse and check the whole file. Structural errors (unknown field, wrong type) come from the
/// YAML parser with its line; semantic ones (bad glob, rate out of range, a role without the
/// permissions its modes need) are placed on the line of their key.
pub fn parse(text: &str) -> Result<PolicyFile, PolicyError> {
    let file: PolicyFile = serde_yaml::from_str(text).map_err(|e| structural(text, &e))?;
    check(&file).map_err(|(path, message)| PolicyError {
        line: line_of(text, &path),
        field: render_path(&path),
        message,
    })?;
    Ok(file)
}

fn structural(text: &str, e: &serde_yaml::Error) -> PolicyError {
    let message = e.to_string();
    // serde_yaml names the place as "releases[0]: unknown field `x`, expected ... at line N".
    let field = message
        .split_once(": ")
        .filter(|(p, _)| !p.contains(' '))
        .map(|(p, _)| p.to_string())
        .unwrap_or_default();
    let unknown = message
        .split_once("unknown field `")
        .and_then(|(_, r)| r.split_once('`'))
        .map(|(f, _)| f.to_string());
    let field = match (field.is_empty(), unknown) {
        (true, Some(u)) => u,
        (false, Some(u)) => format!("{field}.{u}"),
        (_, None) => field,
    };
    let line = e
        .location()
        .map(|l| l.line())
        .or_else(|| (text.trim().is_empty()).then_some(1));
    let message = message
        .split_once(": ")
        .filter(|(p, _)| !p.contains(' '))
        .map_or(message.as_str(), |(_, m)| m)
        .to_string();
    PolicyError {
        line,
        field,
        message,
    }
}

/// A step of a field path: a key, or an index in a sequence.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Seg {
    Key(String),
    Index(usize),
}

fn key(k: &str) -> Seg {
    Seg::Key(k.to_string())
}

fn render_path(path: &[Seg]) -> String {
    let mut out = String::new();
    for s in path {
        match s {
            Seg::Key(k) if out.is_empty() => out.push_str(k),
            Seg::Key(k) => {
                out.push('.');
                out.push_str(k);
            }
            Seg::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

/// The line of a field in block-style YAML: each key is searched after its parent's line,
/// indices count the `- ` items of the parent.
fn line_of(text: &str, path: &[Seg]) -> Option<usize> {
    let lines: Vec<&str> = text.lines().collect();
    let mut from = 0usize;
    let mut found = None;
    for seg in path {
        match seg {
            Seg::Key(k) => {
                let at = (from..lines.len()).find(|&i| {
                    let t = lines[i].trim_start().trim_start_matches("- ");
                    let t = t.trim_start_matches(['"', '\'']);
                    t.strip_prefix(k.as_str()).is_some_and(|r| {
                        r.trim_start_matches(['"', '\''])
                            .trim_start()
                            .starts_with(':')
                    })
                })?;
                found = Some(at);
                from = at + 1;
            }
            Seg::Index(n) => {
                let at = (from..lines.len())
                    .filter(|&i| lines[i].trim_start().starts_with("- "))
                    .nth(*n)?;
                found = Some(at);
                // The item's first key is on the `- ` line itself.
                from = at;
            }
        }
    }
    found.map(|i| i + 1)
}

type Problem = (Vec<Seg>, String);

fn check(file: &PolicyFile) -> Result<(), Problem> {
    if file.version != 1 {
        return Err((
            vec![key("version")],
            format!("unsupported version {}, expected 1", file.version),
        ));
    }
    check_predicate_types(file)?;
    for (i, r) in file.releases.iter().enumerate() {
        let at = |f: &str| vec![key("releases"), Seg::Index(i), key(f)];
        globset::Glob::new(&r.tag_pattern)
            .map_err(|e| (at("tag-pattern"), format!("not a valid glob: {e}")))?;
        if let Some(re) = &r.builder_id_regexp {
            compile_regex(re).map_err(|m| (at("builder-id-regexp"), m))?;
        }
        if let Some(w) = &r.signer_workflow {
            check_signer_workflow(w).map_err(|m| (at("signer-workflow"), m))?;
        }
    }
    if let Some(id) = &file.identity {
        if let Some(issuer) = &id.issuer {
            if !issuer.starts_with("https://") {
                return Err((
                    vec![key("identity"), key("issuer")],
                    format!("an OIDC issuer is an https:// URL, got {issuer:?}"),
                ));
            }
        }
        if let Some(re) = &id.identity_regexp {
            compile_regex(re).map_err(|m| (vec![key("identity"), key("identity-regexp")], m))?;
        }
    }
    for (name, role) in &file.roles {
        check_role(name, role)?;
    }
    if let Some(t) = &file.kpi_targets {
        check_targets(t)?;
    }
    Ok(())
}

fn check_predicate_types(file: &PolicyFile) -> Result<(), Problem> {
    let Some(types) = &file.allowed_predicate_types else {
        return Ok(());
    };
    for (i, t) in types.iter().enumerate() {
        if t != SLSA_V1 && t != SLSA_V02 {
            return Err((
                vec![key("allowed-predicate-types"), Seg::Index(i)],
                format!("unknown predicate type {t:?}: validate reads {SLSA_V1} and {SLSA_V02}"),
            ));
        }
    }
    if !types.iter().any(|t| t == SLSA_V1) {
        return Err((
            vec![key("allowed-predicate-types")],
            format!("must contain {SLSA_V1} (the type this action writes)"),
        ));
    }
    Ok(())
}

fn compile_regex(re: &str) -> Result<(), String> {
    regex::RegexBuilder::new(re)
        .size_limit(1 << 20)
        .build()
        .map(|_| ())
        .map_err(|e| format!("not a regular expression: {e}"))
}

fn check_signer_workflow(w: &str) -> Result<(), String> {
    let s = w.split_once("://").map_or(w, |(_, rest)| rest);
    let s = s.strip_prefix("github.com/").unwrap_or(s);
    let (path, r) = s.split_once('@').map_or((s, None), |(p, r)| (p, Some(r)));
    if path.split('/').filter(|p| !p.is_empty()).count() < 3 {
        return Err(format!("must be owner/repo/path[@ref], got {w:?}"));
    }
    if let Some(r) = r {
        globset::Glob::new(r).map_err(|e| format!("the ref is not a valid glob: {e}"))?;
    }
    Ok(())
}

fn check_role(name: &str, role: &Role) -> Result<(), Problem> {
    let at = |rest: &[Seg]| {
        let mut p = vec![key("roles"), key(name)];
        p.extend_from_slice(rest);
        p
    };
    for scope in role.permissions.keys() {
        if !SCOPES.contains(&scope.as_str()) {
            return Err((
                at(&[key("permissions"), key(scope)]),
                format!("unknown permission scope {scope:?}"),
            ));
        }
    }
    for (i, mode) in role.modes.iter().enumerate() {
        let Some((_, needs)) = MODE_PERMISSIONS.iter().find(|(m, _)| m == mode) else {
            return Err((
                at(&[key("modes"), Seg::Index(i)]),
                format!(
                    "unknown mode {mode:?}, expected one of: {}",
                    MODE_PERMISSIONS
                        .iter()
                        .map(|(m, _)| *m)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        };
        for (scope, level) in needs.iter() {
            let granted = role
                .permissions
                .get(*scope)
                .copied()
                .unwrap_or(Access::None);
            if granted < *level {
                return Err((
                    at(&[key("permissions")]),
                    format!(
                        "mode '{mode}' needs '{scope}: {}', the role grants '{scope}: {}'",
                        level.as_str(),
                        granted.as_str()
                    ),
                ));
            }
        }
    }
    Ok(())
}

fn check_targets(t: &KpiTargets) -> Result<(), Problem> {
    let rates = [
        ("success-rate", t.success_rate),
        ("artifact-rate", t.artifact_rate),
        ("audit-save-rate", t.audit_save_rate),
        ("notification-rate", t.notification_rate),
        ("badge-warn-rate", t.badge_warn_rate),
    ];
    for (name, v) in rates {
        if let Some(v) = v {
            if !(0.0..=1.0).contains(&v) {
                return Err((
                    vec![key("kpi-targets"), key(name)],
                    format!("a rate is between 0 and 1, got {v}"),
                ));
            }
        }
    }
    let effective = targets(Some(t));
    if effective.badge_warn_rate > effective.success_rate {
        return Err((
            vec![key("kpi-targets"), key("badge-warn-rate")],
            format!(
                "the warning rate {} is above the success-rate target {}",
                effective.badge_warn_rate, effective.success_rate
            ),
        ));
    }
    Ok(())
}

/// The KPI targets: the file's, over the defaults.
pub fn targets(t: Option<&KpiTargets>) -> Targets {
    let d = Targets::default();
    let Some(t) = t else { return d };
    Targets {
        success_rate: t.success_rate.unwrap_or(d.success_rate),
        mean_duration_ms: t.mean_duration_ms.unwrap_or(d.mean_duration_ms),
        p95_duration_ms: t.p95_duration_ms.unwrap_or(d.p95_duration_ms),
        artifact_rate: t.artifact_rate.unwrap_or(d.artifact_rate),
        audit_save_rate: t.audit_save_rate.unwrap_or(d.audit_save_rate),
        notification_rate: t.notification_rate.unwrap_or(d.notification_rate),
        badge_warn_rate: t.badge_warn_rate.unwrap_or(d.badge_warn_rate),
    }
}

/// Where a value of the effective policy came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    Input,
    Policy,
}

impl Origin {
    fn as_str(self) -> &'static str {
        match self {
            Origin::Input => "input",
            Origin::Policy => "policy",
        }
    }
}

/// The validate settings the inputs gave (`None`: not set). Each is an input's raw text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ValidateSettings {
    pub allow_predicate_v02: Option<String>,
    pub expected_builder_id: Option<String>,
    pub builder_id_regexp: Option<String>,
    pub signer_workflow: Option<String>,
    pub certificate_oidc_issuer: Option<String>,
    pub certificate_identity: Option<String>,
    pub certificate_identity_regexp: Option<String>,
    pub deny_self_hosted_runners: Option<String>,
}

/// One line of the effective policy: input name, value, where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting {
    pub input: &'static str,
    pub value: String,
    pub origin: Origin,
}

/// The merge for validate: inputs override the file; the release rule is the first whose
/// `tag-pattern` matches `tag`. Returns the settings to run with and what each came from.
pub fn effective_validate(
    file: &PolicyFile,
    inputs: &ValidateSettings,
    tag: Option<&str>,
) -> (ValidateSettings, Vec<Setting>, Option<usize>) {
    let rule_index = tag.and_then(|t| {
        file.releases.iter().position(|r| {
            globset::Glob::new(&r.tag_pattern)
                .map(|g| g.compile_matcher().is_match(t))
                .unwrap_or(false)
        })
    });
    let rule = rule_index.map(|i| &file.releases[i]);
    let id = file.identity.as_ref();
    let from_file = ValidateSettings {
        allow_predicate_v02: file
            .allowed_predicate_types
            .as_ref()
            .map(|t| t.iter().any(|t| t == SLSA_V02).to_string()),
        expected_builder_id: rule.and_then(|r| r.builder_id.clone()),
        builder_id_regexp: rule.and_then(|r| r.builder_id_regexp.clone()),
        signer_workflow: rule.and_then(|r| r.signer_workflow.clone()),
        certificate_oidc_issuer: id.and_then(|i| i.issuer.clone()),
        certificate_identity: id.and_then(|i| i.identity.clone()),
        certificate_identity_regexp: id.and_then(|i| i.identity_regexp.clone()),
        deny_self_hosted_runners: file
            .runners
            .as_ref()
            .map(|r| (!r.allow_self_hosted).to_string()),
    };
    let mut shown = Vec::new();
    let mut pick = |input: &'static str, given: &Option<String>, file: Option<String>| {
        let (value, origin) = match (given, file) {
            (Some(v), _) => (Some(v.clone()), Origin::Input),
            (None, Some(f)) => (Some(f), Origin::Policy),
            (None, None) => (None, Origin::Input),
        };
        if let Some(v) = &value {
            shown.push(Setting {
                input,
                value: v.clone(),
                origin,
            });
        }
        value
    };
    let merged = ValidateSettings {
        allow_predicate_v02: pick(
            "allow-predicate-v02",
            &inputs.allow_predicate_v02,
            from_file.allow_predicate_v02,
        ),
        expected_builder_id: pick(
            "expected-builder-id",
            &inputs.expected_builder_id,
            from_file.expected_builder_id,
        ),
        builder_id_regexp: pick(
            "builder-id-regexp",
            &inputs.builder_id_regexp,
            from_file.builder_id_regexp,
        ),
        signer_workflow: pick(
            "signer-workflow",
            &inputs.signer_workflow,
            from_file.signer_workflow,
        ),
        certificate_oidc_issuer: pick(
            "certificate-oidc-issuer",
            &inputs.certificate_oidc_issuer,
            from_file.certificate_oidc_issuer,
        ),
        certificate_identity: pick(
            "certificate-identity",
            &inputs.certificate_identity,
            from_file.certificate_identity,
        ),
        certificate_identity_regexp: pick(
            "certificate-identity-regexp",
            &inputs.certificate_identity_regexp,
            from_file.certificate_identity_regexp,
        ),
        deny_self_hosted_runners: pick(
            "deny-self-hosted-runners",
            &inputs.deny_self_hosted_runners,
            from_file.deny_self_hosted_runners,
        ),
    };
    (merged, shown, rule_index)
}

/// The step-summary section: the policy file, the rule that applied, every effective setting
/// with its origin, the roles and the KPI targets.
pub fn render_summary(
    path: &str,
    file: &PolicyFile,
    rule: Option<usize>,
    settings: &[Setting],
    targets: &Targets,
) -> String {
    let cell = |s: &str| s.replace('|', "\\|").replace(['\n', '\r'], " ");
    let mut out = format!("### Effective policy (`{}`)\n\n", cell(path));
    match rule {
        Some(i) => out.push_str(&format!(
            "Release rule {i} applies (tag pattern `{}`).\n\n",
            cell(&file.releases[i].tag_pattern)
        )),
        None if !file.releases.is_empty() => {
            out.push_str("No release rule matches this run's tag.\n\n")
        }
        None => {}
    }
    if !settings.is_empty() {
        out.push_str("| Setting | Value | From |\n| --- | --- | --- |\n");
        for s in settings {
            out.push_str(&format!(
                "| `{}` | `{}` | {} |\n",
                s.input,
                cell(&s.value),
                s.origin.as_str()
            ));
        }
        out.push('\n');
    }
    if !file.roles.is_empty() {
        out.push_str("| Role | Modes | Permissions |\n| --- | --- | --- |\n");
        for (name, role) in &file.roles {
            let perms: Vec<String> = role
                .permissions
                .iter()
                .map(|(s, a)| format!("{}: {}", cell(s), a.as_str()))
                .collect();
            out.push_str(&format!(
                "| {} | {} | {} |\n",
                cell(name),
                cell(&role.modes.join(", ")),
                perms.join(", ")
            ));
        }
        out.push('\n');
    }
    out.push_str(&format!(
        "KPI targets: success rate {}, mean duration {} ms, p95 duration {} ms, artifact rate {}, \
         audit save rate {}, notification rate {}, badge warning below {}.\n",
        targets.success_rate,
        targets.mean_duration_ms,
        targets.p95_duration_ms,
        targets.artifact_rate,
        targets.audit_save_rate,
        targets.notification_rate,
        targets.badge_warn_rate
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = include_str!("../../examples/slsa-policy.yml");

    #[test]
    fn the_example_parses_and_checks() {
        let p = parse(EXAMPLE).expect("example");
        assert_eq!(p.version, 1);
        assert!(!p.releases.is_empty());
        assert!(!p.roles.is_empty());
    }

    #[test]
    fn a_typo_names_the_field_and_line() {
        let text = "version: 1\nreleases:\n  - tag-pattern: 'v*'\n    builder-idd: x\n";
        let e = parse(text).expect_err("typo");
        assert_eq!(e.line, Some(4), "{e}");
        assert!(e.field.contains("builder-idd"), "{e}");
    }

    #[test]
    fn semantic_errors_are_placed_on_their_key() {
        let text = "version: 1\nkpi-targets:\n  success-rate: 0.9\n  artifact-rate: 3\n";
        let e = parse(text).expect_err("rate");
        assert_eq!(e.line, Some(4), "{e}");
        assert_eq!(e.field, "kpi-targets.artifact-rate");
        let text = "version: 1\nreleases:\n  - tag-pattern: 'v*'\n  - tag-pattern: 'a[' \n";
        let e = parse(text).expect_err("glob");
        assert_eq!(e.field, "releases[1].tag-pattern");
        assert_eq!(e.line, Some(4), "{e}");
    }

    #[test]
    fn a_role_must_grant_what_its_modes_need() {
        let text = "version: 1\nroles:\n  validator:\n    modes: [validate]\n    permissions:\n      contents: read\n";
        let e = parse(text).expect_err("missing attestations");
        assert_eq!(e.field, "roles.validator.permissions");
        assert_eq!(e.line, Some(5), "{e}");
        assert!(e.message.contains("attestations: read"), "{e}");
        // The report commits its dashboard and badges (`audit-store: commit`, the default).
        let text = "version: 1\nroles:\n  auditor:\n    modes: [report]\n    permissions:\n      contents: read\n      checks: read\n";
        let e = parse(text).expect_err("report commits");
        assert!(e.message.contains("contents: write"), "{e}");
        let text = "version: 1\nroles:\n  auditor:\n    modes: [report]\n    permissions:\n      contents: write\n      checks: read\n";
        parse(text).expect("enough");
    }

    #[test]
    fn predicate_types_must_be_known_and_include_v1() {
        let e =
            parse("version: 1\nallowed-predicate-types: ['https://slsa.dev/provenance/v0.2']\n")
                .expect_err("no v1");
        assert_eq!(e.field, "allowed-predicate-types");
        let e = parse("version: 2\n").expect_err("version");
        assert_eq!(e.line, Some(1));
    }

    #[test]
    fn inputs_override_the_file_and_the_first_matching_rule_applies() {
        let file = PolicyFile {
            version: 1,
            allowed_predicate_types: Some(vec![SLSA_V1.into()]),
            releases: vec![
                ReleaseRule {
                    tag_pattern: "v*".into(),
                    builder_id: Some("b-v".into()),
                    ..Default::default()
                },
                ReleaseRule {
                    tag_pattern: "*".into(),
                    builder_id: Some("b-any".into()),
                    ..Default::default()
                },
            ],
            runners: Some(RunnerRule {
                allow_self_hosted: false,
            }),
            ..Default::default()
        };
        let (m, shown, rule) = effective_validate(&file, &ValidateSettings::default(), Some("v1"));
        assert_eq!(rule, Some(0));
        assert_eq!(m.expected_builder_id.as_deref(), Some("b-v"));
        assert_eq!(m.allow_predicate_v02.as_deref(), Some("false"));
        assert_eq!(m.deny_self_hosted_runners.as_deref(), Some("true"));
        assert!(shown.iter().all(|s| s.origin == Origin::Policy));
        let given = ValidateSettings {
            expected_builder_id: Some("mine".into()),
            ..Default::default()
        };
        let (m, shown, rule) = effective_validate(&file, &given, Some("r1"));
        assert_eq!(rule, Some(1));
        assert_eq!(m.expected_builder_id.as_deref(), Some("mine"));
        let b = shown
            .iter()
            .find(|s| s.input == "expected-builder-id")
            .expect("shown");
        assert_eq!(b.origin, Origin::Input);
    }

    #[test]
    fn targets_fill_from_defaults() {
        let t = targets(Some(&KpiTargets {
            success_rate: Some(0.95),
            ..Default::default()
        }));
        assert_eq!(t.success_rate, 0.95);
        assert_eq!(t.p95_duration_ms, Targets::default().p95_duration_ms);
    }

    fn schema() -> serde_json::Value {
        serde_json::from_str(SCHEMA_TEXT).expect("schema is JSON")
    }

    fn example_json() -> serde_json::Value {
        let yaml: serde_json::Value = serde_yaml::from_str(EXAMPLE).expect("example is YAML");
        yaml
    }

    #[test]
    fn the_example_validates_against_the_schema() {
        let v = jsonschema::validator_for(&schema()).expect("schema compiles");
        let errors: Vec<String> = v
            .iter_errors(&example_json())
            .map(|e| format!("{}: {e}", e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{errors:?}");
        // And what the types write back is still valid.
        let round = serde_json::to_value(parse(EXAMPLE).expect("parses")).expect("json");
        assert!(v.is_valid(&round));
        assert_eq!(
            round,
            example_json(),
            "the example uses only what the types keep"
        );
    }

    /// The object keys the schema allows at `pointer`, or the keys of a `$defs` entry.
    fn schema_keys(schema: &serde_json::Value, pointer: &str) -> Vec<String> {
        let mut k: Vec<String> = schema
            .pointer(pointer)
            .and_then(|p| p.as_object())
            .unwrap_or_else(|| panic!("schema has no {pointer}"))
            .keys()
            .cloned()
            .collect();
        k.sort();
        k
    }

    fn object_keys(v: &serde_json::Value) -> Vec<String> {
        let mut k: Vec<String> = v.as_object().expect("object").keys().cloned().collect();
        k.sort();
        k
    }

    #[test]
    fn the_schema_and_the_types_agree() {
        // A file with every field set, written by the types: its keys at each level are
        // exactly the properties the schema allows there.
        let full = PolicyFile {
            version: 1,
            allowed_predicate_types: Some(vec![SLSA_V1.into()]),
            releases: vec![ReleaseRule {
                tag_pattern: "v*".into(),
                builder_id: Some("b".into()),
                builder_id_regexp: Some("^b$".into()),
                signer_workflow: Some("o/r/.github/workflows/w.yml".into()),
            }],
            identity: Some(IdentityRule {
                issuer: Some("https://issuer".into()),
                identity: Some("i".into()),
                identity_regexp: Some("^i$".into()),
            }),
            runners: Some(RunnerRule {
                allow_self_hosted: true,
            }),
            roles: BTreeMap::from([(
                "auditor".to_string(),
                Role {
                    modes: vec!["report".into()],
                    permissions: BTreeMap::from([("contents".to_string(), Access::Read)]),
                },
            )]),
            kpi_targets: Some(KpiTargets {
                success_rate: Some(1.0),
                mean_duration_ms: Some(1),
                p95_duration_ms: Some(2),
                artifact_rate: Some(1.0),
                audit_save_rate: Some(1.0),
                notification_rate: Some(1.0),
                badge_warn_rate: Some(0.5),
            }),
        };
        let v = serde_json::to_value(&full).expect("json");
        let s = schema();
        assert_eq!(object_keys(&v), schema_keys(&s, "/properties"));
        assert_eq!(
            object_keys(&v["releases"][0]),
            schema_keys(&s, "/properties/releases/items/properties")
        );
        assert_eq!(
            object_keys(&v["identity"]),
            schema_keys(&s, "/properties/identity/properties")
        );
        assert_eq!(
            object_keys(&v["runners"]),
            schema_keys(&s, "/properties/runners/properties")
        );
        assert_eq!(
            object_keys(&v["roles"]["auditor"]),
            schema_keys(&s, "/$defs/role/properties")
        );
        assert_eq!(
            object_keys(&v["kpi-targets"]),
            schema_keys(&s, "/properties/kpi-targets/properties")
        );
        // The enums: modes, scopes, access levels.
        let modes: Vec<&str> = s["$defs"]["role"]["properties"]["modes"]["items"]["enum"]
            .as_array()
            .expect("modes")
            .iter()
            .filter_map(|m| m.as_str())
            .collect();
        let ours: Vec<&str> = MODE_PERMISSIONS.iter().map(|(m, _)| *m).collect();
        assert_eq!(modes, ours);
        assert_eq!(modes, crate::inputs::MODES);
        let scopes: Vec<&str> = s["$defs"]["role"]["properties"]["permissions"]["propertyNames"]
            ["enum"]
            .as_array()
            .expect("scopes")
            .iter()
            .filter_map(|m| m.as_str())
            .collect();
        assert_eq!(scopes, SCOPES);
        let validator = jsonschema::validator_for(&s).expect("compiles");
        assert!(validator.is_valid(&v));
        // Every closed object rejects an unknown key, like the types do.
        for (pointer, extra) in [
            ("", "polcy"),
            ("/releases/0", "builderid"),
            ("/identity", "isuer"),
            ("/runners", "self-hosted"),
            ("/roles/auditor", "mode"),
            ("/kpi-targets", "sucess-rate"),
        ] {
            let mut bad = v.clone();
            bad.pointer_mut(pointer)
                .and_then(|o| o.as_object_mut())
                .expect("object")
                .insert(extra.into(), serde_json::json!(1));
            assert!(
                !validator.is_valid(&bad),
                "schema accepts {pointer}/{extra}"
            );
            let text = serde_yaml::to_string(&bad).expect("yaml");
            assert!(parse(&text).is_err(), "types accept {pointer}/{extra}");
        }
    }
}
