//! Integration tests: the `commit` audit store against a stateful fake of GitHub's Git Database
//! API, and `verify-manifest`.
//!
//! The fake (wiremock with one routing responder, 127.0.0.1) holds blobs, trees, commits, refs
//! and pull requests in memory and enforces what GitHub does: a ref moves only as a fast forward
//! (422 "Update is not a fast forward" otherwise), a protected branch refuses the update (422
//! "Protected branch update failed"), and a token without `contents: write` gets 403 on every
//! write. Runs are unsigned (`sign: none`), so the store's requests are the only API traffic.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use base64::Engine;
use serde_json::{json, Value};
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::common::{bin, parse_outputs, Outcome, Runner, Workspace};
use crate::git_objects::GitObjects;

pub(crate) const SHA: &str = "95baf27389e83e6a5c48f42e190d48d7abcea19e";
pub(crate) const TOKEN: &str = "ghs_fakeTokenForTests123";
const PREFIX: &str = "/api/v3/repos/octo/app";

#[derive(Debug, Default)]
pub(crate) struct Git {
    objects: GitObjects,
    pub(crate) refs: BTreeMap<String, String>,
    pub(crate) protected: BTreeSet<String>,
    pub(crate) read_only: bool,
    pub(crate) pulls: Vec<Value>,
    /// Files another writer commits on `main` just before the next ref update is handled.
    pub(crate) race: Option<BTreeMap<String, Vec<u8>>>,
    /// `main` becomes protected after this many more ref updates are taken (protection
    /// switched on while a run is between two of its commits).
    pub(crate) protect_after: Option<usize>,
}

impl std::ops::Deref for Git {
    type Target = GitObjects;
    fn deref(&self) -> &GitObjects {
        &self.objects
    }
}

impl std::ops::DerefMut for Git {
    fn deref_mut(&mut self) -> &mut GitObjects {
        &mut self.objects
    }
}

impl Git {
    /// Commit `files` on top of `main` (another writer).
    pub(crate) fn commit_on_main(&mut self, files: BTreeMap<String, Vec<u8>>, message: &str) {
        let head = self.refs["main"].clone();
        let mut flat = BTreeMap::new();
        let base = self.commits[&head].0.clone();
        self.flatten(&base, "", &mut flat);
        for (p, b) in files {
            let sha = self.put_blob(b);
            flat.insert(p, sha);
        }
        let tree = self.build(&flat);
        let c = self.put_commit(&tree, vec![head], message);
        self.refs.insert("main".into(), c);
    }

    /// The files at a branch's head.
    pub(crate) fn files(&self, branch: &str) -> BTreeMap<String, Vec<u8>> {
        let head = &self.refs[branch];
        let mut flat = BTreeMap::new();
        self.flatten(&self.commits[head].0, "", &mut flat);
        flat.into_iter()
            .map(|(p, s)| (p, self.blobs[&s].clone()))
            .collect()
    }

    /// First-parent history of a branch, newest first: (sha, message).
    pub(crate) fn history(&self, branch: &str) -> Vec<(String, String)> {
        let mut out = Vec::new();
        let mut c = Some(self.refs[branch].clone());
        while let Some(sha) = c {
            let (_, parents, msg) = &self.commits[&sha];
            out.push((sha.clone(), msg.clone()));
            c = parents.first().cloned();
        }
        out
    }

    fn tree_of(&self, commit: &str) -> BTreeMap<String, String> {
        let mut flat = BTreeMap::new();
        self.flatten(&self.commits[commit].0, "", &mut flat);
        flat
    }
}

/// Holds ref reads so that racing processes are proven to race, not lucky: the first `hold`
/// reads of a branch ref wait until all `hold` have arrived (each process's first read is its
/// compare-and-swap's read, so all of them read the same head before any writes). Every ref
/// read is counted, for other holds (`wait_for_reads`). Each racing process talks to its own
/// twin server (`FakeGit::twin`), so a held request blocks only its own process.
#[derive(Debug)]
pub(crate) struct RefGate {
    hold: usize,
    reads: Mutex<usize>,
    arrived: Condvar,
    timed_out: AtomicBool,
}

impl RefGate {
    pub(crate) fn new(hold: usize) -> Arc<Self> {
        Arc::new(Self {
            hold,
            reads: Mutex::new(0),
            arrived: Condvar::new(),
            timed_out: AtomicBool::new(false),
        })
    }

