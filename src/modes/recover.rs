//! `mode: recover`: heal a failed provenance run without anyone watching.
//!
//! Steps, in order (each named below): 1. lock (one recover acts per workspace at a time) ->
//! 2. claim: the guard (`domain::recover::claim`: already in progress, or the tag already
//! succeeded -> `skipped`) and the `rerun_in_progress` mark, as one conditional update of the
//! entry through the audit store -> 3. re-run the failed jobs, or dispatch the provenance
//! workflow when GitHub cannot re-run (or without `run-id`) -> 4. optionally follow the new
//! run; a second failure makes the entry `blocked` and opens the notify issue -> 5. release:
//! clear `rerun_in_progress` (always, also after a failure).
//!
//! Two recovers at once: only the one whose claim the store took acts.
//! - `audit-store: commit` (recovers on different runners): the claim is a commit on the audit
//!   branch by compare-and-swap; the guard is re-evaluated on the entry as read at the head on
//!   every attempt (`modes::entry_store::update_entry_if`), so the recover whose ref update
//!   loses re-reads the winner's mark and reports `skipped`. The branch's entry decides (the
//!   workspace copy may be stale). A claim the branch does not take (protected branch, 403, no
//!   token, retries exhausted, no entry there) is `claim_refused`: nothing acted, nothing written.
//! - `audit-store: workspace` (one runner): the lock file (`<reports-dir>/.recover.lock`,
//!   created with `O_EXCL`) makes the read-decide-write of the claim exclusive; a second
//!   recover in the workspace reports `skipped`.
//! - `audit-store: none`, or no `run-id`: nothing to claim; the guard reads the workspace.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::adapters::actions::Actions;
use crate::adapters::context::RunEnv;
use crate::adapters::github::runs::Dispatched;
use crate::adapters::github::{GitHub, GitHubConfig};
use crate::adapters::workspace_manifest;
use crate::domain::entry_update::Target;
use crate::domain::manifest::{FlagChange, ManifestEntry, RunStatus};
use crate::domain::notify::IssueOn;
use crate::domain::recover::{self, DispatchStep, Followed, Guard, Plan, RunFacts};
use crate::error::{Context, Failure, FailureReason, Result};
use crate::inputs::notify::{StatusInput, DEFAULT_ISSUE_LABELS};
use crate::inputs::{AuditStore, NotifyInputs, RawInputs, RecoverInputs};
use crate::modes::entry_store::{self, BranchWrite, Conditional, EntryRequest};

/// Test/tuning knob: how often a followed run is polled, in milliseconds (default 15000).
pub const ENV_POLL_MS: &str = "SLSA_PROVENANCE_POLL_MS";

/// The exclusive lock file; removed when dropped.
struct Lock(PathBuf);

impl Lock {
    fn take(dir: &Path) -> Result<Option<Self>> {
        std::fs::create_dir_all(dir).reason(
            FailureReason::WriteFailed,
            format!("creating {}", dir.display()),
        )?;
        let path = dir.join(".recover.lock");
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
        {
            Ok(_) => Ok(Some(Self(path))),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(None),
            Err(e) => Err(Failure::new(
                FailureReason::WriteFailed,
                format!("creating {}: {e}", path.display()),
            )),
        }
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn request<'a>(ctx: &Ctx<'a>, target: Target) -> EntryRequest<'a> {
    EntryRequest {
        env: ctx.env,
        inputs: &ctx.inputs.entry_store,
        token: ctx.inputs.github_token.as_ref(),
        reports_dir: &ctx.inputs.reports_dir,
        target,
        what: "recover",
    }
}

/// The one place this mode writes the audit trail after its claim: the run's entry, through
/// the audit store (`modes::entry_store`, the run record's compare-and-swap).
async fn record(
    ctx: &Ctx<'_>,
    update: &(dyn Fn(&mut ManifestEntry) + Sync),
    actions: &mut Actions,
) -> Result<()> {
    if let Some(target) = &ctx.target {
        entry_store::update_entry(&request(ctx, target.clone()), update, actions).await?;
    }
    Ok(())
}

/// What step 2 came to.
enum Claimed {
    /// Ours: act, then release.
    Acting,
    /// The guard declined (on the entry as the store read it): skip with the reason.
    Skip(String),
}

