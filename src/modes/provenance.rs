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
use crate::adapters::store::workspace as audit_files;
use crate::adapters::{files, git, oidc};
use crate::domain::audit_chain;
use crate::domain::audit_record::{self, AuditRecord, Bytes, LogLine};
use crate::domain::checksums;
use crate::domain::manifest::{self, Manifest, ManifestEntry, RunStatus};
use crate::domain::signing::{self, SigningMethod};
use crate::domain::statement::{self, BuildContext, StatementInput};
use crate::domain::subjects::{self, SelectError, Subject, SubjectPatterns};
use crate::domain::summary::{self, ProvenanceSummary};
use crate::domain::tag::{self, ResolvedTag, TagSource};
use crate::error::{Context, Failure, FailureReason, Result};
use crate::inputs::{AuditInputs, AuditStore, ProvenanceInputs, RawInputs};
use crate::modes::audit_trail::{self, StoreRequest};
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
    // The environment's `SLSA_PROVENANCE_*` knobs: a bad one fails before anything is signed.
    crate::adapters::github::knobs(env)?;
    let audit = AuditInputs::from_raw(raw)?;

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

    // 3. From here on the tag is known: every failure is recorded in the day's manifest.
    let day_dir = inputs
        .reports_dir
        .join(started_on.format("%Y-%m-%d").to_string());
    let owner = files::Owner::of(&env.workspace).ok();
    let new_run = |context: BuildContext| Run {
        env,
        inputs: &inputs,
        tag: &tag,
        context,
        day_dir: day_dir.clone(),
        started_on,
        owner,
        placed: None,
        placed_files: Vec::new(),
        audit: &audit,
    };
    let (method, context, id_token) = match set_up(&inputs, env, &tag, actions).await {
        Ok(s) => s,
        Err(failure) => {
            // No OIDC claims (or no signing method): the `GITHUB_*` variables still say which
            // run failed, which is all a failure entry needs.
            match fallback_context(env) {
                Ok(context) => new_run(context).fail(actions, &failure).await,
                Err(e) => actions.warning(&format!(
                    "could not record the failure in the manifest: {}",
                    e.message
                )),
            }
            return Err(failure);
        }
    };

    // 4. Produce the provenance.
    let mut run = new_run(context);
    match run.produce(actions, method, id_token).await {
        Ok(()) => Ok(()),
        Err(failure) => {
            run.fail(actions, &failure).await;
            Err(failure)
        }
    }
}

/// The tag's outputs, the signing method and the build facts (OIDC claims when the runner
/// offers a token, else `GITHUB_*`).
async fn set_up(
    inputs: &ProvenanceInputs,
    env: &RunEnv,
    tag: &ResolvedTag,
    actions: &mut Actions,
) -> Result<(SigningMethod, BuildContext, Option<Secret>)> {
    set(actions, "skipped", "false")?;
    set(actions, "tag", &tag.name)?;
    set(actions, "tag-source", tag.source.as_str())?;
    actions.info(&format!("Tag: {} (from {})", tag.name, tag.source));
    let method = signing::choose(
        inputs.sign,
        env.oidc.is_some(),
        inputs.signing_key.is_some(),
    )?;
    let (context, id_token) = build_context(env, actions).await?;
    Ok((method, context, id_token))
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
        let (policy, timeout) = crate::adapters::github::knobs(env)?;
        let token = oidc::request_token(req, "sigstore", &policy, timeout).await?;
        actions.mask(token.expose());
        let claims = oidc::decode_claims(&token)?;
        let ctx = BuildContext::from_claims(&claims, &env.server_url())
            .map_err(|e| Failure::new(FailureReason::OidcTokenFailed, e))?;
        actions.debug("build facts read from the OIDC token's claims");
        return Ok((ctx, Some(token)));
    }
    actions.debug("no OIDC token: build facts read from GITHUB_* variables");
    Ok((fallback_context(env)?, None))
}

/// The build facts from `GITHUB_*` (and git for the commit when `GITHUB_SHA` is unset).
fn fallback_context(env: &RunEnv) -> Result<BuildContext> {
    let sha = match env.get("GITHUB_SHA") {
        Some(s) => s.to_string(),
        None => git::head_commit(&env.workspace).ok_or_else(|| {
            Failure::new(
                FailureReason::MissingContext,
                "GITHUB_SHA is not set and the workspace has no git HEAD",
            )
        })?,
    };
    env.build_context(sha)
}

