//! A recording fake GitHub on 127.0.0.1 for the provenance benchmark's request count: just
//! enough state for a publishing run to succeed the way it does on github.com (a release with
//! notes and assets, the attestations API, the Git Database API the `commit` audit store
//! uses), every request kept by wiremock so the bench can count them by kind.
//!
//! The API lives under `/api/v3`, uploads under `/api/uploads` (GHES layout, as the
//! integration tests' fakes), so `GITHUB_API_URL` is the only address the binary is given.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

// The integration tests' Git object store (the bench uses part of it).
#[allow(dead_code)]
#[path = "../../tests/integration/git_objects.rs"]
mod git_objects;
use git_objects::GitObjects;

pub const RELEASE_ID: u64 = 42;
const REPO: &str = "/api/v3/repos/octo/app";

#[derive(Debug, Clone)]
struct Asset {
    id: u64,
    name: String,
}

/// Git objects: blob and tree and commit ids are content hashes, as on GitHub.
#[derive(Debug, Default)]
struct Git {
    objects: GitObjects,
    refs: BTreeMap<String, String>,
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

#[derive(Debug, Default)]
struct State {
    uri: String,
    next_id: u64,
    tag: String,
    body: String,
    assets: Vec<Asset>,
    attestations: u64,
    git: Git,
}

impl State {
    fn id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    fn release_json(&self) -> Value {
        json!({
            "id": RELEASE_ID,
            "tag_name": self.tag,
            "draft": false,
            "body": self.body,
            "html_url": format!("https://github.com/octo/app/releases/tag/{}", self.tag),
            "upload_url": format!(
                "{}/api/uploads/repos/octo/app/releases/{RELEASE_ID}/assets{{?name,label}}",
                self.uri
            ),
        })
    }

    fn asset_json(&self, a: &Asset) -> Value {
        json!({
            "id": a.id,
            "name": a.name,
            "state": "uploaded",
            "size": 1,
            "browser_download_url":
                format!("https://github.com/octo/app/releases/download/{}/{}", self.tag, a.name),
        })
    }
}

fn answer(status: u16, body: Value) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(body)
}

fn not_found() -> ResponseTemplate {
    answer(404, json!({"message": "Not Found"}))
}

struct Router(Arc<Mutex<State>>);

impl Respond for Router {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let Ok(mut s) = self.0.lock() else {
            return answer(500, json!({"message": "fake state poisoned"}));
        };
        let path = req.url.path().to_string();
        if let Some(upload) = path.strip_prefix("/api/uploads/repos/octo/app/releases/") {
            return match (req.method.as_str(), upload) {
                ("POST", "42/assets") => upload_asset(&mut s, req),
                _ => not_found(),
            };
        }
        let Some(route) = path.strip_prefix(REPO) else {
            return not_found();
        };
        let body: Value = req.body_json().unwrap_or(Value::Null);
        let seg: Vec<&str> = route.trim_start_matches('/').split('/').collect();
        let release = RELEASE_ID.to_string();
        match (req.method.as_str(), seg.as_slice()) {
            ("GET", [""]) => answer(200, json!({"default_branch": "main"})),
            ("POST", ["attestations"]) => {
                s.attestations += 1;
                let id = s.id();
                answer(201, json!({ "id": id }))
            }
            ("GET", ["attestations", _]) => answer(200, json!({"attestations": []})),
            ("GET", ["releases", "tags", tag]) if *tag == s.tag => answer(200, s.release_json()),
            ("GET", ["releases", id]) if *id == release => answer(200, s.release_json()),
            ("PATCH", ["releases", id]) if *id == release => {
                s.body = body["body"].as_str().unwrap_or_default().to_string();
                answer(200, s.release_json())
            }
            ("GET", ["releases", id, "assets"]) if *id == release => {
                let first_page = req.url.query_pairs().all(|(k, v)| k != "page" || v == "1");
                let list: Vec<Value> = if first_page {
                    s.assets.iter().map(|a| s.asset_json(a)).collect()
                } else {
                    Vec::new()
                };
                answer(200, Value::Array(list))
            }
            ("PATCH", ["releases", "assets", id]) => {
                let name = body["name"].as_str().unwrap_or_default().to_string();
                if s.assets
                    .iter()
                    .any(|a| a.name == name && a.id.to_string() != *id)
                {
                    return answer(422, json!({"message": "Validation Failed"}));
                }
                let Some(a) = s.assets.iter_mut().find(|a| a.id.to_string() == *id) else {
                    return not_found();
                };
                a.name = name;
                let a = a.clone();
                answer(200, s.asset_json(&a))
            }
            ("DELETE", ["releases", "assets", id]) => {
                let before = s.assets.len();
                s.assets.retain(|a| a.id.to_string() != *id);
                if s.assets.len() < before {
                    ResponseTemplate::new(204)
                } else {
                    not_found()
                }
            }
            (_, ["git", ..]) => git_data(&mut s.git, req.method.as_str(), &seg[1..], &body),
            _ => not_found(),
        }
    }
}

