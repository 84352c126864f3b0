//! Two recovers of one run on different runners (`audit-store: commit`): exactly one acts, by
//! the audit store's compare-and-swap (issue 10). One stateful fake GitHub: the Git Database
//! API of `audit_store::FakeGit` (a real compare-and-swap on the ref) and the runs API of
//! `recover`, served to each process by its own twin server on 127.0.0.1 so the fake can hold
//! one process's requests without stalling the other. The race is forced, not hoped for: the
//! first ref read of each process is held until both have read (both see "not in progress"),
//! and the winner's re-run request is held until the loser has re-read the head after its
//! refused ref update.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::{json, Value};
use wiremock::matchers::{method, path_regex};
use wiremock::{Mock, Request, Respond, ResponseTemplate};

use crate::audit_store::{manifest_at, verify_files, FakeGit, RefGate, SHA, TOKEN};
use crate::common::{Outcome, Runner, Workspace};
use crate::recover::{failed_run, Router as RunsApi, State, RUN, TAG};

const DAY: &str = "2026-11-21";

fn day_path() -> String {
    format!("docs/reports/{DAY}/manifest.json")
}

/// One sealed day holding the failed run's entry (`rerun_in_progress` when `marked`).
fn sealed_day(marked: bool) -> String {
    use slsa_provenance_action::domain::audit_chain::seal;
    use slsa_provenance_action::domain::manifest::Manifest;
    let mut entry = json!({
        "run_id": RUN, "tag": TAG, "sha": SHA, "artifact_url": null, "actor": "octocat",
        "timestamp": format!("{DAY}T10:00:00Z"), "status": "failure",
        "governance_flag": "provenance-missing", "failure_reason": "signing_failed"
    });
    if marked {
        entry["rerun_in_progress"] = json!(true);
    }
    let m = Manifest::parse(&json!({"schema_version": 2, "entries": [entry]}).to_string())
        .expect("manifest");
    seal(m, None).render()
}

/// The audit branch holds `branch_day`; a runner's workspace is a checkout of `workspace_day`.
async fn repository(branch_day: &str) -> (FakeGit, Arc<std::sync::Mutex<State>>) {
    let fake = FakeGit::start().await;
    fake.git().commit_on_main(
        BTreeMap::from([(day_path(), branch_day.as_bytes().to_vec())]),
        "provenance: v1.0.0 run failure",
    );
    (fake, failed_run(1, 1))
}

fn checkout(workspace_day: &str) -> Workspace {
    let ws = Workspace::new();
    ws.write(&day_path(), workspace_day);
    ws
}

/// Serve the runs API on `server` next to its Git Database API; the re-run request answers
/// only once `gate` counted `rerun_after_reads` ref reads (0: at once).
async fn serve_runs(
    server: &FakeGit,
    state: &Arc<std::sync::Mutex<State>>,
    gate: Option<(Arc<RefGate>, usize)>,
) {
    Mock::given(method("POST"))
        .and(path_regex(r"/actions/runs/\d+/rerun-failed-jobs$"))
        .respond_with(HeldRerun {
            runs: RunsApi(state.clone()),
            gate,
        })
        .with_priority(1)
        .mount(server.server())
        .await;
    Mock::given(path_regex(r"^/api/v3/repos/octo/app/(actions|issues)"))
        .respond_with(RunsApi(state.clone()))
        .with_priority(2)
        .mount(server.server())
        .await;
}

struct HeldRerun {
    runs: RunsApi,
    gate: Option<(Arc<RefGate>, usize)>,
}

impl Respond for HeldRerun {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        if let Some((gate, reads)) = &self.gate {
            gate.wait_for_reads(*reads);
        }
        self.runs.respond(req)
    }
}

fn recover(ws: &Workspace, api: &FakeGit) -> Runner {
    ws.runner()
        .input("mode", "recover")
        .input("run-id", RUN.to_string())
        .input("tag", TAG)
        .input("github-token", TOKEN)
        .input("audit-store", "commit")
        .env("GITHUB_API_URL", api.api_url())
        .env("SLSA_PROVENANCE_RETRY_BASE_MS", "1")
        .env("SLSA_PROVENANCE_HTTP_TIMEOUT_MS", "90000")
        .env("SLSA_PROVENANCE_POLL_MS", "10")
}

fn entry_on_main(fake: &FakeGit) -> Value {
    manifest_at(&fake.git().files("main"))["entries"][0].clone()
}

fn recover_commits(fake: &FakeGit) -> Vec<String> {
    fake.git()
        .history("main")
        .into_iter()
        .map(|(_, m)| m)
        .filter(|m| m.starts_with("recover:"))
        .collect()
}

