//! Integration tests (issue 11): hostile text is shown, never obeyed, wherever it surfaces.
//!
//! Tag names (valid git ref names that still carry hostile text), failure messages, file names
//! and manifest text carry Markdown (`[x](http://e)`, `|`, `` ` ``), Slack mrkdwn
//! (`<!channel>`, `<http://e|x>`, `*b*`), HTML (`<img src=x onerror=...>`, `<script>`),
//! newlines/CR and workflow commands (`::set-output`, `::add-mask::`, `%0A::warning::`). The
//! tests read the exact bytes each place received: stdout as the runner reads it (lines split on
//! `\r` and `\n`, `::stop-commands::` honoured), step summaries, the dashboard and the badges,
//! the Slack Block Kit payload and the GitHub issue a fake on 127.0.0.1 received.

use serde_json::{json, Value};
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use crate::common::{Outcome, Workspace};

/// Free text (inputs, manifest fields, server messages) at its most hostile.
const HOSTILE: &str = "v1 [x](http://e) | `c` <!channel> <http://e|x> *b* <img src=x onerror=alert(1)> <script>s</script>\r\n::set-output name=p::q %0A::warning::w";

/// A tag git accepts (no space, `:`, `[`, `\`, `*`, `~`, `^`, `?`) that is still hostile.
const HOSTILE_TAG: &str = "v1|<!channel>|<img_src=x_onerror=alert(1)>|`c`|%0A";

/// Workflow commands the action itself issues; anything else the runner would obey is injected.
const OWN_COMMANDS: &[&str] = &[
    "error",
    "warning",
    "notice",
    "debug",
    "group",
    "endgroup",
    "stop-commands",
];

/// The commands the runner would obey in `log`, as it reads it: lines split on `\r` and `\n`,
/// nothing obeyed between `::stop-commands::<token>` and `::<token>::`.
fn obeyed(log: &str) -> Vec<String> {
    let mut stopped: Option<String> = None;
    let mut seen = Vec::new();
    for line in log.split(['\r', '\n']) {
        if let Some(token) = &stopped {
            if line.trim() == format!("::{token}::") {
                stopped = None;
            }
            continue;
        }
        let t = line.trim_start();
        if let Some(rest) = t.strip_prefix("::stop-commands::") {
            stopped = Some(rest.trim().to_string());
            seen.push(line.to_string());
        } else if t.starts_with("::") || line.contains("##[") {
            seen.push(line.to_string());
        }
    }
    assert!(stopped.is_none(), "stop-commands never resumed:\n{log}");
    seen
}

/// Every command the runner would obey is one the action means; `::add-mask::` only for
/// `masks` (the secrets the test gave).
fn assert_no_injected_command(out: &Outcome, masks: &[&str]) {
    for log in [&out.stdout, &out.stderr] {
        for line in obeyed(log) {
            let t = line.trim_start();
            // A `##[` inside a `::` command's data is data: the runner parses the line as the
            // newer form first.
            assert!(
                t.starts_with("::") || !line.contains("##["),
                "v1 command obeyed: {line:?}\n{log}"
            );
            if let Some(value) = t.strip_prefix("::add-mask::") {
                assert!(masks.contains(&value), "injected mask {value:?}\n{log}");
                continue;
            }
            let name = t[2..]
                .split([' ', ':'])
                .next()
                .unwrap_or_default()
                .to_string();
            assert!(
                OWN_COMMANDS.contains(&name.as_str()),
                "injected command {name:?}: {line:?}\n{log}"
            );
        }
    }
}

