//! `mode: notify` decisions: the Slack message, what a channel's answer means, whether a GitHub
//! issue is needed and which one, and the issue's body. Pure.
//!
//! - The message is one Block Kit payload with a top-level `text` fallback, kept within Slack's
//!   limits ([`MAX_BLOCKS`], [`MAX_SECTION_CHARS`], [`MAX_HEADER_CHARS`]). Every piece of text a
//!   user controls (tag names, failure messages, manifest values) goes through [`escape_mrkdwn`]:
//!   `&`, `<`, `>` become entities, so `<!channel>`, `<@U123>` and `<https://x|y>` are shown, not
//!   acted on; mrkdwn control characters get a zero-width space next to them so they cannot
//!   open bold/italic/strike/code spans.
//! - Slack answers are classified ([`classify_slack`]): documented error strings are permanent
//!   (retrying cannot fix a bad payload, a revoked token or an archived channel), 429 waits
//!   `Retry-After`, 5xx and network errors are retried with `domain::retry`'s bounded backoff.
//! - Issue dedupe does not use the search index (it lags by minutes): an issue carries a hidden
//!   marker ([`marker`]) and is found among the issues *listed* by label, or through the run's
//!   manifest `issue_number`.
//!
//! What this module does not do: it sends nothing and reads no clock.

use serde_json::{json, Value};

use super::retry::{self, Attempt, Decision, Idempotency, Observed, RateHeaders, RetryPolicy};

/// Slack's limit of blocks in one message.
pub const MAX_BLOCKS: usize = 50;
/// Slack's limit of a section block's text.
pub const MAX_SECTION_CHARS: usize = 3000;
/// Slack's limit of a header block's `plain_text`.
pub const MAX_HEADER_CHARS: usize = 150;
/// The top-level `text` fallback (Slack truncates past 40,000; notifications show far less).
pub const MAX_FALLBACK_CHARS: usize = 3000;

/// The status being notified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotifyStatus {
    Success,
    Failure,
}

impl NotifyStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Failure => "failure",
        }
    }
}

/// When to open a GitHub issue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IssueOn {
    /// Only when a failure reached no chat channel (the default).
    Failure,
    Always,
    Never,
}

/// Everything the message and the issue say.
#[derive(Debug, Clone)]
pub struct Notice {
    pub status: NotifyStatus,
    pub repository: String,
    pub tag: String,
    pub run_id: u64,
    pub run_url: String,
    pub artifact_url: Option<String>,
    pub failure_reason: Option<String>,
    /// The run's manifest entry, pretty JSON.
    pub manifest_entry: Option<String>,
    pub runbook_url: String,
}

use super::escape;
/// Escape user text for Slack mrkdwn and `plain_text` (the shared escaper).
pub use super::escape::mrkdwn as escape_mrkdwn;

/// Cut to at most `max` characters, ending with `…` when cut.
pub fn truncate_chars(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut o: String = s.chars().take(max.saturating_sub(1)).collect();
    o.push('…');
    o
}

fn section(text: String) -> Value {
    json!({"type": "section", "text": {"type": "mrkdwn", "text": truncate_chars(&text, MAX_SECTION_CHARS)}})
}

fn headline(n: &Notice) -> String {
    match n.status {
        NotifyStatus::Success => format!("SLSA provenance succeeded for {}", n.tag),
        NotifyStatus::Failure => format!("SLSA provenance FAILED for {}", n.tag),
    }
}