fn upload_asset(s: &mut State, req: &Request) -> ResponseTemplate {
    let Some(name) = req
        .url
        .query_pairs()
        .find(|(k, _)| k == "name")
        .map(|(_, v)| v.to_string())
    else {
        return answer(422, json!({"message": "name query missing"}));
    };
    if s.assets.iter().any(|a| a.name == name) {
        return answer(422, json!({"message": "Validation Failed"}));
    }
    let asset = Asset { id: s.id(), name };
    s.assets.push(asset.clone());
    answer(201, s.asset_json(&asset))
}

/// The Git Database API: refs move only as fast forwards.
fn git_data(g: &mut Git, method: &str, seg: &[&str], body: &Value) -> ResponseTemplate {
    match (method, seg) {
        ("GET", ["ref", "heads", rest @ ..]) => match g.refs.get(&rest.join("/")) {
            Some(id) => answer(200, json!({"object": {"sha": id, "type": "commit"}})),
            None => not_found(),
        },
        ("GET", ["commits", id]) => match g.commits.get(*id) {
            Some((tree, _, _)) => answer(200, json!({"sha": id, "tree": {"sha": tree}})),
            None => not_found(),
        },
        ("GET", ["trees", id]) => match g.trees.get(*id) {
            Some(entries) => {
                let tree: Vec<Value> = entries
                    .iter()
                    .map(|(name, (kind, id))| {
                        json!({"path": name, "type": kind, "sha": id, "mode": "100644"})
                    })
                    .collect();
                answer(200, json!({"sha": id, "tree": tree, "truncated": false}))
            }
            None => not_found(),
        },
        ("GET", ["blobs", id]) => match g.blobs.get(*id) {
            Some(b) => {
                use base64::Engine;
                let content = base64::engine::general_purpose::STANDARD.encode(b);
                answer(
                    200,
                    json!({"sha": id, "encoding": "base64", "content": content}),
                )
            }
            None => not_found(),
        },
        ("POST", ["blobs"]) => {
            use base64::Engine;
            let Some(Ok(bytes)) = body["content"]
                .as_str()
                .map(|c| base64::engine::general_purpose::STANDARD.decode(c))
            else {
                return answer(422, json!({"message": "bad blob"}));
            };
            let id = g.put_blob(bytes);
            answer(201, json!({"sha": id}))
        }
        ("POST", ["trees"]) => {
            let mut flat = BTreeMap::new();
            if let Some(base) = body["base_tree"].as_str() {
                if !g.trees.contains_key(base) {
                    return answer(422, json!({"message": "base_tree not found"}));
                }
                g.flatten(base, "", &mut flat);
            }
            for e in body["tree"].as_array().into_iter().flatten() {
                let (Some(p), Some(id)) = (e["path"].as_str(), e["sha"].as_str()) else {
                    return answer(422, json!({"message": "bad tree entry"}));
                };
                if !g.blobs.contains_key(id) {
                    return answer(422, json!({"message": "blob not found"}));
                }
                flat.insert(p.to_string(), id.to_string());
            }
            let id = g.build(&flat);
            answer(201, json!({"sha": id}))
        }
        ("POST", ["commits"]) => {
            let tree = body["tree"].as_str().unwrap_or_default().to_string();
            let parents: Vec<String> = body["parents"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|p| p.as_str().map(String::from))
                .collect();
            if !g.trees.contains_key(&tree) || parents.iter().any(|p| !g.commits.contains_key(p)) {
                return answer(422, json!({"message": "tree or parent not found"}));
            }
            let message = body["message"].as_str().unwrap_or_default();
            let id = g.put_commit(&tree, parents, message);
            answer(201, json!({"sha": id}))
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
            if !g.is_ancestor(&old, &new) {
                return answer(422, json!({"message": "Update is not a fast forward"}));
            }
            g.refs.insert(branch, new.clone());
            answer(200, json!({"object": {"sha": new}}))
        }
        _ => not_found(),
    }
}

