#!/usr/bin/env bash
# The whole test suite, from a fresh clone: install test tools, then every cargo test
# (unit, snapshot, and the integration binary that drives the real executable against a local
# Sigstore, a fake GitHub API and a fake OIDC endpoint on 127.0.0.1), then quick benchmark runs.
# Ends with one line totalling every cargo test binary: "tests: N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/slsa-target}"
scripts/setup-test-tools.sh
# The signing tests verify our bundles with sigstore-python from the venv set up above.
export SLSA_TEST_PYTHON="${SLSA_TEST_PYTHON:-${SLSA_TOOLS:-$HOME/.cache/slsa-provenance-action}/venv/bin/python}"

log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
cargo test --locked 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
passed=$(sed -n 's/^test result: .* \([0-9][0-9]*\) passed; \([0-9][0-9]*\) failed.*/\1/p' "$log" | awk '{s+=$1} END {print s+0}')
failed=$(sed -n 's/^test result: .* \([0-9][0-9]*\) passed; \([0-9][0-9]*\) failed.*/\2/p' "$log" | awk '{s+=$1} END {print s+0}')
if [ "$status" -eq 0 ]; then
  cargo bench --locked --bench hashing -- --quick
  cargo bench --locked --bench validate -- --quick
fi
echo "tests: ${passed} passed, ${failed} failed"
exit "$status"
