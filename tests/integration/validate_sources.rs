//! Integration tests: where `mode: validate` fetches provenance from the network, through the
//! library API (`adapters::provenance_sources`) against a fake GitHub on 127.0.0.1.
//!
//! The fake serves the API under `/api/v3` (GHES-style, so `GITHUB_API_URL` with a base path is
//! exercised) and a "storage" host path under `/storage` that GitHub's download redirects point
//! at. Each test asserts on the requests that arrived: the token never reaches storage, retries
//! happen the promised number of times. Retry waits are 1 ms, so nothing sleeps for seconds.

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use serde_json::json;
use wiremock::matchers::{header, method, path, query_param, query_param_is_missing};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use slsa_provenance_action::adapters::github::{GitHub, GitHubConfig};
use slsa_provenance_action::adapters::provenance_sources::{
    fetch_release_provenance, fetch_run_artifact, SourceError, SOURCE_ATTEMPTS,
};
use slsa_provenance_action::adapters::zip_unpack::{Limits, UnpackError};
use slsa_provenance_action::domain::retry::RetryPolicy;
use slsa_provenance_action::error::Failure;
use slsa_provenance_action::secret::Secret;

const TOKEN: &str = "ghs_fakeTokenForSourceTests";
const REPO: &str = "octo/app";
const RUNS: &str = "/api/v3/repos/octo/app/actions/runs/99/artifacts";
const DIGEST: &str = "8d41be4e6e3c0b2f5a9c7a5e1bd6b4d0e9f6c3a2b1d0e9f8c7b6a5d4c3b2a190";

fn config(server: &MockServer) -> GitHubConfig {
    GitHubConfig {
        api_url: format!("{}/api/v3", server.uri()),
        timeout: Duration::from_secs(10),
        policy: RetryPolicy {
            base: Duration::from_millis(1),
            server_wait_scale: 0.0,
            ..RetryPolicy::default()
        },
    }
}

/// Retry notes are not asserted on here.
static NO_LOG: fn(&str) = |_| {};

fn client<'a>(config: &GitHubConfig, token: Option<&Secret>) -> GitHub<'a> {
    GitHub::with_optional_token(config, token, &NO_LOG).expect("client")
}

fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, data) in entries {
        w.start_file(*name, zip::write::SimpleFileOptions::default())
            .expect("start");
        w.write_all(data).expect("write");
    }
    w.finish().expect("finish").into_inner()
}

fn artifact(id: u64, name: &str, expired: bool) -> serde_json::Value {
    json!({"id": id, "name": name, "size_in_bytes": 10, "expired": expired,
           "archive_download_url": format!("https://api.example/zip/{id}")})
}

/// The listing of run 99: one page with these artifacts.
async fn list_run(server: &MockServer, artifacts: Vec<serde_json::Value>) {
    Mock::given(method("GET"))
        .and(path(RUNS))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "total_count": artifacts.len(), "artifacts": artifacts
        })))
        .mount(server)
        .await;
}

/// Artifact `id`'s zip: a 302 to storage, which serves `zip`.
async fn serve_zip(server: &MockServer, id: u64, zip: Vec<u8>) {
    Mock::given(method("GET"))
        .and(path(format!(
            "/api/v3/repos/octo/app/actions/artifacts/{id}/zip"
        )))
        .respond_with(ResponseTemplate::new(302).insert_header(
            "location",
            format!("{}/storage/artifact-{id}.zip?sig=abc", server.uri()).as_str(),
        ))
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("/storage/artifact-{id}.zip")))
        .and(query_param("sig", "abc"))
        .respond_with(ResponseTemplate::new(200).set_body_bytes(zip))
        .mount(server)
        .await;
}

async fn requests(server: &MockServer) -> Vec<Request> {
    server.received_requests().await.expect("recording")
}

fn auth(r: &Request) -> Option<String> {
    r.headers
        .get("authorization")
        .map(|v| v.to_str().unwrap_or("?").to_string())
}

async fn fetch_artifact(
    server: &MockServer,
    name: Option<&str>,
    dest: &Path,
    limits: Limits,
) -> Result<Vec<std::path::PathBuf>, SourceError> {
    let config = config(server);
    let token = Secret::new(TOKEN);
    let gh = client(&config, Some(&token));
    fetch_run_artifact(&gh, REPO, 99, name, dest, limits).await
}