/// Markdown that renders hostile text inert: outside code spans and fenced blocks there is no
/// HTML tag, no link, no mention; every row of a table has its header's number of cells.
fn assert_inert_markdown(what: &str, md: &str) {
    let mut fence: Option<String> = None;
    let mut table_pipes: Option<usize> = None;
    for line in md.lines() {
        let trimmed = line.trim_start();
        if let Some(f) = &fence {
            if trimmed.starts_with(f.as_str()) && trimmed.trim_end().chars().all(|c| c == '`') {
                fence = None;
            }
            continue;
        }
        if trimmed.starts_with("```") {
            fence = Some(trimmed.chars().take_while(|c| *c == '`').collect());
            continue;
        }
        // Escapes first, then what is left outside code spans.
        let plain = line
            .replace("\\\\", "")
            .replace("\\|", "")
            .replace("\\`", "");
        let outside: String = plain
            .split('`')
            .enumerate()
            .filter(|(i, _)| i % 2 == 0)
            .map(|(_, s)| s)
            .collect();
        let lower = outside.to_ascii_lowercase();
        for bad in ["<img", "<script", "<!channel", "<http", "](http://e)"] {
            assert!(
                !lower.contains(bad),
                "{what}: {bad} is live in line {line:?}\n{md}"
            );
        }
        if outside.starts_with('|') {
            let pipes = outside.matches('|').count();
            let expected = *table_pipes.get_or_insert(pipes);
            assert_eq!(pipes, expected, "{what}: a cell was split: {line:?}\n{md}");
        } else {
            table_pipes = None;
        }
    }
    assert!(fence.is_none(), "{what}: a fence was never closed\n{md}");
}

/// Every text Slack parses as mrkdwn (`mrkdwn` objects and the notification fallback `text`);
/// `plain_text` (the header) is shown as typed: Slack parses neither mentions nor links there.
fn mrkdwn_texts(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            if m.get("type") == Some(&json!("mrkdwn")) {
                if let Some(t) = m.get("text").and_then(Value::as_str) {
                    out.push(t.to_string());
                }
            }
            m.values().for_each(|c| mrkdwn_texts(c, out));
        }
        Value::Array(a) => a.iter().for_each(|c| mrkdwn_texts(c, out)),
        _ => {}
    }
}

