#!/usr/bin/env bash
# The closing tally of a `cargo test` run, which must never read as green when something failed.
# usage: tally.sh CARGO_LOG CARGO_EXIT_STATUS [FAILED_STEP...]
#
# Reads cargo's output: every test binary it starts (`Running ...` / `Doc-tests ...`) must be
# followed by its own `test result:` line. Counts:
# - the passed and failed tests of every result line (naming each binary with failures);
# - one failure for each binary that printed no result line (it died: a panic outside a test,
#   a signal, an abort), named on its own line;
# - one failure when cargo exited non-zero but no failure was counted (a build error, or a
#   binary that failed after its result line), with cargo's own error lines;
# - one failure when no test binary ran at all;
# - one failure for each FAILED_STEP given (e.g. the benchmark run), named.
# Prints one `::error::` line per problem, then `tests: N passed, N failed`; exits 1 when
# anything failed, else 0.
set -euo pipefail
log="$1"
status="$2"
shift 2

summary=$(awk '
  function finish() {
    if (current != "" && !seen) { print "DIED\t" current }
  }
  /^ +(Running|Doc-tests) / {
    finish()
    current = $0
    sub(/^ +/, "", current)
    sub(/^Running /, "", current)
    seen = 0
    binaries++
    next
  }
  /^test result: (ok|FAILED)\. [0-9]+ passed; [0-9]+ failed;/ {
    p = $4; f = $6
    sub(/;$/, "", p); sub(/;$/, "", f)
    passed += p; failed += f
    if (current == "") { print "ORPHAN\t" $0 } else if (seen) { print "TWICE\t" current }
    if (f > 0) { print "FAILING\t" current "\t" f }
    seen = 1
    next
  }
  END {
    finish()
    print "COUNTS\t" passed + 0 "\t" failed + 0 "\t" binaries + 0
  }
' "$log")

passed=0
failed=0
binaries=0
while IFS=$'\t' read -r kind a b c; do
  case "$kind" in
    COUNTS) passed=$a failed=$b binaries=$c ;;
    DIED)
      failed=$((failed + 1))
      echo "::error::test binary printed no result line (it died or was killed): $a"
      ;;
    FAILING) echo "::error::test binary had $b failing test(s): $a" ;;
    ORPHAN) echo "::warning::test result line before any test binary started: $a" ;;
    TWICE) echo "::warning::test binary printed more than one result line: $a" ;;
  esac
done <<< "$summary"

cargo_errors() {
  # cargo's own account: `error...` lines and the `--test NAME` lines of the targets that failed.
  grep -E '^(error|  +`--)' "$log" | sed 's/^/  /' || true
}
if [ "$binaries" -eq 0 ]; then
  failed=$((failed + 1))
  echo "::error::no test binary ran (cargo exit status $status)"
  cargo_errors
elif [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
  failed=1
  echo "::error::cargo test exited with status $status although no failing test was counted:"
  cargo_errors
fi

for step in "$@"; do
  failed=$((failed + 1))
  echo "::error::failed: $step"
done

echo "tests: ${passed} passed, ${failed} failed"
[ "$failed" -eq 0 ]
