#!/usr/bin/env bash
# What hadolint does not check in our Dockerfile (run by scripts/lint.sh):
# 1. every base image is pinned by digest (`FROM name:tag@sha256:<64 hex>`);
# 2. dependencies are built in their own layer: `COPY Cargo.toml Cargo.lock`, then a RUN that
#    runs `cargo build`, and only then `COPY src`;
# 3. that layer works from the manifests alone: its RUN is replayed in an empty folder holding
#    only Cargo.toml and Cargo.lock, with `cargo build --release` made `cargo check` (same
#    targets, same --locked resolution, no release build), so a target the placeholders miss
#    or a lock that needs updating fails here rather than in the release workflow.
set -euo pipefail
cd "$(dirname "$0")/.."
file="${1:-Dockerfile}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/slsa-target}"
fail() {
  echo "::error file=$file::$*" >&2
  exit 1
}

# The instructions, one per line: continuation lines joined, comments and blank lines dropped.
instructions=$(sed -e '/^[[:space:]]*#/d' -e '/^[[:space:]]*$/d' "$file" \
  | awk '{ if (sub(/\\[[:space:]]*$/, "")) { buf = buf $0 " " } else { print buf $0; buf = "" } }')

# 1. Pinned base images.
froms=$(grep -Ei '^FROM[[:space:]]' <<< "$instructions")
[ -n "$froms" ] || fail "no FROM instruction"
while read -r line; do
  image=$(awk '{ print $2 }' <<< "$line")
  [[ "$image" =~ ^[^@[:space:]]+:[^@[:space:]]+@sha256:[0-9a-f]{64}$ ]] \
    || fail "base image not pinned by digest (name:tag@sha256:...): $image"
done <<< "$froms"

# 2. The order: manifests, dependency build, sources.
n_manifests=$(grep -nE '^COPY[[:space:]]+Cargo\.toml[[:space:]]+Cargo\.lock[[:space:]]' <<< "$instructions" | head -n 1 | cut -d: -f1)
n_sources=$(grep -nE '^COPY[[:space:]]+src[[:space:]]' <<< "$instructions" | head -n 1 | cut -d: -f1)
n_build=$(grep -nE '^RUN[[:space:]].*cargo build' <<< "$instructions" | head -n 1 | cut -d: -f1)
[ -n "$n_manifests" ] || fail "no 'COPY Cargo.toml Cargo.lock' before the sources"
[ -n "$n_sources" ] || fail "no 'COPY src'"
[ -n "$n_build" ] || fail "no RUN with cargo build"
if ! [ "$n_manifests" -lt "$n_build" ] || ! [ "$n_build" -lt "$n_sources" ]; then
  fail "dependencies are not built in their own layer: want COPY Cargo.toml Cargo.lock, then RUN cargo build, then COPY src"
fi

# 3. Replay the dependency layer on the manifests alone.
run=$(sed -n "${n_build}p" <<< "$instructions" | sed -E 's/^RUN[[:space:]]+//')
[[ "$run" == *"cargo build --release"* ]] || fail "the dependency layer's RUN has no 'cargo build --release'"
replay="${run//cargo build --release/cargo check}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp Cargo.toml Cargo.lock "$work/"
if ! (cd "$work" && sh -ec "$replay") > "$work.log" 2>&1; then
  cat "$work.log" >&2
  rm -f "$work.log"
  fail "the dependency layer does not build from Cargo.toml and Cargo.lock alone: $run"
fi
rm -f "$work.log"
echo "Dockerfile: base images pinned by digest; dependencies built in their own layer from the manifests alone"
