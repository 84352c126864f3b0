#!/usr/bin/env bash
# Formatting, clippy, and the linters for what is not Rust: the Dockerfile (hadolint), shell
# scripts (shellcheck), workflows (zizmor), action.yml and workflows against their schemas, and
# the binary's one crypto provider (scripts/check-crypto-provider.sh: no ring beside aws-lc-rs),
# and what hadolint does not see in the Dockerfile (scripts/check-dockerfile.sh: base images
# pinned by digest, dependencies built in their own layer).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/slsa-target}"
scripts/setup-test-tools.sh
bin="${SLSA_TOOLS:-$HOME/.cache/slsa-provenance-action}/venv/bin"

cargo fmt --check
cargo clippy --locked --all-targets -- -D warnings
scripts/check-crypto-provider.sh
"$bin/hadolint" Dockerfile
scripts/check-dockerfile.sh
"$bin/shellcheck" entrypoint.sh scripts/*.sh bench/*.sh .ci/run
"$bin/check-jsonschema" --builtin-schema vendor.github-actions action.yml security-ci/action.yml
# examples/slsa-policy.yml is a policy file, not a workflow: checked against its own schema.
workflows=()
for f in examples/*.yml; do
  [ "$f" = examples/slsa-policy.yml ] || workflows+=("$f")
done
"$bin/check-jsonschema" --builtin-schema vendor.github-workflows .github/workflows/*.yml "${workflows[@]}"
"$bin/check-jsonschema" --schemafile schemas/policy.schema.json examples/slsa-policy.yml
"$bin/zizmor" --offline --min-severity low .github/workflows action.yml security-ci/action.yml "${workflows[@]}"