/// Step 2, the claim: the guard and the mark as one conditional update, which the `commit`
/// store re-evaluates on every compare-and-swap attempt. Without an entry to claim (no
/// `run-id`, `audit-store: none`, or no entry in the workspace store), the guard reads the
/// workspace's manifests.
async fn claim(ctx: &Ctx<'_>, actions: &mut Actions) -> Result<Claimed> {
    let reports = ctx.env.workspace.join(&ctx.inputs.reports_dir);
    let workspace_guard = || -> Result<Claimed> {
        let own = match ctx.inputs.run_id {
            Some(id) => workspace_manifest::find_run(&reports, id, Some(&ctx.tag))?,
            None => None,
        };
        let tag_entries = workspace_manifest::entries_for_tag(&reports, &ctx.tag)?;
        Ok(
            match recover::guard(own.as_ref().map(|l| &l.entry), &tag_entries, &ctx.tag) {
                Guard::Skip(why) => Claimed::Skip(why),
                Guard::Proceed => Claimed::Acting,
            },
        )
    };
    let store = ctx.inputs.entry_store.store;
    let Some(target) = ctx.target.clone().filter(|_| store != AuditStore::None) else {
        return workspace_guard();
    };
    let claim = |e: &mut ManifestEntry, trail: &[ManifestEntry]| recover::claim(e, trail);
    let req = request(ctx, target);
    match entry_store::update_entry_if(&req, &claim, BranchWrite::Required, actions).await? {
        Conditional::Applied(Some(_)) => Ok(Claimed::Acting),
        // The workspace store holds no entry of the run: nothing to mark.
        Conditional::Applied(None) => workspace_guard(),
        Conditional::Declined(why) => Ok(Claimed::Skip(why)),
        Conditional::NotCommitted(why) => Err(Failure::new(
            FailureReason::ClaimRefused,
            format!(
                "could not claim {} on the audit branch ({why}), so nothing was done: another recover could be acting. Give the job `contents: write` on an unprotected audit-branch, or recover by hand",
                req.target
            ),
        )),
    }
}

fn set(actions: &mut Actions, name: &str, value: &str) -> Result<()> {
    actions.set_output(name, value).reason(
        FailureReason::WriteFailed,
        format!("writing output '{name}'"),
    )
}

struct Ctx<'a> {
    inputs: &'a RecoverInputs,
    env: &'a RunEnv,
    repository: String,
    tag: String,
    /// The run's entry (with `run-id`): claimed, then updated and released.
    target: Option<Target>,
}

pub async fn run(raw: &RawInputs, env: &RunEnv, actions: &mut Actions) -> Result<()> {
    let inputs = RecoverInputs::from_raw(raw)?;
    let repository = env
        .get("GITHUB_REPOSITORY")
        .ok_or_else(|| {
            Failure::new(
                FailureReason::MissingContext,
                "GITHUB_REPOSITORY is not set",
            )
        })?
        .to_string();
    let reports = env.workspace.join(&inputs.reports_dir);

    // 1. Lock.
    let Some(_lock) = Lock::take(&reports)? else {
        return skip(
            actions,
            "another recover is acting in this workspace (.recover.lock)",
        );
    };

    // The chain check first: a tampered trail is never updated.
    entry_store::check_trail(env, &inputs.entry_store, &inputs.reports_dir)?;
    let located = match inputs.run_id {
        Some(id) => workspace_manifest::find_run(&reports, id, inputs.tag.as_deref())?,
        None => None,
    };
    let tag = inputs
        .tag
        .clone()
        .or_else(|| located.as_ref().map(|l| l.entry.tag.clone()))
        .ok_or_else(|| {
            Failure::new(
                FailureReason::MissingInput,
                "input 'tag' is required: the run has no manifest entry to read it from",
            )
        })?;
    let ctx = Ctx {
        inputs: &inputs,
        env,
        repository,
        target: inputs.run_id.map(|run_id| Target::Run {
            run_id,
            tag: Some(tag.clone()),
        }),
        tag,
    };

    // 2. Claim.
    if let Claimed::Skip(why) = claim(&ctx, actions).await? {
        return skip(actions, &why);
    }
    // 3-4. Act, 5. release whatever happened.
    let result = act(&ctx, actions).await;
    record(&ctx, &recover::release, actions).await?;
    result
}