/// The Block Kit payload (without `channel`: the adapter adds it for `chat.postMessage`).
pub fn slack_message(n: &Notice) -> Value {
    let tag = escape_mrkdwn(&n.tag);
    let repo = escape_mrkdwn(&n.repository);
    let icon = match n.status {
        NotifyStatus::Success => ":white_check_mark:",
        NotifyStatus::Failure => ":rotating_light:",
    };
    let mut blocks = vec![json!({
        "type": "header",
        // plain_text is never parsed for mentions, links or formatting: shown as written.
        "text": {"type": "plain_text", "text": truncate_chars(&headline(n), MAX_HEADER_CHARS), "emoji": true}
    })];
    let mut fields = vec![
        format!("*Status*\n{icon} {}", n.status.as_str()),
        format!("*Tag*\n{tag}"),
        format!("*Repository*\n{repo}"),
        format!("*Run*\n<{}|{}>", escape::slack_url(&n.run_url), n.run_id),
    ];
    if let Some(a) = &n.artifact_url {
        fields.push(format!("*Artifact*\n<{}|artifact>", escape::slack_url(a)));
    }
    blocks.push(json!({
        "type": "section",
        "fields": fields.into_iter().map(|f| json!({"type": "mrkdwn", "text": truncate_chars(&f, 2000)})).collect::<Vec<_>>()
    }));
    if let Some(r) = &n.failure_reason {
        blocks.push(section(format!("*Failure reason*\n{}", escape_mrkdwn(r))));
    }
    if let Some(entry) = &n.manifest_entry {
        // Room for the fences and the label inside the section limit.
        let body = truncate_chars(&escape_mrkdwn(entry), MAX_SECTION_CHARS - 40);
        blocks.push(section(format!("*Manifest entry*\n```{body}```")));
    }
    if n.status == NotifyStatus::Failure {
        blocks.push(json!({"type": "context", "elements": [
            {"type": "mrkdwn", "text": format!("Runbook: <{}|failure recovery>", escape::slack_url(&n.runbook_url))}
        ]}));
    }
    blocks.truncate(MAX_BLOCKS);
    // User text escaped as text; the run URL as a link's URL (escaping it as text would put
    // zero-width spaces into it).
    let mut fallback = format!(
        "{}: run {} (<{}>)",
        escape_mrkdwn(&headline(n)),
        n.run_id,
        escape::slack_url(&n.run_url)
    );
    if let Some(r) = &n.failure_reason {
        fallback.push_str(&format!(" reason: {}", escape_mrkdwn(r)));
    }
    json!({
        "text": truncate_chars(&fallback, MAX_FALLBACK_CHARS),
        "blocks": blocks,
        "unfurl_links": false,
        "unfurl_media": false,
    })
}

/// The JSON posted to the notify webhook (the seed's `ops-slack-notify` function).
pub fn webhook_payload(n: &Notice) -> Value {
    json!({
        "source": "slsa-provenance-action",
        "status": n.status.as_str(),
        "repository": n.repository,
        "tag": n.tag,
        "run_id": n.run_id,
        "run_url": n.run_url,
        "artifact_url": n.artifact_url,
        "failure_reason": n.failure_reason,
        "slack": slack_message(n),
    })
}

/// Which Slack API answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlackApi {
    /// Incoming webhook: success is HTTP 200 with body `ok`; errors are plain-text strings.
    IncomingWebhook,
    /// `chat.postMessage`: success is `"ok": true`; errors are `"error": "..."` (HTTP 200).
    PostMessage,
    /// The notify function: success is 2xx with `"delivered": true`.
    NotifyWebhook,
}

/// What one answer means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SlackOutcome {
    Delivered,
    /// The notify function answered `{"delivered": false}` (seed 002 §2: `slack_retry=1`).
    NotDelivered,
    /// Sending again cannot help (bad payload, auth, channel). `error` is Slack's string.
    Permanent {
        error: String,
    },
    /// 429: wait `retry_after` seconds (as the header said) and send again.
    RateLimited {
        retry_after: Option<String>,
    },
    /// 5xx or no answer: retry with backoff.
    Transient {
        detail: String,
    },
}

/// Slack error strings known to be permanent (documented for incoming webhooks and
/// `chat.postMessage`). Any other error string on a 4xx, or `ok: false`, is permanent too:
/// the list only gives the message its explanation.
pub const PERMANENT_ERRORS: &[(&str, &str)] = &[
    ("invalid_payload", "the message is not valid JSON for Slack"),
    ("invalid_blocks", "Slack refused the blocks"),
    ("invalid_blocks_format", "Slack refused the blocks"),
    ("too_many_attachments", "too many attachments"),
    ("msg_too_long", "the message is too long"),
    ("no_text", "the message has no text"),
    (
        "channel_not_found",
        "the channel does not exist or the app cannot see it",
    ),
    ("channel_is_archived", "the channel is archived"),
    ("is_archived", "the channel is archived"),
    ("not_in_channel", "the app is not a member of the channel"),
    (
        "action_prohibited",
        "an admin restricted posting to this channel",
    ),
    (
        "restricted_action",
        "an admin restricted posting to this channel",
    ),
    (
        "posting_to_general_channel_denied",
        "posting to #general is restricted",
    ),
    ("no_service", "the webhook is disabled, removed or invalid"),
    ("no_service_id", "the webhook URL is malformed"),
    ("no_team", "the Slack workspace no longer exists"),
    ("team_disabled", "the Slack workspace is disabled"),
    ("invalid_token", "the webhook token is invalid"),
    ("invalid_auth", "the Slack token is invalid"),
    ("not_authed", "no Slack token was sent"),
    ("token_revoked", "the Slack token was revoked"),
    ("token_expired", "the Slack token expired"),
    (
        "account_inactive",
        "the Slack token's user or app is deactivated",
    ),
    ("missing_scope", "the Slack token lacks chat:write"),
];

