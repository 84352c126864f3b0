//! `mode: provenance`: the short script from facts to audit trail.
//!
//! Gather (event, tag, OIDC claims or env, subject digests) -> decide (`domain::statement`,
//! `domain::manifest`) -> apply (write files atomically, outputs, summary). Any failure after
//! the tag is known is also recorded in the day's manifest as `status: failure` with its code,
//! so the audit trail shows runs that did not produce provenance.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use crate::adapters::actions::Actions;
use crate::adapters::context::RunEnv;
use crate::adapters::{files, git, oidc};
use crate::domain::checksums;
use crate::domain::manifest::{self, Manifest, ManifestEntry, RunStatus};
use crate::domain::signing::{self, SigningMethod};
use crate::domain::statement::{self, BuildContext, StatementInput};
use crate::domain::subjects::{self, SelectError, Subject, SubjectPatterns};
use crate::domain::summary::{self, ProvenanceSummary};
use crate::domain::tag::{self, ResolvedTag, TagSource};
use crate::error::{Context, Failure, FailureReason, Result};
use crate::inputs::{ProvenanceInputs, RawInputs};
use crate::secret::Secret;

/// Files larger in number or size than this get progress lines while hashing.
const PROGRESS_FILES: usize = 200;
const PROGRESS_BYTES: u64 = 256 * 1024 * 1024;

mod publish;
mod sign;

pub const FLAG_READY: &str = "provenance-ready";
pub const FLAG_MISSING: &str = "provenance-missing";

pub async fn run(
    raw: &RawInputs,
    env: &RunEnv,
    actions: &mut Actions,
    started_on: DateTime<Utc>,
) -> Result<()> {
    // 1. Push guard: before anything else, and writes nothing but two outputs.
    if env.event_name.as_deref() == Some("push") {
        actions.info("SKIP: push event");
        set(actions, "skipped", "true")?;
        set(actions, "skip-reason", "push-event")?;
        return Ok(());
    }
    let inputs = ProvenanceInputs::from_raw(raw)?;
    mask_secrets(&inputs, actions);

    // 2. Tag.
    let Some(tag) = resolve_tag(&inputs, env, actions)? else {
        actions.info("SKIP: no tag (no release event, no 'tag' input, not a tag ref, and no tag points at the commit)");
        set(actions, "skipped", "true")?;
        set(actions, "skip-reason", "no-tag")?;
        let _ = actions.append_summary(&summary::render_skip(
            "no-tag",
            "no release event, no `tag` input, not a tag ref, and no tag points at the built commit",
        ));
        return Ok(());
    };
    set(actions, "skipped", "false")?;
    set(actions, "tag", &tag.name)?;
    set(actions, "tag-source", tag.source.as_str())?;
    actions.info(&format!("Tag: {} (from {})", tag.name, tag.source));

    // 3. Who is building what (OIDC claims when the runner offers a token).
    let method = signing::choose(
        inputs.sign,
        env.oidc.is_some(),
        inputs.signing_key.is_some(),
    )?;
    let (context, id_token) = build_context(env, actions).await?;
    let day_dir = inputs
        .reports_dir
        .join(started_on.format("%Y-%m-%d").to_string());

    let mut run = Run {
        env,
        inputs: &inputs,
        tag: &tag,
        context: &context,
        day_dir: &day_dir,
        started_on,
    };
    match run.produce(actions, method, id_token).await {
        Ok(()) => Ok(()),
        Err(failure) => {
            run.record_failure(actions, &failure);
            Err(failure)
        }
    }
}

/// Mask every secret input before anything else is logged. A PEM key is also masked line by
/// line, since the runner matches masks within single log lines.
fn mask_secrets(inputs: &ProvenanceInputs, actions: &Actions) {
    let secrets = [
        &inputs.github_token,
        &inputs.signing_key,
        &inputs.signing_key_password,
    ];
    for secret in secrets.into_iter().flatten() {
        actions.mask(secret.expose());
        for line in secret.expose().lines().map(str::trim) {
            if line.len() >= 8 && line != secret.expose() && !line.starts_with("-----") {
                actions.mask(line);
            }
        }
    }
}

