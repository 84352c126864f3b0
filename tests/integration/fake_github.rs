//! One stateful fake GitHub (REST, GHES-style: the API under `/api/v3`, uploads under
//! `/api/uploads`) serving everything the whole lifecycle touches, on 127.0.0.1:
//!
//! - releases (by tag, by id, notes `PATCH`), their assets (list, upload at the release's
//!   `upload_url`, rename, delete, download with `Accept: application/octet-stream`) and
//!   attestations (`POST`, list by digest);
//! - the Git Database API the `audit-store: commit` uses: blobs, trees (`base_tree` merged),
//!   commits, and refs whose `PATCH` is a real compare-and-swap (a non-fast-forward is 422);
//! - issues: list open ones by label, create, comment, close;
//! - workflow runs: get one, `rerun-failed-jobs` (the run goes back to `in_progress` at the
//!   next attempt until the test completes it), workflow dispatch and the dispatch runs list.
//!
//! Every request is recorded by wiremock (`requests`); the state is inspected directly.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use base64::Engine;
use serde_json::{json, Value};
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::git_objects::GitObjects;

pub(crate) const REPO: &str = "octo/app";
const API: &str = "/api/v3/repos/octo/app";
const UPLOADS: &str = "/api/uploads/repos/octo/app";

#[derive(Debug, Clone)]
pub(crate) struct Asset {
    pub(crate) id: u64,
    pub(crate) name: String,
    pub(crate) content: Vec<u8>,
}

#[derive(Debug, Clone)]
pub(crate) struct Release {
    pub(crate) id: u64,
    pub(crate) tag: String,
    pub(crate) body: String,
    pub(crate) assets: Vec<Asset>,
}

#[derive(Debug, Clone)]
pub(crate) struct Issue {
    pub(crate) number: u64,
    pub(crate) title: String,
    pub(crate) body: String,
    pub(crate) labels: Vec<String>,
    pub(crate) open: bool,
    pub(crate) comments: Vec<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct Run {
    pub(crate) id: u64,
    pub(crate) status: String,
    pub(crate) conclusion: Option<String>,
    pub(crate) attempt: u32,
    pub(crate) created_at: chrono::DateTime<chrono::Utc>,
}

/// The Git object store: content-addressed blobs, one-level trees, commits, branch refs.
#[derive(Debug, Default)]
pub(crate) struct Git {
    objects: GitObjects,
    pub(crate) refs: BTreeMap<String, String>,
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
    /// The files at a branch's head.
    pub(crate) fn files(&self, branch: &str) -> BTreeMap<String, Vec<u8>> {
        let mut flat = BTreeMap::new();
        self.flatten(&self.commits[&self.refs[branch]].0, "", &mut flat);
        flat.into_iter()
            .map(|(p, s)| (p, self.blobs[&s].clone()))
            .collect()
    }

    /// First-parent history of a branch, newest first: commit messages.
    pub(crate) fn history(&self, branch: &str) -> Vec<String> {
        let mut out = Vec::new();
        let mut c = Some(self.refs[branch].clone());
        while let Some(sha) = c {
            let (_, parents, msg) = &self.commits[&sha];
            out.push(msg.clone());
            c = parents.first().cloned();
        }
        out
    }
}

#[derive(Debug, Default)]
pub(crate) struct State {
    uri: String,
    next_id: u64,
    pub(crate) git: Git,
    pub(crate) releases: Vec<Release>,
    pub(crate) attestations: Vec<(u64, Value)>,
    pub(crate) issues: Vec<Issue>,
    pub(crate) runs: Vec<Run>,
    /// Run ids whose failed jobs were re-run, in order.
    pub(crate) reruns: Vec<u64>,
    /// Bodies of workflow dispatches.
    pub(crate) dispatches: Vec<Value>,
}

fn answer(status: u16, body: Value) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(body)
}

fn not_found() -> ResponseTemplate {
    answer(404, json!({"message": "Not Found"}))
}

fn query(req: &Request, name: &str) -> Option<String> {
    req.url
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.to_string())
}

impl State {
    fn id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    fn release_json(&self, r: &Release) -> Value {
        json!({
            "id": r.id, "tag_name": r.tag, "draft": false, "body": r.body,
            "html_url": format!("https://github.com/{REPO}/releases/tag/{}", r.tag),
            "upload_url": format!("{}{UPLOADS}/releases/{}/assets{{?name,label}}", self.uri, r.id),
        })
    }