/// One run's state once tag and context are known.
struct Run<'a> {
    env: &'a RunEnv,
    inputs: &'a ProvenanceInputs,
    tag: &'a ResolvedTag,
    context: BuildContext,
    day_dir: PathBuf,
    started_on: DateTime<Utc>,
    /// Who gets what we create (see `files::Owner`); `None` if the workspace cannot be read.
    owner: Option<files::Owner>,
    /// The statement (and bundle) this run has moved into place: a failure after that point
    /// records their hashes, so the manifest keeps matching the files on disk.
    placed: Option<Placed>,
    /// The run folder's files as placed (workspace-relative to the day folder, bytes), for the
    /// audit store's commit: the manifest never names a file its commit lacks.
    placed_files: Vec<(String, Vec<u8>)>,
    audit: &'a AuditInputs,
}

/// What a run has put on disk in its run folder.
#[derive(Debug, Clone)]
struct Placed {
    provenance_rel: PathBuf,
    provenance_sha256: String,
    bundle_sha256: Option<String>,
    signer_identity: Option<String>,
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
        // 1. Refuse a day we cannot record before writing anything into it: a provenance file
        //    and log line without their manifest entry would be a hole in the audit trail.
        self.load_manifest()?;
        self.read_audit_text(&self.day_dir.join("PROVENANCE_SHA256.txt"))?;

        // 2. Subjects. None at all is a failure before anything is signed: a keyless
        //    signature of an empty statement would be a public log entry for nothing.
        let subjects = self.collect_subjects(actions)?;
        if subjects.is_empty() {
            return Err(Failure::new(
                FailureReason::MissingSubjects,
                "no subjects: every file 'subject-path' matched was excluded, or \
                 'subject-checksums' lists no file",
            ));
        }
        actions.info(&format!("Subjects: {}", subjects.len()));