    fn on_ref_read(&self) {
        let nth = {
            let mut n = self.reads.lock().expect("gate");
            *n += 1;
            *n
        };
        self.arrived.notify_all();
        if nth <= self.hold {
            self.wait_for_reads(self.hold);
        }
    }

    /// Block the calling server thread until `n` ref reads arrived; bounded (60 s), so a run
    /// that never reads fails the test (`timed_out`) instead of hanging it.
    pub(crate) fn wait_for_reads(&self, n: usize) {
        let reads = self.reads.lock().expect("gate");
        let (_reads, wait) = self
            .arrived
            .wait_timeout_while(reads, Duration::from_secs(60), |r| *r < n)
            .expect("gate");
        if wait.timed_out() {
            self.timed_out.store(true, Ordering::SeqCst);
        }
    }

    pub(crate) fn reads(&self) -> usize {
        *self.reads.lock().expect("gate")
    }

    pub(crate) fn timed_out(&self) -> bool {
        self.timed_out.load(Ordering::SeqCst)
    }
}

struct Router {
    git: Arc<Mutex<Git>>,
    gate: Option<Arc<RefGate>>,
}

fn answer(status: u16, body: Value) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(body)
}

impl Respond for Router {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let path = req.url.path().to_string();
        if let Some(gate) = &self.gate {
            if req.method.as_str() == "GET" && path.contains("/git/ref/heads/") {
                gate.on_ref_read();
            }
        }
        let mut g = self.git.lock().expect("state");
        let Some(route) = path.strip_prefix(PREFIX) else {
            return answer(404, json!({"message": "Not Found"}));
        };
        let write = req.method.as_str() != "GET";
        if write && g.read_only {
            return answer(
                403,
                json!({"message": "Resource not accessible by integration"}),
            );
        }
        let body: Value = req.body_json().unwrap_or(Value::Null);
        let seg: Vec<&str> = route.trim_start_matches('/').split('/').collect();
        match (req.method.as_str(), seg.as_slice()) {
            ("GET", [""]) => answer(200, json!({"default_branch": "main"})),
            ("GET", ["git", "ref", "heads", rest @ ..]) => match g.refs.get(&rest.join("/")) {
                Some(sha) => answer(200, json!({"object": {"sha": sha, "type": "commit"}})),
                None => answer(404, json!({"message": "Not Found"})),
            },
            ("GET", ["git", "commits", sha]) => match g.commits.get(*sha) {
                Some((tree, _, _)) => answer(200, json!({"sha": sha, "tree": {"sha": tree}})),
                None => answer(404, json!({"message": "Not Found"})),
            },
            ("GET", ["git", "trees", sha]) => match g.trees.get(*sha) {
                Some(entries) => {
                    let tree: Vec<Value> = entries
                        .iter()
                        .map(|(name, (kind, sha))| {
                            json!({"path": name, "type": kind, "sha": sha, "mode": "100644"})
                        })
                        .collect();
                    answer(200, json!({"sha": sha, "tree": tree, "truncated": false}))
                }
                None => answer(404, json!({"message": "Not Found"})),
            },
            ("GET", ["git", "blobs", sha]) => match g.blobs.get(*sha) {
                Some(b) => answer(
                    200,
                    json!({"sha": sha, "encoding": "base64",
                           "content": base64::engine::general_purpose::STANDARD.encode(b)}),
                ),
                None => answer(404, json!({"message": "Not Found"})),
            },
            ("POST", ["git", "blobs"]) => {
                let Some(Ok(bytes)) = body["content"]
                    .as_str()
                    .map(|c| base64::engine::general_purpose::STANDARD.decode(c))
                else {
                    return answer(422, json!({"message": "bad blob"}));
                };
                let sha = g.put_blob(bytes);
                answer(201, json!({"sha": sha}))
            }
            ("POST", ["git", "trees"]) => {
                let mut flat = BTreeMap::new();
                if let Some(base) = body["base_tree"].as_str() {
                    if !g.trees.contains_key(base) {
                        return answer(422, json!({"message": "base_tree not found"}));
                    }
                    g.flatten(base, "", &mut flat);
                }
                for e in body["tree"].as_array().cloned().unwrap_or_default() {
                    let (Some(p), Some(s)) = (e["path"].as_str(), e["sha"].as_str()) else {
                        return answer(422, json!({"message": "bad tree entry"}));
                    };
                    if !g.blobs.contains_key(s) {
                        return answer(422, json!({"message": "blob not found"}));
                    }
                    flat.insert(p.to_string(), s.to_string());
                }
                let sha = g.build(&flat);
                answer(201, json!({"sha": sha}))
            }
            ("POST", ["git", "commits"]) => {
                let tree = body["tree"].as_str().unwrap_or_default().to_string();
                let parents: Vec<String> = body["parents"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
                    .iter()
                    .filter_map(|p| p.as_str().map(String::from))
                    .collect();
                if !g.trees.contains_key(&tree)
                    || parents.iter().any(|p| !g.commits.contains_key(p))
                {
                    return answer(422, json!({"message": "tree or parent not found"}));
                }
                let msg = body["message"].as_str().unwrap_or_default().to_string();
                let sha = g.put_commit(&tree, parents, &msg);
                answer(201, json!({"sha": sha}))
            }
            ("PATCH", ["git", "refs", "heads", rest @ ..]) => {
                let branch = rest.join("/");
                if let Some(files) = g.race.take() {
                    g.commit_on_main(files, "another writer");
                }
                let new = body["sha"].as_str().unwrap_or_default().to_string();
                let force = body["force"].as_bool().unwrap_or(false);
                let Some(old) = g.refs.get(&branch).cloned() else {
                    return answer(422, json!({"message": "Reference does not exist"}));
                };
                if g.protected.contains(&branch) {
                    return answer(
                        422,
                        json!({"message": format!("Protected branch update failed for refs/heads/{branch}.")}),
                    );
                }
                if !g.commits.contains_key(&new) {
                    return answer(422, json!({"message": "Object does not exist"}));
                }
                if !force && !g.is_ancestor(&old, &new) {
                    return answer(422, json!({"message": "Update is not a fast forward"}));
                }
                g.refs.insert(branch, new.clone());
                if let Some(n) = g.protect_after.as_mut() {
                    *n = n.saturating_sub(1);
                    if *n == 0 {
                        g.protect_after = None;
                        g.protected.insert("main".into());
                    }
                }
                answer(200, json!({"object": {"sha": new}}))
            }
            ("POST", ["git", "refs"]) => {
                let name = body["ref"].as_str().unwrap_or_default();
                let Some(branch) = name.strip_prefix("refs/heads/") else {
                    return answer(422, json!({"message": "bad ref"}));
                };
                if g.refs.contains_key(branch) {
                    return answer(422, json!({"message": "Reference already exists"}));
                }
                let sha = body["sha"].as_str().unwrap_or_default().to_string();
                g.refs.insert(branch.to_string(), sha.clone());
                answer(201, json!({"ref": name, "object": {"sha": sha}}))
            }
            ("POST", ["pulls"]) => {
                let number = g.pulls.len() + 1;
                let pr = json!({
                    "number": number,
                    "head": body["head"], "base": body["base"], "title": body["title"],
                    "html_url": format!("https://github.com/octo/app/pull/{number}"),
                });
                g.pulls.push(pr.clone());
                answer(201, pr)
            }
            _ => answer(404, json!({"message": "Not Found"})),
        }
    }
}

