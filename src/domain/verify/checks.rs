//! The checks of issue 7, in rank order, built from a [`Policy`] as composed [`Rule`]s.
//!
//! Signature (`signature_invalid`, `log_proof_missing`), signer (`identity_mismatch`),
//! predicate type (`predicate_mismatch`), subject (`subject_mismatch`), source repository,
//! tag and commit (`source_mismatch`, `tag_mismatch`, `commit_mismatch`), builder
//! (`builder_mismatch`).
//!
//! What these rules deliberately do not look at: build parameters other than the tag (workflow
//! inputs), materials other than the source, the invocation id, and timestamps inside the
//! predicate (self-reported by the builder; the signing time that matters is the log's).

use serde::Serialize;

use crate::domain::provenance_doc::{normalize_repository, SLSA_V02, SLSA_V1};
use crate::error::FailureReason;

use super::policy::{AllOf, AnyOf, FnRule, Mismatch, Outcome, Rule};
use super::{Evidence, Policy, SignatureEvidence, SignerFacts};

/// The checks, in the order their codes rank.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckId {
    Signature,
    Signer,
    PredicateType,
    Subject,
    SourceRepository,
    Tag,
    Commit,
    Builder,
}

impl CheckId {
    pub const ALL: [CheckId; 8] = [
        Self::Signature,
        Self::Signer,
        Self::PredicateType,
        Self::Subject,
        Self::SourceRepository,
        Self::Tag,
        Self::Commit,
        Self::Builder,
    ];

    pub fn rank(self) -> usize {
        Self::ALL
            .iter()
            .position(|c| *c == self)
            .unwrap_or(usize::MAX)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Signature => "signature",
            Self::Signer => "signer",
            Self::PredicateType => "predicate_type",
            Self::Subject => "subject",
            Self::SourceRepository => "source_repository",
            Self::Tag => "tag",
            Self::Commit => "commit",
            Self::Builder => "builder",
        }
    }
}

fn fail(
    reason: FailureReason,
    expected: impl Into<String>,
    found: Option<&str>,
    detail: impl Into<String>,
) -> Outcome {
    Outcome::Fail(Mismatch {
        reason,
        expected: expected.into(),
        found: found.map(String::from),
        detail: detail.into(),
    })
}

fn pass(expected: impl Into<String>, found: impl Into<String>) -> Outcome {
    Outcome::Pass {
        expected: expected.into(),
        found: found.into(),
    }
}

fn skip(why: impl Into<String>) -> Outcome {
    Outcome::Skip { why: why.into() }
}

fn boxed(f: impl Fn(&Evidence<'_>) -> Outcome + Send + Sync + 'static) -> Box<dyn Rule> {
    Box::new(FnRule(f))
}

/// Build the checks for a policy, in rank order.
pub fn build_checks(policy: &Policy) -> Vec<(CheckId, Box<dyn Rule>)> {
    vec![
        (CheckId::Signature, signature_rule(policy.allow_unsigned)),
        (CheckId::Signer, signer_rule(policy)),
        (
            CheckId::PredicateType,
            predicate_rule(policy.allow_predicate_v02),
        ),
        (CheckId::Subject, boxed(subject)),
        (
            CheckId::SourceRepository,
            source_rule(policy.source_repository.clone()),
        ),
        (CheckId::Tag, tag_rule(policy)),
        (CheckId::Commit, commit_rule(policy.commit.clone())),
        (CheckId::Builder, builder_rule(policy)),
    ]
}

fn signature_rule(allow_unsigned: bool) -> Box<dyn Rule> {
    boxed(move |e| {
        match e.signature {
        SignatureEvidence::Verified(s) => pass(
            "a valid signature with proof of signing time",
            if s.key {
                format!("verified ({})", s.identity)
            } else {
                "verified".to_string()
            },
        ),
        SignatureEvidence::Unsigned if allow_unsigned => {
            skip("unsigned statement accepted by allow-unsigned: true")
        }
        SignatureEvidence::Unsigned => fail(
            FailureReason::SignatureInvalid,
            "a signed provenance",
            Some("an unsigned statement"),
            "the statement carries no signature (set allow-unsigned: true to accept it as unsigned)",
        ),
        SignatureEvidence::Failed { reason, detail, .. } => {
            fail(*reason, "a valid signature", None, detail.clone())
        }
    }
    })
}

/// The signer's facts a signer rule may judge, or why there are none.
fn signer_of<'a>(e: &Evidence<'a>) -> Result<&'a SignerFacts, Outcome> {
    match e.signature {
        SignatureEvidence::Verified(s) => Ok(s),
        SignatureEvidence::Unsigned => Err(skip("unsigned: no signer")),
        SignatureEvidence::Failed { .. } => Err(skip("the signature did not verify")),
    }
}