fn skip(actions: &mut Actions, why: &str) -> Result<()> {
    actions.info(&format!("SKIP: {why}"));
    set(actions, "action", "skipped")?;
    set(actions, "new-run-id", "")?;
    set(actions, "run-url", "")?;
    let _ = actions.append_summary(&format!("## Recover: skipped\n\n{why}\n"));
    Ok(())
}

async fn act(ctx: &Ctx<'_>, actions: &mut Actions) -> Result<()> {
    let token = ctx.inputs.github_token.as_ref().ok_or_else(|| {
        Failure::new(
            FailureReason::MissingInput,
            "input 'github-token' is required for recover",
        )
    })?;
    let config = GitHubConfig::from_env(ctx.env)?;
    let server = ctx.env.server_url();
    let run_url = |id: u64| format!("{server}/{}/actions/runs/{id}", ctx.repository);

    // 3a. Re-run when there is a run and GitHub can re-run it.
    let (action, new_run) = {
        let log = |m: &str| actions.info(m);
        let gh = GitHub::new(&config, token, &log)?;
        let refusal = match ctx.inputs.run_id {
            None => None,
            Some(id) => match rerun(ctx, &gh, id).await? {
                Ok(()) => {
                    actions.info(&format!("Re-running the failed jobs of run {id}"));
                    None
                }
                Err(r) => Some(r),
            },
        };
        match (ctx.inputs.run_id, refusal) {
            (Some(id), None) => ("rerun", Some(id)),
            (_, refusal) => {
                if let Some(r) = refusal {
                    actions.info(&format!(
                        "{}: dispatching {} for {} instead",
                        r.explain(),
                        ctx.inputs.workflow,
                        ctx.tag
                    ));
                }
                // 3b. Dispatch (with the dispatch token when given).
                let dispatch_token = ctx.inputs.dispatch_token.as_ref().unwrap_or(token);
                let dgh = GitHub::new(&config, dispatch_token, &log)?;
                match dispatch(ctx, &dgh, &gh, &log).await {
                    Ok(id) => ("dispatch", id),
                    Err(DispatchError::TokenRejected(msg)) => {
                        drop((gh, dgh));
                        return token_rejected(ctx, actions, msg).await;
                    }
                    Err(DispatchError::Failed(f)) => return Err(f),
                }
            }
        }
    };
    set(
        actions,
        "new-run-id",
        &new_run.map(|n| n.to_string()).unwrap_or_default(),
    )?;
    set(
        actions,
        "run-url",
        &new_run.map(run_url).unwrap_or_default(),
    )?;

    // 4. Follow.
    let mut outcome = format!(
        "{action}: run {}",
        new_run
            .map(|n| n.to_string())
            .unwrap_or_else(|| "not identified".into())
    );
    if let (true, Some(id)) = (ctx.inputs.wait, new_run) {
        let log = |m: &str| actions.info(m);
        let gh = GitHub::new(&config, token, &log)?;
        match follow(ctx, &gh, id).await? {
            Followed::Succeeded => outcome.push_str(", succeeded"),
            Followed::StillRunning => {
                actions.warning(&format!(
                    "run {id} still running after {}s",
                    ctx.inputs.wait_timeout.as_secs()
                ));
                outcome.push_str(", still running at wait-timeout");
            }
            Followed::Blocked => {
                drop(gh);
                return blocked(ctx, actions, id).await;
            }
        }
    }
    set(actions, "action", action)?;
    let _ = actions.append_summary(&format!(
        "## Recover: {action}\n\n{outcome}\n{}",
        reason_line(ctx)
    ));
    Ok(())
}

fn reason_line(ctx: &Ctx<'_>) -> String {
    ctx.inputs
        .reason
        .as_ref()
        .map(|r| format!("\nReason given: {}\n", r.replace('\n', " ")))
        .unwrap_or_default()
}