/// Explain a Slack error string.
pub fn explain(error: &str) -> &'static str {
    PERMANENT_ERRORS
        .iter()
        .find(|(e, _)| *e == error)
        .map(|(_, why)| *why)
        .unwrap_or("Slack refused the message")
}

/// Classify one answer. `body` is the whole body (Slack's are short).
pub fn classify_slack(
    api: SlackApi,
    status: u16,
    body: &str,
    retry_after: Option<&str>,
) -> SlackOutcome {
    let first_line = body.trim().lines().next().unwrap_or("").trim();
    let json: Option<Value> = serde_json::from_str(body).ok();
    let json_error = json
        .as_ref()
        .and_then(|v| v.get("error"))
        .and_then(Value::as_str)
        .map(String::from);
    if status == 429 || json_error.as_deref() == Some("ratelimited") {
        return SlackOutcome::RateLimited {
            retry_after: retry_after.map(String::from),
        };
    }
    if status >= 500 {
        // `rollup_error` and friends are Slack having trouble: retryable.
        return SlackOutcome::Transient {
            detail: format!("HTTP {status}: {}", truncate_chars(first_line, 200)),
        };
    }
    let permanent = |error: String| SlackOutcome::Permanent { error };
    match api {
        SlackApi::IncomingWebhook => {
            if status == 200 && first_line == "ok" {
                SlackOutcome::Delivered
            } else if first_line.is_empty() {
                permanent(format!("http_{status}"))
            } else {
                permanent(truncate_chars(first_line, 100))
            }
        }
        SlackApi::PostMessage => {
            match json
                .as_ref()
                .and_then(|v| v.get("ok"))
                .and_then(Value::as_bool)
            {
                Some(true) if (200..300).contains(&status) => SlackOutcome::Delivered,
                _ => permanent(json_error.unwrap_or_else(|| format!("http_{status}"))),
            }
        }
        SlackApi::NotifyWebhook => {
            if !(200..300).contains(&status) {
                return permanent(json_error.unwrap_or_else(|| format!("http_{status}")));
            }
            match json
                .as_ref()
                .and_then(|v| v.get("delivered"))
                .and_then(Value::as_bool)
            {
                Some(true) => SlackOutcome::Delivered,
                Some(false) => SlackOutcome::NotDelivered,
                None => permanent("no_delivered_field".into()),
            }
        }
    }
}

/// The next step after one send: stop, or wait and send again. Rate limits and server trouble
/// retry within `policy`'s bounds (`domain::retry`); a duplicate Slack post after a 5xx that did
/// land is preferred over a missed alert, so posts are retried as idempotent.
pub fn next_step(policy: &RetryPolicy, outcome: &SlackOutcome, attempt: Attempt) -> Decision {
    let observed = match outcome {
        SlackOutcome::RateLimited { retry_after } => Observed::Answer {
            status: 429,
            headers: RateHeaders {
                retry_after: retry_after.as_deref(),
                ..RateHeaders::default()
            },
            body: "",
        },
        SlackOutcome::Transient { .. } => Observed::Transport,
        _ => Observed::Answer {
            status: 200,
            headers: RateHeaders::default(),
            body: "",
        },
    };
    retry::decide(policy, Idempotency::Idempotent, &observed, attempt)
}

/// What each chat channel achieved.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Delivery {
    /// Incoming webhook or `chat.postMessage` delivered.
    pub slack: bool,
    /// The notify function delivered.
    pub webhook: bool,
    /// The notify function answered `{"delivered": false}`.
    pub webhook_not_delivered: bool,
    /// One line per channel that failed, for the summary and `notify_failed`.
    pub failures: Vec<String>,
}

impl Delivery {
    pub fn any(&self) -> bool {
        self.slack || self.webhook
    }
}