#[tokio::test]
async fn run_artifact_listing_follows_link_pages_and_the_redirect_drops_the_token() {
    let server = MockServer::start().await;
    let next = format!(
        "<{}{RUNS}?per_page=100&name=provenance&page=2>; rel=\"next\"",
        server.uri()
    );
    Mock::given(method("GET"))
        .and(path(RUNS))
        .and(query_param_is_missing("page"))
        .and(query_param("name", "provenance"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("link", next.as_str())
                .set_body_json(json!({"total_count": 2,
                    "artifacts": [artifact(3, "provenance-old-name-lookalike", false)]})),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(RUNS))
        .and(query_param("page", "2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"total_count": 2, "artifacts": [artifact(7, "provenance", false)]}),
        ))
        .mount(&server)
        .await;
    let zip = zip_of(&[
        ("app.intoto.jsonl", b"{\"line\":1}\n"),
        ("nested/b.sigstore.json", b"{}"),
    ]);
    serve_zip(&server, 7, zip).await;

    let tmp = tempfile::tempdir().expect("tmp");
    let files = fetch_artifact(&server, Some("provenance"), tmp.path(), Limits::default())
        .await
        .expect("fetched");

    let folder = tmp.path().join("provenance");
    assert_eq!(
        files,
        vec![
            folder.join("app.intoto.jsonl"),
            folder.join("nested/b.sigstore.json")
        ]
    );
    assert_eq!(
        std::fs::read(folder.join("app.intoto.jsonl")).expect("read"),
        b"{\"line\":1}\n"
    );
    let reqs = requests(&server).await;
    let paths: Vec<&str> = reqs.iter().map(|r| r.url.path()).collect();
    assert_eq!(
        paths,
        vec![
            RUNS,
            RUNS,
            "/api/v3/repos/octo/app/actions/artifacts/7/zip",
            "/storage/artifact-7.zip"
        ]
    );
    for r in &reqs[..3] {
        assert_eq!(auth(r).as_deref(), Some(&*format!("Bearer {TOKEN}")));
    }
    // The storage URL GitHub redirects to must never see the token.
    assert_eq!(auth(&reqs[3]), None);
    assert!(!format!("{:?}", reqs[3].headers).contains(TOKEN));
}

#[tokio::test]
async fn run_artifact_listing_5xx_three_times_then_success_is_retried() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(RUNS))
        .respond_with(ResponseTemplate::new(502))
        .up_to_n_times(3)
        .with_priority(1)
        .mount(&server)
        .await;
    list_run(&server, vec![artifact(7, "provenance", false)]).await;
    serve_zip(&server, 7, zip_of(&[("a.intoto.jsonl", b"x")])).await;

    let tmp = tempfile::tempdir().expect("tmp");
    let files = fetch_artifact(&server, Some("provenance"), tmp.path(), Limits::default())
        .await
        .expect("fetched after retries");
    assert_eq!(files.len(), 1);
    let listing = requests(&server)
        .await
        .iter()
        .filter(|r| r.url.path() == RUNS)
        .count();
    assert_eq!(listing, 4, "three retries after the first send");
}

#[tokio::test]
async fn storage_5xx_is_retried_and_persistent_5xx_gives_up_after_four_sends() {
    let server = MockServer::start().await;
    list_run(&server, vec![artifact(7, "provenance", false)]).await;
    Mock::given(method("GET"))
        .and(path("/api/v3/repos/octo/app/actions/artifacts/7/zip"))
        .respond_with(ResponseTemplate::new(302).insert_header(
            "location",
            format!("{}/storage/flaky.zip", server.uri()).as_str(),
        ))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/storage/flaky.zip"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&server)
        .await;

    let tmp = tempfile::tempdir().expect("tmp");
    let e = fetch_artifact(&server, Some("provenance"), tmp.path(), Limits::default())
        .await
        .expect_err("storage never recovers");
    assert!(matches!(e, SourceError::Api { .. }), "{e:?}");
    assert_eq!(Failure::from(e).reason.code(), "github_api_failed");
    let storage = requests(&server)
        .await
        .iter()
        .filter(|r| r.url.path() == "/storage/flaky.zip")
        .count();
    assert_eq!(storage, SOURCE_ATTEMPTS as usize);
}