pub(crate) struct FakeGit {
    server: MockServer,
    git: Arc<Mutex<Git>>,
}

impl FakeGit {
    /// A repository whose `main` has one commit with a README.
    pub(crate) async fn start() -> Self {
        let server = MockServer::builder().start().await;
        let mut g = Git::default();
        let readme = g.put_blob(b"# app\n".to_vec());
        let tree = g.build(&BTreeMap::from([("README.md".to_string(), readme)]));
        let c = g.put_commit(&tree, vec![], "initial");
        g.refs.insert("main".into(), c);
        let git = Arc::new(Mutex::new(g));
        Mock::given(any())
            .respond_with(Router {
                git: git.clone(),
                gate: None,
            })
            .mount(&server)
            .await;
        Self { server, git }
    }

    /// A second server on the same repository whose ref reads pass `gate`: one per racing
    /// process.
    pub(crate) async fn twin(&self, gate: &Arc<RefGate>) -> Self {
        let server = MockServer::builder().start().await;
        Mock::given(any())
            .respond_with(Router {
                git: self.git.clone(),
                gate: Some(gate.clone()),
            })
            .mount(&server)
            .await;
        Self {
            server,
            git: self.git.clone(),
        }
    }

    pub(crate) fn server(&self) -> &MockServer {
        &self.server
    }