    fn asset_json(r: &Release, a: &Asset) -> Value {
        json!({
            "id": a.id, "name": a.name, "state": "uploaded", "size": a.content.len(),
            "browser_download_url":
                format!("https://github.com/{REPO}/releases/download/{}/{}", r.tag, a.name),
        })
    }

    fn release_mut(&mut self, id: &str) -> Option<&mut Release> {
        self.releases.iter_mut().find(|r| r.id.to_string() == id)
    }

    fn run_json(r: &Run) -> Value {
        json!({
            "id": r.id, "status": r.status, "conclusion": r.conclusion,
            "created_at": r.created_at.to_rfc3339(), "run_attempt": r.attempt,
            "html_url": format!("https://github.com/{REPO}/actions/runs/{}", r.id),
        })
    }

    fn issue_json(&self, i: &Issue) -> Value {
        json!({
            "number": i.number, "title": i.title, "body": i.body,
            "state": if i.open { "open" } else { "closed" },
            "labels": i.labels.iter().map(|l| json!({"name": l})).collect::<Vec<_>>(),
            "html_url": format!("https://github.com/{REPO}/issues/{}", i.number),
        })
    }

    fn route(&mut self, req: &Request) -> ResponseTemplate {
        let path = req.url.path().to_string();
        if let Some(rest) = path.strip_prefix(UPLOADS) {
            let seg: Vec<&str> = rest.trim_start_matches('/').split('/').collect();
            return match (req.method.as_str(), seg.as_slice()) {
                ("POST", ["releases", id, "assets"]) => self.upload(req, id),
                _ => not_found(),
            };
        }
        let Some(rest) = path.strip_prefix(API) else {
            return not_found();
        };
        let body: Value = req.body_json().unwrap_or(Value::Null);
        let seg: Vec<&str> = rest.trim_start_matches('/').split('/').collect();
        match (req.method.as_str(), seg.as_slice()) {
            ("GET", [""]) => answer(
                200,
                json!({"full_name": REPO, "default_branch": "main", "visibility": "public"}),
            ),
            (_, ["git", ..]) => self.git_route(req.method.as_str(), &seg[1..], &body),
            ("GET", ["releases", "assets", id])
                if req
                    .headers
                    .get("accept")
                    .is_some_and(|a| a.as_bytes() == b"application/octet-stream") =>
            {
                // The asset's bytes (github.com answers 302 to storage; 200 is allowed too).
                match self
                    .releases
                    .iter()
                    .flat_map(|r| r.assets.iter())
                    .find(|a| a.id.to_string() == *id)
                {
                    Some(a) => ResponseTemplate::new(200)
                        .insert_header("content-type", "application/octet-stream")
                        .set_body_bytes(a.content.clone()),
                    None => not_found(),
                }
            }
            (_, ["releases", ..] | ["attestations", ..]) => {
                let page = query(req, "page").unwrap_or_else(|| "1".into());
                self.release_route(req.method.as_str(), &seg, &body, &page)
            }
            (_, ["issues", ..]) => self.issue_route(req, &seg[1..], &body),
            (_, ["actions", ..]) => self.actions_route(req.method.as_str(), &seg[1..], &body),
            _ => not_found(),
        }
    }

    fn upload(&mut self, req: &Request, release_id: &str) -> ResponseTemplate {
        let Some(name) = query(req, "name") else {
            return answer(422, json!({"message": "name is required"}));
        };
        let id = self.id();
        let Some(r) = self.release_mut(release_id) else {
            return not_found();
        };
        if r.assets.iter().any(|a| a.name == name) {
            return answer(
                422,
                json!({"message": "Validation Failed", "errors": [{"code": "already_exists"}]}),
            );
        }
        let asset = Asset {
            id,
            name,
            content: req.body.clone(),
        };
        r.assets.push(asset.clone());
        let r = r.clone();
        answer(201, Self::asset_json(&r, &asset))
    }