fn set(actions: &mut Actions, name: &str, value: &str) -> Result<()> {
    actions.set_output(name, value).reason(
        FailureReason::WriteFailed,
        format!("writing output '{name}'"),
    )
}

fn resolve_tag(
    inputs: &ProvenanceInputs,
    env: &RunEnv,
    actions: &Actions,
) -> Result<Option<ResolvedTag>> {
    let invalid = |msg: String| Failure::new(FailureReason::InvalidTag, msg);
    let first = tag::first_candidate([
        (TagSource::ReleaseEvent, env.release_tag()),
        (TagSource::Input, inputs.tag.clone()),
        (TagSource::Ref, env.ref_tag()),
    ])
    .map_err(invalid)?;
    if first.is_some() {
        return Ok(first);
    }
    let rev = env.get("GITHUB_SHA").unwrap_or("HEAD");
    let described = match git::describe_exact(&env.workspace, rev) {
        Ok(t) => t,
        Err(git::GitError(msg)) => {
            actions.debug(&format!("git describe found no tag: {msg}"));
            None
        }
    };
    tag::first_candidate([(TagSource::GitDescribe, described)]).map_err(invalid)
}

async fn build_context(env: &RunEnv, actions: &Actions) -> Result<(BuildContext, Option<Secret>)> {
    if let Some(req) = &env.oidc {
        actions.mask(req.bearer.expose());
        let token = oidc::request_token(req, "sigstore").await?;
        actions.mask(token.expose());
        let claims = oidc::decode_claims(&token)?;
        let ctx = BuildContext::from_claims(&claims, &env.server_url())
            .map_err(|e| Failure::new(FailureReason::OidcTokenFailed, e))?;
        actions.debug("build facts read from the OIDC token's claims");
        return Ok((ctx, Some(token)));
    }
    let sha = match env.get("GITHUB_SHA") {
        Some(s) => s.to_string(),
        None => git::head_commit(&env.workspace).ok_or_else(|| {
            Failure::new(
                FailureReason::MissingContext,
                "GITHUB_SHA is not set and the workspace has no git HEAD",
            )
        })?,
    };
    actions.debug("no OIDC token: build facts read from GITHUB_* variables");
    Ok((env.build_context(sha)?, None))
}

/// One run's state once tag and context are known.
struct Run<'a> {
    env: &'a RunEnv,
    inputs: &'a ProvenanceInputs,
    tag: &'a ResolvedTag,
    context: &'a BuildContext,
    day_dir: &'a Path,
    started_on: DateTime<Utc>,
}