    pub(crate) fn git(&self) -> std::sync::MutexGuard<'_, Git> {
        self.git.lock().expect("git")
    }

    pub(crate) fn api_url(&self) -> String {
        format!("{}/api/v3", self.server.uri())
    }

    /// Every request that arrived, in order.
    pub(crate) async fn requests(&self) -> Vec<Request> {
        self.server.received_requests().await.unwrap_or_default()
    }

    async fn request_count(&self) -> usize {
        self.server
            .received_requests()
            .await
            .unwrap_or_default()
            .len()
    }
}

pub(crate) fn workspace() -> Workspace {
    let ws = Workspace::new();
    ws.write("dist/app.tar.gz", b"tarball bytes");
    ws.init_git();
    ws
}

/// An unsigned release run of `tag` as run `run_id`, storing its audit trail by commit.
pub(crate) fn run_against(ws: &Workspace, fake: &FakeGit, tag: &str, run_id: u64) -> Runner {
    ws.runner()
        .release_event(tag)
        .env("GITHUB_SHA", SHA)
        .env("GITHUB_RUN_ID", run_id.to_string())
        .env("GITHUB_API_URL", fake.api_url())
        .env("SLSA_PROVENANCE_RETRY_BASE_MS", "5")
        .env("SLSA_PROVENANCE_HTTP_TIMEOUT_MS", "20000")
        .input("audit-store", "commit")
        .input("subject-path", "dist/*")
        .input("sign", "none")
        .input("github-token", TOKEN)
}

pub(crate) fn day_of(files: &BTreeMap<String, Vec<u8>>) -> String {
    files
        .keys()
        .find_map(|p| {
            p.strip_prefix("docs/reports/")?
                .strip_suffix("/manifest.json")
        })
        .expect("a day manifest")
        .to_string()
}

pub(crate) fn manifest_at(files: &BTreeMap<String, Vec<u8>>) -> Value {
    let day = day_of(files);
    serde_json::from_slice(&files[&format!("docs/reports/{day}/manifest.json")]).expect("json")
}

/// Write a branch's files into a directory and run `verify-manifest` on its reports folder.
pub(crate) fn verify_files(files: &BTreeMap<String, Vec<u8>>) -> Outcome {
    let ws = Workspace::new();
    for (p, b) in files {
        ws.write(p, b);
    }
    ws.runner().arg("verify-manifest").arg("docs/reports").run()
}

#[tokio::test]
async fn one_run_commits_its_files_and_manifest_in_one_fast_forward_commit() {
    let fake = FakeGit::start().await;
    let ws = workspace();
    let out = run_against(&ws, &fake, "v1.0.0", 101).run();
    out.assert_success();
    assert_eq!(out.out("manifest-queued"), Some("false"), "{out:#?}");
    let g = fake.git();
    let history = g.history("main");
    assert_eq!(history.len(), 2, "one commit on top of the initial one");
    assert_eq!(out.out("audit-commit"), Some(history[0].0.as_str()));
    assert!(
        history[0]
            .1
            .starts_with("provenance: v1.0.0 run 101 success"),
        "{}",
        history[0].1
    );
    let files = g.files("main");
    let day = day_of(&files);
    let prov = format!("docs/reports/{day}/provenance_run_101/provenance.json");
    assert_eq!(
        files[&prov],
        std::fs::read(ws.path().join(&prov)).expect("workspace copy"),
        "the committed statement is the workspace's"
    );
    assert!(files.contains_key(&format!("docs/reports/{day}/PROVENANCE_SHA256.txt")));
    assert!(files.contains_key("README.md"), "built on the head's tree");
    let m = manifest_at(&files);
    assert_eq!(m["schema_version"], 2);
    assert_eq!(m["entries"][0]["run_id"], 101);
    assert_eq!(
        m["entries"][0]["provenance_path"],
        format!("docs/reports/{day}/provenance_run_101/provenance.json")
    );
    drop(g);
    verify_files(&fake.git().files("main")).assert_success();
}

#[tokio::test]
async fn uncontended_run_makes_a_fixed_small_number_of_requests() {
    // The README quotes these numbers: keep them in step.
    let fake = FakeGit::start().await;
    let first = workspace();
    run_against(&first, &fake, "v1.0.0", 201)
        .run()
        .assert_success();
    let after_first = fake.request_count().await;
    // New day folder: repo, ref, commit, root tree, 3 blobs, tree, commit, ref update.
    assert_eq!(after_first, 10);
    let second = workspace();
    run_against(&second, &fake, "v1.0.1", 202)
        .run()
        .assert_success();
    // Existing day: + docs, reports, day trees and the manifest and log blobs read.
    assert_eq!(fake.request_count().await - after_first, 15);
    let third = workspace();
    run_against(&third, &fake, "v1.0.2", 203)
        .input("audit-branch", "main")
        .run()
        .assert_success();
    assert_eq!(
        fake.request_count().await - after_first - 15,
        14,
        "audit-branch saves the default-branch lookup"
    );
}