fn signer_rule(policy: &Policy) -> Box<dyn Rule> {
    let issuer = policy.issuer.clone();
    let mut certificate_rules: Vec<Box<dyn Rule>> = vec![boxed(move |e| {
        let s = match signer_of(e) {
            Ok(s) => s,
            Err(o) => return o,
        };
        match s.issuer.as_deref() {
            Some(found) if found == issuer => pass(format!("issuer {issuer}"), found),
            found => fail(
                FailureReason::IdentityMismatch,
                format!("OIDC issuer {issuer}"),
                found,
                "the certificate was issued for another OIDC issuer",
            ),
        }
    })];
    if let Some(repo) = policy.source_repository.clone() {
        certificate_rules.push(boxed(move |e| {
            let s = match signer_of(e) {
                Ok(s) => s,
                Err(o) => return o,
            };
            let found = s.source_repository.as_deref().map(normalize_repository);
            match found.as_deref() {
                Some(f) if f == repo => pass(format!("source repository {repo}"), f),
                f => fail(
                    FailureReason::IdentityMismatch,
                    format!("certificate source repository {repo}"),
                    f,
                    "the signing certificate was issued to a workflow of another repository",
                ),
            }
        }));
    }
    if !policy.identity.is_empty() {
        let mut alternatives: Vec<Box<dyn Rule>> = Vec::new();
        if let Some((path, ref_glob)) = policy.identity.signer_workflow.clone() {
            alternatives.push(boxed(move |e| {
                let s = match signer_of(e) {
                    Ok(s) => s,
                    Err(o) => return o,
                };
                let expected = format!(
                    "signer workflow {path}{}",
                    ref_glob
                        .as_ref()
                        .map(|g| format!("@{}", g.glob()))
                        .unwrap_or_default()
                );
                if signer_workflow_matches(&s.identity, &path, ref_glob.as_ref()) {
                    pass(expected, s.identity.clone())
                } else {
                    fail(
                        FailureReason::IdentityMismatch,
                        expected,
                        Some(&s.identity),
                        "the provenance was signed by another workflow",
                    )
                }
            }));
        }
        if let Some(exact) = policy.identity.exact.clone() {
            alternatives.push(boxed(move |e| {
                let s = match signer_of(e) {
                    Ok(s) => s,
                    Err(o) => return o,
                };
                if s.identity == exact {
                    pass(format!("identity {exact}"), s.identity.clone())
                } else {
                    fail(
                        FailureReason::IdentityMismatch,
                        format!("identity {exact}"),
                        Some(&s.identity),
                        "the certificate's identity (SAN) differs",
                    )
                }
            }));
        }
        if let Some(re) = policy.identity.regexp.clone() {
            alternatives.push(boxed(move |e| {
                let s = match signer_of(e) {
                    Ok(s) => s,
                    Err(o) => return o,
                };
                let expected = format!("identity matching /{}/", re.as_str());
                if re.is_match(&s.identity) {
                    pass(expected, s.identity.clone())
                } else {
                    fail(
                        FailureReason::IdentityMismatch,
                        expected,
                        Some(&s.identity),
                        "the certificate's identity (SAN) does not match",
                    )
                }
            }));
        }
        certificate_rules.push(Box::new(AnyOf(alternatives)));
    }
    if policy.deny_self_hosted_runners {
        certificate_rules.push(boxed(|e| {
            let s = match signer_of(e) {
                Ok(s) => s,
                Err(o) => return o,
            };
            match s.runner_environment.as_deref() {
                Some("github-hosted") => pass("a GitHub-hosted runner", "github-hosted"),
                // Unknown is refused too: an old certificate cannot prove a hosted runner.
                found => fail(
                    FailureReason::IdentityMismatch,
                    "a GitHub-hosted runner (deny-self-hosted-runners)",
                    found,
                    "the provenance was not proven to be built on a GitHub-hosted runner",
                ),
            }
        }));
    }
    let certificate = AllOf(certificate_rules);
    let deny_self_hosted = policy.deny_self_hosted_runners;
    boxed(move |e| match e.signature {
        // A key signature carries no runner claim: refused when hosted runners are required.
        SignatureEvidence::Verified(s) if s.key && deny_self_hosted => fail(
            FailureReason::IdentityMismatch,
            "a GitHub-hosted runner (deny-self-hosted-runners)",
            Some(&s.identity),
            "a key signature proves nothing about the runner",
        ),
        // A managed key is its own identity: the user named it in `public-key`.
        SignatureEvidence::Verified(s) if s.key => pass("the given public key", s.identity.clone()),
        _ => certificate.evaluate(e),
    })
}

