//! Integration tests: `mode: validate` reading provenance from the network, driving the real
//! binary against a wiremock fake GitHub on 127.0.0.1 (`GITHUB_API_URL` pointed at it, GHES
//! style `/api/v3`): a workflow run's artifact (`run-id` + `artifact-name`), the tag's release
//! `*.intoto.jsonl` assets, then the attestations API by the subjects' digests. The bundle is
//! what our provenance mode signs with a key, so every pass is a real signature check.

use std::io::Write;

use serde_json::{json, Value};
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use crate::common::{sha256_hex, Runner, Workspace};
use crate::validate::{report, signed_release, validate};

const RUNS: &str = "/api/v3/repos/octo/app/actions/runs/99/artifacts";

/// Provenance mode's key-signed bundle for `dist/*` of release v1.0.0, as one JSON line.
fn own_bundle() -> (Workspace, Vec<u8>) {
    let (ws, bundle, _) = signed_release();
    let value: Value = serde_json::from_str(&ws.read(&bundle)).expect("bundle");
    std::fs::remove_file(ws.path().join(&bundle)).expect("only the network has it now");
    (ws, format!("{value}\n").into_bytes())
}

/// Validate dist/* against the fake GitHub, no provenance-path.
fn networked(ws: &Workspace, server: &MockServer) -> Runner {
    validate(ws)
        .release_event("v1.0.0")
        .env("GITHUB_API_URL", format!("{}/api/v3", server.uri()))
        .env("SLSA_PROVENANCE_RETRY_BASE_MS", "1")
        .input("subject-path", "dist/*")
        .input("public-key", "public.pem")
}

fn zip_of(name: &str, data: &[u8]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    w.start_file(name, zip::write::SimpleFileOptions::default())
        .expect("start");
    w.write_all(data).expect("write");
    w.finish().expect("finish").into_inner()
}

async fn list_run(server: &MockServer, expired: bool) {
    Mock::given(method("GET"))
        .and(path(RUNS))
        .and(query_param("name", "provenance"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "total_count": 1,
            "artifacts": [{"id": 7, "name": "provenance", "size_in_bytes": 10,
                           "expired": expired,
                           "archive_download_url": "https://api.example/zip/7"}]
        })))
        .mount(server)
        .await;
}

async fn serve_zip(server: &MockServer, zip: Vec<u8>) {
    Mock::given(method("GET"))
        .and(path("/api/v3/repos/octo/app/actions/artifacts/7/zip"))
        .respond_with(ResponseTemplate::new(302).insert_header(
            "location",
            format!("{}/storage/artifact-7.zip", server.uri()).as_str(),
        ))
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path("/storage/artifact-7.zip"))
        .respond_with(ResponseTemplate::new(200).set_body_bytes(zip))
        .mount(server)
        .await;
}

/// The release for v1.0.0 with these assets.
async fn release(server: &MockServer, assets: Value) {
    Mock::given(method("GET"))
        .and(path("/api/v3/repos/octo/app/releases/tags/v1.0.0"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": 42, "tag_name": "v1.0.0", "draft": false,
            "upload_url": format!("{}/api/uploads/repos/octo/app/releases/42/assets{{?name,label}}", server.uri()),
        })))
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v3/repos/octo/app/releases/42/assets"))
        .respond_with(ResponseTemplate::new(200).set_body_json(assets))
        .mount(server)
        .await;
}

async fn requests(server: &MockServer) -> Vec<Request> {
    server.received_requests().await.expect("recording")
}

fn paths(reqs: &[Request]) -> Vec<String> {
    reqs.iter().map(|r| r.url.path().to_string()).collect()
}

fn attestations_route(content: &[u8]) -> String {
    format!(
        "/api/v3/repos/octo/app/attestations/sha256:{}",
        sha256_hex(content)
    )
}

#[tokio::test]
async fn run_artifact_holding_our_bundle_is_verified() {
    let (ws, bundle) = own_bundle();
    let server = MockServer::start().await;
    list_run(&server, false).await;
    serve_zip(&server, zip_of("app.intoto.jsonl", &bundle)).await;
    let out = networked(&ws, &server)
        .input("run-id", "99")
        .input("artifact-name", "provenance")
        .input("github-token", "ghs_fakeNetworkToken")
        .run();
    out.assert_success();
    assert_eq!(out.out("subjects-verified"), Some("2"));
    let r = report(&ws);
    assert_eq!(
        r["documents"][0]["origin"],
        "run 99 artifact provenance/app.intoto.jsonl"
    );
    let reqs = requests(&server).await;
    let listing = reqs
        .iter()
        .find(|r| r.url.path() == RUNS)
        .expect("the run's artifacts were listed");
    assert_eq!(
        listing.headers.get("authorization").map(|v| v.as_bytes()),
        Some(&b"Bearer ghs_fakeNetworkToken"[..])
    );
    assert!(paths(&reqs).contains(&"/storage/artifact-7.zip".to_string()));
    // The artifact is unpacked under RUNNER_TEMP, never in the workspace.
    let temp_left: Vec<_> = std::fs::read_dir(ws.path())
        .expect("ws")
        .filter_map(|e| e.ok())
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .contains("slsa-validate-artifact")
        })
        .collect();
    assert!(temp_left.is_empty());
}