/// Whether to open (or update) an issue.
pub fn needs_issue(status: NotifyStatus, issue_on: IssueOn, delivery: &Delivery) -> bool {
    match issue_on {
        IssueOn::Never => false,
        IssueOn::Always => true,
        IssueOn::Failure => status == NotifyStatus::Failure && !delivery.any(),
    }
}

/// The `channel` output: `slack` | `webhook` | `issue` | `both` (a chat channel and an issue) |
/// `none`. Slack wins over the webhook when both delivered.
pub fn channel_output(delivery: &Delivery, issue: bool) -> &'static str {
    match (delivery.slack, delivery.webhook, issue) {
        (true, _, true) | (_, true, true) => "both",
        (true, _, false) => "slack",
        (false, true, false) => "webhook",
        (false, false, true) => "issue",
        (false, false, false) => "none",
    }
}

/// Whether to list issues at all: to open or update one, or (a success not told to leave
/// issues alone) to close the tag's open failure issues.
pub fn looks_at_issues(status: NotifyStatus, issue_on: IssueOn, wanted: bool) -> bool {
    wanted || (status == NotifyStatus::Success && issue_on != IssueOn::Never)
}

/// Whether the run must fail with `notify_failed`: a failure (or anything a channel or
/// `issue-on: always` asked to deliver) reached no chat channel and no issue.
pub fn reached_nobody(
    status: NotifyStatus,
    channels_configured: usize,
    issue_on: IssueOn,
    delivery: &Delivery,
    issue_done: bool,
) -> bool {
    let expected =
        status == NotifyStatus::Failure || channels_configured > 0 || issue_on == IssueOn::Always;
    expected && !delivery.any() && !issue_done
}

/// Labels for the issue: the base labels, then `ops-alert`, `provenance-failure` for a failure,
/// then `security-backcompat` for a `predicate_mismatch`; no duplicates, order kept.
pub fn labels(base: &[String], status: NotifyStatus, failure_reason: Option<&str>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut add = |l: &str| {
        if !l.is_empty() && !out.iter().any(|o| o == l) {
            out.push(l.to_string());
        }
    };
    base.iter().for_each(|l| add(l));
    if status == NotifyStatus::Failure {
        add("ops-alert");
        add("provenance-failure");
        if failure_reason.is_some_and(|r| r.trim() == "predicate_mismatch") {
            add("security-backcompat");
        }
    }
    out
}

/// The hidden marker's identity of a notice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Marker {
    pub repository: String,
    pub tag: String,
    pub run_id: u64,
}

const MARKER_PREFIX: &str = "<!-- slsa-provenance-action:notify ";

/// Percent-encode what could end the comment or the `key=value` (space, `>`, `%`, `-`).
fn marker_value(s: &str) -> String {
    let mut o = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'/' | b'+' | b'@') {
            o.push(b as char);
        } else {
            o.push_str(&format!("%{b:02X}"));
        }
    }
    o
}

fn unpercent(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// `<!-- slsa-provenance-action:notify repo=... tag=... run=... -->`
pub fn marker(m: &Marker) -> String {
    format!(
        "{MARKER_PREFIX}repo={} tag={} run={} -->",
        marker_value(&m.repository),
        marker_value(&m.tag),
        m.run_id
    )
}

/// The marker in an issue body, if there is one.
pub fn parse_marker(body: &str) -> Option<Marker> {
    let start = body.find(MARKER_PREFIX)? + MARKER_PREFIX.len();
    let rest = &body[start..];
    let inner = &rest[..rest.find("-->")?];
    let (mut repo, mut tag, mut run) = (None, None, None);
    for part in inner.split_whitespace() {
        match part.split_once('=') {
            Some(("repo", v)) => repo = unpercent(v),
            Some(("tag", v)) => tag = unpercent(v),
            Some(("run", v)) => run = v.parse().ok(),
            _ => {}
        }
    }
    Some(Marker {
        repository: repo?,
        tag: tag?,
        run_id: run?,
    })
}

/// An issue as listed (open issues carrying the base label).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedIssue {
    pub number: u64,
    pub body: String,
}

/// What to do with issues.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IssuePlan {
    Nothing,
    Create,
    /// The same run already has an issue: add a comment, never a second issue.
    Comment(u64),
    /// A success for a tag with open failure issues: comment on each and close it.
    Resolve(Vec<u64>),
}

