//! Publishing step of `mode: provenance`: the GitHub attestations API, the bundle as a release
//! asset, and a provenance section in the release notes.
//!
//! Order matters: the attestation first, then the asset, then the notes, because the notes
//! link to both. Refusals that are about the repository rather than the run (attestations not
//! in the plan or not permitted, no release for the tag, a draft, a body at its size limit)
//! are `::notice::`s recorded in [`PublishFacts::notices`]; the run goes on. Everything else
//! fails with the step's own reason. Names, content and the notes merge are decided in
//! `domain::release_notes`; retry policy in `domain::retry`.

use serde_json::Value;

use crate::adapters::actions::Actions;
use crate::adapters::context::RunEnv;
use crate::adapters::github::{ApiError, Asset, GitHub, GitHubConfig, Release};
use crate::domain::release_notes::{self, Detail, NotesUpdate, ProvenanceSection};
use crate::domain::statement::BuildContext;
use crate::domain::subjects::Subject;
use crate::domain::summary::PublishFacts;
use crate::domain::tag::ResolvedTag;
use crate::error::{Failure, FailureReason, Result};
use crate::inputs::ProvenanceInputs;

pub struct PublishRequest<'a> {
    pub inputs: &'a ProvenanceInputs,
    pub env: &'a RunEnv,
    pub context: &'a BuildContext,
    pub tag: &'a ResolvedTag,
    pub subjects: &'a [Subject],
    pub statement_sha256: &'a str,
    pub bundle_json: &'a [u8],
    pub actions: &'a Actions,
}

pub async fn publish(req: PublishRequest<'_>) -> Result<PublishFacts> {
    let mut facts = PublishFacts::default();
    let inputs = req.inputs;
    if !(inputs.attest || inputs.upload_release_asset || inputs.release_notes) {
        return Ok(facts);
    }
    let Some(token) = &inputs.github_token else {
        notice(
            &req,
            &mut facts,
            "input 'github-token' is empty: the attestation, release asset and release notes \
             were skipped (set attest, upload-release-asset and release-notes to false to \
             silence this)"
                .to_string(),
        );
        return Ok(facts);
    };
    let bundle: Value = serde_json::from_slice(req.bundle_json).map_err(|e| {
        Failure::new(
            FailureReason::SigningFailed,
            format!("the signed bundle is not JSON: {e}"),
        )
    })?;
    let config = GitHubConfig::from_env(req.env)?;
    let log = |m: &str| req.actions.info(m);
    let gh = GitHub::new(&config, token, &log)?;
    let repository = req.context.repository.as_str();

    if inputs.attest {
        attest(&req, &gh, &bundle, &mut facts).await?;
    }
    if !(inputs.upload_release_asset || inputs.release_notes) {
        return Ok(facts);
    }
    let Some(release) = find_release(&req, &gh).await? else {
        notice(
            &req,
            &mut facts,
            format!(
                "no GitHub release for tag {}: the bundle asset and release notes were skipped",
                req.tag.name
            ),
        );
        return Ok(facts);
    };
    let mut asset = None;
    if inputs.upload_release_asset {
        let name = release_notes::bundle_asset_name(req.subjects, repository, &req.tag.name);
        let uploaded = upload(&req, &gh, &release, &name, &bundle)
            .await
            .map_err(|e| {
                Failure::new(
                    FailureReason::ReleaseAssetFailed,
                    format!("uploading the release asset {name}: {e}"),
                )
            })?;
        req.actions
            .info(&format!("Release asset: {}", uploaded.browser_download_url));
        facts.release_asset_url = Some(uploaded.browser_download_url.clone());
        asset = Some(uploaded);
    }
    if inputs.release_notes {
        update_notes(&req, &gh, &release, asset.as_ref(), &mut facts).await?;
    }
    Ok(facts)
}

fn notice(req: &PublishRequest<'_>, facts: &mut PublishFacts, msg: String) {
    req.actions.notice(&msg);
    facts.notices.push(msg);
}

async fn attest(
    req: &PublishRequest<'_>,
    gh: &GitHub<'_>,
    bundle: &Value,
    facts: &mut PublishFacts,
) -> Result<()> {
    let digest = req
        .subjects
        .first()
        .map(|s| s.sha256.as_str())
        .unwrap_or("");
    match gh
        .create_attestation(&req.context.repository, bundle, digest)
        .await
    {
        Ok(stored) => {
            match stored.id {
                Some(id) => {
                    let url = format!("{}/attestations/{id}", req.context.repository_url());
                    req.actions.info(&format!("Attestation: {url}"));
                    facts.attestation_id = Some(id.to_string());
                    facts.attestation_url = Some(url);
                }
                None => notice(
                    req,
                    facts,
                    "the attestation is stored, but GitHub's answer carried no id".to_string(),
                ),
            }
            Ok(())
        }
        Err(
            e @ ApiError::Status {
                status: 403 | 404, ..
            },
        ) => {
            notice(
                req,
                facts,
                format!(
                    "the attestation was not stored on GitHub ({e}): artifact attestations need \
                     a public repository or a plan that includes them, and the workflow needs \
                     'permissions: attestations: write'. The signed bundle is still written to \
                     the reports directory."
                ),
            );
            Ok(())
        }
        Err(e) => Err(Failure::new(
            FailureReason::AttestationFailed,
            format!("storing the attestation on GitHub: {e}"),
        )),
    }
}

