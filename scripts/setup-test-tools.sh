#!/usr/bin/env bash
# Installs what the tests need besides cargo, from the package registries only:
# - tests/sigstore-mock/node_modules: the local Sigstore (Fulcio, Rekor, TSA) and @sigstore/verify
# - a Python venv with the `sigstore` verifier and the linters (pinned in tests/requirements.txt)
# Idempotent and cached under $SLSA_TOOLS (default ~/.cache/slsa-provenance-action).
set -euo pipefail
cd "$(dirname "$0")/.."
tools="${SLSA_TOOLS:-$HOME/.cache/slsa-provenance-action}"
mkdir -p "$tools"

if [ -f tests/sigstore-mock/package-lock.json ]; then
  npm ci --prefix tests/sigstore-mock --no-audit --no-fund --loglevel=error
fi

venv="$tools/venv"
stamp="$venv/.requirements.sha256"
want=$(sha256sum tests/requirements.txt | cut -d' ' -f1)
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r tests/requirements.txt
  echo "$want" > "$stamp"
fi
