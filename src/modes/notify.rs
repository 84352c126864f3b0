//! `mode: notify`: tell a human about a run, exactly once.
//!
//! Gather (inputs, the run's manifest entry) -> deliver to each configured chat channel
//! (`adapters::slack`) -> decide whether an issue is needed and which (`domain::notify`) ->
//! apply it (`adapters::github::issues`) -> record `notify_slack`, `slack_retry`,
//! `issue_number` in the entry ([`record`]) -> outputs and summary. Fails with
//! `notify_failed` only when the notice reached nobody, naming every cause.

use crate::adapters::actions::Actions;
use crate::adapters::context::RunEnv;
use crate::adapters::github::{GitHub, GitHubConfig};
use crate::adapters::slack::{self, Slack, Target};
use crate::adapters::workspace_manifest::{self, Located};
use crate::domain::manifest::{ManifestEntry, RunStatus};
use crate::domain::notify::{
    self, Delivery, IssuePlan, Marker, Notice, NotifyStatus, SlackOutcome,
};
use crate::error::{Context, Failure, FailureReason, Result};
use crate::inputs::notify::StatusInput;
use crate::inputs::{NotifyInputs, RawInputs};
use crate::modes::entry_store::{self, EntryRequest};

/// What the issue step achieved.
#[derive(Debug, Default)]
struct IssueResult {
    number: Option<u64>,
    url: Option<String>,
    /// An issue was created or commented for this notice.
    done: bool,
    error: Option<String>,
}

/// The manifest fields this mode owns.
#[derive(Debug, Clone, Copy)]
pub struct EntryUpdate {
    pub notify_slack: bool,
    pub slack_retry: Option<u32>,
    pub issue_number: Option<u64>,
}

/// The one place this mode writes the audit trail: the run's entry, through the audit store
/// (`modes::entry_store`, the run record's compare-and-swap). `false`: no entry was updated.
async fn record(
    inputs: &NotifyInputs,
    env: &RunEnv,
    located: &Located,
    update: EntryUpdate,
    actions: &mut Actions,
) -> Result<bool> {
    let req = EntryRequest {
        env,
        inputs: &inputs.entry_store,
        token: inputs.github_token.as_ref(),
        reports_dir: &inputs.reports_dir,
        target: crate::domain::entry_update::Target::Run {
            run_id: located.entry.run_id,
            tag: Some(located.entry.tag.clone()),
        },
        what: "notify",
    };
    let apply = move |e: &mut ManifestEntry| {
        e.notify_slack = Some(update.notify_slack);
        if update.slack_retry.is_some() {
            e.slack_retry = update.slack_retry;
        }
        if update.issue_number.is_some() {
            e.issue_number = update.issue_number;
        }
    };
    Ok(entry_store::update_entry(&req, &apply, actions)
        .await?
        .is_some())
}

pub async fn run(raw: &RawInputs, env: &RunEnv, actions: &mut Actions) -> Result<()> {
    let inputs = NotifyInputs::from_raw(raw)?;
    run_with(&inputs, env, actions).await
}