impl Run<'_> {
    fn ws(&self, rel: &Path) -> PathBuf {
        self.env.workspace.join(rel)
    }

    fn run_dir(&self) -> PathBuf {
        self.day_dir
            .join(format!("provenance_run_{}", self.context.run_id))
    }

    fn run_id(&self) -> u64 {
        self.context.run_id.parse().unwrap_or(0)
    }

    async fn produce(
        &mut self,
        actions: &mut Actions,
        method: SigningMethod,
        id_token: Option<Secret>,
    ) -> Result<()> {
        // Refuse a day we cannot record before writing anything into it: a provenance file and
        // log line without their manifest entry would be a hole in the audit trail.
        self.load_manifest()?;
        self.read_audit_text(&self.day_dir.join("PROVENANCE_SHA256.txt"))?;
        let subjects = self.collect_subjects(actions)?;
        actions.info(&format!("Subjects: {}", subjects.len()));

        let tag_commit = git::tag_commit(&self.env.workspace, &self.tag.name);
        if let Some(tc) = tag_commit.as_deref().filter(|tc| *tc != self.context.sha) {
            actions.warning(&format!(
                "tag {} points at {tc}, but this run built {}; the provenance records both",
                self.tag.name, self.context.sha
            ));
        }
        let statement = statement::build_statement(&StatementInput {
            context: self.context,
            subjects: &subjects,
            tag: self.tag,
            tag_commit: tag_commit.as_deref(),
            dispatch_inputs: self.env.dispatch_inputs(),
            started_on: self.started_on,
            finished_on: Utc::now(),
        });
        let bytes = statement::to_bytes(&statement);
        let sha = files::sha256_bytes(&bytes);
        // Small statements are shown in full; a 10,000-subject one would flood the log.
        if bytes.len() <= 64 * 1024 {
            actions.group("Provenance statement", || {
                actions.info(&String::from_utf8_lossy(&bytes))
            });
        } else {
            actions.info(&format!(
                "Provenance statement: {} bytes (see provenance-path)",
                bytes.len()
            ));
        }

        let mut written = Vec::new();
        let prov_rel = self.run_dir().join("provenance.json");
        files::write_atomic(&self.ws(&prov_rel), &bytes).reason(
            FailureReason::WriteFailed,
            format!("writing {}", prov_rel.display()),
        )?;
        written.push(rel_string(&prov_rel));

        // Sign, then verify our own bundle before anything points at it.
        let signed = sign::sign(sign::SignRequest {
            method,
            inputs: self.inputs,
            env: self.env,
            context: self.context,
            id_token,
            statement: &bytes,
            actions,
        })
        .await?;
        if let Some(s) = &signed {
            let rel = self.run_dir().join("provenance.sigstore.json");
            files::write_atomic(&self.ws(&rel), &s.bundle_json).reason(
                FailureReason::WriteFailed,
                format!("writing {}", rel.display()),
            )?;
            written.push(rel_string(&rel));
            set(actions, "bundle-path", &rel_string(&rel))?;
        }

        let published = match &signed {
            Some(s) => Some(
                publish::publish(publish::PublishRequest {
                    inputs: self.inputs,
                    env: self.env,
                    context: self.context,
                    tag: self.tag,
                    subjects: &subjects,
                    statement_sha256: &sha,
                    bundle_json: &s.bundle_json,
                    actions,
                })
                .await?,
            ),
            None => None,
        };
        if let Some(p) = &published {
            if let Some(id) = &p.attestation_id {
                set(actions, "attestation-id", id)?;
            }
            if let Some(u) = &p.attestation_url {
                set(actions, "attestation-url", u)?;
            }
        }

        // Audit log and manifest last: they point at everything above.
        let log_rel = self.day_dir.join("PROVENANCE_SHA256.txt");
        let log_line_path = format!("provenance_run_{}/provenance.json", self.context.run_id);
        let existing = self.read_audit_text(&log_rel)?.unwrap_or_default();
        let log = manifest::upsert_sha256_line(&existing, &sha, &log_line_path);
        files::write_atomic(&self.ws(&log_rel), log.as_bytes()).reason(
            FailureReason::WriteFailed,
            format!("writing {}", log_rel.display()),
        )?;
        written.push(rel_string(&log_rel));

        let base = self.entry(RunStatus::Success, FLAG_READY, None);
        let entry = ManifestEntry {
            provenance_path: Some(rel_string(&prov_rel)),
            provenance_sha256: Some(sha.clone()),
            subjects: Some(subjects.len()),
            bundle_sha256: signed.as_ref().map(|s| files::sha256_bytes(&s.bundle_json)),
            signer_identity: signed.as_ref().map(|s| s.facts.signer_identity.clone()),
            artifact_url: published
                .as_ref()
                .and_then(|p| p.release_asset_url.clone().or(p.attestation_url.clone()))
                .or(base.artifact_url.clone()),
            ..base
        };
        let manifest_rel = self.merge_manifest(entry)?;
        written.push(rel_string(&manifest_rel));

        set(actions, "provenance-path", &rel_string(&prov_rel))?;
        set(actions, "provenance-sha256", &sha)?;
        set(actions, "subjects", &subjects.len().to_string())?;
        set(actions, "manifest-path", &rel_string(&manifest_rel))?;

        let run_url = self.context.run_url();
        let md = summary::render_provenance(&ProvenanceSummary {
            tag: self.tag,
            commit: &self.context.sha,
            tag_commit: tag_commit.as_deref(),
            subjects: &subjects,
            provenance_sha256: &sha,
            files_written: &written,
            signing: signed.as_ref().map(|s| &s.facts),
            publish: published.as_ref(),
            run_url: &run_url,
        });
        actions
            .append_summary(&md)
            .reason(FailureReason::WriteFailed, "writing the step summary")?;
        Ok(())
    }

    fn collect_subjects(&self, actions: &Actions) -> Result<Vec<Subject>> {
        collect_subjects(
            &self.env.workspace,
            &self.inputs.subject_patterns,
            self.inputs.subject_checksums.as_ref(),
            actions,
        )
    }

    fn entry(&self, status: RunStatus, flag: &str, failure: Option<&Failure>) -> ManifestEntry {
        let c = self.context;
        ManifestEntry {
            run_id: self.run_id(),
            tag: self.tag.name.clone(),
            sha: c.sha.clone(),
            artifact_url: Some(c.invocation_id()),
            actor: c.actor.clone(),
            timestamp: self
                .started_on
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            status,
            governance_flag: flag.to_string(),
            governance_flag_history: Vec::new(),
            release_url: Some(format!(
                "{}/releases/tag/{}",
                c.repository_url(),
                self.tag.name
            )),
            failure_reason: failure.map(|f| f.reason.code().to_string()),
            run_attempt: c.run_attempt.parse().ok(),
            tag_source: Some(self.tag.source.as_str().to_string()),
            provenance_path: None,
            provenance_sha256: None,
            subjects: None,
            bundle_sha256: None,
            signer_identity: None,
            duration_ms: None,
            validation_status: None,
            validated_at: None,
            notify_slack: None,
            slack_retry: None,
            issue_number: None,
            requeue: None,
            rerun_in_progress: None,
            rollback_of: None,
            extra: Default::default(),
        }
    }

    /// An existing audit file's text. Bytes that are not UTF-8 are a corrupt file (refused),
    /// not a failed read.
    fn read_audit_text(&self, rel: &Path) -> Result<Option<String>> {
        files::read_optional(&self.ws(rel)).map_err(|e| {
            if e.kind() == std::io::ErrorKind::InvalidData {
                Failure::new(
                    FailureReason::AuditFileCorrupt,
                    format!(
                        "{} is not UTF-8 text ({e}); refusing to overwrite it",
                        rel.display()
                    ),
                )
            } else {
                Failure::new(
                    FailureReason::WriteFailed,
                    format!("reading {}: {e}", rel.display()),
                )
            }
        })
    }

    /// The day's manifest as it is now; a missing file is an empty manifest.
    fn load_manifest(&self) -> Result<(PathBuf, Manifest)> {
        let rel = self.day_dir.join("manifest.json");
        let current = match self.read_audit_text(&rel)? {
            Some(text) => Manifest::parse(&text).map_err(|e| {
                Failure::new(
                    FailureReason::AuditFileCorrupt,
                    format!(
                        "{} cannot be read ({e}); refusing to overwrite it",
                        rel.display()
                    ),
                )
            })?,
            None => Manifest::default(),
        };
        Ok((rel, current))
    }

    /// Read, merge, write the day's manifest. An unreadable manifest is never overwritten.
    fn merge_manifest(&self, entry: ManifestEntry) -> Result<PathBuf> {
        let (rel, current) = self.load_manifest()?;
        let merged = manifest::merge(current, entry);
        files::write_atomic(&self.ws(&rel), merged.render().as_bytes()).reason(
            FailureReason::WriteFailed,
            format!("writing {}", rel.display()),
        )?;
        Ok(rel)
    }

    /// Best effort: a failure entry in the manifest. A corrupt manifest stays as it is.
    fn record_failure(&self, actions: &mut Actions, failure: &Failure) {
        if failure.reason == FailureReason::AuditFileCorrupt {
            return;
        }
        let entry = self.entry(RunStatus::Failure, FLAG_MISSING, Some(failure));
        match self.merge_manifest(entry) {
            Ok(rel) => {
                let _ = actions.set_output("manifest-path", &rel_string(&rel));
            }
            Err(e) => actions.warning(&format!(
                "could not record the failure in the manifest: {e}"
            )),
        }
    }
}