/// The dedupe rule. `wanted` is [`needs_issue`]; `manifest_issue` is the entry's `issue_number`.
pub fn plan_issue(
    notice: &Marker,
    status: NotifyStatus,
    wanted: bool,
    open: &[ListedIssue],
    manifest_issue: Option<u64>,
) -> IssuePlan {
    let mine: Vec<(u64, Marker)> = open
        .iter()
        .filter_map(|i| parse_marker(&i.body).map(|m| (i.number, m)))
        .filter(|(_, m)| m.repository == notice.repository && m.tag == notice.tag)
        .collect();
    if status == NotifyStatus::Success {
        // Every open issue of this tag is resolved by its success, whichever run opened it.
        let failures: Vec<u64> = mine.iter().map(|(n, _)| *n).collect();
        if !failures.is_empty() {
            return IssuePlan::Resolve(failures);
        }
        return if wanted {
            IssuePlan::Create
        } else {
            IssuePlan::Nothing
        };
    }
    if !wanted {
        return IssuePlan::Nothing;
    }
    if let Some((n, _)) = mine.iter().find(|(_, m)| m.run_id == notice.run_id) {
        return IssuePlan::Comment(*n);
    }
    match manifest_issue {
        Some(n) => IssuePlan::Comment(n),
        None => IssuePlan::Create,
    }
}

/// Code span content for GitHub Markdown: no backticks, no line breaks (`@team` inside a code
/// span does not mention).
fn code(s: &str) -> String {
    format!("`{}`", super::escape::markdown_code(s))
}

pub fn issue_title(n: &Notice) -> String {
    title_for(n, &n.tag.replace(['\n', '\r'], " "))
}

/// The title with `tag` already made safe for where it goes (plain title or Markdown heading).
fn title_for(n: &Notice, t: &str) -> String {
    match n.status {
        NotifyStatus::Failure => format!("SLSA provenance failed for {t} (run {})", n.run_id),
        NotifyStatus::Success => format!("SLSA provenance succeeded for {t} (run {})", n.run_id),
    }
}

/// The issue body: marker first, then the facts, the re-run instructions and the runbook.
pub fn issue_body(n: &Notice) -> String {
    let m = marker(&Marker {
        repository: n.repository.clone(),
        tag: n.tag.clone(),
        run_id: n.run_id,
    });
    let mut o = format!(
        "{m}\n## {}\n\n| | |\n|---|---|\n",
        title_for(n, &super::escape::markdown(&n.tag))
    );
    o.push_str(&format!("| Status | {} |\n", n.status.as_str()));
    o.push_str(&format!("| Tag | {} |\n", code(&n.tag)));
    o.push_str(&format!("| Run | [{}]({}) |\n", n.run_id, n.run_url));
    if let Some(a) = &n.artifact_url {
        o.push_str(&format!("| Artifact | {} |\n", code(a)));
    }
    if let Some(r) = &n.failure_reason {
        o.push_str(&format!("| Failure reason | {} |\n", code(r)));
    }
    if n.status == NotifyStatus::Failure {
        o.push_str(&format!(
            "\n### Re-run\n\n- Re-run the failed jobs: `gh run rerun {} --failed -R {}`\n\
             - Or run this action with `mode: recover` and `run-id: {}` (it dispatches the \
             provenance workflow again when the run is too old to re-run).\n",
            n.run_id,
            n.repository.replace('`', "'"),
            n.run_id
        ));
        o.push_str(&format!(
            "\n### Runbook\n\n[Failure recovery]({}): detection, rollback decision, \
             re-validation, rollback entry.\n",
            n.runbook_url
        ));
    }
    if let Some(entry) = &n.manifest_entry {
        let fence = super::escape::markdown_fence(entry);
        o.push_str(&format!(
            "\n<details><summary>Manifest entry</summary>\n\n{fence}json\n{entry}\n{fence}\n\n</details>\n"
        ));
    }
    o
}

/// The comment on an existing issue for a repeated notify of the same run. A failure links the
/// notice's runbook: recover's escalation of a blocked run (the rollback runbook) usually lands
/// here, since the run's issue exists already.
pub fn repeat_comment(n: &Notice) -> String {
    let mut o = format!(
        "Notified again for run [{}]({}): status {}",
        n.run_id,
        n.run_url,
        n.status.as_str()
    );
    if let Some(r) = &n.failure_reason {
        o.push_str(&format!(", reason {}", code(r)));
    }
    o.push_str(".\n");
    if n.status == NotifyStatus::Failure {
        o.push_str(&format!(
            "\nRunbook: [failure recovery]({}).\n",
            n.runbook_url
        ));
    }
    o
}

