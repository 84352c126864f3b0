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

# The report's render check (mermaid + playwright-core driving Debian's chromium; no browser
# download) and its benchmark (jq, GNU time). apt only when something is missing.
if [ -f tests/render/package-lock.json ]; then
  PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --prefix tests/render --no-audit --no-fund --loglevel=error
fi
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v jq >/dev/null || missing+=(jq)
[ -x /usr/bin/time ] || missing+=(time)
# Only for a readable screenshot (the dashboard's status column uses emoji).
[ -f /usr/share/fonts/truetype/noto/NotoColorEmoji.ttf ] || missing+=(fonts-noto-color-emoji)
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then apt_get=(apt-get); else apt_get=(sudo apt-get); fi
  "${apt_get[@]}" update -q
  DEBIAN_FRONTEND=noninteractive "${apt_get[@]}" install -y -q --no-install-recommends "${missing[@]}"
fi

venv="$tools/venv"
stamp="$venv/.requirements.sha256"
want=$(sha256sum tests/requirements.txt | cut -d' ' -f1)
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r tests/requirements.txt
  echo "$want" > "$stamp"
fi