/// The fake: a published release for `tag` with notes, no assets yet, and a repository whose
/// `main` holds one commit with a README.
pub struct FakeGitHub {
    server: MockServer,
    state: Arc<Mutex<State>>,
}

impl FakeGitHub {
    pub async fn start(tag: &str) -> Self {
        let server = MockServer::builder().start().await;
        let mut git = Git::default();
        let readme = git.put_blob(b"# app\n".to_vec());
        let tree = git.build(&BTreeMap::from([("README.md".to_string(), readme)]));
        let head = git.put_commit(&tree, Vec::new(), "initial");
        git.refs.insert("main".into(), head);
        let state = Arc::new(Mutex::new(State {
            uri: server.uri(),
            tag: tag.into(),
            body: "Release notes.".into(),
            git,
            ..Default::default()
        }));
        Mock::given(any())
            .respond_with(Router(state.clone()))
            .mount(&server)
            .await;
        Self { server, state }
    }

    pub fn api_url(&self) -> String {
        format!("{}/api/v3", self.server.uri())
    }

    /// Every request received so far, as (method, path).
    pub async fn requests(&self) -> Vec<(String, String)> {
        self.server
            .received_requests()
            .await
            .unwrap_or_default()
            .into_iter()
            .map(|r| (r.method.to_string(), r.url.path().to_string()))
            .collect()
    }

    /// (attestations stored, assets on the release, commits on `main` beyond the first,
    /// release notes mention the marker).
    pub fn published(&self) -> (u64, usize, usize, bool) {
        let Ok(s) = self.state.lock() else {
            return (0, 0, 0, false);
        };
        let mut commits: usize = 0;
        let mut c = s.git.refs.get("main").cloned();
        while let Some(id) = c {
            c = s
                .git
                .commits
                .get(&id)
                .and_then(|(_, p, _)| p.first().cloned());
            commits += 1;
        }
        (
            s.attestations,
            s.assets.len(),
            commits.saturating_sub(1),
            s.body.contains("slsa-provenance-action:provenance"),
        )
    }
}

/// The kind of GitHub call a request is, in the terms.
pub fn kind(method: &str, path: &str) -> &'static str {
    let route = path
        .strip_prefix(REPO)
        .unwrap_or(path)
        .trim_start_matches('/');
    let seg: Vec<&str> = route.split('/').collect();
    match (method, seg.as_slice()) {
        _ if path.starts_with("/api/uploads/") => "asset upload",
        ("GET", ["releases", "tags", _]) => "release lookup",
        ("GET", ["releases", _]) => "release re-read (notes)",
        ("PATCH", ["releases", _]) => "release notes update",
        ("GET", ["releases", _, "assets"]) => "asset list",
        ("PATCH", ["releases", "assets", _]) => "asset rename",
        ("DELETE", ["releases", "assets", _]) => "asset delete",
        (_, ["attestations", ..]) => "attestation",
        ("GET", [""]) => "audit commit: repository (default branch)",
        ("GET", ["git", "ref", ..]) => "audit commit: read ref",
        ("GET", ["git", "commits", _]) => "audit commit: read commit",
        ("GET", ["git", "trees", _]) => "audit commit: read tree",
        ("GET", ["git", "blobs", _]) => "audit commit: read blob",
        ("POST", ["git", "blobs"]) => "audit commit: create blob",
        ("POST", ["git", "trees"]) => "audit commit: create tree",
        ("POST", ["git", "commits"]) => "audit commit: create commit",
        ("PATCH", ["git", "refs", ..]) => "audit commit: update ref",
        _ => "other",
    }
}