        // 3. The statement, in memory.
        let tag_commit = git::tag_commit(&self.env.workspace, &self.tag.name);
        if let Some(tc) = tag_commit.as_deref().filter(|tc| *tc != self.context.sha) {
            actions.warning(&format!(
                "tag {} points at {tc}, but this run built {}; the provenance records both",
                self.tag.name, self.context.sha
            ));
        }
        let statement = statement::build_statement(&StatementInput {
            context: &self.context,
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

        // 4. Sign, and verify our own bundle, before anything is written.
        let signed = sign::sign(sign::SignRequest {
            method,
            inputs: self.inputs,
            env: self.env,
            context: &self.context,
            id_token,
            statement: &bytes,
            actions,
        })
        .await?;

        // 5. Statement and bundle into the run folder, together, only now; then the log line.
        let placed = self.place(&bytes, &sha, signed.as_ref())?;
        let mut written = vec![rel_string(&placed.provenance_rel)];
        if signed.is_some() {
            let rel = self.bundle_rel();
            written.push(rel_string(&rel));
            set(actions, "bundle-path", &rel_string(&rel))?;
        }
        let keep_audit = self.audit.store != AuditStore::None;
        if keep_audit {
            let log_rel = self.day_dir.join("PROVENANCE_SHA256.txt");
            let log_line_path = format!("provenance_run_{}/provenance.json", self.context.run_id);
            let existing = self.read_audit_text(&log_rel)?.unwrap_or_default();
            let log = manifest::upsert_sha256_line(&existing, &sha, &log_line_path);
            files::write_atomic(&self.ws(&log_rel), log.as_bytes(), self.owner).reason(
                FailureReason::WriteFailed,
                format!("writing {}", log_rel.display()),
            )?;
            written.push(rel_string(&log_rel));
        }

        // 6. Publish.
        let published = match &signed {
            Some(s) => Some(
                publish::publish(publish::PublishRequest {
                    inputs: self.inputs,
                    env: self.env,
                    context: &self.context,
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

        // 7. The manifest last: it points at everything above. Then the audit store (commit,
        //    queue, sink), which never fails the run.
        let base = self.entry(RunStatus::Success, FLAG_READY, None);
        let entry = ManifestEntry {
            subjects: Some(subjects.len()),
            artifact_url: published
                .as_ref()
                .and_then(|p| p.release_asset_url.clone().or(p.attestation_url.clone()))
                .or(base.artifact_url.clone()),
            ..base
        };
        if keep_audit {
            let manifest_rel = self.merge_manifest(entry.clone())?;
            written.push(rel_string(&manifest_rel));
            set(actions, "manifest-path", &rel_string(&manifest_rel))?;
        }
        self.store(actions, entry, self.placed_files.clone()).await;

        // 8. Outputs and summary.
        let prov_rel = placed.provenance_rel;
        set(actions, "provenance-path", &rel_string(&prov_rel))?;
        set(actions, "provenance-sha256", &sha)?;
        set(actions, "subjects", &subjects.len().to_string())?;

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

    fn bundle_rel(&self) -> PathBuf {
        self.run_dir().join("provenance.sigstore.json")
    }

    /// Put the statement and its bundle (signed and self-verified by now) into the run folder.
    ///
    /// Both are first written complete under temporary names (`.tmp-*`, cleaned up if this
    /// fails), then renamed over the previous attempt's files. An unsigned statement removes
    /// the previous attempt's bundle first: it signs another statement. So a failure before
    /// this point leaves the previous attempt's pair, and the manifest's hashes, untouched.
    fn place(
        &mut self,
        statement: &[u8],
        sha: &str,
        signed: Option<&sign::Signed>,
    ) -> Result<Placed> {
        let prov_rel = self.run_dir().join("provenance.json");
        let bundle_rel = self.bundle_rel();
        let write_failed = |rel: &Path| {
            let what = format!("writing {}", rel.display());
            move |e: std::io::Error| {
                Failure::new(FailureReason::WriteFailed, format!("{what}: {e}"))
            }
        };
        let staged_statement = files::stage(&self.ws(&prov_rel), statement, self.owner)
            .map_err(write_failed(&prov_rel))?;
        let staged_bundle = match signed {
            Some(s) => Some(
                files::stage(&self.ws(&bundle_rel), &s.bundle_json, self.owner)
                    .map_err(write_failed(&bundle_rel))?,
            ),
            None => None,
        };
        let placed = Placed {
            provenance_rel: prov_rel.clone(),
            provenance_sha256: sha.to_string(),
            bundle_sha256: signed.map(|s| files::sha256_bytes(&s.bundle_json)),
            signer_identity: signed.map(|s| s.facts.signer_identity.clone()),
        };
        match staged_bundle {
            Some(b) => b.commit().map_err(write_failed(&bundle_rel))?,
            None => files::remove_optional(&self.ws(&bundle_rel)).map_err(|e| {
                Failure::new(
                    FailureReason::WriteFailed,
                    format!(
                        "removing the previous attempt's {}: {e}",
                        bundle_rel.display()
                    ),
                )
            })?,
        }
        // From the first rename on, the files on disk are this run's: a failure from here is
        // recorded with their hashes.
        self.placed = Some(placed.clone());
        let run_folder = format!("provenance_run_{}", self.context.run_id);
        self.placed_files =
            std::iter::once((format!("{run_folder}/provenance.json"), statement.to_vec()))
                .chain(signed.map(|s| {
                    (
                        format!("{run_folder}/provenance.sigstore.json"),
                        s.bundle_json.clone(),
                    )
                }))
                .collect();
        staged_statement.commit().map_err(write_failed(&prov_rel))?;
        Ok(placed)
    }

    fn collect_subjects(&self, actions: &Actions) -> Result<Vec<Subject>> {
        collect_subjects(
            &self.env.workspace,
            &self.inputs.subject_patterns,
            self.inputs.subject_checksums.as_ref(),
            actions,
        )
    }

    /// This run's manifest entry, with the hashes of whatever it has placed on disk and its
    /// wall time so far (the entry is written right after).
    fn entry(&self, status: RunStatus, flag: &str, failure: Option<&Failure>) -> ManifestEntry {
        let c = &self.context;
        let placed = self.placed.as_ref();
        let duration_ms = u64::try_from((Utc::now() - self.started_on).num_milliseconds()).ok();
        let entry = ManifestEntry {
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
            provenance_path: placed.map(|p| rel_string(&p.provenance_rel)),
            provenance_sha256: placed.map(|p| p.provenance_sha256.clone()),
            subjects: None,
            bundle_sha256: placed.and_then(|p| p.bundle_sha256.clone()),
            signer_identity: placed.and_then(|p| p.signer_identity.clone()),
            duration_ms,
            validation_status: None,
            validated_at: None,
            notify_slack: None,
            slack_retry: None,
            issue_number: None,
            requeue: None,
            rerun_in_progress: None,
            rollback_of: None,
            prev_hash: None,
            entry_hash: None,
            extra: Default::default(),
        };
        match &self.audit.rollback_of {
            Some(rolled_back) => audit_record::as_rollback(entry, rolled_back),
            None => entry,
        }
    }

    /// An existing audit file's text. Bytes that are not UTF-8 are a corrupt file (refused);
    /// any other read error is `audit_file_unreadable`, never `write_failed`.
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
                    FailureReason::AuditFileUnreadable,
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
        // Re-sealing an edited file would launder the edit: refuse before writing anything.
        audit_chain::check_before_write(&current).map_err(|e| {
            Failure::new(
                FailureReason::ManifestTampered,
                format!(
                    "{} fails its hash chain ({e}); refusing to re-seal it (run verify-manifest)",
                    rel.display()
                ),
            )
        })?;
        Ok((rel, current))
    }

    /// Read, merge, write the day's manifest. An unreadable manifest is never overwritten.
    fn merge_manifest(&self, entry: ManifestEntry) -> Result<PathBuf> {
        let (rel, current) = self.load_manifest()?;
        let is_new = !self.ws(&rel).exists();
        let merged = manifest::merge(current, entry);
        let date = self.started_on.format("%Y-%m-%d").to_string();
        let previous = is_new
            .then(|| audit_files::previous_day(&self.ws(&self.inputs.reports_dir), &date))
            .flatten();
        let text =
            audit_record::render_checked(&audit_chain::seal(merged, previous)).map_err(|e| {
                Failure::new(
                    FailureReason::WriteFailed,
                    format!("{}: {e}", rel.display()),
                )
            })?;
        files::write_atomic(&self.ws(&rel), text.as_bytes(), self.owner).reason(
            FailureReason::WriteFailed,
            format!("writing {}", rel.display()),
        )?;
        Ok(rel)
    }

    /// A failed run: recorded in the workspace manifest, then handed to the audit store.
    async fn fail(&self, actions: &mut Actions, failure: &Failure) {
        self.record_failure(actions, failure);
        if !matches!(
            failure.reason,
            FailureReason::AuditFileCorrupt | FailureReason::ManifestTampered
        ) {
            let entry = self.entry(RunStatus::Failure, FLAG_MISSING, Some(failure));
            self.store(actions, entry, self.placed_files.clone()).await;
        }
    }

    /// Hand the run's record to the audit store (commit, queue, sink). Never fails the run.
    async fn store(
        &self,
        actions: &mut Actions,
        entry: ManifestEntry,
        run_files: Vec<(String, Vec<u8>)>,
    ) {
        let log_lines = run_files
            .iter()
            .filter(|(p, _)| p.ends_with("/provenance.json"))
            .map(|(p, b)| LogLine {
                sha256: files::sha256_bytes(b),
                path: p.clone(),
            })
            .collect();
        let record = AuditRecord {
            reports_dir: rel_string(&self.inputs.reports_dir),
            date: self.started_on.format("%Y-%m-%d").to_string(),
            entry,
            files: run_files.into_iter().map(|(p, b)| (p, Bytes(b))).collect(),
            log_lines,
        };
        let req = StoreRequest {
            env: self.env,
            inputs: self.audit,
            token: self.inputs.github_token.as_ref(),
            repository: &self.context.repository,
            record,
        };
        audit_trail::store_run(req, actions).await;
    }

    /// Best effort: a failure entry in the manifest. A corrupt or tampered manifest stays as
    /// it is; `audit-store: none` writes none.
    fn record_failure(&self, actions: &mut Actions, failure: &Failure) {
        if matches!(
            failure.reason,
            FailureReason::AuditFileCorrupt | FailureReason::ManifestTampered
        ) || self.audit.store == AuditStore::None
        {
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
        let patterns = SubjectPatterns::compile(subject_patterns, &ws_str).map_err(|e| {
            Failure::new(
                FailureReason::InvalidSubjectPath,
                format!("input 'subject-path': {e}"),
            )
        })?;
        let listed = files::list_files(workspace, &patterns.walk_roots())
            .reason(FailureReason::SubjectUnreadable, "listing the workspace")?;
        let selected = patterns.select(&listed).map_err(|e| match e {
            SelectError::Unmatched { pattern, .. } => Failure::new(
                FailureReason::SubjectPatternUnmatched,
                format!("subject-path pattern {pattern:?} matched no file in the workspace"),
            ),
        })?;
        // A name that is not UTF-8 is listed with U+FFFD for its bytes: it opens no file and
        // cannot be a subject's name (a JSON string). Said plainly, before anything is hashed.
        if let Some(p) = selected
            .iter()
            .find(|p| p.contains('\u{FFFD}') && !workspace.join(p).exists())
        {
            return Err(Failure::new(
                FailureReason::SubjectUnreadable,
                format!(
                    "subject file name {p} is not UTF-8 (\u{FFFD} stands for its bytes): a \
                     subject's name is text, rename the file"
                ),
            ));
        }
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
