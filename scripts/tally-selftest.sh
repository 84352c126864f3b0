#!/usr/bin/env bash
# Self-test of scripts/tally.sh, fed canned `cargo test` output: the closing tally must never read
# as green when a test binary failed, died before its result line, or cargo itself failed.
# Run by .ci/run before the suite. Prints one line per case and exits 1 on the first mismatch.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cases=0

# check NAME CARGO_STATUS WANT_EXIT WANT_CLOSING_LINE [WANT_SUBSTRING...] < canned cargo output
check() {
  local name="$1" status="$2" want_exit="$3" want_last="$4"
  shift 4
  cat > "$work/log"
  local got_exit=0
  scripts/tally.sh "$work/log" "$status" > "$work/out" 2>&1 || got_exit=$?
  local got_last
  got_last=$(tail -n 1 "$work/out")
  if [ "$got_exit" != "$want_exit" ] || [ "$got_last" != "$want_last" ]; then
    echo "tally self-test FAILED: $name: exit $got_exit (want $want_exit), closing line:" >&2
    echo "  got:  $got_last" >&2
    echo "  want: $want_last" >&2
    sed 's/^/  | /' "$work/out" >&2
    exit 1
  fi
  local want
  for want in "$@"; do
    if ! grep -qF -- "$want" "$work/out"; then
      echo "tally self-test FAILED: $name: output does not say: $want" >&2
      sed 's/^/  | /' "$work/out" >&2
      exit 1
    fi
  done
  cases=$((cases + 1))
  echo "tally self-test ok: $name"
}

check "every binary green" 0 0 "tests: 88 passed, 0 failed" <<'EOF'
   Compiling slsa-provenance-action v0.1.0 (/src)
    Finished `test` profile [unoptimized + debuginfo] target(s) in 1.14s
     Running unittests src/lib.rs (target/debug/deps/slsa_provenance_action-1111)

running 85 tests
test domain::a ... ok
test result: ok. 85 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.10s

     Running unittests src/main.rs (target/debug/deps/slsa_provenance_action-2222)

running 0 tests

test result: ok. 0 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s

     Running tests/integration/main.rs (target/debug/deps/integration-3333)

running 3 tests
test result: ok. 3 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.20s

EOF

check "a failing test" 101 1 "tests: 86 passed, 1 failed" \
  "1 failing test(s): tests/integration/main.rs (target/debug/deps/integration-3333)" <<'EOF'
     Running unittests src/lib.rs (target/debug/deps/slsa_provenance_action-1111)
test result: ok. 85 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.10s

     Running tests/integration/main.rs (target/debug/deps/integration-3333)
test provenance::x ... FAILED
failures:
    provenance::x
test result: FAILED. 1 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.2s

error: test failed, to rerun pass `--test integration`
EOF

# The run that once ended "tests: 85 passed, 0 failed": the integration binary panicked in
# its harness and died before printing its result line.
check "binary died before its result line" 101 1 "tests: 85 passed, 1 failed" \
  "printed no result line" "tests/integration/main.rs (target/debug/deps/integration-3333)" <<'EOF'
     Running unittests src/lib.rs (target/debug/deps/slsa_provenance_action-1111)
test result: ok. 85 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.10s

     Running tests/integration/main.rs (target/debug/deps/integration-3333)

running 145 tests
thread 'main' panicked at tests/integration/conformance.rs:37:5:
../shared/fixtures/sigstore-conformance/bundle-verify is missing
error: test failed, to rerun pass `--test integration`

Caused by:
  process didn't exit successfully: `target/debug/deps/integration-3333` (signal: 6, SIGABRT: process abort signal)
EOF

check "binary died in the middle, later binaries green" 101 1 "tests: 87 passed, 1 failed" \
  "unittests src/main.rs (target/debug/deps/slsa_provenance_action-2222)" <<'EOF'
     Running unittests src/lib.rs (target/debug/deps/slsa_provenance_action-1111)
test result: ok. 85 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.10s
     Running unittests src/main.rs (target/debug/deps/slsa_provenance_action-2222)
running 1 tests
error: test failed, to rerun pass `--bin slsa-provenance-action`
     Running tests/integration/main.rs (target/debug/deps/integration-3333)
test result: ok. 2 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.20s
error: 1 target failed:
    `--bin slsa-provenance-action`
EOF

check "non-zero exit although every result line is green" 101 1 "tests: 85 passed, 1 failed" \
  "exited with status 101" "\`--test integration\`" <<'EOF'
     Running unittests src/lib.rs (target/debug/deps/slsa_provenance_action-1111)
test result: ok. 80 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.10s
     Running tests/integration/main.rs (target/debug/deps/integration-3333)
test result: ok. 5 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.20s
error: 1 target failed:
    `--test integration`
EOF

check "build error: no binary ran" 101 1 "tests: 0 passed, 1 failed" \
  "no test binary ran" "error[E0425]" <<'EOF'
   Compiling slsa-provenance-action v0.1.0 (/src)
error[E0425]: cannot find value `x` in this scope
error: could not compile `slsa-provenance-action` (lib) due to 1 previous error
EOF

check "exit 0 but nothing ran" 0 1 "tests: 0 passed, 1 failed" "no test binary ran" <<'EOF'
    Finished `test` profile [unoptimized + debuginfo] target(s) in 0.10s
EOF

# A test's captured output may contain anything; only cargo's own lines count.
check "indented lookalike lines do not count" 0 0 "tests: 1 passed, 0 failed" <<'EOF'
     Running tests/integration/main.rs (target/debug/deps/integration-3333)
---- stdout ----
  test result: ok. 999 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out
test result: ok. 1 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.20s
EOF

# A failed step after the tests (the benchmark run) is counted and named.
printf '     Running x (y)\ntest result: ok. 4 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.1s\n' > "$work/log"
got_exit=0
scripts/tally.sh "$work/log" 0 "cargo bench --bench hashing" > "$work/out" || got_exit=$?
if [ "$got_exit" != 1 ] || [ "$(tail -n 1 "$work/out")" != "tests: 4 passed, 1 failed" ] \
  || ! grep -qF "failed: cargo bench --bench hashing" "$work/out"; then
  echo "tally self-test FAILED: a failed extra step" >&2
  sed 's/^/  | /' "$work/out" >&2
  exit 1
fi
cases=$((cases + 1))
echo "tally self-test ok: a failed extra step"

echo "tally self-test: all $cases cases behave"