    fn release_route(
        &mut self,
        method: &str,
        seg: &[&str],
        body: &Value,
        page: &str,
    ) -> ResponseTemplate {
        match (method, seg) {
            ("POST", ["attestations"]) => {
                let id = self.id();
                self.attestations.push((id, body["bundle"].clone()));
                answer(201, json!({ "id": id }))
            }
            ("GET", ["attestations", digest]) => {
                let wanted = digest.trim_start_matches("sha256:");
                let list: Vec<Value> = self
                    .attestations
                    .iter()
                    .filter(|(_, b)| bundle_covers(b, wanted))
                    .map(|(id, b)| json!({"id": id, "bundle": b, "repository_id": 804070735}))
                    .collect();
                answer(200, json!({ "attestations": list }))
            }
            ("GET", ["releases", "tags", tag]) => {
                match self.releases.iter().find(|r| r.tag == *tag) {
                    Some(r) => answer(200, self.release_json(r)),
                    None => not_found(),
                }
            }
            ("GET", ["releases", "assets", id]) => {
                let found = self
                    .releases
                    .iter()
                    .flat_map(|r| r.assets.iter().map(move |a| (r, a)))
                    .find(|(_, a)| a.id.to_string() == *id);
                match found {
                    Some((r, a)) => answer(200, Self::asset_json(r, a)),
                    None => not_found(),
                }
            }
            ("PATCH", ["releases", "assets", id]) => {
                let Some(name) = body["name"].as_str().map(String::from) else {
                    return answer(422, json!({"message": "name is required"}));
                };
                let Some(r) = self
                    .releases
                    .iter_mut()
                    .find(|r| r.assets.iter().any(|a| a.id.to_string() == *id))
                else {
                    return not_found();
                };
                if r.assets
                    .iter()
                    .any(|a| a.name == name && a.id.to_string() != *id)
                {
                    return answer(
                        422,
                        json!({"message": "Validation Failed", "errors": [{"code": "already_exists"}]}),
                    );
                }
                let a = r
                    .assets
                    .iter_mut()
                    .find(|a| a.id.to_string() == *id)
                    .expect("asset");
                a.name = name;
                let a = a.clone();
                let r = r.clone();
                answer(200, Self::asset_json(&r, &a))
            }
            ("DELETE", ["releases", "assets", id]) => {
                for r in &mut self.releases {
                    let before = r.assets.len();
                    r.assets.retain(|a| a.id.to_string() != *id);
                    if r.assets.len() < before {
                        return ResponseTemplate::new(204);
                    }
                }
                not_found()
            }
            ("GET", ["releases", id]) => {
                match self.releases.iter().find(|r| r.id.to_string() == *id) {
                    Some(r) => answer(200, self.release_json(r)),
                    None => not_found(),
                }
            }
            ("PATCH", ["releases", id]) => {
                let Some(text) = body["body"].as_str().map(String::from) else {
                    return answer(422, json!({"message": "body is required"}));
                };
                let Some(r) = self.release_mut(id) else {
                    return not_found();
                };
                r.body = text;
                let r = r.clone();
                answer(200, self.release_json(&r))
            }
            ("GET", ["releases", id, "assets"]) => {
                match self.releases.iter().find(|r| r.id.to_string() == *id) {
                    Some(r) if page == "1" => answer(
                        200,
                        Value::Array(r.assets.iter().map(|a| Self::asset_json(r, a)).collect()),
                    ),
                    Some(_) => answer(200, json!([])),
                    None => not_found(),
                }
            }
            _ => not_found(),
        }
    }

    fn git_route(&mut self, method: &str, seg: &[&str], body: &Value) -> ResponseTemplate {
        let g = &mut self.git;
        match (method, seg) {
            ("GET", ["ref", "heads", rest @ ..]) => match g.refs.get(&rest.join("/")) {
                Some(sha) => answer(200, json!({"object": {"sha": sha, "type": "commit"}})),
                None => not_found(),
            },
            ("GET", ["commits", sha]) => match g.commits.get(*sha) {
                Some((tree, _, _)) => answer(200, json!({"sha": sha, "tree": {"sha": tree}})),
                None => not_found(),
            },
            ("GET", ["trees", sha]) => match g.trees.get(*sha) {
                Some(entries) => {
                    let tree: Vec<Value> = entries
                        .iter()
                        .map(|(name, (kind, sha))| {
                            json!({"path": name, "type": kind, "sha": sha, "mode": "100644"})
                        })
                        .collect();
                    answer(200, json!({"sha": sha, "tree": tree, "truncated": false}))
                }
                None => not_found(),
            },
            ("GET", ["blobs", sha]) => match g.blobs.get(*sha) {
                Some(b) => answer(
                    200,
                    json!({"sha": sha, "encoding": "base64",
                           "content": base64::engine::general_purpose::STANDARD.encode(b)}),
                ),
                None => not_found(),
            },
            ("POST", ["blobs"]) => {
                let Some(Ok(bytes)) = body["content"]
                    .as_str()
                    .map(|c| base64::engine::general_purpose::STANDARD.decode(c))
                else {
                    return answer(422, json!({"message": "bad blob"}));
                };
                answer(201, json!({"sha": g.put_blob(bytes)}))
            }
            ("POST", ["trees"]) => {
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
                answer(201, json!({"sha": g.build(&flat)}))
            }
            ("POST", ["commits"]) => {
                let tree = body["tree"].as_str().unwrap_or_default().to_string();
                let parents: Vec<String> = body["parents"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|p| p.as_str().map(String::from))
                    .collect();
                if !g.trees.contains_key(&tree)
                    || parents.iter().any(|p| !g.commits.contains_key(p))
                {
                    return answer(422, json!({"message": "tree or parent not found"}));
                }
                let msg = body["message"].as_str().unwrap_or_default();
                answer(201, json!({"sha": g.put_commit(&tree, parents, msg)}))
            }
            ("PATCH", ["refs", "heads", rest @ ..]) => {
                let branch = rest.join("/");
                let new = body["sha"].as_str().unwrap_or_default().to_string();
                let Some(old) = g.refs.get(&branch).cloned() else {
                    return answer(422, json!({"message": "Reference does not exist"}));
                };
                if !g.commits.contains_key(&new) {
                    return answer(422, json!({"message": "Object does not exist"}));
                }
                if !body["force"].as_bool().unwrap_or(false) && !g.is_ancestor(&old, &new) {
                    return answer(422, json!({"message": "Update is not a fast forward"}));
                }
                g.refs.insert(branch, new.clone());
                answer(200, json!({"object": {"sha": new}}))
            }
            _ => not_found(),
        }
    }