/// 3a. `Ok(Err(refusal))` when GitHub cannot re-run and a dispatch should replace it.
async fn rerun(
    ctx: &Ctx<'_>,
    gh: &GitHub<'_>,
    id: u64,
) -> Result<std::result::Result<(), recover::Refusal>> {
    let fail = |e: String| Failure::new(FailureReason::GithubApiFailed, e);
    let run = gh
        .get_run(&ctx.repository, id)
        .await
        .map_err(|e| fail(format!("reading run {id}: {e}")))?
        .ok_or_else(|| {
            Failure::new(
                FailureReason::InvalidInput,
                format!("run {id} does not exist in {}", ctx.repository),
            )
        })?;
    let facts = RunFacts {
        status: run.status.clone().unwrap_or_default(),
        conclusion: run.conclusion.clone(),
        created_at: run.created_at,
        run_attempt: run.run_attempt.unwrap_or(1),
    };
    let refusal = match recover::plan(&facts, chrono::Utc::now()) {
        Plan::Refused(r) => r,
        Plan::Rerun => match gh
            .rerun_failed_jobs(&ctx.repository, id)
            .await
            .map_err(|e| fail(format!("re-running run {id}: {e}")))?
        {
            Ok(()) => return Ok(Ok(())),
            Err(refused) => recover::classify_refusal(refused.status, &refused.message)
                .ok_or_else(|| {
                    Failure::new(
                        FailureReason::RerunRefused,
                        format!(
                            "GitHub refused to re-run run {id}: HTTP {}: {}",
                            refused.status, refused.message
                        ),
                    )
                })?,
        },
    };
    if refusal.dispatch_instead() {
        Ok(Err(refusal))
    } else {
        Err(Failure::new(
            FailureReason::RerunRefused,
            format!("run {id}: {}", refusal.explain()),
        ))
    }
}

enum DispatchError {
    TokenRejected(String),
    Failed(Failure),
}

/// 3b. Dispatch with 422 retries; the new run's id from the answer or the runs list.
async fn dispatch(
    ctx: &Ctx<'_>,
    dgh: &GitHub<'_>,
    gh: &GitHub<'_>,
    log: &(dyn Fn(&str) + Sync),
) -> std::result::Result<Option<u64>, DispatchError> {
    let failed = |m: String| DispatchError::Failed(Failure::new(FailureReason::DispatchFailed, m));
    let git_ref = ctx.inputs.git_ref.clone().unwrap_or_else(|| {
        ctx.env
            .event
            .as_ref()
            .and_then(|e| e.pointer("/repository/default_branch"))
            .and_then(|v| v.as_str())
            .unwrap_or("main")
            .to_string()
    });
    let inputs = json!({"tag": ctx.tag});
    let max = ctx.inputs.max_attempts;
    let mut attempt = 0;
    let dispatched_at = chrono::Utc::now();
    let answer: Dispatched = loop {
        attempt += 1;
        let sent = dgh
            .dispatch_workflow(&ctx.repository, &ctx.inputs.workflow, &git_ref, &inputs)
            .await
            .map_err(|e| failed(format!("dispatching {}: {e}", ctx.inputs.workflow)))?;
        let (status, message) = match &sent {
            Ok(_) => (204, String::new()),
            Err(r) => (r.status, r.message.clone()),
        };
        match recover::dispatch_step(status, &message, attempt, max) {
            DispatchStep::Done => break sent.unwrap_or_default(),
            DispatchStep::RetryLater => {
                log(&format!(
                    "dispatch of {}: HTTP 422 ({message}); attempt {}/{max} in {}s",
                    ctx.inputs.workflow,
                    attempt + 1,
                    ctx.inputs.retry_interval.as_secs()
                ));
                tokio::time::sleep(ctx.inputs.retry_interval).await;
            }
            DispatchStep::TokenRejected => {
                return Err(DispatchError::TokenRejected(format!(
                    "HTTP {status}: {message}"
                )))
            }
            DispatchStep::Fail => {
                return Err(failed(format!(
                "dispatching {} for {} failed after {attempt} attempt(s): HTTP {status}: {message}",
                ctx.inputs.workflow, ctx.tag
            )))
            }
        }
    };
    if let Some(id) = answer.run_id {
        return Ok(Some(id));
    }
    // 204 (no run details): the newest dispatch run of the workflow since we sent.
    let runs = gh
        .list_dispatch_runs(&ctx.repository, &ctx.inputs.workflow)
        .await
        .map_err(|e| failed(format!("listing runs of {}: {e}", ctx.inputs.workflow)))?;
    Ok(recover::find_dispatched(
        &runs,
        dispatched_at,
        chrono::Duration::seconds(60),
        ctx.inputs.run_id,
    ))
}