/// `https://github.com/o/r/.github/workflows/x.yml@refs/tags/v1` against `o/r/.github/workflows/x.yml`
/// and an optional ref glob.
fn signer_workflow_matches(san: &str, path: &str, ref_glob: Option<&globset::GlobMatcher>) -> bool {
    let without_scheme = san.split_once("://").map_or(san, |(_, rest)| rest);
    // Drop the host: the SAN is `<host>/<owner>/<repo>/<path>@<ref>`.
    let Some((_, rest)) = without_scheme.split_once('/') else {
        return false;
    };
    let (workflow, git_ref) = rest.split_once('@').unwrap_or((rest, ""));
    workflow.eq_ignore_ascii_case(path.trim_matches('/'))
        && ref_glob.is_none_or(|g| g.is_match(git_ref))
}

fn predicate_rule(allow_v02: bool) -> Box<dyn Rule> {
    boxed(move |e| {
        let found = e.statement.predicate_type.as_str();
        if found == SLSA_V1 {
            pass(SLSA_V1, found)
        } else if found == SLSA_V02 && allow_v02 {
            pass(
                format!("{SLSA_V1} or {SLSA_V02} (allow-predicate-v02)"),
                found,
            )
        } else {
            let detail = if found == SLSA_V02 {
                "SLSA v0.2 is accepted only with allow-predicate-v02: true"
            } else {
                "not SLSA provenance v1"
            };
            fail(
                FailureReason::PredicateMismatch,
                SLSA_V1,
                Some(found),
                detail,
            )
        }
    })
}

fn subject(e: &Evidence<'_>) -> Outcome {
    if e.statement.has_subject(e.artifact_sha256) {
        pass(
            format!("sha256:{}", e.artifact_sha256),
            format!("sha256:{}", e.artifact_sha256),
        )
    } else {
        let listed: Vec<String> = e
            .statement
            .subjects
            .iter()
            .take(3)
            .map(|s| format!("{} sha256:{}", s.name, s.sha256.as_deref().unwrap_or("-")))
            .collect();
        fail(
            FailureReason::SubjectMismatch,
            format!("sha256:{}", e.artifact_sha256),
            Some(&listed.join(", ")),
            format!(
                "the artifact's SHA-256 is not among the statement's {} subject(s)",
                e.statement.subjects.len()
            ),
        )
    }
}