#[tokio::test]
async fn expired_artifact_is_artifact_retention_missing_without_a_download() {
    let server = MockServer::start().await;
    list_run(&server, vec![artifact(7, "provenance", true)]).await;
    let tmp = tempfile::tempdir().expect("tmp");
    let e = fetch_artifact(&server, Some("provenance"), tmp.path(), Limits::default())
        .await
        .expect_err("expired");
    assert_eq!(Failure::from(e).reason.code(), "artifact_retention_missing");
    assert!(requests(&server)
        .await
        .iter()
        .all(|r| !r.url.path().ends_with("/zip")));
}

#[tokio::test]
async fn artifact_download_410_is_artifact_retention_missing() {
    let server = MockServer::start().await;
    list_run(&server, vec![artifact(7, "provenance", false)]).await;
    Mock::given(method("GET"))
        .and(path("/api/v3/repos/octo/app/actions/artifacts/7/zip"))
        .respond_with(
            ResponseTemplate::new(410).set_body_json(json!({"message": "Artifact has expired"})),
        )
        .mount(&server)
        .await;
    let tmp = tempfile::tempdir().expect("tmp");
    let e = fetch_artifact(&server, Some("provenance"), tmp.path(), Limits::default())
        .await
        .expect_err("gone");
    assert_eq!(Failure::from(e).reason.code(), "artifact_retention_missing");
    // 410 is final: sent once.
    let zips = requests(&server)
        .await
        .iter()
        .filter(|r| r.url.path().ends_with("/zip"))
        .count();
    assert_eq!(zips, 1);
}

#[tokio::test]
async fn absent_artifact_and_absent_run_are_artifact_missing() {
    let server = MockServer::start().await;
    list_run(&server, vec![artifact(7, "something-else", false)]).await;
    let tmp = tempfile::tempdir().expect("tmp");
    let e = fetch_artifact(&server, Some("provenance"), tmp.path(), Limits::default())
        .await
        .expect_err("absent");
    assert_eq!(Failure::from(e).reason.code(), "artifact_missing");

    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(RUNS))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({"message": "Not Found"})))
        .mount(&server)
        .await;
    let e = fetch_artifact(&server, Some("provenance"), tmp.path(), Limits::default())
        .await
        .expect_err("no run");
    assert_eq!(Failure::from(e).reason.code(), "artifact_missing");
}

#[tokio::test]
async fn without_a_name_every_live_artifact_is_unpacked_in_its_own_folder() {
    let server = MockServer::start().await;
    list_run(
        &server,
        vec![
            artifact(7, "linux", false),
            artifact(8, "old", true),
            artifact(9, "../escape", false),
        ],
    )
    .await;
    serve_zip(&server, 7, zip_of(&[("l.intoto.jsonl", b"l")])).await;
    serve_zip(&server, 9, zip_of(&[("e.intoto.jsonl", b"e")])).await;
    let tmp = tempfile::tempdir().expect("tmp");
    let files = fetch_artifact(&server, None, tmp.path(), Limits::default())
        .await
        .expect("fetched");
    assert_eq!(
        files,
        vec![
            tmp.path().join("linux/l.intoto.jsonl"),
            tmp.path().join("artifact-9/e.intoto.jsonl")
        ]
    );
}

// Zip slip: an artifact whose entries point outside the target folder must write nothing.
#[tokio::test]
async fn zip_slip_artifact_is_malformed_and_writes_nothing_outside() {
    for evil in ["../outside.txt", "/tmp/absolute-slsa-zip-slip.txt"] {
        let server = MockServer::start().await;
        list_run(&server, vec![artifact(7, "provenance", false)]).await;
        serve_zip(
            &server,
            7,
            zip_of(&[("fine.intoto.jsonl", b"ok"), (evil, b"pwned")]),
        )
        .await;
        let tmp = tempfile::tempdir().expect("tmp");
        let dest = tmp.path().join("dest");
        let e = fetch_artifact(&server, Some("provenance"), &dest, Limits::default())
            .await
            .expect_err("unsafe");
        assert!(
            matches!(
                e,
                SourceError::UnsafeArchive {
                    error: UnpackError::UnsafePath { .. },
                    ..
                }
            ),
            "{evil}: {e:?}"
        );
        assert_eq!(Failure::from(e).reason.code(), "malformed_provenance");
        assert!(!tmp.path().join("outside.txt").exists());
        assert!(!Path::new("/tmp/absolute-slsa-zip-slip.txt").exists());
        assert!(!dest.join("provenance").exists(), "partial folder removed");
    }
}

