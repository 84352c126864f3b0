//! The governance policy, as the modes use it: read the file (adapter), check it (domain),
//! merge it under the inputs (domain), and say what applies in the step summary.

use crate::adapters::actions::Actions;
use crate::adapters::policy_file;
use crate::domain::kpi::Targets;
use crate::domain::policy::{self, PolicyFile, ValidateSettings};
use crate::error::{Failure, FailureReason, Result};
use crate::inputs::policy::PolicyInput;
use crate::inputs::RawInputs;

/// A checked policy file and where it was read from.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub path: String,
    pub file: PolicyFile,
}

/// The policy that applies to this run, if any. A file that does not check fails the run with
/// `policy_invalid`, naming its line and field.
pub fn load(input: &PolicyInput, workspace: &std::path::Path) -> Result<Option<Loaded>> {
    let Some((path, text)) = policy_file::read(workspace, input)? else {
        return Ok(None);
    };
    let file = policy::parse(&text)
        .map_err(|e| Failure::new(FailureReason::PolicyInvalid, format!("{path}: {e}")))?;
    Ok(Some(Loaded { path, file }))
}

/// Validate's inputs with the policy filled in under them (inputs win), for the run's `tag`.
/// The effective policy goes to the step summary.
pub fn apply_to_validate(
    raw: &RawInputs,
    loaded: Option<&Loaded>,
    tag: Option<&str>,
    actions: &Actions,
) -> RawInputs {
    let mut out = raw.clone();
    let Some(loaded) = loaded else { return out };
    let given = ValidateSettings {
        allow_predicate_v02: raw.allow_predicate_v02.clone(),
        expected_builder_id: raw.expected_builder_id.clone(),
        builder_id_regexp: raw.builder_id_regexp.clone(),
        signer_workflow: raw.signer_workflow.clone(),
        certificate_oidc_issuer: raw.certificate_oidc_issuer.clone(),
        certificate_identity: raw.certificate_identity.clone(),
        certificate_identity_regexp: raw.certificate_identity_regexp.clone(),
        deny_self_hosted_runners: raw.deny_self_hosted_runners.clone(),
    };
    let (m, shown, rule) = policy::effective_validate(&loaded.file, &given, tag);
    out.allow_predicate_v02 = m.allow_predicate_v02;
    out.expected_builder_id = m.expected_builder_id;
    out.builder_id_regexp = m.builder_id_regexp;
    out.signer_workflow = m.signer_workflow;
    out.certificate_oidc_issuer = m.certificate_oidc_issuer;
    out.certificate_identity = m.certificate_identity;
    out.certificate_identity_regexp = m.certificate_identity_regexp;
    out.deny_self_hosted_runners = m.deny_self_hosted_runners;
    let targets = policy::targets(loaded.file.kpi_targets.as_ref());
    let _ = actions.append_summary(&policy::render_summary(
        &loaded.path,
        &loaded.file,
        rule,
        &shown,
        &targets,
    ));
    actions.info(&format!("policy: {} applies", loaded.path));
    out
}

/// The KPI targets report judges against: the policy's over the defaults. The effective
/// policy goes to the step summary.
pub fn report_targets(loaded: Option<&Loaded>, actions: &Actions) -> Targets {
    let Some(loaded) = loaded else {
        return Targets::default();
    };
    let targets = policy::targets(loaded.file.kpi_targets.as_ref());
    let _ = actions.append_summary(&policy::render_summary(
        &loaded.path,
        &loaded.file,
        None,
        &[],
        &targets,
    ));
    actions.info(&format!("policy: {} applies", loaded.path));
    targets
}