    fn issue_route(&mut self, req: &Request, seg: &[&str], body: &Value) -> ResponseTemplate {
        match (req.method.as_str(), seg) {
            ("GET", [""] | []) => {
                let label = query(req, "labels").unwrap_or_default();
                let page = query(req, "page").unwrap_or_else(|| "1".into());
                let list: Vec<Value> = if page == "1" {
                    self.issues
                        .iter()
                        .filter(|i| i.open && (label.is_empty() || i.labels.contains(&label)))
                        .map(|i| self.issue_json(i))
                        .collect()
                } else {
                    Vec::new()
                };
                answer(200, Value::Array(list))
            }
            ("POST", [""] | []) => {
                let number = self.issues.len() as u64 + 1;
                let issue = Issue {
                    number,
                    title: body["title"].as_str().unwrap_or_default().into(),
                    body: body["body"].as_str().unwrap_or_default().into(),
                    labels: body["labels"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|l| l.as_str().map(String::from))
                        .collect(),
                    open: true,
                    comments: Vec::new(),
                };
                let v = self.issue_json(&issue);
                self.issues.push(issue);
                answer(201, v)
            }
            ("POST", [n, "comments"]) => {
                match self.issues.iter_mut().find(|i| i.number.to_string() == *n) {
                    Some(i) => {
                        i.comments
                            .push(body["body"].as_str().unwrap_or_default().into());
                        answer(201, json!({"id": i.comments.len()}))
                    }
                    None => not_found(),
                }
            }
            ("PATCH", [n]) => {
                let Some(i) = self.issues.iter_mut().find(|i| i.number.to_string() == *n) else {
                    return not_found();
                };
                if body["state"] == "closed" {
                    i.open = false;
                }
                let i = i.clone();
                answer(200, self.issue_json(&i))
            }
            _ => not_found(),
        }
    }

    fn actions_route(&mut self, method: &str, seg: &[&str], body: &Value) -> ResponseTemplate {
        match (method, seg) {
            ("GET", ["runs", id]) => match self.runs.iter().find(|r| r.id.to_string() == *id) {
                Some(r) => answer(200, Self::run_json(r)),
                None => not_found(),
            },
            ("POST", ["runs", id, "rerun-failed-jobs"]) => {
                let Some(r) = self.runs.iter_mut().find(|r| r.id.to_string() == *id) else {
                    return not_found();
                };
                if r.status != "completed" {
                    return answer(403, json!({"message": "This workflow is already running"}));
                }
                if r.conclusion.as_deref() == Some("success") {
                    return answer(
                        403,
                        json!({"message": "There are no failed jobs to re-run"}),
                    );
                }
                r.attempt += 1;
                r.status = "in_progress".into();
                r.conclusion = None;
                let id = r.id;
                self.reruns.push(id);
                answer(201, json!({}))
            }
            ("POST", ["workflows", _file, "dispatches"]) => {
                self.dispatches.push(body.clone());
                let id = 9000 + self.runs.len() as u64;
                self.runs.push(Run {
                    id,
                    status: "queued".into(),
                    conclusion: None,
                    attempt: 1,
                    created_at: chrono::Utc::now(),
                });
                answer(200, json!({"workflow_run_id": id}))
            }
            _ => not_found(),
        }
    }
}

