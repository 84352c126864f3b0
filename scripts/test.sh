#!/usr/bin/env bash
# The whole test suite, from a fresh clone: install test tools, then every cargo test
# (unit, snapshot, and the integration binary that drives the real executable against a local
# Sigstore, a fake GitHub API and a fake OIDC endpoint on 127.0.0.1), then a quick benchmark run.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/slsa-target}"
scripts/setup-test-tools.sh
cargo test --locked
cargo bench --locked --bench hashing -- --quick
