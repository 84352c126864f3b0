//! Publishing step of `mode: provenance`: the GitHub attestations API, the bundle as a release
//! asset, and a provenance section in the release notes.
//!
//! Order matters: the attestation first, then the asset, then the notes, because the notes
//! link to both. Refusals that are about the repository rather than the run (attestations not
//! in the plan or not permitted, no release for the tag, a draft, a body at its size limit)
//! are `::notice::`s recorded in [`PublishFacts::notices`]; the run goes on. A call GitHub was
//! still rate-limiting when the retry budget ran out fails with `github_rate_limited` (whatever
//! the step: a rate-limit 403 is never taken for a plan refusal). Everything else fails with
//! the step's own reason. Names, content and the notes merge are decided in
//! `domain::release_notes`; retry policy in `domain::retry`.
//!
//! Nothing published is lost to a failure: the bundle asset is replaced by upload-then-swap
//! ([`replace_asset`]), and the notes are re-read right before they are written.

use std::fmt::Display;

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
        let uploaded = replace_asset(&req, &gh, &release, &name, &bundle).await?;
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

/// A failed GitHub call as the step's failure. A call GitHub was still rate-limiting when the
/// retry budget ran out is `github_rate_limited`, whichever step made it: re-running later
/// fixes it, which is not true of the step's other failures.
fn api_failure(reason: FailureReason, what: impl Display, e: ApiError) -> Failure {
    let reason = match e {
        ApiError::RateLimited { .. } => FailureReason::GithubRateLimited,
        _ => reason,
    };
    Failure::new(reason, format!("{what}: {e}"))
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
        // GitHub's own refusal about the plan or the permission. A rate-limit 403 never gets
        // here: the client reports it as `ApiError::RateLimited` once its budget is spent.
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
        Err(e) => Err(api_failure(
            FailureReason::AttestationFailed,
            "storing the attestation on GitHub",
            e,
        )),
    }
}

/// The release for the tag; a release event's own id finds a draft too.
async fn find_release(req: &PublishRequest<'_>, gh: &GitHub<'_>) -> Result<Option<Release>> {
    let repo = req.context.repository.as_str();
    let api_failed = |e: ApiError| {
        api_failure(
            FailureReason::GithubApiFailed,
            format_args!("looking up the release for tag {}", req.tag.name),
            e,
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

/// Put the bundle on the release as `name`, replacing an older one, such that no failed step
/// leaves the release without a bundle (GitHub has no atomic replace). Each step's failure is
/// `release_asset_failed` with what the release holds at that point.
async fn replace_asset(
    req: &PublishRequest<'_>,
    gh: &GitHub<'_>,
    release: &Release,
    name: &str,
    bundle: &Value,
) -> Result<Asset> {
    let repo = req.context.repository.as_str();
    let temp = release_notes::bundle_asset_temp_name(name);
    let content = release_notes::bundle_asset_content(bundle).into_bytes();
    let failed =
        |what: String| move |e: ApiError| api_failure(FailureReason::ReleaseAssetFailed, what, e);

    // 1. A temporary asset left by an earlier run that failed before its rename: stale.
    delete_named(
        req,
        gh,
        release,
        &temp,
        "Removing the temporary asset left by an earlier run",
    )
    .await
    .map_err(failed(format!(
        "removing the leftover release asset {temp}"
    )))?;

    // 2. Upload under the temporary name. A failure here leaves the previous bundle in place.
    //    A 422 means the name was taken meanwhile (a concurrent re-run): clear it, retry once.
    let upload_failed = failed(format!(
        "uploading the release asset {name} (as {temp}; the previous asset, if any, is untouched)"
    ));
    let uploaded = match gh.upload_asset(repo, release, &temp, content.clone()).await {
        Err(ApiError::Status { status: 422, .. }) => {
            delete_named(
                req,
                gh,
                release,
                &temp,
                "Removing a concurrent temporary asset",
            )
            .await
            .map_err(failed(format!("removing the release asset {temp}")))?;
            gh.upload_asset(repo, release, &temp, content).await
        }
        other => other,
    }
    .map_err(upload_failed)?;

    // 3. The new bundle is complete: only now delete the previous one.
    delete_named(
        req,
        gh,
        release,
        name,
        "Replacing the existing release asset",
    )
    .await
    .map_err(failed(format!(
        "deleting the previous release asset {name} (the new bundle is uploaded as {temp})"
    )))?;

    // 4. Rename. The PATCH is idempotent: the client retries it on 5xx and timeouts. A 422
    //    means an asset took the name meanwhile: clear it and rename once more.
    let rename_failed = failed(format!(
        "renaming the uploaded release asset {temp} to {name} (the release holds the new \
         bundle under the temporary name; the next run cleans it up)"
    ));
    match gh.rename_asset(repo, uploaded.id, name).await {
        Err(ApiError::Status { status: 422, .. }) => {
            delete_named(
                req,
                gh,
                release,
                name,
                "Removing a concurrent release asset",
            )
            .await
            .map_err(failed(format!("deleting the release asset {name}")))?;
            gh.rename_asset(repo, uploaded.id, name).await
        }
        other => other,
    }
    .map_err(rename_failed)
}

/// Delete every asset of the release called `name` (there is at most one, unless a
/// concurrent run raced us).
async fn delete_named(
    req: &PublishRequest<'_>,
    gh: &GitHub<'_>,
    release: &Release,
    name: &str,
    why: &str,
) -> std::result::Result<(), ApiError> {
    let repo = req.context.repository.as_str();
    for old in gh
        .list_assets(repo, release.id)
        .await?
        .into_iter()
        .filter(|a| a.name == name)
    {
        req.actions.info(&format!("{why}: {name}"));
        gh.delete_asset(repo, old.id).await?;
    }
    Ok(())
}

async fn update_notes(
    req: &PublishRequest<'_>,
    gh: &GitHub<'_>,
    release: &Release,
    asset: Option<&Asset>,
    facts: &mut PublishFacts,
) -> Result<()> {
    // Re-read the release right before writing: its notes may have been edited since the
    // first read (while the asset uploaded), and a PATCH built on that read would overwrite
    // the edit. (The REST API offers no conditional update of a release; what remains is the
    // instant between this read and the PATCH.)
    let repo = req.context.repository.as_str();
    let notes_failed = |e: ApiError| {
        api_failure(
            FailureReason::ReleaseNotesFailed,
            format_args!("reading the release notes for tag {}", req.tag.name),
            e,
        )
    };
    let Some(release) = gh
        .release_by_id(repo, release.id)
        .await
        .map_err(notes_failed)?
    else {
        notice(
            req,
            facts,
            format!(
                "the release for tag {} was deleted while publishing: its notes were not changed",
                req.tag.name
            ),
        );
        return Ok(());
    };
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
            gh.update_release_body(repo, release.id, &body)
                .await
                .map_err(|e| {
                    api_failure(
                        FailureReason::ReleaseNotesFailed,
                        format_args!("updating the release notes for tag {}", req.tag.name),
                        e,
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