/// Whether an attestation's bundle has a subject with this SHA-256 (read from its payload).
fn bundle_covers(bundle: &Value, sha256: &str) -> bool {
    let Some(payload) = bundle["dsseEnvelope"]["payload"].as_str() else {
        return false;
    };
    let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(payload) else {
        return false;
    };
    let statement: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    statement["subject"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|s| s["digest"]["sha256"] == sha256)
}

struct Router(Arc<Mutex<State>>);

impl Respond for Router {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        self.0.lock().expect("state").route(req)
    }
}

pub(crate) struct FakeGitHub {
    server: MockServer,
    state: Arc<Mutex<State>>,
}

impl FakeGitHub {
    /// A repository whose `main` has one commit with a README; no release, issue or run.
    pub(crate) async fn start() -> Self {
        let server = MockServer::builder().start().await;
        let mut s = State {
            uri: server.uri(),
            ..State::default()
        };
        let readme = s.git.put_blob(b"# app\n".to_vec());
        let tree = s
            .git
            .build(&BTreeMap::from([("README.md".to_string(), readme)]));
        let c = s.git.put_commit(&tree, vec![], "initial");
        s.git.refs.insert("main".into(), c);
        let state = Arc::new(Mutex::new(s));
        Mock::given(any())
            .respond_with(Router(state.clone()))
            .mount(&server)
            .await;
        Self { server, state }
    }

    pub(crate) fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().expect("state")
    }

    /// `GITHUB_API_URL` for the binary.
    pub(crate) fn api_url(&self) -> String {
        format!("{}/api/v3", self.server.uri())
    }

    /// A published release of `tag` with `notes` (what `gh release create` leaves).
    pub(crate) fn create_release(&self, tag: &str, notes: &str) -> u64 {
        let mut s = self.state();
        let id = s.id();
        s.releases.push(Release {
            id,
            tag: tag.into(),
            body: notes.into(),
            assets: Vec::new(),
        });
        id
    }

    pub(crate) fn release(&self, tag: &str) -> Release {
        self.state()
            .releases
            .iter()
            .find(|r| r.tag == tag)
            .cloned()
            .unwrap_or_else(|| panic!("no release {tag}"))
    }

    /// A workflow run GitHub knows, in the given state.
    pub(crate) fn add_run(&self, id: u64, status: &str, conclusion: Option<&str>) {
        self.state().runs.push(Run {
            id,
            status: status.into(),
            conclusion: conclusion.map(String::from),
            attempt: 1,
            created_at: chrono::Utc::now(),
        });
    }

    /// The workflow run `id` ends with `conclusion`.
    pub(crate) fn complete_run(&self, id: u64, conclusion: &str) {
        let mut s = self.state();
        let r = s
            .runs
            .iter_mut()
            .find(|r| r.id == id)
            .unwrap_or_else(|| panic!("no run {id}"));
        r.status = "completed".into();
        r.conclusion = Some(conclusion.into());
    }

    pub(crate) fn run(&self, id: u64) -> Run {
        self.state()
            .runs
            .iter()
            .find(|r| r.id == id)
            .cloned()
            .unwrap_or_else(|| panic!("no run {id}"))
    }

    /// Every request received so far, as `METHOD /path` (query left out), in order.
    pub(crate) async fn requests(&self) -> Vec<String> {
        self.server
            .received_requests()
            .await
            .unwrap_or_default()
            .iter()
            .map(|r| format!("{} {}", r.method, r.url.path()))
            .collect()
    }

    /// How many requests `METHOD /path` (path relative to the repository, e.g. `/issues`) came.
    pub(crate) async fn count(&self, method: &str, repo_path: &str) -> usize {
        let wanted = format!("{method} {API}{repo_path}");
        self.requests()
            .await
            .iter()
            .filter(|r| **r == wanted)
            .count()
    }

    /// The `Authorization` headers of every request (to check no other token was sent).
    pub(crate) async fn authorizations(&self) -> Vec<String> {
        self.server
            .received_requests()
            .await
            .unwrap_or_default()
            .iter()
            .filter_map(|r| r.headers.get("authorization"))
            .map(|v| v.to_str().unwrap_or_default().to_string())
            .collect()
    }
}