/// Slack text that is inert: no mention, no link, no formatting span can open.
fn assert_inert_mrkdwn(payload: &Value) {
    let mut texts = Vec::new();
    mrkdwn_texts(payload, &mut texts);
    texts.extend(payload["text"].as_str().map(String::from));
    assert!(texts.len() > 2, "{payload}");
    for text in texts {
        for bad in [
            "<!channel>",
            "<http://e|x>",
            "*b*",
            "`c`",
            "<img",
            "<script",
        ] {
            assert!(!text.contains(bad), "{bad} is live in Slack: {text}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// notify: Block Kit and the GitHub issue

async fn recording(
    answer: impl Fn(&Request) -> ResponseTemplate + Send + Sync + 'static,
) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(any()).respond_with(answer).mount(&server).await;
    server
}

async fn bodies(server: &MockServer) -> Vec<(String, String, Value)> {
    server
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .map(|r| {
            (
                r.method.to_string(),
                r.url.path().to_string(),
                serde_json::from_slice(&r.body).unwrap_or(Value::Null),
            )
        })
        .collect()
}

#[tokio::test]
async fn hostile_tag_and_failure_reason_reach_slack_and_the_issue_inert() {
    // Regression: the issue's code spans let `|` split the table cell (the rest rendered as a
    // live link and image), and its heading rendered the tag as Markdown.
    let ws = Workspace::new();
    let token = "ghs_token";
    let slack = recording(|_: &Request| ResponseTemplate::new(200).set_body_string("ok")).await;
    let github = recording(|r: &Request| match r.method.as_str() {
        "GET" => ResponseTemplate::new(200).set_body_json(json!([])),
        _ => ResponseTemplate::new(201).set_body_json(
            json!({"number": 100, "html_url": "https://github.com/octo/app/issues/100"}),
        ),
    })
    .await;
    let hook = format!("{}/services/T0/B0/hook", slack.uri());
    let out = ws
        .runner()
        .input("mode", "notify")
        .input("status", "failure")
        .input("run-id", "123")
        .input("tag", HOSTILE)
        .input("failure-reason", HOSTILE)
        .input("issue-on", "always")
        .input("github-token", token)
        .input("slack-webhook-url", hook.clone())
        .env("GITHUB_API_URL", github.uri())
        .env("SLSA_PROVENANCE_RETRY_BASE_MS", "1")
        .run();
    out.assert_success();
    assert_no_injected_command(&out, &[token, &hook]);
    assert_inert_markdown("step summary", &out.summary);

    // Slack: the exact escaped text of the failure reason.
    let sent = bodies(&slack).await;
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_inert_mrkdwn(&sent[0].2);
    let reason = sent[0].2["blocks"]
        .as_array()
        .expect("blocks")
        .iter()
        .filter_map(|b| b["text"]["text"].as_str())
        .find(|t| t.starts_with("*Failure reason*"))
        .expect("a failure reason section")
        .to_string();
    assert_eq!(
        reason,
        "*Failure reason*\nv1 [x](http://e) | `\u{200B}c`\u{200B} &lt;!channel&gt; &lt;http://e|x&gt; *\u{200B}b*\u{200B} &lt;img src=x onerror=alert(1)&gt; &lt;script&gt;s&lt;/script&gt;\r\n::set-output name=p::q %0A::warning::w"
    );

    // GitHub: the issue's heading and failure reason row, byte for byte.
    let issue = bodies(&github)
        .await
        .into_iter()
        .find(|(m, p, _)| m == "POST" && p.ends_with("/issues"))
        .expect("an issue was opened")
        .2;
    let body = issue["body"].as_str().expect("body");
    assert_inert_markdown("issue body", body);
    assert!(
        body.lines().any(|l| l
            == r"## SLSA provenance failed for v1 \[x\]\(http\://e\) &#124; \`c\` &lt;\!channel&gt; &lt;http\://e&#124;x&gt; \*b\* &lt;img src=x onerror=alert\(1\)&gt; &lt;script&gt;s&lt;/script&gt;  \:\:set-output name=p\:\:q %0A\:\:warning\:\:w (run 123)"),
        "{body}"
    );
    assert!(
        body.lines().any(|l| l
            == r"| Failure reason | `v1 [x](http://e) \| 'c' <!channel> <http://e\|x> *b* <img src=x onerror=alert(1)> <script>s</script>  ::set-output name=p::q %0A::warning::w` |"),
        "{body}"
    );
    let title = issue["title"].as_str().expect("title");
    assert!(!title.contains(['\r', '\n']), "{title:?}");
}

// ---------------------------------------------------------------------------------------------
// provenance: tag names, file names, failure messages

#[test]
fn hostile_tag_and_file_names_are_inert_in_the_log_and_the_summary() {
    // Regression: a file name or server text on its own log line could start a workflow command.
    let ws = Workspace::new();
    let hostile_file = "dist/a|[x](http:e)`<img src=x onerror=alert(1)>\n::set-output name=p::q\r##[add-mask]m.tgz";
    ws.write(hostile_file, b"payload");
    ws.write("dist/plain.tgz", b"plain");
    ws.init_git();
    let out = ws
        .runner()
        .release_event(HOSTILE_TAG)
        .input("subject-path", "dist/*")
        .input("sign", "none")
        .input("attest", "false")
        .input("upload-release-asset", "false")
        .input("release-notes", "false")
        .run();
    out.assert_success();
    assert_no_injected_command(&out, &[]);
    assert_inert_markdown("step summary", &out.summary);
    assert!(
        out.summary.contains(
            "## SLSA provenance for `v1\\|<!channel>\\|<img_src=x_onerror=alert(1)>\\|'c'\\|%0A`"
        ),
        "{}",
        out.summary
    );
    assert!(
        out.summary.contains(
            "| `a\\|[x](http:e)'<img src=x onerror=alert(1)> ::set-output name=p::q ##[add-mask]m.tgz` |"
        ),
        "{}",
        out.summary
    );
    // The statement shown in the log holds the name as JSON, on one line.
    assert!(
        out.stdout
            .contains("::set-output name=p::q\\r##[add-mask]m.tgz"),
        "{}",
        out.stdout
    );
}

#[test]
fn hostile_failure_message_is_inert_in_the_error_line_and_the_summary() {
    // Regression: the summary's Message cell rendered the message as Markdown (a live image).
    // The unmatched pattern is echoed in the failure message (`\n` would separate patterns).
    let ws = Workspace::new();
    ws.write("dist/app.tgz", b"payload");
    ws.init_git();
    let pattern = "dist/<img src=x onerror=alert(1)>|[x](http://e)\r::add-mask::m %0A##[warning]w";
    let out = ws
        .runner()
        .release_event("v1.0.0")
        .input("subject-path", pattern)
        .input("sign", "none")
        .run();
    out.assert_failure("subject_pattern_unmatched");
    assert_no_injected_command(&out, &[]);
    assert_inert_markdown("step summary", &out.summary);
    let error = out
        .stdout
        .lines()
        .find(|l| l.starts_with("::error title=subject_pattern_unmatched::"))
        .expect("error line");
    assert!(
        // The message quotes the pattern (`\r` as two characters); `%` is escaped.
        error.contains("[x](http://e)\\r::add-mask::m %250A##[warning]w"),
        "{error}"
    );
}

// ---------------------------------------------------------------------------------------------
// report: dashboard and badges

#[test]
fn hostile_manifest_text_is_inert_in_the_dashboard_and_the_badges() {
    let ws = Workspace::new();
    let entry = |run: u64, status: &str, ts: &str| {
        json!({"run_id": run, "tag": HOSTILE, "sha": "0123abc", "actor": "octocat",
            "artifact_url": null, "timestamp": ts, "status": status,
            "governance_flag": "provenance-ready", "governance_flag_history": [],
            "release_url": null, "provenance_sha256": "ab", "duration_ms": 1000,
            "failure_reason": "signing_failed"})
    };
    // Free text where the schema wants a code: refused as tampered, the refusal inert too.
    let mut bad = entry(1, "failure", "2026-11-20T09:00:00Z");
    bad["failure_reason"] = HOSTILE.into();
    ws.write(
        "docs/reports/2026-11-20/manifest.json",
        serde_json::to_string_pretty(&json!({"schema_version": 1, "entries": [bad]}))
            .expect("json"),
    );
    let refused = ws
        .runner()
        .event("schedule", json!({"schedule": "0 6 * * 1"}))
        .input("mode", "report")
        .run();
    refused.assert_failure("manifest_tampered");
    assert_no_injected_command(&refused, &[]);
    assert_inert_markdown("step summary", &refused.summary);

    ws.write(
        "docs/reports/2026-11-20/manifest.json",
        serde_json::to_string_pretty(&json!({"schema_version": 1, "entries": [
            entry(1, "failure", "2026-11-20T09:00:00Z"),
            entry(2, "success", "2026-11-20T10:00:00Z"),
        ]}))
        .expect("json"),
    );
    let out = ws
        .runner()
        .event("schedule", json!({"schedule": "0 6 * * 1"}))
        .input("mode", "report")
        .input("badge-label", "<script>x</script>\"'&")
        .run();
    out.assert_success();
    assert_no_injected_command(&out, &[]);
    let md = ws.read("docs/reports/v_ops_slsa_status.md");
    assert_inert_markdown("dashboard", &md);
    assert_inert_markdown("step summary", &out.summary);
    assert!(
        md.contains(r"v1 \[x\]\(http\://e\) &#124; \`c\` &lt;\!channel&gt;"),
        "{md}"
    );
    let svg = ws.read("docs/reports/provenance-badge.svg");
    assert!(!svg.contains("<script"), "{svg}");
    assert!(
        svg.contains("&lt;script&gt;x&lt;/script&gt;&quot;&apos;&amp;"),
        "{svg}"
    );
    let badge: Value =
        serde_json::from_str(&ws.read("docs/reports/provenance-badge.json")).expect("badge JSON");
    assert_eq!(
        badge["label"], "<script>x</script>\"'&",
        "JSON carries data as data"
    );
}

// ---------------------------------------------------------------------------------------------
// validate: the report table

#[test]
fn hostile_artifact_name_is_inert_in_the_validation_summary() {
    // Regression: validate's table escaped `|` but not the backtick, so a name could close its
    // code span and render the rest (a link, an image) live.
    let (ws, bundle, _) = crate::validate::signed_release();
    ws.write(
        "dist/x`<img src=x onerror=alert(1)>[x](http:e)|`\n::set-output name=p::q.tgz",
        b"never built",
    );
    let out = crate::validate::validate_own(&ws, &bundle).run();
    assert_eq!(out.code, Some(1), "{out:#?}");
    assert_no_injected_command(&out, &[]);
    assert_inert_markdown("step summary", &out.summary);
    assert!(
        out.summary.contains(
            "| `x'<img src=x onerror=alert(1)>[x](http:e)\\|' ::set-output name=p::q.tgz` |"
        ),
        "{}",
        out.summary
    );
}