/// The comment that closes a failure issue after a later success.
pub fn resolved_comment(n: &Notice) -> String {
    format!(
        "Resolved: run [{}]({}) produced provenance for {}. Closing.\n",
        n.run_id,
        n.run_url,
        code(&n.tag)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn notice(status: NotifyStatus) -> Notice {
        Notice {
            status,
            repository: "octo/app".into(),
            tag: "v1.2.3".into(),
            run_id: 9228858953,
            run_url: "https://github.com/octo/app/actions/runs/9228858953".into(),
            artifact_url: Some(
                "https://github.com/octo/app/releases/download/v1.2.3/app.tar.gz".into(),
            ),
            failure_reason: Some("signing_failed: Fulcio answered 503".into()),
            manifest_entry: Some(
                "{\n  \"run_id\": 9228858953,\n  \"status\": \"failure\"\n}".into(),
            ),
            runbook_url: "https://github.com/octo/app/blob/HEAD/docs/ops/failure-recovery.md"
                .into(),
        }
    }

    #[test]
    fn slack_payload_snapshot() {
        insta::assert_json_snapshot!(slack_message(&notice(NotifyStatus::Failure)));
    }

    #[test]
    fn escalation_comment_on_an_existing_issue_links_the_runbook() {
        // Regression (issue 11's lifecycle): recover's escalation of a blocked run commented on
        // the run's issue without the rollback runbook link it was given.
        let mut n = notice(NotifyStatus::Failure);
        n.runbook_url =
            "https://github.com/octo/app/blob/HEAD/docs/ops/failure-recovery.md#rollback".into();
        let c = repeat_comment(&n);
        assert!(
            c.contains("[failure recovery](https://github.com/octo/app/blob/HEAD/docs/ops/failure-recovery.md#rollback)"),
            "{c}"
        );
        assert!(!repeat_comment(&notice(NotifyStatus::Success)).contains("Runbook"));
    }

    #[test]
    fn link_urls_stay_clickable_and_cannot_break_out_of_their_link() {
        // Regression: URLs went through the mrkdwn text escaper, which puts a zero-width space
        // after `_`, so a run of `octo/my_app` or an artifact `app_linux.tar.gz` linked nowhere.
        let mut n = notice(NotifyStatus::Failure);
        n.run_url = "https://github.com/octo/my_app/actions/runs/7".into();
        n.artifact_url = Some("https://e.example/app_linux_amd64.tar.gz?a=1&b=2".into());
        n.runbook_url = "https://e.example/run|book>x\nline".into();
        let text = slack_message(&n).to_string();
        assert!(
            text.contains("<https://github.com/octo/my_app/actions/runs/7|9228858953>"),
            "{text}"
        );
        assert!(
            text.contains("<https://e.example/app_linux_amd64.tar.gz?a=1&amp;b=2|artifact>"),
            "{text}"
        );
        assert!(
            text.contains("<https://e.example/run%7Cbook%3Ex%0Aline|failure recovery>"),
            "{text}"
        );
        let fallback = slack_message(&n)["text"]
            .as_str()
            .expect("text")
            .to_string();
        assert!(
            fallback.contains("(<https://github.com/octo/my_app/actions/runs/7>)"),
            "{fallback}"
        );
    }

    #[test]
    fn issue_body_snapshot() {
        insta::assert_snapshot!(issue_body(&notice(NotifyStatus::Failure)));
    }

    #[test]
    fn user_text_cannot_mention_link_or_format() {
        let mut n = notice(NotifyStatus::Failure);
        n.tag = "v1<!channel>".into();
        n.failure_reason = Some("<@U123> see <https://evil.example|here> *bold* & _it_".into());
        let mut m = slack_message(&n);
        // The header is plain_text: Slack never parses it, so it may show the tag as written.
        assert_eq!(m["blocks"][0]["text"]["type"], "plain_text");
        m["blocks"].as_array_mut().expect("blocks").remove(0);
        let text = m.to_string();
        for bad in [
            "<!channel>",
            "<@U123>",
            "<https://evil.example|here>",
            "*bold*",
            "_it_",
        ] {
            assert!(!text.contains(bad), "{bad} survived: {text}");
        }
        assert!(text.contains("&lt;!channel&gt;"), "{text}");
        assert!(text.contains("&amp;"), "{text}");
        assert_eq!(escape_mrkdwn("a*b"), "a*\u{200B}b");
    }

    #[test]
    fn limits_hold_for_huge_inputs() {
        let mut n = notice(NotifyStatus::Failure);
        n.tag = "v".repeat(500);
        n.failure_reason = Some("x".repeat(10_000));
        n.manifest_entry = Some("<".repeat(10_000));
        let m = slack_message(&n);
        let blocks = m["blocks"].as_array().expect("blocks");
        assert!(blocks.len() <= MAX_BLOCKS);
        for b in blocks {
            if b["type"] == "header" {
                assert!(b["text"]["text"].as_str().expect("t").chars().count() <= MAX_HEADER_CHARS);
            }
            if let Some(t) = b["text"]["text"].as_str() {
                assert!(t.chars().count() <= MAX_SECTION_CHARS, "{}", t.len());
            }
        }
        assert!(m["text"].as_str().expect("text").chars().count() <= MAX_FALLBACK_CHARS);
    }

    #[test]
    fn slack_answers_are_classified() {
        use SlackApi::*;
        assert_eq!(
            classify_slack(IncomingWebhook, 200, "ok", None),
            SlackOutcome::Delivered
        );
        for (status, body) in [
            (400, "invalid_payload"),
            (400, "invalid_blocks"),
            (404, "channel_not_found"),
            (410, "channel_is_archived"),
            (403, "action_prohibited"),
            (404, "no_service"),
        ] {
            assert_eq!(
                classify_slack(IncomingWebhook, status, body, None),
                SlackOutcome::Permanent { error: body.into() }
            );
        }
        assert_eq!(
            classify_slack(
                PostMessage,
                200,
                r#"{"ok":false,"error":"invalid_auth"}"#,
                None
            ),
            SlackOutcome::Permanent {
                error: "invalid_auth".into()
            }
        );
        assert_eq!(
            classify_slack(PostMessage, 200, r#"{"ok":true}"#, None),
            SlackOutcome::Delivered
        );
        assert_eq!(
            classify_slack(PostMessage, 429, "", Some("3")),
            SlackOutcome::RateLimited {
                retry_after: Some("3".into())
            }
        );
        assert!(matches!(
            classify_slack(IncomingWebhook, 503, "rollup_error", None),
            SlackOutcome::Transient { .. }
        ));
        assert_eq!(
            classify_slack(NotifyWebhook, 200, r#"{"delivered":false}"#, None),
            SlackOutcome::NotDelivered
        );
        assert_eq!(
            classify_slack(NotifyWebhook, 200, r#"{"delivered":true}"#, None),
            SlackOutcome::Delivered
        );
        assert_eq!(explain("channel_is_archived"), "the channel is archived");
    }

    #[test]
    fn retry_only_rate_limits_and_server_trouble() {
        let policy = RetryPolicy::default();
        let at = Attempt {
            number: 1,
            elapsed: Duration::ZERO,
            now: chrono::DateTime::UNIX_EPOCH,
            jitter: 0.0,
        };
        assert_eq!(
            next_step(
                &policy,
                &SlackOutcome::Permanent {
                    error: "no_service".into()
                },
                at
            ),
            Decision::Stop(retry::StopReason::Final)
        );
        assert!(matches!(
            next_step(&policy, &SlackOutcome::RateLimited { retry_after: Some("7".into()) }, at),
            Decision::Retry { wait, .. } if wait == Duration::from_secs(7)
        ));
        assert!(matches!(
            next_step(
                &policy,
                &SlackOutcome::Transient {
                    detail: "502".into()
                },
                at
            ),
            Decision::Retry { .. }
        ));
        let last = Attempt {
            number: policy.max_attempts,
            ..at
        };
        assert_eq!(
            next_step(
                &policy,
                &SlackOutcome::Transient {
                    detail: "502".into()
                },
                last
            ),
            Decision::Stop(retry::StopReason::AttemptsExhausted)
        );
    }

    #[test]
    fn issue_is_needed_only_when_undelivered_or_always() {
        let none = Delivery::default();
        let slack = Delivery {
            slack: true,
            ..Delivery::default()
        };
        assert!(needs_issue(NotifyStatus::Failure, IssueOn::Failure, &none));
        assert!(!needs_issue(
            NotifyStatus::Failure,
            IssueOn::Failure,
            &slack
        ));
        assert!(!needs_issue(NotifyStatus::Success, IssueOn::Failure, &none));
        assert!(needs_issue(NotifyStatus::Success, IssueOn::Always, &slack));
        assert!(!needs_issue(NotifyStatus::Failure, IssueOn::Never, &none));
        assert_eq!(channel_output(&slack, false), "slack");
        assert_eq!(channel_output(&slack, true), "both");
        assert_eq!(channel_output(&none, true), "issue");
        assert_eq!(channel_output(&none, false), "none");
        let hook = Delivery {
            webhook: true,
            ..Delivery::default()
        };
        assert_eq!(channel_output(&hook, false), "webhook");
    }

    #[test]
    fn successes_look_for_issues_to_close_unless_told_never() {
        use NotifyStatus::*;
        assert!(looks_at_issues(Success, IssueOn::Failure, false));
        assert!(!looks_at_issues(Success, IssueOn::Never, false));
        assert!(!looks_at_issues(Failure, IssueOn::Failure, false));
        assert!(looks_at_issues(Failure, IssueOn::Failure, true));
    }

    #[test]
    fn notify_fails_only_when_a_notice_reached_nobody() {
        let none = Delivery::default();
        let slack = Delivery {
            slack: true,
            ..Delivery::default()
        };
        use NotifyStatus::*;
        assert!(reached_nobody(Failure, 1, IssueOn::Failure, &none, false));
        assert!(!reached_nobody(Failure, 1, IssueOn::Failure, &none, true));
        assert!(!reached_nobody(Failure, 1, IssueOn::Failure, &slack, false));
        assert!(reached_nobody(Failure, 0, IssueOn::Never, &none, false));
        assert!(!reached_nobody(Success, 0, IssueOn::Failure, &none, false));
        assert!(reached_nobody(Success, 1, IssueOn::Failure, &none, false));
    }

    #[test]
    fn labels_follow_status_and_reason() {
        let base = vec!["slsa-provenance".to_string(), "automated".to_string()];
        assert_eq!(labels(&base, NotifyStatus::Success, None), base);
        assert_eq!(
            labels(&base, NotifyStatus::Failure, Some("predicate_mismatch")),
            [
                "slsa-provenance",
                "automated",
                "ops-alert",
                "provenance-failure",
                "security-backcompat"
            ]
        );
        let dup = vec!["ops-alert".to_string()];
        assert_eq!(
            labels(&dup, NotifyStatus::Failure, None),
            ["ops-alert", "provenance-failure"]
        );
    }

    #[test]
    fn marker_round_trips_odd_tags() {
        let m = Marker {
            repository: "octo/app".into(),
            tag: "v1 -->x%".into(),
            run_id: 7,
        };
        let text = marker(&m);
        assert!(text.starts_with("<!-- slsa-provenance-action:notify repo=octo/app tag="));
        assert_eq!(text.matches("-->").count(), 1, "{text}");
        assert_eq!(parse_marker(&format!("hello\n{text}\nbye")), Some(m));
        assert_eq!(parse_marker("no marker"), None);
    }

    #[test]
    fn dedupe_rule() {
        let me = Marker {
            repository: "octo/app".into(),
            tag: "v1".into(),
            run_id: 5,
        };
        let body = |tag: &str, run: u64| {
            marker(&Marker {
                repository: "octo/app".into(),
                tag: tag.into(),
                run_id: run,
            })
        };
        let open = vec![
            ListedIssue {
                number: 11,
                body: body("v1", 5),
            },
            ListedIssue {
                number: 12,
                body: body("v2", 5),
            },
            ListedIssue {
                number: 13,
                body: "unrelated".into(),
            },
        ];
        use NotifyStatus::*;
        assert_eq!(
            plan_issue(&me, Failure, true, &open, None),
            IssuePlan::Comment(11)
        );
        assert_eq!(
            plan_issue(&me, Failure, true, &open[1..], Some(40)),
            IssuePlan::Comment(40)
        );
        assert_eq!(
            plan_issue(&me, Failure, true, &open[1..], None),
            IssuePlan::Create
        );
        assert_eq!(
            plan_issue(&me, Failure, false, &open, None),
            IssuePlan::Nothing
        );
        let later = Marker {
            run_id: 6,
            ..me.clone()
        };
        assert_eq!(
            plan_issue(&later, Success, false, &open, None),
            IssuePlan::Resolve(vec![11])
        );
        assert_eq!(
            plan_issue(&later, Success, false, &open[1..], None),
            IssuePlan::Nothing
        );
    }
}