fn source_rule(expected: Option<String>) -> Box<dyn Rule> {
    boxed(move |e| {
        let Some(expected) = &expected else {
            return skip("no source-repository given and none known");
        };
        let found = e
            .statement
            .source_repository
            .as_deref()
            .map(normalize_repository);
        match found.as_deref() {
            Some(f) if f == expected => pass(expected.clone(), f),
            f => fail(
                FailureReason::SourceMismatch,
                expected.clone(),
                f,
                "the provenance was built from another repository",
            ),
        }
    })
}

fn tag_rule(policy: &Policy) -> Box<dyn Rule> {
    let expected = policy.tag.clone();
    boxed(move |e| {
        let Some(t) = &expected else {
            return skip("no expected-tag given and no tag resolved for this run");
        };
        let tags = &e.statement.tags;
        match tags.iter().find(|found| t.matcher.is_match(found.as_str())) {
            Some(found) => pass(t.pattern.clone(), found.clone()),
            None => fail(
                FailureReason::TagMismatch,
                t.pattern.clone(),
                (!tags.is_empty()).then(|| tags.join(", ")).as_deref(),
                if tags.is_empty() {
                    "the provenance records no tag"
                } else {
                    "no tag the provenance records matches"
                },
            ),
        }
    })
}

fn commit_rule(expected: Option<String>) -> Box<dyn Rule> {
    boxed(move |e| {
        let Some(expected) = &expected else {
            return skip("no expected-commit given and the tag's commit is not known");
        };
        match e.statement.commit.as_deref() {
            Some(found) if found.eq_ignore_ascii_case(expected) => pass(expected.clone(), found),
            found => fail(
                FailureReason::CommitMismatch,
                expected.clone(),
                found,
                "the provenance was built from another commit",
            ),
        }
    })
}