// Zip bomb: too many bytes or too many entries is refused before the disk fills.
#[tokio::test]
async fn zip_bomb_artifact_is_malformed_by_size_and_by_count() {
    let limits = Limits {
        max_entries: 50,
        max_total_bytes: 1 << 20,
    };
    let zeros = vec![0u8; 2 << 20];
    let many: Vec<(String, Vec<u8>)> = (0..51).map(|i| (format!("f{i}"), vec![1])).collect();
    let many: Vec<(&str, &[u8])> = many.iter().map(|(n, d)| (n.as_str(), &d[..])).collect();
    for (zip, want) in [
        (zip_of(&[("bomb.bin", &zeros)]), "size"),
        (zip_of(&many), "count"),
    ] {
        let server = MockServer::start().await;
        list_run(&server, vec![artifact(7, "provenance", false)]).await;
        serve_zip(&server, 7, zip).await;
        let tmp = tempfile::tempdir().expect("tmp");
        let e = fetch_artifact(&server, Some("provenance"), tmp.path(), limits)
            .await
            .expect_err(want);
        match (&e, want) {
            (
                SourceError::UnsafeArchive {
                    error: UnpackError::TooLarge { .. },
                    ..
                },
                "size",
            )
            | (
                SourceError::UnsafeArchive {
                    error: UnpackError::TooManyEntries { .. },
                    ..
                },
                "count",
            ) => {}
            _ => panic!("{want}: {e:?}"),
        }
        assert_eq!(Failure::from(e).reason.code(), "malformed_provenance");
    }
}