/// The whole mode from typed inputs (`mode: recover` calls it to open its issue).
pub async fn run_with(inputs: &NotifyInputs, env: &RunEnv, actions: &mut Actions) -> Result<()> {
    // Every secret input was masked when the inputs were read (`lib::run`).
    let repository = env
        .get("GITHUB_REPOSITORY")
        .ok_or_else(|| {
            Failure::new(
                FailureReason::MissingContext,
                "GITHUB_REPOSITORY is not set",
            )
        })?
        .to_string();
    let run_id = match inputs.run_id {
        Some(id) => id,
        None => env
            .get("GITHUB_RUN_ID")
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| {
                Failure::new(
                    FailureReason::MissingContext,
                    "no 'run-id' input and GITHUB_RUN_ID is not a run id",
                )
            })?,
    };
    let reports = env.workspace.join(&inputs.reports_dir);

    // 1. The trail's chain check (a tampered trail is never updated), then the run's entry
    // (status, tag, artifact, reason when the inputs leave them out).
    entry_store::check_trail(env, &inputs.entry_store, &inputs.reports_dir)?;
    let located = workspace_manifest::find_run(&reports, run_id, inputs.tag.as_deref())?;
    let notice = build_notice(inputs, env, &repository, run_id, located.as_ref())?;
    actions.info(&format!(
        "Notify: {} for {} (run {run_id})",
        notice.status.as_str(),
        notice.tag
    ));

    // 2. Chat channels.
    let config = GitHubConfig::from_env(env)?;
    let (delivery, configured) = deliver(inputs, env, &notice, &config, actions).await?;

    // 3. Issue.
    let wanted = notify::needs_issue(notice.status, inputs.issue_on, &delivery);
    let issue = issue_step(
        inputs,
        env,
        &notice,
        &config,
        wanted,
        located.as_ref(),
        actions,
    )
    .await;
    if let Some(e) = &issue.error {
        actions.warning(&format!("GitHub issue: {e}"));
    }

    // 4. Record, outputs, summary.
    if let Some(l) = &located {
        let update = EntryUpdate {
            notify_slack: delivery.any(),
            slack_retry: delivery.webhook_not_delivered.then_some(1),
            issue_number: issue
                .number
                .filter(|_| notice.status == NotifyStatus::Failure),
        };
        if !record(inputs, env, l, update, actions).await? {
            actions.warning("the run's manifest entry disappeared before it could be updated");
        }
    } else {
        actions.info(&format!(
            "No manifest entry for run {run_id} under {}: nothing recorded",
            inputs.reports_dir.display()
        ));
    }
    let channel = notify::channel_output(&delivery, issue.done);
    set(
        actions,
        "slack-delivered",
        if delivery.any() { "true" } else { "false" },
    )?;
    set(
        actions,
        "issue-number",
        &issue.number.map(|n| n.to_string()).unwrap_or_default(),
    )?;
    set(actions, "issue-url", issue.url.as_deref().unwrap_or(""))?;
    set(actions, "channel", channel)?;
    let _ = actions.append_summary(&summary(&notice, &delivery, &issue, channel));

    if notify::reached_nobody(
        notice.status,
        configured,
        inputs.issue_on,
        &delivery,
        issue.done,
    ) {
        let mut causes = delivery.failures.clone();
        if configured == 0 {
            causes.push("no chat channel configured".into());
        }
        causes.push(match (&issue.error, inputs.issue_on) {
            (Some(e), _) => format!("issue: {e}"),
            (None, notify::IssueOn::Never) => "issue: not opened ('issue-on: never')".into(),
            (None, _) => "issue: not opened".into(),
        });
        return Err(Failure::new(
            FailureReason::NotifyFailed,
            format!(
                "the notice for run {run_id} reached nobody: {}",
                causes.join("; ")
            ),
        ));
    }
    Ok(())
}

fn set(actions: &mut Actions, name: &str, value: &str) -> Result<()> {
    actions.set_output(name, value).reason(
        FailureReason::WriteFailed,
        format!("writing output '{name}'"),
    )
}

fn build_notice(
    inputs: &NotifyInputs,
    env: &RunEnv,
    repository: &str,
    run_id: u64,
    located: Option<&Located>,
) -> Result<Notice> {
    let entry: Option<&ManifestEntry> = located.map(|l| &l.entry);
    let status = match inputs.status {
        StatusInput::Success => NotifyStatus::Success,
        StatusInput::Failure => NotifyStatus::Failure,
        StatusInput::Auto => match entry.map(|e| &e.status) {
            Some(RunStatus::Success) => NotifyStatus::Success,
            Some(_) => NotifyStatus::Failure,
            None => {
                return Err(Failure::new(
                    FailureReason::InvalidInput,
                    format!(
                    "'status: auto' reads the manifest entry of run {run_id}, and there is none \
                         under {}; set 'status' to success or failure",
                    inputs.reports_dir.display()
                ),
                ))
            }
        },
    };
    let tag = inputs
        .tag
        .clone()
        .or_else(|| entry.map(|e| e.tag.clone()))
        .ok_or_else(|| {
            Failure::new(
                FailureReason::MissingInput,
                format!(
                    "input 'tag' is required: run {run_id} has no manifest entry to read it from"
                ),
            )
        })?;
    let server = env.server_url();
    Ok(Notice {
        status,
        repository: repository.to_string(),
        tag,
        run_id,
        run_url: format!("{server}/{repository}/actions/runs/{run_id}"),
        artifact_url: inputs
            .artifact_url
            .clone()
            .or_else(|| entry.and_then(|e| e.artifact_url.clone())),
        failure_reason: inputs
            .failure_reason
            .clone()
            .or_else(|| entry.and_then(|e| e.failure_reason.clone())),
        manifest_entry: entry.and_then(|e| serde_json::to_string_pretty(e).ok()),
        runbook_url: inputs.runbook_url.clone().unwrap_or_else(|| {
            format!("{server}/{repository}/blob/HEAD/docs/ops/failure-recovery.md")
        }),
    })
}

