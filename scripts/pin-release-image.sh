#!/usr/bin/env bash
# Release step: make the tag point at a commit whose action.yml runs the prebuilt image.
# usage: pin-release-image.sh ghcr.io/owner/slsa-provenance-action@sha256:... vX.Y.Z
# Needs REPOSITORY, SERVER and TOKEN in the environment (the release workflow sets them).
set -euo pipefail
image="$1"
tag="$2"
case "$image" in
  *@sha256:*) ;;
  *) echo "::error::image must be pinned by digest, got $image" >&2; exit 1 ;;
esac
case "$tag" in
  v[0-9]*.[0-9]*.[0-9]*) ;;
  *) echo "::error::not a release tag: $tag" >&2; exit 1 ;;
esac
major="${tag%%.*}"

sed -i "s|^  image: Dockerfile\$|  image: docker://${image}|" action.yml
grep -q "image: docker://${image}" action.yml || { echo "::error::action.yml was not pinned" >&2; exit 1; }

git config user.name "github-actions[bot]"
git config user.email "41898282+github-actions[bot]@users.noreply.github.com"
git commit -q -m "Release ${tag}: run the prebuilt image ${image}" action.yml
git tag -f -a "$tag" -m "Release ${tag}"
git tag -f "$major"
remote="${SERVER#https://}"
git push -q --force "https://x-access-token:${TOKEN}@${remote}/${REPOSITORY}.git" \
  "refs/tags/${tag}" "refs/tags/${major}"