fn builder_rule(policy: &Policy) -> Box<dyn Rule> {
    let exact = policy.builder.exact.clone();
    let regexp = policy.builder.regexp.clone();
    boxed(move |e| {
        let found = e.statement.builder_id.as_deref();
        let mismatch = |expected: String, detail: &str| {
            fail(FailureReason::BuilderMismatch, expected, found, detail)
        };
        if let Some(exact) = &exact {
            return match found {
                Some(f) if f == exact => pass(exact.clone(), f),
                _ => mismatch(exact.clone(), "the provenance claims another builder"),
            };
        }
        if let Some(re) = &regexp {
            let expected = format!("builder id matching /{}/", re.as_str());
            return match found {
                Some(f) if re.is_match(f) => pass(expected, f),
                _ => mismatch(expected, "the provenance claims another builder"),
            };
        }
        // Without a named builder, a provenance may only claim the workflow that signed it.
        match e.signature {
            SignatureEvidence::Verified(s) if !s.key => match found {
                Some(f) if f == s.identity => pass(format!("the signer {}", s.identity), f),
                _ => mismatch(
                    format!("the signer {}", s.identity),
                    "the provenance claims a builder other than the workflow that signed it \
                     (name it with expected-builder-id or builder-id-regexp)",
                ),
            },
            SignatureEvidence::Verified(_) => {
                skip("key-signed: no signing workflow to compare the builder with")
            }
            _ => skip("no verified signer to compare the builder with"),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::provenance_doc::{StatementFacts, StatementSubject};
    use crate::domain::verify::{
        failure_reasons, judge_artifact, Artifact, CheckStatus, JudgedDocument, TagExpectation,
    };

    const SHA: &str = "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb";
    const SAN: &str = "https://github.com/octo/app/.github/workflows/release.yml@refs/tags/v1.2.0";

    fn statement() -> StatementFacts {
        StatementFacts {
            statement_type: "https://in-toto.io/Statement/v1".into(),
            predicate_type: SLSA_V1.into(),
            subjects: vec![StatementSubject {
                name: "app".into(),
                sha256: Some(SHA.into()),
            }],
            builder_id: Some(SAN.into()),
            source_repository: Some("https://github.com/octo/app".into()),
            tags: vec!["v1.2.0".into()],
            git_ref: Some("refs/tags/v1.2.0".into()),
            commit: Some("abc".into()),
        }
    }

    fn signer() -> SignerFacts {
        SignerFacts {
            identity: SAN.into(),
            issuer: Some(crate::domain::verify::GITHUB_ACTIONS_ISSUER.into()),
            source_repository: Some("https://github.com/octo/app".into()),
            runner_environment: Some("github-hosted".into()),
            ..Default::default()
        }
    }

    fn policy() -> Policy {
        Policy {
            issuer: crate::domain::verify::GITHUB_ACTIONS_ISSUER.into(),
            source_repository: Some("octo/app".into()),
            tag: Some(tag("v1.*")),
            commit: Some("ABC".into()),
            ..Default::default()
        }
    }

    fn tag(p: &str) -> TagExpectation {
        TagExpectation {
            pattern: p.into(),
            matcher: globset::Glob::new(p).expect("glob").compile_matcher(),
        }
    }

    fn judge(
        policy: &Policy,
        doc: JudgedDocument,
        sha: &str,
    ) -> crate::domain::verify::ArtifactVerdict {
        let checks = build_checks(policy);
        judge_artifact(
            &checks,
            &[doc],
            &Artifact {
                name: "app".into(),
                sha256: sha.into(),
            },
        )
    }

    fn doc(signature: SignatureEvidence, statement: StatementFacts) -> JudgedDocument {
        JudgedDocument {
            origin: "p.json".into(),
            statement,
            signature,
        }
    }

    #[test]
    fn everything_matching_passes_every_check() {
        let v = judge(
            &policy(),
            doc(SignatureEvidence::Verified(signer()), statement()),
            SHA,
        );
        assert!(v.verified, "{v:#?}");
        assert!(
            v.checks.iter().all(|c| c.status == CheckStatus::Passed),
            "{v:#?}"
        );
        assert_eq!(v.checks.len(), CheckId::ALL.len());
    }

    #[test]
    fn each_mismatch_has_its_code() {
        let p = policy();
        let sig = || SignatureEvidence::Verified(signer());
        let cases: Vec<(JudgedDocument, &str, Policy)> = vec![
            (
                doc(
                    SignatureEvidence::Failed {
                        reason: FailureReason::SignatureInvalid,
                        detail: "bad".into(),
                        claimed: None,
                    },
                    statement(),
                ),
                "signature_invalid",
                p.clone(),
            ),
            (
                doc(
                    SignatureEvidence::Verified(SignerFacts {
                        issuer: Some("https://evil".into()),
                        ..signer()
                    }),
                    statement(),
                ),
                "identity_mismatch",
                p.clone(),
            ),
            (
                doc(
                    sig(),
                    StatementFacts {
                        predicate_type: SLSA_V02.into(),
                        ..statement()
                    },
                ),
                "predicate_mismatch",
                p.clone(),
            ),
            (
                doc(
                    sig(),
                    StatementFacts {
                        source_repository: Some("evil/app".into()),
                        ..statement()
                    },
                ),
                "source_mismatch",
                p.clone(),
            ),
            (
                doc(
                    sig(),
                    StatementFacts {
                        tags: vec!["v2.0.0".into()],
                        ..statement()
                    },
                ),
                "tag_mismatch",
                p.clone(),
            ),
            (
                doc(
                    sig(),
                    StatementFacts {
                        commit: Some("def".into()),
                        ..statement()
                    },
                ),
                "commit_mismatch",
                p.clone(),
            ),
            (
                doc(
                    sig(),
                    StatementFacts {
                        builder_id: Some("https://github.com/other/builder".into()),
                        ..statement()
                    },
                ),
                "builder_mismatch",
                p.clone(),
            ),
        ];
        for (d, code, p) in cases {
            let v = judge(&p, d, SHA);
            assert_eq!(v.failure_reason, Some(code), "{v:#?}");
        }
        let v = judge(&p, doc(sig(), statement()), &"0".repeat(64));
        assert_eq!(v.failure_reason, Some("subject_mismatch"));
    }

    #[test]
    fn v02_passes_only_with_the_override() {
        let st = StatementFacts {
            predicate_type: SLSA_V02.into(),
            ..statement()
        };
        let p = Policy {
            allow_predicate_v02: true,
            ..policy()
        };
        let v = judge(&p, doc(SignatureEvidence::Verified(signer()), st), SHA);
        assert!(v.verified, "{v:#?}");
    }

    #[test]
    fn identity_rules_are_any_of_and_signer_workflow_globs_the_ref() {
        let with = |identity: crate::domain::verify::IdentityPolicy| Policy {
            identity,
            ..policy()
        };
        let wf = |path: &str, r: Option<&str>| crate::domain::verify::IdentityPolicy {
            signer_workflow: Some((
                path.into(),
                r.map(|r| globset::Glob::new(r).expect("glob").compile_matcher()),
            )),
            ..Default::default()
        };
        let d = || doc(SignatureEvidence::Verified(signer()), statement());
        assert!(
            judge(
                &with(wf(
                    "octo/app/.github/workflows/release.yml",
                    Some("refs/tags/v*")
                )),
                d(),
                SHA
            )
            .verified
        );
        assert!(
            judge(
                &with(wf("octo/app/.github/workflows/release.yml", None)),
                d(),
                SHA
            )
            .verified
        );
        let v = judge(
            &with(wf("octo/app/.github/workflows/other.yml", None)),
            d(),
            SHA,
        );
        assert_eq!(v.failure_reason, Some("identity_mismatch"));
        let v = judge(
            &with(wf(
                "octo/app/.github/workflows/release.yml",
                Some("refs/heads/*"),
            )),
            d(),
            SHA,
        );
        assert_eq!(v.failure_reason, Some("identity_mismatch"));
        let any = crate::domain::verify::IdentityPolicy {
            exact: Some("nope".into()),
            regexp: Some(regex::Regex::new("^https://github.com/octo/").expect("re")),
            ..Default::default()
        };
        assert!(
            judge(&with(any), d(), SHA).verified,
            "any-of: the regexp holds"
        );
    }

    #[test]
    fn self_hosted_or_unknown_runner_is_denied_when_asked() {
        let p = Policy {
            deny_self_hosted_runners: true,
            ..policy()
        };
        for env in [Some("self-hosted"), None] {
            let s = SignerFacts {
                runner_environment: env.map(String::from),
                ..signer()
            };
            let v = judge(&p, doc(SignatureEvidence::Verified(s), statement()), SHA);
            assert_eq!(v.failure_reason, Some("identity_mismatch"), "{env:?}");
        }
        assert!(
            judge(
                &p,
                doc(SignatureEvidence::Verified(signer()), statement()),
                SHA
            )
            .verified
        );
    }

    #[test]
    fn nothing_to_compare_is_skipped_not_passed() {
        let p = Policy {
            source_repository: None,
            tag: None,
            commit: None,
            ..policy()
        };
        let v = judge(
            &p,
            doc(SignatureEvidence::Verified(signer()), statement()),
            SHA,
        );
        assert!(v.verified);
        for id in [CheckId::SourceRepository, CheckId::Tag, CheckId::Commit] {
            let c = v.checks.iter().find(|c| c.check == id).expect("check");
            assert_eq!(c.status, CheckStatus::Skipped, "{id:?}");
        }
    }

    #[test]
    fn unsigned_needs_allow_unsigned() {
        let v = judge(
            &policy(),
            doc(SignatureEvidence::Unsigned, statement()),
            SHA,
        );
        assert_eq!(v.failure_reason, Some("signature_invalid"));
        let p = Policy {
            allow_unsigned: true,
            ..policy()
        };
        let v = judge(&p, doc(SignatureEvidence::Unsigned, statement()), SHA);
        assert!(v.verified, "{v:#?}");
        assert_eq!(v.checks[0].status, CheckStatus::Skipped);
    }

    #[test]
    fn first_failing_check_in_rank_order_leads_and_all_are_listed() {
        let st = StatementFacts {
            tags: vec!["v9".into()],
            builder_id: Some("x".into()),
            ..statement()
        };
        let v = judge(
            &policy(),
            doc(SignatureEvidence::Verified(signer()), st),
            SHA,
        );
        assert_eq!(v.failure_reason, Some("tag_mismatch"));
        assert_eq!(
            failure_reasons(&[v], &[FailureReason::MalformedProvenance]),
            vec!["tag_mismatch", "builder_mismatch", "malformed_provenance"]
        );
    }

    #[test]
    fn no_document_is_provenance_not_found() {
        let checks = build_checks(&policy());
        let v = judge_artifact(
            &checks,
            &[],
            &Artifact {
                name: "a".into(),
                sha256: SHA.into(),
            },
        );
        assert_eq!(v.failure_reason, Some("provenance_not_found"));
    }

    #[test]
    fn judge_artifacts_gives_each_artifact_the_verdict_judge_artifact_gives() {
        // The subject index must change nothing: the first passing document in file order
        // covers an artifact, and an uncovered one shows the document that got furthest.
        let sha = |c: char| c.to_string().repeat(64);
        let listing = |shas: &[String], tag: &str| StatementFacts {
            subjects: shas
                .iter()
                .map(|s| StatementSubject {
                    name: "x".into(),
                    sha256: Some(s.clone()),
                })
                .collect(),
            tags: vec![tag.into()],
            ..statement()
        };
        let named =
            |origin: &str, signature: SignatureEvidence, st: StatementFacts| JudgedDocument {
                origin: origin.into(),
                statement: st,
                signature,
            };
        let good = || SignatureEvidence::Verified(signer());
        let forged = SignatureEvidence::Failed {
            reason: FailureReason::SignatureInvalid,
            detail: "forged".into(),
            claimed: None,
        };
        let (a, b, c, d) = (sha('a'), sha('b'), sha('c'), sha('d'));
        let docs = vec![
            named(
                "wrong-tag",
                good(),
                listing(std::slice::from_ref(&a), "v2.0.0"),
            ),
            named("forged", forged, listing(&[a.clone(), c.clone()], "v1.2.0")),
            named(
                "covers-a-b",
                good(),
                listing(&[a.clone(), b.clone(), b.clone()], "v1.2.0"),
            ),
            named(
                "also-a",
                good(),
                listing(std::slice::from_ref(&a), "v1.2.0"),
            ),
            named(
                "c-wrong-tag",
                good(),
                listing(std::slice::from_ref(&c), "v9"),
            ),
        ];
        let artifacts: Vec<Artifact> = [&a, &b, &c, &d, &SHA.to_string()]
            .iter()
            .map(|s| Artifact {
                name: s[..1].into(),
                sha256: (*s).clone(),
            })
            .collect();
        let checks = build_checks(&policy());
        let all = crate::domain::verify::judge_artifacts(&checks, &docs, &artifacts);
        let one_by_one: Vec<_> = artifacts
            .iter()
            .map(|x| judge_artifact(&checks, &docs, x))
            .collect();
        assert_eq!(all, one_by_one);
        let got: Vec<(Option<&str>, Option<&str>)> = all
            .iter()
            .map(|v| (v.provenance.as_deref(), v.failure_reason))
            .collect();
        assert_eq!(
            got,
            vec![
                (Some("covers-a-b"), None),
                (Some("covers-a-b"), None),
                (Some("c-wrong-tag"), Some("tag_mismatch")),
                (Some("wrong-tag"), Some("subject_mismatch")),
                (Some("wrong-tag"), Some("subject_mismatch")),
            ]
        );
        assert_eq!(
            crate::domain::verify::judge_artifacts(&checks, &[], &artifacts[..1])[0].failure_reason,
            Some("provenance_not_found")
        );
    }
}
