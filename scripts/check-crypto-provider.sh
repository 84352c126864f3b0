#!/usr/bin/env bash
# One crypto provider in the binary: aws-lc-rs (the Sigstore crates' choice, also rustls's, and
# octocrab's through its `rustls-aws-lc-rs` feature). Fails when `ring` is compiled into the
# binary for the build target (normal dependencies, as the release build sees them), or when
# aws-lc-rs is not there. Run by scripts/lint.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
target="${SLSA_BUILD_TARGET:-$(rustc -vV | sed -n 's/^host: //p')}"

# tree PACKAGE: the inverted tree of PACKAGE in the binary's normal dependencies (empty when it
# is not compiled in); a package missing from Cargo.lock altogether is not compiled in either.
tree() {
  local out err status=0
  err=$(mktemp)
  out=$(cargo tree --locked --quiet -i "$1" --edges normal --target "$target" 2> "$err") || status=$?
  if [ "$status" -ne 0 ] && ! grep -q "did not match any packages" "$err"; then
    cat "$err" >&2
    rm -f "$err"
    echo "::error::cargo tree -i $1 failed (exit $status)" >&2
    return 2
  fi
  rm -f "$err"
  printf '%s' "$out"
}

ring=$(tree ring)
if [ -n "$ring" ]; then
  echo "::error::ring is compiled into the binary beside aws-lc-rs; who pulls it in:" >&2
  echo "$ring" >&2
  exit 1
fi
if [ -z "$(tree aws-lc-rs)" ]; then
  echo "::error::aws-lc-rs, the binary's one crypto provider, is not compiled in" >&2
  exit 1
fi
echo "crypto provider: aws-lc-rs only (cargo tree -i ring --edges normal --target $target is empty)"