/// 4. Poll until the run completes or `wait-timeout`.
async fn follow(ctx: &Ctx<'_>, gh: &GitHub<'_>, id: u64) -> Result<Followed> {
    let poll = ctx
        .env
        .get(ENV_POLL_MS)
        .and_then(|v| v.parse::<u64>().ok())
        .map(Duration::from_millis)
        .unwrap_or(Duration::from_secs(15));
    let started = Instant::now();
    loop {
        let run = gh.get_run(&ctx.repository, id).await.map_err(|e| {
            Failure::new(
                FailureReason::GithubApiFailed,
                format!("following run {id}: {e}"),
            )
        })?;
        let state = run
            .as_ref()
            .map(|r| recover::followed(r.status.as_deref().unwrap_or(""), r.conclusion.as_deref()))
            .unwrap_or(Followed::StillRunning);
        if state != Followed::StillRunning || started.elapsed() + poll > ctx.inputs.wait_timeout {
            return Ok(state);
        }
        tokio::time::sleep(poll).await;
    }
}

fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// The notify issue for this run (seed 002 §4: `ops-alert`, the rollback runbook).
async fn open_issue(ctx: &Ctx<'_>, actions: &mut Actions, run_id: u64, reason: String) {
    let server = ctx.env.server_url();
    let labels = ctx
        .inputs
        .issue_labels
        .as_deref()
        .unwrap_or(DEFAULT_ISSUE_LABELS);
    let n = NotifyInputs {
        status: StatusInput::Failure,
        run_id: Some(run_id),
        tag: Some(ctx.tag.clone()),
        artifact_url: None,
        failure_reason: Some(reason),
        issue_on: IssueOn::Always,
        issue_labels: labels
            .split(',')
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(String::from)
            .chain(["ops-alert".to_string()])
            .collect(),
        slack_webhook_url: None,
        slack_token: None,
        slack_channel: None,
        notify_webhook_url: None,
        runbook_url: Some(ctx.inputs.runbook_url.clone().unwrap_or_else(|| {
            format!(
                "{server}/{}/blob/HEAD/docs/ops/failure-recovery.md#rollback",
                ctx.repository
            )
        })),
        github_token: ctx.inputs.github_token.clone(),
        reports_dir: ctx.inputs.reports_dir.clone(),
        entry_store: ctx.inputs.entry_store.clone(),
    };
    if let Err(e) = crate::modes::notify::run_with(&n, ctx.env, actions).await {
        actions.warning(&format!("opening the issue: {}", e.message));
    }
}

async fn token_rejected(ctx: &Ctx<'_>, actions: &mut Actions, msg: String) -> Result<()> {
    let flag = recover::FLAG_TOKEN_EXPIRED.to_string();
    let at = now_rfc3339();
    let flag_it = |e: &mut ManifestEntry| {
        if e.governance_flag != flag {
            e.governance_flag_history.push(FlagChange {
                flag: flag.clone(),
                timestamp: at.clone(),
            });
            e.governance_flag = flag.clone();
        }
    };
    record(ctx, &flag_it, actions).await?;
    set(actions, "action", "dispatch")?;
    let issue_run = ctx.inputs.run_id.unwrap_or_else(|| {
        ctx.env
            .get("GITHUB_RUN_ID")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    });
    open_issue(
        ctx,
        actions,
        issue_run,
        format!("dispatch_token_rejected: GitHub rejected the dispatch token ({msg})"),
    )
    .await;
    Err(Failure::new(
        FailureReason::DispatchTokenRejected,
        format!("GitHub rejected the dispatch token ({msg}): renew 'dispatch-token'; the entry is flagged {}", recover::FLAG_TOKEN_EXPIRED),
    ))
}

async fn blocked(ctx: &Ctx<'_>, actions: &mut Actions, new_run: u64) -> Result<()> {
    let block = |e: &mut ManifestEntry| {
        e.status = RunStatus::Blocked;
        e.failure_reason = Some("recovery_blocked".into());
    };
    record(ctx, &block, actions).await?;
    set(actions, "action", "blocked")?;
    let run = ctx.inputs.run_id.unwrap_or(new_run);
    open_issue(
        ctx,
        actions,
        run,
        format!("recovery_blocked: the recovered run {new_run} failed again"),
    )
    .await;
    let _ = actions.append_summary(&format!("## Recover: blocked\n\nThe recovered run {new_run} failed again; the entry is `blocked`.\n"));
    Err(Failure::new(
        FailureReason::RecoveryBlocked,
        format!("the recovered run {new_run} failed again: entry blocked, see the issue and the rollback runbook"),
    ))
}