/// Send to every configured chat channel; returns what happened and how many were configured.
async fn deliver(
    inputs: &NotifyInputs,
    env: &RunEnv,
    notice: &Notice,
    config: &GitHubConfig,
    actions: &Actions,
) -> Result<(Delivery, usize)> {
    let log = |m: &str| actions.info(m);
    let client = Slack::new(config.timeout, config.policy.clone(), &log)
        .map_err(|e| Failure::new(FailureReason::NotifyFailed, e))?;
    let api_url = env
        .get(slack::ENV_SLACK_API_URL)
        .unwrap_or(slack::DEFAULT_SLACK_API_URL)
        .to_string();
    // The bot token travels to it: TLS unless loopback, like every token URL.
    let parsed = url::Url::parse(&api_url).map_err(|e| {
        Failure::new(
            FailureReason::InvalidInput,
            format!("{} is not a URL ({e})", slack::ENV_SLACK_API_URL),
        )
    })?;
    crate::domain::transport::check_token_url(&parsed).map_err(|why| {
        Failure::new(
            FailureReason::InvalidInput,
            format!(
                "{} {why}, got {}",
                slack::ENV_SLACK_API_URL,
                crate::domain::transport::shown(&parsed)
            ),
        )
    })?;
    let mut targets = Vec::new();
    if let Some(u) = &inputs.slack_webhook_url {
        targets.push(Target::IncomingWebhook(u));
    }
    if let (Some(token), Some(channel)) = (&inputs.slack_token, &inputs.slack_channel) {
        targets.push(Target::PostMessage {
            api_url: &api_url,
            token,
            channel,
        });
    }
    if let Some(u) = &inputs.notify_webhook_url {
        targets.push(Target::NotifyWebhook(u));
    }
    let message = notify::slack_message(notice);
    let hook_payload = notify::webhook_payload(notice);
    let mut d = Delivery::default();
    for t in &targets {
        let payload = match t {
            Target::NotifyWebhook(_) => &hook_payload,
            _ => &message,
        };
        let (outcome, attempts) = client.deliver(t, payload).await;
        let is_hook = matches!(t, Target::NotifyWebhook(_));
        let line = match &outcome {
            SlackOutcome::Delivered => {
                if is_hook {
                    d.webhook = true;
                } else {
                    d.slack = true;
                }
                actions.info(&format!("{}: delivered", t.label()));
                continue;
            }
            SlackOutcome::NotDelivered => {
                d.webhook_not_delivered = true;
                format!("{}: answered delivered=false", t.label())
            }
            SlackOutcome::Permanent { error } => {
                format!("{}: {error} ({})", t.label(), notify::explain(error))
            }
            SlackOutcome::RateLimited { .. } => {
                format!(
                    "{}: still rate limited after {attempts} attempts",
                    t.label()
                )
            }
            SlackOutcome::Transient { detail } => {
                format!("{}: {detail} after {attempts} attempts", t.label())
            }
        };
        actions.warning(&line);
        d.failures.push(line);
    }
    Ok((d, targets.len()))
}

