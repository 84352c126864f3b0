//! `mode: report`: the KPI dashboard, the weekly metrics and the badges.
//!
//! Gather (the workspace's day manifests; other repositories through the Git Database API;
//! or Supabase's `slsa_runs`) -> check integrity (`domain::kpi::check_integrity`, one call,
//! which ends with the audit chain check `audit_chain::verify_days`) ->
//! decide (`domain::kpi::build`) -> render (`domain::render`) -> write the three files to the
//! workspace (`write_files`) -> with `audit-store: commit`, the same three files on the audit
//! branch in one commit, or none when unchanged (`report/commit.rs`; a refusal is a warning) ->
//! outputs and the step summary (the dashboard itself).
//!
//! One repository whose history fails the integrity check stops the run before anything is
//! written (`manifest_tampered`). In an organisation report, a tampered repository is listed
//! as such, the dashboard is written, and the run then fails with `manifest_tampered`; a
//! repository the token cannot read is only listed.

use std::path::Path;

use chrono::{DateTime, Utc};
use rayon::prelude::*;

use crate::adapters::actions::Actions;
use crate::adapters::context::RunEnv;
use crate::adapters::files;
use crate::adapters::reports;
use crate::domain::kpi::{self, DayManifest, RepoHistory, Report};
use crate::domain::render::{badge, dashboard};
use crate::error::{Context, Failure, FailureReason, Result};
use crate::inputs::{RawInputs, ReportInputs, ReportSource, Repositories};

mod commit;
mod org;
mod supabase;

pub async fn run(
    raw: &RawInputs,
    env: &RunEnv,
    actions: &mut Actions,
    now: DateTime<Utc>,
) -> Result<()> {
    let inputs = ReportInputs::from_raw(raw)?;
    let loaded = super::policy::load(&inputs.policy, &env.workspace)?;
    let store = commit::prepare(&inputs, env, actions)?;

    // 1. Gather every repository's history.
    let histories = match (&inputs.source, &inputs.repositories) {
        (ReportSource::Manifest, Repositories::Workspace) => {
            vec![workspace_history(&inputs, env)?]
        }
        (ReportSource::Manifest, Repositories::Listed { repos, owners }) => {
            org::histories(&inputs, env, actions, repos, owners).await?
        }
        (ReportSource::Supabase { url, key }, repositories) => {
            supabase::histories(env, url, key, repositories).await?
        }
    };

    // 2. One repository: nothing is written from a history that fails the integrity check.
    if let [RepoHistory { days: Ok(days), .. }] = histories.as_slice() {
        if inputs.repositories == Repositories::Workspace {
            kpi::check_integrity(days).map_err(|t| tampered(&[("", &t)]))?;
        }
    }

    // 3. Decide and render.
    let targets = super::policy::report_targets(loaded.as_ref(), actions);
    let report = kpi::build(&histories, now, &targets);
    let ctx = dashboard::Context {
        server_url: env.server_url(),
        source: match inputs.source {
            ReportSource::Manifest => "manifest".into(),
            ReportSource::Supabase { .. } => "supabase".into(),
        },
    };
    let markdown = dashboard::render(&report, &ctx);
    let b = badge::badge(&report.totals, &report.targets, &inputs.badge_label);
    let outputs = [
        (&inputs.dashboard_path, markdown.clone()),
        (&inputs.badge_json_path, badge::endpoint_json(&b)),
        (&inputs.badge_svg_path, badge::svg(&b)),
    ];

    // 4. Write: the workspace (later steps of the job read the files), then the audit branch.
    write_files(&env.workspace, &outputs)?;
    if let Some(plan) = store {
        commit::commit_files(plan, &inputs, env, actions, &outputs, &report.totals).await;
    }

    // 5. Outputs and the step summary.
    set_outputs(actions, &inputs, &report)?;
    for row in &report.repos {
        if let kpi::RepoState::Unreadable(why) = &row.state {
            actions.warning(&format!("{}: not read: {why}", row.repo));
        }
    }
    let _ = actions.append_summary(&markdown);
    actions.info(&format!(
        "report: {} runs, {} failures, badge '{}' -> {}",
        report.totals.runs,
        report.totals.failures,
        b.message,
        inputs.dashboard_path.display()
    ));

    // 6. An organisation report with a tampered repository fails after writing the dashboard.
    let bad = report.tampered();
    if !bad.is_empty() {
        return Err(tampered(&bad));
    }
    Ok(())
}

fn tampered(bad: &[(&str, &kpi::Tampered)]) -> Failure {
    let list: Vec<String> = bad
        .iter()
        .map(|(repo, t)| {
            if repo.is_empty() {
                t.to_string()
            } else {
                format!("{repo}: {t}")
            }
        })
        .collect();
    Failure::new(
        FailureReason::ManifestTampered,
        format!(
            "the audit trail fails its integrity check (edited by hand or tampered with): {}",
            list.join("; ")
        ),
    )
}

/// This workspace's `reports-dir`, read and parsed in parallel.
fn workspace_history(inputs: &ReportInputs, env: &RunEnv) -> Result<RepoHistory> {
    let dir = env.workspace.join(&inputs.reports_dir);
    let texts = reports::read_days(&dir).reason(
        FailureReason::AuditFileCorrupt,
        format!(
            "reading the day manifests under {}",
            inputs.reports_dir.display()
        ),
    )?;
    let days: Vec<DayManifest> = texts
        .into_par_iter()
        .map(|(day, bytes)| DayManifest::from_bytes(day, bytes))
        .collect();
    Ok(RepoHistory {
        repo: env
            .get("GITHUB_REPOSITORY")
            .unwrap_or("this repository")
            .to_string(),
        days: Ok(days),
    })
}

/// The report's files in the workspace, each written atomically (whatever `audit-store` says:
/// later steps of the job read them, and a refused commit loses nothing).
fn write_files(workspace: &Path, outputs: &[(&std::path::PathBuf, String)]) -> Result<()> {
    for (rel, text) in outputs {
        files::write_atomic(
            &workspace.join(rel),
            text.as_bytes(),
            files::Owner::of(workspace).ok(),
        )
        .reason(
            FailureReason::WriteFailed,
            format!("writing {}", rel.display()),
        )?;
    }
    Ok(())
}

fn set_outputs(actions: &mut Actions, inputs: &ReportInputs, r: &Report) -> Result<()> {
    let k = &r.totals;
    let pairs = [
        (
            "success-rate",
            k.success_rate
                .value()
                .map(|v| format!("{:.1}", v * 100.0))
                .unwrap_or_default(),
        ),
        (
            "p95-duration-ms",
            k.p95_duration_ms.map(|v| v.to_string()).unwrap_or_default(),
        ),
        ("runs", k.runs.to_string()),
        ("failures", k.failures.to_string()),
        (
            "badge-path",
            inputs.badge_json_path.to_string_lossy().into_owned(),
        ),
        (
            "dashboard-path",
            inputs.dashboard_path.to_string_lossy().into_owned(),
        ),
    ];
    for (name, value) in pairs {
        actions
            .set_output(name, &value)
            .reason(FailureReason::WriteFailed, format!("setting output {name}"))?;
    }
    Ok(())
}