#[tokio::test]
async fn two_recovers_on_different_runners_at_once_exactly_one_acts_by_the_branch_compare_and_swap()
{
    // security-ci and a manual recover start together on two runners; both read the entry as
    // "not in progress" before either writes. Only the one whose claim commit lands acts.
    let day = sealed_day(false);
    let (fake, runs) = repository(&day).await;
    let gate = RefGate::new(2);
    // Ref reads: 1-2 the two claims' reads (held together), 3 the loser's re-read.
    let (a_api, b_api) = (fake.twin(&gate).await, fake.twin(&gate).await);
    for api in [&a_api, &b_api] {
        serve_runs(api, &runs, Some((gate.clone(), 3))).await;
    }
    let (a_ws, b_ws) = (checkout(&day), checkout(&day));
    let (a, b) = (recover(&a_ws, &a_api), recover(&b_ws, &b_api));
    let tb = std::thread::spawn(move || b.run());
    let oa = a.run();
    let ob = tb.join().expect("runner b");
    assert!(!gate.timed_out(), "a held request waited in vain");

    oa.assert_success();
    ob.assert_success();
    let (winner, loser): (&Outcome, &Outcome) = match oa.out("action") {
        Some("rerun") => (&oa, &ob),
        _ => (&ob, &oa),
    };
    assert_eq!(winner.out("action"), Some("rerun"), "{oa:#?}\n{ob:#?}");
    assert_eq!(loser.out("action"), Some("skipped"), "{oa:#?}\n{ob:#?}");
    assert!(
        loser.stdout.contains("moved while we wrote"),
        "the loser's ref update was refused, then it re-read: {}",
        loser.stdout
    );
    assert!(
        loser.summary.contains("rerun_in_progress"),
        "{}",
        loser.summary
    );
    assert_eq!(
        runs.lock().expect("runs").reruns,
        [RUN],
        "exactly one rerun-failed-jobs request"
    );
    let mut rerun_posts = 0;
    for api in [&a_api, &b_api] {
        let received = api.server().received_requests().await.unwrap_or_default();
        rerun_posts += received
            .iter()
            .filter(|r| r.url.path().ends_with("rerun-failed-jobs"))
            .count();
    }
    assert_eq!(rerun_posts, 1, "one rerun-failed-jobs request arrived");
    assert!(
        gate.reads() >= 4,
        "claims, the loser's re-read, the release"
    );

    // The branch: one claim and one release commit; the mark cleared; the chain verifies.
    assert_eq!(
        recover_commits(&fake).len(),
        2,
        "{:?}",
        fake.git().history("main")
    );
    let e = entry_on_main(&fake);
    assert!(e.get("rerun_in_progress").is_none(), "{e}");
    assert_eq!(e["status"], "failure", "the run's own fields stay");
    verify_files(&fake.git().files("main")).assert_success();
}

#[tokio::test]
async fn stale_claim_on_the_branch_skips_although_the_workspace_copy_says_not_in_progress() {
    // Another runner's recover marked the run on the audit branch; this runner's checkout is
    // older and does not show the mark. The branch decides: skipped, nothing re-run or written.
    let (fake, runs) = repository(&sealed_day(true)).await;
    serve_runs(&fake, &runs, None).await;
    let ws = checkout(&sealed_day(false));
    let before = fake.git().history("main");
    let out = recover(&ws, &fake).run();
    out.assert_success();
    assert_eq!(out.out("action"), Some("skipped"));
    assert!(out.summary.contains("rerun_in_progress"), "{}", out.summary);
    assert!(runs.lock().expect("runs").reruns.is_empty());
    assert_eq!(fake.git().history("main"), before, "no commit");
    assert_eq!(
        ws.read(&day_path()),
        sealed_day(false),
        "workspace untouched"
    );
}

#[tokio::test]
async fn claim_refused_by_a_protected_branch_or_a_read_only_token_acts_on_nothing() {
    // The claim cannot land on the audit branch: a pull request would not stop another
    // recover, so none is opened; the recover fails with claim_refused before acting.
    for refusal in ["protected", "read-only"] {
        let day = sealed_day(false);
        let (fake, runs) = repository(&day).await;
        serve_runs(&fake, &runs, None).await;
        match refusal {
            "protected" => {
                fake.git().protected.insert("main".into());
            }
            _ => fake.git().read_only = true,
        }
        let ws = checkout(&day);
        let before = fake.git().history("main");
        let out = recover(&ws, &fake).run();
        out.assert_failure("claim_refused");
        assert!(out.stdout.contains("nothing was done"), "{}", out.stdout);
        assert!(
            runs.lock().expect("runs").reruns.is_empty(),
            "{refusal}: not re-run"
        );
        assert!(runs.lock().expect("runs").dispatches.is_empty());
        let g = fake.git();
        assert!(g.pulls.is_empty(), "{refusal}: no pull request for a claim");
        assert_eq!(g.history("main"), before, "{refusal}: main untouched");
        drop(g);
        assert_eq!(ws.read(&day_path()), day, "{refusal}: workspace untouched");
        assert_ne!(out.out("action"), Some("rerun"));
    }
}