#[tokio::test]
async fn expired_run_artifact_is_artifact_retention_missing() {
    let (ws, _) = own_bundle();
    let server = MockServer::start().await;
    list_run(&server, true).await;
    networked(&ws, &server)
        .input("run-id", "99")
        .input("artifact-name", "provenance")
        .run()
        .assert_failure("artifact_retention_missing");
    assert!(
        !paths(&requests(&server).await)
            .iter()
            .any(|p| p.contains("/zip")),
        "an expired artifact is not downloaded"
    );
}

#[tokio::test]
async fn absent_run_artifact_is_artifact_missing() {
    let (ws, _) = own_bundle();
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(RUNS))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"total_count": 0, "artifacts": []})),
        )
        .mount(&server)
        .await;
    networked(&ws, &server)
        .input("run-id", "99")
        .input("artifact-name", "provenance")
        .run()
        .assert_failure("artifact_missing");
}

#[tokio::test]
async fn release_intoto_asset_is_verified_without_a_token() {
    let (ws, bundle) = own_bundle();
    let server = MockServer::start().await;
    release(
        &server,
        json!([
            {"id": 1, "name": "app-1.0.0.tar.gz", "state": "uploaded", "size": 3},
            {"id": 2, "name": "app.intoto.jsonl", "state": "uploaded", "size": bundle.len()},
        ]),
    )
    .await;
    Mock::given(method("GET"))
        .and(path("/api/v3/repos/octo/app/releases/assets/2"))
        .respond_with(ResponseTemplate::new(200).set_body_bytes(bundle))
        .mount(&server)
        .await;
    let out = networked(&ws, &server).run();
    out.assert_success();
    assert_eq!(out.out("subjects-verified"), Some("2"));
    assert_eq!(
        report(&ws)["documents"][0]["origin"],
        "octo/app release v1.0.0 asset app.intoto.jsonl"
    );
    let reqs = requests(&server).await;
    assert!(reqs
        .iter()
        .all(|r| r.headers.get("authorization").is_none()));
    assert!(!paths(&reqs).iter().any(|p| p.contains("attestations")));
}

#[tokio::test]
async fn attestations_api_is_the_fallback_when_the_release_has_no_provenance() {
    let (ws, bundle) = own_bundle();
    let bundle_json: Value = serde_json::from_slice(&bundle).expect("json");
    let server = MockServer::start().await;
    release(
        &server,
        json!([{"id": 1, "name": "app-1.0.0.tar.gz", "state": "uploaded", "size": 3}]),
    )
    .await;
    for content in [&b"the release archive"[..], b"the other archive"] {
        Mock::given(method("GET"))
            .and(path(attestations_route(content)))
            .respond_with(
                ResponseTemplate::new(200).set_body_json(
                    json!({"attestations": [{"id": 5, "bundle": bundle_json.clone()}]}),
                ),
            )
            .mount(&server)
            .await;
    }
    let out = networked(&ws, &server).run();
    out.assert_success();
    assert_eq!(out.out("subjects-verified"), Some("2"));
    let ps = paths(&requests(&server).await);
    for content in [&b"the release archive"[..], b"the other archive"] {
        assert!(ps.contains(&attestations_route(content)), "{ps:?}");
    }
}

#[tokio::test]
async fn nothing_in_release_or_attestations_is_provenance_not_found() {
    let (ws, _) = own_bundle();
    let server = MockServer::start().await;
    // No release for the tag; the attestations API knows neither digest.
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({"message": "Not Found"})))
        .mount(&server)
        .await;
    networked(&ws, &server)
        .run()
        .assert_failure("provenance_not_found");
    let ps = paths(&requests(&server).await);
    assert!(ps.contains(&"/api/v3/repos/octo/app/releases/tags/v1.0.0".to_string()));
    assert!(ps.contains(&attestations_route(b"the release archive")));
}