/// Workspace-relative path with `/` separators, for outputs and logs.
pub fn rel_string(p: &Path) -> String {
    p.components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

/// Subjects from `subject-path` globs (hashed in parallel) and `subject-checksums`, merged by
/// name; shared by `mode: provenance` and `mode: validate`.
pub(crate) fn collect_subjects(
    workspace: &Path,
    subject_patterns: &[String],
    subject_checksums: Option<&String>,
    actions: &Actions,
) -> Result<Vec<Subject>> {
    let ws_str = workspace.to_string_lossy().to_string();
    let mut found: Vec<(Subject, String)> = Vec::new();
    if !subject_patterns.is_empty() {
        let patterns = SubjectPatterns::compile(subject_patterns, &ws_str)
            .map_err(|e| Failure::new(FailureReason::InvalidSubjectPath, e))?;
        let listed = files::list_files(workspace, &patterns.walk_roots())
            .reason(FailureReason::SubjectUnreadable, "listing the workspace")?;
        let selected = patterns.select(&listed).map_err(|e| match e {
            SelectError::Unmatched { pattern, .. } => Failure::new(
                FailureReason::SubjectPatternUnmatched,
                format!("subject-path pattern {pattern:?} matched no file in the workspace"),
            ),
        })?;
        let total_bytes: u64 = selected
            .iter()
            .filter_map(|p| std::fs::metadata(workspace.join(p)).ok())
            .map(|m| m.len())
            .sum();
        let loud = selected.len() >= PROGRESS_FILES || total_bytes >= PROGRESS_BYTES;
        actions.info(&format!(
            "Hashing {} files ({:.1} MB) on {} threads",
            selected.len(),
            total_bytes as f64 / 1e6,
            rayon::current_num_threads()
        ));
        let report = |p: files::HashProgress| {
            if loud {
                actions.info(&format!(
                    "hashed {}/{} files, {:.1} MB, {:.0} MB/s",
                    p.files_done,
                    p.files_total,
                    p.bytes_done as f64 / 1e6,
                    p.mb_per_sec()
                ));
            }
        };
        let digests =
            files::hash_files(workspace, &selected, 2.0, &report).map_err(|(path, e)| {
                Failure::new(
                    FailureReason::SubjectUnreadable,
                    format!("cannot read subject {path}: {e}"),
                )
            })?;
        for (path, sha256) in selected.into_iter().zip(digests) {
            let name = subjects::subject_name(&path).to_string();
            found.push((Subject { name, sha256 }, path));
        }
    }
    if let Some(value) = subject_checksums {
        let (text, origin) = if checksums::looks_inline(value) {
            (value.clone(), "subject-checksums".to_string())
        } else {
            let p = workspace.join(value);
            let text = std::fs::read_to_string(&p).map_err(|e| {
                Failure::new(
                    FailureReason::InvalidChecksums,
                    format!("cannot read subject-checksums file {value:?}: {e}"),
                )
            })?;
            (text, value.clone())
        };
        let parsed = checksums::parse(&text).map_err(|e| {
            Failure::new(
                FailureReason::InvalidChecksums,
                format!("subject-checksums ({origin}): {e}"),
            )
        })?;
        for s in parsed {
            let o = format!("{origin}:{}", s.name);
            found.push((s, o));
        }
    }
    subjects::merge_subjects(found)
        .map_err(|e| Failure::new(FailureReason::SubjectNameCollision, e))
}