async fn issue_step(
    inputs: &NotifyInputs,
    env: &RunEnv,
    notice: &Notice,
    config: &GitHubConfig,
    wanted: bool,
    located: Option<&Located>,
    actions: &Actions,
) -> IssueResult {
    // A success without `issue-on: always` only closes issues: worth a look when we can.
    if !notify::looks_at_issues(notice.status, inputs.issue_on, wanted) {
        return IssueResult::default();
    }
    let Some(token) = &inputs.github_token else {
        return IssueResult {
            error: wanted.then(|| "no 'github-token' to open an issue with".to_string()),
            ..IssueResult::default()
        };
    };
    let log = |m: &str| actions.info(m);
    let gh = match GitHub::new(config, token, &log) {
        Ok(gh) => gh,
        Err(e) => {
            return IssueResult {
                error: Some(e.message),
                ..IssueResult::default()
            }
        }
    };
    let repo = &notice.repository;
    let marker = Marker {
        repository: repo.clone(),
        tag: notice.tag.clone(),
        run_id: notice.run_id,
    };
    let labels = notify::labels(
        &inputs.issue_labels,
        notice.status,
        notice.failure_reason.as_deref(),
    );
    let issues_url = |n: u64| format!("{}/{repo}/issues/{n}", env.server_url());
    let result: std::result::Result<IssueResult, String> = async {
        let open = gh
            .list_open_issues(repo, &inputs.issue_labels[0])
            .await
            .map_err(|e| format!("listing issues: {e}"))?;
        let manifest_issue = located.and_then(|l| l.entry.issue_number);
        match notify::plan_issue(&marker, notice.status, wanted, &open, manifest_issue) {
            IssuePlan::Nothing => Ok(IssueResult::default()),
            IssuePlan::Create => {
                let i = gh
                    .create_issue(
                        repo,
                        &notify::issue_title(notice),
                        &notify::issue_body(notice),
                        &labels,
                        &marker,
                    )
                    .await
                    .map_err(|e| format!("creating the issue: {e}"))?;
                actions.info(&format!("Opened issue #{}", i.number));
                Ok(IssueResult {
                    number: Some(i.number),
                    url: Some(if i.html_url.is_empty() {
                        issues_url(i.number)
                    } else {
                        i.html_url
                    }),
                    done: true,
                    error: None,
                })
            }
            IssuePlan::Comment(n) => {
                gh.comment_issue(repo, n, &notify::repeat_comment(notice))
                    .await
                    .map_err(|e| format!("commenting on issue #{n}: {e}"))?;
                actions.info(&format!(
                    "Issue #{n} already exists for this run: commented"
                ));
                Ok(IssueResult {
                    number: Some(n),
                    url: Some(issues_url(n)),
                    done: true,
                    error: None,
                })
            }
            IssuePlan::Resolve(numbers) => {
                for n in &numbers {
                    gh.comment_issue(repo, *n, &notify::resolved_comment(notice))
                        .await
                        .map_err(|e| format!("commenting on issue #{n}: {e}"))?;
                    gh.close_issue(repo, *n)
                        .await
                        .map_err(|e| format!("closing issue #{n}: {e}"))?;
                    actions.info(&format!("Closed issue #{n}: this run succeeded"));
                }
                let first = numbers.first().copied();
                Ok(IssueResult {
                    number: first,
                    url: first.map(issues_url),
                    done: true,
                    error: None,
                })
            }
        }
    }
    .await;
    result.unwrap_or_else(|e| IssueResult {
        error: Some(e),
        ..IssueResult::default()
    })
}

fn summary(n: &Notice, d: &Delivery, issue: &IssueResult, channel: &str) -> String {
    let mut o = format!(
        "## Notify: {} for `{}` (run {})\n\n- channel: `{channel}`\n",
        n.status.as_str(),
        n.tag.replace('`', "'"),
        n.run_id
    );
    for f in &d.failures {
        o.push_str(&format!("- not delivered: {}\n", f.replace('\n', " ")));
    }
    if let (Some(num), Some(url)) = (issue.number, &issue.url) {
        o.push_str(&format!("- issue: [#{num}]({url})\n"));
    }
    if let Some(e) = &issue.error {
        o.push_str(&format!("- issue not opened: {}\n", e.replace('\n', " ")));
    }
    o
}
