#!/usr/bin/env bash
# The action's main job, locally: SLSA provenance for this repository's own build output, as a
# simulated release event in a temporary workspace. No network, no GitHub account: the statement
# is signed with a throwaway P-256 key (sign: key) and publishing to GitHub is turned off.
# Prints the step summary, the outputs and the audit files written.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/slsa-target}"
cargo build --locked --quiet --bin slsa-provenance-action
bin="$CARGO_TARGET_DIR/debug/slsa-provenance-action"
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n1)
tag="v${version}"

ws=$(mktemp -d)
runner=$(mktemp -d)
trap 'rm -rf "$runner"' EXIT

# The release's artifacts: the binary we just built, packaged, plus its checksum file.
mkdir -p "$ws/dist"
tar -czf "$ws/dist/slsa-provenance-action-${tag}-x86_64-linux.tar.gz" \
  -C "$(dirname "$bin")" slsa-provenance-action
cp Cargo.lock "$ws/dist/Cargo.lock"
(cd "$ws" && git init -q && git add -A \
  && git -c user.name=demo -c user.email=demo@example.com commit -q -m "release ${tag}" \
  && git -c user.name=demo -c user.email=demo@example.com tag -a "$tag" -m "$tag")
sha=$(git -C "$ws" rev-parse HEAD)

cat > "$runner/event.json" <<JSON
{"action": "published",
 "release": {"tag_name": "${tag}", "draft": false, "prerelease": false},
 "repository": {"full_name": "octo-org/slsa-provenance-action", "visibility": "public"}}
JSON
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$runner/key.pem" 2>/dev/null
: > "$runner/output"
: > "$runner/summary.md"

set +e
env -i PATH="$PATH" HOME="$HOME" \
  GITHUB_WORKSPACE="$ws" \
  GITHUB_EVENT_NAME=release GITHUB_EVENT_PATH="$runner/event.json" \
  GITHUB_REF="refs/tags/${tag}" GITHUB_REF_NAME="$tag" GITHUB_REF_TYPE=tag \
  GITHUB_SHA="$sha" \
  GITHUB_SERVER_URL=https://github.com \
  GITHUB_REPOSITORY=octo-org/slsa-provenance-action \
  GITHUB_REPOSITORY_ID=1 GITHUB_REPOSITORY_OWNER_ID=2 \
  GITHUB_WORKFLOW_REF="octo-org/slsa-provenance-action/.github/workflows/release.yml@refs/tags/${tag}" \
  GITHUB_RUN_ID=1000001 GITHUB_RUN_ATTEMPT=1 GITHUB_ACTOR=demo \
  RUNNER_ENVIRONMENT=github-hosted \
  GITHUB_OUTPUT="$runner/output" GITHUB_STEP_SUMMARY="$runner/summary.md" \
  INPUT_SUBJECT-PATH="dist/*.tar.gz
dist/Cargo.lock" \
  INPUT_SIGN=key \
  INPUT_SIGNING-KEY="$(cat "$runner/key.pem")" \
  INPUT_ATTEST=false INPUT_UPLOAD-RELEASE-ASSET=false INPUT_RELEASE-NOTES=false \
  "$bin"
rc=$?
set -e

echo
echo "================ step summary ================"
cat "$runner/summary.md"
echo "================ outputs ($runner/output) ================"
grep -v '^ghadelimiter_' "$runner/output" | sed 's/<<ghadelimiter_.*$/:/'
echo "================ files written under $ws ================"
(cd "$ws" && find docs -type f | sort)
echo "exit code: $rc (workspace kept at $ws)"
if [ "$rc" -ne 0 ]; then
  exit "$rc"
fi

# The other half of the product: validate what was just produced (mode: validate), offline,
# with the public half of the signing key. Then a tampered copy of one artifact must fail.
openssl pkey -in "$runner/key.pem" -pubout -out "$ws/signing-key.pub" 2>/dev/null
bundle=$(cd "$ws" && find docs -name provenance.sigstore.json | head -n1)
validate() {
  : > "$runner/output"
  : > "$runner/summary.md"
  env -i PATH="$PATH" HOME="$HOME" \
    GITHUB_WORKSPACE="$ws" \
    GITHUB_EVENT_NAME=release GITHUB_EVENT_PATH="$runner/event.json" \
    GITHUB_REF="refs/tags/${tag}" GITHUB_REF_NAME="$tag" GITHUB_REF_TYPE=tag \
    GITHUB_REPOSITORY=octo-org/slsa-provenance-action GITHUB_RUN_ID=1000002 \
    GITHUB_OUTPUT="$runner/output" GITHUB_STEP_SUMMARY="$runner/summary.md" \
    INPUT_MODE=validate \
    INPUT_PROVENANCE-PATH="$bundle" \
    INPUT_PUBLIC-KEY=signing-key.pub \
    INPUT_REKOR-URL=offline \
    INPUT_SUBJECT-PATH="$1" \
    INPUT_RESULT-PATH="$2" \
    "$bin"
}

echo
echo "================ validate what was just produced ================"
set +e
validate "dist/*.tar.gz
dist/Cargo.lock" validate-report.json
valid_rc=$?
set -e
cat "$runner/summary.md"
echo "exit code: $valid_rc (report: $ws/validate-report.json)"

echo
echo "================ validate a tampered copy of one artifact ================"
mkdir -p "$ws/tampered"
cp "$ws/dist/Cargo.lock" "$ws/tampered/Cargo.lock"
printf '# one more line\n' >> "$ws/tampered/Cargo.lock"
set +e
validate tampered/Cargo.lock validate-tampered-report.json
tampered_rc=$?
set -e
cat "$runner/summary.md"
reason=$(sed -n 's/^failure-reason=//p' "$runner/output" | head -n1)
if [ -z "$reason" ]; then
  reason=$(grep -A1 '^failure-reason<<' "$runner/output" | tail -n1)
fi
echo "exit code: $tampered_rc, failure-reason: $reason"

if [ "$valid_rc" -eq 0 ] && [ "$tampered_rc" -ne 0 ] && [ "$reason" = subject_mismatch ]; then
  echo
  echo "Both halves shown: the real artifacts validate, the tampered one fails with subject_mismatch."
  exit 0
fi
echo "unexpected validation results (valid: $valid_rc, tampered: $tampered_rc $reason)" >&2
exit 1