async fn release(server: &MockServer, assets: serde_json::Value) {
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

#[tokio::test]
async fn public_release_intoto_assets_are_downloaded_without_a_token() {
    let server = MockServer::start().await;
    release(
        &server,
        json!([
            {"id": 1, "name": "app.tar.gz", "state": "uploaded", "size": 3},
            {"id": 2, "name": "app.tar.gz.intoto.jsonl", "state": "uploaded", "size": 5},
            {"id": 3, "name": "half.intoto.jsonl", "state": "starter", "size": 0},
        ]),
    )
    .await;
    Mock::given(method("GET"))
        .and(path("/api/v3/repos/octo/app/releases/assets/2"))
        .and(header("accept", "application/octet-stream"))
        .respond_with(ResponseTemplate::new(302).insert_header(
            "location",
            format!("{}/storage/asset-2?token=signed", server.uri()).as_str(),
        ))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/storage/asset-2"))
        .respond_with(ResponseTemplate::new(200).set_body_bytes(b"{\"a\":1}\n".to_vec()))
        .mount(&server)
        .await;

    let config = config(&server);
    let gh = client(&config, None);
    let found = fetch_release_provenance(&gh, REPO, Some("v1.0.0"), &[DIGEST.to_string()])
        .await
        .expect("found");
    assert_eq!(
        found,
        vec![(
            "octo/app release v1.0.0 asset app.tar.gz.intoto.jsonl".to_string(),
            b"{\"a\":1}\n".to_vec()
        )]
    );
    let reqs = requests(&server).await;
    assert!(reqs.iter().all(|r| auth(r).is_none()), "no token anywhere");
    assert!(
        reqs.iter().all(|r| !r.url.path().contains("attestations")),
        "assets found: the attestations API is not needed"
    );
    assert!(reqs
        .iter()
        .all(|r| r.url.path() != "/api/v3/repos/octo/app/releases/assets/1"));
}

#[tokio::test]
async fn release_without_intoto_assets_falls_back_to_attestations_paged_by_cursor() {
    let server = MockServer::start().await;
    release(
        &server,
        json!([{"id": 1, "name": "app.tar.gz", "state": "uploaded", "size": 3}]),
    )
    .await;
    let route = format!("/api/v3/repos/octo/app/attestations/sha256:{DIGEST}");
    let next = format!(
        "<{}{route}?per_page=100&after=CURSOR2>; rel=\"next\"",
        server.uri()
    );
    Mock::given(method("GET"))
        .and(path(route.as_str()))
        .and(query_param_is_missing("after"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("link", next.as_str())
                .set_body_json(json!({"attestations": [
                    {"id": 11, "bundle": {"mediaType": "one"}},
                    {"id": 12, "bundle": null, "bundle_url": "https://storage.example/b"}
                ]})),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(route.as_str()))
        .and(query_param("after", "CURSOR2"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(
                json!({"attestations": [{"id": 13, "bundle": {"mediaType": "two"}}]}),
            ),
        )
        .mount(&server)
        .await;

    let config = config(&server);
    let token = Secret::new(TOKEN);
    let gh = client(&config, Some(&token));
    let found = fetch_release_provenance(&gh, REPO, Some("v1.0.0"), &[DIGEST.to_string()])
        .await
        .expect("found");
    let origins: Vec<&str> = found.iter().map(|(o, _)| o.as_str()).collect();
    assert_eq!(
        origins,
        vec![
            format!("octo/app attestations API, sha256:{DIGEST} (id 11)"),
            format!("octo/app attestations API, sha256:{DIGEST} (id 13)"),
        ]
    );
    let bundles: Vec<serde_json::Value> = found
        .iter()
        .map(|(_, b)| serde_json::from_slice(b).expect("json"))
        .collect();
    assert_eq!(
        bundles,
        vec![json!({"mediaType": "one"}), json!({"mediaType": "two"})]
    );
    let reqs = requests(&server).await;
    assert_eq!(
        reqs.iter()
            .filter(|r| r.url.path() == route.as_str())
            .count(),
        2
    );
    assert!(reqs.iter().all(|r| !r
        .url
        .path()
        .starts_with("/api/v3/repos/octo/app/releases/assets/")));
}

#[tokio::test]
async fn no_release_and_no_attestations_is_an_empty_answer_not_an_error() {
    let server = MockServer::start().await;
    let not_found = ResponseTemplate::new(404).set_body_json(json!({"message": "Not Found"}));
    Mock::given(method("GET"))
        .and(path("/api/v3/repos/octo/app/releases/tags/v1.0.0"))
        .respond_with(not_found.clone())
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!(
            "/api/v3/repos/octo/app/attestations/sha256:{DIGEST}"
        )))
        .respond_with(not_found)
        .mount(&server)
        .await;
    let config = config(&server);
    let gh = client(&config, None);
    let found = fetch_release_provenance(&gh, REPO, Some("v1.0.0"), &[DIGEST.to_string()])
        .await
        .expect("no error");
    assert!(found.is_empty());
    // 404 is final: no retries.
    assert_eq!(requests(&server).await.len(), 2);
}

// A `Link: rel="next"` to another host would carry the token away: refused, not followed.
#[tokio::test]
async fn next_page_on_another_host_is_not_followed_with_the_token() {
    let server = MockServer::start().await;
    let elsewhere = MockServer::start().await;
    let route = format!("/api/v3/repos/octo/app/attestations/sha256:{DIGEST}");
    let next = format!("<{}{route}?after=X>; rel=\"next\"", elsewhere.uri());
    Mock::given(method("GET"))
        .and(path("/api/v3/repos/octo/app/releases/tags/v1.0.0"))
        .respond_with(ResponseTemplate::new(404))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(route.as_str()))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("link", next.as_str())
                .set_body_json(json!({"attestations": [{"id": 1, "bundle": {}}]})),
        )
        .mount(&server)
        .await;
    let config = config(&server);
    let token = Secret::new(TOKEN);
    let gh = client(&config, Some(&token));
    let e = fetch_release_provenance(&gh, REPO, Some("v1.0.0"), &[DIGEST.to_string()])
        .await
        .expect_err("refused");
    assert_eq!(Failure::from(e).reason.code(), "github_api_failed");
    assert!(requests(&elsewhere).await.is_empty());
}

#[tokio::test]
async fn a_digest_that_is_not_sha256_hex_is_invalid_input() {
    let server = MockServer::start().await;
    let config = config(&server);
    let gh = client(&config, None);
    let e = fetch_release_provenance(&gh, REPO, Some("v1.0.0"), &["../../x".to_string()])
        .await
        .expect_err("bad digest");
    assert_eq!(Failure::from(e).reason.code(), "invalid_input");
    assert!(requests(&server).await.is_empty());
}