#[tokio::test]
async fn twenty_concurrent_runs_all_land_one_commit_each_with_a_valid_chain() {
    let fake = FakeGit::start().await;
    let workspaces: Vec<Workspace> = (0..20).map(|_| workspace()).collect();
    let mut children = Vec::new();
    for (i, ws) in workspaces.iter().enumerate() {
        let r = run_against(ws, &fake, &format!("v2.0.{i}"), 1000 + i as u64);
        let output = r.output.clone();
        let child = Command::new(bin())
            .env_clear()
            .envs(&r.env)
            .current_dir(&r.cwd)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spawn");
        children.push((child, output));
    }
    for (child, output) in children {
        let out = child.wait_with_output().expect("wait");
        let outputs = parse_outputs(&std::fs::read_to_string(output).unwrap_or_default());
        assert!(
            out.status.success()
                && outputs.get("manifest-queued").map(String::as_str) == Some("false"),
            "{}\n{outputs:?}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
    let patches = fake
        .server
        .received_requests()
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|r| r.method.as_str() == "PATCH")
        .count();
    assert!(patches >= 20, "{patches}");
    let g = fake.git();
    let files = g.files("main");
    let m = manifest_at(&files);
    let mut runs: Vec<u64> = m["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| e["run_id"].as_u64().expect("run id"))
        .collect();
    runs.sort();
    assert_eq!(
        runs,
        (1000..1020).collect::<Vec<u64>>(),
        "every entry is there"
    );
    let history = g.history("main");
    assert_eq!(history.len(), 21, "one commit per run");
    // Each commit adds exactly one run folder, and its manifest names that run.
    for pair in history.windows(2) {
        let (new, old) = (&pair[0].0, &pair[1].0);
        let (after, before) = (g.tree_of(new), g.tree_of(old));
        let added: Vec<&String> = after
            .keys()
            .filter(|p| !before.contains_key(*p) && p.ends_with("/provenance.json"))
            .collect();
        assert_eq!(added.len(), 1, "{added:?}");
        // ...and that commit's manifest already names the run whose file it adds.
        let run = added[0]
            .rsplit('/')
            .nth(1)
            .and_then(|d| d.strip_prefix("provenance_run_"))
            .expect("run folder");
        let manifest_path = after
            .keys()
            .find(|p| p.ends_with("/manifest.json"))
            .expect("manifest");
        let text = String::from_utf8(g.blobs[&after[manifest_path]].clone()).expect("utf8");
        assert!(text.contains(&format!("\"run_id\": {run}")), "{run}");
    }
    let day = day_of(&files);
    let log =
        String::from_utf8(files[&format!("docs/reports/{day}/PROVENANCE_SHA256.txt")].clone())
            .expect("utf8");
    assert_eq!(log.lines().count(), 20);
    drop(g);
    let head_files = fake.git().files("main");
    verify_files(&head_files).assert_success();
}

#[tokio::test]
async fn branch_moved_during_the_commit_is_reread_and_merged_not_overwritten() {
    // Another writer commits today's manifest with its own entry between our read and our
    // ref update: the update is refused (not a fast forward), we re-read, re-merge, and retry.
    use slsa_provenance_action::domain::audit_chain::seal;
    use slsa_provenance_action::domain::manifest::Manifest;
    let fake = FakeGit::start().await;
    let day = chrono::Utc::now().format("%Y-%m-%d").to_string();
    let theirs = Manifest::parse(
        &json!({"schema_version": 2, "entries": [{"run_id": 1, "tag": "v0.9.9", "sha": SHA,
            "artifact_url": null, "actor": "someone", "timestamp": "t", "status": "success",
            "governance_flag": "provenance-ready"}]})
        .to_string(),
    )
    .expect("manifest");
    fake.git().race = Some(BTreeMap::from([
        (
            format!("docs/reports/{day}/manifest.json"),
            seal(theirs, None).render().into_bytes(),
        ),
        ("OTHER.md".to_string(), b"theirs".to_vec()),
    ]));
    let ws = workspace();
    let out = run_against(&ws, &fake, "v1.0.0", 801).run();
    out.assert_success();
    assert!(
        out.stdout.contains("moved while we wrote"),
        "{}",
        out.stdout
    );
    let g = fake.git();
    let history: Vec<String> = g.history("main").into_iter().map(|(_, m)| m).collect();
    assert_eq!(history.len(), 3, "{history:?}");
    assert_eq!(history[1], "another writer");
    let files = g.files("main");
    assert!(files.contains_key("OTHER.md"), "their commit is kept");
    let runs: Vec<u64> = manifest_at(&files)["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| e["run_id"].as_u64().expect("id"))
        .collect();
    assert_eq!(runs, vec![1, 801], "their entry and ours");
    drop(g);
    let head_files = fake.git().files("main");
    verify_files(&head_files).assert_success();
}

#[tokio::test]
async fn protected_branch_gets_a_pull_request_from_a_side_branch() {
    let fake = FakeGit::start().await;
    fake.git().protected.insert("main".into());
    let ws = workspace();
    let out = run_against(&ws, &fake, "v3.0.0", 301).run();
    out.assert_success();
    let g = fake.git();
    assert_eq!(g.history("main").len(), 1, "main is untouched");
    let side = "provenance/v3.0.0-301";
    assert_eq!(out.out("audit-commit"), Some(g.refs[side].as_str()));
    assert_eq!(g.pulls.len(), 1);
    assert_eq!(g.pulls[0]["head"], side);
    assert_eq!(g.pulls[0]["base"], "main");
    assert_eq!(
        out.out("audit-pull-request"),
        g.pulls[0]["html_url"].as_str()
    );
    assert_eq!(out.out("manifest-queued"), Some("false"));
    let files = g.files(side);
    assert_eq!(manifest_at(&files)["entries"][0]["run_id"], 301);
}

#[tokio::test]
async fn token_without_contents_write_queues_the_entry_and_the_run_succeeds() {
    let fake = FakeGit::start().await;
    fake.git().read_only = true;
    let ws = workspace();
    let out = run_against(&ws, &fake, "v4.0.0", 401).run();
    out.assert_success();
    assert_eq!(out.out("manifest-queued"), Some("true"));
    assert!(out.stdout.contains("::warning::"), "{}", out.stdout);
    assert_eq!(fake.git().history("main").len(), 1);
    let q: Value =
        serde_json::from_str(&ws.read("out/provenance/queued-manifest.json")).expect("queue json");
    let rec = &q["records"][0];
    assert_eq!(rec["entry"]["run_id"], 401);
    let files = rec["files"].as_object().expect("files");
    assert!(files.contains_key("provenance_run_401/provenance.json"));
}

#[tokio::test]
async fn queued_entry_is_drained_in_the_next_runs_single_commit() {
    let fake = FakeGit::start().await;
    fake.git().read_only = true;
    let first = workspace();
    run_against(&first, &fake, "v5.0.0", 501)
        .run()
        .assert_success();
    let queue = first.read("out/provenance/queued-manifest.json");

    fake.git().read_only = false;
    let second = workspace();
    second.write("artifacts/queued-manifest.json", &queue);
    let out = run_against(&second, &fake, "v5.0.1", 502)
        .input("queued-manifest", "artifacts/queued-manifest.json")
        .run();
    out.assert_success();
    assert_eq!(out.out("manifest-queued"), Some("false"));
    let g = fake.git();
    let history = g.history("main");
    assert_eq!(history.len(), 2, "both runs in one commit");
    assert!(
        history[0].1.contains("- v5.0.0 run 501"),
        "{}",
        history[0].1
    );
    let files = g.files("main");
    let day = day_of(&files);
    assert!(files.contains_key(&format!(
        "docs/reports/{day}/provenance_run_501/provenance.json"
    )));
    assert!(files.contains_key(&format!(
        "docs/reports/{day}/provenance_run_502/provenance.json"
    )));
    let runs: Vec<u64> = manifest_at(&files)["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| e["run_id"].as_u64().expect("id"))
        .collect();
    assert_eq!(runs, vec![501, 502]);
    drop(g);
    verify_files(&fake.git().files("main")).assert_success();
}

#[tokio::test]
async fn failed_run_is_committed_with_its_failure_reason() {
    let fake = FakeGit::start().await;
    let ws = workspace();
    let out = run_against(&ws, &fake, "v6.0.0", 601)
        .input("subject-path", "nothing-here/*")
        .run();
    out.assert_failure("subject_pattern_unmatched");
    let files = fake.git().files("main");
    let e = &manifest_at(&files)["entries"][0];
    assert_eq!(e["status"], "failure");
    assert_eq!(e["failure_reason"], "subject_pattern_unmatched");
}

#[tokio::test]
async fn rollback_release_is_recorded_as_a_rollback() {
    let fake = FakeGit::start().await;
    let ws = workspace();
    run_against(&ws, &fake, "v1.0.1", 701)
        .input("rollback-of", "v1.0.2")
        .run()
        .assert_success();
    let files = fake.git().files("main");
    let e = &manifest_at(&files)["entries"][0];
    assert_eq!(e["status"], "rollback");
    assert_eq!(e["governance_flag"], "rollback");
    assert_eq!(e["rollback_of"], "v1.0.2");
}

#[tokio::test]
async fn workspace_store_makes_no_requests_and_none_writes_no_audit_files() {
    let fake = FakeGit::start().await;
    let ws = workspace();
    let out = run_against(&ws, &fake, "v9.0.0", 901)
        .input("audit-store", "workspace")
        .run();
    out.assert_success();
    assert!(ws
        .path()
        .join(out.out("manifest-path").expect("path"))
        .is_file());
    assert_eq!(fake.request_count().await, 0);
    assert_eq!(out.out("manifest-queued"), None);

    let ws = workspace();
    let out = run_against(&ws, &fake, "v9.0.1", 902)
        .input("audit-store", "none")
        .run();
    out.assert_success();
    assert_eq!(out.out("manifest-path"), None);
    let prov = out
        .out("provenance-path")
        .expect("statement is still written");
    let day = Path::new(prov)
        .parent()
        .and_then(Path::parent)
        .expect("day");
    assert!(ws.path().join(prov).is_file());
    assert!(!ws.path().join(day).join("manifest.json").exists());
    assert!(!ws.path().join(day).join("PROVENANCE_SHA256.txt").exists());
    assert_eq!(fake.request_count().await, 0);
}

#[tokio::test]
async fn unreadable_queue_file_is_left_alone_and_the_run_commits_its_own_entry() {
    let fake = FakeGit::start().await;
    let ws = workspace();
    ws.write("artifacts/queued-manifest.json", "{ not a queue");
    let out = run_against(&ws, &fake, "v9.1.0", 911)
        .input("queued-manifest", "artifacts/queued-manifest.json")
        .run();
    out.assert_success();
    assert!(
        out.stdout
            .contains("::warning::queued-manifest cannot be read"),
        "{}",
        out.stdout
    );
    assert_eq!(ws.read("artifacts/queued-manifest.json"), "{ not a queue");
    assert_eq!(fake.git().history("main").len(), 2);
}

#[test]
fn run_refuses_to_reseal_a_tampered_workspace_manifest() {
    // Regression: a writer that re-sealed an edited day file would launder the edit.
    let ws = workspace();
    let run = |run_id: u64| {
        ws.runner()
            .release_event("v1.0.0")
            .env("GITHUB_SHA", SHA)
            .env("GITHUB_RUN_ID", run_id.to_string())
            .input("subject-path", "dist/*")
            .input("sign", "none")
            .run()
    };
    let first = run(1);
    first.assert_success();
    let rel = first.out("manifest-path").expect("path").to_string();
    let forged = ws.read(&rel).replace("\"octocat\"", "\"mallory\"");
    ws.write(&rel, &forged);
    let second = run(2);
    second.assert_failure("manifest_tampered");
    assert_eq!(ws.read(&rel), forged, "the evidence is left as it is");
    let day = Path::new(&rel).parent().expect("day");
    assert!(!ws.path().join(day).join("provenance_run_2").exists());
}

#[test]
fn invalid_audit_store_is_invalid_input() {
    let ws = workspace();
    ws.runner()
        .release_event("v1.0.0")
        .env("GITHUB_SHA", SHA)
        .input("subject-path", "dist/*")
        .input("sign", "none")
        .input("audit-store", "s3")
        .run()
        .assert_failure("invalid_input");
}

// ---------------------------------------------------------------------------------------------
// verify-manifest on tampered files (the chain itself is unit-tested in domain::audit_chain).

/// Three chained days written by two workspace-mode runs per day would need three dates; the
/// library's own seal builds them instead.
pub(crate) fn chained_days(dir: &Path) {
    use slsa_provenance_action::domain::audit_chain::{head, seal};
    use slsa_provenance_action::domain::manifest::{DayLink, Manifest};
    let mut previous: Option<DayLink> = None;
    for (d, runs) in [
        ("2026-03-01", [1u64, 2]),
        ("2026-03-02", [3, 4]),
        ("2026-03-03", [5, 6]),
    ] {
        let entries: Vec<Value> = runs
            .iter()
            .map(|r| {
                json!({"run_id": r, "tag": format!("v1.{r}"), "sha": SHA, "artifact_url": null,
                       "actor": "octocat", "timestamp": format!("{d}T00:00:00Z"),
                       "status": "success", "governance_flag": "provenance-ready"})
            })
            .collect();
        let m = Manifest::parse(&json!({"schema_version": 2, "entries": entries}).to_string())
            .expect("manifest");
        let sealed = seal(m, previous.clone());
        previous = Some(DayLink {
            date: d.into(),
            head: head(&sealed),
        });
        let p = dir.join(d).join("manifest.json");
        std::fs::create_dir_all(p.parent().expect("p")).expect("mkdir");
        std::fs::write(p, sealed.render()).expect("write");
    }
}

fn tampered(edit: impl FnOnce(&Path)) -> Outcome {
    let ws = Workspace::new();
    let dir = ws.path().join("docs/reports");
    chained_days(&dir);
    edit(&dir);
    ws.runner().arg("verify-manifest").run()
}

fn edit_json(path: &Path, f: impl FnOnce(&mut Value)) {
    let mut v: Value = serde_json::from_str(&std::fs::read_to_string(path).expect("r")).expect("j");
    f(&mut v);
    std::fs::write(path, serde_json::to_string_pretty(&v).expect("s")).expect("w");
}

#[test]
fn verify_manifest_accepts_an_untouched_chain() {
    let out = tampered(|_| {});
    out.assert_success();
    assert!(
        out.stdout.contains("3 file(s), 6 entries"),
        "{}",
        out.stdout
    );
}

#[test]
fn verify_manifest_names_an_edited_entry() {
    let out = tampered(|d| {
        edit_json(&d.join("2026-03-02/manifest.json"), |v| {
            v["entries"][1]["actor"] = "mallory".into()
        })
    });
    out.assert_failure("manifest_tampered");
    assert!(
        out.stdout
            .contains("2026-03-02/manifest.json: entry #2 (v1.4, run 4)"),
        "{}",
        out.stdout
    );
}

#[test]
fn verify_manifest_detects_a_deleted_entry() {
    let out = tampered(|d| {
        edit_json(&d.join("2026-03-01/manifest.json"), |v| {
            v["entries"].as_array_mut().expect("a").remove(0);
        })
    });
    out.assert_failure("manifest_tampered");
    assert!(
        out.stdout.contains("2026-03-01/manifest.json"),
        "{}",
        out.stdout
    );
}

#[test]
fn verify_manifest_detects_reordered_entries() {
    let out = tampered(|d| {
        edit_json(&d.join("2026-03-03/manifest.json"), |v| {
            v["entries"].as_array_mut().expect("a").swap(0, 1);
        })
    });
    out.assert_failure("manifest_tampered");
    assert!(out.stdout.contains("out of order"), "{}", out.stdout);
}

#[test]
fn verify_manifest_detects_a_cross_day_splice() {
    // The last entry of day 2 moved to the end of day 3.
    let out = tampered(|d| {
        let mut moved = Value::Null;
        edit_json(&d.join("2026-03-02/manifest.json"), |v| {
            moved = v["entries"].as_array_mut().expect("a").pop().expect("e");
        });
        edit_json(&d.join("2026-03-03/manifest.json"), |v| {
            v["entries"].as_array_mut().expect("a").push(moved);
        });
    });
    out.assert_failure("manifest_tampered");
    assert!(
        out.stdout.contains("2026-03-03/manifest.json"),
        "{}",
        out.stdout
    );
}

#[test]
fn verify_manifest_detects_a_removed_day() {
    let out = tampered(|d| std::fs::remove_dir_all(d.join("2026-03-02")).expect("rm"));
    out.assert_failure("manifest_tampered");
    assert!(out.stdout.contains("removed"), "{}", out.stdout);
}

#[test]
fn verify_manifest_on_a_missing_directory_is_invalid_input() {
    let ws = Workspace::new();
    ws.runner()
        .arg("verify-manifest")
        .arg("no/such/dir")
        .run()
        .assert_failure("invalid_input");
}