/// The release for the tag; a release event's own id finds a draft too.
async fn find_release(req: &PublishRequest<'_>, gh: &GitHub<'_>) -> Result<Option<Release>> {
    let repo = req.context.repository.as_str();
    let api_failed = |e: ApiError| {
        Failure::new(
            FailureReason::GithubApiFailed,
            format!("looking up the release for tag {}: {e}", req.tag.name),
        )
    };
    if let Some(r) = gh
        .release_by_tag(repo, &req.tag.name)
        .await
        .map_err(api_failed)?
    {
        return Ok(Some(r));
    }
    let event_release = req
        .env
        .event
        .as_ref()
        .filter(|e| e.pointer("/release/tag_name").and_then(Value::as_str) == Some(&req.tag.name))
        .and_then(|e| e.pointer("/release/id"))
        .and_then(Value::as_u64);
    match event_release {
        Some(id) => gh.release_by_id(repo, id).await.map_err(api_failed),
        None => Ok(None),
    }
}

/// Replace any asset of the same name, then upload. A 422 means an asset of that name
/// appeared meanwhile (a concurrent re-run): clear it once more and retry once.
async fn upload(
    req: &PublishRequest<'_>,
    gh: &GitHub<'_>,
    release: &Release,
    name: &str,
    bundle: &Value,
) -> std::result::Result<Asset, ApiError> {
    let repo = req.context.repository.as_str();
    let content = release_notes::bundle_asset_content(bundle).into_bytes();
    let mut cleared_after_conflict = false;
    loop {
        for old in gh
            .list_assets(repo, release.id)
            .await?
            .into_iter()
            .filter(|a| a.name == name)
        {
            req.actions
                .info(&format!("Replacing the existing release asset {name}"));
            gh.delete_asset(repo, old.id).await?;
        }
        match gh.upload_asset(repo, release, name, content.clone()).await {
            Err(ApiError::Status { status: 422, .. }) if !cleared_after_conflict => {
                cleared_after_conflict = true;
            }
            other => return other,
        }
    }
}

async fn update_notes(
    req: &PublishRequest<'_>,
    gh: &GitHub<'_>,
    release: &Release,
    asset: Option<&Asset>,
    facts: &mut PublishFacts,
) -> Result<()> {
    if release.draft {
        notice(
            req,
            facts,
            format!(
                "the release for tag {} is a draft: its notes were not changed",
                req.tag.name
            ),
        );
        return Ok(());
    }
    let run_url = req.context.run_url();
    let section = ProvenanceSection {
        statement_sha256: req.statement_sha256,
        subjects: req.subjects.len(),
        bundle_asset: asset.map(|a| (a.name.as_str(), a.browser_download_url.as_str())),
        attestation_url: facts.attestation_url.as_deref(),
        run_url: &run_url,
    };
    let existing = release.body.as_deref().unwrap_or("");
    match release_notes::merge(existing, &section, release_notes::BODY_LIMIT_CHARS) {
        NotesUpdate::Unchanged => {
            req.actions
                .info("Release notes already hold this provenance section");
        }
        NotesUpdate::Replace { body, detail } => {
            gh.update_release_body(&req.context.repository, release.id, &body)
                .await
                .map_err(|e| {
                    Failure::new(
                        FailureReason::ReleaseNotesFailed,
                        format!("updating the release notes for tag {}: {e}", req.tag.name),
                    )
                })?;
            facts.release_notes_updated = true;
            req.actions
                .info("Release notes: provenance section written");
            if detail == Detail::Compact {
                notice(
                    req,
                    facts,
                    "the release notes are close to GitHub's 125,000-character limit: a \
                     one-line provenance section was written instead of the full one"
                        .to_string(),
                );
            }
        }
        NotesUpdate::TooLong { chars } => notice(
            req,
            facts,
            format!(
                "the release notes would be {chars} characters with the provenance section, \
                 over GitHub's 125,000 limit: they were left unchanged"
            ),
        ),
    }
    Ok(())
}
