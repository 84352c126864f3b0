#!/usr/bin/env bash
# Run every cargo-fuzz target for a bounded time: scripts/fuzz.sh [SECONDS_PER_TARGET] (default 60).
#
# Needs the nightly toolchain and cargo-fuzz. Without nightly it says so and exits 0 (nothing
# was fuzzed, nothing failed); without cargo-fuzz it installs it from crates.io when
# FUZZ_INSTALL=1 (as .ci/run does), else skips the same way.
#
# The corpus lives under $HOME/.cache (seeded from fuzz/seeds/ and the saved regressions), the
# build under $FUZZ_TARGET_DIR (default $HOME/.cache/slsa-fuzz-target). A crash is copied into
# tests/fixtures/fuzz-regressions/<target>/, where a stable `cargo test` replays it
# (tests/integration/fuzz_regressions.rs), and the script exits 1.
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-60}"
case "$secs" in '' | *[!0-9]*) echo "usage: $0 [SECONDS_PER_TARGET]" >&2; exit 2 ;; esac

# Keep in step with `slsa_provenance_action::fuzzing::TARGETS` (a test checks the files).
TARGETS=(bundle_json bundle_verify statement_roundtrip zip_unpack document)
echo "fuzz: targets ${TARGETS[*]}"

if ! rustup run nightly rustc --version >/dev/null 2>&1; then
  echo "fuzz: SKIPPED: no nightly toolchain (rustup toolchain install nightly)"
  exit 0
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
  if [ "${FUZZ_INSTALL:-0}" = 1 ]; then
    cargo install cargo-fuzz --locked
  else
    echo "fuzz: SKIPPED: cargo-fuzz is not installed (cargo install cargo-fuzz, or FUZZ_INSTALL=1)"
    exit 0
  fi
fi

target_dir="${FUZZ_TARGET_DIR:-$HOME/.cache/slsa-fuzz-target}"
work="${FUZZ_WORK_DIR:-$HOME/.cache/slsa-provenance-action/fuzz}"
# No sanitizer: the crate forbids unsafe code, so what we hunt is panics (overflow checks on
# with -a) and hangs; ASan would mostly slow down the C in aws-lc.
flags=(--sanitizer none --debug-assertions --target-dir "$target_dir" --fuzz-dir fuzz)

start=$(date +%s)
cargo +nightly fuzz build "${flags[@]}"
echo "fuzz: built in $(($(date +%s) - start)) s"

# FUZZ_SEED pins libFuzzer's seed (.ci/run sets it), so that CI's short run explores what the
# same run explored before landing; unset, every run explores afresh.
seed_args=()
if [ -n "${FUZZ_SEED:-}" ]; then
  seed_args=(-seed="$FUZZ_SEED")
fi

crashed=()
for t in "${TARGETS[@]}"; do
  corpus="$work/corpus/$t"
  artifacts="$work/artifacts/$t"
  # Earlier finds were copied into the regressions folder when they were made; start clean.
  rm -rf "$artifacts"
  mkdir -p "$corpus" "$artifacts"
  seeds=()
  for d in "fuzz/seeds/$t" "tests/fixtures/fuzz-regressions/$t"; do
    [ -d "$d" ] && seeds+=("$d")
  done
  echo "fuzz: $t for ${secs} s"
  status=0
  cargo +nightly fuzz run "${flags[@]}" "$t" "$corpus" "${seeds[@]}" -- \
    -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
    -artifact_prefix="$artifacts/" -print_final_stats=1 "${seed_args[@]}" || status=$?
  found=$(find "$artifacts" -type f \( -name 'crash-*' -o -name 'oom-*' -o -name 'timeout-*' \) | wc -l)
  if [ "$status" -ne 0 ] || [ "$found" -gt 0 ]; then
    mkdir -p "tests/fixtures/fuzz-regressions/$t"
    find "$artifacts" -type f \( -name 'crash-*' -o -name 'oom-*' -o -name 'timeout-*' \) \
      -exec cp {} "tests/fixtures/fuzz-regressions/$t/" \;
    crashed+=("$t")
  fi
done
echo "fuzz: done in $(($(date +%s) - start)) s"
if [ "${#crashed[@]}" -gt 0 ]; then
  echo "fuzz: FAILED: ${crashed[*]}; inputs saved under tests/fixtures/fuzz-regressions/ (commit them, fix the panic)" >&2
  exit 1
fi
